/**
 * One test per kind of lineage edge (`data/lineage-edges.json`), each on a record shape from a
 * real recording (the Invictus dataset the repository ships, Stratus Red Team detonation logs)
 * or, where no recording exists, from the AWS documentation (test/fixtures/cloudtrail/SOURCES.md):
 * what the record acts with (`uses`) and what it mints.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { EDGE_TABLE, EdgeIndex, principalOfNode, readEdges, trustedAccounts, valuesAt } from '../../src/storyline/edges';
import { toTrailEvent, type TrailEvent } from '../../src/trail/event';

const ROOT = path.resolve(__dirname, '../..');
const FIXTURES = path.join(ROOT, 'test/fixtures/cloudtrail');

function event(raw: unknown, file = 'fixture'): TrailEvent {
  const ev = toTrailEvent(raw, file);
  if (typeof ev === 'string') throw new Error(`fixture record: ${ev}`);
  return ev;
}

/** Every record of the Invictus dataset (events/invictus), by eventID. */
const invictus = new Map<string, TrailEvent>();
const invictusDir = path.join(ROOT, 'events/invictus/cloudtrail');
for (const f of fs.readdirSync(invictusDir).sort()) {
  const doc = JSON.parse(fs.readFileSync(path.join(invictusDir, f), 'utf8')) as { Records: unknown[] };
  for (const r of doc.Records) {
    const ev = event(r, f);
    invictus.set(ev.eventId, ev);
  }
}
const inv = (id: string): TrailEvent => {
  const ev = invictus.get(id);
  if (!ev) throw new Error(`no Invictus record ${id}`);
  return ev;
};

const stratus = (JSON.parse(fs.readFileSync(path.join(FIXTURES, 'edge-kinds-stratus.json'), 'utf8')) as { record: unknown }[]).map((x) => event(x.record));
const strat = (name: string): TrailEvent => {
  const ev = stratus.find((e) => e.eventName === name);
  if (!ev) throw new Error(`no Stratus record ${name}`);
  return ev;
};

const docCases = (JSON.parse(fs.readFileSync(path.join(FIXTURES, 'edge-kinds-docs.json'), 'utf8')) as { cases: { edge: string; records: unknown[] }[] }).cases;
const docs = (edge: string, i = 0): TrailEvent => {
  const c = docCases.find((x) => x.edge === edge);
  const r = c?.records[i];
  if (!r) throw new Error(`no documented record for ${edge}[${i}]`);
  return event(r);
};

interface Case {
  /** The row of the table it covers. */
  row: string;
  what: string;
  ev: () => TrailEvent;
  uses?: string | null;
  mints: string[];
}

const ACCT = '123837392027';
const DOC = '111122223333';
const cases: Case[] = [
  { row: 'sts-assume-role', what: 'AssumeRole with a user key (Invictus)', ev: () => inv('4bd2a6f6-dddc-49e6-ba7d-08f73e809e64'), uses: 'key:AKIATFQR7NSC8Q4X20BJ', mints: ['key:ASIATFQR7NSC7E2ZIBM2'] },
  { row: 'sts-assume-role', what: 'AssumeRoleWithSAML from a browser (IAM user guide)', ev: () => docs('sts-assume-role', 0), uses: 'identity:saml:arn:aws:iam::111122223333:saml-provider/Okta:alice@example.com', mints: ['key:ASIAEXAMPLESAML0001'] },
  {
    row: 'sts-assume-role',
    what: 'AssumeRoleWithWebIdentity from GitHub Actions (IAM user guide)',
    ev: () => docs('sts-assume-role', 1),
    uses: 'identity:web:arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com:repo:acme/infra:ref:refs/heads/main',
    mints: ['key:ASIAEXAMPLEOIDC0001'],
  },
  { row: 'sts-assume-role', what: 'a failed AssumeRole mints nothing (Invictus)', ev: () => inv('e4bad408-6272-4892-bf47-bd41b435ce40'), uses: 'key:AKIATFQR7NSC8Q4X20BJ', mints: [] },
  { row: 'sts-session-token', what: 'GetSessionToken (STS API reference)', ev: () => docs('sts-session-token'), uses: 'key:AKIAIOSFODNN7EXAMPLE', mints: ['key:ASIAEXAMPLESESS0001'] },
  { row: 'sts-session-token', what: 'GetFederationToken (Stratus sts-federation-token)', ev: () => strat('GetFederationToken'), mints: ['key:ASIASTJKC5GCM7ZE6LUP'] },
  { row: 'signin-token', what: 'GetSigninToken with federated credentials (custom console URL guide)', ev: () => docs('signin-token', 0), uses: 'key:ASIAEXAMPLEFEDR0001', mints: [`signin:arn:aws:sts::${DOC}:federated-user/sync`] },
  { row: 'console-sign-in', what: 'a federated ConsoleLogin acts with the sign-in token (custom console URL guide)', ev: () => docs('signin-token', 1), uses: `signin:arn:aws:sts::${DOC}:federated-user/sync`, mints: [`session:arn:aws:sts::${DOC}:federated-user/sync|2026-05-01T10:20:30Z`] },
  {
    row: 'console-sign-in',
    what: "ConsoleLogin of a user the attacker created (Invictus): acts with the user's password",
    ev: () => inv('70e5932e-9022-4b38-837e-ca10dad94eb7'),
    uses: `password:${ACCT}:stratus-red-team-nmfalu-gfjyeaypjt`,
    mints: [`session:arn:aws:iam::${ACCT}:user/stratus-red-team-nmfalu-gfjyeaypjt|2023-07-10T12:23:15Z`],
  },
  { row: 'root-password-recovery', what: 'PasswordRecoveryCompleted for root (sign-in events reference)', ev: () => docs('root-password-recovery', 0), uses: `identity:root:${DOC}`, mints: [`password:${DOC}:root`] },
  { row: 'console-sign-in', what: 'a root ConsoleLogin acts with the root password (sign-in events reference)', ev: () => docs('root-password-recovery', 1), uses: `password:${DOC}:root`, mints: [`session:arn:aws:iam::${DOC}:root|2026-05-01T11:01:00Z`] },
  {
    row: 'identity-center-role-credentials',
    what: 'GetRoleCredentials in the portal (IAM Identity Center CloudTrail page)',
    ev: () => docs('identity-center-role-credentials'),
    uses: 'identity:idc:94482488-3041-7026-18f3-be45837cd0e4',
    // No session of the role in these records: the session node stays unresolved.
    mints: [`grant:idc-role:${DOC}:AWSReservedSSO_AdministratorAccess_0123456789abcdef`, `session:${DOC}:AWSReservedSSO_AdministratorAccess_0123456789abcdef|2026-05-01T12:00:00Z`],
  },
  {
    row: 'identity-center-session',
    what: 'the member account\'s AssumeRoleWithSAML from "AWS Internal" acts with that grant',
    ev: () => docs('identity-center-session'),
    uses: `grant:idc-role:${DOC}:AWSReservedSSO_AdministratorAccess_0123456789abcdef`,
    mints: ['key:ASIAEXAMPLEIDCS0001'],
  },
  { row: 'iam-create-access-key', what: 'CreateAccessKey (Invictus)', ev: () => inv('64b7de64-bf53-47ae-b7e3-d30cb1b5136e'), uses: 'key:AKIATFQR7NSC8Q4X20BJ', mints: ['key:AKIATFQR7NSC3ZO6PKAZ'] },
  { row: 'iam-create-user', what: 'CreateUser (Invictus)', ev: () => inv('66d008e1-12cf-4a45-99e7-0be67fc70d71'), mints: [`principal:user:${ACCT}:stratus-red-team-nmfalu-gfjyeaypjt`] },
  { row: 'iam-login-profile', what: 'CreateLoginProfile (Invictus)', ev: () => inv('1170c908-ce8d-4c6f-bc65-cf43aae5235b'), mints: [`password:${ACCT}:stratus-red-team-nmfalu-gfjyeaypjt`] },
  { row: 'iam-login-profile', what: 'UpdateLoginProfile (Stratus iam-update-user-login-profile)', ev: () => strat('UpdateLoginProfile'), mints: [`password:${strat('UpdateLoginProfile').accountId}:stratus-red-team-update-login-profile-user`] },
  { row: 'iam-trust-policy', what: 'UpdateAssumeRolePolicy letting an outside account in (Invictus)', ev: () => inv('d96d75c7-e715-44ff-9735-9dc51afbd774'), mints: [`trust:${ACCT}:stratus-red-team-backdoor-r-role:193672423079`] },
  { row: 'iam-trust-policy', what: 'a trust policy that lets only a service in opens nothing (Invictus)', ev: () => inv('059cf0ed-af91-40a6-9c89-a8a4fb81dc65'), mints: [] },
  { row: 'trusted-account-assume-role', what: "the role account's AWSAccount copy of an outside AssumeRole (userIdentity reference)", ev: () => docs('trusted-account-assume-role', 1), uses: `trust:${DOC}:ops-admin:444455556666`, mints: ['key:ASIAEXAMPLEBKDR0001'] },
  { row: 'ssm-send-command', what: 'SendCommand AWS-RunShellScript on an instance (Invictus)', ev: () => inv('99b46479-d5c7-4384-b342-006ece8c36a0'), uses: 'key:AKIATFQR7NSC8Q4X20BJ', mints: ['access:i-0dbc91f429e48eeed'] },
  { row: 'ssm-start-session', what: 'StartSession on an instance (Stratus ssm-start-session)', ev: () => strat('StartSession'), mints: ['access:i-ea1d1296c1de3aa1f'] },
  { row: 'ec2-instance-connect', what: 'SendSSHPublicKey (Stratus ec2-instance-connect)', ev: () => strat('SendSSHPublicKey'), mints: ['access:i-fdb357cb7e99ad973'] },
  { row: 'ec2-instance-connect', what: 'SendSerialConsoleSSHPublicKey (Stratus ec2-serial-console)', ev: () => strat('SendSerialConsoleSSHPublicKey'), mints: ['access:i-efcb4e480cabc4cf9'] },
  { row: 'ecs-execute-command', what: 'ExecuteCommand into a task (ECS API reference)', ev: () => docs('ecs-execute-command'), mints: ['access:0b2e61e5d3a04e2c8f7a9b1c2d3e4f50'] },
  {
    row: 'lambda-function-change',
    what: 'UpdateFunctionCode (Invictus)',
    ev: () => inv('0ea8187c-26a8-425d-8daf-48479996e44d'),
    mints: ['compute:stratus-red-team-olc-func-xhfgzaowxc', 'delivery:stratus-red-team-olc-func-xhfgzaowxc'],
  },
  { row: 'lambda-function-change', what: 'CreateFunction (Invictus)', ev: () => inv('2e15203f-d196-441a-adeb-794b195b4a28'), mints: ['compute:stratus-red-team-backdoor-f-func', 'delivery:stratus-red-team-backdoor-f-func'] },
  {
    row: 'lambda-function-change',
    what: 'UpdateFunctionConfiguration adding a layer, function named by ARN (Stratus lambda-layer-extension)',
    ev: () => strat('UpdateFunctionConfiguration20150331v2'),
    mints: ['compute:stratus-red-team-lambda-layer-simpleLambda', 'delivery:stratus-red-team-lambda-layer-simpleLambda'],
  },
  { row: 'ec2-run-instances', what: 'RunInstances with an instance profile (Invictus)', ev: () => inv('86eac0ac-8521-4126-aa32-a22f2b74d02e'), mints: ['compute:i-0dbc91f429e48eeed', 'delivery:i-0dbc91f429e48eeed'] },
  { row: 'ec2-run-instances', what: 'a failed RunInstances mints nothing (Invictus)', ev: () => inv('4a131b73-a4cd-44ce-8757-e3ad55c22e43'), mints: [] },
  { row: 'ec2-instance-profile', what: 'AssociateIamInstanceProfile (EC2 API reference)', ev: () => docs('ec2-instance-profile', 0), mints: ['delivery:i-0abc1234def567890'] },
  { row: 'ec2-instance-profile', what: 'ReplaceIamInstanceProfileAssociation (EC2 API reference)', ev: () => docs('ec2-instance-profile', 1), mints: ['delivery:i-0abc1234def567890'] },
  { row: 'cloudformation-stack-role', what: 'CreateStack with a service role (CloudFormation user guide)', ev: () => docs('cloudformation-stack-role'), mints: [`grant:stack-role:${DOC}:cfn-deploy-role`] },
  { row: 'cloudformation-role-session', what: "CloudFormation's AssumeRole of that role", ev: () => docs('cloudformation-role-session'), uses: `grant:stack-role:${DOC}:cfn-deploy-role`, mints: ['key:ASIAEXAMPLECFN00001'] },
  { row: 'ec2-role-delivery', what: "EC2's AssumeRole delivering an instance's role (Invictus)", ev: () => inv('55e25aa9-7165-446e-aef6-815c7a79a961'), uses: 'delivery:i-0dbc91f429e48eeed', mints: ['key:ASIATFQR7NSC36DZQP7P'] },
  { row: 'lambda-role-delivery', what: "Lambda's AssumeRole of a function's role (execution role guide)", ev: () => docs('lambda-role-delivery'), uses: 'delivery:image-resizer', mints: ['key:ASIAEXAMPLELMB00001'] },
  { row: 'ecs-task-role-delivery', what: "ECS's AssumeRole of a task role (task IAM roles guide)", ev: () => docs('ecs-task-role-delivery'), uses: 'delivery:0b2e61e5d3a04e2c8f7a9b1c2d3e4f50', mints: ['key:ASIAEXAMPLEECS00001'] },
];

describe('the edge table: one test per kind, on recorded or documented records', () => {
  test('every row of data/lineage-edges.json has a case here', () => {
    const covered = new Set(cases.map((c) => c.row));
    expect(EDGE_TABLE.edges.map((r) => r.id).filter((id) => !covered.has(id))).toEqual([]);
  });

  test.each(cases.map((c) => [c.row, c.what, c] as const))('%s: %s', (_row, _what, c) => {
    const ev = c.ev();
    const index = new EdgeIndex([...invictus.values(), ...stratus, ...docCases.flatMap((x) => x.records.map((r) => event(r)))]);
    const e = readEdges(ev);
    if (c.uses !== undefined) expect(e.uses).toBe(c.uses);
    // Sessions are resolved against the records (the console session keys of that sign-in).
    const mints = index.edgesOf(ev).mints.map((m) => m.node);
    expect(mints.map((n) => n.replace(/\.000Z$/, 'Z'))).toEqual(c.mints);
    if (c.mints.length > 0) expect(e.rows.map((r) => r.id)).toContain(c.row);
  });
});

describe('nodes across records', () => {
  const index = new EdgeIndex([...invictus.values()]);

  test("a console sign-in's session holds the keys with its ARN and creationDate (Invictus: ir-lab-user at 12:27:45)", () => {
    const login = index.events.find((e) => e.eventName === 'ConsoleLogin' && e.identity.arn === `arn:aws:iam::${ACCT}:user/ir-lab-user`);
    const [m] = login ? index.edgesOf(login).mints : [];
    expect(m?.node).toBe(`session:arn:aws:iam::${ACCT}:user/ir-lab-user|2023-07-10T12:27:45.000Z`);
    const keys = new Set(index.events.filter((e) => index.familyOf(e) === m?.node && e.source.kind === 'ipv4').map((e) => e.identity.accessKeyId));
    expect(keys.size).toBeGreaterThan(3);
    for (const k of keys) expect(k).toMatch(/^ASIA/);
  });

  test('acting for: a forward-access KMS call is tied to the GetSecretValue that caused it (same principal ARN, within 60 s)', () => {
    const kms = inv('ee8156da-96c9-49b9-a225-d3d78b16b65a');
    const cause = index.causeOf(kms);
    expect(cause?.eventSource).toBe('secretsmanager.amazonaws.com');
    expect(cause?.identity.accessKeyId).toBe('AKIATFQR7NSC8Q4X20BJ');
    expect(kms.epochMs - (cause?.epochMs ?? 0)).toBeLessThanOrEqual(60_000);
  });

  test("acting for: a console's internal call carries its session's creationDate and is tied to that session, not to a busier caller of the same ARN", () => {
    const internal = index.events.find((e) => e.eventName === 'GetStorageLensDashboardDataInternal' && e.identity.accessKeyId === 'ASIATFQR7NSCXJ3K3ZRO');
    expect(internal?.identity.invokedBy).toBe('AWS Internal');
    const cause = internal ? index.causeOf(internal) : null;
    expect(cause).not.toBeNull();
    expect(cause?.identity.accessKeyId).not.toBe('AKIATFQR7NSC8Q4X20BJ');
    expect(cause?.identity.sessionCreationDate).toBe('2023-07-10T12:27:45Z');
  });

  test('a trust policy opening the role to an account that already assumed it lets no one new in', () => {
    const policy = docs('trusted-account-assume-role', 0);
    const before = { ...docs('trusted-account-assume-role', 1), eventId: 'earlier', epochMs: policy.epochMs - 3600_000, eventTime: '2026-05-01T12:00:00Z' };
    const after = docs('trusted-account-assume-role', 1);
    expect(new EdgeIndex([policy, after]).mintsOf(`trust:${DOC}:ops-admin:444455556666`)).toHaveLength(1);
    expect(new EdgeIndex([before, policy, after]).mintsOf(`trust:${DOC}:ops-admin:444455556666`)).toHaveLength(0);
  });

  test('a function change holds until the next change of the same function', () => {
    const a = docs('lambda-role-delivery');
    const change = (id: string, t: string): TrailEvent =>
      event({
        eventVersion: '1.08',
        userIdentity: { type: 'IAMUser', arn: `arn:aws:iam::${DOC}:user/ci`, accountId: DOC, accessKeyId: 'AKIAEXAMPLECI000001', userName: 'ci' },
        eventTime: t,
        eventSource: 'lambda.amazonaws.com',
        eventName: 'UpdateFunctionCode20150331v2',
        sourceIPAddress: '198.51.100.4',
        userAgent: 'aws-cli/2',
        requestParameters: { functionName: 'image-resizer' },
        responseElements: { functionName: 'image-resizer', role: `arn:aws:iam::${DOC}:role/image-resizer-role` },
        eventID: id,
        recipientAccountId: DOC,
      });
    const idx = new EdgeIndex([change('c1', '2026-05-01T09:00:00Z'), change('c2', '2026-05-01T16:00:00Z'), a]);
    const mints = idx.mintsOf('compute:image-resizer');
    expect(mints.map((m) => [m.event.eventId, m.until, m.role])).toEqual([
      ['c1', Date.parse('2026-05-01T16:00:00Z'), 'image-resizer-role'],
      ['c2', Infinity, 'image-resizer-role'],
    ]);
  });
});

describe('principalOfNode', () => {
  test.each<[string, unknown]>([
    ['session:arn:aws:sts::111122223333:federated-user/sync|2026-05-01T10:20:30.000Z', { arn: 'arn:aws:sts::111122223333:federated-user/sync' }],
    ['session:111122223333:Admin|2026-05-01T10:20:30.000Z', { account: '111122223333', role: 'Admin' }],
    ['signin:arn:aws:sts::111122223333:federated-user/sync', { arn: 'arn:aws:sts::111122223333:federated-user/sync' }],
    ['password:111122223333:root', { account: '111122223333', root: true }],
    ['password:111122223333:alice', { account: '111122223333', user: 'alice' }],
    ['principal:user:111122223333:backdoor', { account: '111122223333', user: 'backdoor' }],
    ['trust:111122223333:ops-admin:444455556666', { account: '111122223333', role: 'ops-admin' }],
    ['grant:stack-role:111122223333:cfn-deploy-role', { account: '111122223333', role: 'cfn-deploy-role' }],
    ['key:AKIAEXAMPLE0000001', null],
    ['compute:i-0abc1234def567890', null],
    ['identity:saml:arn:aws:iam::111122223333:saml-provider/Okta:alice', null],
  ])('%s', (node, want) => {
    expect(principalOfNode(node)).toEqual(want);
  });
});

describe('field reading', () => {
  test('valuesAt steps into arrays and $account is the record account', () => {
    const ev = inv('86eac0ac-8521-4126-aa32-a22f2b74d02e');
    expect(valuesAt(ev, 'responseElements.instancesSet.items[].instanceId')).toEqual(['i-0dbc91f429e48eeed']);
    expect(valuesAt(ev, '$account')).toEqual([ACCT]);
    expect(valuesAt(ev, 'responseElements.nothing.here')).toEqual([]);
  });

  test.each<[string, string[]]>([
    ['{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:root"}}]}', ['444455556666']],
    ['{"Statement":{"Effect":"Allow","Principal":{"AWS":["555566667777","arn:aws:iam::444455556666:role/x"]}}}', ['555566667777', '444455556666']],
    ['%7B%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Principal%22%3A%7B%22AWS%22%3A%22666677778888%22%7D%7D%5D%7D', ['666677778888']],
    ['{"Statement":[{"Effect":"Deny","Principal":{"AWS":"444455556666"}}]}', []],
    ['{"Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"}}]}', []],
    ['not json', []],
  ])('trustedAccounts(%s)', (doc, want) => {
    expect(trustedAccounts(doc)).toEqual(want);
  });
});
