/**
 * Wiring of `org-status` shared by the CLI and the scheduled OrgStatus function: the caller's
 * own clients (the SDK's default credential chain, `AWS_ENDPOINT_URL` for the emulator), who
 * the caller is (STS GetCallerIdentity, in the stack's region), and the member-role clients.
 */
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { makeClients, type ClientOverrides } from '../clients';
import { AccountClients } from '../clients/accounts';
import { readConfig } from '../config';
import { orgStatus, type OrgStatus } from './status';

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
  env?: NodeJS.ProcessEnv;
}

/**
 * Runs the check as the caller.
 * @throws the STS error when the caller cannot be identified (no credentials, no network).
 */
export async function runOrgStatus(o: RunOrgStatusOptions): Promise<OrgStatus> {
  const config = readConfig([], o.env ?? process.env);
  const clients = makeClients(config, o.stackRegion, o.overrides ?? {});
  const who = await clients.sts(o.stackRegion).send(new GetCallerIdentityCommand({}));
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
  return orgStatus(clients, members, {
    adminAccount,
    caller: who.Arn ?? '?',
    regions: o.regions,
    stackRegion: o.stackRegion,
    useDetective: o.useDetective ?? config.useDetective,
    checkMemberRole: o.checkMemberRole,
    stackSetName: o.stackSetName,
    now: o.now,
  });
}
