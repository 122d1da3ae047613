/**
 * The use case behind the Lambda path: one finding in, its storyline written to Security Hub.
 * Dependencies are handed in (the trail source, the Security Hub client, the clock), so the
 * same code runs against AWS, the local emulator, or plain fakes.
 */
import type { GuardDutyClient } from '@aws-sdk/client-guardduty';
import { GetFindingsCommand, type SecurityHubClient } from '@aws-sdk/client-securityhub';
import { errorLine, isAccessError } from '../clients/accounts';
import type { NormalizedFinding } from '../model/finding';
import type { Storyline } from '../model/storyline';
import { buildSecurityHubWrites, guardDutyProductArn, type ExistingAnnotation, type SecurityHubWrites } from '../securityhub/asff';
import { currentAnnotation, sendWrites, type WriteResult } from '../securityhub/writer';
import { buildBatchUpdateFindingsV2, v2FindingIdentifier, type BatchUpdateFindingsV2Input, type V2Current } from '../securityhub/v2';
import { currentV2Finding, sendV2Writes } from '../securityhub/v2-writer';
import type { SecurityHubTarget } from '../config';
import type { DetectiveResult, DetectiveSource } from '../sources/detective';
import { fullFinding } from '../sources/guardduty';
import type { EvidenceStore } from '../report/evidence';
import type { SourceUsage, TrailSource } from '../sources/types';
import { reconstruct } from '../storyline/reconstruct';
import { withSourceCoverage } from '../storyline/source-coverage';
import type { EventMap } from '../storyline/tactics';

export interface EnrichDeps {
  trail: TrailSource;
  /** Security Hub client that annotates GuardDuty's finding (the administrator's, or the finding's own account's). */
  securityHub: SecurityHubClient;
  /** Security Hub client of the finding's own account, where the companion finding is imported (default: `securityHub`). */
  securityHubImport?: SecurityHubClient;
  /** The finding's account, for notes when its member role cannot be reached. */
  memberAccount?: string;
  eventMap: EventMap;
  now: () => Date;
  /** GuardDuty, to read the full native finding when the finding came in ASFF. */
  guardDuty?: GuardDutyClient;
  /** Amazon Detective, when the account uses it: an investigation of the actor, its indicators. */
  detective?: DetectiveSource;
  /** An investigation started by an earlier pass, to check again instead of starting another. */
  previousInvestigationId?: string;
  /** Where earlier enrichments of a finding left their evidence (re-published findings). */
  evidence?: EvidenceStore;
  /** Writes the HTML report and returns the link to it; a failure is noted, not fatal. */
  report?: (storyline: Storyline, now: string) => Promise<string>;
  /** Which Security Hub to write to (deploy parameter `SecurityHubTarget`): `cspm` (default), `new` or `both`. */
  target?: SecurityHubTarget;
  /** The new Security Hub: also set `SeverityId` / `StatusId` (deploy parameters `SecurityHubV2SetSeverity` / `SecurityHubV2SetStatus`). */
  v2?: { setSeverity: boolean; setStatus: boolean };
}

export interface EnrichOutcome {
  storyline: Storyline;
  writes: SecurityHubWrites;
  result: WriteResult;
  /** The `BatchUpdateFindingsV2` input sent to the new Security Hub (target `new` or `both`). */
  v2Write?: BatchUpdateFindingsV2Input;
  /** CloudTrail may not show everything yet, or Detective is still investigating: enrich again later. */
  incomplete: boolean;
  /** Detective's answer, when it was asked. */
  detective?: DetectiveResult;
  /** AWS requests made for this finding, by API. */
  requests: Record<string, number>;
  /** What a querying trail source spent (Athena, Security Lake). */
  usage?: SourceUsage;
}

/**
 * Gathers the finding's CloudTrail, reconstructs its storyline and writes it back: the
 * companion finding imported, GuardDuty's finding annotated (keeping another tool's Note).
 * What could not be gathered is said in the storyline's coverage gaps and so in the Note.
 */
export async function enrichFinding(received: NormalizedFinding, deps: EnrichDeps): Promise<EnrichOutcome> {
  const full = deps.guardDuty ? await fullFinding(deps.guardDuty, received) : { finding: received, note: null, requests: {} };
  const finding = full.finding;
  const prior = deps.evidence ? await deps.evidence.load(finding) : null;
  const collected = await deps.trail.collect(finding, prior ? { since: prior.lookedUpUntil } : {});
  // The earlier evidence and the new slice, deduplicated by eventID.
  const events = [...collected.events];
  if (prior) {
    const have = new Set(events.map((e) => e.eventId));
    for (const e of prior.events) if (!have.has(e.eventId)) events.push(e);
    collected.stats.recordsRead += prior.events.length;
  }
  const storyline = reconstruct(finding, events, collected.stats, { eventMap: deps.eventMap });
  withSourceCoverage(storyline, collected);
  if (full.note) storyline.coverage.gaps.push(full.note);
  const requests: Record<string, number> = { ...full.requests, ...collected.requests };
  const target = deps.target ?? 'cspm';
  let existing: ExistingAnnotation | 'unknown' | undefined;
  if (target !== 'new') {
    try {
      existing = await currentAnnotation(deps.securityHub, finding.arn, guardDutyProductArn(storyline), requests);
    } catch (e) {
      existing = 'unknown';
      storyline.coverage.gaps.push(`the finding's current Note could not be read (${(e as Error).name}); another tool's note may be replaced`);
    }
  }
  // The new Security Hub: the finding's comment (another author's text is kept), severity and status.
  // Unread, the comment is not written (a failure, retried, then dead-lettered): another author's text is never lost.
  let v2Current: V2Current | undefined;
  let v2ReadError: Error | undefined;
  if (target !== 'cspm') {
    try {
      v2Current = await currentV2Finding(deps.securityHub, v2FindingIdentifier(storyline), requests);
    } catch (e) {
      v2ReadError = e as Error;
    }
  }
  let detective: DetectiveResult | undefined;
  if (deps.detective) {
    detective = await deps.detective.enrich(finding, storyline, { previousInvestigationId: deps.previousInvestigationId });
    for (const [api, n] of Object.entries(detective.requests)) requests[api] = (requests[api] ?? 0) + n;
    storyline.detective = { status: detective.status, investigationId: detective.investigationId ?? null, indicators: detective.indicators.length };
    if (detective.status !== 'done' && detective.note) storyline.coverage.gaps.push(detective.note);
  }
  // A member account whose role cannot be assumed (not deployed yet, AccessDenied, an opt-in
  // region): the finding is still annotated from here, saying so; the companion finding waits.
  let importClient: SecurityHubClient | null = deps.securityHubImport ?? deps.securityHub;
  if (deps.securityHubImport && deps.securityHubImport !== deps.securityHub) {
    try {
      requests['securityhub:GetFindings'] = (requests['securityhub:GetFindings'] ?? 0) + 1;
      await deps.securityHubImport.send(new GetFindingsCommand({ MaxResults: 1, Filters: { Id: [{ Value: finding.arn, Comparison: 'EQUALS' }] } }));
    } catch (e) {
      if (!isAccessError(e)) throw e;
      importClient = null;
      storyline.coverage.gaps.unshift(`account ${deps.memberAccount ?? finding.accountId} could not be reached in ${finding.region} (${errorLine(e)}): its CloudTrail, Detective and the companion finding are unavailable until the trailstory member role is there`);
    }
  }
  const now = deps.now().toISOString();
  let reportUrl: string | undefined;
  if (deps.report && storyline.steps.length > 0) {
    try {
      reportUrl = await deps.report(storyline, now);
      requests['s3:PutObject'] = (requests['s3:PutObject'] ?? 0) + 1;
    } catch (e) {
      storyline.coverage.gaps.push(`the report could not be written (${(e as Error).name}): no link to it`);
    }
  }
  // Without the member's client the companion cannot be imported: no link to it either.
  const writes = buildSecurityHubWrites(storyline, { now, existing, reportUrl, companion: importClient !== null });
  const result: WriteResult = target !== 'new' ? await sendWrites(deps.securityHub, [writes], importClient ?? deps.securityHub) : { imported: 0, updated: 0, failures: [], requests: {} };
  let v2Write: BatchUpdateFindingsV2Input | undefined;
  if (target !== 'cspm' && v2ReadError) {
    result.failures.push({ stage: 'update', id: v2FindingIdentifier(storyline).FindingInfoUid, errorCode: v2ReadError.name, errorMessage: `GetFindingsV2: ${v2ReadError.message}; the comment is not written, so another author's comment is not replaced` });
  } else if (target !== 'cspm') {
    v2Write = buildBatchUpdateFindingsV2(storyline, { updatedAt: finding.updatedAt, current: v2Current, setSeverity: deps.v2?.setSeverity, setStatus: deps.v2?.setStatus });
    const r2 = await sendV2Writes(deps.securityHub, [v2Write]);
    result.updated += r2.updated;
    result.failures.push(...r2.failures);
    for (const [api, n] of Object.entries(r2.requests)) result.requests[api] = (result.requests[api] ?? 0) + n;
  }
  if (deps.evidence && collected.window && result.failures.length === 0) {
    try {
      await deps.evidence.save(finding, { findingId: finding.id, lookedUpFrom: prior?.lookedUpFrom ?? collected.window.from, lookedUpUntil: collected.window.to, events });
      requests['s3:PutObject'] = (requests['s3:PutObject'] ?? 0) + 1;
    } catch (e) {
      storyline.coverage.gaps.push(`the evidence could not be kept for the next update (${(e as Error).name})`);
    }
  }
  if (prior) requests['s3:GetObject'] = (requests['s3:GetObject'] ?? 0) + 1;
  for (const [api, n] of Object.entries(result.requests)) requests[api] = (requests[api] ?? 0) + n;
  return { storyline, writes, result, ...(v2Write ? { v2Write } : {}), incomplete: collected.incomplete || (detective?.recheck ?? false), requests, detective, ...(collected.usage ? { usage: collected.usage } : {}) };
}
