/**
 * The SQL of a round of the lineage closure, for Amazon Athena (Trino SQL, engine version 3):
 * one `SELECT` per partition group that asks for every token of the frontier at once. Pure.
 *
 * A query returns a superset of what the round needs: the records of the frontier's keys,
 * principals, role session names, eventIDs and event names (by their caller), and the issuing,
 * creating, control and portal records whose text mentions one of the frontier's tokens (an
 * AssumeRole whose response holds the key, a CreateAccessKey of the user, a RunInstances of
 * the instance). The rounds driver (`storyline/rounds.ts`) selects exactly, as it does for
 * files; a query never has to be exact, only never narrower.
 *
 * Every query names its partitions (account, region, day), so Athena reads only those folders
 * (partition projection: https://docs.aws.amazon.com/athena/latest/ug/partition-projection.html).
 * String literals are escaped by doubling `'`; tokens come from records and findings, which an
 * attacker can shape, so nothing else of theirs reaches the text.
 */
import type { Tokens } from '../storyline/closure';
import { EDGE_EVENT_NAMES } from '../storyline/edges';
import { PORTAL_EVENT_NAMES } from '../storyline/closure';

/** A SQL string literal: `'O''Brien'`. */
export function sqlString(v: string): string {
  return `'${v.replace(/'/g, "''")}'`;
}

/** `(a, b, c)` of string literals. */
function inList(values: Iterable<string>): string {
  return `(${[...values].map(sqlString).join(', ')})`;
}

/**
 * Where the columns a round reads stand in a table: the CloudTrail table's (`athena-tables.ts`)
 * or Security Lake's OCSF table's (`security-lake-tables.ts`).
 */
export interface ColumnMap {
  /**
   * The tables, quoted (`"db"."table"`): several of the same columns (Security Lake's CloudTrail
   * management, S3 data and Lambda data tables) are read by one query, `UNION ALL`.
   */
  from: string[];
  /** The caller's access key. */
  accessKeyId: string;
  /** The caller's ARN, its session issuer's ARN, user name and principal id (text searched for principals and sessions). */
  callerText: string[];
  eventName: string;
  eventId: string;
  /** Text columns an issuing or creating record names its tokens in (request, response, …). */
  recordText: string[];
  /** The record's time between two epoch ms (inclusive), as SQL. */
  timeBetween(fromMs: number, toMs: number): string;
  /** The partition columns and the form of a day's value. */
  partitions: { account: string; region: string; day: string; dayFormat: 'yyyy/MM/dd' | 'yyyy-MM-dd' | 'yyyyMMdd' };
  /** The select list. */
  select: string;
}

/** A day (epoch ms, UTC) in a partition's format. */
export function dayValue(ms: number, format: ColumnMap['partitions']['dayFormat']): string {
  const d = new Date(ms).toISOString().slice(0, 10);
  if (format === 'yyyy/MM/dd') return d.replace(/-/g, '/');
  if (format === 'yyyyMMdd') return d.replace(/-/g, '');
  return d;
}

const DAY_MS = 24 * 3600 * 1000;

/** The partitions one query reads: accounts, regions and the days of a time span (epoch ms). */
export interface PartitionGroup {
  accounts: string[];
  regions: string[];
  from: number;
  to: number;
}

/**
 * The partition predicate: the accounts and regions by name, the days padded by a day each
 * side (a record is filed under the day it was delivered, up to about 15 minutes after its
 * time, and a day is UTC).
 */
export function partitionPredicate(m: ColumnMap, g: PartitionGroup): string {
  const p = m.partitions;
  return [
    `${p.account} IN ${inList(g.accounts)}`,
    `${p.region} IN ${inList(g.regions)}`,
    `${p.day} BETWEEN ${sqlString(dayValue(g.from - DAY_MS, p.dayFormat))} AND ${sqlString(dayValue(g.to + DAY_MS, p.dayFormat))}`,
  ].join(' AND ');
}

/** The names every issuing, creating, control and portal record has (API-version suffixes removed). */
function edgeNamePredicate(m: ColumnMap): string {
  const names = [...EDGE_EVENT_NAMES, ...PORTAL_EVENT_NAMES].sort();
  return `regexp_replace(${m.eventName}, '20[0-9]{6}(v[0-9]+)?$', '') IN ${inList(names)}`;
}

/**
 * The text a token is looked for by, lower case: a key itself, the name part of a principal
 * key (`role:111111111111:Admin` → `admin`; root: `111111111111:root`), a role session name.
 * Null for service principals, which select no record by their caller.
 */
export function needleOf(kind: 'keys' | 'principals' | 'sessionNames', token: string): string | null {
  if (kind !== 'principals') return token.toLowerCase();
  const [type, ...rest] = token.split(':');
  if (type === 'service' || type === 'account' || type === 'unknown') return null;
  if (type === 'root') return `${rest[0] ?? ''}:root`;
  const name = type === 'user' || type === 'role' || type === 'federated' ? rest.slice(1).join(':') : rest[rest.length - 1];
  return name ? name.toLowerCase() : null;
}

/** `strpos(lower(col), 'x') > 0` over several columns, for several needles. */
function mentions(columns: string[], needles: string[]): string {
  const parts: string[] = [];
  for (const n of needles) for (const c of columns) parts.push(`strpos(lower(${c}), ${sqlString(n)}) > 0`);
  return parts.join(' OR ');
}

/**
 * The WHERE clause of a round's tokens (without the partitions): the records of the tokens by
 * their caller, by eventID and event name, the issuing and creating records that mention a
 * token, and (the first round) every issuing record in the finding's anchor window (or in
 * any of several findings' windows, when their rounds share a query).
 * @returns null when the tokens ask for nothing
 */
export function tokenPredicate(m: ColumnMap, t: Tokens, anchors: { from: number; to: number } | readonly { from: number; to: number }[] | null): string | null {
  const ors: string[] = [];
  if (t.keys.size > 0) ors.push(`${m.accessKeyId} IN ${inList(t.keys)}`);
  if (t.eventIds.size > 0) ors.push(`${m.eventId} IN ${inList(t.eventIds)}`);
  if (t.eventNames.size > 0) ors.push(`${m.eventName} IN ${inList(t.eventNames)}`);
  const callerNeedles = new Set<string>();
  for (const p of t.principals) {
    const n = needleOf('principals', p);
    if (n) callerNeedles.add(n);
  }
  for (const s of t.sessionNames) callerNeedles.add(s.toLowerCase());
  if (callerNeedles.size > 0) ors.push(mentions(m.callerText, [...callerNeedles].sort()));
  const needles = new Set<string>(callerNeedles);
  for (const k of t.keys) needles.add(k.toLowerCase());
  if (needles.size > 0) ors.push(`(${edgeNamePredicate(m)} AND (${mentions([...m.recordText, ...m.callerText, m.accessKeyId], [...needles].sort())}))`);
  const windows = anchors === null ? [] : Array.isArray(anchors) ? anchors : [anchors as { from: number; to: number }];
  if (windows.length > 0) ors.push(`(${edgeNamePredicate(m)} AND (${windows.map((w) => m.timeBetween(w.from, w.to)).join(' OR ')}))`);
  return ors.length > 0 ? ors.join('\n   OR ') : null;
}

/** One round's query over one partition group. */
export function roundQuery(m: ColumnMap, g: PartitionGroup, t: Tokens, anchors: { from: number; to: number } | readonly { from: number; to: number }[] | null): string | null {
  const where = tokenPredicate(m, t, anchors);
  if (where === null) return null;
  return m.from.map((t) => `SELECT ${m.select}\nFROM ${t}\nWHERE ${partitionPredicate(m, g)}\n  AND (${where})`).join('\nUNION ALL\n');
}

/** Athena's longest query string: 262,144 bytes (StartQueryExecution, QueryString). */
export const MAX_QUERY_BYTES = 262_144;

/**
 * Splits tokens into parts whose query stays well within {@link MAX_QUERY_BYTES} (each token
 * costs its text once per column it is looked for in).
 * @param budget bytes of token text a query may hold (default 60,000)
 */
export function splitTokens(t: Tokens, perToken: number, budget = 60_000): Tokens[] {
  const out: Tokens[] = [];
  let cur: Tokens | null = null;
  let size = 0;
  const kinds = ['keys', 'principals', 'sessionNames', 'eventIds', 'eventNames'] as const;
  for (const k of kinds) {
    for (const v of t[k]) {
      const cost = (v.length + 16) * perToken;
      if (!cur || size + cost > budget) {
        cur = { keys: new Set(), principals: new Set(), sessionNames: new Set(), eventIds: new Set(), eventNames: new Set() };
        out.push(cur);
        size = 0;
      }
      cur[k].add(v);
      size += cost;
    }
  }
  return out;
}
