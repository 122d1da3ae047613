/**
 * Enrich worker: SQS batches of findings from the intake, the backfill and re-checks; one
 * storyline each written to Security Hub; partial batch responses; failures to the DLQ with
 * their reason after MAX_RECEIVES.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Context, SQSEvent } from 'aws-lambda';
import { clientsOf } from '../src/clients';
import { readConfig } from '../src/config';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { chain, logger, metrics } from '../src/lambda/chain';
import { makeWorker, WORKER_CLIENTS } from '../src/lambda/worker';

const config = readConfig(['ENRICH_QUEUE_URL', 'IDEMPOTENCY_TABLE', 'ENRICH_DLQ_URL']);
const worker = makeWorker(config, clientsOf(WORKER_CLIENTS, config), new DynamoDBClient(config.endpoint ? { endpoint: config.endpoint } : {}), {
  onOutcome: (o) => {
    logger.info('enriched', { key: o.key, steps: o.steps, requests: o.requests, recheckQueued: o.recheckQueued, usage: o.usage });
    if (o.usage) {
      metrics.addMetric('TrailQueries', MetricUnit.Count, o.usage.queries);
      metrics.addMetric('TrailRounds', MetricUnit.Count, o.usage.rounds);
      metrics.addMetric('TrailBytesScanned', MetricUnit.Bytes, o.usage.bytesScanned);
      metrics.addMetric('TrailQuerySeconds', MetricUnit.Seconds, o.usage.seconds);
    }
  },
});

export const handler = chain(async (event: SQSEvent, context: Context) => worker(event, context));
