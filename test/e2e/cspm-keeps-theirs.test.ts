/**
 * End to end through the intake and the enrich worker against the emulator: GuardDuty's finding
 * in Security Hub CSPM carries GuardDuty's own Types and another tool's UserDefinedFields,
 * RelatedFindings and Note. Enriched, then re-published and enriched again (an analyst and a
 * stale entry of ours added in between): every value of theirs is still there, ours are united
 * with them, and the re-enrichment replaced only ours.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { makeClients } from '../../src/clients/all';
import { readConfig } from '../../src/config';
import { makeIntake } from '../../src/lambda/intake';
import { makeWorker } from '../../src/lambda/worker';
import { TYPES_ADDED_KEY } from '../../src/securityhub/asff';
import { readFinding } from '../../src/storyline/investigate';
import { AwsEmulator } from '../emulator/server';
import { seedScenario } from '../emulator/seed';
import { lambdaContext, sqsEvent, startDynamo } from './harness';

const DIR = path.resolve(__dirname, '../scenarios/x-trust-policy-backdoor');
const GD_TYPE = 'TTPs/Persistence/IAMUser-AnomalousBehavior';
const JIRA_LINK = { ProductArn: 'arn:aws:securityhub:us-east-1:252525252525:product/252525252525/default', Id: 'jira/SEC-123' };
const THEIR_NOTE = 'jiraIssue: SEC-123';

type Held = { Types: string[]; RelatedFindings: { ProductArn: string; Id: string }[]; UserDefinedFields: Record<string, string>; Note: { Text: string; UpdatedBy: string } };

describe('the CSPM write keeps what GuardDuty, another tool and an analyst put on the finding', () => {
  let emu: AwsEmulator;
  let dynamo: Awaited<ReturnType<typeof startDynamo>>;
  beforeAll(async () => {
    emu = await AwsEmulator.start({ seed: 12 });
    emu.knobs.lookupEventsPerSecond = 0;
    dynamo = await startDynamo('idempotency');
  });
  afterAll(async () => {
    await emu?.stop();
    await dynamo?.stop();
  });

  test('enriched twice: theirs all kept, ours united with them, the second run replaced only ours', async () => {
    // Prepare: the scenario seeded (GuardDuty's finding in Security Hub with GuardDuty's Types), another tool's values added.
    seedScenario(emu, DIR);
    const f = readFinding(path.join(DIR, 'finding.json'));
    const held = () => emu.securityHub.get(f.arn) as unknown as Held;
    expect(held().Types).toEqual([GD_TYPE]);
    emu.securityHub.put({ ...emu.securityHub.get(f.arn), UserDefinedFields: { jiraIssue: 'SEC-123' }, RelatedFindings: [JIRA_LINK], Note: { Text: THEIR_NOTE, UpdatedBy: 'jira-sync', UpdatedAt: '2026-05-06T22:00:00Z' } });

    const cc = emu.clientConfig(f.accountId, f.region);
    const queueUrl = emu.sqs.createQueue('enrich', f.accountId, f.region);
    const dlqUrl = emu.sqs.createQueue('enrich-dlq', f.accountId, f.region);
    const config = readConfig([], { ENRICH_QUEUE_URL: queueUrl, ENRICH_DLQ_URL: dlqUrl, IDEMPOTENCY_TABLE: 'idempotency', MIN_SEVERITY: '0' });
    const clients = makeClients(config, f.region, { endpoint: emu.endpoint, credentials: cc.credentials });
    const intake = makeIntake(config, clients);
    const native = JSON.parse(fs.readFileSync(path.join(DIR, 'finding.json'), 'utf8')) as Record<string, unknown>;
    const enrich = async (detail: Record<string, unknown>): Promise<void> => {
      const queued = await intake({ version: '0', id: 'e2e', 'detail-type': 'GuardDuty Finding', source: 'aws.guardduty', account: f.accountId, region: f.region, time: detail.updatedAt, resources: [], detail });
      expect(queued.queued).toBe(1);
      // Taken off the queue, as the event source mapping does with a batch it delivers.
      const messages = emu.sqs.messages(queueUrl).splice(0);
      expect(messages).toHaveLength(1);
      const offset = Date.parse(String(detail.updatedAt)) + 3600_000 - Date.now();
      const worker = makeWorker(config, clients, dynamo.client, { timer: { now: () => Date.now() + offset, sleep: (ms: number) => new Promise<void>((r) => setTimeout(r, ms)) } });
      const out = await worker(sqsEvent(messages.map((m) => m.Body), f.region), lambdaContext('enrich-worker', 60_000));
      expect(out.batchItemFailures).toEqual([]);
    };

    // Act 1: the first enrichment.
    await enrich(native);

    // Assess 1: theirs kept, ours added.
    const companionLink = { ProductArn: JIRA_LINK.ProductArn, Id: `${f.arn}/trailstory-storyline` };
    const one = held();
    const ourTypes = JSON.parse(one.UserDefinedFields[TYPES_ADDED_KEY] ?? '[]') as string[];
    expect(ourTypes.length).toBeGreaterThan(0);
    expect(one.Types).toEqual([GD_TYPE, ...ourTypes]);
    expect(one.RelatedFindings).toEqual([JIRA_LINK, companionLink]);
    expect(one.UserDefinedFields.jiraIssue).toBe('SEC-123');
    expect(Number(one.UserDefinedFields['trailstory.4.steps'])).toBeGreaterThan(0);
    expect(one.Note.UpdatedBy).toBe('trailstory');
    expect(one.Note.Text.endsWith(`\n[jira-sync] ${THEIR_NOTE}`)).toBe(true);

    // Between the runs: an analyst adds a type and a field; a stale type and field of ours (from an older version) are there too.
    const stale = 'Effects/Data Destruction';
    emu.securityHub.put({
      ...emu.securityHub.get(f.arn),
      Types: [...one.Types, 'Unusual Behaviors/User', stale],
      UserDefinedFields: { ...one.UserDefinedFields, 'analyst.verdict': 'true positive', 'trailstory.0.stale': 'old', [TYPES_ADDED_KEY]: JSON.stringify([...ourTypes, stale]) },
    });

    // Act 2: GuardDuty re-publishes the finding (later updatedAt, higher count): a second enrichment.
    const republished = { ...native, updatedAt: new Date(Date.parse(String(native.updatedAt)) + 6 * 3600_000).toISOString(), service: { ...(native.service as object), count: 9 } };
    await enrich(republished);

    // Assess 2: GuardDuty's, the analyst's and the other tool's values all there; ours replaced, not doubled.
    const two = held();
    expect(emu.requests.filter((r) => r.operation === 'BatchUpdateFindings')).toHaveLength(2);
    expect(two.Types).toEqual([GD_TYPE, 'Unusual Behaviors/User', ...ourTypes]);
    expect(two.Types).not.toContain(stale);
    expect(JSON.parse(two.UserDefinedFields[TYPES_ADDED_KEY] ?? '[]')).toEqual(ourTypes);
    expect(two.RelatedFindings).toEqual([JIRA_LINK, companionLink]);
    expect(two.UserDefinedFields.jiraIssue).toBe('SEC-123');
    expect(two.UserDefinedFields['analyst.verdict']).toBe('true positive');
    expect(two.UserDefinedFields['trailstory.0.stale']).toBeUndefined();
    expect(two.Note.Text.endsWith(`\n[jira-sync] ${THEIR_NOTE}`)).toBe(true);
    expect(two.Note.Text.split(THEIR_NOTE)).toHaveLength(2);
  });
});
