/**
 * A small synthetic attack the fuzz cases start from: a GuardDuty finding on a leaked IAM user
 * key and the CloudTrail records around it (the key's legitimate history, then the attacker's
 * discovery, a created user with its own key and an admin policy, an assumed role, secrets
 * read). Every knob an attacker controls in growth cases (created users, extra steps, the user
 * agent, a far-future date) is a parameter; the rest is fixed so a case is reproducible.
 */

/** One CloudTrail record as S3 delivers it. */
export type TrailRecord = Record<string, unknown>;

/** The knobs of {@link buildWorld}. */
export interface WorldOptions {
  /** Users the attacker creates (each with an access key that is used once). */
  createdUsers?: number;
  /** Extra discovery calls by the attacker's key, one second apart. */
  extraSteps?: number;
  /** The attacker's user agent (default: a plain aws-cli one). */
  userAgent?: string;
  /** A time for one attacker step (e.g. `9999-12-31T23:59:59Z`). */
  oddStepTime?: string;
  /** Leave `arn` out of every attacker identity (a principal Mermaid cannot name). */
  noArn?: boolean;
  /** Roles the created session assumes one after another (lineage edges). */
  assumedRoles?: number;
}

/** A finding and its trail. */
export interface World {
  finding: Record<string, unknown>;
  records: TrailRecord[];
}

export const ACCOUNT = '111122223333';
export const REGION = 'us-east-1';
export const LEAKED_KEY = 'AKIAFUZZLEAKEDKEY001';
export const ATTACKER_IP = '198.51.100.7';
const CI_IP = '203.0.113.10';
const FINDING_TIME = Date.parse('2026-03-04T09:00:00Z');

let seq = 0;
function eventId(n: number): string {
  const h = n.toString(16).padStart(12, '0');
  return `0f0f0f0f-0000-4000-8000-${h}`;
}

function iso(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

interface Actor {
  type: string;
  arn?: string;
  principalId: string;
  accessKeyId: string;
  userName?: string;
  sessionIssuer?: { arn: string; userName: string; principalId: string };
}

function record(actor: Actor, o: { time: number | string; source: string; name: string; ip: string; ua: string; req?: unknown; resp?: unknown; errorCode?: string }): TrailRecord {
  const identity: Record<string, unknown> = {
    type: actor.type,
    principalId: actor.principalId,
    accountId: ACCOUNT,
    accessKeyId: actor.accessKeyId,
  };
  if (actor.arn !== undefined) identity.arn = actor.arn;
  if (actor.userName) identity.userName = actor.userName;
  if (actor.sessionIssuer) {
    identity.sessionContext = {
      sessionIssuer: { type: 'Role', principalId: actor.sessionIssuer.principalId, arn: actor.sessionIssuer.arn, accountId: ACCOUNT, userName: actor.sessionIssuer.userName },
      attributes: { creationDate: iso(FINDING_TIME - 30 * 60_000), mfaAuthenticated: 'false' },
    };
  }
  seq += 1;
  const r: TrailRecord = {
    eventVersion: '1.09',
    userIdentity: identity,
    eventTime: typeof o.time === 'string' ? o.time : iso(o.time),
    eventSource: o.source,
    eventName: o.name,
    awsRegion: REGION,
    sourceIPAddress: o.ip,
    userAgent: o.ua,
    requestParameters: o.req ?? null,
    responseElements: o.resp ?? null,
    requestID: `req-${seq}`,
    eventID: eventId(seq),
    readOnly: /^(Get|List|Describe)/.test(o.name),
    eventType: 'AwsApiCall',
    managementEvent: true,
    recipientAccountId: ACCOUNT,
    eventCategory: 'Management',
  };
  if (o.errorCode) r.errorCode = o.errorCode;
  return r;
}

/**
 * Builds the finding and trail of the synthetic attack.
 * @param opts the attacker-controlled knobs; none by default (about 30 records)
 */
export function buildWorld(opts: WorldOptions = {}): World {
  seq = 0;
  const ua = opts.userAgent ?? 'aws-cli/2.15.30 Python/3.11.8 Linux/6.5.0 exe/x86_64.kali.2024';
  const arnOf = (a: string) => (opts.noArn ? undefined : a);
  const victim: Actor = { type: 'IAMUser', arn: `arn:aws:iam::${ACCOUNT}:user/victim`, principalId: 'AIDAFUZZVICTIM000001', accessKeyId: LEAKED_KEY, userName: 'victim' };
  const attacker: Actor = { ...victim, arn: arnOf(victim.arn as string) };
  const records: TrailRecord[] = [];
  const t0 = FINDING_TIME - 2 * 3600_000;
  // The key's legitimate history: the CI server, days before.
  for (let d = 5; d >= 2; d--) {
    records.push(record(victim, { time: FINDING_TIME - d * 86_400_000, source: 's3.amazonaws.com', name: 'ListBuckets', ip: CI_IP, ua: 'aws-sdk-go/1.44 (go1.21; linux; amd64)' }));
  }
  let t = t0;
  const step = (actor: Actor, source: string, name: string, req?: unknown, resp?: unknown, errorCode?: string) => {
    t += 7_000;
    records.push(record(actor, { time: t, source, name, ip: ATTACKER_IP, ua, req, resp, errorCode }));
  };
  step(attacker, 'sts.amazonaws.com', 'GetCallerIdentity');
  step(attacker, 'iam.amazonaws.com', 'ListUsers');
  step(attacker, 's3.amazonaws.com', 'ListBuckets');
  step(attacker, 'iam.amazonaws.com', 'ListAttachedUserPolicies', { userName: 'victim' });
  step(attacker, 'iam.amazonaws.com', 'AttachUserPolicy', { userName: 'victim', policyArn: 'arn:aws:iam::aws:policy/AdministratorAccess' }, null, 'AccessDenied');
  const users = Math.max(1, opts.createdUsers ?? 1);
  const created: Actor[] = [];
  for (let i = 0; i < users; i++) {
    const name = i === 0 ? 'backdoor' : `backdoor-${i}`;
    const userArn = `arn:aws:iam::${ACCOUNT}:user/${name}`;
    const pid = `AIDAFUZZ${String(i).padStart(12, '0')}`;
    step(attacker, 'iam.amazonaws.com', 'CreateUser', { userName: name }, { user: { userName: name, userId: pid, arn: userArn, path: '/', createDate: iso(t) } });
    const key = `AKIAFUZZ${String(i).padStart(12, '0')}`;
    step(attacker, 'iam.amazonaws.com', 'CreateAccessKey', { userName: name }, { accessKey: { accessKeyId: key, status: 'Active', userName: name, createDate: iso(t) } });
    if (i === 0) step(attacker, 'iam.amazonaws.com', 'AttachUserPolicy', { userName: name, policyArn: 'arn:aws:iam::aws:policy/AdministratorAccess' });
    created.push({ type: 'IAMUser', arn: arnOf(userArn), principalId: pid, accessKeyId: key, userName: name });
  }
  for (const c of created) step(c, 'sts.amazonaws.com', 'GetCallerIdentity');
  const backdoor = created[0] as Actor;
  let caller = backdoor;
  const roles = Math.max(1, opts.assumedRoles ?? 1);
  for (let i = 0; i < roles; i++) {
    const role = i === 0 ? 'admin' : `admin-${i}`;
    const roleArn = `arn:aws:iam::${ACCOUNT}:role/${role}`;
    const roleId = `AROAFUZZ${String(i).padStart(12, '0')}`;
    const sessKey = `ASIAFUZZ${String(i).padStart(12, '0')}`;
    const sessionArn = `arn:aws:sts::${ACCOUNT}:assumed-role/${role}/fuzz`;
    step(caller, 'sts.amazonaws.com', 'AssumeRole', { roleArn, roleSessionName: 'fuzz' }, {
      credentials: { accessKeyId: sessKey, sessionToken: 'x', expiration: iso(t + 3600_000) },
      assumedRoleUser: { assumedRoleId: `${roleId}:fuzz`, arn: sessionArn },
    });
    caller = { type: 'AssumedRole', arn: arnOf(sessionArn), principalId: `${roleId}:fuzz`, accessKeyId: sessKey, sessionIssuer: { arn: roleArn, userName: role, principalId: roleId } };
  }
  step(caller, 'secretsmanager.amazonaws.com', 'ListSecrets');
  step(caller, 'secretsmanager.amazonaws.com', 'GetSecretValue', { secretId: 'prod/db' });
  step(caller, 's3.amazonaws.com', 'GetObject', { bucketName: 'prod-data', key: 'customers.csv' });
  for (let i = 0; i < (opts.extraSteps ?? 0); i++) {
    t += 1_000;
    records.push(record(attacker, { time: t, source: 'ec2.amazonaws.com', name: 'DescribeInstances', ip: ATTACKER_IP, ua }));
  }
  if (opts.oddStepTime) records.push(record(attacker, { time: opts.oddStepTime, source: 'iam.amazonaws.com', name: 'ListRoles', ip: ATTACKER_IP, ua }));
  const findingId = 'f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0';
  const finding = {
    schemaVersion: '2.0',
    accountId: ACCOUNT,
    region: REGION,
    partition: 'aws',
    id: findingId,
    arn: `arn:aws:guardduty:${REGION}:${ACCOUNT}:detector/0123456789abcdef0123456789abcdef/finding/${findingId}`,
    type: 'Discovery:IAMUser/AnomalousBehavior',
    resource: {
      resourceType: 'AccessKey',
      accessKeyDetails: { accessKeyId: LEAKED_KEY, principalId: victim.principalId, userName: 'victim', userType: 'IAMUser' },
    },
    service: {
      serviceName: 'guardduty',
      detectorId: '0123456789abcdef0123456789abcdef',
      resourceRole: 'TARGET',
      additionalInfo: { value: '{}', type: 'default' },
      eventFirstSeen: iso(t0 + 7_000),
      eventLastSeen: iso(t0 + 21_000),
      archived: false,
      count: 3,
      featureName: 'CloudTrail',
      action: {
        actionType: 'AWS_API_CALL',
        awsApiCallAction: {
          api: 'ListUsers',
          serviceName: 'iam.amazonaws.com',
          callerType: 'Remote IP',
          userAgent: ua,
          remoteIpDetails: { ipAddressV4: ATTACKER_IP, organization: { asn: '64500', asnOrg: 'EXAMPLE', isp: 'Example', org: 'Example' }, country: { countryName: 'Netherlands' } },
          affectedResources: {},
        },
      },
    },
    severity: 5,
    createdAt: iso(FINDING_TIME),
    updatedAt: iso(FINDING_TIME),
    title: 'The API ListUsers was invoked by IAMUser victim under unusual circumstances.',
    description: 'APIs commonly used in discovery tactics were invoked by user IAMUser : victim under unusual circumstances.',
  };
  return { finding, records };
}

/** The S3 delivery file text of some records. */
export function deliveryFile(records: TrailRecord[]): string {
  return JSON.stringify({ Records: records });
}
