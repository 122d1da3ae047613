/**
 * The Athena source's own rules, against the emulator: the per-finding budget of bytes, the
 * Parquet layout with the raw table for the last days, a throttled start retried, a failed
 * query said in the gaps, and the SQL of every round valid Trino.
 */
import * as path from 'node:path';
import { AthenaClient } from '@aws-sdk/client-athena';
import { AthenaSource, cloudTrailTable, SharedQueries, type AthenaOptions } from '../../src/sources/athena';
import { readFinding } from '../../src/storyline/investigate';
import { AwsEmulator } from '../emulator/server';
import { registerOrgTrailTable, writeOrgTrail } from '../support/org-trail';
import { recordsUnder } from '../support/security-lake';
import { sharedDir } from '../support/shared';
import { trinoErrors } from '../support/trino';
import * as fs from 'node:fs';
import * as os from 'node:os';

const SHARED = sharedDir();
if (!SHARED) process.stdout.write('shared/ not found: skipping the Athena source tests\n');
const DAY = 24 * 3600 * 1000;

(SHARED ? describe : describe.skip)('AthenaSource', () => {
  let emu: AwsEmulator;
  let tmp: string;
  let org: ReturnType<typeof writeOrgTrail>;
  const dir = path.join(SHARED ?? '', 'scenarios', 'd-role-chain-same-account');
  const finding = () => readFinding(path.join(dir, 'finding.json'));
  const timer = () => ({ now: () => org.to + 2 * DAY, sleep: (ms: number) => new Promise<void>((r) => setTimeout(r, Math.min(ms, 5))) });
  const opts = (o: Partial<AthenaOptions> = {}): AthenaOptions => ({ workGroup: 'primary', regions: org.regions, lookbackDays: 400, after: 400 * DAY, poll: { first: 1, max: 5 }, ...o });
  const client = () => new AthenaClient(emu.clientConfig('444444444444', 'us-east-1', 1));
  /** A client that keeps the text of every query it starts. */
  const recordingClient = () => {
    const sent: string[] = [];
    const c = client();
    c.middlewareStack.add((next) => async (args) => {
      const input = (args as { input: { QueryString?: string } }).input;
      if (input.QueryString) sent.push(input.QueryString);
      return next(args);
    }, { step: 'initialize' });
    return { c, sent };
  };

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'trailstory-athena-src-'));
    org = writeOrgTrail(recordsUnder(path.join(dir, 'cloudtrail')).flatMap((f) => f.records), path.join(tmp, 'bucket'));
    emu = await AwsEmulator.start({ seed: 9 });
  });
  beforeEach(() => {
    emu.reset();
    emu.athena.knobs = { ...emu.athena.knobs, queueMs: 0, runMs: 0, runMsPerGB: 0 };
    registerOrgTrailTable(emu, org.location, org.regions);
  });
  afterAll(async () => {
    await emu?.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('reads the lineage in rounds, each query valid Trino naming its partitions', async () => {
    const { c, sent } = recordingClient();
    const r = await new AthenaSource(c, cloudTrailTable('trail', 'cloudtrail', 'yyyy/MM/dd'), opts(), timer()).collect(finding());
    expect(r.usage.rounds).toBeGreaterThanOrEqual(2);
    expect(r.usage.queries).toBe(sent.length);
    expect(r.events.length).toBe(32);
    for (const q of sent) {
      expect(trinoErrors(q)).toEqual([]);
      expect(q).toContain(`WHERE account IN ('444444444444') AND region IN (${org.regions.map((x) => `'${x}'`).join(', ')}) AND day BETWEEN `);
      expect(q).toMatch(/AND day BETWEEN '\d{4}\/\d\d\/\d\d' AND '\d{4}\/\d\d\/\d\d'\n/);
    }
    expect(r.gaps).toEqual([]);
  });

  it('stops at the budget of bytes and says which tokens were not read', async () => {
    const r = await new AthenaSource(client(), cloudTrailTable('trail', 'cloudtrail', 'yyyy/MM/dd'), opts({ bytesBudget: 1000 }), timer()).collect(finding());
    expect(r.usage.queries).toBe(1);
    expect(r.usage.bytesScanned).toBeGreaterThan(1000);
    expect(r.gaps.join('\n')).toMatch(/the budget of 1000 bytes scanned was spent: \d+ token\(s\) of the lineage were not read \(/);
  });

  it('says a failed query in the gaps and goes on', async () => {
    emu.athena.knobs = { ...emu.athena.knobs, failRate: 1 };
    const r = await new AthenaSource(client(), cloudTrailTable('trail', 'cloudtrail', 'yyyy/MM/dd'), opts(), timer()).collect(finding());
    expect(r.events).toEqual([]);
    expect(r.gaps[0]).toMatch(/^an Athena query of round 1 failed \(FAILED: INTERNAL_ERROR_QUERY_ENGINE/);
  });

  it('retries a throttled StartQueryExecution', async () => {
    emu.athena.knobs = { ...emu.athena.knobs, startQueryExecutionPerSecond: 1, startQueryExecutionBurst: 1 };
    const r = await new AthenaSource(client(), cloudTrailTable('trail', 'cloudtrail', 'yyyy/MM/dd'), opts(), { now: () => org.to + 2 * DAY, sleep: (ms) => new Promise((res) => setTimeout(res, ms)) }).collect(finding());
    expect(r.gaps).toEqual([]);
    expect(r.events.length).toBe(32);
    expect(emu.requests.filter((q) => q.service === 'athena' && q.operation === 'StartQueryExecution' && q.status === 400).length).toBeGreaterThan(0);
  }, 60_000);

  it('reads the days before `recent.since` from the main table and the rest from the raw one', async () => {
    // The "layout" here is a second raw table over the same files: the split is what is tested.
    registerOrgTrailTable(emu, org.location, org.regions, 'trail', 'layout');
    const since = Math.floor((org.from + org.to) / 2 / DAY) * DAY;
    const { c, sent } = recordingClient();
    const raw = cloudTrailTable('trail', 'cloudtrail', 'yyyy/MM/dd');
    const r = await new AthenaSource(c, cloudTrailTable('trail', 'layout', 'yyyy/MM/dd'), opts({ recent: { table: raw, since } }), timer()).collect(finding());
    expect(r.events.length).toBe(32);
    expect(sent.some((q) => q.includes('FROM "trail"."layout"'))).toBe(true);
    expect(sent.some((q) => q.includes('FROM "trail"."cloudtrail"'))).toBe(true);
  });

  it('shares the rounds of findings read at the same time: fewer queries, the same storylines', async () => {
    const f = finding();
    const other = { ...f, id: `${f.id}-copy`, arn: `${f.arn}-copy` };
    const alone = await new AthenaSource(client(), cloudTrailTable('trail', 'cloudtrail', 'yyyy/MM/dd'), opts(), timer()).collect(f);
    const before = emu.requests.filter((q) => q.operation === 'StartQueryExecution').length;
    const shared = new SharedQueries(20, 2);
    const [a, b] = await Promise.all([f, other].map((x) => new AthenaSource(client(), cloudTrailTable('trail', 'cloudtrail', 'yyyy/MM/dd'), opts({ shared }), timer()).collect(x)));
    const started = emu.requests.filter((q) => q.operation === 'StartQueryExecution').length - before;
    expect(started).toBe(alone.usage.queries);
    expect(a?.events.map((e) => e.eventId).sort()).toEqual(alone.events.map((e) => e.eventId).sort());
    expect(b?.events.map((e) => e.eventId).sort()).toEqual(alone.events.map((e) => e.eventId).sort());
    expect((a?.usage.bytesScanned ?? 0) + (b?.usage.bytesScanned ?? 0)).toBeCloseTo(alone.usage.bytesScanned, 0);
  });

  it('runs a query the workgroup cancels at its bytes cutoff again as halves of its days, down to one day', async () => {
    // The scenario's trail, and 20 days of another user's calls a month before it: each filler day
    // about a third of the scenario's bytes, so the whole span is over the cutoff (the scenario's
    // bytes) and any three days of filler under it.
    const records = recordsUnder(path.join(dir, 'cloudtrail')).flatMap((f) => f.records);
    const base = Date.parse('2026-06-01T12:00:00Z');
    const scenarioBytes = fs.readdirSync(org.location, { recursive: true }).filter((f) => String(f).endsWith('.json.gz')).reduce((n, f) => n + fs.statSync(path.join(org.location, String(f))).size, 0);
    const filler: Record<string, unknown>[] = [];
    for (let d = 0; d < 20; d++) {
      for (let i = 0; i < 12; i++) {
        filler.push({ eventVersion: '1.08', eventID: `filler-${d}-${i}-${'x'.repeat(8)}`, eventTime: new Date(base + d * DAY + i * 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z'), eventSource: 'sts.amazonaws.com', eventName: 'GetCallerIdentity', awsRegion: 'us-east-1', sourceIPAddress: `198.51.100.${i}`, userAgent: `filler-agent-${Math.random().toString(36).repeat(4)}`, recipientAccountId: '444444444444', userIdentity: { type: 'IAMUser', accountId: '444444444444', arn: 'arn:aws:iam::444444444444:user/filler', userName: 'filler', accessKeyId: 'AKIAFILLERFILLERFILL', principalId: 'AIDAFILLER' }, requestParameters: { pad: Math.random().toString(36).repeat(40) } });
      }
    }
    const padded = writeOrgTrail([...records, ...filler], path.join(tmp, 'padded'));
    registerOrgTrailTable(emu, padded.location, padded.regions, 'trail', 'padded');
    const fillerDay = (fs.readdirSync(padded.location, { recursive: true }) as string[]).filter((f) => f.includes('2026/06/05') && f.endsWith('.json.gz')).reduce((n, f) => n + fs.statSync(path.join(padded.location, f)).size, 0);
    const cutoff = scenarioBytes + 1;
    expect(3 * fillerDay).toBeLessThan(cutoff);
    const alone = await new AthenaSource(client(), cloudTrailTable('trail', 'padded', 'yyyy/MM/dd'), opts(), timer()).collect(finding());
    expect(alone.usage.bytesScanned).toBeGreaterThan(cutoff);
    emu.athena.createWorkGroup('444444444444', 'us-east-1', 'capped', { bytesScannedCutoffPerQuery: cutoff, outputLocation: 's3://results/capped/' });
    const r = await new AthenaSource(client(), cloudTrailTable('trail', 'padded', 'yyyy/MM/dd'), opts({ workGroup: 'capped' }), timer()).collect(finding());
    expect(r.gaps).toEqual([]);
    expect(r.events.map((e) => e.eventId)).toEqual(alone.events.map((e) => e.eventId));
    expect(r.events.length).toBe(32);
    expect(r.usage.queries).toBeGreaterThan(alone.usage.queries);
    expect(r.usage.bytesScanned).toBeGreaterThan(alone.usage.bytesScanned); // the cancelled queries' bytes are billed too
  });
});
