/**
 * The reconstruction: from one normalised finding and the CloudTrail events that can matter,
 * the storyline of `shared/design/storyline-contract.md`. Pure: no I/O, no clock.
 *
 * The rules of evidence applied (contract, "Rules of evidence"):
 *  - usual sources of a credential come from what its principal did before the attack;
 *    where there is no such history, the finding's remote addresses and addresses first
 *    seen with attacker-minted credentials are the attacker's infrastructure;
 *  - every use of a credential an attacker step minted is a step, and so is everything a
 *    principal the attacker created does;
 *  - failed calls are steps; a service acting for an attacker session is a step, but a
 *    service's name is never the attacker's address;
 *  - credentials AWS issues because of an attacker step (EC2 delivering the role of an
 *    instance the attacker launched) are steps; legitimately issued ones that were stolen
 *    later are not;
 *  - both copies of a cross-account AssumeRole (same `sharedEventID`) are steps.
 */
import type { NormalizedFinding } from '../model/finding';
import type { Coverage, LineageEdge, Step, StepReason, Storyline } from '../model/storyline';
import { principalKeyFromArn, principalLabel } from '../identity/principal';
import type { TrailEvent } from '../trail/event';
import type { ReadStats } from '../trail/read';
import { grantsOf } from './grants';
import { readIssuance, type Issuance } from './issuance';
import { tacticOf, type EventMap } from './tactics';
import { summarize } from './summary';

/** How close (ms) a console or Identity Center session's `creationDate` must be to its sign-in. */
const SESSION_MATCH_MS = 5 * 60 * 1000;
/** A service call is attributed to the attacker when the same key's last own call, this recent, was a step. */
const SERVICE_ATTRIBUTION_MS = 15 * 60 * 1000;
const DAY_MS = 24 * 3600 * 1000;
/**
 * Only sources seen at least this long before the attack began make a principal's baseline:
 * an attacker's own first calls, shortly before the finding's window, must not become "usual".
 */
const BASELINE_GAP_MS = DAY_MS;

export interface ReconstructOptions {
  eventMap: EventMap;
}

interface Judged {
  ev: TrailEvent;
  reason: StepReason;
  why: string;
}

function ipOf(ev: TrailEvent): string | null {
  return ev.source.kind === 'ipv4' || ev.source.kind === 'ipv6' ? ev.source.value : null;
}

function net24(ip: string): string {
  if (ip.includes(':')) return ip.split(':').slice(0, 4).join(':');
  return ip.split('.').slice(0, 3).join('.');
}

/** The product/family part of a user agent (`aws-cli/2.15.0 …` → `aws-cli`). */
function agentFamily(ua: string): string {
  const m = /^\[?([A-Za-z][\w.-]*)/.exec(ua.trim());
  return (m?.[1] ?? ua).toLowerCase();
}

function byTime(a: TrailEvent, b: TrailEvent): number {
  return a.epochMs - b.epochMs || (a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0);
}

function push<K, V>(m: Map<K, V[]>, k: K | null | undefined, v: V): void {
  if (k === null || k === undefined) return;
  const l = m.get(k);
  if (l) l.push(v);
  else m.set(k, [v]);
}

/**
 * Reconstructs the storyline of `finding` from `events` (the records the reader kept: the
 * lineage's own and every issuing event) and the reader's `stats`.
 */
export function reconstruct(finding: NormalizedFinding, events: TrailEvent[], stats: ReadStats, opts: ReconstructOptions): Storyline {
  const coverageBase = coverageOf(finding, stats);
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
  };
  if (finding.sample) {
    coverageBase.gaps.push('sample finding: GuardDuty generated it with placeholder values, so there is no activity to reconstruct');
    return {
      schemaVersion: '1',
      finding: findingPart,
      origin: null,
      steps: [],
      lineage: [],
      lineageEdges: [],
      attackerSources: [],
      coverage: coverageBase,
      summary: `Sample finding ${finding.type}: nothing to reconstruct.`,
    };
  }

  const sorted = [...events].sort(byTime);
  const byKey = new Map<string, TrailEvent[]>();
  const byPrincipal = new Map<string, TrailEvent[]>();
  const bySession = new Map<string, TrailEvent[]>();
  const byShared = new Map<string, TrailEvent[]>();
  const issuances: Issuance[] = [];
  for (const ev of sorted) {
    push(byKey, ev.identity.accessKeyId, ev);
    push(byPrincipal, ev.identity.key, ev);
    if (ev.identity.type === 'AssumedRole' && ev.identity.sessionName) push(bySession, ev.identity.sessionName, ev);
    push(byShared, ev.sharedEventID, ev);
    const iss = readIssuance(ev);
    if (iss) issuances.push(iss);
  }

  // Which issuance minted each key: from the response, or for console / Identity Center
  // sessions by the session's creationDate matching the sign-in.
  const mintedBy = new Map<string, Issuance>();
  const consoleLogins = new Map<string, Issuance[]>();
  const roleCredentialIssues = new Map<string, Issuance[]>();
  for (const iss of issuances) {
    // Of the two copies of a cross-account AssumeRole, the caller's (with its key) is the one
    // the lineage walks back through; the role account's copy has only an AWSAccount identity.
    const had = iss.mintedKey ? mintedBy.get(iss.mintedKey) : undefined;
    if (iss.mintedKey && (!had || (!had.event.identity.accessKeyId && iss.event.identity.accessKeyId))) mintedBy.set(iss.mintedKey, iss);
    if (iss.consoleSession) push(consoleLogins, iss.mintedPrincipal, iss);
    if (iss.via === 'GetRoleCredentials') push(roleCredentialIssues, iss.mintedPrincipal, iss);
  }
  const keyPrincipal = new Map<string, TrailEvent>();
  const keyCreated = new Map<string, Set<number>>();
  for (const ev of sorted) {
    const k = ev.identity.accessKeyId;
    if (!k) continue;
    if (!keyPrincipal.has(k)) keyPrincipal.set(k, ev);
    const created = ev.identity.sessionCreationDate ? Date.parse(ev.identity.sessionCreationDate) : NaN;
    if (!Number.isNaN(created)) {
      let set = keyCreated.get(k);
      if (!set) keyCreated.set(k, (set = new Set()));
      set.add(created);
    }
  }
  // Sessions whose issue is not in a response (console and Identity Center sessions): matched
  // to the sign-in whose time is closest to one of the session's creationDate values.
  for (const [k, createdSet] of keyCreated) {
    if (mintedBy.has(k)) continue;
    const ev = keyPrincipal.get(k) as TrailEvent;
    const candidates = ev.identity.type === 'AssumedRole' ? roleCredentialIssues.get(ev.identity.key ?? '') : consoleLogins.get(ev.identity.key ?? '');
    let best: Issuance | undefined;
    let bestD = Infinity;
    for (const c of candidates ?? []) {
      // A sign-in recorded with the session's own key (federated console logins) does not issue it.
      if (c.event.identity.accessKeyId === k) continue;
      for (const created of createdSet) {
        const d = Math.abs(c.event.epochMs - created);
        if (d <= SESSION_MATCH_MS && d < bestD) {
          best = c;
          bestD = d;
        }
      }
    }
    // Identity Center sessions: their creationDate is not always the sign-in's time. The latest
    // GetRoleCredentials for the session's role before its first use (same address preferred,
    // within an Identity Center session's 12 hours) issued it.
    if (!best && ev.identity.type === 'AssumedRole') {
      const firstUse = ev.epochMs;
      const ip = ipOf(ev);
      const before = (candidates ?? []).filter((c) => c.event.epochMs <= firstUse + 60_000 && firstUse - c.event.epochMs <= 12 * 3600 * 1000);
      const sameIp = before.filter((c) => ip !== null && ipOf(c.event) === ip);
      const pool = sameIp.length > 0 ? sameIp : before.filter((c) => firstUse - c.event.epochMs <= 15 * 60 * 1000);
      best = pool.sort((a, b) => b.event.epochMs - a.event.epochMs)[0];
    }
    if (best) mintedBy.set(k, best);
  }

  // The seed: the finding's key, principal, instance, attack-sequence actors.
  const seedKeys = new Set<string>();
  const seedPrincipals = new Set<string>();
  const forcedSteps = new Set(finding.attackSequence?.eventIds ?? []);
  if (finding.actor.accessKeyId) seedKeys.add(finding.actor.accessKeyId);
  for (const k of finding.attackSequence?.accessKeyIds ?? []) seedKeys.add(k);
  const actorPrincipal = findingPrincipal(finding);
  if (actorPrincipal) seedPrincipals.add(actorPrincipal);
  for (const a of finding.attackSequence?.actorArns ?? []) {
    const pk = principalKeyFromArn(a);
    if (pk) seedPrincipals.add(pk);
  }
  if (finding.instanceId) {
    for (const ev of bySession.get(finding.instanceId) ?? []) if (ev.identity.key) seedPrincipals.add(ev.identity.key);
  }
  const seedKeyPresent = [...seedKeys].some((k) => byKey.has(k));

  // Credentials split by novelty of source: the seed key and its backward ancestors; when the
  // finding names no key that is in the data, every key of the seed principals.
  const noveltyKeys = new Set<string>([...seedKeys].filter((k) => byKey.has(k)));
  const noveltyPrincipals = new Set<string>(seedPrincipals);
  if (!seedKeyPresent) {
    for (const pk of seedPrincipals) for (const ev of byPrincipal.get(pk) ?? []) if (ev.identity.accessKeyId) noveltyKeys.add(ev.identity.accessKeyId);
  }
  for (const k of [...noveltyKeys]) {
    const ev = keyPrincipal.get(k);
    if (ev?.identity.key) noveltyPrincipals.add(ev.identity.key);
  }

  const attackerIps = new Map<string, string>();
  for (const r of finding.remoteIps) attackerIps.set(r.ip, `named by the finding as its remote address (${r.from})`);

  const attackerKeys = new Map<string, number>();
  const attackerPrincipals = new Map<string, number>();
  const consoleAccess = new Map<string, number>();
  /** Role session names of compute the attacker launched or changed (instance ids, function names). */
  const attackerInstances = new Map<string, number>();
  /** Roles whose trust policy an attacker step set, with when, and who assumed them before. */
  const trustBackdoors = new Map<string, { since: number; priorCallers: Set<string> }>();
  const lineagePrincipals = new Set<string>([...noveltyPrincipals]);
  const steps = new Map<string, Judged>();
  const edges: LineageEdge[] = [];
  const edgeSeen = new Set<string>();
  const addEdge = (from: string, to: string, iss: Issuance, byAttacker: boolean) => {
    const id = `${from}|${to}|${iss.event.eventId}`;
    if (edgeSeen.has(id)) return;
    edgeSeen.add(id);
    edges.push({ from, to, via: iss.via, eventId: iss.event.eventId, eventTime: iss.event.eventTime, byAttacker });
  };
  const credLabel = (ev: TrailEvent) => ev.identity.arn ?? ev.identity.key ?? principalLabel(ev.identity);
  /**
   * Issuing events behind the finding's own credentials: judged against their caller's
   * baseline whenever they happened, since they can precede the attack's first visible use.
   */
  const backwardIssuances = new Set<string>();

  // Backward lineage: who minted the seed keys, recursively, while the minting was the attacker's
  // (decided below once sources are known) or at least record the edge.
  /** Backward issuances reached from a key the finding itself names (not from every key of its principal). */
  const seedChainIssuances = new Set<string>();
  const backward = (key: string, depth: number, fromSeed = seedKeys.has(key)): void => {
    if (depth > 20) return;
    const iss = mintedBy.get(key);
    if (!iss) return;
    backwardIssuances.add(iss.event.eventId);
    if (fromSeed) seedChainIssuances.add(iss.event.eventId);
    const minted = keyPrincipal.get(key);
    addEdge(credLabel(iss.event), minted ? credLabel(minted) : key, iss, false);
    const callerKey = iss.event.identity.accessKeyId;
    const fromService = iss.event.identity.type === 'AWSService' || iss.event.source.kind === 'service';
    if (fromService) return;
    if (iss.event.identity.key) {
      noveltyPrincipals.add(iss.event.identity.key);
      lineagePrincipals.add(iss.event.identity.key);
    }
    if (callerKey && !noveltyKeys.has(callerKey)) {
      noveltyKeys.add(callerKey);
      backward(callerKey, depth + 1, fromSeed);
    }
  };
  for (const k of [...noveltyKeys]) backward(k, 0);
  // An instance finding (the instance itself is the actor): whoever launched the instance, or
  // gave it its profile, is in the lineage. Not for stolen instance credentials (an AccessKey
  // finding on the instance's role session): those were issued legitimately and stolen later.
  // A Lambda function whose code or configuration changed before its role session did what the
  // finding reports: whoever changed it is in the lineage (the function runs their code).
  const seedSessions = new Map<string, number>();
  for (const k of seedKeys) {
    const first = byKey.get(k)?.[0];
    if (first?.identity.sessionName && !seedSessions.has(first.identity.sessionName)) seedSessions.set(first.identity.sessionName, first.epochMs);
  }
  const computeLinks = (iss: Issuance): boolean => {
    if (finding.instanceId && finding.resourceType === 'Instance' && iss.computeSessions.includes(finding.instanceId)) return true;
    if (!iss.via.endsWith('20150331') && !iss.via.endsWith('20150331v2')) return false;
    return iss.computeSessions.some((name) => {
      const t = seedSessions.get(name);
      return t !== undefined && iss.event.epochMs <= t;
    });
  };
  {
    for (const iss of issuances) {
      if (!computeLinks(iss)) continue;
      backwardIssuances.add(iss.event.eventId);
      const k = iss.event.identity.accessKeyId;
      if (iss.event.identity.key) {
        noveltyPrincipals.add(iss.event.identity.key);
        lineagePrincipals.add(iss.event.identity.key);
      }
      if (k && !noveltyKeys.has(k)) {
        noveltyKeys.add(k);
        backward(k, 0);
      }
    }
  }

  // Candidate events: those of the lineage's keys and principals, and every issuing event.
  const candidateSet = new Set<TrailEvent>();
  const addCandidates = (list: TrailEvent[] | undefined) => {
    for (const e of list ?? []) candidateSet.add(e);
  };

  // Baselines per principal: sources seen before the attack began.
  const baselineCache = new Map<string, { ips: Set<string>; nets: Set<string>; agents: Set<string>; clients: Set<string>; from: number | null; count: number }>();
  /**
   * Addresses the finding names that the lineage had used on three or more days before the
   * finding's window (a shared NAT, the office): there the address says nothing, and only a
   * client never seen with it marks the attacker ("Usual sources": addresses and user agents).
   */
  const establishedFindingIps = new Set<string>();
  /**
   * The attack's anchor: the first use of a finding address by the lineage, else the finding's
   * first-seen time. Sources seen before `anchor - BASELINE_GAP_MS` are the baseline; any use
   * after that cut from a source outside the baseline is the attacker's (an attacker who rotates
   * addresses starts before the finding's window). Fixed once, so it cannot creep backwards.
   */
  let anchor = Infinity;
  const firstSeenMs = finding.eventFirstSeen ? Date.parse(finding.eventFirstSeen) : NaN;
  /**
   * A principal's baseline: its sources before `before` (default: a day before the anchor).
   * An issuing event behind the finding's credentials is judged against the baseline before
   * its own time, so an attack that began days before the finding does not make itself usual.
   */
  const baselineOf = (pk: string, before: number = anchor - BASELINE_GAP_MS) => {
    const cacheKey = `${pk}|${before}`;
    let b = baselineCache.get(cacheKey);
    if (b) return b;
    b = { ips: new Set(), nets: new Set(), agents: new Set(), clients: new Set(), from: null, count: 0 };
    for (const ev of byPrincipal.get(pk) ?? []) {
      if (ev.epochMs >= before) break;
      const k = ev.identity.accessKeyId;
      if (k && attackerKeys.has(k)) continue;
      const ip = ipOf(ev);
      if (!ip || (attackerIps.has(ip) && !establishedFindingIps.has(ip))) continue;
      b.ips.add(ip);
      b.nets.add(net24(ip));
      b.agents.add(agentFamily(ev.userAgent));
      b.clients.add(ev.userAgent);
      b.count++;
      if (b.from === null) b.from = ev.epochMs;
    }
    baselineCache.set(cacheKey, b);
    return b;
  };

  const lastOwnCall = (ev: TrailEvent): TrailEvent | null => {
    const k = ev.identity.accessKeyId;
    const list = k ? byKey.get(k) : ev.identity.key ? byPrincipal.get(ev.identity.key) : undefined;
    let best: TrailEvent | null = null;
    for (const e of list ?? []) {
      if (e.epochMs > ev.epochMs) break;
      if (e === ev || !ipOf(e)) continue;
      best = e;
    }
    return best && ev.epochMs - best.epochMs <= SERVICE_ATTRIBUTION_MS ? best : null;
  };

  const judge = (ev: TrailEvent): Judged | null => {
    if (forcedSteps.has(ev.eventId)) return { ev, reason: 'attack-sequence-signal', why: 'named by the attack sequence' };
    const k = ev.identity.accessKeyId;
    const pk = ev.identity.key;
    if (k && attackerKeys.has(k) && ev.epochMs >= (attackerKeys.get(k) as number) - 1000) {
      return { ev, reason: 'attacker-minted-credential', why: `credential ${k} was minted by an attacker step` };
    }
    if (pk && attackerPrincipals.has(pk) && ev.epochMs >= (attackerPrincipals.get(pk) as number)) {
      return { ev, reason: 'attacker-created-principal', why: `${principalLabel(ev.identity)} was created by an attacker step` };
    }
    if (ev.identity.type === 'AssumedRole' && ev.identity.sessionName && attackerInstances.has(ev.identity.sessionName) && ev.epochMs >= (attackerInstances.get(ev.identity.sessionName) as number)) {
      return { ev, reason: 'attacker-minted-credential', why: `role credentials of ${ev.identity.sessionName}, compute the attacker launched or changed` };
    }
    if (ev.sharedEventID) {
      for (const o of byShared.get(ev.sharedEventID) ?? []) {
        if (o !== ev && steps.has(o.eventId)) return { ev, reason: 'cross-account-copy', why: `other account's copy of step ${o.eventId}` };
      }
    }
    if (ev.eventName.startsWith('AssumeRole') && typeof ev.requestParameters?.roleArn === 'string') {
      const tb = trustBackdoors.get(principalKeyFromArn(ev.requestParameters.roleArn) ?? '');
      if (tb && ev.epochMs >= tb.since && !ev.errorCode && !tb.priorCallers.has(ev.identity.key ?? ev.identity.accountId ?? '')) {
        return { ev, reason: 'attacker-created-principal', why: `assumes ${ev.requestParameters.roleArn}, whose trust policy the attacker set` };
      }
    }
    if (ev.identity.type === 'AWSService' && ev.eventName === 'AssumeRole') {
      const sess = typeof ev.requestParameters?.roleSessionName === 'string' ? ev.requestParameters.roleSessionName : null;
      if (sess && attackerInstances.has(sess)) return { ev, reason: 'issued-for-attacker', why: `EC2 delivering role credentials to instance ${sess}, which the attacker launched` };
      return null;
    }
    const ip = ipOf(ev);
    const inNovelty = (k && noveltyKeys.has(k)) || (!k && pk && noveltyPrincipals.has(pk));
    const inLineage = (pk && (lineagePrincipals.has(pk) || noveltyPrincipals.has(pk))) || (k && noveltyKeys.has(k));
    if (pk && ev.eventName === 'ConsoleLogin' && consoleAccess.has(pk) && ev.epochMs >= (consoleAccess.get(pk) as number) && ip) {
      const b = baselineOf(pk);
      if (!b.ips.has(ip)) return { ev, reason: 'attacker-created-principal', why: `sign-in with the console password the attacker set for ${principalLabel(ev.identity)}` };
    }
    if (ip) {
      if (establishedFindingIps.has(ip) && inNovelty && pk) {
        const b = baselineOf(pk);
        const novelClient = !b.clients.has(ev.userAgent) && !b.agents.has(agentFamily(ev.userAgent));
        if (ev.epochMs >= anchor - BASELINE_GAP_MS && novelClient) {
          return { ev, reason: 'attacker-source', why: `from ${ip}, the finding's address, with a client never seen with ${principalLabel(ev.identity)} there (${ev.userAgent.slice(0, 60)})` };
        }
        return null;
      }
      if (inLineage && attackerIps.has(ip)) return { ev, reason: 'attacker-source', why: `from ${ip}, ${attackerIps.get(ip)}` };
      if (inNovelty && pk && (ev.epochMs >= anchor - BASELINE_GAP_MS || backwardIssuances.has(ev.eventId))) {
        const b = backwardIssuances.has(ev.eventId) ? baselineOf(pk, Math.min(anchor, ev.epochMs) - BASELINE_GAP_MS) : baselineOf(pk);
        // The issue of the credential the attacker used, shortly before the attack, by a caller
        // with no history at all (a user the attacker created, a web identity never seen): the
        // attacker's own step, which carries the chain on backwards.
        if (b.count === 0 && seedChainIssuances.has(ev.eventId) && ev.epochMs >= anchor - 7 * DAY_MS) {
          return { ev, reason: 'attacker-source', why: `issued the credentials the attacker used, from ${ip}, by a principal with no earlier activity` };
        }
        if (b.count > 0) {
          // Usual: a known address, a known network with a known client, or the very client the
          // principal always used (its owner on a new network).
          const usual = b.ips.has(ip) || (b.nets.has(net24(ip)) && b.agents.has(agentFamily(ev.userAgent))) || b.clients.has(ev.userAgent);
          if (!usual) {
            if (!attackerIps.has(ip)) attackerIps.set(ip, `never seen with ${principalLabel(ev.identity)} before the attack, used with its credentials during it`);
            return { ev, reason: 'attacker-source', why: `from ${ip}, never seen with ${principalLabel(ev.identity)} in its baseline` };
          }
        }
      }
      return null;
    }
    // A service (or "AWS Internal") acting with this credential: the attacker's when the
    // credential's own last call, shortly before, was a step.
    if (inLineage) {
      const prev = lastOwnCall(ev);
      if (prev && steps.has(prev.eventId)) return { ev, reason: 'service-for-attacker', why: `${ev.sourceIPAddress} acting for the attacker's session` };
    }
    return null;
  };

  // Addresses by the events that used them: an address is the attacker's "first seen with
  // credentials the attacker minted" only if no other credential used it earlier (a shared
  // egress, a NAT, a service's own address are not).
  const byIp = new Map<string, TrailEvent[]>();
  for (const ev of sorted) push(byIp, ipOf(ev), ev);
  const seenBefore = (ip: string, ev: TrailEvent): boolean =>
    (byIp.get(ip) ?? []).some((o) => {
      if (o.epochMs >= ev.epochMs) return false;
      const ok = o.identity.accessKeyId;
      return !(ok && attackerKeys.has(ok)) && !(o.identity.key && attackerPrincipals.has(o.identity.key)) && !steps.has(o.eventId);
    });

  const applyEffects = (j: Judged): void => {
    const ev = j.ev;
    const iss = readIssuance(ev);
    const ip = ipOf(ev);
    const k = ev.identity.accessKeyId;
    if (ip && !attackerIps.has(ip) && ((k && attackerKeys.has(k)) || (ev.identity.key && attackerPrincipals.has(ev.identity.key))) && !seenBefore(ip, ev)) {
      attackerIps.set(ip, `first seen with credentials the attacker minted (${ev.eventName} ${ev.eventId})`);
    }
    if (!iss) return;
    const from = credLabel(ev);
    if (iss.mintedKey) {
      if (!attackerKeys.has(iss.mintedKey)) attackerKeys.set(iss.mintedKey, ev.epochMs);
      const m = keyPrincipal.get(iss.mintedKey);
      addEdge(from, m ? credLabel(m) : iss.mintedArn ?? iss.mintedKey, iss, true);
      addCandidates(byKey.get(iss.mintedKey));
    }
    if (iss.mintedPrincipal) {
      lineagePrincipals.add(iss.mintedPrincipal);
      addCandidates(byPrincipal.get(iss.mintedPrincipal));
    }
    if (ev.eventName === 'CreateUser' && iss.mintedPrincipal && !attackerPrincipals.has(iss.mintedPrincipal)) {
      attackerPrincipals.set(iss.mintedPrincipal, ev.epochMs);
      addEdge(from, iss.mintedArn ?? iss.mintedPrincipal, iss, true);
    }
    if ((ev.eventName === 'CreateLoginProfile' || ev.eventName === 'UpdateLoginProfile') && iss.mintedPrincipal) {
      if (!consoleAccess.has(iss.mintedPrincipal)) consoleAccess.set(iss.mintedPrincipal, ev.epochMs);
      addEdge(from, iss.mintedArn ?? iss.mintedPrincipal, iss, true);
    }
    if (iss.consoleSession || iss.via === 'GetRoleCredentials') {
      for (const [key, m] of mintedBy) {
        if (m.event.eventId === ev.eventId && !attackerKeys.has(key)) {
          attackerKeys.set(key, ev.epochMs);
          addCandidates(byKey.get(key));
          const e = keyPrincipal.get(key);
          addEdge(from, e ? credLabel(e) : key, iss, true);
        }
      }
    }
    if (iss.trustSetFor && !trustBackdoors.has(iss.trustSetFor)) {
      const priorCallers = new Set<string>();
      for (const o of issuances) {
        const r = o.event.requestParameters?.roleArn;
        if (o.event.epochMs < ev.epochMs && o.event.eventName.startsWith('AssumeRole') && typeof r === 'string' && principalKeyFromArn(r) === iss.trustSetFor) {
          priorCallers.add(o.event.identity.key ?? o.event.identity.accountId ?? '');
        }
      }
      trustBackdoors.set(iss.trustSetFor, { since: ev.epochMs, priorCallers });
      addEdge(from, iss.trustSetFor, iss, true);
    }
    for (const id of iss.computeSessions) {
      if (!attackerInstances.has(id)) attackerInstances.set(id, ev.epochMs);
      addCandidates(bySession.get(id));
      addEdge(from, `instance ${id} (${iss.instanceProfile ?? 'role'})`, iss, true);
    }
  };

  for (const k of noveltyKeys) addCandidates(byKey.get(k));
  for (const pk of lineagePrincipals) addCandidates(byPrincipal.get(pk));
  for (const iss of issuances) candidateSet.add(iss.event);
  for (const id of forcedSteps) for (const ev of sorted) if (ev.eventId === id) candidateSet.add(ev);

  // Attack start: the first use of an attacker address by the lineage, else the finding's first-seen time.
  const computeStart = (): number => {
    let t = Number.isNaN(firstSeenMs) ? Infinity : firstSeenMs;
    for (const ev of candidateSet) {
      const ip = ipOf(ev);
      const pk = ev.identity.key;
      if (ip && attackerIps.has(ip) && !establishedFindingIps.has(ip) && ((pk && (lineagePrincipals.has(pk) || noveltyPrincipals.has(pk))) || (ev.identity.accessKeyId && noveltyKeys.has(ev.identity.accessKeyId)))) {
        t = Math.min(t, ev.epochMs);
      }
    }
    for (const j of steps.values()) t = Math.min(t, j.ev.epochMs);
    return t;
  };

  if (!Number.isNaN(firstSeenMs)) {
    const inScope = (e: TrailEvent) => (e.identity.key && noveltyPrincipals.has(e.identity.key)) || (e.identity.accessKeyId && noveltyKeys.has(e.identity.accessKeyId));
    // Established: used by the lineage on at least three different days before the window.
    for (const r of finding.remoteIps) {
      const days = new Set((byIp.get(r.ip) ?? []).filter((e) => e.epochMs < firstSeenMs - BASELINE_GAP_MS && inScope(e)).map((e) => Math.floor(e.epochMs / DAY_MS)));
      if (days.size >= 3) establishedFindingIps.add(r.ip);
    }
  }
  anchor = computeStart();
  for (let round = 0; round < 50; round++) {
    let changed = false;
    const ordered = [...candidateSet].sort(byTime);
    for (const ev of ordered) {
      if (steps.has(ev.eventId)) continue;
      const j = judge(ev);
      if (!j) continue;
      steps.set(ev.eventId, j);
      applyEffects(j);
      changed = true;
    }
    if (!changed) break;
  }

  // Backward edges that turned out to be attacker steps.
  for (const e of edges) if (steps.has(e.eventId)) e.byAttacker = true;

  const stepList = [...steps.values()].sort((a, b) => byTime(a.ev, b.ev));
  const launchRegions = new Set(stepList.filter((j) => j.ev.eventName === 'RunInstances' || j.ev.eventName === 'StartInstances').map((j) => j.ev.awsRegion));
  const outSteps: Step[] = stepList.map((j) => {
    const ev = j.ev;
    const callerAccount = ev.identity.accountId ?? null;
    const { tactic, technique } = tacticOf(ev, opts.eventMap, { launchRegions, callerAccount, viaService: j.reason === 'service-for-attacker' });
    const grants = grantsOf(ev);
    const s: Step = {
      eventId: ev.eventId,
      eventTime: ev.eventTime,
      eventSource: ev.eventSource,
      eventName: ev.eventName,
      accountId: ev.accountId,
      region: ev.awsRegion,
      principalArn: ev.identity.arn,
      sourceIPAddress: ev.sourceIPAddress,
      tactic,
      technique,
      accessKeyId: ev.identity.accessKeyId,
      userAgent: ev.userAgent || null,
      errorCode: ev.errorCode,
      reason: j.reason,
    };
    if (grants.length > 0) s.grants = grants;
    return s;
  });

  // The ARN a principal really has (with its IAM path): from its own calls, else from the
  // CreateUser that made it, else as the issuing record wrote it.
  const arnOfPrincipal = (pk: string, fallback: string): string => {
    const own = (byPrincipal.get(pk) ?? []).find((e) => e.identity.arn && e.identity.type === 'IAMUser');
    if (own?.identity.arn) return own.identity.arn;
    const created = issuances.find((i) => i.via === 'CreateUser' && i.mintedPrincipal === pk && i.mintedArn);
    return created?.mintedArn ?? fallback;
  };

  // Lineage: principals in order of first appearance in the chain.
  const lineage: string[] = [];
  const addLineage = (arn: string | null | undefined) => {
    if (arn && !lineage.includes(arn)) lineage.push(arn);
  };
  const firstStep = stepList[0];
  if (firstStep) {
    // Ancestors of the first step's credential, oldest first.
    const chain: string[] = [];
    let key = firstStep.ev.identity.accessKeyId;
    for (let i = 0; key && i < 20; i++) {
      const iss = mintedBy.get(key);
      if (!iss || !steps.has(iss.event.eventId)) break;
      if (iss.event.identity.arn) chain.unshift(iss.event.identity.arn);
      key = iss.event.identity.accessKeyId;
    }
    chain.forEach(addLineage);
  }
  for (const j of stepList) {
    if (j.ev.identity.type === 'AWSService' || j.ev.identity.type === 'AWSAccount') continue;
    addLineage(j.ev.identity.arn);
    const iss = readIssuance(j.ev);
    if (iss?.mintedArn && iss.mintedPrincipal && (iss.via === 'CreateUser' || iss.via === 'CreateAccessKey' || iss.via.startsWith('AssumeRole') || iss.via === 'GetFederationToken')) {
      const used = (byPrincipal.get(iss.mintedPrincipal) ?? []).some((e) => steps.has(e.eventId));
      if (used || iss.via === 'CreateUser') addLineage(arnOfPrincipal(iss.mintedPrincipal, iss.mintedArn));
    }
  }

  // Coverage gaps.
  const gaps = coverageBase.gaps;
  for (const k of seedKeys) {
    if (!byKey.has(k)) gaps.push(`access key ${k} named by the finding does not appear in the records read`);
  }
  if (!finding.actor.accessKeyId && actorPrincipal && !byPrincipal.has(actorPrincipal)) {
    gaps.push(`principal ${actorPrincipal} named by the finding does not appear in the records read`);
  }
  if (!Number.isNaN(firstSeenMs) && stats.maxTime) {
    const maxMs = Date.parse(stats.maxTime);
    if (!Number.isNaN(maxMs) && maxMs < firstSeenMs) gaps.push(`the records end at ${stats.maxTime}, before the finding's first-seen time ${finding.eventFirstSeen}`);
  }
  if (stats.minTime && finding.eventLastSeen) {
    const minMs = Date.parse(stats.minTime);
    const lastMs = Date.parse(finding.eventLastSeen);
    if (!Number.isNaN(minMs) && !Number.isNaN(lastMs) && minMs > lastMs) gaps.push(`the records start at ${stats.minTime}, after the finding's last-seen time ${finding.eventLastSeen}`);
  }
  let brokenAt: string | null = null;
  if (firstStep) {
    const k = firstStep.ev.identity.accessKeyId;
    const issuedBy = k ? mintedBy.get(k) : undefined;
    if (issuedBy && !steps.has(issuedBy.event.eventId) && (issuedBy.event.identity.type === 'AWSService' || issuedBy.event.source.kind === 'service')) {
      gaps.push(
        `credentials ${k} were issued legitimately by ${issuedBy.event.identity.invokedBy ?? issuedBy.event.sourceIPAddress} at ${issuedBy.event.eventTime} (${issuedBy.event.eventName} ${issuedBy.event.eventId}) and taken later: the theft itself (e.g. through the instance metadata service) is not recorded in CloudTrail`,
      );
    }
    if (k && !mintedBy.has(k)) {
      const acct = firstStep.ev.identity.accountId ?? firstStep.ev.accountId;
      if (k.startsWith('ASIA')) {
        brokenAt = `chain broken at ${k}: the event that issued these temporary credentials (AssumeRole, GetSessionToken, a console sign-in or an instance profile) is not in the records read; records from account ${acct} in us-east-1 or the issuing account may be missing`;
      } else if (k.startsWith('AKIA')) {
        brokenAt = `chain broken at ${k}: the CreateAccessKey that created this long-term key is not in the records read (created before the data starts), so how the attacker obtained it is not in the data`;
      }
      if (brokenAt) gaps.push(brokenAt);
    }
    const edgeAccounts = new Set<string>();
    for (const j of stepList) if (j.ev.identity.accountId) edgeAccounts.add(j.ev.identity.accountId);
    for (const a of edgeAccounts) if (stats.accounts.size > 0 && !stats.accounts.has(a)) gaps.push(`no records from account ${a}, whose principals take part in the chain`);
  } else if (gaps.length === 0) {
    gaps.push('no activity of the finding\'s credentials from an attacker source was found in the records read');
  }
  const origin = firstStep
    ? {
        eventId: firstStep.ev.eventId,
        eventTime: firstStep.ev.eventTime,
        eventName: firstStep.ev.eventName,
        reason: originReason(firstStep, baselineOf, attackerIps, brokenAt),
      }
    : null;

  const attackerSources = [...attackerIps.entries()].map(([ip, reason]) => ({ ip, reason }));
  const storyline: Storyline = {
    schemaVersion: '1',
    finding: findingPart,
    origin,
    steps: outSteps,
    lineage,
    lineageEdges: edges.filter((e) => e.byAttacker || lineage.length > 0),
    attackerSources,
    coverage: coverageBase,
    summary: '',
  };
  storyline.summary = summarize(storyline);
  return storyline;
}

function originReason(
  j: Judged,
  baselineOf: (pk: string) => { ips: Set<string>; from: number | null; count: number },
  attackerIps: Map<string, string>,
  brokenAt: string | null,
): string {
  const ev = j.ev;
  const who = principalLabel(ev.identity);
  const cred = ev.identity.accessKeyId ? `key ${ev.identity.accessKeyId} (${who})` : who;
  const ip = ipOf(ev);
  let text: string;
  if (ip) {
    const b = ev.identity.key ? baselineOf(ev.identity.key) : null;
    const days = b && b.from !== null ? Math.max(1, Math.round((ev.epochMs - b.from) / DAY_MS)) : 0;
    const what = ev.eventName === 'ConsoleLogin' ? `console sign-in as ${who}` : `first use of ${cred}`;
    if (b && b.count > 0 && !b.ips.has(ip)) {
      text = `${what} from ${ip}, never seen before in the ${days}-day baseline (usual: ${[...b.ips].slice(0, 3).join(', ')})`;
    } else {
      text = `${what} from ${ip}, ${attackerIps.get(ip) ?? j.why}`;
    }
  } else {
    text = `${ev.eventName} by ${cred}: ${j.why}`;
  }
  if (ev.eventName === 'ConsoleLogin' && ev.additionalEventData?.MFAUsed === 'No') text += ', without MFA';
  if (brokenAt) text += `; ${brokenAt.split(':')[0]}`;
  return text;
}

/** The principal key the finding names, from its actor block. */
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
