/**
 * The storyline as a graph for people, before any layout: identities (lineage principals and
 * the other ends of lineage edges), the steps of each identity grouped into tactic phases with
 * repeated calls folded, the lineage edges, where the origin enters and where the finding sits.
 * Shared by the SVG flow diagram and the HTML report; pure, no I/O.
 */
import type { Grant, LineageEdge, Step, Storyline, Tactic } from '../model/storyline';

/** At most this many phases per identity before its steps are grouped by tactic alone. */
export const MAX_PHASES_PER_IDENTITY = 12;
/** At most this many rows in one phase before the rest are summarised in one row. */
export const MAX_ROWS_PER_PHASE = 7;
/** A Discovery phase of at least this many calls is shown as a burst. */
export const BURST_CALLS = 10;

export interface IdentityInfo {
  /** The lineage key: a principal ARN, or `service:…`, `role:…`, `account:…`, `saml:…`, `idc:…`. */
  key: string;
  /** What it is, in words: `IAM user`, `role session`, `AWS service`, … */
  kind: string;
  /** Its name for people: `ci-deployer`, `DevOpsRole / jordan.dev`. */
  name: string;
  /** The account it lives in, when known. */
  account: string | null;
  /** More about it, in words (the role or profile an instance or function runs as). */
  detail?: string;
}

export interface IdentityNode extends IdentityInfo {
  /** In the storyline's lineage. */
  inLineage: boolean;
  /** Made an attacker step or was issued by an attacker edge. */
  attacker: boolean;
  /** Access keys it used in the steps or was given by a step, in order. */
  keys: { id: string; note: string }[];
  /** Lineage edges from itself to itself (a console session of the same user), folded. */
  selfEdges: { via: string; count: number; attacker: boolean; first: string; last: string }[];
}

/** One row of a phase: one call, or identical calls folded, or a summary of the rest. */
export interface StepRow {
  eventName: string;
  eventSource: string;
  steps: Step[];
  /** Calls that failed (errorCode set). */
  failed: number;
  /** Error codes seen. */
  errors: string[];
  /** Regions of the calls. */
  regions: string[];
  grants: Grant[];
  /** Holds the origin step. */
  origin: boolean;
  /** Cross-account copies among `steps` (the same call as logged in the callee's account). */
  copies: number;
  /** A summary row: `names` lists the folded APIs with their counts. */
  summary?: { names: [string, number][] };
}

export interface Phase {
  /** `p0`, `p1`, … in story order. */
  id: string;
  /** The identity key that made the calls. */
  owner: string;
  tactic: Tactic | null;
  steps: Step[];
  rows: StepRow[];
  /** A long Discovery run (or any run with more APIs than rows), summarised. */
  burst: boolean;
  /** The identity's steps alternated too often to chain: this phase holds all its calls of one tactic. */
  grouped: boolean;
  from: string;
  to: string;
}

/**
 * A link the data implies without an edge: a service issued a session named after an instance
 * or function the attacker made (EC2 delivering a launched instance's role, Lambda running a
 * created function), drawn from that instance or function to the service.
 */
export interface ContextLink {
  from: string;
  to: string;
  label: string;
}

/** Lineage edges between two different identities, folded by (from, to, via, byAttacker). */
export interface LineageLink {
  from: string;
  to: string;
  via: string;
  byAttacker: boolean;
  edges: LineageEdge[];
  /** The phase holding the evidence event, when it is a step. */
  phase: string | null;
}

export interface StoryGraph {
  identities: IdentityNode[];
  phases: Phase[];
  /** Phases of each identity in order. */
  phasesOf: Map<string, Phase[]>;
  links: LineageLink[];
  contextLinks: ContextLink[];
  /** The identity key of each step, by eventId. */
  ownerOf: Map<string, string>;
  /** The phase of each step, by eventId. */
  phaseOf: Map<string, string>;
  /** The identity the origin step belongs to. */
  originOwner: string | null;
  /** Phases holding the calls the finding is about (its first/last seen window). */
  findingPhases: string[];
  /** Accounts in order of first appearance. */
  accounts: string[];
}

/** What an identity key is, for people. */
export function describeIdentity(key: string): IdentityInfo {
  const arn = /^arn:([^:]*):([^:]*):([^:]*):([^:]*):(.*)$/s.exec(key);
  if (arn) {
    const account = arn[4] || null;
    const res = arn[5] ?? '';
    const slash = res.indexOf('/');
    const type = slash < 0 ? res : res.slice(0, slash);
    const rest = slash < 0 ? '' : res.slice(slash + 1);
    switch (type) {
      case 'user':
        return { key, kind: 'IAM user', name: rest || res, account };
      case 'root':
        return { key, kind: 'root user', name: `root of ${account ?? '?'}`, account };
      case 'role':
        return { key, kind: 'IAM role', name: rest || res, account };
      case 'assumed-role': {
        const i = rest.indexOf('/');
        const role = i < 0 ? rest : rest.slice(0, i);
        const session = i < 0 ? '' : rest.slice(i + 1);
        return { key, kind: 'role session', name: session ? `${role} / ${session}` : role, account };
      }
      case 'federated-user':
        return { key, kind: 'federated user', name: rest || res, account };
      default:
        return { key, kind: arn[3] ? `${arn[3]} principal` : 'principal', name: res, account };
    }
  }
  // A credential the engine names in words, e.g. `instance i-0abc (arn:aws:iam::1:instance-profile/p)`.
  const label = /^([\w-]+) (\S+) \((arn:[^)]*)\)$/s.exec(key);
  if (label) {
    const inner = /^arn:[^:]*:[^:]*:[^:]*:([^:]*):(.*)$/s.exec(label[3] ?? '');
    return { key, kind: label[1] === 'instance' ? 'instance / function' : label[1] ?? 'credential', name: label[2] ?? key, account: inner?.[1] || null, detail: inner ? `runs as ${inner[2]}` : label[3] };
  }
  const colon = key.indexOf(':');
  const prefix = colon < 0 || !/^[a-z][a-z0-9-]*$/.test(key.slice(0, colon)) ? '' : key.slice(0, colon);
  const rest = colon < 0 ? key : key.slice(colon + 1);
  switch (prefix) {
    case 'service':
      return { key, kind: 'AWS service', name: rest, account: null };
    case 'compute':
      return { key, kind: /^i-/.test(rest) ? 'instance' : /^[0-9a-f]{32}$/.test(rest) ? 'ECS task' : 'function or task', name: rest, account: null };
    case 'account':
      return { key, kind: 'whole account (AWSAccount caller)', name: rest, account: rest };
    case 'role': {
      const i = rest.indexOf(':');
      return { key, kind: 'IAM role', name: i < 0 ? rest : rest.slice(i + 1), account: i < 0 ? null : rest.slice(0, i) };
    }
    case 'saml': {
      const i = rest.lastIndexOf(':');
      return { key, kind: 'SAML user', name: i < 0 ? rest : rest.slice(i + 1), account: null };
    }
    case 'idc':
      return { key, kind: 'Identity Center user', name: rest, account: null };
    case 'web':
    case 'oidc':
      return { key, kind: 'web identity', name: rest, account: null };
    default:
      return prefix ? { key, kind: `${prefix} identity`, name: rest, account: null } : { key, kind: 'identity', name: key, account: null };
  }
}

function tacticKey(t: Tactic | null): string {
  return t ? t.id : '-';
}

function foldRows(steps: Step[], originId: string | null): StepRow[] {
  const rows: StepRow[] = [];
  const byName = new Map<string, StepRow>();
  for (const s of steps) {
    const k = `${s.eventSource}\u0000${s.eventName}`;
    let r = byName.get(k);
    if (!r) {
      r = { eventName: s.eventName, eventSource: s.eventSource, steps: [], failed: 0, errors: [], regions: [], grants: [], origin: false, copies: 0 };
      byName.set(k, r);
      rows.push(r);
    }
    r.steps.push(s);
    if (s.reason === 'cross-account-copy') r.copies++;
    if (s.errorCode) {
      r.failed++;
      if (!r.errors.includes(s.errorCode)) r.errors.push(s.errorCode);
    }
    if (!r.regions.includes(s.region)) r.regions.push(s.region);
    for (const g of s.grants ?? []) {
      if (!r.grants.some((h) => h.kind === g.kind && h.target === g.target && h.value === g.value && h.document === g.document)) r.grants.push(g);
    }
    if (s.eventId === originId) r.origin = true;
  }
  if (rows.length <= MAX_ROWS_PER_PHASE) return rows;
  // Keep the rows that matter (origin, grants, errors), then the most frequent; summarise the rest.
  const keep = new Set<StepRow>();
  for (const r of rows) if (r.origin || r.grants.length > 0) keep.add(r);
  const byCount = [...rows].sort((a, b) => b.steps.length - a.steps.length);
  for (const r of byCount) {
    if (keep.size >= MAX_ROWS_PER_PHASE - 1) break;
    keep.add(r);
  }
  const shown = rows.filter((r) => keep.has(r));
  const rest = rows.filter((r) => !keep.has(r));
  if (rest.length === 0) return shown;
  const summary: StepRow = {
    eventName: `${rest.length} more APIs`,
    eventSource: '',
    steps: rest.flatMap((r) => r.steps).sort((a, b) => a.eventTime.localeCompare(b.eventTime)),
    failed: rest.reduce((n, r) => n + r.failed, 0),
    errors: [...new Set(rest.flatMap((r) => r.errors))],
    regions: [...new Set(rest.flatMap((r) => r.regions))],
    grants: [],
    origin: false,
    copies: rest.reduce((n, r) => n + r.copies, 0),
    summary: { names: rest.map((r) => [r.eventName, r.steps.length] as [string, number]).sort((a, b) => b[1] - a[1]) },
  };
  return [...shown, summary];
}

/** Builds the graph of a storyline. */
export function buildStoryGraph(st: Storyline): StoryGraph {
  const originId = st.origin?.eventId ?? null;
  const edgeByEvent = new Map<string, LineageEdge>();
  for (const e of st.lineageEdges) if (!edgeByEvent.has(e.eventId)) edgeByEvent.set(e.eventId, e);

  // Owner of each step: its principal; for a call without one (an AWSAccount copy, a SAML or
  // Identity Center call), the issuing identity of the lineage edge it is evidence for, or the
  // owner of another such call from the same account and address, or the account.
  // A cross-account call is logged twice (caller's account, full identity; callee's account,
  // an AWSAccount identity): the copy's edge from `account:…` is the twin of the caller's edge,
  // and the copy is drawn with the caller's call instead of as an identity of its own.
  const copyEdges = new Set<LineageEdge>();
  const twinFrom = new Map<string, string>();
  const twinKey = (e: LineageEdge) => `${e.to}\u0000${e.via}\u0000${e.eventTime}`;
  const callerEdge = new Map<string, LineageEdge>();
  for (const e of st.lineageEdges) if (!e.from.startsWith('account:') && !callerEdge.has(twinKey(e))) callerEdge.set(twinKey(e), e);
  for (const e of st.lineageEdges) {
    if (!e.from.startsWith('account:')) continue;
    const twin = callerEdge.get(twinKey(e));
    if (!twin) continue;
    copyEdges.add(e);
    twinFrom.set(e.eventId, twin.from);
  }
  const ownerOf = new Map<string, string>();
  const pending: Step[] = [];
  for (const s of st.steps) {
    if (s.principalArn) ownerOf.set(s.eventId, s.principalArn);
    else {
      const e = edgeByEvent.get(s.eventId);
      const twin = twinFrom.get(s.eventId);
      if (twin) ownerOf.set(s.eventId, twin);
      else if (e) ownerOf.set(s.eventId, e.from);
      else pending.push(s);
    }
  }
  // The first such call (in story order) from the same account and address lends its owner.
  const lender = new Map<string, string>();
  for (const s of st.steps) {
    const k = `${s.accountId}\u0000${s.sourceIPAddress}`;
    const o = s.principalArn ? undefined : ownerOf.get(s.eventId);
    if (o !== undefined && !lender.has(k)) lender.set(k, o);
  }
  for (const s of pending) ownerOf.set(s.eventId, lender.get(`${s.accountId}\u0000${s.sourceIPAddress}`) ?? `account:${s.accountId}`);

  // Identities: lineage first (actor first), then edge ends and step owners as they appear.
  const order: string[] = [];
  const ordered = new Set<string>();
  const add = (k: string) => {
    if (!ordered.has(k)) {
      ordered.add(k);
      order.push(k);
    }
  };
  for (const p of st.lineage) add(p);
  for (const e of st.lineageEdges) {
    if (!copyEdges.has(e)) add(e.from);
    add(e.to);
  }
  for (const s of st.steps) add(ownerOf.get(s.eventId) ?? '');
  const lineage = new Set(st.lineage);
  const identities = new Map<string, IdentityNode>();
  for (const k of order) {
    if (!k) continue;
    identities.set(k, { ...describeIdentity(k), inLineage: lineage.has(k), attacker: false, keys: [], selfEdges: [] });
  }
  for (const s of st.steps) {
    const id = identities.get(ownerOf.get(s.eventId) ?? '');
    if (!id) continue;
    id.attacker = true;
    if (s.accessKeyId && !id.keys.some((k) => k.id === s.accessKeyId)) {
      id.keys.push({ id: s.accessKeyId, note: s.eventId === originId ? 'key of the origin' : `first used ${s.eventTime}` });
    }
  }
  for (const e of st.lineageEdges) if (e.byAttacker) {
    const to = identities.get(e.to);
    if (to) to.attacker = true;
  }
  // Keys the attacker minted: note them on the identity they were made for (the first IAM user,
  // in order, named the grant's target or ending in `/target`).
  const userByName = new Map<string, IdentityNode>();
  for (const i of identities.values()) {
    if (i.kind !== 'IAM user') continue;
    if (!userByName.has(i.name)) userByName.set(i.name, i);
    for (let at = i.name.indexOf('/'); at >= 0; at = i.name.indexOf('/', at + 1)) {
      const tail = i.name.slice(at + 1);
      if (!userByName.has(tail)) userByName.set(tail, i);
    }
  }
  for (const s of st.steps) {
    for (const g of s.grants ?? []) {
      if (g.kind !== 'access-key' || !g.value) continue;
      const holder = g.target ? userByName.get(g.target) : undefined;
      if (!holder) continue;
      const note = `minted by ${s.eventName} ${s.eventTime}`;
      const known = holder.keys.find((k) => k.id === g.value);
      if (known) known.note = note;
      else holder.keys.unshift({ id: g.value, note });
    }
  }

  // Phases: each identity's steps, consecutive runs of one tactic.
  const phasesOf = new Map<string, Phase[]>();
  const phases: Phase[] = [];
  const stepsOf = new Map<string, Step[]>();
  for (const s of st.steps) {
    const k = ownerOf.get(s.eventId) ?? '';
    const list = stepsOf.get(k) ?? [];
    list.push(s);
    stepsOf.set(k, list);
  }
  interface Run { owner: string; tactic: Tactic | null; steps: Step[]; grouped: boolean }
  const runs: Run[] = [];
  for (const [owner, steps] of stepsOf) {
    let own: Run[] = [];
    for (const s of steps) {
      const last = own[own.length - 1];
      if (last && tacticKey(last.tactic) === tacticKey(s.tactic)) last.steps.push(s);
      else own.push({ owner, tactic: s.tactic, steps: [s], grouped: false });
    }
    if (own.length > MAX_PHASES_PER_IDENTITY) {
      // Too many alternations to read as a chain: one phase per tactic, in order of first use.
      const byTactic = new Map<string, Run>();
      for (const s of steps) {
        const k = tacticKey(s.tactic);
        const r = byTactic.get(k) ?? { owner, tactic: s.tactic, steps: [], grouped: true };
        r.steps.push(s);
        byTactic.set(k, r);
      }
      own = [...byTactic.values()];
    }
    runs.push(...own);
  }
  // Number phases in story order (time of their first call, then owner order).
  runs.sort((a, b) => (a.steps[0]?.eventTime ?? '').localeCompare(b.steps[0]?.eventTime ?? '') || order.indexOf(a.owner) - order.indexOf(b.owner));
  const phaseOf = new Map<string, string>();
  runs.forEach((r, i) => {
    const rows = foldRows(r.steps, originId);
    const times = r.steps.map((s) => s.eventTime).sort();
    const p: Phase = {
      id: `p${i}`,
      owner: r.owner,
      tactic: r.tactic,
      steps: r.steps,
      rows,
      burst: r.tactic?.id === 'TA0007' && (r.steps.length >= BURST_CALLS || rows.some((row) => row.summary)),
      grouped: r.grouped,
      from: times[0] ?? '',
      to: times[times.length - 1] ?? '',
    };
    phases.push(p);
    const list = phasesOf.get(r.owner) ?? [];
    list.push(p);
    phasesOf.set(r.owner, list);
    for (const s of r.steps) phaseOf.set(s.eventId, p.id);
  });
  for (const list of phasesOf.values()) list.sort((a, b) => a.from.localeCompare(b.from) || Number(a.id.slice(1)) - Number(b.id.slice(1)));

  // Lineage edges: self edges folded into their identity, the others folded by ends and API.
  const links: LineageLink[] = [];
  const linkOf = new Map<string, LineageLink>();
  for (const e of st.lineageEdges) {
    if (copyEdges.has(e)) continue;
    if (e.from === e.to) {
      const id = identities.get(e.from);
      if (!id) continue;
      const se = id.selfEdges.find((x) => x.via === e.via && x.attacker === e.byAttacker);
      if (se) {
        se.count++;
        if (e.eventTime < se.first) se.first = e.eventTime;
        if (e.eventTime > se.last) se.last = e.eventTime;
      } else id.selfEdges.push({ via: e.via, count: 1, attacker: e.byAttacker, first: e.eventTime, last: e.eventTime });
      continue;
    }
    const phase = phaseOf.get(e.eventId) ?? null;
    const k = [e.from, e.to, e.via, String(e.byAttacker), phase ?? ''].join('\u0000');
    const l = linkOf.get(k);
    if (l) l.edges.push(e);
    else {
      const made: LineageLink = { from: e.from, to: e.to, via: e.via, byAttacker: e.byAttacker, edges: [e], phase };
      linkOf.set(k, made);
      links.push(made);
    }
  }

  // Where the finding sits: the phases of the calls in its first/last seen window, the
  // actor's first; else the phase of the call nearest its first-seen time.
  const findingPhases: string[] = [];
  const f = st.finding;
  const lo = f.eventFirstSeen ? Date.parse(f.eventFirstSeen) : NaN;
  const hi = f.eventLastSeen ? Date.parse(f.eventLastSeen) : lo;
  if (!Number.isNaN(lo) && st.steps.length > 0) {
    const inWindow = st.steps.filter((s) => {
      const t = Date.parse(s.eventTime);
      return t >= lo - 999 && t <= (Number.isNaN(hi) ? lo : hi) + 999;
    });
    const actor = st.lineage[0];
    const preferred = inWindow.filter((s) => ownerOf.get(s.eventId) === actor);
    const chosen = preferred.length > 0 ? preferred : inWindow;
    for (const s of chosen) {
      const p = phaseOf.get(s.eventId);
      if (p && !findingPhases.includes(p)) findingPhases.push(p);
    }
    if (findingPhases.length === 0) {
      let best: Step | undefined;
      for (const s of st.steps) if (!best || Math.abs(Date.parse(s.eventTime) - lo) < Math.abs(Date.parse(best.eventTime) - lo)) best = s;
      const p = best && phaseOf.get(best.eventId);
      if (p) findingPhases.push(p);
    }
  } else if (st.steps.length > 0) {
    const last = st.steps[st.steps.length - 1];
    const p = last && phaseOf.get(last.eventId);
    if (p) findingPhases.push(p);
  }

  // A service acts inside the account it issues credentials in, and an instance, function or
  // task runs in the account of whoever launched or controls it: each is drawn there.
  for (const i of identities.values()) {
    if (i.account) continue;
    if (i.key.startsWith('service:')) {
      const l = links.find((x) => x.from === i.key && identities.get(x.to)?.account);
      if (l) i.account = identities.get(l.to)?.account ?? null;
    } else if (i.key.startsWith('compute:')) {
      const l = links.find((x) => x.to === i.key && identities.get(x.from)?.account);
      if (l) i.account = identities.get(l.from)?.account ?? null;
    }
  }
  const contextLinks: ContextLink[] = [];
  for (const l of links) {
    if (!l.from.startsWith('service:')) continue;
    const m = /:assumed-role\/([^/]+)\/(.+)$/s.exec(l.to);
    const role = m?.[1];
    const session = m?.[2];
    if (!role || !session || session.length < 4) continue;
    for (const i of identities.values()) {
      if (i.key === l.to || i.key === l.from || i.key.startsWith('arn:') || !i.key.includes(session)) continue;
      if (!contextLinks.some((c) => c.from === i.key && c.to === l.from)) contextLinks.push({ from: i.key, to: l.from, label: `runs as ${role}` });
    }
  }

  const accounts: string[] = [];
  for (const i of identities.values()) if (i.account && !accounts.includes(i.account)) accounts.push(i.account);

  return {
    identities: [...identities.values()],
    phases,
    phasesOf,
    links,
    contextLinks,
    ownerOf,
    phaseOf,
    originOwner: originId ? ownerOf.get(originId) ?? st.lineage[0] ?? null : null,
    findingPhases,
    accounts,
  };
}

// ---------------------------------------------------------------------------------------------
// Folding: a diagram of bounded size whatever the number of identities.

/** How much of a story graph the diagram draws: the rest is folded. */
export interface FoldLimits {
  /** Identities drawn on their own (the actor, the origin's and the finding's owners first). */
  identities: number;
  /** Phases of the identities drawn on their own, together. */
  phases: number;
  /** Lineage links between two boxes (past it, links of the same ends and API merge across phases, then links of the same ends, then the rest are left out). */
  links: number;
}

/** The diagram's limits: the largest real story in the repository (31 identities, 24 phases, 33 links) is drawn whole. */
export const DIAGRAM_LIMITS: FoldLimits = { identities: 32, phases: 64, links: 60 };
/** Boxes the folded identities are drawn as: one per kind (attacker's or legitimate), the smallest kinds sharing the last. */
export const MAX_FOLD_BOXES = 3;
/** Context links (an instance run by a service) drawn at most. */
const MAX_CONTEXT_LINKS = 16;

/** What {@link foldStoryGraph} folded, for the page to say. */
export interface FoldSummary {
  /** Identities drawn inside a folded box, and how many boxes. */
  identities: number;
  boxes: number;
  /** Identities in the graph before folding. */
  of: number;
  /** Kinds of the folded identities with their counts, largest first. */
  kinds: [string, number][];
  /** Steps of the folded identities. */
  steps: number;
  /** Lineage links merged into another (same ends and API, another phase) and left out. */
  linksMerged: number;
  linksDropped: number;
}

/** The key of a folded box: `folded:<n>`, made unique against the identities' own keys. */
function foldKey(n: number, taken: Set<string>): string {
  let k = `folded:${n}`;
  while (taken.has(k)) k += '+';
  return k;
}

/**
 * The story graph as the diagram draws it, bounded by `limits`: the identities past the limits
 * are folded into at most {@link MAX_FOLD_BOXES} boxes (`kind: 'folded identities'`, key
 * `folded:<n>`), each with its members' calls in one phase per tactic; lineage links to and from
 * them are re-attached to the box and merged. A graph within the limits comes back as it is
 * (`folded` unset). `ownerOf` and `phaseOf` map a folded identity's steps to the box and its
 * phases. Pure.
 */
export function foldStoryGraph(st: Storyline, g: StoryGraph, limits: FoldLimits = DIAGRAM_LIMITS): StoryGraph & { folded?: FoldSummary } {
  const phaseCount = (k: string) => g.phasesOf.get(k)?.length ?? 0;
  const phaseById = new Map(g.phases.map((p) => [p.id, p]));
  const priority: string[] = [];
  const first = (k: string | null | undefined) => {
    if (k && !priority.includes(k)) priority.push(k);
  };
  first(g.originOwner);
  first(g.identities[0]?.key);
  for (const id of g.findingPhases) first(phaseById.get(id)?.owner);
  const known = new Set(g.identities.map((i) => i.key));
  const keep = new Set<string>();
  let phases = 0;
  for (const k of [...priority.filter((x) => known.has(x)), ...g.identities.map((i) => i.key)]) {
    if (keep.has(k) || keep.size >= limits.identities) continue;
    const n = phaseCount(k);
    if (keep.size > 0 && phases + n > limits.phases) continue;
    keep.add(k);
    phases += n;
  }
  if (keep.size === g.identities.length && g.links.length <= limits.links && g.contextLinks.length <= MAX_CONTEXT_LINKS) return g;

  // The folded boxes: the rest by kind (attacker's or not), the largest kinds first.
  const rest = g.identities.filter((i) => !keep.has(i.key));
  const byKind = new Map<string, IdentityNode[]>();
  for (const i of rest) {
    const k = `${i.attacker ? 'a' : 'l'}\u0000${i.kind}`;
    const list = byKind.get(k) ?? [];
    list.push(i);
    byKind.set(k, list);
  }
  const kindGroups = [...byKind.values()].sort((a, b) => b.length - a.length);
  const boxes = kindGroups.slice(0, MAX_FOLD_BOXES - 1);
  const tail = kindGroups.slice(MAX_FOLD_BOXES - 1).flat();
  if (tail.length > 0) boxes.push(tail);
  const foldOf = new Map<string, string>();
  const foldNodes: IdentityNode[] = [];
  boxes.forEach((members, n) => {
    const key = foldKey(n + 1, known);
    const kinds = new Map<string, number>();
    for (const m of members) kinds.set(m.kind, (kinds.get(m.kind) ?? 0) + 1);
    const accounts = new Set(members.map((m) => m.account));
    const count = members.length.toLocaleString('en-US');
    const [onlyKind] = kinds.size === 1 ? [...kinds.keys()] : [];
    foldNodes.push({
      key,
      kind: 'folded identities',
      name: onlyKind ? `${count} × ${onlyKind}` : `${count} identities of ${kinds.size} kinds`,
      account: accounts.size === 1 ? [...accounts][0] ?? null : null,
      detail: `${members.slice(0, 3).map((m) => m.name).join(', ')}${members.length > 3 ? ', …' : ''}`,
      inLineage: members.some((m) => m.inLineage),
      attacker: members.some((m) => m.attacker),
      keys: members.flatMap((m) => m.keys),
      selfEdges: [],
    });
    for (const m of members) foldOf.set(m.key, key);
  });
  const to = (k: string) => foldOf.get(k) ?? k;

  // The folded identities' calls: one phase per tactic and box, in story order.
  const originId = st.origin?.eventId ?? null;
  const foldedSteps = new Map<string, Map<string, { tactic: Tactic | null; steps: Step[] }>>();
  let stepsFolded = 0;
  for (const s of st.steps) {
    const box = foldOf.get(g.ownerOf.get(s.eventId) ?? '');
    if (!box) continue;
    stepsFolded++;
    const byTactic = foldedSteps.get(box) ?? new Map<string, { tactic: Tactic | null; steps: Step[] }>();
    const run = byTactic.get(tacticKey(s.tactic)) ?? { tactic: s.tactic, steps: [] };
    run.steps.push(s);
    byTactic.set(tacticKey(s.tactic), run);
    foldedSteps.set(box, byTactic);
  }
  const phasesOf = new Map<string, Phase[]>();
  for (const [k, list] of g.phasesOf) if (keep.has(k)) phasesOf.set(k, list);
  const phaseOf = new Map<string, string>();
  const ownerOf = new Map<string, string>();
  for (const [e, o] of g.ownerOf) ownerOf.set(e, to(o));
  for (const [e, p] of g.phaseOf) if (keep.has(phaseById.get(p)?.owner ?? '')) phaseOf.set(e, p);
  const newPhases: Phase[] = [];
  for (const [box, byTactic] of foldedSteps) {
    const list: Phase[] = [];
    for (const run of byTactic.values()) {
      const rows = foldRows(run.steps, originId);
      const p: Phase = {
        id: `p${g.phases.length + newPhases.length}`,
        owner: box,
        tactic: run.tactic,
        steps: run.steps,
        rows,
        burst: run.tactic?.id === 'TA0007' && (run.steps.length >= BURST_CALLS || rows.some((r) => r.summary)),
        grouped: true,
        from: run.steps[0]?.eventTime ?? '',
        to: run.steps[run.steps.length - 1]?.eventTime ?? '',
      };
      newPhases.push(p);
      list.push(p);
      for (const s of run.steps) phaseOf.set(s.eventId, p.id);
    }
    phasesOf.set(box, list);
  }
  const newPhaseOf = (old: string | null, eventId: string): string | null => (old === null ? null : phaseOf.get(eventId) ?? (keep.has(phaseById.get(old)?.owner ?? '') ? old : null));

  // Links re-attached to the boxes and merged; between members of one box, a self edge.
  const nodes = new Map<string, IdentityNode>();
  for (const i of g.identities) if (keep.has(i.key)) nodes.set(i.key, i);
  for (const f of foldNodes) nodes.set(f.key, f);
  const merged = new Map<string, LineageLink>();
  for (const l of g.links) {
    const from = to(l.from);
    const dest = to(l.to);
    if (from === dest) {
      const node = nodes.get(from);
      if (!node) continue;
      const se = node.selfEdges.find((x) => x.via === l.via && x.attacker === l.byAttacker);
      const times = l.edges.map((e) => e.eventTime).sort();
      const t0 = times[0] ?? '';
      const t1 = times[times.length - 1] ?? '';
      if (se) {
        se.count += l.edges.length;
        if (t0 < se.first) se.first = t0;
        if (t1 > se.last) se.last = t1;
      } else node.selfEdges.push({ via: l.via, count: l.edges.length, attacker: l.byAttacker, first: t0, last: t1 });
      continue;
    }
    const phase = newPhaseOf(l.phase, l.edges[0]?.eventId ?? '');
    const k = [from, dest, l.via, String(l.byAttacker), phase ?? ''].join('\u0000');
    const m = merged.get(k);
    if (m) m.edges.push(...l.edges);
    else merged.set(k, { from, to: dest, via: l.via, byAttacker: l.byAttacker, edges: [...l.edges], phase });
  }
  let links = [...merged.values()];
  let linksMerged = 0;
  let linksDropped = 0;
  if (links.length > limits.links) {
    // Too many: one link per ends and API, from the first phase it was made in.
    const byEnds = new Map<string, LineageLink>();
    for (const l of links) {
      const k = [l.from, l.to, l.via, String(l.byAttacker)].join('\u0000');
      const m = byEnds.get(k);
      if (m) {
        m.edges.push(...l.edges);
        linksMerged++;
      } else byEnds.set(k, { ...l, edges: [...l.edges] });
    }
    links = [...byEnds.values()];
  }
  if (links.length > limits.links) {
    // Still too many: one link per ends, naming its APIs.
    const byEnds = new Map<string, LineageLink & { vias: string[] }>();
    for (const l of links) {
      const k = [l.from, l.to, String(l.byAttacker)].join('\u0000');
      const m = byEnds.get(k);
      if (m) {
        m.edges.push(...l.edges);
        if (!m.vias.includes(l.via)) m.vias.push(l.via);
        linksMerged++;
      } else byEnds.set(k, { ...l, edges: [...l.edges], vias: [l.via] });
    }
    links = [...byEnds.values()].map(({ vias, ...l }) => ({ ...l, via: vias.length > 3 ? `${vias.slice(0, 3).join(', ')}, …` : vias.join(', ') }));
  }
  if (links.length > limits.links) {
    // Still too many: the attacker's first, in story order; the rest left out (the lineage table lists them).
    links = [...links.filter((l) => l.byAttacker), ...links.filter((l) => !l.byAttacker)];
    linksDropped = links.length - limits.links;
    links = links.slice(0, limits.links);
  }
  const contextLinks: ContextLink[] = [];
  for (const c of g.contextLinks) {
    const from = to(c.from);
    const dest = to(c.to);
    if (from === dest || contextLinks.length >= MAX_CONTEXT_LINKS || contextLinks.some((x) => x.from === from && x.to === dest)) continue;
    contextLinks.push({ from, to: dest, label: c.label });
  }
  const findingPhases: string[] = [];
  for (const id of g.findingPhases) {
    const p = phaseById.get(id);
    const mapped = p ? newPhaseOf(id, p.steps[0]?.eventId ?? '') : null;
    if (mapped && !findingPhases.includes(mapped)) findingPhases.push(mapped);
  }
  const identities = [...g.identities.filter((i) => keep.has(i.key)), ...foldNodes];
  const accounts: string[] = [];
  for (const i of identities) if (i.account && !accounts.includes(i.account)) accounts.push(i.account);
  const kinds = new Map<string, number>();
  for (const i of rest) kinds.set(i.kind, (kinds.get(i.kind) ?? 0) + 1);
  return {
    identities,
    phases: [...g.phases.filter((p) => keep.has(p.owner)), ...newPhases],
    phasesOf,
    links,
    contextLinks,
    ownerOf,
    phaseOf,
    originOwner: g.originOwner ? to(g.originOwner) : null,
    findingPhases,
    accounts,
    folded: {
      identities: rest.length,
      boxes: foldNodes.length,
      of: g.identities.length,
      kinds: [...kinds].sort((a, b) => b[1] - a[1]),
      steps: stepsFolded,
      linksMerged,
      linksDropped,
    },
  };
}
