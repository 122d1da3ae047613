/**
 * The one identity normaliser (src/identity/principal.ts) over every userIdentity shape
 * CloudTrail documents, with fields missing as real records have them (pitfall 16), the
 * principal key of an ARN alone, and the storyline summary cut to Security Hub's
 * Note.Text limit (src/storyline/summary.ts, pitfall 5).
 *
 * userIdentity shapes: "CloudTrail userIdentity element",
 * https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-user-identity.html
 */
import { computeId, normalizeIdentity, principalKeyFromArn, type Principal } from '../../src/identity/principal';
import type { Step, Storyline } from '../../src/model/storyline';
import { clip, joinWithin, NOTE_TEXT_MAX, summarize } from '../../src/storyline/summary';

type Expected = Pick<Principal, 'type' | 'key' | 'accessKeyId' | 'roleName' | 'sessionName' | 'userName'> & Partial<Principal>;

const ACCT = '111122223333';

const CASES: [string, unknown, Expected][] = [
  [
    'IAMUser',
    {
      type: 'IAMUser',
      principalId: 'AIDAEXAMPLEUSER00001',
      arn: `arn:aws:iam::${ACCT}:user/dev/alice`,
      accountId: ACCT,
      accessKeyId: 'AKIAEXAMPLEKEY000001',
      userName: 'alice',
    },
    { type: 'IAMUser', key: `user:${ACCT}:alice`, accessKeyId: 'AKIAEXAMPLEKEY000001', roleName: null, sessionName: null, userName: 'alice', accountId: ACCT, roleArn: null },
  ],
  [
    'IAMUser with no userName (name from the ARN, path dropped)',
    { type: 'IAMUser', principalId: 'AIDAEXAMPLEUSER00002', arn: `arn:aws:iam::${ACCT}:user/team/bob`, accountId: ACCT },
    { type: 'IAMUser', key: `user:${ACCT}:bob`, accessKeyId: null, roleName: null, sessionName: null, userName: 'bob' },
  ],
  [
    'AssumedRole with a full sessionIssuer',
    {
      type: 'AssumedRole',
      principalId: 'AROAEXAMPLEROLE00001:jordan.dev',
      arn: `arn:aws:sts::${ACCT}:assumed-role/DevOpsRole/jordan.dev`,
      accountId: ACCT,
      accessKeyId: 'ASIAEXAMPLEKEY000002',
      sessionContext: {
        sessionIssuer: { type: 'Role', principalId: 'AROAEXAMPLEROLE00001', arn: `arn:aws:iam::${ACCT}:role/ops/DevOpsRole`, accountId: ACCT, userName: 'DevOpsRole' },
        webIdFederationData: {},
        attributes: { creationDate: '2025-12-12T02:59:00Z', mfaAuthenticated: 'true' },
        sourceIdentity: 'jordan@example.com',
      },
    },
    {
      type: 'AssumedRole',
      key: `role:${ACCT}:DevOpsRole`,
      accessKeyId: 'ASIAEXAMPLEKEY000002',
      roleName: 'DevOpsRole',
      sessionName: 'jordan.dev',
      userName: null,
      roleArn: `arn:aws:iam::${ACCT}:role/ops/DevOpsRole`,
      sessionIssuerArn: `arn:aws:iam::${ACCT}:role/ops/DevOpsRole`,
      sessionCreationDate: '2025-12-12T02:59:00Z',
      mfaAuthenticated: true,
      sourceIdentity: 'jordan@example.com',
      accountId: ACCT,
    },
  ],
  [
    'AssumedRole with sessionIssuer {} (pitfall 16)',
    {
      type: 'AssumedRole',
      principalId: 'AROAEXAMPLEROLE00001:jordan.dev',
      arn: `arn:aws:sts::${ACCT}:assumed-role/DevOpsRole/jordan.dev`,
      accountId: ACCT,
      accessKeyId: 'ASIAEXAMPLEKEY000003',
      sessionContext: { sessionIssuer: {}, attributes: { creationDate: '2025-12-12T02:59:00Z', mfaAuthenticated: 'false' } },
    },
    {
      type: 'AssumedRole',
      key: `role:${ACCT}:DevOpsRole`,
      accessKeyId: 'ASIAEXAMPLEKEY000003',
      roleName: 'DevOpsRole',
      sessionName: 'jordan.dev',
      userName: null,
      roleArn: `arn:aws:iam::${ACCT}:role/DevOpsRole`,
      sessionIssuerArn: null,
      mfaAuthenticated: false,
    },
  ],
  [
    'AssumedRole with no sessionContext',
    { type: 'AssumedRole', principalId: 'AROAEXAMPLEROLE00004:i-0abc1234def567890', arn: `arn:aws:sts::${ACCT}:assumed-role/AppRole/i-0abc1234def567890`, accountId: ACCT },
    {
      type: 'AssumedRole',
      key: `role:${ACCT}:AppRole`,
      accessKeyId: null,
      roleName: 'AppRole',
      sessionName: 'i-0abc1234def567890',
      userName: null,
      roleArn: `arn:aws:iam::${ACCT}:role/AppRole`,
      sessionCreationDate: null,
      mfaAuthenticated: null,
    },
  ],
  [
    'AssumedRole with no arn, only principalId and accountId',
    { type: 'AssumedRole', principalId: 'AROAEXAMPLEROLE00005:sess-1', accountId: ACCT },
    { type: 'AssumedRole', key: null, accessKeyId: null, roleName: null, sessionName: 'sess-1', userName: null, roleArn: null },
  ],
  [
    'Root',
    { type: 'Root', principalId: ACCT, arn: `arn:aws:iam::${ACCT}:root`, accountId: ACCT, accessKeyId: 'ASIAEXAMPLEROOT00001' },
    { type: 'Root', key: `root:${ACCT}`, accessKeyId: 'ASIAEXAMPLEROOT00001', roleName: null, sessionName: null, userName: null, accountId: ACCT },
  ],
  [
    'Root with only its ARN (account from the ARN)',
    { type: 'Root', arn: `arn:aws:iam::${ACCT}:root` },
    { type: 'Root', key: `root:${ACCT}`, accessKeyId: null, roleName: null, sessionName: null, userName: null, accountId: ACCT },
  ],
  [
    'AWSService with no arn and no account (pitfall 16)',
    { type: 'AWSService', invokedBy: 'ec2.amazonaws.com' },
    { type: 'AWSService', key: 'service:ec2.amazonaws.com', accessKeyId: null, roleName: null, sessionName: null, userName: null, arn: null, accountId: null, invokedBy: 'ec2.amazonaws.com' },
  ],
  [
    'AWSService with nothing at all',
    { type: 'AWSService' },
    { type: 'AWSService', key: null, accessKeyId: null, roleName: null, sessionName: null, userName: null, accountId: null },
  ],
  [
    'FederatedUser (GetFederationToken)',
    {
      type: 'FederatedUser',
      principalId: `${ACCT}:carol`,
      arn: `arn:aws:sts::${ACCT}:federated-user/carol`,
      accountId: ACCT,
      accessKeyId: 'ASIAEXAMPLEFED000001',
      sessionContext: {
        sessionIssuer: { type: 'IAMUser', principalId: 'AIDAEXAMPLEBROKER001', arn: `arn:aws:iam::${ACCT}:user/broker`, accountId: ACCT, userName: 'broker' },
        attributes: { creationDate: '2025-12-12T02:00:00Z', mfaAuthenticated: 'false' },
      },
    },
    {
      type: 'FederatedUser',
      key: `federated:${ACCT}:carol`,
      accessKeyId: 'ASIAEXAMPLEFED000001',
      roleName: null,
      sessionName: null,
      userName: 'carol',
      sessionIssuerArn: `arn:aws:iam::${ACCT}:user/broker`,
    },
  ],
  [
    'FederatedUser with no arn (name from principalId)',
    { type: 'FederatedUser', principalId: `${ACCT}:dave`, accountId: ACCT },
    { type: 'FederatedUser', key: `federated:${ACCT}:dave`, accessKeyId: null, roleName: null, sessionName: null, userName: 'dave' },
  ],
  [
    'SAMLUser (AssumeRoleWithSAML)',
    { type: 'SAMLUser', principalId: 'SampleUkh1i4+ExamplexL/jEvs=:SamlExample', userName: 'SamlExample', identityProvider: 'bdGOnTesti4+ExamplexL/jEvs=' },
    {
      type: 'SAMLUser',
      key: 'saml:bdGOnTesti4+ExamplexL/jEvs=:SamlExample',
      accessKeyId: null,
      roleName: null,
      sessionName: null,
      userName: 'SamlExample',
      identityProvider: 'bdGOnTesti4+ExamplexL/jEvs=',
      accountId: null,
    },
  ],
  [
    'WebIdentityUser (AssumeRoleWithWebIdentity)',
    { type: 'WebIdentityUser', principalId: 'token.actions.githubusercontent.com:sts.amazonaws.com:repo:org/app:ref:refs/heads/main', userName: 'repo:org/app:ref:refs/heads/main', identityProvider: 'token.actions.githubusercontent.com' },
    {
      type: 'WebIdentityUser',
      key: 'web:token.actions.githubusercontent.com:repo:org/app:ref:refs/heads/main',
      accessKeyId: null,
      roleName: null,
      sessionName: null,
      userName: 'repo:org/app:ref:refs/heads/main',
      identityProvider: 'token.actions.githubusercontent.com',
    },
  ],
  [
    'AWSAccount (a call from another account)',
    { type: 'AWSAccount', principalId: 'AIDAEXAMPLEOTHER0001', accountId: '444455556666' },
    { type: 'AWSAccount', key: 'account:444455556666', accessKeyId: null, roleName: null, sessionName: null, userName: null, accountId: '444455556666', arn: null },
  ],
  [
    'IdentityCenterUser with onBehalfOf',
    {
      type: 'IdentityCenterUser',
      accountId: ACCT,
      onBehalfOf: { userId: '906744e8d1-8a2c1f3e-0b1d-4c5e-9f7a-2b3c4d5e6f70', identityStoreArn: `arn:aws:identitystore::${ACCT}:identitystore/d-9067example` },
      credentialId: 'EXAMPLEVHULjJdTUdPJfofVa1sufHDoj7aYcOYcxFVllWR_Whr1fEXAMPLE',
    },
    {
      type: 'IdentityCenterUser',
      key: 'idc:906744e8d1-8a2c1f3e-0b1d-4c5e-9f7a-2b3c4d5e6f70',
      accessKeyId: null,
      roleName: null,
      sessionName: null,
      userName: null,
      onBehalfOfUserId: '906744e8d1-8a2c1f3e-0b1d-4c5e-9f7a-2b3c4d5e6f70',
      accountId: ACCT,
    },
  ],
  [
    'Unknown with a principalId',
    { type: 'Unknown', principalId: 'AIDAEXAMPLEUNKNOWN01', accountId: ACCT },
    { type: 'Unknown', key: 'unknown:AIDAEXAMPLEUNKNOWN01', accessKeyId: null, roleName: null, sessionName: null, userName: null },
  ],
  [
    'Unknown with a user ARN (keyed by the ARN)',
    { type: 'Unknown', arn: `arn:aws:iam::${ACCT}:user/eve`, principalId: 'AIDAEXAMPLEUNKNOWN02' },
    { type: 'Unknown', key: `user:${ACCT}:eve`, accessKeyId: null, roleName: null, sessionName: null, userName: null },
  ],
  [
    'no type at all',
    { principalId: 'AIDAEXAMPLENOTYPE001' },
    { type: 'Unknown', key: 'unknown:AIDAEXAMPLENOTYPE001', accessKeyId: null, roleName: null, sessionName: null, userName: null },
  ],
  [
    'fields of the wrong types',
    { type: 'AssumedRole', arn: 42, accountId: {}, accessKeyId: ['x'], principalId: null, sessionContext: { sessionIssuer: 'x', attributes: 7 } },
    { type: 'AssumedRole', key: null, accessKeyId: null, roleName: null, sessionName: null, userName: null, arn: null, accountId: null },
  ],
];

const NULL_PRINCIPAL: Expected = { type: 'Unknown', key: null, accessKeyId: null, roleName: null, sessionName: null, userName: null, arn: null, accountId: null, principalId: null };

describe('normalizeIdentity', () => {
  test.each(CASES)('%s', (_name, input, expected) => {
    const p = normalizeIdentity(input);
    expect(p).toMatchObject(expected);
  });

  test.each([
    ['null', null],
    ['undefined', undefined],
    ['a string', 'IAMUser'],
    ['a number', 42],
    ['an array', [{ type: 'IAMUser', userName: 'alice' }]],
  ])('a non-object (%s) gives an Unknown principal with a null key', (_name, input) => {
    expect(normalizeIdentity(input)).toMatchObject(NULL_PRINCIPAL);
  });

  test('the key of a role session is the key of its role ARN and of its session ARN', () => {
    const full = CASES[2]?.[1] as { arn: string; sessionContext: { sessionIssuer: { arn: string } } };
    const p = normalizeIdentity(full);
    expect(p.key).toBe(principalKeyFromArn(full.arn));
    expect(p.key).toBe(principalKeyFromArn(full.sessionContext.sessionIssuer.arn));
  });

  test('an IAM user key equals the key of its ARN', () => {
    const u = CASES[0]?.[1] as { arn: string };
    expect(normalizeIdentity(u).key).toBe(principalKeyFromArn(u.arn));
  });
});

describe('principalKeyFromArn', () => {
  test.each([
    ['IAM user', `arn:aws:iam::${ACCT}:user/alice`, `user:${ACCT}:alice`],
    ['IAM user with a path', `arn:aws:iam::${ACCT}:user/dev/team/alice`, `user:${ACCT}:alice`],
    ['IAM role', `arn:aws:iam::${ACCT}:role/DevOpsRole`, `role:${ACCT}:DevOpsRole`],
    ['IAM role with a path', `arn:aws:iam::${ACCT}:role/service-role/DevOpsRole`, `role:${ACCT}:DevOpsRole`],
    ['assumed role session', `arn:aws:sts::${ACCT}:assumed-role/DevOpsRole/jordan.dev`, `role:${ACCT}:DevOpsRole`],
    ['assumed role session named like an email', `arn:aws:sts::${ACCT}:assumed-role/AWSReservedSSO_Admin_0123456789abcdef/jo@example.com`, `role:${ACCT}:AWSReservedSSO_Admin_0123456789abcdef`],
    ['root', `arn:aws:iam::${ACCT}:root`, `root:${ACCT}`],
    ['federated user', `arn:aws:sts::${ACCT}:federated-user/carol`, `federated:${ACCT}:carol`],
    ['GovCloud partition', 'arn:aws-us-gov:iam::123456789012:user/alice', 'user:123456789012:alice'],
    ['China partition role', 'arn:aws-cn:iam::123456789012:role/R', 'role:123456789012:R'],
    ['S3 bucket', 'arn:aws:s3:::my-bucket', null],
    ['S3 object', 'arn:aws:s3:::my-bucket/user/alice', null],
    ['IAM policy', `arn:aws:iam::${ACCT}:policy/Admin`, null],
    ['IAM group', `arn:aws:iam::${ACCT}:group/admins`, null],
    ['IAM instance profile', `arn:aws:iam::${ACCT}:instance-profile/web`, null],
    ['EC2 instance', `arn:aws:ec2:us-east-1:${ACCT}:instance/i-0abc`, null],
    ['KMS key', `arn:aws:kms:us-east-1:${ACCT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`, null],
    ['STS assumed-role with no name', `arn:aws:sts::${ACCT}:assumed-role/`, null],
    ['not an ARN', 'alice', null],
    ['too few parts', 'arn:aws:iam', null],
    ['empty', '', null],
  ])('%s', (_name, arn, key) => {
    expect(principalKeyFromArn(arn)).toBe(key);
    // cached: the second answer is the same
    expect(principalKeyFromArn(arn)).toBe(key);
  });

  test('null and undefined', () => {
    expect(principalKeyFromArn(null)).toBeNull();
    expect(principalKeyFromArn(undefined)).toBeNull();
  });
});

describe('summarize and clip (Note.Text limit, pitfall 5)', () => {
  function step(i: number): Step {
    const escalation = i % 3 === 0;
    return {
      eventId: `evt-${String(i).padStart(4, '0')}`,
      eventTime: new Date(Date.UTC(2025, 11, 12, 3, 0, i)).toISOString().replace('.000Z', 'Z'),
      eventSource: 'iam.amazonaws.com',
      eventName: escalation ? `AttachUserPolicy${i}` : `CreateAccessKey${i}`,
      accountId: ACCT,
      region: 'us-east-1',
      principalArn: i % 2 === 0 ? `arn:aws:iam::${ACCT}:user/attacker-${i}` : `arn:aws:sts::${ACCT}:assumed-role/EscalatedRole${i}/session-${i}`,
      sourceIPAddress: `203.0.113.${i % 250}`,
      tactic: escalation ? { id: 'TA0004', name: 'Privilege Escalation' } : { id: 'TA0003', name: 'Persistence' },
      reason: 'attacker-source',
    };
  }

  function storyline(steps: Step[]): Storyline {
    return {
      schemaVersion: '1',
      finding: { id: 'f1', type: 'PrivilegeEscalation:IAMUser/AnomalousBehavior', accountId: ACCT, region: 'us-east-1', arn: 'arn:aws:guardduty:us-east-1:111122223333:detector/d/finding/f1' },
      origin: steps[0] ? { eventId: steps[0].eventId, eventTime: steps[0].eventTime, eventName: steps[0].eventName, reason: 'first' } : null,
      steps,
      lineage: [],
      lineageEdges: [],
      attackerSources: [],
      coverage: {
        sample: false,
        filesRead: 1,
        filesSkipped: 0,
        recordsRead: steps.length,
        recordsSkipped: 0,
        skippedReasons: {},
        skippedFiles: [],
        accounts: [ACCT],
        regions: ['us-east-1'],
        timeSpan: { from: null, to: null },
        gaps: [],
        recordsExamined: steps.length,
      },
      summary: '',
    };
  }

  test('a long storyline summary is at most 512 characters, whole parts left out in the middle, keeping both ends', () => {
    const st = storyline(Array.from({ length: 80 }, (_, i) => step(i)));
    const s = summarize(st);
    expect(NOTE_TEXT_MAX).toBe(512);
    expect(s.length).toBeLessThanOrEqual(512);
    expect(s.length).toBeGreaterThan(400);
    expect(s).toContain(' -> … -> ');
    expect(s.startsWith('origin [attacker-0 from 203.0.113.0]')).toBe(true);
    expect(s.endsWith('-> finding PrivilegeEscalation:IAMUser/AnomalousBehavior')).toBe(true);
  });

  test('a short storyline summary is not cut', () => {
    const s = summarize(storyline([step(1), step(2)]));
    expect(s).not.toContain(' … ');
    expect(s).toBe(
      'origin [EscalatedRole1/session-1 from 203.0.113.1] -> CreateAccessKey1 -> [attacker-2 from 203.0.113.2] -> CreateAccessKey2 -> finding PrivilegeEscalation:IAMUser/AnomalousBehavior',
    );
  });

  test('joinWithin leaves whole parts out in the middle, never cuts one unless it alone is too long', () => {
    const parts = ['origin [alice from 203.0.113.9]', ...Array.from({ length: 30 }, (_, i) => `Step${i}`), 'finding X'];
    const s = joinWithin(parts, 120);
    expect(s.length).toBeLessThanOrEqual(120);
    expect(s.startsWith('origin [alice from 203.0.113.9] -> Step0 -> ')).toBe(true);
    expect(s.endsWith(' -> Step29 -> finding X')).toBe(true);
    for (const p of s.split(' -> ')) expect(p === '…' || parts.includes(p) ? p : `cut: ${p}`).toBe(p);
    expect(joinWithin(['a', 'b'], 120)).toBe('a -> b');
    expect(joinWithin(['origin [x]', 'y'.repeat(1000), 'finding X'], 120)).toBe('origin [x] -> … -> finding X');
    const giant = joinWithin([`origin [${'y'.repeat(1000)}]`, 'finding X'], 120);
    expect(giant.length).toBe(120);
    expect(giant).toContain(' … ');
    expect(giant.endsWith('finding X')).toBe(true);
  });

  test('an empty storyline says why', () => {
    expect(summarize(storyline([]))).toBe('No storyline: no attacker activity found -> finding PrivilegeEscalation:IAMUser/AnomalousBehavior');
  });

  test('clip', () => {
    expect(clip('short')).toBe('short');
    const exact = 'x'.repeat(512);
    expect(clip(exact)).toBe(exact);
    const long = 'A'.repeat(2000) + 'Z'.repeat(3000);
    const c = clip(long);
    expect(c.length).toBe(512);
    expect(c).toContain(' … ');
    expect(c.startsWith('A')).toBe(true);
    expect(c.endsWith('Z')).toBe(true);
    const c2 = clip('0123456789'.repeat(10), 40);
    expect(c2.length).toBe(40);
    expect(c2).toContain(' … ');
  });
});

describe('principalKeyFromArn: ARNs without a name', () => {
  test.each(['arn:aws:iam::123456789012:user/', 'arn:aws:iam::123456789012:role/', 'arn:aws:sts::123456789012:federated-user/'])('%s gives no key', (arn) => {
    expect(principalKeyFromArn(arn)).toBeNull();
  });
});

describe('computeId: one form for the compute a role session is named after', () => {
  test.each<[string, string]>([
    ['i-0DBC91F429E48EEED', 'i-0dbc91f429e48eeed'],
    ['i-0dbc91f429e48eeed', 'i-0dbc91f429e48eeed'],
    ['mi-0123456789ABCDEF0', 'mi-0123456789abcdef0'],
    ['Image-Resizer', 'Image-Resizer'],
    ['0b2e61e5d3a04e2c8f7a9b1c2d3e4f50', '0b2e61e5d3a04e2c8f7a9b1c2d3e4f50'],
    ['i-not-an-instance', 'i-not-an-instance'],
  ])('%s → %s', (raw, want) => {
    expect(computeId(raw)).toBe(want);
  });
});
