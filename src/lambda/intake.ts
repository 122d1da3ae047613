/**
 * The intake's logic, apart from its Lambda wiring: an EventBridge "GuardDuty Finding" event, a
 * Security Hub CSPM "Custom Action" event, or a "Findings Imported V2" event of the new Security
 * Hub (GuardDuty's findings only: the rule filters on the product) in, one enrich message per
 * finding out on the queue. What is not a finding (an `aws.guardduty` event of another
 * detail-type, pitfall 1) is dropped with a log line and not retried; GuardDuty findings below
 * the severity threshold too (a custom action is an analyst's explicit request and is always
 * honoured).
 *
 * The same GuardDuty update arrives twice when both rules are on (the GuardDuty event and the
 * new Security Hub's import of it): both give the same idempotency key (`enrichKey`: account,
 * region, finding id, GuardDuty's `updatedAt`), so the worker enriches it once, whichever comes
 * first. The "Findings Imported V2" event that our own `BatchUpdateFindingsV2` causes carries
 * our comment for that same `updatedAt` (`isOwnComment`): it is dropped here, counted under
 * `own-comment`, so nothing loops.
 */
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { ClientSet } from '../clients';
import type { Config } from '../config';
import { FindingInputError } from '../findings/errors';
import { parseFindings } from '../findings/normalize';
import { isOwnComment } from '../securityhub/v2';
import { messageFor } from './messages';

export interface IntakeResult {
  queued: number;
  /** Why events or findings were dropped, with counts. */
  dropped: Record<string, number>;
}

/** The SDK clients the intake uses (its function's bundle holds these and no other). */
export const INTAKE_CLIENTS = { sqs: SQSClient };

/** Builds the intake; `log` receives one line per drop. */
export function makeIntake(config: Readonly<Config>, clients: ClientSet<keyof typeof INTAKE_CLIENTS>, log: (msg: string, extra: Record<string, unknown>) => void = () => undefined) {
  return async (event: unknown): Promise<IntakeResult> => {
    const dropped: Record<string, number> = {};
    let findings;
    try {
      findings = parseFindings(event, 'event');
    } catch (e) {
      if (e instanceof FindingInputError) {
        log('dropped: not a finding', { reason: e.problem });
        return { queued: 0, dropped: { 'not-a-finding': 1 } };
      }
      throw e;
    }
    const detailType = (event as { 'detail-type'?: string })['detail-type'];
    const via = detailType === 'GuardDuty Finding' ? 'guardduty-event' : detailType === 'Findings Imported V2' ? 'securityhub-v2-event' : 'custom-action';
    if (via === 'securityhub-v2-event') {
      const own = findings.filter((f) => isOwnComment(f.comment, f.updatedAt));
      if (own.length > 0) {
        dropped['own-comment'] = own.length;
        log('dropped: the new Security Hub echoing our own comment', { dropped: own.length, findings: own.map((f) => f.id) });
        findings = findings.filter((f) => !own.includes(f));
      }
    }
    const kept = findings.filter((f) => via === 'custom-action' || (f.severity ?? 0) >= config.minSeverity);
    if (kept.length < findings.length) {
      dropped['below-severity'] = findings.length - kept.length;
      log('dropped: below the severity threshold', { dropped: dropped['below-severity'], minSeverity: config.minSeverity });
    }
    for (let i = 0; i < kept.length; i += 10) {
      const batch = kept.slice(i, i + 10);
      const out = await clients.sqs().send(
        new SendMessageBatchCommand({ QueueUrl: config.enrichQueueUrl, Entries: batch.map((f, j) => ({ Id: String(j), MessageBody: JSON.stringify(messageFor(f, via)) })) }),
      );
      if (out.Failed && out.Failed.length > 0) throw new Error(`queueing failed for ${out.Failed.length} finding(s): ${out.Failed.map((x) => x.Message).join('; ')}`);
    }
    return { queued: kept.length, dropped };
  };
}
