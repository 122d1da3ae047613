/**
 * The walk over the lineage graph (storyline contract, "Rules of evidence"): backwards from the
 * finding's credentials to the earliest point the attacker controlled, forwards over everything
 * the attacker controlled. The precedence of the rules lives in {@link Walker.judge}, in one
 * place:
 *
 *  1. a record the finding names (an attack sequence's signal) is a step;
 *  2. what the attacker holds wins: a use of a node an attacker step minted (a key, a console
 *     session, a password, a sign-in token, a created user, a trust policy, compute the
 *     attacker launched or changed, a credential AWS issued because of an attacker step) is a
 *     step, whatever its source;
 *  3. the other copy of a cross-account step is a step;
 *  4. a service's call is the attacker's when the call that caused it was (acting for);
 *  5. a use of a taken credential (the finding's own, one reached backwards, the role of
 *     compute the attacker took control of) is the attacker's unless it comes from the usual
 *     sources of that credential and its principal (`history.ts`).
 *
 * Backwards, the record that minted a taken credential is judged as a use of its caller's
 * credential: when it is the attacker's, the caller's credential is taken too and the walk goes
 * on; when it is legitimate, the chain stops there (legitimately issued, taken later). A
 * principal that took control of compute within the lifetime of the credentials it then
 * misused (the control row's window, 12 hours) is upstream: its control events are steps.
 *
 * Pure: no I/O, no clock.
 */
import type { LineageEdge, StepReason } from '../model/storyline';
import { principalLabel } from '../identity/principal';
import type { TrailEvent } from '../trail/event';
import { isServiceCall, nodeType, principalOfNode, type EdgeIndex, type Mint } from './edges';
import type { History } from './history';

/** A record judged to be a step, with the rule that admitted it. */
export interface Judged {
  ev: TrailEvent;
  reason: StepReason;
  why: string;
}

/** Where the walk starts: what the finding names. */
export interface Seed {
  /** Nodes whose uses are judged by usual sources from the start: the finding's credentials (`key:`, `password:`, `identity:`), an instance's role sessions (`access:<instance id>`). */
  taken: string[];
  /** eventIDs the finding names as the attacker's (attack-sequence signals). */
  forced: Set<string>;
}

/** What the walk found. */
export interface WalkResult {
  steps: Map<string, Judged>;
  /** Edges crossed, with their evidence; `byAttacker` false for legitimate issues. */
  edges: LineageEdge[];
  /** Mints of credentials the attacker used that were not steps: issued legitimately, taken later. */
  legitimateIssues: Mint[];
  /** Nodes judged by usual sources, with since when. */
  taken: Map<string, number>;
}

interface Hold {
  from: number;
  until: number;
  by: string;
  role: string | null;
}

/** Uses a second before a mint still count (CloudTrail times are whole seconds). */
const CLOCK_SKEW_MS = 1000;

/** Node types whose uses can be judged against a history. */
const JUDGEABLE = new Set(['key', 'session', 'password', 'signin', 'identity']);

function heldReason(node: string): StepReason {
  switch (nodeType(node)) {
    case 'key':
    case 'session':
    case 'compute':
      return 'attacker-minted-credential';
    case 'grant':
    case 'delivery':
      return 'issued-for-attacker';
    default:
      return 'attacker-created-principal';
  }
}

/** Runs the walk; see the module comment. */
export class Walker {
  private readonly held = new Map<string, Hold[]>();
  private readonly taken = new Map<string, number>();
  private readonly steps = new Map<string, Judged>();
  private readonly edges: LineageEdge[] = [];
  private readonly edgeSeen = new Set<string>();
  private readonly legit = new Map<string, Mint>();
  private readonly examined = new Set<string>();
  private readonly stepsOfKey = new Map<string, number>();

  constructor(
    private readonly index: EdgeIndex,
    private readonly history: History,
    private readonly seed: Seed,
  ) {}

  run(): WalkResult {
    for (const n of this.seed.taken) this.take(n, -Infinity);
    for (let round = 0; round < 64; round++) {
      const before = this.steps.size + this.taken.size;
      this.forward();
      this.backward();
      if (this.steps.size + this.taken.size === before) break;
    }
    for (const e of this.edges) if (this.steps.has(e.eventId)) e.byAttacker = true;
    const legitimateIssues = [...this.legit.values()].filter((m) => !this.steps.has(m.event.eventId));
    return { steps: this.steps, edges: this.edges, legitimateIssues, taken: this.taken };
  }

  // -------------------------------------------------------------------------
  // State

  private take(node: string, since: number): void {
    const had = this.taken.get(node);
    if (had === undefined || since < had) this.taken.set(node, since);
  }

  private hold(node: string, h: Hold): void {
    const l = this.held.get(node);
    if (!l) this.held.set(node, [h]);
    else if (!l.some((x) => x.from === h.from && x.by === h.by)) l.push(h);
  }

  /**
   * The attacker's hold on a node at time `t`: a use belongs to the latest mint of its node at
   * or before it (a later legitimate re-issue, a password reset, a redeployed function ends the
   * attacker's hold), and only while that mint lasts (its window, or until the next mint).
   */
  private heldAt(node: string | null, t: number, role: string | null = null): Hold | null {
    if (!node) return null;
    const holds = this.held.get(node);
    if (!holds) return null;
    let latest: Mint | null = null;
    for (const m of this.index.mintsOf(node)) {
      if (m.from > t + CLOCK_SKEW_MS) break;
      latest = m;
    }
    if (!latest || t >= latest.until) return null;
    const h = holds.find((x) => x.by === latest.event.eventId);
    return h && (!h.role || !role || h.role === role) ? h : null;
  }

  private takenAt(node: string | null, t: number): boolean {
    if (!node) return false;
    const since = this.taken.get(node);
    return since !== undefined && t >= since - CLOCK_SKEW_MS;
  }

  private addEdge(from: string, to: string, ev: TrailEvent, byAttacker: boolean): void {
    const id = `${from}|${to}|${ev.eventId}`;
    if (this.edgeSeen.has(id)) return;
    this.edgeSeen.add(id);
    this.edges.push({ from, to, via: ev.eventName, eventId: ev.eventId, eventTime: ev.eventTime, byAttacker });
  }

  private addStep(j: Judged): void {
    if (this.steps.has(j.ev.eventId)) return;
    this.steps.set(j.ev.eventId, j);
    const k = j.ev.identity.accessKeyId;
    if (k && !this.stepsOfKey.has(k)) this.stepsOfKey.set(k, j.ev.epochMs);
    this.applyMints(j.ev);
  }

  // -------------------------------------------------------------------------
  // The rules, in their order of precedence

  /** Whether a record is a step, and why; null when it is not (see the module comment). */
  judge(ev: TrailEvent): Judged | null {
    const t = ev.epochMs;
    if (this.seed.forced.has(ev.eventId)) return { ev, reason: 'attack-sequence-signal', why: 'named by the finding as a signal of the attack' };
    const uses = this.index.edgesOf(ev).uses;
    const family = this.index.familyOf(ev);
    const compute = this.index.computeOf(ev);
    const principal = ev.identity.key ? `principal:${ev.identity.key}` : null;
    const computeNode = compute ? `compute:${compute}` : null;
    let h: Hold | null;
    if ((h = this.heldAt(uses, t))) return { ev, reason: heldReason(uses as string), why: `${uses} came from attacker step ${h.by}` };
    if ((h = this.heldAt(family, t))) return { ev, reason: 'attacker-minted-credential', why: `the console session came from attacker step ${h.by}` };
    if ((h = this.heldAt(principal, t))) return { ev, reason: 'attacker-created-principal', why: `${principalLabel(ev.identity)} was created by attacker step ${h.by}` };
    if ((h = this.heldAt(computeNode, t, ev.identity.roleName))) return { ev, reason: 'attacker-minted-credential', why: `compute ${compute} came under the attacker's control in step ${h.by}` };
    for (const o of this.index.copiesOf(ev)) {
      if (this.steps.has(o.eventId)) return { ev, reason: 'cross-account-copy', why: `the other account's copy of step ${o.eventId}` };
    }
    if (isServiceCall(ev)) {
      const cause = this.index.causeOf(ev);
      if (cause && this.steps.has(cause.eventId)) return { ev, reason: 'service-for-attacker', why: `${ev.identity.invokedBy ?? ev.sourceIPAddress} acting for step ${cause.eventId}` };
      return null;
    }
    if (this.takenAt(uses, t) || this.takenAt(family, t) || this.takenAt(compute ? `access:${compute}` : null, t)) {
      const v = this.history.judge(ev);
      if (v && !v.usual) return { ev, reason: 'attacker-source', why: v.why };
    }
    return null;
  }

  /** A step's mints: what it minted is held (or, for control of shared compute, taken) from then on. */
  private applyMints(ev: TrailEvent): void {
    for (const m of this.index.edgesOf(ev).mints) {
      if (m.taken) this.take(m.node, m.from);
      else this.hold(m.node, { from: m.from, until: m.until, by: ev.eventId, role: m.role });
      this.addEdge(callerLabel(ev), this.nodeLabel(m.node, ev), ev, true);
    }
  }

  // -------------------------------------------------------------------------
  // Forwards: every record, in time order, against the rules

  private forward(): void {
    for (const ev of this.index.events) {
      if (this.steps.has(ev.eventId)) continue;
      const j = this.judge(ev);
      if (j) this.addStep(j);
    }
  }

  // -------------------------------------------------------------------------
  // Backwards: who minted what the attacker used

  private backward(): void {
    for (const [node] of [...this.taken]) {
      this.behind(node, Infinity, 0);
      const type = nodeType(node);
      // Who took control is upstream: control of the compute shortly before its role's first
      // misuse (a taken key of a role session named after compute, or the finding's instance).
      let compute: string | null = null;
      let t1: number | undefined;
      if (type === 'key') {
        const first = this.index.usersOf(node)[0];
        compute = first ? this.index.computeOf(first) : null;
        t1 = this.stepsOfKey.get(node.slice(4));
      } else if (type === 'access') {
        compute = node.slice('access:'.length);
        t1 = this.firstStepOfCompute(compute);
      }
      if (compute && t1 !== undefined) this.controlsBefore(compute, t1);
    }
  }

  /**
   * Examines every mint behind a node as it was at time `t`: for a key, what minted it, its
   * console session's sign-in and, for a role session of compute, who launched or changed that
   * compute; for the finding's instance, whoever launched it or gave it a role; for others,
   * the mints in force at `t`.
   */
  private behind(node: string, t: number, depth: number): void {
    const covering = (n: string) => this.index.mintsOf(n).filter((m) => m.from <= t + CLOCK_SKEW_MS && t <= m.until);
    const type = nodeType(node);
    const mints: Mint[] = [];
    if (type === 'key') {
      mints.push(...this.index.mintsOf(node));
      const first = this.index.usersOf(node)[0];
      const families = new Set(this.index.usersOf(node).map((ev) => this.index.familyOf(ev)));
      for (const family of families) if (family) mints.push(...this.index.mintsOf(family));
      const compute = first ? this.index.computeOf(first) : null;
      if (compute) mints.push(...this.index.mintsOf(`compute:${compute}`).filter((m) => m.from <= (t === Infinity ? first?.epochMs ?? t : t) + CLOCK_SKEW_MS));
    } else if (type === 'access') {
      const compute = node.slice('access:'.length);
      mints.push(...this.index.mintsOf(`compute:${compute}`), ...this.index.mintsOf(`delivery:${compute}`));
    } else if (t === Infinity) {
      // A taken password, sign-in or session: the mint in force at its first misuse.
      const firstStep = this.index.usersOf(node).find((ev) => this.steps.has(ev.eventId));
      if (type === 'session') mints.push(...this.index.mintsOf(node));
      else if (firstStep) mints.push(...this.index.mintsOf(node).filter((m) => m.from <= firstStep.epochMs + CLOCK_SKEW_MS && firstStep.epochMs <= m.until));
    } else mints.push(...covering(node));
    for (const m of mints) this.examine(m, depth);
  }

  private firstStepOfCompute(compute: string): number | undefined {
    let t: number | undefined;
    for (const ev of this.index.sessionsOf(compute)) if (this.steps.has(ev.eventId) && (t === undefined || ev.epochMs < t)) t = ev.epochMs;
    return t;
  }

  /**
   * Who took control is upstream: control of `compute` within the window before the first
   * misuse of its role (`t1`): the control events are steps and their callers' credentials taken.
   */
  private controlsBefore(compute: string, t1: number): void {
    for (const m of this.index.mintsOf(`access:${compute}`)) {
      const windowMs = m.windowMs ?? 0;
      if (m.from > t1 + CLOCK_SKEW_MS || m.from < t1 - windowMs) continue;
      const r = m.event;
      if (this.steps.has(r.eventId)) continue;
      this.addStep({ ev: r, reason: 'took-control', why: `took control of ${compute} ${Math.round((t1 - r.epochMs) / 60000)} minute(s) before its role was first used by the attacker` });
      const uses = this.index.edgesOf(r).uses;
      if (uses) this.take(uses, -Infinity);
    }
  }

  /**
   * One mint behind something the attacker used: its record is judged as a use of its caller's
   * credential. The attacker's: a step, and the caller's credential is taken. Legitimate: the
   * chain stops (kept for the coverage). A record made through a node that is not a credential
   * (a delivery, a grant, a trust policy): the walk goes on behind that node.
   */
  private examine(m: Mint, depth = 0): void {
    const r = m.event;
    const key = `${r.eventId}|${m.node}`;
    if (this.examined.has(key) || depth > 32) return;
    this.examined.add(key);
    if (this.steps.has(r.eventId)) {
      this.addEdge(callerLabel(r), this.nodeLabel(m.node, r), r, true);
      return;
    }
    const judged = this.judge(r);
    if (judged) {
      this.addStep(judged);
      return;
    }
    const uses = this.index.edgesOf(r).uses;
    if (uses && JUDGEABLE.has(nodeType(uses))) {
      if (isServiceCall(r)) {
        // A service minted it with a session's credential (CloudFormation creating a key with
        // the stack role or the caller's own session): the walk goes on behind that credential,
        // and the record is the attacker's when what it acted for is.
        this.take(uses, -Infinity);
      } else {
        const v = this.history.judge(r);
        if (v && !v.usual) {
          this.take(uses, -Infinity);
          this.addStep({ ev: r, reason: 'attacker-source', why: v.why });
          return;
        }
      }
    }
    // From usual sources, or through a node that is not a credential (a delivery, a grant, a
    // trust policy): legitimate unless what it acted with is something the attacker holds.
    if (uses) {
      this.behind(uses, r.epochMs, depth + 1);
      const j = this.judge(r);
      if (j) {
        this.addStep(j);
        return;
      }
    }
    this.legit.set(key, m);
    this.addEdge(callerLabel(r), this.nodeLabel(m.node, r), r, false);
  }

  /**
   * A node as the identity it gives or stands for, for edges: a key or a session as its
   * principal's ARN where a record shows it, a password or a created user as the user's ARN,
   * a trust policy or a grant as the role's ARN, compute as `compute:<id>`.
   */
  private nodeLabel(node: string, ev: TrailEvent): string {
    const type = nodeType(node);
    const rest = node.slice(type.length + 1);
    if (type === 'key') return this.index.usersOf(node)[0]?.identity.arn ?? rest;
    if (type === 'compute' || type === 'delivery' || type === 'access') return `compute:${rest}`;
    if (type === 'identity') return rest;
    const p = principalOfNode(node);
    if (!p) return node;
    if ('arn' in p) return p.arn;
    const partition = (ev.identity.arn ?? '').split(':')[1] || 'aws';
    if ('root' in p) return `arn:${partition}:iam::${p.account}:root`;
    return 'user' in p ? `arn:${partition}:iam::${p.account}:user/${p.user}` : `arn:${partition}:iam::${p.account}:role/${p.role}`;
  }
}

/** The identity that made a record, for edges: its ARN, `service:<name>`, else its principal key. */
function callerLabel(ev: TrailEvent): string {
  return ev.identity.arn ?? (ev.identity.invokedBy ? `service:${ev.identity.invokedBy}` : null) ?? ev.identity.key ?? principalLabel(ev.identity);
}
