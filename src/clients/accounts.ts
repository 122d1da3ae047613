/**
 * Clients for the account a finding belongs to. In the functions' own account they are the
 * functions' own clients; in a member account they carry the member role's credentials:
 * AssumeRole of `arn:<partition>:iam::<member>:role/<MemberRoleName>` with the ExternalId,
 * through the REGIONAL STS endpoint of the finding's region (opt-in regions reject tokens from
 * the global endpoint: pitfall 19), cached and refreshed before expiry by the SDK's
 * `fromTemporaryCredentials` provider. One set of clients per (account, region).
 *
 * STS AssumeRole: https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html
 */
import { fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import type { AwsCredentialIdentity } from '@smithy/types';
import { clientsOf, requestHandlerOptions, type ClientName, type ClientOverrides, type ClientSet } from './index';
import type { Config } from '../config';

/** How the functions reach member accounts. */
export interface MemberAccess {
  /** The account the functions run in (the delegated administrator). */
  ownAccount: string;
  /** The role the member StackSet deploys in every member account. */
  memberRoleName: string;
  /** The ExternalId the member role's trust policy requires. */
  externalId: string | null;
  partition: string;
}

/** Role session name (2-64 characters, `[\w+=,.@-]*`). */
export const MEMBER_SESSION_NAME = 'trailstory-enrich';

/** Member (account, region) client sets kept by one warm function: beyond this, the least recently used is dropped (and built again when needed). */
export const MAX_MEMBER_CLIENT_SETS = 256;

/** Clients by account: a member account's are of the same services as the functions' own (`K`). */
export class AccountClients<K extends ClientName = ClientName> {
  /** `account/region` → clients, in least-recently-used order (a Map keeps insertion order; a hit moves to the end). */
  private readonly cache = new Map<string, ClientSet<K>>();

  constructor(
    private readonly config: Pick<Config, 'endpoint'>,
    private readonly own: ClientSet<K>,
    private readonly access: MemberAccess,
    /** The functions' own credentials, when not the default chain (tests, the demo). */
    private readonly ownCredentials?: AwsCredentialIdentity,
    private readonly overrides: ClientOverrides = {},
    /** Client sets kept at most (an organisation of thousands of accounts must not grow a warm function without bound). */
    private readonly maxEntries = MAX_MEMBER_CLIENT_SETS,
  ) {}

  /** The member role's ARN in `account`. */
  roleArn(account: string): string {
    return `arn:${this.access.partition}:iam::${account}:role/${this.access.memberRoleName}`;
  }

  /**
   * The member role's credentials in `account`, from the regional STS endpoint of `region`:
   * an SDK credential provider that assumes the role on first use and again before expiry.
   * @throws (when called) the STS error: AccessDenied (no role, or its trust policy refuses
   * us), RegionDisabledException (the account has not enabled an opt-in region).
   */
  credentials(account: string, region: string) {
    return fromTemporaryCredentials({
      params: {
        RoleArn: this.roleArn(account),
        RoleSessionName: MEMBER_SESSION_NAME,
        DurationSeconds: 3600,
        ...(this.access.externalId ? { ExternalId: this.access.externalId } : {}),
      },
      clientConfig: { region, ...(this.config.endpoint ? { endpoint: this.config.endpoint } : {}), ...requestHandlerOptions(this.overrides.timeouts) },
      ...(this.ownCredentials ? { masterCredentials: this.ownCredentials } : {}),
    });
  }

  /** Clients for `account` in `region` (the functions' own for their own account). */
  for(account: string, region: string): ClientSet<K> {
    if (account === this.access.ownAccount) return this.own;
    const key = `${account}/${region}`;
    let c = this.cache.get(key);
    if (c) this.cache.delete(key);
    else c = clientsOf(this.own.classes, this.config, region, { ...this.overrides, credentials: this.credentials(account, region) });
    this.cache.set(key, c);
    if (this.cache.size > this.maxEntries) this.cache.delete(this.cache.keys().next().value as string);
    return c;
  }
}

/** An error's name (`Error` when it has none). */
export function errorName(e: unknown): string {
  return (e as { name?: string } | null)?.name || 'Error';
}

/** `Name: the first line of the message`, for notes and gaps. */
export function errorLine(e: unknown): string {
  return `${errorName(e)}: ${String((e as Error | null)?.message ?? e).split('\n')[0]}`;
}

/** True for errors that say the caller cannot use the region at all: an opt-in region not enabled (for the account, or for tokens of the global STS endpoint). */
export function isRegionOff(e: unknown): boolean {
  return /UnrecognizedClient|InvalidClientTokenId|OptInRequired|RegionDisabled/i.test(errorName(e));
}

/** True for errors that say the account or region cannot be reached at all (retrying will not help). */
export function isAccessError(e: unknown): boolean {
  return isRegionOff(e) || /AccessDenied|CredentialsProviderError|ExpiredToken|NotAuthorized/i.test(errorName(e));
}
