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
  /**
   * Where CloudTrail is read from (`TRAIL_SOURCE`): `lookup-events` (CloudTrail event history,
   * LookupEvents), `athena` (the organisation trail's S3 bucket through Amazon Athena), or
   * `security-lake` (Amazon Security Lake's CloudTrail table, through Athena). Default `lookup-events`.
   */
  trailSource: TrailSource;
  /**
   * The Athena tables of the organisation trail when `trailSource` is `athena`, else null
   * (`ATHENA_WORKGROUP`, `ATHENA_DATABASE`, `ATHENA_TABLE`, `ATHENA_PARQUET_TABLE`): the workgroup
   * queries run in, the Glue database, the raw table, and the Parquet table (null when the stack's
   * ParquetLayout is off). The workgroup, database and table are required with `athena`.
   */
  athena: AthenaTables | null;
  /** Regions the organisation trail's tables cover (`TRAIL_REGIONS`, comma separated; required with `athena`). */
  trailRegions: string[];
  /** Days before the finding a query reads (`LOOKBACK_DAYS`, 1-400, default 30). */
  lookbackDays: number;
  /** Bytes the Athena queries of one finding may scan in all (`FINDING_BYTES_BUDGET`, at least 10 MB, default 10 GiB). */
  findingBytesBudget: number;
  /**
   * Amazon Security Lake's CloudTrail table when `trailSource` is `security-lake`, else null
   * (`SECURITY_LAKE_DATABASE`, `SECURITY_LAKE_TABLE`, `SECURITY_LAKE_REGION`, and the workgroup,
   * `ATHENA_WORKGROUP`): the database (the subscriber's resource link), the CloudTrail tables (comma separated: management, S3 data, Lambda data events), the
   * Security Lake region, and the workgroup queries run in. All required with `security-lake`.
   */
  securityLake: SecurityLakeTable | null;
  /**
   * Accounts the Athena and Security Lake sources always read (`TRAIL_ACCOUNTS`, comma-separated
   * 12-digit ids): the organisation's management account and Identity Center's delegated
   * administrator, where Identity Center's sign-in and portal records are logged.
   */
  trailAccounts: string[];
  /** The workgroup of the Parquet layout job's INSERTs (`ATHENA_LAYOUT_WORKGROUP`; no per-query cutoff: an INSERT reads whole delivery days). */
  layoutWorkgroup: string | null;
  /** Where the Parquet table's files are (`ATHENA_PARQUET_LOCATION`, `s3://bucket/prefix/`): the layout job clears a partition there before writing it again. */
  parquetLocation: string | null;
  /** INSERT statements the layout job runs at once (`LAYOUT_CONCURRENCY`, 1-50, default 8). */
  layoutConcurrency: number;
}

/** The CloudTrail sources (`TRAIL_SOURCE`). */
export const TRAIL_SOURCES = ['lookup-events', 'athena', 'security-lake'] as const;
export type TrailSource = (typeof TRAIL_SOURCES)[number];

/** The organisation trail's Athena tables ({@link Config.athena}). */
export interface AthenaTables {
  workgroup: string;
  database: string;
  /** The raw table: gzip JSON as CloudTrail delivers it (`cloudtrail`). */
  table: string;
  /** The Parquet copy (`cloudtrail_parquet`), or null without the Parquet layout. */
  parquetTable: string | null;
}

/** Security Lake's CloudTrail table as its subscriber sees it ({@link Config.securityLake}). */
export interface SecurityLakeTable {
  database: string;
  /** The CloudTrail tables read, one query for all (management, S3 data, Lambda data events). */
  tables: string[];
  region: string;
  workgroup: string;
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

function required(env: NodeJS.ProcessEnv, name: string, why: string): string {
  const raw = env[name];
  if (raw === undefined || raw === '') throw new ConfigError(`${name} is not set (required ${why})`);
  return raw;
}

/** A Glue database or table name as Athena reads it: letters, digits, underscores (a resource link's too). */
const GLUE_NAME = /^[A-Za-z0-9_]{1,255}$/;

function glueName(env: NodeJS.ProcessEnv, name: string, why: string): string {
  const raw = required(env, name, why);
  if (!GLUE_NAME.test(raw)) throw new ConfigError(`${name}=${JSON.stringify(raw)}: expected a Glue name (letters, digits, underscores)`);
  return raw;
}

/** A comma-separated list of Glue names, each checked as {@link glueName} checks one. */
function glueNames(env: NodeJS.ProcessEnv, name: string, why: string): string[] {
  const raw = required(env, name, why);
  return [...new Set(raw.split(',').map((v) => v.trim()).filter(Boolean))].map((v) => glueName({ [name]: v }, name, why));
}

function s3Location(env: NodeJS.ProcessEnv, name: string): string | null {
  const raw = env[name];
  if (raw === undefined || raw === '') return null;
  if (!/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\/([^\s]*\/)?$/.test(raw)) throw new ConfigError(`${name}=${JSON.stringify(raw)}: expected s3://bucket/prefix/ (ending in /)`);
  return raw;
}

/** A region name (`eu-west-1`, `us-gov-west-1`, `ap-southeast-7`). */
export const REGION_NAME = /^[a-z]{2}(-[a-z]+)+-\d$/;

/**
 * A comma-separated list of region names, blanks and repeats dropped. `what` names the source
 * (a variable, a command-line option) in the error.
 * @throws ConfigError naming `what` and the first value that is not a region name.
 */
/** A comma-separated list of 12-digit account ids. @throws ConfigError naming the variable and the bad entry */
export function accountList(raw: string | undefined, what: string): string[] {
  const list = [...new Set((raw ?? '').split(',').map((a) => a.trim()).filter(Boolean))];
  const bad = list.find((a) => !/^\d{12}$/.test(a));
  if (bad !== undefined) throw new ConfigError(`${what}: ${JSON.stringify(bad)} is not a 12-digit account id`);
  return list;
}

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
export function readConfig(
  needs: ('ENRICH_QUEUE_URL' | 'IDEMPOTENCY_TABLE' | 'ENRICH_DLQ_URL' | 'ATHENA_LAYOUT_WORKGROUP' | 'ATHENA_PARQUET_TABLE')[] = [],
  env: NodeJS.ProcessEnv = process.env,
): Readonly<Config> {
  for (const n of needs) if (!env[n]) throw new ConfigError(`${n} is not set`);
  const trailSource = oneOf(env, 'TRAIL_SOURCE', TRAIL_SOURCES, 'lookup-events');
  const trailRegions = parseRegionList(env.TRAIL_REGIONS, 'TRAIL_REGIONS');
  let athena: AthenaTables | null = null;
  if (trailSource === 'athena') {
    const why = 'with TRAIL_SOURCE=athena';
    athena = {
      workgroup: required(env, 'ATHENA_WORKGROUP', why),
      database: glueName(env, 'ATHENA_DATABASE', why),
      table: glueName(env, 'ATHENA_TABLE', why),
      parquetTable: env.ATHENA_PARQUET_TABLE ? glueName(env, 'ATHENA_PARQUET_TABLE', why) : null,
    };
    if (trailRegions.length === 0) throw new ConfigError('TRAIL_REGIONS is not set (required with TRAIL_SOURCE=athena: the regions the trail table covers)');
  }
  let securityLake: SecurityLakeTable | null = null;
  if (trailSource === 'security-lake') {
    const why = 'with TRAIL_SOURCE=security-lake';
    const region = required(env, 'SECURITY_LAKE_REGION', why);
    if (!REGION_NAME.test(region)) throw new ConfigError(`SECURITY_LAKE_REGION=${JSON.stringify(region)}: expected a region name (e.g. eu-west-1)`);
    securityLake = {
      database: glueName(env, 'SECURITY_LAKE_DATABASE', why),
      tables: glueNames(env, 'SECURITY_LAKE_TABLE', why),
      region,
      workgroup: required(env, 'ATHENA_WORKGROUP', why),
    };
  }
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
    trailSource,
    athena: athena && Object.freeze(athena),
    trailRegions,
    lookbackDays: num(env, 'LOOKBACK_DAYS', 30, 1, 400),
    trailAccounts: accountList(env.TRAIL_ACCOUNTS, 'TRAIL_ACCOUNTS'),
    findingBytesBudget: num(env, 'FINDING_BYTES_BUDGET', 10 * 1024 ** 3, 10 * 1024 ** 2, Number.MAX_SAFE_INTEGER),
    securityLake: securityLake && Object.freeze(securityLake),
    layoutWorkgroup: env.ATHENA_LAYOUT_WORKGROUP || null,
    parquetLocation: s3Location(env, 'ATHENA_PARQUET_LOCATION'),
    layoutConcurrency: num(env, 'LAYOUT_CONCURRENCY', 8, 1, 50),
  });
}
