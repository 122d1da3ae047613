/**
 * The message the intake puts on the enrich queue, and its idempotency key: one enrichment per
 * (account, region, finding id, updatedAt, pass). GuardDuty re-publishes a finding with a later
 * `updatedAt` (pitfall 2), which is enriched again; the same event delivered twice is not
 * (pitfall 3).
 */
import type { NormalizedFinding } from '../model/finding';

export interface EnrichMessage {
  /** Idempotency key: `<account>/<region>/<finding id>/<updatedAt>/<pass>`. */
  key: string;
  finding: NormalizedFinding;
  /** 1 for the first enrichment, 2 for the re-check of a finding seen before its events were visible. */
  pass: number;
  /** What put it on the queue: `guardduty-event`, `securityhub-v2-event`, `custom-action`, `backfill`, `recheck`. */
  via: string;
  /** On a re-check: the Detective investigation the first pass started. */
  investigationId?: string;
}

export function enrichKey(f: NormalizedFinding, pass: number): string {
  return `${f.accountId}/${f.region}/${f.id}/${f.updatedAt ?? f.createdAt ?? '-'}/${pass}`;
}

export function messageFor(f: NormalizedFinding, via: string, pass = 1, investigationId?: string): EnrichMessage {
  return { key: enrichKey(f, pass), finding: f, pass, via, ...(investigationId ? { investigationId } : {}) };
}
