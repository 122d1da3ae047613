import {
  DescribeOrganizationCommand, ListAccountsCommand, ListAccountsForParentCommand, ListDelegatedAdministratorsCommand, ListDelegatedServicesForAccountCommand,
  ListOrganizationalUnitsForParentCommand, ListRootsCommand, OrganizationsClient, paginateListAccounts,
} from '@aws-sdk/client-organizations';
import { AssumeRoleCommand, AssumeRoleCommandInput, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { GetFindingsCommand, SecurityHubClient } from '@aws-sdk/client-securityhub';
import { AwsEmulator } from './server';
import { seedOrganization, SeededOrganization } from './seed';
import { evaluateTrustPolicy } from './identity';
import { rejection } from './testing';


/** Management account (runs the rollout), security tooling (delegated admin), workload, new account, outsider. */
const M = '100000000001';
const S = '200000000002';
const W = '300000000003';
const N = '400000000004';
const X = '900000000009';
const ORG = 'o-trailstory01';
const EXT = 'trailstory-rollout-7f3a';
const OPT_IN = 'me-central-1';
const ROLLOUT = `arn:aws:iam::${M}:role/rollout/TrailstoryRollout`;
const memberRole = (account: string): string => `arn:aws:iam::${account}:role/trailstory/TrailstoryMember`;


// The API models: ../shared/aws-models, or the copies bundled in test/emulator/models without it.
describe('AwsEmulator organisation, roles and opt-in regions', () => {
  let emu: AwsEmulator;
  let seeded: SeededOrganization;
  beforeAll(async () => {
    emu = await AwsEmulator.start({ seed: 3 });
  });
  afterAll(async () => {
    await emu.stop();
  });
  beforeEach(() => {
    emu.reset();
    seeded = seedOrganization(emu, {
      managementAccount: M, orgId: ORG, managementRegions: ['us-east-1', OPT_IN],
      ous: [
        { name: 'Security', accounts: [{ id: S, name: 'security-tooling', regions: ['us-east-1', 'eu-west-1'] }] },
        { name: 'Workloads', accounts: [{ id: W, name: 'workload-prod', regions: ['us-east-1', 'eu-west-1', OPT_IN] }, { id: N, name: 'workload-new', regions: ['us-east-1'] }] },
      ],
      delegatedAdmins: [{ account: S, servicePrincipal: 'securityhub.amazonaws.com' }, { account: S, servicePrincipal: 'guardduty.amazonaws.com' }],
    });
    // The rollout role in the management account, assumable by the management account's users.
    emu.identities.putRole(M, 'TrailstoryRollout', { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${M}:root` }, Action: 'sts:AssumeRole' }] }, { path: '/rollout/' });
    emu.identities.putRole(M, 'Other', { Statement: [{ Effect: 'Allow', Principal: { AWS: M }, Action: 'sts:AssumeRole' }] }, { path: '/rollout/' });
    // The member role in S and W (not yet in N). It still names a former vendor's role in X: the org condition keeps X out.
    const memberTrust = {
      Version: '2012-10-17',
      Statement: [{
        Effect: 'Allow', Principal: { AWS: [ROLLOUT, `arn:aws:iam::${X}:role/rollout/TrailstoryRollout`] }, Action: 'sts:AssumeRole',
        Condition: { StringEquals: { 'aws:PrincipalOrgID': ORG, 'sts:ExternalId': EXT } },
      }],
    };
    for (const a of [S, W]) emu.identities.putRole(a, 'TrailstoryMember', memberTrust, { path: '/trailstory/' });
    // The outsider has a role of the same name and path.
    emu.identities.putRole(X, 'TrailstoryRollout', { Statement: [{ Effect: 'Allow', Principal: { AWS: X }, Action: 'sts:AssumeRole' }] }, { path: '/rollout/' });
  });

  const orgs = (account: string): OrganizationsClient => new OrganizationsClient(emu.clientConfig(account, 'us-east-1', 1));
  const rollout = (region = 'us-east-1', account = M, role = 'TrailstoryRollout'): STSClient => new STSClient(emu.sessionClientConfig(account, role, region, { sessionName: 'rollout', maxAttempts: 1 }));
  const assume = (sts: STSClient, account: string, over: Partial<AssumeRoleCommandInput> = {}) =>
    sts.send(new AssumeRoleCommand({ RoleArn: memberRole(account), RoleSessionName: 'trailstory-rollout', ExternalId: EXT, ...over }));

  describe('Organizations', () => {
    it('the management account lists the root, OUs, accounts per parent, all accounts (paged) and delegated administrators', async () => {
      const c = orgs(M);
      const org = (await c.send(new DescribeOrganizationCommand({}))).Organization;
      expect(org).toMatchObject({ Id: ORG, MasterAccountId: M, FeatureSet: 'ALL', Arn: `arn:aws:organizations::${M}:organization/${ORG}` });
      const roots = (await c.send(new ListRootsCommand({}))).Roots ?? [];
      expect(roots.map((r) => r.Id)).toEqual([seeded.rootId]);
      expect(seeded.rootId).toMatch(/^r-[0-9a-z]{4}$/);
      const ous = (await c.send(new ListOrganizationalUnitsForParentCommand({ ParentId: seeded.rootId }))).OrganizationalUnits ?? [];
      expect(ous.map((o) => o.Name)).toEqual(['Security', 'Workloads']);
      expect(ous[0]?.Id).toMatch(/^ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$/);
      const work = await c.send(new ListAccountsForParentCommand({ ParentId: seeded.ouIds.Workloads ?? '' }));
      expect(work.Accounts?.map((a) => [a.Id, a.Name, a.Status])).toEqual([[W, 'workload-prod', 'ACTIVE'], [N, 'workload-new', 'ACTIVE']]);
      expect((await c.send(new ListAccountsForParentCommand({ ParentId: seeded.rootId }))).Accounts?.map((a) => a.Id)).toEqual([M]);

      const p1 = await c.send(new ListAccountsCommand({ MaxResults: 3 }));
      expect(p1.Accounts).toHaveLength(3);
      expect(p1.NextToken).toBeDefined();
      const ids: string[] = [];
      for await (const page of paginateListAccounts({ client: c, pageSize: 2 }, {})) ids.push(...(page.Accounts ?? []).map((a) => a.Id ?? ''));
      expect(ids).toEqual([M, S, W, N]);
      expect((await rejection(c.send(new ListAccountsCommand({ MaxResults: 21 })))).name).toBe('InvalidInputException');
      expect((await rejection(c.send(new ListAccountsForParentCommand({ ParentId: 'ou-abcd-12345678' })))).name).toBe('ParentNotFoundException');

      const das = await c.send(new ListDelegatedAdministratorsCommand({ ServicePrincipal: 'securityhub.amazonaws.com' }));
      expect(das.DelegatedAdministrators?.map((d) => d.Id)).toEqual([S]);
      expect(das.DelegatedAdministrators?.[0]?.DelegationEnabledDate).toBeInstanceOf(Date);
      expect((await c.send(new ListDelegatedAdministratorsCommand({ ServicePrincipal: 'detective.amazonaws.com' }))).DelegatedAdministrators).toEqual([]);
      const svcs = await c.send(new ListDelegatedServicesForAccountCommand({ AccountId: S }));
      expect(svcs.DelegatedServices?.map((d) => d.ServicePrincipal)).toEqual(['securityhub.amazonaws.com', 'guardduty.amazonaws.com']);
      expect((await rejection(c.send(new ListDelegatedServicesForAccountCommand({ AccountId: W })))).name).toBe('AccountNotRegisteredException');
      expect((await rejection(c.send(new ListDelegatedServicesForAccountCommand({ AccountId: X })))).name).toBe('AccountNotFoundException');
    });

    it('a delegated administrator lists the accounts too', async () => {
      const ids: string[] = [];
      for await (const page of paginateListAccounts({ client: orgs(S) }, {})) ids.push(...(page.Accounts ?? []).map((a) => a.Id ?? ''));
      expect(ids).toEqual([M, S, W, N]);
      expect((await orgs(S).send(new ListDelegatedAdministratorsCommand({}))).DelegatedAdministrators?.map((d) => d.Id)).toEqual([S]);
    });

    it('a plain member may describe the organisation but not list it (AccessDeniedException); an outsider gets AWSOrganizationsNotInUseException', async () => {
      expect((await orgs(W).send(new DescribeOrganizationCommand({}))).Organization?.Id).toBe(ORG);
      for (const cmd of [new ListAccountsCommand({}), new ListRootsCommand({}), new ListDelegatedAdministratorsCommand({})]) {
        expect(await rejection(orgs(W).send(cmd as ListAccountsCommand))).toMatchObject({ name: 'AccessDeniedException', status: 403 });
      }
      expect((await rejection(orgs(X).send(new ListAccountsCommand({})))).name).toBe('AWSOrganizationsNotInUseException');
      expect((await rejection(orgs(X).send(new DescribeOrganizationCommand({})))).name).toBe('AWSOrganizationsNotInUseException');
    });
  });

  describe('STS AssumeRole with trust policies', () => {
    it('a management-account user assumes the rollout role, which assumes the member role with the ExternalId', async () => {
      const user = new STSClient(emu.clientConfig(M, 'us-east-1', 1));
      const r1 = await user.send(new AssumeRoleCommand({ RoleArn: ROLLOUT, RoleSessionName: 'rollout' }));
      expect(r1.AssumedRoleUser?.Arn).toBe(`arn:aws:sts::${M}:assumed-role/TrailstoryRollout/rollout`);
      const asRollout = new STSClient(emu.credentialsClientConfig(r1.Credentials, 'eu-west-1', 1));
      const r2 = await assume(asRollout, W);
      expect(r2.AssumedRoleUser?.Arn).toBe(`arn:aws:sts::${W}:assumed-role/TrailstoryMember/trailstory-rollout`);
      expect(r2.AssumedRoleUser?.AssumedRoleId).toMatch(/^AROA[0-9A-Z]{17}:trailstory-rollout$/);
      expect(r2.Credentials?.AccessKeyId).toMatch(/^ASIA/);
      const me = await new STSClient(emu.credentialsClientConfig(r2.Credentials, 'eu-west-1', 1)).send(new GetCallerIdentityCommand({}));
      expect(me).toMatchObject({ Account: W, Arn: `arn:aws:sts::${W}:assumed-role/TrailstoryMember/trailstory-rollout` });
      expect(emu.identities.keys.get(r2.Credentials?.AccessKeyId ?? '')).toMatchObject({ account: W, roleArn: memberRole(W), issuedRegion: 'eu-west-1' });
      // A request without the session token is refused.
      const noToken = new STSClient({ region: 'eu-west-1', endpoint: emu.endpoint, maxAttempts: 1, credentials: { accessKeyId: r2.Credentials?.AccessKeyId ?? '', secretAccessKey: 'x' } });
      expect(await rejection(noToken.send(new GetCallerIdentityCommand({})))).toMatchObject({ name: 'InvalidClientTokenId', status: 403 });
    });

    it('refuses a caller outside the organisation even though the trust policy names its role', async () => {
      const e = await rejection(assume(rollout('us-east-1', X), W));
      expect(e).toMatchObject({ name: 'AccessDenied', status: 403 });
      expect(e.message).toBe(`User: arn:aws:sts::${X}:assumed-role/TrailstoryRollout/rollout is not authorized to perform: sts:AssumeRole on resource: ${memberRole(W)}`);
      // The principal did match: without the org condition the same caller gets in.
      emu.identities.putRole(W, 'TrailstoryMember', { Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${X}:role/rollout/TrailstoryRollout` }, Action: 'sts:AssumeRole', Condition: { StringEquals: { 'sts:ExternalId': EXT } } }] }, { path: '/trailstory/' });
      await expect(assume(rollout('us-east-1', X), W)).resolves.toMatchObject({ AssumedRoleUser: { Arn: `arn:aws:sts::${W}:assumed-role/TrailstoryMember/trailstory-rollout` } });
    });

    it('refuses a wrong or missing ExternalId', async () => {
      expect((await rejection(assume(rollout(), W, { ExternalId: 'trailstory-rollout-0000' }))).name).toBe('AccessDenied');
      expect((await rejection(assume(rollout(), W, { ExternalId: undefined }))).name).toBe('AccessDenied');
      await expect(assume(rollout(), W)).resolves.toBeDefined();
    });

    it('refuses a role other than the trusted one, and a user of the management account', async () => {
      const e = await rejection(assume(rollout('us-east-1', M, 'Other'), W));
      expect(e).toMatchObject({ name: 'AccessDenied', status: 403 });
      expect(e.message).toContain(`User: arn:aws:sts::${M}:assumed-role/Other/rollout is not authorized`);
      expect((await rejection(assume(new STSClient(emu.clientConfig(M, 'us-east-1', 1)), W))).name).toBe('AccessDenied');
    });

    it('answers AccessDenied for a role that does not exist yet (the new account), or a role ARN with another path', async () => {
      const e = await rejection(assume(rollout(), N));
      expect(e).toMatchObject({ name: 'AccessDenied', status: 403 });
      expect(e.message).toMatch(new RegExp(`is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::${N}:role/trailstory/TrailstoryMember$`));
      expect((await rejection(assume(rollout(), W, { RoleArn: `arn:aws:iam::${W}:role/TrailstoryMember` }))).name).toBe('AccessDenied');
    });

    it('checks RoleSessionName (model pattern and length) and DurationSeconds (model range, MaxSessionDuration, role chaining)', async () => {
      expect(await rejection(assume(rollout(), W, { RoleSessionName: 'has space' }))).toMatchObject({ name: 'ValidationError', status: 400 });
      expect((await rejection(assume(rollout(), W, { RoleSessionName: 'x'.repeat(65) }))).message).toMatch(/RoleSessionName/);
      expect((await rejection(assume(rollout(), W, { DurationSeconds: 899 }))).name).toBe('ValidationError');
      expect((await rejection(assume(rollout(), W, { DurationSeconds: 7200 }))).message).toMatch(/role chaining/);
      const user = new STSClient(emu.clientConfig(M, 'us-east-1', 1));
      expect((await rejection(user.send(new AssumeRoleCommand({ RoleArn: ROLLOUT, RoleSessionName: 'rollout', DurationSeconds: 7200 })))).message).toMatch(/MaxSessionDuration/);
      emu.identities.putRole(M, 'TrailstoryRollout', { Statement: [{ Effect: 'Allow', Principal: { AWS: M }, Action: 'sts:*' }] }, { path: '/rollout/', maxSessionDuration: 7200 });
      const ok = await user.send(new AssumeRoleCommand({ RoleArn: ROLLOUT, RoleSessionName: 'rollout', DurationSeconds: 7200 }));
      expect((ok.Credentials?.Expiration?.getTime() ?? 0) - Date.now()).toBeGreaterThan(7000_000);
    });

    it('a rollout over ListAccounts reaches every member but the new one', async () => {
      const sts = rollout('eu-west-1');
      const outcome: Record<string, string> = {};
      for await (const page of paginateListAccounts({ client: new OrganizationsClient(emu.sessionClientConfig(M, 'TrailstoryRollout', 'us-east-1')) }, {})) {
        for (const a of page.Accounts ?? []) {
          if (a.Id === M) continue;
          outcome[a.Id ?? ''] = await assume(sts, a.Id ?? '').then(() => 'ok', (e: Error) => e.name);
        }
      }
      expect(outcome).toEqual({ [S]: 'ok', [W]: 'ok', [N]: 'AccessDenied' });
    });
  });

  describe('opt-in regions', () => {
    it('credentials from the global STS endpoint are rejected in the opt-in region, regional ones accepted', async () => {
      expect([...emu.optInRegions].sort()).toEqual(['ap-east-1', 'me-central-1']);
      const global = await assume(rollout('us-east-1'), W);
      const gSh = new SecurityHubClient(emu.credentialsClientConfig(global.Credentials, OPT_IN, 1));
      expect(await rejection(gSh.send(new GetFindingsCommand({})))).toMatchObject({ name: 'InvalidClientTokenId', status: 403 });
      expect(await rejection(new STSClient(emu.credentialsClientConfig(global.Credentials, OPT_IN, 1)).send(new GetCallerIdentityCommand({}))))
        .toMatchObject({ name: 'InvalidClientTokenId', status: 403 });
      // The same global credentials work in a region enabled by default.
      await expect(new SecurityHubClient(emu.credentialsClientConfig(global.Credentials, 'eu-west-1', 1)).send(new GetFindingsCommand({}))).resolves.toBeDefined();

      const regional = await assume(rollout(OPT_IN), W);
      expect(emu.identities.keys.get(regional.Credentials?.AccessKeyId ?? '')?.issuedRegion).toBe(OPT_IN);
      await expect(new SecurityHubClient(emu.credentialsClientConfig(regional.Credentials, OPT_IN, 1)).send(new GetFindingsCommand({}))).resolves.toMatchObject({ Findings: [] });
      const euw = await assume(rollout('eu-west-1'), W);
      await expect(new STSClient(emu.credentialsClientConfig(euw.Credentials, OPT_IN, 1)).send(new GetCallerIdentityCommand({}))).resolves.toMatchObject({ Account: W });
      expect(emu.requests.filter((r) => r.region === OPT_IN).map((r) => `${r.service}:${r.operation}:${r.account}:${r.status}`)).toEqual([
        `securityhub:GetFindings:${W}:403`, `sts:GetCallerIdentity:${W}:403`, `sts:AssumeRole:${M}:200`, `securityhub:GetFindings:${W}:200`, `sts:GetCallerIdentity:${W}:200`,
      ]);
    });

    it('an account that has not enabled the region is rejected by every service (UnrecognizedClientException, 403); STS will not issue credentials of it there', async () => {
      for (const call of [
        () => new SecurityHubClient(emu.clientConfig(S, OPT_IN, 1)).send(new GetFindingsCommand({})),
        () => new STSClient(emu.clientConfig(S, OPT_IN, 1)).send(new GetCallerIdentityCommand({})),
        () => new OrganizationsClient(emu.clientConfig(S, OPT_IN, 1)).send(new ListAccountsCommand({})),
      ]) {
        expect(await rejection(call())).toMatchObject({ name: 'UnrecognizedClientException', status: 403, message: 'The security token included in the request is invalid.' });
      }
      await expect(new STSClient(emu.clientConfig(W, OPT_IN, 1)).send(new GetCallerIdentityCommand({}))).resolves.toMatchObject({ Account: W });
      expect(await rejection(assume(rollout(OPT_IN), S))).toMatchObject({ name: 'RegionDisabledException', status: 403 });
      emu.enableRegions(S, OPT_IN);
      await expect(assume(rollout(OPT_IN), S)).resolves.toBeDefined();
      await expect(new SecurityHubClient(emu.clientConfig(S, OPT_IN, 1)).send(new GetFindingsCommand({}))).resolves.toBeDefined();
      // ap-east-1 is opt-in too, enabled by nobody.
      expect((await rejection(new STSClient(emu.clientConfig(M, 'ap-east-1', 1)).send(new GetCallerIdentityCommand({})))).name).toBe('UnrecognizedClientException');
    });
  });

  describe('evaluateTrustPolicy', () => {
    const who = { account: M, arn: `arn:aws:sts::${M}:assumed-role/TrailstoryRollout/s`, roleArn: ROLLOUT, orgId: ORG };
    it('a matching Deny wins; IfExists and negated operators match an absent key; unknown operators fail closed', () => {
      const allow = { Effect: 'Allow', Principal: { AWS: '*' }, Action: 'sts:AssumeRole' };
      expect(evaluateTrustPolicy({ Statement: [allow] }, who, { action: 'sts:AssumeRole' })).toBe(true);
      expect(evaluateTrustPolicy({ Statement: [allow, { ...allow, Effect: 'Deny', Condition: { StringNotEquals: { 'aws:PrincipalOrgID': 'o-other0000000' } } }] }, who, { action: 'sts:AssumeRole' })).toBe(false);
      expect(evaluateTrustPolicy({ Statement: [{ ...allow, Condition: { StringEqualsIfExists: { 'sts:ExternalId': EXT } } }] }, who, { action: 'sts:AssumeRole' })).toBe(true);
      expect(evaluateTrustPolicy({ Statement: [{ ...allow, Condition: { ArnLike: { 'aws:PrincipalArn': 'arn:aws:iam::*:role/rollout/*' } } }] }, who, { action: 'sts:AssumeRole' })).toBe(true);
      expect(evaluateTrustPolicy({ Statement: [{ ...allow, Condition: { DateGreaterThan: { 'aws:CurrentTime': '2020-01-01T00:00:00Z' } } }] }, who, { action: 'sts:AssumeRole' })).toBe(false);
      expect(evaluateTrustPolicy({ Statement: [{ ...allow, Action: 'sts:TagSession' }] }, who, { action: 'sts:AssumeRole' })).toBe(false);
    });
  });
});
