/**
 * The deployment's CloudTrail source (`TRAIL_SOURCE`): LookupEvents in the finding's account,
 * or Athena over the organisation trail (the Parquet layout for the days it holds, the raw
 * table for the last two), or Security Lake's CloudTrail table through Athena.
 */
import type { AthenaClient } from '@aws-sdk/client-athena';
import type { Config } from '../config';
import type { NormalizedFinding } from '../model/finding';
import { AthenaSource, cloudTrailTable, securityLakeTable, type AthenaOptions, type SharedQueries } from './athena';
import { realTimer, type Timer } from './rate';
import type { TrailSource } from './types';

const DAY = 24 * 3600 * 1000;

/**
 * Days the Parquet layout may not hold yet: the layout job copies yesterday after midnight UTC
 * and the day before again (late files), so the raw table serves today and yesterday.
 */
export const RAW_DAYS = 2;

/** How the worker builds each kind of source. */
export interface SourceFactories {
  lookup: () => TrailSource;
  /** Athena of a region (the function's own for the trail, Security Lake's region for the lake). */
  athena: (region: string) => AthenaClient;
  /** Epoch ms after which no query starts. */
  deadline?: number;
  timer: Timer;
  /** The function's region (default `AWS_REGION`). */
  region?: string;
  /** Queries shared by the findings of one SQS batch (their rounds go as one query). */
  shared?: SharedQueries;
}

/** The source `config.trailSource` names, for one finding. */
export function trailSourceOf(config: Readonly<Config>, finding: NormalizedFinding, f: SourceFactories): TrailSource {
  const region = f.region ?? process.env.AWS_REGION ?? 'us-east-1';
  const common = {
    regions: config.trailRegions.length > 0 ? config.trailRegions : [finding.region, 'us-east-1'],
    accounts: config.trailAccounts,
    lookbackDays: config.lookbackDays,
    bytesBudget: config.findingBytesBudget,
    deadline: Number.isFinite(f.deadline) ? f.deadline : undefined,
    ...(f.shared ? { shared: f.shared } : {}),
  };
  if (config.trailSource === 'athena' && config.athena) {
    const a = config.athena;
    return organisationTrailSource(f.athena(region), a, { ...common, workGroup: a.workgroup }, f.timer);
  }
  if (config.trailSource === 'security-lake' && config.securityLake) {
    const l = config.securityLake;
    return new AthenaSource(f.athena(l.region), securityLakeTable(l.database, l.tables), { ...common, workGroup: l.workgroup }, f.timer);
  }
  return f.lookup();
}

/**
 * The organisation trail's source: the raw table alone, or the Parquet layout with the raw table
 * for the last {@link RAW_DAYS} days (the layout job has not copied them yet).
 */
export function organisationTrailSource(client: AthenaClient, t: { database: string; table: string; parquetTable: string | null }, opts: AthenaOptions, timer: Timer = realTimer): AthenaSource {
  const raw = cloudTrailTable(t.database, t.table, 'yyyy/MM/dd');
  if (!t.parquetTable) return new AthenaSource(client, raw, opts, timer);
  const today = Math.floor(timer.now() / DAY) * DAY;
  return new AthenaSource(client, cloudTrailTable(t.database, t.parquetTable, 'yyyy-MM-dd'), { ...opts, recent: { table: raw, since: today - (RAW_DAYS - 1) * DAY } }, timer);
}
