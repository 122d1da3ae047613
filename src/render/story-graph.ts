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
  for (const e of st.lineageEdges) {
    if (!e.from.startsWith('account:')) continue;
    const twin = st.lineageEdges.find((o) => o !== e && !o.from.startsWith('account:') && o.to === e.to && o.via === e.via && o.eventTime === e.eventTime);
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
  for (const s of pending) {
    const twin = st.steps.find((o) => !o.principalArn && ownerOf.has(o.eventId) && o.accountId === s.accountId && o.sourceIPAddress === s.sourceIPAddress);
    ownerOf.set(s.eventId, (twin && ownerOf.get(twin.eventId)) ?? `account:${s.accountId}`);
  }

  // Identities: lineage first (actor first), then edge ends and step owners as they appear.
  const order: string[] = [];
  const add = (k: string) => {
    if (!order.includes(k)) order.push(k);
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
  // Keys the attacker minted: note them on the identity they were made for.
  for (const s of st.steps) {
    for (const g of s.grants ?? []) {
      if (g.kind !== 'access-key' || !g.value) continue;
      const holder = [...identities.values()].find((i) => g.target && i.kind === 'IAM user' && (i.name === g.target || i.name.endsWith(`/${g.target}`)));
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
    const l = links.find((x) => x.from === e.from && x.to === e.to && x.via === e.via && x.byAttacker === e.byAttacker && x.phase === phase);
    if (l) l.edges.push(e);
    else links.push({ from: e.from, to: e.to, via: e.via, byAttacker: e.byAttacker, edges: [e], phase });
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
