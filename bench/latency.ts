/**
 * `npm run bench:latency`: the latency from a GuardDuty event to the enriched finding in Security
 * Hub, per CloudTrail source (lookup-events, athena, security-lake), for one finding at a time and
 * for a burst of findings of one account, through the whole Lambda path (the real intake and
 * `makeWorker` handler, real SDK v3 clients, idempotency on dynalite) against the local emulator.
 *
 * Time-scaled: every modelled duration (per-call latency, Athena queue and run time, SQS
 * visibility timeout, the worker's sleeps and the SDK's retry back-off) is divided by `--scale S`
 * and every rate (LookupEvents, StartQueryExecution, Security Hub's quotas) multiplied by S; the
 * latencies measured are multiplied back by S. The machine's own CPU time (emulator, DuckDB,
 * dynalite, the worker) is not scaled: it comes back multiplied by S too, which the `floor` column
 * (the same single runs with every modelled delay at zero) shows.
 *
 * A finding's latency: from its event entering the intake (for the burst: the burst's start, all
 * events arriving at once) to the last of its Security Hub writes (BatchUpdateFindings of
 * GuardDuty's finding, BatchImportFindings of the companion) answered by the emulator.
 *
 * Prints a Markdown table; `--out FILE` writes it between `<!-- latency:begin -->` and
 * `<!-- latency:end -->` of FILE (docs/scale.md), re-reading the file right before writing.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { StandardRetryStrategy } from '@smithy/core/retry';
import type { Context } from 'aws-lambda';
import type { ClientOverrides } from '../src/clients';
import { makeClients } from '../src/clients/all';
import { readConfig } from '../src/config';
import { makeIntake } from '../src/lambda/intake';
import type { EnrichMessage } from '../src/lambda/messages';
import { makeWorker, type RecordOutcome } from '../src/lambda/worker';
import type { Timer } from '../src/sources/rate';
import { securityLakeDatabase, securityLakeTable } from '../src/sources/security-lake-tables';
import { lambdaContext, sqsEvent, startDynamo } from '../test/e2e/harness';
import { AwsEmulator, modelsDirOf } from '../test/emulator/server';
import { guardDutyToAsff, guardDutyToOcsf, seedScenario } from '../test/emulator/seed';
import { registerOrgTrailTable, writeOrgTrail, writeSecurityLake } from '../test/support/org-trail';
import { recordsUnder } from '../test/support/security-lake';

type Json = Record<string, unknown>;
const SOURCES = ['lookup-events', 'athena', 'security-lake'] as const;
type Source = (typeof SOURCES)[number];
const BEGIN = '<!-- latency:begin -->';
const END = '<!-- latency:end -->';

const USAGE = `usage: npm run bench:latency -- [options]

  --scenario DIR            public scenario (default ../shared/scenarios/d-role-chain-same-account)
  --sources LIST            ${SOURCES.join(',')} (default all)
  --scale S                 time scale: durations / S, rates × S, results × S (default 50)
  --single N                single findings, one after the other (default 20)
  --floor N                 single findings with every modelled delay at 0 (default 5; 0 = none)
  --burst N                 findings of one account arriving at once (default 1000; 0 = none)
  --api-latency-ms MS       per-call latency of every AWS API, before each answer (default 30)
  --athena-queue-ms MS      Athena queue time per query (default 500)
  --athena-run-ms MS        Athena run time per query (default 1500)
  --athena-run-ms-per-gb MS Athena run time per GiB scanned (default 1000)
  --athena-start-rate N     StartQueryExecution calls/s (default 20, docs/scale.md)
  --athena-start-burst N    StartQueryExecution burst (default 80, the emulator's default)
  --athena-active N         active DML queries per account and region (default 150, the emulator's default)
  --lookup-rate N           LookupEvents requests/s per account and region (default 2, docs/scale.md)
  --concurrency N           concurrent worker invocations (default: template.yaml MaximumConcurrency of each source)
  --batch-size N            SQS batch size (default: template.yaml BatchSize)
  --intake-concurrency N    concurrent intake invocations in the burst (default 100)
  --out FILE                write the result between ${BEGIN} and ${END} of FILE`;

/** The enrich worker's settings in template.yaml: batch size, maximum concurrency, timeout, visibility timeout. */
function templateSettings(root: string): { batchSize: number; concurrency: number; queryConcurrency: number; timeoutS: number; visibilityS: number } {
  const t = fs.readFileSync(path.join(root, 'template.yaml'), 'utf8');
  const at = t.indexOf('Handler: enrich-worker.handler');
  if (at < 0) throw new Error('template.yaml: no enrich-worker function');
  const start = t.lastIndexOf('\n  ', t.lastIndexOf('Type: AWS::Serverless::Function', at));
  const end = t.slice(at).search(/\n {2}[A-Za-z]/);
  const fn = t.slice(start, end < 0 ? undefined : at + end);
  const queue = /\n {2}EnrichQueue:\n[\s\S]*?VisibilityTimeout: (\d+)/.exec(t);
  const n = (re: RegExp, what: string): number => {
    const m = re.exec(fn);
    if (!m) throw new Error(`template.yaml: no ${what} on the enrich worker`);
    return Number(m[1]);
  };
  // `MaximumConcurrency: !If [QueriesAthena, <athena and security-lake>, <lookup-events>]`
  return { batchSize: n(/BatchSize: (\d+)/, 'BatchSize'), concurrency: n(/MaximumConcurrency: !If \[QueriesAthena, \d+, (\d+)\]/, 'MaximumConcurrency'), queryConcurrency: n(/MaximumConcurrency: !If \[QueriesAthena, (\d+), \d+\]/, 'MaximumConcurrency'), timeoutS: n(/\n {6}Timeout: (\d+)/, 'Timeout'), visibilityS: Number(queue?.[1] ?? 5400) };
}

/** The scenario's GuardDuty finding in its native form (finding.json, or an EventBridge event's detail). */
function nativeFinding(dir: string): Json {
  const doc = JSON.parse(fs.readFileSync(path.join(dir, 'finding.json'), 'utf8')) as Json;
  const native = doc['detail-type'] === 'GuardDuty Finding' ? (doc.detail as Json) : doc;
  if (typeof native.arn !== 'string' || typeof native.id !== 'string') throw new Error(`${dir}: the finding is not a GuardDuty finding in its native form (pick a scenario whose finding.json is one)`);
  return native;
}

/** Copy `i` of the finding with its own id (`tag` keeps copies of different runs apart), the same data behind it. */
function copyOf(f: Json, tag: string, i: number): Json {
  const id = `${tag}${String(i).padStart(6, '0')}`.padEnd(32, '0').slice(0, 32);
  return { ...f, id, arn: String(f.arn).replace(/finding\/[0-9a-z]+$/, `finding/${id}`) };
}

function pct(sorted: number[], p: number): number {
  return sorted.length === 0 ? NaN : (sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)] as number);
}

/** A clock running S times faster than the wall clock, from `start` (epoch ms). */
function scaledTimer(scale: number, start: number): Timer {
  const r0 = performance.now();
  return { now: () => start + (performance.now() - r0) * scale, sleep: (ms) => new Promise<void>((r) => setTimeout(r, ms / scale)) };
}

interface Params {
  scale: number; single: number; floor: number; burst: number; apiLatencyMs: number; athenaQueueMs: number; athenaRunMs: number; athenaRunMsPerGB: number;
  athenaStartRate: number; athenaStartBurst: number; athenaActive: number; lookupRate: number; concurrency: number; queryConcurrency: number; batchSize: number; intakeConcurrency: number;
  timeoutS: number; visibilityS: number;
}

interface CaseResult { source: Source; name: string; n: number; steps: string; athenaOverrunS: number; latencies: number[]; wallS: number; enriched: number; failed: number; deadLettered: number; rechecks: number; requests: number; throttled: number; queries: number; bytes: number }

async function main(): Promise<void> {
  const root = path.resolve(process.argv[2] ?? '.');
  let values: Record<string, string | undefined>;
  try {
    const names = ['scenario', 'sources', 'scale', 'single', 'floor', 'burst', 'api-latency-ms', 'athena-queue-ms', 'athena-run-ms', 'athena-run-ms-per-gb', 'athena-start-rate', 'athena-start-burst', 'athena-active', 'lookup-rate', 'concurrency', 'batch-size', 'intake-concurrency', 'out'];
    values = parseArgs({ args: process.argv.slice(3), options: Object.fromEntries(names.map((n) => [n, { type: 'string' as const }])), strict: true }).values as Record<string, string | undefined>;
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n${USAGE}\n`);
    process.exitCode = 2;
    return;
  }
  const tpl = templateSettings(root);
  const num = (name: string, def: number, min = 0): number => {
    const v = values[name] === undefined ? def : Number(values[name]);
    if (!Number.isFinite(v) || v < min) throw new Error(`--${name}: expected a number ≥ ${min}\n${USAGE}`);
    return v;
  };
  const p: Params = {
    scale: num('scale', 50, 1), single: num('single', 20), floor: num('floor', 5), burst: num('burst', 1000), apiLatencyMs: num('api-latency-ms', 30),
    athenaQueueMs: num('athena-queue-ms', 500), athenaRunMs: num('athena-run-ms', 1500), athenaRunMsPerGB: num('athena-run-ms-per-gb', 1000),
    athenaStartRate: num('athena-start-rate', 20, 1), athenaStartBurst: num('athena-start-burst', 80, 1), athenaActive: num('athena-active', 150, 1), lookupRate: num('lookup-rate', 2, 1),
    concurrency: num('concurrency', tpl.concurrency, 1), queryConcurrency: num('concurrency', tpl.queryConcurrency, 1), batchSize: num('batch-size', tpl.batchSize, 1), intakeConcurrency: num('intake-concurrency', 100, 1),
    timeoutS: tpl.timeoutS, visibilityS: tpl.visibilityS,
  };
  const sources = (values.sources ?? SOURCES.join(',')).split(',').map((s) => s.trim()) as Source[];
  for (const s of sources) if (!SOURCES.includes(s)) throw new Error(`--sources: ${s} is not one of ${SOURCES.join(', ')}`);
  const scenario = path.resolve(values.scenario ?? path.join(root, '..', 'shared', 'scenarios', 'd-role-chain-same-account'));
  const base = nativeFinding(scenario);
  const account = String(base.accountId);
  const region = String(base.region);
  const records = recordsUnder(path.join(scenario, 'cloudtrail')).flatMap((f) => f.records);
  // The run happens an hour after GuardDuty's update (as lambda-path.test.ts): the data is visible.
  const virtualStart = Date.parse(String(base.updatedAt)) + 3600_000;

  // The emulator's own work on a query (Trino grammar check, DuckDB over the files: hundreds of ms
  // of this machine's CPU, which S would multiply, serialised on one connection) is done once per
  // query text: every copy of the finding sends the same SQL over the same data, so the runs after
  // the warm-up reuse its outcome and a query lasts the modelled queue and run time.
  const outcomes = new Map<string, Promise<unknown>>();
  const memoise = (): void => {
    const athena = emu.athena as unknown as { execute: (e: { query: string; database?: string }, wg: unknown) => Promise<unknown> };
    const execute = athena.execute.bind(athena);
    athena.execute = (e, wg) => {
      const k = `${e.database ?? ''}\n${e.query}`;
      if (!outcomes.has(k)) outcomes.set(k, execute(e, wg));
      return outcomes.get(k) as Promise<unknown>;
    };
  };
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'trailstory-latency-'));
  const org = writeOrgTrail(records, path.join(tmp, 'bucket'));
  const lakeDir = path.join(tmp, 'lake');
  const emu = await AwsEmulator.start({ modelsDir: modelsDirOf(root), seed: 11 });
  const dynamo = await startDynamo('idempotency');
  const results: CaseResult[] = [];
  const log = (s: string): void => void process.stderr.write(`bench:latency: ${s}\n`);
  try {
    let lakeWritten = false;
    for (const source of sources) {
      // Each source on a fresh emulator state: the scenario, the tables, the knobs.
      const prepare = async (modelled: boolean): Promise<void> => {
        emu.reset();
        seedScenario(emu, scenario);
        registerOrgTrailTable(emu, org.location, org.regions);
        if (!lakeWritten) await writeSecurityLake(emu, records, lakeDir, securityLakeDatabase(region), securityLakeTable(region));
        else emu.athena.registerTable({ database: securityLakeDatabase(region), name: securityLakeTable(region), format: 'parquet', location: lakeDir, partitions: [{ name: 'region', type: 'hive' }, { name: 'accountid', type: 'hive' }, { name: 'eventday', type: 'hive' }] });
        lakeWritten = true;
        memoise();
        const S = p.scale;
        emu.knobs.timeScale = S;
        emu.knobs.lookupEventsPerSecond = p.lookupRate;
        emu.knobs.securityHubQuotas = true;
        emu.knobs.latencyMs = modelled ? p.apiLatencyMs / S : 0;
        emu.athena.knobs = {
          ...emu.athena.knobs,
          queueMs: modelled ? p.athenaQueueMs / S : 0, runMs: modelled ? p.athenaRunMs / S : 0, runMsPerGB: modelled ? p.athenaRunMsPerGB / S : 0,
          maxActiveQueries: p.athenaActive, startQueryExecutionPerSecond: p.athenaStartRate * S, startQueryExecutionBurst: p.athenaStartBurst,
        };
      };
      const runCase = async (name: string, n: number, modelled: boolean, burst: boolean): Promise<void> => {
        if (n <= 0) return;
        await prepare(modelled);
        log(`${source}: ${name} (${n} finding(s))…`);
        results.push(await runFindings(emu, dynamo.client, p, { source, name, n, burst, base, account, region, orgRegions: org.regions, virtualStart }));
        const r = results[results.length - 1] as CaseResult;
        log(`${source}: ${name}: ${r.enriched}/${n} enriched in ${r.wallS.toFixed(0)} s (scaled back), p50 ${pct([...r.latencies].sort((a, b) => a - b), 0.5).toFixed(1)} s`);
      };
      // Warm-up, not reported: the Trino parser and DuckDB loaded, the code paths compiled.
      await prepare(true);
      await runFindings(emu, dynamo.client, p, { source, name: 'warm-up', n: 1, burst: false, base, account, region, orgRegions: org.regions, virtualStart });
      await runCase('single', p.single, true, false);
      await runCase('floor', p.floor, false, false);
      await runCase('burst', p.burst, true, true);
    }
  } finally {
    await emu.stop();
    await dynamo.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  }

  const text = report(p, path.relative(path.resolve(root, '..'), scenario), results, process.argv.slice(3));
  process.stdout.write(text);
  if (values.out) {
    const file = path.resolve(values.out);
    const old = fs.readFileSync(file, 'utf8'); // re-read right before writing: others edit the file too
    const b = old.indexOf(BEGIN);
    const e = old.indexOf(END);
    if (b < 0 || e < b) throw new Error(`${file}: no ${BEGIN} … ${END} markers`);
    fs.writeFileSync(file, `${old.slice(0, b + BEGIN.length)}\n${text}${old.slice(e)}`);
    log(`written to ${file}`);
  }
}

interface RunSpec { source: Source; name: string; n: number; burst: boolean; base: Json; account: string; region: string; orgRegions: string[]; virtualStart: number }

/** Runs `n` findings (one at a time, or all at once) through intake and worker; the latency of each. */
async function runFindings(emu: AwsEmulator, dynamo: Parameters<typeof makeWorker>[2], p: Params, s: RunSpec): Promise<CaseResult> {
  const S = p.scale;
  const { account, region } = s;
  const timer = scaledTimer(S, s.virtualStart);
  const queueUrl = emu.sqs.createQueue('enrich', account, region);
  const dlqUrl = emu.sqs.createQueue('enrich-dlq', account, region);
  const bucket = `trailstory-reports-${account}`;
  emu.s3.createBucket(bucket, account, region);
  const env: Record<string, string> = { ENRICH_QUEUE_URL: queueUrl, ENRICH_DLQ_URL: dlqUrl, IDEMPOTENCY_TABLE: 'idempotency', MIN_SEVERITY: '0', REPORT_BUCKET: bucket, USE_DETECTIVE: 'false', TRAIL_SOURCE: s.source };
  if (s.source === 'athena') Object.assign(env, { ATHENA_WORKGROUP: 'primary', ATHENA_DATABASE: 'trail', ATHENA_TABLE: 'cloudtrail', TRAIL_REGIONS: s.orgRegions.join(',') });
  if (s.source === 'security-lake') Object.assign(env, { ATHENA_WORKGROUP: 'primary', SECURITY_LAKE_REGION: region, SECURITY_LAKE_DATABASE: securityLakeDatabase(region), SECURITY_LAKE_TABLE: securityLakeTable(region) });
  const config = readConfig([], env);
  const credentials = emu.clientConfig(account, region).credentials;
  /** Each Lambda environment's clients: the SDK's standard retries, their back-off divided by S. */
  const clientsFor = () => {
    let base = 50;
    const backoff = { setDelayBase: (d: number) => void (base = d), computeNextBackoffDelay: (i: number) => Math.floor(Math.random() * Math.min(base * 2 ** i, 20_000)) / S };
    const retryStrategy = new StandardRetryStrategy({ maxAttempts: 4, backoff });
    return makeClients(config, region, { endpoint: emu.endpoint, credentials, retryStrategy } as ClientOverrides);
  };

  // Security Hub writes answered, by GuardDuty finding ARN (the companion's id is the ARN + a suffix).
  const done = new Map<string, number>();
  const probe = (clients: ReturnType<typeof makeClients>): void => {
    clients.securityHub(region).middlewareStack.add(
      (next, context) => async (args) => {
        const out = await next(args);
        const at = timer.now();
        const input = args.input as { FindingIdentifiers?: { Id?: string }[]; Findings?: { Id?: string }[] };
        const output = out.output as { UnprocessedFindings?: { FindingIdentifier?: { Id?: string } }[]; FailedFindings?: { Id?: string }[] };
        const refused = new Set([...(output.UnprocessedFindings ?? []).map((u) => u.FindingIdentifier?.Id), ...(output.FailedFindings ?? []).map((f) => f.Id)]);
        if (context.commandName === 'BatchUpdateFindingsCommand' || context.commandName === 'BatchImportFindingsCommand') {
          for (const x of [...(input.FindingIdentifiers ?? []), ...(input.Findings ?? [])]) {
            if (!x.Id || refused.has(x.Id)) continue;
            const arn = x.Id.replace(/\/trailstory-storyline$/, '');
            done.set(arn, Math.max(done.get(arn) ?? 0, at));
          }
        }
        return out;
      },
      { step: 'initialize', name: 'latencyProbe' },
    );
  };

  // The copies, in GuardDuty and Security Hub, and their EventBridge events.
  const tag = `${s.name[0]}${SOURCES.indexOf(s.source)}`;
  const findings = Array.from({ length: s.n }, (_, i) => copyOf(s.base, tag, i));
  for (const f of findings) {
    emu.guardDuty.addFinding(f);
    emu.securityHub.put(guardDutyToAsff(f));
    emu.securityHub.putOcsf(guardDutyToOcsf(f));
  }
  const eventOf = (f: Json) => ({ version: '0', id: `e-${String(f.id)}`, 'detail-type': 'GuardDuty Finding', source: 'aws.guardduty', account, region, time: String(f.updatedAt), resources: [], detail: f });
  const context: Context = lambdaContext('enrich-worker', p.timeoutS * 1000);
  const outcomes: RecordOutcome[] = [];
  const intakeClients = clientsFor();
  const intake = makeIntake(config, intakeClients);
  /** A warm Lambda environment of the worker: its own clients and request budget. */
  const environment = () => {
    const clients = clientsFor();
    probe(clients);
    return makeWorker(config, clients, dynamo, { onOutcome: (o) => outcomes.push(o), timer });
  };
  const arrived = new Map<string, number>();
  let failed = 0;
  let rechecks = 0;
  const requestsBefore = emu.requests.length;
  const t0 = timer.now();

  if (!s.burst) {
    const worker = environment();
    for (const f of findings) {
      arrived.set(String(f.arn), timer.now());
      await intake(eventOf(f));
      const msgs = emu.sqs.messages(queueUrl).splice(0);
      const res = await worker(sqsEvent(msgs.map((m) => m.Body), region), context);
      failed += res.batchItemFailures.length;
      rechecks += emu.sqs.messages(queueUrl).splice(0).length;
      await timer.sleep(5_000); // the next finding alone: LookupEvents' budget refilled
    }
  } else {
    // All events arrive at once; the intake runs `intakeConcurrency` at a time.
    for (const f of findings) arrived.set(String(f.arn), t0);
    let intakeDone = false;
    const intakeWork = pool(findings, p.intakeConcurrency, (f) => intake(eventOf(f)).then(() => undefined)).then(() => void (intakeDone = true));
    // The event source mapping: batches of `batchSize` to at most `concurrency` environments;
    // a record reported failed comes back after the queue's visibility timeout.
    const later: { body: string; receives: number; at: number }[] = [];
    const slot = async (): Promise<void> => {
      const worker = environment();
      for (;;) {
        const fresh = emu.sqs.messages(queueUrl).splice(0, p.batchSize).map((m) => ({ body: m.Body, receives: 0 }));
        const first = fresh.filter((m) => (JSON.parse(m.body) as EnrichMessage).pass === 1);
        rechecks += fresh.length - first.length;
        const due = later.filter((m) => m.at <= timer.now()).slice(0, p.batchSize - first.length);
        for (const d of due) later.splice(later.indexOf(d), 1);
        const batch = [...first, ...due];
        if (batch.length === 0) {
          if (intakeDone && later.length === 0 && emu.sqs.messages(queueUrl).length === 0) return;
          await new Promise((r) => setTimeout(r, 1));
          continue;
        }
        for (const m of batch) m.receives++;
        const res = await worker(sqsEvent(batch.map((m) => m.body), region, batch.map((m) => m.receives)), context);
        for (const x of res.batchItemFailures) {
          const m = batch[Number(x.itemIdentifier.slice(1))] as { body: string; receives: number };
          failed++;
          later.push({ ...m, at: timer.now() + p.visibilityS * 1000 });
        }
      }
    };
    await Promise.all([intakeWork, ...Array.from({ length: s.source === 'lookup-events' ? p.concurrency : p.queryConcurrency }, slot)]);
  }

  const wallS = (timer.now() - t0) / 1000;
  const latencies: number[] = [];
  let enriched = 0;
  for (const f of findings) {
    const arn = String(f.arn);
    const note = (emu.securityHub.get(arn) as { Note?: { UpdatedBy?: string } } | undefined)?.Note;
    if (note?.UpdatedBy === 'trailstory') enriched++;
    const end = done.get(arn);
    if (end !== undefined) latencies.push((end - (arrived.get(arn) ?? t0)) / 1000);
  }
  const requests = emu.requests.slice(requestsBefore);
  // The emulator's own time running a query (Trino grammar check, DuckDB) beyond the modelled run time: CPU × S, not Athena.
  const modelledRun = (emu.athena.knobs.runMs / 1000) * S;
  const overruns = [...(emu.athena as unknown as { executions: Map<string, { startedAt?: number; completed?: Date }> }).executions.values()]
    .filter((e) => e.startedAt !== undefined && e.completed !== undefined)
    .map((e) => Math.max(0, (((e.completed as Date).getTime() - (e.startedAt as number)) / 1000) * S - modelledRun))
    .sort((a, b) => a - b);
  return {
    source: s.source, name: s.name, n: s.n, latencies, wallS, athenaOverrunS: pct(overruns, 0.5),
    steps: outcomes.length === 0 ? '–' : `${Math.min(...outcomes.map((o) => o.steps))}–${Math.max(...outcomes.map((o) => o.steps))}`, enriched, failed, rechecks,
    deadLettered: emu.sqs.messages(dlqUrl).length,
    requests: requests.length,
    // The emulator's 400 / 429 answers here are the throttles (LookupEvents, StartQueryExecution, Security Hub).
    throttled: requests.filter((r) => r.status === 429 || r.status === 400).length,
    // Queries Athena started (the findings of a batch share theirs: each finding's usage counts the shared ones).
    queries: requests.filter((r) => r.service === 'athena' && r.operation === 'StartQueryExecution' && r.status === 200).length,
    bytes: outcomes.reduce((a, o) => a + (o.usage?.bytesScanned ?? 0), 0),
  };
}

/** Runs `work` over `items`, at most `n` at a time. */
async function pool<T>(items: T[], n: number, work: (x: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, async () => {
    while (next < items.length) await work(items[next++] as T);
  }));
}

function report(p: Params, scenario: string, results: CaseResult[], args: string[]): string {
  const f = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : '–');
  const rows = results.map((r) => {
    const l = [...r.latencies].sort((a, b) => a - b);
    const what = r.name === 'single' ? `one finding (${r.n} runs)` : r.name === 'floor' ? `one finding, no modelled latency, queue or run time (${r.n} runs)` : `burst of ${r.n}, one account`;
    return `| ${r.source} | ${what} | ${r.enriched}/${r.n} | ${r.steps} | ${f(pct(l, 0.5))} | ${f(pct(l, 0.95))} | ${f(l[l.length - 1] ?? NaN)} | ${f(r.wallS)} | ${r.queries} | ${(r.bytes / 1e6).toFixed(2)} | ${f(r.athenaOverrunS)} | ${r.requests} | ${r.throttled} | ${r.failed} / ${r.deadLettered} |`;
  });
  return [
    `Run: \`npm run bench:latency -- ${args.join(' ')}\`${args.length === 0 ? ' (defaults)' : ''} on ${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${os.cpus().length} CPU(s); scenario \`${scenario}\`.`,
    '',
    `Parameters (every one an option; scale S = ${p.scale}: durations ÷ S, rates × S, results × S):`,
    '',
    `- per-call latency of every AWS API (emulator, before each answer): ${p.apiLatencyMs} ms (${(p.apiLatencyMs / p.scale).toFixed(2)} ms real; Node's timers are 1 ms at best, so effectively ≥ ${p.scale} ms scaled back) — a parameter, not a measurement`,
    `- Athena: queue ${p.athenaQueueMs} ms, run ${p.athenaRunMs} ms + ${p.athenaRunMsPerGB} ms per GiB scanned per query — parameters, not measurements; StartQueryExecution ${p.athenaStartRate}/s burst ${p.athenaStartBurst}; ${p.athenaActive} active DML queries per account and region`,
    `- CloudTrail LookupEvents: ${p.lookupRate} requests/s per account and region; Security Hub quotas on (BatchUpdateFindings and BatchImportFindings 10/s burst 30, GetFindings 3/s burst 6)`,
    `- Lambda: worker batches of ${p.batchSize}, at most ${p.concurrency} concurrent invocations with lookup-events and ${p.queryConcurrency} with athena and security-lake, timeout ${p.timeoutS} s, queue visibility timeout ${p.visibilityS} s (template.yaml); intake ${p.intakeConcurrency} at a time`,
    '',
    '| source | case | enriched | storyline steps | p50 s | p95 s | max s | wall s | Athena queries | MB scanned | query run beyond the modelled time, median s | AWS requests | throttled | failed / dead-lettered |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows,
    '',
  ].join('\n');
}

main().catch((e: Error) => {
  process.stderr.write(`bench:latency: ${e.message}\n`);
  process.exitCode = 1;
});
