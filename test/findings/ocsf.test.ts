/**
 * GuardDuty's OCSF Detection Findings (the new Security Hub) read into the NormalizedFinding: the
 * same account, region, id and updatedAt as GuardDuty's own event of the same finding, so both
 * events give one idempotency key.
 */
import { FindingInputError, parseFindings } from '../../src/findings/normalize';
import { enrichKey } from '../../src/lambda/messages';
import { guardDutyToOcsf } from '../emulator/seed';
import { findingsImportedV2Event } from '../emulator/securityhub-v2';

const native = {
  accountId: '333333333333', region: 'eu-west-1', partition: 'aws', id: 'f0ad', type: 'CredentialAccess:IAMUser/AnomalousBehavior', severity: 7.5,
  arn: 'arn:aws:guardduty:eu-west-1:333333333333:detector/d9/finding/f0ad', createdAt: '2026-02-01T09:00:00.000Z', updatedAt: '2026-02-01T10:20:30.456Z',
  title: 'Unusual API', description: 'An API was used',
  resource: { resourceType: 'AccessKey', accessKeyDetails: { accessKeyId: 'ASIAEXAMPLE000000002', principalId: 'AROAEXAMPLE:alice', userName: 'ops', userType: 'AssumedRole' } },
  service: { detectorId: 'd9', eventFirstSeen: '2026-02-01T08:00:00.000Z', eventLastSeen: '2026-02-01T09:30:00.000Z', count: 2,
    action: { actionType: 'AWS_API_CALL', awsApiCallAction: { api: 'GetSecretValue', serviceName: 'secretsmanager.amazonaws.com', remoteIpDetails: { ipAddressV4: '198.51.100.9' } } } },
};
const gdEvent = { version: '0', id: 'e', 'detail-type': 'GuardDuty Finding', source: 'aws.guardduty', account: '333333333333', region: 'eu-west-1', time: '2026-02-01T10:21:00Z', resources: [], detail: native };

describe('OCSF findings of the new Security Hub', () => {
  const ocsf = guardDutyToOcsf(native);

  test('a Findings Imported V2 event: the same account, region, id, ARN, type and updatedAt as the GuardDuty event, so the same idempotency key', () => {
    const [fromGd] = parseFindings(gdEvent, 'gd.json');
    const [fromV2] = parseFindings(findingsImportedV2Event(ocsf, new Date('2026-02-01T10:22:00Z')), 'v2.json');
    expect(fromV2?.form).toBe('ocsf-imported-event');
    expect([fromV2?.accountId, fromV2?.region, fromV2?.id, fromV2?.arn, fromV2?.type, fromV2?.updatedAt]).toEqual(['333333333333', 'eu-west-1', 'f0ad', native.arn, native.type, '2026-02-01T10:20:30.456Z']);
    expect(enrichKey(fromV2!, 1)).toBe(enrichKey(fromGd!, 1));
  });

  test('what the storyline needs: actor, API, remote address, first and last seen; severity by band', () => {
    const [f] = parseFindings({ Findings: [ocsf] }, 'getfindingsv2.json');
    expect(f?.form).toBe('ocsf');
    expect(f?.actor).toMatchObject({ accessKeyId: 'ASIAEXAMPLE000000002', principalId: 'AROAEXAMPLE:alice', userType: 'AssumedRole' });
    expect([f?.api, f?.apiServiceName, f?.remoteIps.map((r) => r.ip), f?.eventFirstSeen, f?.eventLastSeen]).toEqual(['GetSecretValue', 'secretsmanager.amazonaws.com', ['198.51.100.9'], '2026-02-01T08:00:00Z', '2026-02-01T09:30:00Z']);
    expect(f?.severity).toBe(7); // High: the lower bound of GuardDuty's band
    expect(f?.resourceType).toBe('AccessKey');
  });

  test('a bare OCSF finding; its comment kept on the finding', () => {
    const [f] = parseFindings({ ...ocsf, comment: 'SEC-9' }, 'bare.json');
    expect([f?.form, f?.comment]).toEqual(['ocsf', 'SEC-9']);
  });

  test('another product\'s OCSF finding, or one whose finding_info.uid is not a GuardDuty ARN, is a clear error', () => {
    const other = { ...ocsf, metadata: { uid: 'm', product: { uid: 'arn:aws:securityhub:eu-west-1::product/aws/inspector', name: 'Inspector' } } };
    expect(() => parseFindings(other, 'x.json')).toThrow(new FindingInputError('x.json', 'is an OCSF finding of Inspector, not a GuardDuty finding'));
    expect(() => parseFindings(findingsImportedV2Event(other, new Date()), 'x.json')).toThrow(/holds no GuardDuty finding \(only findings of Inspector\)/);
    const broken = { ...ocsf, finding_info: { ...(ocsf.finding_info as object), uid: 'not-an-arn' } };
    expect(() => parseFindings(broken, 'b.json')).toThrow(/finding_info\.uid "not-an-arn" is not a GuardDuty finding ARN/);
  });
});
