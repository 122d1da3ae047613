/**
 * The Parquet layout job's SQL: for one CloudTrail delivery day, the `INSERT INTO
 * <db>.cloudtrail_parquet SELECT … FROM <db>.cloudtrail` statements that copy the raw gzip JSON
 * of that day into Parquet, partitioned by account, region and day (Hive style:
 * `account=…/region=…/day=yyyy-MM-dd/`), each partition's rows sorted by access key and caller
 * ARN so that a pivot on either reads few row groups.
 *
 * One raw partition (account, region, delivery day `yyyy/MM/dd`) becomes exactly one Parquet
 * partition (same account and region, day `yyyy-MM-dd`), so a statement covering N
 * account-region pairs writes N partitions. Athena adds at most 100 partitions to a table with
 * one INSERT INTO ("Use CTAS and INSERT INTO to work around the 100 partition limit",
 * https://docs.aws.amazon.com/athena/latest/ug/ctas-insert-into.html: beyond it the query fails
 * with HIVE_TOO_MANY_OPEN_PARTITIONS), hence the batches of {@link MAX_PARTITIONS_PER_INSERT}.
 */
import { CLOUDTRAIL_COLUMNS, CLOUDTRAIL_PARTITIONS } from '../sources/athena-tables';

/** Partitions one INSERT INTO may write (Athena user guide, ctas-insert-into.html). */
export const MAX_PARTITIONS_PER_INSERT = 100;

/** The Parquet table's name (template.yaml's CloudTrailParquetTable). */
export const PARQUET_TABLE = 'cloudtrail_parquet';

/** An account-region pair: one raw partition of a day, one Parquet partition. */
export interface AccountRegion {
  account: string;
  region: string;
}

export interface InsertOptions {
  /** Glue database of both tables. */
  database: string;
  /** The raw table (default `cloudtrail`). */
  table?: string;
  /** The Parquet table (default {@link PARQUET_TABLE}). */
  parquetTable?: string;
  /** Partitions a statement may write (default and at most {@link MAX_PARTITIONS_PER_INSERT}). */
  maxPartitions?: number;
}

export interface InsertStatement {
  sql: string;
  /** The account-region pairs (Parquet partitions) it writes. */
  partitions: AccountRegion[];
  /** The Parquet partitions' day, `yyyy-MM-dd`. */
  day: string;
}

const ACCOUNT = /^\d{12}$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d$/;
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A UTC day as the raw table's partition value (`yyyy/MM/dd`, CloudTrail's folders). */
export function rawDay(day: Date): string {
  return day.toISOString().slice(0, 10).replace(/-/g, '/');
}

/** A UTC day as the Parquet table's partition value (`yyyy-MM-dd`). */
export function parquetDay(day: Date): string {
  return day.toISOString().slice(0, 10);
}

/**
 * Every account × region pair, batched so that each batch writes at most `max` partitions and
 * its WHERE is one `account IN (…) AND region IN (…)`: whole accounts (every region) a batch, or,
 * when one account has more regions than `max`, one account a batch and its regions split. The
 * raw table's account partition is `injected`: Athena takes only equality conditions on it
 * (`account = …`, `account IN (…)`), never an OR of account-region pairs.
 */
export function batchPartitions(accounts: readonly string[], regions: readonly string[], max = MAX_PARTITIONS_PER_INSERT): AccountRegion[][] {
  if (!Number.isInteger(max) || max < 1 || max > MAX_PARTITIONS_PER_INSERT) throw new RangeError(`max partitions per INSERT must be 1-${MAX_PARTITIONS_PER_INSERT}, not ${max}`);
  const accs = [...new Set(accounts)].sort();
  const regs = [...new Set(regions)].sort();
  for (const a of accs) if (!ACCOUNT.test(a)) throw new RangeError(`not an account ID: ${JSON.stringify(a)}`);
  for (const r of regs) if (!REGION.test(r)) throw new RangeError(`not a region name: ${JSON.stringify(r)}`);
  const out: AccountRegion[][] = [];
  if (regs.length <= max) {
    const perBatch = Math.floor(max / regs.length);
    for (let i = 0; i < accs.length; i += perBatch) out.push(accs.slice(i, i + perBatch).flatMap((account) => regs.map((region) => ({ account, region }))));
  } else {
    for (const account of accs) for (let i = 0; i < regs.length; i += max) out.push(regs.slice(i, i + max).map((region) => ({ account, region })));
  }
  return out;
}

const quote = (s: string): string => `'${s.replace(/'/g, "''")}'`;

/** A batch's WHERE on the raw table's partition keys: exactly its pairs. */
function pairPredicate(batch: readonly AccountRegion[]): string {
  // Group by region set: accounts that share the same regions go in one `account IN (...) AND region IN (...)`.
  const byRegions = new Map<string, string[]>();
  const regionsOf = new Map<string, string[]>();
  for (const p of batch) regionsOf.set(p.account, [...(regionsOf.get(p.account) ?? []), p.region]);
  for (const [account, regs] of regionsOf) {
    const key = regs.sort().join(',');
    byRegions.set(key, [...(byRegions.get(key) ?? []), account]);
  }
  const terms = [...byRegions].map(([regs, accs]) => `(account IN (${accs.map(quote).join(', ')}) AND region IN (${regs.split(',').map(quote).join(', ')}))`);
  return terms.length === 1 ? terms[0]!.slice(1, -1) : `(${terms.join(' OR ')})`;
}

/**
 * The INSERT INTO statements that lay out one delivery day, each writing at most 100 partitions:
 * every column of {@link CLOUDTRAIL_COLUMNS}, then the partition keys (the day rewritten from
 * `yyyy/MM/dd` to `yyyy-MM-dd`), sorted by `useridentity.accesskeyid, useridentity.arn`.
 */
export function insertStatements(day: Date, accounts: readonly string[], regions: readonly string[], opts: InsertOptions): InsertStatement[] {
  const table = opts.table ?? 'cloudtrail';
  const parquetTable = opts.parquetTable ?? PARQUET_TABLE;
  for (const n of [opts.database, table, parquetTable]) if (!NAME.test(n)) throw new RangeError(`not a Glue name: ${JSON.stringify(n)}`);
  const columns = CLOUDTRAIL_COLUMNS.map((c) => c.name);
  const [accountKey, regionKey, dayKey] = CLOUDTRAIL_PARTITIONS;
  const select = [...columns, accountKey, regionKey, `date_format(date_parse(${dayKey}, '%Y/%m/%d'), '%Y-%m-%d') AS ${dayKey}`].join(',\n  ');
  return batchPartitions(accounts, regions, opts.maxPartitions).map((batch) => ({
    partitions: batch,
    day: parquetDay(day),
    sql:
      `INSERT INTO ${opts.database}.${parquetTable}\n` +
      `SELECT\n  ${select}\n` +
      `FROM ${opts.database}.${table}\n` +
      `WHERE ${pairPredicate(batch)}\n  AND ${dayKey} = ${quote(rawDay(day))}\n` +
      `ORDER BY useridentity.accesskeyid, useridentity.arn`,
  }));
}

/** The S3 key prefix of one Parquet partition under the table's location prefix (Hive style, as Athena writes it). */
export function partitionPrefix(tablePrefix: string, p: AccountRegion, day: string): string {
  const base = tablePrefix.endsWith('/') ? tablePrefix : `${tablePrefix}/`;
  return `${base}account=${p.account}/region=${p.region}/day=${day}/`;
}
