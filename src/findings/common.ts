/**
 * Pieces shared by the native GuardDuty and the ASFF readers: placeholders, ARNs, remote
 * addresses, the sample flag, and the Extended Threat Detection attack sequence.
 */
import type { AttackSequence, AttackSequenceSignal, FindingActor, RemoteIp } from '../model/finding';
import { normalizeIp } from '../identity/ip';
import { toIsoUtc } from '../model/time';
import { bool, get, isObject, list, str } from './access';

/**
 * A string value with GuardDuty's sample placeholders removed: CreateSampleFindings fills
 * fields with `GeneratedFindingAccessKeyId`, `GeneratedFindingUserName`, … ; those, empty text
 * and the text `null` become `undefined`.
 */
export function clean(v: unknown): string | undefined {
  const s = str(v);
  return s === undefined || /^GeneratedFinding/i.test(s) ? undefined : s;
}

/**
 * An access key id as IAM defines it (16-128 upper-case letters and digits: `AKIA…`, `ASIA…`),
 * or undefined for anything else: GuardDuty placeholders, a key block written without its key
 * (`AWS::IAM::AccessKey:undefined` in an ASFF resource id).
 */
export function accessKeyIdOf(v: unknown): string | undefined {
  const s = clean(v);
  return s !== undefined && /^[A-Z0-9]{16,128}$/.test(s) ? s : undefined;
}

/** An IAM user or role-session ARN (`arn:aws:iam::…:user/…`, `arn:aws:sts::…:assumed-role/…`). */
export const IAM_PRINCIPAL_ARN = /^arn:aws[a-z-]*:(?:iam::\d{12}:user\/|sts::\d{12}:assumed-role\/)/;

/** A Lambda function's name from its ARN (`arn:aws:lambda:r:a:function:name[:qualifier]`), or undefined. */
export function functionOfArn(arn: string | undefined): string | undefined {
  const m = /^arn:aws[a-z-]*:lambda:[^:]*:\d{12}:function:([^:]+)/.exec(arn ?? '');
  return m?.[1];
}

/** An ECS task's id from its ARN (`arn:aws:ecs:r:a:task/<cluster>/<id>` or `task/<id>`), or undefined. */
export function taskOfArn(arn: string | undefined): string | undefined {
  const m = /^arn:aws[a-z-]*:ecs:[^:]*:\d{12}:task\/(?:[^/]+\/)?([^/]+)$/.exec(arn ?? '');
  return m?.[1];
}

/** The parts of a GuardDuty finding ARN `arn:<partition>:guardduty:<region>:<account>:detector/<d>/finding/<id>`. */
export interface GuardDutyArnParts {
  partition?: string;
  region?: string;
  accountId?: string;
  detectorId?: string;
  id?: string;
}

/**
 * Split a GuardDuty finding ARN. Tolerates the stray empty field of the GuardDuty user guide's
 * ASFF example (`arn:aws::guardduty:us-east-1:…`). Parts not found are absent.
 */
export function parseGuardDutyArn(arn: string | undefined): GuardDutyArnParts {
  if (!arn) return {};
  const m = /^arn:([a-z0-9-]*):+guardduty:([a-z0-9-]*):(\d{12})?:detector\/([^/]+)(?:\/finding\/([^/\s]+))?/.exec(arn);
  if (!m) {
    const id = /\/finding\/([^/\s]+)$/.exec(arn)?.[1];
    return id ? { id } : {};
  }
  return {
    partition: m[1] || undefined,
    region: m[2] || undefined,
    accountId: m[3] || undefined,
    detectorId: m[4] || undefined,
    id: m[5] || undefined,
  };
}

/** The partition of a region: `aws-cn` for `cn-*`, `aws-us-gov` for `us-gov-*`, else `aws`. */
export function partitionOf(region: string | undefined): string {
  if (region?.startsWith('cn-')) return 'aws-cn';
  if (region?.startsWith('us-gov-')) return 'aws-us-gov';
  return 'aws';
}

/** Collects remote addresses: normalised, deduplicated by address, in the order found. */
export class RemoteIpCollector {
  readonly ips: RemoteIp[] = [];
  /** The addresses taken so far: a finding may name hundreds of thousands (linear, not quadratic). */
  private readonly seen = new Set<string>();

  /**
   * Add one address. Non-addresses, placeholders and the unspecified addresses `0.0.0.0` and
   * `::` (which GuardDuty's canary findings carry, and which no connection comes from) are skipped.
   */
  add(raw: unknown, from: string): void {
    const ip = normalizeIp(clean(raw));
    if (ip === undefined || ip === '0.0.0.0' || ip === '::') return;
    if (this.seen.has(ip)) return;
    this.seen.add(ip);
    this.ips.push({ ip, version: ip.includes(':') ? 6 : 4, from });
  }

  /** Add `ipAddressV4` then `ipAddressV6` of a GuardDuty `RemoteIpDetails` (any casing). */
  addDetails(details: unknown, from: string): void {
    if (!isObject(details)) return;
    this.add(get(details, 'ipAddressV4'), from);
    this.add(get(details, 'ipAddressV6'), from);
  }
}

/**
 * True when GuardDuty's `service.additionalInfo` marks a sample finding: `sample: true`
 * (boolean or text), or a `"sample":true` inside the JSON string `value` (the GuardDuty API's
 * `ServiceAdditionalInfo` shape). `additionalInfo` may itself be that JSON string (ASFF
 * `ProductFields`). Bad JSON is tolerated: the text is searched instead.
 */
export function isSampleAdditionalInfo(additionalInfo: unknown): boolean {
  if (typeof additionalInfo === 'string') return sampleInJsonText(additionalInfo);
  if (!isObject(additionalInfo)) return false;
  if (bool(get(additionalInfo, 'sample')) === true) return true;
  const value = get(additionalInfo, 'value');
  if (typeof value === 'string') return sampleInJsonText(value);
  if (isObject(value)) return bool(get(value, 'sample')) === true;
  return false;
}

function sampleInJsonText(text: string): boolean {
  if (!text.trim()) return false;
  try {
    const parsed: unknown = JSON.parse(text);
    if (isObject(parsed)) return bool(get(parsed, 'sample')) === true;
    return false;
  } catch {
    return /"sample"\s*:\s*(true|"true")/i.test(text);
  }
}

/**
 * Session name and instance id read from a principal id: `AROA…:session` gives `session`, and
 * when the session name is an instance id (`AROA…:i-0a3f…`, credentials of an instance
 * profile) that is the instance too.
 */
export function sessionOfPrincipal(principalId: string | undefined): { sessionName?: string; instanceId?: string } {
  if (!principalId) return {};
  const m = /^[A-Z0-9]+:(.+)$/.exec(principalId);
  if (!m?.[1]) return {};
  const sessionName = m[1];
  return /^i-[0-9a-f]{8,17}$/.test(sessionName) ? { sessionName, instanceId: sessionName } : { sessionName };
}

/** Fill `sessionName` from the principal id of an actor (when it is a role session). */
export function completeActor(actor: FindingActor): FindingActor {
  if (actor.sessionName === undefined) {
    const { sessionName } = sessionOfPrincipal(actor.principalId);
    if (sessionName !== undefined && (actor.userType === undefined || actor.userType === 'AssumedRole' || /^AROA/.test(actor.principalId ?? ''))) {
      actor.sessionName = sessionName;
    }
  }
  return actor;
}

/** The values already in each list that {@link pushUnique} fills, so a finding naming tens of thousands of actors stays linear. */
const listed = new WeakMap<string[], Set<string>>();

function pushUnique(target: string[], v: string | undefined): void {
  if (v === undefined) return;
  let seen = listed.get(target);
  if (!seen) listed.set(target, (seen = new Set(target)));
  if (seen.has(v)) return;
  seen.add(v);
  target.push(v);
}

/** Indicator key → its values; a null-prototype object, so a key such as `__proto__` or `toString` is data like any other. */
function indicatorsOf(v: unknown): Record<string, string[]> {
  const out = Object.create(null) as Record<string, string[]>;
  for (const ind of list(v)) {
    const key = str(get(ind, 'key'));
    if (key === undefined) continue;
    const values = out[key] ?? (out[key] = []);
    for (const x of list(get(ind, 'values'))) pushUnique(values, str(x));
  }
  return out;
}

const ACCESS_KEY = /^A(KIA|SIA)[A-Z0-9]{12,}$/;

/** Signal types whose uids are CloudTrail `eventID`s (management events and S3 data events). */
const CLOUDTRAIL_SIGNAL_TYPES = new Set(['CLOUD_TRAIL', 'S3_DATA_EVENTS']);

/** What `readAttackSequence` needs from the finding around the sequence. */
export interface SequenceContext {
  partition: string;
  accountId: string;
  /** Where GuardDuty named the remote addresses: endpoint ips are added there. */
  remoteIps: RemoteIpCollector;
  /** Path prefix for `RemoteIp.from`, e.g. `service.detection.sequence`. */
  path: string;
}

/**
 * Read an Extended Threat Detection sequence: GuardDuty model shape `Sequence`
 * (`service.detection.sequence`: `uid`, `actors[]` of `Actor` {`id`, `user` {`name`, `uid`,
 * `type`, `credentialUid`, `account` {`uid`}}, `session` {`uid`, `mfaStatus`, `createdTime`,
 * `issuer`}}, `resources[]` of `ResourceV2`, `endpoints[]` of `NetworkEndpoint` {`ip`, …},
 * `signals[]` of `Signal` {`uid`, `type`, `name`, `firstSeenAt`, `lastSeenAt`,
 * `signalIndicators[]`}, `sequenceIndicators[]` of `Indicator` {`key`, `values`, `title`}),
 * or the same under ASFF `Detection.Sequence` (Security Hub shapes, signal `Id` for `Uid`).
 *
 * - `actorArns`: each actor's session issuer (the role ARN, CloudTrail
 *   `sessionContext.sessionIssuer.arn`), its user uid when that is an ARN, and an ARN built from
 *   user type and name: `IAMUser` → `arn:<p>:iam::<acct>:user/<name>`, `AssumedRole` with uid
 *   `AROA…:<session>` → `arn:<p>:sts::<acct>:assumed-role/<name>/<session>`, `Root` →
 *   `arn:<p>:iam::<acct>:root`; otherwise the user name. The account is the actor's own
 *   (`user.account.uid`, when 12 digits) or the finding's.
 * - `accessKeyIds`: actors' `user.credentialUid`, and `ACCESS_KEY` resources' `uid`, when they
 *   look like access keys (`AKIA…`/`ASIA…`).
 * - `eventIds`: the `uid` of every `CLOUD_TRAIL` and `S3_DATA_EVENTS` signal (API activity seen
 *   in CloudTrail management and S3 data events); FINDING signals name findings, not events.
 * - endpoint `ip`s go to the finding's remote addresses.
 *
 * `seq` may be absent (a finding of type `AttackSequence:*` without its detection block): the
 * result then has empty lists.
 */
export function readAttackSequence(seq: unknown, ctx: SequenceContext): AttackSequence {
  const result: AttackSequence = { actorArns: [], accessKeyIds: [], eventIds: [] };
  if (!isObject(seq)) return result;
  const uid = str(get(seq, 'uid'));
  if (uid !== undefined) result.uid = uid;

  for (const actor of list(get(seq, 'actors'))) {
    const user = get(actor, 'user');
    const session = get(actor, 'session');
    const name = clean(get(user, 'name'));
    const userUid = clean(get(user, 'uid'));
    const type = str(get(user, 'type'));
    const acctUid = str(get(get(user, 'account'), 'uid'));
    const account = acctUid !== undefined && /^\d{12}$/.test(acctUid) ? acctUid : ctx.accountId;
    const issuer = clean(get(session, 'issuer'));
    if (issuer?.startsWith('arn:')) pushUnique(result.actorArns, issuer);
    if (userUid?.startsWith('arn:')) pushUnique(result.actorArns, userUid);
    const p = ctx.partition;
    if (name !== undefined) {
      if (type === 'IAMUser' && account) pushUnique(result.actorArns, `arn:${p}:iam::${account}:user/${name}`);
      else if (type === 'AssumedRole' && account && userUid?.includes(':')) {
        const sessionName = userUid.slice(userUid.indexOf(':') + 1);
        pushUnique(result.actorArns, `arn:${p}:sts::${account}:assumed-role/${name}/${sessionName}`);
      } else if (type === 'Root' && account) pushUnique(result.actorArns, `arn:${p}:iam::${account}:root`);
      else pushUnique(result.actorArns, name);
    }
    const key = clean(get(user, 'credentialUid'));
    if (key !== undefined && ACCESS_KEY.test(key)) pushUnique(result.accessKeyIds, key);
  }

  for (const res of list(get(seq, 'resources'))) {
    const rtype = str(get(res, 'resourceType'));
    const ruid = clean(get(res, 'uid'));
    if (rtype === 'ACCESS_KEY' && ruid !== undefined && ACCESS_KEY.test(ruid)) pushUnique(result.accessKeyIds, ruid);
  }

  list(get(seq, 'endpoints')).forEach((ep, i) => {
    ctx.remoteIps.add(get(ep, 'ip'), `${ctx.path}.endpoints[${i}].ip`);
  });

  const signals: AttackSequenceSignal[] = [];
  for (const sig of list(get(seq, 'signals'))) {
    const sigUid = str(get(sig, 'uid', 'id'));
    if (sigUid === undefined) continue;
    const s: AttackSequenceSignal = { uid: sigUid, indicators: indicatorsOf(get(sig, 'signalIndicators')) };
    const type = str(get(sig, 'type'));
    if (type !== undefined) s.type = type;
    const name = str(get(sig, 'name'));
    if (name !== undefined) s.name = name;
    const first = toIsoUtc(get(sig, 'firstSeenAt'));
    if (first !== undefined) s.firstSeenAt = first;
    const last = toIsoUtc(get(sig, 'lastSeenAt'));
    if (last !== undefined) s.lastSeenAt = last;
    signals.push(s);
    if (type !== undefined && CLOUDTRAIL_SIGNAL_TYPES.has(type.toUpperCase())) pushUnique(result.eventIds, sigUid);
  }
  result.signals = signals;
  result.indicators = indicatorsOf(get(seq, 'sequenceIndicators'));
  return result;
}

/**
 * The actor of an attack sequence as a `FindingActor`: the first sequence actor with a user
 * (`credentialUid` → accessKeyId, `uid` → principalId, `name` → userName, `type` → userType).
 * Used when the finding has no `accessKeyDetails`.
 */
export function actorOfSequence(seq: unknown): FindingActor {
  for (const actor of list(get(seq, 'actors'))) {
    const user = get(actor, 'user');
    if (!isObject(user)) continue;
    const a: FindingActor = {};
    const key = clean(get(user, 'credentialUid'));
    if (key !== undefined) a.accessKeyId = key;
    const uid = clean(get(user, 'uid'));
    if (uid !== undefined && !uid.startsWith('arn:')) a.principalId = uid;
    const name = clean(get(user, 'name'));
    if (name !== undefined) a.userName = name;
    const type = str(get(user, 'type'));
    if (type !== undefined) a.userType = type;
    return completeActor(a);
  }
  return {};
}

/** The bucket name of an S3 ARN `arn:<p>:s3:::<bucket>`. */
export function bucketOfArn(arn: string | undefined): string | undefined {
  const m = /^arn:[a-z0-9-]*:s3:::([^/]+)$/.exec(arn ?? '');
  return m?.[1];
}

/** A copy of `o` without the keys whose value is `undefined` (cleaner JSON and test output). */
export function dropUndefined<T extends object>(o: T): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v;
  return out as T;
}

/**
 * Appends `value` to `list` unless it is already there, in constant time: `seen` holds what
 * `list` holds (a finding may name hundreds of thousands of buckets).
 */
export function pushDistinct(list: string[], seen: Set<string>, value: string | undefined): void {
  if (value === undefined || seen.has(value)) return;
  seen.add(value);
  list.push(value);
}
