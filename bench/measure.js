'use strict';
// One measurement in its own process: `node bench/measure.js <bytes|parse|engine> DIR [ROOT]`.
// Prints one JSON line: {mode, ms, maxRssMb, records, steps?}. ROOT (default: this repository)
// is the checkout whose compiled engine is measured: `npm run bench -- --baseline REF` measures an
// older commit's engine this way, in the same run.
// The floors read files with the engine's own reader (readFileBytes: read + gunzip), so the
// three measurements differ only in what is done with the bytes.
const path = require('path');
const { listTrailFiles, readFileBytes } = require('../dist/src/trail/read.js');
const engineRoot = path.resolve(process.argv[4] || path.join(__dirname, '..'));

async function measure(mode, dir) {
const trail = path.join(dir, 'cloudtrail');
const t0 = process.hrtime.bigint();
let records = 0;
let steps;
if (mode === 'bytes') {
  for (const f of listTrailFiles([trail])) records += readFileBytes(f).length > 0 ? 1 : 0;
} else if (mode === 'parse') {
  for (const f of listTrailFiles([trail])) {
    const doc = JSON.parse(readFileBytes(f).toString('utf8'));
    for (const r of doc.Records) if (r) records++;
  }
} else if (mode === 'engine') {
  const { readFinding, collectTrail } = require(path.join(engineRoot, 'dist/src/storyline/investigate.js'));
  const { reconstruct } = require(path.join(engineRoot, 'dist/src/storyline/reconstruct.js'));
  const { loadEventMap } = require(path.join(engineRoot, 'dist/src/storyline/tactics.js'));
  const finding = readFinding(path.join(dir, 'finding.json'));
  const c = await collectTrail(finding, [trail]);
  const st = reconstruct(finding, c.events, c.stats, { eventMap: loadEventMap() });
  records = st.coverage.recordsRead;
  steps = st.steps.length;
} else {
  process.stderr.write('usage: measure.js <bytes|parse|engine> DIR [ROOT]\n');
  process.exit(2);
}
const ms = Number(process.hrtime.bigint() - t0) / 1e6;
const maxRssMb = process.resourceUsage().maxRSS / 1024;
process.stdout.write(JSON.stringify({ mode, ms, maxRssMb, records, steps }) + '\n');
}

const [mode, dir] = process.argv.slice(2);
measure(mode, dir).catch((e) => {
  process.stderr.write(`${e.stack}\n`);
  process.exit(1);
});
