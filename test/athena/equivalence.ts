/**
 * The storyline through the emulated Athena sources is the CLI's on the same records: every
 * public scenario and 100 sampled stories, their records laid out as an organisation trail's
 * bucket (the raw table, partition projection) and as Security Lake's Parquet tables (OCSF
 * 1.1.0), read in rounds of the lineage closure by `AthenaSource` with real SDK clients against
 * the emulator (DuckDB behind it), and the same folder read by `investigate`.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AthenaClient } from '@aws-sdk/client-athena';
import type { Storyline } from '../../src/model/storyline';
import { AthenaSource, cloudTrailTable, securityLakeTable, type AthenaUsage } from '../../src/sources/athena';
import { securityLakeTable as securityLakeTableName } from '../../src/sources/security-lake-tables';
import { investigate, readFinding } from '../../src/storyline/investigate';
import { reconstruct } from '../../src/storyline/reconstruct';
import { loadEventMap } from '../../src/storyline/tactics';
import { AwsEmulator } from '../emulator/server';
import { registerOrgTrailTable, writeOrgTrail, writeSecurityLake } from '../support/org-trail';
import { recordsUnder } from '../support/security-lake';
import { sharedDir } from '../support/shared';

const SHARED = sharedDir();
if (!SHARED) process.stdout.write('shared/ not found: skipping the Athena and Security Lake storyline tests\n');
const DAY = 24 * 3600 * 1000;

/** The parts of a storyline the sources must agree on. */
function story(s: Storyline): unknown {
  return { origin: s.origin, steps: s.steps, lineage: s.lineage, lineageEdges: s.lineageEdges, attackerSources: s.attackerSources };
}

/**
 * Declares the suite over the public scenarios (when `scenarios`) and the sampled stories
 * `athena-eq-<from>` … `athena-eq-<from + count - 1>`.
 */
export function describeEquivalence(scenarios: boolean, from: number, count: number): void {
(SHARED ? describe : describe.skip)(`the storyline through Athena and Security Lake is the CLI's on the same records${scenarios ? ': public scenarios' : ''} (sampled stories ${from} to ${from + count - 1})`, () => {
  let emu: AwsEmulator;
  let tmp: string;
  const stories: { name: string; dir: string }[] = [];
  const usage: Record<string, AthenaUsage[]> = { athena: [], 'security-lake': [] };

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'trailstory-athena-eq-'));
    const scen = path.join(SHARED as string, 'scenarios');
    if (scenarios) for (const d of fs.readdirSync(scen).sort()) if (fs.existsSync(path.join(scen, d, 'finding.json'))) stories.push({ name: d, dir: path.join(scen, d) });
    const out = path.join(tmp, 'samples');
    execFileSync(path.join(SHARED as string, 'tools', 'sample-stories'), ['--seed', 'athena-eq', '--from', String(from), '--count', String(count), '--out', out, '--quiet'], { stdio: 'pipe' });
    for (const d of fs.readdirSync(out).sort()) if (fs.existsSync(path.join(out, d, 'finding.json'))) stories.push({ name: d, dir: path.join(out, d) });
    emu = await AwsEmulator.start({ seed: 11 });
    emu.athena.knobs = { ...emu.athena.knobs, queueMs: 0, runMs: 0, runMsPerGB: 0 };
  }, 120_000);

  afterAll(async () => {
    await emu?.stop();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it(`covers ${scenarios ? 'the 8 public scenarios and ' : ''}${count} sampled stories`, () => {
    expect(stories.length).toBe((scenarios ? 8 : 0) + count);
  });

  it('gives the same origin, steps and lineage for every story, from the organisation trail and from Security Lake', async () => {
    const eventMap = loadEventMap();
    const differ: string[] = [];
    let i = 0;
    for (const s of stories) {
      i++;
      const records = recordsUnder(path.join(s.dir, 'cloudtrail')).flatMap((f) => f.records);
      const bucket = path.join(tmp, `bucket-${i}`);
      const org = writeOrgTrail(records, bucket);
      const findingFile = path.join(s.dir, 'finding.json');
      const finding = readFinding(findingFile);
      let cli: Storyline;
      try {
        cli = await investigate({ findingFile, finding, cloudtrail: [org.location], threads: 0 });
      } catch (e) {
        // A story whose trail holds nothing usable: no source can do better.
        differ.push(`${s.name}: the CLI refused the records (${(e as Error).message.slice(0, 80)})`);
        continue;
      }
      const first = Date.parse(finding.eventFirstSeen ?? finding.createdAt ?? '');
      const last = Date.parse(finding.eventLastSeen ?? finding.updatedAt ?? '');
      // The organisation's management account, where Identity Center's portal records are
      // logged: a deployment names it (TRAIL_ACCOUNTS); sampled stories keep its trail in mgmt-<id>.
      const mgmt = fs.readdirSync(path.join(s.dir, 'cloudtrail')).map((d) => /^mgmt-(\d{12})$/.exec(d)?.[1]).filter((a): a is string => !!a);
      const opts = {
        workGroup: 'primary',
        accounts: mgmt,
        regions: org.regions,
        lookbackDays: Math.max(1, Math.ceil((first - org.from) / DAY) + 2),
        after: Math.max(0, org.to - last) + DAY,
        poll: { first: 2, max: 20 },
      };
      const timer = { now: () => Math.max(org.to, last) + 2 * DAY, sleep: (ms: number) => new Promise<void>((r) => setTimeout(r, ms)) };
      const account = finding.accountId && /^\d{12}$/.test(finding.accountId) ? finding.accountId : '111111111111';
      const client = new AthenaClient(emu.clientConfig(account, 'us-east-1', 1));
      registerOrgTrailTable(emu, org.location, org.regions, 'trail', `cloudtrail_${i}`);
      const slDir = path.join(tmp, `lake-${i}`);
      const slTable = securityLakeTableName('us-east-1');
      const slDb = `amazon_security_lake_glue_db_us_east_1_story_${i}`;
      await writeSecurityLake(emu, records, slDir, slDb, slTable);
      const sources = {
        athena: new AthenaSource(client, cloudTrailTable('trail', `cloudtrail_${i}`, 'yyyy/MM/dd'), opts, timer),
        'security-lake': new AthenaSource(client, securityLakeTable(slDb, slTable), opts, timer),
      };
      for (const [name, src] of Object.entries(sources)) {
        const got = await src.collect(finding);
        usage[name]?.push(got.usage);
        const st = reconstruct(finding, got.events, got.stats, { eventMap });
        const a = JSON.stringify(story(st));
        const b = JSON.stringify(story(cli));
        if (a !== b) differ.push(`${s.name} (${name}): ${st.steps.length} steps against ${cli.steps.length}, origin ${st.origin?.eventId ?? null} against ${cli.origin?.eventId ?? null}; gaps: ${got.gaps.join('; ').slice(0, 200)}`);
      }
      fs.rmSync(bucket, { recursive: true, force: true });
      fs.rmSync(slDir, { recursive: true, force: true });
    }
    expect(differ).toEqual([]);
    // Every story was read in rounds of batched queries, and the bytes were counted.
    for (const name of ['athena', 'security-lake']) {
      const u = usage[name] as AthenaUsage[];
      expect(u.length).toBe(stories.length);
      expect(u.filter((x) => x.rounds < 1)).toEqual([]);
      // A finding that names nothing to look for (no key, principal, compute or API) asks no query.
      expect(u.filter((x) => x.queries >= 1).length).toBeGreaterThanOrEqual(u.length - 2);
      expect(u.reduce((n, x) => n + x.bytesScanned, 0)).toBeGreaterThan(0);
    }
  }, 1_200_000);
});
}
