/**
 * The native GuardDuty finding (camelCase JSON as GuardDuty, EventBridge and the CLI give it, or
 * PascalCase as the SDKs' `GetFindings` output gives it), read into `NormalizedFinding`.
 *
 * Follows the GuardDuty API model `shared/aws-models/guardduty-2017-11-28.json`: shapes
 * `Finding`, `Resource` (`accessKeyDetails`, `instanceDetails`, `s3BucketDetails`,
 * `eksClusterDetails`, `ecsClusterDetails`, `containerDetails`, `lambdaDetails`,
 * `rdsDbInstanceDetails`, `rdsLimitlessDbDetails`, …), `Service`, `Action` and its sub-shapes,
 * `Detection`/`Sequence`; and the finding reference
 * https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_findings-summary.html.
 */
import type { ActionType, FindingActor, FindingForm, NormalizedFinding } from '../model/finding';
import { toIsoUtc } from '../model/time';
import { at, get, isObject, list, num, str } from './access';
import {
  IAM_PRINCIPAL_ARN,
  pushDistinct,
  RemoteIpCollector,
  accessKeyIdOf,
  actorOfSequence,
  bucketOfArn,
  clean,
  completeActor,
  dropUndefined,
  functionOfArn,
  isSampleAdditionalInfo,
  parseGuardDutyArn,
  partitionOf,
  readAttackSequence,
  sessionOfPrincipal,
  taskOfArn,
} from './common';
import { FindingInputError } from './errors';

/** Values an envelope (an EventBridge event) knows when the finding itself lacks them. */
export interface Envelope {
  accountId?: string;
  region?: string;
}

/** `service.action` members and the action type each one stands for (GuardDuty shape `Action`). */
const SUB_ACTIONS: ReadonlyArray<[string, ActionType]> = [
  ['awsApiCallAction', 'AWS_API_CALL'],
  ['networkConnectionAction', 'NETWORK_CONNECTION'],
  ['portProbeAction', 'PORT_PROBE'],
  ['dnsRequestAction', 'DNS_REQUEST'],
  ['kubernetesApiCallAction', 'KUBERNETES_API_CALL'],
  ['rdsLoginAttemptAction', 'RDS_LOGIN_ATTEMPT'],
  ['kubernetesPermissionCheckedDetails', 'KUBERNETES_PERMISSION_CHECKED'],
  ['kubernetesRoleBindingDetails', 'KUBERNETES_ROLE_BINDING_DETAILS'],
  ['kubernetesRoleDetails', 'KUBERNETES_ROLE_DETAILS'],
];

/**
 * True when `v` looks like a native GuardDuty finding (either casing): a `type`, an `id` or
 * `arn`, and a `service`, `resource` or `schemaVersion`.
 */
export function isGuardDutyFinding(v: unknown): boolean {
  if (!isObject(v)) return false;
  if (str(get(v, 'type')) === undefined) return false;
  if (str(get(v, 'id')) === undefined && str(get(v, 'arn')) === undefined) return false;
  return isObject(get(v, 'service')) || isObject(get(v, 'resource')) || str(get(v, 'schemaVersion')) !== undefined;
}

/**
 * Read a native GuardDuty finding.
 *
 * Every sub-object is optional. Remote addresses are gathered, v4 (`ipAddressV4`) and v6
 * (`ipAddressV6`), from every action member that keeps them: `awsApiCallAction.remoteIpDetails`,
 * `networkConnectionAction.remoteIpDetails`, each `portProbeAction.portProbeDetails[].remoteIpDetails`,
 * `kubernetesApiCallAction.remoteIpDetails` and `.sourceIPs[]`, `rdsLoginAttemptAction.remoteIpDetails`
 * (`dnsRequestAction` names a domain, no address), then an attack sequence's `endpoints[].ip`.
 * `RemoteIp.from` uses the camelCase path whatever the input casing.
 *
 * @param envelope account and region of the surrounding event, used only when the finding
 *   lacks them (and its ARN does not tell).
 * @throws FindingInputError when the finding has no id (nor ARN) or no type.
 */
export function readGuardDutyFinding(f: unknown, form: FindingForm, fileName: string, envelope: Envelope = {}): NormalizedFinding {
  const arnRaw = str(get(f, 'arn'));
  const parts = parseGuardDutyArn(arnRaw);
  const id = str(get(f, 'id')) ?? parts.id;
  if (id === undefined) throw new FindingInputError(fileName, 'the GuardDuty finding has no id');
  const type = str(get(f, 'type'));
  if (type === undefined) throw new FindingInputError(fileName, `GuardDuty finding ${id} has no type`);

  const service = get(f, 'service');
  const resource = get(f, 'resource');
  const action = get(service, 'action');

  const accountId = str(get(f, 'accountId')) ?? parts.accountId ?? envelope.accountId ?? '';
  const region = str(get(f, 'region')) ?? parts.region ?? envelope.region ?? '';
  const partition = str(get(f, 'partition')) ?? parts.partition ?? partitionOf(region);
  const detectorId = str(get(service, 'detectorId')) ?? parts.detectorId;
  const arn =
    arnRaw ?? (accountId && region && detectorId ? `arn:${partition}:guardduty:${region}:${accountId}:detector/${detectorId}/finding/${id}` : '');

  let actionType = str(get(action, 'actionType'));
  if (actionType === undefined) actionType = SUB_ACTIONS.find(([member]) => isObject(get(action, member)))?.[1];

  const apiCall = get(action, 'awsApiCallAction');
  const k8sCall = get(action, 'kubernetesApiCallAction');

  const ips = new RemoteIpCollector();
  const base = 'service.action';
  ips.addDetails(get(apiCall, 'remoteIpDetails'), `${base}.awsApiCallAction.remoteIpDetails`);
  ips.addDetails(at(action, 'networkConnectionAction', 'remoteIpDetails'), `${base}.networkConnectionAction.remoteIpDetails`);
  list(at(action, 'portProbeAction', 'portProbeDetails')).forEach((d, i) => {
    ips.addDetails(get(d, 'remoteIpDetails'), `${base}.portProbeAction.portProbeDetails[${i}].remoteIpDetails`);
  });
  ips.addDetails(get(k8sCall, 'remoteIpDetails'), `${base}.kubernetesApiCallAction.remoteIpDetails`);
  list(get(k8sCall, 'sourceIPs')).forEach((ip, i) => {
    ips.add(ip, `${base}.kubernetesApiCallAction.sourceIPs[${i}]`);
  });
  ips.addDetails(at(action, 'rdsLoginAttemptAction', 'remoteIpDetails'), `${base}.rdsLoginAttemptAction.remoteIpDetails`);

  const akd = get(resource, 'accessKeyDetails');
  let actor: FindingActor = {};
  if (isObject(akd)) {
    actor = completeActor({
      accessKeyId: accessKeyIdOf(get(akd, 'accessKeyId')),
      principalId: clean(get(akd, 'principalId')),
      userName: clean(get(akd, 'userName')),
      userType: clean(get(akd, 'userType')),
    });
  }

  const sequence = at(service, 'detection', 'sequence');
  const isAttackSequence = type.startsWith('AttackSequence:') || isObject(sequence);
  const attackSequence = isAttackSequence
    ? readAttackSequence(sequence, { partition, accountId, remoteIps: ips, path: 'service.detection.sequence' })
    : undefined;
  if (attackSequence) {
    if (actor.accessKeyId === undefined && actor.principalId === undefined && actor.userName === undefined) {
      actor = actorOfSequence(sequence);
    }
    if (actor.accessKeyId !== undefined && !attackSequence.accessKeyIds.includes(actor.accessKeyId)) {
      attackSequence.accessKeyIds.push(actor.accessKeyId);
    }
  }

  const instance = get(resource, 'instanceDetails');
  const fromSession = actor.userType === 'AssumedRole' || /^AROA/.test(actor.principalId ?? '') ? sessionOfPrincipal(actor.principalId) : {};

  const bucketNames: string[] = [];
  const bucketSeen = new Set<string>();
  for (const b of list(get(resource, 's3BucketDetails'))) {
    const name = clean(get(b, 'name')) ?? bucketOfArn(clean(get(b, 'arn')));
    pushDistinct(bucketNames, bucketSeen, name);
  }

  const computeIds: string[] = [];
  const fn = clean(at(resource, 'lambdaDetails', 'functionName')) ?? functionOfArn(clean(at(resource, 'lambdaDetails', 'functionArn')));
  if (fn !== undefined) computeIds.push(fn);
  const task = taskOfArn(clean(at(resource, 'ecsClusterDetails', 'taskDetails', 'arn')));
  if (task !== undefined) computeIds.push(task);
  const k8sUser = clean(at(resource, 'kubernetesDetails', 'kubernetesUserDetails', 'username'));
  const principalArns = k8sUser !== undefined && IAM_PRINCIPAL_ARN.test(k8sUser) ? [k8sUser] : [];

  const finding: NormalizedFinding = {
    form,
    id,
    arn,
    type,
    accountId,
    region,
    partition,
    severity: num(get(f, 'severity')),
    title: str(get(f, 'title')),
    description: str(get(f, 'description')),
    createdAt: toIsoUtc(get(f, 'createdAt')),
    updatedAt: toIsoUtc(get(f, 'updatedAt')),
    eventFirstSeen: toIsoUtc(get(service, 'eventFirstSeen')),
    eventLastSeen: toIsoUtc(get(service, 'eventLastSeen')),
    count: num(get(service, 'count')),
    resourceType: str(get(resource, 'resourceType')),
    actionType,
    api: clean(get(apiCall, 'api')) ?? clean(get(k8sCall, 'verb')) ?? clean(get(k8sCall, 'requestUri')),
    apiServiceName: clean(get(apiCall, 'serviceName')),
    apiErrorCode: clean(get(apiCall, 'errorCode')),
    actor: dropUndefined(actor),
    instanceId: clean(get(instance, 'instanceId')) ?? fromSession.instanceId,
    instanceProfileArn: clean(at(instance, 'iamInstanceProfile', 'arn')),
    remoteIps: ips.ips,
    bucketNames,
    computeIds: computeIds.length > 0 ? computeIds : undefined,
    principalArns: principalArns.length > 0 ? principalArns : undefined,
    sample: isSampleAdditionalInfo(get(service, 'additionalInfo')),
    attackSequence,
  };
  return dropUndefined(finding);
}
