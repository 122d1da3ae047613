/**
 * Issue 10, "What it must show": at least 2,000 generated hostile inputs across the six kinds
 * (crash-makers, attacker-controlled growth, control bytes, Mermaid-breakers, ASFF-limit
 * breakers, silent emptiness) and mutations of the scenarios and the shared corpus, in every
 * format, each run as a child process whose peak memory is read. Every run is a success or a
 * one-line refusal; anything else (exit 70, a signal, a timeout, a stack trace, several lines
 * or raw control bytes on standard error, raw control bytes in a terminal format, JSON that
 * does not parse, ASFF past its limits, Mermaid that Mermaid rejects, a child above 512 MB) fails.
 *
 * TRAILSTORY_FUZZ_SEED (default "ci") and TRAILSTORY_FUZZ_CASES (default 2000) choose the run,
 * TRAILSTORY_FUZZ_KEEP=1 keeps the failing cases' folders;
 * `node scripts/run-ts.js test/fuzz/run.ts --cases N` runs any size outside jest.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { classify, formatSummary, mermaidProblem, asffProblem, runFuzz, RSS_LIMIT, type RunSummary } from './harness';
import { Rng } from './random';

const root = path.resolve(__dirname, '..', '..');
const seed = process.env.TRAILSTORY_FUZZ_SEED ?? 'ci';
const cases = Number(process.env.TRAILSTORY_FUZZ_CASES ?? 2000);

/** The newest modification time of a .ts file under `dir`. */
function newestTs(dir: string): number {
  let newest = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestTs(p));
    else if (e.name.endsWith('.ts')) newest = Math.max(newest, fs.statSync(p).mtimeMs);
  }
  return newest;
}

describe('the fuzz harness itself', () => {
  const ok = { code: 0, signal: null, timedOut: false, peakRss: 100 << 20, killedForRss: false, stdoutBytes: 3, stderr: '' };

  test('classifies a one-line refusal, a stack trace, control bytes and memory', () => {
    expect(classify({ args: [] }, 'json', { ...ok, code: 1, stdout: Buffer.alloc(0), stdoutBytes: 0, stderr: 'trailstory: x.json: not a finding\n' })).toEqual({ outcome: 'refusal', cause: '' });
    expect(classify({ args: [] }, 'json', { ...ok, code: 1, stdout: Buffer.alloc(0), stdoutBytes: 0, stderr: 'trailstory: a\nb\n' }).cause).toBe('exit 1 with 2-line stderr');
    expect(classify({ args: [] }, 'json', { ...ok, code: 70, stdout: Buffer.alloc(0), stdoutBytes: 0, stderr: 'trailstory: internal error: RangeError: Maximum call stack size exceeded\n    at walk (/w/dist/src/trail/read.js:10:3)\n' }).cause).toBe(
      'exit 70: RangeError: Maximum call stack size exceeded at src/trail/read',
    );
    expect(classify({ args: [] }, 'text', { ...ok, stdout: Buffer.from('a\x1b[2Jb\n'), stdoutBytes: 7 }).cause).toBe('text: raw control byte in stdout');
    expect(classify({ args: [] }, 'text', { ...ok, stdout: Buffer.from('a\tb\n'), stdoutBytes: 4 })).toEqual({ outcome: 'success', cause: '' });
    expect(classify({ args: [] }, 'json', { ...ok, stdout: Buffer.from('{"a":1}'), stdoutBytes: 7, peakRss: RSS_LIMIT + 1 }).cause).toBe('peak RSS over 512 MiB');
    expect(classify({ args: [] }, 'json', { ...ok, stdout: Buffer.from('{"a":'), stdoutBytes: 5 }).cause).toBe('json: stdout is not valid JSON');
    expect(classify({ args: [], expect: 'refusal' }, 'markdown', { ...ok, stdout: Buffer.from('# x\n'), stdoutBytes: 4 }).cause).toBe('exit 0 where no record could be read (silent emptiness)');
  });

  test('finds what Mermaid and Security Hub reject', () => {
    expect(mermaidProblem('flowchart LR\n  n1("")\n')).toBe('empty node label');
    expect(mermaidProblem(`flowchart LR\n${'  a --> b\n'.repeat(501)}`)).toBe('over 500 edges (500+)');
    expect(mermaidProblem('flowchart LR\n  n1("user/a") --> n2("b")\n')).toBe('');
    expect(asffProblem({ batchUpdateFindings: { FindingIdentifiers: [{ Id: 'x'.repeat(513) }] }, batchImportFindings: null })).toBe('FindingIdentifiers.Id over 512');
    expect(asffProblem({ batchUpdateFindings: {}, batchImportFindings: { Findings: [{ Id: 'a', AwsAccountId: '__proto__' }] } })).toBe('AwsAccountId not 12 digits');
  });

  test('the seeded generator repeats itself', () => {
    const a = new Rng(42);
    const b = new Rng(42);
    const xs = Array.from({ length: 5 }, () => a.int(0, 1000));
    expect(Array.from({ length: 5 }, () => b.int(0, 1000))).toEqual(xs);
    expect(new Set(xs).size).toBeGreaterThan(1);
  });

  test('the peak-memory preload reports also when the child dies of an exception', () => {
    const r = spawnSync(process.execPath, ['--require', path.join(__dirname, 'peak-rss.js'), '-e', 'const a = Buffer.alloc(64 << 20, 1); throw new Error("boom " + a.length)'], { stdio: ['ignore', 'pipe', 'pipe', 'pipe'], encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('boom');
    const m = /maxrss=(\d+)/.exec(String(r.output[3]));
    expect(m).not.toBeNull();
    expect(Number(m?.[1])).toBeGreaterThan(64 << 20);
  });
});

describe(`hostile input: ${cases} generated cases, seed ${JSON.stringify(seed)}`, () => {
  let summary: RunSummary;

  beforeAll(async () => {
    // The children run the compiled CLI (built by `npm ci`); a build older than src/ would test old code.
    const main = path.join(root, 'dist', 'src', 'cli', 'main.js');
    if (!fs.existsSync(main)) throw new Error('dist/ is missing: run `npm run build:ts` first');
    const stale = newestTs(path.join(root, 'src')) > fs.statSync(main).mtimeMs;
    if (stale) throw new Error('dist/ is older than src/: run `npm run build:ts` first');
    summary = await runFuzz({ root, seed, cases, keepFailures: process.env.TRAILSTORY_FUZZ_KEEP === '1' });
    process.stdout.write(`${formatSummary(summary)}\n`);
  }, 20 * 60_000);

  test('covers every kind and every format with at least the asked number of cases', () => {
    const rs = summary.results;
    expect(rs.length).toBeGreaterThanOrEqual(cases);
    for (const kind of ['crash', 'growth', 'control', 'mermaid', 'asff', 'empty', 'mutation']) expect(rs.filter((r) => r.kind === kind).length).toBeGreaterThanOrEqual(Math.min(20, cases / 50));
    for (const format of summary.formats) expect(rs.filter((r) => r.format === format).length).toBeGreaterThanOrEqual(Math.min(50, cases / 20));
    // The peak memory was read for every child (the preload or /proc).
    expect(rs.filter((r) => r.peakRss === 0).map((r) => r.name)).toEqual([]);
  });

  test('every run is a success or a one-line refusal', () => {
    const failures = summary.results.filter((r) => r.outcome === 'other').map((r) => `${r.name}: ${r.cause}\n    $ ${r.command}\n    stderr: ${r.firstStderrLine}`);
    expect(failures).toEqual([]);
  });
});
