import * as fs from 'fs';
import { createRequire } from 'module';
import * as path from 'path';
import {
  AmbiguousFindingError,
  FindingInputError,
  guardDutyTypeOfAsffType,
  parseFindings,
  parseFindingText,
  selectFinding,
} from '../../src/findings/normalize';
import type { FindingForm, NormalizedFinding } from '../../src/model/finding';

const FIXTURES = path.resolve(__dirname, '../fixtures/findings');
const SHARED = path.resolve(__dirname, '../../../shared');
const HAVE_SHARED = fs.existsSync(SHARED);
if (!HAVE_SHARED) process.stdout.write('shared/ not found: skipping scenario-finding tests\n');
const describeShared = HAVE_SHARED ? describe : describe.skip;

function readJson(file: string): unknown {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as unknown;
}
function fixture(name: string): unknown {
  return readJson(path.join(FIXTURES, name));
}
function parseFixture(name: string): NormalizedFinding[] {
  return parseFindings(fixture(name), name);
}
function ips(f: NormalizedFinding): string[] {
  return f.remoteIps.map((r) => r.ip);
}
/** What the error thrown by `fn` says (and that it is a FindingInputError). */
function errorOf(fn: () => unknown): FindingInputError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(FindingInputError);
    return e as FindingInputError;
  }
  throw new Error('no error thrown');
}
/** Keys to PascalCase, as the SDKs' GetFindings output writes them. */
function pascal(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(pascal);
  if (v === null || typeof v !== 'object') return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) out[k.charAt(0).toUpperCase() + k.slice(1)] = pascal(x);
  return out;
}

interface Expect {
  form: FindingForm;
  id: string;
  type: string;
  accountId: string;
  region: string;
  resourceType?: string;
  actionType?: string;
  api?: string;
  accessKeyId?: string;
  userName?: string;
  userType?: string;
  sessionName?: string;
  instanceId?: string;
  instanceProfileArn?: string;
  remoteIps: string[];
  bucketNames?: string[];
  sample: boolean;
}

function check(f: NormalizedFinding | undefined, want: Expect): void {
  expect(f).toBeDefined();
  if (!f) return;
  expect({
    form: f.form,
    id: f.id,
    type: f.type,
    accountId: f.accountId,
    region: f.region,
    resourceType: f.resourceType,
    actionType: f.actionType,
    api: f.api,
    accessKeyId: f.actor.accessKeyId,
    userName: f.actor.userName,
    userType: f.actor.userType,
    sessionName: f.actor.sessionName,
    instanceId: f.instanceId,
    instanceProfileArn: f.instanceProfileArn,
    remoteIps: ips(f),
    bucketNames: f.bucketNames,
    sample: f.sample,
  }).toEqual({ bucketNames: [], ...want });
  expect(f.arn.endsWith(`/finding/${f.id}`) || f.arn === '').toBe(true);
}

describe('fixtures: one per resource type and action type', () => {
  const A = '210987654321';
  const cases: Array<[string, Expect]> = [
    ['accesskey-aws-api-call-ipv6.json', {
      form: 'guardduty-native', id: 'a1c7e2f09b3d4e5f6a7b8c9d0e1f2a3b', type: 'Discovery:IAMUser/AnomalousBehavior', accountId: A, region: 'eu-west-1',
      resourceType: 'AccessKey', actionType: 'AWS_API_CALL', api: 'ListSecrets', accessKeyId: 'ASIATESTEXAMPLE7QWER', userName: 'DeployRole',
      userType: 'AssumedRole', sessionName: 'deploy-session', remoteIps: ['2001:db8::7a'], sample: false,
    }],
    ['instance-network-connection.json', {
      form: 'guardduty-native', id: 'b2d8f3a1c4e5f60718293a4b5c6d7e8f', type: 'UnauthorizedAccess:EC2/SSHBruteForce', accountId: A, region: 'eu-west-1',
      resourceType: 'Instance', actionType: 'NETWORK_CONNECTION', instanceId: 'i-0b1c2d3e4f5a6b7c8',
      instanceProfileArn: `arn:aws:iam::${A}:instance-profile/bastion-profile`, remoteIps: ['198.51.100.23'], sample: false,
    }],
    ['instance-port-probe.json', {
      form: 'guardduty-native', id: 'c3e9a4b2d5f6071829304a5b6c7d8e9f', type: 'Recon:EC2/PortProbeUnprotectedPort', accountId: A, region: 'eu-west-1',
      resourceType: 'Instance', actionType: 'PORT_PROBE', instanceId: 'i-0c2d3e4f5a6b7c8d9',
      remoteIps: ['203.0.113.21', '2001:db8:85a3::8a2e:370:7334'], sample: false,
    }],
    ['instance-dns-request.json', {
      form: 'guardduty-native', id: 'd4f0b5c3e6a7182930415b6c7d8e9f0a', type: 'Backdoor:EC2/C&CActivity.B!DNS', accountId: A, region: 'eu-west-1',
      resourceType: 'Instance', actionType: 'DNS_REQUEST', instanceId: 'i-0d3e4f5a6b7c8d9e0',
      instanceProfileArn: `arn:aws:iam::${A}:instance-profile/worker-profile`, remoteIps: [], sample: false,
    }],
    ['s3bucket-aws-api-call.json', {
      form: 'guardduty-native', id: 'e5a1c6d4f7b8293a41526c7d8e9f0a1b', type: 'Exfiltration:S3/AnomalousBehavior', accountId: A, region: 'eu-west-1',
      resourceType: 'S3Bucket', actionType: 'AWS_API_CALL', api: 'GetObject', accessKeyId: 'AKIATESTEXAMPLE4ASDF', userName: 'report-exporter',
      userType: 'IAMUser', remoteIps: ['203.0.113.88'], bucketNames: ['acme-customer-exports'], sample: false,
    }],
    ['eks-kubernetes-api-call.json', {
      form: 'guardduty-native', id: 'f6b2d7e5a8c93a4b52637d8e9f0a1b2c', type: 'Execution:Kubernetes/ExecInKubeSystemPod', accountId: A, region: 'eu-west-1',
      resourceType: 'EKSCluster', actionType: 'KUBERNETES_API_CALL', api: 'create', remoteIps: ['203.0.113.30', '198.51.100.77'], sample: false,
    }],
    ['ecs-cluster-network-connection.json', {
      form: 'guardduty-native', id: '07c3e8f6b9da4b5c63748e9f0a1b2c3d', type: 'CryptoCurrency:Runtime/BitcoinTool.B', accountId: A, region: 'eu-west-1',
      resourceType: 'ECSCluster', actionType: 'NETWORK_CONNECTION', remoteIps: ['192.0.2.66'], sample: false,
    }],
    ['container-runtime-no-action.json', {
      form: 'guardduty-native', id: '18d4f9a7c0eb5c6d74859f0a1b2c3d4e', type: 'PrivilegeEscalation:Runtime/DockerSocketAccessed', accountId: A, region: 'eu-west-1',
      resourceType: 'Container', instanceId: 'i-0e4f5a6b7c8d9e0f1', instanceProfileArn: `arn:aws:iam::${A}:instance-profile/ci-node-profile`,
      remoteIps: [], sample: false,
    }],
    ['lambda-network-connection.json', {
      form: 'guardduty-native', id: '29e5a0b8d1fc6d7e8596a0b1c2d3e4f5', type: 'CryptoCurrency:Lambda/BitcoinTool.B', accountId: A, region: 'eu-west-1',
      resourceType: 'Lambda', actionType: 'NETWORK_CONNECTION', remoteIps: ['192.0.2.67'], sample: false,
    }],
    ['rds-login-attempt.json', {
      form: 'guardduty-native', id: '3af6b1c9e2ad7e8f96a7b1c2d3e4f5a6', type: 'CredentialAccess:RDS/AnomalousBehavior.SuccessfulBruteForce', accountId: A,
      region: 'eu-west-1', resourceType: 'RDSDBInstance', actionType: 'RDS_LOGIN_ATTEMPT', remoteIps: ['203.0.113.99'], sample: false,
    }],
    ['unknown-resource-no-action.json', {
      form: 'guardduty-native', id: '4b07c2dafbe8f9a07b8c2d3e4f5a6b7c', type: 'Object:S3/MaliciousFile', accountId: A, region: 'eu-west-1',
      resourceType: 'S3Object', remoteIps: [], bucketNames: ['acme-uploads'], sample: false,
    }],
    ['sample-additional-info-string.json', {
      form: 'guardduty-native', id: '5c18d3ebac09fab18c9d3e4f5a6b7c8d', type: 'Policy:IAMUser/RootCredentialUsage', accountId: A, region: 'eu-west-1',
      resourceType: 'AccessKey', actionType: 'AWS_API_CALL', userType: 'Root', remoteIps: ['198.51.100.0'], sample: true,
    }],
    ['attack-sequence-iam.json', {
      form: 'guardduty-native', id: '8c258d654378414b9bc26f61a93eb816', type: 'AttackSequence:IAM/CompromisedCredentials', accountId: A, region: 'us-east-1',
      resourceType: 'AttackSequence', accessKeyId: 'AKIATESTEXAMPLE9ZXCV', userName: 'john_doe', userType: 'IAMUser', remoteIps: ['203.0.113.201'], sample: false,
    }],
    ['securityhub-imported-event.json', {
      form: 'asff-imported-event', id: 'bf3a8c2b4d5e6f7a8b9c0d1e2f3a4b5c', type: 'UnauthorizedAccess:EC2/SSHBruteForce', accountId: '345678901234',
      region: 'eu-central-1', resourceType: 'Instance', actionType: 'NETWORK_CONNECTION', instanceId: 'i-0b7c8d9e0f1a2b3c4', remoteIps: ['203.0.113.250'], sample: false,
    }],
  ];

  test.each(cases)('%s', (name, want) => {
    const found = parseFixture(name);
    expect(found).toHaveLength(1);
    check(found[0], want);
  });

  test('PascalCase (SDK GetFindings) gives the same finding as camelCase, for every native fixture', () => {
    for (const [name] of cases.filter(([n]) => !n.startsWith('securityhub-'))) {
      const camel = parseFixture(name)[0];
      const viaSdk = parseFindings({ Findings: [pascal(fixture(name))] }, name)[0];
      expect(viaSdk).toEqual({ ...camel, form: 'guardduty-getfindings' });
    }
  });

  test('camelCase inside "Findings" (AWS CLI output) is accepted too', () => {
    const got = parseFindings({ Findings: [fixture('instance-port-probe.json')] }, 'cli.json');
    expect(got[0]?.form).toBe('guardduty-getfindings');
    expect(got[0] && ips(got[0])).toEqual(['203.0.113.21', '2001:db8:85a3::8a2e:370:7334']);
  });

  test('RemoteIp.from names where each address was found', () => {
    expect(parseFixture('instance-port-probe.json')[0]?.remoteIps).toEqual([
      { ip: '203.0.113.21', version: 4, from: 'service.action.portProbeAction.portProbeDetails[0].remoteIpDetails' },
      { ip: '2001:db8:85a3::8a2e:370:7334', version: 6, from: 'service.action.portProbeAction.portProbeDetails[1].remoteIpDetails' },
    ]);
    expect(parseFixture('eks-kubernetes-api-call.json')[0]?.remoteIps).toEqual([
      { ip: '203.0.113.30', version: 4, from: 'service.action.kubernetesApiCallAction.remoteIpDetails' },
      { ip: '198.51.100.77', version: 4, from: 'service.action.kubernetesApiCallAction.sourceIPs[1]' },
    ]);
  });

  test('times, severity and count', () => {
    const f = parseFixture('attack-sequence-iam.json')[0];
    expect(f).toMatchObject({
      severity: 9,
      count: 1,
      createdAt: '2025-02-25T20:40:06.721Z',
      updatedAt: '2025-02-25T20:40:06.721Z',
      eventFirstSeen: '2025-02-25T20:18:20Z',
      eventLastSeen: '2025-02-25T20:25:00Z',
      partition: 'aws',
      arn: 'arn:aws:guardduty:us-east-1:210987654321:detector/5ec4b3a2f1e0d9c8b7a6f5e4d3c2b1a0/finding/8c258d654378414b9bc26f61a93eb816',
    });
  });

  test('attack sequence: actors, keys, CloudTrail event ids, signals, endpoints', () => {
    const seq = parseFixture('attack-sequence-iam.json')[0]?.attackSequence;
    expect(seq?.actorArns).toEqual([
      'arn:aws:iam::210987654321:user/john_doe',
      'arn:aws:iam::210987654321:role/BackdoorRole',
      'arn:aws:sts::210987654321:assumed-role/BackdoorRole/backdoor',
    ]);
    expect(seq?.accessKeyIds).toEqual(['AKIATESTEXAMPLE9ZXCV', 'ASIATESTEXAMPLE1POIU']);
    expect(seq?.eventIds).toEqual([
      '7f1c5e3a-2b4d-4c6e-8f0a-1b3c5d7e9f02',
      '0d6b2f8e-4a1c-4e3b-9d5f-7a2c4e6b8d13',
      'b8e4a0c6-3d5f-4b7a-8c9e-0f2a4c6e8a24',
    ]);
    expect(seq?.uid).toBe('210987654321-8c258d65-4378-414b-9bc2-6f61a93eb816');
    expect(seq?.signals?.map((s) => [s.type, s.name, s.firstSeenAt])).toEqual([
      ['FINDING', 'UnauthorizedAccess:IAMUser/TorIPCaller', '2025-02-25T20:20:00Z'],
      ['CLOUD_TRAIL', 'ListUsers', '2025-02-25T20:18:20Z'],
      ['CLOUD_TRAIL', 'AttachRolePolicy', '2025-02-25T20:21:40Z'],
      ['CLOUD_TRAIL', 'DeleteTrail', '2025-02-25T20:25:00Z'],
    ]);
    expect(seq?.signals?.[3]?.indicators).toEqual({ ATTACK_TACTIC: ['Defense Evasion'], HIGH_RISK_API: ['cloudtrail:DeleteTrail'] });
    expect(seq?.indicators?.ATTACK_TACTIC).toEqual(['Discovery', 'Persistence', 'Privilege Escalation', 'Defense Evasion']);
  });

  test('a Custom Action event with two findings yields both, in order', () => {
    const found = parseFixture('securityhub-custom-action-two-findings.json');
    expect(found).toHaveLength(2);
    check(found[0], {
      form: 'asff-custom-action-event', id: '9d1e6a0f2b3c4d5e6f7a8b9c0d1e2f3a', type: 'UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS',
      accountId: '123456789012', region: 'us-east-1', resourceType: 'AccessKey', actionType: 'AWS_API_CALL', api: 'ListBuckets',
      accessKeyId: 'ASIATESTEXAMPLE5MNBV', userName: 'web-role', userType: 'AssumedRole', sessionName: 'i-0f5a6b7c8d9e0f1a2',
      instanceId: 'i-0f5a6b7c8d9e0f1a2', instanceProfileArn: 'arn:aws:iam::123456789012:instance-profile/web-profile', remoteIps: ['203.0.113.12'], sample: false,
    });
    check(found[1], {
      form: 'asff-custom-action-event', id: 'ae2f7b1a3c4d5e6f7a8b9c0d1e2f3a4b', type: 'Recon:EC2/PortProbeUnprotectedPort', accountId: '123456789012',
      region: 'us-east-1', resourceType: 'Instance', actionType: 'PORT_PROBE', instanceId: 'i-0a6b7c8d9e0f1a2b3', remoteIps: ['192.0.2.144', '192.0.2.145'], sample: false,
    });
    expect(found[0]).toMatchObject({ severity: 8, count: 7, eventFirstSeen: '2026-03-17T10:00:00Z', createdAt: '2026-03-17T10:12:31.507Z' });
  });
});

describe('odd values inside findings', () => {
  function withApiCall(remoteIpDetails: unknown, additionalInfo: unknown = { value: '{}', type: 'default' }): unknown {
    const f = fixture('s3bucket-aws-api-call.json') as { service: Record<string, unknown> };
    const action = f.service.action as { awsApiCallAction: Record<string, unknown> };
    action.awsApiCallAction.remoteIpDetails = remoteIpDetails;
    f.service.additionalInfo = additionalInfo;
    return f;
  }

  test.each<[string, unknown, string[]]>([
    ['zero-padded IPv4 octets are decimal', { ipAddressV4: '203.000.113.007' }, ['203.0.113.7']],
    ['v4 and v6 both kept', { ipAddressV4: '203.0.113.7', ipAddressV6: '2001:0DB8::0001' }, ['203.0.113.7', '2001:db8::1']],
    ['unspecified address dropped', { ipAddressV4: '0.0.0.0' }, []],
    ['placeholder dropped', { ipAddressV4: 'GeneratedFindingIpAddress' }, []],
    ['service name is not an address', { ipAddressV4: 'ec2.amazonaws.com' }, []],
    ['remoteIpDetails null', null, []],
  ])('%s', (_name, details, want) => {
    const f = parseFindings(withApiCall(details), 'f.json')[0];
    expect(f && ips(f)).toEqual(want);
  });

  test.each<[string, unknown, boolean]>([
    ['sample: true', { sample: true }, true],
    ['sample: "true"', { sample: 'true' }, true],
    ['value JSON string with "sample":true', { value: '{"sample":true}', type: 'default' }, true],
    ['value JSON string with spaces', { value: '{ "sample" : true, "unusual": {} }', type: 'default' }, true],
    ['value JSON string with "sample":false', { value: '{"sample":false}', type: 'default' }, false],
    ['value bad JSON still naming sample', { value: '{"sample":true, broken', type: 'default' }, true],
    ['value bad JSON', { value: '{not json', type: 'default' }, false],
    ['value empty', { value: '', type: 'default' }, false],
    ['value {}', { value: '{}', type: 'default' }, false],
    ['absent', undefined, false],
    ['additionalInfo a JSON string', '{"sample":true}', true],
  ])('sample flag: %s', (_name, additionalInfo, want) => {
    expect(parseFindings(withApiCall({ ipAddressV4: '203.0.113.7' }, additionalInfo), 'f.json')[0]?.sample).toBe(want);
  });

  test('GuardDuty placeholders become undefined', () => {
    const f = parseFixture('sample-additional-info-string.json')[0];
    expect(f?.actor).toEqual({ userType: 'Root' });
    expect(f?.api).toBeUndefined();
    expect(f?.apiServiceName).toBeUndefined();
  });

  test.each<[string, string[] | undefined, string[] | undefined]>([
    ['lambda-network-connection.json', ['image-resizer'], undefined],
    ['ecs-cluster-network-connection.json', ['8d4f2a6c1e3b4f7a9c0d2e5b8a1f3c6d'], undefined],
    ['eks-kubernetes-api-call.json', undefined, ['arn:aws:sts::210987654321:assumed-role/EksOpsRole/ops-laptop']],
    ['instance-network-connection.json', undefined, undefined],
  ])('%s: the compute and IAM principals it names (computeIds %p, principalArns %p)', (name, computeIds, principalArns) => {
    const f = parseFixture(name)[0];
    expect(f?.computeIds).toEqual(computeIds);
    expect(f?.principalArns).toEqual(principalArns);
    // PascalCase (SDK) gives the same.
    const p = parseFindings(pascal(fixture(name)), name)[0];
    expect(p?.computeIds).toEqual(computeIds);
  });

  test('a finding with no resource and no service at all still reads', () => {
    const f = parseFindings(
      { schemaVersion: '2.0', id: 'abc', arn: 'arn:aws-us-gov:guardduty:us-gov-west-1:123456789012:detector/d1/finding/abc', type: 'Recon:IAMUser/UserPermissions' },
      'f.json',
    )[0];
    expect(f).toEqual({
      form: 'guardduty-native', id: 'abc', arn: 'arn:aws-us-gov:guardduty:us-gov-west-1:123456789012:detector/d1/finding/abc', type: 'Recon:IAMUser/UserPermissions',
      accountId: '123456789012', region: 'us-gov-west-1', partition: 'aws-us-gov', actor: {}, remoteIps: [], bucketNames: [], sample: false,
    });
  });

  test('an instance-credential principal AROA…:i-… gives session and instance', () => {
    const f = parseFindings(
      {
        id: 'x1', accountId: '123456789012', region: 'eu-west-1', type: 'UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.InsideAWS',
        resource: { resourceType: 'AccessKey', accessKeyDetails: { accessKeyId: 'ASIAEXAMPLEEXAMPLE01', principalId: 'AROAEXAMPLEROLE:i-0123456789abcdef0', userName: 'app-role', userType: 'AssumedRole' } },
        service: { action: { awsApiCallAction: { api: 'ListBuckets', remoteAccountDetails: { accountId: '999988887777', affiliated: false } } } },
      },
      'f.json',
    )[0];
    expect(f?.actor).toEqual({
      accessKeyId: 'ASIAEXAMPLEEXAMPLE01', principalId: 'AROAEXAMPLEROLE:i-0123456789abcdef0', userName: 'app-role', userType: 'AssumedRole', sessionName: 'i-0123456789abcdef0',
    });
    expect(f?.instanceId).toBe('i-0123456789abcdef0');
    expect(f?.actionType).toBe('AWS_API_CALL');
    expect(f?.arn).toBe('');
  });
});

describe('ASFF', () => {
  test.each<[string, string | undefined]>([
    ['TTPs/Persistence/Persistence:IAMUser-AnomalousBehavior', 'Persistence:IAMUser/AnomalousBehavior'],
    ['TTPs/Initial Access/UnauthorizedAccess:EC2-SSHBruteForce', 'UnauthorizedAccess:EC2/SSHBruteForce'],
    ['Unusual Behaviors/User/UnauthorizedAccess:IAMUser-ConsoleLogin', 'UnauthorizedAccess:IAMUser/ConsoleLogin'],
    ['TTPs/Command and Control/Backdoor:EC2-C&CActivity.B!DNS', 'Backdoor:EC2/C&CActivity.B!DNS'],
    ['Effects/Data Exfiltration/Exfiltration:S3-AnomalousBehavior', 'Exfiltration:S3/AnomalousBehavior'],
    ['TTPs/Initial Access/UnauthorizedAccess:IAMUser-InstanceCredentialExfiltration.OutsideAWS', 'UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS'],
    ['TTPs/Discovery/Recon:IAMUser/UserPermissions', 'Recon:IAMUser/UserPermissions'],
    ['Unusual Behaviors/User', undefined],
    ['Software and Configuration Checks/Vulnerabilities/CVE', undefined],
  ])('type %s → %s', (asffType, want) => {
    expect(guardDutyTypeOfAsffType(asffType)).toBe(want);
  });

  function asffOf(name: string, index = 0): Record<string, unknown> {
    const ev = fixture(name) as { detail: { findings: Array<Record<string, unknown>> } };
    const f = ev.detail.findings[index];
    if (!f) throw new Error('no finding');
    return f;
  }

  test('Security Hub GetFindings output and a bare ASFF finding', () => {
    const a = asffOf('securityhub-imported-event.json');
    expect(parseFindings({ Findings: [a] }, 'sh.json')[0]?.form).toBe('asff');
    expect(parseFindings(a, 'sh.json')[0]).toMatchObject({ form: 'asff', id: 'bf3a8c2b4d5e6f7a8b9c0d1e2f3a4b5c', count: 74 });
  });

  test.each<[string, Record<string, unknown>, string | undefined]>([
    ['the key in Details', { Id: 'AWS::IAM::AccessKey:ASIAEXAMPLEKEY00001', Details: { AwsIamAccessKey: { AccessKeyId: 'ASIAEXAMPLEKEY00001', PrincipalName: 'dana' } } }, 'ASIAEXAMPLEKEY00001'],
    ['the key only in the resource Id', { Id: 'AWS::IAM::AccessKey:AKIAEXAMPLEKEY00002', Details: { AwsIamAccessKey: { PrincipalName: 'dana' } } }, 'AKIAEXAMPLEKEY00002'],
    ['a key block written without its key (console sign-in)', { Id: 'AWS::IAM::AccessKey:undefined', Details: { AwsIamAccessKey: { PrincipalName: 'dana', PrincipalType: 'IAMUser' } } }, undefined],
    ['a placeholder', { Id: 'AWS::IAM::AccessKey:GeneratedFindingAccessKeyId', Details: { AwsIamAccessKey: { AccessKeyId: 'GeneratedFindingAccessKeyId', PrincipalName: 'dana' } } }, undefined],
  ])('AwsIamAccessKey resource: %s', (_name, resource, want) => {
    const a = asffOf('securityhub-imported-event.json');
    const f = parseFindings({ ...a, Resources: [{ Type: 'AwsIamAccessKey', Partition: 'aws', Region: 'us-east-1', ...resource }] }, 'f.json')[0];
    expect(f?.actor.accessKeyId).toBe(want);
    expect(f?.actor.userName).toBe('dana');
  });

  test('Sample: true marks a sample', () => {
    const a = { ...asffOf('securityhub-imported-event.json'), Sample: true };
    expect(parseFindings(a, 'sh.json')[0]?.sample).toBe(true);
  });

  test('only GuardDuty-produced findings count; the others are skipped', () => {
    const gd = asffOf('securityhub-imported-event.json');
    const other = { ...gd, Id: 'arn:aws:inspector2:eu-central-1:345678901234:finding/abc', ProductArn: 'arn:aws:securityhub:eu-central-1::product/aws/inspector', ProductName: 'Inspector', ProductFields: {} };
    const found = parseFindings({ Findings: [other, gd] }, 'sh.json');
    expect(found.map((f) => f.id)).toEqual(['bf3a8c2b4d5e6f7a8b9c0d1e2f3a4b5c']);
  });

  test('ProductName GuardDuty counts even without the product ARN', () => {
    const a = { ...asffOf('securityhub-imported-event.json'), ProductArn: 'arn:aws:securityhub:eu-central-1:345678901234:product/345678901234/default' };
    expect(parseFindings(a, 'sh.json')[0]?.id).toBe('bf3a8c2b4d5e6f7a8b9c0d1e2f3a4b5c');
  });

  test('Network source addresses and an attack sequence in ASFF', () => {
    const a = {
      ...asffOf('securityhub-imported-event.json'),
      ProductFields: {},
      Types: ['TTPs/Initial Access/AttackSequence:IAM-CompromisedCredentials'],
      Network: { Direction: 'IN', SourceIpV4: '198.51.100.9', SourceIpV6: '2001:DB8::9', DestinationIpV4: '10.0.0.5' },
      Detection: {
        Sequence: {
          Uid: 'seq-1',
          Actors: [{ Id: 'USER:AROAEXAMPLE:i-b188560f:1', User: { Name: 'ec2_role', Uid: 'AROAEXAMPLE:i-b188560f', Type: 'AssumedRole', CredentialUid: 'ASIAIOSFODNN7EXAMPLE', Account: { Uid: 'AccountId' } }, Session: { Issuer: 'arn:aws:iam::345678901234:role/ec2_role' } }],
          Endpoints: [{ Id: 'e1', Ip: '203.0.113.1' }],
          Signals: [{ Id: 'evt-1', Type: 'CLOUD_TRAIL', Name: 'DeleteObject', FirstSeenAt: 1716916943000 }, { Id: 'arn:aws:guardduty:x', Type: 'FINDING' }],
        },
      },
    };
    const f = parseFindings(a, 'sh.json')[0];
    expect(f?.type).toBe('AttackSequence:IAM/CompromisedCredentials');
    expect(f && ips(f)).toEqual(['198.51.100.9', '2001:db8::9', '203.0.113.1']);
    expect(f?.actor).toEqual({ accessKeyId: 'ASIAIOSFODNN7EXAMPLE', principalId: 'AROAEXAMPLE:i-b188560f', userName: 'ec2_role', userType: 'AssumedRole', sessionName: 'i-b188560f' });
    expect(f?.attackSequence).toMatchObject({
      actorArns: ['arn:aws:iam::345678901234:role/ec2_role', 'arn:aws:sts::345678901234:assumed-role/ec2_role/i-b188560f'],
      accessKeyIds: ['ASIAIOSFODNN7EXAMPLE'],
      eventIds: ['evt-1'],
    });
    expect(f?.attackSequence?.signals?.[0]?.firstSeenAt).toBe('2024-05-28T17:22:23Z');
  });
});

describe('inputs that are not findings', () => {
  const gd = (): unknown => fixture('instance-network-connection.json');
  test.each<[string, () => unknown, string]>([
    ['aws.guardduty event that is not a finding (pitfall 1)', () => fixture('eventbridge-cloudtrail-api-call.json'),
      'finding.json: an aws.guardduty event of detail-type "AWS API Call via CloudTrail" is not a GuardDuty finding'],
    ['GuardDuty Finding event without a finding', () => ({ source: 'aws.guardduty', 'detail-type': 'GuardDuty Finding', detail: {} }),
      'finding.json: the GuardDuty Finding event holds no finding in "detail"'],
    ['event of another source', () => ({ source: 'aws.iam', 'detail-type': 'AWS API Call via CloudTrail', detail: { eventName: 'CreateUser' } }),
      'finding.json: an event of source "aws.iam" and detail-type "AWS API Call via CloudTrail" is not a GuardDuty finding'],
    ['Security Hub event of another detail-type', () => ({ source: 'aws.securityhub', 'detail-type': 'Security Hub Insight Results', detail: { insightName: 'x' } }),
      'finding.json: a Security Hub event of detail-type "Security Hub Insight Results" holds no findings'],
    ['Security Hub event without findings', () => ({ source: 'aws.securityhub', 'detail-type': 'Security Hub Findings - Imported', detail: { findings: [] } }),
      'finding.json: the "Security Hub Findings - Imported" event holds no findings'],
    ['Security Hub event without a GuardDuty finding', () => ({
      source: 'aws.securityhub', 'detail-type': 'Security Hub Findings - Imported',
      detail: { findings: [{ SchemaVersion: '2018-10-08', Id: 'x', ProductArn: 'arn:aws:securityhub:us-east-1:123456789012:product/123456789012/default', ProductName: 'DecoyDetector', GeneratorId: 'g', AwsAccountId: '123456789012', Types: ['Unusual Behaviors'] }] },
    }), 'finding.json: the "Security Hub Findings - Imported" event holds no GuardDuty finding (only findings of DecoyDetector)'],
    ['bare ASFF of another product', () => ({ SchemaVersion: '2018-10-08', Id: 'x', ProductArn: 'arn:aws:securityhub:us-east-1::product/aws/inspector', GeneratorId: 'g', AwsAccountId: '123456789012' }),
      'finding.json: is a Security Hub finding of aws/inspector, not a GuardDuty finding'],
    ['GuardDuty ASFF without a GuardDuty type', () => ({ SchemaVersion: '2018-10-08', Id: 'arn:aws:guardduty:us-east-1:123456789012:detector/d/finding/f1', ProductArn: 'arn:aws:securityhub:us-east-1::product/aws/guardduty', GeneratorId: 'g', AwsAccountId: '123456789012', Types: ['Unusual Behaviors/User'] }),
      'finding.json: Security Hub (ASFF) finding f1 holds no GuardDuty type in Types'],
    ['CloudTrail delivery file', () => ({ Records: [{ eventVersion: '1.08', eventSource: 'iam.amazonaws.com', eventName: 'CreateUser' }] }),
      'finding.json: is a CloudTrail log file ("Records"), not a finding (give it with --cloudtrail)'],
    ['CloudTrail LookupEvents output', () => ({ Events: [{ EventId: 'e1', CloudTrailEvent: '{}' }] }),
      'finding.json: is CloudTrail LookupEvents output, not a finding (give it with --cloudtrail)'],
    ['one CloudTrail record', () => ({ eventVersion: '1.08', eventSource: 'iam.amazonaws.com', eventName: 'CreateUser', eventID: 'e1' }),
      'finding.json: is a CloudTrail record, not a finding (give it with --cloudtrail)'],
    ['array of CloudTrail records', () => [{ eventVersion: '1.08', eventSource: 'iam.amazonaws.com', eventName: 'CreateUser' }],
      'finding.json: the array holds CloudTrail records, not findings (give CloudTrail with --cloudtrail)'],
    ['empty Findings', () => ({ Findings: [] }), 'finding.json: holds no findings (empty "Findings")'],
    ['Findings not an array', () => ({ Findings: {} }), 'finding.json: "Findings" is not an array'],
    ['Findings holding something else', () => ({ Findings: [gd(), { hello: 1 }] }), 'finding.json: "Findings"[1] is not a GuardDuty or Security Hub finding'],
    ['empty array', () => [], 'finding.json: holds an empty array, not a finding'],
    ['JSON of no known form', () => ({ hello: 'world' }),
      'finding.json: matches no finding form (expected a GuardDuty finding, GetFindings output, a "GuardDuty Finding" event, or Security Hub ASFF findings)'],
    ['a string', () => 'finding', 'finding.json: holds a string, not a finding'],
    ['null', () => null, 'finding.json: holds null, not a finding'],
    ['a finding without type', () => ({ Findings: [{ Id: 'f1', AccountId: '123456789012', Service: {} }] }),
      'finding.json: "Findings"[0] is not a GuardDuty or Security Hub finding'],
  ])('%s', (_name, make, message) => {
    const err = errorOf(() => parseFindings(make(), 'finding.json'));
    expect(err.message).toBe(message);
    expect(err.message).not.toMatch(/\n/);
    expect(err.fileName).toBe('finding.json');
  });

  test('parseFindingText: invalid JSON is one clear line; a BOM is ignored', () => {
    const err = errorOf(() => parseFindingText('{"Findings": [', 'finding.json'));
    expect(err.message).toMatch(/^finding\.json: is not valid JSON \(.+\)$/);
    const text = '\uFEFF' + fs.readFileSync(path.join(FIXTURES, 'instance-dns-request.json'), 'utf8');
    expect(parseFindingText(text, 'f.json')[0]?.id).toBe('d4f0b5c3e6a7182930415b6c7d8e9f0a');
  });
});

describe('selectFinding', () => {
  const two = (): NormalizedFinding[] => parseFixture('securityhub-custom-action-two-findings.json');

  test('several findings and no id: AmbiguousFindingError listing the ids', () => {
    const err = errorOf(() => selectFinding(two(), 'event.json'));
    expect(err).toBeInstanceOf(AmbiguousFindingError);
    expect((err as AmbiguousFindingError).ids).toEqual(['9d1e6a0f2b3c4d5e6f7a8b9c0d1e2f3a', 'ae2f7b1a3c4d5e6f7a8b9c0d1e2f3a4b']);
    expect(err.message).toBe(
      'event.json: holds 2 findings; choose one with --finding-id: 9d1e6a0f2b3c4d5e6f7a8b9c0d1e2f3a, ae2f7b1a3c4d5e6f7a8b9c0d1e2f3a4b',
    );
  });

  test.each([
    ['id', 'ae2f7b1a3c4d5e6f7a8b9c0d1e2f3a4b'],
    ['id with spaces', '  ae2f7b1a3c4d5e6f7a8b9c0d1e2f3a4b '],
    ['GuardDuty ARN', 'arn:aws:guardduty:us-east-1:123456789012:detector/5ec4b3a2f1e0d9c8b7a6f5e4d3c2b1a0/finding/ae2f7b1a3c4d5e6f7a8b9c0d1e2f3a4b'],
    ['Security Hub FindingId', 'arn:aws:securityhub:us-east-1::product/aws/guardduty/arn:aws:guardduty:us-east-1:123456789012:detector/5ec4b3a2f1e0d9c8b7a6f5e4d3c2b1a0/finding/ae2f7b1a3c4d5e6f7a8b9c0d1e2f3a4b'],
  ])('chosen by %s', (_name, id) => {
    expect(selectFinding(two(), 'event.json', id).id).toBe('ae2f7b1a3c4d5e6f7a8b9c0d1e2f3a4b');
  });

  test('an id that is not there', () => {
    expect(errorOf(() => selectFinding(two(), 'event.json', 'nope')).message).toBe(
      'event.json: holds no finding with id "nope" (ids: 9d1e6a0f2b3c4d5e6f7a8b9c0d1e2f3a, ae2f7b1a3c4d5e6f7a8b9c0d1e2f3a4b)',
    );
  });

  test('one finding needs no id; none is an error', () => {
    expect(selectFinding(parseFixture('rds-login-attempt.json'), 'f.json').id).toBe('3af6b1c9e2ad7e8f96a7b1c2d3e4f5a6');
    expect(errorOf(() => selectFinding([], 'f.json')).message).toBe('f.json: holds no GuardDuty finding');
  });

  test('the same finding re-published counts once: the latest wins', () => {
    const first = fixture('rds-login-attempt.json') as Record<string, unknown>;
    const later = { ...first, updatedAt: '2026-03-13T07:41:59.028Z', service: { ...(first.service as object), count: 9 } };
    const chosen = selectFinding(parseFindings([first, later], 'f.json'), 'f.json');
    expect(chosen.count).toBe(9);
    expect(chosen.updatedAt).toBe('2026-03-13T07:41:59.028Z');
  });
});

describeShared('scenario findings (shared/scenarios/*/finding.json)', () => {
  const cases: Array<[string, Expect]> = [
    ['a-leaked-key-cryptomining', {
      form: 'guardduty-native', id: 'ab189a10b0e77f5874963e3c2919b1f3', type: 'Persistence:IAMUser/AnomalousBehavior', accountId: '111111111111', region: 'us-east-1',
      resourceType: 'AccessKey', actionType: 'AWS_API_CALL', api: 'CreateUser', accessKeyId: 'AKIARTXV5AHDYDMJWZ4E', userName: 'ci-deployer', userType: 'IAMUser',
      remoteIps: ['203.0.113.45'], sample: false,
    }],
    ['b-instance-creds-exfil-s3', {
      form: 'eventbridge', id: '0acc50498739367681a16586a823e5b8', type: 'UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS', accountId: '222222222222',
      region: 'us-east-1', resourceType: 'AccessKey', actionType: 'AWS_API_CALL', api: 'ListBuckets', accessKeyId: 'ASIADHPL2AOHK6LRUSPG', userName: 'web-app-role',
      userType: 'AssumedRole', sessionName: 'i-0a3f5c9e2b7d41f86', instanceId: 'i-0a3f5c9e2b7d41f86',
      instanceProfileArn: 'arn:aws:iam::222222222222:instance-profile/web-app-profile', remoteIps: ['203.0.113.10'], sample: false,
    }],
    ['c-console-login-no-mfa', {
      form: 'guardduty-getfindings', id: '504cc0280bb4caad1139b2cc5cee43d1', type: 'UnauthorizedAccess:IAMUser/ConsoleLoginSuccess.B', accountId: '333333333333',
      region: 'us-east-1', resourceType: 'AccessKey', actionType: 'AWS_API_CALL', api: 'ConsoleLogin', userName: 'dana.ops', userType: 'IAMUser',
      remoteIps: ['203.0.113.99'], sample: false,
    }],
    ['d-role-chain-same-account', {
      form: 'guardduty-native', id: 'c8f7685a5f5fc41d9e80d9e79ed27056', type: 'CredentialAccess:IAMUser/AnomalousBehavior', accountId: '444444444444', region: 'us-east-1',
      resourceType: 'AccessKey', actionType: 'AWS_API_CALL', api: 'GetSecretValue', accessKeyId: 'ASIAGO6XUA4ODRFJVHYG', userName: 'ProdAdminRole', userType: 'AssumedRole',
      sessionName: 'maintenance', remoteIps: ['203.0.113.140'], sample: false,
    }],
    ['e-defense-evasion-policy-version', {
      form: 'eventbridge', id: 'd15206672d1dc8c3141ad3813a4331bc', type: 'Stealth:IAMUser/CloudTrailLoggingDisabled', accountId: '555555555555', region: 'eu-west-1',
      resourceType: 'AccessKey', actionType: 'AWS_API_CALL', api: 'StopLogging', accessKeyId: 'AKIAYCWNRBDR6HS24QFG', userName: 'reporting-svc', userType: 'IAMUser',
      remoteIps: ['203.0.113.160'], sample: false,
    }],
    ['f-no-related-activity', {
      form: 'guardduty-native', id: '68b58151c937d359ccd557d170541d34', type: 'UnauthorizedAccess:IAMUser/MaliciousIPCaller.Custom', accountId: '666666666666',
      region: 'us-east-2', resourceType: 'AccessKey', actionType: 'AWS_API_CALL', api: 'DescribeInstances', accessKeyId: 'AKIAZWODOBKVJ4I64RIT', userName: 'legacy-etl',
      userType: 'IAMUser', remoteIps: ['203.0.113.200'], sample: false,
    }],
    ['g-asff-leaked-key-console-backdoor', {
      form: 'asff', id: 'deada943c148e3d46fbccf4b8d7d9faf', type: 'Persistence:IAMUser/AnomalousBehavior', accountId: '777777777777', region: 'eu-central-1',
      resourceType: 'AccessKey', actionType: 'AWS_API_CALL', api: 'CreateLoginProfile', accessKeyId: 'AKIALKFZLBRY3V2GYQE5', userName: 'analytics-uploader',
      userType: 'IAMUser', remoteIps: ['203.0.113.66'], sample: false,
    }],
    ['h-lookup-events-snapshot-exfil', {
      form: 'guardduty-native', id: '9d784edaf53a51aec81e31bc50845b3b', type: 'Exfiltration:IAMUser/AnomalousBehavior', accountId: '888888888888', region: 'eu-west-1',
      resourceType: 'AccessKey', actionType: 'AWS_API_CALL', api: 'ModifySnapshotAttribute', accessKeyId: 'AKIA455PIBY4MQO5KOZE', userName: 'backup-operator',
      userType: 'IAMUser', remoteIps: ['203.0.113.150'], sample: false,
    }],
  ];

  test.each(cases)('%s', (scenario, want) => {
    const found = parseFindings(readJson(path.join(SHARED, 'scenarios', scenario, 'finding.json')), 'finding.json');
    expect(found).toHaveLength(1);
    check(found[0], want);
    expect(selectFinding(found, 'finding.json').id).toBe(want.id);
    expect(selectFinding(found, 'finding.json', found[0]?.arn).id).toBe(want.id);
  });

  test('scenario g (ASFF): id from the Id ARN, GuardDuty type from Types, key from AwsIamAccessKey', () => {
    const f = parseFindings(readJson(path.join(SHARED, 'scenarios/g-asff-leaked-key-console-backdoor/finding.json')), 'finding.json')[0];
    expect(f).toMatchObject({
      arn: 'arn:aws:guardduty:eu-central-1:777777777777:detector/f22b442657600fc8275be4c36b2aa084/finding/deada943c148e3d46fbccf4b8d7d9faf',
      severity: 5,
      count: 3,
      eventFirstSeen: '2026-04-22T19:41:10Z',
      actor: { accessKeyId: 'AKIALKFZLBRY3V2GYQE5', principalId: 'AIDA3KFZLBRYZNIQUZSHX', userName: 'analytics-uploader', userType: 'IAMUser' },
    });
  });

  // compose-scenario wraps findings with shared/tools/lib/finding.js: every form it makes must read the same.
  const FORMS: Array<[string, FindingForm]> = [
    ['native', 'guardduty-native'],
    ['getfindings', 'guardduty-getfindings'],
    ['eventbridge', 'eventbridge'],
    ['asff', 'asff'],
    ['asff-imported', 'asff-imported-event'],
    ['asff-custom-action', 'asff-custom-action-event'],
  ];
  test.each(FORMS)('compose-scenario form %s of scenarios a and b', (composeForm, form) => {
    const load = createRequire(__filename);
    const lib = load(path.join(SHARED, 'tools/lib/finding.js')) as { wrap: (n: unknown, form: string, rng: unknown) => unknown };
    const rng = { uuid: () => '00000000-0000-4000-8000-000000000000' };
    for (const scenario of ['a-leaked-key-cryptomining', 'b-instance-creds-exfil-s3']) {
      const raw = readJson(path.join(SHARED, 'scenarios', scenario, 'finding.json')) as Record<string, unknown>;
      const native = raw.detail ?? raw;
      const base = parseFindings(native, 'finding.json')[0];
      const got = parseFindings(lib.wrap(native, composeForm, rng), 'finding.json')[0];
      expect(got?.form).toBe(form);
      expect(got && [got.id, got.arn, got.type, got.accountId, got.region, got.actor.accessKeyId, got.actor.userName, ips(got), got.sample, got.count]).toEqual(
        base && [base.id, base.arn, base.type, base.accountId, base.region, base.actor.accessKeyId, base.actor.userName, ips(base), base.sample, base.count],
      );
    }
  });
});

describeShared('corpus GuardDuty samples (shared/corpus/guardduty)', () => {
  const corpus = (p: string): unknown => readJson(path.join(SHARED, 'corpus/guardduty', p));

  test.each<[string, Expect]>([
    ['aws-cli-examples/get-findings.Recon-IAMUser-UserPermissions.json', {
      form: 'guardduty-getfindings', id: '1ab92989eaf0e742df4a014d5example', type: 'Recon:IAMUser/UserPermissions', accountId: '111122223333', region: 'us-east-1',
      resourceType: 'AccessKey', actionType: 'AWS_API_CALL', api: 'ListPolicyVersions', accessKeyId: 'ASIASZ4SI7REEEXAMPLE', userName: 'testuser', userType: 'IAMUser',
      remoteIps: ['52.94.36.7'], sample: false,
    }],
    ['aws-docs/guardduty-user-guide.asff-typical-finding.json', {
      form: 'asff', id: '46ba0ac2845071e23ccdeb2ae03bfdea', type: 'UnauthorizedAccess:EC2/SSHBruteForce', accountId: '193043430472', region: 'us-east-1',
      resourceType: 'Instance', actionType: 'NETWORK_CONNECTION', instanceId: 'i-0c10c2c7863d1a356', remoteIps: ['199.241.229.197'], sample: false,
    }],
    ['aws-samples-automated-response/guardduty_ec2_event.json', {
      form: 'guardduty-native', id: '16afba5c5c43e07c9e3e5e2e544e95df', type: 'Canary:EC2/Stateless.IntegTest', accountId: '123456789012', region: 'us-east-1',
      resourceType: 'Instance', actionType: 'NETWORK_CONNECTION', instanceId: 'i-05746eb48123455e0', remoteIps: [], sample: false,
    }],
    ['aws-samples-automated-response/guardduty_iam_event.json', {
      form: 'guardduty-native', id: '30bf285e52a1e405084ff6ec28e06e17', type: 'Recon:IAMUser/MaliciousIPCaller.Custom', accountId: '123456789012', region: 'us-east-1',
      resourceType: 'AccessKey', actionType: 'AWS_API_CALL', userType: 'IAMUser', instanceId: 'i-99999999',
      instanceProfileArn: 'arn:aws:iam::755484374681:example/instance/profile', remoteIps: ['198.51.100.0'], sample: true,
    }],
    ['aws-samples-automated-response/guardduty_s3_event.json', {
      form: 'guardduty-native', id: '2cbf285e52a6e74ff96f4cb3cf93296d', type: 'PenTest:S3/ParrotLinux', accountId: '123456789012', region: 'us-east-1',
      resourceType: 'S3Bucket', actionType: 'AWS_API_CALL', userType: 'IAMUser', instanceId: 'i-99999999',
      instanceProfileArn: 'arn:aws:iam::755484374681:example/instance/profile', remoteIps: ['198.51.100.0'], bucketNames: ['bucketName'], sample: true,
    }],
    ['aws-samples-waf-acl/gd2acl_test_event.json', {
      form: 'eventbridge', id: '02be5693b63eea1d67e6f321c6aee4f3', type: 'UnauthorizedAccess:EC2/SSHBruteForce', accountId: '', region: 'us-east-1',
      resourceType: 'Instance', actionType: 'NETWORK_CONNECTION', instanceId: 'i-99999999', remoteIps: ['198.51.100.0'], sample: true,
    }],
    ['cloud-custodian/eventbridge.ec2-duty-event.json', {
      form: 'eventbridge', id: 'b4b01b60fc24a199139f8f5f490edd81', type: 'Backdoor:EC2/C&CActivity.B!DNS', accountId: '883606788610', region: 'us-east-1',
      resourceType: 'Instance', actionType: 'DNS_REQUEST', instanceId: 'i-99999999', remoteIps: [], sample: true,
    }],
    ['cloud-custodian/eventbridge.iam-duty-event.json', {
      form: 'eventbridge', id: '36b01b60fc22bb4edb19d62d9899e953', type: 'UnauthorizedAccess:IAMUser/TorIPCaller', accountId: '883606788610', region: 'us-east-1',
      resourceType: 'AccessKey', actionType: 'AWS_API_CALL', userType: 'IAMUser', remoteIps: ['198.51.100.0'], sample: true,
    }],
    ['cloud-custodian/eventbridge.securityhub-custom-action.guardduty-asff.json', {
      form: 'asff-custom-action-event', id: '4cb5a629e9757b650d102f683cdbcd7b', type: 'UnauthorizedAccess:IAMUser/ConsoleLogin', accountId: '644160558196',
      region: 'us-east-1', resourceType: 'AccessKey', actionType: 'AWS_API_CALL', api: 'ConsoleLogin', userName: 'analyst.six', remoteIps: ['203.0.113.104'], sample: false,
    }],
  ])('%s', (file, want) => {
    const found = parseFindings(corpus(file), path.basename(file));
    expect(found).toHaveLength(1);
    check(found[0], want);
  });

  test('Security Hub GetFindings (placebo recording, "data" unwrapped): five findings, ambiguous without an id', () => {
    const doc = corpus('cloud-custodian/securityhub.GetFindings.guardduty-asff.placebo.json') as { data: unknown };
    const found = parseFindings(doc.data, 'placebo.json');
    expect(found.map((f) => [f.id, f.type, f.actor.accessKeyId, f.actor.userName, ips(f)[0]])).toEqual([
      ['f6b5c52d7a829ed112f7556dd1cc40c4', 'Recon:IAMUser/ResourcePermissions', 'AKIAIPRJCJL6BOF6DPMA', 'analyst.one', '203.0.113.36'],
      ['4cb5a629e9757b650d102f683cdbcd7b', 'UnauthorizedAccess:IAMUser/ConsoleLogin', undefined, 'analyst.six', '203.0.113.104'],
      ['14b53c819ce4bebac32c31842a5d85f9', 'Recon:IAMUser/UserPermissions', 'AKIAJEZJDQQX4TZNRMKQ', 'analyst.six', '203.0.113.152'],
      ['bab52b742e003b64aabbae94cb0c7888', 'Recon:IAMUser/UserPermissions', 'AKIAJNQCVBXO27VWVEXQ', 'analyst.two2', '203.0.113.161'],
      ['f8b516324d4c8ef0f4c1228093268d82', 'Recon:IAMUser/ResourcePermissions', 'ASIAZL6XWCR2ISQCR2PB', 'analyst.three', '203.0.113.40'],
    ]);
    const err = errorOf(() => selectFinding(found, 'placebo.json'));
    expect((err as AmbiguousFindingError).ids).toHaveLength(5);
    expect(selectFinding(found, 'placebo.json', 'bab52b742e003b64aabbae94cb0c7888').count).toBe(2);
  });

  test('the SDK skeleton ({"Finding": <placeholders>}) is not a finding', () => {
    expect(errorOf(() => parseFindings(corpus('aws-sdk-model/guardduty-finding-skeleton.json'), 'skeleton.json')).message).toMatch(
      /^skeleton\.json: matches no finding form/,
    );
  });

  interface PantherLine { test_name: string; log: unknown }
  const lines = (file: string): PantherLine[] =>
    fs.readFileSync(path.join(SHARED, 'corpus/guardduty/panther-analysis', file), 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as PantherLine);

  test('Panther GuardDuty rule tests: attack sequences, sample flags in both places, space-separated times', () => {
    const got = lines('rule-tests.AWS.GuardDuty.jsonl').map((l) => {
      const f = parseFindings(l.log, 'panther.json')[0];
      return [l.test_name, f?.type, f?.sample, f?.attackSequence !== undefined];
    });
    expect(got).toEqual([
      ['Critical Sev Finding', 'AttackSequence:IAM/CompromisedCredentials', false, true],
      ['Critical Sev Finding As Sample Data', 'AttackSequence:S3/CompromisedData', true, true],
      ['High Sev Finding', 'PrivilegeEscalation:IAMUser/AdministrativePermissions', false, false],
      ['High Sev Finding As Sample Data', 'PrivilegeEscalation:IAMUser/AdministrativePermissions', true, false],
      ['Low Sev Finding', 'PrivilegeEscalation:IAMUser/AdministrativePermissions', false, false],
      ['Low Sev Finding As Sample Data', 'PrivilegeEscalation:IAMUser/AdministrativePermissions', true, false],
      ['Medium Sev Finding', 'PrivilegeEscalation:IAMUser/AdministrativePermissions', false, false],
      ['Medium Sev Finding As Sample Data', 'PrivilegeEscalation:IAMUser/AdministrativePermissions', true, false],
    ]);
    const first = parseFindings(lines('rule-tests.AWS.GuardDuty.jsonl')[0]?.log, 'panther.json')[0];
    expect(first).toMatchObject({
      id: '8c258d654378414b9bc26f61a93eb816',
      resourceType: 'AttackSequence',
      createdAt: '2025-02-25T20:40:06.721Z',
      eventFirstSeen: '2025-02-25T20:40:06Z',
      attackSequence: { actorArns: [], accessKeyIds: [], eventIds: [] },
    });
  });

  test('Panther Security Hub rule tests: ASFF of other products is refused', () => {
    for (const l of lines('rule-tests.AWS.SecurityFindingFormat.jsonl')) {
      expect(errorOf(() => parseFindings(l.log, 'asff.json')).message).toBe('asff.json: is a Security Hub finding of DecoyDetector, not a GuardDuty finding');
    }
  });
});

test('a finding naming 200,000 addresses is read in linear time, each address once, in order', () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { RemoteIpCollector } = require('../../src/findings/common') as typeof import('../../src/findings/common');
  const c = new RemoteIpCollector();
  for (let i = 0; i < 200_000; i++) c.add(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, 'x');
  for (let i = 0; i < 1000; i++) c.add(`10.0.${(i >> 8) & 255}.${i & 255}`, 'again');
  expect(c.ips).toHaveLength(200_000);
  expect(c.ips[1]).toEqual({ ip: '10.0.0.1', version: 4, from: 'x' });
}, 5_000);
