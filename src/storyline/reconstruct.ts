/**
 * The reconstruction: from one normalised finding and the CloudTrail records that can matter,
 * the storyline of `shared/design/storyline-contract.md`. Pure: no I/O, no clock.
 *
 * The parts, one module each:
 *  - `edges.ts`: the table of edge kinds (`data/lineage-edges.json`) and what each record acts
 *    with and mints;
 *  - `history.ts`: each credential's and principal's usual sources before the cut;
 *  - `seed.ts`: the finding's credentials, for every finding shape;
 *  - `walk.ts`: backwards to the earliest point the attacker controlled, forwards over what
 *    they controlled; the rules' precedence in one place;
 *  - `steps.ts`: steps with tactics and grants, the origin's reason, the lineage;
 *  - here: the coverage's gaps and the assembly.
 */
import type { NormalizedFinding } from '../model/finding';
import { MAX_LISTED_STEPS, type Coverage, type Storyline } from '../model/storyline';
import type { TrailEvent } from '../trail/event';
import { reasonsInWords, type ReadStats } from '../trail/read';
import { byTime, EdgeIndex, ipOf, nodeType, type Mint } from './edges';
import { History, HISTORY_GAP_MS } from './history';
import { seedOf } from './seed';
import { lineageOf, originReason, toSteps, visibleEdges } from './steps';
import { summarize } from './summary';
import type { EventMap } from './tactics';
import { Walker, type Judged } from './walk';

export interface ReconstructOptions {
  eventMap: EventMap;
}

/**
 * The history's cut (epoch ms): 24 hours before the finding's first-seen time, or before the
 * finding's own time where that is absent; without any time, before the first record.
 */
export function historyCut(finding: NormalizedFinding, events: TrailEvent[]): number {
  for (const t of [finding.eventFirstSeen, finding.createdAt, finding.updatedAt, finding.eventLastSeen]) {
    const ms = t ? Date.parse(t) : NaN;
    if (!Number.isNaN(ms)) return ms - HISTORY_GAP_MS;
  }
  let first = Infinity;
  for (const e of events) first = Math.min(first, e.epochMs);
  return first;
}

/**
 * Reconstructs the storyline of `finding` from `events` (the records the reader kept: those of
 * the lineage's credentials, principals and compute, and every edge record) and the reader's
 * `stats`.
 */
export function reconstruct(finding: NormalizedFinding, events: TrailEvent[], stats: ReadStats, opts: ReconstructOptions): Storyline {
  const coverage = coverageOf(finding, stats);
  const findingPart = {
    id: finding.id,
    type: finding.type,
    accountId: finding.accountId,
    region: finding.region,
    arn: finding.arn,
    severity: finding.severity,
    title: finding.title,
    eventFirstSeen: finding.eventFirstSeen,
    eventLastSeen: finding.eventLastSeen,
    note: finding.note,
    annotation: finding.annotation,
  };
  const empty = (summary: string): Storyline => ({
    schemaVersion: '1',
    finding: findingPart,
    origin: null,
    steps: [],
    lineage: [],
    lineageEdges: [],
    attackerSources: [],
    coverage,
    summary,
  });
  if (finding.sample) {
    coverage.gaps.push('sample finding: GuardDuty generated it with placeholder values, so there is no activity to reconstruct');
    return empty(`Sample finding ${finding.type}: nothing to reconstruct.`);
  }

  const index = new EdgeIndex(events);
  const cut = historyCut(finding, index.events);
  const history = new History(index.events, cut);
  const seed = seedOf(finding, index);
  const walk = new Walker(index, history, seed).run();
  const all = [...walk.steps.values()];
  // The earliest steps are listed, the rest counted (bounded memory and output, origin kept).
  const judged = all.length > MAX_LISTED_STEPS ? [...all].sort((a, b) => byTime(a.ev, b.ev)).slice(0, MAX_LISTED_STEPS) : all;
  const steps = toSteps(judged, opts.eventMap, index);
  const byId = new Map(judged.map((j) => [j.ev.eventId, j]));
  const first = steps[0] ? (byId.get(steps[0].eventId) as Judged) : null;

  const gaps = coverage.gaps;
  const named = finding.actor.accessKeyId;
  if (named && index.usersOf(`key:${named}`).length === 0) gaps.push(`access key ${named} named by the finding does not appear in the records read`);
  if (seed.taken.length === 0 && seed.forced.size === 0) {
    gaps.push(`the finding names no credential found in the records read, and no record matches its API${finding.api ? ` (${finding.api})` : ''}, window${finding.bucketNames.length ? ', buckets' : ''} and address`);
  } else if (!named && seed.how) gaps.push(`actor found from ${seed.how}`);
  const firstSeen = finding.eventFirstSeen ? Date.parse(finding.eventFirstSeen) : NaN;
  if (!Number.isNaN(firstSeen) && stats.maxTime && Date.parse(stats.maxTime) < firstSeen) gaps.push(`the records end at ${stats.maxTime}, before the finding's first-seen time ${finding.eventFirstSeen}`);
  if (stats.minTime && finding.eventLastSeen && Date.parse(stats.minTime) > Date.parse(finding.eventLastSeen)) {
    gaps.push(`the records start at ${stats.minTime}, after the finding's last-seen time ${finding.eventLastSeen}`);
  }

  // Files read only in part (damaged, or cut at their decompression budget) say so among the gaps.
  const partly = (r: string) => r.startsWith('damaged-') || r.startsWith('decompressed-too-large');
  const n = Object.entries(stats.skippedReasons).reduce((sum, [r, k]) => sum + (partly(r) ? k : 0), 0);
  if (n > 0) gaps.push(`${n} file${n > 1 ? 's' : ''} damaged or cut (${reasonsInWords(stats.skippedReasons, partly)}): only the records before the damage were read`);

  if (stats.duplicateRecords > 0) {
    coverage.duplicateRecords = stats.duplicateRecords;
    gaps.push(`${stats.duplicateRecords.toLocaleString('en-US')} record${stats.duplicateRecords > 1 ? 's repeat' : ' repeats'} an eventID already read (the same events from a second trail, or forged copies): each eventID is read once, from the first file in path order`);
  }

  let chainNote: string | null = null;
  if (first) {
    chainNote = chainGap(first, index, walk.legitimateIssues, gaps);
    const accounts = new Set(judged.map((j) => j.ev.identity.accountId).filter((a): a is string => !!a));
    for (const a of accounts) if (stats.accounts.size > 0 && !stats.accounts.has(a)) gaps.push(`no records from account ${a}, whose principals take part in the chain`);
  } else if (gaps.length === 0 || seed.taken.length > 0) {
    gaps.push("no activity of the finding's credentials from an attacker source was found in the records read");
  }

  if (all.length > judged.length) {
    coverage.stepsNotListed = all.length - judged.length;
    const last = steps[steps.length - 1];
    gaps.push(`${coverage.stepsNotListed.toLocaleString('en-US')} later steps, after ${last?.eventTime ?? 'the last listed'}, are not listed: the storyline lists the first ${MAX_LISTED_STEPS.toLocaleString('en-US')}; give --cloudtrail the days after it to see them`);
  }
  const attackerSources = new Map<string, string>();
  for (const j of judged) {
    const ip = ipOf(j.ev);
    if (ip && !attackerSources.has(ip)) attackerSources.set(ip, `${j.ev.eventName} ${j.ev.eventId}: ${j.why}`);
  }
  const storyline: Storyline = {
    schemaVersion: '1',
    finding: findingPart,
    origin: first ? { eventId: first.ev.eventId, eventTime: first.ev.eventTime, eventName: first.ev.eventName, reason: originReason(first, chainNote) } : null,
    steps,
    lineage: lineageOf(steps, walk.edges),
    lineageEdges: visibleEdges(walk.edges),
    attackerSources: [...attackerSources.entries()].map(([ip, reason]) => ({ ip, reason })),
    coverage,
    summary: '',
  };
  storyline.summary = summarize(storyline);
  return storyline;
}

/**
 * What the data says about where the origin's credential came from, added to the gaps; returns
 * a short note for the origin's reason. A credential issued legitimately and taken later without
 * a record (the instance metadata service read by an SSRF); a chain broken where the issuing
 * event is not in the records.
 */
function chainGap(first: Judged, index: EdgeIndex, legitimate: Mint[], gaps: string[]): string | null {
  const ev = first.ev;
  const k = ev.identity.accessKeyId;
  const node = index.edgesOf(ev).uses;
  if (!node || first.reason === 'took-control') return null;
  const family = index.familyOf(ev);
  const issued = legitimate.find((m) => m.node === node || m.node === family);
  if (issued) {
    const by = issued.event.identity.invokedBy ?? issued.event.identity.arn ?? issued.event.sourceIPAddress;
    gaps.push(
      `${k ? `credentials ${k}` : node} were issued legitimately by ${by} at ${issued.event.eventTime} (${issued.event.eventName} ${issued.event.eventId}) and taken later: the taking is not recorded in CloudTrail (read from the instance metadata service, a leaked environment or file)`,
    );
    return 'issued legitimately, taken later';
  }
  if (index.mintsOf(node).length > 0 || (family && index.mintsOf(family).length > 0)) return null;
  const acct = ev.identity.accountId ?? ev.accountId;
  const type = nodeType(node);
  let text: string | null = null;
  if (k?.startsWith('ASIA')) {
    text = `chain broken at ${k}: the event that issued these temporary credentials (AssumeRole, GetSessionToken, a console sign-in or an instance profile) is not in the records read; records from account ${acct} in us-east-1 or the issuing account may be missing`;
  } else if (k?.startsWith('AKIA')) {
    text = `chain broken at ${k}: the CreateAccessKey that created this long-term key is not in the records read (created before the data starts), so how the attacker obtained it is not in the data`;
  } else if (type === 'password') {
    text = `chain broken at the console password of ${node.slice('password:'.length)}: it was set before the records start (or phished), so how the attacker obtained it is not in the data`;
  }
  if (!text) return null;
  gaps.push(text);
  return text.split(':')[0] ?? null;
}

function coverageOf(f: NormalizedFinding, s: ReadStats): Coverage {
  return {
    sample: f.sample,
    filesRead: s.filesRead,
    filesSkipped: s.filesSkipped,
    recordsRead: s.recordsRead,
    recordsSkipped: s.recordsSkipped,
    skippedReasons: { ...s.skippedReasons },
    skippedFiles: [...s.skippedFiles],
    accounts: [...s.accounts].sort(),
    regions: [...s.regions].sort(),
    timeSpan: { from: s.minTime, to: s.maxTime },
    gaps: [],
    recordsExamined: s.recordsExamined,
  };
}

/** The principal key the finding names, from its actor block (`user:<acct>:<name>`, `role:…`, `root:…`). */
export function findingPrincipal(f: NormalizedFinding): string | null {
  const a = f.actor;
  const acct = f.accountId;
  switch (a.userType) {
    case 'IAMUser':
      return a.userName ? `user:${acct}:${a.userName}` : null;
    case 'AssumedRole':
      return a.userName ? `role:${acct}:${a.userName}` : null;
    case 'Root':
      return `root:${acct}`;
    case 'FederatedUser':
      return a.userName ? `federated:${acct}:${a.userName}` : null;
  }
  return null;
}
