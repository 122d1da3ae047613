/**
 * What the writer sends to the new Security Hub (OCSF findings) for one storyline, built as plain
 * data (no I/O): the `BatchUpdateFindingsV2` input that annotates GuardDuty's finding.
 *
 * API: https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_BatchUpdateFindingsV2.html
 * - The finding is addressed by `FindingIdentifiers` (`OcsfFindingIdentifier`, all three members
 *   required, https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_OcsfFindingIdentifier.html):
 *   `CloudAccountUid` = `cloud.account.uid` (the finding's account), `FindingInfoUid` =
 *   `finding_info.uid` (GuardDuty's finding ARN, ASFF `Id`), `MetadataProductUid` =
 *   `metadata.product.uid` (GuardDuty's product ARN, ASFF `ProductArn`).
 * - `Comment`: 1-512 characters, pattern `.*\S.*`; one comment per finding, replaced whole by
 *   every update. Like the CSPM Note ({@link noteText}), ours comes first and another author's
 *   text is kept after it; ours is one line marked `[trailstory <updatedAt>]` (the GuardDuty
 *   `updatedAt` it describes), so a re-enrichment replaces only our line and the intake knows the
 *   `Findings Imported V2` event our own update causes (its `finding_info.modified_time` is
 *   GuardDuty's: "Updates from BatchUpdateFindingsV2 don't affect the value of
 *   finding_info.modified_time").
 * - `SeverityId` (0-6, 99) and `StatusId` (0-5, 99) are never sent unless the deployment opts in
 *   (`SecurityHubV2SetSeverity`, `SecurityHubV2SetStatus`); see {@link v2SeverityId} and
 *   {@link v2StatusId} for the mapping.
 */
import type { Storyline } from '../model/storyline';
import { clip } from '../storyline/summary';
import { asffId, guardDutyProductArn, noteText, PRODUCT_NAME } from './asff';

/** Limits of `BatchUpdateFindingsV2` (API reference): `Comment` 1-512 characters. */
export const V2_LIMITS = { comment: 512 } as const;

/** OCSF `severity_id` values `BatchUpdateFindingsV2` takes (API reference: 0, 1, 2, 3, 4, 5, 6, 99). */
export const OCSF_SEVERITY_IDS = [0, 1, 2, 3, 4, 5, 6, 99] as const;
/** OCSF `status_id` values `BatchUpdateFindingsV2` takes (API reference: 0, 1, 2, 3, 4, 5, 99). */
export const OCSF_STATUS_IDS = [0, 1, 2, 3, 4, 5, 99] as const;
/** OCSF Detection Finding `status_id`: 1 New, 2 In Progress (OCSF 1.1.0 `detection_finding`). */
export const OCSF_STATUS = { unknown: 0, new: 1, inProgress: 2 } as const;

/** The start of our line in a comment: `[trailstory <updatedAt>] `. */
const MARK = /^\[trailstory ([^\]\n]*)\] /;
/** How another author's text is introduced after our line (`noteText`'s `\n[<by>] `). */
export const OTHER_AUTHOR = 'comment';

/** A comment split into our line (with the `updatedAt` it was written for) and another author's text. */
export interface CommentParts {
  /** Our line, when the comment starts with one. */
  ours?: string;
  /** The GuardDuty `updatedAt` our line was written for (`-` when unknown). */
  oursUpdatedAt?: string;
  /** Everyone else's text ('' when none). */
  theirs: string;
}

/**
 * Splits a V2 `comment` into our line and the rest: a comment that does not start with our
 * marker is wholly another author's; after our line, the text `noteText` introduced with
 * `\n[comment] ` (or any text) is theirs.
 */
export function splitComment(comment: string | undefined): CommentParts {
  if (!comment) return { theirs: '' };
  const m = MARK.exec(comment);
  if (!m) return { theirs: comment };
  const nl = comment.indexOf('\n');
  const ours = nl < 0 ? comment : comment.slice(0, nl);
  let rest = nl < 0 ? '' : comment.slice(nl + 1);
  const intro = `[${OTHER_AUTHOR}] `;
  if (rest.startsWith(intro)) rest = rest.slice(intro.length);
  return { ours, oursUpdatedAt: m[1], theirs: rest };
}

/**
 * True when a finding's comment is the one we wrote for this very GuardDuty update
 * (`updatedAt`): the `Findings Imported V2` event our own `BatchUpdateFindingsV2` caused.
 */
export function isOwnComment(comment: string | undefined, updatedAt: string | undefined): boolean {
  const p = splitComment(comment);
  return p.ours !== undefined && p.oursUpdatedAt === (updatedAt ?? '-');
}

/** Characters our line keeps at least (marker, time and the start of the summary). */
const OURS_MIN = 80;

/**
 * The comment to write: our one line (`[trailstory <updatedAt>] <summary>`, newlines folded to
 * spaces), then another author's text kept whole as `noteText` keeps another tool's Note (ours
 * is cut first, with a visible marker, to stay within 512 characters). Another author's text
 * longer than 512 less our 80 is itself cut in its middle (`clip`), so that it always stays after
 * our line and is found there again next time.
 */
export function commentText(summary: string, updatedAt: string | undefined, existingComment?: string): string {
  const ours = `[${PRODUCT_NAME} ${updatedAt ?? '-'}] ${summary.replace(/\s*[\r\n]+\s*/g, ' ')}`;
  const { theirs } = splitComment(existingComment);
  if (!theirs.trim()) return noteText(ours);
  const room = V2_LIMITS.comment - OURS_MIN - `\n[${OTHER_AUTHOR}] `.length;
  return noteText(ours, { Text: clip(theirs, room), UpdatedBy: OTHER_AUTHOR });
}

/** OCSF `severity_id` of a GuardDuty severity (1-3.9 Low 2, 4-6.9 Medium 3, 7-8.9 High 4, 9+ Critical 5; unknown 0). */
export function ocsfSeverityIdOfGuardDuty(severity: number | undefined): number {
  if (severity === undefined || !Number.isFinite(severity)) return 0;
  if (severity >= 9) return 5;
  if (severity >= 7) return 4;
  if (severity >= 4) return 3;
  if (severity > 0) return 2;
  return 1;
}

/** Tactics that show the attacker went past access: Persistence, Privilege Escalation, Exfiltration, Impact. */
const ESCALATING = new Set(['TA0003', 'TA0004', 'TA0010', 'TA0040']);

/**
 * The `SeverityId` the storyline argues for (only sent when the deployment opts in): GuardDuty's
 * own severity as OCSF (`ocsfSeverityIdOfGuardDuty`), one level higher (at most Critical, 5) when
 * an attacker step is Persistence, Privilege Escalation, Exfiltration or Impact; never lower than
 * the finding's current `severity_id` (an analyst's or GuardDuty's higher call stands). Undefined
 * (nothing sent) for an empty storyline or when it would not change the current value.
 */
export function v2SeverityId(st: Storyline, currentSeverityId?: number): number | undefined {
  if (st.steps.length === 0) return undefined;
  const base = Math.max(ocsfSeverityIdOfGuardDuty(st.finding.severity), 1);
  const escalated = st.steps.some((s) => s.tactic && ESCALATING.has(s.tactic.id)) ? Math.min(base + 1, 5) : base;
  const current = currentSeverityId !== undefined && currentSeverityId >= 1 && currentSeverityId <= 6 ? currentSeverityId : 0;
  const target = Math.max(escalated, current);
  return target === currentSeverityId ? undefined : target;
}

/**
 * The `StatusId` to send (only when the deployment opts in): In Progress (2) for a finding that is
 * New (1) or Unknown (0) and has a storyline; never anything else, so an analyst's In Progress,
 * Suppressed, Resolved, Archived or Other stands (pitfall 9: we never reopen what they decided).
 */
export function v2StatusId(st: Storyline, currentStatusId?: number): number | undefined {
  if (st.steps.length === 0) return undefined;
  if (currentStatusId === undefined || currentStatusId === OCSF_STATUS.new || currentStatusId === OCSF_STATUS.unknown) return OCSF_STATUS.inProgress;
  return undefined;
}

/** The finding as the new Security Hub holds it now (read with `GetFindingsV2`). */
export interface V2Current {
  /** OCSF `comment`. */
  comment?: string;
  /** OCSF `severity_id`. */
  severityId?: number;
  /** OCSF `status_id`. */
  statusId?: number;
}

/** Options of {@link buildBatchUpdateFindingsV2}. */
export interface V2Options {
  /** GuardDuty's `updatedAt` of the finding enriched (ISO 8601 UTC): marks our comment line. */
  updatedAt?: string;
  /** The finding's current comment, severity and status (`GetFindingsV2`), when read. */
  current?: V2Current;
  /** Send `SeverityId` from the storyline (deploy parameter `SecurityHubV2SetSeverity`). */
  setSeverity?: boolean;
  /** Send `StatusId` In Progress for a New finding (deploy parameter `SecurityHubV2SetStatus`). */
  setStatus?: boolean;
}

/** The `BatchUpdateFindingsV2` input shape (API reference), as this module builds it. */
export interface BatchUpdateFindingsV2Input {
  FindingIdentifiers: { CloudAccountUid: string; FindingInfoUid: string; MetadataProductUid: string }[];
  Comment: string;
  SeverityId?: number;
  StatusId?: number;
}

/**
 * The `OcsfFindingIdentifier` of GuardDuty's finding: `CloudAccountUid` the finding's account,
 * `FindingInfoUid` its ARN (ASFF `Id`), `MetadataProductUid` GuardDuty's product ARN (ASFF
 * `ProductArn`). Each is held within 512 characters as the CSPM write holds its identifiers
 * (`asffId`: a longer one, which no real GuardDuty finding has, becomes its start and its SHA-256),
 * so a forged 1 MB ARN cannot make a request of that size.
 */
export function v2FindingIdentifier(st: Storyline): BatchUpdateFindingsV2Input['FindingIdentifiers'][number] {
  return { CloudAccountUid: asffId(st.finding.accountId), FindingInfoUid: asffId(st.finding.arn), MetadataProductUid: guardDutyProductArn(st) };
}

/** The summary our comment line carries: the storyline's, or why there is none. */
function summaryOf(st: Storyline): string {
  if (st.steps.length > 0) return st.summary;
  return `no storyline: ${st.coverage.sample ? 'sample finding' : st.coverage.gaps[0] ?? 'no attacker activity found'}`;
}

/**
 * Builds the `BatchUpdateFindingsV2` input for `st` (pure).
 *
 * @param st the storyline; `st.finding.accountId`, `.arn`, `.region` address GuardDuty's finding.
 * @param opts see {@link V2Options}: without `current`, another author's comment cannot be kept
 *   (the caller notes that in the coverage).
 * @returns `FindingIdentifiers` (one), `Comment` (1-512 characters), and `SeverityId` /
 *   `StatusId` only when opted in and they change something.
 */
export function buildBatchUpdateFindingsV2(st: Storyline, opts: V2Options = {}): BatchUpdateFindingsV2Input {
  const input: BatchUpdateFindingsV2Input = {
    FindingIdentifiers: [v2FindingIdentifier(st)],
    Comment: commentText(summaryOf(st), opts.updatedAt, opts.current?.comment),
  };
  if (opts.setSeverity) {
    const s = v2SeverityId(st, opts.current?.severityId);
    if (s !== undefined) input.SeverityId = s;
  }
  if (opts.setStatus) {
    const s = v2StatusId(st, opts.current?.statusId);
    if (s !== undefined) input.StatusId = s;
  }
  return input;
}

/**
 * Checks a `BatchUpdateFindingsV2` input against the reference's rules before sending
 * (pitfalls 4 and 5): identifiers present and not blank, `Comment` 1-512 characters and not
 * blank, `SeverityId` / `StatusId` among the allowed values. Returns the problems, empty when it
 * can be sent.
 */
export function v2Problems(input: BatchUpdateFindingsV2Input): string[] {
  const problems: string[] = [];
  const ids = input.FindingIdentifiers ?? [];
  if (ids.length < 1 || ids.length > 100) problems.push(`${ids.length} FindingIdentifiers (1-100)`);
  for (const id of ids) {
    for (const k of ['CloudAccountUid', 'FindingInfoUid', 'MetadataProductUid'] as const) {
      if (typeof id[k] !== 'string' || !/\S/.test(id[k])) problems.push(`FindingIdentifiers ${k} is empty`);
    }
  }
  const c = input.Comment;
  if (typeof c !== 'string' || !/\S/.test(c)) problems.push('Comment is empty');
  else if (c.length > V2_LIMITS.comment) problems.push(`Comment is ${c.length} characters (max ${V2_LIMITS.comment})`);
  if (input.SeverityId !== undefined && !(OCSF_SEVERITY_IDS as readonly number[]).includes(input.SeverityId)) problems.push(`SeverityId ${input.SeverityId} is not one of ${OCSF_SEVERITY_IDS.join(', ')}`);
  if (input.StatusId !== undefined && !(OCSF_STATUS_IDS as readonly number[]).includes(input.StatusId)) problems.push(`StatusId ${input.StatusId} is not one of ${OCSF_STATUS_IDS.join(', ')}`);
  return problems;
}
