/**
 * Amazon Security Lake's CloudTrail tables (AWS source version 2, OCSF 1.1.0 API Activity), as
 * data, the way `athena-tables.ts` holds the CloudTrail tables: the names, the column tree of
 * the Glue table (every leaf the mapping of `src/trail/ocsf-api-activity.ts` reads), the leaves
 * a query selects, and how a result row is rebuilt into the nested OCSF event.
 *
 * - Names: database `amazon_security_lake_glue_db_<region, '-' as '_'>`, tables
 *   `amazon_security_lake_table_<region>_cloud_trail_mgmt_2_0`, `…_s3_data_2_0`,
 *   `…_lambda_execution_2_0` (Security Lake user guide, "Security Lake queries for AWS source
 *   version 2 tables (OCSF 1.1.0)", https://docs.aws.amazon.com/security-lake/latest/userguide/).
 *   Source version 1 tables end in `_1_0` (OCSF 1.0.0-rc.2) and are refused.
 * - Partitions: `region`, `accountid`, `eventday` (`yyyyMMdd`); in S3 the folders are
 *   `region=<region>/accountId=<account>/eventDay=<yyyyMMdd>/` (Glue folds the keys to lower case).
 * - Types: `time` is `bigint` epoch milliseconds and `time_dt` a `timestamp`; the ids (`class_uid`,
 *   `activity_id`, …) `int`, `type_uid` `bigint`; `api.request.data` and `api.response.data` JSON
 *   text (`string`), as the guide's queries read them with `json_extract_scalar`; `unmapped`
 *   a `map<string,string>`.
 */
import { nestRow } from './athena-tables';
import { VERSION_1_REFUSAL } from '../trail/ocsf-api-activity';

/** A column of the Glue table: a Hive scalar, a struct, an array of structs or strings, or a map of strings. */
export type OcsfColumn =
  | { name: string; type: 'string' | 'bigint' | 'int' | 'boolean' | 'timestamp' }
  | { name: string; type: 'struct'; fields: OcsfColumn[] }
  | { name: string; type: 'array'; of: OcsfColumn[] | 'string' }
  | { name: string; type: 'map' };

const s = (name: string): OcsfColumn => ({ name, type: 'string' });
const big = (name: string): OcsfColumn => ({ name, type: 'bigint' });
const int = (name: string): OcsfColumn => ({ name, type: 'int' });
const bool = (name: string): OcsfColumn => ({ name, type: 'boolean' });
const ts = (name: string): OcsfColumn => ({ name, type: 'timestamp' });
const struct = (name: string, fields: OcsfColumn[]): OcsfColumn => ({ name, type: 'struct', fields });

/** The CloudTrail sources Security Lake keeps, by the suffix of their version 2 table. */
export const SECURITY_LAKE_CLOUDTRAIL_SOURCES = ['cloud_trail_mgmt', 's3_data', 'lambda_execution'] as const;
export type SecurityLakeCloudTrailSource = (typeof SECURITY_LAKE_CLOUDTRAIL_SOURCES)[number];

/** The Glue database of a Region: `amazon_security_lake_glue_db_us_east_1`. */
export function securityLakeDatabase(region: string): string {
  return `amazon_security_lake_glue_db_${region.replace(/-/g, '_')}`;
}

/** A source version 2 table: `amazon_security_lake_table_us_east_1_cloud_trail_mgmt_2_0`. */
export function securityLakeTable(region: string, source: SecurityLakeCloudTrailSource = 'cloud_trail_mgmt'): string {
  return `amazon_security_lake_table_${region.replace(/-/g, '_')}_${source}_2_0`;
}

/** The source version 1 name of the same table (`…_cloud_trail_mgmt_1_0`), which is refused. */
export function securityLakeTableV1(region: string, source: SecurityLakeCloudTrailSource = 'cloud_trail_mgmt'): string {
  return `amazon_security_lake_table_${region.replace(/-/g, '_')}_${source}_1_0`;
}

const TABLE_NAME = /^amazon_security_lake_table_([a-z0-9_]+?)_(cloud_trail_mgmt|s3_data|lambda_execution)_(\d+)_(\d+)$/;

/**
 * Checks a table name: null when it is a source version 2 CloudTrail table or a name of the
 * subscriber's own (a Lake Formation resource link, which may be named anything), else one line
 * saying why it is not read (a version 1 table: {@link VERSION_1_REFUSAL}; an unknown version).
 */
export function securityLakeTableProblem(table: string): string | null {
  const m = TABLE_NAME.exec(table.toLowerCase().replace(/^.*\./, '').replace(/"/g, ''));
  // A resource link's own name: its target's version is not in it, so it is read as version 2.
  if (!m) return /^amazon_security_lake_table_/.test(table.toLowerCase().replace(/^.*\./, '').replace(/"/g, '')) ? `${table}: not a Security Lake CloudTrail table (amazon_security_lake_table_<region>_cloud_trail_mgmt_2_0, _s3_data_2_0, _lambda_execution_2_0)` : null;
  if (m[3] === '1') return `${table}: ${VERSION_1_REFUSAL}`;
  if (m[3] !== '2' || m[4] !== '0') return `${table}: source version ${m[3]}.${m[4]} is not known; the source version 2 tables (\`…_2_0\`) are read`;
  return null;
}

/** The columns of a source version 2 CloudTrail table (OCSF 1.1.0 API Activity), partitions apart. */
export const SECURITY_LAKE_COLUMNS: readonly OcsfColumn[] = [
  struct('metadata', [
    struct('product', [s('version'), s('name'), s('vendor_name'), struct('feature', [s('name')])]),
    s('uid'),
    { name: 'profiles', type: 'array', of: 'string' },
    s('version'),
    s('event_code'),
  ]),
  big('time'),
  ts('time_dt'),
  struct('cloud', [s('region'), s('provider'), struct('account', [s('uid')])]),
  struct('api', [
    struct('response', [s('error'), s('message'), s('data')]),
    s('operation'),
    s('version'),
    struct('service', [s('name')]),
    struct('request', [s('data'), s('uid')]),
  ]),
  { name: 'resources', type: 'array', of: [s('uid'), struct('owner', [struct('account', [s('uid')])]), s('type')] },
  struct('actor', [
    struct('user', [s('type'), int('type_id'), s('uid'), s('uid_alt'), s('name'), struct('account', [s('uid')]), s('credential_uid')]),
    struct('session', [big('created_time'), ts('created_time_dt'), bool('is_mfa'), s('issuer')]),
    s('invoked_by'),
    struct('idp', [s('name'), s('uid')]),
  ]),
  struct('http_request', [s('user_agent')]),
  struct('src_endpoint', [s('uid'), s('ip'), s('domain'), s('name')]),
  s('class_name'),
  int('class_uid'),
  s('category_name'),
  int('category_uid'),
  int('severity_id'),
  s('severity'),
  s('activity_name'),
  int('activity_id'),
  big('type_uid'),
  s('type_name'),
  s('status'),
  int('status_id'),
  { name: 'unmapped', type: 'map' },
];

/** The partition keys, as Glue names them (S3 folders: `region=`, `accountId=`, `eventDay=`). */
export const SECURITY_LAKE_PARTITIONS = ['region', 'accountid', 'eventday'] as const;

/** The Hive type of a column, as Glue writes it: `struct<region:string,…>`. */
export function ocsfHiveType(c: OcsfColumn): string {
  switch (c.type) {
    case 'struct':
      return `struct<${c.fields.map((f) => `${f.name}:${ocsfHiveType(f)}`).join(',')}>`;
    case 'array':
      return c.of === 'string' ? 'array<string>' : `array<struct<${c.of.map((f) => `${f.name}:${ocsfHiveType(f)}`).join(',')}>>`;
    case 'map':
      return 'map<string,string>';
    default:
      return c.type;
  }
}

/** A leaf a query selects: its dotted path, its alias (`actor__user__uid`), its type, and whether it is selected as JSON text. */
export interface OcsfLeaf {
  path: string;
  alias: string;
  type: OcsfColumn['type'];
  json: boolean;
}

/**
 * The leaves a query selects, struct leaves by dotted path with `__` aliases
 * (`actor.user.credential_uid AS actor__user__credential_uid`); arrays and maps whole as JSON text
 * (`json_format(CAST(resources AS JSON)) AS resources`, see {@link leafSql}).
 */
export function securityLakeLeaves(columns: readonly OcsfColumn[] = SECURITY_LAKE_COLUMNS): OcsfLeaf[] {
  const out: OcsfLeaf[] = [];
  const walk = (cs: readonly OcsfColumn[], prefix: string[]) => {
    for (const c of cs) {
      const p = [...prefix, c.name];
      if (c.type === 'struct') walk(c.fields, p);
      else out.push({ path: p.join('.'), alias: p.join('__'), type: c.type, json: c.type === 'array' || c.type === 'map' });
    }
  };
  walk(columns, []);
  return out;
}

/** The SELECT item of a leaf in Athena (Trino) SQL (of the Security Lake and the CloudTrail tables alike). */
export function leafSql(leaf: Pick<OcsfLeaf, 'path' | 'alias' | 'json'>): string {
  return leaf.json ? `json_format(CAST(${leaf.path} AS JSON)) AS ${leaf.alias}` : `${leaf.path} AS ${leaf.alias}`;
}

/** The leaves of {@link SECURITY_LAKE_COLUMNS}, walked once (every result row is rebuilt from them). */
const SECURITY_LAKE_LEAVES = securityLakeLeaves();

/**
 * The nested OCSF event from a result row of the {@link securityLakeLeaves}: nulls and empty
 * text left out, `bigint`/`int` leaves as numbers (`time` stays epoch milliseconds), `boolean`
 * leaves as booleans, arrays and maps parsed from their JSON text; `timestamp` leaves as the
 * text Athena gives. `cloudTrailRecordFromOcsf` of the result is the CloudTrail record.
 * @param row alias → value (Athena's `VarCharValue`; undefined for SQL NULL)
 */
export function ocsfFromRow(row: Readonly<Record<string, string | undefined>>): Record<string, unknown> {
  return nestRow(row, SECURITY_LAKE_LEAVES, (leaf, value, text) => {
    if (leaf.json) return value;
    if (leaf.type === 'bigint' || leaf.type === 'int') {
      const n = Number(text);
      return Number.isFinite(n) ? n : undefined;
    }
    if (leaf.type === 'boolean') return text === 'true' ? true : text === 'false' ? false : undefined;
    return value;
  });
}
