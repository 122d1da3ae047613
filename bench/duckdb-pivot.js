#!/usr/bin/env node
'use strict';
// DuckDB's one-key pivot, the competitor of `npm run bench`: `node bench/duckdb-pivot.js DIR`.
// What a security engineer with DuckDB does first with a leaked key: an in-memory DuckDB
// (@duckdb/node-api) on every core, `read_json` over DIR/cloudtrail/**/*.json.gz, the delivery
// files' Records unnested, the records whose userIdentity.accessKeyId is the finding's key
// (DIR/finding.json) counted. Records is given a type instead of DuckDB inferring one: gen-trail's
// records have the many shapes of real CloudTrail, and the one column the pivot needs is all it
// reads (DuckDB skips the other keys). Prints one JSON line: {accessKeyId, matches, threads,
// duckdb}. The parent times the whole process.
const os = require('os');
const path = require('path');
const { findingAccessKey } = require('./finding-key.js');

/**
 * The pivot's SQL over the files that `glob` matches. The key goes in as a literal (it is
 * letters and digits, checked by findingAccessKey): as a prepared statement's parameter the
 * same query took 0.2 s more at 100k events (DuckDB 1.5.6).
 */
const pivotSql = (glob, key) =>
  `SELECT count(*) AS matches FROM (
  SELECT unnest(Records) AS r
  FROM read_json('${glob.replace(/'/g, "''")}', columns = {Records: 'STRUCT(userIdentity STRUCT(accessKeyId VARCHAR))[]'})
) WHERE r.userIdentity.accessKeyId = '${key}'`;

async function main(dir) {
  const { DuckDBInstance, version } = require('@duckdb/node-api');
  const key = findingAccessKey(path.join(dir, 'finding.json'));
  const threads = os.availableParallelism();
  const db = await DuckDBInstance.create(':memory:');
  const con = await db.connect();
  await con.run(`SET threads = ${threads}`);
  const reader = await con.runAndReadAll(pivotSql(path.join(path.resolve(dir), 'cloudtrail', '**', '*.json.gz'), key));
  const matches = Number(reader.getRows()[0][0]);
  con.closeSync();
  db.closeSync();
  process.stdout.write(`${JSON.stringify({ accessKeyId: key, matches, threads, duckdb: version() })}\n`);
}

module.exports = { pivotSql };
if (require.main === module) {
  const dir = process.argv[2];
  if (!dir || process.argv.length > 3) {
    process.stderr.write('usage: node bench/duckdb-pivot.js DIR   (DIR/finding.json, DIR/cloudtrail)\n');
    process.exit(2);
  }
  main(dir).catch((e) => {
    process.stderr.write(`bench/duckdb-pivot: ${e.message}\n`);
    process.exit(1);
  });
}
