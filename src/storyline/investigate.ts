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
import { principalKeyFromArn } from '../identity/principal';
import { FindingInputError } from '../findings/errors';
import { parseFindings, selectFinding } from '../findings/normalize';
import type { TrailEvent } from '../trail/event';
import { listTrailFiles, readTrailFiles, TrailInputError, type ReadStats, type RecordSelector, type TokenIndex } from '../trail/read';
import type { LightView } from '../trail/scan';
import { ISSUING_EVENT_NAMES, readIssuance } from './issuance';
import { findingPrincipal, reconstruct } from './reconstruct';
import { loadEventMap } from './tactics';

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
  const doc = readJsonFile(file, { unreadable: 'cannot read the finding file', invalid: 'is not valid JSON' }, (problem) => new FindingInputError(file, problem));
  return selectFinding(parseFindings(doc, file), file, findingId);
}

/** The tokens that select records: access keys, principal keys, session names, eventIDs. */
export interface Tokens {
  keys: Set<string>;
  principals: Set<string>;
  sessionNames: Set<string>;
  eventIds: Set<string>;
}

/** The finding's own tokens. */
export function seedTokens(f: NormalizedFinding): Tokens {
  const t: Tokens = { keys: new Set(), principals: new Set(), sessionNames: new Set(), eventIds: new Set() };
  if (f.actor.accessKeyId) t.keys.add(f.actor.accessKeyId);
  const p = findingPrincipal(f);
  if (p) t.principals.add(p);
  if (f.instanceId) t.sessionNames.add(f.instanceId);
  for (const k of f.attackSequence?.accessKeyIds ?? []) t.keys.add(k);
  for (const a of f.attackSequence?.actorArns ?? []) {
    const pk = principalKeyFromArn(a);
    if (pk) t.principals.add(pk);
  }
  for (const id of f.attackSequence?.eventIds ?? []) t.eventIds.add(id);
  return t;
}

/**
 * IAM Identity Center portal calls: their identity (`IdentityCenterUser`) has no ARN or key to
 * select them by, and they are rare, so they are always parsed.
 */
const PORTAL_EVENT_NAMES: ReadonlySet<string> = new Set(['ListAccounts', 'ListAccountRoles', 'GetRoleCredentials', 'CreateToken', 'Logout', 'Federate', 'Authenticate', 'GetRoleCredentialsWithToken']);

function sessionOfArn(arn: string | null): string | null {
  if (!arn || !arn.includes(':assumed-role/')) return null;
  const i = arn.lastIndexOf('/');
  return i >= 0 ? arn.slice(i + 1) : null;
}

function selectorFor(t: Tokens, withIssuing: boolean): RecordSelector {
  return {
    withEventId: t.eventIds.size > 0,
    select(v: LightView): boolean {
      if (withIssuing && v.eventName && (ISSUING_EVENT_NAMES.has(v.eventName) || PORTAL_EVENT_NAMES.has(v.eventName))) return true;
      if (v.accessKeyId && t.keys.has(v.accessKeyId)) return true;
      if (v.arn) {
        const pk = principalKeyFromArn(v.arn);
        if (pk && t.principals.has(pk)) return true;
        if (t.sessionNames.size > 0) {
          const s = sessionOfArn(v.arn);
          if (s && t.sessionNames.has(s)) return true;
        }
      }
      return v.eventId !== null && t.eventIds.has(v.eventId);
    },
  };
}

/**
 * The lineage closure over the events read so far: every key and principal joined to the
 * tokens by an issuing edge, forwards and backwards, and the principals of those keys; with
 * `launcherOfInstance`, also whoever launched an instance whose sessions are tokens.
 */
export function closeTokens(t: Tokens, events: TrailEvent[], launcherOfInstance = true): Tokens {
  const out: Tokens = { keys: new Set(t.keys), principals: new Set(t.principals), sessionNames: new Set(t.sessionNames), eventIds: new Set(t.eventIds) };
  const issuances = events.map(readIssuance).filter((x) => x !== null);
  let changed = true;
  while (changed) {
    changed = false;
    const add = (set: Set<string>, v: string | null | undefined) => {
      if (v && !set.has(v)) {
        set.add(v);
        changed = true;
      }
    };
    const sessions = new Set<string>();
    for (const ev of events) {
      if (ev.identity.accessKeyId && out.keys.has(ev.identity.accessKeyId)) {
        add(out.principals, ev.identity.key);
        if (ev.identity.sessionName) sessions.add(ev.identity.sessionName);
      }
    }
    for (const iss of issuances) {
      const ev = iss.event;
      const callerIn = (ev.identity.accessKeyId && out.keys.has(ev.identity.accessKeyId)) || (ev.identity.key && out.principals.has(ev.identity.key));
      const mintedIn = (iss.mintedKey && out.keys.has(iss.mintedKey)) || false;
      if (callerIn) {
        add(out.keys, iss.mintedKey);
        add(out.principals, iss.mintedPrincipal);
        for (const id of iss.computeSessions) add(out.sessionNames, id);
      }
      // A federated user in the lineage: the IAM user whose key called GetFederationToken for it.
      const federatedIn = ev.eventName === 'GetFederationToken' && iss.mintedPrincipal !== null && out.principals.has(iss.mintedPrincipal);
      if ((mintedIn || federatedIn) && ev.identity.type !== 'AWSService') {
        add(out.keys, ev.identity.accessKeyId);
        add(out.principals, ev.identity.key);
      }
      const lambdaChange = ev.eventName.endsWith('20150331') || ev.eventName.endsWith('20150331v2');
      const feedsLineage = iss.computeSessions.some((id) => out.sessionNames.has(id) || (lambdaChange && sessions.has(id)));
      if ((launcherOfInstance || lambdaChange) && feedsLineage && ev.identity.type !== 'AWSService') {
        add(out.keys, ev.identity.accessKeyId);
        add(out.principals, ev.identity.key);
      }
      const sess = typeof ev.requestParameters?.roleSessionName === 'string' ? ev.requestParameters.roleSessionName : null;
      if (sess && out.sessionNames.has(sess)) {
        add(out.keys, iss.mintedKey);
        add(out.principals, iss.mintedPrincipal);
      }
    }
  }
  return out;
}

function mergeSkips(into: ReadStats, from: ReadStats): void {
  into.recordsExamined += from.recordsExamined;
  for (const [reason, n] of Object.entries(from.skippedReasons)) {
    if (!reason.startsWith('malformed-record (invalid JSON)') && !reason.startsWith('malformed-record (no-') && !reason.startsWith('malformed-record (bad-')) continue;
    into.skippedReasons[reason] = (into.skippedReasons[reason] ?? 0) + n;
    into.recordsSkipped += n;
  }
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
 * @throws TrailInputError when a path does not exist or holds no CloudTrail file at all.
 */
export async function collectTrail(finding: NormalizedFinding, paths: string[]): Promise<Collected> {
  const perPath = paths.map((p) => ({ p, files: listTrailFiles([p]) }));
  const files = perPath.flatMap((x) => x.files);
  const index: TokenIndex = new Map();
  const seed = seedTokens(finding);
  const seen = new Set<string>();
  const r1 = await readTrailFiles(files, selectorFor(seed, true), { index, seen });
  let offset = 0;
  for (const { p, files: fs1 } of perPath) {
    const flags = r1.cloudTrailFlags.slice(offset, offset + fs1.length);
    offset += fs1.length;
    if (!flags.some(Boolean)) {
      throw new TrailInputError(fs1.length === 0 ? `${p}: holds no files` : `${p}: holds no CloudTrail file (${fs1.length} file(s) read, none of them CloudTrail records)`);
    }
  }
  const closed = closeTokens(seed, r1.events, finding.resourceType === 'Instance');
  const newKeys = [...closed.keys].filter((k) => !seed.keys.has(k));
  const newPrincipals = [...closed.principals].filter((k) => !seed.principals.has(k));
  const newSessions = [...closed.sessionNames].filter((k) => !seed.sessionNames.has(k));
  const fileIds = new Set<number>();
  for (const tok of [...newKeys, ...newPrincipals]) for (const i of index.get(tok) ?? []) fileIds.add(i);
  const stats = r1.stats;
  const events = r1.events;
  let passes = 1;
  if (fileIds.size > 0) {
    passes = 2;
    const ids = [...fileIds].sort((a, b) => a - b);
    const delta: Tokens = { keys: new Set(newKeys), principals: new Set(newPrincipals), sessionNames: new Set(newSessions), eventIds: new Set() };
    const r2 = await readTrailFiles(
      ids.map((i) => files[i] as string),
      selectorFor(delta, false),
      { seen, fileIds: ids, countStructural: false },
    );
    events.push(...r2.events);
    mergeSkips(stats, r2.stats);
  }
  return { events, stats, passes, filesReopened: fileIds.size };
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
