/**
 * Which CloudTrail records can take part in a finding's storyline, before the storyline is
 * built: the tokens that select records (access keys, principals, role session names,
 * eventIDs, event names), the selector that applies them to a record's light view, and the
 * lineage closure over the issuing, creating and control records (the edge table of
 * `data/edge-table.json`) that turns the finding's own tokens into those of every credential
 * and principal joined to it.
 *
 * Shared by the local reader (`collect.ts`, in the main thread and in each worker thread) and
 * by the `LookupEvents` source (`sources/cloudtrail-lookup.ts`). Pure.
 */
import type { NormalizedFinding } from '../model/finding';
import { principalKeyFromArn, sessionComputeId } from '../identity/principal';
import type { TrailEvent } from '../trail/event';
import type { RecordSelector, RecordSummary } from '../trail/read';
import type { LightView } from '../trail/scan';
import { memoize } from '../model/memo';
import { baseEventName, computeId, EDGE_EVENT_NAMES, EdgeIndex, nodeType, principalOfNode, readEdges } from './edges';
import { findingPrincipal } from './reconstruct';
import { seedOf } from './seed';

/** The tokens that select records: access keys, principal keys, session names, eventIDs, event names. */
export interface Tokens {
  keys: Set<string>;
  principals: Set<string>;
  sessionNames: Set<string>;
  eventIds: Set<string>;
  /** Event names whose records are all read (the finding's API, when it names no key). */
  eventNames: Set<string>;
}

export function emptyTokens(): Tokens {
  return { keys: new Set(), principals: new Set(), sessionNames: new Set(), eventIds: new Set(), eventNames: new Set() };
}

/** The finding's own tokens. */
export function seedTokens(f: NormalizedFinding): Tokens {
  const t = emptyTokens();
  if (f.actor.accessKeyId) t.keys.add(f.actor.accessKeyId);
  const p = findingPrincipal(f);
  if (p) t.principals.add(p);
  for (const c of [...(f.instanceId ? [f.instanceId] : []), ...(f.computeIds ?? [])]) t.sessionNames.add(computeId(c));
  for (const k of f.attackSequence?.accessKeyIds ?? []) t.keys.add(k);
  for (const a of [...(f.attackSequence?.actorArns ?? []), ...(f.principalArns ?? [])]) {
    const pk = principalKeyFromArn(a);
    if (pk) t.principals.add(pk);
  }
  for (const id of f.attackSequence?.eventIds ?? []) t.eventIds.add(id);
  if (!f.actor.accessKeyId && f.api && (f.actionType === undefined || f.actionType === 'AWS_API_CALL')) t.eventNames.add(f.api);
  return t;
}

/**
 * IAM Identity Center portal calls: their identity (`IdentityCenterUser`) has no ARN or key to
 * select them by, and they are rare, so they are always read.
 */
export const PORTAL_EVENT_NAMES: ReadonlySet<string> = new Set(['ListAccounts', 'ListAccountRoles', 'GetRoleCredentials', 'CreateToken', 'Logout', 'Federate', 'Authenticate', 'GetRoleCredentialsWithToken']);

/** Whether every record of an event name is read (edge and portal events); names repeat, so it is cached. */
const isAlwaysRead = memoize((name) => EDGE_EVENT_NAMES.has(baseEventName(name)) || PORTAL_EVENT_NAMES.has(name));

/**
 * What a read selects, as plain data (it crosses to worker threads): the records of the
 * tokens whole, and with `edges` every issuing, creating, control and portal record as its
 * {@link ClosureRow}.
 */
export interface SelectSpec {
  keys: string[];
  principals: string[];
  sessionNames: string[];
  eventIds: string[];
  eventNames: string[];
  edges: boolean;
}

/** The {@link SelectSpec} of some tokens. */
export function selectSpec(t: Tokens, edges: boolean): SelectSpec {
  return { keys: [...t.keys], principals: [...t.principals], sessionNames: [...t.sessionNames], eventIds: [...t.eventIds], eventNames: [...t.eventNames], edges };
}

/**
 * The record selector of a {@link SelectSpec}, on a record's light view: `true` (whole) for a
 * record of the tokens, `'summary'` for any other edge or portal record when `edges` is set.
 */
export function selectorOf(spec: SelectSpec): RecordSelector {
  const keys = new Set(spec.keys);
  const principals = new Set(spec.principals);
  const sessionNames = new Set(spec.sessionNames);
  const eventIds = new Set(spec.eventIds);
  const eventNames = new Set(spec.eventNames);
  return {
    withEventId: eventIds.size > 0,
    select(v: LightView): boolean | 'summary' {
      if (v.eventName && eventNames.size > 0 && eventNames.has(v.eventName)) return true;
      if (v.accessKeyId && keys.has(v.accessKeyId)) return true;
      if (v.arn) {
        const pk = v.principalKey !== undefined ? v.principalKey : principalKeyFromArn(v.arn);
        if (pk && principals.has(pk)) return true;
        if (sessionNames.size > 0) {
          const s = v.sessionName !== undefined ? v.sessionName : sessionComputeId(v.arn);
          if (s && sessionNames.has(s)) return true;
        }
      }
      if (v.eventId !== null && eventIds.size > 0 && eventIds.has(v.eventId)) return true;
      return spec.edges && v.eventName !== null && isAlwaysRead(v.eventName) ? 'summary' : false;
    },
  };
}

/**
 * What the lineage closure needs of one record (about 0.25 KB once its repeated strings are
 * shared, against 1.5 KB for the record): the nodes it acts with and mints, and the caller
 * fields that select it.
 */
export interface ClosureRow extends RecordSummary {
  eventId: string;
  eventName: string;
  /**
   * The nodes the record joins besides those of its key and compute ({@link rowNodes} adds
   * them): what it mints, what it uses, its console session.
   */
  nodes: string[];
  /** The caller: ARN, principal key, access key, role session name as a compute id (role sessions only). */
  arn: string | null;
  key: string | null;
  accessKeyId: string | null;
  sessionName: string | null;
  /** The node the record acts with (its edge table `uses`). */
  uses: string | null;
}

const computeNodes = (c: string) => [`compute:${c}`, `delivery:${c}`, `access:${c}`];

/** The {@link ClosureRow} of a record: its edges read through the edge table. */
export function closureRowOf(ev: TrailEvent): ClosureRow {
  const e = readEdges(ev);
  // Console sessions at the level of their ARN (or role), a superset of the walk's exact sessions.
  const nodes = e.mints.map((m) => (m.node.startsWith('session:') ? (m.node.split('|')[0] ?? m.node) : m.node));
  if (e.uses) nodes.push(e.uses);
  const p = ev.identity;
  if (p.arn && p.sessionCreationDate) {
    nodes.push(`session:${p.arn}`);
    if (p.type === 'AssumedRole' && p.key) nodes.push(`session:${p.key.slice('role:'.length)}`);
  }
  const sessionName = p.type === 'AssumedRole' && p.sessionName ? computeId(p.sessionName) : null;
  return {
    eventId: ev.eventId,
    eventName: ev.eventName,
    nodes: nodes.filter((n) => n !== `key:${p.accessKeyId}`),
    arn: p.arn,
    key: p.key,
    accessKeyId: p.accessKeyId,
    sessionName,
    uses: e.uses,
  };
}

/** Every node a row joins: its own, its key's and its compute's. */
function rowNodes(r: ClosureRow): string[] {
  const out = [...r.nodes];
  if (r.accessKeyId) out.push(`key:${r.accessKeyId}`);
  if (r.sessionName) out.push(...computeNodes(r.sessionName));
  return out;
}

/**
 * One string object for each value met often: a row's names, ARNs and principal keys repeat
 * across millions of records, its minted keys and event IDs mostly do not. The pool is a
 * {@link memoize} of the identity: the first string met for a value is the one handed out,
 * and values not met again age out, so memory stays bounded whatever the trail holds.
 */
export type StringPool = (value: string) => string;

/** A {@link StringPool} remembering at most `max` values. */
export function stringPool(max = 50_000): StringPool {
  return memoize((v) => v, max);
}

/**
 * Shares the strings a row repeats with other rows (callers, event names, sessions, nodes), so
 * that 170,000 rows of a 10-million-record trail hold each ARN once. Returns the row itself.
 * @param pool the strings seen so far (one per read)
 */
export function shareRowStrings(r: ClosureRow, pool: StringPool): ClosureRow {
  const share = <T extends string | null>(v: T): T => (v === null ? v : (pool(v) as T));
  // A new row of one shape, its fields in the object itself and its nodes in an array of their
  // number: a row copied from another thread carries its fields in a separate store, about
  // 0.1 KB more for each of the hundreds of thousands of rows a large read keeps.
  const nodes = new Array<string>(r.nodes.length);
  for (let i = 0; i < nodes.length; i++) nodes[i] = share(r.nodes[i] as string);
  return {
    eventId: r.eventId,
    eventName: share(r.eventName),
    nodes,
    arn: share(r.arn),
    key: share(r.key),
    accessKeyId: share(r.accessKeyId),
    sessionName: share(r.sessionName),
    uses: share(r.uses),
  };
}

/** The principal key whose records select a node's consumers, or null. */
function principalKeyOfNode(node: string): string | null {
  if (nodeType(node) === 'identity') return node.slice('identity:'.length);
  const p = principalOfNode(node);
  if (!p) return null;
  if ('arn' in p) return principalKeyFromArn(p.arn);
  if ('root' in p) return `root:${p.account}`;
  return 'user' in p ? `user:${p.account}:${p.user}` : `role:${p.account}:${p.role}`;
}

/**
 * The lineage closure over the records read so far: every node joined to the seed by a record
 * that uses or mints it (edges of every kind, in both directions, at any time: a superset of
 * what the walk can reach), turned into the tokens that select the records those nodes need:
 * the keys, the principals (for their histories, console sessions and forward-access calls) and
 * the compute's session names.
 */
export function closeTokens(t: Tokens, events: TrailEvent[], finding?: NormalizedFinding): Tokens {
  return lineageClosure(t, events.map(closureRowOf), finding, events).tokens;
}

/**
 * {@link closeTokens} over the rows of the records read, and the eventIDs of the records the
 * closure reached.
 * @param rows one per record read (whole or summarised), eventIDs unique
 * @param whole the records read whole, which hold the finding's anchors (its events in its
 *   window): the finding's seed is taken over them and the rows
 */
export function lineageClosure(t: Tokens, rows: readonly ClosureRow[], finding?: NormalizedFinding, whole: TrailEvent[] = []): { tokens: Tokens; reached: Set<string> } {
  const out: Tokens = { keys: new Set(t.keys), principals: new Set(t.principals), sessionNames: new Set(t.sessionNames), eventIds: new Set(t.eventIds), eventNames: new Set(t.eventNames) };
  const byNode = new Map<string, number[]>();
  const link = (node: string, i: number) => {
    const l = byNode.get(node);
    if (l) l.push(i);
    else byNode.set(node, [i]);
  };
  rows.forEach((r, i) => {
    for (const n of rowNodes(r)) link(n, i);
    // A created user's node reaches every record of that user (but a record does not reach its principal).
    if (r.key) link(`principal:user:${r.key.slice(r.key.indexOf(':') + 1)}`, i);
    if (out.eventIds.has(r.eventId)) link('$named', i);
  });
  const seen = new Set<string>();
  const queue: string[] = ['$named'];
  const enqueue = (n: string) => {
    if (seen.has(n)) return;
    seen.add(n);
    queue.push(n);
    const type = nodeType(n);
    if (type === 'compute' || type === 'delivery' || type === 'access') for (const x of computeNodes(n.slice(type.length + 1))) enqueue(x);
  };
  for (const k of t.keys) enqueue(`key:${k}`);
  for (const c of t.sessionNames) enqueue(`access:${c}`);
  // The finding's other seeds (its compute, the principals it names, the events its API and
  // window name) need the records' index; a finding whose key is in the records needs no more.
  const keyPresent = !!finding?.actor.accessKeyId && byNode.has(`key:${finding.actor.accessKeyId}`);
  if (finding && (!keyPresent || finding.attackSequence || finding.principalArns)) {
    const wholeIds = new Set(whole.map((ev) => ev.eventId));
    for (const n of seedOf(finding, new EdgeIndex(whole), rows.filter((r) => !wholeIds.has(r.eventId))).taken) enqueue(n);
  }
  const visited = new Set<number>();
  while (queue.length > 0) {
    const n = queue.pop() as string;
    for (const i of byNode.get(n) ?? []) {
      if (visited.has(i)) continue;
      visited.add(i);
      const row = rows[i] as ClosureRow;
      for (const m of rowNodes(row)) enqueue(m);
      if (row.key) out.principals.add(row.key);
    }
  }
  for (const n of seen) {
    const type = nodeType(n);
    const rest = n.slice(type.length + 1);
    if (type === 'key') out.keys.add(rest);
    else if (type === 'compute' || type === 'delivery' || type === 'access') out.sessionNames.add(rest);
    const pk = principalKeyOfNode(n);
    if (pk) out.principals.add(pk);
  }
  const reached = new Set<string>();
  for (const i of visited) {
    const id = rows[i]?.eventId;
    if (id) reached.add(id);
  }
  return { tokens: out, reached };
}

/** Whether a record (by its row) is selected by the tokens: its key, principal, role session name, eventID or event name. */
export function selectedBy(r: ClosureRow, t: Tokens): boolean {
  return (
    (r.accessKeyId !== null && t.keys.has(r.accessKeyId)) ||
    (r.key !== null && t.principals.has(r.key)) ||
    (r.sessionName !== null && t.sessionNames.has(r.sessionName)) ||
    t.eventIds.has(r.eventId) ||
    t.eventNames.has(r.eventName)
  );
}
