/**
 * A burst of 100 findings through intake and worker while the emulator throttles and answers
 * 5xx at random (seeded): every finding ends enriched or in the dead-letter queue with its
 * reason, none in both, none enriched twice. SQS redelivery is simulated: a record the worker
 * reports as failed comes back with its receive count raised.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { makeClients } from '../../src/clients/all';
import { readConfig } from '../../src/config';
import { makeIntake } from '../../src/lambda/intake';
import type { EnrichMessage } from '../../src/lambda/messages';
import { makeWorker } from '../../src/lambda/worker';
import { AwsEmulator } from '../emulator/server';
import { seedScenario } from '../emulator/seed';
import { lambdaContext, sqsEvent, startDynamo } from './harness';

const SCENARIO = path.resolve(__dirname, '../scenarios/x-root-console');
const context = lambdaContext('enrich-worker', 60_000);

describe('a burst of 100 findings under throttling and 5xx answers', () => {
  let emu: AwsEmulator;
  let dynamo: Awaited<ReturnType<typeof startDynamo>>;

  afterAll(async () => {
    await emu?.stop();
    await dynamo?.stop();
  });

  test('every finding ends enriched or dead-lettered with its reason, none twice', async () => {
    emu = await AwsEmulator.start({ seed: 42 });
    dynamo = await startDynamo('idem');

    // Prepare: the scenario's records, and 100 copies of its finding with their own ids.
    emu.knobs.lookupEventsPerSecond = 0;
    seedScenario(emu, SCENARIO);
    const doc = JSON.parse(fs.readFileSync(path.join(SCENARIO, 'finding.json'), 'utf8')) as { Findings: Record<string, unknown>[] };
    const base = doc.Findings[0] as Record<string, unknown>;
    const account = String(base.AwsAccountId);
    const region = String(base.Region);
    const events = Array.from({ length: 100 }, (_, i) => {
      const id = `${String(i).padStart(4, '0')}${'b'.repeat(28)}`;
      const arn = String(base.Id).replace(/finding\/[0-9a-f]+$/, `finding/${id}`);
      const f = { ...base, Id: arn, ProductFields: { ...(base.ProductFields as object), 'aws/guardduty/service/findingId': id } };
      // The first five are not in Security Hub: annotating them is refused every time (an
      // UnprocessedFindings entry inside a 200), so they must end in the dead-letter queue.
      if (i >= 5) emu.securityHub.put(f);
      return { version: '0', id: `e${i}`, 'detail-type': 'Security Hub Findings - Custom Action', source: 'aws.securityhub', account, region, time: base.UpdatedAt, resources: [], detail: { actionName: 'Enrich', findings: [f] } };
    });
    const queueUrl = emu.sqs.createQueue('enrich', account, region);
    const dlqUrl = emu.sqs.createQueue('enrich-dlq', account, region);
    const config = readConfig([], { ENRICH_QUEUE_URL: queueUrl, ENRICH_DLQ_URL: dlqUrl, IDEMPOTENCY_TABLE: 'idem', MAX_RECEIVES: '3' });
    const cc = emu.clientConfig(account, region);
    const clients = makeClients(config, region, { endpoint: emu.endpoint, credentials: cc.credentials, maxAttempts: 2, retryMode: 'standard' });
    const intake = makeIntake(config, clients);
    for (const e of events) expect((await intake(e)).queued).toBe(1);

    // Act: faults switched on; the queue drained in batches of 10, failed records redelivered.
    emu.knobs.throttleRate = 0.3;
    emu.knobs.serverErrorRate = 0.2;
    let virtual = Date.parse(String(base.UpdatedAt)) + 3600_000;
    const timer = { now: () => virtual, sleep: async (ms: number) => void (virtual += ms) };
    const enriched: string[] = [];
    const worker = makeWorker(config, clients, dynamo.client, { onOutcome: (o) => enriched.push(o.key), timer });
    const pending = emu.sqs.messages(queueUrl).splice(0).map((m) => ({ body: m.Body, receives: 0 }));
    let rounds = 0;
    while (pending.length > 0 && rounds++ < 50) {
      const batch = pending.splice(0, 10);
      for (const m of batch) m.receives++;
      const res = await worker(sqsEvent(batch.map((m) => m.body), region, batch.map((m) => m.receives)), context);
      for (const f of res.batchItemFailures) pending.push(batch[Number(f.itemIdentifier.slice(1))] as { body: string; receives: number });
    }
    emu.knobs.throttleRate = 0;
    emu.knobs.serverErrorRate = 0;

    // Assess.
    expect(pending).toEqual([]);
    const keyOf = (body: string) => (JSON.parse(body) as EnrichMessage).key;
    const allKeys = events.map((_, i) => `${account}/${region}/${String(i).padStart(4, '0')}${'b'.repeat(28)}`);
    const dead = emu.sqs.messages(dlqUrl);
    const deadKeys = dead.map((m) => keyOf(m.Body));
    for (const m of dead) expect(String((m.MessageAttributes as Record<string, { StringValue?: string }>)?.reason?.StringValue ?? '')).not.toBe('');
    const enrichedIds = new Set(enriched.map((k) => k.split('/').slice(0, 3).join('/')));
    const deadIds = new Set(deadKeys.map((k) => k.split('/').slice(0, 3).join('/')));
    expect(enriched.length).toBe(enrichedIds.size); // none enriched twice
    for (const id of deadIds) expect(enrichedIds.has(id)).toBe(false); // none both
    expect([...enrichedIds, ...deadIds].sort()).toEqual([...allKeys].sort()); // every one accounted for
    expect(enrichedIds.size).toBeGreaterThan(50);
    for (const k of allKeys.slice(0, 5)) expect(deadIds.has(k)).toBe(true);
    for (const m of dead) expect(String((m.MessageAttributes as Record<string, { StringValue?: string }>).reason?.StringValue)).toMatch(/Exception|Error|refused/);
    const refused = dead.filter((m) => allKeys.slice(0, 5).some((k) => keyOf(m.Body).startsWith(k)));
    expect(refused).toHaveLength(5);
    for (const m of refused) expect(String((m.MessageAttributes as Record<string, { StringValue?: string }>).reason?.StringValue)).toMatch(/Security Hub refused: update FindingNotFound|Exception/);
    const companions = emu.securityHub.all(region).filter((f) => String(f.Id).endsWith('/trailstory-storyline'));
    expect(new Set(companions.map((f) => f.Id)).size).toBe(companions.length);
    expect(emu.requests.some((r) => r.status === 400 || r.status === 429)).toBe(true);
    expect(emu.requests.some((r) => r.status >= 500)).toBe(true);
    process.stdout.write(`burst: ${enrichedIds.size} enriched, ${deadIds.size} dead-lettered, ${emu.requests.length} requests\n`);
  }, 120_000);
});
