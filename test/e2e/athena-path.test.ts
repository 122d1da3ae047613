/**
 * End to end with `TRAIL_SOURCE=athena` and `security-lake`: a public scenario's EventBridge
 * event through the intake and the enrich worker, the worker reading CloudTrail from the
 * emulated organisation trail (Athena, partition projection) or Security Lake's table, against
 * the local emulator. The annotated finding carries the CLI's storyline over the same records,
 * and the worker reports the queries it made.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { makeClients } from '../../src/clients/all';
import { readConfig } from '../../src/config';
import { makeIntake } from '../../src/lambda/intake';
import { makeWorker, type RecordOutcome } from '../../src/lambda/worker';
import { securityLakeDatabase, securityLakeTable } from '../../src/sources/security-lake-tables';
import { investigate, readFinding } from '../../src/storyline/investigate';
import { AwsEmulator } from '../emulator/server';
import { seedScenario } from '../emulator/seed';
import { registerOrgTrailTable, writeOrgTrail, writeSecurityLake } from '../support/org-trail';
import { recordsUnder } from '../support/security-lake';
import { sharedDir } from '../support/shared';
import { lambdaContext, sqsEvent, startDynamo } from './harness';

const SHARED = sharedDir();
if (!SHARED) process.stdout.write('shared/ not found: skipping the Athena end-to-end test\n');
const context = lambdaContext('enrich-worker', 300_000);

(SHARED ? describe : describe.skip)('the Lambda path with TRAIL_SOURCE athena and security-lake', () => {
  let emu: AwsEmulator;
  let dynamo: Awaited<ReturnType<typeof startDynamo>>;
  let tmp = '';
  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'trailstory-e2e-athena-'));
    emu = await AwsEmulator.start({ seed: 13 });
  });
  // Each source its own idempotency table: the same finding is enriched by each.
  beforeEach(async () => {
    dynamo = await startDynamo('idempotency');
  });
  afterEach(async () => {
    await dynamo?.stop();
  });
  afterAll(async () => {
    await emu?.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  test.each([['athena'], ['security-lake']])('%s: d-role-chain-same-account', async (source) => {
    const dir = path.join(SHARED as string, 'scenarios', 'd-role-chain-same-account');
    emu.reset();
    emu.athena.knobs = { ...emu.athena.knobs, queueMs: 0, runMs: 0, runMsPerGB: 0 };
    seedScenario(emu, dir);
    const records = recordsUnder(path.join(dir, 'cloudtrail')).flatMap((x) => x.records);
    const org = writeOrgTrail(records, path.join(tmp, `bucket-${source}`));
    registerOrgTrailTable(emu, org.location, org.regions, 'trail', 'cloudtrail');
    const f = readFinding(path.join(dir, 'finding.json'));
    await writeSecurityLake(emu, records, path.join(tmp, `lake-${source}`), securityLakeDatabase(f.region), securityLakeTable(f.region));
    const clientConfig = emu.clientConfig(f.accountId, f.region);
    const queueUrl = emu.sqs.createQueue('enrich', f.accountId, f.region);
    const dlqUrl = emu.sqs.createQueue('enrich-dlq', f.accountId, f.region);
    const env: Record<string, string> = { ENRICH_QUEUE_URL: queueUrl, ENRICH_DLQ_URL: dlqUrl, IDEMPOTENCY_TABLE: 'idempotency', MIN_SEVERITY: '0', USE_DETECTIVE: 'false', TRAIL_SOURCE: source, ATHENA_WORKGROUP: 'primary', TRAIL_REGIONS: org.regions.join(','), LOOKBACK_DAYS: '30' };
    if (source === 'athena') Object.assign(env, { ATHENA_DATABASE: 'trail', ATHENA_TABLE: 'cloudtrail' });
    else Object.assign(env, { SECURITY_LAKE_REGION: f.region, SECURITY_LAKE_DATABASE: securityLakeDatabase(f.region), SECURITY_LAKE_TABLE: securityLakeTable(f.region) });
    const config = readConfig([], env);
    const clients = makeClients(config, f.region, { endpoint: emu.endpoint, credentials: clientConfig.credentials });
    const native = JSON.parse(fs.readFileSync(path.join(dir, 'finding.json'), 'utf8')) as Record<string, unknown>;
    const event = native['detail-type'] === 'GuardDuty Finding' ? native : { version: '0', id: 'e2e', 'detail-type': 'GuardDuty Finding', source: 'aws.guardduty', account: f.accountId, region: f.region, time: f.updatedAt, resources: [], detail: native };
    expect((await makeIntake(config, clients)(event)).queued).toBe(1);
    const outcomes: RecordOutcome[] = [];
    const offset = Date.parse(f.updatedAt ?? '') + 3600 * 1000 - Date.now();
    const timer = { now: () => Date.now() + offset, sleep: (ms: number) => new Promise<void>((r) => setTimeout(r, ms)) };
    const worker = makeWorker(config, clients, dynamo.client, { onOutcome: (o) => outcomes.push(o), timer });
    const res = await worker(sqsEvent(emu.sqs.messages(queueUrl).map((m) => m.Body), f.region), context);
    expect(res.batchItemFailures).toEqual([]);

    // The CLI over the records a 30-day lookback reads (the scenario's are all within it).
    const expected = await investigate({ findingFile: path.join(dir, 'finding.json'), cloudtrail: [org.location] });
    expect(expected.steps.length).toBeGreaterThan(5);
    expect(outcomes[0]?.steps).toBe(expected.steps.length);
    expect(outcomes[0]?.usage).toMatchObject({ source, rounds: expect.any(Number), queries: expect.any(Number) });
    expect(outcomes[0]?.usage?.queries).toBeGreaterThanOrEqual(1);
    expect(outcomes[0]?.requests['athena:StartQueryExecution']).toBe(outcomes[0]?.usage?.queries);
    expect(outcomes[0]?.requests['cloudtrail:LookupEvents']).toBeUndefined();
    const companion = emu.securityHub.get(`${f.arn}/trailstory-storyline`) as Record<string, unknown> | undefined;
    expect((companion?.ProductFields as Record<string, string>)['trailstory/origin/eventId']).toBe(expected.origin?.eventId);
    expect(emu.requests.some((r) => r.service === 'athena' && r.operation === 'GetQueryResults' && r.status === 200)).toBe(true);
  }, 120_000);
});
