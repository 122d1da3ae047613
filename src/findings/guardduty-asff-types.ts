/**
 * GuardDuty finding types and the ASFF `Types` Security Hub CSPM shows for them: one mapping,
 * used by the product (`--format asff` on a native finding, reading an ASFF finding back) and by
 * the local emulator's seed, so the two never disagree.
 *
 * Source: GuardDuty User Guide, "Integrating with AWS Security Hub CSPM", section "Interpreting
 * GuardDuty finding names in AWS Security Hub CSPM"
 * (https://docs.aws.amazon.com/guardduty/latest/ug/securityhub-integration.html#interpreting-findings-in-securityhub):
 * "ASFF types use a different naming scheme than GuardDuty types", given there as a table. The
 * table does not follow one rule: the IAM `AnomalousBehavior` types lose their threat purpose
 * (`Discovery:IAMUser/AnomalousBehavior` is `TTPs/Discovery/IAMUser-AnomalousBehavior`), the S3
 * and several IAM types have no category (`TTPs/Exfiltration:S3-AnomalousBehavior`), a few keep
 * their `/` (`TTPs/PenTest:IAMUser/KaliLinux`, the attack sequences) and some map to `Effects` or
 * `Unusual Behaviors`. So the types GuardDuty raises from CloudTrail and S3 data events (the
 * ones this product investigates: IAM, S3, attack sequences) are kept here row by row as the
 * table gives them ({@link DOCUMENTED_ASFF_TYPES}); any other type takes the table's most common
 * form, `<namespace>/<category of its threat purpose>/<Purpose>:<Resource>-<Family…>`
 * ({@link CATEGORY_OF_PURPOSE}).
 */

/**
 * Rows of the GuardDuty table for the IAM, S3 and attack-sequence finding types, as published
 * (the `\!` of the Markdown source unescaped). A GuardDuty type maps to one or more ASFF types.
 */
export const DOCUMENTED_ASFF_TYPES: Readonly<Record<string, readonly string[]>> = {
  'AttackSequence:IAM/CompromisedCredentials': ['TTPs/AttackSequence:IAM/CompromisedCredentials'],
  'AttackSequence:S3/CompromisedData': ['TTPs/AttackSequence:S3/CompromisedData'],
  'CredentialAccess:IAMUser/AnomalousBehavior': ['TTPs/Credential Access/IAMUser-AnomalousBehavior'],
  'DefenseEvasion:IAMUser/AnomalousBehavior': ['TTPs/Defense Evasion/IAMUser-AnomalousBehavior'],
  'DefenseEvasion:IAMUser/BedrockLoggingDisabled': ['TTPs/Defense Evasion/DefenseEvasion:IAMUser-BedrockLoggingDisabled'],
  'Discovery:IAMUser/AnomalousBehavior': ['TTPs/Discovery/IAMUser-AnomalousBehavior'],
  'Discovery:S3/AnomalousBehavior': ['TTPs/Discovery:S3-AnomalousBehavior'],
  'Discovery:S3/BucketEnumeration.Unusual': ['TTPs/Discovery:S3-BucketEnumeration.Unusual'],
  'Discovery:S3/MaliciousIPCaller.Custom': ['TTPs/Discovery:S3-MaliciousIPCaller.Custom'],
  'Discovery:S3/TorIPCaller': ['TTPs/Discovery:S3-TorIPCaller'],
  'Discovery:S3/MaliciousIPCaller': ['TTPs/Discovery:S3-MaliciousIPCaller'],
  'Exfiltration:IAMUser/AnomalousBehavior': ['TTPs/Exfiltration/IAMUser-AnomalousBehavior'],
  'Exfiltration:S3/AnomalousBehavior': ['TTPs/Exfiltration:S3-AnomalousBehavior'],
  'Exfiltration:S3/ObjectRead.Unusual': ['TTPs/Exfiltration:S3-ObjectRead.Unusual'],
  'Exfiltration:S3/MaliciousIPCaller': ['TTPs/Exfiltration:S3-MaliciousIPCaller'],
  'Impact:IAMUser/AnomalousBehavior': ['TTPs/Impact/IAMUser-AnomalousBehavior'],
  'Impact:S3/AnomalousBehavior.Delete': ['TTPs/Impact:S3-AnomalousBehavior.Delete'],
  'Impact:S3/AnomalousBehavior.Permission': ['TTPs/Impact:S3-AnomalousBehavior.Permission'],
  'Impact:S3/AnomalousBehavior.Write': ['TTPs/Impact:S3-AnomalousBehavior.Write'],
  'Impact:S3/ObjectDelete.Unusual': ['TTPs/Impact:S3-ObjectDelete.Unusual'],
  'Impact:S3/PermissionsModification.Unusual': ['TTPs/Impact:S3-PermissionsModification.Unusual'],
  'Impact:S3/MaliciousIPCaller': ['TTPs/Impact:S3-MaliciousIPCaller'],
  'InitialAccess:IAMUser/AnomalousBehavior': ['TTPs/Initial Access/IAMUser-AnomalousBehavior'],
  'PenTest:IAMUser/KaliLinux': ['TTPs/PenTest:IAMUser/KaliLinux'],
  'PenTest:IAMUser/ParrotLinux': ['TTPs/PenTest:IAMUser/ParrotLinux'],
  'PenTest:IAMUser/PentooLinux': ['TTPs/PenTest:IAMUser/PentooLinux'],
  'PenTest:S3/KaliLinux': ['TTPs/PenTest:S3-KaliLinux'],
  'PenTest:S3/ParrotLinux': ['TTPs/PenTest:S3-ParrotLinux'],
  'PenTest:S3/PentooLinux': ['TTPs/PenTest:S3-PentooLinux'],
  'Persistence:IAMUser/AnomalousBehavior': ['TTPs/Persistence/IAMUser-AnomalousBehavior'],
  'Persistence:IAMUser/NetworkPermissions': ['TTPs/Persistence/Persistence:IAMUser-NetworkPermissions'],
  'Persistence:IAMUser/ResourcePermissions': ['TTPs/Persistence/Persistence:IAMUser-ResourcePermissions'],
  'Persistence:IAMUser/UserPermissions': ['TTPs/Persistence/Persistence:IAMUser-UserPermissions'],
  'Policy:IAMUser/RootCredentialUsage': ['TTPs/Policy:IAMUser-RootCredentialUsage'],
  'Policy:IAMUser/ShortTermRootCredentialUsage': ['TTPs/Policy:IAMUser-ShortTermRootCredentialUsage'],
  'Policy:S3/AccountBlockPublicAccessDisabled': ['TTPs/Policy:S3-AccountBlockPublicAccessDisabled'],
  'Policy:S3/BucketAnonymousAccessGranted': ['TTPs/Policy:S3-BucketAnonymousAccessGranted'],
  'Policy:S3/BucketBlockPublicAccessDisabled': ['Effects/Data Exposure/Policy:S3-BucketBlockPublicAccessDisabled'],
  'Policy:S3/BucketPublicAccessGranted': ['TTPs/Policy:S3-BucketPublicAccessGranted'],
  'PrivilegeEscalation:IAMUser/AnomalousBehavior': ['TTPs/Privilege Escalation/IAMUser-AnomalousBehavior'],
  'PrivilegeEscalation:IAMUser/AdministrativePermissions': ['TTPs/Privilege Escalation/PrivilegeEscalation:IAMUser-AdministrativePermissions'],
  'Recon:IAMUser/MaliciousIPCaller': ['TTPs/Discovery/Recon:IAMUser-MaliciousIPCaller'],
  'Recon:IAMUser/MaliciousIPCaller.Custom': ['TTPs/Discovery/Recon:IAMUser-MaliciousIPCaller.Custom'],
  'Recon:IAMUser/NetworkPermissions': ['TTPs/Discovery/Recon:IAMUser-NetworkPermissions'],
  'Recon:IAMUser/ResourcePermissions': ['TTPs/Discovery/Recon:IAMUser-ResourcePermissions'],
  'Recon:IAMUser/TorIPCaller': ['TTPs/Discovery/Recon:IAMUser-TorIPCaller'],
  'Recon:IAMUser/UserPermissions': ['TTPs/Discovery/Recon:IAMUser-UserPermissions'],
  'ResourceConsumption:IAMUser/ComputeResources': ['Unusual Behaviors/User/ResourceConsumption:IAMUser-ComputeResources'],
  'Stealth:IAMUser/CloudTrailLoggingDisabled': ['TTPs/Defense Evasion/Stealth:IAMUser-CloudTrailLoggingDisabled'],
  'Stealth:IAMUser/LoggingConfigurationModified': ['TTPs/Defense Evasion/Stealth:IAMUser-LoggingConfigurationModified'],
  'Stealth:IAMUser/PasswordPolicyChange': ['TTPs/Defense Evasion/Stealth:IAMUser-PasswordPolicyChange'],
  'Stealth:S3/ServerAccessLoggingDisabled': ['TTPs/Defense Evasion/Stealth:S3-ServerAccessLoggingDisabled'],
  'UnauthorizedAccess:IAMUser/ConsoleLogin': ['Unusual Behaviors/User/UnauthorizedAccess:IAMUser-ConsoleLogin'],
  'UnauthorizedAccess:IAMUser/ConsoleLoginSuccess.B': ['TTPs/UnauthorizedAccess:IAMUser-ConsoleLoginSuccess.B'],
  'UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.InsideAWS': ['Effects/Data Exfiltration/UnauthorizedAccess:IAMUser-InstanceCredentialExfiltration.InsideAWS'],
  'UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS': ['Effects/Data Exfiltration/UnauthorizedAccess:IAMUser-InstanceCredentialExfiltration.OutsideAWS'],
  'UnauthorizedAccess:IAMUser/MaliciousIPCaller': ['TTPs/UnauthorizedAccess:IAMUser-MaliciousIPCaller'],
  'UnauthorizedAccess:IAMUser/MaliciousIPCaller.Custom': ['TTPs/UnauthorizedAccess:IAMUser-MaliciousIPCaller.Custom'],
  'UnauthorizedAccess:IAMUser/ResourceCredentialExfiltration.InsideAWS': ['Effects/Data Exfiltration/UnauthorizedAccess:IAMUser-ResourceCredentialExfiltration.InsideAWS'],
  'UnauthorizedAccess:IAMUser/ResourceCredentialExfiltration.OutsideAWS': ['Effects/Data Exfiltration/UnauthorizedAccess:IAMUser-ResourceCredentialExfiltration.OutsideAWS'],
  'UnauthorizedAccess:IAMUser/TorIPCaller': ['TTPs/Command and Control/UnauthorizedAccess:IAMUser-TorIPCaller'],
  'UnauthorizedAccess:S3/MaliciousIPCaller.Custom': ['TTPs/UnauthorizedAccess:S3-MaliciousIPCaller.Custom'],
  'UnauthorizedAccess:S3/TorIPCaller': ['TTPs/UnauthorizedAccess:S3-TorIPCaller'],
};

/**
 * `<namespace>/<category>` of a threat purpose in the table's most common form (EC2, runtime,
 * Kubernetes, Lambda and RDS rows): `Backdoor:EC2/Spambot` is `TTPs/Command and Control/Backdoor:EC2-Spambot`.
 */
export const CATEGORY_OF_PURPOSE: Readonly<Record<string, string>> = {
  Backdoor: 'TTPs/Command and Control',
  Behavior: 'Unusual Behaviors/VM',
  CredentialAccess: 'TTPs/Credential Access',
  CryptoCurrency: 'TTPs/Command and Control',
  DefenseEvasion: 'TTPs/Defense Evasion',
  Discovery: 'TTPs/Discovery',
  Execution: 'TTPs/Execution',
  Exfiltration: 'TTPs/Exfiltration',
  Impact: 'TTPs/Impact',
  InitialAccess: 'TTPs/Initial Access',
  Object: 'TTPs/Object',
  Persistence: 'TTPs/Persistence',
  Policy: 'Software and Configuration Checks/AWS Security Best Practices',
  PrivilegeEscalation: 'TTPs/Privilege Escalation',
  Recon: 'TTPs/Discovery',
  ResourceConsumption: 'Unusual Behaviors/User',
  Stealth: 'TTPs/Defense Evasion',
  Trojan: 'TTPs/Command and Control',
  UnauthorizedAccess: 'TTPs/Initial Access',
};

/**
 * The ASFF `Types` Security Hub CSPM gives a GuardDuty finding of type `type`
 * (`ThreatPurpose:ResourceTypeAffected/ThreatFamilyName…`): the documented row when there is
 * one, else `<namespace>/<category>/<type with its first "/" as "-">` (`TTPs/<type>` for a
 * purpose the table does not name). Never empty; each entry is `namespace/category/classifier`
 * or `namespace/classifier`.
 *
 * @example asffTypesOfGuardDutyType('Discovery:IAMUser/AnomalousBehavior') // ['TTPs/Discovery/IAMUser-AnomalousBehavior']
 * @example asffTypesOfGuardDutyType('Backdoor:EC2/Spambot') // ['TTPs/Command and Control/Backdoor:EC2-Spambot']
 */
export function asffTypesOfGuardDutyType(type: string): string[] {
  const documented = Object.prototype.hasOwnProperty.call(DOCUMENTED_ASFF_TYPES, type) ? DOCUMENTED_ASFF_TYPES[type] : undefined;
  if (documented) return [...documented];
  const purpose = type.split(':')[0] ?? '';
  const category = Object.prototype.hasOwnProperty.call(CATEGORY_OF_PURPOSE, purpose) ? CATEGORY_OF_PURPOSE[purpose] : 'TTPs';
  return [`${category}/${type.replace('/', '-')}`];
}

/** The documented rows read backwards: ASFF type → GuardDuty type. */
const GUARDDUTY_OF_DOCUMENTED = new Map<string, string>(Object.entries(DOCUMENTED_ASFF_TYPES).flatMap(([gd, asff]) => asff.map((a) => [a, gd] as [string, string])));

/**
 * The GuardDuty type an ASFF `Types` entry stands for: a documented row read backwards
 * (`TTPs/Discovery/IAMUser-AnomalousBehavior` → `Discovery:IAMUser/AnomalousBehavior`), else
 * its last part `Purpose:Resource-Family` (or `Purpose:Resource/Family`) as
 * `Purpose:Resource/Family`.
 *
 * @returns `undefined` when the entry holds no GuardDuty type (e.g. `Unusual Behaviors/User`, `TTPs/Discovery`).
 */
export function guardDutyTypeOfAsffType(t: string): string | undefined {
  const trimmed = t.trim();
  const documented = GUARDDUTY_OF_DOCUMENTED.get(trimmed);
  if (documented) return documented;
  const m = /(?:^|\/)([A-Za-z0-9]+):([A-Za-z0-9]+)[-/]([^/]+)$/.exec(trimmed);
  return m ? `${m[1]}:${m[2]}/${m[3]}` : undefined;
}
