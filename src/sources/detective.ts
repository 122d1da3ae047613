/**
 * The Amazon Detective source: for one finding, an investigation of the IAM user or IAM role
 * behind it in the region's behavior graph, and the indicators of compromise it found
 * (pitfalls 17 and 18 of `shared/design/pitfalls.md`).
 *
 * APIs (Detective API reference, https://docs.aws.amazon.com/detective/latest/APIReference/):
 * - ListGraphs (API_ListGraphs.html): the behavior graph the caller administers in a region; one a
 *   region at most, and there may be none.
 * - GetMembers (API_GetMembers.html): the finding's account must be a member of the graph in
 *   status `ENABLED` (or the graph's administrator account itself).
 * - StartInvestigation (API_StartInvestigation.html): only for IAM user and IAM role ARNs (a role
 *   session ARN is rejected with ValidationException); asynchronous.
 * - GetInvestigation (API_GetInvestigation.html): `Status` RUNNING, then SUCCESSFUL or FAILED.
 *   Checked once per call: a RUNNING investigation is checked again later (`recheck`), never waited on.
 * - ListIndicators (API_ListIndicators.html): 100 a page at most, paged with `NextToken`; the SDK
 *   has no paginator for it.
 *
 * The clients must carry the credentials of the Detective administrator account (the graph
 * owner): ListGraphs only lists the graphs its caller administers.
 */
import {
  GetInvestigationCommand,
  GetMembersCommand,
  ListGraphsCommand,
  ListIndicatorsCommand,
  StartInvestigationCommand,
  type DetectiveClient,
} from '@aws-sdk/client-detective';
import type { NormalizedFinding } from '../model/finding';
import type { Storyline } from '../model/storyline';
import { realTimer, type Timer } from './rate';
import type { SourceDescriptor } from './types';

/** What the Detective source calls and how far it goes (documentation and IAM policies are generated from it). */
export const detectiveDescriptor: SourceDescriptor = {
  id: 'detective',
  iamActions: [
    'detective:ListGraphs',
    'detective:GetMembers',
    'detective:StartInvestigation',
    'detective:GetInvestigation',
    'detective:ListIndicators',
  ],
  limits: [
    'one behavior graph per region, which may not exist: then no Detective enrichment in that region (said in the coverage gaps)',
    'the finding account must be an ENABLED member of the graph, or its administrator account',
    'investigations only for IAM user and IAM role ARNs: a role session is investigated as its role; root, AWS services and federated users are not investigable',
    'investigations are asynchronous (RUNNING, then SUCCESSFUL or FAILED): checked once per call, a RUNNING one is checked again later, never waited on',
    'investigation scope: 24 hours before the finding was first seen to 1 hour after it was last seen',
    'ListIndicators: 100 indicators a page, at most 20 pages (2,000 indicators) per investigation',
    'the graph of a region is looked up once per process (no graph: looked up again after 15 minutes)',
  ],
};

/** One indicator of an investigation: Detective's `IndicatorType` and its `IndicatorDetail` as the SDK returns it. */
export interface DetectiveIndicator {
  /** `TTP_OBSERVED` | `IMPOSSIBLE_TRAVEL` | `FLAGGED_IP_ADDRESS` | `NEW_GEOLOCATION` | `NEW_ASO` | `NEW_USER_AGENT` | `RELATED_FINDING` | `RELATED_FINDING_GROUP` (`UNKNOWN` when absent). */
  type: string;
  /** The `IndicatorDetail` union member (e.g. `{ TTPsObservedDetail: {...} }`), unchanged. */
  detail: unknown;
}

/** Outcome of {@link DetectiveSource.enrich}. */
export type DetectiveStatus = 'no-graph' | 'member-not-enabled' | 'not-investigable' | 'running' | 'done' | 'failed' | 'error';

/** What the Detective source found (or could not find) for one finding. */
export interface DetectiveResult {
  /**
   * - `no-graph`: no behavior graph in the finding's region (degraded, not an error);
   * - `member-not-enabled`: the finding's account is not an ENABLED member of the graph (status in `note`);
   * - `not-investigable`: the actor is not an IAM user or role (root, a service, a federated user, unknown);
   * - `running`: the investigation is still RUNNING (`recheck` is true);
   * - `done`: SUCCESSFUL, with `indicators`;
   * - `failed`: Detective answered FAILED;
   * - `error`: an AWS request failed (the error's name is in `note`).
   */
  status: DetectiveStatus;
  /** The behavior graph used, when one was found. */
  graphArn?: string;
  /** The investigation started or checked: pass it back as `previousInvestigationId` to check again. */
  investigationId?: string;
  /** The IAM user or role ARN investigated. */
  entityArn?: string;
  /** Indicators of a SUCCESSFUL investigation, in Detective's order; empty otherwise. */
  indicators: DetectiveIndicator[];
  /** One line for the storyline's coverage gaps, e.g. `Detective: no behavior graph in eu-west-1`. */
  note: string;
  /** True when the investigation is RUNNING: enrich again later with `previousInvestigationId`; never waited on. */
  recheck: boolean;
  /** AWS requests made, by API (`detective:ListGraphs` → count); a command retried by the SDK counts once. */
  requests: Record<string, number>;
}

/** Options of {@link DetectiveSource.enrich}. */
export interface DetectiveEnrichOptions {
  /** An investigation started by an earlier call (status `running`): checked instead of starting a new one. */
  previousInvestigationId?: string;
}

const HOUR = 3600 * 1000;
/** Before `eventFirstSeen`: the baseline the investigation scope covers. */
const SCOPE_BEFORE_MS = 24 * HOUR;
/** After `eventLastSeen`. */
const SCOPE_AFTER_MS = HOUR;
/** ListIndicators `MaxResults` (model range 1-100). */
const INDICATORS_PAGE = 100;
/** Pages of indicators read per investigation at most. */
const MAX_INDICATOR_PAGES = 20;
/** How long "no graph in this region" is remembered. */
const NO_GRAPH_TTL_MS = 15 * 60 * 1000;

interface Arn {
  partition: string;
  service: string;
  region: string;
  account: string;
  resource: string;
}

function parseArn(s: string): Arn | null {
  const parts = s.split(':');
  if (parts.length < 6 || parts[0] !== 'arn') return null;
  const [, partition = '', service = '', region = '', account = ''] = parts;
  const resource = parts.slice(5).join(':');
  if (!partition || !service || !resource) return null;
  return { partition, service, region, account, resource };
}

const ACCOUNT = /^\d{12}$/;

/** The first IAM `kind` ARN (`role` or `user`) among `known` of `account` whose name (last path segment) is `name`: its path kept. */
function knownIamArn(known: readonly string[], kind: 'role' | 'user', account: string, name: string): string | undefined {
  return known.find((k) => {
    const a = parseArn(k);
    if (!a || a.service !== 'iam' || a.account !== account || !a.resource.startsWith(`${kind}/`)) return false;
    return a.resource.split('/').pop() === name;
  });
}

/** The investigable ARN for one principal ARN: users and roles as they are, a role session as its role, anything else null. */
function entityFromArn(arn: string, known: readonly string[]): string | null {
  const a = parseArn(arn);
  if (!a || !ACCOUNT.test(a.account)) return null;
  const [kind, ...rest] = a.resource.split('/');
  if (a.service === 'iam' && (kind === 'user' || kind === 'role') && rest.length > 0 && rest.every((p) => p.length > 0)) return arn;
  if (a.service === 'sts' && kind === 'assumed-role' && rest.length >= 2 && rest[0]) {
    const role = rest[0];
    return knownIamArn(known, 'role', a.account, role) ?? `arn:${a.partition}:iam::${a.account}:role/${role}`;
  }
  return null; // root, federated-user, groups, services, …
}

/**
 * The ARN to hand to Detective StartInvestigation for a finding, or null when its actor is not
 * investigable (Detective investigates only IAM users and IAM roles; pitfall 17).
 *
 * - The finding's actor first: an `AssumedRole` (or `Role`) actor is investigated as its role —
 *   the IAM role ARN with its path when one is known (a lineage entry or an attack-sequence actor
 *   `arn:<p>:iam::<account>:role/<path>/<name>` of the finding's account), else
 *   `arn:<partition>:iam::<account>:role/<name>`; an `IAMUser` actor as its user ARN (path taken
 *   from a known ARN the same way). Root, federated users, AWS services and any other known actor
 *   type → null.
 * - Without an actor type (or name), the first lineage principal: an IAM user or role ARN as it is,
 *   a role session `arn:<p>:sts::<account>:assumed-role/<role>/<session>` as its role ARN (with its
 *   path when known), anything else → null.
 */
export function investigableEntity(storyline: Storyline, finding: NormalizedFinding): string | null {
  const known = [...storyline.lineage, ...(finding.attackSequence?.actorArns ?? [])].filter((s) => s.startsWith('arn:'));
  const type = (finding.actor.userType ?? '').trim().toLowerCase();
  const name = finding.actor.userName?.trim();
  const account = finding.accountId;
  const partition = finding.partition || 'aws';
  const nameOk = !!name && !name.includes('/') && !name.includes(':') && ACCOUNT.test(account);
  if (type === 'assumedrole' || type === 'role') {
    if (nameOk) return knownIamArn(known, 'role', account, name) ?? `arn:${partition}:iam::${account}:role/${name}`;
  } else if (type === 'iamuser' || type === 'user') {
    if (nameOk) return knownIamArn(known, 'user', account, name) ?? `arn:${partition}:iam::${account}:user/${name}`;
  } else if (type) {
    return null; // Root, FederatedUser, AWSService, AWSAccount, …: not investigable.
  }
  const first = storyline.lineage[0];
  return first ? entityFromArn(first, known) : null;
}

/** A time from an ISO string, or undefined when absent or unreadable. */
function timeOf(s: string | undefined): number | undefined {
  if (!s) return undefined;
  const t = Date.parse(s);
  return Number.isNaN(t) ? undefined : t;
}

/** One line of text (for the coverage gaps). */
function oneLine(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}

/**
 * The Detective source: one client a region (`clientFor`, with the Detective administrator
 * account's credentials), the behavior graph of each region cached in the instance.
 */
export class DetectiveSource {
  /** The descriptor of this source. */
  readonly descriptor = detectiveDescriptor;
  /** region → the graph lookup (a promise, so concurrent findings of a region share one ListGraphs). */
  private readonly graphs = new Map<string, { at: number; graph: Promise<string | null> }>();

  /**
   * @param clientFor the Detective client of a region (administrator account credentials).
   * @param timer the clock (the scope of an investigation without times, the expiry of "no graph").
   */
  constructor(
    private readonly clientFor: (region: string) => DetectiveClient,
    private readonly timer: Timer = realTimer,
  ) {}

  /**
   * Starts (or checks) the Detective investigation of the finding's IAM user or role in the
   * finding's region and returns what it found.
   *
   * Steps: {@link investigableEntity} (null → `not-investigable`, no request made); the region's
   * graph (ListGraphs, cached; none → `no-graph`); the finding account's membership (GetMembers,
   * skipped for the graph's administrator account and when `previousInvestigationId` is given;
   * not ENABLED → `member-not-enabled`); StartInvestigation over [eventFirstSeen − 24 h,
   * eventLastSeen + 1 h] unless `previousInvestigationId` is given; then one GetInvestigation:
   * RUNNING → `running` with `recheck`; SUCCESSFUL → ListIndicators, paged → `done`; FAILED → `failed`.
   *
   * Never throws: an AWS error (AccessDeniedException, ResourceNotFoundException,
   * TooManyRequestsException, ValidationException, InternalServerException, …) gives `error`
   * with the operation and the error's name in `note` (and the investigation id if one was started).
   */
  async enrich(finding: NormalizedFinding, storyline: Storyline, opts: DetectiveEnrichOptions = {}): Promise<DetectiveResult> {
    const requests: Record<string, number> = {};
    const region = finding.region;
    const result = (status: DetectiveStatus, note: string, extra: Partial<DetectiveResult> = {}): DetectiveResult => ({
      status, indicators: [], recheck: false, requests, ...extra, note: oneLine(note),
    });

    const entity = investigableEntity(storyline, finding);
    if (!entity) {
      const who = finding.actor.userType ?? storyline.lineage[0] ?? 'unknown actor';
      return result('not-investigable', `Detective: the actor (${who}) is not an IAM user or role, not investigable`);
    }

    let op = 'ListGraphs';
    let graphArn: string | undefined;
    let investigationId = opts.previousInvestigationId;
    const partial = (): Partial<DetectiveResult> => ({
      entityArn: entity,
      ...(graphArn ? { graphArn } : {}),
      ...(investigationId ? { investigationId } : {}),
    });
    try {
      const client = this.clientFor(region);
      const count = (name: string): void => {
        op = name;
        requests[`detective:${name}`] = (requests[`detective:${name}`] ?? 0) + 1;
      };

      const graph = await this.graphOf(region, client, count);
      if (!graph) return result('no-graph', `Detective: no behavior graph in ${region}`, { entityArn: entity });
      graphArn = graph;

      if (!investigationId) {
        const admin = parseArn(graph)?.account;
        if (finding.accountId !== admin) {
          count('GetMembers');
          const got = await client.send(new GetMembersCommand({ GraphArn: graph, AccountIds: [finding.accountId] }));
          const member = got.MemberDetails?.find((m) => m.AccountId === finding.accountId);
          if (!member) {
            return result('member-not-enabled', `Detective: account ${finding.accountId} is not a member of the behavior graph in ${region}`, partial());
          }
          if (member.Status !== 'ENABLED') {
            return result('member-not-enabled', `Detective: account ${finding.accountId} is ${member.Status ?? 'in an unknown status'} in the behavior graph in ${region}, not ENABLED`, partial());
          }
        }

        const now = this.timer.now();
        const first = timeOf(finding.eventFirstSeen) ?? timeOf(storyline.finding.eventFirstSeen) ?? timeOf(finding.createdAt) ?? now;
        const last = Math.max(first, timeOf(finding.eventLastSeen) ?? timeOf(storyline.finding.eventLastSeen) ?? timeOf(finding.updatedAt) ?? first);
        count('StartInvestigation');
        const started = await client.send(new StartInvestigationCommand({
          GraphArn: graph,
          EntityArn: entity,
          ScopeStartTime: new Date(first - SCOPE_BEFORE_MS),
          ScopeEndTime: new Date(last + SCOPE_AFTER_MS),
        }));
        if (!started.InvestigationId) return result('error', `Detective: StartInvestigation for ${entity} in ${region} returned no InvestigationId`, partial());
        investigationId = started.InvestigationId;
      }

      count('GetInvestigation');
      const inv = await client.send(new GetInvestigationCommand({ GraphArn: graph, InvestigationId: investigationId }));
      const investigated = inv.EntityArn ?? entity;
      const base = { ...partial(), entityArn: investigated };
      switch (inv.Status) {
        case 'RUNNING':
          return result('running', `Detective: investigation ${investigationId} of ${investigated} in ${region} is still running, to be checked again`, { ...base, recheck: true });
        case 'FAILED':
          return result('failed', `Detective: investigation ${investigationId} of ${investigated} in ${region} failed`, base);
        case 'SUCCESSFUL':
          break;
        default:
          return result('error', `Detective: investigation ${investigationId} in ${region} has an unknown status ${String(inv.Status)}`, base);
      }

      const indicators: DetectiveIndicator[] = [];
      let token: string | undefined;
      let pages = 0;
      const seen = new Set<string>();
      do {
        count('ListIndicators');
        const page = await client.send(new ListIndicatorsCommand({
          GraphArn: graph, InvestigationId: investigationId, MaxResults: INDICATORS_PAGE, ...(token ? { NextToken: token } : {}),
        }));
        pages += 1;
        for (const i of page.Indicators ?? []) indicators.push({ type: i.IndicatorType ?? 'UNKNOWN', detail: i.IndicatorDetail });
        token = page.NextToken;
        if (token && seen.has(token)) token = undefined; // a token seen before: stop rather than loop
        if (token) seen.add(token);
      } while (token && pages < MAX_INDICATOR_PAGES);
      const cut = token ? ` (first ${pages} pages only)` : '';
      return result('done', `Detective: investigation ${investigationId} of ${investigated} in ${region}: ${indicators.length} indicators${cut}`, { ...base, indicators });
    } catch (e) {
      const err = e as { name?: unknown; $metadata?: { httpStatusCode?: number } };
      const name = typeof err?.name === 'string' && err.name ? err.name : 'Error';
      const status = err?.$metadata?.httpStatusCode ? ` (HTTP ${err.$metadata.httpStatusCode})` : '';
      const id = investigationId ? `; investigation ${investigationId}` : '';
      return result('error', `Detective: ${op} failed in ${region}: ${name}${status}${id}`, partial());
    }
  }

  /** The behavior graph ARN of `region` (null: none), from the cache or ListGraphs. Errors are not cached. */
  private async graphOf(region: string, client: DetectiveClient, count: (op: string) => void): Promise<string | null> {
    const now = this.timer.now();
    const cached = this.graphs.get(region);
    if (cached) {
      const graph = await cached.graph.catch(() => undefined);
      if (graph !== undefined && (graph !== null || now - cached.at < NO_GRAPH_TTL_MS)) return graph;
      if (this.graphs.get(region) === cached) this.graphs.delete(region);
    }
    count('ListGraphs');
    const lookup = client.send(new ListGraphsCommand({})).then((out) => out.GraphList?.find((g) => g.Arn)?.Arn ?? null);
    const entry = { at: now, graph: lookup };
    this.graphs.set(region, entry);
    try {
      return await lookup;
    } catch (e) {
      if (this.graphs.get(region) === entry) this.graphs.delete(region);
      throw e;
    }
  }
}
