/**
 * An emulated organisation for the org-wide tests and the `org-status` example in the README:
 * a management account, the delegated administrator (where trailstory runs, stack in us-east-1),
 * three member accounts in three regions (us-east-1, eu-west-1, and the opt-in me-central-1),
 * and a new account that the member StackSet has not reached yet.
 *
 * | account | name | role | regions enabled | finding in |
 * |---|---|---|---|---|
 * | 500000000000 | management | yes | + me-central-1 | |
 * | 500000000001 | security (delegated admin) | (none: its own) | + me-central-1 | |
 * | 500000000002 | prod | yes | (not me-central-1) | us-east-1 |
 * | 500000000004 | data | yes | | eu-west-1 |
 * | 500000000005 | gulf | yes | + me-central-1 | me-central-1 |
 * | 500000000003 | new | **no** | | us-east-1 |
 *
 * Security Hub aggregates into us-east-1 from eu-west-1 only; GuardDuty does not auto-enable new
 * accounts in eu-west-1; Detective has no graph in me-central-1. Each member's finding is the
 * public scenario `a-leaked-key-cryptomining` moved into that account and region (finding and
 * CloudTrail), so each storyline can only come from that account's own CloudTrail.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseFindings } from '../../src/findings/normalize';
import type { NormalizedFinding } from '../../src/model/finding';
import { readFinding } from '../../src/storyline/investigate';
import type { AwsEmulator } from '../emulator/server';
import { guardDutyToAsff, readTrailFile, seedOrganization, type SeededOrganization } from '../emulator/seed';

export const MANAGEMENT = '500000000000';
export const ADMIN = '500000000001';
export const PROD = '500000000002';
export const NEW = '500000000003';
export const DATA = '500000000004';
export const GULF = '500000000005';
export const STACK_REGION = 'us-east-1';
export const REGIONS = ['us-east-1', 'eu-west-1', 'me-central-1'];
export const EXTERNAL_ID = 'trailstory-ext-7f3a';
export const WORKER_ROLE = 'EnrichWorkerRole';
export const MEMBER_ROLE = 'TrailstoryMemberRole';

/** The scenario every member's finding is made from. */
export const SCENARIO = path.resolve(__dirname, '../../../shared/scenarios/a-leaked-key-cryptomining');

/** Where each member's finding is: account → region. */
export const FINDING_HOME: Record<string, string> = { [PROD]: 'us-east-1', [DATA]: 'eu-west-1', [GULF]: 'me-central-1', [NEW]: 'us-east-1' };

export interface BuiltOrganization {
  org: SeededOrganization;
  /** The findings as the intake would queue them, by account (empty without {@link seedMemberFindings}). */
  findings: Record<string, NormalizedFinding>;
}

/**
 * IAM as the rollout leaves it: the enrich worker's role in the admin account (assumable by Lambda
 * only), and in each of `members` the member role trusting exactly that role, within the
 * organisation, with the ExternalId (templates/member-role.yaml).
 */
function putRoles(emu: AwsEmulator, o: { admin: string; workerRole: string; orgId: string; externalId: string; members: string[] }): void {
  emu.identities.putRole(o.admin, o.workerRole, { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }] });
  const trust = {
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${o.admin}:role/${o.workerRole}` }, Action: 'sts:AssumeRole', Condition: { StringEquals: { 'aws:PrincipalOrgID': o.orgId, 'sts:ExternalId': o.externalId } } }],
  };
  for (const a of o.members) emu.identities.putRole(a, MEMBER_ROLE, trust);
}

/** The scenario's account and region, as written in its files. */
function scenarioHome(): { account: string; region: string } {
  const f = readFinding(path.join(SCENARIO, 'finding.json'));
  return { account: f.accountId, region: f.region };
}

/** Moves a JSON document into another account and region (every occurrence, ARNs included). */
function rehome<T>(doc: T, from: { account: string; region: string }, account: string, region: string): T {
  return JSON.parse(JSON.stringify(doc).split(from.account).join(account).split(from.region).join(region)) as T;
}

function walk(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}

/**
 * Builds the organisation in the emulator: Organizations, IAM roles and trust policies, opt-in
 * regions, Security Hub / GuardDuty / Detective administration. Needs nothing outside the repo.
 */
export function buildOrganization(emu: AwsEmulator): SeededOrganization {
  const org = seedOrganization(emu, {
    managementAccount: MANAGEMENT,
    orgId: 'o-trailstory01',
    managementRegions: ['me-central-1'],
    ous: [
      { name: 'Security', accounts: [{ id: ADMIN, name: 'security', regions: ['me-central-1'] }] },
      { name: 'Workloads', accounts: [{ id: PROD, name: 'prod' }, { id: DATA, name: 'data' }, { id: GULF, name: 'gulf', regions: ['me-central-1'] }, { id: NEW, name: 'new' }] },
    ],
    delegatedAdmins: ['securityhub', 'guardduty', 'detective'].map((s) => ({ account: ADMIN, servicePrincipal: `${s}.amazonaws.com` })),
  });
  // IAM: the worker's role, and the member role (as the StackSet deploys it) everywhere but the new account.
  putRoles(emu, { admin: ADMIN, workerRole: WORKER_ROLE, orgId: org.organization.Id, externalId: EXTERNAL_ID, members: [MANAGEMENT, PROD, DATA, GULF] });

  // Security Hub: enabled everywhere the account can, administered by ADMIN, aggregated into us-east-1 from eu-west-1.
  const members = [MANAGEMENT, PROD, DATA, GULF, NEW];
  for (const region of REGIONS) {
    emu.securityHub.setAdministrator(region, ADMIN, { autoEnable: true });
    emu.guardDuty.ensureDetector(ADMIN, region, `6a${region.replace(/-/g, '')}`.padEnd(32, '0')); // fixed ids: reproducible output
    emu.guardDuty.setAdministrator(region, ADMIN, { autoEnableOrganizationMembers: region === 'eu-west-1' ? 'NONE' : 'ALL' });
    for (const a of [ADMIN, ...members]) {
      const usable = region !== 'me-central-1' || emu.identities.isRegionEnabled(a, region);
      if (usable) emu.securityHub.enableHub(a, region);
      if (a === ADMIN) continue;
      emu.securityHub.addMember(region, ADMIN, a, usable ? 'Enabled' : 'Created');
      emu.guardDuty.addMember(region, ADMIN, a, usable ? 'Enabled' : 'RegionDisabled');
    }
    if (region !== 'me-central-1') {
      const graph = emu.detective.createGraph(ADMIN, region);
      emu.detective.setAutoEnable(graph, true);
      for (const a of members) emu.detective.setMember(graph, a, 'ENABLED');
    }
  }
  emu.securityHub.createFindingAggregator(ADMIN, STACK_REGION, 'SPECIFIED_REGIONS', ['eu-west-1'], 'a1b2c3d4-5678-90ab-cdef-000000000001');
  return org;
}

/**
 * The organisation with each member's finding and CloudTrail, moved into its account and
 * region ({@link FINDING_HOME}). Requires `../shared` (the scenario).
 */
export function buildOrganizationWithFindings(emu: AwsEmulator): BuiltOrganization {
  const org = buildOrganization(emu);
  const from = scenarioHome();
  const native = JSON.parse(fs.readFileSync(path.join(SCENARIO, 'finding.json'), 'utf8')) as Record<string, unknown>;
  const trail = walk(path.join(SCENARIO, 'cloudtrail')).flatMap((f) => readTrailFile(f).records);
  const findings: Record<string, NormalizedFinding> = {};
  for (const [account, region] of Object.entries(FINDING_HOME)) {
    const f = rehome(native, from, account, region);
    emu.guardDuty.addFinding(f);
    emu.securityHub.put(guardDutyToAsff(f));
    for (const r of trail) emu.cloudTrail.add(rehome(r, from, account, region));
    const [normalized] = parseFindings(f, `${account}/finding.json`);
    if (!normalized) throw new Error('the scenario has no finding');
    findings[account] = normalized;
  }
  return { org, findings };
}

/** What {@link buildHealthyOrganization} builds. */
export interface HealthySpec {
  management: string;
  admin: string;
  members: string[];
  regions: string[];
  /** The worker's role in the admin account, the only principal the member roles trust. */
  workerRole: string;
  externalId: string;
  /** Detective graphs in every region (default true). */
  detective?: boolean;
}

/**
 * An organisation with nothing missing: the admin delegated for Security Hub, GuardDuty and
 * Detective and administering them in every region (auto-enable on, detectors with fixed ids
 * `d<region without dashes>` padded with 0), every other account an enabled member with the
 * member role, and, over several regions, an ALL_REGIONS aggregator in the first.
 */
export function buildHealthyOrganization(emu: AwsEmulator, o: HealthySpec): SeededOrganization {
  const org = seedOrganization(emu, {
    managementAccount: o.management,
    managementRegions: o.regions,
    ous: [{ name: 'all', accounts: [o.admin, ...o.members].map((id, i) => ({ id, name: i === 0 ? 'security' : `app-${i}`, regions: o.regions })) }],
    delegatedAdmins: ['securityhub', 'guardduty', 'detective'].map((s) => ({ account: o.admin, servicePrincipal: `${s}.amazonaws.com` })),
  });
  const others = [o.management, ...o.members];
  putRoles(emu, { admin: o.admin, workerRole: o.workerRole, orgId: org.organization.Id, externalId: o.externalId, members: others });
  for (const r of o.regions) {
    emu.securityHub.setAdministrator(r, o.admin, { autoEnable: true });
    emu.guardDuty.ensureDetector(o.admin, r, `d${r.replace(/-/g, '')}`.padEnd(32, '0'));
    emu.guardDuty.setAdministrator(r, o.admin, { autoEnableOrganizationMembers: 'ALL' });
    const graph = o.detective === false ? null : emu.detective.createGraph(o.admin, r);
    if (graph) emu.detective.setAutoEnable(graph, true);
    for (const a of others) {
      emu.securityHub.addMember(r, o.admin, a, 'Enabled');
      emu.guardDuty.addMember(r, o.admin, a, 'Enabled');
      if (graph) emu.detective.setMember(graph, a, 'ENABLED');
    }
  }
  if (o.regions.length > 1) emu.securityHub.createFindingAggregator(o.admin, o.regions[0]!, 'ALL_REGIONS');
  return org;
}
