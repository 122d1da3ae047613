/**
 * `trailstory investigate --athena` and `--security-lake` against the emulator (the SDK's
 * default chain from the environment, `AWS_ENDPOINT_URL` pointing at it): the same storyline
 * as `--cloudtrail` on the same records, a progress line per query, and every option checked
 * before any request.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Storyline } from '../../src/model/storyline';
import { securityLakeDatabase, securityLakeTable } from '../../src/sources/security-lake-tables';
import { AwsEmulator } from '../emulator/server';
import { registerOrgTrailTable, writeOrgTrail, writeSecurityLake } from '../support/org-trail';
import { recordsUnder } from '../support/security-lake';
import { sharedDir } from '../support/shared';
import { run, tempFolder } from './harness';

const SHARED = sharedDir();
if (!SHARED) process.stdout.write('shared/ not found: skipping the --athena and --security-lake CLI tests\n');
const SCENARIO = SHARED ? path.join(SHARED, 'scenarios', 'd-role-chain-same-account') : '';
const ACCOUNT = '444444444444';

(SHARED ? describe : describe.skip)('trailstory investigate --athena / --security-lake', () => {
  const tmp = tempFolder('trailstory-cli-athena-');
  let emu: AwsEmulator;
  let location = '';
  const saved: Record<string, string | undefined> = {};

  beforeAll(async () => {
    emu = await AwsEmulator.start({ seed: 5 });
    emu.athena.knobs = { ...emu.athena.knobs, queueMs: 0, runMs: 0, runMsPerGB: 0 };
    const records = recordsUnder(path.join(SCENARIO, 'cloudtrail')).flatMap((f) => f.records);
    const org = writeOrgTrail(records, path.join(tmp.dir(), 'bucket'));
    location = org.location;
    registerOrgTrailTable(emu, org.location, org.regions, 'trailstory', 'cloudtrail');
    await writeSecurityLake(emu, records, path.join(tmp.dir(), 'lake'), securityLakeDatabase('us-east-1'), securityLakeTable('us-east-1'));
    const cfg = emu.clientConfig(ACCOUNT, 'us-east-1');
    for (const [k, v] of Object.entries({ AWS_ENDPOINT_URL: emu.endpoint, AWS_ACCESS_KEY_ID: cfg.credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: cfg.credentials.secretAccessKey, AWS_REGION: 'us-east-1', AWS_PROFILE: undefined })) {
      saved[k] = process.env[k];
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });

  afterAll(async () => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    await emu?.stop();
  });

  const finding = () => path.join(SCENARIO, 'finding.json');
  const parts = (s: Storyline) => ({ origin: s.origin, steps: s.steps, lineage: s.lineage, lineageEdges: s.lineageEdges });

  it.each([['--athena'], ['--security-lake']])('%s gives the storyline --cloudtrail gives on the same records, with a progress line per query', async (flag) => {
    const files = await run(['investigate', '--finding', finding(), '--cloudtrail', location]);
    expect(files.code).toBe(0);
    const q = await run(['investigate', '--finding', finding(), flag, '--lookback-days', '400', '--regions', 'us-east-1,us-west-2,eu-west-1']);
    expect(q.err).toMatch(/^trailstory: round 1: query 1 over 1 account\(s\), 3 region\(s\), \d+ token\(s\)…$/m);
    expect(q.err).toMatch(/^trailstory: round \d+: query \d+ done, \d+\.\d MB read so far, \d+ record\(s\)$/m);
    expect(q.code).toBe(0);
    const a = JSON.parse(q.out) as Storyline;
    const b = JSON.parse(files.out) as Storyline;
    expect(a.steps.length).toBeGreaterThan(5);
    expect(parts(a)).toEqual(parts(b));
    expect(a.coverage.queries).toMatchObject({ source: flag === '--athena' ? 'athena' : 'security-lake', rounds: expect.any(Number), queries: expect.any(Number) });
    expect(a.coverage.queries?.bytesScanned).toBeGreaterThan(0);
    expect(b.coverage.queries).toBeUndefined();
  });

  it.each([
    [['--athena', '--cloudtrail', 'x'], /cannot be used with option '--cloudtrail/],
    [['--athena', '--security-lake'], /cannot be used with/],
    [['--athena', '--region', 'mars'], /--region "mars"/],
    [['--athena', '--lookback-days', '0'], /--lookback-days "0" is not a number of days from 1 to 400/],
    [['--athena', '--max-bytes', '12kb'], /--max-bytes "12kb" is not an amount of bytes of at least 1MB/],
    [['--athena', '--accounts', '1234'], /--accounts: "1234" is not a 12-digit account id/],
    [['--athena', '--database', 'x;DROP'], /--database "x;DROP" is not a Glue name/],
    [['--security-lake', '--table', 'amazon_security_lake_table_us_east_1_cloud_trail_mgmt_1_0'], /version 1/],
    [['--security-lake', '--parquet-table', 'p'], /--parquet-table goes with --athena/],
    [['--workgroup', 'w'], /required option '--cloudtrail <path>' not specified|--workgroup goes with --athena/],
    [[], /required option '--cloudtrail <path>' not specified \(or read from Athena with --athena/],
  ])('refuses %j with exit 2 and one line, before any request', async (args, message) => {
    const before = emu.requests.length;
    const r = await run(['investigate', '--finding', finding(), ...args]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(emu.requests.length).toBe(before);
  });

  it('fails with exit 1 and the reason when not one query is answered (no such table), never an empty storyline', async () => {
    const r = await run(['investigate', '--finding', finding(), '--athena', '--table', 'missing_table', '--lookback-days', '400']);
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    expect(r.err).toMatch(/^trailstory: every Athena query failed \(1\); the first: FAILED: TABLE_NOT_FOUND/m);
  });

  it('documents every option of the query sources in --athena --help', async () => {
    const r = await run(['investigate', '--athena', '--help']);
    expect(r.code).toBe(0);
    for (const o of ['--athena', '--security-lake', '--workgroup', '--region', '--database', '--table', '--parquet-table', '--regions', '--accounts', '--lookback-days', '--max-bytes']) expect(r.out).toContain(`  ${o}`);
    expect(r.out).toContain('Athena and Security Lake (instead of --cloudtrail):');
    expect(fs.existsSync(finding())).toBe(true);
  });
});
