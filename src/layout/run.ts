/**
 * The Parquet layout job: lays out CloudTrail delivery days of the organisation trail's raw
 * table into `cloudtrail_parquet` with the INSERT INTO statements of {@link insertStatements},
 * run through Athena in the layout workgroup, a few at a time, each waited for, its bytes
 * scanned logged, any failure thrown with the query's reason.
 *
 * Re-running a day is safe: before each statement, the Parquet partitions it writes are cleared
 * (their S3 objects deleted), so a second run replaces the first instead of appending to it
 * (Hive tables in Athena have no INSERT OVERWRITE). That is what lets the scheduled job lay out
 * yesterday and lay out the day before again, to pick up CloudTrail files delivered late.
 */
import { AthenaClient, GetQueryExecutionCommand, StartQueryExecutionCommand, type QueryExecution } from '@aws-sdk/client-athena';
import { ListAccountsCommand, type OrganizationsClient } from '@aws-sdk/client-organizations';
import { DeleteObjectsCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { requestHandlerOptions } from '../clients';
import type { Config } from '../config';
import { insertStatements, partitionPrefix, type InsertStatement } from './insert';

/** What the job reports of one statement. */
export interface StatementResult {
  queryId: string;
  partitions: number;
  accounts: number;
  bytesScanned: number;
  /** Athena's engine time, ms. */
  engineMs: number;
  /** S3 objects of earlier runs deleted before it ran. */
  cleared: number;
}

export interface LayoutLog {
  info(message: string, extra?: Record<string, unknown>): void;
  error(message: string, extra?: Record<string, unknown>): void;
}

/** The job's I/O, handed in (tests give fakes). */
export interface LayoutIo {
  athena: Pick<AthenaClient, 'send'>;
  s3: Pick<S3Client, 'send'>;
  organizations: Pick<OrganizationsClient, 'send'>;
  log: LayoutLog;
  /** Waits `ms` (default setTimeout). */
  sleep?: (ms: number) => Promise<void>;
  /** Milliseconds left before the function must stop starting statements (default: unlimited). */
  remainingMs?: () => number;
}

export interface LayoutSettings {
  workgroup: string;
  database: string;
  table: string;
  parquetTable: string;
  /** `s3://bucket/prefix/` of the Parquet table. */
  parquetLocation: string;
  regions: string[];
  concurrency: number;
  /** Do not start a statement with less time left than this (ms; default 3 minutes). */
  reserveMs?: number;
}

/** A statement that failed, or days that could not be laid out whole. */
export class LayoutError extends Error {}

/** The layout settings from the configuration, or a LayoutError naming what is missing. */
export function layoutSettings(config: Readonly<Config>): LayoutSettings {
  const a = config.athena;
  if (config.trailSource !== 'athena' || !a) throw new LayoutError(`the Parquet layout needs TRAIL_SOURCE=athena (it is ${config.trailSource})`);
  if (!a.parquetTable) throw new LayoutError('ATHENA_PARQUET_TABLE is not set (the stack\'s ParquetLayout is off)');
  if (!config.layoutWorkgroup) throw new LayoutError('ATHENA_LAYOUT_WORKGROUP is not set');
  if (!config.parquetLocation) throw new LayoutError('ATHENA_PARQUET_LOCATION is not set');
  return { workgroup: config.layoutWorkgroup, database: a.database, table: a.table, parquetTable: a.parquetTable, parquetLocation: config.parquetLocation, regions: config.trailRegions, concurrency: config.layoutConcurrency };
}

/** The organisation's account IDs (Organizations ListAccounts, every page), sorted. */
export async function organizationAccounts(org: Pick<OrganizationsClient, 'send'>): Promise<string[]> {
  const ids: string[] = [];
  let token: string | undefined;
  do {
    const page = await org.send(new ListAccountsCommand({ NextToken: token }));
    for (const a of page.Accounts ?? []) if (a.Id) ids.push(a.Id);
    token = page.NextToken;
  } while (token);
  return [...new Set(ids)].sort();
}

/** The UTC days a run lays out at `now`: yesterday, and the day before again (late deliveries). */
export function daysToLayOut(now: Date): Date[] {
  const midnight = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  return [new Date(midnight - 86_400_000), new Date(midnight - 2 * 86_400_000)];
}

function splitLocation(location: string): { bucket: string; prefix: string } {
  const m = /^s3:\/\/([^/]+)\/(.*)$/.exec(location);
  if (!m) throw new LayoutError(`not an s3:// location: ${location}`);
  return { bucket: m[1]!, prefix: m[2]! };
}

/** Deletes the S3 objects of a statement's partitions (an earlier run's); returns how many. */
async function clearPartitions(s3: Pick<S3Client, 'send'>, location: string, st: InsertStatement): Promise<number> {
  const { bucket, prefix } = splitLocation(location);
  let n = 0;
  for (const p of st.partitions) {
    let token: string | undefined;
    do {
      const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: partitionPrefix(prefix, p, st.day), ContinuationToken: token }));
      token = page.NextContinuationToken;
      const keys = (page.Contents ?? []).map((o) => o.Key).filter((k): k is string => k !== undefined);
      if (keys.length === 0) continue;
      const r = await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys.map((Key) => ({ Key })), Quiet: true } }));
      if (r.Errors?.length) throw new LayoutError(`cannot clear s3://${bucket}/${partitionPrefix(prefix, p, st.day)}: ${r.Errors[0]!.Code} ${r.Errors[0]!.Message}`);
      n += keys.length;
    } while (token);
  }
  return n;
}

/** Starts one statement and waits for it; throws a LayoutError with Athena's reason when it does not succeed. */
export async function runStatement(io: LayoutIo, workgroup: string, sql: string): Promise<{ queryId: string; execution: QueryExecution }> {
  const sleep = io.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const started = await io.athena.send(new StartQueryExecutionCommand({ QueryString: sql, WorkGroup: workgroup }));
  const queryId = started.QueryExecutionId;
  if (!queryId) throw new LayoutError('StartQueryExecution returned no QueryExecutionId');
  for (let wait = 1000; ; wait = Math.min(wait * 2, 15_000)) {
    await sleep(wait);
    const { QueryExecution: q } = await io.athena.send(new GetQueryExecutionCommand({ QueryExecutionId: queryId }));
    const state = q?.Status?.State;
    if (state === 'SUCCEEDED') return { queryId, execution: q! };
    if (state === 'FAILED' || state === 'CANCELLED') {
      const err = q?.Status?.AthenaError;
      throw new LayoutError(`query ${queryId} ${state}: ${q?.Status?.StateChangeReason ?? 'no reason given'}${err?.ErrorType !== undefined ? ` (error type ${err.ErrorType}${err.Retryable ? ', retryable' : ''})` : ''}`);
    }
  }
}

/**
 * Lays out one delivery day for every account of the organisation and every region of the
 * trail table: clears and writes each batch's partitions, `concurrency` statements at a time.
 * Throws a LayoutError naming every statement that failed or was not started (time ran out).
 */
export async function layoutDay(io: LayoutIo, s: LayoutSettings, day: Date, accounts: readonly string[]): Promise<StatementResult[]> {
  const statements = insertStatements(day, accounts, s.regions, { database: s.database, table: s.table, parquetTable: s.parquetTable });
  const results: StatementResult[] = [];
  const failures: string[] = [];
  let next = 0;
  let skipped = 0;
  const reserve = s.reserveMs ?? 180_000;
  const worker = async () => {
    for (;;) {
      const i = next++;
      if (i >= statements.length) return;
      const st = statements[i]!;
      if (io.remainingMs && io.remainingMs() < reserve) {
        skipped++;
        continue;
      }
      const where = `day ${st.day} batch ${i + 1}/${statements.length} (${st.partitions[0]!.account}/${st.partitions[0]!.region} .. ${st.partitions[st.partitions.length - 1]!.account}/${st.partitions[st.partitions.length - 1]!.region})`;
      try {
        const cleared = await clearPartitions(io.s3, s.parquetLocation, st);
        const { queryId, execution } = await runStatement(io, s.workgroup, st.sql);
        const r: StatementResult = {
          queryId,
          partitions: st.partitions.length,
          accounts: new Set(st.partitions.map((p) => p.account)).size,
          bytesScanned: execution.Statistics?.DataScannedInBytes ?? 0,
          engineMs: execution.Statistics?.EngineExecutionTimeInMillis ?? 0,
          cleared,
        };
        results.push(r);
        io.log.info('layout statement', { day: st.day, batch: i + 1, of: statements.length, ...r });
      } catch (e) {
        const msg = `${where}: ${e instanceof Error ? e.message : String(e)}`;
        failures.push(msg);
        io.log.error('layout statement failed', { day: st.day, batch: i + 1, of: statements.length, error: msg });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(s.concurrency, statements.length)) }, worker));
  if (skipped) failures.push(`day ${statements[0]?.day}: ${skipped} of ${statements.length} statements not started (less than ${Math.round(reserve / 1000)} s left); invoke the function again with {"day": "${statements[0]?.day}"}`);
  if (failures.length) throw new LayoutError(`Parquet layout failed: ${failures.length} problem(s): ${failures.join('; ')}`);
  return results;
}

/** The Athena and S3 clients of the job, in the function's region (the endpoint override for local runs). */
export function layoutClients(config: Pick<Config, 'endpoint'>, region: string): { athena: AthenaClient; s3: S3Client } {
  const common = { region, retryMode: 'adaptive' as const, maxAttempts: 4, ...(config.endpoint ? { endpoint: config.endpoint } : {}), ...requestHandlerOptions() };
  return { athena: new AthenaClient(common), s3: new S3Client({ ...common, forcePathStyle: Boolean(config.endpoint) }) };
}
