/**
 * The `trailstory investigate` command as shared/design/storyline-contract.md ("The command")
 * fixes it: JSON storyline on standard output and exit 0; bad input exits non-zero with ONE
 * line on standard error naming the file; several findings without --finding-id exit 2 and
 * list the ids one a line; usage errors exit 2.
 *
 * Runs `main(argv, io)` in-process, plus one run of `node bin/trailstory.js` as a child
 * process to prove the installed bin works.
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { EXIT, main } from '../../src/cli/main';
import { run, tempFolder } from './harness';
import type { Storyline } from '../../src/model/storyline';

const ROOT = path.resolve(__dirname, '../..');
const SCENARIO = path.join(ROOT, 'test/scenarios/x-root-console');
const FINDING = path.join(SCENARIO, 'finding.json');
const TRAIL = path.join(SCENARIO, 'cloudtrail');
const FIXTURES = path.join(ROOT, 'test/fixtures/findings');
const TWO_FINDINGS = path.join(FIXTURES, 'securityhub-custom-action-two-findings.json');
const CLOUDTRAIL_API_CALL_EVENT = path.join(FIXTURES, 'eventbridge-cloudtrail-api-call.json');

interface Truth {
  origin: string;
  lineage: string[];
}
const truth = JSON.parse(fs.readFileSync(path.join(SCENARIO, 'truth.json'), 'utf8')) as Truth;

/** Non-empty lines of a text. */
function lines(text: string): string[] {
  return text.split('\n').filter((l) => l.trim().length > 0);
}

const folder = tempFolder('trailstory-cli-');
const write = folder.write;

describe('--version', () => {
  test.each(['--version', '-V'])('%s prints the package version and exits 0', async (flag) => {
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(pkg.version).toMatch(/^\d+\.\d+\.\d+/);
    const r = await run([flag]);
    expect(r).toEqual({ code: EXIT.ok, out: `${pkg.version}\n`, err: '' });
  });
});

describe('investigate: happy path on x-root-console', () => {
  test('--format json prints the storyline contract and exits 0', async () => {
    const r = await run(['investigate', '--finding', FINDING, '--cloudtrail', TRAIL, '--format', 'json']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const st = JSON.parse(r.out) as Storyline;
    expect(st.schemaVersion).toBe('1');
    expect(st.origin?.eventId).toBe(truth.origin);
    expect(st.finding.id).toBe('14e41974791459ced5017e66fffa1e58');
    expect(st.finding.type).toBe('Policy:IAMUser/RootCredentialUsage');
    expect(st.finding.accountId).toBe('242424242424');
    expect(st.lineage).toEqual(expect.arrayContaining(truth.lineage));
    expect(st.coverage.recordsRead).toBeGreaterThan(0);
  });

  test('json is the default format', async () => {
    const r = await run(['investigate', '--finding', FINDING, '--cloudtrail', TRAIL]);
    expect(r.code).toBe(0);
    expect((JSON.parse(r.out) as Storyline).origin?.eventId).toBe(truth.origin);
  });

  test('--format text names the Origin and its eventId', async () => {
    const r = await run(['investigate', '--finding', FINDING, '--cloudtrail', TRAIL, '--format', 'text']);
    expect(r.code).toBe(0);
    expect(r.err).toBe('');
    expect(r.out).toContain('Origin');
    expect(r.out).toContain(truth.origin);
    const originLine = r.out.split('\n').find((l) => l.startsWith('Origin'));
    expect(originLine).toContain(truth.origin);
  });

  test('--format mermaid prints a flowchart', async () => {
    const r = await run(['investigate', '--finding', FINDING, '--cloudtrail', TRAIL, '--format', 'mermaid']);
    expect(r.code).toBe(0);
    expect(r.err).toBe('');
    expect(r.out.startsWith('flowchart LR')).toBe(true);
    expect(lines(r.out).length).toBeGreaterThan(3);
  });

  test('--cloudtrail repeated with a single file each reads both', async () => {
    const files = fs.readdirSync(TRAIL).sort().map((f) => path.join(TRAIL, f));
    expect(files.length).toBe(2);
    const argv = ['investigate', '--finding', FINDING];
    for (const f of files) argv.push('--cloudtrail', f);
    const r = await run(argv);
    expect(r.code).toBe(0);
    const st = JSON.parse(r.out) as Storyline;
    expect(st.coverage.filesRead).toBe(2);
    expect(st.origin?.eventId).toBe(truth.origin);
  });
});

describe('investigate: the bin as a child process', () => {
  test('node bin/trailstory.js investigate prints the storyline and exits 0', () => {
    expect(fs.existsSync(path.join(ROOT, 'dist/src/cli/main.js'))).toBe(true); // run `npx tsc -p tsconfig.build.json` first
    const p = spawnSync(process.execPath, ['bin/trailstory.js', 'investigate', '--finding', FINDING, '--cloudtrail', TRAIL, '--format', 'json'], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(p.stderr).toBe('');
    expect(p.status).toBe(0);
    const st = JSON.parse(p.stdout) as Storyline;
    expect(st.schemaVersion).toBe('1');
    expect(st.origin?.eventId).toBe(truth.origin);
  });

  test('a reader that stops early (| head) ends the run quietly, exit 0', async () => {
    // The Invictus storyline as JSON: megabytes, far more than a pipe holds.
    const invictus = path.join(ROOT, 'events/invictus');
    const child = spawn(process.execPath, ['bin/trailstory.js', 'investigate', '--finding', path.join(invictus, 'finding.json'), '--cloudtrail', path.join(invictus, 'cloudtrail'), '--format', 'json'], { cwd: ROOT });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    // Read the first chunk, then close the pipe as `head -c` does.
    await new Promise<void>((resolve) => child.stdout.once('data', () => (child.stdout.destroy(), resolve())));
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    expect(err).toBe('');
    expect(code).toBe(0);
  }, 60_000);
});

describe('investigate: bad input exits non-zero with one line naming the file', () => {
  /** Runs with a bad finding or trail and checks the one-line error naming `named`. */
  async function expectBadInput(argv: string[], named: string, problem?: RegExp): Promise<string> {
    const r = await run(argv);
    expect(r.code).toBe(EXIT.badInput);
    expect(r.code).not.toBe(0);
    expect(r.out).toBe('');
    const errLines = lines(r.err);
    expect(errLines).toHaveLength(1);
    const line = errLines[0] as string;
    expect(line).toContain(named);
    if (problem) expect(line).toMatch(problem);
    return line;
  }

  test('a finding file that does not exist', async () => {
    const missing = path.join(folder.dir(), 'no-such-finding.json');
    await expectBadInput(['investigate', '--finding', missing, '--cloudtrail', TRAIL], missing, /ENOENT|cannot read/);
  });

  test('a finding file that is not JSON', async () => {
    const f = write('not-json.json', 'this is { not JSON\n');
    await expectBadInput(['investigate', '--finding', f, '--cloudtrail', TRAIL], f, /not valid JSON/);
  });

  test('a finding file with terminal escapes in its bad JSON: one line, no control character', async () => {
    const f = write('escape.json', '{"a":\u001b]0;pwned\u0007 1}\n');
    const line = await expectBadInput(['investigate', '--finding', f, '--cloudtrail', TRAIL], f, /not valid JSON/);
    // eslint-disable-next-line no-control-regex
    expect(line).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
  });

  test('a finding path with a line break in its name: one line', async () => {
    const f = path.join(folder.dir(), 'two\nlines.json');
    const r = await run(['investigate', '--finding', f, '--cloudtrail', TRAIL]);
    expect(r.code).toBe(EXIT.badInput);
    expect(r.err.trimEnd().split('\n')).toHaveLength(1);
    expect(r.err).toContain('two lines.json');
  });

  test('a finding file that starts with a UTF-8 byte order mark is read', async () => {
    const f = write('bom-finding.json', `\ufeff${fs.readFileSync(FINDING, 'utf8')}`);
    const r = await run(['investigate', '--finding', f, '--cloudtrail', TRAIL]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect((JSON.parse(r.out) as Storyline).origin?.eventId).toBe(truth.origin);
  });

  test('a finding file that is a CloudTrail {"Records":[]} file', async () => {
    const f = write('records.json', '{"Records":[]}');
    await expectBadInput(['investigate', '--finding', f, '--cloudtrail', TRAIL], f, /CloudTrail/);
  });

  test('a finding file that is JSON of no finding form', async () => {
    const f = write('object.json', '{"hello":"world"}');
    await expectBadInput(['investigate', '--finding', f, '--cloudtrail', TRAIL], f);
  });

  test('an aws.guardduty event of detail-type "AWS API Call via CloudTrail" (pitfall 1)', async () => {
    const doc = JSON.parse(fs.readFileSync(CLOUDTRAIL_API_CALL_EVENT, 'utf8')) as Record<string, unknown>;
    expect(doc.source).toBe('aws.guardduty');
    expect(doc['detail-type']).toBe('AWS API Call via CloudTrail');
    await expectBadInput(['investigate', '--finding', CLOUDTRAIL_API_CALL_EVENT, '--cloudtrail', TRAIL], CLOUDTRAIL_API_CALL_EVENT, /AWS API Call via CloudTrail/);
  });

  test('a --cloudtrail path that does not exist', async () => {
    const missing = path.join(folder.dir(), 'no-such-trail');
    await expectBadInput(['investigate', '--finding', FINDING, '--cloudtrail', missing], missing, /no such file/);
  });

  test('a --cloudtrail path that does not exist, next to one that does', async () => {
    const missing = path.join(folder.dir(), 'no-such-trail-2');
    await expectBadInput(['investigate', '--finding', FINDING, '--cloudtrail', TRAIL, '--cloudtrail', missing], missing);
  });

  test('an empty --cloudtrail folder', async () => {
    const d = path.join(folder.dir(), 'empty-folder');
    fs.mkdirSync(d, { recursive: true });
    await expectBadInput(['investigate', '--finding', FINDING, '--cloudtrail', d], d);
  });

  test('a --cloudtrail folder of only a README.txt and a text file', async () => {
    const d = path.join(folder.dir(), 'foreign-text');
    write('foreign-text/README.txt', 'CloudTrail logs will be copied here.\n');
    write('foreign-text/notes.md', '# notes\n');
    await expectBadInput(['investigate', '--finding', FINDING, '--cloudtrail', d], d, /no CloudTrail file/);
  });

  // A digest file is "not CloudTrail" by the contract: a folder of only a README.txt and a
  // digest file is bad input.
  test('a --cloudtrail folder of only a README.txt and a digest file (digest by its AWSLogs path)', async () => {
    const d = path.join(folder.dir(), 'foreign-digest-path');
    write('foreign-digest-path/README.txt', 'CloudTrail logs will be copied here.\n');
    const digest = {
      awsAccountId: '242424242424',
      digestStartTime: '2025-12-12T02:00:00Z',
      digestEndTime: '2025-12-12T03:00:00Z',
      digestS3Bucket: 'trail-bucket',
      logFiles: [],
    };
    write(
      'foreign-digest-path/AWSLogs/242424242424/CloudTrail-Digest/us-east-1/2025/12/12/242424242424_CloudTrail-Digest_us-east-1_main_us-east-1_20251212T030000Z.json.gz',
      zlib.gzipSync(JSON.stringify(digest)),
    );
    await expectBadInput(['investigate', '--finding', FINDING, '--cloudtrail', d], d);
  });

  test('a --cloudtrail folder of only a README.txt and a digest file (digest by its content)', async () => {
    const d = path.join(folder.dir(), 'foreign-digest-content');
    write('foreign-digest-content/README.txt', 'CloudTrail logs will be copied here.\n');
    write('foreign-digest-content/digest.json', JSON.stringify({ awsAccountId: '242424242424', digestStartTime: '2025-12-12T02:00:00Z', logFiles: [] }));
    await expectBadInput(['investigate', '--finding', FINDING, '--cloudtrail', d], d);
  });

  /** The gzip of trail-02.json cut in half. */
  function truncatedGzip(): Buffer {
    const gz = zlib.gzipSync(fs.readFileSync(path.join(TRAIL, 'trail-02.json')));
    return gz.subarray(0, Math.floor(gz.length / 2));
  }

  test('a truncated .json.gz in a folder next to good files: skipped, counted in coverage, exit 0', async () => {
    const d = path.join(folder.dir(), 'with-damaged');
    fs.copyFileSync(path.join(TRAIL, 'trail-01.json'), write('with-damaged/trail-01.json', ''));
    fs.copyFileSync(path.join(TRAIL, 'trail-02.json'), write('with-damaged/trail-02.json', ''));
    const damaged = write('with-damaged/trail-03.json.gz', truncatedGzip());
    const r = await run(['investigate', '--finding', FINDING, '--cloudtrail', d]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const st = JSON.parse(r.out) as Storyline;
    expect(st.origin?.eventId).toBe(truth.origin);
    expect(st.coverage.skippedReasons['damaged-gzip']).toBe(1);
    expect(st.coverage.skippedFiles).toContainEqual({ file: damaged, reason: 'damaged-gzip' });
  });

  // A damaged file (a truncated .json.gz) is skipped, counted and never fatal, whatever its name.
  test('a truncated .json.gz given as its own --cloudtrail path next to a good one: not fatal', async () => {
    const damaged = write('damaged-alone/trail-02.json.gz', truncatedGzip());
    const r = await run(['investigate', '--finding', FINDING, '--cloudtrail', path.join(TRAIL, 'trail-01.json'), '--cloudtrail', damaged]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const st = JSON.parse(r.out) as Storyline;
    expect(st.coverage.skippedReasons['damaged-gzip']).toBe(1);
  });

  test('foreign files next to real CloudTrail are skipped, not fatal', async () => {
    const d = path.join(folder.dir(), 'mixed');
    write('mixed/README.txt', 'hello\n');
    fs.copyFileSync(path.join(TRAIL, 'trail-01.json'), write('mixed/trail-01.json', ''));
    fs.copyFileSync(path.join(TRAIL, 'trail-02.json'), write('mixed/trail-02.json', ''));
    const r = await run(['investigate', '--finding', FINDING, '--cloudtrail', d]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const st = JSON.parse(r.out) as Storyline;
    expect(st.origin?.eventId).toBe(truth.origin);
    expect(st.coverage.skippedReasons['not-cloudtrail']).toBe(1);
    expect(st.coverage.skippedFiles).toContainEqual({ file: path.join(d, 'README.txt'), reason: 'not-cloudtrail' });
  });
});

describe('investigate: a file of several findings', () => {
  const ids = ['9d1e6a0f2b3c4d5e6f7a8b9c0d1e2f3a', 'ae2f7b1a3c4d5e6f7a8b9c0d1e2f3a4b'];

  test('2,000 findings without --finding-id: exit 2, the first 100 ids a line each and a count of the rest', async () => {
    const event = JSON.parse(fs.readFileSync(TWO_FINDINGS, 'utf8')) as { detail: { findings: Record<string, unknown>[] } };
    const first = event.detail.findings[0] as Record<string, unknown>;
    const prefix = String(first.Id).slice(0, -32);
    event.detail.findings = Array.from({ length: 2_000 }, (_, i) => ({ ...first, Id: `${prefix}${i.toString(16).padStart(32, '0')}` }));
    const file = write('two-thousand-findings.json', JSON.stringify(event));
    const r = await run(['investigate', '--finding', file, '--cloudtrail', TRAIL]);
    expect(r.code).toBe(2);
    const errLines = lines(r.err);
    expect(errLines[0]).toMatch(/holds 2000 findings; choose one with --finding-id: .*, … \(1990 more\)$/);
    expect(errLines).toHaveLength(1 + 100 + 1);
    expect(errLines[1]).toBe('0'.repeat(32));
    expect(errLines[101]).toBe('… and 1900 more');
  });

  test('without --finding-id: exit 2 and each id on its own line of stderr', async () => {
    const r = await run(['investigate', '--finding', TWO_FINDINGS, '--cloudtrail', TRAIL]);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    const errLines = lines(r.err);
    for (const id of ids) expect(errLines).toContain(id);
    expect(errLines[0]).toContain(TWO_FINDINGS);
  });

  test.each(ids)('with --finding-id %s: exit 0 and finding.id matches', async (id) => {
    const r = await run(['investigate', '--finding', TWO_FINDINGS, '--finding-id', id, '--cloudtrail', TRAIL]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect((JSON.parse(r.out) as Storyline).finding.id).toBe(id);
  });

  test('with --finding-id given as the finding ARN: exit 0 and finding.id is the id', async () => {
    const id = ids[1] as string;
    const arn = `arn:aws:guardduty:us-east-1:123456789012:detector/5ec4b3a2f1e0d9c8b7a6f5e4d3c2b1a0/finding/${id}`;
    const r = await run(['investigate', '--finding', TWO_FINDINGS, '--finding-id', arn, '--cloudtrail', TRAIL]);
    expect(r.code).toBe(0);
    expect((JSON.parse(r.out) as Storyline).finding.id).toBe(id);
  });

  test('with a --finding-id that is not in the file: exit 1, one line naming the file', async () => {
    const r = await run(['investigate', '--finding', TWO_FINDINGS, '--finding-id', 'ffffffffffffffffffffffffffffffff', '--cloudtrail', TRAIL]);
    expect(r.code).toBe(EXIT.badInput);
    expect(lines(r.err)).toHaveLength(1);
    expect(r.err).toContain(TWO_FINDINGS);
    expect(r.err).toContain('ffffffffffffffffffffffffffffffff');
  });
});

describe('investigate: a trail folder with links', () => {
  test('a dangling link and a link loop are counted in coverage; the storyline is the same', async () => {
    const dir = path.join(folder.dir(), 'linked-trail');
    fs.cpSync(TRAIL, dir, { recursive: true });
    fs.symlinkSync(path.join(dir, 'missing.json'), path.join(dir, 'dangling.json'));
    fs.symlinkSync('.', path.join(dir, 'loop'));
    const r = await run(['investigate', '--finding', FINDING, '--cloudtrail', dir, '--format', 'json']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const st = JSON.parse(r.out) as Storyline;
    expect(st.origin?.eventId).toBe(truth.origin);
    expect(st.coverage.skippedReasons).toMatchObject({ 'unreadable (ENOENT)': 1, 'folder-read-already (a link to it)': 1 });
    expect(st.coverage.filesSkipped).toBe(2);
  });
});

describe('investigate: usage', () => {
  test('no options at all: exit 2 naming the missing option', async () => {
    const r = await run(['investigate']);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toMatch(/required option '--finding <file>' not specified/);
  });

  test('missing --cloudtrail: exit 2', async () => {
    const r = await run(['investigate', '--finding', FINDING]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--cloudtrail/);
  });

  test('missing --finding: exit 2', async () => {
    const r = await run(['investigate', '--cloudtrail', TRAIL]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--finding/);
  });

  test('--width fits the text to the columns asked; the terminal\'s width otherwise', async () => {
    const narrow = await run(['investigate', '--finding', FINDING, '--cloudtrail', TRAIL, '--format', 'text', '--width', '50']);
    expect(narrow.code).toBe(0);
    for (const l of narrow.out.split('\n')) if (l.length > 50) expect(l.trim()).not.toMatch(/\s/);
    expect(narrow.out).toContain(truth.origin);
    let wide = '';
    const code = await main(['investigate', '--finding', FINDING, '--cloudtrail', TRAIL, '--format', 'text'], { out: (x) => (wide += x), err: () => undefined, columns: 200 });
    expect(code).toBe(0);
    expect(Math.max(...wide.split('\n').map((l) => l.length))).toBeGreaterThan(80);
    expect(wide.split('\n').length).toBeLessThan(narrow.out.split('\n').length);
  });

  test.each(['10', 'wide', '1e9', '1e2', '0x40', ' 50', '3.5', ''])('--width %p: exit 2', async (w) => {
    const r = await run(['investigate', '--finding', FINDING, '--cloudtrail', TRAIL, '--format', 'text', '--width', w]);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toContain('--width');
  });

  test('an unknown --format: exit 2', async () => {
    const r = await run(['investigate', '--finding', FINDING, '--cloudtrail', TRAIL, '--format', 'yaml']);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toContain('yaml');
  });

  test('an unknown option: exit 2', async () => {
    const r = await run(['investigate', '--finding', FINDING, '--cloudtrail', TRAIL, '--no-such-option']);
    expect(r.code).toBe(2);
  });

  test('investigate --help: exit 0, help with example lines', async () => {
    const r = await run(['investigate', '--help']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('Usage: trailstory investigate');
    const examples = r.out.split('\n').filter((l) => l.startsWith('  $ trailstory investigate'));
    expect(examples.length).toBeGreaterThanOrEqual(1);
    expect(r.out).toContain('--finding <file>');
    expect(r.out).toContain('--cloudtrail <path>');
    expect(r.out).toContain('--finding-id <id>');
  });
});
