/**
 * The intake and the new Security Hub's "Findings Imported V2" events: GuardDuty's findings
 * queued with the GuardDuty event's key, below MinSeverity dropped (the OCSF severity band's lower
 * bound), the echo of our own comment dropped and counted, another product's event a non-finding.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { makeClients } from '../../src/clients/all';
import { readConfig } from '../../src/config';
import { makeIntake } from '../../src/lambda/intake';
import type { EnrichMessage } from '../../src/lambda/messages';
import { commentText } from '../../src/securityhub/v2';
import { findingsImportedV2Event } from '../emulator/securityhub-v2';
import { guardDutyToOcsf } from '../emulator/seed';
import { AwsEmulator } from '../emulator/server';

const native = JSON.parse(fs.readFileSync(path.join(__dirname, '../fixtures/findings/accesskey-aws-api-call-ipv6.json'), 'utf8')) as Record<string, unknown>;
const account = String(native.accountId);

let emu: AwsEmulator;
beforeAll(async () => {
  emu = await AwsEmulator.start();
});
afterAll(async () => {
  await emu.stop();
});

function intakeWith(minSeverity: string) {
  emu.reset();
  const queueUrl = emu.sqs.createQueue('enrich', account, 'us-east-1');
  const config = readConfig([], { ENRICH_QUEUE_URL: queueUrl, AWS_ENDPOINT_URL: emu.endpoint, MIN_SEVERITY: minSeverity });
  const clients = makeClients(config, 'us-east-1', { credentials: emu.clientConfig(account, 'us-east-1').credentials, maxAttempts: 1 });
  const logs: string[] = [];
  return { intake: makeIntake(config, clients, (m) => logs.push(m)), queued: () => emu.sqs.messages(queueUrl).map((m) => JSON.parse(m.Body) as EnrichMessage), logs };
}

test('a GuardDuty finding\'s import: queued via securityhub-v2-event with the key GuardDuty\'s own event gives', async () => {
  const { intake, queued } = intakeWith('0');
  expect(await intake(findingsImportedV2Event(guardDutyToOcsf(native), new Date()))).toEqual({ queued: 1, dropped: {} });
  const [msg] = queued();
  expect(msg?.via).toBe('securityhub-v2-event');
  expect(msg?.key).toBe(`${account}/${String(native.region)}/${String(native.id)}/${String(native.updatedAt)}/1`);
});

test('below MinSeverity: dropped, as GuardDuty events are', async () => {
  const { intake } = intakeWith('10');
  expect(await intake(findingsImportedV2Event(guardDutyToOcsf(native), new Date()))).toEqual({ queued: 0, dropped: { 'below-severity': 1 } });
});

test('our own comment for this update: dropped and counted; our comment of an earlier update: queued', async () => {
  const { intake, logs } = intakeWith('0');
  const ocsf = guardDutyToOcsf(native);
  const own = { ...ocsf, comment: commentText('summary', String(native.updatedAt), 'theirs') };
  expect(await intake(findingsImportedV2Event(own, new Date()))).toEqual({ queued: 0, dropped: { 'own-comment': 1 } });
  expect(logs).toEqual(['dropped: the new Security Hub echoing our own comment']);
  const earlier = { ...ocsf, comment: commentText('summary', '2020-01-01T00:00:00Z', 'theirs') };
  expect(await intake(findingsImportedV2Event(earlier, new Date()))).toEqual({ queued: 1, dropped: {} });
});

test('another product\'s import is not a finding: dropped, not retried', async () => {
  const { intake } = intakeWith('0');
  const other = { ...guardDutyToOcsf(native), metadata: { uid: 'm', product: { uid: 'arn:aws:securityhub:us-east-1::product/aws/inspector', name: 'Inspector' } } };
  expect(await intake(findingsImportedV2Event(other, new Date()))).toEqual({ queued: 0, dropped: { 'not-a-finding': 1 } });
});
