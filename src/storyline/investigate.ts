/**
 * The use case behind `trailstory investigate` with the file source: read the finding,
 * gather the CloudTrail records that can matter in (at most) two passes, reconstruct.
 *
 * Pass 1 reads every file once and parses only the issuing events (AssumeRole,
 * CreateAccessKey, ConsoleLogin, …) and the records of the finding's own credentials and
 * principals; it also notes which files each access key and principal occur in. The lineage
 * closure over the issuing events then names every credential and principal that can take
 * part, and pass 2 reopens only the files where the new ones occur.
 */
import type { NormalizedFinding } from '../model/finding';
import { readJsonFile } from '../model/json-file';
import type { Storyline } from '../model/storyline';
import { principalKeyFromArn, sessionComputeId } from '../identity/principal';
import { FindingInputError } from '../findings/errors';
import { parseFindings, selectFinding } from '../findings/normalize';
import type { TrailEvent } from '../trail/event';
import { KeptRecordsError, listTrailFiles, MAX_KEPT_BYTES, MAX_KEPT_RECORDS, noteSkippedFile, readTrailFiles, reasonsInWords, TrailInputError, type ReadStats, type RecordSelector, type TokenIndex } from '../trail/read';
import type { LightView } from '../trail/scan';
import { baseEventName, computeId, EDGE_EVENT_NAMES, EdgeIndex, nodeType, principalOfNode, readEdges } from './edges';
import { findingPrincipal, reconstruct } from './reconstruct';
import { seedOf } from './seed';
import { loadEventMap } from './tactics';
import { memoize } from '../model/memo';

export interface InvestigateOptions {
  /** Path of the finding file (any accepted form). */
  findingFile: string;
  /** GuardDuty finding id or ARN, for files holding several findings. */
  findingId?: string;
  /** Files or folders of CloudTrail records. */
  cloudtrail: string[];
  /** A user event map (JSON) merged over `data/event-tactics.json`. */
  eventMapFile?: string;
}

/**
 * Reads and selects the finding.
 * @throws FindingInputError (one line naming the file) when the file is missing, not JSON,
 *   not a finding, or holds several findings and no id was chosen (AmbiguousFindingError).
 */
export function readFinding(file: string, findingId?: string): NormalizedFinding {
  const doc = readJsonFile(file, { kind: 'finding file', unreadable: 'cannot read the finding file', invalid: 'is not valid JSON' }, (problem) => new FindingInputError(file, problem));
  return selectFinding(parseFindings(doc, file), file, findingId);
}

/** The tokens that select records: access keys, principal keys, session names, eventIDs, event names. */
export interface Tokens {
  keys: Set<string>;
  principals: Set<string>;
  sessionNames: Set<string>;
  eventIds: Set<string>;
  /** Event names whose records are all read (the finding's API, when it names no key). */
  eventNames: Set<string>;
}

function emptyTokens(): Tokens {
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
 * select them by, and they are rare, so they are always parsed.
 */
const PORTAL_EVENT_NAMES: ReadonlySet<string> = new Set(['ListAccounts', 'ListAccountRoles', 'GetRoleCredentials', 'CreateToken', 'Logout', 'Federate', 'Authenticate', 'GetRoleCredentialsWithToken']);


/** Whether every record of an event name is read (edge and portal events); names repeat, so it is cached. */
const isAlwaysRead = memoize((name) => EDGE_EVENT_NAMES.has(baseEventName(name)) || PORTAL_EVENT_NAMES.has(name));

function selectorFor(t: Tokens, withEdges: boolean): RecordSelector {
  return {
    withEventId: t.eventIds.size > 0,
    select(v: LightView): boolean {
      if (v.eventName) {
        if (withEdges && isAlwaysRead(v.eventName)) return true;
        if (t.eventNames.size > 0 && t.eventNames.has(v.eventName)) return true;
      }
      if (v.accessKeyId && t.keys.has(v.accessKeyId)) return true;
      if (v.arn) {
        const pk = v.principalKey !== undefined ? v.principalKey : principalKeyFromArn(v.arn);
        if (pk && t.principals.has(pk)) return true;
        if (t.sessionNames.size > 0) {
          const s = v.sessionName !== undefined ? v.sessionName : sessionComputeId(v.arn);
          if (s && t.sessionNames.has(s)) return true;
        }
      }
      return v.eventId !== null && t.eventIds.size > 0 && t.eventIds.has(v.eventId);
    },
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
  return lineageClosure(t, events, finding).tokens;
}

/** {@link closeTokens}, and the eventIDs of the records the closure reached. */
export function lineageClosure(t: Tokens, events: TrailEvent[], finding?: NormalizedFinding): { tokens: Tokens; reached: Set<string> } {
  const out: Tokens = { keys: new Set(t.keys), principals: new Set(t.principals), sessionNames: new Set(t.sessionNames), eventIds: new Set(t.eventIds), eventNames: new Set(t.eventNames) };
  const computeNodes = (c: string) => [`compute:${c}`, `delivery:${c}`, `access:${c}`];
  // Every record's nodes, read once; console sessions at the level of their ARN (or role), a
  // superset of the walk's exact sessions.
  const nodesOf: string[][] = [];
  const byNode = new Map<string, number[]>();
  const link = (node: string, i: number) => {
    const l = byNode.get(node);
    if (l) l.push(i);
    else byNode.set(node, [i]);
  };
  events.forEach((ev, i) => {
    const e = readEdges(ev);
    const list = e.mints.map((m) => (m.node.startsWith('session:') ? m.node.split('|')[0] ?? m.node : m.node));
    if (e.uses) list.push(e.uses);
    const p = ev.identity;
    if (p.arn && p.sessionCreationDate) {
      list.push(`session:${p.arn}`);
      if (p.type === 'AssumedRole' && p.key) list.push(`session:${p.key.slice('role:'.length)}`);
    }
    if (p.accessKeyId) list.push(`key:${p.accessKeyId}`);
    if (p.type === 'AssumedRole' && p.sessionName) list.push(...computeNodes(computeId(p.sessionName)));
    nodesOf.push(list);
    for (const n of list) link(n, i);
    // A created user's node reaches every record of that user (but a record does not reach its principal).
    if (p.key) link(`principal:user:${p.key.slice(p.key.indexOf(':') + 1)}`, i);
    if (out.eventIds.has(ev.eventId)) link('$named', i);
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
  if (finding && (!keyPresent || finding.attackSequence || finding.principalArns)) for (const n of seedOf(finding, new EdgeIndex(events)).taken) enqueue(n);
  const visited = new Set<number>();
  while (queue.length > 0) {
    const n = queue.pop() as string;
    for (const i of byNode.get(n) ?? []) {
      if (visited.has(i)) continue;
      visited.add(i);
      for (const m of nodesOf[i] ?? []) enqueue(m);
      const key = events[i]?.identity.key;
      if (key) out.principals.add(key);
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
    const id = events[i]?.eventId;
    if (id) reached.add(id);
  }
  return { tokens: out, reached };
}

/** Whether a record is selected by the tokens: its key, principal, role session name, eventID or event name. */
function selectedBy(ev: TrailEvent, t: Tokens): boolean {
  const p = ev.identity;
  return (
    (p.accessKeyId !== null && t.keys.has(p.accessKeyId)) ||
    (p.key !== null && t.principals.has(p.key)) ||
    (p.type === 'AssumedRole' && p.sessionName !== null && t.sessionNames.has(computeId(p.sessionName))) ||
    t.eventIds.has(ev.eventId) ||
    t.eventNames.has(ev.eventName)
  );
}

function mergeSkips(into: ReadStats, from: ReadStats): void {
  into.recordsExamined += from.recordsExamined;
  for (const [reason, n] of Object.entries(from.skippedReasons)) {
    if (!/^malformed-record \((invalid JSON|no-|bad-|eventTime-out-of-range)/.test(reason)) continue;
    into.skippedReasons[reason] = (into.skippedReasons[reason] ?? 0) + n;
    into.recordsSkipped += n;
  }
}

/** The skips of a read in a few words: `1 file skipped (damaged-gzip); 3 records skipped (malformed-record (no-eventID))`. */
function whatWasSkipped(stats: ReadStats): string {
  const reasons = (keep: (r: string) => boolean) => reasonsInWords(stats.skippedReasons, keep);
  const isRecord = (r: string) => r.startsWith('malformed-record') || r === 'insight-event';
  const parts: string[] = [];
  if (stats.filesSkipped > 0) parts.push(`${stats.filesSkipped} file${stats.filesSkipped > 1 ? 's' : ''} skipped: ${reasons((r) => !isRecord(r))}`);
  if (stats.recordsSkipped > 0) parts.push(`${stats.recordsSkipped} record${stats.recordsSkipped > 1 ? 's' : ''} skipped: ${reasons(isRecord)}`);
  return parts.join('; ');
}

/** What {@link collectTrail} gathered. */
export interface Collected {
  events: TrailEvent[];
  stats: ReadStats;
  passes: number;
  filesReopened: number;
}

/**
 * Gathers the records that can matter for `finding` from local files.
 * @throws TrailInputError when a path does not exist or holds no CloudTrail file at all, and
 *   when not one record could be read from all of them (every file damaged, every record
 *   malformed, or no record at all: `{"Records":[]}`); and when more records would be kept than one run holds
 *   (`MAX_KEPT_RECORDS`).
 */
export async function collectTrail(finding: NormalizedFinding, paths: string[]): Promise<Collected> {
  try {
    return await collectWithin(finding, paths);
  } catch (e) {
    if (e instanceof KeptRecordsError) throw new TrailInputError(`${paths.join(', ')}: ${e.message}; give --cloudtrail fewer days around the finding`);
    throw e;
  }
}

async function collectWithin(finding: NormalizedFinding, paths: string[]): Promise<Collected> {
  const unlisted: { file: string; reason: string }[] = [];
  const perPath = paths.map((p) => {
    const before = unlisted.length;
    const files = listTrailFiles([p], unlisted);
    return { p, files, left: unlisted.slice(before) };
  });
  const files = perPath.flatMap((x) => x.files);
  const index: TokenIndex = new Map();
  const seed = seedTokens(finding);
  const seen = new Set<string>();
  const r1 = await readTrailFiles(files, selectorFor(seed, true), { index, seen });
  let offset = 0;
  for (const { p, files: fs1, left } of perPath) {
    const flags = r1.cloudTrailFlags.slice(offset, offset + fs1.length);
    offset += fs1.length;
    if (!flags.some(Boolean)) {
      const reasons = [...new Set(left.map((u) => u.reason))].join(', ');
      const none = left.length > 0 ? `holds no file that can be read (${left.length} entr${left.length > 1 ? 'ies' : 'y'} left out: ${reasons})` : 'holds no files';
      throw new TrailInputError(fs1.length === 0 ? `${p}: ${none}` : `${p}: holds no CloudTrail file (${fs1.length} file(s) read, none of them CloudTrail records)`);
    }
  }
  const usable = r1.stats.recordsRead - r1.stats.recordsSkipped;
  if (usable <= 0) throw new TrailInputError(`${paths.join(', ')}: no CloudTrail record could be read (${whatWasSkipped(r1.stats) || 'the files hold no records'})`);
  const { tokens: closed, reached } = lineageClosure(seed, r1.events, finding);
  const newKeys = [...closed.keys].filter((k) => !seed.keys.has(k));
  const newPrincipals = [...closed.principals].filter((k) => !seed.principals.has(k));
  const newSessions = [...closed.sessionNames].filter((k) => !seed.sessionNames.has(k));
  const fileIds = new Set<number>();
  for (const tok of [...newKeys, ...newPrincipals, ...newSessions.map((s) => `session:${s}`)]) for (const i of index.get(tok) ?? []) fileIds.add(i);
  const stats = r1.stats;
  for (const u of unlisted) noteSkippedFile(stats, u.file, u.reason);
  const events = r1.events;
  let passes = 1;
  if (fileIds.size > 0) {
    passes = 2;
    const ids = [...fileIds].sort((a, b) => a - b);
    const delta: Tokens = { keys: new Set(newKeys), principals: new Set(newPrincipals), sessionNames: new Set(newSessions), eventIds: new Set(), eventNames: new Set() };
    const r2 = await readTrailFiles(
      ids.map((i) => files[i] as string),
      selectorFor(delta, false),
      { seen, fileIds: ids, countStructural: false, maxKept: Math.max(0, MAX_KEPT_RECORDS - events.length), maxKeptBytes: Math.max(0, MAX_KEPT_BYTES - r1.keptBytes) },
    );
    events.push(...r2.events);
    mergeSkips(stats, r2.stats);
  }
  // Edge records of other principals that no edge joins to the finding's play no part.
  const kept = events.filter((ev) => reached.has(ev.eventId) || selectedBy(ev, closed));
  return { events: kept, stats, passes, filesReopened: fileIds.size };
}

/**
 * Investigates one finding against local CloudTrail: the whole main job of the CLI.
 * @throws FindingInputError for a bad finding file, TrailInputError for a bad trail path.
 */
export async function investigate(opts: InvestigateOptions): Promise<Storyline> {
  const finding = readFinding(opts.findingFile, opts.findingId);
  const eventMap = loadEventMap(opts.eventMapFile);
  const { events, stats } = await collectTrail(finding, opts.cloudtrail);
  return reconstruct(finding, events, stats, { eventMap });
}
