#!/usr/bin/env node
'use strict';
// The `trailstory` command: a thin launcher onto the compiled CLI (built by `npm ci` through `prepare`).
const path = require('path');
const fs = require('fs');
const main = path.join(__dirname, '..', 'dist', 'src', 'cli', 'main.js');
if (!fs.existsSync(main)) {
  process.stderr.write('trailstory: the compiled CLI is missing (dist/); run `npm ci` or `npm run build:ts` in the repository first\n');
  process.exit(70);
}
// The SDK warns on every run under Node 20 that its releases after January 2027 need Node 22; the
// SDK here is pinned by package-lock.json, so the CLI keeps its output clean unless asked.
if (process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED === undefined) process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
// A reader that stops early (`| head`) closes the pipe: the output is no longer wanted, which
// is not an error of ours.
process.stdout.on('error', (e) => {
  if (e && e.code === 'EPIPE') process.exit(process.exitCode || 0);
  throw e;
});
// A large read keeps a few hundred thousand small rows and makes as much again in garbage; by
// default V8 lets the heap grow to about twice what is live before it collects, which at 10M
// events put the whole process past 300 MB (docs/benchmarks.md). Growing by a fifth keeps it
// near 265 MB for about 2% more time. A heuristic of the collector only (process-wide, the reader
// threads included); set before anything is loaded.
require('v8').setFlagsFromString('--heap-growing-percent=20');
require(main).main(process.argv.slice(2)).then((code) => { process.exitCode = code; });
