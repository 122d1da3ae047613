import * as path from 'node:path';
import type { SecurityHubClient } from '@aws-sdk/client-securityhub';
import type { Storyline } from '../../src/model/storyline';
import { noteText } from '../../src/securityhub/asff';
import {
  buildBatchUpdateFindingsV2, commentText, isOwnComment, ocsfSeverityIdOfGuardDuty, splitComment, v2Problems, v2SeverityId, v2StatusId,
} from '../../src/securityhub/v2';
import { sendV2Writes } from '../../src/securityhub/v2-writer';
import { investigate } from '../../src/storyline/investigate';

const SCEN = path.resolve(__dirname, '../scenarios');
const UPDATED = '2025-12-12T03:15:35.977Z';

describe('buildBatchUpdateFindingsV2 on a reconstructed storyline', () => {
  let st: Storyline;
  beforeAll(async () => {
    st = await investigate({ findingFile: path.join(SCEN, 'x-root-console', 'finding.json'), cloudtrail: [path.join(SCEN, 'x-root-console', 'cloudtrail')] });
  });

  test('addresses GuardDuty\'s finding by account, finding ARN and GuardDuty\'s product ARN; our comment line marked with the update it describes', () => {
    const input = buildBatchUpdateFindingsV2(st, { updatedAt: UPDATED });
    expect(input.FindingIdentifiers).toEqual([{ CloudAccountUid: '242424242424', FindingInfoUid: st.finding.arn, MetadataProductUid: 'arn:aws:securityhub:us-east-1::product/aws/guardduty' }]);
    expect(input.Comment).toBe(noteText(`[trailstory ${UPDATED}] ${st.summary.replace(/\s*\n\s*/g, ' ')}`));
    expect(input.Comment.length).toBeLessThanOrEqual(512);
    expect(input).not.toHaveProperty('SeverityId');
    expect(input).not.toHaveProperty('StatusId');
    expect(v2Problems(input)).toEqual([]);
  });

  test('another author\'s comment is kept after ours, and found again next time (only our line is replaced)', () => {
    const theirs = 'SEC-123: escalated to IR\nsecond line of theirs';
    const once = buildBatchUpdateFindingsV2(st, { updatedAt: UPDATED, current: { comment: theirs } }).Comment;
    expect(once.endsWith(`\n[comment] ${theirs}`)).toBe(true);
    expect(once.length).toBeLessThanOrEqual(512);
    const later = '2025-12-12T09:15:35.977Z';
    const twice = buildBatchUpdateFindingsV2(st, { updatedAt: later, current: { comment: once } }).Comment;
    expect(splitComment(twice)).toEqual({ ours: twice.split('\n')[0], oursUpdatedAt: later, theirs });
    expect(twice.match(/\[comment\]/g)).toHaveLength(1);
  });

  test('a very long comment of another author is cut in its middle and still follows our line', () => {
    const theirs = `START ${'x'.repeat(600)} END`;
    const c = commentText('summary', UPDATED, theirs);
    expect(c.length).toBeLessThanOrEqual(512);
    expect(c.startsWith(`[trailstory ${UPDATED}] summary\n[comment] START`)).toBe(true);
    expect(c.endsWith('END')).toBe(true);
    expect(splitComment(c).theirs.startsWith('START')).toBe(true);
  });

  test('isOwnComment: our line for this very update only', () => {
    const c = commentText('s', UPDATED, 'theirs');
    expect(isOwnComment(c, UPDATED)).toBe(true);
    expect(isOwnComment(c, '2025-12-13T00:00:00Z')).toBe(false);
    expect(isOwnComment('theirs only', UPDATED)).toBe(false);
    expect(isOwnComment(undefined, UPDATED)).toBe(false);
  });

  test('severity: GuardDuty\'s band as OCSF, one up for Persistence / Privilege Escalation / Exfiltration / Impact, never lower than now, only when opted in', () => {
    expect([0.5, 1, 3.9, 4, 6.9, 7, 8.9, 9, 10].map(ocsfSeverityIdOfGuardDuty)).toEqual([2, 2, 2, 3, 3, 4, 4, 5, 5]);
    const tactics = new Set(st.steps.map((s) => s.tactic?.id));
    expect(tactics.has('TA0003') || tactics.has('TA0004')).toBe(true);
    const base = ocsfSeverityIdOfGuardDuty(st.finding.severity);
    expect(v2SeverityId(st)).toBe(Math.min(base + 1, 5));
    expect(v2SeverityId(st, 5)).toBeUndefined(); // Critical already: unchanged, nothing sent
    expect(v2SeverityId({ ...st, steps: [] })).toBeUndefined();
    expect(buildBatchUpdateFindingsV2(st, { setSeverity: true, current: { severityId: 1 } }).SeverityId).toBe(Math.min(base + 1, 5));
  });

  test('status: In Progress only for a New (or unknown) finding with a storyline, only when opted in', () => {
    expect(v2StatusId(st, 1)).toBe(2);
    expect(v2StatusId(st, 0)).toBe(2);
    for (const analysts of [2, 3, 4, 5, 99]) expect(v2StatusId(st, analysts)).toBeUndefined();
    expect(v2StatusId({ ...st, steps: [] }, 1)).toBeUndefined();
    expect(buildBatchUpdateFindingsV2(st, { setStatus: true, current: { statusId: 1 } }).StatusId).toBe(2);
    expect(buildBatchUpdateFindingsV2(st, { setStatus: true, current: { statusId: 4 } })).not.toHaveProperty('StatusId');
  });

  test('a forged ARN of 1 MB: identifiers held within 512 characters, deterministic, distinct', () => {
    const huge = { ...st, finding: { ...st.finding, arn: `${st.finding.arn}${'x'.repeat(1 << 20)}`, accountId: '9'.repeat(70000) } };
    const [id] = buildBatchUpdateFindingsV2(huge).FindingIdentifiers;
    expect([id!.FindingInfoUid.length, id!.CloudAccountUid.length]).toEqual([512, 512]);
    expect(buildBatchUpdateFindingsV2(huge).FindingIdentifiers[0]).toEqual(id);
    const other = { ...huge, finding: { ...huge.finding, arn: `${huge.finding.arn}y` } };
    expect(buildBatchUpdateFindingsV2(other).FindingIdentifiers[0]!.FindingInfoUid).not.toBe(id!.FindingInfoUid);
    expect(JSON.stringify(buildBatchUpdateFindingsV2(huge)).length).toBeLessThan(3000);
  });

  test('v2Problems: what the reference refuses', () => {
    const good = buildBatchUpdateFindingsV2(st, { updatedAt: UPDATED });
    expect(v2Problems({ ...good, Comment: 'x'.repeat(513) })).toEqual(['Comment is 513 characters (max 512)']);
    expect(v2Problems({ ...good, Comment: '  ' })).toEqual(['Comment is empty']);
    expect(v2Problems({ ...good, SeverityId: 7, StatusId: 6 })).toEqual(['SeverityId 7 is not one of 0, 1, 2, 3, 4, 5, 6, 99', 'StatusId 6 is not one of 0, 1, 2, 3, 4, 5, 99']);
    expect(v2Problems({ ...good, FindingIdentifiers: [{ ...good.FindingIdentifiers[0]!, CloudAccountUid: '' }] })).toEqual(['FindingIdentifiers CloudAccountUid is empty']);
  });
});

describe('sendV2Writes: the CSPM writer\'s habits', () => {
  const input = { FindingIdentifiers: [{ CloudAccountUid: '111111111111', FindingInfoUid: 'arn:f', MetadataProductUid: 'arn:p' }], Comment: 'c' };
  /** A client whose BatchUpdateFindingsV2 answers leave `unprocessed[i]` findings unprocessed on call i. */
  function fake(unprocessed: number[]) {
    const calls: unknown[] = [];
    const client = {
      send: async (cmd: { input: typeof input }) => {
        const n = unprocessed[calls.length] ?? 0;
        calls.push(cmd.input);
        return n
          ? { ProcessedFindings: [], UnprocessedFindings: [{ FindingIdentifier: cmd.input.FindingIdentifiers[0], ErrorCode: 'ConflictException', ErrorMessage: 'busy' }] }
          : { ProcessedFindings: [{ FindingIdentifier: cmd.input.FindingIdentifiers[0] }], UnprocessedFindings: [] };
      },
    } as unknown as SecurityHubClient;
    return { client, calls };
  }

  test('an unprocessed finding inside a 200 is retried once and lands', async () => {
    const { client, calls } = fake([1, 0]);
    const r = await sendV2Writes(client, [input]);
    expect([r.updated, r.failures, calls.length, r.requests]).toEqual([1, [], 2, { 'securityhub:BatchUpdateFindingsV2': 2 }]);
  });

  test('still unprocessed after the retry: a failure with Security Hub\'s error, for the dead-letter queue', async () => {
    const { client } = fake([1, 1]);
    const r = await sendV2Writes(client, [input]);
    expect(r.updated).toBe(0);
    expect(r.failures).toEqual([{ stage: 'update', id: 'arn:f', errorCode: 'ConflictException', errorMessage: 'BatchUpdateFindingsV2: busy' }]);
  });

  test('an invalid input is not sent: a validate failure', async () => {
    const { client, calls } = fake([]);
    const r = await sendV2Writes(client, [{ ...input, Comment: 'x'.repeat(600) }]);
    expect(calls).toEqual([]);
    expect(r.failures).toEqual([{ stage: 'validate', id: 'arn:f', errorCode: 'InvalidInput', errorMessage: 'BatchUpdateFindingsV2: Comment is 600 characters (max 512)' }]);
  });
});
