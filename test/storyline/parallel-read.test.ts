/**
 * Reading on worker threads (src/storyline/parallel-read.ts) keeps exactly what a read in the
 * main thread keeps: the same records in the same order, the same summaries, counts, skips,
 * duplicates and token index; a budget passed in a worker-thread read stops it the same way;
 * and the storyline of the shipped trail is the same byte for byte.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { closureRowOf, selectSpec, seedTokens } from '../../src/storyline/closure';
import { investigate, readFinding } from '../../src/storyline/investigate';
import { readInParallel } from '../../src/storyline/parallel-read';
import { anchorWindow } from '../../src/storyline/seed';
import { KeptRecordsError, listTrailFiles, type TokenIndex } from '../../src/trail/read';
import { run } from '../cli/harness';

const INVICTUS = path.join(__dirname, '..', '..', 'events', 'invictus');

/** The shipped trail and, beside it, what breaks readers: a copy of a file (duplicate eventIDs), a cut .gz, a digest, a foreign file. */
function hostileCopy(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'parallel-'));
  const files = listTrailFiles([path.join(INVICTUS, 'cloudtrail')]);
  files.forEach((f, i) => fs.copyFileSync(f, path.join(dir, `${String(i).padStart(3, '0')}-${path.basename(f)}`)));
  fs.copyFileSync(files[3] as string, path.join(dir, '500-again.json'));
  const gz = zlib.gzipSync(fs.readFileSync(files[5] as string));
  fs.writeFileSync(path.join(dir, '501-cut.json.gz'), gz.subarray(0, Math.floor(gz.length / 2)));
  fs.writeFileSync(path.join(dir, '502_CloudTrail-Digest_x.json'), '{"digestStartTime":"x","logFiles":[]}');
  fs.writeFileSync(path.join(dir, '503-readme.txt'), 'not a trail');
  return dir;
}

test('two worker threads keep what the main thread keeps: records, order, summaries, counts, skips, index', async () => {
  const dir = hostileCopy();
  const files = listTrailFiles([dir]);
  const finding = readFinding(path.join(INVICTUS, 'finding.json'));
  const spec = selectSpec(seedTokens(finding), true);
  const read = async (workers: number) => {
    const index: TokenIndex = new Map();
    const r = await readInParallel(files, spec, { index, seen: new Set(), wholeWithin: anchorWindow(finding), workers });
    return { r, index };
  };
  const one = await read(0);
  const two = await read(2);
  expect(two.r.events.map((e) => e.eventId)).toEqual(one.r.events.map((e) => e.eventId));
  expect(two.r.events).toEqual(one.r.events);
  expect(two.r.summaries).toEqual(one.r.summaries);
  expect(two.r.stats).toEqual(one.r.stats);
  expect(two.r.cloudTrailFlags).toEqual(one.r.cloudTrailFlags);
  expect(two.r.ordinals).toEqual(one.r.ordinals);
  expect(two.index).toEqual(one.index);
  // What makes the comparison worth having: whole records, summaries, duplicates and skips.
  expect(one.r.events.length).toBeGreaterThan(10);
  expect(one.r.summaries.length).toBeGreaterThan(0);
  expect(one.r.summaries[0]?.summary).toEqual(expect.objectContaining({ eventId: expect.any(String), nodes: expect.any(Array) }));
  expect(one.r.stats.duplicateRecords).toBeGreaterThan(0);
  expect(one.r.stats.skippedReasons).toEqual(expect.objectContaining({ 'damaged-gzip': 1, 'digest-file': 1, 'not-cloudtrail': 1 }));
});

test('a summary is what its record would give: the closure row of the record read whole', async () => {
  const files = listTrailFiles([path.join(INVICTUS, 'cloudtrail')]);
  const finding = readFinding(path.join(INVICTUS, 'finding.json'));
  const summarised = await readInParallel(files, selectSpec(seedTokens(finding), true), { workers: 2 });
  const ids = new Set(summarised.summaries.map((s) => s.summary.eventId));
  const whole = await readInParallel(files, { keys: [], principals: [], sessionNames: [], eventIds: [...ids], eventNames: [], edges: false }, { workers: 0 });
  const rows = new Map(whole.events.map((ev) => [ev.eventId, closureRowOf(ev)]));
  expect(rows.size).toBe(ids.size);
  for (const s of summarised.summaries) expect(s.summary).toEqual(rows.get(s.summary.eventId));
});

test('a budget passed in a worker-thread read stops it with KeptRecordsError, as in the main thread', async () => {
  const files = listTrailFiles([path.join(INVICTUS, 'cloudtrail')]);
  // Every edge record as a summary: more than 10 of them in the trail.
  const all = { keys: [], principals: [], sessionNames: [], eventIds: [], eventNames: [], edges: true };
  await expect(readInParallel(files, all, { workers: 2, maxSummaries: 10 })).rejects.toThrow(KeptRecordsError);
  await expect(readInParallel(files, all, { workers: 0, maxSummaries: 10 })).rejects.toThrow(KeptRecordsError);
});

test('trailstory investigate --threads takes 0 to 8 threads, and gives the same storyline with any', async () => {
  const args = ['investigate', '--finding', path.join(INVICTUS, 'finding.json'), '--cloudtrail', path.join(INVICTUS, 'cloudtrail')];
  const bad = await run([...args, '--threads', 'many']);
  expect(bad.code).toBe(2);
  expect(bad.err).toMatch(/--threads "many" is not a number of threads from 0 to 8/);
  expect((await run([...args, '--threads', '9'])).code).toBe(2);
  const zero = await run([...args, '--threads', '0']);
  const three = await run([...args, '--threads', '3']);
  expect(zero.code).toBe(0);
  expect(three.out).toBe(zero.out);
});

test('the storyline of the shipped trail is the same read on two threads or one', async () => {
  const opts = { findingFile: path.join(INVICTUS, 'finding.json'), cloudtrail: [path.join(INVICTUS, 'cloudtrail')] };
  const one = await investigate({ ...opts, threads: 0 });
  const two = await investigate({ ...opts, threads: 2 });
  expect(JSON.stringify(two)).toBe(JSON.stringify(one));
  expect(one.steps.length).toBeGreaterThan(100);
});

test('files a worker thread leaves to the main thread (one to stream, one of more records than a thread holds) are read there at their turn, with the same result', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'handback-'));
  const files = listTrailFiles([path.join(INVICTUS, 'cloudtrail')]);
  files.slice(0, 6).forEach((f, i) => fs.copyFileSync(f, path.join(dir, `${i}-${path.basename(f)}`)));
  // 6,000 records of one key in one file: past THREAD_FILE_BUDGET.records.
  const recs = Array.from({ length: 6000 }, (_, i) => ({
    eventVersion: '1.08',
    userIdentity: { type: 'IAMUser', arn: 'arn:aws:iam::111122223333:user/bulk', accountId: '111122223333', accessKeyId: 'AKIABULKBULKBULK0001', userName: 'bulk' },
    eventTime: new Date(Date.UTC(2023, 6, 10, 12, 0, i % 60)).toISOString().replace('.000Z', 'Z'),
    eventSource: 's3.amazonaws.com',
    eventName: 'GetObject',
    awsRegion: 'us-east-1',
    sourceIPAddress: '203.0.113.7',
    eventID: `bulk-${i}`,
    recipientAccountId: '111122223333',
  }));
  fs.writeFileSync(path.join(dir, '7-bulk.json.gz'), zlib.gzipSync(JSON.stringify({ Records: recs })));
  const all = listTrailFiles([dir]);
  const spec = { keys: ['AKIABULKBULKBULK0001'], principals: [], sessionNames: [], eventIds: [], eventNames: [], edges: true };
  // streamAbove of 1 KiB: every file is one to stream.
  for (const streamAbove of [undefined, 1024]) {
    const index1: TokenIndex = new Map();
    const index2: TokenIndex = new Map();
    const one = await readInParallel(all, spec, { workers: 0, index: index1, streamAbove });
    const two = await readInParallel(all, spec, { workers: 2, index: index2, streamAbove });
    expect(two.events.map((e) => e.eventId)).toEqual(one.events.map((e) => e.eventId));
    expect(two.summaries).toEqual(one.summaries);
    expect(two.stats).toEqual(one.stats);
    expect(two.cloudTrailFlags).toEqual(one.cloudTrailFlags);
    expect(index2).toEqual(index1);
    expect(one.events.filter((e) => e.eventId.startsWith('bulk-'))).toHaveLength(6000);
  }
});

test('past the records one run keeps, investigate stops with one line naming the whole run\'s budgets, not what a second pass had left', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'budget-'));
  const finding = JSON.parse(fs.readFileSync(path.join(INVICTUS, 'finding.json'), 'utf8')) as Record<string, unknown>;
  const key = readFinding(path.join(INVICTUS, 'finding.json')).actor.accessKeyId as string;
  // One record of the finding's key in the first file; 121,000 of a role the key assumed in a
  // second, found only by the closure (a second pass): the first pass kept one record.
  const rec = (i: number, ui: Record<string, unknown>, name: string, extra: Record<string, unknown> = {}) => ({
    eventVersion: '1.08',
    userIdentity: ui,
    eventTime: new Date(Date.UTC(2023, 6, 10, 12, 0, i % 60)).toISOString().replace('.000Z', 'Z'),
    eventSource: 'sts.amazonaws.com',
    eventName: name,
    awsRegion: 'us-east-1',
    sourceIPAddress: '203.0.113.9',
    eventID: `ev-${name}-${i}`,
    recipientAccountId: '111122223333',
    ...extra,
  });
  const user = { type: 'IAMUser', arn: 'arn:aws:iam::111122223333:user/u', accountId: '111122223333', accessKeyId: key, userName: 'u' };
  const session = { type: 'AssumedRole', arn: 'arn:aws:sts::111122223333:assumed-role/r/s', accountId: '111122223333', accessKeyId: 'ASIABUDGETBUDGET0001', sessionContext: { sessionIssuer: { type: 'Role', arn: 'arn:aws:iam::111122223333:role/r', accountId: '111122223333', userName: 'r' } } };
  const assume = rec(0, user, 'AssumeRole', { requestParameters: { roleArn: 'arn:aws:iam::111122223333:role/r', roleSessionName: 's' }, responseElements: { credentials: { accessKeyId: 'ASIABUDGETBUDGET0001' }, assumedRoleUser: { arn: 'arn:aws:sts::111122223333:assumed-role/r/s' } } });
  fs.writeFileSync(path.join(dir, 'a.json'), JSON.stringify({ Records: [assume] }));
  fs.writeFileSync(path.join(dir, 'b.json.gz'), zlib.gzipSync(JSON.stringify({ Records: Array.from({ length: 121_000 }, (_, i) => rec(i, session, 'GetCallerIdentity')) })));
  fs.writeFileSync(path.join(dir, 'finding.json'), JSON.stringify(finding));
  const r = await run(['investigate', '--finding', path.join(dir, 'finding.json'), '--cloudtrail', dir, '--threads', '0']);
  expect(r.code).toBe(1);
  expect(r.err.trim().split('\n')).toHaveLength(1);
  expect(r.err).toMatch(/more than 120,000 records, or 64 MiB of them, would be kept for the finding's lineage .*give --cloudtrail fewer days around the finding/);
}, 60_000);
