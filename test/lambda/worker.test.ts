/**
 * The worker when every record of a batch fails: each record is reported in
 * batchItemFailures (SQS redelivers them, and after MAX_RECEIVES they go to the DLQ with their
 * reason) instead of the whole invocation throwing.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { makeClients } from '../../src/clients/all';
import { readConfig } from '../../src/config';
import { parseFindings } from '../../src/findings/normalize';
import { messageFor } from '../../src/lambda/messages';
import { makeWorker } from '../../src/lambda/worker';
import { lambdaContext, sqsEvent, startDynamo } from '../e2e/harness';
import { AwsEmulator } from '../emulator/server';
import { guardDutyToAsff } from '../emulator/seed';

const native = JSON.parse(fs.readFileSync(path.join(__dirname, '../fixtures/findings/accesskey-aws-api-call-ipv6.json'), 'utf8')) as Record<string, unknown>;

let emu: AwsEmulator;
let dynamo: Awaited<ReturnType<typeof startDynamo>>;
beforeAll(async () => {
  emu = await AwsEmulator.start();
  dynamo = await startDynamo('idem');
});
afterAll(async () => {
  await emu.stop();
  await dynamo.stop();
});

test('a batch where every record fails: all reported, nothing thrown; on the last receive, all dead-lettered with the reason', async () => {
  const account = String(native.accountId);
  const region = String(native.region);
  const findings = [1, 2, 3].map((n) => {
    const id = n.toString(16).padStart(32, '0');
    const f = { ...native, id, arn: String(native.arn).replace(String(native.id), id) };
    emu.securityHub.put(guardDutyToAsff(f));
    return parseFindings(f, 'f.json')[0]!;
  });
  emu.knobs.faults = { 'securityhub:BatchUpdateFindings': 'server' };
  const queueUrl = emu.sqs.createQueue('enrich', account, region);
  const dlqUrl = emu.sqs.createQueue('dlq', account, region);
  const config = readConfig([], { ENRICH_QUEUE_URL: queueUrl, ENRICH_DLQ_URL: dlqUrl, IDEMPOTENCY_TABLE: 'idem', MAX_RECEIVES: '2', USE_DETECTIVE: 'false', AWS_ENDPOINT_URL: emu.endpoint });
  const clients = makeClients(config, region, { credentials: emu.clientConfig(account, region).credentials, maxAttempts: 1 });
  const worker = makeWorker(config, clients, dynamo.client, { timer: { now: () => Date.parse(String(native.updatedAt)) + 3600_000, sleep: async () => undefined } });
  const bodies = findings.map((f) => JSON.stringify(messageFor(f, 'backfill')));

  const first = await worker(sqsEvent(bodies, region, 1), lambdaContext('w'));
  expect(first.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(['m0', 'm1', 'm2']);
  expect(emu.sqs.messages(dlqUrl)).toEqual([]);

  const last = await worker(sqsEvent(bodies, region, 2), lambdaContext('w'));
  expect(last.batchItemFailures).toEqual([]);
  const dead = emu.sqs.messages(dlqUrl);
  expect(dead).toHaveLength(3);
  for (const m of dead) expect((m.MessageAttributes as Record<string, { StringValue?: string }>).reason?.StringValue).toMatch(/Internal/);
});
