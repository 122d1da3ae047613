/**
 * The lineage closure as rounds, over any source of CloudTrail records: one driver for the
 * local files (read once, then reopened where new tokens occur), `LookupEvents` (one attribute
 * a call) and Athena (one query per partition group a round).
 *
 * Each round asks the source for the records of the frontier: the tokens (access keys,
 * principals, role session names, instance and function names, eventIDs, event names) that
 * no earlier round asked for. The source answers with records (whole) and, where it has them
 * cheaper, closure rows only ({@link ClosureRow}: the files' issuing and creating records). The
 * driver keeps what the rules of selection keep (a record of an asked token, any issuing,
 * creating, control or portal record), runs the lineage closure over everything kept so far,
 * and the next frontier is what the closure names that was not asked yet, plus the eventIDs of
 * records known only as rows that the closure reached (to be fetched whole). It stops when the
 * frontier is empty, when the source says it can go no further (a budget spent), or after
 * `maxRounds`.
 *
 * The records kept at the end are those the closure reached and those of its tokens, in the
 * order the source gave them: the same rule for every source, so the storyline from Athena is
 * the storyline from the same records in files.
 */
import type { NormalizedFinding } from '../model/finding';
import type { TrailEvent } from '../trail/event';
import { closureRowOf, emptyTokens, lineageClosure, selectedBy, selectorOf, selectSpec, seedTokens, type ClosureRow, type Tokens } from './closure';
import { anchorWindow } from './seed';

/** What a round asks of a source. */
export interface RoundRequest {
  /** 0 for the first round. */
  round: number;
  /** The tokens no earlier round asked for (eventIds: also records known only as rows, to fetch whole). */
  frontier: Tokens;
  /** Every token asked so far, the frontier included. */
  asked: Tokens;
  /**
   * The finding's anchor window (epoch ms), first round only: its issuing, creating and control
   * records there are wanted whole (the finding's own events are looked for among them).
   */
  anchors: { from: number; to: number } | null;
}

/** What a source answers for a round. */
export interface RoundAnswer {
  /** Records read whole. A source may answer more than it was asked: the driver selects. */
  events: TrailEvent[];
  /** Records known only as their closure row (the files' issuing records outside the anchor window). */
  rows?: ClosureRow[];
  /** The source can answer no further round (a budget spent, time out): say why in its gaps. */
  exhausted?: boolean;
}

/** A source of records, one round at a time. */
export interface RoundSource {
  round(req: RoundRequest): Promise<RoundAnswer>;
}

/** What {@link closeInRounds} gathered. */
export interface RoundsResult {
  /** The records kept, in the order the source gave them. */
  events: TrailEvent[];
  /** Rounds asked of the source. */
  rounds: number;
  /** The closure's tokens at the end. */
  tokens: Tokens;
  /** Tokens the closure named that were never asked (the source was exhausted or `maxRounds` reached). */
  unasked: Tokens;
}

const KINDS = ['keys', 'principals', 'sessionNames', 'eventIds', 'eventNames'] as const;

function minus(a: Tokens, b: Tokens): Tokens {
  const out = emptyTokens();
  for (const k of KINDS) for (const v of a[k]) if (!b[k].has(v)) out[k].add(v);
  return out;
}

function addAll(into: Tokens, from: Tokens): void {
  for (const k of KINDS) for (const v of from[k]) into[k].add(v);
}

/** Whether a set of tokens is empty. */
export function noTokens(t: Tokens): boolean {
  return KINDS.every((k) => t[k].size === 0);
}

/** The number of tokens of every kind. */
export function tokenCount(t: Tokens): number {
  return KINDS.reduce((n, k) => n + t[k].size, 0);
}

/**
 * Runs the lineage closure over a {@link RoundSource} until nothing new is named.
 * @param maxRounds rounds at most (default 12); a closure that needs more is cut, the tokens
 *   left in {@link RoundsResult.unasked}
 */
export async function closeInRounds(finding: NormalizedFinding, source: RoundSource, maxRounds = 12): Promise<RoundsResult> {
  const seed = seedTokens(finding);
  const asked = emptyTokens();
  const whole = new Map<string, TrailEvent>();
  const order: TrailEvent[] = [];
  const rowsOnly = new Map<string, ClosureRow>();
  // Records the source gave whole that are not kept whole (yet): as rows, or not selected (yet).
  const given = new Map<string, TrailEvent>();
  const keepWhole = (ev: TrailEvent) => {
    whole.set(ev.eventId, ev);
    order.push(ev);
    rowsOnly.delete(ev.eventId);
    given.delete(ev.eventId);
  };
  let frontier = seed;
  let closed = seed;
  let reached = new Set<string>();
  let rounds = 0;
  const anchors = anchorWindow(finding);
  // The first round always runs: a finding without tokens still has its anchor window.
  while ((rounds === 0 || !noTokens(frontier)) && rounds < maxRounds) {
    addAll(asked, frontier);
    const requested = frontier;
    const answer = await source.round({ round: rounds, frontier, asked, anchors: rounds === 0 ? anchors : null });
    rounds++;
    // What the rules of selection keep of the answer: records of an asked token, every
    // issuing, creating, control and portal record (whole in the anchor window or when asked
    // by eventID, else as its row).
    for (const ev of answer.events) if (!whole.has(ev.eventId) && !given.has(ev.eventId)) given.set(ev.eventId, ev);
    // Every record given so far that is not kept whole, selected again with the tokens asked so
    // far: a record of a token asked later may have come in an earlier round.
    const select = selectorOf(selectSpec(asked, true));
    for (const ev of [...given.values()]) {
      // The light view the file reader selects on: the caller's key and ARN (else its session issuer's).
      const sel = select.select({ eventName: ev.eventName, accessKeyId: ev.identity.accessKeyId, arn: ev.identity.arn ?? ev.identity.sessionIssuerArn, eventId: ev.eventId, identity: true });
      const inAnchors = anchors !== null && ev.epochMs >= anchors.from && ev.epochMs <= anchors.to;
      if (sel === true || (sel === 'summary' && inAnchors)) keepWhole(ev);
      else if (sel === 'summary' && !rowsOnly.has(ev.eventId)) rowsOnly.set(ev.eventId, closureRowOf(ev));
    }
    for (const r of answer.rows ?? []) if (!whole.has(r.eventId) && !rowsOnly.has(r.eventId)) rowsOnly.set(r.eventId, r);
    // The closure; rows it wants whole that the source already gave whole are taken at once.
    for (;;) {
      const events = [...whole.values()];
      const c = lineageClosure(seed, [...events.map(closureRowOf), ...rowsOnly.values()], finding, events);
      closed = c.tokens;
      reached = c.reached;
      const wanted = [...rowsOnly].filter(([id, r]) => reached.has(id) || selectedBy(r, closed)).map(([id]) => id);
      const promote = wanted.filter((id) => given.has(id));
      if (promote.length === 0) {
        frontier = minus(closed, asked);
        for (const id of wanted) if (!asked.eventIds.has(id)) frontier.eventIds.add(id);
        break;
      }
      for (const id of promote) keepWhole(given.get(id) as TrailEvent);
    }
    if (answer.exhausted) {
      // What this round asked for may not all have been read: left unasked too.
      addAll(frontier, requested);
      break;
    }
  }
  const kept = order.filter((ev) => reached.has(ev.eventId) || selectedBy(closureRowOf(ev), closed));
  return { events: kept, rounds, tokens: closed, unasked: frontier };
}
