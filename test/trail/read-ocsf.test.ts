/**
 * `--cloudtrail` reading Security Lake's OCSF API Activity (src/trail/read.ts): JSON Lines, a
 * JSON array, a lone event, and a streamed file, each event read as its CloudTrail record; bad
 * lines, other classes and version 1 events skipped and counted with their reason, never fatal.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readTrailFiles, type RecordSelector } from '../../src/trail/read';
import { VERSION_1_REFUSAL } from '../../src/trail/ocsf-api-activity';
import { ocsfFromCloudTrail } from '../support/security-lake';

const ALL: RecordSelector = { withEventId: true, select: () => true };

function record(i: number, over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    eventVersion: '1.08',
    userIdentity: { type: 'IAMUser', principalId: 'AIDAEXAMPLE', arn: 'arn:aws:iam::111111111111:user/dev', accountId: '111111111111', accessKeyId: 'AKIAEXAMPLE000000001', userName: 'dev' },
    eventTime: `2026-10-01T00:0${i}:00Z`,
    eventSource: 'ec2.amazonaws.com',
    eventName: 'DescribeInstances',
    awsRegion: 'us-east-1',
    sourceIPAddress: '198.51.100.7',
    userAgent: 'aws-cli/2',
    requestParameters: { maxResults: 5 },
    responseElements: null,
    requestID: `req-${i}`,
    eventID: `id-${i}`,
    readOnly: true,
    eventType: 'AwsApiCall',
    recipientAccountId: '111111111111',
    ...over,
  };
}

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ocsf-read-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('OCSF API Activity as --cloudtrail input', () => {
  test('JSON Lines: each event read as its record; bad lines, other classes and version 1 skipped and counted', async () => {
    const v1 = { ...ocsfFromCloudTrail(record(3)), class_uid: 3005, metadata: { version: '1.0.0-rc.2', uid: 'id-3', product: { name: 'CloudTrail' } } };
    const auth = { ...ocsfFromCloudTrail(record(4)), class_uid: 3002 };
    const lines = [JSON.stringify(ocsfFromCloudTrail(record(1))), '{"class_uid": 6003, oops}', JSON.stringify(v1), JSON.stringify(auth), '', JSON.stringify(ocsfFromCloudTrail(record(2))), 'not json'];
    const file = path.join(dir, 'security-lake.jsonl');
    fs.writeFileSync(file, lines.join('\n'));
    const r = await readTrailFiles([file], ALL);
    expect(r.cloudTrailFlags).toEqual([true]);
    expect(r.events.map((e) => [e.eventId, e.eventName, e.identity.accessKeyId, e.eventTime, e.requestId, e.readOnly])).toEqual([
      ['id-1', 'DescribeInstances', 'AKIAEXAMPLE000000001', '2026-10-01T00:01:00Z', 'req-1', true],
      ['id-2', 'DescribeInstances', 'AKIAEXAMPLE000000001', '2026-10-01T00:02:00Z', 'req-2', true],
    ]);
    expect(r.stats.recordsRead).toBe(6);
    expect(r.stats.recordsSkipped).toBe(4);
    expect(r.stats.skippedReasons).toEqual({
      'malformed-record (invalid JSON)': 1,
      [`malformed-record (${VERSION_1_REFUSAL})`]: 1,
      'malformed-record (ocsf not-api-activity)': 1,
      'malformed-record (truncated line)': 1,
    });
    expect([...r.stats.regions]).toEqual(['us-east-1']);
    expect([...r.stats.accounts]).toEqual(['111111111111']);
    expect([r.stats.minTime, r.stats.maxTime]).toEqual(['2026-10-01T00:01:00Z', '2026-10-01T00:02:00Z']);
  });

  test('a JSON array of events and a lone event', async () => {
    const arr = path.join(dir, 'array.json');
    fs.writeFileSync(arr, JSON.stringify([ocsfFromCloudTrail(record(1)), 7, ocsfFromCloudTrail(record(2, { errorCode: 'AccessDenied' }))]));
    const one = path.join(dir, 'one.json');
    fs.writeFileSync(one, JSON.stringify(ocsfFromCloudTrail(record(5))));
    const r = await readTrailFiles([arr, one], ALL);
    expect(r.cloudTrailFlags).toEqual([true, true]);
    expect(r.events.map((e) => [e.eventId, e.errorCode])).toEqual([
      ['id-1', null],
      ['id-2', 'AccessDenied'],
      ['id-5', null],
    ]);
    expect(r.stats.skippedReasons).toEqual({ 'malformed-record (not-an-object)': 1 });
  });

  test('a streamed file (past streamAbove) reads the same', async () => {
    const file = path.join(dir, 'big.jsonl');
    fs.writeFileSync(file, [1, 2, 3].map((i) => JSON.stringify(ocsfFromCloudTrail(record(i)))).join('\n') + '\n{"class_uid":6003}\n');
    const r = await readTrailFiles([file], ALL, { streamAbove: 10 });
    expect(r.events.map((e) => e.eventId)).toEqual(['id-1', 'id-2', 'id-3']);
    expect(r.stats.skippedReasons).toEqual({ 'malformed-record (ocsf no-metadata-uid)': 1 });
  });

  test('CloudTrail JSON Lines are still read as CloudTrail', async () => {
    const file = path.join(dir, 'ct.jsonl');
    fs.writeFileSync(file, [record(1), record(2)].map((x) => JSON.stringify(x)).join('\n'));
    const r = await readTrailFiles([file], ALL);
    expect(r.events.map((e) => e.eventId)).toEqual(['id-1', 'id-2']);
    expect(r.stats.recordsSkipped).toBe(0);
  });
});
