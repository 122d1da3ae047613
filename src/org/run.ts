/**
 * Wiring of `org-status` shared by the CLI and the scheduled OrgStatus function: the caller's
 * own clients (the SDK's default credential chain, `AWS_ENDPOINT_URL` for the emulator), who
 * the caller is (STS GetCallerIdentity, in the stack's region), and the member-role clients.
 */
import { DetectiveClient } from '@aws-sdk/client-detective';
import { GuardDutyClient } from '@aws-sdk/client-guardduty';
import { OrganizationsClient } from '@aws-sdk/client-organizations';
import { SecurityHubClient } from '@aws-sdk/client-securityhub';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { clientsOf, type ClientClasses, type ClientOverrides } from '../clients';
import { AccountClients, errorLine } from '../clients/accounts';
import { readConfig, type Config } from '../config';
import { orgStatus, type OrgStatus, type OrgStatusClient } from './status';

/** The SDK clients org-status uses, in the caller's account and (the same services) through the member role. */
export const ORG_STATUS_CLIENTS: Pick<ClientClasses, OrgStatusClient> = { sts: STSClient, organizations: OrganizationsClient, securityHub: SecurityHubClient, guardDuty: GuardDutyClient, detective: DetectiveClient };

/** What to check; unset names fall back to the functions' environment (MEMBER_ROLE_NAME, …). */
export interface RunOrgStatusOptions {
  stackRegion: string;
  regions: string[];
  memberRoleName?: string;
  externalId?: string | null;
  useDetective?: boolean;
  checkMemberRole?: boolean;
  stackSetName?: string;
  now?: Date;
  /** Client settings (tests: credentials, one attempt). */
  overrides?: ClientOverrides;
  /** The configuration already read (the scheduled function's, from its cold start); else read from `env`. */
  config?: Readonly<Config>;
  env?: NodeJS.ProcessEnv;
}

/** The caller could not be identified (STS GetCallerIdentity failed: no credentials, no network); `cause` is the SDK's error. */
export class CallerUnknownError extends Error {
  constructor(override readonly cause: unknown) {
    super(`cannot ask AWS who is calling (${errorLine(cause)})`);
  }
}

/**
 * Runs the check as the caller.
 * @throws CallerUnknownError when the caller cannot be identified; ConfigError for a bad
 *   variable of the functions' environment (src/config).
 */
export async function runOrgStatus(o: RunOrgStatusOptions): Promise<OrgStatus> {
  const config = o.config ?? readConfig([], o.env ?? process.env);
  const clients = clientsOf(ORG_STATUS_CLIENTS, config, o.stackRegion, o.overrides ?? {});
  let who;
  try {
    who = await clients.sts(o.stackRegion).send(new GetCallerIdentityCommand({}));
  } catch (e) {
    throw new CallerUnknownError(e);
  }
  const adminAccount = who.Account ?? '';
  const partition = (who.Arn ?? '').split(':')[1] || 'aws';
  const creds = o.overrides?.credentials;
  const members = new AccountClients(
    config,
    clients,
    // The caller's own account needs no member role: org-status checks every other account's.
    { ownAccount: adminAccount, memberRoleName: o.memberRoleName ?? config.memberRoleName, externalId: o.externalId ?? config.memberExternalId, partition },
    creds && typeof creds !== 'function' ? creds : undefined,
    { ...(o.overrides ?? {}), credentials: undefined },
  );
  const report = await orgStatus(clients, members, {
    adminAccount,
    caller: who.Arn ?? '?',
    regions: o.regions,
    stackRegion: o.stackRegion,
    useDetective: o.useDetective ?? config.useDetective,
    checkMemberRole: o.checkMemberRole,
    stackSetName: o.stackSetName,
    now: o.now,
  });
  report.requests['sts:GetCallerIdentity'] = (report.requests['sts:GetCallerIdentity'] ?? 0) + 1; // who the caller is
  return report;
}
