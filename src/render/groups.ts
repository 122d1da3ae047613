/**
 * Runs of similar calls, so that a story of any size stays readable. A group is consecutive
 * steps of one principal from one source (calls of others in between do not break it), each
 * less than five minutes after the one before, that are alike: at the finest level the same tactic and service, then the same tactic, then
 * (for the longest stories) any tactic, the group naming its tactics and calls with their
 * counts. The finest level that keeps the timeline within `maxGroups` lines is used, else the
 * one with the fewest groups. Each group has its count, time span and first and last eventID.
 *
 * What must stay visible is never folded into a group: the origin, every step that is a lineage
 * edge's evidence, every step that granted something, and every failed privilege change.
 * `--format json` keeps every step; text, Markdown, Mermaid and HTML show groups. Pure.
 */
import type { Grant, Step, Storyline, Tactic } from '../model/storyline';

/** Consecutive calls this close (ms) can share a group. */
export const GROUP_GAP_MS = 5 * 60 * 1000;
/** The timeline's target length in groups: the finest grouping within it is used. */
export const MAX_GROUPS = 60;
/** The evidence table's target length in rows. */
export const MAX_EVIDENCE_ROWS = 400;

/** How alike the steps of one group are (`each`: no grouping, one step a line). */
export type GroupLevel = 'each' | 'tactic-and-service' | 'tactic' | 'source';
const LEVELS: GroupLevel[] = ['each', 'tactic-and-service', 'tactic', 'source'];

/** One line of a timeline: a single step, or a run of similar ones. */
export interface StepGroup {
  steps: Step[];
  first: Step;
  last: Step;
  /** `service:EventName` with their counts, in order of first call. */
  calls: [string, number][];
  /** Tactics with their counts (null: unmapped), in order of first call. */
  tactics: [Tactic | null, number][];
  principalArn: string | null;
  sourceIPAddress: string;
  /** Calls that failed (errorCode set). */
  failed: number;
  regions: string[];
  /** Kept on its own: the origin, a lineage edge's evidence, a grant, a failed privilege change. */
  pinned: boolean;
  /** Holds the origin. */
  origin: boolean;
}

/** Steps that must stay on their own line (see the module comment). */
function pinnedSteps(st: Storyline): Set<string> {
  const out = new Set<string>();
  if (st.origin) out.add(st.origin.eventId);
  for (const e of st.lineageEdges) out.add(e.eventId);
  for (const s of st.steps) {
    if (s.grants && s.grants.length > 0) out.add(s.eventId);
    if (s.errorCode && (s.tactic?.id === 'TA0004' || s.tactic?.id === 'TA0003')) out.add(s.eventId);
  }
  return out;
}

function callOf(s: Step): string {
  return `${s.eventSource.replace(/\.amazonaws\.com$/, '')}:${s.eventName}`;
}

function bump<K>(list: [K, number][], k: K, same: (a: K, b: K) => boolean): void {
  const e = list.find((x) => same(x[0], k));
  if (e) e[1]++;
  else list.push([k, 1]);
}

function groupAt(st: Storyline, level: GroupLevel, gapMs: number, pinned: Set<string>): StepGroup[] {
  const groups: StepGroup[] = [];
  // Each open group's calls by name, so a group of many distinct calls is not searched per call.
  const callsOf = new Map<StepGroup, Map<string, [string, number]>>();
  // Each stream (one principal from one source, and at the finer levels one tactic and service)
  // keeps its open group; calls of other streams in between do not break it.
  const open = new Map<string, StepGroup>();
  const sameTactic = (a: Tactic | null, b: Tactic | null) => (a?.id ?? null) === (b?.id ?? null);
  for (const s of st.steps) {
    const stream = [s.principalArn ?? '', s.sourceIPAddress, level === 'source' ? '' : s.tactic?.id ?? '-', level === 'tactic-and-service' ? s.eventSource : ''].join('\u0000');
    const pin = pinned.has(s.eventId);
    const cur = open.get(stream);
    if (cur && !pin && level !== 'each' && Date.parse(s.eventTime) - Date.parse(cur.last.eventTime) < gapMs) {
      cur.steps.push(s);
      cur.last = s;
      const byName = callsOf.get(cur);
      const call = byName?.get(callOf(s));
      if (call) call[1]++;
      else {
        const made: [string, number] = [callOf(s), 1];
        cur.calls.push(made);
        byName?.set(made[0], made);
      }
      bump(cur.tactics, s.tactic, sameTactic);
      if (s.errorCode) cur.failed++;
      if (!cur.regions.includes(s.region)) cur.regions.push(s.region);
      continue;
    }
    const g: StepGroup = {
      steps: [s],
      first: s,
      last: s,
      calls: [[callOf(s), 1]],
      tactics: [[s.tactic, 1]],
      principalArn: s.principalArn,
      sourceIPAddress: s.sourceIPAddress,
      failed: s.errorCode ? 1 : 0,
      regions: [s.region],
      pinned: pin,
      origin: st.origin?.eventId === s.eventId,
    };
    groups.push(g);
    // A pinned step stands alone and closes its stream's run, so the timeline stays in order.
    if (cur) callsOf.delete(cur);
    if (pin) open.delete(stream);
    else {
      callsOf.set(g, new Map(g.calls.map((c) => [c[0], c])));
      open.set(stream, g);
    }
  }
  return groups;
}

/**
 * The storyline's steps as groups, in time order: the finest level (see {@link GroupLevel})
 * with at most `maxGroups` groups, else the level with the fewest.
 * @param opts.gapMs the longest pause inside a group (default five minutes)
 * @param opts.keepPinned false folds the steps that otherwise stay on their own too (for a
 *   format with a hard size limit; default true)
 */
export function groupSteps(st: Storyline, opts: { maxGroups?: number; gapMs?: number; keepPinned?: boolean } = {}): { level: GroupLevel; groups: StepGroup[] } {
  const pinned = opts.keepPinned === false ? new Set<string>() : pinnedSteps(st);
  const max = opts.maxGroups ?? MAX_GROUPS;
  let best: { level: GroupLevel; groups: StepGroup[] } | null = null;
  for (const level of LEVELS) {
    const out = { level, groups: groupAt(st, level, opts.gapMs ?? GROUP_GAP_MS, pinned) };
    if (out.groups.length <= max) return out;
    if (!best || out.groups.length < best.groups.length) best = out;
  }
  return best ?? { level: 'source', groups: [] };
}

/** A group's calls in words, the most frequent first: `ec2:DescribeInstances x6, ssm:GetParameter x2`, at most `max` of them. */
export function groupCalls(g: StepGroup, max = 4): string {
  const sorted = [...g.calls].sort((a, b) => b[1] - a[1]);
  const shown = sorted.slice(0, max).map(([c, n]) => (n > 1 ? `${c} x${n}` : c));
  const rest = sorted.length - shown.length;
  return shown.join(', ') + (rest > 0 ? `, +${rest} more APIs` : '');
}

/** A group's tactics in words: `TA0007 Discovery`, or `Discovery x500, Credential Access x200, unmapped x12`. */
export function groupTactics(g: StepGroup): string {
  if (g.tactics.length === 1) {
    const t = g.tactics[0]?.[0];
    return t ? `${t.id} ${t.name}` : 'unmapped';
  }
  return [...g.tactics].sort((a, b) => b[1] - a[1]).map(([t, n]) => `${t ? t.name : 'unmapped'} x${n}`).join(', ');
}

/** A group's time span: `2023-07-10T11:54:35Z`, or `2023-07-10T11:54:35Z..11:58:10Z` (the end's date when it differs). */
export function groupSpan(g: StepGroup): string {
  const a = g.first.eventTime;
  const b = g.last.eventTime;
  if (a === b) return a;
  return `${a}..${a.slice(0, 10) === b.slice(0, 10) ? b.slice(11) : b}`;
}

/** The distinct values of a field over a group's steps, in the order they first occur. */
export function distinctOf<T>(g: StepGroup, pick: (s: Step) => T): T[] {
  return [...new Set(g.steps.map(pick))];
}

/** Every grant of a group's steps, in step order. */
export function groupGrants(g: StepGroup): Grant[] {
  return g.steps.flatMap((s) => s.grants ?? []);
}

/** The evidence table's rows: the storyline's steps grouped within {@link MAX_EVIDENCE_ROWS}. */
export function evidenceGroups(st: Storyline): StepGroup[] {
  return groupSteps(st, { maxGroups: MAX_EVIDENCE_ROWS }).groups;
}

/** The evidence table's row number (1-based) of each step's eventID, for links to it. */
export function evidenceRowOf(st: Storyline, rows: StepGroup[] = evidenceGroups(st)): Map<string, number> {
  const out = new Map<string, number>();
  rows.forEach((g, i) => {
    for (const s of g.steps) out.set(s.eventId, i + 1);
  });
  return out;
}

/** EventIDs the report lists in each of its places (the diagram, the timeline, the evidence): every one up to this many steps. */
export const LISTED_IDS = 4000;

/**
 * The eventIDs of one list (`ids`, a row's or a phase's) that a report of `total` steps shows
 * when it may list `budget` in each place: all of them while `total <= budget`; else the list's
 * share of the budget, at least 8. So one place lists about `budget` eventIDs whatever the
 * number of steps. Returns the ids shown and how many are left out.
 */
export function listIds(ids: readonly string[], total: number, budget: number = LISTED_IDS): { shown: string[]; more: number } {
  if (total <= budget || ids.length <= 8) return { shown: [...ids], more: 0 };
  const n = Math.min(ids.length, Math.max(8, Math.ceil((ids.length * budget) / total)));
  return { shown: ids.slice(0, n), more: ids.length - n };
}

/** The resource part of an ARN (`role/x`, `assumed-role/x/s`), or the ARN as it is. */
function shortArn(arn: string): string {
  const m = /^arn:[^:]*:[^:]*:[^:]*:[^:]*:(.*)$/s.exec(arn);
  return m?.[1] ?? arn;
}

/** One grant as words. */
export function grantText(g: Grant): string {
  const to = g.target ? ` → ${g.target}` : '';
  switch (g.kind) {
    case 'managed-policy':
      return `attach ${g.value ?? '?'}${to}`;
    case 'inline-policy':
      return `inline policy ${g.value ?? '?'}${to}`;
    case 'policy-version':
      return `new default version of ${g.value ?? '?'}`;
    case 'group-membership':
      return `add ${g.target ?? '?'} to group ${g.value ?? '?'}`;
    case 'trust-policy':
      return `trust policy of ${g.target ?? '?'}`;
    case 'passed-role':
      return `pass role ${g.value ?? '?'}${to}`;
    case 'access-key':
      return `new access key ${g.value ?? '?'} for ${g.target ?? '?'}`;
    case 'login-profile':
      return `console password for ${g.target ?? '?'}`;
    case 'session':
      return `session ${g.value ? shortArn(g.value) : '?'}`;
    case 'user':
      return `new user ${g.value ?? '?'}`;
  }
  return `${String(g.kind)} ${g.value ?? ''}${to}`;
}
