/**
 * Credential and principal issuance read from CloudTrail records: the edges of the identity
 * lineage (`shared/design/storyline-contract.md`, "Identity lineage").
 *
 * Request and response shapes follow the STS, IAM, sign-in, IAM Identity Center and EC2
 * CloudTrail references:
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/cloudtrail-integration.html,
 * https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-aws-console-sign-in-events.html,
 * https://docs.aws.amazon.com/singlesignon/latest/userguide/sso-info-in-cloudtrail.html.
 */
import { principalKeyFromArn } from '../identity/principal';
import type { TrailEvent } from '../trail/event';

/** Event names that issue credentials or create principals; the reader always parses these. */
export const ISSUING_EVENT_NAMES: ReadonlySet<string> = new Set([
  'AssumeRole',
  'AssumeRoleWithSAML',
  'AssumeRoleWithWebIdentity',
  'GetSessionToken',
  'GetFederationToken',
  'CreateAccessKey',
  'CreateUser',
  'CreateLoginProfile',
  'UpdateLoginProfile',
  'ConsoleLogin',
  'GetSigninToken',
  'GetRoleCredentials',
  'RunInstances',
  'AssociateIamInstanceProfile',
  'ReplaceIamInstanceProfileAssociation',
  'CreateFunction20150331',
  'UpdateFunctionCode20150331v2',
  'UpdateFunctionConfiguration20150331v2',
  'CreateRole',
  'UpdateAssumeRolePolicy',
]);

/** One issuance read from a record. */
export interface Issuance {
  event: TrailEvent;
  via: string;
  /** Access key minted (`credentials.accessKeyId`, `accessKey.accessKeyId`), or null. */
  mintedKey: string | null;
  /** Principal key of what was issued or created (see `Principal.key`). */
  mintedPrincipal: string | null;
  /** ARN of the issued session or created user, when the record gives it. */
  mintedArn: string | null;
  /** For ConsoleLogin: a console session of the identity starts at the event time. */
  consoleSession: boolean;
  /**
   * Compute that will act with a role: the role session names it will use (EC2 instance ids,
   * Lambda function names), from RunInstances, profile associations and Lambda function
   * creation or updates.
   */
  computeSessions: string[];
  /** Instance profile name or ARN, or the Lambda execution role ARN, when the record gives it. */
  instanceProfile: string | null;
  /** CreateRole / UpdateAssumeRolePolicy: the role whose trust policy this event set. */
  trustSetFor: string | null;
}

function o(v: unknown): Record<string, unknown> | null {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
}
function s(v: unknown): string | null {
  return typeof v === 'string' && v.length > 0 ? v : null;
}

/** Reads the issuance in a record, or null when the record issues nothing (or failed). */
export function readIssuance(ev: TrailEvent): Issuance | null {
  if (!ISSUING_EVENT_NAMES.has(ev.eventName)) return null;
  const req = ev.requestParameters;
  const resp = ev.responseElements;
  const base: Issuance = {
    event: ev,
    via: ev.eventName,
    mintedKey: null,
    mintedPrincipal: null,
    mintedArn: null,
    consoleSession: false,
    computeSessions: [],
    instanceProfile: null,
    trustSetFor: null,
  };
  const acct = ev.accountId || ev.identity.accountId || '';
  switch (ev.eventName) {
    case 'AssumeRole':
    case 'AssumeRoleWithSAML':
    case 'AssumeRoleWithWebIdentity': {
      const creds = o(resp?.credentials);
      const aru = o(resp?.assumedRoleUser);
      base.mintedKey = s(creds?.accessKeyId);
      base.mintedArn = s(aru?.arn);
      base.mintedPrincipal = principalKeyFromArn(base.mintedArn) ?? principalKeyFromArn(s(req?.roleArn));
      if (!base.mintedKey && !base.mintedArn) return null;
      return base;
    }
    case 'GetSessionToken': {
      base.mintedKey = s(o(resp?.credentials)?.accessKeyId);
      base.mintedArn = ev.identity.arn;
      base.mintedPrincipal = ev.identity.key;
      return base.mintedKey ? base : null;
    }
    case 'GetFederationToken': {
      base.mintedKey = s(o(resp?.credentials)?.accessKeyId);
      base.mintedArn = s(o(resp?.federatedUser)?.arn);
      base.mintedPrincipal = principalKeyFromArn(base.mintedArn);
      return base.mintedKey ? base : null;
    }
    case 'CreateAccessKey': {
      const ak = o(resp?.accessKey);
      base.mintedKey = s(ak?.accessKeyId);
      const user = s(ak?.userName) ?? s(req?.userName) ?? ev.identity.userName;
      base.mintedPrincipal = user && acct ? `user:${acct}:${user}` : null;
      base.mintedArn = user && acct ? `arn:${partitionOf(ev)}:iam::${acct}:user/${user}` : null;
      return base.mintedKey ? base : null;
    }
    case 'CreateUser':
    case 'CreateLoginProfile':
    case 'UpdateLoginProfile': {
      if (ev.errorCode) return null;
      const user = s(o(resp?.user)?.userName) ?? s(req?.userName) ?? (ev.eventName !== 'CreateUser' ? ev.identity.userName : null);
      if (!user || !acct) return null;
      base.mintedPrincipal = `user:${acct}:${user}`;
      base.mintedArn = s(o(resp?.user)?.arn) ?? `arn:${partitionOf(ev)}:iam::${acct}:user/${user}`;
      return base;
    }
    case 'ConsoleLogin': {
      const result = s(resp?.ConsoleLogin);
      if (result !== 'Success' || ev.errorCode) return null;
      base.consoleSession = true;
      base.mintedPrincipal = ev.identity.key;
      base.mintedArn = ev.identity.arn;
      return base;
    }
    case 'GetSigninToken': {
      // Console federation: the caller's temporary key is exchanged for a sign-in token, and the
      // console session that follows has keys of its own (matched by their creationDate).
      if (ev.errorCode) return null;
      base.consoleSession = true;
      base.mintedPrincipal = ev.identity.key;
      base.mintedArn = ev.identity.arn;
      return base;
    }
    case 'GetRoleCredentials': {
      const d = ev.serviceEventDetails;
      const role = s(d?.role_name) ?? s(req?.roleName);
      const account = s(d?.account_id) ?? s(req?.accountId);
      if (!role || !account) return null;
      base.mintedPrincipal = `role:${account}:${role}`;
      return base;
    }
    case 'RunInstances':
    case 'AssociateIamInstanceProfile':
    case 'ReplaceIamInstanceProfileAssociation': {
      if (ev.errorCode) return null;
      const items = o(o(resp?.instancesSet))?.items;
      const ids: string[] = [];
      let profile: string | null = null;
      if (Array.isArray(items)) {
        for (const it of items) {
          const id = s(o(it)?.instanceId);
          if (id) ids.push(id);
          profile = profile ?? s(o(o(it)?.iamInstanceProfile)?.arn);
        }
      }
      const assoc = o(resp?.iamInstanceProfileAssociation) ?? o(o(resp?.AssociateIamInstanceProfileResponse)?.iamInstanceProfileAssociation);
      const assocId = s(assoc?.instanceId) ?? s(req?.instanceId);
      if (assocId) ids.push(assocId);
      const reqProfile = o(req?.iamInstanceProfile);
      profile = profile ?? s(o(assoc?.iamInstanceProfile)?.arn) ?? s(reqProfile?.arn) ?? s(reqProfile?.name);
      if (ids.length === 0 || !profile) return null;
      base.computeSessions = ids;
      base.instanceProfile = profile;
      // The role is often named like its instance profile: a token to find its sessions by.
      const profileName = profile.split('/').pop();
      if (profileName && acct) base.mintedPrincipal = `role:${acct}:${profileName}`;
      return base;
    }
    case 'CreateFunction20150331':
    case 'UpdateFunctionCode20150331v2':
    case 'UpdateFunctionConfiguration20150331v2': {
      if (ev.errorCode) return null;
      const fn = s(req?.functionName) ?? s(resp?.functionName);
      if (!fn) return null;
      const name = fn.includes(':function:') ? (fn.split(':function:')[1] ?? fn).split(':')[0] ?? fn : fn;
      base.computeSessions = [name];
      const role = s(req?.role) ?? s(resp?.role);
      base.instanceProfile = role;
      base.mintedPrincipal = principalKeyFromArn(role);
      return base;
    }
    case 'CreateRole':
    case 'UpdateAssumeRolePolicy': {
      if (ev.errorCode) return null;
      const role = s(req?.roleName);
      if (!role || !acct) return null;
      base.trustSetFor = `role:${acct}:${role}`;
      base.mintedPrincipal = base.trustSetFor;
      return base;
    }
  }
  return null;
}

function partitionOf(ev: TrailEvent): string {
  const a = ev.identity.arn;
  if (a && a.startsWith('arn:')) return a.split(':')[1] ?? 'aws';
  return 'aws';
}
