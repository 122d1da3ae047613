#!/usr/bin/env node
'use strict';
// `npm run bench`: how fast `trailstory investigate` is on gen-trail output of 100,000, 1,000,000
// and 10,000,000 events (scenario a mixed in), against what the same files cost anyway and what a
// security engineer with DuckDB would do instead, all measured in the same run on the same files:
//   byte floor, parse floor: fixed scripts (bench/floor.js) that use nothing of the product;
//   engine: the whole `node bin/trailstory.js investigate ... --format json` process;
//   DuckDB: the whole bench/duckdb-pivot.js process (the records of the finding's key).
// With `--baseline REF` the engine of an older commit (built in a git worktree under the cache)
// is measured too, in the same run, on the same files: "no slower than before" is a ratio of
// two figures taken side by side, never of figures from different days.
// Each measurement is a child process, timed from spawn to exit here in the parent (bench/measure.js);
// the median of --reps runs is kept, the measurements of one size interleaved run by run so
// that a slow minute hits them all.
// Before the trails, it runs the HTML report benchmark (scripts/report-bench.ts; --no-report
// skips it) and the module-load benchmark (bench/module-load.js; --no-modules skips it).
// Prints the table; with `--out FILE` writes it as the "Benchmarks" section of that file.
// The trail part needs ../shared/tools/gen-trail (skips with a notice without it).
const fs = require('fs');
const os = require('os');
const path = require('path');
const { parseArgs } = require('util');
const { execFileSync, spawnSync } = require('child_process');
const { timeProcess, rssMethod } = require('./measure.js');
const { pivotSql } = require('./duckdb-pivot.js');

const root = path.resolve(__dirname, '..');
const shared = path.resolve(root, '..', 'shared');
const DEFAULT_SIZES = '100000,1000000,10000000';
const USAGE_LINE = `usage: npm run bench -- [--sizes ${DEFAULT_SIZES}] [--reps 5] [--baseline GIT_REF] [--cache DIR] [--out FILE] [--no-report] [--no-modules]`;
const USAGE = `${USAGE_LINE}

  --sizes N,N,...    gen-trail sizes in background events (default ${DEFAULT_SIZES})
  --reps N           runs of each measurement; each figure is their median (default 5)
  --baseline REF     also measure the engine of commit REF (built in a git worktree in the cache)
  --cache DIR        where gen-trail output and baseline worktrees are kept
                     (default ${path.join(os.tmpdir(), 'trailstory-bench')})
  --out FILE         write the tables to FILE (docs/benchmarks.md), each in its own section;
                     without it they are only printed
  --no-report        skip the HTML report benchmark (scripts/report-bench.ts)
  --no-modules       skip the module-load benchmark (bench/module-load.js)

Measured for each size, each in its own child process: the byte floor and the parse floor
(bench/floor.js), the engine (node bin/trailstory.js investigate ... --format json) and DuckDB's
one-key pivot (bench/duckdb-pivot.js). The trail part needs ../shared/tools/gen-trail.`;

let opts;
try {
  opts = parseArgs({
    args: process.argv.slice(2),
    strict: true,
    options: {
      sizes: { type: 'string', default: DEFAULT_SIZES },
      reps: { type: 'string' },
      baseline: { type: 'string' },
      cache: { type: 'string', default: path.join(os.tmpdir(), 'trailstory-bench') },
      out: { type: 'string' },
      'no-report': { type: 'boolean', default: false },
      'no-modules': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  }).values;
} catch (e) {
  process.stderr.write(`bench: ${e.message}\n${USAGE_LINE}\n`);
  process.exit(2);
}
if (opts.help) {
  console.log(USAGE);
  process.exit(0);
}
const positiveInt = (s) => (/^[1-9]\d*$/.test(s) ? Number(s) : NaN);
const sizes = opts.sizes.split(',').map(positiveInt);
const reps = positiveInt(opts.reps ?? '5');
if (sizes.some(Number.isNaN) || Number.isNaN(reps)) {
  process.stderr.write(`bench: --sizes takes positive integers separated by commas, --reps a positive integer\n${USAGE_LINE}\n`);
  process.exit(2);
}
const cache = path.resolve(opts.cache);
const out = opts.out ? path.resolve(opts.out) : null;
/** The command as it was typed, for the report's header. */
const quote = (a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, "'\\''")}'`);
const argText = process.argv.slice(2).map(quote).join(' ');
const command = process.env.npm_lifecycle_event === 'bench' ? `npm run bench${argText ? ` -- ${argText}` : ''}` : `node bench/run.js${argText ? ` ${argText}` : ''}`;

/** Runs a benchmark script that writes its own section; stops the run when it fails. */
function runSection(argv) {
  const r = spawnSync(process.execPath, argv, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status || 1);
}
// First the HTML report of large stories in Chromium (scripts/report-bench.ts, its own section).
if (!opts['no-report']) runSection([path.join(root, 'scripts', 'run-ts.js'), 'scripts/report-bench.ts', ...(out ? ['--out', out] : [])]);
// Then the Lambda functions' module load (bench/module-load.js, its own section).
if (!opts['no-modules']) {
  const moduleLoad = path.join(__dirname, 'module-load.js');
  if (!fs.existsSync(moduleLoad)) console.log('bench: bench/module-load.js not found: skipping the module-load benchmark');
  else runSection([moduleLoad, ...(opts.reps ? ['--reps', String(reps)] : []), ...(out ? ['--out', out] : [])]);
}

if (!fs.existsSync(path.join(shared, 'tools', 'gen-trail'))) {
  console.log('bench: ../shared/tools/gen-trail not found: skipping the trail benchmark');
  process.exit(0);
}
// The engine measured is the source as it is now: a dist/ older than src/ would be measured silently.
console.log('bench: npm run build:ts ...');
if (spawnSync('npm', ['run', '--silent', 'build:ts'], { cwd: root, stdio: 'inherit' }).status !== 0) {
  console.error('bench: `npm run build:ts` failed: fix the build first');
  process.exit(1);
}
fs.mkdirSync(cache, { recursive: true });
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'trailstory-bench-run-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));

/** The baseline commit's checkout, compiled (a detached worktree sharing this checkout's node_modules). */
function baselineRoot(ref) {
  const sha = execFileSync('git', ['rev-parse', '--short=12', `${ref}^{commit}`], { cwd: root, encoding: 'utf8' }).trim();
  const dir = path.join(cache, `baseline-${sha}`);
  const built = () => fs.existsSync(path.join(dir, 'bin', 'trailstory.js')) && fs.existsSync(path.join(dir, 'dist', 'src', 'cli', 'main.js'));
  if (!built()) {
    console.log(`bench: building the baseline ${ref} (${sha}) in ${dir} ...`);
    if (fs.existsSync(dir)) spawnSync('git', ['worktree', 'remove', '--force', dir], { cwd: root });
    fs.rmSync(dir, { recursive: true, force: true });
    execFileSync('git', ['worktree', 'add', '--detach', dir, sha], { cwd: root, stdio: 'inherit' });
    fs.symlinkSync(path.join(root, 'node_modules'), path.join(dir, 'node_modules'));
    // Type errors of an old tree under today's type packages do not stop the emit.
    spawnSync(process.execPath, [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], { cwd: dir, stdio: 'ignore' });
    if (!built()) throw new Error(`bench: the baseline ${ref} did not build (no bin/trailstory.js or dist/src/cli/main.js in ${dir})`);
  }
  // Its launcher must run from its worktree (its own dist/, this checkout's node_modules).
  const v = spawnSync(process.execPath, [path.join(dir, 'bin', 'trailstory.js'), 'investigate', '--help'], { cwd: dir, encoding: 'utf8' });
  if (v.status !== 0) throw new Error(`bench: the baseline's bin/trailstory.js investigate --help exited ${v.status} in ${dir}:\n${v.stderr}`);
  return { ref, sha, dir };
}
const baseline = opts.baseline ? baselineRoot(opts.baseline) : null;

const spec = path.join(shared, 'scenarios', 'a-leaked-key-cryptomining', 'spec.json');
/** gen-trail output of n background events, cached (generated next to it, then renamed into place). */
function trailFor(n) {
  const dir = path.join(cache, `gen-${n}`);
  if (!fs.existsSync(path.join(dir, 'gen-trail.json'))) {
    const part = `${dir}.tmp-${process.pid}`;
    console.log(`bench: generating ${n} events in ${dir} ...`);
    fs.rmSync(part, { recursive: true, force: true });
    execFileSync(path.join(shared, 'tools', 'gen-trail'), ['--events', String(n), '--out', part, '--scenario', spec, '--quiet'], { stdio: 'inherit' });
    fs.rmSync(dir, { recursive: true, force: true });
    fs.renameSync(part, dir);
  }
  return dir;
}

const node = process.execPath;
/** The measurements of one trail: each a command and how to read what it printed. */
function kindsFor(dir) {
  const engine = (engineRoot) => ({
    argv: [node, path.join(engineRoot, 'bin', 'trailstory.js'), 'investigate', '--finding', path.join(dir, 'finding.json'), '--cloudtrail', path.join(dir, 'cloudtrail'), '--format', 'json'],
    cwd: engineRoot,
    read: (text) => {
      const s = JSON.parse(text);
      return { steps: s.steps.length, records: s.coverage && s.coverage.recordsRead };
    },
  });
  const script = (...argv) => ({ argv: [node, ...argv], cwd: root, read: (text) => JSON.parse(text) });
  const kinds = {
    bytes: script(path.join(__dirname, 'floor.js'), 'bytes', dir),
    parse: script(path.join(__dirname, 'floor.js'), 'parse', dir),
    engine: engine(root),
    duckdb: script(path.join(__dirname, 'duckdb-pivot.js'), dir),
  };
  if (baseline) kinds.baseline = engine(baseline.dir);
  return kinds;
}
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
/** Median time and median peak RSS of `reps` runs of each measurement, interleaved run by run. */
function measureAll(dir) {
  const kinds = kindsFor(dir);
  const runs = Object.fromEntries(Object.keys(kinds).map((k) => [k, []]));
  for (let i = 0; i < reps; i++) {
    for (const [k, kind] of Object.entries(kinds)) {
      const t = timeProcess(kind.argv, { cwd: kind.cwd, tmp, name: k });
      // What the child printed is read after the timing.
      runs[k].push({ ms: t.ms, peakRssMb: t.peakRssMb, ...kind.read(fs.readFileSync(t.stdoutFile, 'utf8')) });
    }
  }
  const res = {};
  for (const [k, list] of Object.entries(runs)) {
    res[k] = { ...list[0], ms: median(list.map((x) => x.ms)), peakRssMb: median(list.map((x) => x.peakRssMb)), runs: list.map((x) => Math.round(x.ms)) };
    for (const field of ['steps', 'matches', 'records', 'bytes']) {
      if (list.some((x) => x[field] !== list[0][field])) console.warn(`bench: ${k}: ${field} differs between runs: ${list.map((x) => x[field]).join(' ')}`);
    }
  }
  return res;
}

const rows = [];
for (const n of sizes) {
  const dir = trailFor(n);
  const gen = JSON.parse(fs.readFileSync(path.join(dir, 'gen-trail.json'), 'utf8'));
  const m = measureAll(dir);
  if (m.parse.records !== gen.records) console.warn(`bench: the parse floor read ${m.parse.records} records, gen-trail wrote ${gen.records}`);
  if (m.engine.records !== undefined && m.engine.records !== gen.records) console.warn(`bench: the engine read ${m.engine.records} records, gen-trail wrote ${gen.records}`);
  rows.push({ n, records: gen.records, files: m.bytes.files, rawMb: m.bytes.bytes / 1e6, ...m });
  const base = m.baseline ? `, baseline ${m.baseline.ms.toFixed(0)} ms (engine/baseline ${(m.engine.ms / m.baseline.ms).toFixed(2)}, ${m.baseline.steps} steps, runs ${m.baseline.runs.join(' ')})` : '';
  console.log(
    `${n}: engine ${m.engine.ms.toFixed(0)} ms (${m.engine.steps} steps, runs ${m.engine.runs.join(' ')}), parse floor ${m.parse.ms.toFixed(0)} ms, byte floor ${m.bytes.ms.toFixed(0)} ms, DuckDB ${m.duckdb.ms.toFixed(0)} ms (${m.duckdb.matches} records of ${m.duckdb.accessKeyId}, runs ${m.duckdb.runs.join(' ')}), engine/parse ${(m.engine.ms / m.parse.ms).toFixed(2)}, engine/byte ${(m.engine.ms / m.bytes.ms).toFixed(2)}, engine/DuckDB ${(m.engine.ms / m.duckdb.ms).toFixed(2)}, peak RSS engine ${m.engine.peakRssMb.toFixed(0)} MB, DuckDB ${m.duckdb.peakRssMb.toFixed(0)} MB${base}`,
  );
}

const f = (x, d = 0) => (Number.isFinite(x) ? x.toFixed(d) : '?');
/** 100000 -> 100k, 10000000 -> 10M. */
const label = (n) => (n >= 1e6 && n % 1e6 === 0 ? `${n / 1e6}M` : n >= 1e3 && n % 1e3 === 0 ? `${n / 1e3}k` : String(n));
const times = (x) => ({ 2: 'two', 5: 'five', 10: 'ten', 100: 'a hundred' })[x] || f(x, 1);
const truthFile = rows.length ? path.join(cache, `gen-${rows[0].n}`, 'truth.json') : null;
const truthSteps = truthFile && fs.existsSync(truthFile) ? JSON.parse(fs.readFileSync(truthFile, 'utf8')).steps.length : '?';
const duck = rows[0] && rows[0].duckdb;
const cpus = os.cpus();
const lines = [
  '# Benchmarks',
  '',
  `Measured by \`${command}\` on ${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${os.availableParallelism()} cores (${cpus[0] ? cpus[0].model.trim() : '?'}), ${f(os.totalmem() / 2 ** 30)} GiB of memory.`,
  `Input: \`shared/tools/gen-trail --events N --scenario shared/scenarios/a-leaked-key-cryptomining/spec.json\` (S3 delivery layout, \`.json.gz\`, scenario a mixed in; the engine must find its ${truthSteps} steps).`,
  `Each figure is ${reps === 1 ? 'one run' : `the median of ${reps} runs`}; each run is a child process, timed from spawn to exit by the parent, and the measurements of one size are interleaved run by run. Peak RSS: the child's maximum resident set (${rssMethod(tmp)}: the whole process, every thread).`,
  '',
  '- **byte floor**: `node bench/floor.js bytes DIR`, a fixed script that uses nothing of the product: lists the files under `DIR/cloudtrail` (recursively, `fs`), reads each and gunzips it (`zlib.gunzipSync`); one thread.',
  '- **parse floor**: `node bench/floor.js parse DIR`: the same, plus `JSON.parse` of each whole file and a count of its `Records`.',
  '- **engine**: `node bin/trailstory.js investigate --finding DIR/finding.json --cloudtrail DIR/cloudtrail --format json`, the whole process as a user runs it (dist/ built from the source first), its output to a file; **steps found** is the length of that output\'s `steps`.',
  `- **DuckDB**: \`node bench/duckdb-pivot.js DIR\`, the whole process: an in-memory DuckDB (\`@duckdb/node-api\`, DuckDB ${duck ? duck.duckdb : '?'}, \`SET threads = ${duck ? duck.threads : '?'}\`) runs the one-key pivot a security engineer would start with, and prints the count (${rows.map((r) => `${r.duckdb.matches} at ${label(r.n)}`).join(', ')}):`,
  `  \`${pivotSql('DIR/cloudtrail/**/*.json.gz', duck ? duck.accessKeyId : 'KEY').replace(/\s+/g, ' ').replace(/\( /g, '(').replace(/ \)/g, ')')}\``,
  ...(baseline ? [`- **baseline**: the same engine measurement of commit ${baseline.sha} (\`${baseline.ref}\`), built in a git worktree, in the same run.`] : []),
  '',
  `| events | files | raw MB | engine ms | events/s | engine / parse floor | engine / byte floor | engine / DuckDB | parse floor ms | byte floor ms | DuckDB ms | engine peak RSS MB | DuckDB peak RSS MB | steps found |${baseline ? ' baseline ms | engine / baseline | baseline peak RSS MB | baseline steps found |' : ''}`,
  `|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|${baseline ? '---:|---:|---:|---:|' : ''}`,
  ...rows.map(
    (r) =>
      `| ${r.records} | ${r.files} | ${f(r.rawMb)} | ${f(r.engine.ms)} | ${f(r.records / (r.engine.ms / 1000))} | ${f(r.engine.ms / r.parse.ms, 2)} | ${f(r.engine.ms / r.bytes.ms, 2)} | ${f(r.engine.ms / r.duckdb.ms, 2)} | ${f(r.parse.ms)} | ${f(r.bytes.ms)} | ${f(r.duckdb.ms)} | ${f(r.engine.peakRssMb)} | ${f(r.duckdb.peakRssMb)} | ${r.engine.steps} |${baseline ? ` ${f(r.baseline.ms)} | ${f(r.engine.ms / r.baseline.ms, 2)} | ${f(r.baseline.peakRssMb)} | ${r.baseline.steps} |` : ''}`,
  ),
  '',
];
if (rows.length >= 2) {
  // The largest size against the one before it, scaled by the events: 1.00 is linear.
  const [a, b] = [...rows].sort((x, y) => x.records - y.records).slice(-2);
  const k = b.records / a.records;
  const g = (kind) => b[kind].ms / (a[kind].ms * k);
  const scale = times(Math.round(k * 10) / 10);
  lines.push(`Growth: ${label(b.n)} took ${f(g('engine'), 2)} x ${scale} times ${label(a.n)} (engine; parse floor ${f(g('parse'), 2)} x, DuckDB ${f(g('duckdb'), 2)} x${baseline ? `, baseline ${f(g('baseline'), 2)} x` : ''}; 1.00 is linear).`, '');
}
lines.push(`Reproduce: \`npm run bench\` (options: \`--sizes ${DEFAULT_SIZES} --reps 5 --baseline REF --cache DIR --out FILE --no-report --no-modules\`).`, '');
const table = lines.join('\n');
console.log(`\n${table}`);
if (!out) process.exit(0);
// Only this section of the file is replaced: the other sections belong to other benchmarks.
require('../scripts/bench-section.js').writeSection(out, '# Benchmarks', table);
console.log(`bench: wrote ${path.relative(root, out).startsWith('..') ? out : path.relative(root, out)}`);
