/**
 * The CloudTrail LookupEvents source: management events of the last 90 days, per account and
 * region (https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_LookupEvents.html).
 *
 * For one finding it asks, in a fixed window around `eventFirstSeen`/`eventLastSeen` (padded
 * for a baseline before and for delivery lag after), one lookup attribute a call: the finding's
 * access key first, then the keys and principals the lineage closure finds in what came back
 * (forwards: keys the attacker minted, users it created; backwards: the AssumeRole calls of the
 * session's role), in the finding's region and in us-east-1 (where IAM, STS and sign-in events
 * are logged). Pages are capped; a capped look-up is marked truncated in the gaps; every call
 * waits for the shared 2 requests/s budget of its account and region.
 */
import { LookupEventsCommand, type CloudTrailClient, type LookupAttributeKey } from '@aws-sdk/client-cloudtrail';
import type { NormalizedFinding } from '../model/finding';
import { toTrailEvent, type TrailEvent } from '../trail/event';
import { emptyStats, type ReadStats } from '../trail/read';
import type { Tokens } from '../storyline/closure';
import { closeInRounds } from '../storyline/rounds';
import { RateBudget, realTimer, type Timer } from './rate';
import type { CollectOptions, SourceDescriptor, SourceResult, TrailSource } from './types';

export const cloudTrailLookupDescriptor: SourceDescriptor = {
  id: 'cloudtrail-lookup',
  iamActions: ['cloudtrail:LookupEvents'],
  limits: [
    'management events only, last 90 days',
    '2 requests/s per account and region (shared budget in the process)',
    'one lookup attribute a call, 50 events a page',
    'IAM, STS and sign-in events are looked up in us-east-1',
    'events can take about 15 minutes to be visible: a finding newer than that is marked incomplete',
  ],
};

/** How far the look-ups go. */
export interface LookupOptions {
  /** Regions to look in besides the finding's own (us-east-1 always). */
  extraRegions?: string[];
  /** Baseline before `eventFirstSeen` (ms). Default 7 days. */
  before?: number;
  /** After `eventLastSeen` (ms), covering delivery lag and what followed. Default 2 hours. */
  after?: number;
  /** Pages (of 50) per look-up. Default 10. */
  maxPages?: number;
  /** Look-ups per finding. Default 24. */
  maxLookups?: number;
  /** Epoch ms after which no new request starts (the function's remaining time). */
  deadline?: number;
}

const DAY = 24 * 3600 * 1000;
/** CloudTrail's delivery delay: absence before this is not evidence (pitfall 13). */
export const DELIVERY_LAG_MS = 15 * 60 * 1000;

/** One look-up: an attribute and a value. */
interface Lookup {
  key: LookupAttributeKey;
  value: string;
}

/** The lookups that the tokens call for (attribute per token kind), in priority order. */
export function lookupsFor(t: Tokens, finding: NormalizedFinding): Lookup[] {
  const out: Lookup[] = [];
  for (const k of t.keys) out.push({ key: 'AccessKeyId', value: k });
  for (const p of t.principals) {
    const [kind, , name] = p.split(':');
    if (!name) continue;
    if (kind === 'user' || kind === 'federated') out.push({ key: 'Username', value: name });
    if (kind === 'role') out.push({ key: 'ResourceName', value: `arn:${finding.partition}:iam::${p.split(':')[1]}:role/${name}` });
  }
  for (const s of t.sessionNames) out.push({ key: 'Username', value: s });
  for (const id of t.eventIds) out.push({ key: 'EventId', value: id });
  for (const n of t.eventNames) out.push({ key: 'EventName', value: n });
  return out;
}

/** The LookupEvents source over one account's clients (one client a region). */
export class CloudTrailLookupSource implements TrailSource {
  readonly descriptor = cloudTrailLookupDescriptor;

  constructor(
    private readonly clientFor: (region: string) => CloudTrailClient,
    private readonly budget: RateBudget = new RateBudget(2, 2),
    private readonly opts: LookupOptions = {},
    private readonly timer: Timer = realTimer,
  ) {}

  async collect(finding: NormalizedFinding, collectOpts: CollectOptions = {}): Promise<SourceResult> {
    const stats: ReadStats = emptyStats();
    const events: TrailEvent[] = [];
    const seen = new Set<string>();
    const gaps: string[] = [];
    const requests: Record<string, number> = {};
    const first = Date.parse(finding.eventFirstSeen ?? finding.createdAt ?? '');
    const last = Date.parse(finding.eventLastSeen ?? finding.updatedAt ?? finding.eventFirstSeen ?? '');
    const now = this.timer.now();
    if (Number.isNaN(first) || Number.isNaN(last)) {
      gaps.push('the finding has no first-seen or last-seen time: CloudTrail was not looked up');
      return { events, stats, gaps, incomplete: false, requests };
    }
    const fullStart = Math.max(first - (this.opts.before ?? 7 * DAY), now - 90 * DAY);
    // A re-published finding: only the slice after the last look-up (less the delivery lag, so
    // events that became visible late are not missed).
    const start = new Date(collectOpts.since !== undefined ? Math.max(fullStart, collectOpts.since - DELIVERY_LAG_MS) : fullStart);
    const end = new Date(Math.min(last + (this.opts.after ?? 2 * 3600 * 1000), now));
    const incomplete = now - last < DELIVERY_LAG_MS;
    if (incomplete) gaps.push(`the finding's last activity is less than 15 minutes old: CloudTrail events may not be visible yet, look again later`);
    const regions = [...new Set([finding.region, 'us-east-1', ...(this.opts.extraRegions ?? [])])];
    const done = new Set<string>();
    let lookups = 0;
    const maxLookups = this.opts.maxLookups ?? 24;
    const acc = { stats, events: [] as TrailEvent[], seen, gaps, requests };
    // The rounds: each asks for the frontier's look-ups, one attribute a call, in every region.
    const result = await closeInRounds(
      finding,
      {
        round: async (req) => {
          acc.events = [];
          let capped = false;
          for (const l of lookupsFor(req.frontier, finding).filter((x) => !done.has(`${x.key}=${x.value}`))) {
            done.add(`${l.key}=${l.value}`);
            for (const region of regions) {
              if (lookups >= maxLookups) {
                gaps.push(`look-up cap reached (${maxLookups}): ${l.key} ${l.value} in ${region} and later ones were not looked up`);
                capped = true;
                break;
              }
              lookups++;
              await this.lookup(finding.accountId, region, l, start, end, acc);
            }
            if (capped) break;
          }
          return { events: acc.events, exhausted: capped };
        },
      },
      6,
    );
    events.push(...result.events);
    stats.filesRead = 0;
    return { events, stats, gaps, incomplete, requests, window: { from: start.getTime(), to: end.getTime() } };
  }

  private async lookup(
    account: string,
    region: string,
    l: Lookup,
    start: Date,
    end: Date,
    acc: { stats: ReadStats; events: TrailEvent[]; seen: Set<string>; gaps: string[]; requests: Record<string, number> },
  ): Promise<void> {
    const client = this.clientFor(region);
    let token: string | undefined;
    const maxPages = this.opts.maxPages ?? 10;
    for (let page = 0; page < maxPages; page++) {
      try {
        await this.budget.take(`${account}/${region}`, this.opts.deadline);
      } catch {
        acc.gaps.push(`no time left to look up ${l.key} ${l.value} in ${region}`);
        return;
      }
      let out;
      try {
        acc.requests['cloudtrail:LookupEvents'] = (acc.requests['cloudtrail:LookupEvents'] ?? 0) + 1;
        out = await client.send(
          new LookupEventsCommand({ LookupAttributes: [{ AttributeKey: l.key, AttributeValue: l.value }], StartTime: start, EndTime: end, MaxResults: 50, NextToken: token }),
        );
      } catch (e) {
        acc.gaps.push(`LookupEvents ${l.key} ${l.value} in ${region} failed: ${(e as Error).name}: ${(e as Error).message}`);
        return;
      }
      for (const e of out.Events ?? []) {
        if (e.EventId && acc.seen.has(e.EventId)) continue;
        acc.stats.recordsRead++;
        if (typeof e.CloudTrailEvent !== 'string') {
          acc.stats.recordsSkipped++;
          acc.stats.skippedReasons['malformed-record (CloudTrailEvent missing)'] = (acc.stats.skippedReasons['malformed-record (CloudTrailEvent missing)'] ?? 0) + 1;
          continue;
        }
        let raw: unknown;
        try {
          raw = JSON.parse(e.CloudTrailEvent);
        } catch {
          acc.stats.recordsSkipped++;
          acc.stats.skippedReasons['malformed-record (CloudTrailEvent is not valid JSON)'] = (acc.stats.skippedReasons['malformed-record (CloudTrailEvent is not valid JSON)'] ?? 0) + 1;
          continue;
        }
        acc.stats.recordsExamined++;
        const ev = toTrailEvent(raw, `LookupEvents ${region}`);
        if (typeof ev === 'string') {
          acc.stats.recordsSkipped++;
          acc.stats.skippedReasons[`malformed-record (${ev})`] = (acc.stats.skippedReasons[`malformed-record (${ev})`] ?? 0) + 1;
          continue;
        }
        acc.stats.accounts.add(ev.accountId);
        acc.stats.regions.add(ev.awsRegion);
        if (acc.stats.minTime === null || ev.eventTime < acc.stats.minTime) acc.stats.minTime = ev.eventTime;
        if (acc.stats.maxTime === null || ev.eventTime > acc.stats.maxTime) acc.stats.maxTime = ev.eventTime;
        if (acc.seen.has(ev.eventId)) continue;
        acc.seen.add(ev.eventId);
        acc.events.push(ev);
      }
      token = out.NextToken;
      if (!token) return;
    }
    acc.gaps.push(`LookupEvents ${l.key} ${l.value} in ${region} truncated after ${maxPages} pages of 50`);
  }
}
