/**
 * Layout (scheduled, daily): copies the organisation trail's raw CloudTrail (gzip JSON) into the
 * Parquet table `cloudtrail_parquet`, one delivery day at a time, with Athena INSERT INTO
 * statements of at most 100 partitions each (src/layout). The schedule (LayoutSchedule, default
 * 01:30 UTC) comes after midnight plus CloudTrail's delivery delay; each run lays out yesterday
 * and lays out the day before again (its partitions cleared first), so files delivered late are
 * picked up a day later. `aws lambda invoke --payload '{"day":"2025-06-30"}'` lays out one day.
 *
 * Every statement is waited for and its bytes scanned logged; any failure fails the invocation
 * (the error names each failed batch and Athena's reason).
 *
 * Environment: TRAIL_SOURCE (athena), ATHENA_DATABASE, ATHENA_TABLE, ATHENA_PARQUET_TABLE,
 * ATHENA_PARQUET_LOCATION, ATHENA_LAYOUT_WORKGROUP, TRAIL_REGIONS, LAYOUT_CONCURRENCY.
 */
import { OrganizationsClient } from '@aws-sdk/client-organizations';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import { clientsOf } from '../src/clients';
import { readConfig } from '../src/config';
import { chain, logger, metrics } from '../src/lambda/chain';
import { daysToLayOut, layoutClients, layoutDay, layoutSettings, LayoutError, organizationAccounts } from '../src/layout/run';

const config = readConfig(['ATHENA_LAYOUT_WORKGROUP', 'ATHENA_PARQUET_TABLE']);

/** A scheduled event, or `{ "day": "yyyy-MM-dd" }` to lay out one day. */
export interface LayoutEvent {
  day?: string;
  time?: string;
}

export const handler = chain(async (event: LayoutEvent, context: Context) => {
  const settings = layoutSettings(config);
  const region = process.env.AWS_REGION ?? 'us-east-1';
  let days: Date[];
  if (event && typeof event.day === 'string') {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(event.day) || Number.isNaN(Date.parse(`${event.day}T00:00:00Z`))) throw new LayoutError(`day ${JSON.stringify(event.day)}: expected yyyy-MM-dd`);
    days = [new Date(`${event.day}T00:00:00Z`)];
  } else {
    days = daysToLayOut(event?.time ? new Date(event.time) : new Date());
  }
  const { athena, s3 } = layoutClients(config, region);
  const { organizations } = clientsOf({ organizations: OrganizationsClient }, config, region);
  const accounts = await organizationAccounts(organizations());
  const io = { athena, s3, organizations: organizations(), log: { info: (m: string, x: Record<string, unknown> = {}) => logger.info(m, x), error: (m: string, x: Record<string, unknown> = {}) => logger.error(m, x) }, remainingMs: () => context.getRemainingTimeInMillis() };
  const summary = [];
  for (const day of days) {
    const results = await layoutDay(io, settings, day, accounts);
    const bytes = results.reduce((n, r) => n + r.bytesScanned, 0);
    metrics.addMetric('LayoutBytesScanned', MetricUnit.Bytes, bytes);
    summary.push({ day: day.toISOString().slice(0, 10), statements: results.length, partitions: results.reduce((n, r) => n + r.partitions, 0), bytesScanned: bytes });
    logger.info('layout day', summary[summary.length - 1]!);
  }
  return { accounts: accounts.length, regions: settings.regions.length, days: summary };
});
