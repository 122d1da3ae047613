/**
 * The backfill's logic, apart from its Lambda wiring: pages Security Hub GetFindings for
 * GuardDuty findings updated in the last `backfillDays` days that trailstory has not annotated
 * yet (no `trailstory.*` user-defined field), within GetFindings' 3 requests/s, and queues them
 * for the enrich worker, 10 a SendMessageBatch.
 *
 * Called in the Security Hub aggregation (home) region, GetFindings also returns the findings of
 * the linked regions, each with its own `Region`: they are queued as they are, and the worker
 * reads and writes each in its own region (Security Hub user guide, "Cross-Region aggregation").
 */
import { paginateGetFindings, SecurityHubClient } from '@aws-sdk/client-securityhub';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { ClientSet } from '../clients';
import type { Config } from '../config';
import { readAsffFinding } from '../findings/asff';
import { RateBudget, realTimer, type Timer } from '../sources/rate';
import { messageFor } from './messages';

/** What one backfill run did. */
export interface BackfillResult {
  queued: number;
  /** Findings queued by their region (more than one region: the aggregation region's view). */
  byRegion: Record<string, number>;
  /** Findings skipped: already annotated by trailstory, or not readable as a finding (with the reason). */
  skipped: Record<string, number>;
  /** Pages were left when the time ran out (the next run goes on). */
  more: boolean;
}

/** The SDK clients the backfill uses (its function's bundle holds these and no other). */
export const BACKFILL_CLIENTS = { securityHub: SecurityHubClient, sqs: SQSClient };

/** Builds the backfill for the function's `region`; `deadline()` is the epoch ms after which no page starts. */
export function makeBackfill(config: Pick<Config, 'enrichQueueUrl' | 'backfillDays'>, clients: ClientSet<keyof typeof BACKFILL_CLIENTS>, region: string, timer: Timer = realTimer) {
  /** Security Hub GetFindings: 3 requests/s. */
  const budget = new RateBudget(3, 3, timer);
  return async (deadline: number): Promise<BackfillResult> => {
    const result: BackfillResult = { queued: 0, byRegion: {}, skipped: {}, more: false };
    const skip = (why: string) => (result.skipped[why] = (result.skipped[why] ?? 0) + 1);
    const pages = paginateGetFindings(
      { client: clients.securityHub(region), pageSize: 100 },
      {
        Filters: {
          ProductName: [{ Value: 'GuardDuty', Comparison: 'EQUALS' }],
          RecordState: [{ Value: 'ACTIVE', Comparison: 'EQUALS' }],
          UpdatedAt: [{ DateRange: { Value: config.backfillDays, Unit: 'DAYS' } }],
          SeverityLabel: [{ Value: 'INFORMATIONAL', Comparison: 'NOT_EQUALS' }],
        },
      },
    );
    await budget.take(region, deadline);
    for await (const page of pages) {
      const todo = [];
      for (const f of page.Findings ?? []) {
        if (Object.keys(f.UserDefinedFields ?? {}).some((k) => k.startsWith('trailstory.'))) {
          skip('already annotated');
          continue;
        }
        try {
          todo.push(readAsffFinding(f, 'asff', 'Security Hub'));
        } catch (e) {
          skip(`not a finding: ${(e as Error).message.split('\n')[0]}`);
        }
      }
      for (let i = 0; i < todo.length; i += 10) {
        const batch = todo.slice(i, i + 10);
        const out = await clients.sqs().send(new SendMessageBatchCommand({ QueueUrl: config.enrichQueueUrl, Entries: batch.map((f, j) => ({ Id: String(j), MessageBody: JSON.stringify(messageFor(f, 'backfill')) })) }));
        if (out.Failed && out.Failed.length > 0) throw new Error(`queueing failed for ${out.Failed.length} finding(s): ${out.Failed.map((x) => x.Message).join('; ')}`);
        for (const f of batch) result.byRegion[f.region] = (result.byRegion[f.region] ?? 0) + 1;
        result.queued += batch.length;
      }
      if (!page.NextToken) break;
      // The next page only within the time left (RateBudget.take refuses a slot past the deadline);
      // otherwise the next scheduled run goes on from the start, skipping what is annotated by then.
      const inTime = timer.now() < deadline && (await budget.take(region, deadline).then(() => true, () => false));
      if (!inTime) {
        result.more = true;
        break;
      }
    }
    return result;
  };
}
