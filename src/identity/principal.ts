/**
 * The one identity normaliser: a CloudTrail `userIdentity` element, or an ARN, to a
 * {@link Principal}. Every field of `userIdentity` is optional in real records
 * (an AssumedRole whose `sessionIssuer` is `{}`, an AWSService identity with no ARN and no
 * account): nothing here throws on a missing or odd field.
 *
 * Source: "CloudTrail userIdentity element",
 * https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-user-identity.html
 */

/** `userIdentity.type` values CloudTrail documents; others are kept as their string. */
export type IdentityType =
  | 'IAMUser'
  | 'AssumedRole'
  | 'Root'
  | 'AWSService'
  | 'FederatedUser'
  | 'SAMLUser'
  | 'WebIdentityUser'
  | 'AWSAccount'
  | 'IdentityCenterUser'
  | 'Unknown'
  | string;

/** A normalised principal: who acted, with which credential. */
export interface Principal {
  type: IdentityType;
  /** `userIdentity.arn` as recorded, or null. */
  arn: string | null;
  accountId: string | null;
  /** The access key of the call (`AKIA…` long-term, `ASIA…` temporary), or null. */
  accessKeyId: string | null;
  principalId: string | null;
  /** IAM user name, federated user name, SAML/web-identity user name; null for roles. */
  userName: string | null;
  /** For role sessions: the role ARN (with its path when `sessionIssuer.arn` gives it). */
  roleArn: string | null;
  roleName: string | null;
  /** For role sessions: the session name (the last part of the assumed-role ARN). */
  sessionName: string | null;
  /**
   * A stable key for the principal across its credentials:
   * `user:<acct>:<name>`, `role:<acct>:<name>`, `root:<acct>`, `federated:<acct>:<name>`,
   * `saml:<provider>:<name>`, `web:<provider>:<name>`, `idc:<userId>`, `service:<name>`,
   * `account:<acct>`, or `unknown:<principalId>`; null when nothing identifies it.
   */
  key: string | null;
  /** `sessionContext.attributes.creationDate`, ISO UTC, or null. */
  sessionCreationDate: string | null;
  mfaAuthenticated: boolean | null;
  /** `userIdentity.invokedBy`: the AWS service that made the call for this principal. */
  invokedBy: string | null;
  /** `sessionContext.sourceIdentity`. */
  sourceIdentity: string | null;
  /** Identity Center: `onBehalfOf.userId`. */
  onBehalfOfUserId: string | null;
  /** `userIdentity.identityProvider` (SAML/web identity) or federated provider. */
  identityProvider: string | null;
  /** `sessionContext.sessionIssuer.arn`: the role of a role session, the IAM user of a federated session. */
  sessionIssuerArn: string | null;
}

function str(v: unknown): string | null {
  return typeof v === 'string' && v.length > 0 ? v : null;
}

function obj(v: unknown): Record<string, unknown> | null {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
}

/** Parts of an IAM/STS ARN: `arn:<partition>:<service>:<region>:<account>:<resource>`. */
export interface ArnParts {
  partition: string;
  service: string;
  region: string;
  accountId: string;
  resource: string;
}

/** Splits an ARN; null when the text is not an ARN. */
export function parseArn(arn: string | null | undefined): ArnParts | null {
  if (!arn || !arn.startsWith('arn:')) return null;
  const parts = arn.split(':');
  if (parts.length < 6) return null;
  return {
    partition: parts[1] ?? '',
    service: parts[2] ?? '',
    region: parts[3] ?? '',
    accountId: parts[4] ?? '',
    resource: parts.slice(5).join(':'),
  };
}

/**
 * The principal key of an ARN alone (see {@link Principal.key}): role sessions and the
 * role itself share `role:<acct>:<name>`; the role path is dropped since assumed-role ARNs
 * do not carry it. Null for ARNs that name no principal.
 */
export function principalKeyFromArn(arn: string | null | undefined): string | null {
  if (!arn) return null;
  const cached = keyCache.get(arn);
  if (cached !== undefined) return cached;
  const key = computePrincipalKey(arn);
  if (keyCache.size >= KEY_CACHE_MAX) keyCache.clear();
  keyCache.set(arn, key);
  return key;
}

/** ARNs repeat across millions of records: their keys are cached (bounded). */
const keyCache = new Map<string, string | null>();
const KEY_CACHE_MAX = 100_000;

function computePrincipalKey(arn: string): string | null {
  const p = parseArn(arn);
  if (!p) return null;
  const r = p.resource;
  if (p.service === 'sts') {
    if (r.startsWith('assumed-role/')) {
      const name = r.split('/')[1];
      return name ? `role:${p.accountId}:${name}` : null;
    }
    if (r.startsWith('federated-user/')) return nonEmpty(`federated:${p.accountId}:${r.slice('federated-user/'.length)}`, r.slice('federated-user/'.length));
    return null;
  }
  if (p.service === 'iam') {
    if (r === 'root') return `root:${p.accountId}`;
    if (r.startsWith('user/')) return nonEmpty(`user:${p.accountId}:${lastSegment(r)}`, lastSegment(r));
    if (r.startsWith('role/')) return nonEmpty(`role:${p.accountId}:${lastSegment(r)}`, lastSegment(r));
  }
  return null;
}

function nonEmpty(key: string, name: string): string | null {
  return name.length > 0 ? key : null;
}

function lastSegment(resource: string): string {
  const i = resource.lastIndexOf('/');
  return i >= 0 ? resource.slice(i + 1) : resource;
}

/** Role session name from an assumed-role ARN (`arn:aws:sts::1:assumed-role/R/session` → `session`). */
export function sessionNameFromArn(arn: string | null | undefined): string | null {
  const p = parseArn(arn);
  if (!p || p.service !== 'sts' || !p.resource.startsWith('assumed-role/')) return null;
  const parts = p.resource.split('/');
  return parts.length >= 3 ? parts.slice(2).join('/') : null;
}

/**
 * A compute id (the role session name of an instance, a Lambda function or an ECS task) in one
 * form whatever wrote it: EC2 and SSM managed-instance ids (`i-…`, `mi-…`) in lower case, the
 * rest as is.
 */
export function computeId(id: string): string {
  return INSTANCE_ID.test(id) ? id.toLowerCase() : id;
}

/** An EC2 instance or SSM managed-instance id, any case. */
export const INSTANCE_ID = /^(i|mi)-[0-9a-f]{8,17}$/i;

/** The compute a role session ARN names: its session name as a {@link computeId}, or null for other ARNs. */
export function sessionComputeId(arn: string | null | undefined): string | null {
  const s = sessionNameFromArn(arn);
  return s ? computeId(s) : null;
}

/** Role ARN for an assumed-role ARN (path unknown, so none). */
export function roleArnFromSessionArn(arn: string | null | undefined): string | null {
  const p = parseArn(arn);
  if (!p || p.service !== 'sts' || !p.resource.startsWith('assumed-role/')) return null;
  const name = p.resource.split('/')[1];
  return name ? `arn:${p.partition}:iam::${p.accountId}:role/${name}` : null;
}

/**
 * Normalises a CloudTrail `userIdentity` (any type, any field missing) to a {@link Principal}.
 * Never throws; a non-object input gives an `Unknown` principal with a null key.
 */
export function normalizeIdentity(raw: unknown): Principal {
  const ui = obj(raw) ?? {};
  const type = str(ui.type) ?? 'Unknown';
  const arn = str(ui.arn);
  const ctx = obj(ui.sessionContext);
  const issuer = obj(ctx?.sessionIssuer);
  const attrs = obj(ctx?.attributes);
  const accountId = str(ui.accountId) ?? parseArn(arn)?.accountId ?? (str(issuer?.accountId) || null);
  const principalId = str(ui.principalId);
  const onBehalfOf = obj(ui.onBehalfOf);
  const webId = obj(ctx?.webIdFederationData);
  const p: Principal = {
    type,
    arn,
    accountId: accountId && accountId.length > 0 ? accountId : null,
    accessKeyId: str(ui.accessKeyId),
    principalId,
    userName: null,
    roleArn: null,
    roleName: null,
    sessionName: null,
    key: null,
    sessionCreationDate: str(attrs?.creationDate),
    mfaAuthenticated: attrs?.mfaAuthenticated === undefined ? null : String(attrs.mfaAuthenticated) === 'true',
    invokedBy: str(ui.invokedBy),
    sourceIdentity: str(ctx?.sourceIdentity) ?? str(ui.sourceIdentity),
    onBehalfOfUserId: str(onBehalfOf?.userId),
    identityProvider: str(ui.identityProvider) ?? str(webId?.federatedProvider),
    sessionIssuerArn: str(issuer?.arn),
  };
  switch (type) {
    case 'IAMUser':
      p.userName = str(ui.userName) ?? (arn ? lastSegment(parseArn(arn)?.resource ?? '') || null : null);
      p.key = p.userName && p.accountId ? `user:${p.accountId}:${p.userName}` : principalKeyFromArn(arn);
      break;
    case 'AssumedRole': {
      const issuerArn = str(issuer?.arn);
      p.roleArn = issuerArn ?? roleArnFromSessionArn(arn);
      p.roleName = str(issuer?.userName) ?? (p.roleArn ? lastSegment(parseArn(p.roleArn)?.resource ?? '') || null : null);
      p.sessionName = sessionNameFromArn(arn) ?? (principalId && principalId.includes(':') ? principalId.slice(principalId.indexOf(':') + 1) : null);
      p.key = p.roleName && p.accountId ? `role:${p.accountId}:${p.roleName}` : principalKeyFromArn(arn);
      break;
    }
    case 'Root':
      p.key = p.accountId ? `root:${p.accountId}` : null;
      break;
    case 'FederatedUser': {
      const name = arn ? parseArn(arn)?.resource.replace(/^federated-user\//, '') ?? null : null;
      p.userName = name ?? (principalId && principalId.includes(':') ? principalId.slice(principalId.indexOf(':') + 1) : null);
      p.key = p.userName && p.accountId ? `federated:${p.accountId}:${p.userName}` : null;
      break;
    }
    case 'SAMLUser':
    case 'WebIdentityUser':
      p.userName = str(ui.userName) ?? principalId;
      p.key = p.userName ? `${type === 'SAMLUser' ? 'saml' : 'web'}:${p.identityProvider ?? ''}:${p.userName}` : null;
      break;
    case 'IdentityCenterUser':
      p.userName = str(ui.userName) ?? str(obj(ui.additionalContext)?.UserName) ?? null;
      p.key = p.onBehalfOfUserId ? `idc:${p.onBehalfOfUserId}` : principalId ? `idc:${principalId}` : null;
      break;
    case 'AWSService':
      p.key = p.invokedBy ? `service:${p.invokedBy}` : null;
      break;
    case 'AWSAccount':
      p.key = p.accountId ? `account:${p.accountId}` : null;
      break;
    default:
      p.key = principalKeyFromArn(arn) ?? (principalId ? `unknown:${principalId}` : null);
  }
  return p;
}

/** A short human label: `user/ci-deployer`, `role/DevOpsRole (session jordan.dev)`, `root`, … */
export function principalLabel(p: Principal): string {
  switch (p.type) {
    case 'IAMUser':
      return `user/${p.userName ?? p.principalId ?? '?'}`;
    case 'AssumedRole':
      return `role/${p.roleName ?? '?'}${p.sessionName ? ` (session ${p.sessionName})` : ''}`;
    case 'Root':
      return `root (${p.accountId ?? '?'})`;
    case 'AWSService':
      return p.invokedBy ?? 'AWS service';
    case 'AWSAccount':
      return `account ${p.accountId ?? '?'}`;
    default:
      return `${p.type} ${p.userName ?? p.arn ?? p.principalId ?? '?'}`;
  }
}
