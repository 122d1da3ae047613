/**
 * The storyline as one OCSF 1.1.0 Detection Finding (class_uid 2004, category 2 Findings), what
 * `--format ocsf` prints: for Amazon Security Lake custom sources and SIEMs that read OCSF
 * (https://docs.aws.amazon.com/security-lake/latest/userguide/custom-sources.html). The class and
 * its objects: https://schema.ocsf.io/1.1.0/classes/detection_finding.
 *
 * The mapping (OCSF attribute ← storyline field):
 * - `activity_id` 1 Create, `status_id` 1 New: every run reports a new finding; `type_uid`
 *   200401 (class_uid × 100 + activity_id), with the `*_name` captions beside each id.
 * - `time` and `finding_info.created_time` ← the run's time (`now`, `--now`), in milliseconds
 *   since the epoch (OCSF `timestamp_t`).
 * - `severity_id` ← the GuardDuty finding's `severity` by GuardDuty's levels
 *   (https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_findings.html, "Severity levels
 *   for GuardDuty findings"):
 *   9.0-10.0 Critical 5, 7.0-8.9 High 4, 4.0-6.9 Medium 3, 1.0-3.9 Low 2, below 1
 *   Informational 1, absent Unknown 0.
 * - `metadata`: `version` "1.1.0", `product` {name "trailstory", vendor_name "trailstory",
 *   version from package.json}, `profiles` ["cloud"] (the `cloud` object is given).
 * - `cloud` ← the finding's account (`account.uid`, type_id 10 AWS Account) and `region`,
 *   provider "AWS".
 * - `start_time`/`end_time` and `finding_info.first_seen_time`/`last_seen_time` ← the first and
 *   last listed step's `eventTime` (the finding's `eventFirstSeen`/`eventLastSeen` for an empty
 *   storyline, absent when it has neither).
 * - `finding_info.uid` ← the companion finding's Id, the same as `--format asff`
 *   (`<GuardDuty finding ARN>/trailstory-storyline`), so the two can be joined; `title` ←
 *   "Attack storyline of GuardDuty finding <type>"; `desc` and `message` ← the summary;
 *   `src_url` ← the report link when there is one; `analytic` the storyline reconstruction
 *   (type_id 1 Rule: the rules of evidence); `data_sources` ["CloudTrail", "GuardDuty"].
 * - `finding_info.attacks` ← each distinct tactic and technique of the steps, in the order they
 *   first appear: `tactic` {uid TA00xx, name}; a technique `T1098` as `technique`, a
 *   sub-technique `T1098.001` as `technique` {uid T1098, name before ": "} plus `sub_technique`.
 * - `finding_info.related_events` ← one per step in the steps' order, `uid` its CloudTrail
 *   `eventID`, `type` "CloudTrail <eventSource> <eventName>", `attacks` the step's own; then the
 *   GuardDuty finding the storyline enriches: `uid` its ARN, `type` "GuardDuty finding <type>",
 *   `product_uid` GuardDuty's Security Hub product ARN.
 * - `evidences` ← one per step, in order: `actor.user` {uid principal ARN, credential_uid the
 *   access key, account}, `actor.invoked_by` when an AWS service made the call; `api`
 *   {operation eventName, service.name eventSource, response.error the errorCode};
 *   `src_endpoint` ← `sourceIPAddress`: an IP as `ip` (normalised: `203.000.113.007` is
 *   `203.0.113.7`), an AWS service name (`ec2.amazonaws.com`) as `svc_name`, anything else
 *   (`AWS Internal`) as `name`, left out when the record has none.
 * - `unmapped` (free-form: OCSF has no field for these) ← `lineage` (principal ARNs),
 *   `lineage_edges`, `origin` (eventId and reason), `attacker_sources`, the GuardDuty finding's
 *   `id`/`type`, and `coverage` (records read and skipped, gaps, steps not listed).
 *
 * Every string from the input passes the output boundary (src/render/escape.ts) as in
 * `--format json`: capped with a visible marker, here at 65,535 bytes (OCSF `string_t` holds at
 * most 65,535 characters); JSON escapes C0 control characters, and {@link renderOcsf} also writes
 * DEL, C1 controls, bidirectional controls, invisible characters and U+2028/U+2029 as `\uXXXX` escapes, so the
 * values are kept exactly while no terminal or viewer acts on them.
 */
import packageJson from '../../package.json';
import { classifySourceAddress } from '../identity/ip';
import type { Step, Storyline, Tactic } from '../model/storyline';
import { companionId, guardDutyProductArn, PRODUCT_NAME } from '../securityhub/asff';
import { cap } from './escape';

/** The OCSF version the output follows. */
export const OCSF_VERSION = '1.1.0';
/** Detection Finding's class_uid (category 2 Findings × 1000 + class 4). */
export const OCSF_DETECTION_FINDING = 2004;
/** The longest string value written (UTF-8 bytes, marker included): OCSF `string_t`'s 65,535 characters. */
export const OCSF_STRING_MAX = 65_535;

/** Options of {@link buildOcsfFinding}. */
export interface OcsfOptions {
  /** The run's time, ISO 8601 (`--now`): `time` and `finding_info.created_time`. */
  now: string;
  /** The report's address, written as `finding_info.src_url`. */
  reportUrl?: string;
}

/** An OCSF object as written: attribute names to JSON values. */
export type OcsfObject = { [attribute: string]: unknown };

/** One input string through the output boundary ({@link OCSF_STRING_MAX}). */
function s(value: unknown): string {
  return cap(value, OCSF_STRING_MAX);
}

/** ISO 8601 text as milliseconds since the epoch (OCSF `timestamp_t`), or undefined when it is not a time. */
function ms(iso: string | undefined | null): number | undefined {
  if (!iso) return undefined;
  const t = Date.parse(iso);
  return Number.isFinite(t) ? t : undefined;
}

/** OCSF severity_id from a GuardDuty severity (0.1-10.0), by GuardDuty's severity levels. */
export function ocsfSeverityId(severity: number | undefined): { severity_id: number; severity: string } {
  if (severity === undefined || !Number.isFinite(severity)) return { severity_id: 0, severity: 'Unknown' };
  if (severity >= 9) return { severity_id: 5, severity: 'Critical' };
  if (severity >= 7) return { severity_id: 4, severity: 'High' };
  if (severity >= 4) return { severity_id: 3, severity: 'Medium' };
  if (severity >= 1) return { severity_id: 2, severity: 'Low' };
  return { severity_id: 1, severity: 'Informational' };
}

/** An OCSF `attack` object for a tactic and its technique (a sub-technique `T1098.001` split into technique and sub_technique). */
function attackOf(tactic: Tactic | null, technique: Step['technique']): OcsfObject | null {
  const out: OcsfObject = {};
  if (tactic) out.tactic = { uid: s(tactic.id), name: s(tactic.name) };
  if (technique) {
    const [parentId, subId] = technique.id.split('.', 2);
    const colon = technique.name.indexOf(': ');
    if (subId) {
      out.technique = colon > 0 ? { uid: s(parentId), name: s(technique.name.slice(0, colon)) } : { uid: s(parentId) };
      out.sub_technique = { uid: s(technique.id), name: s(colon > 0 ? technique.name.slice(colon + 2) : technique.name) };
    } else out.technique = { uid: s(technique.id), name: s(technique.name) };
  }
  return Object.keys(out).length ? out : null;
}

/** The key of an attack, to list each distinct tactic and technique once. */
function attackKey(step: Step): string {
  return `${step.tactic?.id ?? ''}|${step.technique?.id ?? ''}`;
}

/**
 * `sourceIPAddress` as an OCSF `network_endpoint`, by `classifySourceAddress`: an IP address
 * normalised (`203.000.113.007` is `203.0.113.7`) as `ip`, an AWS service's name as `svc_name`,
 * `AWS Internal` and other text as `name`; undefined when the record has none.
 */
function endpointOf(source: string): OcsfObject | undefined {
  const a = classifySourceAddress(source);
  if ((a.kind === 'ipv4' || a.kind === 'ipv6') && a.value.length <= 40) return { ip: a.value };
  if (a.kind === 'service') return { svc_name: s(a.value) };
  if (a.kind === 'none') return undefined;
  return { name: s(a.kind === 'other' ? source : a.value) }; // other text as it was given, whitespace too
}

/** One step as an OCSF `evidences` object: who (`actor`), what (`api`), from where (`src_endpoint`). */
function evidenceOf(step: Step): OcsfObject {
  const user: OcsfObject = { account: { uid: s(step.accountId), type_id: 10, type: 'AWS Account' } };
  if (step.principalArn) user.uid = s(step.principalArn);
  if (step.accessKeyId) user.credential_uid = s(step.accessKeyId);
  const actor: OcsfObject = { user };
  const source = classifySourceAddress(step.sourceIPAddress);
  if (step.reason === 'service-for-attacker' && source.kind === 'service') actor.invoked_by = s(source.value);
  const api: OcsfObject = { operation: s(step.eventName), service: { name: s(step.eventSource) } };
  if (step.errorCode) api.response = { error: s(step.errorCode) };
  const src = endpointOf(step.sourceIPAddress);
  return { actor, api, ...(src ? { src_endpoint: src } : {}) };
}

/**
 * The storyline as an OCSF 1.1.0 Detection Finding (the mapping is this module's comment).
 * Pure: the same storyline and options give the same object.
 * @param st the storyline (src/model/storyline.ts)
 * @param opts `now` the run's time (ISO 8601), `reportUrl` the report link when there is one
 * @returns the event as a plain JSON object
 * @throws RangeError when `now` is not a time
 */
export function buildOcsfFinding(st: Storyline, opts: OcsfOptions): OcsfObject {
  const now = ms(opts.now);
  if (now === undefined) throw new RangeError(`now ${JSON.stringify(opts.now)} is not a time (ISO 8601)`);
  const f = st.finding;
  const first = st.steps.length ? ms(st.steps[0]!.eventTime) : ms(f.eventFirstSeen);
  const last = st.steps.length ? ms(st.steps[st.steps.length - 1]!.eventTime) : ms(f.eventLastSeen);

  const attacks: OcsfObject[] = [];
  const seen = new Set<string>();
  for (const step of st.steps) {
    const key = attackKey(step);
    if (seen.has(key)) continue;
    seen.add(key);
    const a = attackOf(step.tactic, step.technique);
    if (a) attacks.push(a);
  }

  const related: OcsfObject[] = st.steps.map((step) => {
    const r: OcsfObject = { uid: s(step.eventId), type: s(`CloudTrail ${step.eventSource} ${step.eventName}`) };
    const a = attackOf(step.tactic, step.technique);
    if (a) r.attacks = [a];
    return r;
  });
  related.push({ uid: s(f.arn), type: s(`GuardDuty finding ${f.type}`), product_uid: s(guardDutyProductArn(st)) });

  const title = s(`Attack storyline of GuardDuty finding ${f.type}`);
  const desc = st.steps.length ? s(st.summary) : s(`No storyline: ${st.coverage.gaps[0] ?? st.summary}`);
  const findingInfo: OcsfObject = {
    uid: s(companionId(st)),
    title,
    desc,
    created_time: now,
    ...(first !== undefined ? { first_seen_time: first } : {}),
    ...(last !== undefined ? { last_seen_time: last } : {}),
    analytic: { name: 'trailstory storyline', type_id: 1, type: 'Rule', version: packageJson.version },
    data_sources: ['CloudTrail', 'GuardDuty'],
    ...(attacks.length ? { attacks } : {}),
    related_events: related,
    ...(opts.reportUrl ? { src_url: s(opts.reportUrl) } : {}),
  };

  const coverage: OcsfObject = {
    sample: st.coverage.sample,
    records_read: st.coverage.recordsRead,
    records_skipped: st.coverage.recordsSkipped,
    files_read: st.coverage.filesRead,
    files_skipped: st.coverage.filesSkipped,
    gaps: st.coverage.gaps.map(s),
    ...(st.coverage.stepsNotListed ? { steps_not_listed: st.coverage.stepsNotListed } : {}),
  };
  const unmapped: OcsfObject = {
    guardduty_finding_id: s(f.id),
    guardduty_finding_type: s(f.type),
    origin: st.origin ? { event_id: s(st.origin.eventId), event_time: s(st.origin.eventTime), event_name: s(st.origin.eventName), reason: s(st.origin.reason) } : null,
    lineage: st.lineage.map(s),
    lineage_edges: st.lineageEdges.map((e) => ({ from: s(e.from), to: s(e.to), via: s(e.via), event_id: s(e.eventId), event_time: s(e.eventTime), by_attacker: e.byAttacker })),
    attacker_sources: st.attackerSources.map((a) => ({ ip: s(a.ip), reason: s(a.reason) })),
    coverage,
  };

  return {
    activity_id: 1,
    activity_name: 'Create',
    category_uid: 2,
    category_name: 'Findings',
    class_uid: OCSF_DETECTION_FINDING,
    class_name: 'Detection Finding',
    type_uid: OCSF_DETECTION_FINDING * 100 + 1,
    type_name: 'Detection Finding: Create',
    ...ocsfSeverityId(f.severity),
    status_id: 1,
    status: 'New',
    time: now,
    ...(first !== undefined ? { start_time: first } : {}),
    ...(last !== undefined ? { end_time: last } : {}),
    message: desc,
    metadata: {
      version: OCSF_VERSION,
      product: { name: PRODUCT_NAME, vendor_name: PRODUCT_NAME, version: packageJson.version },
      profiles: ['cloud'],
    },
    cloud: { provider: 'AWS', region: s(f.region), account: { uid: s(f.accountId), type_id: 10, type: 'AWS Account' } },
    finding_info: findingInfo,
    ...(st.steps.length ? { evidences: st.steps.map(evidenceOf) } : {}),
    unmapped,
  };
}

/**
 * Characters a viewer could act on or not show, written as `\uXXXX` escapes in the JSON text
 * (the value is unchanged for a JSON reader): DEL and the C1 controls (JSON escapes only C0), the
 * bidirectional controls, zero-width and tag characters that escape.ts's `neutral` and
 * `terminal` mark, and U+2028/U+2029.
 */
const INVISIBLE_IN_JSON = /[\u007f-\u009f\u061c\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\u{e0000}-\u{e007f}]/gu;

function jsonEscape(c: string): string {
  let out = '';
  for (let i = 0; i < c.length; i++) out += `\\u${c.charCodeAt(i).toString(16).padStart(4, '0')}`;
  return out;
}

/**
 * `--format ocsf`: {@link buildOcsfFinding} as indented JSON (two spaces, ending with a
 * newline), with bidirectional controls and invisible characters escaped (`\u202e`).
 * @throws RangeError when `opts.now` is not a time
 */
export function renderOcsf(st: Storyline, opts: OcsfOptions): string {
  return JSON.stringify(buildOcsfFinding(st, opts), null, 2).replace(INVISIBLE_IN_JSON, jsonEscape) + '\n';
}
