/**
 * Backfill (scheduled): pages Security Hub for GuardDuty findings updated in the last
 * BACKFILL_DAYS days that trailstory has not annotated yet, within GetFindings' 3 requests/s,
 * and queues them for the enrich worker.
 */
import { GetFindingsCommand } from '@aws-sdk/client-securityhub';
import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import type { Context } from 'aws-lambda';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { makeClients } from '../src/clients';
import { readConfig } from '../src/config';
import { readAsffFinding } from '../src/findings/asff';
import { chain, metrics } from '../src/lambda/chain';
import { messageFor } from '../src/lambda/messages';
import { RateBudget } from '../src/sources/rate';

const config = readConfig(['ENRICH_QUEUE_URL']);
const clients = makeClients(config);
/** Security Hub GetFindings: 3 requests/s. */
const budget = new RateBudget(3, 3);

export const handler = chain(async (_event: unknown, context: Context) => {
  const region = process.env.AWS_REGION ?? 'us-east-1';
  const deadline = Date.now() + Math.max(0, context.getRemainingTimeInMillis() - 10_000);
  let token: string | undefined;
  let queued = 0;
  do {
    await budget.take(region, deadline);
    const out = await clients.securityHub(region).send(
      new GetFindingsCommand({
        Filters: {
          ProductName: [{ Value: 'GuardDuty', Comparison: 'EQUALS' }],
          RecordState: [{ Value: 'ACTIVE', Comparison: 'EQUALS' }],
          UpdatedAt: [{ DateRange: { Value: config.backfillDays, Unit: 'DAYS' } }],
          SeverityLabel: [{ Value: 'INFORMATIONAL', Comparison: 'NOT_EQUALS' }],
        },
        MaxResults: 100,
        NextToken: token,
      }),
    );
    token = out.NextToken;
    const todo = (out.Findings ?? []).filter((f) => !Object.keys(f.UserDefinedFields ?? {}).some((k) => k.startsWith('trailstory.')));
    for (let i = 0; i < todo.length; i += 10) {
      const entries = todo.slice(i, i + 10).map((f, j) => ({ Id: String(j), MessageBody: JSON.stringify(messageFor(readAsffFinding(f, 'asff', 'Security Hub'), 'backfill')) }));
      await clients.sqs().send(new SendMessageBatchCommand({ QueueUrl: config.enrichQueueUrl, Entries: entries }));
      queued += entries.length;
    }
  } while (token && Date.now() < deadline);
  metrics.addMetric('FindingsBackfilled', MetricUnit.Count, queued);
  return { queued, more: Boolean(token) };
});
