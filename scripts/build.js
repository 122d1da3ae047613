#!/usr/bin/env node
/**
 * `npm run build`: bundles each Lambda function of `template.yaml` with esbuild, exactly as
 * `sam build` does from the function's `Metadata.BuildProperties` (one source of truth: the
 * entry point, format, target, minify and source map are read from the template), into
 * `.build/<Name>/<entry>.js` (`<Name>` is the function's logical ID without `Function`), with
 * `.build/<Name>.meta.json` (esbuild's metafile: every input that went into the bundle).
 *
 * CommonJS, platform node, every dependency bundled (the AWS SDK included: `External: []`),
 * so a bundle needs nothing beside it at run time (pitfall 20). `test/template` loads each one.
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

/** The esbuild-built functions of the template: `{ name, logicalId, entry, props }`. */
function functionsOf(templateFile = path.join(ROOT, 'template.yaml')) {
  const t = YAML.parse(fs.readFileSync(templateFile, 'utf8'), { customTags });
  const out = [];
  for (const [logicalId, r] of Object.entries(t.Resources ?? {})) {
    if (r.Type !== 'AWS::Serverless::Function' || r.Metadata?.BuildMethod !== 'esbuild') continue;
    const props = r.Metadata.BuildProperties ?? {};
    const entries = props.EntryPoints ?? [];
    if (entries.length !== 1) throw new Error(`${logicalId}: expected exactly one entry point, found ${entries.length}`);
    out.push({ name: logicalId.replace(/Function$/, ''), logicalId, entry: entries[0], handler: r.Properties?.Handler, props });
  }
  return out;
}

/** Bundles one function; returns the output file and the metafile. */
async function buildOne(fn, outRoot) {
  const p = fn.props;
  const outdir = path.join(outRoot, fn.name);
  fs.rmSync(outdir, { recursive: true, force: true });
  const result = await esbuild.build({
    absWorkingDir: ROOT,
    entryPoints: [fn.entry],
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
  const outfile = path.join(outdir, `${path.basename(fn.entry).replace(/\.[cm]?[jt]s$/, '')}.js`);
  if (!fs.existsSync(outfile)) throw new Error(`${fn.name}: esbuild did not write ${outfile}`);
  const module = path.basename(outfile, '.js');
  if (fn.handler && fn.handler.split('.')[0] !== module) throw new Error(`${fn.logicalId}: Handler ${fn.handler} does not name the bundle ${module}.js`);
  fs.writeFileSync(path.join(outRoot, `${fn.name}.meta.json`), JSON.stringify(result.metafile));
  return { name: fn.name, outfile, metafile: result.metafile, warnings: result.warnings };
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

module.exports = { build, functionsOf, customTags };

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
        const kb = Math.round(fs.statSync(b.outfile).size / 1024);
        console.log(`built ${path.relative(process.cwd(), b.outfile)} (${kb} KiB, ${Object.keys(b.metafile.inputs).length} inputs)`);
      }
    },
    (e) => {
      console.error(`build failed: ${e.message}`);
      process.exitCode = 1;
    },
  );
}
