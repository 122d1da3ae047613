#!/usr/bin/env node
/**
 * Module load of the Lambda functions' bundles: what a cold start pays before the handler runs.
 *
 * Builds every function of template.yaml with scripts/build.js (the same settings `sam build`
 * reads) into a temporary folder, then for each function: the size of its entry file (the file
 * its Handler names, loaded at start), the size of its separate report file when it has one (the
 * enrich worker's report.js: the HTML report's renderers and elkjs, loaded on the first report),
 * and the time `require` takes, each run in a fresh Node process of its own, under the function's
 * template environment (NODE_OPTIONS included, as Lambda sets it), from the function's folder
 * alone: the entry file, then the report file after it (a second column). One unmeasured run
 * per function first (the files into the page cache), then --reps rounds over every function;
 * each figure is the median of its rounds.
 *
 * Usage: node bench/module-load.js [--reps 5] [--out FILE]
 * Prints a Markdown table; with --out it also replaces the "## Lambda module load" section of
 * FILE (scripts/bench-section.js).
 */
'use strict';

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { parseArgs } = require('node:util');
const YAML = require('yaml');
const { build, customTags } = require('../scripts/build.js');

const ROOT = path.resolve(__dirname, '..');
const USAGE = 'usage: node bench/module-load.js [--reps N] [--out FILE]';
const HEADING = '## Lambda module load';
/** The limits the issue sets for the file each function loads at start. */
const ENTRY_LIMIT_BYTES = 1.5e6;
const LOAD_LIMIT_MS = 300;

/** Runs in the child: requires the entry file, then the report file, and prints both times (ms). */
const CHILD = `
const t0 = process.hrtime.bigint();
const m = require(process.argv[1]);
const t1 = process.hrtime.bigint();
if (typeof m.handler !== 'function') throw new Error('no handler export');
let report = null;
if (process.argv[2]) {
  const t2 = process.hrtime.bigint();
  require(process.argv[2]);
  report = Number(process.hrtime.bigint() - t2) / 1e6;
}
process.stdout.write('\\nLOAD ' + JSON.stringify({ entry: Number(t1 - t0) / 1e6, report }) + '\\n');
`;

function options(argv) {
  try {
    const { values } = parseArgs({ args: argv, options: { reps: { type: 'string', default: '5' }, out: { type: 'string' } }, strict: true });
    const reps = Number(values.reps);
    if (!Number.isInteger(reps) || reps < 1 || reps > 100) throw new Error('--reps: 1 to 100');
    return { reps, out: values.out };
  } catch (e) {
    process.stderr.write(`${e.message}\n${USAGE}\n`);
    process.exitCode = 2;
    return null;
  }
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const mb = (bytes) => (bytes / 1e6).toFixed(2);

/**
 * A function's template environment with stand-in values (parameters' defaults, resources'
 * names; nothing is called at load), plus what Lambda itself sets.
 */
function environmentOf(resource, template) {
  const vars = resource.Properties?.Environment?.Variables ?? {};
  const env = {};
  for (const [k, v] of Object.entries(vars)) {
    const ref = v && typeof v === 'object' && typeof v.Ref === 'string' ? v.Ref : undefined;
    if (ref && template.Parameters?.[ref]) env[k] = String(template.Parameters[ref].Default ?? '');
    else if (ref && template.Resources?.[ref]?.Type === 'AWS::SQS::Queue') env[k] = `https://sqs.us-east-1.amazonaws.com/123456789012/${ref}`;
    else if (ref === 'AWS::AccountId') env[k] = '123456789012';
    else if (ref) env[k] = `trailstory-${ref}`;
    else env[k] = String(v);
  }
  return {
    ...env,
    AWS_REGION: 'us-east-1',
    AWS_LAMBDA_FUNCTION_NAME: resource.logicalId,
    // Lambda's nodejs22.x has no use for the SDK's warning about Node 20, which this machine may run.
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
}

/** One child process: the load times of the entry file (and of the report file after it). */
function loadOnce(fn) {
  const r = spawnSync(process.execPath, ['-e', CHILD, fn.entryFile, ...(fn.reportFile ? [fn.reportFile] : [])], {
    cwd: fn.dir,
    encoding: 'utf8',
    timeout: 60_000,
    env: { PATH: process.env.PATH ?? '', HOME: fn.dir, ...fn.env },
  });
  const line = /^LOAD (.*)$/m.exec(r.stdout ?? '');
  if (r.status !== 0 || !line) throw new Error(`${fn.name}: the bundle did not load (exit ${r.status}): ${(r.stderr || r.stdout || '').trim().split('\n').slice(-3).join(' | ')}`);
  return JSON.parse(line[1]);
}

/** The SDK clients esbuild put in an output file, from its metafile entry. */
function sdkClients(output) {
  const names = new Set();
  for (const f of Object.keys(output?.inputs ?? {})) {
    const m = /node_modules\/@aws-sdk\/client-([a-z0-9-]+)\//.exec(f);
    if (m) names.add(m[1]);
  }
  return [...names].sort();
}

async function main() {
  const opts = options(process.argv.slice(2));
  if (!opts) return;
  const template = YAML.parse(fs.readFileSync(path.join(ROOT, 'template.yaml'), 'utf8'), { customTags });
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'trailstory-module-load-'));
  try {
    process.stderr.write(`module-load: building the functions into ${tmp}\n`);
    const built = await build({ outRoot: tmp });
    const fns = built.map((b) => {
      const logicalId = `${b.name}Function`;
      const resource = { ...template.Resources[logicalId], logicalId };
      const report = b.files.find((f) => path.basename(f.outfile) === 'report.js');
      const outputKey = (file) => path.relative(ROOT, file).split(path.sep).join('/');
      return {
        name: b.name,
        dir: path.dirname(b.outfile),
        entryFile: b.outfile,
        reportFile: report ? report.outfile : null,
        entryBytes: fs.statSync(b.outfile).size,
        reportBytes: report ? fs.statSync(report.outfile).size : null,
        clients: sdkClients(b.metafile.outputs[outputKey(b.outfile)]),
        elkInEntry: Object.keys(b.metafile.outputs[outputKey(b.outfile)]?.inputs ?? {}).some((f) => f.includes('node_modules/elkjs/')),
        env: environmentOf(resource, template),
        times: [],
      };
    });
    for (const fn of fns) loadOnce(fn); // unmeasured: the files into the page cache
    for (let rep = 0; rep < opts.reps; rep++) {
      for (const fn of fns) fn.times.push(loadOnce(fn));
      process.stderr.write(`module-load: round ${rep + 1}/${opts.reps}\n`);
    }

    const cpus = os.cpus();
    const nodeOptions = [...new Set(fns.map((f) => f.env.NODE_OPTIONS ?? ''))].join(', ') || 'none';
    const rows = fns.map((fn) => {
      const entryMs = median(fn.times.map((t) => t.entry));
      const reportMs = fn.reportFile ? median(fn.times.map((t) => t.report)) : null;
      return `| ${fn.name} | \`${path.basename(fn.entryFile)}\` | ${fn.entryBytes.toLocaleString('en-US')} (${mb(fn.entryBytes)} MB) | ${fn.reportBytes === null ? '–' : `\`${path.basename(fn.reportFile)}\` ${fn.reportBytes.toLocaleString('en-US')} (${mb(fn.reportBytes)} MB)`} | ${entryMs.toFixed(0)} | ${reportMs === null ? '–' : reportMs.toFixed(0)} | ${fn.elkInEntry ? 'yes' : 'no'} | ${fn.clients.join(', ')} |`;
    });
    const table = [
      HEADING,
      '',
      `Machine: ${cpus.length} cores, ${cpus[0]?.model?.trim() ?? 'unknown CPU'}; Node ${process.version}; ${new Date().toISOString().slice(0, 10)}.`,
      `Command: \`node bench/module-load.js --reps ${opts.reps}\`. Each function built by scripts/build.js from template.yaml, loaded from its own folder in a fresh Node process under its template environment (NODE_OPTIONS ${nodeOptions}); load = \`require\` of the file, median of ${opts.reps} processes (one unmeasured run first). The report file is required after the entry file, as on the first report. Limits: entry file under ${mb(ENTRY_LIMIT_BYTES)} MB, its load under ${LOAD_LIMIT_MS} ms.`,
      '',
      '| function | entry file | entry bytes | separate report file | entry load ms | report load ms (after the entry) | elkjs in entry | SDK clients in entry |',
      '| --- | --- | ---: | --- | ---: | ---: | --- | --- |',
      ...rows,
      '',
    ].join('\n');
    process.stdout.write(`${table}\n`);
    if (opts.out) {
      require('../scripts/bench-section.js').writeSection(path.resolve(opts.out), HEADING, table);
      process.stderr.write(`module-load: wrote "${HEADING}" in ${opts.out}\n`);
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((e) => {
  process.stderr.write(`module-load: ${e.message}\n`);
  process.exitCode = 1;
});
