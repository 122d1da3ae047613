/**
 * The intake in the stack's region receiving a GuardDuty event forwarded from another region
 * (templates/region-forwarder.yaml): EventBridge keeps the event's `region`, and the finding is
 * queued with its own region, so the worker reads and writes it there.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { makeClients } from '../../src/clients/all';
import { readConfig } from '../../src/config';
import { makeIntake } from '../../src/lambda/intake';
import type { EnrichMessage } from '../../src/lambda/messages';
import { AwsEmulator } from '../emulator/server';

const native = JSON.parse(fs.readFileSync(path.join(__dirname, '../fixtures/findings/accesskey-aws-api-call-ipv6.json'), 'utf8')) as Record<string, unknown>;

let emu: AwsEmulator;
beforeAll(async () => {
  emu = await AwsEmulator.start();
});
afterAll(async () => {
  await emu.stop();
});

test('a GuardDuty finding forwarded from eu-west-1 is queued in us-east-1 with its own region', async () => {
  expect(native.region).toBe('eu-west-1');
  const queueUrl = emu.sqs.createQueue('enrich', String(native.accountId), 'us-east-1');
  const config = readConfig([], { ENRICH_QUEUE_URL: queueUrl, AWS_ENDPOINT_URL: emu.endpoint, MIN_SEVERITY: '0' });
  const clients = makeClients(config, 'us-east-1', { credentials: emu.clientConfig(String(native.accountId), 'us-east-1').credentials, maxAttempts: 1 });
  const forwarded = {
    version: '0', id: 'e-1', 'detail-type': 'GuardDuty Finding', source: 'aws.guardduty', account: native.accountId, time: '2026-11-29T12:00:00Z',
    region: 'eu-west-1', // kept by cross-region forwarding
    resources: [], detail: native,
  };
  const r = await makeIntake(config, clients)(forwarded);
  expect(r).toEqual({ queued: 1, dropped: {} });
  const [msg] = emu.sqs.messages(queueUrl).map((m) => JSON.parse(m.Body) as EnrichMessage);
  expect(msg?.finding.region).toBe('eu-west-1');
  expect(msg?.key).toBe(`${String(native.accountId)}/eu-west-1/${String(native.id)}/${String(native.updatedAt)}/1`);
  expect(msg?.via).toBe('guardduty-event');
});
