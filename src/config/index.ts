/**
 * The only reader of `process.env`: the functions' configuration, read once at cold start,
 * validated and frozen. A missing or bad value fails loudly, naming the variable.
 */

export interface Config {
  /** SQS queue the intake feeds and the worker re-queues to (`ENRICH_QUEUE_URL`). */
  enrichQueueUrl: string;
  /** Dead-letter queue for findings that cannot be enriched (`ENRICH_DLQ_URL`). */
  enrichDlqUrl: string | null;
  /** GuardDuty severity below which findings are not enriched (`MIN_SEVERITY`, 0-10, default 4). */
  minSeverity: number;
  /** DynamoDB table of the idempotency records (`IDEMPOTENCY_TABLE`). */
  idempotencyTable: string | null;
  /** Regions looked up besides the finding's own and us-east-1 (`LOOKUP_EXTRA_REGIONS`, comma separated). */
  lookupExtraRegions: string[];
  /** Delay before a finding seen too early is enriched again (`REENRICH_DELAY_SECONDS`, 0-900, default 900). */
  reenrichDelaySeconds: number;
  /** Receives after which a failing message goes to the DLQ with its reason (`MAX_RECEIVES`, default 3). */
  maxReceives: number;
  /** Days of GuardDuty findings the backfill pages through (`BACKFILL_DAYS`, default 7). */
  backfillDays: number;
  /** An endpoint for every AWS client (`AWS_ENDPOINT_URL`): the local emulator in tests and demos. */
  endpoint: string | null;
  /** The stack's private bucket for the HTML reports (`REPORT_BUCKET`); no report when unset. */
  reportBucket: string | null;
  /** Ask Amazon Detective for an investigation of the actor (`USE_DETECTIVE`, `true`/`false`, default true). */
  useDetective: boolean;
  /** The account the functions run in (`OWN_ACCOUNT_ID`); findings of other accounts go through their member role. */
  ownAccountId: string | null;
  /** The role deployed in every member account (`MEMBER_ROLE_NAME`, default `TrailstoryMemberRole`). */
  memberRoleName: string;
  /** The ExternalId the member role's trust policy requires (`MEMBER_EXTERNAL_ID`). */
  memberExternalId: string | null;
  /** Regions the scheduled org-status checks (`ORG_STATUS_REGIONS`, comma separated; empty: the function's own). */
  orgStatusRegions: string[];
  /**
   * Which Security Hub the storyline is written to (`SECURITY_HUB_TARGET`): `cspm` (Security Hub
   * CSPM, ASFF: BatchUpdateFindings and the companion finding), `new` (the new OCSF Security Hub:
   * BatchUpdateFindingsV2), or `both`. Default `cspm`.
   */
  securityHubTarget: SecurityHubTarget;
  /** In the new Security Hub, also set the finding's `SeverityId` from the storyline (`SECURITY_HUB_V2_SET_SEVERITY`, `true`/`false`, default false). */
  v2SetSeverity: boolean;
  /** In the new Security Hub, also move a `New` finding with a storyline to `In Progress` (`SECURITY_HUB_V2_SET_STATUS`, `true`/`false`, default false). */
  v2SetStatus: boolean;
}

/** The Security Hub products a deployment writes to (`SECURITY_HUB_TARGET`). */
export const SECURITY_HUB_TARGETS = ['cspm', 'new', 'both'] as const;
export type SecurityHubTarget = (typeof SECURITY_HUB_TARGETS)[number];

export class ConfigError extends Error {}

function num(env: NodeJS.ProcessEnv, name: string, dflt: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return dflt;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min || n > max) throw new ConfigError(`${name}=${JSON.stringify(raw)}: expected a number from ${min} to ${max}`);
  return n;
}

function oneOf<T extends string>(env: NodeJS.ProcessEnv, name: string, allowed: readonly T[], dflt: T): T {
  const raw = env[name];
  if (raw === undefined || raw === '') return dflt;
  if (!(allowed as readonly string[]).includes(raw)) throw new ConfigError(`${name}=${JSON.stringify(raw)}: expected one of ${allowed.join(', ')}`);
  return raw as T;
}

function flag(env: NodeJS.ProcessEnv, name: string, dflt: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return dflt;
  if (raw !== 'true' && raw !== 'false') throw new ConfigError(`${name}=${JSON.stringify(raw)}: expected true or false`);
  return raw === 'true';
}

/** A region name (`eu-west-1`, `us-gov-west-1`, `ap-southeast-7`). */
export const REGION_NAME = /^[a-z]{2}(-[a-z]+)+-\d$/;

/**
 * A comma-separated list of region names, blanks and repeats dropped. `what` names the source
 * (a variable, a command-line option) in the error.
 * @throws ConfigError naming `what` and the first value that is not a region name.
 */
export function parseRegionList(raw: string | undefined, what: string): string[] {
  const list = [...new Set((raw ?? '').split(',').map((r) => r.trim()).filter(Boolean))];
  const bad = list.find((r) => !REGION_NAME.test(r));
  if (bad !== undefined) throw new ConfigError(`${what}: ${JSON.stringify(bad)} is not a region name (e.g. eu-west-1)`);
  return list;
}

/**
 * Reads the configuration. `needs` names the variables this function cannot run without.
 * @throws ConfigError naming the variable that is missing or out of range.
 */
export function readConfig(needs: ('ENRICH_QUEUE_URL' | 'IDEMPOTENCY_TABLE' | 'ENRICH_DLQ_URL')[] = [], env: NodeJS.ProcessEnv = process.env): Readonly<Config> {
  for (const n of needs) if (!env[n]) throw new ConfigError(`${n} is not set`);
  return Object.freeze({
    enrichQueueUrl: env.ENRICH_QUEUE_URL ?? '',
    enrichDlqUrl: env.ENRICH_DLQ_URL || null,
    minSeverity: num(env, 'MIN_SEVERITY', 4, 0, 10),
    idempotencyTable: env.IDEMPOTENCY_TABLE || null,
    lookupExtraRegions: parseRegionList(env.LOOKUP_EXTRA_REGIONS, 'LOOKUP_EXTRA_REGIONS'),
    reenrichDelaySeconds: num(env, 'REENRICH_DELAY_SECONDS', 900, 0, 900),
    maxReceives: num(env, 'MAX_RECEIVES', 3, 1, 100),
    backfillDays: num(env, 'BACKFILL_DAYS', 7, 1, 90),
    endpoint: env.AWS_ENDPOINT_URL || null,
    reportBucket: env.REPORT_BUCKET || null,
    useDetective: (env.USE_DETECTIVE ?? 'true').toLowerCase() !== 'false',
    ownAccountId: env.OWN_ACCOUNT_ID || null,
    memberRoleName: env.MEMBER_ROLE_NAME || 'TrailstoryMemberRole',
    memberExternalId: env.MEMBER_EXTERNAL_ID || null,
    orgStatusRegions: parseRegionList(env.ORG_STATUS_REGIONS, 'ORG_STATUS_REGIONS'),
    securityHubTarget: oneOf(env, 'SECURITY_HUB_TARGET', SECURITY_HUB_TARGETS, 'cspm'),
    v2SetSeverity: flag(env, 'SECURITY_HUB_V2_SET_SEVERITY', false),
    v2SetStatus: flag(env, 'SECURITY_HUB_V2_SET_STATUS', false),
  });
}
