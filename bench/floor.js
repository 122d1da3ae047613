#!/usr/bin/env node
'use strict';
// The floors of `npm run bench`, fixed on purpose: `node bench/floor.js bytes|parse|key DIR`.
// They use nothing of the product (no dist/, no src/), so making the engine or its reader faster
// does not move them. One thread, one file at a time, in the order of a sorted recursive listing
// of DIR/cloudtrail:
//   bytes: read each file, gunzip it (zlib.gunzipSync) when it is gzip; prints the bytes.
//   parse: the same, then JSON.parse of each whole file and a count of its Records.
//   key:   (a check, not a floor) the parse floor plus a count of the records whose
//          userIdentity.accessKeyId is the access key of DIR/finding.json: what the DuckDB pivot
//          (bench/duckdb-pivot.js) must find.
// Prints one JSON line: {mode, files, bytes, records?, matches?}. The parent times the process.
const fs = require('fs');
const path = require('path');
const zlib = require('zlib');

const [mode, dir] = process.argv.slice(2);
if (!['bytes', 'parse', 'key'].includes(mode) || !dir) {
  process.stderr.write('usage: node bench/floor.js bytes|parse|key DIR   (reads DIR/cloudtrail)\n');
  process.exit(2);
}

/** Every file under `d`, depth first, names sorted. */
function list(d, out = []) {
  for (const e of fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const p = path.join(d, e.name);
    if (e.isDirectory()) list(p, out);
    else if (e.isFile()) out.push(p);
  }
  return out;
}

const key = mode === 'key' ? require('./finding-key.js').findingAccessKey(path.join(dir, 'finding.json')) : null;
let files = 0;
let bytes = 0;
let records = 0;
let matches = 0;
for (const f of list(path.join(dir, 'cloudtrail'))) {
  let b = fs.readFileSync(f);
  if (b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b) b = zlib.gunzipSync(b);
  files++;
  bytes += b.length;
  if (mode === 'bytes') continue;
  const doc = JSON.parse(b.toString('utf8'));
  const recs = doc && Array.isArray(doc.Records) ? doc.Records : [];
  records += recs.length;
  if (key) for (const r of recs) if (r && r.userIdentity && r.userIdentity.accessKeyId === key) matches++;
}
process.stdout.write(`${JSON.stringify(mode === 'bytes' ? { mode, files, bytes } : mode === 'parse' ? { mode, files, bytes, records } : { mode, files, bytes, records, accessKeyId: key, matches })}\n`);
