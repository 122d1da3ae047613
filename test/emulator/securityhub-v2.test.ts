/**
 * The new Security Hub in the emulator: BatchUpdateFindingsV2 and GetFindingsV2 through the real
 * SDK client, validated against the supplementary model, with the reference's rules
 * (securityhub-v2.ts).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BatchUpdateFindingsV2Command, GetFindingsV2Command, SecurityHubClient, type OcsfFindingIdentifier } from '@aws-sdk/client-securityhub';
import { parseFindings } from '../../src/findings/normalize';
import { AwsEmulator } from './server';
import { guardDutyToOcsf, seedScenario } from './seed';
import { rejection } from './testing';
import { sharedDir } from '../support/shared';

/** `../shared` beside the checkout; in a git worktree elsewhere, beside the checkout its node_modules link points into. */
const SCENARIO = path.join(sharedDir(), 'scenarios', 'a-leaked-key-cryptomining');
const HAVE = fs.existsSync(SCENARIO);
if (!HAVE) process.stdout.write('shared/scenarios absent: the scenario-seeded V2 tests are skipped\n');

const A = '111111111111';
const B = '222222222222';
const R = 'us-east-1';

/** A native GuardDuty finding of account `account`. */
function native(account: string, id: string, updatedAt = '2026-03-01T10:00:00.000Z'): Record<string, unknown> {
  return {
    accountId: account, region: R, partition: 'aws', id, type: 'Discovery:IAMUser/AnomalousBehavior', severity: 5,
    arn: `arn:aws:guardduty:${R}:${account}:detector/d1/finding/${id}`, createdAt: '2026-03-01T09:00:00.000Z', updatedAt, title: 't', description: 'd',
    resource: { resourceType: 'AccessKey', accessKeyDetails: { accessKeyId: 'AKIAEXAMPLE000000001', principalId: 'AIDAEXAMPLE', userName: 'ci', userType: 'IAMUser' } },
    service: { detectorId: 'd1', eventFirstSeen: '2026-03-01T08:00:00.000Z', eventLastSeen: '2026-03-01T09:30:00.000Z', count: 1,
      action: { actionType: 'AWS_API_CALL', awsApiCallAction: { api: 'ListUsers', serviceName: 'iam.amazonaws.com', remoteIpDetails: { ipAddressV4: '203.0.113.7' } } } },
  };
}

function idOf(f: Record<string, unknown>): OcsfFindingIdentifier {
  const o = guardDutyToOcsf(f) as { cloud: { account: { uid: string } }; finding_info: { uid: string }; metadata: { product: { uid: string } } };
  return { CloudAccountUid: o.cloud.account.uid, FindingInfoUid: o.finding_info.uid, MetadataProductUid: o.metadata.product.uid };
}

describe('the new Security Hub (BatchUpdateFindingsV2, GetFindingsV2)', () => {
  let emu: AwsEmulator;
  let sh: SecurityHubClient;
  const fa = native(A, 'f-a');
  const fb = native(B, 'f-b');

  beforeAll(async () => {
    emu = await AwsEmulator.start({ seed: 3 });
  });
  afterAll(async () => emu?.stop());
  beforeEach(() => {
    emu.reset();
    emu.securityHub.putOcsf(guardDutyToOcsf(fa));
    emu.securityHub.putOcsf(guardDutyToOcsf(fb));
    sh = new SecurityHubClient(emu.clientConfig(A, R, 1));
  });

  test('GetFindingsV2: filtered on the three identifiers; only the caller\'s own findings', async () => {
    const eq = (FieldName: 'finding_info.uid' | 'cloud.account.uid', Value: string) => ({ FieldName, Filter: { Value, Comparison: 'EQUALS' as const } });
    const mine = await sh.send(new GetFindingsV2Command({ Filters: { CompositeFilters: [{ StringFilters: [eq('finding_info.uid', String(fa.arn))] }] } }));
    expect(mine.Findings).toHaveLength(1);
    expect((mine.Findings?.[0] as { finding_info: { uid: string } }).finding_info.uid).toBe(fa.arn);
    const other = await sh.send(new GetFindingsV2Command({ Filters: { CompositeFilters: [{ StringFilters: [eq('cloud.account.uid', B)] }] } }));
    expect(other.Findings).toEqual([]);
    // OR between two composites: both of A's? only one is A's, so one.
    const or = await sh.send(new GetFindingsV2Command({ Filters: { CompositeOperator: 'OR', CompositeFilters: [{ StringFilters: [eq('finding_info.uid', String(fa.arn))] }, { StringFilters: [eq('finding_info.uid', String(fb.arn))] }] } }));
    expect(or.Findings).toHaveLength(1);
    // The delegated administrator of an Enabled member sees both.
    emu.securityHub.addMember(R, A, B, 'Enabled');
    const both = await sh.send(new GetFindingsV2Command({}));
    expect((both.Findings ?? []).map((f) => (f as { cloud: { account: { uid: string } } }).cloud.account.uid).sort()).toEqual([A, B]);
  });

  test('GetFindingsV2: the model\'s limits (MaxResults 1-100, 10 composite filters) and a foreign NextToken are ValidationException 400', async () => {
    expect(await rejection(sh.send(new GetFindingsV2Command({ MaxResults: 0 })))).toMatchObject({ name: 'ValidationException', status: 400 });
    const eleven = Array.from({ length: 11 }, () => ({ StringFilters: [{ FieldName: 'finding_info.uid' as const, Filter: { Value: 'x', Comparison: 'EQUALS' as const } }] }));
    expect(await rejection(sh.send(new GetFindingsV2Command({ Filters: { CompositeFilters: eleven } })))).toMatchObject({ name: 'ValidationException', status: 400 });
    expect(await rejection(sh.send(new GetFindingsV2Command({ NextToken: 'bm90IG91cnM=' })))).toMatchObject({ name: 'ValidationException', status: 400 });
    // Scopes: the delegated administrator only.
    expect(await rejection(sh.send(new GetFindingsV2Command({ Scopes: { AwsOrganizations: [{ OrganizationId: 'o-abcdefghij' }] } })))).toMatchObject({ name: 'AccessDeniedException', status: 403 });
  });

  test('GetFindingsV2 pages by MaxResults with a NextToken', async () => {
    emu.securityHub.addMember(R, A, B, 'Enabled');
    const p1 = await sh.send(new GetFindingsV2Command({ MaxResults: 1 }));
    expect(p1.Findings).toHaveLength(1);
    expect(p1.NextToken).toBeDefined();
    const p2 = await sh.send(new GetFindingsV2Command({ MaxResults: 1, NextToken: p1.NextToken }));
    expect(p2.Findings).toHaveLength(1);
    expect(p2.NextToken).toBeUndefined();
    expect(p2.Findings?.[0]).not.toEqual(p1.Findings?.[0]);
  });

  test('BatchUpdateFindingsV2: sets comment, severity and status with their captions; modified_time untouched; one Findings Imported V2 event', async () => {
    const out = await sh.send(new BatchUpdateFindingsV2Command({ FindingIdentifiers: [idOf(fa)], Comment: 'SEC-123 open', SeverityId: 4, StatusId: 2 }));
    expect(out.ProcessedFindings).toEqual([{ FindingIdentifier: idOf(fa) }]);
    expect(out.UnprocessedFindings).toEqual([]);
    const held = emu.securityHub.getOcsf(String(fa.arn)) as Record<string, unknown> & { finding_info: Record<string, unknown> };
    expect([held.comment, held.severity_id, held.severity, held.status_id, held.status]).toEqual(['SEC-123 open', 4, 'High', 2, 'In Progress']);
    expect(held.finding_info.modified_time_dt).toBe('2026-03-01T10:00:00.000Z');
    expect(emu.securityHub.v2Events).toHaveLength(1);
    const ev = emu.securityHub.v2Events[0] as { 'detail-type': string; source: string; account: string; detail: { findings: { comment: string }[] } };
    expect([ev['detail-type'], ev.source, ev.account, ev.detail.findings[0]?.comment]).toEqual(['Findings Imported V2', 'aws.securityhub', A, 'SEC-123 open']);
    // The event is one our own intake reads: the same finding, the same updatedAt as GuardDuty's.
    const [read] = parseFindings(ev, 'event');
    expect([read?.form, read?.id, read?.accountId, read?.region, read?.updatedAt, read?.comment]).toEqual(['ocsf-imported-event', 'f-a', A, R, '2026-03-01T10:00:00Z', 'SEC-123 open']);
  });

  test('BatchUpdateFindingsV2: a finding not found, or another account\'s, is UnprocessedFindings ResourceNotFoundException inside the 200', async () => {
    const unknown = { ...idOf(fa), FindingInfoUid: `${String(fa.arn)}x` };
    const out = await sh.send(new BatchUpdateFindingsV2Command({ FindingIdentifiers: [unknown, idOf(fb)], Comment: 'x' }));
    expect(out.ProcessedFindings).toEqual([]);
    expect(out.UnprocessedFindings?.map((u) => [u.FindingIdentifier?.FindingInfoUid, u.ErrorCode])).toEqual([[unknown.FindingInfoUid, 'ResourceNotFoundException'], [fb.arn, 'ResourceNotFoundException']]);
    expect(emu.securityHub.v2Events).toEqual([]);
    // By metadata.uid too.
    const uid = (guardDutyToOcsf(fa) as { metadata: { uid: string } }).metadata.uid;
    const byUid = await sh.send(new BatchUpdateFindingsV2Command({ MetadataUids: [uid], StatusId: 3 }));
    expect(byUid.ProcessedFindings).toEqual([{ MetadataUid: uid }]);
  });

  test.each([
    ['a Comment of 513 characters', { FindingIdentifiers: [], Comment: 'x'.repeat(513) }],
    ['a blank Comment', { Comment: '   ' }],
    ['SeverityId 7', { SeverityId: 7 }],
    ['StatusId 6', { StatusId: 6 }],
    ['an identifier without FindingInfoUid', { FindingIdentifiers: [{ CloudAccountUid: A, MetadataProductUid: 'p' } as OcsfFindingIdentifier], Comment: 'x' }],
    ['MetadataUids with FindingIdentifiers', { MetadataUids: ['m'], Comment: 'x' }],
    ['neither MetadataUids nor FindingIdentifiers', { none: true, Comment: 'x' }],
  ])('BatchUpdateFindingsV2 refuses %s: ValidationException 400, nothing changed', async (_what, over) => {
    const input: Record<string, unknown> = { FindingIdentifiers: [idOf(fa)], ...over };
    if ('none' in over) { delete input.FindingIdentifiers; delete input.none; }
    if (Array.isArray(input.FindingIdentifiers) && input.FindingIdentifiers.length === 0) input.FindingIdentifiers = [idOf(fa)];
    expect(await rejection(sh.send(new BatchUpdateFindingsV2Command(input)))).toMatchObject({ name: 'ValidationException', status: 400 });
    expect((emu.securityHub.getOcsf(String(fa.arn)) as Record<string, unknown>).comment).toBeUndefined();
  });

  (HAVE ? test : test.skip)('seedScenario puts an OCSF form of each GuardDuty finding, which reads back as the same finding', () => {
    const seeded = seedScenario(emu, SCENARIO);
    expect(seeded.ocsfFindings).toHaveLength(seeded.guardDutyFindings.length);
    const gd = parseFindings(seeded.guardDutyFindings[0], 'native')[0]!;
    const oc = parseFindings(seeded.ocsfFindings[0], 'ocsf')[0]!;
    expect([oc.id, oc.arn, oc.accountId, oc.region, oc.updatedAt, oc.type, oc.actor.accessKeyId]).toEqual([gd.id, gd.arn, gd.accountId, gd.region, gd.updatedAt, gd.type, gd.actor.accessKeyId]);
  });
});
