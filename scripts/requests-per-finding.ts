/**
 * `npm run bench:requests`: the AWS requests the Lambda path makes per finding, by API, for each
 * public scenario (../shared/scenarios), each run through the intake and the enrich worker
 * against the local emulator. Prints a Markdown table; with `--out FILE` (e.g.
 * `npm run bench:requests -- --out docs/benchmarks.md`) also writes it as the section "AWS
 * requests per finding" of FILE.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Context, SQSEvent } from 'aws-lambda';
import { makeClients } from '../src/clients/all';
import { readConfig } from '../src/config';
import { makeIntake } from '../src/lambda/intake';
import { makeWorker } from '../src/lambda/worker';
import { readFinding } from '../src/storyline/investigate';
import { AwsEmulator } from '../test/emulator/server';
import { seedScenario } from '../test/emulator/seed';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { writeSection, outOption } = require('./bench-section.js') as { writeSection: (file: string, heading: string, text: string) => void; outOption: (args: string[], usage: string) => string | undefined | null };
// eslint-disable-next-line @typescript-eslint/no-require-imports
const dynalite = require('dynalite') as (opts: { createTableMs: number }) => import('node:net').Server;

/** The event the intake receives for a scenario's finding: EventBridge, or a Custom Action for ASFF. */
function eventOf(dir: string): unknown {
  const doc = JSON.parse(fs.readFileSync(path.join(dir, 'finding.json'), 'utf8')) as Record<string, unknown>;
  if (doc['detail-type'] === 'GuardDuty Finding') return doc;
  const f = readFinding(path.join(dir, 'finding.json'));
  if (f.form.startsWith('guardduty')) {
    const native = Array.isArray(doc.Findings) ? doc.Findings[0] : doc;
    return { 'detail-type': 'GuardDuty Finding', source: 'aws.guardduty', account: f.accountId, region: f.region, detail: native };
  }
  const asff = Array.isArray(doc.Findings) ? doc.Findings : ((doc.detail as { findings?: unknown[] }).findings ?? []);
  return { 'detail-type': 'Security Hub Findings - Custom Action', source: 'aws.securityhub', account: f.accountId, region: f.region, detail: { findings: asff } };
}

async function main(): Promise<void> {
  const root = path.resolve(process.argv[2] ?? '.');
  const out = outOption(process.argv.slice(3), 'usage: npm run bench:requests [-- --out FILE]');
  if (out === null) return;
  const scenarios = path.resolve(root, '..', 'shared', 'scenarios');
  if (!fs.existsSync(scenarios)) {
    process.stdout.write('bench:requests: ../shared/scenarios not found: skipping\n');
    return;
  }
  const emu = await AwsEmulator.start({ modelsDir: path.resolve(root, '..', 'shared', 'aws-models'), seed: 1 });
  const ddb = dynalite({ createTableMs: 0 });
  await new Promise<void>((r) => ddb.listen(0, '127.0.0.1', () => r()));
  const dynamo = new DynamoDBClient({ endpoint: `http://127.0.0.1:${(ddb.address() as import('node:net').AddressInfo).port}`, region: 'us-east-1', credentials: { accessKeyId: 'l', secretAccessKey: 'l' } });
  const rows: { name: string; steps: number; counts: Record<string, number> }[] = [];
  try {
    let table = 0;
    for (const name of fs.readdirSync(scenarios).sort()) {
      const dir = path.join(scenarios, name);
      if (!fs.existsSync(path.join(dir, 'truth.json'))) continue;
      emu.reset();
      emu.knobs.lookupEventsPerSecond = 0;
      seedScenario(emu, dir);
      const f = readFinding(path.join(dir, 'finding.json'));
      const tableName = `idem${table++}`;
      await dynamo.send(new CreateTableCommand({ TableName: tableName, AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }], KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }], BillingMode: 'PAY_PER_REQUEST' }));
      const queueUrl = emu.sqs.createQueue('q', f.accountId, f.region);
      const config = readConfig([], { ENRICH_QUEUE_URL: queueUrl, ENRICH_DLQ_URL: emu.sqs.createQueue('dlq', f.accountId, f.region), IDEMPOTENCY_TABLE: tableName, MIN_SEVERITY: '0' });
      const clients = makeClients(config, f.region, { endpoint: emu.endpoint, credentials: emu.clientConfig(f.accountId, f.region).credentials });
      await makeIntake(config, clients)(eventOf(dir));
      const offset = Date.parse(f.updatedAt ?? '') + 3600_000 - Date.now();
      let steps = 0;
      const worker = makeWorker(config, clients, dynamo, { timer: { now: () => Date.now() + offset, sleep: async () => undefined }, onOutcome: (o) => (steps = o.steps) });
      const records = emu.sqs.messages(queueUrl).splice(0).map((m, i) => ({
        messageId: `m${i}`, receiptHandle: `r${i}`, body: m.Body, md5OfBody: '', eventSource: 'aws:sqs', eventSourceARN: 'arn:aws:sqs:x', awsRegion: f.region, messageAttributes: {},
        attributes: { ApproximateReceiveCount: '1', SentTimestamp: '0', SenderId: 'x', ApproximateFirstReceiveTimestamp: '0' },
      }));
      await worker({ Records: records } as SQSEvent, { functionName: 'w', awsRequestId: name, getRemainingTimeInMillis: () => 900_000 } as unknown as Context);
      const counts: Record<string, number> = {};
      for (const r of emu.requests) counts[`${r.service}:${r.operation}`] = (counts[`${r.service}:${r.operation}`] ?? 0) + 1;
      rows.push({ name, steps, counts });
    }
  } finally {
    await emu.stop();
    await new Promise<void>((r) => ddb.close(() => r()));
  }
  const apis = [...new Set(rows.flatMap((r) => Object.keys(r.counts)))].sort();
  const lines = [
    '## AWS requests per finding',
    '',
    `Measured by \`npm run bench:requests -- --out docs/benchmarks.md\` on ${new Date().toISOString().slice(0, 10)}: each public scenario's finding through the intake and the enrich worker against the local emulator (one finding, no faults). The idempotency table's DynamoDB calls are not counted.`,
    '',
    `| scenario | steps | ${apis.join(' | ')} | total |`,
    `|---|---:|${apis.map(() => '---:').join('|')}|---:|`,
    ...rows.map((r) => `| ${r.name} | ${r.steps} | ${apis.map((a) => r.counts[a] ?? 0).join(' | ')} | ${Object.values(r.counts).reduce((a, b) => a + b, 0)} |`),
    '',
  ];
  const text = lines.join('\n');
  process.stdout.write(text + '\n');
  if (out) {
    writeSection(path.resolve(out), '## AWS requests per finding', text);
    process.stdout.write(`bench:requests: wrote ${out}\n`);
  }
}

main().catch((e) => {
  process.stderr.write(`bench:requests: ${(e as Error).stack ?? String(e)}\n`);
  process.exitCode = 1;
});
