/**
 * Runs hostile-input cases through `trailstory investigate`, each as a child process whose
 * peak memory is read, and classifies each run as a success, a one-line refusal, or anything
 * else (issue 10). Used by `hostile.test.ts` (the CI size) and `run.ts` (any size, a table).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { familiesFor, findRealInputs, KINDS, SharedInputs, type BuiltCase, type Family, type Kind } from './cases';
import { Rng, seedOf } from './random';

/** The outcome classes of issue 10. */
export type Outcome = 'success' | 'refusal' | 'other';

/** Peak memory a child may reach (issue 10: "a child above 512 MB" is a failure). */
export const RSS_LIMIT = 512 * 1024 * 1024;
/** A child past this is killed, to keep the machine usable; it counts as above the limit. */
export const RSS_KILL = 1536 * 1024 * 1024;
/** The HTML report's own cap (`MAX_REPORT_BYTES` in src/render/html.ts is 1,900,000) with slack for the last layout. */
export const HTML_MAX_BYTES = 2_000_000;
/** A line of text, Markdown or Mermaid longer than this shows an input string was not capped (8 KiB per string). */
export const LINE_MAX_CHARS = 256 * 1024;
/** A JSON string longer than this was not capped (64 KiB per string, plus a marker). */
export const JSON_STRING_MAX = 64 * 1024 + 256;
/** Standard output kept for the checks; past this the run is "anything else". */
export const STDOUT_KEEP = 256 * 1024 * 1024;

/** One planned case. */
export interface PlannedCase {
  index: number;
  family: Family;
  format: string;
  seed: number;
}

/** One finished case. */
export interface CaseResult {
  index: number;
  name: string;
  kind: Kind;
  family: string;
  format: string;
  command: string;
  outcome: Outcome;
  /** Why it is "anything else" (a short, stable cause), empty otherwise. */
  cause: string;
  exitCode: number | null;
  signal: string | null;
  peakRss: number;
  ms: number;
  firstStderrLine: string;
  stdoutBytes: number;
  note?: string;
}

/** Options of a run. */
export interface RunOptions {
  root: string;
  seed: string;
  cases: number;
  concurrency?: number;
  timeoutMs?: number;
  /** Keep the folders of failing cases (their path is printed) instead of removing them. */
  keepFailures?: boolean;
  /** Run a copy of the compiled CLI taken at the start (default true), not the work tree's. */
  snapshot?: boolean;
  /** Only these families (names or prefixes). */
  only?: string[];
  onResult?: (r: CaseResult, done: number, total: number) => void;
}

/**
 * A copy of the compiled CLI (bin/, dist/, data/, package.json, node_modules linked) under
 * `dir`, so a rebuild in the work tree during the run does not change the program under test.
 * Retries while the copy does not start (a rebuild was half-way through).
 * @returns the copy's root
 */
export function snapshotCli(root: string, dir: string): string {
  for (let attempt = 0; ; attempt++) {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    for (const part of ['bin', 'dist', 'data', 'package.json']) if (fs.existsSync(path.join(root, part))) fs.cpSync(path.join(root, part), path.join(dir, part), { recursive: true });
    fs.symlinkSync(path.join(root, 'node_modules'), path.join(dir, 'node_modules'));
    fs.mkdirSync(path.join(dir, 'test', 'fuzz'), { recursive: true });
    fs.copyFileSync(path.join(root, 'test', 'fuzz', 'peak-rss.js'), path.join(dir, 'test', 'fuzz', 'peak-rss.js'));
    const r = spawnSync(process.execPath, [path.join(dir, 'bin', 'trailstory.js'), 'investigate', '--help'], { encoding: 'utf8' });
    if (r.status === 0) return dir;
    if (attempt >= 10) throw new Error(`the compiled CLI does not start: ${r.stderr}`);
    spawnSync('sleep', ['3']);
  }
}

/** The formats `investigate` accepts, read from its help (so `ocsf` joins once it exists). */
export function formatsOf(root: string): string[] {
  const r = spawnSync(process.execPath, [path.join(root, 'bin', 'trailstory.js'), 'investigate', '--help'], { encoding: 'utf8' });
  const m = /--format <format>[\s\S]*?\(choices: ([^)]*)\)/.exec(r.stdout ?? '');
  if (!m) throw new Error(`cannot read the formats from investigate --help: ${r.stderr || r.stdout}`);
  const choices = (m[1] as string).split(/,?\s*default:/)[0] as string;
  return [...choices.matchAll(/"([^"]+)"/g)].map((x) => x[1] as string);
}

/**
 * The cases of a run: the heavy families their fixed number of times, the rest drawn by
 * weight, each with a format (the family's, else every format in turn) and its own seed.
 */
export function plan(families: Family[], formats: string[], seed: string, cases: number, only?: string[]): PlannedCase[] {
  const chosen = only && only.length > 0 ? families.filter((f) => only.some((o) => f.name === o || f.name.startsWith(o))) : families;
  const rng = new Rng(seedOf(seed, 'plan'));
  const out: { family: Family; format?: string }[] = [];
  for (const f of chosen) {
    const fixed = f.fixed ?? 0;
    for (let i = 0; i < fixed; i++) out.push({ family: f, format: f.formats ? f.formats[i % f.formats.length] : undefined });
  }
  const light = chosen.filter((f) => f.weight > 0);
  const total = light.reduce((s, f) => s + f.weight, 0);
  // Light families share the rest in proportion to their weight, so every one runs.
  const rest = Math.max(0, cases - out.length);
  let given = 0;
  light.forEach((f, i) => {
    const n = i === light.length - 1 ? rest - given : Math.round((rest * f.weight) / total);
    given += n;
    for (let j = 0; j < n; j++) out.push({ family: f });
  });
  // Formats in turn per family, so each family meets every format.
  const turn = new Map<string, number>();
  const planned = out.map((o, i) => {
    const list = o.family.formats ?? formats;
    const k = turn.get(o.family.name) ?? rng.int(0, list.length - 1);
    turn.set(o.family.name, k + 1);
    const format = o.format ?? (list[k % list.length] as string);
    return { index: i, family: o.family, format: formats.includes(format) ? format : 'json', seed: seedOf(seed, i, o.family.name) };
  });
  return planned;
}

/** Characters a terminal acts on: C0 but tab and newline, DEL, C1. */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/;
/** Bidirectional controls that reorder what a terminal shows. */
const BIDI = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

/** Control characters and what must be escaped inside `$'…'`. */
// eslint-disable-next-line no-control-regex
const ANSI_C_ESCAPE = /[\x00-\x1f\x7f-\x9f'\\]/;

function ansiC(code: number): string {
  return code < 0x80 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** A shell word for `s` (bash `$'…'` when it holds control characters), so commands can be pasted. */
function shellQuote(s: string): string {
  if (/^[\w@%+=:,./-]+$/.test(s)) return s;
  if ([...s].some((c) => ANSI_C_ESCAPE.test(c) && c !== "'" && c !== '\\')) return `$'${[...s].map((c) => (ANSI_C_ESCAPE.test(c) ? ansiC(c.codePointAt(0) as number) : c)).join('')}'`;
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** A printable one-line excerpt of child output (control bytes escaped), for the report. */
export function excerpt(s: string, max = 200): string {
  const t = JSON.stringify(s.length > max ? `${s.slice(0, max)}…` : s);
  return t.slice(1, -1);
}

function jsonStringTooLong(v: unknown): number {
  const stack: unknown[] = [v];
  while (stack.length > 0) {
    const x = stack.pop();
    if (typeof x === 'string') {
      if (x.length > JSON_STRING_MAX) return x.length;
    } else if (Array.isArray(x)) stack.push(...x);
    else if (x !== null && typeof x === 'object') {
      for (const [k, y] of Object.entries(x)) {
        if (k.length > JSON_STRING_MAX) return k.length;
        stack.push(y);
      }
    }
  }
  return 0;
}

/** The ASFF limits Security Hub enforces, checked on `--format asff` output; the first broken one. */
export function asffProblem(doc: unknown): string {
  const d = doc as { batchUpdateFindings?: Record<string, unknown>; batchImportFindings?: { Findings?: Record<string, unknown>[] } | null };
  const upd = d.batchUpdateFindings;
  if (!upd) return 'no batchUpdateFindings';
  for (const fi of (upd.FindingIdentifiers as { Id?: string }[] | undefined) ?? []) if ((fi.Id ?? '').length > 512) return 'FindingIdentifiers.Id over 512';
  const note = upd.Note as { Text?: string } | undefined;
  if (note && (note.Text ?? '').length > 512) return 'Note.Text over 512';
  for (const [k, v] of Object.entries((upd.UserDefinedFields as Record<string, string> | undefined) ?? {})) if (k.length > 128 || String(v).length > 1024) return 'UserDefinedFields over 128/1024';
  for (const f of d.batchImportFindings?.Findings ?? []) {
    if (String(f.Id ?? '').length > 512) return 'finding Id over 512';
    if (!/^\d{12}$/.test(String(f.AwsAccountId ?? ''))) return 'AwsAccountId not 12 digits';
    if (String(f.Title ?? '').length > 256) return 'Title over 256';
    if (String(f.Description ?? '').length > 1024) return 'Description over 1024';
    for (const [k, v] of Object.entries((f.ProductFields as Record<string, string> | undefined) ?? {})) if (k.length > 128 || String(v).length > 2048) return 'ProductFields over 128/2048';
    if (Buffer.byteLength(JSON.stringify(f)) > 240 * 1024) return 'finding over 240 KB';
  }
  return '';
}

/** Mermaid that Mermaid rejects: an empty label, or more edges than its default `maxEdges` (500). */
export function mermaidProblem(text: string): string {
  const body = text;
  if (/\(\s*""\s*\)|\[\s*""\s*\]|\{\s*""\s*\}|\(\[\s*""\s*\]\)|\[\[\s*""\s*\]\]/.test(body)) return 'empty node label';
  const edges = body.split('\n').filter((l) => /--|==>|-\.->|~~~/.test(l) && !/^\s*%%/.test(l)).length;
  if (edges > 500) return `over 500 edges (${edges > 2000 ? '2000+' : edges > 1000 ? '1000+' : '500+'})`;
  return '';
}

/**
 * Classifies one run. `other` causes are short and stable, so equal causes group together.
 */
export function classify(built: BuiltCase, format: string, r: { code: number | null; signal: string | null; timedOut: boolean; peakRss: number; killedForRss: boolean; stdout: Buffer; stdoutBytes: number; stderr: string }): { outcome: Outcome; cause: string } {
  const other = (cause: string) => ({ outcome: 'other' as const, cause });
  if (r.killedForRss) return other(`peak RSS over ${RSS_KILL >> 20} MiB (killed)`);
  if (r.timedOut) return other('timeout');
  if (r.signal) return other(`signal ${r.signal}`);
  if (r.peakRss > RSS_LIMIT) return other('peak RSS over 512 MiB');
  const stack = /\n\s+at .+[(:]\d+/.test(r.stderr) || /internal error/.test(r.stderr);
  if (r.code === 70) return other(`exit 70: ${stackCause(r.stderr)}`);
  if (stack) return other(`stack trace on stderr (exit ${r.code}): ${stackCause(r.stderr)}`);
  const lines = r.stderr.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const stderrControl = lines.some((l) => CONTROL.test(l.replace(/\t/g, ' ')) || /\t/.test(l));
  const stderrBidi = lines.some((l) => BIDI.test(l));
  if (r.code === 1 || r.code === 2) {
    if (stderrControl) return other('raw control byte on stderr');
    if (stderrBidi) return other('raw bidi control on stderr');
    const ambiguous = r.code === 2 && lines.length > 1 && /choose one with --finding-id/.test(lines[0] ?? '');
    if (lines.length !== 1 && !ambiguous) return other(lines.length === 0 ? `exit ${r.code} with nothing on stderr` : `exit ${r.code} with ${lines.length}-line stderr`);
    if (r.stdoutBytes > 0) return other(`exit ${r.code} after output on stdout`);
    if (built.expect === 'success') return other('refused a valid input (a damaged file beside good ones must be a counted skip)');
    return { outcome: 'refusal', cause: '' };
  }
  if (r.code !== 0) return other(`exit ${r.code}`);
  if (stderrControl) return other('raw control byte on stderr');
  if (r.stdoutBytes === 0) return other('exit 0 with empty stdout');
  if (r.stdoutBytes > STDOUT_KEEP) return other(`stdout over ${STDOUT_KEEP >> 20} MiB`);
  const out = r.stdout.toString('utf8');
  if (format === 'json' || format === 'asff' || format === 'ocsf') {
    let doc: unknown;
    try {
      doc = JSON.parse(out);
    } catch {
      return other(`${format}: stdout is not valid JSON`);
    }
    if (built.expect === 'refusal' && !(built.refusalUnlessRecordsRead && format === 'json' && recordsRead(doc) > 0)) return other('exit 0 where no record could be read (silent emptiness)');
    const long = jsonStringTooLong(doc);
    if (long > 0) return other(`${format}: a string over 64 KiB in the output`);
    if (format === 'asff') {
      const p = asffProblem(doc);
      if (p) return other(`asff: ${p}`);
    }
    return { outcome: 'success', cause: '' };
  }
  if (built.expect === 'refusal') return other('exit 0 where no record could be read (silent emptiness)');
  if (format === 'html') {
    if (r.stdoutBytes > HTML_MAX_BYTES) return other(`html: report over its ${HTML_MAX_BYTES} byte cap`);
    if (/<script|<img src=x/i.test(out)) return other('html: attacker markup unescaped');
    return { outcome: 'success', cause: '' };
  }
  if (CONTROL.test(out.replace(/[\n\t]/g, ''))) return other(`${format}: raw control byte in stdout`);
  if (format === 'text' && BIDI.test(out)) return other('text: raw bidi control in stdout');
  if (out.split('\n').some((l) => l.length > LINE_MAX_CHARS)) return other(`${format}: a line over 256 KiB (input string not capped)`);
  if (format === 'mermaid') {
    const p = mermaidProblem(out);
    if (p) return other(`mermaid: ${p}`);
  }
  return { outcome: 'success', cause: '' };
}

function recordsRead(doc: unknown): number {
  const c = (doc as { coverage?: { recordsRead?: number } }).coverage;
  return typeof c?.recordsRead === 'number' ? c.recordsRead : 0;
}

/** The error's first line and the product frame it came from, paths and numbers made generic. */
function stackCause(stderr: string): string {
  const lines = stderr.split('\n');
  const first = (lines.find((l) => l.trim() !== '') ?? '').replace(/^trailstory: internal error: /, '');
  const frame = lines.find((l) => /^\s+at /.test(l) && /(dist\/src|src)\//.test(l)) ?? lines.find((l) => /^\s+at /.test(l)) ?? '';
  const where = (/(?:dist\/)?(src\/[\w/.-]+?)(?:\.js)?:\d+/.exec(frame) ?? [])[1] ?? frame.trim().slice(0, 60);
  const generic = first
    .replace(/\/tmp\/\S+/g, '<tmp>')
    .replace(/'[^']*'/g, "'…'")
    .replace(/"[^"]*"/g, '"…"')
    .replace(/\d+/g, 'N')
    .slice(0, 120);
  return `${excerpt(generic, 120)}${where ? ` at ${where}` : ''}`;
}

/** The children running now, killed when the run is interrupted. */
const liveChildren = new Set<ChildProcess>();

function readPeakFromProc(pid: number): { hwm: number; rss: number } {
  try {
    const s = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const hwm = Number((/VmHWM:\s+(\d+)/.exec(s) ?? [])[1] ?? 0) * 1024;
    const rss = Number((/VmRSS:\s+(\d+)/.exec(s) ?? [])[1] ?? 0) * 1024;
    return { hwm, rss };
  } catch {
    return { hwm: 0, rss: 0 };
  }
}

/**
 * Runs one case: builds its files, runs the child with the peak-memory preload, classifies.
 */
export async function runCase(p: PlannedCase, o: { root: string; cli: string; runDir: string; shared: SharedInputs; sources: ReturnType<typeof findRealInputs>; timeoutMs: number; keepFailures: boolean }): Promise<CaseResult> {
  const dir = path.join(o.runDir, `case-${p.index}`);
  fs.mkdirSync(dir, { recursive: true });
  const rng = new Rng(p.seed);
  const t0 = Date.now();
  let built: BuiltCase;
  try {
    built = await p.family.build({ rng, dir, format: p.format, shared: o.shared, sources: o.sources });
  } catch (e) {
    throw new Error(`building case ${p.index} (${p.family.name}) failed: ${(e as Error).stack}`);
  }
  const args = ['investigate', ...built.args, '--format', p.format];
  if (p.format === 'asff' || p.format === 'html') args.push('--now', '2026-03-05T00:00:00Z');
  if (p.format === 'text' && rng.chance(0.3)) args.push('--width', String(rng.pick([40, 80, 200, 1000])));
  // A third of the cases read on worker threads, whatever the input's size (the parallel reader meets hostile files too).
  if (rng.chance(0.33)) args.push('--threads', String(rng.pick([2, 3])));
  const bin = path.join(o.cli, 'bin', 'trailstory.js');
  const preload = path.join(o.cli, 'test', 'fuzz', 'peak-rss.js');
  const timeoutMs = built.timeoutMs ?? o.timeoutMs;
  const run = await new Promise<{ code: number | null; signal: string | null; timedOut: boolean; peakRss: number; killedForRss: boolean; stdout: Buffer; stdoutBytes: number; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, ['--require', preload, bin, ...args], {
      cwd: o.root,
      stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
      env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', NODE_OPTIONS: '' },
    });
    liveChildren.add(child);
    const out: Buffer[] = [];
    let outBytes = 0;
    const err: Buffer[] = [];
    let errBytes = 0;
    let report = '';
    let polled = 0;
    let timedOut = false;
    let killedForRss = false;
    child.stdout?.on('data', (b: Buffer) => {
      outBytes += b.length;
      if (outBytes <= STDOUT_KEEP) out.push(b);
    });
    child.stderr?.on('data', (b: Buffer) => {
      errBytes += b.length;
      if (errBytes <= 1 << 20) err.push(b);
    });
    (child.stdio[3] as NodeJS.ReadableStream).on('data', (b: Buffer) => (report += b.toString()));
    const poll = setInterval(() => {
      if (child.pid === undefined) return;
      const m = readPeakFromProc(child.pid);
      polled = Math.max(polled, m.hwm);
      if (m.rss > RSS_KILL && !killedForRss) {
        killedForRss = true;
        child.kill('SIGKILL');
      }
    }, 100);
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('close', (code, signal) => {
      liveChildren.delete(child);
      clearInterval(poll);
      clearTimeout(timer);
      const m = /maxrss=(\d+)/.exec(report);
      const peak = Math.max(m ? Number(m[1]) : 0, polled);
      resolve({ code, signal: killedForRss || timedOut ? null : signal, timedOut, peakRss: peak, killedForRss, stdout: Buffer.concat(out), stdoutBytes: outBytes, stderr: Buffer.concat(err).toString('utf8') });
    });
  });
  const { outcome, cause } = classify(built, p.format, run);
  const name = `#${p.index} ${p.family.name}${built.detail ? ` (${built.detail})` : ''} [${p.format}]`;
  const result: CaseResult = {
    index: p.index,
    name,
    kind: p.family.kind,
    family: p.family.name,
    format: p.format,
    command: ['node', 'bin/trailstory.js', ...args].map((a) => (a.length > 300 ? `${a.slice(0, 60)}…(${a.length} chars)` : shellQuote(a))).join(' '),
    outcome,
    cause,
    exitCode: run.code,
    signal: run.signal,
    peakRss: run.peakRss,
    ms: Date.now() - t0,
    firstStderrLine: excerpt(run.stderr.split('\n')[0] ?? ''),
    stdoutBytes: run.stdoutBytes,
    note: built.note,
  };
  built.cleanup?.();
  if (!(o.keepFailures && outcome === 'other')) fs.rmSync(dir, { recursive: true, force: true });
  return result;
}

/** What a run returns. */
export interface RunSummary {
  results: CaseResult[];
  ms: number;
  formats: string[];
  runDir: string;
}

/**
 * Plans and runs the cases, `concurrency` at a time (default: the number of CPUs), in a
 * temporary folder under os.tmpdir() that is removed afterwards (unless failures are kept).
 */
export async function runFuzz(o: RunOptions): Promise<RunSummary> {
  const t0 = Date.now();
  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'trailstory-fuzz-'));
  let cli: string;
  try {
    cli = o.snapshot === false ? o.root : snapshotCli(o.root, path.join(runDir, 'cli'));
  } catch (e) {
    fs.rmSync(runDir, { recursive: true, force: true });
    throw e;
  }
  const formats = formatsOf(cli);
  const families = familiesFor(o.root);
  const cases = plan(families, formats, o.seed, o.cases, o.only);
  const shared = new SharedInputs(path.join(runDir, 'shared'));
  const sources = findRealInputs(o.root);
  const concurrency = o.concurrency ?? (typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length);
  // Heavy cases are spread through the run so they overlap with light ones.
  const heavy = cases.filter((c) => c.family.fixed);
  const light = cases.filter((c) => !c.family.fixed);
  const order: PlannedCase[] = [];
  const every = heavy.length > 0 ? Math.max(1, Math.floor(light.length / heavy.length)) : 0;
  let h = 0;
  light.forEach((c, i) => {
    if (every > 0 && i % every === 0 && h < heavy.length) order.push(heavy[h++] as PlannedCase);
    order.push(c);
  });
  while (h < heavy.length) order.push(heavy[h++] as PlannedCase);
  // Interrupted (Ctrl-C, a CI timeout), the run still removes its folder.
  const onSignal = (sig: NodeJS.Signals) => {
    for (const c of liveChildren) c.kill('SIGKILL');
    fs.rmSync(runDir, { recursive: true, force: true });
    process.kill(process.pid, sig);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const results: CaseResult[] = [];
  const errors: Error[] = [];
  let next = 0;
  const worker = async () => {
    while (next < order.length && errors.length === 0) {
      const p = order[next++] as PlannedCase;
      try {
        const r = await runCase(p, { root: o.root, cli, runDir, shared, sources, timeoutMs: o.timeoutMs ?? 60_000, keepFailures: o.keepFailures ?? false });
        results.push(r);
        o.onResult?.(r, results.length, order.length);
      } catch (e) {
        errors.push(e as Error);
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));
    // A case the harness could not build is the harness's fault, not the product's.
    if (errors.length > 0) throw errors[0];
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    const keep = o.keepFailures && results.some((r) => r.outcome === 'other');
    if (!keep) fs.rmSync(runDir, { recursive: true, force: true });
    else for (const d of ['shared', 'cli']) fs.rmSync(path.join(runDir, d), { recursive: true, force: true });
  }
  results.sort((a, b) => a.index - b.index);
  return { results, ms: Date.now() - t0, formats, runDir };
}

function table(rows: string[][]): string {
  const widths = (rows[0] ?? []).map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number))).join('  ')).join('\n');
}

/**
 * The run as text: counts per class, per kind and per family, the notes, the distinct causes
 * of "anything else" with one example each, and every failing case (name, command, first
 * stderr line).
 * @param maxFailures failing cases listed in full (the rest are counted)
 */
export function formatSummary(s: RunSummary, maxFailures = 200): string {
  const out: string[] = [];
  const rs = s.results;
  const count = (f: (r: CaseResult) => boolean) => rs.filter(f).length;
  out.push(`${rs.length} cases in ${(s.ms / 1000).toFixed(1)} s; formats ${s.formats.join(', ')}`);
  out.push(`success ${count((r) => r.outcome === 'success')}, one-line refusal ${count((r) => r.outcome === 'refusal')}, anything else ${count((r) => r.outcome === 'other')}`);
  const peak = rs.reduce((m, r) => Math.max(m, r.peakRss), 0);
  out.push(`largest peak RSS ${(peak / 2 ** 20).toFixed(0)} MiB; slowest case ${(rs.reduce((m, r) => Math.max(m, r.ms), 0) / 1000).toFixed(1)} s`);
  out.push('');
  const kinds: string[][] = [['kind', 'cases', 'success', 'refusal', 'other']];
  for (const k of KINDS) {
    const of = rs.filter((r) => r.kind === k);
    kinds.push([k, String(of.length), String(of.filter((r) => r.outcome === 'success').length), String(of.filter((r) => r.outcome === 'refusal').length), String(of.filter((r) => r.outcome === 'other').length)]);
  }
  out.push(table(kinds));
  out.push('');
  const fams: string[][] = [['family', 'cases', 'success', 'refusal', 'other', 'max MiB', 'max s']];
  for (const name of [...new Set(rs.map((r) => r.family))]) {
    const of = rs.filter((r) => r.family === name);
    fams.push([name, String(of.length), String(of.filter((r) => r.outcome === 'success').length), String(of.filter((r) => r.outcome === 'refusal').length), String(of.filter((r) => r.outcome === 'other').length), (Math.max(...of.map((r) => r.peakRss)) / 2 ** 20).toFixed(0), (Math.max(...of.map((r) => r.ms)) / 1000).toFixed(1)]);
  }
  out.push(table(fams));
  const notes = new Map<string, number>();
  for (const r of rs) if (r.note) notes.set(r.note, (notes.get(r.note) ?? 0) + 1);
  if (notes.size > 0) {
    out.push('');
    for (const [n, c] of notes) out.push(`note: ${n} (${c} case${c === 1 ? '' : 's'})`);
  }
  const failures = rs.filter((r) => r.outcome === 'other');
  if (failures.length > 0) {
    out.push('');
    out.push('Distinct causes of "anything else" (cause, count, families, one example):');
    const byCause = new Map<string, CaseResult[]>();
    for (const r of failures) byCause.set(r.cause, [...(byCause.get(r.cause) ?? []), r]);
    for (const [cause, list] of [...byCause].sort((a, b) => b[1].length - a[1].length)) {
      const ex = list[0] as CaseResult;
      out.push(`- ${cause}  x${list.length}  [${[...new Set(list.map((r) => r.family))].join(', ')}]`);
      out.push(`    e.g. ${ex.name}`);
      out.push(`    $ ${ex.command}`);
      if (ex.firstStderrLine) out.push(`    stderr: ${ex.firstStderrLine}`);
    }
    out.push('');
    out.push(`Failing cases (${failures.length}${failures.length > maxFailures ? `, first ${maxFailures}` : ''}):`);
    for (const r of failures.slice(0, maxFailures)) {
      out.push(`- ${r.name}: ${r.cause} (exit ${r.exitCode ?? r.signal}, ${(r.peakRss / 2 ** 20).toFixed(0)} MiB, ${(r.ms / 1000).toFixed(1)} s)`);
      out.push(`    $ ${r.command}`);
      if (r.firstStderrLine) out.push(`    stderr: ${r.firstStderrLine}`);
    }
  }
  return out.join('\n');
}
