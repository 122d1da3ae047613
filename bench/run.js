#!/usr/bin/env node
'use strict';
// `npm run bench`: the storyline engine over gen-trail output of 100,000 and 1,000,000 events
// (scenario a mixed in), timed against two floors measured in the same run on the same files:
//   parse floor: read + gunzip + JSON.parse of every record;  byte floor: read + gunzip alone.
// Each measurement runs in its own child process; the best of --reps runs is kept.
// Writes docs/benchmarks.md. Needs ../shared/tools/gen-trail (skips with a notice without it).
const fs = require('fs');
const os = require('os');
const path = require('path');
const { execFileSync } = require('child_process');

const root = path.resolve(__dirname, '..');
const shared = path.resolve(root, '..', 'shared');
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const sizes = opt('--sizes', '100000,1000000').split(',').map(Number);
const reps = Number(opt('--reps', '2'));
const cache = opt('--cache', path.join(os.tmpdir(), 'trailstory-bench'));
const out = opt('--out', path.join(root, 'docs', 'benchmarks.md'));

if (!fs.existsSync(path.join(shared, 'tools', 'gen-trail'))) {
  console.log('bench: ../shared/tools/gen-trail not found: skipping the benchmark');
  process.exit(0);
}
if (!fs.existsSync(path.join(root, 'dist', 'src', 'trail', 'read.js'))) execFileSync('npm', ['run', 'build:ts'], { cwd: root, stdio: 'inherit' });

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
function measure(mode, dir) {
  let best = null;
  for (let i = 0; i < reps; i++) {
    const r = JSON.parse(execFileSync(process.execPath, [path.join(__dirname, 'measure.js'), mode, dir], { encoding: 'utf8', maxBuffer: 1 << 20 }).trim());
    if (!best || r.ms < best.ms) best = { ...r, maxRssMb: Math.max(r.maxRssMb, best ? best.maxRssMb : 0) };
  }
  return best;
}

const rows = [];
for (const n of sizes) {
  const dir = trailFor(n);
  const gen = JSON.parse(fs.readFileSync(path.join(dir, 'gen-trail.json'), 'utf8'));
  const bytes = measure('bytes', dir);
  const parse = measure('parse', dir);
  const engine = measure('engine', dir);
  const row = { n, records: gen.records, files: gen.files, rawMb: gen.uncompressedBytes / 1e6, bytes, parse, engine };
  rows.push(row);
  console.log(`${n}: engine ${engine.ms.toFixed(0)} ms (${engine.steps} steps), parse floor ${parse.ms.toFixed(0)} ms, byte floor ${bytes.ms.toFixed(0)} ms, engine/parse ${(engine.ms / parse.ms).toFixed(2)}, engine/byte ${(engine.ms / bytes.ms).toFixed(2)}, peak RSS ${engine.maxRssMb.toFixed(0)} MB`);
}

const f = (x, d = 0) => x.toFixed(d);
const lines = [
  '# Benchmarks',
  '',
  `Measured by \`npm run bench\` on ${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${os.cpus().length} cores (${os.cpus()[0] ? os.cpus()[0].model : '?'}), ${f(os.totalmem() / 2 ** 30)} GiB.`,
  'Input: `shared/tools/gen-trail --events N --scenario shared/scenarios/a-leaked-key-cryptomining/spec.json` (S3 delivery layout, `.json.gz`, scenario a mixed in; the engine must find its 12 steps).',
  'Each figure is the best of ' + reps + ' runs, each run a child process; peak RSS is the child\'s maxRSS.',
  '',
  '- **parse floor**: read + gunzip + `JSON.parse` of every record (the reader\'s own `readFileBytes`).',
  '- **byte floor**: read + gunzip alone.',
  '- **engine**: `collectTrail` + `reconstruct` (all of `trailstory investigate` but printing).',
  '',
  '| events | files | raw MB | engine ms | events/s | engine / parse floor | engine / byte floor | parse floor ms | byte floor ms | engine peak RSS MB | parse floor RSS MB | steps found |',
  '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ...rows.map((r) => `| ${r.records} | ${r.files} | ${f(r.rawMb)} | ${f(r.engine.ms)} | ${f(r.records / (r.engine.ms / 1000))} | ${f(r.engine.ms / r.parse.ms, 2)} | ${f(r.engine.ms / r.bytes.ms, 2)} | ${f(r.parse.ms)} | ${f(r.bytes.ms)} | ${f(r.engine.maxRssMb)} | ${f(r.parse.maxRssMb)} | ${r.engine.steps} |`),
  '',
];
if (rows.length >= 2) {
  const a = rows[0];
  const b = rows[rows.length - 1];
  lines.push(`Growth: ${f(b.records / a.records, 1)}x the events took ${f(b.engine.ms / a.engine.ms, 1)}x the engine time (per-event time ${f((b.engine.ms / b.records) / (a.engine.ms / a.records), 2)}x; 1.00 is linear).`, '');
}
lines.push('Reproduce: `npm run bench` (options: `--sizes 100000,1000000 --reps 2 --cache DIR --out FILE`).', '');
fs.mkdirSync(path.dirname(out), { recursive: true });
fs.writeFileSync(out, lines.join('\n'));
console.log(`bench: wrote ${path.relative(root, out)}`);
