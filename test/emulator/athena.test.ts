/**
 * The emulator's Athena (athena.ts, athena-shim.ts) through the real @aws-sdk/client-athena:
 * an organisation trail's delivery files written by hand in a temporary folder, queried on DuckDB.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import {
  AthenaClient, GetQueryExecutionCommand, GetQueryResultsCommand, GetWorkGroupCommand, QueryExecution, Row, StartQueryExecutionCommand, StopQueryExecutionCommand,
} from '@aws-sdk/client-athena';
import { DuckDBInstance } from '@duckdb/node-api';
import { AwsEmulator } from './server';
import { rejection } from './testing';
import { analyse, rewrite } from './athena-shim';
import { CLOUDTRAIL_COLUMNS, recordFromRow, selectedLeaves } from '../../src/sources/athena-tables';
import { insertStatements } from '../../src/layout/insert';

const A = '111111111111';
const B = '222222222222';
const ORG = 'o-trailstory01';
const KEYS = Array.from({ length: 30 }, (_, i) => `AKIAEMUKEY${String(i).padStart(10, '0')}`);

type Rec = Record<string, unknown>;

function record(i: number, account: string, region: string, day: string, key: string): Rec {
  const role = i % 2 === 0;
  return {
    eventVersion: '1.08',
    userIdentity: {
      type: role ? 'AssumedRole' : 'IAMUser',
      principalId: role ? `AROAEXAMPLE:session-${i}` : 'AIDAEXAMPLE',
      arn: role ? `arn:aws:sts::${account}:assumed-role/Admin/session-${i}` : `arn:aws:iam::${account}:user/alice`,
      accountId: account,
      accessKeyId: key,
      ...(role ? {
        sessionContext: {
          attributes: { mfaAuthenticated: 'false', creationDate: `${day.replace(/\//g, '-')}T00:00:00Z` },
          sessionIssuer: { type: 'Role', principalId: 'AROAEXAMPLE', arn: `arn:aws:iam::${account}:role/Admin`, accountId: account, userName: 'Admin' },
        },
      } : { userName: 'alice' }),
    },
    eventTime: `${day.replace(/\//g, '-')}T${String(i % 24).padStart(2, '0')}:00:${String(i % 60).padStart(2, '0')}Z`,
    eventSource: 's3.amazonaws.com',
    eventName: i % 3 ? 'GetObject' : 'ListBuckets',
    awsRegion: region,
    sourceIPAddress: `198.51.100.${i % 250}`,
    userAgent: 'aws-cli/2.15.0',
    ...(i % 5 === 0 ? { errorCode: 'AccessDenied', errorMessage: 'Access Denied' } : {}),
    requestParameters: { bucketName: `bucket-${i % 7}`, key: `k/${i}`, nested: { n: i } },
    responseElements: null,
    ...(i % 4 === 0 ? { additionalEventData: { bytesTransferredOut: i } } : {}),
    requestID: `REQ${i}`,
    eventID: `${account}-${region}-${day.replace(/\//g, '')}-${String(i).padStart(6, '0')}`,
    readOnly: true,
    resources: [{ ARN: `arn:aws:s3:::bucket-${i % 7}`, type: 'AWS::S3::Bucket' }, { accountId: account, type: 'AWS::S3::Object', ARN: `arn:aws:s3:::bucket-${i % 7}/k/${i}` }],
    eventType: 'AwsApiCall',
    recipientAccountId: account,
    eventCategory: 'Data',
  };
}

/** What recordFromRow gives back for a record: JSON text columns as text (compared parsed), booleans as their text. */
function normalise(r: Rec): Rec {
  const out: Rec = JSON.parse(JSON.stringify(r)) as Rec;
  for (const k of ['requestParameters', 'responseElements', 'additionalEventData', 'serviceEventDetails']) {
    if (out[k] === null) delete out[k];
    else if (typeof out[k] === 'string') out[k] = JSON.parse(out[k] as string) as unknown;
  }
  if (typeof out.readOnly === 'boolean') out.readOnly = String(out.readOnly);
  return out;
}

const LEAVES = selectedLeaves().map((l) => (l.json ? `json_format(CAST(${l.path} AS JSON)) AS ${l.alias}` : `${l.path} AS ${l.alias}`)).join(', ');

describe('Athena on DuckDB', () => {
  let emu: AwsEmulator;
  let athena: AthenaClient;
  let dir: string;
  const files: Record<string, { file: string; records: Rec[] }> = {};

  function writeDelivery(name: string, account: string, region: string, day: string, records: Rec[], gz = true): void {
    const folder = path.join(dir, 'AWSLogs', ORG, account, 'CloudTrail', region, day);
    fs.mkdirSync(folder, { recursive: true });
    const body = JSON.stringify({ Records: records });
    const file = path.join(folder, `${account}_CloudTrail_${region}_${day.replace(/\//g, '')}T0000Z_${name}.json${gz ? '.gz' : ''}`);
    fs.writeFileSync(file, gz ? zlib.gzipSync(body) : body);
    files[name] = { file, records };
  }

  const size = (name: string): number => fs.statSync((files[name] as { file: string }).file).size;

  async function run(sql: string, opts: { workGroup?: string; client?: AthenaClient } = {}): Promise<QueryExecution> {
    const c = opts.client ?? athena;
    const { QueryExecutionId } = await c.send(new StartQueryExecutionCommand({ QueryString: sql, QueryExecutionContext: { Database: 'trail' }, ...(opts.workGroup ? { WorkGroup: opts.workGroup } : {}) }));
    for (;;) {
      const { QueryExecution: qe } = await c.send(new GetQueryExecutionCommand({ QueryExecutionId }));
      if (qe && ['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(qe.Status?.State ?? '')) return qe;
      await new Promise((r) => setTimeout(r, 15));
    }
  }

  async function rows(id: string, max?: number): Promise<Row[]> {
    const out: Row[] = [];
    let token: string | undefined;
    do {
      const r = await athena.send(new GetQueryResultsCommand({ QueryExecutionId: id, NextToken: token, ...(max ? { MaxResults: max } : {}) }));
      out.push(...(r.ResultSet?.Rows ?? []));
      token = r.NextToken;
    } while (token);
    return out;
  }

  /** Result rows as alias → value objects (the header row gives the names). */
  function objects(rs: Row[]): Record<string, string | undefined>[] {
    const names = (rs[0]?.Data ?? []).map((d) => d.VarCharValue ?? '');
    return rs.slice(1).map((r) => Object.fromEntries(names.map((n, i) => [n, r.Data?.[i]?.VarCharValue])));
  }

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'athena-emu-'));
    writeDelivery('f1', A, 'us-east-1', '2026/11/01', [0, 1, 2, 3].map((i) => record(i, A, 'us-east-1', '2026/11/01', KEYS[i] as string)));
    writeDelivery('f2', A, 'eu-west-1', '2026/11/01', [10, 11, 12].map((i) => record(i, A, 'eu-west-1', '2026/11/01', KEYS[i] as string)), false);
    writeDelivery('f3', B, 'us-east-1', '2026/11/02', [20, 21].map((i) => record(i, B, 'us-east-1', '2026/11/02', KEYS[i] as string)));
    writeDelivery('f4', A, 'us-east-1', '2026/11/02', Array.from({ length: 9000 }, (_, i) => record(100 + i, A, 'us-east-1', '2026/11/02', KEYS[(i * 7) % KEYS.length] as string)));
    // Beside the data: a digest folder and a marker file that no query may read.
    fs.mkdirSync(path.join(dir, 'AWSLogs', ORG, A, 'CloudTrail-Digest', 'us-east-1', '2026/11/01'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'AWSLogs', ORG, A, 'CloudTrail-Digest', 'us-east-1', '2026/11/01', 'digest.json.gz'), zlib.gzipSync('{"x":1}'));
    fs.writeFileSync(path.join(dir, 'AWSLogs', ORG, A, 'CloudTrail', 'us-east-1', '2026/11/01', '_SUCCESS'), '');
    emu = await AwsEmulator.start({ seed: 3 });
    athena = new AthenaClient(emu.clientConfig(A, 'us-east-1', 1));
  });

  beforeEach(() => {
    emu.reset();
    emu.athena.knobs = { ...emu.athena.knobs, queueMs: 5, runMs: 5 };
    emu.athena.registerTable({
      database: 'trail', name: 'cloudtrail', format: 'cloudtrail-json', location: path.join(dir, 'AWSLogs', ORG),
      partitions: [{ name: 'account', type: 'injected' }, { name: 'region', type: 'enum', values: ['us-east-1', 'eu-west-1'] }, { name: 'day', type: 'date', format: 'yyyy/MM/dd' }],
      locationTemplate: '${account}/CloudTrail/${region}/${day}',
    });
  });

  afterAll(async () => {
    await emu.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('rebuilds the records of the named partitions from the selected leaves, billing only their files', async () => {
    const qe = await run(`SELECT ${LEAVES} FROM "trail"."cloudtrail" WHERE account = '${A}' AND day = '2026/11/01' ORDER BY eventid`);
    expect(qe.Status?.State).toBe('SUCCEEDED');
    expect(qe.Statistics?.DataScannedInBytes).toBe(size('f1') + size('f2'));
    expect(qe.ResultConfiguration?.OutputLocation).toBe(`s3://aws-athena-query-results-${A}-us-east-1/${qe.QueryExecutionId}.csv`);
    expect(qe.Statistics?.QueryQueueTimeInMillis).toBeGreaterThanOrEqual(4);
    expect(qe.Statistics?.TotalExecutionTimeInMillis).toBeGreaterThanOrEqual(qe.Statistics?.EngineExecutionTimeInMillis ?? 0);
    const got = objects(await rows(qe.QueryExecutionId as string)).map((r) => normalise(recordFromRow(r)));
    const want = [...(files.f1 as { records: Rec[] }).records, ...(files.f2 as { records: Rec[] }).records]
      .sort((x, y) => String(x.eventID).localeCompare(String(y.eventID))).map(normalise);
    expect(got).toEqual(want);
    expect(got[0]).toMatchObject({ userIdentity: { sessionContext: { sessionIssuer: { userName: 'Admin' } } }, resources: [{ ARN: 'arn:aws:s3:::bucket-3' }, { accountId: A }] }); // i = 10 (eu-west-1 sorts first)
  });

  it('prunes enum and date partitions by IN, BETWEEN and ranges, with the partition keys as columns', async () => {
    const qe = await run(`SELECT account, region, day, count(*) AS n FROM cloudtrail WHERE account IN ('${A}', '${B}') AND region IN ('us-east-1') AND day BETWEEN '2026/11/02' AND '2026/11/30' GROUP BY 1, 2, 3 ORDER BY 1`);
    expect(qe.Status?.State).toBe('SUCCEEDED');
    expect(qe.Statistics?.DataScannedInBytes).toBe(size('f3') + size('f4'));
    const r = await athena.send(new GetQueryResultsCommand({ QueryExecutionId: qe.QueryExecutionId }));
    expect(r.ResultSet?.ResultSetMetadata?.ColumnInfo?.map((c) => [c.Name, c.Type])).toEqual([['account', 'varchar'], ['region', 'varchar'], ['day', 'varchar'], ['n', 'bigint']]);
    expect(objects(r.ResultSet?.Rows ?? [])).toEqual([{ account: A, region: 'us-east-1', day: '2026/11/02', n: '9000' }, { account: B, region: 'us-east-1', day: '2026/11/02', n: '2' }]);
    const lt = await run(`SELECT count(*) FROM cloudtrail WHERE account = '${A}' AND day < '2026/11/02' AND region >= 'us'`);
    expect(lt.Statistics?.DataScannedInBytes).toBe(size('f1'));
  });

  it('fails a query whose injected partition has no static equality', async () => {
    for (const where of ['', `WHERE day = '2026/11/01'`, `WHERE account LIKE '1111%'`, `WHERE account = '${A}' OR day = '2026/11/01'`]) {
      const qe = await run(`SELECT eventid FROM cloudtrail ${where}`);
      expect(qe.Status?.State).toBe('FAILED');
      expect(qe.Status?.StateChangeReason).toBe('CONSTRAINT_VIOLATION: Injected projected partition column account must have only (and at least one) equality conditions in the WHERE clause!');
      expect(qe.Statistics?.DataScannedInBytes).toBe(0);
    }
  });

  it('fails a grammar error with SYNTAX_ERROR and refuses results of a query not succeeded', async () => {
    const qe = await run(`SELECT eventid FORM cloudtrail WHERE account = '${A}'`);
    expect(qe.Status?.State).toBe('FAILED');
    expect(qe.Status?.StateChangeReason).toMatch(/^SYNTAX_ERROR: line 1:\d+: /);
    expect(qe.Status?.AthenaError?.ErrorCategory).toBe(2);
    expect(await rejection(athena.send(new GetQueryResultsCommand({ QueryExecutionId: qe.QueryExecutionId }))))
      .toMatchObject({ name: 'InvalidRequestException', message: 'Query did not finish successfully. Final query state: FAILED' });
    emu.athena.knobs.queueMs = 300;
    const { QueryExecutionId } = await athena.send(new StartQueryExecutionCommand({ QueryString: 'SELECT 1', WorkGroup: 'primary' }));
    expect(await rejection(athena.send(new GetQueryResultsCommand({ QueryExecutionId }))))
      .toMatchObject({ name: 'InvalidRequestException', message: 'Query has not yet finished. Current state: QUEUED' });
    await athena.send(new StopQueryExecutionCommand({ QueryExecutionId }));
    const { QueryExecution: stopped } = await athena.send(new GetQueryExecutionCommand({ QueryExecutionId }));
    expect(stopped?.Status?.State).toBe('CANCELLED');
    const other = await run('DROP TABLE cloudtrail');
    expect(other.Status?.StateChangeReason).toMatch(/^NOT_SUPPORTED: /);
    const missing = await run(`SELECT 1 FROM nope WHERE x = 1`);
    expect(missing.Status?.StateChangeReason).toBe("TABLE_NOT_FOUND: line 1:15: Table 'awsdatacatalog.trail.nope' does not exist");
  });

  it('pages more than 1000 rows with the header first and NULL as a Datum without value', async () => {
    const qe = await run(`SELECT eventid, errorcode FROM cloudtrail WHERE account = '${A}' AND region = 'us-east-1' AND day = '2026/11/02' ORDER BY eventid`);
    const first = await athena.send(new GetQueryResultsCommand({ QueryExecutionId: qe.QueryExecutionId }));
    expect(first.ResultSet?.Rows).toHaveLength(1000);
    expect(first.ResultSet?.Rows?.[0]?.Data).toEqual([{ VarCharValue: 'eventid' }, { VarCharValue: 'errorcode' }]);
    expect(first.ResultSet?.Rows?.[1]?.Data).toEqual([{ VarCharValue: `${A}-us-east-1-20261102-000100` }, { VarCharValue: 'AccessDenied' }]);
    expect(first.ResultSet?.Rows?.[2]?.Data?.[1]).toEqual({});
    const all = await rows(qe.QueryExecutionId as string, 700);
    expect(all).toHaveLength(9001);
    expect(all[9000]?.Data?.[0]?.VarCharValue).toBe(`${A}-us-east-1-20261102-009099`);
    expect((await rejection(athena.send(new GetQueryResultsCommand({ QueryExecutionId: qe.QueryExecutionId, MaxResults: 1001 })))).name).toBe('InvalidRequestException');
  });

  it("cancels a query beyond its workgroup's bytes scanned cutoff", async () => {
    emu.athena.createWorkGroup(A, 'us-east-1', 'capped', { bytesScannedCutoffPerQuery: size('f1') + 10, outputLocation: 's3://results/capped/' });
    const small = await run(`SELECT count(*) FROM cloudtrail WHERE account = '${A}' AND region = 'us-east-1' AND day = '2026/11/01'`, { workGroup: 'capped' });
    expect(small.Status?.State).toBe('SUCCEEDED');
    expect(small.ResultConfiguration?.OutputLocation).toBe(`s3://results/capped/${small.QueryExecutionId}.csv`);
    const big = await run(`SELECT count(*) FROM cloudtrail WHERE account = '${A}'`, { workGroup: 'capped' });
    expect(big.Status).toMatchObject({ State: 'CANCELLED', StateChangeReason: 'Bytes scanned limit was exceeded' });
    expect(big.Statistics?.DataScannedInBytes).toBe(size('f1') + 10);
    const wg = await athena.send(new GetWorkGroupCommand({ WorkGroup: 'capped' }));
    expect(wg.WorkGroup?.Configuration?.BytesScannedCutoffPerQuery).toBe(size('f1') + 10);
    expect((await rejection(athena.send(new GetWorkGroupCommand({ WorkGroup: 'none' })))).name).toBe('InvalidRequestException');
  });

  it('throttles StartQueryExecution with its token bucket and the active query quota', async () => {
    emu.athena.knobs = { ...emu.athena.knobs, startQueryExecutionPerSecond: 1, startQueryExecutionBurst: 2 };
    const start = () => athena.send(new StartQueryExecutionCommand({ QueryString: 'SELECT 1' }));
    await start();
    await start();
    expect(await rejection(start())).toMatchObject({ name: 'TooManyRequestsException', message: 'Rate exceeded', status: 400 });
    await new Promise((r) => setTimeout(r, 1100));
    await start();
    emu.athena.knobs = { ...emu.athena.knobs, startQueryExecutionPerSecond: 0, maxActiveQueries: 1, queueMs: 500 };
    const other = new AthenaClient(emu.clientConfig(B, 'us-east-1', 1));
    await other.send(new StartQueryExecutionCommand({ QueryString: 'SELECT 1' }));
    expect(await rejection(other.send(new StartQueryExecutionCommand({ QueryString: 'SELECT 1' }))))
      .toMatchObject({ name: 'TooManyRequestsException', message: expect.stringContaining('the number of queries you can run concurrently') });
  });

  it('INSERT INTO a Parquet table sorted by access key: the same rows, fewer bytes for a pivot on one key', async () => {
    const pq = path.join(dir, 'parquet');
    emu.athena.knobs.rowGroupBytes = 64 * 1024;
    emu.athena.registerTable({ database: 'trail', name: 'cloudtrail_parquet', format: 'parquet', location: pq, columns: CLOUDTRAIL_COLUMNS, partitions: [{ name: 'account', type: 'hive' }, { name: 'region', type: 'hive' }, { name: 'day', type: 'hive' }] });
    const cols = CLOUDTRAIL_COLUMNS.map((c) => c.name).join(', ');
    const ins = await run(`INSERT INTO trail.cloudtrail_parquet SELECT ${cols}, account, region, day FROM cloudtrail WHERE account IN ('${A}', '${B}') ORDER BY useridentity.accesskeyid, useridentity.arn`);
    expect(ins.Status?.State).toBe('SUCCEEDED');
    expect(ins.Statistics?.DataScannedInBytes).toBe(['f1', 'f2', 'f3', 'f4'].reduce((n, f) => n + size(f), 0));
    const insRes = await athena.send(new GetQueryResultsCommand({ QueryExecutionId: ins.QueryExecutionId }));
    expect(insRes.UpdateCount).toBe(9009);
    expect(insRes.ResultSet?.Rows ?? []).toEqual([]);
    expect(fs.readdirSync(path.join(pq, `account=${A}`, 'region=us-east-1')).sort()).toEqual(['day=2026%2F11%2F01', 'day=2026%2F11%2F02']); // Hive escapes '/' in values
    const key = KEYS[7] as string;
    const pivot = (table: string) => run(`SELECT ${LEAVES} FROM ${table} WHERE account IN ('${A}', '${B}') AND useridentity.accesskeyid = '${key}' ORDER BY eventid`);
    const overJson = await pivot('cloudtrail');
    const overParquet = await pivot('cloudtrail_parquet');
    expect(overParquet.Status?.State).toBe('SUCCEEDED');
    const j = objects(await rows(overJson.QueryExecutionId as string));
    const p = objects(await rows(overParquet.QueryExecutionId as string));
    expect(j.length).toBeGreaterThan(250);
    expect(p.map((r) => normalise(recordFromRow(r)))).toEqual(j.map((r) => normalise(recordFromRow(r))));
    expect(overParquet.Statistics?.DataScannedInBytes).toBeGreaterThan(0);
    expect(overParquet.Statistics?.DataScannedInBytes).toBeLessThan((overJson.Statistics?.DataScannedInBytes ?? 0) / 2);
    // One column of the same row groups costs less than every leaf.
    const one = await run(`SELECT eventid FROM cloudtrail_parquet WHERE useridentity.accesskeyid = '${key}'`);
    expect(one.Statistics?.DataScannedInBytes).toBeLessThan((overParquet.Statistics?.DataScannedInBytes ?? 0) / 5);
  });

  it("the layout job's INSERT (date_parse / date_format) writes the template's account=/region=/day=yyyy-MM-dd partitions", async () => {
    const pq = path.join(dir, 'layout');
    emu.athena.registerTable({
      database: 'trail', name: 'cloudtrail_parquet', format: 'parquet', location: pq, columns: CLOUDTRAIL_COLUMNS,
      partitions: [{ name: 'account', type: 'injected' }, { name: 'region', type: 'enum', values: ['us-east-1', 'eu-west-1'] }, { name: 'day', type: 'date', format: 'yyyy-MM-dd' }],
      locationTemplate: 'account=${account}/region=${region}/day=${day}',
    });
    const [st, ...more] = insertStatements(new Date('2026-11-01T00:00:00Z'), [A], ['us-east-1', 'eu-west-1'], { database: 'trail' });
    expect(more).toEqual([]);
    const ins = await run((st as { sql: string }).sql);
    expect(ins.Status?.StateChangeReason).toBeUndefined();
    expect(ins.Statistics?.DataScannedInBytes).toBe(size('f1') + size('f2'));
    expect((await athena.send(new GetQueryResultsCommand({ QueryExecutionId: ins.QueryExecutionId }))).UpdateCount).toBe(7);
    expect(fs.readdirSync(path.join(pq, `account=${A}`, 'region=us-east-1'))).toEqual(['day=2026-11-01']);
    const back = await run(`SELECT eventid FROM cloudtrail_parquet WHERE account = '${A}' AND day = '2026-11-01' ORDER BY eventid`);
    expect(objects(await rows(back.QueryExecutionId as string)).map((r) => r.eventid)).toEqual([...files.f2!.records, ...files.f1!.records].map((r) => r.eventID).sort());
  });

  it('shim: Trino functions DuckDB lacks are bridged, table references rewritten', async () => {
    const qe = await run(`SELECT element_at(ARRAY['a', 'b'], 2) AS e, element_at(MAP(ARRAY['k'], ARRAY['v']), 'k') AS m, json_extract_scalar('{"a":"x"}', '$.a') AS j, regexp_like('abc', 'b') AS r, cardinality(ARRAY[1, 2, 3]) AS c, to_unixtime(from_iso8601_timestamp('2026-11-01T00:00:00Z')) AS t, json_format(CAST(ARRAY['x'] AS JSON)) AS f, date_format(date_parse('2026/11/01', '%Y/%m/%d'), '%Y-%m-%d') AS d`);
    expect(qe.Status?.StateChangeReason).toBeUndefined();
    expect(objects(await rows(qe.QueryExecutionId as string))).toEqual([{ e: 'b', m: 'v', j: 'x', r: 'true', c: '3', t: '1793491200', f: '["x"]', d: '2026-11-01' }]);
    const a = analyse(`SELECT t.useridentity.arn FROM "Trail"."CloudTrail" t JOIN other o ON t.x = o.x WHERE t.account = '1' AND day BETWEEN 'a' AND 'b' AND (region IN ('r1', 'r2')) AND x > 3 OR y = 1 LIMIT 5`);
    expect(a.refs.map((r) => [r.database, r.name, r.alias])).toEqual([['trail', 'cloudtrail', 't'], [undefined, 'other', 'o']]);
    expect(a.refs[0]?.conditions.map((c) => [c.path.join('.'), c.op, c.values])).toEqual([['t.account', '=', ['1']], ['day', 'between', ['a', 'b']], ['region', 'in', ['r1', 'r2']], ['', 'other', []]]);
    expect(rewrite(a, (r) => (r.name === 'cloudtrail' ? 'SELECT 1' : undefined))).toContain('FROM (SELECT 1) t JOIN other o');
    const lower = await run(`SELECT useridentity.accessKeyId AS k FROM cloudtrail WHERE account = '${A}' AND region = 'eu-west-1'`);
    expect(objects(await rows(lower.QueryExecutionId as string)).map((r) => r.k)).toEqual([KEYS[10], KEYS[11], KEYS[12]]);
  });

  it('Security Lake: Hive partitions found case-insensitively (accountId=, eventDay=), Parquet billed by the columns named', async () => {
    const sl = path.join(dir, 'securitylake');
    const folder = (acct: string, day: string) => path.join(sl, 'region=us-east-1', `accountId=${acct}`, `eventDay=${day}`);
    const duck = await DuckDBInstance.create(':memory:');
    const conn = await duck.connect();
    const files: string[] = [];
    for (const [acct, day] of [[A, '20261101'], [A, '20261102'], [B, '20261101']] as const) {
      fs.mkdirSync(folder(acct, day), { recursive: true });
      const f = path.join(folder(acct, day), 'part-0.zstd.parquet');
      files.push(f);
      await conn.run(`COPY (SELECT 'API Activity' AS class_name, i AS severity_id, {'uid': '${acct}'} AS cloud FROM range(50) r(i)) TO '${f}' (FORMAT parquet)`);
    }
    const meta = (await conn.runAndReadAll(`SELECT sum(total_compressed_size)::BIGINT FROM parquet_metadata('${files[0] as string}') WHERE path_in_schema = 'class_name'`)).getRows();
    conn.closeSync();
    duck.closeSync();
    emu.athena.registerTable({
      database: 'amazon_security_lake_glue_db_us_east_1', name: 'amazon_security_lake_table_us_east_1_cloud_trail_mgmt_2_0', format: 'parquet', location: sl,
      partitions: [{ name: 'region', type: 'hive' }, { name: 'accountid', type: 'hive' }, { name: 'eventday', type: 'hive' }],
    });
    const qe = await run(`SELECT accountid, eventday, class_name, count(*) AS n FROM amazon_security_lake_glue_db_us_east_1.amazon_security_lake_table_us_east_1_cloud_trail_mgmt_2_0 WHERE eventday = '20261101' AND accountid = '${A}' GROUP BY 1, 2, 3`);
    expect(qe.Status?.StateChangeReason).toBeUndefined();
    expect(objects(await rows(qe.QueryExecutionId as string))).toEqual([{ accountid: A, eventday: '20261101', class_name: 'API Activity', n: '50' }]);
    expect(qe.Statistics?.DataScannedInBytes).toBe(Number(meta[0]?.[0]));
  });

  it('failRate fails a query with an internal error, retryable', async () => {
    emu.athena.knobs.failRate = 1;
    const qe = await run('SELECT 1');
    expect(qe.Status?.State).toBe('FAILED');
    expect(qe.Status?.StateChangeReason).toMatch(/^INTERNAL_ERROR_QUERY_ENGINE: /);
    expect(qe.Status?.AthenaError).toMatchObject({ ErrorCategory: 1, Retryable: true });
    emu.athena.knobs = { ...emu.athena.knobs, failRate: 0, throttleRate: 1 };
    expect(await rejection(athena.send(new GetQueryExecutionCommand({ QueryExecutionId: qe.QueryExecutionId })))).toMatchObject({ name: 'TooManyRequestsException', status: 400 });
  });
});
