/**
 * The walk's rules of evidence on small stories built record by record, one finding shape each
 * (storyline contract, "Findings whose actor is not a key") and one test per rule where the
 * precedence matters: what the attacker holds wins, the latest mint of a node wins, who took
 * control of compute is upstream within the credentials' lifetime, services acting for the
 * attacker, the two copies of a cross-account call.
 */
import { parseFindings } from '../../src/findings/normalize';
import { classifySourceAddress } from '../../src/identity/ip';
import { normalizeIdentity } from '../../src/identity/principal';
import type { Storyline } from '../../src/model/storyline';
import { reconstruct } from '../../src/storyline/reconstruct';
import { loadDefaultEventMap } from '../../src/storyline/tactics';
import type { TrailEvent } from '../../src/trail/event';
import { emptyStats } from '../../src/trail/read';

const A = '111122223333';
const CLI = 'aws-cli/2.15.30 Python/3.11.8 Linux/6.5.0 exe/x86_64 prompt/off';
const BOTO = 'Boto3/1.34.70 md/Botocore#1.34.70 ua/2.0 os/linux#6.5.0';
const SDK_JAVA = 'aws-sdk-java/2.25.16 Linux/6.1.84 OpenJDK_64-Bit_Server_VM/21.0.3';

/** Who makes a call: an IAM user's key, a role session, a service. */
type Who =
  | { user: string; key: string; cd?: string }
  | { role: string; session: string; key: string; cd?: string }
  | { service: string }
  | { account: string };

function identity(w: Who): unknown {
  if ('user' in w) return { type: 'IAMUser', principalId: `AIDA${w.user.toUpperCase()}`, arn: `arn:aws:iam::${A}:user/${w.user}`, accountId: A, accessKeyId: w.key, userName: w.user, ...(w.cd ? { sessionContext: { attributes: { creationDate: w.cd } } } : {}) };
  if ('role' in w)
    return {
      type: 'AssumedRole',
      principalId: `AROAEXAMPLE:${w.session}`,
      arn: `arn:aws:sts::${A}:assumed-role/${w.role}/${w.session}`,
      accountId: A,
      accessKeyId: w.key,
      sessionContext: { sessionIssuer: { type: 'Role', arn: `arn:aws:iam::${A}:role/${w.role}`, accountId: A, userName: w.role }, attributes: { creationDate: w.cd ?? '2026-06-01T00:00:00Z' } },
    };
  if ('service' in w) return { type: 'AWSService', invokedBy: w.service };
  return { type: 'AWSAccount', principalId: 'AIDAOUTSIDE', accountId: w.account };
}

class Story {
  readonly events: TrailEvent[] = [];
  private n = 0;

  /** Adds one record; returns its eventID. */
  add(t: string, name: string, who: Who, ip: string, o: { source?: string; ua?: string; req?: Record<string, unknown>; resp?: Record<string, unknown>; err?: string; invokedBy?: string; shared?: string } = {}): string {
    const id = `00000000-0000-4000-8000-${String(++this.n).padStart(12, '0')}`;
    const ui = identity(who) as Record<string, unknown>;
    if (o.invokedBy) ui.invokedBy = o.invokedBy;
    const epochMs = Date.parse(t);
    this.events.push({
      eventId: id,
      eventTime: t,
      epochMs,
      eventSource: o.source ?? 'ec2.amazonaws.com',
      eventName: name,
      awsRegion: 'us-east-1',
      accountId: A,
      sourceIPAddress: ip,
      source: classifySourceAddress(ip),
      userAgent: o.ua ?? CLI,
      errorCode: o.err ?? null,
      errorMessage: null,
      readOnly: null,
      identity: normalizeIdentity(ui),
      requestParameters: o.req ?? null,
      responseElements: o.resp ?? null,
      additionalEventData: null,
      serviceEventDetails: null,
      resources: [],
      sharedEventID: o.shared ?? null,
      requestId: null,
      eventType: 'AwsApiCall',
      fromConsole: false,
      file: 'story',
    });
    return id;
  }

  /** Daily legitimate calls from `from` (ISO day) for `days` days at 09:00. */
  daily(from: string, days: number, name: string, who: Who, ip: string, ua = CLI): string[] {
    const out: string[] = [];
    const t0 = Date.parse(`${from}T09:00:00Z`);
    for (let d = 0; d < days; d++) out.push(this.add(new Date(t0 + d * 86400_000).toISOString().replace('.000Z', 'Z'), name, who, ip, { ua }));
    return out;
  }
}

function finding(o: { type?: string; resource: Record<string, unknown>; action?: Record<string, unknown>; first: string; last?: string }): ReturnType<typeof parseFindings>[number] {
  const f = parseFindings(
    {
      schemaVersion: '2.0',
      accountId: A,
      region: 'us-east-1',
      partition: 'aws',
      id: 'f0',
      arn: `arn:aws:guardduty:us-east-1:${A}:detector/d0/finding/f0`,
      type: o.type ?? 'Discovery:IAMUser/AnomalousBehavior',
      resource: o.resource,
      service: { action: o.action ?? {}, eventFirstSeen: o.first, eventLastSeen: o.last ?? o.first, count: 1, additionalInfo: { value: '{}', type: 'default' } },
      severity: 5,
      createdAt: o.last ?? o.first,
      updatedAt: o.last ?? o.first,
    },
    'finding.json',
  )[0];
  if (!f) throw new Error('no finding');
  return f;
}

/** A finding's resource: an instance by its id. */
const instance = (instanceId: string) => ({ resourceType: 'Instance', instanceDetails: { instanceId } });
/** A finding's network-connection action: the instance, function or task talking to or from `ip`. */
const connection = (direction: 'INBOUND' | 'OUTBOUND', ip: string) => ({ actionType: 'NETWORK_CONNECTION', networkConnectionAction: { connectionDirection: direction, remoteIpDetails: { ipAddressV4: ip } } });

const keyFinding = (key: string, user: string, first: string, ip: string, api = 'GetCallerIdentity') =>
  finding({ resource: { resourceType: 'AccessKey', accessKeyDetails: { accessKeyId: key, userName: user, userType: 'IAMUser' } }, action: { actionType: 'AWS_API_CALL', awsApiCallAction: { api, remoteIpDetails: { ipAddressV4: ip } } }, first });

function run(f: ReturnType<typeof finding>, s: Story): Storyline {
  return reconstruct(f, s.events, emptyStats(), { eventMap: loadDefaultEventMap() });
}
const ids = (st: Storyline) => st.steps.map((x) => x.eventId);

// ---------------------------------------------------------------------------

describe('usual sources and what the attacker holds', () => {
  test("a leaked key in daily use: only the uses from outside its usual sources are steps; a key the attacker minted is theirs even from the owner's address", () => {
    const s = new Story();
    const ci = { user: 'ci', key: 'AKIACI0000000000001' } as const;
    const noise = s.daily('2026-06-01', 12, 'DescribeInstances', ci, '198.51.100.10');
    const a1 = s.add('2026-06-11T22:00:00Z', 'GetCallerIdentity', ci, '203.0.113.9', { source: 'sts.amazonaws.com', ua: BOTO });
    const a2 = s.add('2026-06-11T22:01:00Z', 'CreateAccessKey', ci, '203.0.113.9', { source: 'iam.amazonaws.com', ua: BOTO, req: { userName: 'ci' }, resp: { accessKey: { accessKeyId: 'AKIABACKDOOR0000001', userName: 'ci' } } });
    // The new key used from the CI server's own address and client: still the attacker's.
    const a3 = s.add('2026-06-11T22:30:00Z', 'ListBuckets', { user: 'ci', key: 'AKIABACKDOOR0000001' }, '198.51.100.10', { source: 's3.amazonaws.com' });
    const st = run(keyFinding('AKIACI0000000000001', 'ci', '2026-06-11T22:00:00Z', '203.0.113.9'), s);
    expect(ids(st)).toEqual([a1, a2, a3]);
    expect(st.origin?.eventId).toBe(a1);
    for (const id of noise) expect(ids(st)).not.toContain(id);
  });

  test('a credential with no history at all is the attacker\'s in every use, from whatever address', () => {
    const s = new Story();
    const k = { user: 'svc', key: 'AKIAFRESH0000000001' } as const;
    const a = ['203.0.113.9', '198.18.4.4', '100.64.9.9'].map((ip, i) => s.add(`2026-06-11T22:0${i}:00Z`, 'ListUsers', k, ip, { source: 'iam.amazonaws.com' }));
    const st = run(keyFinding('AKIAFRESH0000000001', 'svc', '2026-06-11T22:01:00Z', '198.18.4.4'), s);
    expect(ids(st)).toEqual(a);
  });

  test('a key its owner created from their usual sources and leaked later: the CreateAccessKey is not a step and the chain stops there with a reason', () => {
    const s = new Story();
    const admin = { user: 'admin', key: 'AKIAADMIN0000000001' } as const;
    s.daily('2026-06-01', 12, 'ListUsers', admin, '198.51.100.20');
    const create = s.add('2026-06-11T10:00:00Z', 'CreateAccessKey', admin, '198.51.100.20', { source: 'iam.amazonaws.com', req: { userName: 'svc' }, resp: { accessKey: { accessKeyId: 'AKIASVC00000000001', userName: 'svc' } } });
    const a = s.add('2026-06-11T22:00:00Z', 'GetCallerIdentity', { user: 'svc', key: 'AKIASVC00000000001' }, '203.0.113.9', { source: 'sts.amazonaws.com' });
    const st = run(keyFinding('AKIASVC00000000001', 'svc', '2026-06-11T22:00:00Z', '203.0.113.9'), s);
    expect(ids(st)).toEqual([a]);
    expect(ids(st)).not.toContain(create);
    expect(st.coverage.gaps.join(' ')).toContain('issued legitimately');
  });
});

describe('every finding shape seeds the walk', () => {
  test('an instance finding without a key (SSH brute force): the intruder on the box (same key and address, another client) and whoever launched the instance', () => {
    const s = new Story();
    const attacker = { user: 'leaked', key: 'AKIALEAKED00000001' } as const;
    const run1 = s.add('2026-06-01T08:00:00Z', 'RunInstances', { user: 'ops', key: 'AKIAOPS00000000001' }, '198.51.100.30', {
      resp: { instancesSet: { items: [{ instanceId: 'i-0aaaabbbbcccc0001', iamInstanceProfile: { arn: `arn:aws:iam::${A}:instance-profile/web` } }] } },
    });
    const box = { role: 'web-role', session: 'i-0aaaabbbbcccc0001', key: 'ASIAWEB00000000001' } as const;
    const app = s.daily('2026-06-01', 12, 'GetObject', box, '54.10.10.10', BOTO);
    const intruder = s.add('2026-06-11T23:00:00Z', 'GetCallerIdentity', box, '54.10.10.10', { source: 'sts.amazonaws.com', ua: CLI });
    const intruder2 = s.add('2026-06-11T23:01:00Z', 'ListSecrets', box, '54.10.10.10', { source: 'secretsmanager.amazonaws.com', ua: CLI });
    s.add('2026-06-11T23:05:00Z', 'ListUsers', attacker, '203.0.113.9');
    const f = finding({
      type: 'UnauthorizedAccess:EC2/SSHBruteForce',
      resource: instance('i-0aaaabbbbcccc0001'),
      action: connection('INBOUND', '192.0.2.99'),
      first: '2026-06-11T21:00:00Z',
    });
    const st = run(f, s);
    expect(ids(st)).toEqual([intruder, intruder2]);
    for (const id of [...app, run1]) expect(ids(st)).not.toContain(id);
  });

  test("a mining finding on an instance without a role: the instance's launcher is upstream, judged by its own sources", () => {
    const s = new Story();
    const k = { user: 'dev', key: 'AKIADEV00000000001' } as const;
    s.daily('2026-06-01', 10, 'DescribeInstances', k, '198.51.100.40');
    const launch = s.add('2026-06-11T21:00:00Z', 'RunInstances', k, '203.0.113.9', { ua: BOTO, req: { instanceType: 'p3.16xlarge' }, resp: { instancesSet: { items: [{ instanceId: 'i-0feedfeedfeed0001' }] } } });
    const f = finding({
      type: 'CryptoCurrency:EC2/BitcoinTool.B',
      resource: instance('i-0feedfeedfeed0001'),
      action: connection('OUTBOUND', '192.0.2.66'),
      first: '2026-06-11T21:30:00Z',
    });
    const st = run(f, s);
    expect(ids(st)).toEqual([launch]);
    expect(st.steps[0]?.tactic?.id).toBe('TA0040');
  });

  test('a bucket finding without a key: the actor from the bucket, the API, the window and the address', () => {
    const s = new Story();
    const role = { role: 'etl', session: 'nightly', key: 'ASIAETL00000000001' } as const;
    s.daily('2026-06-01', 10, 'GetObject', role, '198.51.100.50');
    const colleague = s.add('2026-06-11T22:10:00Z', 'GetObject', { user: 'analyst', key: 'AKIAANALYST0000001' }, '198.51.100.60', { source: 's3.amazonaws.com', req: { bucketName: 'exports', key: 'a.csv' } });
    const a1 = s.add('2026-06-11T22:00:00Z', 'ListObjects', role, '203.0.113.9', { source: 's3.amazonaws.com', req: { bucketName: 'exports' } });
    const a2 = s.add('2026-06-11T22:10:00Z', 'GetObject', role, '203.0.113.9', { source: 's3.amazonaws.com', req: { bucketName: 'exports', key: 'b.csv' } });
    const f = finding({
      type: 'Exfiltration:S3/AnomalousBehavior',
      resource: { resourceType: 'S3Bucket', s3BucketDetails: [{ name: 'exports', type: 'Destination' }] },
      action: { actionType: 'AWS_API_CALL', awsApiCallAction: { api: 'GetObject', serviceName: 's3.amazonaws.com', remoteIpDetails: { ipAddressV4: '203.0.113.9' } } },
      first: '2026-06-11T22:10:00Z',
    });
    const st = run(f, s);
    expect(ids(st)).toEqual([a1, a2]);
    expect(ids(st)).not.toContain(colleague);
    expect(st.coverage.gaps.join(' ')).toContain('actor found from');
  });

  test('a Lambda finding without a key: the function\'s role sessions, judged by its usual addresses, and whoever changed its code', () => {
    const s = new Story();
    const fn = { role: 'resizer-role', session: 'image-resizer', key: 'ASIAFN000000000001' } as const;
    const own = s.daily('2026-06-01', 10, 'GetObject', fn, '3.80.1.1', SDK_JAVA);
    const k = { user: 'dev', key: 'AKIADEV00000000002' } as const;
    s.daily('2026-06-01', 10, 'ListFunctions20150331', k, '198.51.100.70');
    const change = s.add('2026-06-11T20:00:00Z', 'UpdateFunctionCode20150331v2', k, '203.0.113.9', {
      source: 'lambda.amazonaws.com',
      ua: BOTO,
      req: { functionName: 'image-resizer' },
      resp: { functionName: 'image-resizer', role: `arn:aws:iam::${A}:role/resizer-role` },
    });
    const after = s.add('2026-06-11T20:30:00Z', 'ListBuckets', fn, '3.80.1.1', { source: 's3.amazonaws.com', ua: SDK_JAVA });
    const f = finding({
      type: 'CryptoCurrency:Lambda/BitcoinTool.B',
      resource: { resourceType: 'Lambda', lambdaDetails: { functionName: 'image-resizer', role: `arn:aws:iam::${A}:role/resizer-role` } },
      action: connection('OUTBOUND', '192.0.2.67'),
      first: '2026-06-11T20:40:00Z',
    });
    const st = run(f, s);
    expect(ids(st)).toEqual([change, after]);
    for (const id of own) expect(ids(st)).not.toContain(id);
  });

  test("an ECS finding without a key: the task role's sessions named by the task, judged by their usual addresses, and whoever opened a shell in the task", () => {
    const s = new Story();
    const task = '0b2e61e5d3a04e2c8f7a9b1c2d3e4f50';
    const tr = { role: 'api-task-role', session: task, key: 'ASIATASK0000000001' } as const;
    const own = s.daily('2026-06-01', 10, 'GetObject', tr, '10.0.3.21', SDK_JAVA);
    const dev = { user: 'dev', key: 'AKIADEV00000000003' } as const;
    s.daily('2026-06-01', 10, 'ListTasks', dev, '198.51.100.70');
    const exec = s.add('2026-06-11T20:00:00Z', 'ExecuteCommand', dev, '203.0.113.9', {
      source: 'ecs.amazonaws.com',
      ua: BOTO,
      req: { cluster: 'prod', task, container: 'api', interactive: true, command: '/bin/sh' },
      resp: { clusterArn: `arn:aws:ecs:us-east-1:${A}:cluster/prod`, taskArn: `arn:aws:ecs:us-east-1:${A}:task/prod/${task}` },
    });
    const stolen = s.add('2026-06-11T20:10:00Z', 'ListBuckets', tr, '203.0.113.9', { source: 's3.amazonaws.com', ua: BOTO });
    const usual = s.add('2026-06-11T20:20:00Z', 'GetObject', tr, '10.0.3.21', { source: 's3.amazonaws.com', ua: SDK_JAVA });
    const f = finding({
      type: 'CryptoCurrency:Runtime/BitcoinTool.B',
      resource: { resourceType: 'ECSCluster', ecsClusterDetails: { name: 'prod', arn: `arn:aws:ecs:us-east-1:${A}:cluster/prod`, taskDetails: { arn: `arn:aws:ecs:us-east-1:${A}:task/prod/${task}`, definitionArn: `arn:aws:ecs:us-east-1:${A}:task-definition/api:7` } } },
      action: connection('OUTBOUND', '192.0.2.67'),
      first: '2026-06-11T20:30:00Z',
    });
    const st = run(f, s);
    expect(ids(st)).toEqual([exec, stolen]);
    expect(ids(st)).not.toContain(usual);
    for (const id of own) expect(ids(st)).not.toContain(id);
  });

  test('an RDS login finding without a key: the API calls in its window from the address it names, and that credential\'s other unusual uses', () => {
    const s = new Story();
    const k = { user: 'dba', key: 'AKIADBA00000000001' } as const;
    s.daily('2026-06-01', 10, 'DescribeDBInstances', k, '198.51.100.90');
    const other = { user: 'ops', key: 'AKIAOPS00000000001' } as const;
    const busy = s.add('2026-06-11T21:05:00Z', 'DescribeDBInstances', other, '198.51.100.91', { source: 'rds.amazonaws.com' });
    const reset = s.add('2026-06-11T21:07:00Z', 'ModifyDBInstance', k, '203.0.113.40', { source: 'rds.amazonaws.com', ua: BOTO, req: { dBInstanceIdentifier: 'orders-db', masterUserPassword: '****' } });
    const snap = s.add('2026-06-11T21:20:00Z', 'CreateDBSnapshot', k, '203.0.113.40', { source: 'rds.amazonaws.com', ua: BOTO, req: { dBInstanceIdentifier: 'orders-db' } });
    const f = finding({
      type: 'CredentialAccess:RDS/AnomalousBehavior.SuccessfulLogin',
      resource: { resourceType: 'RDSDBInstance', rdsDbInstanceDetails: { dbInstanceIdentifier: 'orders-db', engine: 'Aurora PostgreSQL' }, rdsDbUserDetails: { user: 'postgres', application: 'psql', database: 'orders', ssl: 'on', authMethod: 'password' } },
      action: { actionType: 'RDS_LOGIN_ATTEMPT', rdsLoginAttemptAction: { remoteIpDetails: { ipAddressV4: '203.0.113.40' } } },
      first: '2026-06-11T21:10:00Z',
    });
    const st = run(f, s);
    expect(ids(st)).toEqual([reset, snap]);
    expect(ids(st)).not.toContain(busy);
  });

  test("an EKS finding names a Kubernetes user that is an IAM role session: that session's unusual uses", () => {
    const s = new Story();
    const ops = { role: 'EksOpsRole', session: 'ops-laptop', key: 'ASIAEKS00000000001' } as const;
    s.daily('2026-06-01', 10, 'DescribeCluster', ops, '198.51.100.80');
    const a = s.add('2026-06-11T21:00:00Z', 'ListClusters', ops, '203.0.113.30', { source: 'eks.amazonaws.com', ua: BOTO });
    const f = finding({
      type: 'Execution:Kubernetes/ExecInKubeSystemPod',
      resource: { resourceType: 'EKSCluster', kubernetesDetails: { kubernetesUserDetails: { username: `arn:aws:sts::${A}:assumed-role/EksOpsRole/ops-laptop` } } },
      action: { actionType: 'KUBERNETES_API_CALL', kubernetesApiCallAction: { verb: 'create', sourceIPs: ['203.0.113.30'] } },
      first: '2026-06-11T21:05:00Z',
    });
    expect(ids(run(f, s))).toEqual([a]);
  });

  test('an attack sequence: the records its signals name are steps, and its actors seed the walk', () => {
    const s = new Story();
    const k = { user: 'dev', key: 'AKIADEV00000000003' } as const;
    s.daily('2026-06-01', 10, 'ListBuckets', k, '198.51.100.90');
    const named = s.add('2026-06-11T21:00:00Z', 'DeleteObjects', k, '198.51.100.90', { source: 's3.amazonaws.com' });
    const other = s.add('2026-06-11T21:01:00Z', 'GetBucketPolicy', k, '203.0.113.40', { source: 's3.amazonaws.com' });
    const f = parseFindings(
      {
        schemaVersion: '2.0', accountId: A, region: 'us-east-1', id: 'seq', arn: `arn:aws:guardduty:us-east-1:${A}:detector/d0/finding/seq`, type: 'AttackSequence:S3/CompromisedData',
        resource: {}, severity: 9, createdAt: '2026-06-11T21:10:00Z', updatedAt: '2026-06-11T21:10:00Z',
        service: {
          eventFirstSeen: '2026-06-11T21:00:00Z', eventLastSeen: '2026-06-11T21:01:00Z',
          detection: { sequence: { uid: 'u', actors: [{ id: 'a1', session: { uid: 's' }, user: { name: 'dev', uid: 'AIDADEV', type: 'IAMUser', credentialUid: 'AKIADEV00000000003', account: { uid: A } } }], signals: [{ uid: named, type: 'CLOUD_TRAIL', name: 'DeleteObjects' }] } },
        },
      },
      'seq.json',
    )[0];
    if (!f) throw new Error('no finding');
    const st = run(f, s);
    expect(ids(st)).toContain(named);
    expect(ids(st)).toContain(other);
    expect(st.steps.find((x) => x.eventId === named)?.reason).toBe('attack-sequence-signal');
  });
});

describe('control of compute, services and copies', () => {
  const stolenKey = { role: 'app-role', session: 'i-0abcabcabcabc0001', key: 'ASIAAPP00000000001', cd: '2026-06-11T20:00:00Z' } as const;
  function instanceStory(controlAt: string): { s: Story; control: string; admin: string; misuse: string } {
    const s = new Story();
    const ops = { user: 'ops', key: 'AKIAOPS00000000002' } as const;
    s.daily('2026-06-01', 10, 'DescribeInstances', ops, '198.51.100.11');
    s.daily('2026-06-01', 12, 'GetObject', stolenKey, '54.20.20.20', BOTO);
    // An administrator's legitimate session on the same instance, days earlier.
    const admin = s.add('2026-06-08T10:00:00Z', 'StartSession', { user: 'admin', key: 'AKIAADMIN0000000002' }, '198.51.100.12', { source: 'ssm.amazonaws.com', req: { target: 'i-0abcabcabcabc0001' } });
    const control = s.add(controlAt, 'SendCommand', ops, '203.0.113.50', {
      source: 'ssm.amazonaws.com',
      ua: BOTO,
      req: { instanceIds: ['i-0abcabcabcabc0001'], documentName: 'AWS-RunShellScript' },
      resp: { command: { commandId: 'cmd-1' } },
    });
    const misuse = s.add('2026-06-11T21:00:00Z', 'ListSecrets', stolenKey, '203.0.113.51', { source: 'secretsmanager.amazonaws.com', ua: CLI });
    return { s, control, admin, misuse };
  }
  const exfilFinding = () =>
    finding({
      type: 'UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS',
      resource: { resourceType: 'AccessKey', accessKeyDetails: { accessKeyId: 'ASIAAPP00000000001', principalId: 'AROAEXAMPLE:i-0abcabcabcabc0001', userName: 'app-role', userType: 'AssumedRole' } },
      action: { actionType: 'AWS_API_CALL', awsApiCallAction: { api: 'ListSecrets', remoteIpDetails: { ipAddressV4: '203.0.113.51' } } },
      first: '2026-06-11T21:00:00Z',
    });

  test('who took control is upstream: Run Command on the instance shortly before its role is misused is a step (Credential Access), the administrator\'s session days earlier is not', () => {
    const { s, control, admin, misuse } = instanceStory('2026-06-11T20:50:00Z');
    const st = run(exfilFinding(), s);
    expect(ids(st)).toEqual([control, misuse]);
    expect(ids(st)).not.toContain(admin);
    expect(st.steps[0]?.reason).toBe('took-control');
    expect(st.steps[0]?.tactic?.id).toBe('TA0006');
  });

  test('control more than 12 hours before the misuse is outside the credentials\' lifetime: not upstream', () => {
    const { s, control, misuse } = instanceStory('2026-06-11T08:00:00Z');
    const st = run(exfilFinding(), s);
    expect(ids(st)).toEqual([misuse]);
    expect(ids(st)).not.toContain(control);
  });

  test('a forward-access call (a key of its own, the same principal ARN, within 60 s) belongs to the attacker\'s call that caused it', () => {
    const s = new Story();
    const k = { user: 'dev', key: 'AKIADEV00000000004' } as const;
    const get = s.add('2026-06-11T21:00:00Z', 'GetSecretValue', k, '203.0.113.9', { source: 'secretsmanager.amazonaws.com' });
    const fas = s.add('2026-06-11T21:00:01Z', 'Decrypt', { user: 'dev', key: 'ASIAFAS00000000001', cd: '2026-06-11T21:00:01Z' }, 'secretsmanager.amazonaws.com', {
      source: 'kms.amazonaws.com',
      invokedBy: 'secretsmanager.amazonaws.com',
      ua: 'secretsmanager.amazonaws.com',
    });
    const late = s.add('2026-06-11T21:05:00Z', 'Decrypt', { user: 'dev', key: 'ASIAFAS00000000002', cd: '2026-06-11T21:05:00Z' }, 'secretsmanager.amazonaws.com', {
      source: 'kms.amazonaws.com',
      invokedBy: 'secretsmanager.amazonaws.com',
    });
    const st = run(keyFinding('AKIADEV00000000004', 'dev', '2026-06-11T21:00:00Z', '203.0.113.9', 'GetSecretValue'), s);
    expect(ids(st)).toEqual([get, fas]);
    expect(ids(st)).not.toContain(late);
    expect(st.steps[1]?.sourceIPAddress).toBe('secretsmanager.amazonaws.com');
    expect(st.attackerSources.map((x) => x.ip)).toEqual(['203.0.113.9']);
  });

  test("CloudFormation's calls with the caller's own key belong to the CreateStack that caused them, not to the key's latest legitimate call", () => {
    const s = new Story();
    const ci = { user: 'ci', key: 'AKIACI0000000000003' } as const;
    s.daily('2026-06-01', 12, 'DescribeStacks', ci, '198.51.100.15');
    const create = s.add('2026-06-11T21:00:00Z', 'CreateStack', ci, '203.0.113.9', { source: 'cloudformation.amazonaws.com', ua: BOTO, req: { stackName: 'x' } });
    s.add('2026-06-11T21:00:10Z', 'DescribeStacks', ci, '198.51.100.15', { source: 'cloudformation.amazonaws.com' });
    const cfn = (t: string, name: string) => s.add(t, name, ci, 'cloudformation.amazonaws.com', { source: 'iam.amazonaws.com', invokedBy: 'cloudformation.amazonaws.com', ua: 'cloudformation.amazonaws.com', req: { userName: 'backdoor' } });
    const c1 = cfn('2026-06-11T21:00:20Z', 'CreateUser');
    const c2 = cfn('2026-06-11T21:03:00Z', 'CreateAccessKey');
    const st = run(keyFinding('AKIACI0000000000003', 'ci', '2026-06-11T21:00:00Z', '203.0.113.9', 'CreateStack'), s);
    expect(ids(st)).toEqual([create, c1, c2]);
    expect(st.steps[1]?.reason).toBe('service-for-attacker');
  });

  test('both copies of a cross-account AssumeRole are steps, and the minted session is held', () => {
    const s = new Story();
    const k = { user: 'dev', key: 'AKIADEV00000000005' } as const;
    const resp = { credentials: { accessKeyId: 'ASIAXACCT000000001' }, assumedRoleUser: { arn: 'arn:aws:sts::999988887777:assumed-role/Admin/x' } };
    const caller = s.add('2026-06-11T21:00:00Z', 'AssumeRole', k, '203.0.113.9', { source: 'sts.amazonaws.com', req: { roleArn: 'arn:aws:iam::999988887777:role/Admin', roleSessionName: 'x' }, resp, shared: 'shared-1' });
    const copy = s.add('2026-06-11T21:00:00Z', 'AssumeRole', { account: A }, '203.0.113.9', { source: 'sts.amazonaws.com', req: { roleArn: 'arn:aws:iam::999988887777:role/Admin', roleSessionName: 'x' }, resp, shared: 'shared-1' });
    const use = s.add('2026-06-11T21:01:00Z', 'ListUsers', { role: 'Admin', session: 'x', key: 'ASIAXACCT000000001' }, '198.51.100.99', { source: 'iam.amazonaws.com' });
    const st = run(keyFinding('AKIADEV00000000005', 'dev', '2026-06-11T21:00:00Z', '203.0.113.9', 'AssumeRole'), s);
    expect(new Set(ids(st))).toEqual(new Set([caller, copy, use]));
    expect(st.steps.find((x) => x.eventId === copy)?.reason).toBe('cross-account-copy');
  });

  test('the latest mint wins: a delivery after a legitimate redeploy of the function is not the attacker\'s', () => {
    const s = new Story();
    const k = { user: 'dev', key: 'AKIADEV00000000006' } as const;
    const ci = { user: 'ci', key: 'AKIACI0000000000002' } as const;
    s.daily('2026-06-01', 10, 'ListFunctions20150331', ci, '198.51.100.5');
    const change = (who: typeof k | typeof ci, t: string, ip: string) =>
      s.add(t, 'UpdateFunctionCode20150331v2', who, ip, { source: 'lambda.amazonaws.com', req: { functionName: 'fn' }, resp: { functionName: 'fn', role: `arn:aws:iam::${A}:role/fn-role` } });
    const delivery = (t: string, key: string) => s.add(t, 'AssumeRole', { service: 'lambda.amazonaws.com' }, 'lambda.amazonaws.com', { source: 'sts.amazonaws.com', req: { roleSessionName: 'fn', roleArn: `arn:aws:iam::${A}:role/fn-role` }, resp: { credentials: { accessKeyId: key } } });
    const bad = change(k, '2026-06-11T20:00:00Z', '203.0.113.9');
    const d1 = delivery('2026-06-11T20:01:00Z', 'ASIAFNATT000000001');
    const fix = change(ci, '2026-06-11T22:00:00Z', '198.51.100.5');
    const d2 = delivery('2026-06-11T22:01:00Z', 'ASIAFNOK0000000001');
    const st = run(keyFinding('AKIADEV00000000006', 'dev', '2026-06-11T20:00:00Z', '203.0.113.9', 'UpdateFunctionCode20150331v2'), s);
    expect(ids(st)).toEqual([bad, d1]);
    expect(ids(st)).not.toContain(fix);
    expect(ids(st)).not.toContain(d2);
  });
});
