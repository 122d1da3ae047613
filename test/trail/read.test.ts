/**
 * Reading CloudTrail from local files (src/trail/read.ts, src/trail/scan.ts) in every form the
 * storyline contract lists ("The command"), and the skips it promises: what is not CloudTrail,
 * damaged files and malformed records are skipped and counted, never fatal (pitfall 14).
 *
 * Every fixture is written to a fresh temp folder by the test itself.
 */
import * as fs from 'node:fs';
import { execFileSync } from 'node:child_process';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { listTrailFiles, readTrailFiles, TrailInputError, type ReadResult, type RecordSelector } from '../../src/trail/read';
import { FieldReader, lightView, lightViewOf, scanObjectsAtDepth } from '../../src/trail/scan';

const ALL: RecordSelector = { withEventId: true, select: () => true };
const NONE: RecordSelector = { withEventId: false, select: () => false };

type Rec = Record<string, unknown>;

/** A string that tries every way to break a byte-level record splitter. */
const NASTY = 'Boto3/1.34 {"a":[1,{"b":"}"}]} ]]] }}} [[[ {{{ \\" quote\\" "q" \\\\ C:\\\\dir\\\\ é ✓ 日本 😀 \u2028 end\\';

const r1: Rec = {
  eventVersion: '1.08',
  userIdentity: {
    type: 'IAMUser',
    principalId: 'AIDAEXAMPLEUSER00001',
    arn: 'arn:aws:iam::111122223333:user/alice',
    accountId: '111122223333',
    accessKeyId: 'AKIAEXAMPLEKEY000001',
    userName: 'alice',
  },
  eventTime: '2025-12-12T03:00:00Z',
  eventSource: 'iam.amazonaws.com',
  eventName: 'ListUsers',
  awsRegion: 'us-east-1',
  sourceIPAddress: '203.0.113.10',
  userAgent: 'aws-cli/2.15.30',
  requestParameters: null,
  responseElements: null,
  requestID: 'req-1',
  eventID: 'aaaaaaaa-0000-4000-8000-000000000001',
  readOnly: true,
  eventType: 'AwsApiCall',
  managementEvent: true,
  recipientAccountId: '111122223333',
  eventCategory: 'Management',
};

/** An AssumedRole record whose strings hold braces, brackets, escaped quotes and unicode. */
const r2: Rec = {
  eventVersion: '1.08',
  userIdentity: {
    type: 'AssumedRole',
    principalId: 'AROAEXAMPLEROLE00001:sess-{x}',
    arn: 'arn:aws:sts::111122223333:assumed-role/DevOpsRole/sess-{x}',
    accountId: '111122223333',
    accessKeyId: 'ASIAEXAMPLEKEY000002',
    sessionContext: {
      sessionIssuer: {
        type: 'Role',
        principalId: 'AROAEXAMPLEROLE00001',
        arn: 'arn:aws:iam::111122223333:role/ops/DevOpsRole',
        accountId: '111122223333',
        userName: 'DevOpsRole',
      },
      attributes: { creationDate: '2025-12-12T02:59:00Z', mfaAuthenticated: 'false' },
    },
  },
  eventTime: '2025-12-12T03:01:00Z',
  eventSource: 's3.amazonaws.com',
  eventName: 'PutBucketTagging',
  awsRegion: 'us-east-1',
  sourceIPAddress: '203.0.113.10',
  userAgent: NASTY,
  requestParameters: { bucketName: 'b', Tagging: { TagSet: { Tag: [{ Key: '}{][', Value: '"\\' }] } } },
  responseElements: null,
  eventID: 'aaaaaaaa-0000-4000-8000-000000000002',
  readOnly: false,
  eventType: 'AwsApiCall',
  recipientAccountId: '111122223333',
};

/** An AWSService record (no arn, no accessKeyId, no account) with its keys in another order. */
const r3: Rec = {
  eventID: 'aaaaaaaa-0000-4000-8000-000000000003',
  recipientAccountId: '111122223333',
  eventType: 'AwsApiCall',
  readOnly: true,
  sourceIPAddress: 'cloudtrail.amazonaws.com',
  userAgent: 'cloudtrail.amazonaws.com',
  awsRegion: 'eu-west-1',
  eventName: 'Decrypt',
  eventSource: 'kms.amazonaws.com',
  eventTime: '2025-12-12T03:02:00Z',
  requestParameters: { encryptionAlgorithm: 'SYMMETRIC_DEFAULT' },
  userIdentity: { type: 'AWSService', invokedBy: 'cloudtrail.amazonaws.com' },
  eventVersion: '1.08',
};

const RECORDS = [r1, r2, r3];

/** What each of the three records must read as, whatever the form. */
const EXPECTED = [
  {
    eventId: 'aaaaaaaa-0000-4000-8000-000000000001',
    eventName: 'ListUsers',
    eventTime: '2025-12-12T03:00:00Z',
    awsRegion: 'us-east-1',
    userAgent: 'aws-cli/2.15.30',
    type: 'IAMUser',
    key: 'user:111122223333:alice',
    accessKeyId: 'AKIAEXAMPLEKEY000001',
  },
  {
    eventId: 'aaaaaaaa-0000-4000-8000-000000000002',
    eventName: 'PutBucketTagging',
    eventTime: '2025-12-12T03:01:00Z',
    awsRegion: 'us-east-1',
    userAgent: NASTY,
    type: 'AssumedRole',
    key: 'role:111122223333:DevOpsRole',
    accessKeyId: 'ASIAEXAMPLEKEY000002',
  },
  {
    eventId: 'aaaaaaaa-0000-4000-8000-000000000003',
    eventName: 'Decrypt',
    eventTime: '2025-12-12T03:02:00Z',
    awsRegion: 'eu-west-1',
    userAgent: 'cloudtrail.amazonaws.com',
    type: 'AWSService',
    key: 'service:cloudtrail.amazonaws.com',
    accessKeyId: null,
  },
];

function summary(r: ReadResult) {
  return [...r.events]
    .sort((a, b) => (a.eventId < b.eventId ? -1 : 1))
    .map((e) => ({
      eventId: e.eventId,
      eventName: e.eventName,
      eventTime: e.eventTime,
      awsRegion: e.awsRegion,
      userAgent: e.userAgent,
      type: e.identity.type,
      key: e.identity.key,
      accessKeyId: e.identity.accessKeyId,
    }));
}

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'trailstory-read-'));
});
afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

let counter = 0;
/** Writes a file in its own fresh folder under the temp dir; `rel` may hold folders. */
function write(rel: string, content: string | Buffer): string {
  const p = path.join(tmp, `case-${++counter}`, rel);
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, content);
  return p;
}

const lookupPage = (recs: Rec[]) => ({
  Events: recs.map((r) => ({
    EventId: r.eventID,
    EventName: r.eventName,
    ReadOnly: String(r.readOnly),
    EventTime: r.eventTime,
    EventSource: r.eventSource,
    Resources: [],
    CloudTrailEvent: JSON.stringify(r),
  })),
  NextToken: 'eyJuZXh0VG9rZW4iOiBudWxsfQ==',
});

const FORMS: [string, () => string][] = [
  ['S3 delivery {"Records":[…]} .json', () => write('delivery.json', JSON.stringify({ Records: RECORDS }))],
  ['S3 delivery .json.gz in the AWSLogs tree', () =>
    write('AWSLogs/111122223333/CloudTrail/us-east-1/2025/12/12/111122223333_CloudTrail_us-east-1_20251212T0305Z_abcdEFGH1234.json.gz', zlib.gzipSync(JSON.stringify({ Records: RECORDS })))],
  ['S3 delivery pretty-printed (indented)', () => write('pretty.json', JSON.stringify({ Records: RECORDS }, null, 2))],
  ['S3 delivery pretty-printed with tabs and CRLF', () => write('pretty-crlf.json', JSON.stringify({ Records: RECORDS }, null, '\t').replace(/\n/g, '\r\n'))],
  ['{"Records":[…]} with Records not the first key', () => write('records-later.json', JSON.stringify({ Note: 'copied', Records: RECORDS }))],
  ['LookupEvents output', () => write('lookup.json', JSON.stringify(lookupPage(RECORDS), null, 4))],
  ['a JSON array of records', () => write('array.json', JSON.stringify(RECORDS))],
  ['a pretty-printed JSON array of records', () => write('array-pretty.json', JSON.stringify(RECORDS, null, 2))],
  ['JSON Lines', () => write('trail.jsonl', RECORDS.map((r) => JSON.stringify(r)).join('\n') + '\n')],
  ['JSON Lines, CRLF, blank lines, no final newline', () => write('trail-crlf.jsonl', RECORDS.map((r) => JSON.stringify(r)).join('\r\n\r\n'))],
  ['JSON Lines gzipped', () => write('trail.jsonl.gz', zlib.gzipSync(RECORDS.map((r) => JSON.stringify(r)).join('\n') + '\n'))],
];

describe('every accepted form yields the same events', () => {
  test.each(FORMS)('%s', async (_name, make) => {
    const file = make();
    const r = await readTrailFiles([file], ALL);
    expect(summary(r)).toEqual(EXPECTED);
    expect(r.stats.filesRead).toBe(1);
    expect(r.stats.filesSkipped).toBe(0);
    expect(r.stats.recordsRead).toBe(3);
    expect(r.stats.recordsSkipped).toBe(0);
    expect(r.stats.skippedReasons).toEqual({});
    expect(r.cloudTrailFlags).toEqual([true]);
    expect(r.stats.minTime).toBe('2025-12-12T03:00:00Z');
    expect(r.stats.maxTime).toBe('2025-12-12T03:02:00Z');
    expect([...r.stats.accounts]).toEqual(['111122223333']);
    // In the AWSLogs tree the account and region come from the path (…/CloudTrail/us-east-1/…).
    const pathScoped = file.includes(`${path.sep}AWSLogs${path.sep}`);
    expect([...r.stats.regions].sort()).toEqual(pathScoped ? ['us-east-1'] : ['eu-west-1', 'us-east-1']);
  });

  test('all forms read together are deduplicated by eventID', async () => {
    const files = FORMS.map(([, make]) => make());
    const r = await readTrailFiles(files, ALL);
    expect(summary(r)).toEqual(EXPECTED);
    expect(r.stats.filesRead).toBe(FORMS.length);
    expect(r.stats.recordsRead).toBe(3 * FORMS.length);
    expect(r.cloudTrailFlags).toEqual(FORMS.map(() => true));
  });

  test('a selector that selects nothing parses nothing, yet every record is counted', async () => {
    const file = write('delivery.json', JSON.stringify({ Records: RECORDS }));
    const r = await readTrailFiles([file], NONE);
    expect(r.events).toEqual([]);
    expect(r.stats.recordsRead).toBe(3);
    expect(r.stats.recordsExamined).toBe(0);
  });

  test('a selector sees the light view of each record', async () => {
    const file = write('delivery.json', JSON.stringify({ Records: RECORDS }, null, 2));
    const seen: unknown[] = [];
    await readTrailFiles([file], { withEventId: true, select: (v) => (seen.push({ ...v }), false) });
    expect(seen).toEqual([
      {
        eventName: 'ListUsers',
        accessKeyId: 'AKIAEXAMPLEKEY000001',
        arn: 'arn:aws:iam::111122223333:user/alice',
        eventId: 'aaaaaaaa-0000-4000-8000-000000000001',
        identity: true,
        principalKey: 'user:111122223333:alice',
        sessionName: null,
      },
      {
        eventName: 'PutBucketTagging',
        accessKeyId: 'ASIAEXAMPLEKEY000002',
        arn: 'arn:aws:sts::111122223333:assumed-role/DevOpsRole/sess-{x}',
        eventId: 'aaaaaaaa-0000-4000-8000-000000000002',
        identity: true,
        principalKey: 'role:111122223333:DevOpsRole',
        sessionName: 'sess-{x}',
      },
      { eventName: 'Decrypt', accessKeyId: null, arn: null, eventId: 'aaaaaaaa-0000-4000-8000-000000000003', identity: true, principalKey: null, sessionName: null },
    ]);
  });
});

describe('a record without a userIdentity object', () => {
  const bad = [
    { ...r1, eventID: 'cccccccc-0000-4000-8000-000000000001', userIdentity: null },
    { ...r1, eventID: 'cccccccc-0000-4000-8000-000000000002', userIdentity: 'alice' },
    (({ userIdentity: _u, ...rest }) => ({ ...rest, eventID: 'cccccccc-0000-4000-8000-000000000003' }))(r1),
  ];

  test.each([
    ['a delivery file (byte path)', (recs: unknown[]) => JSON.stringify({ Records: recs })],
    ['JSON Lines (object path)', (recs: unknown[]) => recs.map((r) => JSON.stringify(r)).join('\n')],
  ])('in %s is counted as malformed even when no selector wants it, once', async (_form, body) => {
    const file = write(`no-identity-${_form.length}.json${_form.startsWith('JSON') ? 'l' : ''}`, body([...RECORDS, ...bad]));
    const r = await readTrailFiles([file], NONE);
    expect(r.events).toEqual([]);
    expect(r.stats.recordsRead).toBe(6);
    expect(r.stats.skippedReasons).toEqual({ 'malformed-record (no-userIdentity)': 3 });
    expect(r.stats.recordsSkipped).toBe(3);
    // A second pass over the same file (countStructural false) counts nothing again.
    const again = await readTrailFiles([file], NONE, { countStructural: false });
    expect(again.stats.skippedReasons).toEqual({});
    const all = await readTrailFiles([file], ALL);
    expect(summary(all)).toEqual(EXPECTED);
    expect(all.stats.skippedReasons).toEqual({ 'malformed-record (no-userIdentity)': 3 });
  });
});

describe('damaged files are skipped and counted, not fatal', () => {
  test('a truncated .json.gz (gzip bytes cut in half) is damaged; the other files are still read', async () => {
    // Enough varied records that deflate writes several blocks: the first half decodes to whole records.
    const many = Array.from({ length: 2000 }, (_, i) => ({ ...r1, eventID: `bbbbbbbb-0000-4000-8000-${String(i).padStart(12, '0')}`, requestID: ((i * 2654435761) % 4294967296).toString(36) }));
    const gz = zlib.gzipSync(JSON.stringify({ Records: many }));
    const cut = write(
      'AWSLogs/111122223333/CloudTrail/us-east-1/2025/12/12/111122223333_CloudTrail_us-east-1_20251212T0310Z_cutcutcut123.json.gz',
      gz.subarray(0, Math.floor(gz.length / 2)),
    );
    const good = write('good.json', JSON.stringify({ Records: RECORDS }));
    // The whole records in the half that survives are read before the file counts as damaged.
    const partial = zlib.gunzipSync(gz.subarray(0, Math.floor(gz.length / 2)), { finishFlush: zlib.constants.Z_SYNC_FLUSH }).toString();
    const salvaged = many.filter((rec) => partial.includes(JSON.stringify(rec)));
    expect(salvaged.length).toBeGreaterThan(0);
    expect(salvaged.length).toBeLessThan(many.length);
    const r = await readTrailFiles([cut, good], ALL);
    expect(r.events.slice(0, salvaged.length).map((e) => e.eventId)).toEqual(salvaged.map((rec) => rec.eventID));
    expect(summary({ ...r, events: r.events.slice(salvaged.length) })).toEqual(EXPECTED);
    expect(r.stats.skippedReasons).toEqual({ 'damaged-gzip': 1 });
    expect(r.stats.filesSkipped).toBe(1);
    expect(r.stats.filesRead).toBe(2);
    expect(r.stats.skippedFiles).toEqual([{ file: cut, reason: 'damaged-gzip' }]);
    expect(r.stats.recordsRead).toBe(3 + salvaged.length);
    expect(r.cloudTrailFlags).toEqual([true, true]);
  });

  test('a truncated plain .json delivery file is damaged-json; the other files are still read', async () => {
    const text = JSON.stringify({ Records: RECORDS });
    const cut = write('cut.json', text.slice(0, Math.floor(text.length / 2)));
    const good = write('good.json', text);
    const r = await readTrailFiles([cut, good], ALL);
    expect(summary(r)).toEqual(EXPECTED);
    expect(r.stats.skippedReasons).toEqual({ 'damaged-json': 1 });
    expect(r.stats.skippedFiles).toEqual([{ file: cut, reason: 'damaged-json' }]);
  });
});

describe('what is not CloudTrail is skipped with its reason', () => {
  test('a digest file under CloudTrail-Digest/ and an Insights file under CloudTrail-Insight/', async () => {
    const digest = write(
      'AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2025/12/12/111122223333_CloudTrail-Digest_us-east-1_main_us-east-1_20251212T030000Z.json.gz',
      zlib.gzipSync(JSON.stringify({ awsAccountId: '111122223333', digestStartTime: '2025-12-12T02:00:00Z', digestEndTime: '2025-12-12T03:00:00Z', logFiles: [] })),
    );
    const insightRecord = {
      eventVersion: '1.08',
      eventTime: '2025-12-12T03:00:00Z',
      awsRegion: 'us-east-1',
      eventID: 'cccccccc-0000-4000-8000-000000000001',
      eventType: 'AwsCloudTrailInsight',
      recipientAccountId: '111122223333',
      sharedEventID: 'cccccccc-0000-4000-8000-000000000002',
      insightDetails: { state: 'Start', eventSource: 'iam.amazonaws.com', eventName: 'ListUsers', insightType: 'ApiCallRateInsight' },
      eventCategory: 'Insight',
    };
    const insight = write(
      'AWSLogs/111122223333/CloudTrail-Insight/us-east-1/2025/12/12/111122223333_CloudTrail-Insight_us-east-1_20251212T0300Z_xyz.json.gz',
      zlib.gzipSync(JSON.stringify({ Records: [insightRecord] })),
    );
    const readme = write('README.txt', 'these are our logs\n');
    const good = write('good.json', JSON.stringify({ Records: RECORDS }));
    const r = await readTrailFiles([digest, insight, readme, good], ALL);
    expect(summary(r)).toEqual(EXPECTED);
    expect(r.stats.skippedReasons).toEqual({ 'digest-file': 1, 'insights-file': 1, 'not-cloudtrail': 1 });
    expect(r.stats.skippedFiles).toEqual([
      { file: digest, reason: 'digest-file' },
      { file: insight, reason: 'insights-file' },
      { file: readme, reason: 'not-cloudtrail' },
    ]);
    expect(r.stats.filesSkipped).toBe(3);
    expect(r.stats.filesRead).toBe(1);
    expect(r.cloudTrailFlags[2]).toBe(false);
    expect(r.cloudTrailFlags[3]).toBe(true);
  });

  test('a digest file recognised by its content, outside any CloudTrail-Digest folder', async () => {
    const digest = write('digest.json', JSON.stringify({ awsAccountId: '111122223333', digestStartTime: '2025-12-12T02:00:00Z', logFiles: [] }));
    const r = await readTrailFiles([digest], ALL);
    expect(r.stats.skippedReasons).toEqual({ 'digest-file': 1 });
    expect(r.events).toEqual([]);
  });

  test('an Insights record inside an ordinary delivery file is skipped as insight-event', async () => {
    const insightRecord = { ...r1, eventID: 'cccccccc-0000-4000-8000-000000000009', eventType: 'AwsCloudTrailInsight', insightDetails: { state: 'Start' } };
    const f = write('mixed.json', JSON.stringify({ Records: [...RECORDS, insightRecord] }));
    const r = await readTrailFiles([f], ALL);
    expect(summary(r)).toEqual(EXPECTED);
    expect(r.stats.recordsRead).toBe(4);
    expect(r.stats.recordsSkipped).toBe(1);
    expect(r.stats.skippedReasons).toEqual({ 'insight-event': 1 });
  });

  test('a JSON array of something else and a JSON object of something else are not-cloudtrail', async () => {
    const arr = write('numbers.json', JSON.stringify([{ id: 1, name: 'x' }]));
    const obj = write('config.json', JSON.stringify({ region: 'us-east-1' }));
    const r = await readTrailFiles([arr, obj], ALL);
    expect(r.events).toEqual([]);
    expect(r.stats.skippedReasons).toEqual({ 'not-cloudtrail': 2 });
    expect(r.cloudTrailFlags).toEqual([false, false]);
  });
});

describe('malformed records are skipped and counted (pitfall 14)', () => {
  test('JSON Lines with one truncated line and one non-object line: the good lines are read', async () => {
    const good = RECORDS.map((r) => JSON.stringify(r));
    const truncated = (good[0] as string).slice(0, 60);
    const text = [good[0], truncated, '42', good[1], good[2]].join('\n') + '\n';
    const f = write('broken.jsonl', text);
    const r = await readTrailFiles([f], ALL);
    expect(summary(r)).toEqual(EXPECTED);
    expect(r.stats.recordsRead).toBe(5);
    expect(r.stats.recordsSkipped).toBe(2);
    const malformed = Object.entries(r.stats.skippedReasons).filter(([k]) => k.startsWith('malformed-record'));
    expect(malformed.reduce((n, [, v]) => n + v, 0)).toBe(2);
    expect(r.stats.filesRead).toBe(1);
  });

  test('JSON Lines with a truncated line that happens to end in "}": counted, the rest read', async () => {
    const good = RECORDS.map((r) => JSON.stringify(r));
    const text = [good[0], '{"eventVersion":"1.08","userIdentity":{"type":"Root"}', good[1], good[2]].join('\n');
    const r = await readTrailFiles([write('broken2.jsonl', text)], ALL);
    expect(summary(r)).toEqual(EXPECTED);
    expect(r.stats.recordsRead).toBe(4);
    expect(r.stats.recordsSkipped).toBe(1);
  });

  test('LookupEvents page with a truncated CloudTrailEvent string and a null one: both counted, the rest used', async () => {
    const page = lookupPage(RECORDS);
    const cut = JSON.stringify({ ...r1, eventID: 'dddddddd-0000-4000-8000-000000000001' });
    page.Events.splice(1, 0, { ...page.Events[0]!, EventId: 'dddddddd-0000-4000-8000-000000000001', CloudTrailEvent: cut.slice(0, Math.floor(cut.length / 2)) });
    page.Events.splice(3, 0, { ...page.Events[0]!, EventId: 'dddddddd-0000-4000-8000-000000000002', CloudTrailEvent: null as unknown as string });
    expect(page.Events).toHaveLength(5);
    const r = await readTrailFiles([write('lookup.json', JSON.stringify(page, null, 4))], ALL);
    expect(summary(r)).toEqual(EXPECTED);
    expect(r.stats.recordsRead).toBe(5);
    expect(r.stats.recordsSkipped).toBe(2);
    expect(r.stats.skippedReasons).toEqual({
      'malformed-record (CloudTrailEvent is not valid JSON)': 1,
      'malformed-record (CloudTrailEvent missing or not a string)': 1,
    });
    expect(r.stats.filesRead).toBe(1);
  });

  test('LookupEvents entries whose CloudTrailEvent is missing or holds an array: counted, the rest used', async () => {
    const page = lookupPage(RECORDS);
    page.Events.push({ ...page.Events[0]!, CloudTrailEvent: '[1,2,3]' });
    const { CloudTrailEvent: _drop, ...noEvent } = page.Events[0]!;
    (page.Events as unknown[]).push(noEvent);
    const r = await readTrailFiles([write('lookup2.json', JSON.stringify(page))], ALL);
    expect(summary(r)).toEqual(EXPECTED);
    expect(r.stats.recordsSkipped).toBe(2);
  });

  test('records lacking eventID, eventTime or eventName, or with an unreadable eventTime, are counted', async () => {
    const bad = [
      { ...r1, eventID: undefined },
      { ...r1, eventID: 'eeeeeeee-0000-4000-8000-000000000001', eventTime: undefined },
      { ...r1, eventID: 'eeeeeeee-0000-4000-8000-000000000002', eventTime: 'not a time' },
      { ...r1, eventID: 'eeeeeeee-0000-4000-8000-000000000003', eventName: undefined },
    ];
    const r = await readTrailFiles([write('bad.json', JSON.stringify({ Records: [...RECORDS, ...bad] }))], ALL);
    expect(summary(r)).toEqual(EXPECTED);
    expect(r.stats.recordsRead).toBe(7);
    expect(r.stats.recordsSkipped).toBe(4);
    expect(r.stats.skippedReasons).toEqual({
      'malformed-record (no-eventID)': 1,
      'malformed-record (no-eventTime)': 1,
      'malformed-record (bad-eventTime)': 1,
      'malformed-record (no-eventName)': 1,
    });
  });

  test('a null in a Records array is counted when Records is not the first key', async () => {
    const f = write('nulls-later.json', JSON.stringify({ Note: 'x', Records: [r1, null, r2, r3] }));
    const r = await readTrailFiles([f], ALL);
    expect(summary(r)).toEqual(EXPECTED);
    expect(r.stats.recordsRead).toBe(4);
    expect(r.stats.recordsSkipped).toBe(1);
  });

  // Pitfall 14: a null (or number, string) element of Records in an ordinary delivery file is
  // skipped and counted, as it is when another key comes first (test above).
  test('a null in an ordinary {"Records":[…]} delivery file is counted as skipped', async () => {
    const f = write('nulls.json', JSON.stringify({ Records: [r1, null, r2, 7, r3] }));
    const r = await readTrailFiles([f], ALL);
    expect(summary(r)).toEqual(EXPECTED);
    expect(r.stats.recordsSkipped).toBe(2);
  });
});

describe('record boundaries', () => {
  test('string values holding { } [ ] \\" and unicode do not break the split into records', async () => {
    const recs = [r2, { ...r2, eventID: 'ffffffff-0000-4000-8000-000000000001', userAgent: '}]}' }, { ...r2, eventID: 'ffffffff-0000-4000-8000-000000000002', userAgent: '\\' }];
    const text = JSON.stringify({ Records: recs });
    const ranges: [number, number][] = [];
    const buf = Buffer.from(text);
    expect(scanObjectsAtDepth(buf, 3, (s, e) => ranges.push([s, e]))).toBe(true);
    expect(ranges).toHaveLength(3);
    expect(ranges.map(([s, e]) => JSON.parse(buf.toString('utf8', s, e)) as Rec)).toEqual(recs);
    const r = await readTrailFiles([write('nasty.json', text)], ALL);
    expect(r.events.map((e) => e.userAgent)).toEqual([NASTY, '}]}', '\\']);
    expect(r.events[0]?.requestParameters).toEqual(r2.requestParameters);
  });

  test('the same records in a JSON array and in JSON Lines', async () => {
    const recs = [r2, { ...r2, eventID: 'ffffffff-0000-4000-8000-000000000003', userAgent: '"}\n{"' }];
    const a = await readTrailFiles([write('nasty-array.json', JSON.stringify(recs))], ALL);
    const l = await readTrailFiles([write('nasty.jsonl', recs.map((x) => JSON.stringify(x)).join('\n'))], ALL);
    expect(a.events.map((e) => e.userAgent)).toEqual([NASTY, '"}\n{"']);
    expect(l.events.map((e) => e.userAgent)).toEqual([NASTY, '"}\n{"']);
  });

  test('an escaped value in the light view is decoded', async () => {
    const text = '{"eventName":"GetUser","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user\\/b\\u00f6b","accessKeyId":"AKIA\\u0041"}}';
    const buf = Buffer.from(text);
    expect(lightView(buf, 0, buf.length, false)).toEqual({ eventName: 'GetUser', accessKeyId: 'AKIAA', arn: 'arn:aws:iam::111122223333:user/böb', eventId: null, identity: true });
  });
});

describe('light view', () => {
  test('an AWSService record (no accessKeyId, no arn) read alone', async () => {
    const buf = Buffer.from(JSON.stringify(r3));
    expect(lightView(buf, 0, buf.length, true)).toEqual({ eventName: 'Decrypt', accessKeyId: null, arn: null, eventId: 'aaaaaaaa-0000-4000-8000-000000000003', identity: true });
    expect(lightViewOf(r3)).toEqual({ eventName: 'Decrypt', accessKeyId: null, arn: null, eventId: 'aaaaaaaa-0000-4000-8000-000000000003', identity: true });
  });

  test('an AWSService record followed by a record with a key: nothing leaks from the next record', async () => {
    const buf = Buffer.from(JSON.stringify({ Records: [r3, r1] }));
    const ranges: [number, number][] = [];
    scanObjectsAtDepth(buf, 3, (s, e) => ranges.push([s, e]));
    const [first, second] = ranges as [[number, number], [number, number]];
    expect(lightView(buf, first[0], first[1], false)).toEqual({ eventName: 'Decrypt', accessKeyId: null, arn: null, eventId: null, identity: true });
    expect(lightView(buf, second[0], second[1], false)).toEqual({
      eventName: 'ListUsers',
      accessKeyId: 'AKIAEXAMPLEKEY000001',
      arn: 'arn:aws:iam::111122223333:user/alice',
      eventId: null,
      identity: true,
    });
  });

  test('an AWSService AssumeRole: the light view may only name what is in the record (superset test)', async () => {
    const rec = {
      ...r3,
      eventName: 'AssumeRole',
      eventSource: 'sts.amazonaws.com',
      userIdentity: { type: 'AWSService', invokedBy: 'ec2.amazonaws.com' },
      requestParameters: { roleArn: 'arn:aws:iam::111122223333:role/AppRole', roleSessionName: 'i-0abc' },
      responseElements: {
        credentials: { accessKeyId: 'ASIAMINTEDKEY0000001', sessionToken: 'x', expiration: 'Dec 12, 2025, 9:00:00 AM' },
        assumedRoleUser: { assumedRoleId: 'AROAEXAMPLEROLE00009:i-0abc', arn: 'arn:aws:sts::111122223333:assumed-role/AppRole/i-0abc' },
      },
    };
    const buf = Buffer.from(JSON.stringify(rec));
    const v = lightView(buf, 0, buf.length, false);
    expect(v.eventName).toBe('AssumeRole');
    expect([null, 'ASIAMINTEDKEY0000001']).toContain(v.accessKeyId);
    expect([null, 'arn:aws:sts::111122223333:assumed-role/AppRole/i-0abc']).toContain(v.arn);
    expect(lightViewOf(rec)).toEqual({ eventName: 'AssumeRole', accessKeyId: null, arn: null, eventId: 'aaaaaaaa-0000-4000-8000-000000000003', identity: true });
  });

  test('an AssumedRole with its arn missing falls back to the session issuer arn', async () => {
    const ui = r2.userIdentity as Rec;
    const rec = { ...r2, userIdentity: { ...ui, arn: undefined } };
    expect(lightViewOf(rec).arn).toBe('arn:aws:iam::111122223333:role/ops/DevOpsRole');
    const buf = Buffer.from(JSON.stringify(rec));
    expect(lightView(buf, 0, buf.length, false).arn).toBe('arn:aws:iam::111122223333:role/ops/DevOpsRole');
  });

  test('odd userIdentity values do not crash lightViewOf', async () => {
    for (const userIdentity of [null, 'x', 42, [], {}, { sessionContext: null }, { sessionContext: { sessionIssuer: 'x' } }]) {
      // Only an object is an identity: {} is one (empty), null, a string, a number, an array are not.
      const identity = userIdentity !== null && typeof userIdentity === 'object' && !Array.isArray(userIdentity);
      expect(lightViewOf({ eventName: 'X', userIdentity })).toEqual({ eventName: 'X', accessKeyId: null, arn: null, eventId: null, identity });
    }
  });

  // Pitfall: a record without accessKeyId/arn (AWSService, AWSAccount, IdentityCenterUser) must
  // not make the reader search the rest of the file for the missing field (quadratic reading).
  // Asserted on the bytes searched, not on time: FieldReader remembers each needle's last hit.
  test('reading a file of AWSService records searches each byte a bounded number of times', async () => {
    const pad = 'x'.repeat(10_000);
    const records = Array.from({ length: 300 }, (_, i) => ({ ...r3, eventID: `perf-${i}`, requestParameters: { encryptionContext: { pad } } }));
    const buf = Buffer.from(JSON.stringify({ Records: records }));
    const reader = new FieldReader(buf);
    let searched = 0;
    const realIndexOf = buf.indexOf.bind(buf);
    (buf as unknown as { indexOf: (n: Buffer, from: number) => number }).indexOf = (n: Buffer, from: number) => {
      const at = realIndexOf(n, from);
      searched += (at < 0 ? buf.length : at) - from;
      return at;
    };
    const ranges: number[] = [];
    scanObjectsAtDepth(buf, 3, (s, e) => ranges.push(s, e));
    for (let i = 0; i < ranges.length; i += 2) {
      const v = lightView(reader, ranges[i] as number, ranges[i + 1] as number, false);
      expect(v).toEqual({ eventName: 'Decrypt', accessKeyId: null, arn: null, eventId: null, identity: true });
    }
    expect(ranges.length / 2).toBe(300);
    // Four needles (eventName, userIdentity, accessKeyId, arn), each over the file about once.
    expect(searched).toBeLessThan(6 * buf.length);
  });
});

describe('listTrailFiles', () => {
  test('folders are searched recursively in sorted order', async () => {
    const a = write('tree/b/2.json', '{}');
    const dir = path.dirname(path.dirname(a));
    fs.writeFileSync(path.join(dir, 'a.json'), '{}');
    fs.mkdirSync(path.join(dir, 'c/d'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'c/d/1.json'), '{}');
    expect(listTrailFiles([dir])).toEqual([path.join(dir, 'a.json'), path.join(dir, 'b/2.json'), path.join(dir, 'c/d/1.json')]);
  });

  test('a dangling link, a link loop and a named pipe are left out with their reasons, never fatal', async () => {
    const a = write('links/x/1.json', '{}');
    const dir = path.dirname(path.dirname(a));
    fs.symlinkSync(path.join(dir, 'gone.json'), path.join(dir, 'dangling.json'));
    fs.symlinkSync('.', path.join(dir, 'x', 'loop'));
    fs.symlinkSync('self', path.join(dir, 'self'));
    execFileSync('mkfifo', [path.join(dir, 'pipe.json')]);
    const skipped: { file: string; reason: string }[] = [];
    expect(listTrailFiles([dir], skipped)).toEqual([path.join(dir, 'x/1.json')]);
    expect(skipped.sort((p, q) => p.file.localeCompare(q.file))).toEqual([
      { file: path.join(dir, 'dangling.json'), reason: 'unreadable (ENOENT)' },
      { file: path.join(dir, 'pipe.json'), reason: 'not-a-regular-file' },
      { file: path.join(dir, 'self'), reason: 'unreadable (ELOOP)' },
      { file: path.join(dir, 'x/loop'), reason: 'folder-read-already (a link to it)' },
    ]);
  });

  test('a path that does not exist throws TrailInputError naming it', async () => {
    const missing = path.join(tmp, 'nope', 'trail.json');
    expect(() => listTrailFiles([missing])).toThrow(TrailInputError);
    expect(() => listTrailFiles([missing])).toThrow(missing);
  });
});

describe('byte order mark', () => {
  test('a delivery file that starts with a UTF-8 BOM is read like one without', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trailstory-bom-'));
    const body = JSON.stringify({ Records: [{ eventVersion: '1.08', eventID: 'bom-1', eventTime: '2026-01-01T00:00:00Z', eventName: 'GetUser', eventSource: 'iam.amazonaws.com', userIdentity: { type: 'IAMUser', accountId: '111122223333', userName: 'u', accessKeyId: 'AKIABOM' } }] });
    const f = path.join(dir, 'bom.json');
    fs.writeFileSync(f, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(body)]));
    const r = await readTrailFiles([f], { withEventId: false, select: () => true });
    expect(r.cloudTrailFlags).toEqual([true]);
    expect(r.events.map((e) => e.eventId)).toEqual(['bom-1']);
  });
});

describe('large files are streamed with bounded memory', () => {
  // streamAbove: 0 sends every file through the streamed path, with its 4 MiB chunks; records
  // cross chunk boundaries in the larger files below.
  const big = (n: number) =>
    Array.from({ length: n }, (_, i) => ({ ...RECORDS[i % RECORDS.length], eventID: `big-${i}`, requestParameters: { note: `{[\\"${'y'.repeat(3000 + (i % 7))}` } }));
  const selectAll: RecordSelector = { withEventId: false, select: () => true };

  test.each([
    ['a delivery file', (recs: unknown[]) => JSON.stringify({ Records: recs }), false],
    ['a gzipped delivery file', (recs: unknown[]) => JSON.stringify({ Records: recs }), true],
    ['a JSON array', (recs: unknown[]) => JSON.stringify(recs), false],
    ['JSON Lines, gzipped', (recs: unknown[]) => recs.map((r) => JSON.stringify(r)).join('\n'), true],
  ])('%s gives the same events streamed as read whole', async (name, render, gz) => {
    const recs = big(3000);
    const text = Buffer.from(render(recs));
    const f = write(`stream-${name.replace(/\W+/g, '-')}${gz ? '.json.gz' : '.json'}`, gz ? zlib.gzipSync(text) : text);
    const whole = await readTrailFiles([f], selectAll, { streamAbove: Number.MAX_SAFE_INTEGER });
    const streamed = await readTrailFiles([f], selectAll, { streamAbove: 0 });
    expect(streamed.events.map((e) => e.eventId)).toEqual(recs.map((r) => (r as { eventID: string }).eventID));
    expect(streamed.events).toEqual(whole.events);
    expect(streamed.stats.recordsRead).toBe(3000);
    expect(streamed.stats.recordsSkipped).toBe(0);
    expect(streamed.cloudTrailFlags).toEqual([true]);
  });

  test('a truncated gzipped stream keeps the records before the damage and counts the file', async () => {
    const recs = big(3000);
    const gz = zlib.gzipSync(JSON.stringify({ Records: recs }));
    const f = write('stream-cut.json.gz', gz.subarray(0, Math.floor(gz.length / 2)));
    const r = await readTrailFiles([f], selectAll, { streamAbove: 0 });
    expect(r.events.length).toBeGreaterThan(100);
    expect(r.events.length).toBeLessThan(3000);
    expect(r.events.map((e) => e.eventId)).toEqual(recs.slice(0, r.events.length).map((x) => x.eventID));
    expect(r.stats.filesSkipped).toBe(1);
    expect(Object.keys(r.stats.skippedReasons)).toEqual(['damaged-gzip']);
    expect(r.cloudTrailFlags).toEqual([true]);
  });
});
