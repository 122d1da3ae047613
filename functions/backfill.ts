/**
 * Backfill (scheduled): queues the GuardDuty findings of the last BACKFILL_DAYS days that
 * trailstory has not annotated yet (src/lambda/backfill.ts). In the Security Hub aggregation
 * region this covers the linked regions too.
 */
import type { Context } from 'aws-lambda';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { clientsOf } from '../src/clients';
import { readConfig } from '../src/config';
import { BACKFILL_CLIENTS, makeBackfill } from '../src/lambda/backfill';
import { chain, logger, metrics } from '../src/lambda/chain';

const config = readConfig(['ENRICH_QUEUE_URL']);
const backfill = makeBackfill(config, clientsOf(BACKFILL_CLIENTS, config), process.env.AWS_REGION ?? 'us-east-1');

export const handler = chain(async (_event: unknown, context: Context) => {
  const result = await backfill(Date.now() + Math.max(0, context.getRemainingTimeInMillis() - 10_000));
  logger.info('backfill', { ...result });
  metrics.addMetric('FindingsBackfilled', MetricUnit.Count, result.queued);
  return result;
});
