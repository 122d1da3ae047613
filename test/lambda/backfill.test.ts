/**
 * The backfill against the emulator: in the Security Hub aggregation (home) region one run
 * queues the findings of the linked regions too, each with its own region (reads span regions);
 * in a region without aggregation it sees its own region only; findings trailstory has already
 * annotated are skipped, and a run out of time says there is more.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { makeClients } from '../../src/clients/all';
import { readConfig } from '../../src/config';
import { makeBackfill } from '../../src/lambda/backfill';
import type { EnrichMessage } from '../../src/lambda/messages';
import { AwsEmulator } from '../emulator/server';
import { guardDutyToAsff } from '../emulator/seed';

const ADMIN = '210987654321';
const native = JSON.parse(fs.readFileSync(path.join(__dirname, '../fixtures/findings/accesskey-aws-api-call-ipv6.json'), 'utf8')) as Record<string, unknown>;

/** The fixture finding as Security Hub holds it, moved to `region` with id `n`, updated now. */
function finding(region: string, n: number): Record<string, unknown> {
  const id = n.toString(16).padStart(32, '0');
  const moved = JSON.parse(JSON.stringify(native).split('eu-west-1').join(region).split(String(native.id)).join(id)) as Record<string, unknown>;
  const asff = guardDutyToAsff({ ...moved, updatedAt: new Date().toISOString() });
  return { ...asff, UpdatedAt: new Date().toISOString() };
}

let emu: AwsEmulator;
beforeEach(async () => {
  emu = await AwsEmulator.start({ seed: 5 });
});
afterEach(async () => {
  await emu.stop();
});

function backfillIn(region: string, timer?: { now: () => number; sleep: (ms: number) => Promise<void> }) {
  const queueUrl = emu.sqs.createQueue('enrich', ADMIN, region);
  const config = readConfig([], { ENRICH_QUEUE_URL: queueUrl, AWS_ENDPOINT_URL: emu.endpoint });
  const clients = makeClients(config, region, { credentials: emu.clientConfig(ADMIN, region).credentials, maxAttempts: 1 });
  return { run: makeBackfill(config, clients, region, timer), queued: () => emu.sqs.messages(queueUrl).map((m) => JSON.parse(m.Body) as EnrichMessage) };
}

test('in the aggregation region: the linked region\'s findings are queued too, each with its own region', async () => {
  emu.securityHub.createFindingAggregator(ADMIN, 'us-east-1', 'SPECIFIED_REGIONS', ['eu-west-1']);
  for (let i = 1; i <= 3; i++) emu.securityHub.put(finding('us-east-1', i));
  for (let i = 4; i <= 5; i++) emu.securityHub.put(finding('eu-west-1', i));
  emu.securityHub.put(finding('ap-southeast-2', 6)); // not linked
  const b = backfillIn('us-east-1');
  const r = await b.run(Date.now() + 60_000);
  expect(r).toEqual({ queued: 5, byRegion: { 'us-east-1': 3, 'eu-west-1': 2 }, skipped: {}, more: false });
  const msgs = b.queued();
  expect(msgs.map((m) => m.finding.region).sort()).toEqual(['eu-west-1', 'eu-west-1', 'us-east-1', 'us-east-1', 'us-east-1']);
  expect(msgs.filter((m) => m.finding.region === 'eu-west-1').every((m) => m.key.startsWith(`${ADMIN}/eu-west-1/`) && m.via === 'backfill')).toBe(true);
});

test('without aggregation: only the function\'s own region; annotated findings are skipped', async () => {
  emu.securityHub.put(finding('us-east-1', 1));
  emu.securityHub.put({ ...finding('us-east-1', 2), UserDefinedFields: { 'trailstory.1.origin': 'x' } });
  emu.securityHub.put(finding('eu-west-1', 3));
  const b = backfillIn('us-east-1');
  const r = await b.run(Date.now() + 60_000);
  expect(r).toEqual({ queued: 1, byRegion: { 'us-east-1': 1 }, skipped: { 'already annotated': 1 }, more: false });
});

test('pages of 100 within the 3 requests/s budget; out of time after the first page, it says there is more', async () => {
  for (let i = 1; i <= 250; i++) emu.securityHub.put(finding('us-east-1', i));
  let now = 1_000_000;
  const b = backfillIn('us-east-1', { now: () => now, sleep: async (ms) => void (now += ms) });
  const r = await b.run(now + 60_000);
  expect([r.queued, r.more]).toEqual([250, false]);
  expect(emu.requests.filter((x) => x.operation === 'GetFindings').length).toBe(3);
  const late = backfillIn('us-east-1', { now: () => now, sleep: async (ms) => void (now += ms) });
  const cut = await late.run(now); // no time left after the first page
  expect([cut.queued, cut.more]).toEqual([100, true]);
});
