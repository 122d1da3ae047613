/**
 * The GuardDuty -> ASFF `Types` mapping against rows of the GuardDuty User Guide's table
 * ("Interpreting GuardDuty finding names in AWS Security Hub CSPM",
 * https://docs.aws.amazon.com/guardduty/latest/ug/securityhub-integration.html#interpreting-findings-in-securityhub),
 * both ways.
 */
import { asffTypesOfGuardDutyType, guardDutyTypeOfAsffType } from '../../src/findings/guardduty-asff-types';

// Rows copied from the published table: the irregular IAM and S3 forms and the common form.
const ROWS: [string, string][] = [
  ['Discovery:IAMUser/AnomalousBehavior', 'TTPs/Discovery/IAMUser-AnomalousBehavior'],
  ['Persistence:IAMUser/AnomalousBehavior', 'TTPs/Persistence/IAMUser-AnomalousBehavior'],
  ['Exfiltration:S3/AnomalousBehavior', 'TTPs/Exfiltration:S3-AnomalousBehavior'],
  ['Policy:IAMUser/RootCredentialUsage', 'TTPs/Policy:IAMUser-RootCredentialUsage'],
  ['PenTest:IAMUser/KaliLinux', 'TTPs/PenTest:IAMUser/KaliLinux'],
  ['UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS', 'Effects/Data Exfiltration/UnauthorizedAccess:IAMUser-InstanceCredentialExfiltration.OutsideAWS'],
  ['UnauthorizedAccess:IAMUser/TorIPCaller', 'TTPs/Command and Control/UnauthorizedAccess:IAMUser-TorIPCaller'],
  ['Stealth:IAMUser/CloudTrailLoggingDisabled', 'TTPs/Defense Evasion/Stealth:IAMUser-CloudTrailLoggingDisabled'],
  ['AttackSequence:IAM/CompromisedCredentials', 'TTPs/AttackSequence:IAM/CompromisedCredentials'],
  // Not kept row by row: the common form from the threat purpose.
  ['Backdoor:EC2/C&CActivity.B!DNS', 'TTPs/Command and Control/Backdoor:EC2-C&CActivity.B!DNS'],
  ['UnauthorizedAccess:EC2/SSHBruteForce', 'TTPs/Initial Access/UnauthorizedAccess:EC2-SSHBruteForce'],
  ['Recon:EC2/PortProbeUnprotectedPort', 'TTPs/Discovery/Recon:EC2-PortProbeUnprotectedPort'],
  ['Execution:Runtime/ReverseShell', 'TTPs/Execution/Execution:Runtime-ReverseShell'],
  ['Behavior:EC2/NetworkPortUnusual', 'Unusual Behaviors/VM/Behavior:EC2-NetworkPortUnusual'],
];

describe('GuardDuty type -> ASFF Types (GuardDuty User Guide table)', () => {
  test.each(ROWS)('%s -> %s', (gd, asff) => {
    expect(asffTypesOfGuardDutyType(gd)).toEqual([asff]);
  });

  test.each(ROWS)('and back: %s <- %s', (gd, asff) => {
    expect(guardDutyTypeOfAsffType(asff)).toBe(gd);
  });

  test('a purpose the table does not name is TTPs, and never a prototype key', () => {
    expect(asffTypesOfGuardDutyType('Novel:IAMUser/Thing')).toEqual(['TTPs/Novel:IAMUser-Thing']);
    expect(asffTypesOfGuardDutyType('constructor')).toEqual(['TTPs/constructor']);
    expect(guardDutyTypeOfAsffType('TTPs/Discovery')).toBeUndefined();
  });
});
