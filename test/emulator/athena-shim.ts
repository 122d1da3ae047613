/**
 * The emulator's Trino → DuckDB shim: Athena (engine 3) runs Trino SQL; the emulator runs each
 * query on DuckDB. This file reads a query's tokens (no full parse: the Trino grammar check of
 * dt-sql-parser runs before, in athena.ts) to find its table references, the static conditions
 * of their WHERE and the columns it names, and rewrites it into DuckDB SQL.
 *
 * Differences bridged (each exercised by athena.test.ts, "shim"):
 * 1. Table references (`"db"."table"`, `db.table`, `table` with the context's database) become a
 *    DuckDB subquery reading the table's files (`read_json` / `read_parquet`) of the partitions
 *    left after pruning, with the partition keys as string columns (athena.ts builds it).
 * 2. CloudTrail keys are camelCase in the files and Hive's column names lower case: the reader
 *    declares the file's keys and casts the structs to lower-case field names (DuckDB struct field
 *    access is case-insensitive anyway: `useridentity.accessKeyId` works, as in Trino).
 * 3. A string column holding a JSON object in the file (requestparameters, responseelements, …)
 *    is its JSON text, as the Hive JSON SerDe gives it (macro `hive_text`).
 * 4. `json_format(CAST(x AS JSON))`: DuckDB's JSON cast keeps row field names as Trino's does;
 *    `json_format` is a macro giving the JSON text.
 * 5. `from_iso8601_timestamp(s)` → `CAST(s AS TIMESTAMPTZ)`.
 * 6. `element_at(array, i)` (1-based) / `element_at(map, k)` → `x[i]` / `x[k]` (a macro over the built-in).
 * 7. `regexp_like(s, p)` → `regexp_matches(s, p)`; `json_extract_scalar(j, path)` →
 *    `json_extract_string`; `cardinality(a)` → `len(a)`; `approx_distinct(x)` → `approx_count_distinct(x)`;
 *    `to_unixtime(t)` → `epoch(t)`; `from_unixtime(n)` → `to_timestamp(n)`.
 * 8. `date_parse(s, f)` → `strptime(s, f)`, `date_format(t, f)` → `strftime(t, f)` (the layout
 *    job's day rewrite): the specifiers the two share (`%Y %m %d %H %S %j %y`) only.
 * Not bridged: Trino's `ROW(...)`/`ARRAY(varchar)` type syntax in CAST, the MySQL specifiers of
 * `date_parse`/`date_format` strftime reads otherwise (`%i`, `%M`, `%W`, `%c`, `%e`, …), `UNNEST … WITH ORDINALITY`, lambdas beyond DuckDB's own `x -> …` syntax, and the text
 * form of non-scalar values in results (DuckDB's, not Trino's `{a=1}`).
 */

/** A token: word, quoted identifier, string literal, number, punctuation, or space/comment. */
export interface Tok {
  k: 'w' | 'q' | 's' | 'n' | 'p' | 'sp';
  v: string;
}

/** DuckDB macros installed on the emulator's connection (items 3-8 above). */
export const DUCKDB_MACROS: readonly string[] = [
  `CREATE OR REPLACE MACRO hive_text(x) AS CASE json_type(x) WHEN 'NULL' THEN NULL WHEN 'VARCHAR' THEN x->>'$' ELSE CAST(x AS VARCHAR) END`,
  'CREATE OR REPLACE MACRO json_format(j) AS CAST(j AS VARCHAR)',
  'CREATE OR REPLACE MACRO from_iso8601_timestamp(s) AS CAST(s AS TIMESTAMPTZ)',
  'CREATE OR REPLACE MACRO element_at(a, k) AS a[k]',
  'CREATE OR REPLACE MACRO regexp_like(s, p) AS regexp_matches(s, p)',
  'CREATE OR REPLACE MACRO json_extract_scalar(j, p) AS json_extract_string(j, p)',
  'CREATE OR REPLACE MACRO cardinality(a) AS len(a)',
  'CREATE OR REPLACE MACRO approx_distinct(x) AS approx_count_distinct(x)',
  'CREATE OR REPLACE MACRO to_unixtime(t) AS epoch(t)',
  'CREATE OR REPLACE MACRO from_unixtime(n) AS to_timestamp(n)',
  'CREATE OR REPLACE MACRO date_parse(s, f) AS strptime(s, f)',
  'CREATE OR REPLACE MACRO date_format(t, f) AS strftime(t, f)',
];

/** Splits SQL into tokens; joining their `v` gives the text back. */
export function tokenize(sql: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  const n = sql.length;
  while (i < n) {
    const c = sql[i] as string;
    const rest = sql.slice(i);
    let m: RegExpExecArray | null;
    if ((m = /^(\s+|--[^\n]*|\/\*[\s\S]*?\*\/)/.exec(rest))) out.push({ k: 'sp', v: m[0] });
    else if (c === "'") {
      let j = i + 1;
      for (; j < n; j++) if (sql[j] === "'") { if (sql[j + 1] === "'") j++; else break; }
      out.push({ k: 's', v: sql.slice(i, j + 1) });
      i = j + 1;
      continue;
    } else if (c === '"') {
      let j = i + 1;
      for (; j < n; j++) if (sql[j] === '"') { if (sql[j + 1] === '"') j++; else break; }
      out.push({ k: 'q', v: sql.slice(i, j + 1) });
      i = j + 1;
      continue;
    } else if ((m = /^\d+(\.\d+)?([eE][+-]?\d+)?/.exec(rest))) out.push({ k: 'n', v: m[0] });
    else if ((m = /^[A-Za-z_][A-Za-z0-9_$]*/.exec(rest))) out.push({ k: 'w', v: m[0] });
    else if ((m = /^(<=|>=|<>|!=|\|\||->|=>)/.exec(rest))) out.push({ k: 'p', v: m[0] });
    else out.push({ k: 'p', v: c });
    i += (out[out.length - 1] as Tok).v.length;
  }
  return out;
}

/** A literal of a static condition (strings unquoted; `DATE '…'` and `TIMESTAMP '…'` as their text). */
export type Literal = string | number;

/** One top-level AND-ed conjunct of a WHERE: a static comparison of a column path, or `other`. */
export interface Condition {
  /** Lower-case identifier chain (`['t', 'useridentity', 'accesskeyid']`). */
  path: string[];
  op: '=' | 'in' | 'between' | '<' | '<=' | '>' | '>=' | 'other';
  values: Literal[];
  /** For `other`: every identifier chain the conjunct names. */
  mentions: string[][];
}

/** A table reference of the query. */
export interface TableRef {
  database?: string;
  name: string;
  alias?: string;
  /** Token range `[start, end)` of the (possibly qualified) name. */
  start: number;
  end: number;
  /** The top-level AND-ed conjuncts of the WHERE of the reference's SELECT. */
  conditions: Condition[];
}

/** What the shim read of a statement. */
export interface Analysis {
  kind: 'select' | 'insert' | 'other';
  tokens: Tok[];
  refs: TableRef[];
  /** `INSERT INTO` target and the token index where its query starts. */
  insert?: { database?: string; name: string; queryStart: number };
  /** Every identifier chain named outside function names (lower case). */
  chains: string[][];
  /** The query selects `*` or `t.*` somewhere. */
  star: boolean;
  /** Names the WITH clauses define. */
  cteNames: Set<string>;
}

const CLAUSE_END = new Set(['group', 'order', 'limit', 'having', 'union', 'except', 'intersect', 'window', 'offset', 'fetch']);
const NOT_ALIAS = new Set([
  'where', 'join', 'on', 'left', 'right', 'inner', 'outer', 'cross', 'full', 'natural', 'using', 'tablesample',
  ...CLAUSE_END,
]);

const sig = (toks: Tok[], i: number): number => {
  while (i < toks.length && (toks[i] as Tok).k === 'sp') i++;
  return i;
};
const isWord = (t: Tok | undefined, w: string): boolean => !!t && t.k === 'w' && t.v.toLowerCase() === w;
const identText = (t: Tok): string => (t.k === 'q' ? t.v.slice(1, -1).replace(/""/g, '"') : t.v).toLowerCase();
const isIdent = (t: Tok | undefined): boolean => !!t && (t.k === 'w' || t.k === 'q');

/** An identifier chain from token i: its parts and the index after it. */
function chainAt(toks: Tok[], i: number): { parts: string[]; end: number } | undefined {
  if (!isIdent(toks[i])) return undefined;
  const parts = [identText(toks[i] as Tok)];
  let end = i + 1;
  for (;;) {
    const d = sig(toks, end);
    if (toks[d]?.v !== '.') break;
    const nx = sig(toks, d + 1);
    if (!isIdent(toks[nx])) break;
    parts.push(identText(toks[nx] as Tok));
    end = nx + 1;
  }
  return { parts, end };
}

/** Depth of each token and whether the parenthesis enclosing it opens a query (`(SELECT …`). */
function depths(toks: Tok[]): { depth: number[]; query: boolean[] } {
  const depth: number[] = [];
  const query: boolean[] = [];
  const stack: boolean[] = [true];
  toks.forEach((t, i) => {
    if (t.v === ')') stack.pop();
    depth.push(stack.length);
    query.push(stack[stack.length - 1] ?? false);
    if (t.v === '(') {
      const nx = toks[sig(toks, i + 1)];
      stack.push(isWord(nx, 'select') || isWord(nx, 'with'));
    }
  });
  return { depth, query };
}

function literalAt(toks: Tok[], i: number): { value: Literal; end: number } | undefined {
  const t = toks[i];
  if (!t) return undefined;
  if (t.k === 's') return { value: t.v.slice(1, -1).replace(/''/g, "'"), end: i + 1 };
  if (t.k === 'n') return { value: Number(t.v), end: i + 1 };
  if (t.v === '-' && toks[sig(toks, i + 1)]?.k === 'n') {
    const j = sig(toks, i + 1);
    return { value: -Number((toks[j] as Tok).v), end: j + 1 };
  }
  if (isWord(t, 'date') || isWord(t, 'timestamp')) {
    const j = sig(toks, i + 1);
    if (toks[j]?.k === 's') return { value: (toks[j] as Tok).v.slice(1, -1), end: j + 1 };
  }
  return undefined;
}

/** Chains named in a token range (not function names, not keywords followed by a literal). */
function chainsIn(toks: Tok[], from: number, to: number): string[][] {
  const out: string[][] = [];
  for (let i = from; i < to; i++) {
    const c = chainAt(toks, i);
    if (!c) continue;
    const after = toks[sig(toks, c.end)];
    const before = toks[i - 1];
    if (after?.v === '(' || before?.v === '.') { i = c.end - 1; continue; }
    out.push(c.parts);
    i = c.end - 1;
  }
  return out;
}

/** Parses one conjunct (significant token indices `[from, to)`). */
function parseConjunct(toks: Tok[], from: number, to: number): Condition {
  const idx: number[] = [];
  for (let i = from; i < to; i++) if ((toks[i] as Tok).k !== 'sp') idx.push(i);
  // Strip parentheses that wrap the whole conjunct.
  while (idx.length >= 2 && toks[idx[0] as number]?.v === '(' && toks[idx[idx.length - 1] as number]?.v === ')') {
    let d = 0;
    let wraps = true;
    for (let k = 0; k < idx.length; k++) {
      const v = (toks[idx[k] as number] as Tok).v;
      if (v === '(') d++;
      else if (v === ')') d--;
      if (d === 0 && k < idx.length - 1) { wraps = false; break; }
    }
    if (!wraps) break;
    idx.shift();
    idx.pop();
  }
  const other: Condition = { path: [], op: 'other', values: [], mentions: chainsIn(toks, from, to) };
  if (!idx.length) return other;
  const start = idx[0] as number;
  const end = (idx[idx.length - 1] as number) + 1;
  const flip: Record<string, Condition['op']> = { '<': '>', '<=': '>=', '>': '<', '>=': '<=', '=': '=' };
  const ops = ['=', '<', '<=', '>', '>='];
  const col = chainAt(toks, start);
  if (col && !literalAt(toks, start)) {
    let j = sig(toks, col.end);
    const t = toks[j];
    if (t && ops.includes(t.v)) {
      const lit = literalAt(toks, sig(toks, j + 1));
      if (lit && sig(toks, lit.end) >= end) return { path: col.parts, op: t.v as Condition['op'], values: [lit.value], mentions: [] };
    } else if (isWord(t, 'in')) {
      j = sig(toks, j + 1);
      if (toks[j]?.v !== '(') return other;
      const values: Literal[] = [];
      for (j = sig(toks, j + 1); ; j = sig(toks, j + 1)) {
        const lit = literalAt(toks, j);
        if (!lit) return other;
        values.push(lit.value);
        j = sig(toks, lit.end);
        if (toks[j]?.v === ')') break;
        if (toks[j]?.v !== ',') return other;
      }
      if (sig(toks, j + 1) >= end) return { path: col.parts, op: 'in', values, mentions: [] };
    } else if (isWord(t, 'between')) {
      const lo = literalAt(toks, sig(toks, j + 1));
      if (!lo) return other;
      const and = sig(toks, lo.end);
      if (!isWord(toks[and], 'and')) return other;
      const hi = literalAt(toks, sig(toks, and + 1));
      if (hi && sig(toks, hi.end) >= end) return { path: col.parts, op: 'between', values: [lo.value, hi.value], mentions: [] };
    }
    return other;
  }
  const lit = literalAt(toks, start);
  if (lit) {
    const j = sig(toks, lit.end);
    const t = toks[j];
    const c = t && ops.includes(t.v) ? chainAt(toks, sig(toks, j + 1)) : undefined;
    if (t && c && sig(toks, c.end) >= end) return { path: c.parts, op: flip[t.v] as Condition['op'], values: [lit.value], mentions: [] };
  }
  return other;
}

/** The top-level AND-ed conjuncts of the WHERE that follows token `from` at depth `d`. */
function whereConjuncts(toks: Tok[], dep: number[], from: number, d: number): Condition[] {
  let w = -1;
  for (let i = from; i < toks.length; i++) {
    if ((dep[i] as number) < d) return [];
    if (dep[i] !== d) continue;
    const t = toks[i] as Tok;
    if (t.k === 'w' && CLAUSE_END.has(t.v.toLowerCase())) return [];
    if (isWord(t, 'where')) { w = i; break; }
  }
  if (w < 0) return [];
  const out: Condition[] = [];
  let start = w + 1;
  let between = false;
  let i = w + 1;
  for (; i < toks.length; i++) {
    if ((dep[i] as number) < d) break;
    if (dep[i] !== d) continue;
    const t = toks[i] as Tok;
    if (t.k !== 'w') continue;
    const v = t.v.toLowerCase();
    if (CLAUSE_END.has(v)) break;
    if (v === 'between') between = true;
    else if (v === 'and') {
      if (between) { between = false; continue; }
      out.push(parseConjunct(toks, start, i));
      start = i + 1;
    }
  }
  out.push(parseConjunct(toks, start, i));
  return out;
}

/** Reads a statement: its kind, table references with their WHERE conjuncts, the chains it names. */
export function analyse(sql: string): Analysis {
  const toks = tokenize(sql.replace(/;\s*$/, ''));
  const { depth, query } = depths(toks);
  const first = sig(toks, 0);
  const head = toks[first]?.v.toLowerCase();
  const kind: Analysis['kind'] = head === 'select' || head === 'with' || head === '(' ? 'select' : head === 'insert' ? 'insert' : 'other';
  const refs: TableRef[] = [];
  const cteNames = new Set<string>();
  let insert: Analysis['insert'];
  let skipTo = 0;
  if (kind === 'insert') {
    const into = sig(toks, first + 1);
    const c = isWord(toks[into], 'into') ? chainAt(toks, sig(toks, into + 1)) : undefined;
    if (c) {
      let q = sig(toks, c.end);
      if (toks[q]?.v === '(') { while (q < toks.length && toks[q]?.v !== ')') q++; q = sig(toks, q + 1); }
      insert = { ...(c.parts.length > 1 ? { database: c.parts[c.parts.length - 2] } : {}), name: c.parts[c.parts.length - 1] as string, queryStart: q };
      skipTo = q;
    }
  }
  for (let i = skipTo; i < toks.length; i++) {
    const t = toks[i] as Tok;
    // `name AS (SELECT …` defines a CTE.
    if (isIdent(t) && isWord(toks[sig(toks, i + 1)], 'as')) {
      const p = sig(toks, sig(toks, i + 1) + 1);
      if (toks[p]?.v === '(' && query[p + 1]) cteNames.add(identText(t));
    }
    if (!(isWord(t, 'from') || isWord(t, 'join')) || !query[i]) continue;
    if (isWord(t, 'from') && isWord(toks[i - 2], 'distinct')) continue;
    let j = sig(toks, i + 1);
    for (;;) {
      const c = chainAt(toks, j);
      if (!c || toks[sig(toks, c.end)]?.v === '(' || c.parts.length > 3) break;
      let k = sig(toks, c.end);
      let alias: string | undefined;
      if (isWord(toks[k], 'as')) k = sig(toks, k + 1);
      const a = toks[k];
      if (a && isIdent(a) && !(a.k === 'w' && NOT_ALIAS.has(a.v.toLowerCase()))) { alias = identText(a); k = sig(toks, k + 1); }
      const parts = c.parts;
      refs.push({
        ...(parts.length > 1 ? { database: parts[parts.length - 2] } : {}),
        name: parts[parts.length - 1] as string,
        ...(alias ? { alias } : {}),
        start: j, end: c.end,
        conditions: whereConjuncts(toks, depth, c.end, depth[i] as number),
      });
      if (toks[k]?.v !== ',' || !isWord(t, 'from')) break;
      j = sig(toks, k + 1);
    }
  }
  let star = false;
  toks.forEach((t, i) => {
    if (t.v !== '*') return;
    const prev = toks[lastSig(toks, i)];
    const next = toks[sig(toks, i + 1)];
    if (prev && (isWord(prev, 'select') || prev.v === '.' || prev.v === ',' || isWord(prev, 'distinct')) && next?.v !== ')') star = true;
  });
  return { kind, tokens: toks, refs, ...(insert ? { insert } : {}), chains: chainsIn(toks, 0, toks.length), star, cteNames };
}

function lastSig(toks: Tok[], i: number): number {
  let j = i - 1;
  while (j > 0 && (toks[j] as Tok).k === 'sp') j--;
  return j;
}

/**
 * The DuckDB text of the query from token `from` (the SELECT of an INSERT), each table
 * reference replaced by `(subquery) AS alias` as `subquery(ref)` gives it (undefined: left as is).
 */
export function rewrite(a: Analysis, subquery: (ref: TableRef) => string | undefined, from = 0): string {
  let out = '';
  const byStart = new Map(a.refs.map((r) => [r.start, r]));
  for (let i = from; i < a.tokens.length; i++) {
    const ref = byStart.get(i);
    const sub = ref ? subquery(ref) : undefined;
    if (ref && sub !== undefined) {
      out += `(${sub})${ref.alias ? '' : ` AS "${ref.name.replace(/"/g, '""')}"`}`;
      i = ref.end - 1;
      continue;
    }
    out += (a.tokens[i] as Tok).v;
  }
  return out;
}
