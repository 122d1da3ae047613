/**
 * Identities of the emulator: access keys, IAM roles with trust policies, STS (GetCallerIdentity,
 * AssumeRole), AWS Organizations (organisation, root, OUs, accounts, delegated administrators)
 * and opt-in regions (pitfalls kind 19).
 *
 * Sources of the rules that no Smithy model holds:
 * - IAM User Guide, "Policy evaluation logic" and "IAM JSON policy elements: Condition operators"
 *   (a matching Deny wins, else an Allow is needed; negated operators match an absent key;
 *   `…IfExists` matches an absent key); "AWS global condition context keys"
 *   (`aws:PrincipalOrgID`, `aws:PrincipalAccount`, `aws:PrincipalArn`, `sts:ExternalId`).
 * - STS API reference, AssumeRole: AccessDenied "User: <caller> is not authorized to perform:
 *   sts:AssumeRole on resource: <role>"; DurationSeconds above the role's MaxSessionDuration, or
 *   above 1 hour when chaining roles, is a ValidationError; RegionDisabledException when STS is
 *   not active in the region for the role's account.
 * - AWS General Reference, "Managing AWS Regions" / "Managing AWS STS in an AWS Region": an
 *   opt-in region answers requests of an account that has not enabled it as an invalid token;
 *   session tokens of the global endpoint (sts.amazonaws.com, signed for us-east-1) are valid
 *   only in regions enabled by default, those of a regional endpoint in every region.
 * - Organizations API reference: the List* operations "can be called only from the
 *   organization's management account or by a member account that is a delegated
 *   administrator for an AWS service"; outside an organisation they answer
 *   AWSOrganizationsNotInUseException.
 */
import { createHash, randomBytes } from 'node:crypto';
import { AwsError } from './errors';
import type { CallContext, HandlerEntry, Json } from './services';

function isObj(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
function list(v: unknown): unknown[] {
  if (v === undefined || v === null) return [];
  return Array.isArray(v) ? v : [v];
}
function short(seed: string, n: number): string {
  // base-36 digits of a hash: deterministic ids (`o-…`, `r-…`, `ou-…`) per seed.
  const h = createHash('sha256').update(seed).digest();
  let out = '';
  for (let i = 0; out.length < n; i++) out += ((h[i % h.length] ?? 0) % 36).toString(36);
  return out;
}
/** A page token: the parameters and position, base64 JSON. */
export function encodeToken(o: Json): string {
  return Buffer.from(JSON.stringify(o)).toString('base64');
}
/** The page token's content, or undefined when it is not one of ours. */
export function decodeToken(t: string): Json | undefined {
  try {
    const v: unknown = JSON.parse(Buffer.from(t, 'base64').toString('utf8'));
    return isObj(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

/** Opt-in regions by default (AWS: regions launched after March 2019 are not enabled by default). */
export const DEFAULT_OPT_IN_REGIONS: readonly string[] = ['me-central-1', 'ap-east-1'];

/** Signing regions of the global STS endpoint (`sts.amazonaws.com` signs for us-east-1; the SDK's `aws-global`). */
export const GLOBAL_STS_REGIONS: readonly string[] = ['us-east-1', 'aws-global'];

// ─────────────────────────────── Identities and roles ───────────────────────────────

/** An identity behind an access key: account, ARN, user id; for STS credentials also what issued them. */
export interface KeyIdentity {
  account: string;
  /** The caller ARN (GetCallerIdentity): `arn:aws:iam::A:user/N` or `arn:aws:sts::A:assumed-role/Role/session`. */
  arn: string;
  userId: string;
  /** For role sessions: the ARN of the role (with its path), which trust policies name. */
  roleArn?: string;
  /** For STS credentials: the signing region of the STS endpoint that issued them (see {@link GLOBAL_STS_REGIONS}). */
  issuedRegion?: string;
  /** For STS credentials: the session token every request must carry (`X-Amz-Security-Token`). */
  sessionToken?: string;
  /** For STS credentials: when they stop working. */
  expiration?: Date;
}

/** An IAM role of the emulator. */
export interface IamRole {
  account: string;
  name: string;
  /** `/` or `/a/b/`. */
  path: string;
  /** `arn:aws:iam::<account>:role<path><name>`. */
  arn: string;
  /** `AROA…`, stable per ARN. */
  roleId: string;
  /** The trust (assume-role) policy document. */
  trustPolicy: Json;
  /** Seconds (AWS default 3600, at most 43200). */
  maxSessionDuration: number;
}

/** Options of {@link IdentityState.putRole}. */
export interface PutRoleOptions {
  /** Role path, `/` by default; `ops` and `/ops/` both give `/ops/`. */
  path?: string;
  /** MaxSessionDuration in seconds (default 3600). */
  maxSessionDuration?: number;
}

/** The caller as a trust policy sees it. */
export interface PrincipalContext {
  account: string;
  /** Caller ARN (user ARN or assumed-role session ARN). */
  arn: string;
  /** The role ARN (with path) when the caller is a role session. */
  roleArn?: string;
  /** The organisation id of the caller's account, when it is in the emulated organisation. */
  orgId?: string;
}

/**
 * Access keys → identities, IAM roles, opt-in regions and enabled regions per account.
 * Reached as `emu.identities`.
 */
export class IdentityState {
  /** Access key id → identity. */
  readonly keys = new Map<string, KeyIdentity>();
  /** `account:lower-case role name` → role. */
  readonly roles = new Map<string, IamRole>();
  /** The opt-in regions (default {@link DEFAULT_OPT_IN_REGIONS}); mutable. */
  readonly optInRegions = new Set<string>(DEFAULT_OPT_IN_REGIONS);
  /** Account → the opt-in regions it has enabled (regions not in {@link optInRegions} are always enabled). */
  readonly enabledRegions = new Map<string, Set<string>>();
  /**
   * When true, AssumeRole needs a role put with {@link putRole} in every account. When false
   * (default), only in accounts that have at least one role or are in the emulated organisation;
   * in other accounts any role ARN can be assumed (the emulator's behaviour before IAM roles).
   */
  strictRoles = false;

  /** @param organizations the organisation state, for `aws:PrincipalOrgID` and which accounts enforce roles. */
  constructor(readonly organizations: OrganizationsState = new OrganizationsState()) {}

  /**
   * Creates or replaces the role `roleName` of `account` with a trust policy (object or JSON
   * text). Returns the role.
   */
  putRole(account: string, roleName: string, trustPolicy: object | string, opts: PutRoleOptions = {}): IamRole {
    const raw = (opts.path ?? '/').replace(/^\/*/, '/').replace(/\/*$/, '/');
    const arn = `arn:aws:iam::${account}:role${raw}${roleName}`;
    const doc: unknown = typeof trustPolicy === 'string' ? JSON.parse(trustPolicy) : trustPolicy;
    const role: IamRole = {
      account, name: roleName, path: raw, arn, roleId: 'AROA' + createHash('sha1').update(arn).digest('hex').slice(0, 17).toUpperCase(),
      trustPolicy: isObj(doc) ? doc : {}, maxSessionDuration: opts.maxSessionDuration ?? 3600,
    };
    this.roles.set(`${account}:${roleName.toLowerCase()}`, role);
    return role;
  }

  /** The role of that name in the account (role names are case-insensitive in IAM). */
  getRole(account: string, roleName: string): IamRole | undefined {
    return this.roles.get(`${account}:${roleName.toLowerCase()}`);
  }

  /** Removes a role; true when there was one. */
  deleteRole(account: string, roleName: string): boolean {
    return this.roles.delete(`${account}:${roleName.toLowerCase()}`);
  }

  /** Whether AssumeRole into this account needs a role put with {@link putRole} (see {@link strictRoles}). */
  enforcesRoles(account: string): boolean {
    if (this.strictRoles || this.organizations.account(account)) return true;
    for (const r of this.roles.values()) if (r.account === account) return true;
    return false;
  }

  /** Enables opt-in regions for an account (a no-op for regions enabled by default). */
  enableRegions(account: string, ...regions: string[]): void {
    let set = this.enabledRegions.get(account);
    if (!set) this.enabledRegions.set(account, (set = new Set()));
    for (const r of regions) set.add(r);
  }

  /** Whether an account may call services in a region (always for regions that are not opt-in). */
  isRegionEnabled(account: string, region: string): boolean {
    return !this.optInRegions.has(region) || (this.enabledRegions.get(account)?.has(region) ?? false);
  }

  /** The caller behind an access key, for trust policies (role ARN resolved with the role's path when it was put). */
  principalOf(accessKeyId: string, account: string): PrincipalContext {
    const id = this.keys.get(accessKeyId);
    const arn = id?.arn ?? `arn:aws:iam::${account}:user/emulator`;
    let roleArn = id?.roleArn;
    const m = /^arn:([\w-]+):sts::(\d{12}):assumed-role\/([^/]+)\//.exec(arn);
    if (!roleArn && m) roleArn = this.getRole(m[2] ?? account, m[3] ?? '')?.arn ?? `arn:${m[1] ?? 'aws'}:iam::${m[2] ?? account}:role/${m[3] ?? ''}`;
    const orgId = this.organizations.orgIdOf(account);
    return { account, arn, ...(roleArn ? { roleArn } : {}), ...(orgId ? { orgId } : {}) };
  }

  /**
   * The authentication failure of a request, or undefined: a session token that does not match
   * the key's (InvalidClientTokenId), expired credentials (ExpiredTokenException), an opt-in
   * region the account has not enabled (UnrecognizedClientException), or global-endpoint STS
   * credentials in an opt-in region (InvalidClientTokenId). All HTTP 403.
   */
  authFailure(accessKeyId: string, account: string, region: string, sessionToken: string | undefined, now: Date): AwsError | undefined {
    const id = this.keys.get(accessKeyId);
    const invalid = 'The security token included in the request is invalid.';
    if (id?.sessionToken !== undefined && sessionToken !== id.sessionToken) return new AwsError('InvalidClientTokenId', invalid, 403);
    if (id?.expiration && now.getTime() > id.expiration.getTime()) return new AwsError('ExpiredTokenException', 'The security token included in the request is expired', 403);
    if (!this.isRegionEnabled(account, region)) return new AwsError('UnrecognizedClientException', invalid, 403);
    if (this.optInRegions.has(region) && id?.issuedRegion !== undefined && GLOBAL_STS_REGIONS.includes(id.issuedRegion)) {
      return new AwsError('InvalidClientTokenId', invalid, 403);
    }
    return undefined;
  }
}

// ─────────────────────────────── Trust policies ───────────────────────────────

/** Case-insensitive IAM wildcard match (`*` any run, `?` one character). */
function wildcard(pattern: string, value: string, caseInsensitive = true): boolean {
  const re = new RegExp('^' + pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.') + '$', caseInsensitive ? 'is' : 's');
  return re.test(value);
}

function principalMatches(p: unknown, who: PrincipalContext): boolean {
  if (p === '*') return true;
  if (!isObj(p)) return false;
  return list(p.AWS).some((x) => {
    const v = String(x);
    if (v === '*') return true;
    if (v === who.account || v === `arn:aws:iam::${who.account}:root`) return true;
    return v === who.arn || (who.roleArn !== undefined && v === who.roleArn);
  });
}

/** Evaluates one condition operator over a key's values (values of a policy entry are OR-ed). */
function conditionHolds(op: string, key: string, want: unknown[], ctx: Record<string, string | undefined>): boolean {
  let base = op;
  const ifExists = base.endsWith('IfExists');
  if (ifExists) base = base.slice(0, -'IfExists'.length);
  const have = ctx[key.toLowerCase()];
  const wants = want.map(String);
  if (base === 'Null') return wants.some((w) => (w === 'true') === (have === undefined));
  if (have === undefined) return ifExists || base.includes('Not');
  switch (base) {
    case 'StringEquals': case 'ArnEquals': return wants.some((w) => w === have);
    case 'StringNotEquals': case 'ArnNotEquals': return !wants.some((w) => w === have);
    case 'StringEqualsIgnoreCase': return wants.some((w) => w.toLowerCase() === have.toLowerCase());
    case 'StringNotEqualsIgnoreCase': return !wants.some((w) => w.toLowerCase() === have.toLowerCase());
    case 'StringLike': case 'ArnLike': return wants.some((w) => wildcard(w, have, false));
    case 'StringNotLike': case 'ArnNotLike': return !wants.some((w) => wildcard(w, have, false));
    case 'Bool': return wants.some((w) => w.toLowerCase() === have.toLowerCase());
    default: return false; // operators the emulator does not know fail closed
  }
}

/** What a trust policy is evaluated against, besides the principal. */
export interface TrustRequest {
  /** `sts:AssumeRole`. */
  action: string;
  /** `sts:ExternalId` of the request. */
  externalId?: string;
  /** `sts:RoleSessionName`. */
  roleSessionName?: string;
  /** `aws:RequestedRegion`. */
  region?: string;
}

/**
 * Evaluates a trust policy for a caller: `Allow` statements whose `Principal` (`*`, or `AWS` as
 * an account id, `arn:aws:iam::A:root`, the caller's ARN, or a role session's role ARN),
 * `Action` (wildcards) and every `Condition` match allow, unless a matching `Deny` does.
 * Condition keys: `aws:PrincipalOrgID`, `aws:PrincipalAccount`, `aws:PrincipalArn`,
 * `sts:ExternalId`, `sts:RoleSessionName`, `aws:RequestedRegion`; operators String*, Arn*,
 * Bool, Null, with `IfExists`. `NotPrincipal`, `NotAction`, `ForAnyValue:` / `ForAllValues:`
 * and other operators never match.
 */
export function evaluateTrustPolicy(policy: Json, who: PrincipalContext, req: TrustRequest): boolean {
  const ctx: Record<string, string | undefined> = {
    'aws:principalorgid': who.orgId, 'aws:principalaccount': who.account, 'aws:principalarn': who.roleArn ?? who.arn,
    'sts:externalid': req.externalId, 'sts:rolesessionname': req.roleSessionName, 'aws:requestedregion': req.region,
  };
  let allowed = false;
  for (const st of list(policy.Statement)) {
    if (!isObj(st) || st.NotPrincipal !== undefined || st.NotAction !== undefined) continue;
    if (!principalMatches(st.Principal, who)) continue;
    if (!list(st.Action).some((a) => wildcard(String(a), req.action))) continue;
    const cond = isObj(st.Condition) ? st.Condition : {};
    const holds = Object.entries(cond).every(([op, kv]) => isObj(kv) && Object.entries(kv).every(([k, v]) => conditionHolds(op, k, list(v), ctx)));
    if (!holds) continue;
    if (st.Effect === 'Deny') return false;
    if (st.Effect === 'Allow') allowed = true;
  }
  return allowed;
}

/** The STS handlers: GetCallerIdentity and AssumeRole (trust policy, ExternalId, durations, opt-in regions). */
export function stsHandlers(ids: IdentityState): Record<string, HandlerEntry> {
  return {
    GetCallerIdentity: {
      fn: (ctx) => {
        const id = ids.keys.get(ctx.accessKeyId);
        return { UserId: id?.userId ?? 'AIDAEMULATOREXAMPLE', Account: ctx.account, Arn: id?.arn ?? `arn:${ctx.partition}:iam::${ctx.account}:user/emulator` };
      },
    },
    AssumeRole: {
      fn: (ctx: CallContext, input: Json) => {
        const roleArn = String(input.RoleArn);
        const m = /^arn:([\w-]+):iam::(\d{12}):role(\/(?:[!-~]*\/)?)([\w+=,.@-]{1,64})$/.exec(roleArn);
        if (!m) throw new AwsError('ValidationError', `${roleArn} is invalid`, 400);
        const account = m[2] ?? '';
        const name = m[4] ?? '';
        const session = String(input.RoleSessionName);
        const who = ids.principalOf(ctx.accessKeyId, ctx.account);
        const denied = (): AwsError => new AwsError('AccessDenied', `User: ${who.arn} is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`, 403);
        let role: IamRole | undefined;
        if (ids.enforcesRoles(account)) {
          role = ids.getRole(account, name);
          if (!role || role.arn !== `arn:aws:iam::${account}:role${m[3] ?? '/'}${name}`) throw denied();
          const externalId = typeof input.ExternalId === 'string' ? input.ExternalId : undefined;
          if (!evaluateTrustPolicy(role.trustPolicy, who, { action: 'sts:AssumeRole', roleSessionName: session, region: ctx.region, ...(externalId !== undefined ? { externalId } : {}) })) throw denied();
        }
        const dur = Number(input.DurationSeconds ?? 3600);
        const chained = /:assumed-role\//.test(who.arn);
        if (chained && dur > 3600) throw new AwsError('ValidationError', 'The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.', 400);
        if (dur > (role?.maxSessionDuration ?? 43200)) throw new AwsError('ValidationError', 'The requested DurationSeconds exceeds the MaxSessionDuration set for this role.', 400);
        if (ids.optInRegions.has(ctx.region) && !ids.isRegionEnabled(account, ctx.region)) {
          throw new AwsError('RegionDisabledException', `STS is not activated in this region for account:${account}. Your account administrator can activate STS in this region using the IAM Console.`, 403);
        }
        const akid = 'ASIA' + randomBytes(8).toString('hex').toUpperCase();
        const roleId = role?.roleId ?? 'AROA' + createHash('sha1').update(roleArn).digest('hex').slice(0, 17).toUpperCase();
        const arn = `arn:${ctx.partition}:sts::${account}:assumed-role/${name}/${session}`;
        const sessionToken = randomBytes(48).toString('base64');
        const expiration = new Date(ctx.now.getTime() + dur * 1000);
        ids.keys.set(akid, { account, arn, userId: `${roleId}:${session}`, roleArn: role?.arn ?? roleArn, issuedRegion: ctx.region, sessionToken, expiration });
        return {
          Credentials: { AccessKeyId: akid, SecretAccessKey: randomBytes(20).toString('base64'), SessionToken: sessionToken, Expiration: expiration },
          AssumedRoleUser: { AssumedRoleId: `${roleId}:${session}`, Arn: arn },
        };
      },
    },
  };
}

// ─────────────────────────────── Organizations ───────────────────────────────

/** The organisation (DescribeOrganization), with its root. */
export interface Organization {
  Id: string;
  Arn: string;
  FeatureSet: 'ALL';
  MasterAccountId: string;
  MasterAccountArn: string;
  MasterAccountEmail: string;
  rootId: string;
  rootArn: string;
}

/** An account of the organisation (the `Account` shape, plus its parent). */
export interface OrgAccount {
  Id: string;
  Arn: string;
  Email: string;
  Name: string;
  Status: 'ACTIVE' | 'SUSPENDED' | 'PENDING_CLOSURE';
  JoinedMethod: 'CREATED' | 'INVITED';
  JoinedTimestamp: Date;
  /** `r-…` or `ou-…`. */
  parentId: string;
}

/** An organisational unit. */
export interface OrgUnit {
  Id: string;
  Arn: string;
  Name: string;
  /** `r-…` or `ou-…`. */
  parentId: string;
}

/** A delegated administrator registration. */
export interface DelegatedAdmin {
  account: string;
  servicePrincipal: string;
  enabled: Date;
}

/** Options of {@link OrganizationsState.addAccount}. */
export interface AddAccountOptions {
  /** Parent (`r-…` / `ou-…`); default the root. */
  parentId?: string;
  status?: OrgAccount['Status'];
  joinedMethod?: OrgAccount['JoinedMethod'];
  email?: string;
}

/**
 * One AWS organisation: root, OUs, accounts, delegated administrators. Empty until
 * {@link createOrganization} or {@link addAccount}; calls then answer AWSOrganizationsNotInUseException.
 */
export class OrganizationsState {
  /** The organisation, once created. */
  organization: Organization | undefined;
  /** Accounts in join order (the management account first). */
  readonly accounts: OrgAccount[] = [];
  /** OUs in creation order. */
  readonly ous: OrgUnit[] = [];
  /** Delegated administrators in registration order. */
  readonly delegatedAdmins: DelegatedAdmin[] = [];

  /**
   * Creates the organisation with its management account (under the root). `orgId` must match
   * `o-[a-z0-9]{10,32}`; by default derived from the management account. Replaces any previous one.
   */
  createOrganization(managementAccount: string, opts: { orgId?: string; name?: string; email?: string } = {}): Organization {
    const id = opts.orgId ?? `o-${short(managementAccount, 10)}`;
    if (!/^o-[a-z0-9]{10,32}$/.test(id)) throw new Error(`organisation id ${id} does not match o-[a-z0-9]{10,32}`);
    const rootId = `r-${short(id, 4)}`;
    const email = opts.email ?? `${managementAccount}@example.com`;
    this.accounts.length = 0;
    this.ous.length = 0;
    this.delegatedAdmins.length = 0;
    this.organization = {
      Id: id, Arn: `arn:aws:organizations::${managementAccount}:organization/${id}`, FeatureSet: 'ALL', MasterAccountId: managementAccount,
      MasterAccountArn: `arn:aws:organizations::${managementAccount}:account/${id}/${managementAccount}`, MasterAccountEmail: email,
      rootId, rootArn: `arn:aws:organizations::${managementAccount}:root/${id}/${rootId}`,
    };
    this.addAccount(managementAccount, opts.name ?? `account-${managementAccount}`, { email });
    return this.organization;
  }

  /** Adds an OU under a parent (default the root); returns it. Needs the organisation. */
  addOrganizationalUnit(name: string, parentId?: string): OrgUnit {
    const org = this.requireOrg();
    const parent = parentId ?? org.rootId;
    if (!this.parentExists(parent)) throw new Error(`no parent ${parent}`);
    const id = `ou-${org.rootId.slice(2)}-${short(`${org.Id}/${parent}/${name}/${this.ous.length}`, 8)}`;
    const ou: OrgUnit = { Id: id, Arn: `arn:aws:organizations::${org.MasterAccountId}:ou/${org.Id}/${id}`, Name: name, parentId: parent };
    this.ous.push(ou);
    return ou;
  }

  /**
   * Adds an account (or updates the name of one already there). Without an organisation, one is
   * created whose management account is `managementAccount` (default `id`). The third argument
   * may instead be {@link AddAccountOptions}.
   */
  addAccount(id: string, name = `account-${id}`, managementAccountOrOpts: string | AddAccountOptions = id): OrgAccount {
    const opts = typeof managementAccountOrOpts === 'string' ? {} : managementAccountOrOpts;
    if (!this.organization) this.createOrganization(typeof managementAccountOrOpts === 'string' ? managementAccountOrOpts : id, id === managementAccountOrOpts ? { name } : {});
    const org = this.requireOrg();
    const existing = this.account(id);
    if (existing) {
      existing.Name = name;
      return existing;
    }
    const parentId = opts.parentId ?? org.rootId;
    if (!this.parentExists(parentId)) throw new Error(`no parent ${parentId}`);
    const a: OrgAccount = {
      Id: id, Arn: `arn:aws:organizations::${org.MasterAccountId}:account/${org.Id}/${id}`, Email: opts.email ?? `${id}@example.com`, Name: name,
      Status: opts.status ?? 'ACTIVE', JoinedMethod: opts.joinedMethod ?? (id === org.MasterAccountId ? 'CREATED' : 'INVITED'),
      JoinedTimestamp: new Date(Date.UTC(2020, 0, 1) + this.accounts.length * 86400_000), parentId,
    };
    this.accounts.push(a);
    return a;
  }

  /** Registers an account as delegated administrator of a service principal (`securityhub.amazonaws.com`, …). */
  registerDelegatedAdministrator(account: string, servicePrincipal: string): void {
    if (!this.account(account)) throw new Error(`account ${account} is not in the organisation`);
    if (account === this.organization?.MasterAccountId) throw new Error('the management account cannot be a delegated administrator');
    if (!this.delegatedAdmins.some((d) => d.account === account && d.servicePrincipal === servicePrincipal)) {
      this.delegatedAdmins.push({ account, servicePrincipal, enabled: new Date(Date.UTC(2024, 0, 1) + this.delegatedAdmins.length * 86400_000) });
    }
  }

  /** The account with this id, if in the organisation. */
  account(id: string): OrgAccount | undefined {
    return this.accounts.find((a) => a.Id === id);
  }

  /** The organisation id of an account, when it is in the organisation. */
  orgIdOf(account: string): string | undefined {
    return this.account(account) ? this.organization?.Id : undefined;
  }

  /** Whether an account is a delegated administrator (of a service principal, or of any). */
  isDelegatedAdmin(account: string, servicePrincipal?: string): boolean {
    return this.delegatedAdmins.some((d) => d.account === account && (servicePrincipal === undefined || d.servicePrincipal === servicePrincipal));
  }

  /** Whether `r-…` / `ou-…` exists. */
  parentExists(id: string): boolean {
    return id === this.organization?.rootId || this.ous.some((o) => o.Id === id);
  }

  private requireOrg(): Organization {
    if (!this.organization) throw new Error('no organisation: call createOrganization first');
    return this.organization;
  }
}

function accountOut(a: OrgAccount): Json {
  return { Id: a.Id, Arn: a.Arn, Email: a.Email, Name: a.Name, Status: a.Status, JoinedMethod: a.JoinedMethod, JoinedTimestamp: a.JoinedTimestamp };
}

/** A page of `items` by the request's MaxResults (model 1-20; default 20) and NextToken (bound to `scope`). */
function page<T>(items: T[], input: Json, scope: string): { items: T[]; NextToken?: string } {
  const max = Number(input.MaxResults ?? 20);
  let offset = 0;
  if (input.NextToken !== undefined) {
    const t = decodeToken(String(input.NextToken));
    if (!t || t.s !== scope || typeof t.o !== 'number') throw new AwsError('InvalidInputException', 'You provided an invalid value for a pagination token.');
    offset = t.o;
  }
  const next = offset + max < items.length ? encodeToken({ o: offset + max, s: scope }) : undefined;
  return { items: items.slice(offset, offset + max), ...(next ? { NextToken: next } : {}) };
}

/** The Organizations handlers (read-only operations), with the caller checks of the API reference. */
export function organizationsHandlers(st: OrganizationsState): Record<string, HandlerEntry> {
  const member = (ctx: CallContext): Organization => {
    const org = st.organization;
    if (!org || !st.account(ctx.account)) throw new AwsError('AWSOrganizationsNotInUseException', 'Your account is not a member of an organization.');
    return org;
  };
  const admin = (ctx: CallContext): Organization => {
    const org = member(ctx);
    if (ctx.account !== org.MasterAccountId && !st.isDelegatedAdmin(ctx.account)) {
      throw new AwsError('AccessDeniedException', "You don't have permissions to access this resource.");
    }
    return org;
  };
  const parent = (input: Json): string => {
    const p = String(input.ParentId);
    if (!st.parentExists(p)) throw new AwsError('ParentNotFoundException', "We can't find a root or OU with the ParentId that you specified.");
    return p;
  };
  return {
    DescribeOrganization: {
      fn: (ctx) => {
        const o = member(ctx);
        return { Organization: { Id: o.Id, Arn: o.Arn, FeatureSet: o.FeatureSet, MasterAccountArn: o.MasterAccountArn, MasterAccountId: o.MasterAccountId, MasterAccountEmail: o.MasterAccountEmail, AvailablePolicyTypes: [] } };
      },
    },
    ListAccounts: {
      fn: (ctx, input) => {
        admin(ctx);
        const p = page(st.accounts, input, 'accounts');
        return { Accounts: p.items.map(accountOut), ...(p.NextToken ? { NextToken: p.NextToken } : {}) };
      },
    },
    ListAccountsForParent: {
      fn: (ctx, input) => {
        admin(ctx);
        const pid = parent(input);
        const p = page(st.accounts.filter((a) => a.parentId === pid), input, `accounts:${pid}`);
        return { Accounts: p.items.map(accountOut), ...(p.NextToken ? { NextToken: p.NextToken } : {}) };
      },
    },
    ListRoots: {
      fn: (ctx, input) => {
        const o = admin(ctx);
        const p = page([{ Id: o.rootId, Arn: o.rootArn, Name: 'Root', PolicyTypes: [] }], input, 'roots');
        return { Roots: p.items, ...(p.NextToken ? { NextToken: p.NextToken } : {}) };
      },
    },
    ListOrganizationalUnitsForParent: {
      fn: (ctx, input) => {
        admin(ctx);
        const pid = parent(input);
        const p = page(st.ous.filter((u) => u.parentId === pid), input, `ous:${pid}`);
        return { OrganizationalUnits: p.items.map((u) => ({ Id: u.Id, Arn: u.Arn, Name: u.Name })), ...(p.NextToken ? { NextToken: p.NextToken } : {}) };
      },
    },
    ListDelegatedAdministrators: {
      fn: (ctx, input) => {
        admin(ctx);
        const sp = typeof input.ServicePrincipal === 'string' ? input.ServicePrincipal : undefined;
        const seen = new Map<string, Date>();
        for (const d of st.delegatedAdmins) {
          if (sp !== undefined && d.servicePrincipal !== sp) continue;
          const prev = seen.get(d.account);
          if (!prev || d.enabled < prev) seen.set(d.account, d.enabled);
        }
        const rows = [...seen.entries()].flatMap(([id, enabled]) => {
          const a = st.account(id);
          return a ? [{ ...accountOut(a), DelegationEnabledDate: enabled }] : [];
        });
        const p = page(rows, input, `delegated:${sp ?? ''}`);
        return { DelegatedAdministrators: p.items, ...(p.NextToken ? { NextToken: p.NextToken } : {}) };
      },
    },
    ListDelegatedServicesForAccount: {
      fn: (ctx, input) => {
        admin(ctx);
        const id = String(input.AccountId);
        if (!st.account(id)) throw new AwsError('AccountNotFoundException', "You specified an account that doesn't exist.");
        const rows = st.delegatedAdmins.filter((d) => d.account === id).map((d) => ({ ServicePrincipal: d.servicePrincipal, DelegationEnabledDate: d.enabled }));
        if (!rows.length) throw new AwsError('AccountNotRegisteredException', 'The provided account is not a registered delegated administrator for your organization.');
        const p = page(rows, input, `services:${id}`);
        return { DelegatedServices: p.items, ...(p.NextToken ? { NextToken: p.NextToken } : {}) };
      },
    },
  };
}
