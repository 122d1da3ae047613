/**
 * Pitfall 2: GuardDuty re-publishes a finding with the same Id, a higher count and a later
 * updatedAt. The second enrichment updates the one companion finding in place and looks up
 * only the new time slice (the evidence of the first is kept beside its report), and its
 * storyline equals one built from a full look-up.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CloudTrailClient, type LookupEventsCommandInput } from '@aws-sdk/client-cloudtrail';
import { S3Client } from '@aws-sdk/client-s3';
import { SecurityHubClient } from '@aws-sdk/client-securityhub';
import { enrichFinding } from '../../src/enrich/enrich';
import { S3EvidenceStore } from '../../src/report/evidence';
import { CloudTrailLookupSource, DELIVERY_LAG_MS } from '../../src/sources/cloudtrail-lookup';
import { RateBudget } from '../../src/sources/rate';
import { readFinding } from '../../src/storyline/investigate';
import { loadEventMap } from '../../src/storyline/tactics';
import { AwsEmulator } from '../emulator/server';
import { seedScenario } from '../emulator/seed';

const SCENARIO = path.resolve(__dirname, '../../../shared/scenarios/a-leaked-key-cryptomining');
const HAVE = fs.existsSync(SCENARIO);
if (!HAVE) process.stdout.write('shared/ not found: skipping the re-published finding test\n');

(HAVE ? describe : describe.skip)('a re-published finding (pitfall 2)', () => {
  let emu: AwsEmulator;
  afterAll(async () => emu?.stop());

  test('updated in place, only the new slice looked up, same storyline as a full look-up', async () => {
    emu = await AwsEmulator.start({ seed: 9 });
    emu.knobs.lookupEventsPerSecond = 0;
    seedScenario(emu, SCENARIO);
    const first = readFinding(path.join(SCENARIO, 'finding.json'));
    const cc = emu.clientConfig(first.accountId, first.region);
    emu.s3.createBucket('reports', first.accountId, first.region);
    const s3 = new S3Client(cc);
    const lookups: LookupEventsCommandInput[] = [];
    const ct = new CloudTrailClient(cc);
    ct.middlewareStack.add((next) => async (args) => {
      lookups.push(args.input as LookupEventsCommandInput);
      return next(args);
    }, { step: 'initialize' });
    const base = {
      securityHub: new SecurityHubClient(cc),
      eventMap: loadEventMap(),
      evidence: new S3EvidenceStore(s3, 'reports'),
    };
    const timerAt = (iso: string) => {
      const offset = Date.parse(iso) - Date.now();
      return { now: () => Date.now() + offset, sleep: async () => undefined };
    };
    const sourceAt = (iso: string) => new CloudTrailLookupSource(() => ct, new RateBudget(100, 100), {}, timerAt(iso));

    // Prepare: the first publication, enriched an hour after it.
    const t1 = new Date(Date.parse(first.updatedAt ?? '') + 3600_000).toISOString();
    const one = await enrichFinding(first, { ...base, trail: sourceAt(t1), now: () => new Date(t1) });
    const firstWindowEnd = Math.min(Date.parse(first.eventLastSeen ?? '') + 2 * 3600_000, Date.parse(t1));
    const firstLookups = lookups.length;

    // Act: the same finding six hours later, count 9, last seen later.
    const later = { ...first, count: 9, updatedAt: new Date(Date.parse(first.updatedAt ?? '') + 6 * 3600_000).toISOString(), eventLastSeen: new Date(Date.parse(first.eventLastSeen ?? '') + 3 * 3600_000).toISOString() };
    const t2 = new Date(Date.parse(later.updatedAt) + 3600_000).toISOString();
    const two = await enrichFinding(later, { ...base, trail: sourceAt(t2), now: () => new Date(t2) });

    // Assess: the second pass looked up only from the first's end, less the delivery lag.
    const secondLookups = lookups.slice(firstLookups);
    expect(secondLookups.length).toBeGreaterThan(0);
    for (const l of secondLookups) expect(new Date(l.StartTime as Date).getTime()).toBeGreaterThanOrEqual(firstWindowEnd - DELIVERY_LAG_MS);
    for (const l of lookups.slice(0, firstLookups)) expect(new Date(l.StartTime as Date).getTime()).toBeLessThan(firstWindowEnd - DELIVERY_LAG_MS);
    expect(two.requests['s3:GetObject']).toBe(1);

    // One companion finding, updated in place.
    const companions = emu.securityHub.all(first.region).filter((f) => f.Id === `${first.arn}/trailstory-storyline`);
    expect(companions).toHaveLength(1);
    expect(companions[0]?.UpdatedAt).toBe(t2);

    // The same storyline as a full look-up of the later finding, without the kept evidence.
    const full = await enrichFinding(later, { securityHub: base.securityHub, eventMap: base.eventMap, trail: sourceAt(t2), now: () => new Date(t2) });
    expect(two.storyline.steps.map((s) => s.eventId)).toEqual(full.storyline.steps.map((s) => s.eventId));
    expect(two.storyline.origin?.eventId).toBe(one.storyline.origin?.eventId);
    expect(two.storyline.steps.length).toBeGreaterThanOrEqual(one.storyline.steps.length);
  });
});
