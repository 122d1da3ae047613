/**
 * The one normalised shape of a GuardDuty finding, whatever form it came in
 * (native GuardDuty JSON, `GetFindings` output, the EventBridge "GuardDuty Finding" event,
 * or the ASFF form Security Hub holds).
 *
 * Field names follow the GuardDuty API model (`shared/aws-models/guardduty-2017-11-28.json`,
 * shape `Finding`) and the GuardDuty finding reference
 * (https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_findings.html). Every sub-object
 * of a finding is optional in real data; absent values are `undefined`, never placeholders.
 */

/** Where the finding came from: which input form was recognised. */
export type FindingForm =
  | 'guardduty-native'
  | 'guardduty-getfindings'
  | 'eventbridge'
  | 'asff'
  | 'asff-imported-event'
  | 'asff-custom-action-event'
  | 'ocsf'
  | 'ocsf-imported-event';

/** GuardDuty `resource.resourceType`; unknown types are kept as their string. */
export type ResourceType =
  | 'AccessKey'
  | 'Instance'
  | 'S3Bucket'
  | 'EKSCluster'
  | 'ECSCluster'
  | 'Container'
  | 'Lambda'
  | 'RDSDBInstance'
  | 'RDSLimitlessDB'
  | 'KubernetesCluster'
  | 'EC2NetworkInterface'
  | string;

/** GuardDuty `service.action.actionType`; `undefined` when the finding has no action. */
export type ActionType =
  | 'AWS_API_CALL'
  | 'NETWORK_CONNECTION'
  | 'PORT_PROBE'
  | 'DNS_REQUEST'
  | 'KUBERNETES_API_CALL'
  | 'RDS_LOGIN_ATTEMPT'
  | 'KUBERNETES_PERMISSION_CHECKED'
  | 'KUBERNETES_ROLE_BINDING_DETAILS'
  | 'KUBERNETES_ROLE_DETAILS'
  | string;

/** The actor of a finding: `resource.accessKeyDetails` (GuardDuty) / `AwsIamAccessKey` (ASFF). */
export interface FindingActor {
  /** AKIA… / ASIA… key; `undefined` when absent or a GuardDuty placeholder (`GeneratedFinding…`). */
  accessKeyId?: string;
  /** `AIDA…` for users, `AROA…:session` for role sessions. */
  principalId?: string;
  /** For IAMUser the user name; for AssumedRole GuardDuty puts the role name here. */
  userName?: string;
  /** `IAMUser` | `AssumedRole` | `Root` | `FederatedUser` | … as GuardDuty reports it. */
  userType?: string;
  /** Session name, when it can be read (the part after `:` in an AssumedRole principalId). */
  sessionName?: string;
}

/** One remote address named by the finding, with where in the finding it was found. */
export interface RemoteIp {
  /** The address, normalised (IPv4 dotted decimal without leading zeros, IPv6 lower case). */
  ip: string;
  version: 4 | 6;
  /** JSON path-like location in the source finding, e.g. `service.action.awsApiCallAction.remoteIpDetails`. */
  from: string;
}

/** Extended Threat Detection (`AttackSequence:*`) details: the actors and the CloudTrail events its signals name. */
export interface AttackSequence {
  /** Principal ARNs, session ARNs or user names named as actors of the sequence. */
  actorArns: string[];
  /** Access key ids named by the sequence's actors or signals. */
  accessKeyIds: string[];
  /** CloudTrail `eventID`s named by the sequence's signals. */
  eventIds: string[];
  /** The sequence's `uid` (`service.detection.sequence.uid`). */
  uid?: string;
  /**
   * Every signal of the sequence, in the order given (FINDING signals too), for matching
   * CloudTrail events by name and time where a signal's uid is not an `eventID`.
   */
  signals?: AttackSequenceSignal[];
  /** Sequence-level indicators by key: `ATTACK_TACTIC` → `["Discovery", ...]`, `HIGH_RISK_API` → `["iam:CreateRole"]`. */
  indicators?: Record<string, string[]>;
}

/** One signal of an attack sequence (GuardDuty model shape `Signal`; ASFF `Signal` has `Id` for `Uid`). */
export interface AttackSequenceSignal {
  /** `uid`: a CloudTrail `eventID` for `CLOUD_TRAIL` / `S3_DATA_EVENTS` signals, a finding ARN for `FINDING`. */
  uid: string;
  /** `FINDING` | `CLOUD_TRAIL` | `S3_DATA_EVENTS` | `EKS_AUDIT_LOGS` | `FLOW_LOGS` | `DNS_LOGS` | `RUNTIME_MONITORING` | … */
  type?: string;
  /** The API name for API-activity signals, the finding type for FINDING signals. */
  name?: string;
  /** ISO 8601 UTC. */
  firstSeenAt?: string;
  lastSeenAt?: string;
  /** Signal indicators by key (`HIGH_RISK_API` → `["s3:DeleteObject"]`, `ATTACK_TACTIC` → `["Impact"]`). */
  indicators: Record<string, string[]>;
}

export interface NormalizedFinding {
  form: FindingForm;
  /** GuardDuty's own finding id (the last part of its ARN). */
  id: string;
  /** The GuardDuty finding ARN (`arn:<partition>:guardduty:<region>:<account>:detector/<d>/finding/<id>`). */
  arn: string;
  /** In GuardDuty's form: `Persistence:IAMUser/AnomalousBehavior`. */
  type: string;
  accountId: string;
  region: string;
  partition: string;
  /** GuardDuty severity, 0.1-10 (ASFF `Severity.Product`, or `Normalized`/10). */
  severity?: number;
  title?: string;
  description?: string;
  /** ISO 8601 UTC with `Z`. */
  createdAt?: string;
  updatedAt?: string;
  /** `service.eventFirstSeen` / ASFF `FirstObservedAt`, ISO 8601 UTC. */
  eventFirstSeen?: string;
  eventLastSeen?: string;
  /** `service.count`. */
  count?: number;
  resourceType?: ResourceType;
  actionType?: ActionType;
  /** `service.action.awsApiCallAction.api` (or Kubernetes verb/requestUri where that is all there is). */
  api?: string;
  /** `service.action.awsApiCallAction.serviceName`, e.g. `iam.amazonaws.com`. */
  apiServiceName?: string;
  /** `awsApiCallAction.errorCode`. */
  apiErrorCode?: string;
  actor: FindingActor;
  /** EC2 instance id for Instance findings (and instance-credential findings that name one). */
  instanceId?: string;
  /** Instance profile ARN of the instance (`resource.instanceDetails.iamInstanceProfile.arn`). */
  instanceProfileArn?: string;
  /** Every remote address the finding names, v4 and v6, deduplicated, in order found. */
  remoteIps: RemoteIp[];
  /** S3 bucket names for S3 findings. */
  bucketNames: string[];
  /**
   * Compute the finding is about besides an instance: a Lambda function's name
   * (`resource.lambdaDetails`), an ECS task's id (`resource.ecsClusterDetails.taskDetails.arn`).
   * Their role sessions are named after them.
   */
  computeIds?: string[];
  /**
   * IAM principals the finding names outside `accessKeyDetails`: the IAM user or role session
   * ARN of a Kubernetes user (`kubernetesDetails.kubernetesUserDetails.username`).
   */
  principalArns?: string[];
  /** True for sample findings (`additionalInfo.sample`, `"sample":true` in `additionalInfo.value`, ASFF `Sample`). */
  sample: boolean;
  attackSequence?: AttackSequence;
  /** ASFF `Note` already on the finding (Security Hub forms only): kept when trailstory adds its own. */
  note?: { text: string; updatedBy: string };
  /**
   * ASFF `Types`, `RelatedFindings` and `UserDefinedFields` already on the finding (Security Hub
   * forms only: GuardDuty's own types, another tool's or an analyst's links and fields, ours from
   * an earlier run): `--format asff` unites its annotation with them instead of replacing them.
   */
  annotation?: FindingAnnotation;
  /** OCSF `comment` already on the finding (new Security Hub forms only): another author's text is kept when trailstory adds its own. */
  comment?: string;
}

/** What a Security Hub (ASFF) finding already carries in the fields `BatchUpdateFindings` replaces. */
export interface FindingAnnotation {
  /** ASFF `Types` (`namespace/category/classifier`), in the finding's order. */
  types: string[];
  /** ASFF `RelatedFindings`: `ProductArn` and `Id` of each. */
  relatedFindings: { productArn: string; id: string }[];
  /** ASFF `UserDefinedFields`: name → value. */
  userDefinedFields: Record<string, string>;
}
