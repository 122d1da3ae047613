/**
 * What the Security Hub writer sends for one storyline, built as plain data (no I/O): the
 * `BatchUpdateFindings` input that annotates GuardDuty's finding and the `BatchImportFindings`
 * input holding the companion storyline finding, exactly as the storyline contract's
 * "What `--format asff` prints" says.
 *
 * Shapes follow the Security Hub API model (`shared/aws-models/securityhub-2018-10-26.json`:
 * `BatchUpdateFindingsRequest`, `AwsSecurityFinding`) and the ASFF limits in
 * https://docs.aws.amazon.com/securityhub/latest/userguide/securityhub-findings-format.html
 * (Title 256, Description 1024, Note.Text 512, Types 50, Resources 1-32, RelatedFindings 10,
 * UserDefinedFields and ProductFields 50 pairs, keys 128, values 1024 / 2048, Id and
 * ProductArn 512, a resource tag's value 256, AwsAccountId 12 digits, the finding at most
 * 240 KB): every value taken from the input is held within them, so a hostile finding (a 1 MB
 * id or ARN, an account id `__proto__`) cannot make a write Security Hub refuses.
 */
import { createHash } from 'node:crypto';
import { REGION_NAME } from '../config';
import { asffTypesOfGuardDutyType } from '../findings/guardduty-asff-types';
import type { Storyline, Tactic } from '../model/storyline';
import { clip, headUnits } from '../storyline/summary';

/** The product's name: `Note.UpdatedBy`, `ProductName`, `CompanyName`. */
export const PRODUCT_NAME = 'trailstory';

/** ASFF limits (characters / entries). */
export const ASFF_LIMITS = {
  title: 256,
  description: 1024,
  noteText: 512,
  types: 50,
  resources: 32,
  relatedFindings: 10,
  userDefinedFields: 50,
  userDefinedKey: 128,
  userDefinedValue: 1024,
  productFields: 50,
  productFieldValue: 2048,
  id: 512,
  tagValue: 256,
  findingBytes: 240 * 1024,
} as const;

/** An AWS account id as ASFF's `AwsAccountId` takes it: 12 digits. */
const ACCOUNT_ID = /^\d{12}$/;

/** The SHA-256 of a text's UTF-8 bytes, in hex: what stands for an identifier too long to keep. */
function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/**
 * An identifier (`Id`, `FindingIdentifiers.Id`, `RelatedFindings.Id`, a `ProductArn`) within
 * ASFF's 512 characters: as it is when it fits, else its start, `…` and the SHA-256 of the
 * whole (hex), so it stays deterministic and distinct for distinct inputs.
 */
export function asffId(id: string): string {
  if (id.length <= ASFF_LIMITS.id) return id;
  const hash = `…sha256:${sha256Hex(id)}`;
  return headUnits(id, ASFF_LIMITS.id - hash.length) + hash;
}

/**
 * Why the companion finding cannot be imported for this storyline, or null when it can: its
 * account must be a 12-digit AWS account id (BatchImportFindings refuses anything else, and the
 * ProductArn is built from it), and its region a region name (`eu-west-1`).
 */
export function companionRefusal(st: Storyline): string | null {
  const a = st.finding.accountId;
  if (!ACCOUNT_ID.test(a)) return `the finding's account ${JSON.stringify(clip(a, 40))} is not a 12-digit AWS account id`;
  if (!REGION_NAME.test(st.finding.region)) return `the finding's region ${JSON.stringify(clip(st.finding.region, 40))} is not a region name`;
  return null;
}

/** ASFF `Types` for each ATT&CK tactic ("Types taxonomy for ASFF": TTPs and Effects categories). */
const TYPE_OF_TACTIC: Record<string, string | undefined> = {
  TA0001: 'TTPs/Initial Access',
  TA0002: 'TTPs/Execution',
  TA0003: 'TTPs/Persistence',
  TA0004: 'TTPs/Privilege Escalation',
  TA0005: 'TTPs/Defense Evasion',
  TA0006: 'TTPs/Credential Access',
  TA0007: 'TTPs/Discovery',
  TA0008: 'TTPs/Lateral Movement',
  TA0009: 'TTPs/Collection',
  TA0011: 'TTPs/Command and Control',
  TA0010: 'Effects/Data Exfiltration',
};

/** The Impact tactic's Effects category, from what the steps did. */
function impactType(eventNames: string[]): string {
  if (eventNames.some((n) => /^(Delete|Terminate|Destroy|Purge)/.test(n))) return 'Effects/Data Destruction';
  return 'Effects/Resource Consumption';
}

/** Every type {@link asffTypes} can give: the only ones a re-enrichment may take back as ours. */
const OUR_TYPES: ReadonlySet<string> = new Set([...Object.values(TYPE_OF_TACTIC).filter((t): t is string => t !== undefined), 'Effects/Data Destruction', 'Effects/Resource Consumption']);

/** ASFF types of the storyline's tactics, in story order, deduplicated (at most 50). */
export function asffTypes(st: Storyline): string[] {
  const out: string[] = [];
  const impactEvents = st.steps.filter((s) => s.tactic?.id === 'TA0040').map((s) => s.eventName);
  for (const s of st.steps) {
    const t: Tactic | null = s.tactic;
    if (!t) continue;
    const type = t.id === 'TA0040' ? impactType(impactEvents) : TYPE_OF_TACTIC[t.id];
    if (type && !out.includes(type)) out.push(type);
  }
  return out.slice(0, ASFF_LIMITS.types);
}

/** The GuardDuty product ARN in the finding's partition and region. */
export function guardDutyProductArn(st: Storyline): string {
  return asffId(`arn:${partitionOf(st)}:securityhub:${st.finding.region}::product/aws/guardduty`);
}

/** The product ARN for findings imported by the account itself (`product/<account>/default`). */
export function companionProductArn(st: Storyline): string {
  return asffId(`arn:${partitionOf(st)}:securityhub:${st.finding.region}:${st.finding.accountId}:product/${st.finding.accountId}/default`);
}

/**
 * The companion finding's Id: derived from the GuardDuty finding's ARN only, never from time;
 * `<ARN>/trailstory-storyline`, or when that passes 512 characters (a forged ARN)
 * `trailstory-storyline/sha256:<hex of the ARN>`.
 */
export function companionId(st: Storyline): string {
  const id = `${st.finding.arn}/trailstory-storyline`;
  if (id.length <= ASFF_LIMITS.id) return id;
  return `trailstory-storyline/sha256:${sha256Hex(st.finding.arn)}`;
}

function partitionOf(st: Storyline): string {
  const p = st.finding.arn.split(':', 2)[1];
  return p && /^aws(-[a-z]+)*$/.test(p) ? p : 'aws';
}

/** Another tool's Note on the GuardDuty finding, kept when ours is added (pitfall 10). */
export interface ExistingNote {
  Text: string;
  UpdatedBy: string;
}

/**
 * What GuardDuty's finding holds now in the fields `BatchUpdateFindings` replaces, read with
 * `GetFindings` (writer.ts `currentAnnotation`) or taken from the ASFF input (`--format asff`).
 * ASFF field names and shapes (`AwsSecurityFinding`).
 */
export interface ExistingAnnotation {
  Note?: ExistingNote;
  Types: string[];
  RelatedFindings: { ProductArn: string; Id: string }[];
  UserDefinedFields: Record<string, string>;
}

/** Our UserDefinedFields keys all start with this; every other key is another tool's or an analyst's. */
export const OUR_KEY_PREFIX = 'trailstory.';

/**
 * The UserDefinedFields entry that records which `Types` we added at the last enrichment: a
 * JSON array of strings (`["TTPs/Discovery","TTPs/Persistence"]`). Only a type that was not on
 * the finding before we added it is listed, so a re-enrichment can take back its own stale types
 * and never one that GuardDuty or an analyst put there. Without the entry (no room for it) we
 * add no type.
 */
export const TYPES_ADDED_KEY = 'trailstory.9.types-added';

/**
 * Our UserDefinedFields keys in the order they keep their place when the field is full (50
 * pairs): the types record first (without it our types cannot be added), then the origin, the
 * coverage (which names what was left out), the companion's Id, and the rest.
 */
const OUR_KEY_PRIORITY = [
  TYPES_ADDED_KEY,
  'trailstory.1.origin',
  'trailstory.6.coverage',
  'trailstory.7.companion-finding',
  'trailstory.3.tactics',
  'trailstory.4.steps',
  'trailstory.2.lineage',
  'trailstory.5.attacker-sources',
  'trailstory.8.report',
];

/** The types listed in {@link TYPES_ADDED_KEY}'s value; none when it is absent or not a JSON array of strings. */
export function typesAddedOf(value: string | undefined): string[] {
  if (!value) return [];
  try {
    const v: unknown = JSON.parse(value);
    return Array.isArray(v) ? v.filter((t): t is string => typeof t === 'string') : [];
  } catch {
    return [];
  }
}

/** True for a RelatedFindings entry that links to a storyline finding of ours (`companionProductArn` / `companionId` form). */
function isOurLink(r: { ProductArn: string; Id: string }, st: Storyline): boolean {
  // Only the link to this finding's own companion (its Id is derived from the finding's ARN, in
  // the finding's account): another account's or another finding's look-alike is theirs.
  return r.Id === companionId(st) && r.ProductArn.endsWith(`:product/${st.finding.accountId}/default`);
}

/** A copy of `fields` as a plain record built with defineProperty, so a key `__proto__` stays a field. */
function fieldMap(entries: [string, string][]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of entries) Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
  return out;
}

/** Adds `gap` to the storyline's coverage gaps once. */
function addGap(st: Storyline, gap: string): void {
  if (!st.coverage.gaps.includes(gap)) st.coverage.gaps.push(gap);
}

/** The union sent for `Types`, `RelatedFindings` and `UserDefinedFields` (see {@link buildSecurityHubWrites}). */
interface UnitedAnnotation {
  Types?: string[];
  RelatedFindings?: { ProductArn: string; Id: string }[];
  UserDefinedFields?: Record<string, string>;
}

/**
 * Theirs and ours in the three list fields, within the ASFF limits (Types 50, RelatedFindings
 * 10, UserDefinedFields 50 pairs). Theirs: every entry on the finding that is not ours (our
 * types are those {@link TYPES_ADDED_KEY} lists, our fields the `trailstory.` keys, our link the
 * companion's). Ours: the storyline's types not already there, the link to the companion
 * finding (`linkCompanion`), `ourFields` (in {@link OUR_KEY_PRIORITY} order). Where a list is
 * full, ours give way and a coverage gap of `st` says what was left out; theirs are never
 * dropped. A field whose union is empty and that is empty on the finding is not sent.
 */
function uniteAnnotation(st: Storyline, existing: ExistingAnnotation, ourFields: (storyline: Storyline) => Record<string, string>, linkCompanion: boolean): UnitedAnnotation {
  const out: UnitedAnnotation = {};
  const theirFields = Object.entries(existing.UserDefinedFields).filter(([k]) => !k.startsWith(OUR_KEY_PREFIX));
  // Theirs that Security Hub could not hold (a hostile --format asff input): that field is not
  // sent at all, so nothing of theirs is dropped and the request stays valid.
  const badField = theirFields.find(([k, v]) => k.length > ASFF_LIMITS.userDefinedKey || v.length > ASFF_LIMITS.userDefinedValue || !/\S/.test(k) || !/\S/.test(v));
  const badType = existing.Types.find((t) => typeProblem(t) !== '');
  const badLink = existing.RelatedFindings.find((r) => r.Id.length > ASFF_LIMITS.id || r.ProductArn.length > ASFF_LIMITS.id || !/\S/.test(r.Id) || !/\S/.test(r.ProductArn));
  if (badField) addGap(st, `Security Hub: the finding's UserDefinedFields hold a pair over ${ASFF_LIMITS.userDefinedKey}/${ASFF_LIMITS.userDefinedValue} characters or empty (${JSON.stringify(clip(badField[0], 40))}); UserDefinedFields not sent`);
  if (badType) addGap(st, `Security Hub: the finding's Types hold ${JSON.stringify(clip(badType, 40))}, which ${typeProblem(badType)}; Types not sent`);
  if (badLink) addGap(st, `Security Hub: the finding's RelatedFindings hold an Id or ProductArn over ${ASFF_LIMITS.id} characters or empty; RelatedFindings not sent`);
  const fieldRoom = Math.max(0, ASFF_LIMITS.userDefinedFields - theirFields.length);

  // Types: ours were listed at the last enrichment; the rest are GuardDuty's or an analyst's.
  // Only types we can add count as ours: a forged list cannot take GuardDuty's or another tool's away.
  const before = typesAddedOf(existing.UserDefinedFields[TYPES_ADDED_KEY]).filter((t) => OUR_TYPES.has(t));
  const theirTypes = [...new Set(existing.Types.filter((t) => !before.includes(t)))];
  const candidates = asffTypes(st).filter((t) => !theirTypes.includes(t));
  let added = badType ? [] : candidates.slice(0, Math.max(0, ASFF_LIMITS.types - theirTypes.length));
  // Our types go only with the record that marks them as ours (else they would pass for theirs next time).
  const recordable = !badField && fieldRoom >= 1;
  if (!recordable) added = [];
  const typesLeft = candidates.filter((t) => !added.includes(t));
  if (typesLeft.length > 0 && !badType) {
    const why = !recordable
      ? badField
        ? 'UserDefinedFields cannot be sent, so nothing would record which types are ours'
        : `UserDefinedFields already holds ${theirFields.length} of another source's pairs, no room to record which types are ours`
      : `Types already holds ${theirTypes.length} of another source's (max ${ASFF_LIMITS.types})`;
    addGap(st, `Security Hub: ${why}; our types left out: ${typesLeft.join(', ')}`);
  }
  if (!badType && theirTypes.length <= ASFF_LIMITS.types && (theirTypes.length + added.length > 0 || existing.Types.length > 0)) out.Types = [...theirTypes, ...added];

  // RelatedFindings: our companion link replaces our earlier one; another tool's stay.
  const theirLinks = existing.RelatedFindings.filter((r) => !isOurLink(r, st));
  const links = [...theirLinks];
  if (linkCompanion) {
    if (theirLinks.length < ASFF_LIMITS.relatedFindings) links.push({ ProductArn: companionProductArn(st), Id: companionId(st) });
    else addGap(st, `Security Hub: RelatedFindings already holds ${theirLinks.length} of another source's (max ${ASFF_LIMITS.relatedFindings}); the link to the storyline finding ${companionId(st)} is left out`);
  }
  if (!badLink && theirLinks.length <= ASFF_LIMITS.relatedFindings && (links.length > 0 || existing.RelatedFindings.length > 0)) out.RelatedFindings = links;

  // UserDefinedFields: ours in priority order within the room theirs leave; our stale keys go.
  const keys = Object.keys(ourFields(st));
  if (added.length > 0) keys.push(TYPES_ADDED_KEY);
  keys.sort((a, b) => OUR_KEY_PRIORITY.indexOf(a) - OUR_KEY_PRIORITY.indexOf(b));
  const kept = keys.slice(0, fieldRoom);
  const fieldsLeft = keys.slice(fieldRoom);
  if (fieldsLeft.length > 0) addGap(st, `Security Hub: UserDefinedFields already holds ${theirFields.length} of another source's pairs (max ${ASFF_LIMITS.userDefinedFields}); our fields left out: ${fieldsLeft.join(', ')}`);
  // The values after the gaps above, so the coverage field names what was left out.
  const values = ourFields(st);
  if (added.length > 0) values[TYPES_ADDED_KEY] = JSON.stringify(added);
  // Sent sorted by name, so they read as the story in the console (the priority only decides which fit).
  const ours: [string, string][] = [...kept].sort().map((k) => [k, values[k] ?? '']);
  const all = [...theirFields, ...ours.filter(([, v]) => v !== '')];
  if (!badField && theirFields.length <= ASFF_LIMITS.userDefinedFields && (all.length > 0 || Object.keys(existing.UserDefinedFields).length > 0)) out.UserDefinedFields = fieldMap(all);
  return out;
}

/**
 * Another author's part of the Note on the finding: the whole Note when someone else wrote it
 * last; when we did (a re-enrichment), the `[author] text` we kept after our summary, so their
 * note survives every run of ours. Undefined when there is none.
 */
function theirNote(existing?: ExistingNote): ExistingNote | undefined {
  if (!existing || existing.Text.trim() === '') return undefined;
  if (existing.UpdatedBy !== PRODUCT_NAME) return existing;
  const at = existing.Text.indexOf('\n[');
  const m = at < 0 ? null : /^\n\[([^\]\n]*)\] ([\s\S]*)$/.exec(existing.Text.slice(at));
  return m && m[2]?.trim() ? { UpdatedBy: m[1] ?? '', Text: m[2] } : undefined;
}

/**
 * The Note text: our summary, and another tool's note kept whole after it when there is one
 * (`\n[<UpdatedBy>] <Text>`; ours is cut first, with a visible marker, to stay within 512
 * characters). On a re-enrichment the other tool's part of our earlier Note is carried over.
 */
export function noteText(summary: string, existing?: ExistingNote): string {
  const other = theirNote(existing);
  if (!other) return clip(summary, ASFF_LIMITS.noteText);
  const theirs = `\n[${other.UpdatedBy}] ${other.Text}`;
  const room = ASFF_LIMITS.noteText - theirs.length;
  if (room < 40) return clip(`${summary}${theirs}`, ASFF_LIMITS.noteText);
  return clip(summary, room) + theirs;
}

function label(severity: number | undefined): 'INFORMATIONAL' | 'LOW' | 'MEDIUM' | 'HIGH' | 'CRITICAL' {
  if (severity === undefined) return 'MEDIUM';
  if (severity >= 9) return 'CRITICAL';
  if (severity >= 7) return 'HIGH';
  if (severity >= 4) return 'MEDIUM';
  if (severity >= 1) return 'LOW';
  return 'INFORMATIONAL';
}

function shortPrincipal(arn: string): string {
  return arn.split(':').slice(5).join(':') || arn;
}

/** The longest ARN IAM gives a principal (characters): a longer one in the records is not a real principal. */
const MAX_ARN = 2048;

/**
 * ASFF resources for the lineage's principals (1-32): users, roles, sessions. A "principal"
 * whose ARN is longer than IAM allows (2,048 characters, forged records) is not a resource: it
 * would only push the finding past Security Hub's 240 KB.
 */
function resourcesOf(st: Storyline): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const arn of st.lineage) {
    if (arn.length > MAX_ARN) continue;
    const parts = arn.split(':');
    const account = parts[4] ?? '';
    const res = parts.slice(5).join(':');
    let r: Record<string, unknown>;
    if (res.startsWith('user/')) r = { Type: 'AwsIamUser', Id: arn, Details: { AwsIamUser: { UserName: res.split('/').pop() } } };
    else if (res.startsWith('assumed-role/')) {
      const role = res.split('/')[1] ?? '';
      r = { Type: 'AwsIamRole', Id: `arn:${parts[1]}:iam::${account}:role/${role}`, Details: { AwsIamRole: { RoleName: role } }, Tags: { session: clip(res.split('/').slice(2).join('/') || '-', ASFF_LIMITS.tagValue) } };
    } else r = { Type: 'Other', Id: arn };
    r.Partition = parts[1] || 'aws';
    r.Region = st.finding.region;
    if (!out.some((o) => o.Id === r.Id)) out.push(r);
  }
  if (out.length === 0) out.push({ Type: 'Other', Id: st.finding.arn, Partition: partitionOf(st), Region: st.finding.region });
  return out.slice(0, ASFF_LIMITS.resources);
}

/** The storyline's tactics as "TA0007 Discovery, TA0003 Persistence", in order of first use. */
function tacticList(st: Storyline): string {
  const seen: string[] = [];
  for (const s of st.steps) if (s.tactic && !seen.includes(`${s.tactic.id} ${s.tactic.name}`)) seen.push(`${s.tactic.id} ${s.tactic.name}`);
  return seen.join(', ');
}

/**
 * UserDefinedFields for GuardDuty's finding: keys numbered so that, sorted by name, they read
 * as the story; every key within 128 and every value within 1024 characters.
 */
export function userDefinedFields(st: Storyline, reportUrl?: string): Record<string, string> {
  const v = (s: string) => clip(s, ASFF_LIMITS.userDefinedValue);
  const f: Record<string, string> = {};
  if (st.origin) f['trailstory.1.origin'] = v(`${st.origin.eventTime} ${st.origin.eventName} (${st.origin.eventId}): ${st.origin.reason}`);
  else f['trailstory.1.origin'] = v(`none: ${st.coverage.gaps[0] ?? 'no attacker activity found'}`);
  if (st.lineage.length > 0) f['trailstory.2.lineage'] = v(st.lineage.map(shortPrincipal).join(' -> '));
  if (st.steps.length > 0) f['trailstory.3.tactics'] = v(tacticList(st));
  f['trailstory.4.steps'] = String(st.steps.length);
  if (st.attackerSources.length > 0) f['trailstory.5.attacker-sources'] = v(st.attackerSources.map((a) => a.ip).join(', '));
  f['trailstory.6.coverage'] = v(`${st.coverage.recordsRead} records read, ${st.coverage.recordsSkipped} skipped${st.coverage.gaps.length ? `; ${st.coverage.gaps.join('; ')}` : ''}`);
  const refusal = companionRefusal(st);
  if (st.steps.length > 0) f['trailstory.7.companion-finding'] = v(refusal ? `not imported: ${refusal}` : companionId(st));
  if (reportUrl) f['trailstory.8.report'] = v(reportUrl);
  return f;
}

function description(st: Storyline): string {
  const lines = [st.summary];
  if (st.lineage.length > 0) lines.push(`Lineage: ${st.lineage.map(shortPrincipal).join(' -> ')}`);
  if (st.coverage.gaps.length > 0) lines.push(`Gaps: ${st.coverage.gaps.join('; ')}`);
  return clip(lines.join('\n'), ASFF_LIMITS.description);
}

/**
 * What GuardDuty's finding holds in Security Hub as far as the input tells, for `--format asff`
 * (which makes no `GetFindings` call): an ASFF input's own `Note`, `Types`, `RelatedFindings`
 * and `UserDefinedFields`; for a native GuardDuty finding (or an ASFF one that carried none of
 * them) the `Types` Security Hub CSPM gives its GuardDuty type (`asffTypesOfGuardDutyType`, the
 * GuardDuty -> ASFF table of the GuardDuty User Guide) and nothing else.
 */
export function annotationOfInput(st: Storyline): ExistingAnnotation {
  const a = st.finding.annotation;
  const note = st.finding.note ? { Note: { Text: st.finding.note.text, UpdatedBy: st.finding.note.updatedBy } } : {};
  if (!a) return { ...note, Types: asffTypesOfGuardDutyType(st.finding.type), RelatedFindings: [], UserDefinedFields: {} };
  return {
    ...note,
    Types: [...a.types],
    RelatedFindings: a.relatedFindings.map((r) => ({ ProductArn: r.productArn, Id: r.id })),
    UserDefinedFields: fieldMap(Object.entries(a.userDefinedFields)),
  };
}

/** What `--format asff` prints and what the writer sends. */
export interface SecurityHubWrites {
  /** `BatchUpdateFindings` input (Security Hub API model shape). */
  batchUpdateFindings: Record<string, unknown>;
  /** `BatchImportFindings` input, or null for an empty storyline. */
  batchImportFindings: { Findings: Record<string, unknown>[] } | null;
}

/**
 * Builds both writes for `st` at time `now` (RFC 3339 UTC).
 *
 * - `existing`: what GuardDuty's finding holds now ({@link ExistingAnnotation}; absent: nothing).
 *   `BatchUpdateFindings` replaces each field it is given with the value sent ("you specify ...
 *   which ASFF fields to update for the findings, and the new values for the fields. Security Hub
 *   CSPM then updates the findings as specified in your request", Security Hub CSPM User Guide,
 *   "BatchUpdateFindings for customers",
 *   https://docs.aws.amazon.com/securityhub/latest/userguide/finding-update-batchupdatefindings.html),
 *   and a field not given is left as it is. So `Types`, `RelatedFindings` and
 *   `UserDefinedFields` are sent as the union of theirs and ours (`uniteAnnotation`): GuardDuty's
 *   and an analyst's entries always stay, ours give way where a list is full and a coverage gap
 *   of `st` says what was left out (the builder adds it: the storyline's `coverage.gaps`), and
 *   ours from an earlier run are replaced, never theirs. A key is deleted by leaving it out of
 *   the map sent (a field value must be a non-empty string: `NonEmptyString`, pattern `\S`, in
 *   the API model). The Note keeps another tool's text (`noteText`).
 * - `existing: 'unknown'` (the current annotation could not be read): only the Note is sent;
 *   the three list fields are not sent at all, so nothing on the finding is replaced blindly.
 * - `reportUrl`: the report's console URL when there is one.
 * - `companion: false`: the companion finding cannot be imported this run (its account could
 *   not be reached): no import, no link to it, no `trailstory.7.companion-finding`.
 *
 * `batchImportFindings` is null for an empty storyline, and for one whose account is not a
 * 12-digit AWS account id (`companionRefusal`): the Note and `trailstory.7.companion-finding`
 * say why. Identifiers past 512 characters are shortened with their hash (`asffId`,
 * `companionId`), ProductFields values clipped at 2,048 characters, and a companion past
 * 240 KB loses its last resources (at least one kept) until it fits.
 */
export function buildSecurityHubWrites(st: Storyline, opts: { now: string; existing?: ExistingAnnotation | 'unknown'; reportUrl?: string; companion?: boolean }): SecurityHubWrites {
  const types = asffTypes(st);
  const gdProduct = guardDutyProductArn(st);
  const empty = st.steps.length === 0;
  const refusal = empty ? null : companionRefusal(st);
  const importable = !empty && !refusal && opts.companion !== false;
  const summary = empty
    ? `${PRODUCT_NAME}: no storyline: ${st.coverage.sample ? 'sample finding' : st.coverage.gaps[0] ?? 'no attacker activity found'}`
    : refusal
      ? `${st.summary} (${PRODUCT_NAME}: the storyline finding is not imported: ${refusal})`
      : st.summary;
  const existing = opts.existing === 'unknown' ? undefined : opts.existing;
  const update: Record<string, unknown> = {
    FindingIdentifiers: [{ Id: asffId(st.finding.arn), ProductArn: gdProduct }],
    Note: { Text: noteText(summary, existing?.Note), UpdatedBy: PRODUCT_NAME },
  };
  const ourFields = (story: Storyline) => {
    const f = userDefinedFields(story, opts.reportUrl);
    if (!empty && !refusal && opts.companion === false) delete f['trailstory.7.companion-finding'];
    return f;
  };
  if (opts.existing === 'unknown') {
    addGap(st, "Security Hub: the finding's current Types, RelatedFindings and UserDefinedFields could not be read, so ours were not sent (theirs are left as they are)");
  } else {
    Object.assign(update, uniteAnnotation(st, existing ?? { Types: [], RelatedFindings: [], UserDefinedFields: {} }, ourFields, importable));
  }
  if (!importable) return { batchUpdateFindings: update, batchImportFindings: null };

  const first = st.steps[0];
  const last = st.steps[st.steps.length - 1];
  const pf = (s: string) => clip(s, ASFF_LIMITS.productFieldValue);
  const productFields: Record<string, string> = {
    'trailstory/schemaVersion': pf(st.schemaVersion),
    'trailstory/guardduty/findingId': pf(st.finding.id),
    'trailstory/guardduty/type': pf(st.finding.type),
    'trailstory/steps': String(st.steps.length),
  };
  if (st.origin) {
    productFields['trailstory/origin/eventId'] = pf(st.origin.eventId);
    productFields['trailstory/origin/eventTime'] = pf(st.origin.eventTime);
    productFields['trailstory/origin/reason'] = pf(st.origin.reason);
  }
  if (st.lineage.length > 0) productFields['trailstory/lineage'] = pf(st.lineage.join(' -> '));
  const title = clip(`Storyline of ${st.finding.type}: ${st.steps.length} attacker step${st.steps.length === 1 ? '' : 's'} from ${st.origin ? st.origin.eventName : 'unknown origin'}${st.lineage[0] ? ` by ${shortPrincipal(st.lineage[0])}` : ''}`, ASFF_LIMITS.title);
  const companion: Record<string, unknown> = {
    SchemaVersion: '2018-10-08',
    Id: companionId(st),
    ProductArn: companionProductArn(st),
    ProductName: PRODUCT_NAME,
    CompanyName: PRODUCT_NAME,
    GeneratorId: `${PRODUCT_NAME}-storyline`,
    AwsAccountId: st.finding.accountId,
    Region: st.finding.region,
    Types: types.length > 0 ? types : ['Unusual Behaviors/User'],
    FirstObservedAt: first?.eventTime,
    LastObservedAt: last?.eventTime,
    CreatedAt: opts.now,
    UpdatedAt: opts.now,
    Severity: { Label: label(st.finding.severity) },
    Title: title,
    Description: description(st),
    Resources: resourcesOf(st),
    RelatedFindings: [{ ProductArn: gdProduct, Id: asffId(st.finding.arn) }],
    ProductFields: productFields,
    RecordState: 'ACTIVE',
  };
  if (opts.reportUrl) companion.SourceUrl = opts.reportUrl;
  return { batchUpdateFindings: update, batchImportFindings: { Findings: [fitFinding(companion)] } };
}

/**
 * Keeps a finding within Security Hub's 240 KB (JSON, UTF-8): its resources, the largest part a
 * storyline can grow (up to 32 principals of up to 2,048 characters each), go from the last
 * while it is too large, at least one kept, and a ProductFields entry counts those left out.
 */
function fitFinding(f: Record<string, unknown>): Record<string, unknown> {
  const size = () => Buffer.byteLength(JSON.stringify(f), 'utf8');
  const resources = f.Resources as unknown[];
  const all = resources.length;
  while (size() > ASFF_LIMITS.findingBytes && resources.length > 1) resources.pop();
  if (resources.length < all) (f.ProductFields as Record<string, string>)['trailstory/resourcesLeftOut'] = `${all - resources.length} of ${all}: the finding must stay within 240 KB`;
  return f;
}

/**
 * Why a `Types` value cannot be sent, or '' when it can: `namespace/category[/classifier]`,
 * no part empty ("Types taxonomy for ASFF"); over 1,024 characters is refused too (our own
 * bound: ASFF names no length, and a hostile input must not make a 64 KiB type).
 */
export function typeProblem(t: string): string {
  if (t.length > 1024) return 'is over 1,024 characters';
  const parts = t.split('/');
  if (parts.some((p) => p.trim() === '') || parts.length < 2 || parts.length > 3) return 'is not namespace/category[/classifier]';
  return '';
}

/**
 * Checks an ASFF finding (or update) against the limits Security Hub enforces, before sending
 * (pitfalls 4 and 5). Returns the problems, empty when it can be sent.
 */
export function asffProblems(f: Record<string, unknown>): string[] {
  const problems: string[] = [];
  const len = (k: string, max: number) => {
    const v = f[k];
    if (typeof v === 'string' && v.length > max) problems.push(`${k} is ${v.length} characters (max ${max})`);
  };
  len('Id', ASFF_LIMITS.id);
  len('ProductArn', ASFF_LIMITS.id);
  if ('AwsAccountId' in f && !(typeof f.AwsAccountId === 'string' && ACCOUNT_ID.test(f.AwsAccountId))) problems.push('AwsAccountId is not a 12-digit AWS account id');
  for (const k of ['FindingIdentifiers', 'RelatedFindings'] as const) {
    for (const x of (f[k] as { Id?: string; ProductArn?: string }[] | undefined) ?? []) {
      if ((x.Id?.length ?? 0) > ASFF_LIMITS.id) problems.push(`${k} Id is ${x.Id?.length} characters (max ${ASFF_LIMITS.id})`);
      if ((x.ProductArn?.length ?? 0) > ASFF_LIMITS.id) problems.push(`${k} ProductArn is ${x.ProductArn?.length} characters (max ${ASFF_LIMITS.id})`);
    }
  }
  len('Title', ASFF_LIMITS.title);
  len('Description', ASFF_LIMITS.description);
  const note = f.Note as { Text?: string } | undefined;
  if (note?.Text && note.Text.length > ASFF_LIMITS.noteText) problems.push(`Note.Text is ${note.Text.length} characters (max ${ASFF_LIMITS.noteText})`);
  const types = f.Types as string[] | undefined;
  if (types) {
    if (types.length > ASFF_LIMITS.types) problems.push(`${types.length} Types (max ${ASFF_LIMITS.types})`);
    for (const t of types) if (typeProblem(t)) problems.push(`Types value "${clip(t, 80)}" ${typeProblem(t)}`);
  }
  const resources = f.Resources as unknown[] | undefined;
  if (resources && (resources.length < 1 || resources.length > ASFF_LIMITS.resources)) problems.push(`${resources.length} Resources (1-${ASFF_LIMITS.resources})`);
  const related = f.RelatedFindings as unknown[] | undefined;
  if (related && related.length > ASFF_LIMITS.relatedFindings) problems.push(`${related.length} RelatedFindings (max ${ASFF_LIMITS.relatedFindings})`);
  for (const [k, max, vmax] of [['UserDefinedFields', ASFF_LIMITS.userDefinedFields, ASFF_LIMITS.userDefinedValue], ['ProductFields', ASFF_LIMITS.productFields, ASFF_LIMITS.productFieldValue]] as const) {
    const m = f[k] as Record<string, string> | undefined;
    if (!m) continue;
    const entries = Object.entries(m);
    if (entries.length > max) problems.push(`${entries.length} ${k} pairs (max ${max})`);
    for (const [key, value] of entries) {
      if (key.length > ASFF_LIMITS.userDefinedKey) problems.push(`${k} key "${key.slice(0, 40)}…" over ${ASFF_LIMITS.userDefinedKey} characters`);
      if (value.length > vmax) problems.push(`${k}.${key} is ${value.length} characters (max ${vmax})`);
    }
  }
  const bytes = Buffer.byteLength(JSON.stringify(f));
  if (bytes > ASFF_LIMITS.findingBytes) problems.push(`finding is ${bytes} bytes (max ${ASFF_LIMITS.findingBytes})`);
  return problems;
}
