/**
 * The Parquet layout job's SQL (src/layout/insert.ts) and its run (src/layout/run.ts, with fake
 * Athena, S3 and Organizations clients): batches of at most 100 partitions, every statement
 * parsing with Trino's grammar, partitions cleared before a day is written again, failures loud.
 */
import { CLOUDTRAIL_COLUMNS } from '../../src/sources/athena-tables';
import { batchPartitions, insertStatements, MAX_PARTITIONS_PER_INSERT, parquetDay, rawDay } from '../../src/layout/insert';
import { daysToLayOut, layoutDay, layoutSettings, LayoutError, organizationAccounts, type LayoutIo, type LayoutSettings } from '../../src/layout/run';
import { readConfig } from '../../src/config';
import { trinoErrors } from '../support/trino';

const accounts = (n: number) => Array.from({ length: n }, (_, i) => String(100000000000 + i));
const REGIONS = ['us-east-1', 'us-east-2', 'us-west-2', 'eu-west-1', 'eu-central-1', 'ap-southeast-2', 'ap-northeast-1'];
const DAY = new Date('2025-06-30T00:00:00Z');

describe('insertStatements', () => {
  test('the day in both formats', () => {
    expect([rawDay(DAY), parquetDay(DAY)]).toEqual(['2025/06/30', '2025-06-30']);
  });

  test('batches: every account-region pair once, at most 100 a batch', () => {
    for (const [n, r] of [[1, 1], [14, 7], [15, 7], [1000, 17], [3, 100]] as const) {
      const regions = Array.from({ length: r }, (_, i) => `us-t${String.fromCharCode(97 + Math.floor(i / 26), 97 + (i % 26))}-1`);
      const batches = batchPartitions(accounts(n), regions);
      expect(batches.every((b) => b.length <= MAX_PARTITIONS_PER_INSERT && b.length > 0)).toBe(true);
      const pairs = batches.flat().map((p) => `${p.account}/${p.region}`);
      expect(pairs.length).toBe(n * r);
      expect(new Set(pairs).size).toBe(n * r);
      // Whole accounts a batch (floor(100 / regions) of them), or one account's regions split.
      expect(batches.length).toBe(r <= 100 ? Math.ceil(n / Math.floor(100 / r)) : n * Math.ceil(r / 100));
      for (const b of batches) expect(new Set(b.map((p) => p.account)).size === 1 || b.length === new Set(b.map((p) => p.account)).size * r).toBe(true);
    }
    expect(() => batchPartitions(accounts(1), REGIONS, 101)).toThrow(RangeError);
    expect(() => batchPartitions(['12345'], REGIONS)).toThrow(/account/);
    expect(() => batchPartitions(accounts(1), ["us-east-1'; DROP"])).toThrow(/region/);
  });

  test('each statement: every column, the partition keys last, the raw day filtered and rewritten, sorted by access key and ARN; Trino parses it', () => {
    const sts = insertStatements(DAY, accounts(30), REGIONS, { database: 'trail_db' });
    expect(sts).toHaveLength(Math.ceil((30 * 7) / 100));
    for (const st of sts) {
      expect(st.sql.startsWith('INSERT INTO trail_db.cloudtrail_parquet\nSELECT\n')).toBe(true);
      const select = /SELECT\n([\s\S]*)\nFROM/.exec(st.sql)![1]!.split(',\n').map((x) => x.trim());
      expect(select).toEqual([...CLOUDTRAIL_COLUMNS.map((c) => c.name), 'account', 'region', "date_format(date_parse(day, '%Y/%m/%d'), '%Y-%m-%d') AS day"]);
      expect(st.sql).toContain('FROM trail_db.cloudtrail\n');
      expect(st.sql).toContain("AND day = '2025/06/30'");
      expect(st.sql.endsWith('ORDER BY useridentity.accesskeyid, useridentity.arn')).toBe(true);
      expect(st.day).toBe('2025-06-30');
      // The WHERE names exactly the batch's pairs.
      for (const p of st.partitions) expect(st.sql).toContain(`'${p.account}'`);
      expect(trinoErrors(st.sql)).toEqual([]);
    }
  });

  test('a batch holds whole accounts, so its WHERE is equality on the injected account partition (never an OR of pairs)', () => {
    const [first, second] = insertStatements(DAY, accounts(15), REGIONS, { database: 'db' });
    // 7 regions: 14 whole accounts (98 partitions) a batch, the 15th alone.
    expect(first!.partitions).toHaveLength(98);
    expect(second!.partitions).toHaveLength(7);
    expect(second!.sql).toContain("WHERE account IN ('100000000014') AND region IN (");
    for (const st of [first!, second!]) {
      expect(st.sql).not.toMatch(/ OR /);
      expect(trinoErrors(st.sql)).toEqual([]);
    }
    // More regions than a statement may write: one account a statement, its regions split.
    const many = Array.from({ length: 130 }, (_, i) => `us-t${String.fromCharCode(97 + Math.floor(i / 26), 97 + (i % 26))}-1`);
    const split = insertStatements(DAY, accounts(2), many, { database: 'db' });
    expect(split.map((x) => [new Set(x.partitions.map((p) => p.account)).size, x.partitions.length])).toEqual([[1, 100], [1, 30], [1, 100], [1, 30]]);
  });

  test('the parser is not vacuous', () => {
    expect(trinoErrors('INSERT INTO db.t SELECT FROM WHERE')).not.toEqual([]);
  });

  test('names are checked (no injection through the configuration)', () => {
    expect(() => insertStatements(DAY, accounts(1), REGIONS, { database: 'db; DROP TABLE x' })).toThrow(/Glue name/);
  });
});

describe('the layout run', () => {
  type Sent = { name: string; input: Record<string, unknown> };
  function fakeIo(opts: { fail?: (sql: string) => string | undefined; objects?: string[]; accounts?: string[][] } = {}) {
    const sent: Sent[] = [];
    const infos: Record<string, unknown>[] = [];
    let q = 0;
    const sqlOf = new Map<string, string>();
    const objects = new Set(opts.objects ?? []);
    const io: LayoutIo = {
      athena: {
        send: (async (c: { constructor: { name: string }; input: Record<string, unknown> }) => {
          const name = c.constructor.name.replace(/Command$/, '');
          sent.push({ name, input: c.input });
          if (name === 'StartQueryExecution') {
            const id = `q-${++q}`;
            sqlOf.set(id, c.input.QueryString as string);
            return { QueryExecutionId: id };
          }
          const id = c.input.QueryExecutionId as string;
          const reason = opts.fail?.(sqlOf.get(id)!);
          return { QueryExecution: { QueryExecutionId: id, Status: reason ? { State: 'FAILED', StateChangeReason: reason } : { State: 'SUCCEEDED' }, Statistics: { DataScannedInBytes: 1000, EngineExecutionTimeInMillis: 5 } } };
        }) as never,
      },
      s3: {
        send: (async (c: { constructor: { name: string }; input: Record<string, unknown> }) => {
          const name = c.constructor.name.replace(/Command$/, '');
          sent.push({ name, input: c.input });
          if (name === 'ListObjectsV2') return { Contents: [...objects].filter((k) => k.startsWith(c.input.Prefix as string)).map((Key) => ({ Key })) };
          if (name === 'DeleteObjects') for (const o of (c.input.Delete as { Objects: { Key: string }[] }).Objects) objects.delete(o.Key);
          return {};
        }) as never,
      },
      organizations: {
        send: (async (c: { input: { NextToken?: string } }) => {
          const pages = opts.accounts ?? [accounts(3)];
          const i = c.input.NextToken ? Number(c.input.NextToken) : 0;
          return { Accounts: pages[i]!.map((Id) => ({ Id })), NextToken: i + 1 < pages.length ? String(i + 1) : undefined };
        }) as never,
      },
      log: { info: (_m, x) => infos.push(x ?? {}), error: () => undefined },
      sleep: async () => undefined,
    };
    return { io, sent, infos, objects };
  }
  const settings: LayoutSettings = { workgroup: 'wg-layout', database: 'db', table: 'cloudtrail', parquetTable: 'cloudtrail_parquet', parquetLocation: 's3://bucket/cloudtrail-parquet/', regions: REGIONS, concurrency: 3 };

  test('accounts from every ListAccounts page', async () => {
    const { io } = fakeIo({ accounts: [accounts(2), ['200000000000']] });
    expect(await organizationAccounts(io.organizations)).toEqual([...accounts(2), '200000000000']);
  });

  test('one day: every statement started in the layout workgroup and waited for; bytes logged; earlier files cleared first', async () => {
    const old = 'cloudtrail-parquet/account=100000000001/region=eu-west-1/day=2025-06-30/part-0.parquet';
    const { io, sent, infos, objects } = fakeIo({ objects: [old, 'cloudtrail-parquet/account=100000000001/region=eu-west-1/day=2025-06-29/keep.parquet'] });
    const results = await layoutDay(io, settings, DAY, accounts(20));
    expect(results).toHaveLength(2); // 140 partitions
    expect(results.reduce((n, r) => n + r.partitions, 0)).toBe(140);
    const starts = sent.filter((s) => s.name === 'StartQueryExecution');
    expect(starts.map((s) => s.input.WorkGroup)).toEqual(['wg-layout', 'wg-layout']);
    expect(infos.every((x) => x.bytesScanned === 1000)).toBe(true);
    expect([...objects]).toEqual(['cloudtrail-parquet/account=100000000001/region=eu-west-1/day=2025-06-29/keep.parquet']);
    expect(results.reduce((n, r) => n + r.cleared, 0)).toBe(1);
  });

  test('a failed statement fails the day loudly, with Athena\'s reason, after the others ran', async () => {
    const { io, sent } = fakeIo({ fail: (sql) => (sql.includes("'100000000019'") ? 'HIVE_TOO_MANY_OPEN_PARTITIONS' : undefined) });
    await expect(layoutDay(io, settings, DAY, accounts(20))).rejects.toThrow(/batch 2\/2 .*FAILED: HIVE_TOO_MANY_OPEN_PARTITIONS/);
    expect(sent.filter((s) => s.name === 'StartQueryExecution')).toHaveLength(2);
  });

  test('statements not started for lack of time are named, with how to run the day again', async () => {
    const { io } = fakeIo();
    io.remainingMs = () => 10_000;
    await expect(layoutDay(io, settings, DAY, accounts(20))).rejects.toThrow(/2 of 2 statements not started .*"day": "2025-06-30"/);
  });

  test('the days of a run: yesterday and the day before (late deliveries)', () => {
    expect(daysToLayOut(new Date('2025-07-01T01:30:00Z')).map(parquetDay)).toEqual(['2025-06-30', '2025-06-29']);
  });

  test('settings from the configuration, refused without the athena source or the layout', () => {
    const env = { TRAIL_SOURCE: 'athena', ATHENA_WORKGROUP: 'wg', ATHENA_DATABASE: 'db', ATHENA_TABLE: 'cloudtrail', ATHENA_PARQUET_TABLE: 'cloudtrail_parquet', ATHENA_LAYOUT_WORKGROUP: 'wg-layout', ATHENA_PARQUET_LOCATION: 's3://bkt/cloudtrail-parquet/', TRAIL_REGIONS: 'us-east-1' };
    expect(layoutSettings(readConfig([], env))).toMatchObject({ workgroup: 'wg-layout', database: 'db', parquetTable: 'cloudtrail_parquet', regions: ['us-east-1'], concurrency: 8 });
    expect(() => layoutSettings(readConfig([], {}))).toThrow(LayoutError);
    expect(() => layoutSettings(readConfig([], { ...env, ATHENA_PARQUET_TABLE: '' }))).toThrow(/ParquetLayout/);
  });
});
