/**
 * The lineage's edges: what each CloudTrail record acts with (its "used" node) and what it
 * gives, creates or takes control of (its "minted" nodes), read through the table of edge kinds
 * in `data/lineage-edges.json` (storyline contract, "Rules of evidence": issuing, creating,
 * controlling compute, delivering, acting for). A new kind of edge is a row in that table; the
 * walk (`walk.ts`) only knows node types, time windows and whether a mint is held or taken.
 *
 * Node ids: `key:<accessKeyId>`, `session:<arn>|<creationDate>` (a console session's keys),
 * `password:<account>:<user>`, `signin:<federated arn>`, `principal:user:<account>:<user>`,
 * `trust:<account>:<role>:<trusted account>`, `grant:<kind>:<…>`, `compute:<id>`,
 * `delivery:<id>`, `access:<id>` (an instance id, function name or ECS task id), and
 * `identity:<principal key>` for SAML, web-identity and Identity Center callers.
 *
 * Pure: no I/O. Record shapes follow the CloudTrail references cited per row of the table.
 */
import edgeTable from '../../data/lineage-edges.json';
import { networkOf } from '../identity/ip';
import { memoize } from '../model/memo';
import { computeId, INSTANCE_ID } from '../identity/principal';
import type { TrailEvent } from '../trail/event';

/** The five kinds of edge of the contract. */
export type EdgeKindName = 'issuing' | 'creating' | 'control' | 'delivery' | 'acting-for';

/** Node types (the prefix of a node id). */
export type NodeType = 'key' | 'session' | 'password' | 'signin' | 'principal' | 'trust' | 'grant' | 'compute' | 'delivery' | 'access' | 'identity';

/** How a record's field becomes part of a node id. */
type Transform = 'instance' | 'session-target' | 'task' | 'function' | 'role' | 'name' | 'trusted-accounts' | 'user';

/** One node a row reads from a record: its type and the field paths of its id's parts. */
export interface NodeSpec {
  node: NodeType;
  /** Grant kind (`idc-role`, `stack-role`): part of the node id. */
  grant?: string;
  /** The id's parts, each a list of alternative field paths. */
  key: string[][];
  /** A transform per part (null: the value as is). */
  as?: (Transform | null)[];
  /** Seconds after the mint during which a record can consume it. */
  window?: number;
  /** Session: seconds between the sign-in and the creationDate of the session it starts. */
  near?: number;
  /** `next`: the mint ends at the next mint of the same node. */
  until?: 'next';
  /** `taken`: later uses are judged by usual sources; default held (all the attacker's). */
  hold?: 'taken';
  /** For compute: field paths of the role the compute runs with (its sessions must be of it). */
  role?: string[];
}

/** One row of `data/lineage-edges.json`. */
export interface EdgeRow {
  id: string;
  kind: EdgeKindName;
  eventSource?: string;
  eventNames: string[];
  /** `userIdentity.type` values the row is limited to. */
  identityTypes?: string[];
  /** The acting service: `userIdentity.invokedBy`, else the source address (`AWS Internal`). */
  service?: string;
  /** Field path → value the record must have. */
  requires?: Record<string, string>;
  uses?: NodeSpec;
  mints?: NodeSpec[];
  doc: string;
}

interface EdgeTable {
  edges: EdgeRow[];
  actingFor: { windowSeconds: number; serviceWindowSeconds: number };
}

/** The table as shipped. */
export const EDGE_TABLE: EdgeTable = edgeTable as unknown as EdgeTable;

/** `UpdateFunctionCode20150331v2` → `UpdateFunctionCode`: API-version suffixes are ignored. */
export const baseEventName: (name: string) => string = memoize((name) => name.replace(/20\d{6}(v\d+)?$/, ''));

/** Event names (without version suffix) of every row: the reader always parses these records. */
export const EDGE_EVENT_NAMES: ReadonlySet<string> = new Set(EDGE_TABLE.edges.flatMap((r) => r.eventNames));

const rowsByName = new Map<string, EdgeRow[]>();
for (const row of EDGE_TABLE.edges) {
  for (const n of row.eventNames) {
    const l = rowsByName.get(n);
    if (l) l.push(row);
    else rowsByName.set(n, [row]);
  }
}

/** How soon after a grant of a role's credentials a new key of that role is taken to be the one granted, where no creationDate says so (ms). */
const NEW_KEY_MS = 15 * 60 * 1000;

/** Seconds within which a service's call is tied to the session's call that caused it. */
export const ACTING_FOR_MS = EDGE_TABLE.actingFor.windowSeconds * 1000;
/** How long before a service's call a call to that very service (a CreateStack) can have caused it (ms). */
export const ACTING_SERVICE_MS = EDGE_TABLE.actingFor.serviceWindowSeconds * 1000;

// ---------------------------------------------------------------------------
// Reading fields

function objectOf(v: unknown): Record<string, unknown> | null {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
}

/** The record as the table's paths see it (raw section names, identity fields as normalised). */
function rootOf(ev: TrailEvent): Record<string, unknown> {
  return {
    requestParameters: ev.requestParameters,
    responseElements: ev.responseElements,
    serviceEventDetails: ev.serviceEventDetails,
    additionalEventData: ev.additionalEventData,
    recipientAccountId: ev.accountId,
    userIdentity: {
      arn: ev.identity.arn,
      accountId: ev.identity.accountId,
      userName: ev.identity.userName,
      accessKeyId: ev.identity.accessKeyId,
      type: ev.identity.type,
    },
  };
}

/**
 * Values at a path: `a.b.c`; `a[].b` steps into every element of an array (case-sensitive
 * keys). `$account` is the record's account, `$user` the caller's IAM user name (`root` for
 * root). Only strings are returned.
 */
export function valuesAt(ev: TrailEvent, path: string, root: Record<string, unknown> = rootOf(ev)): string[] {
  if (path === '$account') return ev.accountId ? [ev.accountId] : [];
  if (path === '$user') return ev.identity.type === 'Root' ? ['root'] : ev.identity.type === 'IAMUser' && ev.identity.userName ? [ev.identity.userName] : [];
  let cur: unknown[] = [root];
  for (const { name, flat } of segmentsOf(path)) {
    const next: unknown[] = [];
    for (const c of cur) {
      const o = objectOf(c);
      if (!o) continue;
      const v = o[name];
      if (flat) {
        if (Array.isArray(v)) next.push(...v);
      } else if (v !== undefined && v !== null) next.push(v);
    }
    cur = next;
  }
  return cur.filter((v): v is string => typeof v === 'string' && v.length > 0);
}

/** A path's segments, parsed once per path. */
const pathSegments = new Map<string, { name: string; flat: boolean }[]>();
function segmentsOf(path: string): { name: string; flat: boolean }[] {
  let segs = pathSegments.get(path);
  if (!segs) {
    segs = path.split('.').map((seg) => (seg.endsWith('[]') ? { name: seg.slice(0, -2), flat: true } : { name: seg, flat: false }));
    pathSegments.set(path, segs);
  }
  return segs;
}

export { computeId };

function arnResource(arn: string): string | null {
  if (!arn.startsWith('arn:')) return null;
  const parts = arn.split(':');
  return parts.length >= 6 ? parts.slice(5).join(':') : null;
}

/** The accounts a trust policy document lets in (`Principal.AWS` as ARNs or account ids). */
export function trustedAccounts(doc: string): string[] {
  let d: unknown;
  try {
    d = JSON.parse(doc);
  } catch {
    try {
      d = JSON.parse(decodeURIComponent(doc));
    } catch {
      return [];
    }
  }
  const out = new Set<string>();
  const statements = objectOf(d)?.Statement;
  for (const s of Array.isArray(statements) ? statements : [statements]) {
    const st = objectOf(s);
    if (!st || (typeof st.Effect === 'string' && st.Effect !== 'Allow')) continue;
    const principal = st.Principal;
    const aws = principal === '*' ? ['*'] : objectOf(principal)?.AWS;
    for (const a of Array.isArray(aws) ? aws : [aws]) {
      if (typeof a !== 'string') continue;
      const m = /^arn:aws[a-z-]*:(?:iam|sts)::(\d{12}):/.exec(a) ?? /^(\d{12})$/.exec(a);
      if (m?.[1]) out.add(m[1]);
      else if (a === '*') out.add('*');
    }
  }
  return [...out];
}

/** Applies a transform; an empty list drops the value. */
function transform(value: string, as: Transform | null | undefined): string[] {
  switch (as) {
    case undefined:
    case null:
      return [value];
    case 'instance':
      return INSTANCE_ID.test(value) ? [value.toLowerCase()] : [];
    case 'session-target': {
      // `ecs:<cluster>_<taskId>_<runtimeId>` for ECS Exec through Session Manager.
      const m = /^ecs:[^_]+_([0-9a-f]{32})_/.exec(value);
      if (m?.[1]) return [m[1]];
      return [computeId(value)];
    }
    case 'task': {
      const r = arnResource(value);
      const id = (r ?? value).split('/').pop() ?? value;
      return id ? [id] : [];
    }
    case 'function': {
      const m = /(?:^|:)function:([^:]+)/.exec(value);
      if (m?.[1]) return [m[1]];
      const name = value.split(':')[0];
      return name ? [name] : [];
    }
    case 'role': {
      const r = arnResource(value);
      const acct = value.split(':')[4];
      if (!r || !r.startsWith('role/') || !acct) return [];
      return [`${acct}:${r.split('/').pop() ?? ''}`];
    }
    case 'name': {
      const r = arnResource(value);
      return [(r ?? value).split('/').pop() ?? value];
    }
    case 'user':
      return [value];
    case 'trusted-accounts':
      return trustedAccounts(value);
  }
}

/** The values of one part of an id: those of the first of its alternative paths that has any. */
function partValues(ev: TrailEvent, alternatives: string[], root: Record<string, unknown>): string[] {
  for (const p of alternatives) {
    const values = valuesAt(ev, p, root);
    if (values.length > 0) return values;
  }
  return [];
}

/** Every id a spec reads from a record (a part with several values gives several ids). */
function idsOf(ev: TrailEvent, spec: NodeSpec, root: Record<string, unknown>): string[] {
  if (spec.key.length === 1) {
    // One part (most rows): no combinations to build.
    const out: string[] = [];
    for (const v of partValues(ev, spec.key[0] ?? [], root)) {
      for (const x of transform(v, spec.as?.[0])) {
        const id = nodeId(spec, [x]);
        if (!out.includes(id)) out.push(id);
      }
    }
    return out;
  }
  let partsList: string[][] = [[]];
  for (let i = 0; i < spec.key.length; i++) {
    const out = [...new Set(partValues(ev, spec.key[i] ?? [], root).flatMap((v) => transform(v, spec.as?.[i])))];
    if (out.length === 0) return [];
    partsList = partsList.flatMap((prefix) => out.map((v) => [...prefix, v]));
  }
  return partsList.map((parts) => nodeId(spec, parts));
}

function nodeId(spec: NodeSpec, parts: string[]): string {
  switch (spec.node) {
    case 'principal':
      return `principal:user:${parts.join(':')}`;
    case 'grant':
      return `grant:${spec.grant ?? ''}:${parts.join(':')}`;
    default:
      return `${spec.node}:${parts.join(':')}`;
  }
}

/** The node type of an id. */
export function nodeType(id: string): NodeType {
  return id.slice(0, id.indexOf(':')) as NodeType;
}

/** The principal a node stands for: an ARN as the record wrote it, or a user, root or role by account and name. */
export type NodePrincipal = { arn: string } | { account: string; user: string } | { account: string; root: true } | { account: string; role: string };

/**
 * The principal a node id stands for (see the module comment for the ids): a console session or
 * sign-in token its ARN (or, for a grant's session, its role), a password its user or root, a
 * created user that user, a trust policy or a grant its role. Null for keys, compute and
 * identities.
 */
export function principalOfNode(node: string): NodePrincipal | null {
  const type = nodeType(node);
  const rest = node.slice(type.length + 1);
  switch (type) {
    case 'session':
    case 'signin': {
      const id = rest.split('|')[0] ?? '';
      if (id.startsWith('arn:')) return { arn: id };
      const [account, role] = id.split(':');
      return account && role ? { account, role } : null;
    }
    case 'password': {
      const [account, user] = rest.split(':');
      if (!account || !user) return null;
      return user === 'root' ? { account, root: true } : { account, user };
    }
    case 'principal': {
      // principal:user:<account>:<name>
      const [, account, user] = rest.split(':');
      return account && user ? { account, user } : null;
    }
    case 'trust':
    case 'grant': {
      // trust:<account>:<role>:<trusted account>, grant:<kind>:<account>:<role>
      const [account, role] = type === 'trust' ? rest.split(':') : rest.split(':').slice(1);
      return account && role ? { account, role } : null;
    }
    default:
      return null;
  }
}

// ---------------------------------------------------------------------------
// Sources, clients, identities

/** True when the record was made by an AWS service, not from an address (a service name, `AWS Internal`, or `invokedBy`). */
export function isServiceCall(ev: TrailEvent): boolean {
  return ev.source.kind === 'service' || ev.source.kind === 'aws-internal' || ev.identity.invokedBy !== null || ev.identity.type === 'AWSService';
}

/** Whether a record only reads: its `readOnly`, else a read-only verb in its name. */
export function isReadOnly(ev: TrailEvent): boolean {
  return ev.readOnly ?? /^(Describe|Get|List|Head|Lookup|Search|BatchGet)/.test(ev.eventName);
}

/** The address of a record, normalised, or null when it holds none (a service name). */
export function ipOf(ev: TrailEvent): string | null {
  return ev.source.kind === 'ipv4' || ev.source.kind === 'ipv6' ? ev.source.value : null;
}

/**
 * The client product of a user agent, as the rules of evidence compare clients: the first
 * token's name (`aws-cli`, `boto3`, `aws-sdk-java`, …), every browser as one (`browser`).
 */
export const clientProduct: (ua: string) => string = memoize((ua) => {
  const s = ua.trim().replace(/^\[/, '');
  return /^Mozilla\//.test(s) ? 'browser' : ((s.split(/[\s(]/)[0] ?? '').split('/')[0]?.toLowerCase() ?? '');
});

/** The network an address is judged by: its /24 (IPv4) or /48 (IPv6). */
export { networkOf };

/**
 * The principal a use is judged with: the user (`user:<acct>:<name>`), root, the federated
 * user, or for a role session the role together with its session name.
 */
export function historyPrincipal(ev: TrailEvent): string | null {
  const p = ev.identity;
  if (!p.key) return null;
  if (p.type === 'AssumedRole') return `${p.key}|${p.sessionName ?? ''}`;
  return p.key;
}

// ---------------------------------------------------------------------------
// One record's edges

/** One mint: a node given by a record, from when until when it can be consumed. */
export interface Mint {
  node: string;
  row: EdgeRow;
  event: TrailEvent;
  /** Epoch ms. */
  from: number;
  /** Epoch ms; Infinity when open-ended. */
  until: number;
  taken: boolean;
  /** Compute: the role its sessions must be of (role name), when the record says. */
  role: string | null;
  /** Seconds window of the spec (for the walk's look-back), or null. */
  windowMs: number | null;
  /** The mint ends at the next mint of the same node (`until: next`; the index resolves it). */
  untilNext: boolean;
}

/** What one record acts with and gives. */
export interface RecordEdges {
  rows: EdgeRow[];
  /** The node the record acts with, or null (a service's own call, an unknown identity). */
  uses: string | null;
  mints: Mint[];
}

function rowMatches(row: EdgeRow, ev: TrailEvent, root: Record<string, unknown>): boolean {
  if (row.eventSource && row.eventSource !== ev.eventSource) return false;
  if (row.identityTypes && !row.identityTypes.includes(ev.identity.type)) return false;
  if (row.service) {
    const acting = ev.identity.invokedBy ?? ev.source.value;
    if (acting !== row.service) return false;
  }
  for (const [path, value] of Object.entries(row.requires ?? {})) if (!valuesAt(ev, path, root).includes(value)) return false;
  return true;
}

/** The node a record acts with when no row says otherwise: its key, password, sign-in or identity. */
function defaultUses(ev: TrailEvent): string | null {
  const p = ev.identity;
  // A console sign-in is made with a password (users, root) or a federation sign-in token,
  // whatever key the record shows (the session's own).
  if (ev.eventName === 'ConsoleLogin') {
    if (p.type === 'IAMUser' && p.accountId && p.userName) return `password:${p.accountId}:${p.userName}`;
    if (p.type === 'Root' && p.accountId) return `password:${p.accountId}:root`;
    if (p.type === 'FederatedUser' && p.arn) return `signin:${p.arn}`;
  }
  if (p.accessKeyId) return `key:${p.accessKeyId}`;
  if (p.type === 'AWSService') return null;
  if (p.type === 'AWSAccount') return p.accountId ? `identity:account:${p.accountId}` : null;
  return p.key ? `identity:${p.key}` : null;
}

/** Reads one record's edges through the table. Failed calls mint nothing. */
export function readEdges(ev: TrailEvent): RecordEdges {
  const candidates = rowsByName.get(baseEventName(ev.eventName));
  if (!candidates) return { rows: [], uses: defaultUses(ev), mints: [] };
  const out: RecordEdges = { rows: [], uses: null, mints: [] };
  let usesSpec: NodeSpec | undefined;
  const root = rootOf(ev);
  for (const row of candidates) {
    if (!rowMatches(row, ev, root)) continue;
    out.rows.push(row);
    if (row.uses && !usesSpec) usesSpec = row.uses;
  }
  if (usesSpec) out.uses = idsOf(ev, usesSpec, root)[0] ?? null;
  if (!out.uses) out.uses = defaultUses(ev);
  if (ev.errorCode) return out;
  const seen = new Set<string>();
  for (const row of out.rows) {
    for (const spec of row.mints ?? []) {
      for (const node of idsOf(ev, spec, root)) {
        if (seen.has(node)) continue;
        seen.add(node);
        const role = spec.role ? spec.role.map((p) => valuesAt(ev, p, root)[0]).find((v) => v !== undefined) : undefined;
        out.mints.push({
          node,
          row,
          event: ev,
          from: ev.epochMs,
          until: spec.window !== undefined ? ev.epochMs + spec.window * 1000 : Infinity,
          taken: spec.hold === 'taken',
          role: role ? (arnResource(role) ?? role).split('/').pop() ?? null : null,
          windowMs: spec.window !== undefined ? spec.window * 1000 : spec.near !== undefined ? spec.near * 1000 : null,
          untilNext: spec.until === 'next',
        });
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------------------
// The index over every record read

/** What ties the two copies of a cross-account call: `sharedEventID`, else an AssumeRole's request ID. */
function sharedKeyOf(ev: TrailEvent): string | null {
  return ev.sharedEventID ?? (ev.requestId && ev.eventName.startsWith('AssumeRole') ? `req:${ev.requestId}|${ev.eventName}` : null);
}

/** Time, then eventID. */
export function byTime(a: TrailEvent, b: TrailEvent): number {
  return a.epochMs - b.epochMs || (a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0);
}

function push<K, V>(m: Map<K, V[]>, k: K | null | undefined, v: V): void {
  if (k === null || k === undefined) return;
  const l = m.get(k);
  if (l) l.push(v);
  else m.set(k, [v]);
}

/**
 * Every record's edges, and the look-ups the walk needs: who minted a node and when, who
 * consumes it, console sessions by ARN and creationDate, the two copies of a cross-account
 * call, and the call that caused a service's call.
 */
export class EdgeIndex {
  /** Records in time order (ties by eventID), one per eventID. */
  readonly events: TrailEvent[];
  private readonly edges = new Map<string, RecordEdges>();
  private readonly minted = new Map<string, Mint[]>();
  private readonly families = new Map<string, { family: string; created: number }[]>();
  /** Uses of each role (`role:<account>:<name>`), in time order. */
  private readonly roleUses = new Map<string, TrailEvent[]>();
  /** The same families by role (`role:<account>:<name>`), for mints that know the role but not the session. */
  private readonly roleFamilies = new Map<string, { family: string; created: number }[]>();
  private readonly familyOfEvent = new Map<string, string>();
  private readonly copiesByShared = new Map<string, TrailEvent[]>();
  private readonly ownCalls = new Map<string, TrailEvent[]>();
  /** Calls from an address of each console or federation session (`session:<arn>|<creationDate>`). */
  private readonly familyCalls = new Map<string, TrailEvent[]>();
  private readonly arnCalls = new Map<string, TrailEvent[]>();
  private readonly byUses = new Map<string, TrailEvent[]>();
  private readonly bySession = new Map<string, TrailEvent[]>();

  constructor(records: TrailEvent[]) {
    const seen = new Set<string>();
    this.events = [...records].sort(byTime).filter((e) => (seen.has(e.eventId) ? false : (seen.add(e.eventId), true)));
    for (const ev of this.events) {
      const p = ev.identity;
      // Console and federation sessions: keys sharing an ARN and a creationDate are one session.
      if (p.arn && p.sessionCreationDate && (!p.accessKeyId || p.accessKeyId.startsWith('ASIA'))) {
        const created = Date.parse(p.sessionCreationDate);
        if (!Number.isNaN(created)) {
          const family = `session:${p.arn}|${new Date(created).toISOString()}`;
          this.familyOfEvent.set(ev.eventId, family);
          const list = this.families.get(p.arn) ?? [];
          if (!list.some((f) => f.family === family)) {
            list.push({ family, created });
            if (p.type === 'AssumedRole' && p.key) push(this.roleFamilies, p.key, { family, created });
          }
          this.families.set(p.arn, list);
        }
      }
      push(this.copiesByShared, sharedKeyOf(ev), ev);
      if (!isServiceCall(ev)) {
        push(this.ownCalls, p.accessKeyId, ev);
        push(this.arnCalls, p.arn, ev);
        push(this.familyCalls, this.familyOfEvent.get(ev.eventId), ev);
      }
      if (p.type === 'AssumedRole' && p.sessionName) push(this.bySession, computeId(p.sessionName), ev);
      if (p.type === 'AssumedRole' && p.key && !isServiceCall(ev)) push(this.roleUses, p.key, ev);
    }
    for (const ev of this.events) {
      const e = readEdges(ev);
      this.edges.set(ev.eventId, e);
      push(this.byUses, e.uses, ev);
      for (const m of e.mints) {
        if (m.node.startsWith('session:')) m.node = this.resolveSession(m);
        push(this.minted, m.node, m);
      }
    }
    this.resolveTrust();
    for (const list of this.minted.values()) {
      list.sort((a, b) => a.from - b.from);
      for (let i = 0; i < list.length; i++) {
        const m = list[i] as Mint;
        const next = list.slice(i + 1).find((n) => n.event.eventId !== m.event.eventId);
        if (m.untilNext && next) m.until = Math.min(m.until, next.from);
      }
    }
  }

  /**
   * A sign-in's session: the family of that ARN (or, for `session:<account>:<role>`, of any
   * session of that role) whose creationDate is closest, within the row's `near`.
   */
  private resolveSession(m: Mint): string {
    const arn = m.node.slice('session:'.length);
    const windowMs = m.windowMs ?? 300_000;
    let best: { family: string; d: number } | null = null;
    const parts = arn.split(':');
    const candidates = arn.startsWith('arn:') ? this.families.get(arn) : this.roleFamilies.get(`role:${parts[0]}:${parts[1]}`);
    const byRole = !arn.startsWith('arn:');
    for (const f of candidates ?? []) {
      // A sign-in's session starts with it; a grant's sessions start after it.
      if (byRole && f.created < m.from - 1000) continue;
      const d = Math.abs(f.created - m.from);
      if (d <= windowMs && (!best || d < best.d)) best = { family: f.family, d };
    }
    if (best) return best.family;
    if (byRole) {
      // No session of the role was created then (a trail whose creationDates are missing or
      // off): the first new key of the role used soon after, from the same address first.
      const key = this.firstNewKeyOfRole(`role:${parts[0]}:${parts[1]}`, m.event, NEW_KEY_MS);
      if (key) return `key:${key}`;
    }
    return `session:${arn}|${m.event.eventTime}`;
  }

  /** The key of a role first used within `withinMs` after `ev` and never before it, the same address as `ev` first. */
  private firstNewKeyOfRole(roleKey: string, ev: TrailEvent, withinMs: number): string | null {
    const firstUse = new Map<string, TrailEvent>();
    for (const e of this.roleUses.get(roleKey) ?? []) if (e.identity.accessKeyId && !firstUse.has(e.identity.accessKeyId)) firstUse.set(e.identity.accessKeyId, e);
    const fresh = [...firstUse.values()].filter((e) => e.epochMs >= ev.epochMs && e.epochMs - ev.epochMs <= withinMs);
    const ip = ipOf(ev);
    const same = fresh.filter((e) => ip !== null && ipOf(e) === ip);
    return (same[0] ?? fresh[0])?.identity.accessKeyId ?? null;
  }

  /**
   * A trust policy lets a principal in only when it is new: an account that assumed the role
   * before the policy was written was trusted already, so that mint is dropped.
   */
  private resolveTrust(): void {
    for (const [node, list] of this.minted) {
      if (!node.startsWith('trust:')) continue;
      const kept = list.filter((m) => !(this.byUses.get(node) ?? []).some((ev) => ev.epochMs < m.from));
      if (kept.length !== list.length) this.minted.set(node, kept);
    }
  }

  /** The record's edges (used node and mints). */
  edgesOf(ev: TrailEvent): RecordEdges {
    return this.edges.get(ev.eventId) ?? readEdges(ev);
  }

  /** Every mint of a node, in time order. */
  mintsOf(node: string): Mint[] {
    return this.minted.get(node) ?? [];
  }

  /** Records that act with a node (its `uses`). */
  usersOf(node: string): TrailEvent[] {
    return this.byUses.get(node) ?? [];
  }

  /** The console session a record belongs to (`session:<arn>|<creationDate>`), or null. */
  familyOf(ev: TrailEvent): string | null {
    return this.familyOfEvent.get(ev.eventId) ?? null;
  }

  /** The compute a role-session record runs on (its session name: instance id, function, task), or null. */
  computeOf(ev: TrailEvent): string | null {
    return ev.identity.type === 'AssumedRole' && ev.identity.sessionName ? computeId(ev.identity.sessionName) : null;
  }

  /** Records of role sessions named after a compute id. */
  sessionsOf(compute: string): TrailEvent[] {
    return this.bySession.get(compute) ?? [];
  }

  /** The other copies of a cross-account call (same `sharedEventID`, or same request ID). */
  copiesOf(ev: TrailEvent): TrailEvent[] {
    const shared = sharedKeyOf(ev);
    const all = shared ? this.copiesByShared.get(shared) : undefined;
    return all && all.length > 1 ? all.filter((o) => o !== ev) : [];
  }

  /**
   * The session's own call that caused a service's call (acting for). With the session's own
   * key: the latest call to the acting service itself within {@link ACTING_FOR_MS} (a write
   * first), else its latest write to it within {@link ACTING_SERVICE_MS} (a CreateStack for
   * CloudFormation's calls minutes later), else the latest call within {@link ACTING_FOR_MS}.
   * A forward-access call carries a key of its own: the latest call of the session whose
   * creationDate it carries, else the latest call by the same principal ARN within
   * {@link ACTING_FOR_MS}, one to the acting service first. Null when none.
   */
  causeOf(ev: TrailEvent): TrailEvent | null {
    const service = ev.identity.invokedBy ?? (ev.source.kind === 'service' ? ev.source.value : null);
    const before = (list: TrailEvent[] | undefined, ms: number) => (list ?? []).filter((o) => o !== ev && o.epochMs <= ev.epochMs && ev.epochMs - o.epochMs <= ms);
    const toService = (list: TrailEvent[]) => list.filter((o) => service !== null && o.eventSource === service);
    const writes = (list: TrailEvent[]) => list.filter((o) => !isReadOnly(o));
    const pick = (list: TrailEvent[] | undefined, serviceMs: number): TrailEvent | null => {
      const recent = before(list, ACTING_FOR_MS);
      return writes(toService(recent)).pop() ?? toService(recent).pop() ?? writes(toService(before(list, serviceMs))).pop() ?? recent.pop() ?? null;
    };
    const k = ev.identity.accessKeyId;
    const own = k ? this.ownCalls.get(k) : undefined;
    if (own && own.length > 0) return pick(own, ACTING_SERVICE_MS);
    // A forward-access session carries the creationDate of the session it acts for: where that
    // session's own calls are in the records, the cause is among them.
    const family = this.familyOf(ev);
    const session = family ? this.familyCalls.get(family) : undefined;
    if (session && session.length > 0) return session.filter((o) => o.epochMs <= ev.epochMs).pop() ?? null;
    return pick(ev.identity.arn ? this.arnCalls.get(ev.identity.arn) : undefined, ACTING_FOR_MS);
  }
}
