#!/usr/bin/env node
'use strict';
// Runs a TypeScript script of this repository (which may import test/emulator and src/):
// bundles it with esbuild into a temporary file and runs it with the repository root as its
// first argument. `node scripts/run-ts.js scripts/demo-local.ts [args...]`.
const path = require('path');
const os = require('os');
const fs = require('fs');
const { spawnSync } = require('child_process');
const esbuild = require('esbuild');

const root = path.resolve(__dirname, '..');
const [entry, ...args] = process.argv.slice(2);
if (!entry) {
  process.stderr.write('usage: node scripts/run-ts.js <script.ts> [args...]\n');
  process.exit(2);
}
const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'trailstory-run-')), `${path.basename(entry, '.ts')}.js`);
esbuild.buildSync({
  entryPoints: [path.resolve(root, entry)],
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  outfile: out,
  external: ['dynalite', 'playwright-core', '@duckdb/node-api', 'esbuild'],
  nodePaths: [path.join(root, 'node_modules')],
  logLevel: 'error',
});
const r = spawnSync(process.execPath, [out, root, ...args], { stdio: 'inherit', env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...process.env, NODE_PATH: path.join(root, 'node_modules') } });
fs.rmSync(path.dirname(out), { recursive: true, force: true });
process.exitCode = r.status === null ? 1 : r.status;
