/**
 * `trailstory org-status`: is the organisation ready for trailstory? From the delegated-admin
 * account, for every account of the organisation and every region asked for, it reads:
 *
 * - Organizations: the organisation, its accounts, the delegated administrators of Security
 *   Hub, GuardDuty and Detective (DescribeOrganization, ListAccounts, ListDelegatedAdministrators);
 * - Security Hub: the hub (DescribeHub), the organisation configuration (auto-enable), the
 *   members (ListMembers, OnlyAssociated=false) and the cross-Region aggregator
 *   (ListFindingAggregators, GetFindingAggregator);
 * - GuardDuty: the detector (ListDetectors, GetDetector), the organisation configuration
 *   (AutoEnableOrganizationMembers) and the members;
 * - Detective: the behavior graph (ListGraphs), its members and auto-enable;
 * - the member role: assumed in each account (regional STS, with the ExternalId) and used for
 *   GetCallerIdentity, in the stack's region and in every opt-in region asked for.
 *
 * Each problem becomes a {@link Gap} with the command that fixes it. Nothing is written.
 * API references: Organizations, Security Hub, GuardDuty, Detective and STS API references
 * (the models in shared/aws-models); opt-in regions: AWS Account Management Reference Guide,
 * "Enable or disable AWS Regions in your account".
 */
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { DescribeOrganizationCommand, ListDelegatedAdministratorsCommand, paginateListAccounts, type Account } from '@aws-sdk/client-organizations';
import {
  DescribeHubCommand, DescribeOrganizationConfigurationCommand as ShOrgConfig, GetFindingAggregatorCommand, ListFindingAggregatorsCommand,
  paginateListMembers as paginateShMembers,
} from '@aws-sdk/client-securityhub';
import {
  DescribeOrganizationConfigurationCommand as GdOrgConfig, GetDetectorCommand, ListDetectorsCommand, paginateListMembers as paginateGdMembers,
} from '@aws-sdk/client-guardduty';
import { DescribeOrganizationConfigurationCommand as DtOrgConfig, ListGraphsCommand, paginateListMembers as paginateDtMembers } from '@aws-sdk/client-detective';
import pLimit from 'p-limit';
import type { ClientSet } from '../clients';
import { errorLine, errorName, isRegionOff, type AccountClients } from '../clients/accounts';

/** The part of trailstory a gap is about. */
export type Component = 'Organizations' | 'Security Hub' | 'GuardDuty' | 'Detective' | 'member role' | 'aggregation' | 'region';

/** One thing that keeps trailstory from covering an account and region, and how to fix it. */
export interface Gap {
  /** The account the gap is in (12 digits). */
  account: string;
  /** The region, or `global` (Organizations, IAM). */
  region: string;
  component: Component;
  problem: string;
  /** A command (AWS CLI) or step that fixes it, and which account runs it. */
  fix: string;
  /** A passing failure (throttling, a server error, the network): nothing to fix, run again. */
  retry?: boolean;
}

/** The state of one service (or the member role) for one account in one region, as a short word for the table. */
export type CellState = string;

/** One account in one region. */
export interface AccountRegionStatus {
  account: string;
  name: string;
  region: string;
  /** `admin`, `Enabled` (healthy member), another MemberStatus, `not a member`, `?` (not readable). */
  securityHub: CellState;
  /** `admin`, `Enabled`, another RelationshipStatus, `not a member`, `?`. */
  guardDuty: CellState;
  /** `admin`, `ENABLED`, another member status, `not a member`, `no graph`, `off` (not asked for), `?`. */
  detective: CellState;
  /** `ok`, `self` (the admin account: no role needed), `refused`, `region disabled`, `not checked`. */
  memberRole: CellState;
}

/** What {@link orgStatus} reports (`--format json` prints it as is). */
export interface OrgStatus {
  /** ISO 8601 time of the check. */
  checkedAt: string;
  /** The account the check ran from (the delegated administrator) and the caller's ARN. */
  adminAccount: string;
  caller: string;
  organizationId: string | null;
  managementAccount: string | null;
  /** Service principal → delegated administrator accounts (Organizations ListDelegatedAdministrators). */
  delegatedAdministrators: Record<string, string[]>;
  /** Security Hub cross-Region aggregation (GetFindingAggregator), or null when there is none. */
  aggregation: { homeRegion: string; regionLinkingMode: string; regions: string[] } | null;
  regions: string[];
  /** One row per account and region, by account ID, then in the order of `regions`. */
  accounts: AccountRegionStatus[];
  gaps: Gap[];
  /** AWS API calls made, by `service:Operation` (each page counted; the SDK's own retries not). */
  requests: Record<string, number>;
}

/** Options of {@link orgStatus}. */
export interface OrgStatusOptions {
  /** The delegated-admin account the check runs from (STS GetCallerIdentity). */
  adminAccount: string;
  /** The caller's ARN, shown in the report: the member role trusts only the enrich worker's role. */
  caller: string;
  /** Regions to check (at least one). */
  regions: string[];
  /** The region the main stack runs in; the member role is checked there for every account. */
  stackRegion: string;
  /** Check Detective (the stack's UseDetective). */
  useDetective: boolean;
  /** Check that the member role can be assumed (default true). */
  checkMemberRole?: boolean;
  /** Name of the member StackSet, for the fixes (docs/rollout.md: `trailstory-member-role`). */
  stackSetName?: string;
  /** Parallel member-role checks (default 8). */
  concurrency?: number;
  now?: Date;
}

/** The service principals whose delegated administrator trailstory relies on. */
export const SERVICE_PRINCIPALS: Record<'Security Hub' | 'GuardDuty' | 'Detective', string> = {
  'Security Hub': 'securityhub.amazonaws.com',
  GuardDuty: 'guardduty.amazonaws.com',
  Detective: 'detective.amazonaws.com',
};

/**
 * Regions that are disabled until an account opts in (AWS Account Management Reference Guide,
 * "Enable or disable AWS Regions in your account"; the partition `aws`). An account's role is
 * only usable there once the account has enabled the region, so it is checked in each of them.
 */
export const OPT_IN_REGIONS: ReadonlySet<string> = new Set([
  'af-south-1', 'ap-east-1', 'ap-east-2', 'ap-south-2', 'ap-southeast-3', 'ap-southeast-4', 'ap-southeast-5', 'ap-southeast-6', 'ap-southeast-7',
  'ca-west-1', 'eu-central-2', 'eu-south-1', 'eu-south-2', 'il-central-1', 'me-central-1', 'me-south-1', 'mx-central-1',
]);

/** Healthy member states: Security Hub MemberStatus, GuardDuty RelationshipStatus, Detective MemberStatus. */
const HEALTHY = { 'Security Hub': new Set(['Enabled', 'Associated']), GuardDuty: new Set(['Enabled']), Detective: new Set(['ENABLED']) };


/**
 * A failure that says nothing about the organisation's setup: throttling, a server error, the
 * network or a timeout (the SDK's own retries already spent). It becomes a `?` and a gap that
 * says to run again, never a configuration fix.
 */
export function isPassingFailure(e: unknown): boolean {
  const err = e as { name?: string; $retryable?: unknown; $metadata?: { httpStatusCode?: number }; code?: string } | null;
  if (!err) return true;
  if (err.$retryable) return true;
  const status = err.$metadata?.httpStatusCode;
  if (status !== undefined && (status >= 500 || status === 429)) return true;
  if (status === undefined && !isRegionOff(e)) return true; // no answer at all: network, timeout
  return /Throttl|TooManyRequests|RequestLimitExceeded|SlowDown|ServiceUnavailable|InternalServer|InternalFailure|InternalException|Timeout|TimedOut|ECONN|EPIPE|socket/i.test(`${errorName(e)} ${err.code ?? ''}`);
}

/** The fix of a passing failure. */
const RERUN = 're-run org-status (the SDK already retried; if it persists, check the AWS Health Dashboard and the service quotas)';

/** The services org-status calls (their classes: ORG_STATUS_CLIENTS in ./run). */
export type OrgStatusClient = 'sts' | 'organizations' | 'securityHub' | 'guardDuty' | 'detective';

/**
 * Reads the organisation's readiness for trailstory. `clients` are the admin account's own;
 * `members` reach member accounts through the member role. Regions are deduplicated.
 * @throws Error when `regions` is empty; otherwise only on programming errors: every AWS error
 *   becomes a gap or a `?` cell.
 */
export async function orgStatus(clients: ClientSet<OrgStatusClient>, members: AccountClients<OrgStatusClient>, opts: OrgStatusOptions): Promise<OrgStatus> {
  const regionList = [...new Set(opts.regions)];
  if (regionList.length === 0) throw new Error('org-status: no region to check');
  const admin = opts.adminAccount;
  const requests: Record<string, number> = {};
  const gaps: Gap[] = [];
  const stackSet = opts.stackSetName ?? 'trailstory-member-role';
  const count = (api: string, n = 1) => (requests[api] = (requests[api] ?? 0) + n);
  /** Runs one AWS call, counted; resolves to its output or the error. */
  const call = async <T>(api: string, fn: () => Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> => {
    count(api);
    try {
      return { ok: true, value: await fn() };
    } catch (error) {
      return { ok: false, error };
    }
  };
  /** Pages through a paginator, counting each page. */
  const pages = async <P>(api: string, it: () => AsyncIterable<P>): Promise<{ ok: true; value: P[] } | { ok: false; error: unknown }> => {
    const out: P[] = [];
    try {
      for await (const p of it()) {
        count(api);
        out.push(p);
      }
      return { ok: true, value: out };
    } catch (error) {
      count(api);
      return { ok: false, error };
    }
  };
  /**
   * A failed read: a passing failure says "re-run" (and `retry: true`); any other error is what
   * `setup` says it means for the configuration.
   */
  const failed = (account: string, region: string, component: Component, what: string, error: unknown, setup: { problem: string; fix: string; errorName?: boolean }): Gap =>
    isPassingFailure(error)
      ? { account, region, component, problem: `${what} could not be read (${errorLine(error)})`, fix: RERUN, retry: true }
      : { account, region, component, problem: `${setup.problem} (${setup.errorName ? errorName(error) : errorLine(error)})`, fix: setup.fix };

  // ── Organizations ──
  const org = clients.organizations();
  let organizationId: string | null = null;
  let managementAccount: string | null = null;
  const orgSetup = { problem: 'the organisation cannot be read', fix: 'run org-status from the delegated-admin account, with organizations:DescribeOrganization, ListAccounts and ListDelegatedAdministrators allowed' };
  const described = await call('organizations:DescribeOrganization', () => org.send(new DescribeOrganizationCommand({})));
  if (described.ok) {
    organizationId = described.value.Organization?.Id ?? null;
    managementAccount = described.value.Organization?.MasterAccountId ?? null;
  } else {
    gaps.push(failed(admin, 'global', 'Organizations', 'the organisation', described.error, orgSetup));
  }
  let orgAccounts: Account[] = [];
  const listed = await pages('organizations:ListAccounts', () => paginateListAccounts({ client: org }, {}));
  if (listed.ok) orgAccounts = listed.value.flatMap((p) => p.Accounts ?? []);
  else if (described.ok) {
    gaps.push(failed(admin, 'global', 'Organizations', 'the accounts (only this account is checked)', listed.error, {
      problem: 'the accounts cannot be listed: only this account is checked',
      fix: `from the management account: aws organizations register-delegated-administrator --account-id ${admin} --service-principal securityhub.amazonaws.com`,
    }));
  }
  if (!orgAccounts.some((a) => a.Id === admin)) orgAccounts.unshift({ Id: admin, Name: '(this account)', Status: 'ACTIVE' });
  const delegatedAdministrators: Record<string, string[]> = {};
  /** Services of which this account is not the delegated administrator: their per-region "not the administrator" gaps are the same cause. */
  const notDelegated = new Set<Component>();
  for (const [service, principal] of Object.entries(SERVICE_PRINCIPALS) as ['Security Hub' | 'GuardDuty' | 'Detective', string][]) {
    if (service === 'Detective' && !opts.useDetective) continue;
    const r = await call('organizations:ListDelegatedAdministrators', () => org.send(new ListDelegatedAdministratorsCommand({ ServicePrincipal: principal })));
    if (!r.ok) {
      if (described.ok) gaps.push(failed(admin, 'global', 'Organizations', `the ${service} delegated administrator`, r.error, { problem: `the ${service} delegated administrator cannot be read`, fix: 'allow organizations:ListDelegatedAdministrators' }));
      continue;
    }
    const ids = (r.value.DelegatedAdministrators ?? []).map((d) => d.Id ?? '').filter(Boolean);
    delegatedAdministrators[principal] = ids;
    if (!ids.includes(admin)) {
      notDelegated.add(service);
      const cmd = service === 'Detective' ? `aws detective enable-organization-admin-account --account-id ${admin}` : `aws ${service === 'GuardDuty' ? 'guardduty' : 'securityhub'} enable-organization-admin-account --admin-account-id ${admin}`;
      gaps.push({ account: admin, region: 'global', component: service, problem: `this account is not the ${service} delegated administrator${ids.length ? ` (${ids.join(', ')} is)` : ''}`, fix: `from the management account, in each region: ${cmd} --region <region>` });
    }
  }

  // ── Security Hub cross-Region aggregation (one aggregator per account; readable from any region) ──
  let aggregation: OrgStatus['aggregation'] = null;
  let aggregationKnown = true;
  const aggs = await call('securityhub:ListFindingAggregators', () => clients.securityHub(opts.stackRegion).send(new ListFindingAggregatorsCommand({})));
  const aggArn = aggs.ok ? aggs.value.FindingAggregators?.[0]?.FindingAggregatorArn : undefined;
  if (!aggs.ok) {
    aggregationKnown = false;
    gaps.push(failed(admin, opts.stackRegion, 'aggregation', 'the Security Hub aggregation', aggs.error, { problem: 'the Security Hub aggregation cannot be read', fix: 'allow securityhub:ListFindingAggregators and GetFindingAggregator' }));
  } else if (aggArn) {
    const home = aggArn.split(':')[3] ?? opts.stackRegion;
    const got = await call('securityhub:GetFindingAggregator', () => clients.securityHub(home).send(new GetFindingAggregatorCommand({ FindingAggregatorArn: aggArn })));
    if (got.ok) aggregation = { homeRegion: got.value.FindingAggregationRegion ?? home, regionLinkingMode: got.value.RegionLinkingMode ?? '?', regions: got.value.Regions ?? [] };
    else {
      aggregationKnown = false;
      gaps.push(failed(admin, home, 'aggregation', `the aggregator ${aggArn}`, got.error, { problem: `the aggregator ${aggArn} cannot be read`, fix: 'allow securityhub:GetFindingAggregator' }));
    }
  }

  // ── Each region, from the admin account ──
  const active = orgAccounts.filter((a) => a.Status === undefined || a.Status === 'ACTIVE');
  const name = new Map(orgAccounts.map((a) => [a.Id ?? '', a.Name ?? '']));
  const email = new Map(orgAccounts.map((a) => [a.Id ?? '', a.Email ?? '<its email>']));
  const rows = new Map<string, AccountRegionStatus>();
  const rowOf = (account: string, region: string): AccountRegionStatus => {
    const k = `${account}/${region}`;
    let row = rows.get(k);
    if (!row) rows.set(k, (row = { account, name: name.get(account) ?? '', region, securityHub: '?', guardDuty: '?', detective: opts.useDetective ? '?' : 'off', memberRole: 'not checked' }));
    return row;
  };
  for (const region of regionList) for (const a of active) rowOf(a.Id ?? '', region);
  /** Regions the admin account itself has not enabled. */
  const adminOff = new Set<string>();

  await Promise.all(regionList.map(async (region) => {
    const hub = await call('securityhub:DescribeHub', () => clients.securityHub(region).send(new DescribeHubCommand({})));
    if (!hub.ok && isRegionOff(hub.error)) {
      adminOff.add(region);
      gaps.push({ account: admin, region, component: 'region', problem: `${region} is not enabled in this account (${errorName(hub.error)})`, fix: `from the management account: aws account enable-region --account-id ${admin} --region-name ${region}` });
      return;
    }
    if (hub.ok || isPassingFailure(hub.error)) await securityHubRegion(region);
    else {
      // Not subscribed: making this account the administrator there also enables Security Hub in it.
      gaps.push({ account: admin, region, component: 'Security Hub', problem: `Security Hub is not enabled here (${errorLine(hub.error)})`, fix: `from the management account: aws securityhub enable-organization-admin-account --admin-account-id ${admin} --region ${region} (this enables Security Hub in ${admin} too)` });
    }
    await guardDutyRegion(region);
    if (opts.useDetective) await detectiveRegion(region);
  }));

  // The regions whose findings do not reach the stack's region (after the admin's own opt-in regions are known).
  if (aggregation) {
    if (aggregation.homeRegion !== opts.stackRegion) {
      gaps.push({ account: admin, region: opts.stackRegion, component: 'aggregation', problem: `Security Hub aggregates findings into ${aggregation.homeRegion}, but trailstory runs in ${opts.stackRegion}: the Enrich action and the backfill there see only ${opts.stackRegion}'s findings`, fix: `deploy the main stack in ${aggregation.homeRegion} (sam deploy --region ${aggregation.homeRegion})` });
    }
    const unlinked = regionList.filter((r) => !isLinked(aggregation!, r) && !adminOff.has(r));
    const fix = `${linkCommand(aggArn ?? '', aggregation, unlinked)}, or deploy the main stack (or the region forwarder) in each`;
    for (const r of unlinked) {
      gaps.push({ account: admin, region: r, component: 'aggregation', problem: `${r} is not linked to the aggregation region ${aggregation.homeRegion}: its findings reach trailstory only from a stack in ${r}`, fix });
    }
  } else if (aggregationKnown && regionList.some((r) => r !== opts.stackRegion)) {
    gaps.push({ account: admin, region: opts.stackRegion, component: 'aggregation', problem: `no Security Hub cross-Region aggregation: a stack in ${opts.stackRegion} sees only ${opts.stackRegion}'s findings`, fix: `in ${opts.stackRegion}: aws securityhub create-finding-aggregator --region-linking-mode SPECIFIED_REGIONS --regions ${regionList.filter((r) => r !== opts.stackRegion).join(' ')}, or deploy the main stack in every region` });
  }

  /** Member states of one service in one region: fills the cells, and the gaps of unhealthy members. */
  function memberCells(service: 'Security Hub' | 'GuardDuty' | 'Detective', region: string, states: Map<string, string>, fixFor: (account: string, state: string) => string): void {
    for (const a of active) {
      const id = a.Id ?? '';
      const row = rowOf(id, region);
      const state = id === admin ? 'admin' : (states.get(id) ?? 'not a member');
      if (service === 'Security Hub') row.securityHub = state;
      else if (service === 'GuardDuty') row.guardDuty = state;
      else row.detective = state;
      if (id === admin || HEALTHY[service].has(state)) continue;
      gaps.push({ account: id, region, component: service, problem: state === 'not a member' ? `not a ${service} member of ${admin}` : `${service} member status ${state}`, fix: fixFor(id, state) });
    }
  }

  async function securityHubRegion(region: string): Promise<void> {
    const sh = clients.securityHub(region);
    const conf = await call('securityhub:DescribeOrganizationConfiguration', () => sh.send(new ShOrgConfig({})));
    if (!conf.ok) {
      gaps.push(failed(admin, region, 'Security Hub', 'the Security Hub organisation configuration', conf.error, { problem: 'this account is not the Security Hub administrator here', fix: `from the management account: aws securityhub enable-organization-admin-account --admin-account-id ${admin} --region ${region}` }));
      return;
    }
    const central = conf.value.OrganizationConfiguration?.ConfigurationType === 'CENTRAL';
    if (!conf.value.AutoEnable && !central) {
      gaps.push({ account: admin, region, component: 'Security Hub', problem: 'new accounts are not enabled automatically', fix: `aws securityhub update-organization-configuration --auto-enable --region ${region}` });
    }
    const listed = await pages('securityhub:ListMembers', () => paginateShMembers({ client: sh }, { OnlyAssociated: false }));
    if (!listed.ok) {
      gaps.push(failed(admin, region, 'Security Hub', 'the Security Hub members', listed.error, { problem: 'the Security Hub members cannot be listed', fix: 'allow securityhub:ListMembers' }));
      return;
    }
    const states = new Map(listed.value.flatMap((p) => p.Members ?? []).map((m) => [m.AccountId ?? '', m.MemberStatus ?? '?']));
    memberCells('Security Hub', region, states, (id) => `aws securityhub create-members --account-details AccountId=${id} --region ${region}`);
  }

  async function guardDutyRegion(region: string): Promise<void> {
    const gd = clients.guardDuty(region);
    const dets = await call('guardduty:ListDetectors', () => gd.send(new ListDetectorsCommand({})));
    if (!dets.ok) {
      gaps.push(failed(admin, region, 'GuardDuty', 'the GuardDuty detector', dets.error, { problem: 'the GuardDuty detector cannot be listed', fix: 'allow guardduty:ListDetectors' }));
      return;
    }
    const detectorId = dets.value.DetectorIds?.[0];
    if (!detectorId) {
      gaps.push({ account: admin, region, component: 'GuardDuty', problem: 'GuardDuty has no detector here', fix: `from the management account: aws guardduty enable-organization-admin-account --admin-account-id ${admin} --region ${region} (this creates the detector in ${admin} too)` });
      return;
    }
    const det = await call('guardduty:GetDetector', () => gd.send(new GetDetectorCommand({ DetectorId: detectorId })));
    if (det.ok && det.value.Status !== 'ENABLED') {
      gaps.push({ account: admin, region, component: 'GuardDuty', problem: `the detector ${detectorId} is ${det.value.Status}`, fix: `aws guardduty update-detector --detector-id ${detectorId} --enable --region ${region}` });
    }
    const conf = await call('guardduty:DescribeOrganizationConfiguration', () => gd.send(new GdOrgConfig({ DetectorId: detectorId })));
    if (!conf.ok) {
      gaps.push(failed(admin, region, 'GuardDuty', 'the GuardDuty organisation configuration', conf.error, { problem: 'this account is not the GuardDuty administrator here', fix: `from the management account: aws guardduty enable-organization-admin-account --admin-account-id ${admin} --region ${region}` }));
      return;
    }
    const auto = conf.value.AutoEnableOrganizationMembers ?? (conf.value.AutoEnable ? 'NEW' : 'NONE');
    if (auto === 'NONE') {
      gaps.push({ account: admin, region, component: 'GuardDuty', problem: 'new accounts are not enabled automatically (AutoEnableOrganizationMembers NONE)', fix: `aws guardduty update-organization-configuration --detector-id ${detectorId} --auto-enable-organization-members NEW --region ${region}` });
    }
    const listed = await pages('guardduty:ListMembers', () => paginateGdMembers({ client: gd }, { DetectorId: detectorId, OnlyAssociated: 'false' }));
    if (!listed.ok) {
      gaps.push(failed(admin, region, 'GuardDuty', 'the GuardDuty members', listed.error, { problem: 'the GuardDuty members cannot be listed', fix: 'allow guardduty:ListMembers' }));
      return;
    }
    const states = new Map(listed.value.flatMap((p) => p.Members ?? []).map((m) => [m.AccountId ?? '', m.RelationshipStatus ?? '?']));
    memberCells('GuardDuty', region, states, (id, state) =>
      state === 'not a member' || state === 'Removed' ? `aws guardduty create-members --detector-id ${detectorId} --account-details AccountId=${id},Email=${email.get(id)} --region ${region}`
        : state === 'RegionDisabled' ? `from the management account: aws account enable-region --account-id ${id} --region-name ${region}`
          : `aws guardduty start-monitoring-members --detector-id ${detectorId} --account-ids ${id} --region ${region}`,
    );
  }

  async function detectiveRegion(region: string): Promise<void> {
    const dt = clients.detective(region);
    const graphs = await call('detective:ListGraphs', () => dt.send(new ListGraphsCommand({})));
    if (!graphs.ok) {
      gaps.push(failed(admin, region, 'Detective', 'the Detective behavior graph', graphs.error, { problem: 'the Detective behavior graph cannot be listed', fix: 'allow detective:ListGraphs' }));
      return;
    }
    const graphArn = graphs.value.GraphList?.[0]?.Arn;
    if (!graphArn) {
      for (const a of active) rowOf(a.Id ?? '', region).detective = 'no graph';
      gaps.push({ account: admin, region, component: 'Detective', problem: 'no Detective behavior graph here: findings get no Detective investigation', fix: `from the management account: aws detective enable-organization-admin-account --account-id ${admin} --region ${region} (this creates the graph), or deploy the main stack with UseDetective=false` });
      return;
    }
    const conf = await call('detective:DescribeOrganizationConfiguration', () => dt.send(new DtOrgConfig({ GraphArn: graphArn })));
    if (conf.ok && !conf.value.AutoEnable) {
      gaps.push({ account: admin, region, component: 'Detective', problem: 'new accounts are not enabled automatically', fix: `aws detective update-organization-configuration --graph-arn ${graphArn} --auto-enable --region ${region}` });
    }
    const listed = await pages('detective:ListMembers', () => paginateDtMembers({ client: dt }, { GraphArn: graphArn }));
    if (!listed.ok) {
      gaps.push(failed(admin, region, 'Detective', 'the Detective members', listed.error, { problem: 'the Detective members cannot be listed', fix: 'allow detective:ListMembers' }));
      return;
    }
    const states = new Map(listed.value.flatMap((p) => p.MemberDetails ?? []).map((m) => [m.AccountId ?? '', m.Status ?? '?']));
    memberCells('Detective', region, states, (id, state) =>
      state === 'ACCEPTED_BUT_DISABLED' ? `aws detective start-monitoring-member --graph-arn ${graphArn} --account-id ${id} --region ${region}`
        : `aws detective create-members --graph-arn ${graphArn} --accounts AccountId=${id},EmailAddress=${email.get(id)} --region ${region}`,
    );
  }

  // ── The member role, account by account ──
  const limit = pLimit(opts.concurrency ?? 8);
  /** The caller is a session of the enrich worker's role (CloudFormation names it `<stack>-EnrichWorkerRole-<suffix>`). */
  const asWorker = /:assumed-role\/[^/]*EnrichWorkerRole[^/]*\//.test(opts.caller);
  const roleRegions = regionList.filter((r) => r === opts.stackRegion || OPT_IN_REGIONS.has(r));
  if (!roleRegions.includes(opts.stackRegion)) roleRegions.unshift(opts.stackRegion);
  if (opts.checkMemberRole !== false) {
    await Promise.all(active.flatMap((a) => {
      const id = a.Id ?? '';
      if (id === admin) {
        for (const r of regionList) rowOf(id, r).memberRole = 'self';
        return [];
      }
      return roleRegions.map((region) => limit(async () => {
        count('sts:AssumeRole');
        const r = await call('sts:GetCallerIdentity', () => members.for(id, region).sts(region).send(new GetCallerIdentityCommand({})));
        const state = r.ok ? 'ok' : isRegionOff(r.error) ? 'region disabled' : isPassingFailure(r.error) ? '?' : 'refused';
        // A role (IAM is global) proven in the stack's region holds in every other region but the opt-in ones.
        const covered = region === opts.stackRegion ? regionList.filter((x) => !OPT_IN_REGIONS.has(x) || x === region) : [region];
        for (const x of covered) if (regionList.includes(x)) rowOf(id, x).memberRole = state;
        if (r.ok) return;
        if (state === 'region disabled') {
          gaps.push({ account: id, region, component: 'region', problem: `${region} is not enabled in this account (${errorName(r.error)})`, fix: `from the management account: aws account enable-region --account-id ${id} --region-name ${region}` });
          return;
        }
        const deploy = id === managementAccount
          ? `in the management account (StackSets never reach it): aws cloudformation deploy --stack-name ${stackSet} --template-file templates/management-account.yaml --capabilities CAPABILITY_NAMED_IAM --parameter-overrides AdministratorAccountId=${admin} EnrichWorkerRoleArn=<the worker role ARN> OrganizationId=${organizationId ?? '<o-...>'} ExternalId=<the ExternalId>`
          : `deploy the member role to the account's OU: aws cloudformation create-stack-instances --stack-set-name ${stackSet} --deployment-targets OrganizationalUnitIds=<its OU> --regions <the StackSet's region> --call-as DELEGATED_ADMIN`;
        gaps.push(failed(id, region, 'member role', `the member role ${members.roleArn(id)}`, r.error, {
          problem: `${members.roleArn(id)} cannot be assumed by ${opts.caller}`,
          errorName: true, // the error's message repeats both ARNs
          fix: deploy + (asWorker ? '' : " (the role trusts only the enrich worker's role: if the role is there, run this check as that role, as the scheduled OrgStatus function does)"),
        }));
      }));
    }));
  }

  const regionOff = accountsRegionOff(rows.values());
  const kept = consolidate(gaps, { regionOff, stackRegion: opts.stackRegion, notDelegated, admin });
  for (const k of regionOff) {
    const row = rows.get(k);
    if (row && row.memberRole !== 'not checked') row.memberRole = 'region disabled';
  }

  const order = new Map([...active].sort((x, y) => (x.Id ?? '').localeCompare(y.Id ?? '')).map((a, i) => [a.Id ?? '', i]));
  const regionOrder = new Map(regionList.map((r, i) => [r, i]));
  const accounts = [...rows.values()].sort((x, y) => (order.get(x.account) ?? 0) - (order.get(y.account) ?? 0) || (regionOrder.get(x.region) ?? 0) - (regionOrder.get(y.region) ?? 0));
  const rank = (g: Gap): number => (g.region === 'global' ? -1 : (regionOrder.get(g.region) ?? 0));
  kept.sort((x, y) => (x.account === admin ? 0 : 1) - (y.account === admin ? 0 : 1) || (order.get(x.account) ?? 0) - (order.get(y.account) ?? 0) || rank(x) - rank(y) || x.component.localeCompare(y.component));
  return {
    checkedAt: (opts.now ?? new Date()).toISOString(),
    adminAccount: admin,
    caller: opts.caller,
    organizationId,
    managementAccount,
    delegatedAdministrators,
    aggregation,
    regions: regionList,
    accounts,
    gaps: kept,
    requests,
  };
}

/**
 * The one `update-finding-aggregator` command that links every region of `add` while keeping
 * the linking mode's other regions: SPECIFIED_REGIONS gains them, ALL_REGIONS_EXCEPT_SPECIFIED
 * stops excluding them (ALL_REGIONS when nothing is left excluded), NO_REGIONS becomes
 * SPECIFIED_REGIONS of them (Security Hub API reference, UpdateFindingAggregator).
 */
export function linkCommand(arn: string, agg: { homeRegion: string; regionLinkingMode: string; regions: string[] }, add: string[]): string {
  const base = `aws securityhub update-finding-aggregator --region ${agg.homeRegion} --finding-aggregator-arn ${arn}`;
  if (agg.regionLinkingMode === 'ALL_REGIONS_EXCEPT_SPECIFIED') {
    const left = agg.regions.filter((r) => !add.includes(r));
    return left.length ? `${base} --region-linking-mode ALL_REGIONS_EXCEPT_SPECIFIED --regions ${left.join(' ')}` : `${base} --region-linking-mode ALL_REGIONS`;
  }
  const keep = agg.regionLinkingMode === 'SPECIFIED_REGIONS' ? agg.regions : [];
  return `${base} --region-linking-mode SPECIFIED_REGIONS --regions ${[...new Set([...keep, ...add])].join(' ')}`;
}

/** Whether `region`'s findings reach the aggregation's home region (Security Hub RegionLinkingMode). */
export function isLinked(agg: { homeRegion: string; regionLinkingMode: string; regions: string[] }, region: string): boolean {
  if (region === agg.homeRegion) return true;
  switch (agg.regionLinkingMode) {
    case 'ALL_REGIONS': return true;
    case 'ALL_REGIONS_EXCEPT_SPECIFIED': return !agg.regions.includes(region);
    case 'SPECIFIED_REGIONS': return agg.regions.includes(region);
    default: return false;
  }
}

/** `account/region` pairs where the account has not enabled the (opt-in) region, by any service's evidence. */
function accountsRegionOff(rows: Iterable<AccountRegionStatus>): Set<string> {
  const off = new Set<string>();
  for (const r of rows) if (r.memberRole === 'region disabled' || r.guardDuty === 'RegionDisabled') off.add(`${r.account}/${r.region}`);
  return off;
}

/**
 * One gap per cause:
 * - where an account has not enabled a region, the one fix is to enable it, so that account's
 *   service and member-role gaps there become a single `region` gap;
 * - a member role refused in the stack's region is not repeated for the account's other regions;
 * - a service this account is not the delegated administrator of (said once, `global`) is not
 *   said again region by region.
 */
function consolidate(gaps: Gap[], o: { regionOff: Set<string>; stackRegion: string; notDelegated: Set<Component>; admin: string }): Gap[] {
  const out: Gap[] = [];
  const roleRefused = new Set(gaps.filter((g) => g.component === 'member role' && g.region === o.stackRegion && !g.retry).map((g) => g.account));
  for (const g of gaps) {
    const k = `${g.account}/${g.region}`;
    if (o.regionOff.has(k) && g.component !== 'region') continue;
    if (g.component === 'member role' && g.region !== o.stackRegion && roleRefused.has(g.account) && !g.retry) continue;
    if (g.account === o.admin && g.region !== 'global' && !g.retry && o.notDelegated.has(g.component)) continue;
    out.push(g);
  }
  for (const k of o.regionOff) {
    if (out.some((g) => g.component === 'region' && `${g.account}/${g.region}` === k)) continue;
    const [account = '', region = ''] = k.split('/');
    out.push({ account, region, component: 'region', problem: `${region} is not enabled in this account (GuardDuty: RegionDisabled)`, fix: `from the management account: aws account enable-region --account-id ${account} --region-name ${region}` });
  }
  return out;
}
