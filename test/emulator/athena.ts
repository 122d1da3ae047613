/**
 * Amazon Athena for the emulator: StartQueryExecution, GetQueryExecution, GetQueryResults,
 * StopQueryExecution, BatchGetQueryExecution and GetWorkGroup, each query run on DuckDB over
 * folders on disk laid out like the S3 buckets of the registered tables (README "Athena").
 *
 * A query: Trino grammar check (dt-sql-parser, a SYNTAX_ERROR failure as Athena reports at run
 * time) → the shim (athena-shim.ts) finds the table references and the static conditions of
 * their WHERE → partition projection (injected keys must be constrained by equality; enum, date
 * and Hive keys pruned) → bytes scanned as Athena bills them → the workgroup's cutoff → DuckDB.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { trino } from '../support/trino';
import { AwsError } from './errors';
import type { CallContext, HandlerEntry, Json } from './services';
import { CLOUDTRAIL_COLUMNS, CLOUDTRAIL_FIELD_NAMES, Column } from '../../src/sources/athena-tables';
import { Analysis, analyse, Condition, DUCKDB_MACROS, Literal, rewrite, TableRef, Tok } from './athena-shim';
import { prng } from './prng';

/** A partition key of a table, as partition projection (or Glue partitions, `hive`) declares it. */
export type PartitionSpec =
  | { name: string; type: 'injected' }
  | { name: string; type: 'enum'; values: string[] }
  | { name: string; type: 'date'; format: 'yyyy/MM/dd' | 'yyyy-MM-dd' | 'yyyyMMdd' }
  | { name: string; type: 'hive' };

/** A table of the emulated Glue catalog. */
export interface TableSpec {
  /** Default: every account. */
  account?: string;
  /** Default: every region. */
  region?: string;
  database: string;
  name: string;
  format: 'cloudtrail-json' | 'parquet';
  /** Absolute folder standing for the table's S3 location. */
  location: string;
  /** Default for cloudtrail-json: CLOUDTRAIL_COLUMNS; for parquet the files' own columns. */
  columns?: readonly Column[];
  partitions: PartitionSpec[];
  /** `storage.location.template` relative to `location` (`${account}/CloudTrail/${region}/${day}`); default Hive `name=value` folders. */
  locationTemplate?: string;
}

/** Options of {@link AthenaState.createWorkGroup}. */
export interface WorkGroupOptions {
  bytesScannedCutoffPerQuery?: number;
  outputLocation?: string;
}

/**
 * Athena's knobs (mutable).
 * - `queueMs`, `runMs`, `runMsPerGB`: QUEUED lasts `queueMs`, RUNNING at least `runMs + runMsPerGB × GiB scanned`.
 * - `failRate` (0..1, seeded): a query FAILS with an INTERNAL_ERROR_QUERY_ENGINE reason.
 * - `maxActiveQueries`: QUEUED + RUNNING queries per account and region (Athena's active DML
 *   query quota, 150 in the large regions); beyond it StartQueryExecution answers TooManyRequestsException.
 * - `startQueryExecutionPerSecond` / `startQueryExecutionBurst`: the token bucket of the
 *   StartQueryExecution API quota (20/s, burst 80; 0 = unlimited) → TooManyRequestsException.
 * - `throttleRate` (0..1, seeded): any Athena call answers TooManyRequestsException.
 * - `rowGroupBytes`: uncompressed size of the Parquet row groups INSERT INTO writes (128 MiB like
 *   Athena's; DuckDB makes groups of at least 2048 rows).
 */
export interface AthenaKnobs {
  queueMs: number;
  runMs: number;
  runMsPerGB: number;
  failRate: number;
  maxActiveQueries: number;
  startQueryExecutionPerSecond: number;
  startQueryExecutionBurst: number;
  throttleRate: number;
  rowGroupBytes: number;
}

type State = 'QUEUED' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'CANCELLED';

interface Outcome {
  state: State;
  reason?: string;
  /** AthenaError: 1 system, 2 user. */
  category?: number;
  retryable?: boolean;
  bytes: number;
  columns?: { name: string; type: string }[];
  rows?: (string | undefined)[][];
  updateCount?: number;
}

interface Execution {
  id: string;
  account: string;
  region: string;
  query: string;
  workGroup: string;
  database?: string;
  catalog?: string;
  outputLocation: string;
  state: State;
  submitted: Date;
  startedAt?: number;
  completed?: Date;
  outcome?: Outcome;
  substatement: string;
  timers: NodeJS.Timeout[];
}

interface WorkGroup {
  name: string;
  created: Date;
  options: WorkGroupOptions;
}


const q = (id: string): string => `"${id.replace(/"/g, '""')}"`;
const lit = (v: string): string => `'${v.replace(/'/g, "''")}'`;
const GiB = 1024 ** 3;

/** Keys of the CloudTrail JSON for a lower-case column name (resources' `arn` is `ARN`). */
function jsonKey(name: string, inArray: boolean): string {
  if (inArray && name === 'arn') return 'ARN';
  return CLOUDTRAIL_FIELD_NAMES[name] ?? name;
}

/** DuckDB type of a column, with Hive's lower-case field names. */
function duckType(c: Column): string {
  switch (c.type) {
    case 'string': return 'VARCHAR';
    case 'map': return 'MAP(VARCHAR, VARCHAR)';
    case 'struct': return `STRUCT(${c.fields.map((f) => `${q(f.name)} ${duckType(f)}`).join(', ')})`;
    case 'array': return `STRUCT(${c.of.map((f) => `${q(f.name)} ${duckType(f)}`).join(', ')})[]`;
  }
}

/** DuckDB type to read a column from the JSON file: its camelCase keys; top-level strings as JSON (objects become their text). */
function readType(c: Column, top: boolean, inArray = false): string {
  switch (c.type) {
    case 'string': return top ? 'JSON' : 'VARCHAR';
    case 'map': return 'MAP(VARCHAR, VARCHAR)';
    case 'struct': return `STRUCT(${c.fields.map((f) => `${q(jsonKey(f.name, inArray))} ${readType(f, false)}`).join(', ')})`;
    case 'array': return `STRUCT(${c.of.map((f) => `${q(jsonKey(f.name, true))} ${readType(f, false, true)}`).join(', ')})[]`;
  }
}

/** Athena's result type name of a DuckDB type. */
function athenaType(duck: string): string {
  const t = duck.toUpperCase();
  if (t.endsWith('[]')) return 'array';
  if (t.startsWith('STRUCT')) return 'row';
  if (t.startsWith('MAP')) return 'map';
  if (t.startsWith('DECIMAL')) return 'decimal';
  const m: Record<string, string> = {
    VARCHAR: 'varchar', BIGINT: 'bigint', INTEGER: 'integer', SMALLINT: 'smallint', TINYINT: 'tinyint', HUGEINT: 'decimal',
    DOUBLE: 'double', FLOAT: 'real', BOOLEAN: 'boolean', DATE: 'date', TIMESTAMP: 'timestamp',
    'TIMESTAMP WITH TIME ZONE': 'timestamp with time zone', JSON: 'json', UBIGINT: 'decimal', UINTEGER: 'bigint',
  };
  return m[t] ?? t.toLowerCase();
}

function dateRegex(format: string): string {
  return format.replace(/yyyy|MM|dd|[^yMd]/g, (x) => (x === 'yyyy' ? '\\d{4}' : x === 'MM' || x === 'dd' ? '\\d{2}' : x.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&')));
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The template of a table's folders: its locationTemplate, else Hive's `name=${name}/…`. */
function templateOf(t: TableSpec): string {
  return t.locationTemplate ?? t.partitions.map((p) => `${p.name}=\${${p.name}}`).join('/');
}

/** Hive's escaping of a partition value in a `name=value` folder (FileUtils.escapePathName). */
function hiveEscape(v: string): string {
  // eslint-disable-next-line no-control-regex -- Hive escapes the control characters too
  return v.replace(/[\x00-\x1F"#%'*/:=?\\\x7F{[\]^]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
}

function hiveUnescape(v: string): string {
  return v.replace(/%([0-9A-Fa-f]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));
}

interface PartitionFile {
  file: string;
  size: number;
  values: Record<string, string>;
}

/** Every data file of a table with its partition values (files directly in a partition folder; `_` and `.` files are skipped, as Hive does). */
function listFiles(t: TableSpec): PartitionFile[] {
  const template = templateOf(t);
  const names: string[] = [];
  const re = template.split(/(\$\{[^}]+\})/).map((part) => {
    const m = /^\$\{([^}]+)\}$/.exec(part);
    if (!m) return escapeRe(part);
    const name = m[1] as string;
    names.push(name);
    const spec = t.partitions.find((p) => p.name === name);
    if (spec?.type === 'date' && t.locationTemplate) return `(${dateRegex(spec.format)})`;
    if (spec?.type === 'enum' && t.locationTemplate) return `(${spec.values.map(escapeRe).join('|')})`;
    return '([^/]+)';
  }).join('');
  const regex = new RegExp(`^${re}$`, t.locationTemplate ? '' : 'i');
  const out: PartitionFile[] = [];
  const walk = (dir: string): void => {
    let entries: fs.Dirent[];
    try { entries = fs.readdirSync(dir, { withFileTypes: true }); } catch { return; }
    for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      const full = path.join(dir, e.name);
      if (e.isDirectory()) walk(full);
      else if (e.isFile() && !e.name.startsWith('_') && !e.name.startsWith('.')) {
        const rel = path.relative(t.location, dir).split(path.sep).join('/');
        const m = regex.exec(rel);
        if (!m) continue;
        const values: Record<string, string> = {};
        names.forEach((n, i) => { values[n] = t.locationTemplate ? (m[i + 1] as string) : hiveUnescape(m[i + 1] as string); });
        out.push({ file: full, size: fs.statSync(full).size, values });
      }
    }
  };
  walk(t.location);
  return out;
}

function compare(a: string, b: Literal): number {
  const na = Number(a);
  if (typeof b === 'number' && a.trim() !== '' && !Number.isNaN(na)) return na - b;
  const sb = String(b);
  return a < sb ? -1 : a > sb ? 1 : 0;
}

/** Whether a value can satisfy a static condition. */
function satisfies(v: string, c: Condition): boolean {
  const [x, y] = c.values;
  switch (c.op) {
    case '=': return compare(v, x as Literal) === 0;
    case 'in': return c.values.some((l) => compare(v, l) === 0);
    case 'between': return compare(v, x as Literal) >= 0 && compare(v, y as Literal) <= 0;
    case '<': return compare(v, x as Literal) < 0;
    case '<=': return compare(v, x as Literal) <= 0;
    case '>': return compare(v, x as Literal) > 0;
    case '>=': return compare(v, x as Literal) >= 0;
    default: return true;
  }
}

/** Whether a row group's [min, max] can hold a row satisfying the condition. */
function rangeMay(min: string, max: string, c: Condition): boolean {
  const [x, y] = c.values;
  switch (c.op) {
    case '=': return compare(min, x as Literal) <= 0 && compare(max, x as Literal) >= 0;
    case 'in': return c.values.some((l) => compare(min, l) <= 0 && compare(max, l) >= 0);
    case 'between': return compare(max, x as Literal) >= 0 && compare(min, y as Literal) <= 0;
    case '<': return compare(min, x as Literal) < 0;
    case '<=': return compare(min, x as Literal) <= 0;
    case '>': return compare(max, x as Literal) > 0;
    case '>=': return compare(max, x as Literal) >= 0;
    default: return true;
  }
}

/** A chain without the reference's qualifier (alias, table, database.table). */
function unqualified(chain: string[], ref: TableRef): string[] {
  const quals = [ref.alias, ref.name].filter((x): x is string => !!x);
  if (chain.length > 2 && ref.database && chain[0] === ref.database && chain[1] === ref.name) return chain.slice(2);
  if (chain.length > 1 && quals.includes(chain[0] as string)) return chain.slice(1);
  return chain;
}


/** `line L:C` of a token index. */
function lineCol(toks: Tok[], index: number): string {
  const before = toks.slice(0, index).map((t) => t.v).join('');
  const lines = before.split('\n');
  return `line ${lines.length}:${(lines[lines.length - 1] ?? '').length + 1}`;
}

class QueryFailure extends Error {
  constructor(message: string, readonly state: State = 'FAILED', readonly bytes = 0, readonly category = 2) {
    super(message);
  }
}

/** Athena's state: catalog, workgroups, query executions, knobs; queries run on one DuckDB connection, one at a time. */
export class AthenaState {
  knobs: AthenaKnobs = AthenaState.defaultKnobs();
  readonly tables: TableSpec[] = [];
  private readonly workGroups = new Map<string, WorkGroup>();
  private readonly executions = new Map<string, Execution>();
  private readonly tokens = new Map<string, { tokens: number; at: number }>();
  private readonly idempotency = new Map<string, string>();
  private readonly random: () => number;
  private db: Promise<{ instance: DuckDBInstance; conn: DuckDBConnection }> | undefined;
  private chain: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(seed = 1) {
    this.random = prng(seed ^ 0xa7e4a);
  }

  /** Default knobs: 20 ms queued, 50 ms running + 1 s per GiB, no failures, 150 active queries, 20 starts/s burst 80, 128 MiB row groups. */
  static defaultKnobs(): AthenaKnobs {
    return { queueMs: 20, runMs: 50, runMsPerGB: 1000, failRate: 0, maxActiveQueries: 150, startQueryExecutionPerSecond: 20, startQueryExecutionBurst: 80, throttleRate: 0, rowGroupBytes: 128 * 1024 * 1024 };
  }

  /** Registers (or replaces) a table of the catalog. */
  registerTable(spec: TableSpec): void {
    const i = this.tables.findIndex((t) => t.database === spec.database && t.name === spec.name && t.account === spec.account && t.region === spec.region);
    const t: TableSpec = { ...spec, ...(spec.format === 'cloudtrail-json' && !spec.columns ? { columns: CLOUDTRAIL_COLUMNS } : {}) };
    if (i >= 0) this.tables[i] = t;
    else this.tables.push(t);
  }

  /** Creates (or replaces) a workgroup; `primary` exists in every account and region. */
  createWorkGroup(account: string, region: string, name: string, options: WorkGroupOptions = {}): void {
    this.workGroups.set(`${account}/${region}/${name}`, { name, created: new Date(), options });
  }

  /** The table a query names in an account and region (lower-case names as Glue keeps them). */
  table(account: string, region: string, database: string, name: string): TableSpec | undefined {
    const match = (t: TableSpec) => t.database.toLowerCase() === database.toLowerCase() && t.name.toLowerCase() === name.toLowerCase();
    return this.tables.find((t) => match(t) && t.account === account && t.region === region)
      ?? this.tables.find((t) => match(t) && (t.account ?? account) === account && (t.region ?? region) === region);
  }

  private workGroup(account: string, region: string, name: string): WorkGroup | undefined {
    const wg = this.workGroups.get(`${account}/${region}/${name}`);
    if (wg || name !== 'primary') return wg;
    const p: WorkGroup = { name, created: new Date(0), options: { outputLocation: `s3://aws-athena-query-results-${account}-${region}/` } };
    this.workGroups.set(`${account}/${region}/${name}`, p);
    return p;
  }

  /** Stops timers and closes DuckDB (the emulator's stop / reset). */
  close(): void {
    this.closed = true;
    for (const e of this.executions.values()) e.timers.forEach(clearTimeout);
    const db = this.db;
    this.db = undefined;
    if (db) void this.chain.then(() => db).then((d) => { d.conn.closeSync(); d.instance.closeSync(); }, () => undefined);
  }

  private async conn(): Promise<DuckDBConnection> {
    if (!this.db) {
      this.db = (async () => {
        const instance = await DuckDBInstance.create(':memory:', { threads: '1' });
        const conn = await instance.connect();
        for (const m of DUCKDB_MACROS) await conn.run(m);
        return { instance, conn };
      })();
    }
    return (await this.db).conn;
  }

  private throttle(): void {
    if (this.knobs.throttleRate > 0 && this.random() < this.knobs.throttleRate) throw new AwsError('TooManyRequestsException', 'Rate exceeded', 400);
  }

  private execution(ctx: CallContext, id: unknown): Execution {
    const e = this.executions.get(String(id));
    if (!e || e.account !== ctx.account || e.region !== ctx.region) throw new AwsError('InvalidRequestException', `QueryExecution ${String(id)} was not found`, 400);
    return e;
  }

  /** StartQueryExecution: quotas, then the execution is QUEUED and runs in the background. */
  start(ctx: CallContext, input: Json): { QueryExecutionId: string } {
    this.throttle();
    const k = `${ctx.account}/${ctx.region}`;
    const token = input.ClientRequestToken === undefined ? undefined : `${k}/${String(input.ClientRequestToken)}`;
    if (token && this.idempotency.has(token)) return { QueryExecutionId: this.idempotency.get(token) as string };
    const rate = this.knobs.startQueryExecutionPerSecond;
    if (rate > 0) {
      const now = Date.now();
      const burst = Math.max(1, this.knobs.startQueryExecutionBurst);
      const b = this.tokens.get(k) ?? { tokens: burst, at: now };
      b.tokens = Math.min(burst, b.tokens + ((now - b.at) / 1000) * rate);
      b.at = now;
      this.tokens.set(k, b);
      if (b.tokens < 1) throw new AwsError('TooManyRequestsException', 'Rate exceeded', 400);
      b.tokens -= 1;
    }
    const active = [...this.executions.values()].filter((e) => e.account === ctx.account && e.region === ctx.region && (e.state === 'QUEUED' || e.state === 'RUNNING')).length;
    if (active >= this.knobs.maxActiveQueries) {
      throw new AwsError('TooManyRequestsException', 'You have exceeded the limit for the number of queries you can run concurrently. Please reduce the number of concurrent queries submitted by this account. Contact customer support to request a concurrent query limit increase.', 400);
    }
    const wgName = String(input.WorkGroup ?? 'primary');
    const wg = this.workGroup(ctx.account, ctx.region, wgName);
    if (!wg) throw new AwsError('InvalidRequestException', `WorkGroup ${wgName} is not found.`, 400);
    const rc = input.ResultConfiguration as Json | undefined;
    const base = wg.options.outputLocation ?? (rc?.OutputLocation as string | undefined);
    if (!base) throw new AwsError('InvalidRequestException', 'No output location provided. An output location is required either through the Workgroup result configuration setting or as an API input.', 400);
    const qec = input.QueryExecutionContext as Json | undefined;
    const id = randomUUID();
    const query = String(input.QueryString);
    const head = /^\s*(\w+)/.exec(query)?.[1]?.toUpperCase() ?? '';
    const e: Execution = {
      id, account: ctx.account, region: ctx.region, query, workGroup: wgName,
      ...(qec?.Database ? { database: String(qec.Database) } : {}), ...(qec?.Catalog ? { catalog: String(qec.Catalog) } : {}),
      outputLocation: `${base.replace(/\/?$/, '/')}${id}.csv`, state: 'QUEUED', submitted: ctx.now,
      substatement: head === 'WITH' ? 'SELECT' : head, timers: [],
    };
    this.executions.set(id, e);
    if (token) this.idempotency.set(token, id);
    const timer = setTimeout(() => this.begin(e, wg), this.knobs.queueMs);
    timer.unref();
    e.timers.push(timer);
    return { QueryExecutionId: id };
  }

  private begin(e: Execution, wg: WorkGroup): void {
    if (e.state !== 'QUEUED' || this.closed) return;
    e.state = 'RUNNING';
    e.startedAt = Date.now();
    const run = this.chain.then(() => this.run(e, wg));
    this.chain = run.catch(() => undefined);
    void run.then((o) => {
      if (e.state !== 'RUNNING' || this.closed) return;
      const target = this.knobs.runMs + (this.knobs.runMsPerGB * o.bytes) / GiB;
      const wait = Math.max(0, target - (Date.now() - (e.startedAt ?? 0)));
      const timer = setTimeout(() => {
        if (e.state !== 'RUNNING') return;
        e.outcome = o;
        e.state = o.state;
        e.completed = new Date();
      }, wait);
      timer.unref();
      e.timers.push(timer);
    });
  }

  /** Runs a query; never rejects. */
  private async run(e: Execution, wg: WorkGroup): Promise<Outcome> {
    try {
      return await this.execute(e, wg);
    } catch (err) {
      if (err instanceof QueryFailure) return { state: err.state, reason: err.message, bytes: err.bytes, category: err.category, retryable: err.category === 1 };
      return { state: 'FAILED', reason: duckReason((err as Error).message), bytes: 0, category: 2, retryable: false };
    }
  }

  private async execute(e: Execution, wg: WorkGroup): Promise<Outcome> {
    const problems = trino().validate(e.query.replace(/;\s*$/, ''));
    const p = problems[0];
    if (p) throw new QueryFailure(`SYNTAX_ERROR: line ${p.startLine}:${p.startColumn}: ${p.message}`);
    const a = analyse(e.query);
    if (a.kind === 'other' || (a.kind === 'insert' && !a.insert)) {
      throw new QueryFailure(`NOT_SUPPORTED: the emulator runs SELECT and INSERT INTO … SELECT only (got ${(/^\s*(\w+)/.exec(e.query)?.[1] ?? '').toUpperCase()})`);
    }
    if (this.knobs.failRate > 0 && this.random() < this.knobs.failRate) {
      throw new QueryFailure('INTERNAL_ERROR_QUERY_ENGINE: Amazon Athena experienced an internal error while executing this query. Please try submitting the query again and if the issue reoccurs, contact AWS support for further assistance.', 'FAILED', 0, 1);
    }
    const conn = await this.conn();
    const scans = new Map<TableRef, string>();
    let bytes = 0;
    for (const ref of a.refs) {
      if (!ref.database && a.cteNames.has(ref.name)) continue;
      const db = ref.database ?? e.database ?? 'default';
      const t = this.table(e.account, e.region, db, ref.name);
      if (!t) throw new QueryFailure(`TABLE_NOT_FOUND: ${lineCol(a.tokens, ref.start)}: Table '${e.catalog ?? 'awsdatacatalog'}.${db}.${ref.name}' does not exist`);
      const scan = await this.plan(conn, a, ref, t);
      scans.set(ref, scan.sql);
      bytes += scan.bytes;
    }
    const cutoff = wg.options.bytesScannedCutoffPerQuery;
    if (cutoff !== undefined && bytes > cutoff) throw new QueryFailure('Bytes scanned limit was exceeded', 'CANCELLED', cutoff);
    const sub = (ref: TableRef) => scans.get(ref);
    if (a.kind === 'select') {
      const reader = await conn.runAndReadAll(rewrite(a, sub));
      const names = reader.columnNames();
      const types = reader.columnTypes().map((t) => t.toString());
      const rows = reader.getRows().map((r) => r.map(toText));
      return { state: 'SUCCEEDED', bytes, columns: names.map((name, i) => ({ name, type: athenaType(types[i] ?? 'VARCHAR') })), rows };
    }
    const ins = a.insert as NonNullable<Analysis['insert']>;
    const target = this.table(e.account, e.region, ins.database ?? e.database ?? 'default', ins.name);
    if (!target) throw new QueryFailure(`TABLE_NOT_FOUND: line 1:13: Table '${e.catalog ?? 'awsdatacatalog'}.${ins.database ?? e.database ?? 'default'}.${ins.name}' does not exist`);
    if (target.format !== 'parquet') throw new QueryFailure('NOT_SUPPORTED: the emulator writes INSERT INTO into Parquet tables only');
    const updateCount = await this.insert(conn, e, target, rewrite(a, sub, ins.queryStart));
    return { state: 'SUCCEEDED', bytes, updateCount };
  }

  /** The DuckDB subquery of a table reference over its pruned files, and the bytes Athena would bill for it. */
  private async plan(conn: DuckDBConnection, a: Analysis, ref: TableRef, t: TableSpec): Promise<{ sql: string; bytes: number }> {
    const onPartition = (c: Condition, p: string): boolean => {
      const path = unqualified(c.path, ref);
      return path.length === 1 && path[0] === p.toLowerCase();
    };
    for (const p of t.partitions.filter((x) => x.type === 'injected')) {
      const mine = ref.conditions.filter((c) => onPartition(c, p.name) || (c.op === 'other' && c.mentions.some((m) => { const u = unqualified(m, ref); return u.length === 1 && u[0] === p.name.toLowerCase(); })));
      if (!mine.length || mine.some((c) => c.op !== '=' && c.op !== 'in')) {
        throw new QueryFailure(`CONSTRAINT_VIOLATION: Injected projected partition column ${p.name} must have only (and at least one) equality conditions in the WHERE clause!`);
      }
    }
    const files = listFiles(t).filter((f) => t.partitions.every((p) => ref.conditions.every((c) => !onPartition(c, p.name) || satisfies(f.values[p.name] ?? '', c))));
    const pnames = t.partitions.map((p) => p.name);
    const groups = new Map<string, PartitionFile[]>();
    for (const f of files) {
      const k = JSON.stringify(pnames.map((n) => f.values[n]));
      groups.set(k, [...(groups.get(k) ?? []), f]);
    }
    const pcols = (f: PartitionFile) => pnames.map((n) => `${lit(f.values[n] ?? '')} AS ${q(n)}`).join(', ');
    const columns = t.columns ?? [];
    let sql: string;
    if (!files.length) {
      const cols = [...columns.map((c) => `CAST(NULL AS ${duckType(c)}) AS ${q(c.name)}`), ...pnames.map((n) => `CAST(NULL AS VARCHAR) AS ${q(n)}`)];
      sql = `SELECT ${cols.join(', ') || 'NULL AS "_"'} WHERE false`;
    } else if (t.format === 'cloudtrail-json') {
      const recordType = `STRUCT(${columns.map((c) => `${q(jsonKey(c.name, false))} ${readType(c, true)}`).join(', ')})[]`;
      const proj = columns.map((c) => {
        const v = `r.${q(jsonKey(c.name, false))}`;
        if (c.type === 'string') return `hive_text(${v}) AS ${q(c.name)}`;
        if (c.type === 'map') return `${v} AS ${q(c.name)}`;
        return `CAST(${v} AS ${duckType(c)}) AS ${q(c.name)}`;
      }).join(', ');
      sql = [...groups.values()].map((fs_) => {
        const list = `[${fs_.map((f) => lit(f.file)).join(', ')}]`;
        const pc = pcols(fs_[0] as PartitionFile);
        return `SELECT ${proj}${pc ? `, ${pc}` : ''} FROM (SELECT unnest("Records") AS r FROM read_json(${list}, columns = {'Records': ${lit(recordType)}}, format = 'auto', maximum_object_size = 1073741824))`;
      }).join(' UNION ALL ');
    } else {
      const lower = pnames.map((n) => lit(n.toLowerCase())).join(', ');
      sql = [...groups.values()].map((fs_) => {
        const list = `[${fs_.map((f) => lit(f.file)).join(', ')}]`;
        const pc = pcols(fs_[0] as PartitionFile);
        const data = pnames.length ? `COLUMNS(c -> lower(c) NOT IN (${lower}))` : '*';
        return `SELECT ${data}${pc ? `, ${pc}` : ''} FROM read_parquet(${list}, union_by_name = true)`;
      }).join(' UNION ALL BY NAME ');
    }
    const bytes = t.format === 'parquet' && files.length ? await parquetBytes(conn, files, a, ref) : files.reduce((n, f) => n + f.size, 0);
    return { sql, bytes };
  }

  /** INSERT INTO a Parquet table: one file per partition (the query's last columns are the partition keys), rows in the query's order. */
  private async insert(conn: DuckDBConnection, e: Execution, t: TableSpec, select: string): Promise<number> {
    const tmp = `ins_${e.id.replace(/-/g, '')}`;
    await conn.run(`CREATE TEMP TABLE ${tmp} AS ${select}`);
    try {
      const cols = (await conn.runAndReadAll(`SELECT column_name FROM (DESCRIBE ${tmp})`)).getRows().map((r) => String(r[0]));
      const pn = t.partitions.length;
      const dataCols = cols.slice(0, cols.length - pn);
      const partCols = cols.slice(cols.length - pn);
      const names = t.columns ? t.columns.map((c) => c.name) : dataCols;
      if (names.length !== dataCols.length) {
        throw new QueryFailure(`TYPE_MISMATCH: Insert query has ${cols.length} columns, table ${t.database}.${t.name} has ${names.length + pn}`);
      }
      const tuples = pn
        ? (await conn.runAndReadAll(`SELECT DISTINCT ${partCols.map((c) => `CAST(${q(c)} AS VARCHAR)`).join(', ')} FROM ${tmp}`)).getRows().map((r) => r.map((v) => (v === null ? null : String(v))))
        : [[]];
      if (tuples.length > 100) throw new QueryFailure(`HIVE_TOO_MANY_OPEN_PARTITIONS: Exceeded limit of 100 open writers for partitions/buckets`);
      const proj = dataCols.map((c, i) => `${q(c)} AS ${q(names[i] as string)}`).join(', ');
      let n = 0;
      for (const [i, tuple] of tuples.entries()) {
        const values: Record<string, string> = {};
        t.partitions.forEach((p, j) => { values[p.name] = tuple[j] ?? '__HIVE_DEFAULT_PARTITION__'; });
        const rel = templateOf(t).replace(/\$\{([^}]+)\}/g, (_m, name: string) => (t.locationTemplate ? values[name] ?? '' : hiveEscape(values[name] ?? '')));
        const dir = path.join(t.location, rel);
        fs.mkdirSync(dir, { recursive: true });
        const where = partCols.map((c, j) => (tuple[j] === null ? `${q(c)} IS NULL` : `CAST(${q(c)} AS VARCHAR) = ${lit(tuple[j] as string)}`)).join(' AND ');
        const body = `SELECT ${proj} FROM ${tmp}${where ? ` WHERE ${where}` : ''} ORDER BY rowid`;
        const file = path.join(dir, `${e.submitted.toISOString().replace(/\D/g, '').slice(0, 14)}_${e.id}_${i}`);
        await conn.run(`COPY (${body}) TO ${lit(file)} (FORMAT parquet, ROW_GROUP_SIZE 1000000000)`);
        const meta = (await conn.runAndReadAll(`SELECT sum(total_uncompressed_size)::BIGINT, max(row_group_num_rows)::BIGINT FROM parquet_metadata(${lit(file)})`)).getRows()[0] ?? [];
        const size = Number(meta[0] ?? 0);
        const rows = Number(meta[1] ?? 0);
        n += rows;
        const perGroup = Math.max(1, Math.floor((this.knobs.rowGroupBytes * rows) / Math.max(1, size)));
        if (perGroup < rows) await conn.run(`COPY (${body}) TO ${lit(file)} (FORMAT parquet, ROW_GROUP_SIZE ${perGroup})`);
      }
      return n;
    } finally {
      await conn.run(`DROP TABLE IF EXISTS ${tmp}`);
    }
  }

  /** The QueryExecution shape of an execution. */
  describe(e: Execution): Json {
    const o = e.outcome;
    const now = Date.now();
    const started = e.startedAt;
    const end = e.completed?.getTime() ?? now;
    const queueMs = (started ?? now) - e.submitted.getTime();
    const engineMs = started ? end - started : 0;
    return {
      QueryExecutionId: e.id,
      Query: e.query,
      StatementType: 'DML',
      SubstatementType: e.substatement,
      ResultConfiguration: { OutputLocation: e.outputLocation },
      QueryExecutionContext: { ...(e.database ? { Database: e.database } : {}), ...(e.catalog ? { Catalog: e.catalog } : {}) },
      Status: {
        State: e.state,
        SubmissionDateTime: e.submitted,
        ...(e.completed ? { CompletionDateTime: e.completed } : {}),
        ...(o?.reason && e.state === o.state ? { StateChangeReason: o.reason } : {}),
        ...(o?.reason && o.state === 'FAILED' && e.state === 'FAILED' ? { AthenaError: { ErrorCategory: o.category ?? 2, Retryable: o.retryable ?? false, ErrorMessage: o.reason } } : {}),
      },
      Statistics: {
        EngineExecutionTimeInMillis: Math.max(0, engineMs),
        DataScannedInBytes: e.state === o?.state ? o.bytes : 0,
        TotalExecutionTimeInMillis: Math.max(0, end - e.submitted.getTime()),
        QueryQueueTimeInMillis: Math.max(0, queueMs),
        ServicePreProcessingTimeInMillis: 0,
        QueryPlanningTimeInMillis: 0,
        ServiceProcessingTimeInMillis: 0,
        ResultReuseInformation: { ReusedPreviousResult: false },
      },
      WorkGroup: e.workGroup,
      EngineVersion: { SelectedEngineVersion: 'AUTO', EffectiveEngineVersion: 'Athena engine version 3' },
    };
  }

  /** The handlers, by operation name. */
  handlers(): Record<string, HandlerEntry> {
    return {
      StartQueryExecution: { fn: (ctx, input) => this.start(ctx, input) },
      GetQueryExecution: { fn: (ctx, input) => { this.throttle(); return { QueryExecution: this.describe(this.execution(ctx, input.QueryExecutionId)) }; } },
      BatchGetQueryExecution: {
        fn: (ctx, input) => {
          this.throttle();
          const found: Json[] = [];
          const missing: Json[] = [];
          for (const id of (input.QueryExecutionIds as string[] | undefined) ?? []) {
            const e = this.executions.get(id);
            if (e && e.account === ctx.account && e.region === ctx.region) found.push(this.describe(e));
            else missing.push({ QueryExecutionId: id, ErrorCode: 'INVALID_INPUT', ErrorMessage: `QueryExecution ${id} was not found` });
          }
          return { QueryExecutions: found, UnprocessedQueryExecutionIds: missing };
        },
      },
      StopQueryExecution: {
        fn: (ctx, input) => {
          this.throttle();
          const e = this.execution(ctx, input.QueryExecutionId);
          if (e.state === 'QUEUED' || e.state === 'RUNNING') {
            e.state = 'CANCELLED';
            e.completed = new Date();
            e.outcome = { state: 'CANCELLED', bytes: 0 };
            e.timers.forEach(clearTimeout);
          }
          return {};
        },
      },
      GetQueryResults: { fn: (ctx, input) => { this.throttle(); return this.results(ctx, input); } },
      GetWorkGroup: {
        fn: (ctx, input) => {
          this.throttle();
          const name = String(input.WorkGroup);
          const wg = this.workGroup(ctx.account, ctx.region, name);
          if (!wg) throw new AwsError('InvalidRequestException', `WorkGroup ${name} is not found.`, 400);
          return {
            WorkGroup: {
              Name: wg.name, State: 'ENABLED', CreationTime: wg.created,
              Configuration: {
                ...(wg.options.outputLocation ? { ResultConfiguration: { OutputLocation: wg.options.outputLocation } } : {}),
                EnforceWorkGroupConfiguration: true, PublishCloudWatchMetricsEnabled: false, RequesterPaysEnabled: false,
                ...(wg.options.bytesScannedCutoffPerQuery !== undefined ? { BytesScannedCutoffPerQuery: wg.options.bytesScannedCutoffPerQuery } : {}),
                EngineVersion: { SelectedEngineVersion: 'AUTO', EffectiveEngineVersion: 'Athena engine version 3' },
              },
            },
          };
        },
      },
    };
  }

  private results(ctx: CallContext, input: Json): Json {
    const e = this.execution(ctx, input.QueryExecutionId);
    if (e.state === 'QUEUED' || e.state === 'RUNNING') throw new AwsError('InvalidRequestException', `Query has not yet finished. Current state: ${e.state}`, 400);
    if (e.state !== 'SUCCEEDED') throw new AwsError('InvalidRequestException', `Query did not finish successfully. Final query state: ${e.state}`, 400);
    const o = e.outcome as Outcome;
    const max = Number(input.MaxResults ?? 1000);
    let offset = 0;
    if (input.NextToken !== undefined) {
      try {
        const t = JSON.parse(Buffer.from(String(input.NextToken), 'base64url').toString('utf8')) as { id?: string; o?: number };
        if (t.id !== e.id || typeof t.o !== 'number') throw new Error('foreign');
        offset = t.o;
      } catch {
        throw new AwsError('InvalidRequestException', 'The NextToken is not valid for this query execution.', 400);
      }
    }
    const cols = o.columns ?? [];
    const all: (string | undefined)[][] = o.columns ? [cols.map((c) => c.name), ...(o.rows ?? [])] : [];
    const page = all.slice(offset, offset + max);
    const next = offset + max < all.length ? Buffer.from(JSON.stringify({ id: e.id, o: offset + max })).toString('base64url') : undefined;
    return {
      ...(o.updateCount !== undefined ? { UpdateCount: o.updateCount } : { UpdateCount: 0 }),
      ResultSet: {
        Rows: page.map((r) => ({ Data: r.map((v) => (v === undefined ? {} : { VarCharValue: v })) })),
        ResultSetMetadata: {
          ColumnInfo: cols.map((c) => ({ CatalogName: 'hive', SchemaName: '', TableName: '', Name: c.name, Label: c.name, Type: c.type, Precision: c.type === 'varchar' ? 2147483647 : 0, Scale: 0, Nullable: 'UNKNOWN', CaseSensitive: c.type === 'varchar' })),
        },
      },
      ...(next ? { NextToken: next } : {}),
    };
  }
}

/** A DuckDB value as Athena's text (`VarCharValue`); undefined for SQL NULL. */
function toText(v: unknown): string | undefined {
  if (v === null || v === undefined) return undefined;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return String(v);
  return String(v as { toString(): string });
}

/** An Athena-like reason for a DuckDB error. */
function duckReason(msg: string): string {
  const col = /Referenced column "?([^"\s]+)"? not found/.exec(msg);
  if (col) return `COLUMN_NOT_FOUND: Column '${col[1] ?? ''}' cannot be resolved (DuckDB: ${msg.split('\n')[0] ?? ''})`;
  const fn = /(?:Scalar|Aggregate|Table) Function with name "?([^"\s]+)"? does not exist/.exec(msg);
  if (fn) return `FUNCTION_NOT_FOUND: Function '${fn[1] ?? ''}' not registered (DuckDB: ${msg.split('\n')[0] ?? ''})`;
  return `GENERIC_INTERNAL_ERROR: (DuckDB) ${msg.split('\n')[0] ?? msg}`;
}

/**
 * Bytes Athena bills for Parquet files: the compressed size of the column chunks of the leaves the
 * query names (a struct named whole counts all its leaves; `*` counts every leaf), in the row groups
 * whose min/max statistics do not exclude the WHERE's top-level conditions on plain columns.
 */
async function parquetBytes(conn: DuckDBConnection, files: PartitionFile[], a: Analysis, ref: TableRef): Promise<number> {
  const list = `[${files.map((f) => lit(f.file)).join(', ')}]`;
  const rows = (await conn.runAndReadAll(
    `SELECT file_name, row_group_id, path_in_schema, total_compressed_size::BIGINT, stats_min_value, stats_max_value FROM parquet_metadata(${list})`,
  )).getRows();
  const chains = a.chains.map((c) => unqualified(c, ref));
  const conds = ref.conditions.filter((c) => c.op !== 'other').map((c) => ({ ...c, path: unqualified(c.path, ref) }));
  const groups = new Map<string, { leaf: string[]; size: number; min: string | null; max: string | null }[]>();
  for (const r of rows) {
    const leaf = String(r[2]).split(', ').filter((x) => !['list', 'element', 'key_value', 'array', 'item', 'bag'].includes(x)).map((x) => x.toLowerCase());
    const k = `${String(r[0])}#${String(r[1])}`;
    groups.set(k, [...(groups.get(k) ?? []), { leaf, size: Number(r[3]), min: r[4] === null ? null : String(r[4]), max: r[5] === null ? null : String(r[5]) }]);
  }
  const prefix = (p: string[], of: string[]) => p.length > 0 && p.length <= of.length && p.every((x, i) => x === of[i]);
  let bytes = 0;
  for (const chunks of groups.values()) {
    const excluded = conds.some((c) => {
      const ch = chunks.find((x) => x.leaf.length === c.path.length && prefix(c.path, x.leaf));
      return ch && ch.min !== null && ch.max !== null && !rangeMay(ch.min, ch.max, c);
    });
    if (excluded) continue;
    for (const ch of chunks) if (a.star || chains.some((c) => prefix(c, ch.leaf))) bytes += ch.size;
  }
  return bytes;
}

/** The Athena handler table for the emulator's `buildHandlers`. */
export function athenaHandlers(st: AthenaState): Record<string, HandlerEntry> {
  return st.handlers();
}
