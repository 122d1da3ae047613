/**
 * The organisation path end to end (test/e2e/org-fixture.ts): the enrich worker runs in the
 * delegated-admin account with its stack in us-east-1, the Security Hub aggregation region, and
 * gets findings of three member accounts in three regions (us-east-1, eu-west-1 and the opt-in
 * me-central-1) plus one of a new account the member StackSet has not reached yet.
 *
 * Each member's finding must be enriched from ITS OWN CloudTrail (LookupEvents signed as that
 * account, through the member role assumed at the regional STS endpoint, with the ExternalId
 * that the emulated STS checks against the trust policy), its companion finding imported in its
 * own account AND region (writes never go to the aggregation region), and its annotation land
 * on GuardDuty's finding in the finding's region. The new account's finding is annotated with
 * the reason its context is missing; nothing is dead-lettered.
 *
 * Then `trailstory org-status` runs against the same organisation, as the worker's role.
 */
import * as fs from 'node:fs';
import { makeClients } from '../../src/clients/all';
import { readConfig } from '../../src/config';
import { main } from '../../src/cli/main';
import { messageFor } from '../../src/lambda/messages';
import { makeWorker, type RecordOutcome } from '../../src/lambda/worker';
import { AwsEmulator } from '../emulator/server';
import { ADMIN, buildOrganizationWithFindings, DATA, EXTERNAL_ID, FINDING_HOME, GULF, NEW, PROD, REGIONS, SCENARIO, STACK_REGION, WORKER_ROLE, type BuiltOrganization } from './org-fixture';
import { lambdaContext, sqsEvent, startDynamo } from './harness';

const HAVE = fs.existsSync(SCENARIO);
if (!HAVE) process.stdout.write('shared/ not found: skipping the organisation end-to-end tests\n');

const MEMBERS = [PROD, DATA, GULF];

(HAVE ? describe : describe.skip)('org-wide: the worker in the delegated-admin account, three members in three regions, one new account', () => {
  let emu: AwsEmulator;
  let dynamo: Awaited<ReturnType<typeof startDynamo>>;
  let built: BuiltOrganization;
  let workerCreds: { accessKeyId: string; secretAccessKey: string; sessionToken: string };
  const outcomes: RecordOutcome[] = [];
  let batchFailures: unknown[] = [];
  let dlqUrl = '';

  beforeAll(async () => {
    emu = await AwsEmulator.start({ seed: 11 });
    emu.knobs.lookupEventsPerSecond = 0;
    dynamo = await startDynamo('idem');
    built = buildOrganizationWithFindings(emu);
    workerCreds = emu.sessionClientConfig(ADMIN, WORKER_ROLE, STACK_REGION, { sessionName: 'enrich-worker' }).credentials;
    const queueUrl = emu.sqs.createQueue('enrich', ADMIN, STACK_REGION);
    dlqUrl = emu.sqs.createQueue('dlq', ADMIN, STACK_REGION);
    const config = readConfig([], { ENRICH_QUEUE_URL: queueUrl, ENRICH_DLQ_URL: dlqUrl, IDEMPOTENCY_TABLE: 'idem', OWN_ACCOUNT_ID: ADMIN, MEMBER_EXTERNAL_ID: EXTERNAL_ID, USE_DETECTIVE: 'false', AWS_ENDPOINT_URL: emu.endpoint });
    const clients = makeClients(config, STACK_REGION, { credentials: workerCreds, maxAttempts: 1 });
    const any = Object.values(built.findings)[0]!;
    const offset = Date.parse(any.updatedAt ?? '') + 3600_000 - Date.now();
    const worker = makeWorker(config, clients, dynamo.client, {
      onOutcome: (o) => outcomes.push(o),
      timer: { now: () => Date.now() + offset, sleep: async () => undefined },
      ownCredentials: workerCreds,
      memberOverrides: { maxAttempts: 1 },
    });
    // All four findings in one batch, as the stack in the aggregation region receives them.
    const bodies = [PROD, DATA, GULF, NEW].map((a) => JSON.stringify(messageFor(built.findings[a]!, 'custom-action')));
    batchFailures = (await worker(sqsEvent(bodies, STACK_REGION), lambdaContext('enrich-worker'))).batchItemFailures;
  });
  afterAll(async () => {
    await emu?.stop();
    await dynamo?.stop();
  });

  test('nothing failed, nothing was dead-lettered', () => {
    expect(batchFailures).toEqual([]);
    expect(emu.sqs.messages(dlqUrl)).toEqual([]);
  });

  test.each(MEMBERS.map((a) => [a, FINDING_HOME[a]!]))('member %s (%s): CloudTrail read in its own account, the member role assumed in its region', (account, region) => {
    const lookups = emu.requests.filter((r) => r.operation === 'LookupEvents' && r.account === account);
    expect(lookups.length).toBeGreaterThan(0);
    expect(lookups.every((r) => r.status === 200)).toBe(true);
    // Its finding's region is looked up (IAM and STS events are also read in us-east-1).
    expect(lookups.some((r) => r.region === region)).toBe(true);
    expect(lookups.every((r) => r.region === region || r.region === 'us-east-1')).toBe(true);
    // The role was assumed through the STS endpoint of the finding's region.
    expect(emu.requests.some((r) => r.operation === 'AssumeRole' && r.account === ADMIN && r.region === region && r.status === 200)).toBe(true);
    const outcome = outcomes.find((o) => o.key.startsWith(`${account}/${region}/`));
    expect(outcome?.steps).toBeGreaterThan(0);
  });

  test('no CloudTrail was read as the admin account: every lookup was a member\'s own', () => {
    expect(emu.requests.filter((r) => r.operation === 'LookupEvents' && r.account === ADMIN)).toEqual([]);
  });

  test.each(MEMBERS.map((a) => [a, FINDING_HOME[a]!]))('member %s (%s): companion finding imported in its own account and region; annotation on the finding there', (account, region) => {
    const f = built.findings[account]!;
    const companion = emu.securityHub.get(`${f.arn}/trailstory-storyline`, region) as Record<string, unknown> | undefined;
    expect(companion?.AwsAccountId).toBe(account);
    expect(companion?.Region).toBe(region);
    expect(companion?.ProductArn).toBe(`arn:aws:securityhub:${region}:${account}:product/${account}/default`);
    // Writes do not span regions: nothing of this finding in any other region's store.
    for (const other of REGIONS.filter((r) => r !== region)) expect(emu.securityHub.get(`${f.arn}/trailstory-storyline`, other)).toBeUndefined();
    const imports = emu.requests.filter((r) => r.operation === 'BatchImportFindings' && r.account === account);
    expect(imports.map((r) => r.region)).toEqual([region]);
    const original = emu.securityHub.get(f.arn, region) as Record<string, unknown>;
    expect((original.Note as { UpdatedBy: string }).UpdatedBy).toBe('trailstory');
    expect((original.UserDefinedFields as Record<string, string>)['trailstory.7.companion-finding']).toBe(`${f.arn}/trailstory-storyline`);
  });

  test('the new account: refused by its (missing) member role, annotated with the reason, no companion finding', () => {
    const f = built.findings[NEW]!;
    expect(emu.requests.some((r) => r.operation === 'AssumeRole' && r.status === 403)).toBe(true);
    expect(emu.requests.filter((r) => r.account === NEW)).toEqual([]); // nothing ran as the new account
    expect(emu.securityHub.get(`${f.arn}/trailstory-storyline`)).toBeUndefined();
    const annotated = emu.securityHub.get(f.arn, 'us-east-1') as Record<string, unknown>;
    const note = annotated.Note as { Text: string; UpdatedBy: string };
    expect(note.UpdatedBy).toBe('trailstory');
    expect(note.Text).toContain(`account ${NEW} could not be reached in us-east-1`);
    expect((annotated.UserDefinedFields as Record<string, string>)['trailstory.6.coverage']).toContain('the trailstory member role');
  });

  describe('trailstory org-status against the same organisation, as the worker role', () => {
    let out = '';
    let code = -1;
    beforeAll(async () => {
      const saved = { ...process.env };
      Object.assign(process.env, { AWS_ACCESS_KEY_ID: workerCreds.accessKeyId, AWS_SECRET_ACCESS_KEY: workerCreds.secretAccessKey, AWS_SESSION_TOKEN: workerCreds.sessionToken, AWS_ENDPOINT_URL: emu.endpoint, AWS_REGION: STACK_REGION, MEMBER_EXTERNAL_ID: EXTERNAL_ID });
      delete process.env.AWS_PROFILE;
      let err = '';
      try {
        code = await main(['org-status', '--regions', REGIONS.join(','), '--format', 'json', '--fail-on-gaps', '--now', '2026-11-29T12:00:00Z'], { out: (s) => (out += s), err: (s) => (err += s) });
      } finally {
        process.env = saved;
      }
      if (err) throw new Error(err);
    });

    test('it finds exactly the organisation\'s gaps, each with its fix, and exits 3', () => {
      const report = JSON.parse(out) as import('../../src/org/status').OrgStatus;
      expect(code).toBe(3);
      expect(report.organizationId).toBe(built.org.organization.Id);
      expect(report.caller).toBe(`arn:aws:sts::${ADMIN}:assumed-role/${WORKER_ROLE}/enrich-worker`);
      expect(report.aggregation).toEqual({ homeRegion: 'us-east-1', regionLinkingMode: 'SPECIFIED_REGIONS', regions: ['eu-west-1'] });
      const gaps = report.gaps.map((g) => `${g.account} ${g.region} ${g.component}`).sort();
      expect(gaps).toEqual([
        `${ADMIN} eu-west-1 GuardDuty`, // auto-enable NONE
        `${ADMIN} me-central-1 Detective`, // no graph
        `${ADMIN} me-central-1 aggregation`, // not linked to us-east-1
        `${NEW} us-east-1 member role`, // the StackSet has not reached it (said once, not again for me-central-1)
        // me-central-1 is not enabled in prod, data and new: one gap each, not one per service.
        `${PROD} me-central-1 region`,
        `${DATA} me-central-1 region`,
        `${NEW} me-central-1 region`,
      ].sort());
      for (const g of report.gaps) expect(g.fix.length).toBeGreaterThan(10);
      expect(report.gaps.find((g) => g.component === 'member role')?.fix).toContain('create-stack-instances --stack-set-name trailstory-member-role');
      expect(report.gaps.find((g) => g.component === 'region')?.fix).toBe(`from the management account: aws account enable-region --account-id ${PROD} --region-name me-central-1`);
    });

    test('the table: one row per account and region, the member role checked in the opt-in region separately', () => {
      const report = JSON.parse(out) as import('../../src/org/status').OrgStatus;
      expect(report.accounts).toHaveLength(6 * REGIONS.length);
      const row = (a: string, r: string) => report.accounts.find((x) => x.account === a && x.region === r)!;
      expect(row(ADMIN, 'us-east-1')).toMatchObject({ securityHub: 'admin', guardDuty: 'admin', detective: 'admin', memberRole: 'self' });
      expect(row(DATA, 'eu-west-1')).toMatchObject({ name: 'data', securityHub: 'Enabled', guardDuty: 'Enabled', detective: 'ENABLED', memberRole: 'ok' });
      expect(row(GULF, 'me-central-1')).toMatchObject({ securityHub: 'Enabled', guardDuty: 'Enabled', detective: 'no graph', memberRole: 'ok' });
      expect(row(PROD, 'me-central-1')).toMatchObject({ securityHub: 'Created', guardDuty: 'RegionDisabled', memberRole: 'region disabled' });
      expect(row(PROD, 'eu-west-1').memberRole).toBe('ok');
      expect(row(NEW, 'eu-west-1').memberRole).toBe('refused');
      // The role is proven once in the stack's region, and again in each opt-in region.
      expect(report.requests['sts:AssumeRole']).toBe(5 * 2);
      expect(report.requests['sts:GetCallerIdentity']).toBe(5 * 2 + 1); // and once for the caller itself
    });
  });
});
