/**
 * `org-status` piece by piece, against small emulated organisations: each kind of gap on its
 * own, a healthy organisation with none, the CLI's usage errors, and the renderers' escaping.
 * (The whole organisation, with the worker, is test/e2e/org.test.ts.)
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { main } from '../../src/cli/main';
import { isLinked, linkCommand, type OrgStatus } from '../../src/org/status';
import { renderOrgStatusMarkdown, renderOrgStatusText } from '../../src/org/render';
import { CallerUnknownError, runOrgStatus } from '../../src/org/run';
import { AwsEmulator } from '../emulator/server';
import { buildHealthyOrganization } from '../e2e/org-fixture';

const MGMT = '600000000000';
const ADMIN = '600000000001';
const M1 = '600000000002';

let emu: AwsEmulator;
beforeEach(async () => {
  emu = await AwsEmulator.start({ seed: 3 });
});
afterEach(async () => {
  await emu.stop();
});

/** A healthy organisation in `regions`: admin delegated and enabled everywhere, M1 an enabled member with the role. */
function healthy(regions: string[], opts: { detective?: boolean } = {}): void {
  buildHealthyOrganization(emu, { management: MGMT, admin: ADMIN, members: [M1], regions, workerRole: 'Worker', externalId: 'x-1', detective: opts.detective });
}

async function check(regions: string[], opts: { as?: [string, string]; useDetective?: boolean; checkMemberRole?: boolean } = {}): Promise<OrgStatus> {
  const [account, role] = opts.as ?? [ADMIN, 'Worker'];
  const creds = emu.sessionClientConfig(account, role, regions[0]!, { sessionName: 'check' }).credentials;
  return runOrgStatus({
    stackRegion: regions[0]!, regions, externalId: 'x-1', useDetective: opts.useDetective ?? true, checkMemberRole: opts.checkMemberRole,
    overrides: { credentials: creds, maxAttempts: 1 }, env: { AWS_ENDPOINT_URL: emu.endpoint },
  });
}
const keys = (st: OrgStatus) => st.gaps.map((g) => `${g.account} ${g.region} ${g.component}`);

test('a healthy organisation in two regions: no gap, every cell healthy', async () => {
  healthy(['us-east-1', 'eu-west-1']);
  const st = await check(['us-east-1', 'eu-west-1']);
  expect(st.gaps).toEqual([]);
  expect(st.accounts).toHaveLength(3 * 2);
  for (const r of st.accounts.filter((x) => x.account !== ADMIN)) expect(r).toMatchObject({ securityHub: 'Enabled', guardDuty: 'Enabled', detective: 'ENABLED', memberRole: 'ok' });
  expect(st.aggregation).toEqual({ homeRegion: 'us-east-1', regionLinkingMode: 'ALL_REGIONS', regions: [] });
  expect(renderOrgStatusText(st)).toContain('No gaps: every account and region is covered.');
});

test('the caller is not a delegated administrator: Organizations refuses, said once, and this account alone is checked', async () => {
  healthy(['us-east-1']);
  const st = await check(['us-east-1'], { as: [M1, 'Someone'] });
  expect(keys(st)[0]).toBe(`${M1} global Organizations`);
  expect(st.gaps[0]!.problem).toContain('AccessDenied');
  expect(st.accounts.map((a) => a.account)).toEqual([M1]);
  expect(keys(st)).toContain(`${M1} us-east-1 Security Hub`); // not the Security Hub administrator there either
});

test('not the administrator in one region; no aggregator across two regions; auto-enable off', async () => {
  healthy(['us-east-1']);
  emu.securityHub.setAdministrator('us-east-1', ADMIN, { autoEnable: false });
  emu.guardDuty.ensureDetector(ADMIN, 'eu-west-1');
  emu.securityHub.enableHub(ADMIN, 'eu-west-1');
  const st = await check(['us-east-1', 'eu-west-1'], { useDetective: false });
  expect(keys(st).sort()).toEqual([
    `${ADMIN} eu-west-1 GuardDuty`, // not the GuardDuty administrator in eu-west-1
    `${ADMIN} eu-west-1 Security Hub`, // nor Security Hub's
    `${ADMIN} us-east-1 Security Hub`, // auto-enable off
    `${ADMIN} us-east-1 aggregation`, // two regions, no aggregator
  ].sort());
  expect(st.gaps.find((g) => g.component === 'aggregation')?.fix).toBe('in us-east-1: aws securityhub create-finding-aggregator --region-linking-mode SPECIFIED_REGIONS --regions eu-west-1, or deploy the main stack in every region');
  expect(st.accounts.find((a) => a.account === M1 && a.region === 'eu-west-1')).toMatchObject({ securityHub: '?', guardDuty: '?', detective: 'off' });
});

test('an opt-in region the admin account has not enabled: one gap, nothing else asked there', async () => {
  healthy(['us-east-1']);
  const st = await check(['us-east-1', 'ap-east-1'], { checkMemberRole: false });
  const there = st.gaps.filter((g) => g.region === 'ap-east-1');
  expect(there.map((g) => [g.account, g.component])).toEqual([[ADMIN, 'region']]);
  expect(there[0]!.fix).toBe(`from the management account: aws account enable-region --account-id ${ADMIN} --region-name ap-east-1`);
  expect(emu.requests.filter((r) => r.region === 'ap-east-1' && r.service !== 'securityhub')).toEqual([]);
});

test('members: each unhealthy status is a gap with its own fix; a suspended account is not checked', async () => {
  healthy(['us-east-1']);
  emu.organizations.addAccount('600000000009', 'gone', { status: 'SUSPENDED' });
  emu.guardDuty.addMember('us-east-1', ADMIN, M1, 'Disabled');
  emu.securityHub.addMember('us-east-1', ADMIN, MGMT, 'Removed');
  const st = await check(['us-east-1']);
  const byKey = Object.fromEntries(st.gaps.map((g) => [`${g.account} ${g.component}`, g]));
  expect(Object.keys(byKey).sort()).toEqual([`${M1} GuardDuty`, `${MGMT} Security Hub`].sort());
  expect(byKey[`${M1} GuardDuty`]!.fix).toBe(`aws guardduty start-monitoring-members --detector-id ${'duseast1'.padEnd(32, '0')} --account-ids ${M1} --region us-east-1`);
  expect(byKey[`${MGMT} Security Hub`]!.problem).toBe('Security Hub member status Removed');
  expect(st.accounts.some((a) => a.account === '600000000009')).toBe(false);
});

test('a member role whose trust policy wants another ExternalId is refused', async () => {
  healthy(['us-east-1']);
  const creds = emu.sessionClientConfig(ADMIN, 'Worker', 'us-east-1', { sessionName: 'check' }).credentials;
  const st = await runOrgStatus({ stackRegion: 'us-east-1', regions: ['us-east-1'], externalId: 'wrong', overrides: { credentials: creds, maxAttempts: 1 }, env: { AWS_ENDPOINT_URL: emu.endpoint } });
  expect(keys(st).sort()).toEqual([`${M1} us-east-1 member role`, `${MGMT} us-east-1 member role`].sort());
  expect(st.accounts.find((a) => a.account === M1)?.memberRole).toBe('refused');
});

test('passing failures (throttling, 5xx) are a "re-run" gap and a ? cell, never a configuration fix', async () => {
  healthy(['us-east-1', 'eu-west-1']);
  emu.knobs.faults = { 'securityhub:ListMembers': 'throttle', 'guardduty:ListDetectors': 'server', 'detective:ListGraphs': 'throttle', 'securityhub:ListFindingAggregators': 'server' };
  const st = await check(['us-east-1', 'eu-west-1']);
  expect(st.gaps.length).toBeGreaterThan(0);
  for (const g of st.gaps) expect([g.component, g.retry, g.fix]).toEqual([g.component, true, expect.stringMatching(/^re-run org-status/)]);
  expect(keys(st).sort()).toEqual([
    `${ADMIN} eu-west-1 Detective`, `${ADMIN} eu-west-1 GuardDuty`, `${ADMIN} eu-west-1 Security Hub`,
    `${ADMIN} us-east-1 Detective`, `${ADMIN} us-east-1 GuardDuty`, `${ADMIN} us-east-1 Security Hub`,
    `${ADMIN} us-east-1 aggregation`, // could not be read: no "create-finding-aggregator"
  ].sort());
  const m1 = st.accounts.find((a) => a.account === M1 && a.region === 'us-east-1')!;
  expect([m1.securityHub, m1.guardDuty, m1.detective, m1.memberRole]).toEqual(['?', '?', '?', 'ok']);
});

test('the member role check throttled: "?" and re-run, not "refused" with a StackSet fix', async () => {
  healthy(['us-east-1']);
  emu.knobs.faults = { 'sts:AssumeRole': 'throttle' };
  const st = await check(['us-east-1']);
  expect(st.accounts.find((a) => a.account === M1)?.memberRole).toBe('?');
  expect(st.gaps.map((g) => [g.account, g.component, g.retry])).toEqual([[MGMT, 'member role', true], [M1, 'member role', true]].sort());
});

test('fixes: emails in create-members, start-monitoring for a disabled Detective member, the management account\'s own stack', async () => {
  healthy(['us-east-1']);
  emu.guardDuty.addMember('us-east-1', ADMIN, M1, 'Removed');
  const graph = emu.detective.createGraph(ADMIN, 'us-east-1');
  emu.detective.setMember(graph, M1, 'ACCEPTED_BUT_DISABLED');
  emu.identities.deleteRole(MGMT, 'TrailstoryMemberRole');
  const st = await check(['us-east-1']);
  const fix = (a: string, c: string) => st.gaps.find((g) => g.account === a && g.component === c)?.fix;
  expect(fix(M1, 'GuardDuty')).toBe(`aws guardduty create-members --detector-id ${'duseast1'.padEnd(32, '0')} --account-details AccountId=${M1},Email=${M1}@example.com --region us-east-1`);
  expect(fix(M1, 'Detective')).toBe(`aws detective start-monitoring-member --graph-arn ${graph} --account-id ${M1} --region us-east-1`);
  expect(fix(MGMT, 'member role')).toMatch(/^in the management account \(StackSets never reach it\): aws cloudformation deploy --stack-name trailstory-member-role --template-file templates\/management-account.yaml /);
});

test('aggregation: one fix that links every missing region and keeps the mode\'s other regions', async () => {
  healthy(['us-east-1']);
  const arn = 'arn:aws:securityhub:us-east-1:600000000001:finding-aggregator/x';
  const except = { homeRegion: 'us-east-1', regionLinkingMode: 'ALL_REGIONS_EXCEPT_SPECIFIED', regions: ['eu-west-1', 'ap-south-1'] };
  expect(linkCommand(arn, except, ['eu-west-1'])).toBe(`aws securityhub update-finding-aggregator --region us-east-1 --finding-aggregator-arn ${arn} --region-linking-mode ALL_REGIONS_EXCEPT_SPECIFIED --regions ap-south-1`);
  expect(linkCommand(arn, except, ['eu-west-1', 'ap-south-1'])).toBe(`aws securityhub update-finding-aggregator --region us-east-1 --finding-aggregator-arn ${arn} --region-linking-mode ALL_REGIONS`);
  const specified = { homeRegion: 'us-east-1', regionLinkingMode: 'SPECIFIED_REGIONS', regions: ['eu-west-1'] };
  expect(linkCommand(arn, specified, ['eu-west-2', 'eu-west-3'])).toBe(`aws securityhub update-finding-aggregator --region us-east-1 --finding-aggregator-arn ${arn} --region-linking-mode SPECIFIED_REGIONS --regions eu-west-1 eu-west-2 eu-west-3`);
  expect(linkCommand(arn, { ...specified, regionLinkingMode: 'NO_REGIONS', regions: [] }, ['eu-west-2'])).toContain('--region-linking-mode SPECIFIED_REGIONS --regions eu-west-2');
});

test('not the delegated administrator of Detective: said once, not again as "no graph" region by region', async () => {
  healthy(['us-east-1', 'eu-west-1'], { detective: false });
  emu.organizations.delegatedAdmins.splice(0, emu.organizations.delegatedAdmins.length, ...emu.organizations.delegatedAdmins.filter((d) => d.servicePrincipal !== 'detective.amazonaws.com'));
  const st = await check(['us-east-1', 'eu-west-1']);
  expect(keys(st)).toEqual([`${ADMIN} global Detective`]);
  expect(st.accounts.find((a) => a.account === M1)?.detective).toBe('no graph');
});

test('duplicate regions are checked once', async () => {
  healthy(['us-east-1']);
  const st = await check(['us-east-1', 'us-east-1']);
  expect(st.regions).toEqual(['us-east-1']);
  expect(st.requests['securityhub:DescribeHub']).toBe(1);
  expect(st.requests['sts:AssumeRole']).toBe(2); // management and M1, once each
});

test('an endpoint that accepts connections and never answers: the command ends, with one line', async () => {
  const silent = net.createServer(() => undefined);
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
  try {
    const t0 = Date.now();
    const err = await runOrgStatus({ stackRegion: 'us-east-1', regions: ['us-east-1'], overrides: { credentials: { accessKeyId: 'AKIA0', secretAccessKey: 'x' }, maxAttempts: 1, timeouts: { connectionMs: 200, requestMs: 300 } }, env: { AWS_ENDPOINT_URL: `http://127.0.0.1:${(silent.address() as net.AddressInfo).port}` } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CallerUnknownError);
    expect((err as Error).message).toMatch(/^cannot ask AWS who is calling \(TimeoutError: /);
    expect(Date.now() - t0).toBeLessThan(10_000);
  } finally {
    silent.close();
  }
});

test('the text report keeps one line per row whatever the account name holds', () => {
  const st: OrgStatus = {
    checkedAt: '2026-11-29T12:00:00.000Z', adminAccount: ADMIN, caller: 'c', organizationId: null, managementAccount: null, delegatedAdministrators: {}, aggregation: null, regions: ['us-east-1'],
    accounts: [{ account: M1, name: 'evil\nname\rX\tY', region: 'us-east-1', securityHub: 'Enabled', guardDuty: 'Enabled', detective: 'off', memberRole: 'ok' }],
    gaps: [{ account: M1, region: 'us-east-1', component: 'GuardDuty', problem: 'a\r\nb', fix: 'c\nd' }], requests: {},
  };
  const text = renderOrgStatusText(st);
  expect(text.split('\n').filter((l) => l.startsWith(M1))).toEqual([`${M1}  evil name X Y  us-east-1  Enabled       Enabled    off        ok`]);
  expect(text).toContain(`  1. ${M1} us-east-1 GuardDuty: a b\n     fix: c d\n`);
});

test('isLinked follows each RegionLinkingMode', () => {
  const agg = (regionLinkingMode: string, regions: string[] = []) => ({ homeRegion: 'us-east-1', regionLinkingMode, regions });
  expect(['ALL_REGIONS', 'NO_REGIONS'].map((m) => isLinked(agg(m), 'us-east-1'))).toEqual([true, true]); // home is always itself
  expect(isLinked(agg('ALL_REGIONS'), 'eu-west-1')).toBe(true);
  expect(isLinked(agg('NO_REGIONS'), 'eu-west-1')).toBe(false);
  expect(isLinked(agg('SPECIFIED_REGIONS', ['eu-west-1']), 'eu-west-1')).toBe(true);
  expect(isLinked(agg('SPECIFIED_REGIONS', ['eu-west-1']), 'eu-west-2')).toBe(false);
  expect(isLinked(agg('ALL_REGIONS_EXCEPT_SPECIFIED', ['eu-west-1']), 'eu-west-1')).toBe(false);
  expect(isLinked(agg('ALL_REGIONS_EXCEPT_SPECIFIED', ['eu-west-1']), 'eu-west-2')).toBe(true);
});

test('renderers: an account name chosen to break the table or the terminal is shown as text', () => {
  const st: OrgStatus = {
    checkedAt: '2026-11-29T12:00:00.000Z', adminAccount: ADMIN, caller: 'arn:aws:sts::600000000001:assumed-role/Worker/x', organizationId: 'o-abcdefghij', managementAccount: MGMT,
    delegatedAdministrators: {}, aggregation: null, regions: ['us-east-1'],
    accounts: [{ account: M1, name: 'a|b **x** <img src=y>\u202e\u001b[31m', region: 'us-east-1', securityHub: 'Enabled', guardDuty: 'Enabled', detective: 'off', memberRole: 'ok' }],
    gaps: [{ account: M1, region: 'us-east-1', component: 'GuardDuty', problem: 'p | q', fix: 'aws x `y` | z' }], requests: {},
  };
  const md = renderOrgStatusMarkdown(st);
  const row = md.split('\n').find((l) => l.startsWith(`| ${M1} | a`))!;
  expect(row.split(/(?<!\\)\|/).length - 2).toBe(7); // seven cells: the name's pipe is escaped
  expect(row).toContain('&lt;img src=y&gt;');
  expect(row).toContain('\\[U+202E\\]'); // the visible marker, its brackets escaped
  expect(md).not.toContain('\u001b');
  expect(md).toContain('| aws x \\`y\\` \\| z |');
  const text = renderOrgStatusText(st);
  expect(text.includes('\u001b') || text.includes('\u202e')).toBe(false);
  expect(text).toContain('1 gap:');
});

describe('the CLI', () => {
  const run = async (args: string[], env: NodeJS.ProcessEnv = {}) => {
    const saved = { ...process.env };
    delete process.env.AWS_REGION;
    delete process.env.AWS_DEFAULT_REGION;
    Object.assign(process.env, env);
    let out = '';
    let err = '';
    try {
      const code = await main(['org-status', ...args], { out: (s) => (out += s), err: (s) => (err += s) });
      return { code, out, err };
    } finally {
      process.env = saved;
    }
  };

  test('no region: usage error, exit 2, one line', async () => {
    const r = await run([], { AWS_CONFIG_FILE: '/nonexistent', AWS_PROFILE: 'none' });
    expect([r.code, r.err]).toEqual([2, 'trailstory: no region: pass --region, or set AWS_REGION or a region in your AWS profile\n']);
  });

  test('a region name that is not one: exit 2 naming it and its option', async () => {
    const r = await run(['--region', 'us-east-1', '--regions', 'us-east-1,Frankfurt']);
    expect([r.code, r.err]).toEqual([2, 'trailstory: --regions: "Frankfurt" is not a region name (e.g. eu-west-1)\n']);
    const s = await run(['--region', 'US-EAST-1']);
    expect([s.code, s.err]).toEqual([2, 'trailstory: --region: "US-EAST-1" is not a region name (e.g. eu-west-1)\n']);
    const e = await run(['--region', 'us-east-1', '--regions', ' , ']);
    expect([e.code, e.err]).toEqual([2, 'trailstory: --regions: no region given\n']);
  });

  test('option values pasted into the fixes are checked: role and StackSet names; a bad environment variable is a usage error', async () => {
    const a = await run(['--region', 'us-east-1', '--member-role-name', 'bad role!*']);
    expect([a.code, a.err]).toEqual([2, 'trailstory: --member-role-name: "bad role!*" is not an IAM role name (1-64 of letters, digits and +=,.@_-)\n']);
    const b = await run(['--region', 'us-east-1', '--stack-set-name', 'x; rm -rf ~']);
    expect([b.code, b.err]).toEqual([2, 'trailstory: --stack-set-name: "x; rm -rf ~" is not a StackSet name (a letter, then letters, digits and -)\n']);
    const c = await run(['--region', 'us-east-1'], { ORG_STATUS_REGIONS: 'US-EAST-1' });
    expect([c.code, c.err]).toEqual([2, 'trailstory: ORG_STATUS_REGIONS: "US-EAST-1" is not a region name (e.g. eu-west-1)\n']);
  });

  test('the region from the AWS profile when --region and AWS_REGION are not set', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ts-profile-'));
    fs.writeFileSync(path.join(dir, 'config'), '[profile audit]\nregion = eu-west-3\n');
    // No credentials anywhere: it gets as far as asking STS, in the profile's region.
    const r = await run([], { AWS_CONFIG_FILE: path.join(dir, 'config'), AWS_SHARED_CREDENTIALS_FILE: path.join(dir, 'none'), AWS_PROFILE: 'audit', AWS_ENDPOINT_URL: 'http://127.0.0.1:9' });
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^trailstory: cannot ask AWS who is calling/);
  });

  test('no credentials that work: exit 1, one line naming the cause', async () => {
    const r = await run(['--region', 'us-east-1'], { AWS_ENDPOINT_URL: 'http://127.0.0.1:9', AWS_ACCESS_KEY_ID: 'AKIA0', AWS_SECRET_ACCESS_KEY: 'x', AWS_MAX_ATTEMPTS: '1' });
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^trailstory: cannot ask AWS who is calling \(.+\)\n$/);
  });

  test('--format markdown of a healthy organisation, and exit 0 with --fail-on-gaps', async () => {
    healthy(['us-east-1']);
    const creds = emu.sessionClientConfig(ADMIN, 'Worker', 'us-east-1', { sessionName: 'cli' }).credentials;
    const r = await run(['--region', 'us-east-1', '--format', 'markdown', '--fail-on-gaps'], {
      AWS_ACCESS_KEY_ID: creds.accessKeyId, AWS_SECRET_ACCESS_KEY: creds.secretAccessKey, AWS_SESSION_TOKEN: creds.sessionToken, AWS_ENDPOINT_URL: emu.endpoint, MEMBER_EXTERNAL_ID: 'x-1',
    });
    expect([r.code, r.err]).toEqual([0, '']);
    expect(r.out).toContain(`| ${M1} | app-1 | us-east-1 | Enabled | Enabled | ENABLED | ok |`);
    expect(r.out).toContain('No gaps: every account and region is covered.');
  });
});
