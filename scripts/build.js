#!/usr/bin/env node
/**
 * `npm run build`: bundles each Lambda function of `template.yaml` with esbuild, exactly as
 * `sam build` does from the function's `Metadata.BuildProperties` (one source of truth: the
 * entry points, format, target, main fields, minify and source map are read from the template),
 * into `.build/<Name>/` (`<Name>` is the function's logical ID without `Function`), with
 * `.build/<Name>.meta.json` (esbuild's metafile: every input that went into each output file).
 *
 * `EntryPoints` may name more than one file: one esbuild run over all of them, as `sam build`
 * does (no `outbase`, so files of one folder land side by side in the function's folder). The
 * entry point whose file the `Handler` names is the one Lambda loads at start; the others are
 * files beside it that it requires when it needs them (the enrich worker's `report.js`).
 *
 * CommonJS, platform node, every dependency bundled (the AWS SDK included: `External: []`),
 * so a bundle needs nothing outside its folder at run time (pitfall 20). `test/template` loads
 * each one.
 *
 * Usage: node scripts/build.js [--outdir DIR] [Name ...]
 */
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const esbuild = require('esbuild');
const YAML = require('yaml');

const ROOT = path.resolve(__dirname, '..');

/** CloudFormation's short-form intrinsics, enough to parse the template (values are not resolved). */
const INTRINSICS = ['Ref', 'Condition'].map((n) => [n, n]).concat(
  ['GetAtt', 'Sub', 'Select', 'Join', 'If', 'Equals', 'Not', 'And', 'Or', 'FindInMap', 'Split', 'GetAZs', 'ImportValue', 'Base64', 'Cidr', 'Length', 'ToJsonString'].map((n) => [n, `Fn::${n}`]),
);
const customTags = INTRINSICS.flatMap(([short, long]) => [
  { tag: `!${short}`, resolve: (s) => ({ [long]: short === 'GetAtt' ? s.split('.') : s }) },
  { tag: `!${short}`, collection: 'seq', resolve: (s) => ({ [long]: s.toJSON() }) },
  { tag: `!${short}`, collection: 'map', resolve: (m) => ({ [long]: m.toJSON() }) },
]);

/** An entry point's output name: its file name without the extension (`functions/report.ts` → `report`). */
const moduleOf = (entry) => path.basename(entry).replace(/\.[cm]?[jt]s$/, '');

/**
 * The esbuild-built functions of the template: `{ name, logicalId, entry, entries, handler, props }`,
 * `entry` the handler's entry point (the one its `Handler` names), `entries` all of them.
 */
function functionsOf(templateFile = path.join(ROOT, 'template.yaml')) {
  const t = YAML.parse(fs.readFileSync(templateFile, 'utf8'), { customTags });
  const out = [];
  for (const [logicalId, r] of Object.entries(t.Resources ?? {})) {
    if (r.Type !== 'AWS::Serverless::Function' || r.Metadata?.BuildMethod !== 'esbuild') continue;
    const props = r.Metadata.BuildProperties ?? {};
    const entries = props.EntryPoints ?? [];
    if (!Array.isArray(entries) || entries.length === 0) throw new Error(`${logicalId}: EntryPoints must list at least one file`);
    if (new Set(entries.map(moduleOf)).size !== entries.length) throw new Error(`${logicalId}: two EntryPoints would write the same file`);
    const handler = r.Properties?.Handler;
    const module = typeof handler === 'string' ? handler.replace(/\.[^./]+$/, '') : undefined;
    const entry = module === undefined ? entries[0] : entries.find((e) => moduleOf(e) === path.basename(module));
    if (entry === undefined) throw new Error(`${logicalId}: Handler ${handler} names none of the EntryPoints (${entries.join(', ')})`);
    out.push({ name: logicalId.replace(/Function$/, ''), logicalId, entry, entries, handler, props });
  }
  return out;
}

/**
 * Bundles one function; returns the handler's output file (`outfile`), every entry point's
 * (`files`: `{ entry, outfile }`, the handler's first) and the metafile.
 */
async function buildOne(fn, outRoot) {
  const p = fn.props;
  const outdir = path.join(outRoot, fn.name);
  fs.rmSync(outdir, { recursive: true, force: true });
  const result = await esbuild.build({
    absWorkingDir: ROOT,
    entryPoints: fn.entries,
    outdir,
    bundle: true,
    platform: 'node', // what `sam build` always passes
    format: p.Format ?? 'cjs',
    target: p.Target ?? 'es2020',
    minify: p.Minify ?? true,
    sourcemap: p.Sourcemap === true,
    external: p.External ?? [],
    mainFields: p.MainFields ? String(p.MainFields).split(',') : undefined,
    metafile: true,
    logLevel: 'warning',
  });
  // Each entry point's output file, from the metafile (esbuild names them, as under `sam build`).
  const outputOf = new Map(Object.entries(result.metafile.outputs).filter(([, o]) => o.entryPoint).map(([file, o]) => [o.entryPoint, path.resolve(ROOT, file)]));
  const files = [fn.entry, ...fn.entries.filter((e) => e !== fn.entry)].map((entry) => ({ entry, outfile: outputOf.get(entry) }));
  for (const f of files) {
    if (!f.outfile || !fs.existsSync(f.outfile)) throw new Error(`${fn.name}: esbuild wrote no file for ${f.entry}`);
    // Beside the handler's file: Lambda loads the handler from the folder's top, the handler requires the others from its own folder.
    if (path.dirname(f.outfile) !== outdir) throw new Error(`${fn.name}: ${f.entry} was written to ${path.relative(outdir, f.outfile)}, not at the top of the function's folder (keep every entry point in one folder)`);
  }
  const outfile = files[0].outfile;
  const module = path.basename(outfile, '.js');
  if (fn.handler && fn.handler.split('.')[0] !== module) throw new Error(`${fn.logicalId}: Handler ${fn.handler} does not name the bundle ${module}.js`);
  fs.writeFileSync(path.join(outRoot, `${fn.name}.meta.json`), JSON.stringify(result.metafile));
  return { name: fn.name, outfile, files, metafile: result.metafile, warnings: result.warnings };
}

/** Builds the named functions (all by default) into `outRoot` (default `.build`). */
async function build({ outRoot = path.join(ROOT, '.build'), only = [] } = {}) {
  fs.mkdirSync(outRoot, { recursive: true });
  const fns = functionsOf().filter((f) => only.length === 0 || only.includes(f.name));
  if (fns.length === 0) throw new Error('no esbuild function in template.yaml' + (only.length ? ` named ${only.join(', ')}` : ''));
  const built = [];
  for (const fn of fns) built.push(await buildOne(fn, outRoot));
  return built;
}

module.exports = { build, functionsOf, customTags, moduleOf };

if (require.main === module) {
  const args = process.argv.slice(2);
  let outRoot;
  const only = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--outdir') outRoot = path.resolve(args[++i] ?? '');
    else only.push(args[i]);
  }
  build({ outRoot, only }).then(
    (built) => {
      for (const b of built) {
        for (const f of b.files) {
          const out = b.metafile.outputs[path.relative(ROOT, f.outfile).split(path.sep).join('/')];
          const kb = Math.round(fs.statSync(f.outfile).size / 1024);
          console.log(`built ${path.relative(process.cwd(), f.outfile)} (${kb} KiB, ${out ? Object.keys(out.inputs).length : '?'} inputs)`);
        }
      }
    },
    (e) => {
      console.error(`build failed: ${e.message}`);
      process.exitCode = 1;
    },
  );
}
