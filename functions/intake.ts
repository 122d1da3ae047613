/**
 * Intake: "GuardDuty Finding" events (EventBridge), the Security Hub "Enrich" custom action and
 * the new Security Hub's "Findings Imported V2" events of GuardDuty findings, queued for the
 * enrich worker (logic in src/lambda/intake.ts).
 */
import type { Context } from 'aws-lambda';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { clientsOf } from '../src/clients';
import { readConfig } from '../src/config';
import { chain, logger, metrics } from '../src/lambda/chain';
import { INTAKE_CLIENTS, makeIntake } from '../src/lambda/intake';

const config = readConfig(['ENRICH_QUEUE_URL']);
const intake = makeIntake(config, clientsOf(INTAKE_CLIENTS, config), (msg, extra) => logger.info(msg, extra));

export const handler = chain(async (event: unknown, _context: Context) => {
  const r = await intake(event);
  metrics.addMetric('FindingsQueued', MetricUnit.Count, r.queued);
  for (const n of Object.values(r.dropped)) metrics.addMetric('FindingsDropped', MetricUnit.Count, n);
  return r;
});
