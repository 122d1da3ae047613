/**
 * Where the walk starts: the credentials the finding is about, for every finding shape
 * (storyline contract, "Findings whose actor is not a key"):
 *
 *  - a finding that names an access key (`resource.accessKeyDetails.accessKeyId`) that the
 *    records hold: that key;
 *  - an instance finding without a key (SSH brute force, mining, command and control): the
 *    instance's role sessions (named after its instance id) and whoever controls the instance;
 *  - any other finding (a bucket, a cluster, a function, a database, a console sign-in without
 *    a key): the records the finding names by its API, its window, its resources, its
 *    principal and its remote address, and the credentials they were made with;
 *  - an Extended Threat Detection attack sequence: its actors' credentials, and the records its
 *    signals name.
 *
 * Pure. GuardDuty finding fields: https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_findings.html
 */
import type { NormalizedFinding } from '../model/finding';
import { normalizeIp } from '../identity/ip';
import { principalKeyFromArn } from '../identity/principal';
import type { TrailEvent } from '../trail/event';
import { computeId, type EdgeIndex } from './edges';
import type { Seed } from './walk';

/** How far outside the finding's window an event it names may lie (GuardDuty times are whole seconds). */
const WINDOW_SLACK_MS = 1000;
/** A wider slack, tried when nothing matches in the exact window. */
const WIDE_SLACK_MS = 5 * 60 * 1000;

/** The seed, and the records the finding was matched to (for the coverage). */
export interface SeedResult extends Seed {
  /** The finding's events found from its API, window, resources and address (no key named). */
  anchors: TrailEvent[];
  /** How the actor was found, in words. */
  how: string;
}

function windowOf(f: NormalizedFinding): { from: number; to: number } | null {
  const from = Date.parse(f.eventFirstSeen ?? f.createdAt ?? '');
  const to = Date.parse(f.eventLastSeen ?? f.eventFirstSeen ?? f.updatedAt ?? '');
  if (Number.isNaN(from)) return null;
  return { from, to: Number.isNaN(to) ? from : Math.max(from, to) };
}

/**
 * The time range (epoch ms) the finding's own events can be found in, slack included: a record
 * outside it is never one of the finding's anchors. Null when the finding has no time.
 */
export function anchorWindow(f: NormalizedFinding): { from: number; to: number } | null {
  const w = windowOf(f);
  return w ? { from: w.from - WIDE_SLACK_MS, to: w.to + WIDE_SLACK_MS } : null;
}

/** Whether a record is by the finding's actor, as far as the finding names one. */
function byActor(ev: TrailEvent, f: NormalizedFinding): boolean {
  const a = f.actor;
  const p = ev.identity;
  if (a.userType === 'Root') return p.type === 'Root';
  if (a.principalId && p.principalId) return a.principalId === p.principalId || a.principalId.split(':')[0] === p.principalId.split(':')[0];
  if (a.userName) return p.userName === a.userName || p.roleName === a.userName;
  return true;
}

function mentions(ev: TrailEvent, names: string[]): boolean {
  if (names.length === 0) return true;
  const text = JSON.stringify([ev.requestParameters, ev.resources]);
  return names.some((n) => text.includes(JSON.stringify(n).slice(1, -1)));
}

/** The finding's own events: its API (when named), in its window, on its resources, by its actor, from its address. */
function anchorsOf(f: NormalizedFinding, index: EdgeIndex): TrailEvent[] {
  const w = windowOf(f);
  if (!w) return [];
  // Only an AWS API call names a CloudTrail event name (a Kubernetes verb does not).
  const api = f.actionType === undefined || f.actionType === 'AWS_API_CALL' ? f.api : undefined;
  const ips = new Set(f.remoteIps.map((r) => r.ip));
  const names = [...f.bucketNames];
  const tiers: { slack: number; useIp: boolean }[] = [
    { slack: WINDOW_SLACK_MS, useIp: true },
    { slack: WIDE_SLACK_MS, useIp: true },
    { slack: WINDOW_SLACK_MS, useIp: false },
  ];
  for (const tier of tiers) {
    const out = index.events.filter(
      (ev) =>
        (!api || ev.eventName === api) &&
        ev.epochMs >= w.from - tier.slack &&
        ev.epochMs <= w.to + tier.slack &&
        byActor(ev, f) &&
        mentions(ev, names) &&
        (!tier.useIp || ips.size === 0 || ips.has(normalizeIp(ev.sourceIPAddress) ?? '')),
    );
    if (out.length > 0) return out;
  }
  return [];
}

/** What the seed needs of a record known only by its summary: its caller and the node it acts with. */
export interface SeedRow {
  arn: string | null;
  /** The caller's principal key. */
  key: string | null;
  uses: string | null;
}

/**
 * The seed of the walk for `f` over the records in `index`.
 * @param others records known only by a summary (a read that does not keep every record
 *   whole): their callers and the nodes they act with count as the index's records do. The
 *   finding's anchors are always among the index's records (see {@link anchorWindow}).
 */
export function seedOf(f: NormalizedFinding, index: EdgeIndex, others: readonly SeedRow[] = []): SeedResult {
  const taken = new Set<string>();
  const forced = new Set<string>(f.attackSequence?.eventIds ?? []);
  const hows: string[] = [];
  const keys = [f.actor.accessKeyId, ...(f.attackSequence?.accessKeyIds ?? [])].filter((k): k is string => !!k);
  for (const k of keys) {
    if (index.usersOf(`key:${k}`).length > 0 || others.some((r) => r.uses === `key:${k}`)) {
      taken.add(`key:${k}`);
      hows.push(`access key ${k} named by the finding`);
    }
  }
  // Attack sequences and Kubernetes users: the credentials their principals (session or user
  // ARNs) acted with.
  // One pass over the records whatever the number of ARNs (a finding can name tens of thousands).
  const arns = new Set([...(f.attackSequence?.actorArns ?? []), ...(f.principalArns ?? [])]);
  if (arns.size > 0) {
    const userKeys = new Set<string>();
    for (const arn of arns) {
      const pk = principalKeyFromArn(arn);
      if (pk && pk.startsWith('user:')) userKeys.add(pk);
    }
    const byActor = (r: SeedRow) => (r.arn !== null && arns.has(r.arn)) || (r.key !== null && userKeys.has(r.key));
    for (const ev of index.events) {
      if (!byActor({ arn: ev.identity.arn, key: ev.identity.key, uses: null })) continue;
      const uses = index.edgesOf(ev).uses;
      if (uses) taken.add(uses);
    }
    for (const r of others) if (r.uses && byActor(r)) taken.add(r.uses);
  }
  let anchors: TrailEvent[] = [];
  // Compute findings without a key (SSH brute force, mining, command and control on an instance,
  // a function or a task): the compute's role sessions and whoever controls it.
  if (taken.size === 0 && !f.actor.accessKeyId) {
    const compute = [...(f.instanceId && (f.resourceType === 'Instance' || f.actionType !== 'AWS_API_CALL') ? [f.instanceId] : []), ...(f.computeIds ?? [])];
    for (const c of compute) {
      taken.add(`access:${computeId(c)}`);
      hows.push(`the role sessions of ${c} and whoever controls it`);
    }
  }
  if (taken.size === 0) {
    anchors = anchorsOf(f, index);
    for (const ev of anchors) {
      const uses = index.edgesOf(ev).uses;
      if (uses) taken.add(uses);
    }
    if (anchors.length > 0) hows.push(`${anchors.length} event(s) the finding names (${f.api ?? 'any API'} in its window${f.bucketNames.length ? ` on ${f.bucketNames.join(', ')}` : ''})`);
  }
  return { taken: [...taken], forced, anchors, how: hows.join('; ') };
}
