/**
 * Intake: "GuardDuty Finding" events (EventBridge) and the Security Hub "Enrich" custom action.
 * Validates, drops what is not a finding or is below the severity threshold (with a log line,
 * not retried), and queues each finding for the enrich worker.
 */
import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import type { Context } from 'aws-lambda';
import { makeClients } from '../src/clients';
import { readConfig } from '../src/config';
import { FindingInputError } from '../src/findings/errors';
import { parseFindings } from '../src/findings/normalize';
import { chain, logger, metrics } from '../src/lambda/chain';
import { messageFor } from '../src/lambda/messages';
import { MetricUnit } from '@aws-lambda-powertools/metrics';

const config = readConfig(['ENRICH_QUEUE_URL']);
const clients = makeClients(config);

export const handler = chain(async (event: unknown, _context: Context) => {
  let findings;
  try {
    findings = parseFindings(event, 'event');
  } catch (e) {
    if (e instanceof FindingInputError) {
      logger.info('dropped: not a finding', { reason: e.problem });
      metrics.addMetric('EventsDropped', MetricUnit.Count, 1);
      return { queued: 0, dropped: 1 };
    }
    throw e;
  }
  const via = (event as { 'detail-type'?: string })['detail-type'] === 'GuardDuty Finding' ? 'guardduty-event' : 'custom-action';
  const kept = findings.filter((f) => via === 'custom-action' || (f.severity ?? 0) >= config.minSeverity);
  const dropped = findings.length - kept.length;
  if (dropped > 0) logger.info('dropped: below the severity threshold', { dropped, minSeverity: config.minSeverity });
  for (let i = 0; i < kept.length; i += 10) {
    const batch = kept.slice(i, i + 10);
    const out = await clients.sqs().send(
      new SendMessageBatchCommand({
        QueueUrl: config.enrichQueueUrl,
        Entries: batch.map((f, j) => ({ Id: String(j), MessageBody: JSON.stringify(messageFor(f, via)) })),
      }),
    );
    if (out.Failed && out.Failed.length > 0) throw new Error(`queueing failed for ${out.Failed.length} finding(s): ${out.Failed.map((x) => x.Message).join('; ')}`);
  }
  metrics.addMetric('FindingsQueued', MetricUnit.Count, kept.length);
  return { queued: kept.length, dropped };
});
