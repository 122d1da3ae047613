/**
 * CloudTrail through Amazon Athena: the organisation trail's table (raw JSON or the Parquet
 * layout, `athena-tables.ts`) or Security Lake's OCSF tables (`security-lake-tables.ts`), read
 * in rounds of the lineage closure (`storyline/rounds.ts`), one query per partition group a
 * round.
 *
 * A query runs as Athena runs them: `StartQueryExecution`, `GetQueryExecution` until it ends,
 * `GetQueryResults` page by page (1,000 rows at most a page, the first row of a SELECT its
 * header): https://docs.aws.amazon.com/athena/latest/APIReference/API_StartQueryExecution.html.
 * A throttled start (`TooManyRequestsException`: the StartQueryExecution rate, or the active
 * DML queries quota) is retried with backoff until the deadline. Each finding has a budget of
 * bytes scanned: past it no further round starts, and the storyline's gaps say which tokens
 * were not read. Every query, its bytes and its seconds are counted for the coverage and the
 * metrics.
 */
import {
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  StartQueryExecutionCommand,
  StopQueryExecutionCommand,
  type AthenaClient,
} from '@aws-sdk/client-athena';
import type { NormalizedFinding } from '../model/finding';
import { toTrailEvent, type TrailEvent } from '../trail/event';
import { emptyStats, type ReadStats } from '../trail/read';
import { cloudTrailRecordFromOcsf, isOcsfProblem } from '../trail/ocsf-api-activity';
import { emptyTokens, type Tokens } from '../storyline/closure';
import { closeInRounds, noTokens, tokenCount, type RoundRequest } from '../storyline/rounds';
import { CLOUDTRAIL_COLUMNS, recordFromRow, selectedLeaves } from './athena-tables';
import { roundQuery, splitTokens, sqlString, type ColumnMap, type PartitionGroup } from './athena-sql';
import { DELIVERY_LAG_MS } from './cloudtrail-lookup';
import { leafSql, ocsfFromRow, securityLakeLeaves, securityLakeTableProblem } from './security-lake-tables';
import { realTimer, type Timer } from './rate';
import type { CollectOptions, SourceDescriptor, SourceResult, SourceUsage, TrailSource } from './types';

const DAY = 24 * 3600 * 1000;

/** A table the source reads: where its columns stand, and how a result row becomes a CloudTrail record. */
export interface AthenaTable {
  /** The source it is: `athena` (the organisation trail) or `security-lake`. */
  source: 'athena' | 'security-lake';
  columns: ColumnMap;
  /** A CloudTrail record from a result row (alias → text), or why it cannot be one. */
  record(row: Readonly<Record<string, string | undefined>>): Record<string, unknown> | string;
}

const quote = (id: string) => `"${id.replace(/"/g, '""')}"`;

/**
 * The organisation trail's table: `cloudtrail` (raw gzip JSON, day `yyyy/MM/dd`) or the Parquet
 * layout (day `yyyy-MM-dd`), same columns.
 */
export function cloudTrailTable(database: string, table: string, dayFormat: 'yyyy/MM/dd' | 'yyyy-MM-dd'): AthenaTable {
  const leaves = selectedLeaves(CLOUDTRAIL_COLUMNS);
  return {
    source: 'athena',
    columns: {
      from: [`${quote(database)}.${quote(table)}`],
      accessKeyId: 'useridentity.accesskeyid',
      callerText: ['useridentity.arn', 'useridentity.sessioncontext.sessionissuer.arn', 'useridentity.username', 'useridentity.principalid', 'useridentity.onbehalfof.userid'],
      eventName: 'eventname',
      eventId: 'eventid',
      recordText: ['requestparameters', 'responseelements', 'additionaleventdata', 'serviceeventdetails'],
      // eventTime is ISO 8601 text to the second (`2026-11-01T08:00:00Z`): compared as text.
      timeBetween: (a, b) => `eventtime BETWEEN ${sqlString(isoSecond(a - 1000))} AND ${sqlString(isoSecond(b + 1000))}`,
      partitions: { account: 'account', region: 'region', day: 'day', dayFormat },
      select: leaves.map(leafSql).join(', '),
    },
    record: (row) => recordFromRow(row),
  };
}

/**
 * Security Lake's CloudTrail tables (source version 2, OCSF 1.1.0 API Activity: management
 * events, S3 data events, Lambda data events), as a Lake Formation subscriber reads them; one
 * query reads them all. Version 1 tables are refused (one line).
 * @param tables one or more tables of the database (e.g. `…_cloud_trail_mgmt_2_0`, `…_s3_data_2_0`)
 * @throws Error naming the table when it is a version 1 table
 */
export function securityLakeTable(database: string, tables: string | string[]): AthenaTable {
  const list = typeof tables === 'string' ? [tables] : tables;
  for (const table of list) {
    const problem = securityLakeTableProblem(table);
    if (problem) throw new Error(problem);
  }
  const leaves = securityLakeLeaves();
  return {
    source: 'security-lake',
    columns: {
      from: list.map((table) => `${quote(database)}.${quote(table)}`),
      accessKeyId: 'actor.user.credential_uid',
      callerText: ['actor.user.uid', 'actor.session.issuer', 'actor.user.name', 'actor.user.uid_alt'],
      eventName: 'api.operation',
      eventId: 'metadata.uid',
      recordText: ['api.request.data', 'api.response.data', 'json_format(CAST(unmapped AS JSON))'],
      timeBetween: (a, b) => `time BETWEEN ${a - 1000} AND ${b + 1000}`,
      partitions: { account: 'accountid', region: 'region', day: 'eventday', dayFormat: 'yyyyMMdd' },
      select: leaves.map(leafSql).join(', '),
    },
    record: (row) => {
      const r = cloudTrailRecordFromOcsf(ocsfFromRow(row));
      return isOcsfProblem(r) ? r.problem : r;
    },
  };
}

function isoSecond(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19) + 'Z';
}

/** Where and how far the source reads. */
export interface AthenaOptions {
  /** The workgroup (its output location and bytes-scanned cutoff apply). */
  workGroup: string;
  /** Regions to read (the table's region partitions); default the finding's and us-east-1. */
  regions?: string[];
  /**
   * Accounts always read besides the finding's own and those the lineage names: the
   * organisation's management account and Identity Center's delegated administrator, where
   * Identity Center's sign-in and portal records (GetRoleCredentials, …) are logged and which
   * no member account's record names.
   */
  accounts?: string[];
  /**
   * The raw table for the days the main table (the Parquet layout) does not hold yet: days from
   * `since` (epoch ms, a UTC midnight) on are read there.
   */
  recent?: { table: AthenaTable; since: number };
  /** Baseline before the finding's first activity (days). Default 30. */
  lookbackDays?: number;
  /** After the finding's last activity (ms): delivery lag and what followed. Default 2 hours. */
  after?: number;
  /** Bytes scanned one finding may use. Default 10 GB. */
  bytesBudget?: number;
  /** Rounds at most. Default 12. */
  maxRounds?: number;
  /** Epoch ms after which no query starts (the function's remaining time). */
  deadline?: number;
  /** Called while queries run: a line of progress. */
  progress?: (line: string) => void;
  /**
   * Queries shared with the other findings being read at the same time (one SQS batch): a
   * round's queries over the same table, accounts and regions are sent as one.
   */
  shared?: SharedQueries;
  /** `GetQueryExecution` polling: first wait and the longest (ms). Default 200 and 2,000. */
  poll?: { first: number; max: number };
}

/** What the source counted for one finding. */
export type AthenaUsage = SourceUsage;

export const athenaDescriptor: SourceDescriptor = {
  id: 'athena',
  iamActions: ['athena:StartQueryExecution', 'athena:GetQueryExecution', 'athena:GetQueryResults', 'athena:StopQueryExecution', 'glue:GetTable', 'glue:GetDatabase', 's3:GetObject', 's3:ListBucket'],
  limits: [
    'the organisation trail (management and data events) or Security Lake, as far back as the table holds',
    'a baseline of 30 days before the finding by default (LOOKBACK_DAYS)',
    'a budget of bytes scanned per finding (FINDING_BYTES_BUDGET, default 10 GB) and the workgroup cutoff per query',
    'StartQueryExecution and the active DML queries are quotas of the account and region: throttled starts are retried',
  ],
};

/** A finished query: its rows (alias → text) and statistics. */
export interface QueryOutcome {
  id: string;
  rows: Record<string, string | undefined>[];
  bytesScanned: number;
}

/**
 * Runs one query to its end and reads every page of its results.
 * @throws Error (`<state>: <reason>`) when the query fails or is cancelled, or no time is left
 */
export async function runQuery(client: AthenaClient, sql: string, o: { workGroup: string; deadline?: number; poll?: { first: number; max: number }; timer?: Timer }): Promise<QueryOutcome> {
  const timer = o.timer ?? realTimer;
  let id: string | undefined;
  for (let attempt = 0; ; attempt++) {
    try {
      id = (await client.send(new StartQueryExecutionCommand({ QueryString: sql, WorkGroup: o.workGroup }))).QueryExecutionId;
      break;
    } catch (e) {
      const name = (e as Error).name;
      const wait = Math.min(8000, 250 * 2 ** attempt) * (0.5 + Math.random() / 2);
      if ((name !== 'TooManyRequestsException' && name !== 'ThrottlingException') || (o.deadline !== undefined && timer.now() + wait > o.deadline) || attempt >= 12) throw e;
      await timer.sleep(wait);
    }
  }
  if (!id) throw new Error('StartQueryExecution returned no QueryExecutionId');
  let wait = o.poll?.first ?? 200;
  let bytes = 0;
  for (;;) {
    const q = (await client.send(new GetQueryExecutionCommand({ QueryExecutionId: id }))).QueryExecution;
    const state = q?.Status?.State;
    bytes = q?.Statistics?.DataScannedInBytes ?? bytes;
    if (state === 'SUCCEEDED') break;
    if (state === 'FAILED' || state === 'CANCELLED') throw Object.assign(new Error(`${state}: ${q?.Status?.StateChangeReason ?? 'no reason given'}`), { bytesScanned: bytes, queryId: id });
    if (o.deadline !== undefined && timer.now() + wait > o.deadline) {
      await client.send(new StopQueryExecutionCommand({ QueryExecutionId: id })).catch(() => undefined);
      throw Object.assign(new Error(`CANCELLED: no time left (query ${id} stopped)`), { bytesScanned: bytes, queryId: id });
    }
    await timer.sleep(wait);
    wait = Math.min(o.poll?.max ?? 2000, wait * 1.5);
  }
  const rows: Record<string, string | undefined>[] = [];
  let token: string | undefined;
  let names: string[] | null = null;
  let first = true;
  do {
    const page = await client.send(new GetQueryResultsCommand({ QueryExecutionId: id, NextToken: token, MaxResults: 1000 }));
    names ??= (page.ResultSet?.ResultSetMetadata?.ColumnInfo ?? []).map((c) => c.Name ?? '');
    const data = page.ResultSet?.Rows ?? [];
    for (let i = first ? 1 : 0; i < data.length; i++) {
      const row: Record<string, string | undefined> = {};
      (data[i]?.Data ?? []).forEach((d, j) => (row[names?.[j] ?? String(j)] = d.VarCharValue));
      rows.push(row);
    }
    first = false;
    token = page.NextToken;
  } while (token);
  return { id, rows, bytesScanned: bytes };
}

/** What {@link runByDays} gathered over a partition group. */
export interface GroupOutcome {
  id: string;
  rows: Record<string, string | undefined>[];
  queries: number;
  bytesScanned: number;
  /** Why queries failed, one line each. */
  failures: string[];
}

/** Whether a query was cancelled at the workgroup's per-query bytes cutoff. */
function overCutoff(e: Error): boolean {
  return /^CANCELLED: .*bytes scanned limit/i.test(e.message);
}

/**
 * Runs a round's query over a partition group. A query the workgroup cancels at its per-query
 * bytes cutoff ("Configure per-query and per-workgroup data usage controls",
 * https://docs.aws.amazon.com/athena/latest/ug/workgroups-setting-control-limits-cloudwatch.html;
 * the bytes it read are billed) is run again as its two halves of days, down to a single day
 * (three partitions, the day padded each side): the cutoff bounds each query, not what a finding
 * can read (its budget does that).
 * @param onQuery called before each query starts (progress, budget); false stops the run
 */
export async function runByDays(
  client: AthenaClient,
  table: AthenaTable,
  g: PartitionGroup,
  tokens: Tokens,
  anchors: { from: number; to: number } | readonly { from: number; to: number }[] | null,
  o: Parameters<typeof runQuery>[2],
  onQuery: (g: PartitionGroup, bytesSoFar: number) => boolean = () => true,
): Promise<GroupOutcome> {
  const out: GroupOutcome = { id: '', rows: [], queries: 0, bytesScanned: 0, failures: [] };
  const run = async (grp: PartitionGroup): Promise<void> => {
    const sql = roundQuery(table.columns, grp, tokens, anchors);
    if (!sql || !onQuery(grp, out.bytesScanned)) return;
    out.queries++;
    try {
      const r = await runQuery(client, sql, o);
      out.bytesScanned += r.bytesScanned;
      out.id = r.id;
      for (const row of r.rows) out.rows.push(row);
    } catch (e) {
      const err = e as Error & { bytesScanned?: number };
      out.bytesScanned += err.bytesScanned ?? 0;
      const days = Math.floor(grp.to / DAY) - Math.floor(grp.from / DAY);
      if (overCutoff(err) && days >= 1) {
        const mid = (Math.floor(grp.from / DAY) + Math.ceil(days / 2)) * DAY;
        await run({ ...grp, to: mid - 1 });
        await run({ ...grp, from: mid });
        return;
      }
      out.failures.push(`${err.name === 'Error' ? '' : err.name + ': '}${err.message}`);
    }
  };
  await run(g);
  return out;
}

/**
 * The Athena source of one deployment: a table, a workgroup, the regions; {@link collect} reads
 * one finding's records in rounds.
 */
export class AthenaSource implements TrailSource {
  readonly descriptor = athenaDescriptor;

  constructor(
    private readonly client: AthenaClient,
    private readonly table: AthenaTable,
    private readonly opts: AthenaOptions,
    private readonly timer: Timer = realTimer,
  ) {}

  async collect(finding: NormalizedFinding, _collectOpts: CollectOptions = {}): Promise<SourceResult & { usage: AthenaUsage; failures: string[] }> {
    // Findings read together share their rounds: this one counts until it is done.
    this.opts.shared?.begin();
    try {
      return await this.collectOnce(finding);
    } finally {
      this.opts.shared?.end();
    }
  }

  private async collectOnce(finding: NormalizedFinding): Promise<SourceResult & { usage: AthenaUsage; failures: string[] }> {
    const stats: ReadStats = emptyStats();
    const gaps: string[] = [];
    const requests: Record<string, number> = {};
    const usage: AthenaUsage = { source: this.table.source, queries: 0, rounds: 0, bytesScanned: 0, seconds: 0 };
    /** Why queries failed, one line each (also in the gaps). */
    const failures: string[] = [];
    const first = Date.parse(finding.eventFirstSeen ?? finding.createdAt ?? '');
    const last = Date.parse(finding.eventLastSeen ?? finding.updatedAt ?? finding.eventFirstSeen ?? '');
    if (Number.isNaN(first) || Number.isNaN(last)) {
      gaps.push('the finding has no first-seen or last-seen time: CloudTrail was not read');
      return { events: [], stats, gaps, incomplete: false, requests, usage, failures };
    }
    const now = this.timer.now();
    const from = first - (this.opts.lookbackDays ?? 30) * DAY;
    const to = Math.min(last + (this.opts.after ?? 2 * 3600 * 1000), Math.max(now, last));
    const regions = [...new Set(this.opts.regions && this.opts.regions.length > 0 ? this.opts.regions : [finding.region, 'us-east-1'])].sort();
    const budget = this.opts.bytesBudget ?? 10 * 1024 ** 3;
    const incomplete = now - last < DELIVERY_LAG_MS;
    if (incomplete) gaps.push(`the finding's last activity is less than 15 minutes old: CloudTrail records may not be delivered yet, look again later`);
    // The accounts read, and the tokens each was asked for.
    const askedIn = new Map<string, Tokens>();
    for (const a of [finding.accountId, ...(this.opts.accounts ?? [])]) if (/^\d{12}$/.test(a)) askedIn.set(a, emptyTokens());
    const seen = new Set<string>();
    const started = this.timer.now();
    let exhausted = false;

    // The days each table serves: the layout up to `recent.since`, the raw table from there on.
    const segments = (g: PartitionGroup): { table: AthenaTable; g: PartitionGroup }[] => {
      const r = this.opts.recent;
      if (!r || r.since > g.to) return [{ table: this.table, g }];
      if (r.since <= g.from) return [{ table: r.table, g }];
      return [
        { table: this.table, g: { ...g, to: r.since - 1 } },
        { table: r.table, g: { ...g, from: r.since } },
      ];
    };
    const query = async (group: PartitionGroup, t: Tokens, anchors: RoundRequest['anchors']): Promise<TrailEvent[]> => {
      const out: TrailEvent[] = [];
      for (const { table, g } of segments(group)) {
        const perToken = table.columns.recordText.length + table.columns.callerText.length * 2 + 2;
        if (this.opts.shared) {
          if (usage.bytesScanned >= budget) {
            exhausted = true;
            break;
          }
          this.opts.progress?.(`round ${usage.rounds}: queries over ${g.accounts.length} account(s), ${g.regions.length} region(s), ${tokenCount(t)} token(s), shared with the findings read beside it…`);
          const r = await this.opts.shared.run(this.client, table, g, t, anchors, { workGroup: this.opts.workGroup, deadline: this.opts.deadline, poll: this.opts.poll, timer: this.timer });
          usage.queries += r.queries;
          usage.bytesScanned += r.bytesShare;
          requests['athena:StartQueryExecution'] = (requests['athena:StartQueryExecution'] ?? 0) + r.queries;
          failures.push(...r.failures);
          for (const f of r.failures) gaps.push(`an Athena query of round ${usage.rounds} failed (${f}): some records of ${tokenCount(t)} token(s) in ${g.accounts.join(', ')} were not read`);
          for (const row of r.rows) out.push(...this.toEvent(table, row, r.id, stats, seen));
          continue;
        }
        for (const part of splitTokens(t, perToken)) {
          const r = await runByDays(this.client, table, g, part, anchors, { workGroup: this.opts.workGroup, deadline: this.opts.deadline, poll: this.opts.poll, timer: this.timer }, (grp, soFar) => {
            if (usage.bytesScanned + soFar >= budget) {
              exhausted = true;
              return false;
            }
            usage.queries++;
            requests['athena:StartQueryExecution'] = (requests['athena:StartQueryExecution'] ?? 0) + 1;
            this.opts.progress?.(`round ${usage.rounds}: query ${usage.queries} over ${grp.accounts.length} account(s), ${grp.regions.length} region(s), ${tokenCount(part)} token(s)…`);
            return true;
          });
          usage.bytesScanned += r.bytesScanned;
          if (r.queries > 0) this.opts.progress?.(`round ${usage.rounds}: query ${usage.queries} done, ${(usage.bytesScanned / 1e6).toFixed(1)} MB read so far, ${r.rows.length} record(s)`);
          failures.push(...r.failures);
          for (const f of r.failures) gaps.push(`an Athena query of round ${usage.rounds} failed (${f}): the records of ${tokenCount(part)} token(s) in ${g.accounts.join(', ')} were not read`);
          for (const row of r.rows) out.push(...this.toEvent(table, row, r.id, stats, seen));
          if (exhausted) break;
        }
      }
      return out;
    };
    const result = await closeInRounds(
      finding,
      {
        round: async (req) => {
          usage.rounds++;
          const events: TrailEvent[] = [];
          // The frontier in the accounts read before; every token asked so far in accounts new to
          // the read (the lineage named them), until no new account appears.
          for (let pass = 0; pass < 8; pass++) {
            const groups = new Map<string, { accounts: string[]; tokens: Tokens }>();
            for (const [account, had] of askedIn) {
              const want = emptyTokens();
              for (const k of ['keys', 'principals', 'sessionNames', 'eventIds', 'eventNames'] as const) for (const v of req.asked[k]) if (!had[k].has(v)) want[k].add(v);
              if (noTokens(want) && !(req.anchors && pass === 0 && had.keys.size === 0 && had.principals.size === 0)) continue;
              for (const k of ['keys', 'principals', 'sessionNames', 'eventIds', 'eventNames'] as const) for (const v of want[k]) had[k].add(v);
              const sig = JSON.stringify(Object.values(want).map((s) => [...s].sort()));
              const g = groups.get(sig);
              if (g) g.accounts.push(account);
              else groups.set(sig, { accounts: [account], tokens: want });
            }
            if (groups.size === 0 || exhausted) break;
            for (const { accounts, tokens } of groups.values()) {
              const got = await query({ accounts: accounts.sort(), regions, from, to }, tokens, req.round === 0 && pass === 0 ? req.anchors : null);
              events.push(...got);
            }
            // Accounts the records name (callers, recipients, roles assumed): read them too.
            let grew = false;
            for (const ev of events) {
              for (const a of accountsOf(ev)) {
                if (!askedIn.has(a)) {
                  askedIn.set(a, emptyTokens());
                  grew = true;
                }
              }
            }
            if (!grew) break;
          }
          return { events, exhausted };
        },
      },
      this.opts.maxRounds ?? 12,
    );
    usage.seconds = (this.timer.now() - started) / 1000;
    if (!noTokens(result.unasked)) gaps.push(`${exhausted ? `the budget of ${budget} bytes scanned was spent` : `the closure stopped after ${result.rounds} rounds`}: ${tokenCount(result.unasked)} token(s) of the lineage were not read (${[...result.unasked.keys, ...result.unasked.principals].slice(0, 5).join(', ')}${tokenCount(result.unasked) > 5 ? ', …' : ''})`);
    const events = [...result.events].sort((a, b) => a.epochMs - b.epochMs || (a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0));
    requests['athena:bytesScanned'] = usage.bytesScanned;
    return { events, stats, gaps, incomplete, requests, window: { from, to }, usage, failures };
  }

  private toEvent(table: AthenaTable, row: Record<string, string | undefined>, queryId: string, stats: ReadStats, seen: Set<string>): TrailEvent[] {
    stats.recordsRead++;
    const rec = table.record(row);
    if (typeof rec === 'string') {
      stats.recordsSkipped++;
      stats.skippedReasons[`malformed-record (${rec})`] = (stats.skippedReasons[`malformed-record (${rec})`] ?? 0) + 1;
      return [];
    }
    stats.recordsExamined++;
    const ev = toTrailEvent(rec, `athena:${queryId}`);
    if (typeof ev === 'string') {
      stats.recordsSkipped++;
      stats.skippedReasons[`malformed-record (${ev})`] = (stats.skippedReasons[`malformed-record (${ev})`] ?? 0) + 1;
      return [];
    }
    if (seen.has(ev.eventId)) return [];
    seen.add(ev.eventId);
    stats.accounts.add(ev.accountId);
    stats.regions.add(ev.awsRegion);
    if (stats.minTime === null || ev.eventTime < stats.minTime) stats.minTime = ev.eventTime;
    if (stats.maxTime === null || ev.eventTime > stats.maxTime) stats.maxTime = ev.eventTime;
    return [ev];
  }
}

/** The accounts a record names: its recipient, its caller's, and those of the ARNs in its request. */
function accountsOf(ev: TrailEvent): string[] {
  const out = new Set<string>();
  if (/^\d{12}$/.test(ev.accountId)) out.add(ev.accountId);
  if (ev.identity.accountId && /^\d{12}$/.test(ev.identity.accountId)) out.add(ev.identity.accountId);
  const roleArn = ev.requestParameters?.roleArn;
  if (typeof roleArn === 'string') {
    const m = /^arn:[^:]+:iam::(\d{12}):/.exec(roleArn);
    if (m?.[1]) out.add(m[1]);
  }
  return [...out];
}

/** What one finding gets of a shared query: every row (its rounds select), its share of the bytes. */
export interface SharedOutcome {
  id: string;
  rows: Record<string, string | undefined>[];
  /** Queries it took part in. */
  queries: number;
  /** The bytes those queries scanned, divided among the findings that shared them. */
  bytesShare: number;
  /** Reasons of the queries that failed. */
  failures: string[];
}

interface Pending {
  client: AthenaClient;
  table: AthenaTable;
  group: PartitionGroup;
  tokens: Tokens;
  anchors: { from: number; to: number }[];
  waiters: { resolve: (o: SharedOutcome) => void; reject: (e: Error) => void }[];
  run: Parameters<typeof runQuery>[2];
}

/**
 * Findings read at the same time (the records of one SQS batch, processed in parallel) share
 * their rounds: the requests for the same table, accounts and regions are sent as one query
 * (their tokens united, their days spanned, their anchor windows each named), and every finding
 * gets all its rows: each one's rounds driver keeps only what its own tokens select, so sharing
 * changes no storyline. The requests go out as soon as every finding being read ({@link begin})
 * is waiting on one, and at least the `expected` findings of the batch have begun; else
 * `windowMs` after the first request, whichever comes first.
 */
export class SharedQueries {
  private readonly pending = new Map<string, Pending>();
  private active = 0;
  private begun = 0;

  /**
   * @param windowMs the longest a request waits for others (ms, on the source's timer)
   * @param expected the findings of the batch: requests wait for them to begin (or for the window)
   */
  constructor(
    private readonly windowMs = 500,
    private readonly expected = 0,
  ) {}

  /** A finding starts reading through this instance; `end` when it is done. */
  begin(): void {
    this.active++;
    this.begun++;
  }

  end(): void {
    this.active = Math.max(0, this.active - 1);
    this.flushIfAllWait();
  }

  /** Every finding being read is waiting on a pending query: send them all now. */
  private flushIfAllWait(): void {
    let waiting = 0;
    for (const p of this.pending.values()) waiting += p.waiters.length;
    if (waiting > 0 && waiting >= this.active && this.begun >= this.expected) for (const key of [...this.pending.keys()]) void this.flush(key);
  }

  run(client: AthenaClient, table: AthenaTable, group: PartitionGroup, tokens: Tokens, anchors: RoundRequest['anchors'], o: Parameters<typeof runQuery>[2]): Promise<SharedOutcome> {
    const key = `${table.columns.from.join(',')}|${group.accounts.join(',')}|${group.regions.join(',')}`;
    return new Promise((resolve, reject) => {
      let p = this.pending.get(key);
      if (!p) {
        p = { client, table, group: { ...group }, tokens: emptyTokens(), anchors: [], waiters: [], run: o };
        this.pending.set(key, p);
        const timer = o.timer ?? realTimer;
        void timer.sleep(this.windowMs).then(() => this.flush(key));
      }
      p.group.from = Math.min(p.group.from, group.from);
      p.group.to = Math.max(p.group.to, group.to);
      for (const k of ['keys', 'principals', 'sessionNames', 'eventIds', 'eventNames'] as const) for (const v of tokens[k]) p.tokens[k].add(v);
      if (anchors) p.anchors.push(anchors);
      p.waiters.push({ resolve, reject });
      this.flushIfAllWait();
    });
  }

  private async flush(key: string): Promise<void> {
    const p = this.pending.get(key);
    if (!p) return;
    this.pending.delete(key);
    const rows: Record<string, string | undefined>[] = [];
    const failures: string[] = [];
    let bytes = 0;
    let queries = 0;
    let id = '';
    const perToken = p.table.columns.recordText.length + p.table.columns.callerText.length * 2 + 2;
    const parts = splitTokens(p.tokens, perToken);
    try {
      for (let i = 0; i < Math.max(1, parts.length); i++) {
        const r = await runByDays(p.client, p.table, p.group, parts[i] ?? emptyTokens(), i === 0 && p.anchors.length > 0 ? p.anchors : null, p.run);
        queries += r.queries;
        bytes += r.bytesScanned;
        if (r.id) id = r.id;
        for (const row of r.rows) rows.push(row);
        failures.push(...r.failures);
      }
    } catch (e) {
      for (const w of p.waiters) w.reject(e as Error);
      return;
    }
    for (const w of p.waiters) w.resolve({ id, rows, queries, bytesShare: bytes / p.waiters.length, failures });
  }
}
