/**
 * `--format asff` prints the new Security Hub's write (`batchUpdateFindingsV2`) beside the two
 * CSPM writes; with an OCSF finding as input (`--finding` takes the new Security Hub's forms),
 * its comment is kept after ours.
 */
import * as path from 'node:path';
import { guardDutyToOcsf } from '../emulator/seed';
import { run, tempFolder } from './harness';

const SCEN = path.resolve(__dirname, '../scenarios/x-root-console');
const tmp = tempFolder('trailstory-asff-v2-');

describe('--format asff: batchUpdateFindingsV2', () => {
  test('beside batchUpdateFindings and batchImportFindings, addressing the same finding', async () => {
    const r = await run(['investigate', '--finding', path.join(SCEN, 'finding.json'), '--cloudtrail', path.join(SCEN, 'cloudtrail'), '--format', 'asff', '--now', '2026-11-29T12:00:00Z']);
    expect([r.code, r.err]).toEqual([0, '']);
    const out = JSON.parse(r.out) as Record<string, Record<string, unknown> & { FindingIdentifiers: Record<string, string>[] }>;
    expect(Object.keys(out)).toEqual(['batchUpdateFindings', 'batchImportFindings', 'batchUpdateFindingsV2']);
    const cspm = out.batchUpdateFindings!.FindingIdentifiers[0]!;
    expect(out.batchUpdateFindingsV2!.FindingIdentifiers).toEqual([{ CloudAccountUid: '242424242424', FindingInfoUid: cspm.Id, MetadataProductUid: cspm.ProductArn }]);
    expect(String(out.batchUpdateFindingsV2!.Comment).startsWith('[trailstory 2025-12-12T03:15:35.977Z] ')).toBe(true);
    expect(out.batchUpdateFindingsV2).not.toHaveProperty('SeverityId');
  });

  test('an OCSF finding as input: its comment kept after ours', async () => {
    const native = {
      accountId: '111111111111', region: 'us-east-1', partition: 'aws', id: 'f1', type: 'Discovery:IAMUser/AnomalousBehavior', severity: 5,
      arn: 'arn:aws:guardduty:us-east-1:111111111111:detector/d1/finding/f1', createdAt: '2026-03-01T09:00:00Z', updatedAt: '2026-03-01T10:00:00Z',
      resource: { resourceType: 'AccessKey', accessKeyDetails: { accessKeyId: 'AKIAEXAMPLE000000001', userName: 'ci', userType: 'IAMUser' } }, service: { detectorId: 'd1' },
    };
    const file = tmp.write('ocsf.json', JSON.stringify({ Findings: [{ ...guardDutyToOcsf(native), comment: 'SEC-77 open' }] }));
    // One record of an unrelated account: the trail is read, the storyline is empty.
    const other = { eventVersion: '1.08', eventID: 'e1', eventTime: '2026-03-01T09:10:00Z', eventSource: 'sts.amazonaws.com', eventName: 'GetCallerIdentity', awsRegion: 'us-east-1', recipientAccountId: '999999999999', sourceIPAddress: '192.0.2.1', userIdentity: { type: 'IAMUser', arn: 'arn:aws:iam::999999999999:user/x', accountId: '999999999999' } };
    const trail = tmp.write('ct/other.json', JSON.stringify({ Records: [other] }));
    const r = await run(['investigate', '--finding', file, '--cloudtrail', trail, '--format', 'asff', '--now', '2026-11-29T12:00:00Z']);
    expect([r.code, r.err]).toEqual([0, '']);
    const v2 = (JSON.parse(r.out) as { batchUpdateFindingsV2: { Comment: string } }).batchUpdateFindingsV2;
    expect(v2.Comment.startsWith('[trailstory 2026-03-01T10:00:00Z] ')).toBe(true);
    expect(v2.Comment.endsWith('\n[comment] SEC-77 open')).toBe(true);
  });

  test('a finding without an account cannot be addressed in the new Security Hub: batchUpdateFindingsV2 is null, and one line says why', async () => {
    const native = {
      accountId: ' ', region: 'us-east-1', partition: 'aws', id: 'f2', type: 'Discovery:IAMUser/AnomalousBehavior', severity: 5,
      arn: 'arn:aws:guardduty:us-east-1::detector/d1/finding/f2', createdAt: '2026-03-01T09:00:00Z', updatedAt: '2026-03-01T10:00:00Z',
      resource: { resourceType: 'AccessKey', accessKeyDetails: { accessKeyId: 'AKIAEXAMPLE000000001', userName: 'ci', userType: 'IAMUser' } }, service: { detectorId: 'd1' },
    };
    const file = tmp.write('no-account.json', JSON.stringify({ Findings: [guardDutyToOcsf(native)] }));
    const rec = { eventVersion: '1.08', eventID: 'e2', eventTime: '2026-03-01T09:10:00Z', eventSource: 'sts.amazonaws.com', eventName: 'GetCallerIdentity', awsRegion: 'us-east-1', recipientAccountId: '999999999999', sourceIPAddress: '192.0.2.1', userIdentity: { type: 'IAMUser', arn: 'arn:aws:iam::999999999999:user/x', accountId: '999999999999' } };
    const trail = tmp.write('ct2/other.json', JSON.stringify({ Records: [rec] }));
    const r = await run(['investigate', '--finding', file, '--cloudtrail', trail, '--format', 'asff', '--now', '2026-11-29T12:00:00Z']);
    expect(r.code).toBe(0);
    expect((JSON.parse(r.out) as { batchUpdateFindingsV2: unknown }).batchUpdateFindingsV2).toBeNull();
    expect(r.err.trim().split('\n')).toEqual([expect.stringMatching(/^trailstory: batchUpdateFindingsV2 is null: the finding's account .* is not a 12-digit AWS account id$/)]);
  });
});

