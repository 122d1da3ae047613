/**
 * `npm run bench:scale`: what each public scenario's finding costs through the Athena source at
 * the issue's scale, on the emulator (Athena on DuckDB over folders laid out like S3).
 *
 *   node scripts/run-ts.js bench/scale-org.ts [--dir /tmp/trailstory-scale/org] [--parquet
 *     [--reuse-layout]] [--regions us-east-1,eu-west-1,ap-southeast-2] [--after-days N]
 *     [--parquet-dir DIR] [--out FILE.json]
 *
 * DIR is a `gen-trail --org-id o-trailstory01 --scenario …` output: the organisation trail under
 * DIR/cloudtrail/AWSLogs/o-trailstory01, each scenario's finding in DIR/scenarios/<name>/.
 *
 * 1. The raw table (`trail.cloudtrail`) is registered as template.yaml's CloudTrailTable defines
 *    it: account injected, region an enum of the regions the data holds, day a date `yyyy/MM/dd`,
 *    location template `${account}/CloudTrail/${region}/${day}`.
 * 2. For each finding, `AthenaSource.collect` (the worker's defaults: 30-day lookback, 10 GB
 *    budget; `--regions` read, workgroup primary; "now" the finding's last activity plus a day),
 *    `reconstruct`, and the CLI's `investigate` over DIR/cloudtrail (no lookback window: a
 *    step older than the lookback, or in a region not read, is a difference said as such).
 *    Rounds, queries, bytes scanned (the emulator's model of Athena's billing) and seconds (wall
 *    time of the emulator with queueMs = runMs = runMsPerGB = 0: DuckDB's time, not Athena's).
 * 3. `--parquet`: the layout job's statements (`insertStatements` of src/layout/insert.ts, run by
 *    `runStatement` of src/layout/run.ts) for every delivery day of the data, every account and
 *    region, through the emulator's StartQueryExecution, into `trail.cloudtrail_parquet` (template.yaml's
 *    CloudTrailParquetTable: `account=/region=/day=yyyy-MM-dd`, Parquet); the INSERTs' bytes
 *    scanned, the Parquet bytes written against the gzip JSON, then the same findings over
 *    `cloudTrailTable(…, 'cloudtrail_parquet', 'yyyy-MM-dd')`.
 *
 * The CLI's storylines are kept in DIR/../bench-cli/<scenario>.json (a second run reuses them:
 * they depend on DIR only). "Account-days": a finding's bytes scanned over its account's average
 * gzip JSON a day (all regions, over the days the data spans), the figure that scales to an
 * organisation whose accounts log more a day. Prints Markdown tables; writes every figure to `--out` (default
 * DIR/../scale-org-<raw|parquet>.json).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AthenaClient } from '@aws-sdk/client-athena';
import type { OrganizationsClient } from '@aws-sdk/client-organizations';
import type { S3Client } from '@aws-sdk/client-s3';
import type { NormalizedFinding } from '../src/model/finding';
import type { Step, Storyline } from '../src/model/storyline';
import { AthenaSource, cloudTrailTable, type AthenaTable, type AthenaUsage } from '../src/sources/athena';
import { CLOUDTRAIL_COLUMNS } from '../src/sources/athena-tables';
import { runStatement, type LayoutIo, type StatementResult } from '../src/layout/run';
import { insertStatements, MAX_PARTITIONS_PER_INSERT, PARQUET_TABLE } from '../src/layout/insert';
import { investigate, readFinding } from '../src/storyline/investigate';
import { reconstruct } from '../src/storyline/reconstruct';
import { loadEventMap } from '../src/storyline/tactics';
import { AwsEmulator, modelsDirOf } from '../test/emulator/server';

const DAY = 24 * 3600 * 1000;
const ORG = 'o-trailstory01';
const DB = 'trail';

/** The options of a run. */
interface Args {
  dir: string;
  parquet: boolean;
  regions: string[];
  parquetDir: string;
  out: string;
  /** Read this many days after the finding's last activity (the source's `after`; "now" that much later). Default: the source's 2 hours, "now" a day later. */
  afterDays?: number;
  /** Reuse the layout of an earlier `--parquet` run (its figures kept in PARQUET_DIR/_layout.json). */
  reuseLayout: boolean;
}

function parseArgs(argv: string[]): Args {
  const usage = 'usage: node scripts/run-ts.js bench/scale-org.ts [--dir DIR] [--parquet [--reuse-layout]] [--regions r1,r2,…] [--after-days N] [--parquet-dir DIR] [--out FILE]';
  const a: Partial<Args> & { parquet: boolean; reuseLayout: boolean } = { parquet: false, reuseLayout: false };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const v = () => {
      const x = argv[++i];
      if (x === undefined) throw new Error(`${k} needs a value\n${usage}`);
      return x;
    };
    if (k === '--dir') a.dir = path.resolve(v());
    else if (k === '--parquet') a.parquet = true;
    else if (k === '--reuse-layout') a.reuseLayout = true;
    else if (k === '--after-days') a.afterDays = Number(v());
    else if (k === '--regions') a.regions = v().split(',').filter(Boolean);
    else if (k === '--parquet-dir') a.parquetDir = path.resolve(v());
    else if (k === '--out') a.out = path.resolve(v());
    else throw new Error(`unknown option ${k}\n${usage}`);
  }
  const dir = a.dir ?? '/tmp/trailstory-scale/org';
  return {
    dir,
    parquet: a.parquet,
    reuseLayout: a.reuseLayout,
    ...(a.afterDays !== undefined ? { afterDays: a.afterDays } : {}),
    regions: a.regions ?? ['us-east-1', 'eu-west-1', 'ap-southeast-2'],
    parquetDir: a.parquetDir ?? path.join(path.dirname(dir), 'parquet'),
    out: a.out ?? path.join(path.dirname(dir), `scale-org-${a.parquet ? 'parquet' : 'raw'}.json`),
  };
}

/** gen-trail.json: what the generator wrote. */
interface GenTrail {
  accounts: string[];
  regions: string[];
  start: string;
  end: string;
  records: number;
  gzipBytes: number;
  uncompressedBytes: number;
  files: number;
}

/** Every file under `dir` (recursively) with its size. */
function filesUnder(dir: string): { file: string; size: number }[] {
  const out: { file: string; size: number }[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) out.push({ file: p, size: fs.statSync(p).size });
    }
  };
  if (fs.existsSync(dir)) walk(dir);
  return out;
}

/** The raw trail's partitions on disk: account → region → delivery days (`yyyy/MM/dd`). */
function rawPartitions(location: string): { accounts: string[]; regions: string[]; days: string[]; partitions: number } {
  const accounts = new Set<string>();
  const regions = new Set<string>();
  const days = new Set<string>();
  let partitions = 0;
  for (const account of fs.readdirSync(location)) {
    const ct = path.join(location, account, 'CloudTrail');
    if (!fs.existsSync(ct)) continue;
    accounts.add(account);
    for (const region of fs.readdirSync(ct)) {
      regions.add(region);
      for (const y of fs.readdirSync(path.join(ct, region))) for (const m of fs.readdirSync(path.join(ct, region, y))) for (const d of fs.readdirSync(path.join(ct, region, y, m))) {
        days.add(`${y}/${m}/${d}`);
        partitions++;
      }
    }
  }
  return { accounts: [...accounts].sort(), regions: [...regions].sort(), days: [...days].sort(), partitions };
}

/** What one finding cost through one table, and how its storyline compares with the CLI's. */
interface FindingRun {
  scenario: string;
  account: string;
  region: string;
  usage: AthenaUsage;
  /** The finding's account's gzip JSON a day, on average over the data's days (all regions). */
  accountDayBytes: number;
  /** Bytes scanned in account-days of that account: what scales to a larger organisation. */
  accountDays: number;
  wallSeconds: number;
  events: number;
  steps: number;
  cliSteps: number;
  sameSteps: boolean;
  sameStory: boolean;
  /** CLI steps the source's storyline lacks, each with why. */
  missing: { eventId: string; eventName: string; eventTime: string; region: string; why: string }[];
  /** Steps the source's storyline has and the CLI's lacks. */
  extra: { eventId: string; eventName: string; eventTime: string; region: string }[];
  gaps: string[];
}

/** The parts of a storyline compared (as test/athena/equivalence.ts compares them). */
function story(s: Storyline): string {
  return JSON.stringify({ origin: s.origin, steps: s.steps, lineage: s.lineage, lineageEdges: s.lineageEdges, attackerSources: s.attackerSources });
}

/**
 * The delivery day (`yyyy/MM/dd`) of the file holding a record of `account`/`region` at `t`:
 * the first file of that account and region stamped at or after `t` (gen-trail writes each
 * account-region stream in order, a file's stamp its delivery time), or null.
 */
function deliveryDay(location: string, account: string, region: string, t: number): string | null {
  const dir = path.join(location, account, 'CloudTrail', region);
  let best: { at: number; day: string } | null = null;
  for (const f of filesUnder(dir)) {
    const m = /_(\d{8}T\d{4})Z_[^/]*\.json\.gz$/.exec(f.file);
    if (!m?.[1]) continue;
    const s = m[1];
    const at = Date.parse(`${s.slice(0, 4)}-${s.slice(4, 6)}-${s.slice(6, 8)}T${s.slice(9, 11)}:${s.slice(11, 13)}:59Z`);
    if (at >= t && (!best || at < best.at)) best = { at, day: path.relative(dir, path.dirname(f.file)).split(path.sep).join('/') };
  }
  return best?.day ?? null;
}

/**
 * Why a step of the CLI's storyline is not in the source's: before the lookback, after the
 * window, in a region not read, or in a file delivered on a day after the last day the source's
 * queries name (their window's last day plus one), else unexplained.
 */
function whyMissing(st: Step, window: { from: number; to: number } | undefined, regions: string[], location: string): string {
  const t = Date.parse(st.eventTime);
  if (window && t < window.from) return `older than the lookback (${((window.from - t) / DAY).toFixed(1)} days before its start)`;
  if (window && t > window.to) return 'after the window';
  if (!regions.includes(st.region)) return `region ${st.region} not read`;
  const delivered = deliveryDay(location, st.accountId, st.region, t);
  if (window && delivered) {
    const lastRead = new Date(window.to + DAY).toISOString().slice(0, 10).replace(/-/g, '/');
    if (delivered > lastRead) return `its file delivered on ${delivered}, after the last day read (${lastRead})`;
  }
  return `unexplained (file delivered ${delivered ?? '?'})`;
}

/** The CLI's storyline over DIR/cloudtrail, kept in `cache` (it depends on the folder only). */
async function cliStoryline(dir: string, scenario: string, findingFile: string, finding: NormalizedFinding, cache: string): Promise<{ story: Storyline; seconds: number; cached: boolean }> {
  const file = path.join(cache, `${scenario}.json`);
  if (fs.existsSync(file)) {
    const c = JSON.parse(fs.readFileSync(file, 'utf8')) as { story: Storyline; seconds: number };
    return { ...c, cached: true };
  }
  const t0 = performance.now();
  // threads 0: the reader threads' file is not beside a script bundled by scripts/run-ts.js.
  const s = await investigate({ findingFile, finding, cloudtrail: [path.join(dir, 'cloudtrail')], threads: 0 });
  const seconds = (performance.now() - t0) / 1000;
  fs.mkdirSync(cache, { recursive: true });
  fs.writeFileSync(file, JSON.stringify({ story: s, seconds }));
  return { story: s, seconds, cached: false };
}

/** Runs every scenario's finding through `table`, compares with the CLI's storyline. */
async function runFindings(emu: AwsEmulator, table: AthenaTable, a: Args, label: string, days: number): Promise<FindingRun[]> {
  const location = path.join(a.dir, 'cloudtrail', 'AWSLogs', ORG);
  const eventMap = loadEventMap();
  const scenDir = path.join(a.dir, 'scenarios');
  const out: FindingRun[] = [];
  for (const scenario of fs.readdirSync(scenDir).sort()) {
    const findingFile = path.join(scenDir, scenario, 'finding.json');
    if (!fs.existsSync(findingFile)) continue;
    const finding = readFinding(findingFile);
    const last = Date.parse(finding.eventLastSeen ?? finding.updatedAt ?? finding.eventFirstSeen ?? '');
    const wall0 = Date.now();
    // "Now" is a day after the finding's last activity, moving with the wall clock so that the
    // source's own seconds are the emulator's.
    const timer = { now: () => last + Math.max(1, a.afterDays ?? 1) * DAY + (Date.now() - wall0), sleep: (ms: number) => new Promise<void>((r) => setTimeout(r, ms)) };
    const account = /^\d{12}$/.test(finding.accountId) ? finding.accountId : '111111111111';
    const client = new AthenaClient(emu.clientConfig(account, 'us-east-1', 1));
    const src = new AthenaSource(client, table, { workGroup: 'primary', regions: a.regions, poll: { first: 5, max: 50 }, ...(a.afterDays !== undefined ? { after: a.afterDays * DAY } : {}) }, timer);
    const t0 = performance.now();
    const got = await src.collect(finding);
    const wallSeconds = (performance.now() - t0) / 1000;
    const st = reconstruct(finding, got.events, got.stats, { eventMap });
    const cli = await cliStoryline(a.dir, scenario, findingFile, finding, path.join(path.dirname(a.dir), 'bench-cli'));
    const mine = new Set(st.steps.map((s) => s.eventId));
    const theirs = new Set(cli.story.steps.map((s) => s.eventId));
    const accountDayBytes = filesUnder(path.join(location, finding.accountId)).reduce((n, f) => n + f.size, 0) / days;
    const r: FindingRun = {
      scenario,
      account: finding.accountId,
      region: finding.region,
      usage: got.usage,
      accountDayBytes,
      accountDays: accountDayBytes > 0 ? got.usage.bytesScanned / accountDayBytes : 0,
      wallSeconds,
      events: got.events.length,
      steps: st.steps.length,
      cliSteps: cli.story.steps.length,
      sameSteps: JSON.stringify(st.steps) === JSON.stringify(cli.story.steps),
      sameStory: story(st) === story(cli.story),
      missing: cli.story.steps.filter((s) => !mine.has(s.eventId)).map((s) => ({ eventId: s.eventId, eventName: s.eventName, eventTime: s.eventTime, region: s.region, why: whyMissing(s, got.window, a.regions, location) })),
      extra: st.steps.filter((s) => !theirs.has(s.eventId)).map((s) => ({ eventId: s.eventId, eventName: s.eventName, eventTime: s.eventTime, region: s.region })),
      gaps: got.gaps,
    };
    out.push(r);
    process.stderr.write(`${label} ${scenario}: ${r.usage.rounds} rounds, ${r.usage.queries} queries, ${(r.usage.bytesScanned / 1e6).toFixed(1)} MB, ${wallSeconds.toFixed(1)} s; ${r.steps} steps, CLI ${r.cliSteps}${cli.cached ? ' (cached)' : ` (${cli.seconds.toFixed(0)} s)`}${r.sameStory ? ', same storyline' : ''}\n`);
  }
  return out;
}

/**
 * The layout job's statements over every delivery day of the data, every account and region,
 * run one at a time by `runStatement` (src/layout/run.ts). The accounts are batched whole,
 * ⌊100 / regions⌋ to a statement, so that each statement's WHERE is one `account IN (…) AND
 * region IN (…)`: `layoutDay`'s own batches cut an account's regions across two statements,
 * whose WHERE is then an OR of two such groups, which the emulator refuses for an injected
 * partition (see docs/scale.md).
 */
async function layOut(emu: AwsEmulator, a: Args, accounts: string[], regions: string[], days: string[]): Promise<{ statements: StatementResult[]; seconds: number; perDaySeconds: number[] }> {
  fs.rmSync(a.parquetDir, { recursive: true, force: true });
  fs.mkdirSync(a.parquetDir, { recursive: true });
  const client = new AthenaClient(emu.clientConfig(accounts[0] ?? '111111111111', 'us-east-1', 1));
  const io: LayoutIo = {
    athena: client,
    // The Parquet folder starts empty each run: nothing to clear (no S3 here).
    s3: { send: async () => ({ Contents: [] }) } as unknown as Pick<S3Client, 'send'>,
    organizations: { send: async () => ({ Accounts: [] }) } as unknown as Pick<OrganizationsClient, 'send'>,
    log: { info: () => undefined, error: () => undefined },
    // runStatement polls from 1 s, doubling up to 15 s: a thousandth of that against the emulator.
    sleep: (ms) => new Promise((r) => setTimeout(r, ms / 1000)),
  };
  const perStatement = Math.floor(MAX_PARTITIONS_PER_INSERT / regions.length);
  const statements: StatementResult[] = [];
  const perDaySeconds: number[] = [];
  const t0 = performance.now();
  for (const [i, d] of days.entries()) {
    const t = performance.now();
    const day = new Date(`${d.replace(/\//g, '-')}T00:00:00Z`);
    for (let j = 0; j < accounts.length; j += perStatement) {
      for (const st of insertStatements(day, accounts.slice(j, j + perStatement), regions, { database: DB })) {
        const { queryId, execution } = await runStatement(io, 'primary', st.sql);
        statements.push({ queryId, partitions: st.partitions.length, accounts: new Set(st.partitions.map((p) => p.account)).size, bytesScanned: execution.Statistics?.DataScannedInBytes ?? 0, engineMs: execution.Statistics?.EngineExecutionTimeInMillis ?? 0, cleared: 0 });
      }
    }
    perDaySeconds.push((performance.now() - t) / 1000);
    if (i % 10 === 0 || i === days.length - 1) process.stderr.write(`layout: day ${i + 1}/${days.length} (${d}), ${statements.length} statements, ${((performance.now() - t0) / 1000).toFixed(0)} s\n`);
  }
  return { statements, seconds: (performance.now() - t0) / 1000, perDaySeconds };
}

const mb = (n: number) => (n / 1e6).toFixed(1);
const gb = (n: number) => (n / 1e9).toFixed(2);

function findingTable(runs: FindingRun[], title: string): string {
  const lines = [
    `### ${title}`,
    '',
    '| finding | account, region | rounds | queries | bytes scanned | account-days | seconds | steps | CLI steps | storyline |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---|',
  ];
  for (const r of runs) {
    const diff = r.sameStory ? 'same' : r.sameSteps ? 'same steps, lineage differs' : [...r.missing.map((m) => `−${m.eventName} (${m.why})`), ...r.extra.map((x) => `+${x.eventName}`)].join('; ') || 'steps differ in detail';
    lines.push(`| ${r.scenario} | ${r.account}, ${r.region} | ${r.usage.rounds} | ${r.usage.queries} | ${mb(r.usage.bytesScanned)} MB | ${r.accountDays.toFixed(1)} | ${r.wallSeconds.toFixed(1)} | ${r.steps} | ${r.cliSteps} | ${diff} |`);
  }
  const sum = (f: (r: FindingRun) => number) => runs.reduce((n, r) => n + f(r), 0);
  lines.push(`| **total** (${runs.length}) | | ${sum((r) => r.usage.rounds)} | ${sum((r) => r.usage.queries)} | ${mb(sum((r) => r.usage.bytesScanned))} MB | ${sum((r) => r.accountDays).toFixed(1)} | ${sum((r) => r.wallSeconds).toFixed(1)} | ${sum((r) => r.steps)} | ${sum((r) => r.cliSteps)} | |`);
  return lines.join('\n');
}

async function main(): Promise<void> {
  const root = path.resolve(process.argv[2] ?? '.');
  const a = parseArgs(process.argv.slice(3));
  const gen = JSON.parse(fs.readFileSync(path.join(a.dir, 'gen-trail.json'), 'utf8')) as GenTrail;
  const location = path.join(a.dir, 'cloudtrail', 'AWSLogs', ORG);
  const raw = rawPartitions(location);
  const gzipBytes = filesUnder(location).reduce((n, f) => n + f.size, 0);
  const days = raw.days.length;
  // The days the records span (gen-trail's start to end), over which an account's bytes are a daily average.
  const spanDays = (Date.parse(gen.end) - Date.parse(gen.start)) / DAY;
  process.stderr.write(`data: ${gen.records} records, ${raw.accounts.length} accounts, regions ${raw.regions.join(' ')}, ${days} delivery days (${raw.days[0]} .. ${raw.days[days - 1]}), ${raw.partitions} account-region-day partitions, ${gb(gzipBytes)} GB gzip\n`);

  const emu = await AwsEmulator.start({ modelsDir: modelsDirOf(root), seed: 17 });
  emu.athena.knobs = { ...emu.athena.knobs, queueMs: 0, runMs: 0, runMsPerGB: 0, startQueryExecutionPerSecond: 0 };
  emu.athena.registerTable({
    database: DB,
    name: 'cloudtrail',
    format: 'cloudtrail-json',
    location,
    partitions: [
      { name: 'account', type: 'injected' },
      { name: 'region', type: 'enum', values: raw.regions },
      { name: 'day', type: 'date', format: 'yyyy/MM/dd' },
    ],
    locationTemplate: '${account}/CloudTrail/${region}/${day}',
  });
  const result: Record<string, unknown> = {
    command: `node scripts/run-ts.js bench/scale-org.ts --dir ${a.dir}${a.parquet ? ` --parquet${a.reuseLayout ? ' --reuse-layout' : ''}` : ''} --regions ${a.regions.join(',')}${a.afterDays !== undefined ? ` --after-days ${a.afterDays}` : ''}`,
    machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, memoryGB: Math.round(os.totalmem() / 1e9), node: process.version },
    data: { spanDays, records: gen.records, accounts: raw.accounts.length, regions: raw.regions, days, firstDay: raw.days[0], lastDay: raw.days[days - 1], partitions: raw.partitions, gzipBytes, uncompressedBytes: gen.uncompressedBytes, files: gen.files },
    regionsRead: a.regions,
  };
  try {
    let md: string[] = [];
    if (!a.parquet) {
      const runs = await runFindings(emu, cloudTrailTable(DB, 'cloudtrail', 'yyyy/MM/dd'), a, 'raw', spanDays);
      result.raw = runs;
      md.push(findingTable(runs, 'Raw gzip JSON (`cloudtrail`)'));
    } else {
      emu.athena.registerTable({
        database: DB,
        name: PARQUET_TABLE,
        format: 'parquet',
        location: a.parquetDir,
        columns: CLOUDTRAIL_COLUMNS,
        partitions: [
          { name: 'account', type: 'injected' },
          { name: 'region', type: 'enum', values: raw.regions },
          { name: 'day', type: 'date', format: 'yyyy-MM-dd' },
        ],
        locationTemplate: 'account=${account}/region=${region}/day=${day}',
      });
      const saved = path.join(a.parquetDir, '_layout.json');
      if (!a.reuseLayout || !fs.existsSync(saved)) {
        const lay = await layOut(emu, a, raw.accounts, raw.regions, raw.days);
        const parquetFiles = filesUnder(a.parquetDir);
        const sorted = [...lay.perDaySeconds].sort((x, y) => x - y);
        const statementSeconds = lay.statements.map((s) => s.engineMs / 1000).sort((x, y) => x - y);
        const layout = {
          command: result.command,
          statements: lay.statements.length,
          bytesScanned: lay.statements.reduce((n, s) => n + s.bytesScanned, 0),
          parquetBytes: parquetFiles.reduce((n, f) => n + f.size, 0),
          parquetFiles: parquetFiles.length,
          gzipBytes,
          seconds: lay.seconds,
          daySecondsMedian: sorted[Math.floor(sorted.length / 2)] ?? 0,
          daySecondsMax: sorted[sorted.length - 1] ?? 0,
          statementEngineSecondsMedian: statementSeconds[Math.floor(statementSeconds.length / 2)] ?? 0,
          statementEngineSecondsMax: statementSeconds[statementSeconds.length - 1] ?? 0,
          partitionsNamed: lay.statements.reduce((n, s) => n + s.partitions, 0),
        };
        fs.writeFileSync(saved, JSON.stringify(layout, null, 2));
      }
      const layout = JSON.parse(fs.readFileSync(saved, 'utf8')) as { command: string; statements: number; bytesScanned: number; parquetBytes: number; parquetFiles: number; seconds: number; daySecondsMedian: number; daySecondsMax: number; statementEngineSecondsMedian: number; statementEngineSecondsMax: number };
      result.layout = { ...layout, ratio: layout.parquetBytes / gzipBytes };
      const scanned = layout.bytesScanned;
      const parquetBytes = layout.parquetBytes;
      md.push(`### The layout\n\n${layout.statements} INSERT statements over ${days} days (${raw.accounts.length} accounts × ${raw.regions.length} regions, ≤ 100 partitions each): ${gb(scanned)} GB scanned (the gzip JSON: ${gb(gzipBytes)} GB); Parquet written ${gb(parquetBytes)} GB in ${layout.parquetFiles} files, ratio ${(parquetBytes / gzipBytes).toFixed(2)}; ${layout.seconds.toFixed(0)} s (a day: median ${layout.daySecondsMedian.toFixed(1)} s, max ${layout.daySecondsMax.toFixed(1)} s; a statement's engine time: median ${layout.statementEngineSecondsMedian.toFixed(1)} s, max ${layout.statementEngineSecondsMax.toFixed(1)} s)${a.reuseLayout ? ` (laid out by \`${layout.command}\`)` : ''}.`);
      const runs = await runFindings(emu, cloudTrailTable(DB, PARQUET_TABLE, 'yyyy-MM-dd'), a, 'parquet', spanDays);
      result.parquet = runs;
      md.push(findingTable(runs, 'Parquet layout (`cloudtrail_parquet`)'));
    }
    fs.writeFileSync(a.out, JSON.stringify(result, null, 2));
    md = [`Command: \`${String(result.command)}\` (${os.cpus().length} cores); figures in ${a.out}`, '', ...md];
    process.stdout.write(md.join('\n\n') + '\n');
  } finally {
    await emu.stop();
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exitCode = 1;
});
