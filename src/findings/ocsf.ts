/**
 * GuardDuty findings as the new Security Hub holds them, OCSF Detection Findings (class 2004),
 * read into `NormalizedFinding`: from `GetFindingsV2` output (`{"Findings": [...]}`), a
 * "Findings Imported V2" EventBridge event (`detail.findings`, one finding an event:
 * https://docs.aws.amazon.com/securityhub/latest/userguide/securityhub-v2-cwe-event-formats.html),
 * or one bare finding.
 *
 * Where GuardDuty's values live (OCSF 1.1.0 `detection_finding` and the field names the Security
 * Hub API filters on, `OcsfStringField` / `OcsfDateField` in the API reference):
 * - finding ARN: `finding_info.uid` (what `OcsfFindingIdentifier.FindingInfoUid` addresses); the
 *   finding id is its last part, exactly as the GuardDuty event's `id`.
 * - account and region: `cloud.account.uid`, `cloud.region`, else the ARN's.
 * - type: the first `finding_info.types` entry in GuardDuty's form (`Purpose:Resource/Family`).
 * - `updatedAt`: `finding_info.modified_time_dt` (ISO) or `finding_info.modified_time` (epoch
 *   ms): GuardDuty's `updatedAt`, which `BatchUpdateFindingsV2` does not change; `createdAt`,
 *   `eventFirstSeen`, `eventLastSeen`: `created_time`, `first_seen_time`, `last_seen_time`
 *   (each `_dt` first). Normalised by `toIsoUtc`, as the native reader does, so the same finding
 *   and update gives the same idempotency key whichever event brought it.
 * - severity: OCSF keeps only `severity_id`; GuardDuty's number is not there, so the lower bound
 *   of GuardDuty's band is used (Low 1, Medium 4, High 7, Critical 9; Informational 0.1): the
 *   intake's threshold then treats a Medium finding as 4.
 * - actor, API, addresses: `evidences[].actor.user` (`credential_uid`, `uid`, `name`, `type`),
 *   `evidences[].api` (`operation`, `service.name`, `response.error`),
 *   `evidences[].src_endpoint.ip`.
 * - resources: `resources[]` (`type` AwsEc2Instance / AwsS3Bucket / AwsIamAccessKey / …, `uid`).
 * - `comment`: kept on `NormalizedFinding.comment` (the writer keeps another author's text; the
 *   intake recognises the comment it wrote itself).
 */
import type { FindingActor, FindingForm, NormalizedFinding, ResourceType } from '../model/finding';
import { toIsoUtc } from '../model/time';
import { at, get, isObject, list, num, str } from './access';
import { pushDistinct, RemoteIpCollector, accessKeyIdOf, bucketOfArn, clean, completeActor, dropUndefined, parseGuardDutyArn, partitionOf, sessionOfPrincipal } from './common';
import { FindingInputError } from './errors';

/** OCSF class of a Detection Finding (OCSF 1.1.0). */
export const DETECTION_FINDING_CLASS_UID = 2004;

/** True when `v` looks like an OCSF finding: a `class_uid` and a `finding_info` object. */
export function isOcsfFinding(v: unknown): boolean {
  return isObject(v) && typeof get(v, 'class_uid') === 'number' && isObject(get(v, 'finding_info'));
}

/**
 * True when an OCSF finding is GuardDuty's: `metadata.product.uid` ends with `product/aws/guardduty`,
 * or `metadata.product.name` is `GuardDuty`.
 */
export function isGuardDutyOcsf(v: unknown): boolean {
  if (!isOcsfFinding(v)) return false;
  if (/product\/aws\/guardduty$/i.test(str(at(v, 'metadata', 'product', 'uid')) ?? '')) return true;
  return str(at(v, 'metadata', 'product', 'name'))?.toLowerCase() === 'guardduty';
}

/** The product of an OCSF finding, for messages. */
export function ocsfProductName(v: unknown): string {
  return str(at(v, 'metadata', 'product', 'name')) ?? str(at(v, 'metadata', 'product', 'uid')) ?? 'unknown product';
}

/** GuardDuty severity (lower bound of its band) of an OCSF `severity_id`: 1 → 0.1, 2 → 1, 3 → 4, 4 → 7, 5 and 6 → 9. */
export function guardDutySeverityOfOcsf(severityId: number | undefined): number | undefined {
  switch (severityId) {
    case 1: return 0.1;
    case 2: return 1;
    case 3: return 4;
    case 4: return 7;
    case 5:
    case 6: return 9;
    default: return undefined;
  }
}

const RESOURCE_OF_TYPE: Record<string, ResourceType> = { IAMUser: 'AccessKey', EC2: 'Instance', S3: 'S3Bucket', Kubernetes: 'EKSCluster', EKS: 'EKSCluster', ECS: 'ECSCluster', Lambda: 'Lambda', RDS: 'RDSDBInstance' };

/** An OCSF time: the `_dt` form (ISO) first, then the epoch-milliseconds form. */
function timeOf(o: unknown, name: string): string | undefined {
  return toIsoUtc(get(o, `${name}_dt`)) ?? toIsoUtc(get(o, name));
}

/**
 * Reads one GuardDuty OCSF finding (check `isGuardDutyOcsf` first).
 * @throws FindingInputError when `finding_info.uid` is not a GuardDuty finding ARN or no GuardDuty type is there.
 */
export function readOcsfFinding(o: unknown, form: FindingForm, fileName: string): NormalizedFinding {
  const info = get(o, 'finding_info');
  const arn = str(get(info, 'uid')) ?? '';
  const parts = parseGuardDutyArn(arn);
  if (!parts.id) throw new FindingInputError(fileName, `the OCSF finding's finding_info.uid ${JSON.stringify(arn.slice(0, 120))} is not a GuardDuty finding ARN`);
  const type = list(get(info, 'types')).map((t) => (typeof t === 'string' && /^[A-Za-z0-9]+:[A-Za-z0-9]+\/\S+$/.test(t) ? t : undefined)).find((t) => t !== undefined);
  if (!type) throw new FindingInputError(fileName, `OCSF finding ${parts.id} holds no GuardDuty type in finding_info.types`);
  const accountId = str(at(o, 'cloud', 'account', 'uid')) ?? parts.accountId ?? '';
  const region = str(at(o, 'cloud', 'region')) ?? parts.region ?? '';
  const partition = parts.partition ?? partitionOf(region);

  const ips = new RemoteIpCollector();
  let actor: FindingActor = {};
  let api: string | undefined;
  let apiServiceName: string | undefined;
  let apiErrorCode: string | undefined;
  list(get(o, 'evidences')).forEach((e, i) => {
    ips.add(at(e, 'src_endpoint', 'ip'), `evidences[${i}].src_endpoint.ip`);
    const user = at(e, 'actor', 'user');
    if (isObject(user) && actor.accessKeyId === undefined && actor.principalId === undefined) {
      actor = { accessKeyId: accessKeyIdOf(get(user, 'credential_uid')), principalId: clean(get(user, 'uid')), userName: clean(get(user, 'name')), userType: clean(get(user, 'type')) };
    }
    api ??= clean(at(e, 'api', 'operation'));
    apiServiceName ??= clean(at(e, 'api', 'service', 'name'));
    apiErrorCode ??= clean(at(e, 'api', 'response', 'error'));
  });
  actor = completeActor(actor);

  const resources = list(get(o, 'resources')).filter(isObject);
  const instanceUid = str(get(resources.find((r) => str(get(r, 'type')) === 'AwsEc2Instance'), 'uid'));
  const fromSession = actor.userType === 'AssumedRole' || /^AROA/.test(actor.principalId ?? '') ? sessionOfPrincipal(actor.principalId) : {};
  const bucketNames: string[] = [];
  const bucketSeen = new Set<string>();
  for (const r of resources) {
    if (str(get(r, 'type')) !== 'AwsS3Bucket') continue;
    const name = clean(get(r, 'name')) ?? bucketOfArn(str(get(r, 'uid')));
    pushDistinct(bucketNames, bucketSeen, name);
  }
  const comment = str(get(o, 'comment'));
  const finding: NormalizedFinding = {
    form,
    id: parts.id,
    arn,
    type,
    accountId,
    region,
    partition,
    severity: guardDutySeverityOfOcsf(num(get(o, 'severity_id'))),
    title: str(get(info, 'title')),
    description: str(get(info, 'desc')),
    createdAt: timeOf(info, 'created_time'),
    updatedAt: timeOf(info, 'modified_time'),
    eventFirstSeen: timeOf(info, 'first_seen_time'),
    eventLastSeen: timeOf(info, 'last_seen_time'),
    resourceType: RESOURCE_OF_TYPE[/^[^:]+:([^/]+)\//.exec(type)?.[1] ?? ''],
    actionType: api ? 'AWS_API_CALL' : undefined,
    api,
    apiServiceName,
    apiErrorCode,
    actor: dropUndefined(actor),
    instanceId: /(?:^|instance\/)(i-[0-9a-f]{8,17})$/.exec(instanceUid ?? '')?.[1] ?? fromSession.instanceId,
    remoteIps: ips.ips,
    bucketNames,
    sample: false,
    ...(comment ? { comment } : {}),
  };
  return dropUndefined(finding);
}
