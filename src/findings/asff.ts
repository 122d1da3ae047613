/**
 * GuardDuty findings in the AWS Security Finding Format (ASFF) that Security Hub holds, read
 * into `NormalizedFinding`.
 *
 * Follows the Security Hub API model `shared/aws-models/securityhub-2018-10-26.json`, shape
 * `AwsSecurityFinding` (and `AwsIamAccessKeyDetails`, `Action`, `Network`, `Detection`), the
 * ASFF reference https://docs.aws.amazon.com/securityhub/latest/userguide/securityhub-findings-format.html
 * and GuardDuty's mapping to ASFF
 * https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_findings_cloudwatch.html.
 *
 * Where GuardDuty's own values live in ASFF:
 * - finding id: the ASFF `Id` IS the GuardDuty finding ARN (`…/finding/<id>`); also the tail of
 *   `ProductFields["aws/securityhub/FindingId"]`.
 * - type: only in `Types` (and `FindingProviderFields.Types`), as
 *   `<namespace>/<category>/<Purpose>:<Resource>-<Family>`, e.g.
 *   `TTPs/Persistence/Persistence:IAMUser-AnomalousBehavior` for
 *   `Persistence:IAMUser/AnomalousBehavior` (the `/` of the GuardDuty type becomes `-`).
 * - `service.*` values: flattened into `ProductFields` as `aws/guardduty/service/<path>` (newer)
 *   or `<path>` without prefix (older findings), e.g. `…/action/awsApiCallAction/remoteIpDetails/ipAddressV4`.
 */
import type { FindingActor, FindingAnnotation, FindingForm, NormalizedFinding, ResourceType } from '../model/finding';
import { toIsoUtc } from '../model/time';
import { at, bool, get, isObject, list, num, objAt, str, type JsonObject } from './access';
import {
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
import { guardDutyTypeOfAsffType } from './guardduty-asff-types';

/** True when `v` looks like an ASFF finding: a `ProductArn`, or `GeneratorId` with `AwsAccountId`. */
export function isAsffFinding(v: unknown): boolean {
  if (!isObject(v)) return false;
  if (str(get(v, 'ProductArn')) !== undefined) return true;
  return str(get(v, 'GeneratorId')) !== undefined && str(get(v, 'AwsAccountId')) !== undefined;
}

/**
 * The product that produced an ASFF finding, for messages: `ProductName`,
 * `ProductFields["aws/securityhub/ProductName"]`, or the product part of `ProductArn`.
 */
export function asffProductName(v: unknown): string {
  const name = str(get(v, 'ProductName')) ?? str(get(get(v, 'ProductFields'), 'aws/securityhub/ProductName'));
  if (name !== undefined) return name;
  const arn = str(get(v, 'ProductArn')) ?? '';
  return /product\/(.+)$/.exec(arn)?.[1] ?? 'unknown product';
}

/**
 * True when an ASFF finding was produced by GuardDuty: `ProductArn` ends with
 * `product/aws/guardduty`, or the product name (`ProductName` or
 * `ProductFields["aws/securityhub/ProductName"]`) is `GuardDuty`.
 */
export function isGuardDutyAsff(v: unknown): boolean {
  if (!isObject(v)) return false;
  if (/product\/aws\/guardduty$/i.test(str(get(v, 'ProductArn')) ?? '')) return true;
  const name = str(get(v, 'ProductName')) ?? str(get(get(v, 'ProductFields'), 'aws/securityhub/ProductName'));
  return name?.toLowerCase() === 'guardduty';
}

/** The GuardDuty type inside an ASFF `Types` entry (one mapping with the writer's: see guardduty-asff-types.ts). */
export { guardDutyTypeOfAsffType };

/** GuardDuty resource types by the resource part of the finding type (`Recon:EC2/…` → Instance). */
const RESOURCE_OF_TYPE: Record<string, ResourceType> = {
  IAMUser: 'AccessKey',
  EC2: 'Instance',
  S3: 'S3Bucket',
  Kubernetes: 'EKSCluster',
  EKS: 'EKSCluster',
  ECS: 'ECSCluster',
  Lambda: 'Lambda',
  RDS: 'RDSDBInstance',
};

/** GuardDuty resource types by ASFF resource `Type`. */
const RESOURCE_OF_ASFF: Record<string, ResourceType> = {
  AwsIamAccessKey: 'AccessKey',
  AwsEc2Instance: 'Instance',
  AwsS3Bucket: 'S3Bucket',
  AwsEksCluster: 'EKSCluster',
  AwsEcsCluster: 'ECSCluster',
  Container: 'Container',
  AwsLambdaFunction: 'Lambda',
  AwsRdsDbInstance: 'RDSDBInstance',
};

/** Read `service` values from ProductFields: `aws/guardduty/service/<path>`, else `<path>`. */
function serviceField(pf: JsonObject | undefined, path: string): string | undefined {
  if (!pf) return undefined;
  return str(pf[`aws/guardduty/service/${path}`]) ?? str(pf[path]);
}

/** The finding's `Note` (another tool's, or ours from an earlier run), when it has text. */
function noteOf(n: unknown): { text: string; updatedBy: string } | undefined {
  const text = str(get(n, 'Text'));
  return text ? { text, updatedBy: str(get(n, 'UpdatedBy')) ?? '' } : undefined;
}

/**
 * The finding's `Types`, `RelatedFindings` and `UserDefinedFields` (entries that are not
 * strings, or links without both `ProductArn` and `Id`, are left out), or `undefined` when it has
 * none of them.
 */
function annotationOf(a: unknown): FindingAnnotation | undefined {
  const types = list(get(a, 'Types')).filter((t): t is string => typeof t === 'string');
  const relatedFindings: FindingAnnotation['relatedFindings'] = [];
  for (const r of list(get(a, 'RelatedFindings'))) {
    const productArn = str(get(r, 'ProductArn'));
    const id = str(get(r, 'Id'));
    if (productArn !== undefined && id !== undefined) relatedFindings.push({ productArn, id });
  }
  const userDefinedFields: Record<string, string> = {};
  const udf = get(a, 'UserDefinedFields');
  // defineProperty: a key `__proto__` is kept as a field, never taken as the object's prototype.
  if (isObject(udf)) for (const [k, v] of Object.entries(udf)) if (typeof v === 'string') Object.defineProperty(userDefinedFields, k, { value: v, enumerable: true, writable: true, configurable: true });
  if (types.length === 0 && relatedFindings.length === 0 && Object.keys(userDefinedFields).length === 0) return undefined;
  return { types, relatedFindings, userDefinedFields };
}

/**
 * Read one GuardDuty-produced ASFF finding (check `isGuardDutyAsff` first).
 *
 * - id and ARN: from `Id` (the GuardDuty ARN), else `ProductFields["aws/securityhub/FindingId"]`;
 *   `arn` is kept exactly as Security Hub holds it.
 * - type: the first `Types` (then `FindingProviderFields.Types`) entry that holds a GuardDuty type.
 * - account, region, partition: `AwsAccountId`, `Region`, else the ARN, else `Resources[0]`.
 * - severity: `Severity.Product`, else `FindingProviderFields.Severity.Original`, else `Severity.Normalized / 10`.
 * - actor: `Resources[]` of type `AwsIamAccessKey`, `Details.AwsIamAccessKey`: `AccessKeyId` (else the
 *   resource `Id` `AWS::IAM::AccessKey:<key>`), `PrincipalId`, `PrincipalName` (else the deprecated
 *   `UserName`), `PrincipalType`.
 * - remote addresses: `Action.AwsApiCallAction.RemoteIpDetails`, `Action.NetworkConnectionAction.RemoteIpDetails`,
 *   `Action.PortProbeAction.PortProbeDetails[].RemoteIpDetails` (`IpAddressV4`, and `IpAddressV6` if
 *   present), then every `ProductFields` key ending in `remoteIpDetails/ipAddressV4|V6` or
 *   `sourceIPs/<n>`, then `Network` (the source address, or the destination when `Direction` is `OUT`),
 *   then `Detection.Sequence.Endpoints[].Ip`.
 * - sample: `Sample: true`, or `"sample":true` in `ProductFields[…additionalInfo]`.
 *
 * @throws FindingInputError when no id or no GuardDuty type can be read.
 */
export function readAsffFinding(a: unknown, form: FindingForm, fileName: string): NormalizedFinding {
  const pf = objAt(a, 'ProductFields');
  const asffId = str(get(a, 'Id'));
  const shFindingId = str(pf?.['aws/securityhub/FindingId']);
  const gdArnOfSh = shFindingId ? /(arn:[^/]*guardduty:.*\/finding\/[^/\s]+)$/.exec(shFindingId)?.[1] : undefined;
  const arn = asffId && /\/finding\/[^/\s]+$/.test(asffId) ? asffId : (gdArnOfSh ?? asffId ?? '');
  const parts = parseGuardDutyArn(arn);
  const id = parts.id ?? (arn ? arn.slice(arn.lastIndexOf('/') + 1) : undefined);
  if (!id) throw new FindingInputError(fileName, 'the Security Hub (ASFF) finding has no Id');

  const typeEntries = [...list(get(a, 'Types')), ...list(at(a, 'FindingProviderFields', 'Types'))];
  const type = typeEntries.map((t) => (typeof t === 'string' ? guardDutyTypeOfAsffType(t) : undefined)).find((t) => t !== undefined);
  if (type === undefined) throw new FindingInputError(fileName, `Security Hub (ASFF) finding ${id} holds no GuardDuty type in Types`);

  const resources = list(get(a, 'Resources')).filter(isObject);
  const firstResource = resources[0];
  const accountId = str(get(a, 'AwsAccountId')) ?? parts.accountId ?? '';
  const region = str(get(a, 'Region')) ?? parts.region ?? str(get(firstResource, 'Region')) ?? '';
  const partition = parts.partition ?? str(get(firstResource, 'Partition')) ?? partitionOf(region);

  const action = get(a, 'Action');
  const apiCall = get(action, 'AwsApiCallAction');

  const ips = new RemoteIpCollector();
  ips.addDetails(get(apiCall, 'RemoteIpDetails'), 'Action.AwsApiCallAction.RemoteIpDetails');
  ips.addDetails(at(action, 'NetworkConnectionAction', 'RemoteIpDetails'), 'Action.NetworkConnectionAction.RemoteIpDetails');
  list(at(action, 'PortProbeAction', 'PortProbeDetails')).forEach((d, i) => {
    ips.addDetails(get(d, 'RemoteIpDetails'), `Action.PortProbeAction.PortProbeDetails[${i}].RemoteIpDetails`);
  });
  for (const [key, value] of Object.entries(pf ?? {})) {
    if (/(^|\/)remoteIpDetails\/ipAddressV[46]$/i.test(key) || /(^|\/)sourceIPs\/\d+$/i.test(key)) {
      ips.add(value, `ProductFields["${key}"]`);
    }
  }
  const network = get(a, 'Network');
  if (isObject(network)) {
    const out = str(get(network, 'Direction'))?.toUpperCase() === 'OUT';
    const side = out ? 'Destination' : 'Source';
    ips.add(get(network, `${side}IpV4`), `Network.${side}IpV4`);
    ips.add(get(network, `${side}IpV6`), `Network.${side}IpV6`);
  }

  let actor: FindingActor = {};
  const keyResource = resources.find((r) => str(get(r, 'Type')) === 'AwsIamAccessKey');
  if (keyResource) {
    const d = at(keyResource, 'Details', 'AwsIamAccessKey');
    const idKey = /^AWS::IAM::AccessKey:(.+)$/.exec(str(get(keyResource, 'Id')) ?? '')?.[1];
    actor = completeActor({
      accessKeyId: accessKeyIdOf(get(d, 'AccessKeyId')) ?? accessKeyIdOf(idKey),
      principalId: clean(get(d, 'PrincipalId')),
      userName: clean(get(d, 'PrincipalName')) ?? clean(get(d, 'UserName')),
      userType: clean(get(d, 'PrincipalType')),
    });
  }

  const sequence = at(a, 'Detection', 'Sequence');
  const attackSequence =
    type.startsWith('AttackSequence:') || isObject(sequence)
      ? readAttackSequence(sequence, { partition, accountId, remoteIps: ips, path: 'Detection.Sequence' })
      : undefined;
  if (attackSequence) {
    if (actor.accessKeyId === undefined && actor.principalId === undefined && actor.userName === undefined) {
      actor = actorOfSequence(sequence);
    }
    if (actor.accessKeyId !== undefined && !attackSequence.accessKeyIds.includes(actor.accessKeyId)) {
      attackSequence.accessKeyIds.push(actor.accessKeyId);
    }
  }

  const instanceResource = resources.find((r) => str(get(r, 'Type')) === 'AwsEc2Instance');
  const computeIds: string[] = [];
  for (const r of resources) {
    const rtype = str(get(r, 'Type'));
    const rid = str(get(r, 'Id'));
    const id =
      rtype === 'AwsLambdaFunction'
        ? clean(at(r, 'Details', 'AwsLambdaFunction', 'FunctionName')) ?? functionOfArn(rid)
        : rtype === 'AwsEcsTask'
          ? taskOfArn(rid)
          : undefined;
    if (id !== undefined && !computeIds.includes(id)) computeIds.push(id);
  }
  const instanceIdOfResource = /(?:^|instance\/)(i-[0-9a-f]{8,17})$/.exec(str(get(instanceResource, 'Id')) ?? '')?.[1];
  const fromSession = actor.userType === 'AssumedRole' || /^AROA/.test(actor.principalId ?? '') ? sessionOfPrincipal(actor.principalId) : {};

  const bucketNames: string[] = [];
  const bucketSeen = new Set<string>();
  for (const r of resources) {
    if (str(get(r, 'Type')) !== 'AwsS3Bucket') continue;
    const name = clean(at(r, 'Details', 'AwsS3Bucket', 'Name')) ?? bucketOfArn(str(get(r, 'Id')));
    pushDistinct(bucketNames, bucketSeen, name);
  }

  const resourcePart = /^[^:]+:([^/]+)\//.exec(type)?.[1];
  const resourceType =
    (resourcePart !== undefined ? RESOURCE_OF_TYPE[resourcePart] : undefined) ??
    resources.map((r) => RESOURCE_OF_ASFF[str(get(r, 'Type')) ?? '']).find((t) => t !== undefined);

  const severity =
    num(at(a, 'Severity', 'Product')) ??
    num(at(a, 'FindingProviderFields', 'Severity', 'Original')) ??
    (num(at(a, 'Severity', 'Normalized')) !== undefined ? (num(at(a, 'Severity', 'Normalized')) ?? 0) / 10 : undefined);

  const finding: NormalizedFinding = {
    form,
    id,
    arn,
    type,
    accountId,
    region,
    partition,
    severity,
    title: str(get(a, 'Title')),
    description: str(get(a, 'Description')),
    createdAt: toIsoUtc(get(a, 'CreatedAt')),
    updatedAt: toIsoUtc(get(a, 'UpdatedAt')),
    eventFirstSeen: toIsoUtc(get(a, 'FirstObservedAt')) ?? toIsoUtc(serviceField(pf, 'eventFirstSeen')),
    eventLastSeen: toIsoUtc(get(a, 'LastObservedAt')) ?? toIsoUtc(serviceField(pf, 'eventLastSeen')),
    count: num(serviceField(pf, 'count')),
    resourceType,
    actionType: str(get(action, 'ActionType')) ?? serviceField(pf, 'action/actionType'),
    api: clean(get(apiCall, 'Api')) ?? clean(serviceField(pf, 'action/awsApiCallAction/api')),
    apiServiceName: clean(get(apiCall, 'ServiceName')) ?? clean(serviceField(pf, 'action/awsApiCallAction/serviceName')),
    apiErrorCode: clean(serviceField(pf, 'action/awsApiCallAction/errorCode')),
    actor: dropUndefined(actor),
    instanceId: instanceIdOfResource ?? fromSession.instanceId,
    instanceProfileArn: clean(at(instanceResource, 'Details', 'AwsEc2Instance', 'IamInstanceProfileArn')),
    computeIds: computeIds.length > 0 ? computeIds : undefined,
    remoteIps: ips.ips,
    bucketNames,
    sample: bool(get(a, 'Sample')) === true || isSampleAdditionalInfo(serviceField(pf, 'additionalInfo')),
    attackSequence,
    note: noteOf(get(a, 'Note')),
    annotation: annotationOf(a),
  };
  return dropUndefined(finding);
}
