/**
 * The input boundary (issue 10): every file the user names is opened as what it should be,
 * every decompression and every record has a byte budget, and every refusal is one line on
 * standard error naming the file. One test per cause the adversarial round found, each with
 * its input built here.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { EXIT } from '../../src/cli/main';
import { run, tempFolder, type Run } from './harness';
import type { Storyline } from '../../src/model/storyline';
import { MAX_FINDING_FILE_BYTES, MAX_JSON_DEPTH, MAX_JSON_VALUES } from '../../src/model/input-file';
import { parseFindings } from '../../src/findings/normalize';
import { KeptRecordsError, MAX_RECORD_BYTES, readTrailFiles, type RecordSelector } from '../../src/trail/read';
import { MAX_LISTED_STEPS } from '../../src/model/storyline';

const ROOT = path.resolve(__dirname, '../..');
const SCENARIO = path.join(ROOT, 'test/scenarios/x-root-console');
const FINDING = path.join(SCENARIO, 'finding.json');
const TRAIL = path.join(SCENARIO, 'cloudtrail');
const ATTACK_SEQUENCE = path.join(ROOT, 'test/fixtures/findings/attack-sequence-iam.json');
const ALL: RecordSelector = { withEventId: false, select: () => true };

// Root reads a folder whatever its mode, and Node's fs cannot be spied on: the folder named in
// LOCKED_FOLDER refuses to be listed the way it does for a user without the permission.
const LOCKED_FOLDER = { path: '' };
jest.mock('node:fs', () => {
  const real = jest.requireActual<typeof import('node:fs')>('node:fs');
  return {
    ...real,
    readdirSync: (p: import('node:fs').PathLike, o?: unknown) => {
      if (LOCKED_FOLDER.path && String(p) === LOCKED_FOLDER.path) throw Object.assign(new Error(`EACCES: permission denied, scandir '${String(p)}'`), { code: 'EACCES' });
      return (real.readdirSync as (p: import('node:fs').PathLike, o?: unknown) => unknown)(p, o);
    },
  };
});

const folder = tempFolder('trailstory-input-');
const write = folder.write;

/** A refusal: the exit code, and exactly one line on standard error naming `file`. */
function expectRefusal(r: Run, file: string, problem: RegExp, code: number = EXIT.badInput): void {
  expect(r.code).toBe(code);
  expect(r.out).toBe('');
  expect(r.err.endsWith('\n')).toBe(true);
  expect(r.err.trimEnd().split('\n')).toHaveLength(1);
  expect(r.err).toContain(file);
  expect(r.err).toMatch(problem);
  expect(r.err).not.toMatch(/internal error|\n\s+at /);
}

const RECORDS = ['trail-01.json', 'trail-02.json'].flatMap((f) => (JSON.parse(fs.readFileSync(path.join(TRAIL, f), 'utf8')) as { Records: Record<string, unknown>[] }).Records);
const TRUTH = JSON.parse(fs.readFileSync(path.join(SCENARIO, 'truth.json'), 'utf8')) as { steps: string[] };

/** The record of the x-root-console scenario's `i`-th truth step (a record the storyline reads). */
function record(i = 1): Record<string, unknown> {
  const r = RECORDS.find((x) => x.eventID === TRUTH.steps[i]);
  if (!r) throw new Error(`no record for truth step ${i}`);
  return r;
}

describe('files named on the command line are opened as what they should be', () => {
  test('a named pipe as --finding is refused at once, never read (it would block for ever)', async () => {
    const fifo = path.join(folder.dir(), 'finding.fifo');
    const made = spawnSync('mkfifo', [fifo]);
    if (made.status !== 0) return void process.stdout.write('mkfifo unavailable: FIFO case skipped\n');
    expectRefusal(await run(['investigate', '--finding', fifo, '--cloudtrail', TRAIL]), fifo, /is a named pipe, not a regular file/);
  });

  test('--finding /dev/zero is refused, not read without end', async () => {
    if (!fs.existsSync('/dev/zero')) return;
    expectRefusal(await run(['investigate', '--finding', '/dev/zero', '--cloudtrail', TRAIL]), '/dev/zero', /is a character device, not a regular file/);
  });

  test('a folder, a loop of links and a dangling link as --finding: one line each', async () => {
    const loopA = path.join(folder.dir(), 'loop-a.json');
    const loopB = path.join(folder.dir(), 'loop-b.json');
    fs.symlinkSync(loopB, loopA);
    fs.symlinkSync(loopA, loopB);
    const dangling = path.join(folder.dir(), 'dangling.json');
    fs.symlinkSync(path.join(folder.dir(), 'nowhere.json'), dangling);
    expectRefusal(await run(['investigate', '--finding', folder.dir(), '--cloudtrail', TRAIL]), folder.dir(), /is a folder, not a regular file/);
    expectRefusal(await run(['investigate', '--finding', loopA, '--cloudtrail', TRAIL]), loopA, /a loop of symbolic links \(ELOOP\)/);
    expectRefusal(await run(['investigate', '--finding', dangling, '--cloudtrail', TRAIL]), dangling, /no such file .*\(ENOENT\)/);
  });

  test('a finding file past the size limit is refused from its size, before it is read', async () => {
    const big = path.join(folder.dir(), 'huge-finding.json');
    const fd = fs.openSync(big, 'w');
    fs.ftruncateSync(fd, MAX_FINDING_FILE_BYTES + 1); // sparse: no disk used, no time spent
    fs.closeSync(fd);
    expectRefusal(await run(['investigate', '--finding', big, '--cloudtrail', TRAIL]), big, /is 32 MiB, more than the 32 MiB read at most/);
  });

  test('a named pipe, a device or a loop of links as --cloudtrail: one line naming it', async () => {
    const fifo = path.join(folder.dir(), 'trail.fifo');
    if (spawnSync('mkfifo', [fifo]).status === 0) expectRefusal(await run(['investigate', '--finding', FINDING, '--cloudtrail', fifo]), fifo, /is a named pipe, not a file or folder of CloudTrail records/);
    if (fs.existsSync('/dev/zero')) expectRefusal(await run(['investigate', '--finding', FINDING, '--cloudtrail', '/dev/zero']), '/dev/zero', /is a character device/);
    const loopA = path.join(folder.dir(), 'trail-loop-a');
    fs.symlinkSync(path.join(folder.dir(), 'trail-loop-b'), loopA);
    fs.symlinkSync(loopA, path.join(folder.dir(), 'trail-loop-b'));
    expectRefusal(await run(['investigate', '--finding', FINDING, '--cloudtrail', loopA]), loopA, /a loop of symbolic links/);
  });

  test('inside a --cloudtrail folder, a link loop, a dangling link, a pipe and an unreadable folder are skipped and counted', async () => {
    const d = path.join(folder.dir(), 'odd-folder');
    fs.mkdirSync(path.join(d, 'locked'), { recursive: true });
    fs.copyFileSync(path.join(TRAIL, 'trail-01.json'), path.join(d, 'trail-01.json'));
    fs.copyFileSync(path.join(TRAIL, 'trail-02.json'), path.join(d, 'trail-02.json'));
    fs.symlinkSync(path.join(d, 'loop-b'), path.join(d, 'loop-a'));
    fs.symlinkSync(path.join(d, 'loop-a'), path.join(d, 'loop-b'));
    fs.symlinkSync(path.join(d, 'gone.json'), path.join(d, 'dangling.json'));
    fs.symlinkSync(d, path.join(d, 'itself'));
    const havePipe = spawnSync('mkfifo', [path.join(d, 'pipe.json')]).status === 0;
    const locked = path.join(d, 'locked');
    LOCKED_FOLDER.path = locked;
    let r: Run;
    try {
      r = await run(['investigate', '--finding', FINDING, '--cloudtrail', d]);
    } finally {
      LOCKED_FOLDER.path = '';
    }
    expect(r.err).toBe('');
    expect(r.code).toBe(EXIT.ok);
    const st = JSON.parse(r.out) as Storyline;
    expect(st.steps.length).toBeGreaterThan(0);
    const skipped = Object.fromEntries(st.coverage.skippedFiles.map((s) => [path.basename(s.file), s.reason]));
    expect(skipped).toMatchObject({
      'loop-a': 'unreadable (ELOOP)',
      'loop-b': 'unreadable (ELOOP)',
      'dangling.json': 'unreadable (ENOENT)',
      itself: 'folder-read-already (a link to it)',
      locked: 'unreadable (EACCES)',
      ...(havePipe ? { 'pipe.json': 'not-a-regular-file' } : {}),
    });
  });
});

describe('a folder or a damaged file named as such', () => {
  test('a --cloudtrail folder that cannot be listed is one line with the reason, not "holds no files"', async () => {
    const locked = path.join(folder.dir(), 'locked-top');
    fs.mkdirSync(locked);
    fs.copyFileSync(path.join(TRAIL, 'trail-01.json'), path.join(locked, 'trail-01.json'));
    LOCKED_FOLDER.path = locked;
    try {
      expectRefusal(await run(['investigate', '--finding', FINDING, '--cloudtrail', locked]), locked, /cannot list the folder: permission denied \(EACCES\)/);
    } finally {
      LOCKED_FOLDER.path = '';
    }
  });

  test('a trail 1,200 folders deep is listed in one pass (realpath on every folder took over a minute)', async () => {
    let d = path.join(folder.dir(), 'deep');
    for (let i = 0; i < 1200; i++) d = path.join(d, 'd');
    fs.mkdirSync(d, { recursive: true });
    fs.copyFileSync(path.join(TRAIL, 'trail-01.json'), path.join(d, 'trail-01.json'));
    fs.copyFileSync(path.join(TRAIL, 'trail-02.json'), path.join(d, 'trail-02.json'));
    const r = await run(['investigate', '--finding', FINDING, '--cloudtrail', path.join(folder.dir(), 'deep')]);
    expect(r.err).toBe('');
    expect(r.code).toBe(EXIT.ok);
    expect((JSON.parse(r.out) as Storyline).origin?.eventId).toBe(TRUTH.steps[0]);
  });

  test('a damaged file beside good ones is named among the gaps, not only counted', async () => {
    const gz = zlib.gzipSync(fs.readFileSync(path.join(TRAIL, 'trail-02.json')));
    const d = path.join(folder.dir(), 'damaged-gap');
    write('damaged-gap/trail-01.json', fs.readFileSync(path.join(TRAIL, 'trail-01.json')));
    write('damaged-gap/trail-02.json.gz', gz.subarray(0, 40));
    const r = await run(['investigate', '--finding', FINDING, '--cloudtrail', d]);
    expect(r.code).toBe(EXIT.ok);
    const st = JSON.parse(r.out) as Storyline;
    expect(st.coverage.gaps).toContain('1 file damaged or cut (damaged-gzip): only the records before the damage were read');
  });
});

describe('records that repeat an eventID', () => {
  test('are read once and counted, with a gap saying which copy was read', async () => {
    const d = path.join(folder.dir(), 'duplicates');
    const step = record(2);
    write('duplicates/b.json', JSON.stringify({ Records: RECORDS }));
    write('duplicates/a.json', JSON.stringify({ Records: [{ ...record(1), eventName: 'GetAccountSummary', eventID: step.eventID }] }));
    const r = await run(['investigate', '--finding', FINDING, '--cloudtrail', d]);
    expect(r.code).toBe(EXIT.ok);
    const st = JSON.parse(r.out) as Storyline;
    expect(st.coverage.duplicateRecords).toBe(1);
    expect(st.coverage.gaps).toContain('1 record repeats an eventID already read (the same events from a second trail, or forged copies): each eventID is read once, from the first file in path order');
    // The copy in a.json (first in path order) is the one read, not the step of b.json.
    expect(st.steps.filter((x) => x.eventId === step.eventID).map((x) => x.eventName)).not.toContain(step.eventName);
  });
});

describe('JSON the user names is bounded in depth', () => {
  const nested = (n: number, open: string, close: string, inner: string) => `${open.repeat(n)}${inner}${close.repeat(n)}`;

  test('an --event-map nested 10,000 levels is one line, not a stack overflow', async () => {
    const map = write('deep-map.json', `{"GetCallerIdentity": ${nested(10_000, '[', ']', '"TA0043"')}}`);
    expectRefusal(await run(['investigate', '--finding', FINDING, '--cloudtrail', TRAIL, '--event-map', map]), map, new RegExp(`nested more than ${MAX_JSON_DEPTH} levels`));
  });

  test('a finding nested 10,000 levels is one line', async () => {
    const f = write('deep-finding.json', nested(10_000, '{"a":', '}', '1'));
    expectRefusal(await run(['investigate', '--finding', f, '--cloudtrail', TRAIL]), f, /nested more than 64 levels/);
  });

  test('a finding of a million empty objects is refused from its bytes, before a parse that would take gigabytes', async () => {
    const f = write('many-values.json', `[${'{},'.repeat(MAX_JSON_VALUES)}{}]`);
    expectRefusal(await run(['investigate', '--finding', f, '--cloudtrail', TRAIL]), f, /holds more than 1,000,000 JSON values/);
  });

  test('a trail document past the value budget is not parsed whole: read as lines, each line within the record budget', async () => {
    const f = write('many-events.json', `{"eventVersion":"1.08","eventID":"x","requestParameters":{"a":[${'{},'.repeat(MAX_JSON_VALUES)}{}]}}`);
    expectRefusal(await run(['investigate', '--finding', FINDING, '--cloudtrail', f]), f, /no CloudTrail record could be read \(1 record skipped: malformed-record \(larger than 1 MiB\)\)/);
  });

  test('LookupEvents output is read an element at a time, whole or streamed, each record within its budget', async () => {
    const recs = [record(1), record(2), { ...record(3), userAgent: 'L'.repeat(MAX_RECORD_BYTES) }];
    const events = recs.map((r) => ({ EventId: r.eventID, CloudTrailEvent: JSON.stringify(r) }));
    for (const [name, streamAbove, text] of [
      ['whole', Number.MAX_SAFE_INTEGER, JSON.stringify({ Events: events }, null, 4)],
      ['streamed', 0, JSON.stringify({ Events: events }, null, 4)],
      ['not-first', Number.MAX_SAFE_INTEGER, JSON.stringify({ NextToken: 'x"]}', Events: events })],
    ] as const) {
      const f = write(`lookup-${name}.json`, text);
      const r = await readTrailFiles([f], ALL, { streamAbove });
      expect(r.events.map((e) => e.eventId)).toEqual([record(1).eventID, record(2).eventID]);
      expect(r.stats.skippedReasons).toEqual({ 'malformed-record (larger than 1 MiB)': 1 });
      expect(r.stats.recordsRead).toBe(3);
    }
  });

  test('a lone record or a Records array that is not the first key keeps the record budget', async () => {
    const huge = { ...record(1), eventID: 'huge-1', userAgent: 'H'.repeat(MAX_RECORD_BYTES) };
    const lone = write('lone-huge.json', JSON.stringify(huge));
    const notFirst = write('not-first.json', JSON.stringify({ x: [{ Records: 'a"]}' }], Records: [record(2), huge] }));
    const a = await readTrailFiles([lone], ALL);
    expect(a.events).toEqual([]);
    expect(a.stats.skippedReasons).toEqual({ 'malformed-record (larger than 1 MiB)': 1 });
    const b = await readTrailFiles([notFirst], ALL);
    expect(b.events.map((e) => e.eventId)).toEqual([record(2).eventID]);
    expect(b.stats.skippedReasons).toEqual({ 'malformed-record (larger than 1 MiB)': 1 });
  });

  test('an event map entry with a 1 MB value is refused with a short line', async () => {
    const map = write('long-map.json', JSON.stringify({ ['X'.repeat(1_000_000)]: 'y'.repeat(1_000_000) }));
    const r = await run(['investigate', '--finding', FINDING, '--cloudtrail', TRAIL, '--event-map', map]);
    expectRefusal(r, map, /needs an ATT&CK Enterprise tactic ID/);
    expect(r.err.length).toBeLessThan(map.length + 400);
  });
});

describe('names from the input are data, never Object.prototype', () => {
  test.each(['toString', 'constructor', '__proto__', 'hasOwnProperty'])('an attack-sequence indicator keyed %s is read as an indicator', async (key) => {
    const doc = JSON.parse(fs.readFileSync(ATTACK_SEQUENCE, 'utf8')) as unknown;
    const text = JSON.stringify(doc).replace(/"key":"[A-Z_]+"/g, `"key":${JSON.stringify(key)}`);
    expect(text).toContain(`"key":${JSON.stringify(key)}`);
    const f = write(`seq-${key}.json`, text);
    const finding = parseFindings(JSON.parse(text), f)[0];
    const indicators = finding?.attackSequence?.indicators as Record<string, string[]> | undefined;
    expect(Object.keys(indicators ?? {})).toEqual([key]);
    expect(Array.isArray(indicators?.[key])).toBe(true);
    const r = await run(['investigate', '--finding', f, '--cloudtrail', TRAIL]);
    expect(r.err).toBe('');
    expect(r.code).toBe(EXIT.ok);
  });

  test('an attack sequence naming 20,000 actors is read in one pass over the records (it took minutes)', async () => {
    const doc = JSON.parse(fs.readFileSync(ATTACK_SEQUENCE, 'utf8')) as { service: { detection: { sequence: { actors: unknown[] } } } };
    const n = 20_000;
    doc.service.detection.sequence.actors = Array.from({ length: n }, (_, i) => ({
      id: `user:IAMUser:AIDA${String(i).padStart(16, '0')}`,
      user: { name: `u${i}`, uid: `AIDA${String(i).padStart(16, '0')}`, type: 'IAMUser', credentialUid: `AKIA${String(i).padStart(16, '0')}`, account: { uid: '210987654321' } },
    }));
    const f = write('many-actors.json', JSON.stringify(doc));
    const finding = parseFindings(JSON.parse(fs.readFileSync(f, 'utf8')), f)[0];
    const keys = finding?.attackSequence?.accessKeyIds ?? [];
    expect(keys.filter((k) => /^AKIA\d{16}$/.test(k))).toHaveLength(n);
    expect(new Set(keys).size).toBe(keys.length);
    expect(new Set(finding?.attackSequence?.actorArns).size).toBe(finding?.attackSequence?.actorArns.length);
    const recs = Array.from({ length: n }, (_, i) => ({
      eventVersion: '1.08', eventID: `actor-${i}`, eventTime: new Date(Date.parse('2025-02-25T20:00:00Z') + i * 1000).toISOString().replace('.000', ''),
      eventName: 'ListUsers', eventSource: 'iam.amazonaws.com', awsRegion: 'us-east-1', sourceIPAddress: '198.51.100.7', recipientAccountId: '210987654321',
      userIdentity: { type: 'IAMUser', principalId: `AIDA${String(i).padStart(16, '0')}`, arn: `arn:aws:iam::210987654321:user/u${i}`, accountId: '210987654321', accessKeyId: `AKIA${String(i).padStart(16, '0')}`, userName: `u${i}` },
    }));
    const t = write('many-actors-trail.json', JSON.stringify({ Records: recs }));
    const r = await run(['investigate', '--finding', f, '--cloudtrail', t]);
    expect(r.err).toBe('');
    expect(r.code).toBe(EXIT.ok);
    expect((JSON.parse(r.out) as Storyline).steps).toHaveLength(n);
  });

  test('a record whose eventName is an Object.prototype name gets no tactic, not a crash', async () => {
    const recs = ['constructor', 'toString', '__proto__'].map((name, i) => ({ ...record(2), eventID: `proto-${i}`, eventName: name }));
    const d = path.join(folder.dir(), 'proto-names');
    write('proto-names/trail-01.json', fs.readFileSync(path.join(TRAIL, 'trail-01.json')));
    write('proto-names/trail-02.json', fs.readFileSync(path.join(TRAIL, 'trail-02.json')));
    write('proto-names/proto.json', JSON.stringify({ Records: recs }));
    const r = await run(['investigate', '--finding', FINDING, '--cloudtrail', d]);
    expect(r.err).toBe('');
    expect(r.code).toBe(EXIT.ok);
    const st = JSON.parse(r.out) as Storyline;
    const steps = st.steps.filter((s) => s.eventId.startsWith('proto-'));
    expect(steps.map((s) => s.eventName).sort()).toEqual(['__proto__', 'constructor', 'toString']);
    for (const s of steps) expect(s.tactic).toBeNull();
  });
});

describe('every decompression and every record has a byte budget', () => {
  const rec = (i: number) => ({ ...record(), eventID: `budget-${i}` });

  test.each([
    ['whole', Number.MAX_SAFE_INTEGER],
    ['streamed', 0],
  ])('a record past 1 MiB is skipped and counted, the records around it read (%s)', async (_how, streamAbove) => {
    const huge = { ...rec(1), userAgent: 'A'.repeat(MAX_RECORD_BYTES) };
    for (const [name, text] of [
      ['records.json', JSON.stringify({ Records: [rec(0), huge, rec(2)] })],
      ['lines.jsonl', [rec(0), huge, rec(2)].map((x) => JSON.stringify(x)).join('\n')],
    ] as const) {
      const f = write(`budget-${streamAbove}-${name}`, text);
      const r = await readTrailFiles([f], ALL, { streamAbove });
      expect(r.events.map((e) => e.eventId)).toEqual(['budget-0', 'budget-2']);
      expect(r.stats.skippedReasons).toEqual({ 'malformed-record (larger than 1 MiB)': 1 });
      expect(r.stats.recordsRead).toBe(3);
      expect(r.stats.recordsSkipped).toBe(1);
    }
  });

  test('a gzipped file that inflates past the budget is cut there and counted damaged; the records before are kept', async () => {
    const lines = Array.from({ length: 4000 }, (_, i) => JSON.stringify(rec(i))).join('\n');
    const f = write('bomb.jsonl.gz', zlib.gzipSync(lines));
    const budget = 256 * 1024;
    expect(lines.length).toBeGreaterThan(4 * budget);
    const r = await readTrailFiles([f], ALL, { maxDecompressed: budget });
    expect(r.stats.skippedReasons).toEqual({ 'decompressed-too-large (past 256 KiB)': 1 });
    expect(r.stats.filesSkipped).toBe(1);
    // Only records wholly inside the budget (the stream's chunks may stop a little short of it).
    expect(r.events.length).toBeGreaterThan(0);
    expect(r.events.length).toBeLessThan(Math.ceil(budget / (lines.length / 4000)) + 1);
    expect(r.events.map((e) => e.eventId)).toEqual(Array.from({ length: r.events.length }, (_, i) => `budget-${i}`));
  });

  test('times before CloudTrail (2013) or after 2100 make a record malformed, and never stretch the coverage', async () => {
    const f = write('times.json', JSON.stringify({ Records: [{ ...rec(0), eventTime: '9999-12-31T23:59:59Z' }, { ...rec(1), eventTime: '1970-01-01T00:00:00Z' }, { ...rec(2), eventTime: '2100-01-01T00:00:00Z' }, rec(3)] }));
    const r = await readTrailFiles([f], ALL);
    expect(r.events.map((e) => e.eventId)).toEqual(['budget-3']);
    expect(r.stats.skippedReasons).toEqual({ 'malformed-record (eventTime-out-of-range)': 3 });
    expect(r.stats.minTime).toBe(r.stats.maxTime);
    expect(r.stats.maxTime?.startsWith('20')).toBe(true);
  });
});

describe('no record at all is an error', () => {
  test('a truncated .json.gz as the only input exits 1 with one line saying no record could be read', async () => {
    const gz = zlib.gzipSync(fs.readFileSync(path.join(TRAIL, 'trail-02.json')));
    const cut = write('only-cut/trail.json.gz', gz.subarray(0, 40));
    expectRefusal(await run(['investigate', '--finding', FINDING, '--cloudtrail', cut]), cut, /no CloudTrail record could be read \(1 file skipped: damaged-gzip\)/);
  });

  test('only malformed records: exit 1, the reasons named', async () => {
    const f = write('only-bad.json', JSON.stringify({ Records: [{ ...record(1), eventTime: '9999-01-01T00:00:00Z' }, { ...record(2), eventTime: 'yesterday' }] }));
    expectRefusal(await run(['investigate', '--finding', FINDING, '--cloudtrail', f]), f, /no CloudTrail record could be read \(2 records skipped: malformed-record \(eventTime-out-of-range\), malformed-record \(bad-eventTime\)\)/);
  });

  test.each([
    ['empty-records.json', '{"Records":[]}'],
    ['empty-array.json', '[]'],
    ['empty-lookup.json', '{"Events":[]}'],
  ])('%s: a trail without a single record exits 1 with one line', async (name, text) => {
    const f = write(name, text);
    expectRefusal(await run(['investigate', '--finding', FINDING, '--cloudtrail', f]), f, /no CloudTrail record could be read \(the files hold no records\)/);
  });
});

describe('what an attacker controls does not grow the run without bound', () => {
  const rec = (i: number, at: number) => ({ ...record(), eventID: `many-${String(i).padStart(6, '0')}`, eventTime: new Date(at + i * 1000).toISOString().replace('.000', '') });

  test.each([
    ['whole', Number.MAX_SAFE_INTEGER],
    ['streamed', 0],
  ])('a read that would keep more than its limit of records stops with KeptRecordsError (%s)', async (_how, streamAbove) => {
    const f = write(`kept-${streamAbove}.json`, JSON.stringify({ Records: Array.from({ length: 12 }, (_, i) => rec(i, Date.parse('2025-12-01T00:00:00Z'))) }));
    await expect(readTrailFiles([f], ALL, { streamAbove, maxKept: 12 })).resolves.toMatchObject({ events: expect.any(Array) });
    await expect(readTrailFiles([f], ALL, { streamAbove, maxKept: 11 })).rejects.toThrow(KeptRecordsError);
    await expect(readTrailFiles([f], ALL, { streamAbove, maxKept: 11 })).rejects.toThrow(/more than 11 records, or 64 MiB of them, would be kept for the finding's lineage/);
  });

  test.each([
    ['whole', Number.MAX_SAFE_INTEGER],
    ['streamed', 0],
  ])('records forged large stop the read at their byte budget, not only at their count (%s)', async (_how, streamAbove) => {
    const big = Array.from({ length: 6 }, (_, i) => ({ ...rec(i, Date.parse('2025-12-01T00:00:00Z')), userAgent: 'U'.repeat(100_000) }));
    const lines = big.map((x) => JSON.stringify(x));
    const f = write(`kept-bytes-${streamAbove}.jsonl`, lines.join('\n'));
    const all = await readTrailFiles([f], ALL, { streamAbove });
    expect(all.keptBytes).toBe(lines.reduce((n, l) => n + Buffer.byteLength(l), 0));
    await expect(readTrailFiles([f], ALL, { streamAbove, maxKeptBytes: all.keptBytes })).resolves.toMatchObject({ keptBytes: all.keptBytes });
    await expect(readTrailFiles([f], ALL, { streamAbove, maxKeptBytes: all.keptBytes - 1 })).rejects.toThrow(KeptRecordsError);
  });

  test(`past ${MAX_LISTED_STEPS.toLocaleString('en-US')} steps, the earliest are listed and the rest counted, the origin kept`, async () => {
    const base = Date.parse(String(record().eventTime));
    const extra = MAX_LISTED_STEPS + 7;
    const d = path.join(folder.dir(), 'many-steps');
    write('many-steps/trail-01.json', fs.readFileSync(path.join(TRAIL, 'trail-01.json')));
    write('many-steps/trail-02.json', fs.readFileSync(path.join(TRAIL, 'trail-02.json')));
    write('many-steps/many.json', JSON.stringify({ Records: Array.from({ length: extra }, (_, i) => rec(i, base + 1000)) }));
    const whole = await run(['investigate', '--finding', FINDING, '--cloudtrail', TRAIL]);
    const truthSteps = (JSON.parse(whole.out) as Storyline).steps.length;
    const r = await run(['investigate', '--finding', FINDING, '--cloudtrail', d]);
    expect(r.err).toBe('');
    expect(r.code).toBe(EXIT.ok);
    const st = JSON.parse(r.out) as Storyline;
    expect(st.steps).toHaveLength(MAX_LISTED_STEPS);
    expect(st.coverage.stepsNotListed).toBe(truthSteps + extra - MAX_LISTED_STEPS);
    expect(st.origin?.eventId).toBe(TRUTH.steps[0]);
    expect(st.steps[0]?.eventId).toBe(TRUTH.steps[0]);
    const times = st.steps.map((x) => x.eventTime);
    expect([...times].sort()).toEqual(times);
    expect(st.coverage.gaps.some((g) => g.includes(`later steps, after ${times[times.length - 1]}, are not listed`))).toBe(true);
  });
});
