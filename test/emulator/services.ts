/**
 * In-memory state and operation handlers of the emulated services.
 *
 * Every handler receives the caller's context (account from the access key, region from the
 * SigV4 credential scope) and the member-named input that the server has already checked
 * against the Smithy model; it returns a member-named output (the server serialises it in the
 * service's protocol) or throws an {@link AwsError}. The rules that no model holds are coded
 * here, each citing its source (API reference pages, /work/shared/design/pitfalls.md).
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { AwsError } from './errors';
import { Problem, problemsMessage, SmithyModel } from './models';
import { decodeToken, encodeToken, IdentityState, OrganizationsState, organizationsHandlers, stsHandlers } from './identity';
import { securityHubV2Handlers } from './securityhub-v2';
import { athenaHandlers, AthenaState } from './athena';

export {
  DEFAULT_OPT_IN_REGIONS, evaluateTrustPolicy, GLOBAL_STS_REGIONS, IdentityState, OrganizationsState,
} from './identity';
export type {
  AddAccountOptions, DelegatedAdmin, IamRole, KeyIdentity, Organization, OrgAccount, OrgUnit, PrincipalContext, PutRoleOptions, TrustRequest,
} from './identity';

/** A plain JSON object. */
export type Json = Record<string, unknown>;

/** What a handler knows about the call. */
export interface CallContext {
  account: string;
  region: string;
  partition: string;
  accessKeyId: string;
  /** Base URL of the emulator (`http://127.0.0.1:<port>`), for SQS queue URLs. */
  endpoint: string;
  now: Date;
  model: SmithyModel;
  /** The mutable knobs of the emulator. */
  knobs: EmulatorKnobs;
}

/**
 * Behaviour knobs, mutable at any time by tests.
 * - `throttleRate` (0..1): probability of answering the service's throttling error.
 * - `serverErrorRate` (0..1): probability of answering HTTP 500 / 503.
 * - `latencyMs`: delay before each answer.
 * - `lookupEventsPerSecond`: CloudTrail LookupEvents budget per account and region (AWS: 2; 0 = unlimited).
 * - `timeScale` (default 1): the per-second quotas (LookupEvents, `securityHubQuotas`) count over
 *   a "second" of 1000 / timeScale ms, for time-scaled benchmarks (bench/latency.ts).
 * - `investigationChecksToFinish`: Detective GetInvestigation answers RUNNING until this many
 *   checks were made, then SUCCESSFUL (default 2: RUNNING on the first check).
 * - `faults`: `service:Operation` (e.g. `securityhub:ListMembers`) → `throttle` or `server`: that
 *   operation always answers the service's throttling error or HTTP 500 (no PRNG draw).
 */
export interface EmulatorKnobs {
  throttleRate: number;
  serverErrorRate: number;
  latencyMs: number;
  lookupEventsPerSecond: number;
  timeScale: number;
  investigationChecksToFinish: number;
  /**
   * Enforce Security Hub's API quotas per account and region as token buckets (BatchImportFindings
   * and BatchUpdateFindings 10 TPS burst 30, GetFindings 3 TPS burst 6; pitfalls numbers table) and
   * answer HTTP 429 TooManyRequestsException beyond them. Off by default.
   */
  securityHubQuotas: boolean;
  faults: Record<string, 'throttle' | 'server'>;
}

/** A handler: member-named input in, member-named output out. */
export type Handler = (ctx: CallContext, input: Json) => unknown;

/** A handler table entry; `selfValidate` ops check the model themselves (per-item results). */
export interface HandlerEntry {
  fn: Handler;
  selfValidate?: boolean;
}

function isObj(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
function s(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}
function arr(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}
function getPath(o: unknown, dotted: string): unknown {
  let cur: unknown = o;
  for (const p of dotted.split('.')) {
    if (!isObj(cur)) return undefined;
    cur = cur[p];
  }
  return cur;
}
function hashOf(v: unknown): string {
  return createHash('sha256').update(JSON.stringify(v, (_k, x: unknown) => (x instanceof Date ? x.toISOString() : x))).digest('hex').slice(0, 16);
}
/** `aws`, `aws-cn` or `aws-us-gov` for a region name. */
export function partitionOfRegion(region: string): string {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  return 'aws';
}
function key(account: string, region: string): string {
  return `${account}:${region}`;
}

// ─────────────────────────────── Security Hub ───────────────────────────────

/** ASFF `Types` namespaces (ASFF "Types taxonomy"). */
export const ASFF_TYPE_NAMESPACES = ['Software and Configuration Checks', 'TTPs', 'Effects', 'Unusual Behaviors', 'Sensitive Data Identifications'];

/** A per-finding failure of BatchImportFindings (`FailedFindings[]`). */
export interface ImportFailure {
  Id: string;
  ErrorCode: string;
  ErrorMessage: string;
}

/**
 * Member status values of Security Hub (`Member.MemberStatus`, AWS Security Hub API reference,
 * "Member" data type): Created, Invited, Enabled, Removed, Resigned, Deleted, AccountSuspended.
 */
export const SECURITY_HUB_MEMBER_STATUSES = ['Created', 'Invited', 'Enabled', 'Removed', 'Resigned', 'Deleted', 'AccountSuspended'] as const;
/** One of {@link SECURITY_HUB_MEMBER_STATUSES}. */
export type SecurityHubMemberStatus = (typeof SECURITY_HUB_MEMBER_STATUSES)[number];

/** Region linking modes of a finding aggregator (CreateFindingAggregator `RegionLinkingMode`). */
export const REGION_LINKING_MODES = ['ALL_REGIONS', 'ALL_REGIONS_EXCEPT_SPECIFIED', 'SPECIFIED_REGIONS', 'NO_REGIONS'] as const;
/** One of {@link REGION_LINKING_MODES}. */
export type RegionLinkingMode = (typeof REGION_LINKING_MODES)[number];

/** A member account of an administrator in one region (Security Hub and GuardDuty keep the same record). */
export interface Membership<S extends string> {
  administrator: string;
  accountId: string;
  email: string;
  status: S;
  /** Absent for `Created` (added, not invited yet). */
  invitedAt?: Date;
  updatedAt: Date;
}

/** Member accounts by region, each with one administrator (Security Hub and GuardDuty memberships). */
export class Memberships<S extends string> {
  /** region → member account → membership. */
  readonly byRegion = new Map<string, Map<string, Membership<S>>>();

  /** The membership of `member` in `region`, if any. */
  get(region: string, member: string): Membership<S> | undefined {
    return this.byRegion.get(region)?.get(member);
  }

  /** Sets `member`'s membership of `admin` in `region` (an invitation time kept from before, none for `Created`). */
  put(region: string, admin: string, member: string, status: S): void {
    if (member === admin) throw new Error('an administrator account cannot be its own member');
    let byMember = this.byRegion.get(region);
    if (!byMember) this.byRegion.set(region, (byMember = new Map()));
    const prev = byMember.get(member);
    const now = new Date();
    byMember.set(member, { administrator: admin, accountId: member, email: `${member}@example.com`, status, ...(status === 'Created' ? {} : { invitedAt: prev?.invitedAt ?? now }), updatedAt: now });
  }

  /** The member accounts of an administrator in a region, in the order they were added. */
  of(region: string, admin: string): Membership<S>[] {
    return [...(this.byRegion.get(region)?.values() ?? [])].filter((m) => m.administrator === admin);
  }
}

/** A Security Hub member account of an administrator in one region. */
export type SecurityHubMember = Membership<SecurityHubMemberStatus>;

/** A finding aggregator (cross-Region aggregation) of one account. */
export interface FindingAggregator {
  arn: string;
  account: string;
  /** The home Region (API: `FindingAggregationRegion`). */
  homeRegion: string;
  mode: RegionLinkingMode;
  /** Excluded (ALL_REGIONS_EXCEPT_SPECIFIED) or included (SPECIFIED_REGIONS) Regions; empty otherwise. */
  regions: string[];
}

/** What Security Hub asks of the emulator's identities (opt-in regions); defaults: no opt-in region. */
export interface SecurityHubRegionHooks {
  /** Whether a region is an opt-in region (disabled by default). */
  isOptInRegion?: (region: string) => boolean;
  /** Whether an account may use a region (always true for regions that are not opt-in). */
  isRegionEnabled?: (account: string, region: string) => boolean;
}

/**
 * Security Hub per region: findings (ASFF objects as imported), the accounts that enabled
 * Security Hub (hubs), the administrator account of each region with its members, and the
 * finding aggregators (cross-Region aggregation) that decide which regions' findings an account
 * sees from its home Region.
 */
export class SecurityHubState {
  /** region → `ProductArn\nId` → finding. */
  readonly findings = new Map<string, Map<string, Json>>();
  /** member account → administrator account, in every region ({@link linkMembers}). */
  readonly administratorOf = new Map<string, string>();
  /** Token buckets of the quotas (`account:region:operation`), used when `knobs.securityHubQuotas` is on. */
  readonly buckets = new Map<string, { tokens: number; at: number }>();
  /** `account:region` → when the account enabled Security Hub there (DescribeHub `SubscribedAt`). */
  readonly hubs = new Map<string, Date>();
  /** region → the Security Hub administrator account of the organisation there and its auto-enable setting. */
  readonly administrators = new Map<string, { account: string; autoEnable: boolean }>();
  /** region → member account → membership (one administrator per member and region). */
  readonly members = new Memberships<SecurityHubMemberStatus>();
  /** account → its finding aggregator (one per account). */
  readonly aggregators = new Map<string, FindingAggregator>();
  /** The new Security Hub: region → `metadata.uid` → OCSF finding (./securityhub-v2.ts). */
  readonly ocsfFindings = new Map<string, Map<string, Json>>();
  /** The "Findings Imported V2" events the new Security Hub emitted for updates, in order (tests feed them to the intake). */
  readonly v2Events: Json[] = [];

  /** @param hooks opt-in regions of the emulator's identities (home and linked Region rules). */
  constructor(private readonly hooks: SecurityHubRegionHooks = {}) {}

  /** Stores a finding as is (no rules): for seeding GuardDuty findings in ASFF. Region from `finding.Region`. */
  put(finding: Json, region = s(finding.Region) ?? 'us-east-1'): void {
    let m = this.findings.get(region);
    if (!m) this.findings.set(region, (m = new Map()));
    m.set(`${s(finding.ProductArn) ?? ''}\n${s(finding.Id) ?? ''}`, finding);
  }

  /** Stores an OCSF finding of the new Security Hub as is (no rules), by `metadata.uid`, in `cloud.region`. */
  putOcsf(finding: Json, region = s(getPath(finding, 'cloud.region')) ?? 'us-east-1'): void {
    let m = this.ocsfFindings.get(region);
    if (!m) this.ocsfFindings.set(region, (m = new Map()));
    m.set(s(getPath(finding, 'metadata.uid')) ?? '', finding);
  }

  /** OCSF findings of the new Security Hub (of one region when given). */
  allOcsf(region?: string): Json[] {
    const maps = region ? [this.ocsfFindings.get(region)] : [...this.ocsfFindings.values()];
    return maps.flatMap((m) => (m ? [...m.values()] : []));
  }

  /** The OCSF finding whose `finding_info.uid` is this (GuardDuty's finding ARN), any region unless given. */
  getOcsf(findingInfoUid: string, region?: string): Json | undefined {
    return this.allOcsf(region).find((f) => getPath(f, 'finding_info.uid') === findingInfoUid);
  }

  /** All findings (of one region when given). */
  all(region?: string): Json[] {
    const maps = region ? [this.findings.get(region)] : [...this.findings.values()];
    return maps.flatMap((m) => (m ? [...m.values()] : []));
  }

  /** The finding with this Id (any product, any region unless given). */
  get(id: string, region?: string): Json | undefined {
    return this.all(region).find((f) => f.Id === id);
  }

  /** Makes `admin` the Security Hub administrator of `members` in every region (they may read and update the members' findings). */
  linkMembers(admin: string, members: string[]): void {
    for (const m of members) this.administratorOf.set(m, admin);
  }

  /**
   * Whether `caller` may see / update findings of `owner` (in `region` when given): its own, those
   * of accounts linked with {@link linkMembers}, and those of its members with status `Enabled`
   * in that region ({@link addMember}).
   */
  canAccess(caller: string, owner: string, region?: string): boolean {
    if (caller === owner || this.administratorOf.get(owner) === caller) return true;
    if (region === undefined) return false;
    const m = this.members.get(region, owner);
    return m?.administrator === caller && m.status === 'Enabled';
  }

  /**
   * Enables Security Hub for an account in a region (no-op when enabled). DescribeHub then
   * answers HubArn `arn:<partition>:securityhub:<region>:<account>:hub/default`, SubscribedAt
   * (now), AutoEnableControls true and ControlFindingGenerator `SECURITY_CONTROL`.
   */
  enableHub(account: string, region: string): void {
    if (!this.hubs.has(key(account, region))) this.hubs.set(key(account, region), new Date());
  }

  /** Whether the account has enabled Security Hub in the region. */
  isHubEnabled(account: string, region: string): boolean {
    return this.hubs.has(key(account, region));
  }

  /** The ARN of the hub of an account in a region (whether enabled or not). */
  hubArn(account: string, region: string): string {
    return `arn:${partitionOfRegion(region)}:securityhub:${region}:${account}:hub/default`;
  }

  /**
   * Makes `admin` the Security Hub administrator account of the organisation in `region`
   * (replacing any other there) and enables Security Hub for it there: "Security Hub is enabled
   * automatically for the chosen account" (Security Hub user guide, "Setting up Security Hub").
   * DescribeOrganizationConfiguration then answers `AutoEnable` (`opts.autoEnable`, default false
   * as documented), MemberAccountLimitReached false, AutoEnableStandards `DEFAULT` and
   * OrganizationConfiguration `{ ConfigurationType: 'LOCAL', Status: 'ENABLED' }`.
   */
  setAdministrator(region: string, admin: string, opts: { autoEnable?: boolean } = {}): void {
    this.administrators.set(region, { account: admin, autoEnable: opts.autoEnable ?? false });
    this.enableHub(admin, region);
  }

  /**
   * Adds (or replaces) `member` as a member account of `admin` in `region` with a
   * `MemberStatus` of {@link SECURITY_HUB_MEMBER_STATUSES}. With `Enabled`, `admin` may read and
   * update the member's findings of that region, and Security Hub is enabled for the member there
   * ("Those organization accounts also have Security Hub enabled automatically", user guide).
   * @throws for a status the API reference does not list, for `member === admin`, and when the
   *   member is `Enabled` under another administrator in that region ("Member accounts can only be
   *   associated with a single administrator account").
   */
  addMember(region: string, admin: string, member: string, status: string): void {
    if (!(SECURITY_HUB_MEMBER_STATUSES as readonly string[]).includes(status)) {
      throw new Error(`Security Hub MemberStatus ${status} is not one of ${SECURITY_HUB_MEMBER_STATUSES.join(', ')}`);
    }
    const prev = this.members.get(region, member);
    if (prev && prev.administrator !== admin && prev.status === 'Enabled') {
      throw new Error(`${member} is already an Enabled member of ${prev.administrator} in ${region}`);
    }
    this.members.put(region, admin, member, status as SecurityHubMemberStatus);
    if (status === 'Enabled') this.enableHub(member, region);
  }

  /**
   * Creates the finding aggregator of `account` with its home Region (cross-Region
   * aggregation) and enables Security Hub for the account there; returns the aggregator ARN
   * `arn:<partition>:securityhub:<home>:<account>:finding-aggregator/<uuid>`. `regions` are the
   * excluded (ALL_REGIONS_EXCEPT_SPECIFIED) or included (SPECIFIED_REGIONS) Regions.
   * Linked Regions: every other Region of the home Region's partition (ALL_REGIONS), all but
   * `regions` (ALL_REGIONS_EXCEPT_SPECIFIED), `regions` (SPECIFIED_REGIONS), none (NO_REGIONS);
   * an opt-in Region only once the account has enabled it (user guide, "Updating cross-Region
   * aggregation settings").
   * @throws for an unknown mode, `regions` given with ALL_REGIONS / NO_REGIONS or missing with the
   *   other modes, an opt-in home Region ("You can't use an AWS Region that is disabled by default
   *   as your home Region", user guide "Enabling cross-Region aggregation"), or an account that
   *   already has an aggregator. `id`: the ARN's last part (default a random UUID; fixed for reproducible output).
   */
  createFindingAggregator(account: string, homeRegion: string, mode: RegionLinkingMode, regions: string[] = [], id: string = randomUUID()): string {
    if (!(REGION_LINKING_MODES as readonly string[]).includes(mode)) throw new Error(`RegionLinkingMode ${String(mode)} is not one of ${REGION_LINKING_MODES.join(', ')}`);
    const listed = mode === 'ALL_REGIONS_EXCEPT_SPECIFIED' || mode === 'SPECIFIED_REGIONS';
    if (listed && !regions.length) throw new Error(`${mode} needs the list of Regions`);
    if (!listed && regions.length) throw new Error(`${mode} takes no list of Regions`);
    if (this.hooks.isOptInRegion?.(homeRegion)) throw new Error(`${homeRegion} is an opt-in Region and cannot be the home Region`);
    if (this.aggregators.has(account)) throw new Error(`account ${account} already has a finding aggregator (${this.aggregators.get(account)?.arn ?? ''})`);
    const arn = `arn:${partitionOfRegion(homeRegion)}:securityhub:${homeRegion}:${account}:finding-aggregator/${id}`;
    this.aggregators.set(account, { arn, account, homeRegion, mode, regions: [...regions] });
    this.enableHub(account, homeRegion);
    return arn;
  }

  /** Whether `region` is a linked Region of the aggregator (never its home Region). */
  isLinked(agg: FindingAggregator, region: string): boolean {
    if (region === agg.homeRegion || partitionOfRegion(region) !== partitionOfRegion(agg.homeRegion)) return false;
    if (this.hooks.isOptInRegion?.(region) && !(this.hooks.isRegionEnabled?.(agg.account, region) ?? false)) return false;
    switch (agg.mode) {
      case 'ALL_REGIONS': return true;
      case 'ALL_REGIONS_EXCEPT_SPECIFIED': return !agg.regions.includes(region);
      case 'SPECIFIED_REGIONS': return agg.regions.includes(region);
      default: return false;
    }
  }

  /**
   * The regions whose findings `account` sees when it calls in `region`: that region, plus the
   * linked Regions when it is the home Region of the account's finding aggregator.
   */
  visibleRegions(account: string, region: string): string[] {
    const agg = this.aggregators.get(account);
    if (!agg || agg.homeRegion !== region) return [region];
    const regions = new Set([...this.findings.keys(), ...this.ocsfFindings.keys()]);
    return [region, ...[...regions].filter((r) => r !== region && this.isLinked(agg, r)).sort()];
  }
}

const ASFF_TS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * The ASFF rules of one imported finding that the model does not hold (AWS Security Hub user
 * guide, "ASFF required / optional attributes", "BatchImportFindings"; pitfalls kinds 4, 5, 6, 7).
 * Returns the failure or undefined.
 */
export function asffImportFailure(f: Json, ctx: { account: string; region: string; partition: string }, existing: Json | undefined): ImportFailure | undefined {
  const id = s(f.Id) ?? '';
  const fail = (ErrorCode: string, ErrorMessage: string): ImportFailure => ({ Id: id, ErrorCode, ErrorMessage });
  const size = Buffer.byteLength(JSON.stringify(f));
  if (size > 240 * 1024) return fail('InvalidInput', `Finding size ${size} bytes exceeds the 240 KB limit`);
  if (f.AwsAccountId !== ctx.account) {
    return fail('AccessDeniedException', `The caller account ${ctx.account} is not allowed to import findings for account ${String(f.AwsAccountId)}`);
  }
  const expected = `arn:${ctx.partition}:securityhub:${ctx.region}:${ctx.account}:product/${ctx.account}/default`;
  if (f.ProductArn !== expected) {
    return fail('AccessDeniedException', `ProductArn ${String(f.ProductArn)} is not allowed; the caller may import only with ${expected}`);
  }
  const title = s(f.Title) ?? '';
  if ([...title].length > 256) return fail('InvalidInput', 'Finding does not adhere to Amazon Security Finding Format. data.Title should NOT be longer than 256 characters');
  const desc = s(f.Description) ?? '';
  if ([...desc].length > 1024) return fail('InvalidInput', 'Finding does not adhere to Amazon Security Finding Format. data.Description should NOT be longer than 1024 characters');
  const types = arr(f.Types);
  if (types.length > 50) return fail('InvalidInput', 'Finding does not adhere to Amazon Security Finding Format. data.Types should NOT have more than 50 items');
  for (const [i, t] of types.entries()) {
    const parts = String(t).split('/');
    if (parts.length < 2 || parts.length > 3 || parts.some((p) => p.trim() === '') || !ASFF_TYPE_NAMESPACES.includes(parts[0] ?? '')) {
      return fail('InvalidInput', `Finding does not adhere to Amazon Security Finding Format. data.Types[${i}] ${JSON.stringify(t)} is not namespace/category[/classifier] with a known namespace and non-empty parts`);
    }
  }
  const res = arr(f.Resources);
  if (res.length < 1 || res.length > 32) return fail('InvalidInput', 'Finding does not adhere to Amazon Security Finding Format. data.Resources must have 1 to 32 items');
  for (const k of ['CreatedAt', 'UpdatedAt', 'FirstObservedAt', 'LastObservedAt']) {
    const v = f[k];
    if (v !== undefined && (typeof v !== 'string' || !ASFF_TS.test(v) || Number.isNaN(Date.parse(v)))) {
      return fail('InvalidInput', `Finding does not adhere to Amazon Security Finding Format. data.${k} ${JSON.stringify(v)} is not an RFC 3339 timestamp`);
    }
  }
  for (const k of ['ProductFields', 'UserDefinedFields']) {
    const m = f[k];
    if (!isObj(m)) continue;
    const entries = Object.entries(m);
    if (entries.length > 50) return fail('InvalidInput', `Finding does not adhere to Amazon Security Finding Format. data.${k} should NOT have more than 50 properties`);
    for (const [mk, mv] of entries) {
      if ([...mk].length > 128) return fail('InvalidInput', `data.${k} key ${JSON.stringify(mk.slice(0, 40))}… is longer than 128`);
      if ([...String(mv)].length > (k === 'ProductFields' ? 2048 : 1024)) return fail('InvalidInput', `data.${k}.${mk} is too long`);
    }
  }
  if (existing && Date.parse(String(f.UpdatedAt)) <= Date.parse(String(existing.UpdatedAt))) {
    return fail('InvalidInput', `UpdatedAt ${String(f.UpdatedAt)} must be later than the existing finding's UpdatedAt ${String(existing.UpdatedAt)}`);
  }
  return undefined;
}

function matchString(value: unknown, filters: unknown[]): boolean {
  const vals = (Array.isArray(value) ? value : [value]).filter((v) => v !== undefined && v !== null).map(String);
  const pos = filters.filter((x) => isObj(x) && !String(x.Comparison).startsWith('NOT_') && x.Comparison !== 'PREFIX_NOT_EQUALS') as Json[];
  const neg = filters.filter((x) => isObj(x) && (String(x.Comparison).startsWith('NOT_') || x.Comparison === 'PREFIX_NOT_EQUALS')) as Json[];
  const test = (cmp: string, fv: string, v: string): boolean => {
    switch (cmp) {
      case 'EQUALS': case 'NOT_EQUALS': return v === fv;
      case 'PREFIX': case 'PREFIX_NOT_EQUALS': return v.startsWith(fv);
      case 'CONTAINS': case 'NOT_CONTAINS': return v.includes(fv);
      default: return v === fv;
    }
  };
  if (pos.length && !pos.some((f) => vals.some((v) => test(String(f.Comparison ?? 'EQUALS'), String(f.Value ?? ''), v)))) return false;
  if (neg.some((f) => vals.some((v) => test(String(f.Comparison), String(f.Value ?? ''), v)))) return false;
  return true;
}

function matchDate(value: unknown, filters: unknown[], now: Date): boolean {
  const t = Date.parse(String(value ?? ''));
  if (Number.isNaN(t)) return false;
  return filters.every((f) => {
    if (!isObj(f)) return true;
    const dr = f.DateRange;
    if (isObj(dr)) {
      const days = Number(dr.Value ?? 0);
      return t >= now.getTime() - days * 86400_000;
    }
    const start = f.Start !== undefined ? Date.parse(String(f.Start)) : -Infinity;
    const end = f.End !== undefined ? Date.parse(String(f.End)) : Infinity;
    return t >= start && t <= end;
  });
}

/** GetFindings filter fields that live somewhere else than a top-level member of the same name. */
const SH_FILTER_PATHS: Record<string, (f: Json) => unknown> = {
  SeverityLabel: (f) => getPath(f, 'Severity.Label'),
  WorkflowStatus: (f) => getPath(f, 'Workflow.Status'),
  ResourceType: (f) => arr(f.Resources).map((r) => (isObj(r) ? r.Type : undefined)),
  ResourceId: (f) => arr(f.Resources).map((r) => (isObj(r) ? r.Id : undefined)),
  Type: (f) => f.Types,
  NoteText: (f) => getPath(f, 'Note.Text'),
  ComplianceStatus: (f) => getPath(f, 'Compliance.Status'),
};
const SH_DATE_FIELDS = new Set(['UpdatedAt', 'CreatedAt', 'FirstObservedAt', 'LastObservedAt', 'ProcessedAt', 'NoteUpdatedAt']);

/** Security Hub quotas: operation → [rate per second, burst]. */
export const SECURITY_HUB_QUOTAS: Record<string, [number, number]> = {
  BatchImportFindings: [10, 30],
  BatchUpdateFindings: [10, 30],
  GetFindings: [3, 6],
};

/** Takes a token from the bucket of an account, region and operation; throws HTTP 429 TooManyRequestsException when empty. */
function takeSecurityHubToken(st: SecurityHubState, ctx: CallContext, op: string): void {
  const q = SECURITY_HUB_QUOTAS[op];
  if (!ctx.knobs.securityHubQuotas || !q) return;
  const [rate, burst] = q;
  const k = `${ctx.account}:${ctx.region}:${op}`;
  const now = Date.now();
  const b = st.buckets.get(k) ?? { tokens: burst, at: now };
  const second = 1000 / (ctx.knobs.timeScale > 0 ? ctx.knobs.timeScale : 1);
  b.tokens = Math.min(burst, b.tokens + ((now - b.at) / second) * rate);
  b.at = now;
  st.buckets.set(k, b);
  if (b.tokens < 1) throw new AwsError('TooManyRequestsException', 'Rate exceeded', 429);
  b.tokens -= 1;
}

/**
 * A page of `items` by the request's `MaxResults` (default `defaultMax`) and `NextToken`; a token
 * is bound to `scope` (the caller and the parameters that shape the list) and is refused with
 * `invalid()` when it is not ours or came with other parameters.
 */
function pageOf<T>(items: T[], input: Json, scope: string, defaultMax: number, invalid: () => AwsError): { items: T[]; NextToken?: string } {
  const max = Number(input.MaxResults ?? defaultMax);
  const h = hashOf({ scope, max });
  let offset = 0;
  if (input.NextToken !== undefined && input.NextToken !== '') {
    const t = decodeToken(String(input.NextToken));
    if (!t || t.h !== h || typeof t.o !== 'number') throw invalid();
    offset = t.o;
  }
  const next = offset + max < items.length ? encodeToken({ o: offset + max, h }) : undefined;
  return { items: items.slice(offset, offset + max), ...(next ? { NextToken: next } : {}) };
}

function securityHubHandlers(st: SecurityHubState): Record<string, HandlerEntry> {
  const regionMap = (region: string): Map<string, Json> => {
    let m = st.findings.get(region);
    if (!m) st.findings.set(region, (m = new Map()));
    return m;
  };
  // "Account <id> is not subscribed to AWS Security Hub": InvalidAccessException (HTTP 401 in the
  // model) when the account has not enabled Security Hub in the calling region.
  const requireHub = (ctx: CallContext): void => {
    if (!st.isHubEnabled(ctx.account, ctx.region)) throw new AwsError('InvalidAccessException', `Account ${ctx.account} is not subscribed to AWS Security Hub`);
  };
  const invalidToken = (): AwsError => new AwsError('InvalidInputException', 'Invalid NextToken');
  const aggregatorOut = (a: FindingAggregator): Json => ({
    FindingAggregatorArn: a.arn, FindingAggregationRegion: a.homeRegion, RegionLinkingMode: a.mode,
    ...(a.regions.length ? { Regions: a.regions } : {}),
  });
  return {
    DescribeHub: {
      fn: (ctx, input) => {
        requireHub(ctx);
        const arn = st.hubArn(ctx.account, ctx.region);
        if (input.HubArn !== undefined && input.HubArn !== arn) throw new AwsError('ResourceNotFoundException', `Hub ${String(input.HubArn)} not found`);
        return { HubArn: arn, SubscribedAt: (st.hubs.get(key(ctx.account, ctx.region)) ?? ctx.now).toISOString(), AutoEnableControls: true, ControlFindingGenerator: 'SECURITY_CONTROL' };
      },
    },
    DescribeOrganizationConfiguration: {
      fn: (ctx) => {
        requireHub(ctx);
        const admin = st.administrators.get(ctx.region);
        // Only the Security Hub administrator account can invoke this operation (API reference).
        if (admin?.account !== ctx.account) throw new AwsError('InvalidAccessException', `Account ${ctx.account} is not an administrator for this organization`);
        return {
          AutoEnable: admin.autoEnable, MemberAccountLimitReached: false, AutoEnableStandards: 'DEFAULT',
          OrganizationConfiguration: { ConfigurationType: 'LOCAL', Status: 'ENABLED' },
        };
      },
    },
    ListMembers: {
      fn: (ctx, input) => {
        requireHub(ctx);
        // OnlyAssociated: default TRUE; TRUE lists the members whose status is ENABLED, FALSE all (API reference).
        const onlyAssociated = input.OnlyAssociated !== false;
        const list = st.members.of(ctx.region, ctx.account).filter((m) => !onlyAssociated || m.status === 'Enabled');
        const p = pageOf(list, input, `sh-members:${ctx.account}:${ctx.region}:${String(onlyAssociated)}`, 50, invalidToken);
        return {
          Members: p.items.map((m) => ({
            AccountId: m.accountId, Email: m.email, MasterId: m.administrator, AdministratorId: m.administrator, MemberStatus: m.status,
            ...(m.invitedAt ? { InvitedAt: m.invitedAt } : {}), UpdatedAt: m.updatedAt,
          })),
          ...(p.NextToken ? { NextToken: p.NextToken } : {}),
        };
      },
    },
    ListFindingAggregators: {
      // "You can run this operation from any AWS Region" (API reference).
      fn: (ctx, input) => {
        requireHub(ctx);
        const agg = st.aggregators.get(ctx.account);
        const p = pageOf(agg ? [agg] : [], input, `sh-aggregators:${ctx.account}`, 100, invalidToken);
        return { FindingAggregators: p.items.map((a) => ({ FindingAggregatorArn: a.arn })), ...(p.NextToken ? { NextToken: p.NextToken } : {}) };
      },
    },
    GetFindingAggregator: {
      // "Returns the current configuration in the calling account for cross-Region aggregation" (API reference).
      fn: (ctx, input) => {
        requireHub(ctx);
        const agg = st.aggregators.get(ctx.account);
        if (!agg || agg.arn !== input.FindingAggregatorArn) throw new AwsError('ResourceNotFoundException', `Finding aggregator ${String(input.FindingAggregatorArn)} not found`);
        return aggregatorOut(agg);
      },
    },
    BatchImportFindings: {
      selfValidate: true,
      fn: (ctx, input) => {
        takeSecurityHubToken(st, ctx, 'BatchImportFindings');
        const findings = arr(input.Findings);
        // Request-level problems: the list itself (1..100 per the model), not its items.
        const all = ctx.model.validate('com.amazonaws.securityhub#BatchImportFindingsRequest', input);
        const top = all.filter((p) => !/^Findings\[\d+\]/.test(p.path));
        if (top.length) throw new AwsError('InvalidInputException', problemsMessage(top));
        const byItem = new Map<number, Problem[]>();
        for (const p of all) {
          const i = Number(/^Findings\[(\d+)\]/.exec(p.path)?.[1]);
          byItem.set(i, [...(byItem.get(i) ?? []), p]);
        }
        const failed: ImportFailure[] = [];
        const store = regionMap(ctx.region);
        findings.forEach((raw, i) => {
          const f = isObj(raw) ? raw : {};
          const probs = byItem.get(i);
          if (probs?.length) {
            failed.push({ Id: s(f.Id) ?? '', ErrorCode: 'InvalidInput', ErrorMessage: 'Finding does not adhere to Amazon Security Finding Format. ' + problemsMessage(probs.map((p) => ({ ...p, path: p.path.replace(/^Findings\[\d+\]\.?/, 'data.') }))) });
            return;
          }
          const k = `${s(f.ProductArn) ?? ''}\n${s(f.Id) ?? ''}`;
          const existing = store.get(k);
          const failure = asffImportFailure(f, ctx, existing);
          if (failure) { failed.push(failure); return; }
          const stored: Json = { ProductName: 'Default', CompanyName: 'Personal', Region: ctx.region, RecordState: 'ACTIVE', Workflow: { Status: 'NEW' }, WorkflowState: 'NEW', ...f, ProcessedAt: ctx.now.toISOString() };
          if (existing) {
            // Import cannot change these after the finding exists (BatchImportFindings reference).
            for (const keep of ['Note', 'UserDefinedFields', 'VerificationState', 'Workflow', 'WorkflowState']) {
              if (existing[keep] !== undefined) stored[keep] = existing[keep];
              else delete stored[keep];
            }
            stored.CreatedAt = existing.CreatedAt;
          }
          store.set(k, stored);
        });
        return { FailedCount: failed.length, SuccessCount: findings.length - failed.length, FailedFindings: failed };
      },
    },
    BatchUpdateFindings: {
      fn: (ctx, input) => {
        takeSecurityHubToken(st, ctx, 'BatchUpdateFindings');
        const ids = arr(input.FindingIdentifiers) as Json[];
        if (ids.length < 1 || ids.length > 100) throw new AwsError('InvalidInputException', `FindingIdentifiers must have 1 to 100 items, got ${ids.length}`);
        const note = input.Note;
        if (isObj(note)) {
          if ([...String(note.Text ?? '')].length > 512) throw new AwsError('InvalidInputException', 'Note.Text must be at most 512 characters');
          if ([...String(note.UpdatedBy ?? '')].length > 128) throw new AwsError('InvalidInputException', 'Note.UpdatedBy must be at most 128 characters');
        }
        const udf = input.UserDefinedFields;
        if (isObj(udf)) {
          const e = Object.entries(udf);
          if (e.length > 50) throw new AwsError('InvalidInputException', `UserDefinedFields takes at most 50 pairs, got ${e.length}`);
          for (const [k, v] of e) {
            if ([...k].length > 128) throw new AwsError('InvalidInputException', 'UserDefinedFields keys must be at most 128 characters');
            if ([...String(v)].length > 1024) throw new AwsError('InvalidInputException', `UserDefinedFields.${k} must be at most 1024 characters`);
          }
        }
        const types = arr(input.Types);
        if (types.length > 50) throw new AwsError('InvalidInputException', 'Types takes at most 50 values');
        const related = arr(input.RelatedFindings);
        if (related.length > 10) throw new AwsError('InvalidInputException', 'RelatedFindings takes at most 10 items');
        // In the home Region of the caller's finding aggregator, findings of the linked Regions
        // too; the update lands on the finding in its own region ("Updates that occur in the home
        // Region are replicated back to the linked Region", user guide, cross-Region aggregation).
        const regions = st.visibleRegions(ctx.account, ctx.region);
        const processed: Json[] = [];
        const unprocessed: Json[] = [];
        for (const fi of ids) {
          const k = `${s(fi.ProductArn) ?? ''}\n${s(fi.Id) ?? ''}`;
          const region = regions.find((r) => st.findings.get(r)?.has(k));
          const f = region === undefined ? undefined : st.findings.get(region)?.get(k);
          if (!f || region === undefined) { unprocessed.push({ FindingIdentifier: fi, ErrorCode: 'FindingNotFound', ErrorMessage: 'Finding Not Found' }); continue; }
          if (!st.canAccess(ctx.account, String(f.AwsAccountId), region)) {
            unprocessed.push({ FindingIdentifier: fi, ErrorCode: 'AccessDeniedException', ErrorMessage: `Account ${ctx.account} may not update findings of account ${String(f.AwsAccountId)}` });
            continue;
          }
          // Each field given replaces the finding's value; a field not given is left as it is
          // ("you specify ... which ASFF fields to update for the findings, and the new values for
          // the fields. Security Hub CSPM then updates the findings as specified in your request":
          // Security Hub CSPM User Guide, "BatchUpdateFindings for customers",
          // https://docs.aws.amazon.com/securityhub/latest/userguide/finding-update-batchupdatefindings.html).
          // So Types, RelatedFindings and UserDefinedFields are not merged: a UserDefinedFields key
          // is deleted by sending the map without it (an empty value is no deletion: the model's
          // FieldMap values are NonEmptyString, pattern \S, and the request is refused).
          if (isObj(note)) f.Note = { Text: note.Text, UpdatedBy: note.UpdatedBy, UpdatedAt: ctx.now.toISOString() };
          if (isObj(udf)) f.UserDefinedFields = { ...udf };
          if (isObj(input.Severity)) f.Severity = { ...(isObj(f.Severity) ? f.Severity : {}), ...input.Severity };
          if (input.VerificationState !== undefined) f.VerificationState = input.VerificationState;
          if (input.Confidence !== undefined) f.Confidence = input.Confidence;
          if (input.Criticality !== undefined) f.Criticality = input.Criticality;
          if (input.Types !== undefined) f.Types = [...types];
          if (input.RelatedFindings !== undefined) f.RelatedFindings = [...related];
          if (isObj(input.Workflow)) f.Workflow = { ...(isObj(f.Workflow) ? f.Workflow : {}), ...input.Workflow };
          f.ProcessedAt = ctx.now.toISOString();
          processed.push({ Id: fi.Id, ProductArn: fi.ProductArn });
        }
        return { ProcessedFindings: processed, UnprocessedFindings: unprocessed };
      },
    },
    GetFindings: {
      fn: (ctx, input) => {
        takeSecurityHubToken(st, ctx, 'GetFindings');
        const filters = isObj(input.Filters) ? input.Filters : {};
        const max = Number(input.MaxResults ?? 100);
        const paramsHash = hashOf({ filters, sort: input.SortCriteria, max });
        let offset = 0;
        if (input.NextToken !== undefined) {
          const t = decodeToken(String(input.NextToken));
          if (!t || t.h !== paramsHash || typeof t.o !== 'number') throw new AwsError('InvalidInputException', 'Invalid NextToken');
          offset = t.o;
        }
        // The calling region's findings, and in the home Region of the caller's finding
        // aggregator those of the linked Regions too (each keeps its own Region).
        let list = st.visibleRegions(ctx.account, ctx.region)
          .flatMap((r) => [...(st.findings.get(r)?.values() ?? [])].filter((f) => st.canAccess(ctx.account, String(f.AwsAccountId), r)));
        for (const [field, fl] of Object.entries(filters)) {
          const fls = arr(fl);
          if (!fls.length) continue;
          if (SH_DATE_FIELDS.has(field)) {
            list = list.filter((f) => matchDate(field === 'NoteUpdatedAt' ? getPath(f, 'Note.UpdatedAt') : f[field], fls, ctx.now));
          } else if (isObj(fls[0]) && 'Comparison' in fls[0] && ('Value' in fls[0])) {
            const get = SH_FILTER_PATHS[field] ?? ((f: Json) => f[field]);
            list = list.filter((f) => matchString(get(f), fls));
          } else if (isObj(fls[0]) && ('Eq' in fls[0] || 'Gte' in fls[0] || 'Lte' in fls[0] || 'Gt' in fls[0] || 'Lt' in fls[0])) {
            const get = (f: Json): number => Number(field === 'SeverityNormalized' ? getPath(f, 'Severity.Normalized') : field === 'SeverityProduct' ? getPath(f, 'Severity.Product') : f[field]);
            list = list.filter((f) => fls.every((x) => {
              const n = get(f);
              const c = x as Json;
              return (c.Eq === undefined || n === c.Eq) && (c.Gte === undefined || n >= Number(c.Gte)) && (c.Lte === undefined || n <= Number(c.Lte)) && (c.Gt === undefined || n > Number(c.Gt)) && (c.Lt === undefined || n < Number(c.Lt));
            }));
          }
          // Other filter kinds (map, IP, boolean) are accepted and not applied.
        }
        const sort = (arr(input.SortCriteria)[0] as Json | undefined) ?? { Field: 'UpdatedAt', SortOrder: 'desc' };
        const sf = String(sort.Field ?? 'UpdatedAt');
        const dir = String(sort.SortOrder ?? 'desc') === 'asc' ? 1 : -1;
        list = [...list].sort((a, b) => (String(a[sf] ?? '') < String(b[sf] ?? '') ? -dir : String(a[sf] ?? '') > String(b[sf] ?? '') ? dir : String(a.Id) < String(b.Id) ? -1 : 1));
        const page = list.slice(offset, offset + max);
        const next = offset + max < list.length ? encodeToken({ o: offset + max, h: paramsHash }) : undefined;
        return { Findings: page, ...(next ? { NextToken: next } : {}) };
      },
    },
    ...securityHubV2Handlers(st),
  };
}

// ─────────────────────────────── GuardDuty ───────────────────────────────

/**
 * GuardDuty member relationship statuses (`Member.RelationshipStatus`, a plain string in the
 * model): Created, Invited, Disabled, Enabled, Removed, Resigned, EmailVerificationInProgress,
 * EmailVerificationFailed (the GetMembers page of the older GuardDuty user guide lists these
 * eight), RegionDisabled and AccountSuspended (not found in the stored docs; kept as asked).
 */
export const GUARDDUTY_RELATIONSHIP_STATUSES = [
  'Created', 'Invited', 'Disabled', 'Enabled', 'Removed', 'Resigned', 'EmailVerificationInProgress', 'EmailVerificationFailed', 'RegionDisabled', 'AccountSuspended',
] as const;
/** One of {@link GUARDDUTY_RELATIONSHIP_STATUSES}. */
export type GuardDutyRelationshipStatus = (typeof GUARDDUTY_RELATIONSHIP_STATUSES)[number];
/**
 * Statuses ListMembers returns with onlyAssociated true, its default: "If onlyAssociated is set to
 * TRUE, the response will include member accounts whose relationship status with the master is set
 * to Enabled, Disabled" (earlier ListMembers documentation of the 2017-11-28 API; today's reference
 * only says "associated members" versus all, "including members who haven't been invited yet or
 * have been disassociated").
 */
export const GUARDDUTY_ASSOCIATED_STATUSES: readonly string[] = ['Enabled', 'Disabled'];
/** "A delegated GuardDuty administrator account can manage a maximum of 50,000 members" (GuardDuty user guide). */
export const GUARDDUTY_MEMBER_LIMIT = 50_000;

/** A GuardDuty detector. */
export interface GuardDutyDetector {
  id: string;
  account: string;
  region: string;
  status: 'ENABLED' | 'DISABLED';
  createdAt: Date;
  updatedAt: Date;
}

/** A GuardDuty member account of an administrator in one region (`status`: its RelationshipStatus). */
export type GuardDutyMember = Membership<GuardDutyRelationshipStatus>;

/**
 * GuardDuty detectors per account and region and their native findings (wire form, camelCase),
 * the delegated administrator of each region and its members.
 */
export class GuardDutyState {
  /** `account:region` → detector id. */
  readonly detectors = new Map<string, string>();
  /** detector id → detector (status, times). */
  readonly detectorInfo = new Map<string, GuardDutyDetector>();
  /** detector id → finding id → native finding. */
  readonly findings = new Map<string, Map<string, Json>>();
  /** region → the delegated GuardDuty administrator account and its auto-enable setting. */
  readonly administrators = new Map<string, { account: string; autoEnableOrganizationMembers: 'NEW' | 'ALL' | 'NONE' }>();
  /** Member accounts by region. */
  readonly members = new Memberships<GuardDutyRelationshipStatus>();

  /** Creates (or returns) the detector of an account and region (status ENABLED when created). */
  ensureDetector(account: string, region: string, detectorId?: string): string {
    const k = key(account, region);
    const existing = this.detectors.get(k);
    if (existing) return existing;
    const id = detectorId ?? randomBytes(16).toString('hex');
    const now = new Date();
    this.detectors.set(k, id);
    this.detectorInfo.set(id, { id, account, region, status: 'ENABLED', createdAt: now, updatedAt: now });
    this.findings.set(id, new Map());
    return id;
  }

  /**
   * Sets the status of the detector of an account and region (GetDetector `Status`; DISABLED =
   * GuardDuty suspended), creating the detector when missing. Returns the detector id.
   */
  setDetectorStatus(account: string, region: string, status: 'ENABLED' | 'DISABLED'): string {
    const id = this.ensureDetector(account, region);
    const d = this.detectorInfo.get(id);
    if (d && d.status !== status) {
      d.status = status;
      d.updatedAt = new Date();
    }
    return id;
  }

  /**
   * Makes `admin` the delegated GuardDuty administrator account in `region` (replacing any other
   * there) with its detector ("For this administrator account, GuardDuty gets enabled
   * automatically only in the designated AWS Region", GuardDuty user guide). DescribeOrganizationConfiguration
   * then answers `AutoEnableOrganizationMembers` (default NONE), `AutoEnable` (true for NEW and
   * ALL) and `MemberAccountLimitReached`.
   */
  setAdministrator(region: string, admin: string, opts: { autoEnableOrganizationMembers?: 'NEW' | 'ALL' | 'NONE' } = {}): void {
    const mode = opts.autoEnableOrganizationMembers ?? 'NONE';
    if (!['NEW', 'ALL', 'NONE'].includes(mode)) throw new Error(`autoEnableOrganizationMembers ${String(mode)} is not one of NEW, ALL, NONE`);
    this.administrators.set(region, { account: admin, autoEnableOrganizationMembers: mode });
    this.ensureDetector(admin, region);
  }

  /**
   * Adds (or replaces) `member` as a member account of `admin` in `region` with a
   * `RelationshipStatus` of {@link GUARDDUTY_RELATIONSHIP_STATUSES}. An `Enabled` member gets a
   * detector in that region when it has none (ListMembers reports its `DetectorId`).
   * @throws for another status, or `member === admin`.
   */
  addMember(region: string, admin: string, member: string, relationshipStatus: string): void {
    if (!(GUARDDUTY_RELATIONSHIP_STATUSES as readonly string[]).includes(relationshipStatus)) {
      throw new Error(`GuardDuty RelationshipStatus ${relationshipStatus} is not one of ${GUARDDUTY_RELATIONSHIP_STATUSES.join(', ')}`);
    }
    this.members.put(region, admin, member, relationshipStatus as GuardDutyRelationshipStatus);
    if (relationshipStatus === 'Enabled') this.ensureDetector(member, region);
  }

  /** Adds a native finding (`accountId`, `region`, `id`, `service.detectorId`) under its detector. */
  addFinding(f: Json): void {
    const det = this.ensureDetector(String(f.accountId), String(f.region), s(getPath(f, 'service.detectorId')));
    this.findings.get(det)?.set(String(f.id), f);
  }

  /** All native findings. */
  all(): Json[] {
    return [...this.findings.values()].flatMap((m) => [...m.values()]);
  }
}

function guardDutyHandlers(st: GuardDutyState): Record<string, HandlerEntry> {
  const owned = (ctx: CallContext, det: unknown): Map<string, Json> => {
    const mine = st.detectors.get(key(ctx.account, ctx.region));
    if (det !== mine) throw new AwsError('BadRequestException', 'The request is rejected because the input detectorId is not owned by the current account.');
    return st.findings.get(String(det)) ?? new Map();
  };
  const critMatch = (f: Json, crit: unknown): boolean => {
    if (!isObj(crit) || !isObj(crit.Criterion)) return true;
    return Object.entries(crit.Criterion).every(([field, c]) => {
      if (!isObj(c)) return true;
      const v = getPath(f, field);
      const eq = arr(c.Eq ?? c.Equals).map(String);
      const neq = arr(c.Neq ?? c.NotEquals).map(String);
      const num = typeof v === 'number' ? v : Date.parse(String(v));
      if (eq.length && !eq.includes(String(v))) return false;
      if (neq.length && neq.includes(String(v))) return false;
      const gt = c.Gt ?? c.GreaterThan; const gte = c.Gte ?? c.GreaterThanOrEqual;
      const lt = c.Lt ?? c.LessThan; const lte = c.Lte ?? c.LessThanOrEqual;
      if (gt !== undefined && !(num > Number(gt))) return false;
      if (gte !== undefined && !(num >= Number(gte))) return false;
      if (lt !== undefined && !(num < Number(lt))) return false;
      if (lte !== undefined && !(num <= Number(lte))) return false;
      return true;
    });
  };
  // Message of GuardDuty's BadRequestException for a value it refuses (seen in real answers).
  const badValue = (): AwsError => new AwsError('BadRequestException', 'The request is rejected because an invalid or out-of-range value is specified as an input parameter.');
  return {
    ListDetectors: {
      fn: (ctx) => {
        const d = st.detectors.get(key(ctx.account, ctx.region));
        return { DetectorIds: d ? [d] : [] };
      },
    },
    GetDetector: {
      fn: (ctx, input) => {
        owned(ctx, input.DetectorId);
        const d = st.detectorInfo.get(String(input.DetectorId));
        const createdAt = (d?.createdAt ?? ctx.now).toISOString();
        return {
          CreatedAt: createdAt, UpdatedAt: (d?.updatedAt ?? ctx.now).toISOString(), FindingPublishingFrequency: 'SIX_HOURS',
          ServiceRole: `arn:${ctx.partition}:iam::${ctx.account}:role/aws-service-role/guardduty.amazonaws.com/AWSServiceRoleForAmazonGuardDuty`,
          Status: d?.status ?? 'ENABLED',
        };
      },
    },
    DescribeOrganizationConfiguration: {
      fn: (ctx, input) => {
        owned(ctx, input.DetectorId);
        const admin = st.administrators.get(ctx.region);
        // Only the delegated GuardDuty administrator; others get BadRequestException with the
        // message GuardDuty answers to an organisation operation of a non-administrator.
        if (admin?.account !== ctx.account) throw new AwsError('BadRequestException', 'The request failed because you do not have required AWS Organization master permission.');
        const associated = st.members.of(ctx.region, ctx.account).filter((m) => GUARDDUTY_ASSOCIATED_STATUSES.includes(m.status)).length;
        return {
          AutoEnable: admin.autoEnableOrganizationMembers !== 'NONE', AutoEnableOrganizationMembers: admin.autoEnableOrganizationMembers,
          MemberAccountLimitReached: associated >= GUARDDUTY_MEMBER_LIMIT,
        };
      },
    },
    ListMembers: {
      fn: (ctx, input) => {
        owned(ctx, input.DetectorId);
        // onlyAssociated is a string: "true" (default) lists the associated members (Enabled,
        // Disabled), "false" all of them, including those not invited yet or disassociated.
        const raw = input.OnlyAssociated === undefined ? 'true' : String(input.OnlyAssociated).toLowerCase();
        if (raw !== 'true' && raw !== 'false') throw badValue();
        const all = st.members.of(ctx.region, ctx.account);
        const list = raw === 'true' ? all.filter((m) => GUARDDUTY_ASSOCIATED_STATUSES.includes(m.status)) : all;
        const p = pageOf(list, input, `gd-members:${ctx.account}:${ctx.region}:${raw}`, 50,
          () => new AwsError('BadRequestException', 'The request is rejected because the NextToken is invalid.'));
        return {
          Members: p.items.map((m) => {
            const det = st.detectors.get(key(m.accountId, ctx.region));
            return {
              AccountId: m.accountId, ...(det ? { DetectorId: det } : {}), MasterId: m.administrator, AdministratorId: m.administrator, Email: m.email,
              RelationshipStatus: m.status, ...(m.invitedAt ? { InvitedAt: m.invitedAt.toISOString() } : {}), UpdatedAt: m.updatedAt.toISOString(),
            };
          }),
          ...(p.NextToken ? { NextToken: p.NextToken } : {}),
        };
      },
    },
    GetFindings: {
      fn: (ctx, input) => {
        const m = owned(ctx, input.DetectorId);
        return { Findings: arr(input.FindingIds).map((id) => m.get(String(id))).filter((f): f is Json => !!f) };
      },
    },
    ListFindings: {
      fn: (ctx, input) => {
        const m = owned(ctx, input.DetectorId);
        const max = Number(input.MaxResults ?? 50);
        const h = hashOf({ c: input.FindingCriteria, s: input.SortCriteria, max });
        let offset = 0;
        if (input.NextToken) {
          const t = decodeToken(String(input.NextToken));
          if (!t || t.h !== h || typeof t.o !== 'number') throw new AwsError('BadRequestException', 'The request is rejected because the NextToken is invalid.');
          offset = t.o;
        }
        const list = [...m.values()].filter((f) => critMatch(f, input.FindingCriteria)).sort((a, b) => String(b.updatedAt).localeCompare(String(a.updatedAt)));
        const ids = list.slice(offset, offset + max).map((f) => String(f.id));
        const next = offset + max < list.length ? encodeToken({ o: offset + max, h }) : '';
        return { FindingIds: ids, NextToken: next };
      },
    },
  };
}

// ─────────────────────────────── CloudTrail ───────────────────────────────

/** Event sources CloudTrail logs in us-east-1 only (global services; pitfalls numbers table). */
/**
 * Services whose events CloudTrail logs in us-east-1 whatever the caller's region (IAM and
 * console sign-in). STS is logged there only for its global endpoint; calls to a regional STS
 * endpoint are logged in that region, as their records' `awsRegion` says.
 */
export const GLOBAL_EVENT_SOURCES = new Set(['iam.amazonaws.com', 'signin.amazonaws.com']);

/** A CloudTrail record (the JSON of one event as delivered to S3). */
export type TrailRecord = Json;

/**
 * CloudTrail event history per account and region (the LookupEvents store), with the
 * per-account-and-region request times used for the 2 requests/s limit.
 */
export class CloudTrailState {
  /** `account:region` → records, newest first. */
  readonly records = new Map<string, TrailRecord[]>();
  /** `account:region` → times (ms) of accepted LookupEvents calls. */
  readonly calls = new Map<string, number[]>();

  /**
   * Adds one record to the store of its account (`recipientAccountId`, else
   * `userIdentity.accountId`) and region (`awsRegion`; us-east-1 for IAM, STS and sign-in events).
   * Duplicate eventIDs are kept once. Returns false for a record without account or region.
   */
  add(rec: TrailRecord): boolean {
    const account = s(rec.recipientAccountId) ?? s(getPath(rec, 'userIdentity.accountId'));
    let region = s(rec.awsRegion);
    if (GLOBAL_EVENT_SOURCES.has(String(rec.eventSource))) region = 'us-east-1';
    if (!account || !region) return false;
    const k = key(account, region);
    const list = this.records.get(k) ?? [];
    if (rec.eventID && list.some((r) => r.eventID === rec.eventID)) return true;
    list.push(rec);
    list.sort((a, b) => Date.parse(String(b.eventTime)) - Date.parse(String(a.eventTime)) || String(a.eventID).localeCompare(String(b.eventID)));
    this.records.set(k, list);
    return true;
  }

  /** Records of an account and region, newest first (all, including those LookupEvents does not serve). */
  list(account: string, region: string): TrailRecord[] {
    return this.records.get(key(account, region)) ?? [];
  }
}

/** The LookupEvents `Username` of a record: IAM user name, role session name, `root`. */
export function lookupUsername(rec: TrailRecord): string | undefined {
  const ui = rec.userIdentity;
  if (!isObj(ui)) return undefined;
  if (ui.type === 'Root') return 'root';
  if (typeof ui.userName === 'string') return ui.userName;
  const arn = s(ui.arn);
  if (arn && ui.type === 'AssumedRole') return arn.split('/').pop();
  return s(getPath(ui, 'sessionContext.sessionIssuer.userName'));
}

function trailResources(rec: TrailRecord): Json[] {
  return arr(rec.resources).filter(isObj).map((r) => ({ ResourceType: s(r.type), ResourceName: s(r.ARN) ?? s(r.arn) }));
}

function cloudTrailHandlers(st: CloudTrailState): Record<string, HandlerEntry> {
  const served = (rec: TrailRecord, region: string): boolean => {
    if (rec.managementEvent === false) return false;
    if (rec.eventCategory !== undefined && rec.eventCategory !== 'Management') return false;
    if (GLOBAL_EVENT_SOURCES.has(String(rec.eventSource)) && region !== 'us-east-1') return false;
    return true;
  };
  const attrMatch = (rec: TrailRecord, k: string, v: string): boolean => {
    switch (k) {
      case 'EventId': return rec.eventID === v;
      case 'EventName': return rec.eventName === v;
      case 'ReadOnly': return String(rec.readOnly ?? 'false') === v;
      case 'Username': return lookupUsername(rec) === v;
      case 'ResourceType': return trailResources(rec).some((r) => r.ResourceType === v);
      case 'ResourceName': return trailResources(rec).some((r) => r.ResourceName === v);
      case 'EventSource': return rec.eventSource === v;
      case 'AccessKeyId': return getPath(rec, 'userIdentity.accessKeyId') === v;
      default: return false;
    }
  };
  return {
    LookupEvents: {
      fn: (ctx, input) => {
        const attrs = arr(input.LookupAttributes) as Json[];
        if (attrs.length > 1) throw new AwsError('InvalidLookupAttributesException', 'You cannot specify more than one lookup attribute.');
        const start = input.StartTime instanceof Date ? input.StartTime.getTime() : -Infinity;
        const end = input.EndTime instanceof Date ? input.EndTime.getTime() : Infinity;
        if (start > end) throw new AwsError('InvalidTimeRangeException', 'Start time must be earlier than end time.');
        const max = Number(input.MaxResults ?? 50);
        const h = hashOf({ attrs, start, end, cat: input.EventCategory, max });
        let offset = 0;
        if (input.NextToken !== undefined) {
          const t = decodeToken(String(input.NextToken));
          if (!t || t.h !== h || typeof t.o !== 'number') throw new AwsError('InvalidNextTokenException', 'Invalid NextToken: a token is valid only with the parameters of the call that returned it.');
          offset = t.o;
        }
        // 2 requests/s per account and region (CloudTrail quotas) → HTTP 400 ThrottlingException.
        const rps = ctx.knobs.lookupEventsPerSecond;
        if (rps > 0) {
          const k = key(ctx.account, ctx.region);
          const now = Date.now();
          const second = 1000 / (ctx.knobs.timeScale > 0 ? ctx.knobs.timeScale : 1);
          const recent = (st.calls.get(k) ?? []).filter((t) => now - t < second);
          if (recent.length >= rps) {
            st.calls.set(k, recent);
            throw new AwsError('ThrottlingException', 'Rate exceeded', 400);
          }
          recent.push(now);
          st.calls.set(k, recent);
        }
        const attr = attrs[0];
        const list = input.EventCategory === 'insight' ? [] : st.list(ctx.account, ctx.region).filter((r) => {
          if (!served(r, ctx.region)) return false;
          const t = Date.parse(String(r.eventTime));
          if (t < start || t > end) return false;
          return !attr || attrMatch(r, String(attr.AttributeKey), String(attr.AttributeValue));
        });
        const page = list.slice(offset, offset + max).map((r) => ({
          EventId: s(r.eventID),
          EventName: s(r.eventName),
          ReadOnly: String(r.readOnly ?? 'false'),
          AccessKeyId: s(getPath(r, 'userIdentity.accessKeyId')),
          EventTime: new Date(String(r.eventTime)),
          EventSource: s(r.eventSource),
          Username: lookupUsername(r),
          Resources: trailResources(r),
          CloudTrailEvent: JSON.stringify(r),
        }));
        const next = offset + max < list.length ? encodeToken({ o: offset + max, h }) : undefined;
        return { Events: page, ...(next ? { NextToken: next } : {}) };
      },
    },
  };
}

// ─────────────────────────────── Detective ───────────────────────────────

/** A Detective investigation as the emulator keeps it. */
export interface Investigation {
  InvestigationId: string;
  GraphArn: string;
  EntityArn: string;
  EntityType: 'IAM_USER' | 'IAM_ROLE';
  ScopeStartTime: Date;
  ScopeEndTime: Date;
  CreatedTime: Date;
  checks: number;
  indicators: Json[];
}

/** Member status values of Detective (`MemberStatus`). */
export type DetectiveMemberStatus = 'INVITED' | 'VERIFICATION_IN_PROGRESS' | 'VERIFICATION_FAILED' | 'ENABLED' | 'ACCEPTED_BUT_DISABLED';

/** Detective behavior graphs (one per administrator account and region), members, investigations. */
export class DetectiveState {
  /** `account:region` → graph ARN. */
  readonly graphs = new Map<string, { Arn: string; CreatedTime: Date }>();
  /** graph ARN → members. */
  readonly members = new Map<string, Json[]>();
  readonly investigations = new Map<string, Investigation>();
  /** entity ARN → indicators StartInvestigation attaches to investigations of that entity. */
  readonly indicatorsFor = new Map<string, Json[]>();
  /** graph ARN → whether new organisation accounts are enabled as members (DescribeOrganizationConfiguration `AutoEnable`). */
  readonly autoEnable = new Map<string, boolean>();

  /** Creates the behavior graph of an administrator account in a region; returns its ARN. */
  createGraph(account: string, region: string): string {
    const k = key(account, region);
    const g = this.graphs.get(k);
    if (g) return g.Arn;
    const arn = `arn:${partitionOfRegion(region)}:detective:${region}:${account}:graph:${randomBytes(16).toString('hex')}`;
    this.graphs.set(k, { Arn: arn, CreatedTime: new Date() });
    this.members.set(arn, []);
    return arn;
  }

  /**
   * Sets whether new organisation accounts are enabled as member accounts of the graph
   * (DescribeOrganizationConfiguration `AutoEnable`; false until set).
   * @throws for a graph that {@link createGraph} did not make.
   */
  setAutoEnable(graphArn: string, autoEnable: boolean): void {
    if (!this.members.has(graphArn)) throw new Error(`no behavior graph ${graphArn}`);
    this.autoEnable.set(graphArn, autoEnable);
  }

  /** Adds (or replaces) a member account of a graph with a status. */
  setMember(graphArn: string, accountId: string, status: DetectiveMemberStatus, email = `${accountId}@example.com`): void {
    const list = (this.members.get(graphArn) ?? []).filter((m) => m.AccountId !== accountId);
    const now = new Date();
    list.push({ AccountId: accountId, EmailAddress: email, GraphArn: graphArn, Status: status, InvitedTime: now, UpdatedTime: now, ...(status === 'ENABLED' ? { VolumeUsageInBytes: 0 } : {}) });
    this.members.set(graphArn, list);
  }
}

const INVESTIGABLE = /^arn:aws(-cn|-us-gov)?:iam::\d{12}:(user|role)\/.+$/;

function detectiveHandlers(st: DetectiveState): Record<string, HandlerEntry> {
  const graphOf = (ctx: CallContext, arn: unknown): string => {
    const g = st.graphs.get(key(ctx.account, ctx.region));
    if (!g || g.Arn !== arn) throw new AwsError('ResourceNotFoundException', 'The request refers to a nonexistent resource.');
    return g.Arn;
  };
  const invOf = (ctx: CallContext, input: Json): Investigation => {
    const g = graphOf(ctx, input.GraphArn);
    const inv = st.investigations.get(String(input.InvestigationId));
    if (!inv || inv.GraphArn !== g) throw new AwsError('ResourceNotFoundException', 'The request refers to a nonexistent investigation.');
    return inv;
  };
  return {
    ListGraphs: {
      fn: (ctx) => {
        const g = st.graphs.get(key(ctx.account, ctx.region));
        return { GraphList: g ? [g] : [] };
      },
    },
    ListMembers: {
      fn: (ctx, input) => ({ MemberDetails: st.members.get(graphOf(ctx, input.GraphArn)) ?? [] }),
    },
    DescribeOrganizationConfiguration: {
      // "Can only be called by the Detective administrator account for the organization" (API
      // reference; its errors hold no ResourceNotFoundException): anyone but the administrator
      // of that graph, in its region, gets AccessDeniedException.
      fn: (ctx, input) => {
        const g = st.graphs.get(key(ctx.account, ctx.region));
        if (!g || g.Arn !== input.GraphArn) throw new AwsError('AccessDeniedException', 'The request issuer does not have permission to access this resource or perform this operation.');
        return { AutoEnable: st.autoEnable.get(g.Arn) ?? false };
      },
    },
    GetMembers: {
      fn: (ctx, input) => {
        const list = st.members.get(graphOf(ctx, input.GraphArn)) ?? [];
        const ids = arr(input.AccountIds).map(String);
        return {
          MemberDetails: list.filter((m) => ids.includes(String(m.AccountId))),
          UnprocessedAccounts: ids.filter((id) => !list.some((m) => m.AccountId === id)).map((AccountId) => ({ AccountId, Reason: 'The account is not a member of the behavior graph.' })),
        };
      },
    },
    StartInvestigation: {
      fn: (ctx, input) => {
        const g = graphOf(ctx, input.GraphArn);
        const arn = String(input.EntityArn);
        if (!INVESTIGABLE.test(arn)) {
          throw new AwsError('ValidationException', `Investigations are supported only for IAM user and IAM role ARNs; ${arn} is not one.`);
        }
        const startT = input.ScopeStartTime as Date;
        const endT = input.ScopeEndTime as Date;
        if (startT.getTime() >= endT.getTime()) throw new AwsError('ValidationException', 'ScopeStartTime must be before ScopeEndTime.');
        const id = Array.from(randomBytes(21), (b, i) => (i === 0 ? 1 + (b % 9) : b % 10)).join(''); // 21 digits (model: InvestigationId length 21-64, ^[0-9]+$)
        st.investigations.set(id, {
          InvestigationId: id, GraphArn: g, EntityArn: arn, EntityType: /:user\//.test(arn) ? 'IAM_USER' : 'IAM_ROLE',
          ScopeStartTime: startT, ScopeEndTime: endT, CreatedTime: ctx.now, checks: 0, indicators: st.indicatorsFor.get(arn) ?? [],
        });
        return { InvestigationId: id };
      },
    },
    GetInvestigation: {
      fn: (ctx, input) => {
        const inv = invOf(ctx, input);
        inv.checks += 1;
        const done = inv.checks >= ctx.knobs.investigationChecksToFinish;
        return {
          GraphArn: inv.GraphArn, InvestigationId: inv.InvestigationId, EntityArn: inv.EntityArn, EntityType: inv.EntityType,
          CreatedTime: inv.CreatedTime, ScopeStartTime: inv.ScopeStartTime, ScopeEndTime: inv.ScopeEndTime,
          Status: done ? 'SUCCESSFUL' : 'RUNNING', Severity: done ? (inv.indicators.length ? 'HIGH' : 'INFORMATIONAL') : 'INFORMATIONAL', State: 'ACTIVE',
        };
      },
    },
    ListIndicators: {
      fn: (ctx, input) => {
        const inv = invOf(ctx, input);
        const max = Number(input.MaxResults ?? 100);
        const list = input.IndicatorType ? inv.indicators.filter((i) => i.IndicatorType === input.IndicatorType) : inv.indicators;
        const h = hashOf({ id: inv.InvestigationId, t: input.IndicatorType, max });
        let offset = 0;
        if (input.NextToken) {
          const t = decodeToken(String(input.NextToken));
          if (!t || t.h !== h || typeof t.o !== 'number') throw new AwsError('ValidationException', 'Invalid NextToken.');
          offset = t.o;
        }
        const next = offset + max < list.length ? encodeToken({ o: offset + max, h }) : undefined;
        return { GraphArn: inv.GraphArn, InvestigationId: inv.InvestigationId, Indicators: list.slice(offset, offset + max), ...(next ? { NextToken: next } : {}) };
      },
    },
  };
}

// ─────────────────────────────── STS / Organizations ───────────────────────────────
// In identity.ts (IAM roles, trust policies, opt-in regions, the organisation).

// ─────────────────────────────── SQS ───────────────────────────────

/** One SQS message as kept by the emulator. */
export interface SqsMessage {
  MessageId: string;
  Body: string;
  MD5OfBody: string;
  DelaySeconds: number;
  SentAt: number;
  /** Epoch ms from which the message can be received (send time + delay, or end of visibility timeout). */
  VisibleAt: number;
  ReceiveCount: number;
  ReceiptHandle?: string;
  MessageAttributes?: Json;
}

/** A standard queue. */
export interface SqsQueue {
  name: string;
  account: string;
  region: string;
  url: string;
  messages: SqsMessage[];
}

/** SQS queues by URL. */
export class SqsState {
  readonly queues = new Map<string, SqsQueue>();
  constructor(private readonly endpoint: () => string) {}

  /** Creates (or returns) a standard queue; returns its URL `<endpoint>/<account>/<name>`. */
  createQueue(name: string, account: string, region: string): string {
    const url = `${this.endpoint()}/${account}/${name}`;
    if (!this.queues.has(url)) this.queues.set(url, { name, account, region, url, messages: [] });
    return url;
  }

  /** Messages of a queue (in flight and delayed included). */
  messages(url: string): SqsMessage[] {
    return this.queues.get(url)?.messages ?? [];
  }
}

const md5 = (t: string): string => createHash('md5').update(t, 'utf8').digest('hex');

function sqsHandlers(st: SqsState): Record<string, HandlerEntry> {
  const queue = (ctx: CallContext, url: unknown): SqsQueue => {
    const q = st.queues.get(String(url));
    if (!q || q.region !== ctx.region) throw new AwsError('QueueDoesNotExist', 'The specified queue does not exist.');
    if (q.account !== ctx.account) throw new AwsError('AccessDenied', 'Access to the resource is denied.', 403);
    return q;
  };
  return {
    CreateQueue: { fn: (ctx, input) => ({ QueueUrl: st.createQueue(String(input.QueueName), ctx.account, ctx.region) }) },
    GetQueueUrl: {
      fn: (ctx, input) => {
        const owner = s(input.QueueOwnerAWSAccountId) ?? ctx.account;
        const q = [...st.queues.values()].find((x) => x.name === input.QueueName && x.account === owner && x.region === ctx.region);
        if (!q) throw new AwsError('QueueDoesNotExist', 'The specified queue does not exist.');
        return { QueueUrl: q.url };
      },
    },
    SendMessageBatch: {
      fn: (ctx, input) => {
        const q = queue(ctx, input.QueueUrl);
        const entries = Array.isArray(input.Entries) ? (input.Entries as Record<string, unknown>[]) : [];
        if (entries.length === 0) throw new AwsError('EmptyBatchRequest', 'There should be at least one SendMessageBatchRequestEntry in the request.');
        if (entries.length > 10) throw new AwsError('TooManyEntriesInBatchRequest', `Maximum number of entries per request are 10. You have sent ${entries.length}.`);
        const ids = entries.map((e) => String(e.Id));
        if (new Set(ids).size !== ids.length) throw new AwsError('BatchEntryIdsNotDistinct', 'Two or more batch entries in the request have the same Id.');
        const total = entries.reduce((n, e) => n + Buffer.byteLength(String(e.MessageBody ?? '')), 0);
        if (total > 262144) throw new AwsError('BatchRequestTooLong', `Batch requests cannot be longer than 262144 bytes. You have sent ${total} bytes.`);
        const Successful: Record<string, unknown>[] = [];
        const Failed: Record<string, unknown>[] = [];
        for (const e of entries) {
          const delay = Number(e.DelaySeconds ?? 0);
          const body = String(e.MessageBody ?? '');
          if (!Number.isInteger(delay) || delay < 0 || delay > 900 || body.length === 0) {
            Failed.push({ Id: e.Id, SenderFault: true, Code: 'InvalidParameterValue', Message: 'DelaySeconds must be 0-900 and MessageBody non-empty.' });
            continue;
          }
          const now = Date.now();
          const msg: SqsMessage = { MessageId: randomUUID(), Body: body, MD5OfBody: md5(body), DelaySeconds: delay, SentAt: now, VisibleAt: now + delay * 1000, ReceiveCount: 0, ...(isObj(e.MessageAttributes) ? { MessageAttributes: e.MessageAttributes } : {}) };
          q.messages.push(msg);
          Successful.push({ Id: e.Id, MessageId: msg.MessageId, MD5OfMessageBody: msg.MD5OfBody });
        }
        return { Successful, Failed };
      },
    },
    SendMessage: {
      fn: (ctx, input) => {
        const q = queue(ctx, input.QueueUrl);
        const delay = Number(input.DelaySeconds ?? 0);
        if (!Number.isInteger(delay) || delay < 0 || delay > 900) throw new AwsError('InvalidParameterValue', `Value ${delay} for parameter DelaySeconds is invalid. Reason: must be between 0 and 900, if provided.`);
        const body = String(input.MessageBody ?? '');
        if (!body.length) throw new AwsError('MissingParameter', 'The request must contain the parameter MessageBody.');
        if (Buffer.byteLength(body) > 262144) throw new AwsError('InvalidParameterValue', 'One or more parameters are invalid. Reason: Message must be shorter than 262144 bytes.');
        const now = Date.now();
        const msg: SqsMessage = { MessageId: randomUUID(), Body: body, MD5OfBody: md5(body), DelaySeconds: delay, SentAt: now, VisibleAt: now + delay * 1000, ReceiveCount: 0, ...(isObj(input.MessageAttributes) ? { MessageAttributes: input.MessageAttributes } : {}) };
        q.messages.push(msg);
        return { MessageId: msg.MessageId, MD5OfMessageBody: msg.MD5OfBody };
      },
    },
    ReceiveMessage: {
      fn: (ctx, input) => {
        const q = queue(ctx, input.QueueUrl);
        const max = Number(input.MaxNumberOfMessages ?? 1);
        if (max < 1 || max > 10) throw new AwsError('InvalidParameterValue', `Value ${max} for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided.`);
        const vis = Number(input.VisibilityTimeout ?? 30);
        const now = Date.now();
        const out = q.messages.filter((m) => m.VisibleAt <= now).slice(0, max);
        for (const m of out) {
          m.ReceiveCount += 1;
          m.VisibleAt = now + vis * 1000;
          m.ReceiptHandle = randomBytes(24).toString('base64');
        }
        return {
          Messages: out.map((m) => ({
            MessageId: m.MessageId, ReceiptHandle: m.ReceiptHandle, MD5OfBody: m.MD5OfBody, Body: m.Body,
            Attributes: { ApproximateReceiveCount: String(m.ReceiveCount), SentTimestamp: String(m.SentAt) },
            ...(m.MessageAttributes ? { MessageAttributes: m.MessageAttributes } : {}),
          })),
        };
      },
    },
    DeleteMessage: {
      fn: (ctx, input) => {
        const q = queue(ctx, input.QueueUrl);
        const i = q.messages.findIndex((m) => m.ReceiptHandle !== undefined && m.ReceiptHandle === input.ReceiptHandle);
        if (i < 0) throw new AwsError('ReceiptHandleIsInvalid', `The input receipt handle "${String(input.ReceiptHandle)}" is not a valid receipt handle.`);
        q.messages.splice(i, 1);
        return {};
      },
    },
  };
}

// ─────────────────────────────── S3 ───────────────────────────────

/** An S3 object. */
export interface S3Object {
  body: Buffer;
  contentType: string;
  etag: string;
  lastModified: Date;
  metadata: Record<string, string>;
}

/** S3 buckets (name → owner account, region, objects). */
export class S3State {
  readonly buckets = new Map<string, { account: string; region: string; objects: Map<string, S3Object> }>();

  /** Creates a bucket (no-op when it exists). */
  createBucket(name: string, account: string, region = 'us-east-1'): void {
    if (!this.buckets.has(name)) this.buckets.set(name, { account, region, objects: new Map() });
  }

  /** An object, or undefined. */
  getObject(bucket: string, objectKey: string): S3Object | undefined {
    return this.buckets.get(bucket)?.objects.get(objectKey);
  }
}

/** The raw HTTP answer of a restXml handler (S3 is not JSON). */
export interface RawResponse {
  raw: true;
  status: number;
  headers: Record<string, string>;
  body: Buffer | string;
}

function s3Handlers(st: S3State): Record<string, HandlerEntry> {
  const bucket = (ctx: CallContext, name: unknown): { account: string; region: string; objects: Map<string, S3Object> } => {
    const b = st.buckets.get(String(name));
    if (!b) throw new AwsError('NoSuchBucket', 'The specified bucket does not exist', 404);
    if (b.account !== ctx.account) throw new AwsError('AccessDenied', 'Access Denied', 403);
    return b;
  };
  return {
    CreateBucket: {
      fn: (ctx, input): RawResponse => {
        const b = st.buckets.get(String(input.Bucket));
        if (b && b.account !== ctx.account) throw new AwsError('BucketAlreadyExists', 'The requested bucket name is not available.', 409);
        st.createBucket(String(input.Bucket), ctx.account, ctx.region);
        return { raw: true, status: 200, headers: { Location: `/${String(input.Bucket)}` }, body: '' };
      },
    },
    PutObject: {
      fn: (ctx, input): RawResponse => {
        const b = bucket(ctx, input.Bucket);
        const body = Buffer.isBuffer(input.Body) ? input.Body : Buffer.from(String(input.Body ?? ''));
        const etag = `"${createHash('md5').update(body).digest('hex')}"`;
        b.objects.set(String(input.Key), { body, contentType: s(input.ContentType) ?? 'application/octet-stream', etag, lastModified: new Date(), metadata: isObj(input.Metadata) ? (input.Metadata as Record<string, string>) : {} });
        return { raw: true, status: 200, headers: { ETag: etag }, body: '' };
      },
    },
    GetObject: {
      fn: (ctx, input): RawResponse => {
        const b = bucket(ctx, input.Bucket);
        const o = b.objects.get(String(input.Key));
        if (!o) throw new AwsError('NoSuchKey', 'The specified key does not exist.', 404);
        const meta = Object.fromEntries(Object.entries(o.metadata).map(([k, v]) => [`x-amz-meta-${k}`, v]));
        return { raw: true, status: 200, headers: { 'Content-Type': o.contentType, 'Content-Length': String(o.body.length), ETag: o.etag, 'Last-Modified': o.lastModified.toUTCString(), ...meta }, body: o.body };
      },
    },
  };
}

/** All service states of one emulator. */
export interface ServiceStates {
  securityHub: SecurityHubState;
  guardDuty: GuardDutyState;
  cloudTrail: CloudTrailState;
  detective: DetectiveState;
  identities: IdentityState;
  organizations: OrganizationsState;
  sqs: SqsState;
  s3: S3State;
  /** Athena (athena.ts); absent: not emulated. */
  athena?: AthenaState;
}

/** The handler table: signing name → operation name → handler. */
export function buildHandlers(st: ServiceStates, _defaultAccount?: () => string): Record<string, Record<string, HandlerEntry>> {
  return {
    securityhub: securityHubHandlers(st.securityHub),
    guardduty: guardDutyHandlers(st.guardDuty),
    cloudtrail: cloudTrailHandlers(st.cloudTrail),
    detective: detectiveHandlers(st.detective),
    sts: stsHandlers(st.identities),
    organizations: organizationsHandlers(st.organizations),
    sqs: sqsHandlers(st.sqs),
    s3: s3Handlers(st.s3),
    ...(st.athena ? { athena: athenaHandlers(st.athena) } : {}),
  };
}
