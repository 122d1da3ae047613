#!/usr/bin/env node
'use strict';
// `npm run bench`: the storyline engine over gen-trail output of 100,000 and 1,000,000 events
// (scenario a mixed in), timed against two floors measured in the same run on the same files:
//   parse floor: read + gunzip + JSON.parse of every record;  byte floor: read + gunzip alone.
// With `--baseline REF` the engine of an older commit (built in a git worktree under the cache)
// is measured too, in the same run, on the same files: "no slower than before" is a ratio of
// two figures taken side by side, never of figures from different days.
// Each measurement runs in its own child process; the median of --reps runs is kept, the
// measurements of one size interleaved run by run so that a slow minute hits them all.
// Prints the table; with `--out FILE` writes it as the "Benchmarks" section of that file.
// Before the engine, it runs the HTML report benchmark (scripts/report-bench.ts; --no-report skips it).
// Needs ../shared/tools/gen-trail (skips with a notice without it).
const fs = require('fs');
const os = require('os');
const path = require('path');
const { execFileSync, spawnSync } = require('child_process');

const root = path.resolve(__dirname, '..');
const shared = path.resolve(root, '..', 'shared');
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
if (args.includes('--help')) {
  console.log('usage: npm run bench -- [--sizes 100000,1000000] [--reps 5] [--baseline GIT_REF] [--cache DIR] [--out FILE] [--no-report]');
  process.exit(0);
}
const sizes = opt('--sizes', '100000,1000000').split(',').map(Number);
const reps = Number(opt('--reps', '5'));
const cache = opt('--cache', path.join(os.tmpdir(), 'trailstory-bench'));
const out = opt('--out', null);
const baselineRef = opt('--baseline', null);

// First the HTML report of large stories in Chromium (scripts/report-bench.ts, its own section).
if (!args.includes('--no-report')) {
  const r = spawnSync(process.execPath, [path.join(root, 'scripts', 'run-ts.js'), 'scripts/report-bench.ts', ...(out ? ['--out', path.resolve(out)] : [])], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status || 1);
}

if (!fs.existsSync(path.join(shared, 'tools', 'gen-trail'))) {
  console.log('bench: ../shared/tools/gen-trail not found: skipping the benchmark');
  process.exit(0);
}
if (!fs.existsSync(path.join(root, 'dist', 'src', 'trail', 'read.js'))) execFileSync('npm', ['run', 'build:ts'], { cwd: root, stdio: 'inherit' });

/** The baseline commit's checkout, compiled (a detached worktree sharing this checkout's node_modules). */
function baselineRoot(ref) {
  const sha = execFileSync('git', ['rev-parse', '--short=12', `${ref}^{commit}`], { cwd: root, encoding: 'utf8' }).trim();
  const dir = path.join(cache, `baseline-${sha}`);
  if (!fs.existsSync(path.join(dir, 'dist', 'src', 'storyline', 'investigate.js'))) {
    console.log(`bench: building the baseline ${ref} (${sha}) in ${dir} ...`);
    if (fs.existsSync(dir)) spawnSync('git', ['worktree', 'remove', '--force', dir], { cwd: root });
    fs.rmSync(dir, { recursive: true, force: true });
    execFileSync('git', ['worktree', 'add', '--detach', dir, sha], { cwd: root, stdio: 'inherit' });
    fs.symlinkSync(path.join(root, 'node_modules'), path.join(dir, 'node_modules'));
    // Type errors of an old tree under today's type packages do not stop the emit.
    spawnSync(process.execPath, [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], { cwd: dir, stdio: 'ignore' });
    if (!fs.existsSync(path.join(dir, 'dist', 'src', 'storyline', 'investigate.js'))) throw new Error(`bench: the baseline ${ref} did not build`);
  }
  return { ref, sha, dir };
}
const baseline = baselineRef ? baselineRoot(baselineRef) : null;

const spec = path.join(shared, 'scenarios', 'a-leaked-key-cryptomining', 'spec.json');
function trailFor(n) {
  const dir = path.join(cache, `gen-${n}`);
  if (!fs.existsSync(path.join(dir, 'gen-trail.json'))) {
    console.log(`bench: generating ${n} events in ${dir} ...`);
    fs.rmSync(dir, { recursive: true, force: true });
    execFileSync(path.join(shared, 'tools', 'gen-trail'), ['--events', String(n), '--out', dir, '--scenario', spec, '--quiet'], { stdio: 'inherit' });
  }
  return dir;
}
function once(mode, dir, engineRoot) {
  const argv = [path.join(__dirname, 'measure.js'), mode, dir];
  if (engineRoot) argv.push(engineRoot);
  return JSON.parse(execFileSync(process.execPath, argv, { encoding: 'utf8', maxBuffer: 1 << 20 }).trim());
}
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
/** Median time and median peak RSS of `reps` runs of each measurement, interleaved run by run. */
function measureAll(dir) {
  const kinds = { bytes: ['bytes'], parse: ['parse'], engine: ['engine'] };
  if (baseline) kinds.baseline = ['engine', baseline.dir];
  const runs = Object.fromEntries(Object.keys(kinds).map((k) => [k, []]));
  for (let i = 0; i < reps; i++) for (const [k, [mode, r]] of Object.entries(kinds)) runs[k].push(once(mode, dir, r));
  const res = {};
  for (const [k, list] of Object.entries(runs)) res[k] = { ms: median(list.map((x) => x.ms)), maxRssMb: median(list.map((x) => x.maxRssMb)), steps: list[0].steps, runs: list.map((x) => Math.round(x.ms)) };
  return res;
}

const rows = [];
for (const n of sizes) {
  const dir = trailFor(n);
  const gen = JSON.parse(fs.readFileSync(path.join(dir, 'gen-trail.json'), 'utf8'));
  const m = measureAll(dir);
  rows.push({ n, records: gen.records, files: gen.files, rawMb: gen.uncompressedBytes / 1e6, ...m });
  const base = m.baseline ? `, baseline ${m.baseline.ms.toFixed(0)} ms (engine/baseline ${(m.engine.ms / m.baseline.ms).toFixed(2)}, runs ${m.baseline.runs.join(' ')})` : '';
  console.log(
    `${n}: engine ${m.engine.ms.toFixed(0)} ms (${m.engine.steps} steps, runs ${m.engine.runs.join(' ')}), parse floor ${m.parse.ms.toFixed(0)} ms, byte floor ${m.bytes.ms.toFixed(0)} ms, engine/parse ${(m.engine.ms / m.parse.ms).toFixed(2)}, engine/byte ${(m.engine.ms / m.bytes.ms).toFixed(2)}, peak RSS ${m.engine.maxRssMb.toFixed(0)} MB${base}`,
  );
}

const f = (x, d = 0) => x.toFixed(d);
const withBase = rows.some((r) => r.baseline);
const lines = [
  '# Benchmarks',
  '',
  `Measured by \`npm run bench${baseline ? ` -- --baseline ${baseline.ref}` : ''}\` on ${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${os.cpus().length} cores (${os.cpus()[0] ? os.cpus()[0].model : '?'}), ${f(os.totalmem() / 2 ** 30)} GiB.`,
  'Input: `shared/tools/gen-trail --events N --scenario shared/scenarios/a-leaked-key-cryptomining/spec.json` (S3 delivery layout, `.json.gz`, scenario a mixed in; the engine must find its 12 steps).',
  `Each figure is the median of ${reps} runs, each run a child process, the measurements of one size interleaved; peak RSS is the median of the children's maxRSS.`,
  '',
  '- **parse floor**: read + gunzip + `JSON.parse` of every record (the reader\'s own `readFileBytes`).',
  '- **byte floor**: read + gunzip alone.',
  '- **engine**: `collectTrail` + `reconstruct` (all of `trailstory investigate` but printing).',
  ...(withBase ? [`- **baseline**: the same engine measurement of commit ${baseline.sha} (\`${baseline.ref}\`), built in a git worktree, in the same run.`] : []),
  '',
  `| events | files | raw MB | engine ms | events/s | engine / parse floor | engine / byte floor | parse floor ms | byte floor ms | engine peak RSS MB |${withBase ? ' baseline ms | engine / baseline | baseline peak RSS MB |' : ''} steps found |`,
  `|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|${withBase ? '---:|---:|---:|' : ''}---:|`,
  ...rows.map(
    (r) =>
      `| ${r.records} | ${r.files} | ${f(r.rawMb)} | ${f(r.engine.ms)} | ${f(r.records / (r.engine.ms / 1000))} | ${f(r.engine.ms / r.parse.ms, 2)} | ${f(r.engine.ms / r.bytes.ms, 2)} | ${f(r.parse.ms)} | ${f(r.bytes.ms)} | ${f(r.engine.maxRssMb)} |${withBase ? ` ${f(r.baseline.ms)} | ${f(r.engine.ms / r.baseline.ms, 2)} | ${f(r.baseline.maxRssMb)} |` : ''} ${r.engine.steps} |`,
  ),
  '',
];
if (rows.length >= 2) {
  const a = rows[0];
  const b = rows[rows.length - 1];
  lines.push(`Growth: ${f(b.records / a.records, 1)}x the events took ${f(b.engine.ms / a.engine.ms, 1)}x the engine time (per-event time ${f(b.engine.ms / b.records / (a.engine.ms / a.records), 2)}x; 1.00 is linear).`, '');
}
lines.push('Reproduce: `npm run bench -- --baseline <commit>` (options: `--sizes 100000,1000000 --reps 5 --cache DIR --out FILE`).', '');
const table = lines.join('\n');
console.log(`\n${table}`);
if (!out) process.exit(0);
// Only this section of the file is replaced: the other sections belong to other benchmarks.
require('../scripts/bench-section.js').writeSection(out, '# Benchmarks', table);
console.log(`bench: wrote ${path.relative(root, out)}`);
