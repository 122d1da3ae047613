/**
 * `npm run demo:local` (through scripts/run-ts.js): the Lambda path on this machine. Starts the local AWS emulator, seeds it
 * with the real-data example (events/invictus: a GuardDuty finding and 2,900 CloudTrail
 * records), sends the finding's EventBridge event through the intake and the enrich worker
 * (idempotency on a local DynamoDB-compatible server), and prints the GuardDuty finding and the
 * companion storyline finding as the Security Hub console shows them.
 *
 * Needs nothing outside the repository: the emulator checks every request against the AWS API
 * models in ../shared/aws-models when they are there, else against the copies bundled in
 * test/emulator/models.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Context, SQSEvent } from 'aws-lambda';
import { makeClients } from '../src/clients/all';
import { readConfig } from '../src/config';
import { makeIntake } from '../src/lambda/intake';
import { makeWorker } from '../src/lambda/worker';
import { AwsEmulator, modelsDirOf } from '../test/emulator/server';
import { seedScenario } from '../test/emulator/seed';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const dynalite = require('dynalite') as (opts: { createTableMs: number }) => import('node:net').Server;

type Json = Record<string, unknown>;

function show(title: string, f: Json | undefined, out: (s: string) => void): void {
  out(`\n=== ${title} ===`);
  if (!f) {
    out('  (not in Security Hub)');
    return;
  }
  const sev = f.Severity as { Label?: string } | undefined;
  out(`Title        ${String(f.Title)}`);
  out(`Severity     ${sev?.Label ?? '-'}    Account ${String(f.AwsAccountId)}    Region ${String(f.Region)}`);
  out(`Types        ${((f.Types as string[] | undefined) ?? []).join(', ')}`);
  if (f.Description) out(`Description  ${String(f.Description).replace(/\n/g, '\n             ')}`);
  const note = f.Note as { Text?: string; UpdatedBy?: string; UpdatedAt?: string } | undefined;
  if (note?.Text) out(`Note         [${note.UpdatedBy ?? ''}] ${note.Text}`);
  const udf = f.UserDefinedFields as Record<string, string> | undefined;
  if (udf) {
    out('User-defined fields');
    for (const k of Object.keys(udf).sort()) out(`  ${k.padEnd(32)} ${udf[k]}`);
  }
  for (const r of (f.RelatedFindings as { Id: string }[] | undefined) ?? []) out(`Related      ${r.Id}`);
}

async function main(): Promise<void> {
  const root = path.resolve(process.argv[2] ?? '.');
  const out = (s: string) => process.stdout.write(`${s}\n`);
  const modelsDir = modelsDirOf(root);
  out(`demo:local: AWS API models from ${path.relative(root, modelsDir) || modelsDir}${modelsDir.endsWith(path.join('shared', 'aws-models')) ? '' : ' (../shared is absent: the copies bundled in the repository)'}`);

  const emu = await AwsEmulator.start({ modelsDir, seed: 1 });
  const ddb = dynalite({ createTableMs: 0 });
  await new Promise<void>((r) => ddb.listen(0, '127.0.0.1', () => r()));
  try {
    const dir = path.join(root, 'events', 'invictus');
    emu.knobs.lookupEventsPerSecond = 0;
    const seeded = seedScenario(emu, dir);
    const event = JSON.parse(fs.readFileSync(path.join(dir, 'finding.json'), 'utf8')) as Json;
    const detail = event.detail as Json;
    const account = String(detail.accountId);
    const region = String(detail.region);
    out(`demo:local: emulator at ${emu.endpoint}, ${seeded.records} CloudTrail records and the GuardDuty finding seeded in ${account}/${region}`);

    const queueUrl = emu.sqs.createQueue('trailstory-enrich', account, region);
    const dlqUrl = emu.sqs.createQueue('trailstory-enrich-dlq', account, region);
    const config = readConfig([], { ENRICH_QUEUE_URL: queueUrl, ENRICH_DLQ_URL: dlqUrl, IDEMPOTENCY_TABLE: 'trailstory-idempotency' });
    const cc = emu.clientConfig(account, region);
    const clients = makeClients(config, region, { endpoint: emu.endpoint, credentials: cc.credentials });
    const ddbEndpoint = `http://127.0.0.1:${(ddb.address() as import('node:net').AddressInfo).port}`;
    const dynamo = new DynamoDBClient({ endpoint: ddbEndpoint, region, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
    await dynamo.send(
      new CreateTableCommand({ TableName: 'trailstory-idempotency', AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }], KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }], BillingMode: 'PAY_PER_REQUEST' }),
    );

    const queued = await makeIntake(config, clients)(event);
    out(`demo:local: intake queued ${queued.queued} finding(s)`);
    // The worker runs an hour after GuardDuty's update, as it would in the account.
    const offset = Date.parse(String(detail.updatedAt)) + 3600_000 - Date.now();
    const timer = { now: () => Date.now() + offset, sleep: (ms: number) => new Promise<void>((r) => setTimeout(r, ms)) };
    const worker = makeWorker(config, clients, dynamo, {
      timer,
      onOutcome: (o) => out(`demo:local: enriched ${o.key}: ${o.steps} step(s); requests ${JSON.stringify(o.requests)}`),
    });
    const records = emu.sqs.messages(queueUrl).splice(0).map((m, i) => ({
      messageId: m.MessageId, receiptHandle: `r${i}`, body: m.Body, md5OfBody: m.MD5OfBody, eventSource: 'aws:sqs', awsRegion: region, messageAttributes: {},
      eventSourceARN: `arn:aws:sqs:${region}:${account}:trailstory-enrich`,
      attributes: { ApproximateReceiveCount: '1', SentTimestamp: String(m.SentAt), SenderId: account, ApproximateFirstReceiveTimestamp: String(m.SentAt) },
    }));
    const context = { functionName: 'enrich-worker', awsRequestId: 'demo', getRemainingTimeInMillis: () => 900_000 } as unknown as Context;
    const res = await worker({ Records: records } as SQSEvent, context);
    if (res.batchItemFailures.length > 0) out(`demo:local: ${res.batchItemFailures.length} record(s) failed and would be retried`);

    const arn = String(detail.arn);
    show('GuardDuty finding, as annotated by trailstory', emu.securityHub.get(arn) as Json | undefined, out);
    show('Companion storyline finding (product: trailstory)', emu.securityHub.get(`${arn}/trailstory-storyline`) as Json | undefined, out);
    out(`\ndemo:local: ${emu.requests.length} AWS requests, every one checked against the API models: ${Object.entries(emu.requests.reduce<Record<string, number>>((a, r) => ((a[`${r.service}:${r.operation}`] = (a[`${r.service}:${r.operation}`] ?? 0) + 1), a), {})).map(([k, n]) => `${k} ${n}`).join(', ')}`);
  } finally {
    await emu.stop();
    await new Promise<void>((r) => ddb.close(() => r()));
  }
}

main().catch((e) => {
  process.stderr.write(`demo:local: ${(e as Error).stack ?? String(e)}\n`);
  process.exitCode = 1;
});
