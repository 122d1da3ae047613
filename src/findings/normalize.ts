/**
 * Recognise a GuardDuty finding in any of the forms AWS hands it out and normalise it
 * (storyline contract, "Terms: Finding"):
 *
 * | form (`NormalizedFinding.form`) | what the file holds |
 * | --- | --- |
 * | `guardduty-native` | a bare finding object, camelCase (GuardDuty's JSON) or PascalCase; or a JSON array of them |
 * | `guardduty-getfindings` | GuardDuty `GetFindings` output `{"Findings": [...]}` (PascalCase from the SDKs, camelCase accepted too) |
 * | `eventbridge` | an EventBridge event, `source` `aws.guardduty`, `detail-type` `GuardDuty Finding`, the finding in `detail` |
 * | `asff` | Security Hub `GetFindings` output `{"Findings": [ASFF...]}`, or one bare ASFF finding |
 * | `asff-imported-event` | a "Security Hub Findings - Imported" event, ASFF findings in `detail.findings` |
 * | `asff-custom-action-event` | a "Security Hub Findings - Custom Action" event, ASFF findings in `detail.findings` |
 * | `ocsf` | the new Security Hub's `GetFindingsV2` output `{"Findings": [OCSF...]}`, or one bare OCSF Detection Finding |
 * | `ocsf-imported-event` | a "Findings Imported V2" event of the new Security Hub, OCSF findings in `detail.findings` (see ./ocsf.ts) |
 *
 * Only GuardDuty-produced ASFF and OCSF findings count (see `isGuardDutyAsff`, `isGuardDutyOcsf`); others are skipped.
 * References: GuardDuty `GetFindings` (https://docs.aws.amazon.com/guardduty/latest/APIReference/API_GetFindings.html),
 * GuardDuty EventBridge events (https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_findings_eventbridge.html),
 * Security Hub EventBridge events (https://docs.aws.amazon.com/securityhub/latest/userguide/securityhub-cwe-event-formats.html).
 */
import type { FindingForm, NormalizedFinding } from '../model/finding';
import { toEpochMs } from '../model/time';
import { get, isObject, list, oneLine, str } from './access';
import { asffProductName, isAsffFinding, isGuardDutyAsff, readAsffFinding } from './asff';
import { AmbiguousFindingError, FindingInputError } from './errors';
import { isGuardDutyFinding, readGuardDutyFinding, type Envelope } from './native';
import { isGuardDutyOcsf, isOcsfFinding, ocsfProductName, readOcsfFinding } from './ocsf';

export { AmbiguousFindingError, FindingInputError } from './errors';
export { guardDutyTypeOfAsffType, isGuardDutyAsff } from './asff';

const GUARDDUTY_FINDING = 'GuardDuty Finding';
const SH_IMPORTED = 'Security Hub Findings - Imported';
const SH_CUSTOM_ACTION = 'Security Hub Findings - Custom Action';
const SH_IMPORTED_V2 = 'Findings Imported V2';

function isCloudTrailRecord(v: unknown): boolean {
  return isObject(v) && str(get(v, 'eventSource')) !== undefined && str(get(v, 'eventName')) !== undefined && get(v, 'eventVersion') !== undefined;
}

function describeJson(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return `a ${typeof v}`;
}

/**
 * Read the findings of a list (GetFindings `Findings`, an array, `detail.findings`): native
 * GuardDuty findings and GuardDuty-produced ASFF findings; other ASFF findings are skipped.
 * Throws when the list holds something else, or only findings of other products.
 */
function readList(items: unknown[], fileName: string, nativeForm: FindingForm, asffForm: FindingForm, what: string, ocsfForm: FindingForm = 'ocsf'): NormalizedFinding[] {
  const out: NormalizedFinding[] = [];
  const otherProducts: string[] = [];
  items.forEach((item, i) => {
    if (isOcsfFinding(item)) {
      if (isGuardDutyOcsf(item)) out.push(readOcsfFinding(item, ocsfForm, fileName));
      else if (!otherProducts.includes(ocsfProductName(item))) otherProducts.push(ocsfProductName(item));
    } else if (isAsffFinding(item)) {
      if (isGuardDutyAsff(item)) out.push(readAsffFinding(item, asffForm, fileName));
      else if (!otherProducts.includes(asffProductName(item))) otherProducts.push(asffProductName(item));
    } else if (isGuardDutyFinding(item)) {
      out.push(readGuardDutyFinding(item, nativeForm, fileName));
    } else if (isCloudTrailRecord(item)) {
      throw new FindingInputError(fileName, `${what} holds CloudTrail records, not findings (give CloudTrail with --cloudtrail)`);
    } else {
      throw new FindingInputError(fileName, `${what}[${i}] is not a GuardDuty or Security Hub finding`);
    }
  });
  if (out.length === 0 && otherProducts.length > 0) {
    throw new FindingInputError(fileName, `${what} holds no GuardDuty finding (only findings of ${otherProducts.map(oneLine).join(', ')})`);
  }
  return out;
}

function readEvent(doc: Record<string, unknown>, fileName: string): NormalizedFinding[] {
  const source = str(get(doc, 'source'));
  const detailType = str(get(doc, 'detail-type'));
  const detail = get(doc, 'detail');
  const envelope: Envelope = { accountId: str(get(doc, 'account')), region: str(get(doc, 'region')) };

  if (source === 'aws.guardduty' || (source === undefined && detailType === GUARDDUTY_FINDING)) {
    if (detailType !== undefined && detailType !== GUARDDUTY_FINDING) {
      throw new FindingInputError(fileName, `an aws.guardduty event of detail-type "${oneLine(detailType)}" is not a GuardDuty finding`);
    }
    if (!isGuardDutyFinding(detail)) {
      throw new FindingInputError(fileName, `the ${GUARDDUTY_FINDING} event holds no finding in "detail"`);
    }
    return [readGuardDutyFinding(detail, 'eventbridge', fileName, envelope)];
  }

  if (source === 'aws.securityhub') {
    const form: FindingForm | undefined =
      detailType === SH_IMPORTED ? 'asff-imported-event' : detailType === SH_CUSTOM_ACTION ? 'asff-custom-action-event' : detailType === SH_IMPORTED_V2 ? 'ocsf-imported-event' : undefined;
    if (form === undefined) {
      throw new FindingInputError(fileName, `a Security Hub event of detail-type "${oneLine(detailType ?? '')}" holds no findings`);
    }
    const items = list(get(detail, 'findings'));
    if (items.length === 0) throw new FindingInputError(fileName, `the "${detailType}" event holds no findings`);
    const found = readList(items, fileName, 'eventbridge', form, `the "${detailType}" event`, form);
    if (found.length === 0) throw new FindingInputError(fileName, `the "${detailType}" event holds no GuardDuty finding`);
    return found;
  }

  // An event without source and detail-type (hand-made test events) whose detail is a finding.
  if (source === undefined && detailType === undefined && isGuardDutyFinding(detail)) {
    return [readGuardDutyFinding(detail, 'eventbridge', fileName, envelope)];
  }
  const what = [source && `source "${oneLine(source)}"`, detailType && `detail-type "${oneLine(detailType)}"`].filter(Boolean).join(' and ');
  throw new FindingInputError(fileName, `an event${what ? ` of ${what}` : ''} is not a GuardDuty finding`);
}

/**
 * Every GuardDuty finding in a parsed JSON document, normalised, in file order.
 *
 * @param doc the parsed JSON of the finding file (see the module comment for the forms).
 * @param fileName the file's name as the user gave it, for error messages.
 * @returns one or more findings (GetFindings output and Custom Action events may hold several:
 *   pick one with `selectFinding`).
 * @throws FindingInputError (one-line message `<fileName>: <problem>`) when the document is not
 *   a finding: JSON of no recognised form, an `aws.guardduty` event whose `detail-type` is not
 *   "GuardDuty Finding" (pitfall 1: e.g. "AWS API Call via CloudTrail"), a Security Hub event or
 *   output without a GuardDuty finding, a CloudTrail file (`Records`, LookupEvents `Events`,
 *   records), an empty `Findings`, a finding without id or type.
 */
export function parseFindings(doc: unknown, fileName: string): NormalizedFinding[] {
  if (Array.isArray(doc)) {
    if (doc.length === 0) throw new FindingInputError(fileName, 'holds an empty array, not a finding');
    return readList(doc, fileName, 'guardduty-native', 'asff', 'the array');
  }
  if (!isObject(doc)) throw new FindingInputError(fileName, `holds ${describeJson(doc)}, not a finding`);

  if (Array.isArray(get(doc, 'Records'))) {
    throw new FindingInputError(fileName, 'is a CloudTrail log file ("Records"), not a finding (give it with --cloudtrail)');
  }
  const events = get(doc, 'Events');
  if (Array.isArray(events) && events.some((e) => get(e, 'CloudTrailEvent') !== undefined)) {
    throw new FindingInputError(fileName, 'is CloudTrail LookupEvents output, not a finding (give it with --cloudtrail)');
  }
  if (isCloudTrailRecord(doc)) {
    throw new FindingInputError(fileName, 'is a CloudTrail record, not a finding (give it with --cloudtrail)');
  }

  if (get(doc, 'detail-type') !== undefined || get(doc, 'detail') !== undefined) return readEvent(doc, fileName);

  const findings = get(doc, 'Findings');
  if (findings !== undefined) {
    if (!Array.isArray(findings)) throw new FindingInputError(fileName, '"Findings" is not an array');
    if (findings.length === 0) throw new FindingInputError(fileName, 'holds no findings (empty "Findings")');
    return readList(findings, fileName, 'guardduty-getfindings', 'asff', '"Findings"');
  }

  if (isOcsfFinding(doc)) {
    if (!isGuardDutyOcsf(doc)) throw new FindingInputError(fileName, `is an OCSF finding of ${oneLine(ocsfProductName(doc))}, not a GuardDuty finding`);
    return [readOcsfFinding(doc, 'ocsf', fileName)];
  }
  if (isAsffFinding(doc)) {
    if (!isGuardDutyAsff(doc)) {
      throw new FindingInputError(fileName, `is a Security Hub finding of ${oneLine(asffProductName(doc))}, not a GuardDuty finding`);
    }
    return [readAsffFinding(doc, 'asff', fileName)];
  }
  if (isGuardDutyFinding(doc)) return [readGuardDutyFinding(doc, 'guardduty-native', fileName)];

  throw new FindingInputError(
    fileName,
    'matches no finding form (expected a GuardDuty finding, GetFindings output, a "GuardDuty Finding" event, or Security Hub ASFF findings)',
  );
}

/**
 * Parse the text of a finding file: JSON (a UTF-8 byte order mark is ignored), then `parseFindings`.
 *
 * @throws FindingInputError `<fileName>: is not valid JSON (<parser message>)`, or any error of `parseFindings`.
 */
export function parseFindingText(text: string, fileName: string): NormalizedFinding[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e);
    throw new FindingInputError(fileName, `is not valid JSON (${oneLine(reason)})`);
  }
  return parseFindings(doc, fileName);
}

/**
 * Choose the finding to investigate.
 *
 * @param findings what `parseFindings` returned for the file.
 * @param findingId GuardDuty's finding id, or the finding's ARN (the GuardDuty ARN, also as the
 *   tail of a Security Hub `aws/securityhub/FindingId`); surrounding whitespace is ignored.
 * @returns the finding with that id; without an id, the only finding. Copies of one finding
 *   (the same id re-published) count as one: the latest `updatedAt` (then highest `count`) wins.
 * @throws FindingInputError when there is no finding, or none with the given id (the message
 *   lists the ids there are).
 * @throws AmbiguousFindingError when no id is given and the file holds several findings; its
 *   `ids` lists them in file order.
 */
export function selectFinding(findings: NormalizedFinding[], fileName: string, findingId?: string): NormalizedFinding {
  if (findings.length === 0) throw new FindingInputError(fileName, 'holds no GuardDuty finding');
  const ids: string[] = [];
  for (const f of findings) if (!ids.includes(f.id)) ids.push(f.id);

  let candidates = findings;
  const wanted = findingId?.trim();
  if (wanted) {
    candidates = findings.filter((f) => f.id === wanted || (f.arn !== '' && (f.arn === wanted || wanted.endsWith(`/${f.arn}`))));
    if (candidates.length === 0) {
      throw new FindingInputError(fileName, `holds no finding with id "${oneLine(wanted)}" (ids: ${ids.join(', ')})`);
    }
  } else if (ids.length > 1) {
    throw new AmbiguousFindingError(fileName, ids);
  }
  return candidates.reduce((best, f) => (isNewer(f, best) ? f : best));
}

function isNewer(a: NormalizedFinding, b: NormalizedFinding): boolean {
  const ta = toEpochMs(a.updatedAt) ?? 0;
  const tb = toEpochMs(b.updatedAt) ?? 0;
  if (ta !== tb) return ta > tb;
  return (a.count ?? 0) > (b.count ?? 0);
}
