import * as fs from 'node:fs';
import * as path from 'node:path';
import { GuardDutyClient } from '@aws-sdk/client-guardduty';
import { readFinding } from '../../src/storyline/investigate';
import { detectorOf, fullFinding } from '../../src/sources/guardduty';
import { AwsEmulator } from '../emulator/server';
import { seedScenario } from '../emulator/seed';

const SHARED = path.resolve(__dirname, '../../../shared');
const HAVE = fs.existsSync(path.join(SHARED, 'aws-models'));
if (!HAVE) process.stdout.write('shared/ not found: skipping the GuardDuty source tests\n');

test('detectorOf reads the detector from a finding ARN', () => {
  expect(detectorOf('arn:aws:guardduty:us-east-1:111122223333:detector/abc123/finding/f00')).toBe('abc123');
  expect(detectorOf('arn:aws:securityhub:us-east-1:111122223333:finding/x')).toBeNull();
});

(HAVE ? describe : describe.skip)('fullFinding against the emulator', () => {
  let emu: AwsEmulator;
  beforeAll(async () => {
    emu = await AwsEmulator.start({ seed: 3 });
  });
  afterAll(async () => emu?.stop());

  test('an ASFF finding (scenario g) is replaced by GuardDuty\'s native form of it', async () => {
    const dir = path.join(SHARED, 'scenarios', 'g-asff-leaked-key-console-backdoor');
    const asff = readFinding(path.join(dir, 'finding.json'));
    // GuardDuty holds the native form of the same finding.
    const base = JSON.parse(fs.readFileSync(path.join(SHARED, 'scenarios', 'a-leaked-key-cryptomining', 'finding.json'), 'utf8')) as Record<string, unknown>;
    const detector = /:detector\/([^/]+)\//.exec(asff.arn)?.[1];
    const native = { ...base, id: asff.id, arn: asff.arn, accountId: asff.accountId, region: asff.region, service: { ...(base.service as object), detectorId: detector } };
    seedScenario(emu, dir);
    emu.guardDuty.addFinding(native);
    const client = new GuardDutyClient(emu.clientConfig(asff.accountId, asff.region));
    const r = await fullFinding(client, asff);
    expect(r.note).toBeNull();
    expect(r.finding.form).toBe('guardduty-getfindings');
    expect(r.finding.id).toBe(asff.id);
    expect(r.requests).toEqual({ 'guardduty:GetFindings': 1 });
  });

  test('a finding GuardDuty does not return keeps its Security Hub form, with a note', async () => {
    const asff = readFinding(path.join(SHARED, 'scenarios', 'g-asff-leaked-key-console-backdoor', 'finding.json'));
    const client = new GuardDutyClient(emu.clientConfig(asff.accountId, asff.region, 1));
    const r = await fullFinding(client, { ...asff, id: 'ffffffffffffffffffffffffffffffff', arn: asff.arn.replace(/finding\/.*$/, 'finding/ffffffffffffffffffffffffffffffff') });
    expect(r.finding.form).toBe('asff');
    expect(r.note).toMatch(/^GuardDuty: (finding ffffffffffffffffffffffffffffffff not returned|GetFindings failed)/);
  });
});
