/**
 * The delegated-administrator / member APIs of Security Hub, GuardDuty and Detective, and
 * Security Hub cross-Region aggregation, driven through the real SDK clients (what an
 * organisation-wide status report reads for every account and region).
 */
import {
  AwsSecurityFinding, BatchImportFindingsCommand, BatchUpdateFindingsCommand, DescribeHubCommand, DescribeOrganizationConfigurationCommand as ShDescribeOrganizationConfigurationCommand,
  GetFindingAggregatorCommand, GetFindingsCommand, ListFindingAggregatorsCommand, ListMembersCommand as ShListMembersCommand, paginateListMembers as paginateShListMembers,
  SecurityHubClient,
} from '@aws-sdk/client-securityhub';
import {
  DescribeOrganizationConfigurationCommand as GdDescribeOrganizationConfigurationCommand, GetDetectorCommand, GuardDutyClient, ListDetectorsCommand,
  ListMembersCommand as GdListMembersCommand, paginateListMembers as paginateGdListMembers,
} from '@aws-sdk/client-guardduty';
import { DescribeOrganizationConfigurationCommand as DtDescribeOrganizationConfigurationCommand, DetectiveClient, ListGraphsCommand } from '@aws-sdk/client-detective';
import { AwsEmulator } from './server';
import { GUARDDUTY_RELATIONSHIP_STATUSES, SECURITY_HUB_MEMBER_STATUSES } from './services';
import { rejection } from './testing';


const ADMIN = '333333333333';
const M1 = '444444444444';
const M2 = '555555555555';
const OTHER = '666666666666';
const HOME = 'eu-west-1';
const L1 = 'eu-central-1';
const L2 = 'us-east-1';
const L3 = 'us-west-2';
const OPT_IN = 'me-central-1';
const CN = 'cn-north-1';

const NOT_SUBSCRIBED = (a: string): string => `Account ${a} is not subscribed to AWS Security Hub`;

/** A finding as BatchImportFindings takes it, of `account` in `region`. */
function finding(account: string, region: string, id: string, over: Partial<AwsSecurityFinding> = {}): AwsSecurityFinding {
  const partition = region.startsWith('cn-') ? 'aws-cn' : 'aws';
  return {
    SchemaVersion: '2018-10-08', Id: id, ProductArn: `arn:${partition}:securityhub:${region}:${account}:product/${account}/default`, GeneratorId: 'trailstory',
    AwsAccountId: account, Types: ['TTPs/Persistence'], CreatedAt: '2026-10-15T03:00:00Z', UpdatedAt: '2026-10-15T03:00:00Z',
    Severity: { Label: 'MEDIUM' }, Title: `finding ${id}`, Description: 'seeded', Resources: [{ Type: 'Other', Id: id }], ...over,
  };
}

// The API models: ../shared/aws-models, or the copies bundled in test/emulator/models without it.
describe('organisation services', () => {
  let emu: AwsEmulator;
  beforeAll(async () => {
    emu = await AwsEmulator.start({ seed: 3 });
  });
  afterAll(async () => {
    await emu.stop();
  });
  beforeEach(() => emu.reset());

  const sh = (account: string, region = HOME): SecurityHubClient => new SecurityHubClient(emu.clientConfig(account, region, 1));
  const gd = (account: string, region = HOME): GuardDutyClient => new GuardDutyClient(emu.clientConfig(account, region, 1));
  const dt = (account: string, region = HOME): DetectiveClient => new DetectiveClient(emu.clientConfig(account, region, 1));
  /** Stores a finding of `account` in `region` (as imported there) and returns its Id. */
  const seed = (account: string, region: string, id = `${account}/${region}`): string => {
    const f = finding(account, region, id) as unknown as Record<string, unknown>;
    emu.securityHub.put({ ...f, Region: region }, region);
    return id;
  };
  const ids = async (c: SecurityHubClient): Promise<string[]> => ((await c.send(new GetFindingsCommand({}))).Findings ?? []).map((f) => `${f.Id ?? ''}@${f.Region ?? ''}`).sort();

  describe('Security Hub DescribeHub', () => {
    it('answers InvalidAccessException (401) until the account enables Security Hub in that region, then the hub', async () => {
      expect(await rejection(sh(M1).send(new DescribeHubCommand({})))).toEqual({ name: 'InvalidAccessException', status: 401, message: NOT_SUBSCRIBED(M1) });
      emu.securityHub.enableHub(M1, HOME);
      const before = Date.now();
      const hub = await sh(M1).send(new DescribeHubCommand({}));
      expect(hub).toMatchObject({ HubArn: `arn:aws:securityhub:${HOME}:${M1}:hub/default`, AutoEnableControls: true, ControlFindingGenerator: 'SECURITY_CONTROL' });
      expect(hub.SubscribedAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
      expect(Date.parse(hub.SubscribedAt ?? '')).toBeLessThanOrEqual(before);
      // Enabling again keeps the first SubscribedAt.
      emu.securityHub.enableHub(M1, HOME);
      expect((await sh(M1).send(new DescribeHubCommand({}))).SubscribedAt).toBe(hub.SubscribedAt);
      // Regional: still not subscribed in another region, nor another account.
      expect((await rejection(sh(M1, L1).send(new DescribeHubCommand({})))).message).toBe(NOT_SUBSCRIBED(M1));
      expect((await rejection(sh(M2).send(new DescribeHubCommand({})))).name).toBe('InvalidAccessException');
    });

    it('takes its own HubArn, refuses another (ResourceNotFoundException), and names the partition of the region', async () => {
      emu.securityHub.enableHub(M1, HOME);
      await expect(sh(M1).send(new DescribeHubCommand({ HubArn: `arn:aws:securityhub:${HOME}:${M1}:hub/default` }))).resolves.toMatchObject({ HubArn: `arn:aws:securityhub:${HOME}:${M1}:hub/default` });
      expect(await rejection(sh(M1).send(new DescribeHubCommand({ HubArn: `arn:aws:securityhub:${HOME}:${M2}:hub/default` })))).toMatchObject({ name: 'ResourceNotFoundException', status: 404 });
      emu.securityHub.enableHub(M1, 'us-gov-west-1');
      expect((await sh(M1, 'us-gov-west-1').send(new DescribeHubCommand({}))).HubArn).toBe(`arn:aws-us-gov:securityhub:us-gov-west-1:${M1}:hub/default`);
    });

    it('keeps the opt-in rule of the server: an account that has not enabled the region gets 403 before any hub rule', async () => {
      emu.securityHub.enableHub(M1, OPT_IN);
      expect(await rejection(sh(M1, OPT_IN).send(new DescribeHubCommand({})))).toMatchObject({ name: 'UnrecognizedClientException', status: 403 });
      emu.enableRegions(M1, OPT_IN);
      await expect(sh(M1, OPT_IN).send(new DescribeHubCommand({}))).resolves.toMatchObject({ HubArn: `arn:aws:securityhub:${OPT_IN}:${M1}:hub/default` });
    });
  });

  describe('Security Hub DescribeOrganizationConfiguration', () => {
    it('answers the administrator of the region (Security Hub enabled for it by the designation)', async () => {
      emu.securityHub.setAdministrator(HOME, ADMIN);
      await expect(sh(ADMIN).send(new DescribeHubCommand({}))).resolves.toMatchObject({ HubArn: `arn:aws:securityhub:${HOME}:${ADMIN}:hub/default` });
      const out = await sh(ADMIN).send(new ShDescribeOrganizationConfigurationCommand({}));
      expect(out).toMatchObject({
        AutoEnable: false, MemberAccountLimitReached: false, AutoEnableStandards: 'DEFAULT', OrganizationConfiguration: { ConfigurationType: 'LOCAL', Status: 'ENABLED' },
      });
      emu.securityHub.setAdministrator(L1, ADMIN, { autoEnable: true });
      expect((await sh(ADMIN, L1).send(new ShDescribeOrganizationConfigurationCommand({}))).AutoEnable).toBe(true);
    });

    it('refuses anyone else: InvalidAccessException "not an administrator", or "not subscribed" without Security Hub', async () => {
      emu.securityHub.setAdministrator(HOME, ADMIN);
      emu.securityHub.enableHub(M1, HOME);
      expect(await rejection(sh(M1).send(new ShDescribeOrganizationConfigurationCommand({}))))
        .toEqual({ name: 'InvalidAccessException', status: 401, message: `Account ${M1} is not an administrator for this organization` });
      expect(await rejection(sh(M2).send(new ShDescribeOrganizationConfigurationCommand({})))).toEqual({ name: 'InvalidAccessException', status: 401, message: NOT_SUBSCRIBED(M2) });
      // The administrator of eu-west-1 is nobody's administrator in us-east-1.
      emu.securityHub.enableHub(ADMIN, L2);
      expect((await rejection(sh(ADMIN, L2).send(new ShDescribeOrganizationConfigurationCommand({})))).message).toBe(`Account ${ADMIN} is not an administrator for this organization`);
      // A new administrator replaces the old one in that region.
      emu.securityHub.setAdministrator(HOME, M1);
      expect((await rejection(sh(ADMIN).send(new ShDescribeOrganizationConfigurationCommand({})))).name).toBe('InvalidAccessException');
      await expect(sh(M1).send(new ShDescribeOrganizationConfigurationCommand({}))).resolves.toMatchObject({ AutoEnable: false });
    });
  });

  describe('Security Hub ListMembers', () => {
    const seven = ['444444444401', '444444444402', '444444444403', '444444444404', '444444444405', '444444444406', '444444444407'];
    const seedSeven = (): void => {
      emu.securityHub.setAdministrator(HOME, ADMIN);
      SECURITY_HUB_MEMBER_STATUSES.forEach((st, i) => emu.securityHub.addMember(HOME, ADMIN, seven[i] ?? '', st));
    };

    it('lists only Enabled members by default (OnlyAssociated TRUE), every member with OnlyAssociated false', async () => {
      seedSeven();
      const def = await sh(ADMIN).send(new ShListMembersCommand({}));
      expect(def.Members).toEqual([{
        AccountId: '444444444403', Email: '444444444403@example.com', MasterId: ADMIN, AdministratorId: ADMIN, MemberStatus: 'Enabled',
        InvitedAt: expect.any(Date), UpdatedAt: expect.any(Date),
      }]);
      expect(def.NextToken).toBeUndefined();
      expect((await sh(ADMIN).send(new ShListMembersCommand({ OnlyAssociated: true }))).Members?.map((m) => m.AccountId)).toEqual(['444444444403']);
      const all = await sh(ADMIN).send(new ShListMembersCommand({ OnlyAssociated: false }));
      expect(all.Members?.map((m) => [m.AccountId, m.MemberStatus])).toEqual([
        ['444444444401', 'Created'], ['444444444402', 'Invited'], ['444444444403', 'Enabled'], ['444444444404', 'Removed'],
        ['444444444405', 'Resigned'], ['444444444406', 'Deleted'], ['444444444407', 'AccountSuspended'],
      ]);
      // Created: added, not invited yet, so no InvitedAt.
      expect(all.Members?.[0]?.InvitedAt).toBeUndefined();
      expect(all.Members?.[1]?.InvitedAt).toBeInstanceOf(Date);
      // An Enabled member has Security Hub enabled; an Invited one has not.
      await expect(sh('444444444403').send(new DescribeHubCommand({}))).resolves.toBeDefined();
      expect((await rejection(sh('444444444402').send(new DescribeHubCommand({})))).name).toBe('InvalidAccessException');
    });

    it('pages by MaxResults (1-50 per the model) with a NextToken bound to the parameters', async () => {
      seedSeven();
      const pages: string[][] = [];
      for await (const p of paginateShListMembers({ client: sh(ADMIN), pageSize: 3 }, { OnlyAssociated: false })) pages.push((p.Members ?? []).map((m) => m.AccountId ?? ''));
      expect(pages).toEqual([seven.slice(0, 3), seven.slice(3, 6), seven.slice(6)]);
      const first = await sh(ADMIN).send(new ShListMembersCommand({ OnlyAssociated: false, MaxResults: 3 }));
      expect(await rejection(sh(ADMIN).send(new ShListMembersCommand({ OnlyAssociated: true, MaxResults: 3, NextToken: first.NextToken })))).toMatchObject({ name: 'InvalidInputException', status: 400 });
      expect((await rejection(sh(ADMIN).send(new ShListMembersCommand({ NextToken: 'garbage' })))).name).toBe('InvalidInputException');
      expect(await rejection(sh(ADMIN).send(new ShListMembersCommand({ MaxResults: 51 })))).toMatchObject({ name: 'InvalidInputException', status: 400 });
      expect((await rejection(sh(ADMIN).send(new ShListMembersCommand({ MaxResults: 51 })))).message).toMatch(/MaxResults/);
    });

    it('is regional and per administrator: others list nothing; without Security Hub InvalidAccessException', async () => {
      seedSeven();
      emu.securityHub.enableHub(ADMIN, L1);
      expect((await sh(ADMIN, L1).send(new ShListMembersCommand({ OnlyAssociated: false }))).Members).toEqual([]);
      emu.securityHub.enableHub(OTHER, HOME);
      expect((await sh(OTHER).send(new ShListMembersCommand({ OnlyAssociated: false }))).Members).toEqual([]);
      expect(await rejection(sh(M2).send(new ShListMembersCommand({})))).toEqual({ name: 'InvalidAccessException', status: 401, message: NOT_SUBSCRIBED(M2) });
    });

    it('addMember refuses a status the API reference does not list, the administrator itself, and a second administrator', () => {
      expect(() => emu.securityHub.addMember(HOME, ADMIN, M1, 'Associated')).toThrow(/MemberStatus Associated is not one of Created, Invited, Enabled, Removed, Resigned, Deleted, AccountSuspended/);
      expect(() => emu.securityHub.addMember(HOME, ADMIN, ADMIN, 'Enabled')).toThrow(/its own member/);
      emu.securityHub.addMember(HOME, ADMIN, M1, 'Enabled');
      expect(() => emu.securityHub.addMember(HOME, OTHER, M1, 'Invited')).toThrow(/already an Enabled member of 333333333333/);
      emu.securityHub.addMember(L1, OTHER, M1, 'Enabled'); // another region: another administrator is fine
    });

    it('an Enabled member lets its administrator read and update its findings in that region only; other statuses do not', async () => {
      emu.securityHub.setAdministrator(HOME, ADMIN);
      emu.securityHub.addMember(HOME, ADMIN, M1, 'Enabled');
      emu.securityHub.addMember(HOME, ADMIN, M2, 'Invited');
      seed(M1, HOME);
      seed(M2, HOME);
      seed(ADMIN, HOME);
      seed(M1, L1);
      emu.securityHub.enableHub(ADMIN, L1);
      expect(await ids(sh(ADMIN))).toEqual([`${ADMIN}/${HOME}@${HOME}`, `${M1}/${HOME}@${HOME}`]);
      expect(await ids(sh(ADMIN, L1))).toEqual([]);
      expect(await ids(sh(M1))).toEqual([`${M1}/${HOME}@${HOME}`]);
      const pa = (a: string, r: string): string => `arn:aws:securityhub:${r}:${a}:product/${a}/default`;
      const upd = await sh(ADMIN).send(new BatchUpdateFindingsCommand({
        FindingIdentifiers: [{ Id: `${M1}/${HOME}`, ProductArn: pa(M1, HOME) }, { Id: `${M2}/${HOME}`, ProductArn: pa(M2, HOME) }], Workflow: { Status: 'NOTIFIED' },
      }));
      expect(upd.ProcessedFindings).toEqual([{ Id: `${M1}/${HOME}`, ProductArn: pa(M1, HOME) }]);
      expect(upd.UnprocessedFindings).toEqual([{ FindingIdentifier: { Id: `${M2}/${HOME}`, ProductArn: pa(M2, HOME) }, ErrorCode: 'AccessDeniedException', ErrorMessage: `Account ${ADMIN} may not update findings of account ${M2}` }]);
      expect(emu.securityHub.get(`${M1}/${HOME}`, HOME)?.Workflow).toEqual({ Status: 'NOTIFIED' });
      // linkMembers stays region-less.
      emu.securityHub.linkMembers(ADMIN, [M1]);
      expect(await ids(sh(ADMIN, L1))).toEqual([`${M1}/${L1}@${L1}`]);
    });
  });

  describe('Security Hub finding aggregators', () => {
    it('ListFindingAggregators answers the account\'s aggregator in any region where Security Hub is enabled; GetFindingAggregator its configuration', async () => {
      emu.securityHub.enableHub(ADMIN, HOME);
      expect((await sh(ADMIN).send(new ListFindingAggregatorsCommand({}))).FindingAggregators).toEqual([]);
      const arn = emu.securityHub.createFindingAggregator(ADMIN, HOME, 'SPECIFIED_REGIONS', [L1, L2]);
      expect(arn).toMatch(new RegExp(`^arn:aws:securityhub:${HOME}:${ADMIN}:finding-aggregator/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`));
      for (const r of [HOME, L1]) {
        emu.securityHub.enableHub(ADMIN, r);
        const list = await sh(ADMIN, r).send(new ListFindingAggregatorsCommand({}));
        expect(list.FindingAggregators).toEqual([{ FindingAggregatorArn: arn }]);
        expect(list.NextToken).toBeUndefined();
        expect(await sh(ADMIN, r).send(new GetFindingAggregatorCommand({ FindingAggregatorArn: arn }))).toMatchObject({
          FindingAggregatorArn: arn, FindingAggregationRegion: HOME, RegionLinkingMode: 'SPECIFIED_REGIONS', Regions: [L1, L2],
        });
      }
      // Another account has none, and cannot read this one.
      emu.securityHub.enableHub(OTHER, HOME);
      expect((await sh(OTHER).send(new ListFindingAggregatorsCommand({}))).FindingAggregators).toEqual([]);
      expect(await rejection(sh(OTHER).send(new GetFindingAggregatorCommand({ FindingAggregatorArn: arn })))).toMatchObject({ name: 'ResourceNotFoundException', status: 404 });
      expect((await rejection(sh(ADMIN).send(new GetFindingAggregatorCommand({ FindingAggregatorArn: `${arn.slice(0, -1)}${arn.endsWith('0') ? '1' : '0'}` }) /* another aggregator's ARN */))).name).toBe('ResourceNotFoundException');
      // Without Security Hub in the calling region.
      expect(await rejection(sh(ADMIN, L3).send(new ListFindingAggregatorsCommand({})))).toEqual({ name: 'InvalidAccessException', status: 401, message: NOT_SUBSCRIBED(ADMIN) });
      expect((await rejection(sh(ADMIN, L3).send(new GetFindingAggregatorCommand({ FindingAggregatorArn: arn })))).name).toBe('InvalidAccessException');
      // MaxResults 1-100 per the model.
      expect((await rejection(sh(ADMIN).send(new ListFindingAggregatorsCommand({ MaxResults: 101 })))).name).toBe('InvalidInputException');
    });

    it.each([
      ['ALL_REGIONS', [] as string[]],
      ['ALL_REGIONS_EXCEPT_SPECIFIED', [L2]],
      ['NO_REGIONS', [] as string[]],
    ] as const)('GetFindingAggregator answers %s with Regions only when the mode takes a list', async (mode, regions) => {
      const arn = emu.securityHub.createFindingAggregator(ADMIN, HOME, mode, [...regions]);
      const out = await sh(ADMIN).send(new GetFindingAggregatorCommand({ FindingAggregatorArn: arn }));
      expect(out).toMatchObject({ FindingAggregatorArn: arn, FindingAggregationRegion: HOME, RegionLinkingMode: mode });
      expect(out.Regions).toEqual(regions.length ? regions : undefined);
    });

    it('createFindingAggregator enables the hub in the home Region and refuses what AWS refuses', () => {
      expect(() => emu.securityHub.createFindingAggregator(ADMIN, OPT_IN, 'ALL_REGIONS')).toThrow(/opt-in Region and cannot be the home Region/);
      expect(() => emu.securityHub.createFindingAggregator(ADMIN, HOME, 'SPECIFIED_REGIONS')).toThrow(/needs the list of Regions/);
      expect(() => emu.securityHub.createFindingAggregator(ADMIN, HOME, 'NO_REGIONS', [L1])).toThrow(/takes no list/);
      expect(() => emu.securityHub.createFindingAggregator(ADMIN, HOME, 'SOME' as never)).toThrow(/RegionLinkingMode SOME/);
      emu.securityHub.createFindingAggregator(ADMIN, HOME, 'ALL_REGIONS');
      expect(emu.securityHub.isHubEnabled(ADMIN, HOME)).toBe(true);
      expect(() => emu.securityHub.createFindingAggregator(ADMIN, L1, 'ALL_REGIONS')).toThrow(/already has a finding aggregator/);
    });
  });

  describe('Security Hub cross-Region aggregation', () => {
    /** Findings of ADMIN in the home Region, three linked candidates, an opt-in Region and another partition. */
    const seedRegions = (): void => {
      for (const r of [HOME, L1, L2, L3, OPT_IN, CN]) seed(ADMIN, r);
      emu.securityHub.enableHub(ADMIN, L1);
    };
    const at = (r: string): string => `${ADMIN}/${r}@${r}`;

    it('without an aggregator GetFindings is regional', async () => {
      seedRegions();
      expect(await ids(sh(ADMIN))).toEqual([at(HOME)]);
      expect(await ids(sh(ADMIN, L1))).toEqual([at(L1)]);
    });

    it.each([
      ['ALL_REGIONS', [] as string[], [HOME, L1, L2, L3]],
      ['ALL_REGIONS_EXCEPT_SPECIFIED', [L2], [HOME, L1, L3]],
      ['SPECIFIED_REGIONS', [L1], [HOME, L1]],
      ['NO_REGIONS', [] as string[], [HOME]],
    ] as const)('%s %j: the home Region sees its own and the linked Regions\' findings (each with its Region); a linked Region only its own', async (mode, regions, seen) => {
      seedRegions();
      emu.securityHub.createFindingAggregator(ADMIN, HOME, mode, [...regions]);
      expect(await ids(sh(ADMIN))).toEqual(seen.map(at).sort());
      expect(await ids(sh(ADMIN, L1))).toEqual([at(L1)]);
      // Filters still apply across regions.
      const only = await sh(ADMIN).send(new GetFindingsCommand({ Filters: { Region: [{ Value: HOME, Comparison: 'NOT_EQUALS' }] } }));
      expect((only.Findings ?? []).map((f) => f.Region).sort()).toEqual(seen.filter((r) => r !== HOME).sort());
    });

    it('an opt-in Region is linked once the account has enabled it; another partition never', async () => {
      seedRegions();
      emu.securityHub.createFindingAggregator(ADMIN, HOME, 'ALL_REGIONS');
      expect(await ids(sh(ADMIN))).not.toContain(at(OPT_IN));
      emu.enableRegions(ADMIN, OPT_IN);
      expect(await ids(sh(ADMIN))).toEqual([HOME, L1, L2, L3, OPT_IN].map(at).sort());
      expect(await ids(sh(ADMIN))).not.toContain(at(CN));
    });

    it('the administrator\'s home Region shows its Enabled members\' findings of the linked Regions; a member without an aggregator sees its own home region only', async () => {
      emu.securityHub.setAdministrator(HOME, ADMIN);
      emu.securityHub.setAdministrator(L1, ADMIN);
      emu.securityHub.addMember(L1, ADMIN, M1, 'Enabled');
      emu.securityHub.addMember(L1, ADMIN, M2, 'Invited');
      seed(M1, L1);
      seed(M2, L1);
      seed(M1, HOME);
      emu.securityHub.createFindingAggregator(ADMIN, HOME, 'ALL_REGIONS');
      expect(await ids(sh(ADMIN))).toEqual([`${M1}/${L1}@${L1}`]); // M1 is no member in HOME, M2 not Enabled
      expect(await ids(sh(M1))).toEqual([`${M1}/${HOME}@${HOME}`]);
    });

    it('BatchUpdateFindings in the home Region updates a linked Region\'s finding where it lives; not from another linked Region, nor unlinked', async () => {
      seedRegions();
      emu.securityHub.createFindingAggregator(ADMIN, HOME, 'SPECIFIED_REGIONS', [L1, L2]);
      const fi = { Id: `${ADMIN}/${L1}`, ProductArn: `arn:aws:securityhub:${L1}:${ADMIN}:product/${ADMIN}/default` };
      const out = await sh(ADMIN).send(new BatchUpdateFindingsCommand({ FindingIdentifiers: [fi], Note: { Text: 'from home', UpdatedBy: 'trailstory' } }));
      expect(out).toMatchObject({ ProcessedFindings: [fi], UnprocessedFindings: [] });
      expect(emu.securityHub.get(fi.Id, L1)?.Note).toMatchObject({ Text: 'from home', UpdatedBy: 'trailstory' });
      expect(emu.securityHub.findings.get(HOME)?.size).toBe(1); // no copy landed in the home store
      const back = await sh(ADMIN, L1).send(new GetFindingsCommand({ Filters: { Id: [{ Value: fi.Id, Comparison: 'EQUALS' }] } }));
      expect(back.Findings?.[0]).toMatchObject({ Region: L1, Note: { Text: 'from home' } });
      // From the linked Region us-east-1, eu-central-1's finding is not there.
      const fromL2 = await sh(ADMIN, L2).send(new BatchUpdateFindingsCommand({ FindingIdentifiers: [fi], Note: { Text: 'x', UpdatedBy: 'y' } }));
      expect(fromL2.UnprocessedFindings).toEqual([{ FindingIdentifier: fi, ErrorCode: 'FindingNotFound', ErrorMessage: 'Finding Not Found' }]);
      // us-west-2 is not linked.
      const l3 = { Id: `${ADMIN}/${L3}`, ProductArn: `arn:aws:securityhub:${L3}:${ADMIN}:product/${ADMIN}/default` };
      expect((await sh(ADMIN).send(new BatchUpdateFindingsCommand({ FindingIdentifiers: [l3], Note: { Text: 'x', UpdatedBy: 'y' } }))).UnprocessedFindings?.[0]?.ErrorCode).toBe('FindingNotFound');
    });

    it('BatchImportFindings stays regional: a ProductArn of a linked Region is refused in the home Region; imported in its own region it shows in the home Region', async () => {
      emu.securityHub.createFindingAggregator(ADMIN, HOME, 'ALL_REGIONS');
      const wrong = finding(ADMIN, L1, 'imported');
      const out = await sh(ADMIN).send(new BatchImportFindingsCommand({ Findings: [wrong] }));
      expect(out).toMatchObject({ SuccessCount: 0, FailedCount: 1 });
      expect(out.FailedFindings?.[0]).toMatchObject({ Id: 'imported', ErrorCode: 'AccessDeniedException' });
      expect(out.FailedFindings?.[0]?.ErrorMessage).toContain(`the caller may import only with arn:aws:securityhub:${HOME}:${ADMIN}:product/${ADMIN}/default`);
      expect(emu.securityHub.all()).toEqual([]);
      await expect(sh(ADMIN, L1).send(new BatchImportFindingsCommand({ Findings: [wrong] }))).resolves.toMatchObject({ SuccessCount: 1, FailedCount: 0 });
      expect(emu.securityHub.all(L1).map((f) => f.Id)).toEqual(['imported']);
      expect(await ids(sh(ADMIN))).toEqual([`imported@${L1}`]);
    });
  });

  describe('GuardDuty', () => {
    it('GetDetector answers the detector with its Status ENABLED / DISABLED; another account\'s detector is BadRequestException', async () => {
      const id = emu.guardDuty.ensureDetector(M1, HOME);
      const on = await gd(M1).send(new GetDetectorCommand({ DetectorId: id }));
      expect(on).toMatchObject({
        Status: 'ENABLED', FindingPublishingFrequency: 'SIX_HOURS',
        ServiceRole: `arn:aws:iam::${M1}:role/aws-service-role/guardduty.amazonaws.com/AWSServiceRoleForAmazonGuardDuty`,
      });
      expect(Number.isNaN(Date.parse(on.CreatedAt ?? ''))).toBe(false);
      expect(emu.guardDuty.setDetectorStatus(M1, HOME, 'DISABLED')).toBe(id);
      const off = await gd(M1).send(new GetDetectorCommand({ DetectorId: id }));
      expect(off).toMatchObject({ Status: 'DISABLED', CreatedAt: on.CreatedAt });
      expect(Date.parse(off.UpdatedAt ?? '')).toBeGreaterThanOrEqual(Date.parse(on.UpdatedAt ?? ''));
      // A suspended detector is still listed.
      expect((await gd(M1).send(new ListDetectorsCommand({}))).DetectorIds).toEqual([id]);
      expect(await rejection(gd(M2).send(new GetDetectorCommand({ DetectorId: id }))))
        .toEqual({ name: 'BadRequestException', status: 400, message: 'The request is rejected because the input detectorId is not owned by the current account.' });
      // setDetectorStatus creates a missing detector.
      const created = emu.guardDuty.setDetectorStatus(M2, L1, 'DISABLED');
      expect((await gd(M2, L1).send(new ListDetectorsCommand({}))).DetectorIds).toEqual([created]);
      expect((await gd(M2, L1).send(new GetDetectorCommand({ DetectorId: created }))).Status).toBe('DISABLED');
    });

    it('DescribeOrganizationConfiguration answers the delegated administrator (detector created by the designation) with AutoEnableOrganizationMembers', async () => {
      emu.guardDuty.setAdministrator(HOME, ADMIN);
      const [det] = (await gd(ADMIN).send(new ListDetectorsCommand({}))).DetectorIds ?? [];
      expect(det).toMatch(/^[0-9a-f]{32}$/);
      expect(await gd(ADMIN).send(new GdDescribeOrganizationConfigurationCommand({ DetectorId: det }))).toMatchObject({ AutoEnable: false, AutoEnableOrganizationMembers: 'NONE', MemberAccountLimitReached: false });
      for (const mode of ['NEW', 'ALL'] as const) {
        emu.guardDuty.setAdministrator(HOME, ADMIN, { autoEnableOrganizationMembers: mode });
        expect(await gd(ADMIN).send(new GdDescribeOrganizationConfigurationCommand({ DetectorId: det }))).toMatchObject({ AutoEnable: true, AutoEnableOrganizationMembers: mode, MemberAccountLimitReached: false });
      }
      expect(() => emu.guardDuty.setAdministrator(HOME, ADMIN, { autoEnableOrganizationMembers: 'SOME' as never })).toThrow(/NEW, ALL, NONE/);
    });

    it('DescribeOrganizationConfiguration refuses others with BadRequestException', async () => {
      emu.guardDuty.setAdministrator(HOME, ADMIN);
      const mine = emu.guardDuty.ensureDetector(M1, HOME);
      expect(await rejection(gd(M1).send(new GdDescribeOrganizationConfigurationCommand({ DetectorId: mine }))))
        .toEqual({ name: 'BadRequestException', status: 400, message: 'The request failed because you do not have required AWS Organization master permission.' });
      // The administrator of eu-west-1 is not the administrator in eu-central-1.
      const l1 = emu.guardDuty.ensureDetector(ADMIN, L1);
      expect((await rejection(gd(ADMIN, L1).send(new GdDescribeOrganizationConfigurationCommand({ DetectorId: l1 })))).message).toMatch(/Organization master permission/);
      // Someone else's detector id.
      const adminDet = emu.guardDuty.ensureDetector(ADMIN, HOME);
      expect((await rejection(gd(M1).send(new GdDescribeOrganizationConfigurationCommand({ DetectorId: adminDet })))).message).toMatch(/not owned by the current account/);
    });

    it('ListMembers: onlyAssociated (default true) lists Enabled and Disabled, "false" every relationship status', async () => {
      emu.guardDuty.setAdministrator(HOME, ADMIN);
      const det = emu.guardDuty.ensureDetector(ADMIN, HOME);
      const accounts = GUARDDUTY_RELATIONSHIP_STATUSES.map((_, i) => `7777777777${String(i).padStart(2, '0')}`);
      GUARDDUTY_RELATIONSHIP_STATUSES.forEach((st, i) => emu.guardDuty.addMember(HOME, ADMIN, accounts[i] ?? '', st));
      const def = await gd(ADMIN).send(new GdListMembersCommand({ DetectorId: det }));
      expect(def.Members?.map((m) => [m.AccountId, m.RelationshipStatus])).toEqual([[accounts[2], 'Disabled'], [accounts[3], 'Enabled']]);
      const enabled = def.Members?.[1];
      expect(enabled).toMatchObject({ MasterId: ADMIN, AdministratorId: ADMIN, Email: `${accounts[3] ?? ''}@example.com`, DetectorId: emu.guardDuty.detectors.get(`${accounts[3] ?? ''}:${HOME}`) });
      expect(enabled?.DetectorId).toMatch(/^[0-9a-f]{32}$/);
      expect(Number.isNaN(Date.parse(enabled?.UpdatedAt ?? ''))).toBe(false);
      expect(def.Members?.[0]?.DetectorId).toBeUndefined();
      expect((await gd(ADMIN).send(new GdListMembersCommand({ DetectorId: det, OnlyAssociated: 'TRUE' }))).Members).toHaveLength(2);
      const all = await gd(ADMIN).send(new GdListMembersCommand({ DetectorId: det, OnlyAssociated: 'false' }));
      expect(all.Members?.map((m) => m.RelationshipStatus)).toEqual([...GUARDDUTY_RELATIONSHIP_STATUSES]);
      expect(all.Members?.[0]?.InvitedAt).toBeUndefined(); // Created: not invited yet
      expect(all.Members?.[1]?.InvitedAt).toMatch(/^\d{4}-\d{2}-\d{2}T/);
      expect(await rejection(gd(ADMIN).send(new GdListMembersCommand({ DetectorId: det, OnlyAssociated: 'maybe' }))))
        .toEqual({ name: 'BadRequestException', status: 400, message: 'The request is rejected because an invalid or out-of-range value is specified as an input parameter.' });
    });

    it('ListMembers pages by MaxResults (1-50), is per administrator and region, and needs the caller\'s detector', async () => {
      emu.guardDuty.setAdministrator(HOME, ADMIN);
      const det = emu.guardDuty.ensureDetector(ADMIN, HOME);
      const accounts = Array.from({ length: 7 }, (_, i) => `88888888880${i}`);
      for (const a of accounts) emu.guardDuty.addMember(HOME, ADMIN, a, 'Enabled');
      const pages: string[][] = [];
      for await (const p of paginateGdListMembers({ client: gd(ADMIN), pageSize: 3 }, { DetectorId: det })) pages.push((p.Members ?? []).map((m) => m.AccountId ?? ''));
      expect(pages).toEqual([accounts.slice(0, 3), accounts.slice(3, 6), accounts.slice(6)]);
      expect(await rejection(gd(ADMIN).send(new GdListMembersCommand({ DetectorId: det, NextToken: 'garbage' })))).toMatchObject({ name: 'BadRequestException', status: 400 });
      expect((await rejection(gd(ADMIN).send(new GdListMembersCommand({ DetectorId: det, MaxResults: 51 })))).name).toBe('BadRequestException');
      const other = emu.guardDuty.ensureDetector(OTHER, HOME);
      expect((await gd(OTHER).send(new GdListMembersCommand({ DetectorId: other, OnlyAssociated: 'false' }))).Members).toEqual([]);
      const l1 = emu.guardDuty.ensureDetector(ADMIN, L1);
      expect((await gd(ADMIN, L1).send(new GdListMembersCommand({ DetectorId: l1, OnlyAssociated: 'false' }))).Members).toEqual([]);
      expect((await rejection(gd(OTHER).send(new GdListMembersCommand({ DetectorId: det })))).message).toMatch(/not owned by the current account/);
      expect(() => emu.guardDuty.addMember(HOME, ADMIN, M1, 'Associated')).toThrow(/RelationshipStatus Associated is not one of/);
      expect(() => emu.guardDuty.addMember(HOME, ADMIN, ADMIN, 'Enabled')).toThrow(/its own member/);
    });
  });

  describe('Detective DescribeOrganizationConfiguration', () => {
    it('answers AutoEnable to the administrator of the graph (false until set)', async () => {
      const graph = emu.detective.createGraph(ADMIN, HOME);
      expect(await dt(ADMIN).send(new DtDescribeOrganizationConfigurationCommand({ GraphArn: graph }))).toMatchObject({ AutoEnable: false });
      emu.detective.setAutoEnable(graph, true);
      expect(await dt(ADMIN).send(new DtDescribeOrganizationConfigurationCommand({ GraphArn: graph }))).toMatchObject({ AutoEnable: true });
      expect(() => emu.detective.setAutoEnable(graph.replace(/[0-9a-f]{32}$/, '0'.repeat(32)), true)).toThrow(/no behavior graph/);
    });

    it('refuses a member, another graph\'s administrator and the administrator in another region with AccessDeniedException (403)', async () => {
      const graph = emu.detective.createGraph(ADMIN, HOME);
      emu.detective.setMember(graph, M1, 'ENABLED');
      emu.detective.createGraph(OTHER, HOME);
      emu.detective.createGraph(ADMIN, L1);
      const denied = { name: 'AccessDeniedException', status: 403, message: 'The request issuer does not have permission to access this resource or perform this operation.' };
      expect(await rejection(dt(M1).send(new DtDescribeOrganizationConfigurationCommand({ GraphArn: graph })))).toEqual(denied);
      expect(await rejection(dt(OTHER).send(new DtDescribeOrganizationConfigurationCommand({ GraphArn: graph })))).toEqual(denied);
      expect(await rejection(dt(ADMIN, L1).send(new DtDescribeOrganizationConfigurationCommand({ GraphArn: graph })))).toEqual(denied);
      // The model's GraphArn pattern is checked first.
      expect(await rejection(dt(ADMIN).send(new DtDescribeOrganizationConfigurationCommand({ GraphArn: 'arn:aws:detective:eu-west-1:333333333333:graph:xyz' })))).toMatchObject({ name: 'ValidationException', status: 400 });
      expect((await dt(M1).send(new ListGraphsCommand({}))).GraphList).toEqual([]);
    });
  });
});
