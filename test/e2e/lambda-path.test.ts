/**
 * End to end, per public scenario: its EventBridge event through the intake and the enrich
 * worker against the local AWS emulator (real SDK v3 clients, every request checked against
 * the Smithy models) with idempotency on a real DynamoDB-compatible server (dynalite). The
 * annotated GuardDuty finding and the companion finding read back from the emulator must match
 * the CLI's storyline over the records the Lambda path could see: management events, in the
 * finding's region and us-east-1, in the look-up window.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { makeClients } from '../../src/clients/all';
import { readConfig } from '../../src/config';
import { makeIntake } from '../../src/lambda/intake';
import { makeWorker, type RecordOutcome } from '../../src/lambda/worker';
import { investigate, readFinding } from '../../src/storyline/investigate';
import { AwsEmulator } from '../emulator/server';
import { readTrailFile, seedScenario } from '../emulator/seed';
import { lambdaContext, sqsEvent, startDynamo } from './harness';

const SHARED = path.resolve(__dirname, '../../../shared/scenarios');
const HAVE_SHARED = fs.existsSync(SHARED);
if (!HAVE_SHARED) process.stdout.write('shared/ not found: skipping the end-to-end scenario tests\n');
const scenarios = HAVE_SHARED ? fs.readdirSync(SHARED).filter((d) => fs.existsSync(path.join(SHARED, d, 'truth.json'))) : [];

const DAY = 24 * 3600 * 1000;

const context = lambdaContext('enrich-worker', 60_000);

/** Wraps a normalised finding's source document as the EventBridge "GuardDuty Finding" event the intake receives. */
function eventBridgeEvent(dir: string): unknown {
  const doc = JSON.parse(fs.readFileSync(path.join(dir, 'finding.json'), 'utf8')) as Record<string, unknown>;
  if (doc['detail-type'] === 'GuardDuty Finding') return doc;
  const f = readFinding(path.join(dir, 'finding.json'));
  if (f.form === 'guardduty-native' || f.form === 'guardduty-getfindings') {
    const native = (Array.isArray(doc.Findings) ? doc.Findings[0] : doc) as Record<string, unknown>;
    return { version: '0', id: 'e2e', 'detail-type': 'GuardDuty Finding', source: 'aws.guardduty', account: f.accountId, region: f.region, time: f.updatedAt, resources: [], detail: native };
  }
  // ASFF forms reach the intake as a Security Hub Custom Action event.
  const asff = (Array.isArray(doc.Findings) ? doc.Findings : ((doc.detail as { findings?: unknown[] } | undefined)?.findings ?? [])) as unknown[];
  return { version: '0', id: 'e2e', 'detail-type': 'Security Hub Findings - Custom Action', source: 'aws.securityhub', account: f.accountId, region: f.region, time: f.updatedAt, resources: [], detail: { actionName: 'Enrich', findings: asff } };
}

/** Writes the records LookupEvents can serve for this finding to a folder, for the CLI to read. */
function visibleTrail(dir: string, out: string): void {
  const f = readFinding(path.join(dir, 'finding.json'));
  const first = Date.parse(f.eventFirstSeen ?? '');
  const last = Date.parse(f.eventLastSeen ?? f.eventFirstSeen ?? '');
  const regions = new Set([f.region, 'us-east-1']);
  const keep: unknown[] = [];
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else {
        for (const r of readTrailFile(p).records as Record<string, unknown>[]) {
          const t = Date.parse(String(r.eventTime));
          const data = r.managementEvent === false || r.eventCategory === 'Data';
          if (!data && regions.has(String(r.awsRegion)) && t >= first - 7 * DAY && t <= last + 2 * 3600 * 1000) keep.push(r);
        }
      }
    }
  };
  walk(path.join(dir, 'cloudtrail'));
  fs.mkdirSync(out, { recursive: true });
  fs.writeFileSync(path.join(out, 'visible.json'), JSON.stringify({ Records: keep }));
}

(HAVE_SHARED ? describe : describe.skip)('the Lambda path against the emulator, per public scenario', () => {
  let emu: AwsEmulator;
  let dynamo: Awaited<ReturnType<typeof startDynamo>>;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'trailstory-e2e-'));

  beforeAll(async () => {
    emu = await AwsEmulator.start({ seed: 7 });
    emu.knobs.lookupEventsPerSecond = 0;
    dynamo = await startDynamo('idempotency');
  });

  afterAll(async () => {
    await emu?.stop();
    await dynamo?.stop();
  });

  test.each(scenarios)('%s', async (name) => {
    const dir = path.join(SHARED, name);
    emu.reset();
    emu.knobs.lookupEventsPerSecond = 0;
    seedScenario(emu, dir);
    const f = readFinding(path.join(dir, 'finding.json'));
    const clientConfig = emu.clientConfig(f.accountId, f.region);
    const queueUrl = emu.sqs.createQueue('enrich', f.accountId, f.region);
    const dlqUrl = emu.sqs.createQueue('enrich-dlq', f.accountId, f.region);
    const bucket = `trailstory-reports-${f.accountId}`;
    emu.s3.createBucket(bucket, f.accountId, f.region);
    const config = readConfig([], { ENRICH_QUEUE_URL: queueUrl, ENRICH_DLQ_URL: dlqUrl, IDEMPOTENCY_TABLE: 'idempotency', MIN_SEVERITY: '0', REPORT_BUCKET: bucket });
    const clients = makeClients(config, f.region, { endpoint: emu.endpoint, credentials: clientConfig.credentials });

    // Intake: the event in, one message on the queue.
    const intake = makeIntake(config, clients);
    const queued = await intake(eventBridgeEvent(dir));
    expect(queued.queued).toBe(1);
    const messages = emu.sqs.messages(queueUrl);
    expect(messages).toHaveLength(1);

    // Worker: the message as an SQS batch, twice (at-least-once delivery: enriched once).
    const outcomes: RecordOutcome[] = [];
    // The run happens an hour after GuardDuty's update, as in production; time passes normally.
    const offset = Date.parse(f.updatedAt ?? '') + 3600 * 1000 - Date.now();
    const timer = { now: () => Date.now() + offset, sleep: (ms: number) => new Promise<void>((r) => setTimeout(r, ms)) };
    const worker = makeWorker(config, clients, dynamo.client, { onOutcome: (o) => outcomes.push(o), timer });
    const event = sqsEvent(messages.map((m) => m.Body), f.region);
    const first = await worker(event, context);
    expect(first.batchItemFailures).toEqual([]);
    const second = await worker(event, context);
    expect(second.batchItemFailures).toEqual([]);
    // The second delivery is answered from the idempotency record: Security Hub is written once.
    expect(emu.requests.filter((r) => r.operation === 'BatchUpdateFindings')).toHaveLength(1);
    expect(outcomes[1]).toEqual(outcomes[0]);

    // What the CLI says over the records the Lambda path could see.
    const visible = path.join(tmp, name);
    visibleTrail(dir, visible);
    const expected = await investigate({ findingFile: path.join(dir, 'finding.json'), cloudtrail: [visible] });

    const annotated = emu.securityHub.get(f.arn) as Record<string, unknown> | undefined;
    expect(annotated).toBeDefined();
    const note = annotated?.Note as { Text: string; UpdatedBy: string } | undefined;
    expect(note?.UpdatedBy).toBe('trailstory');
    const udf = annotated?.UserDefinedFields as Record<string, string>;
    expect(udf['trailstory.4.steps']).toBe(String(expected.steps.length));
    expect(outcomes[0]?.steps).toBe(expected.steps.length);
    const companion = emu.securityHub.get(`${f.arn}/trailstory-storyline`) as Record<string, unknown> | undefined;
    if (expected.steps.length === 0) {
      expect(companion).toBeUndefined();
    } else {
      expect(companion?.AwsAccountId).toBe(f.accountId);
      const pf = companion?.ProductFields as Record<string, string>;
      expect(pf['trailstory/origin/eventId']).toBe(expected.origin?.eventId);
      expect(pf['trailstory/steps']).toBe(String(expected.steps.length));
      // The report: in the stack's bucket, linked by its console URL from both findings.
      const key = `reports/${f.accountId}/${f.region}/${f.id}.html`;
      const object = emu.s3.getObject(bucket, key);
      expect(object).toBeDefined();
      expect(object?.body.toString('utf8')).toContain(`data-event-id="${expected.origin?.eventId}"`);
      const url = `https://s3.console.aws.amazon.com/s3/object/${bucket}?region=${process.env.AWS_REGION ?? 'us-east-1'}&prefix=${encodeURIComponent(key)}`;
      expect(companion?.SourceUrl).toBe(url);
      expect(udf['trailstory.8.report']).toBe(url);
    }
  });
});
