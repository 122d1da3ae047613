/**
 * src/config's CloudTrail source fields: TRAIL_SOURCE, the Athena tables, the trail's regions,
 * the lookback, the per-finding byte budget, Security Lake's table, the layout's settings. A bad
 * value fails loudly, naming its variable.
 */
import { ConfigError, readConfig } from '../../src/config';

const ATHENA = { TRAIL_SOURCE: 'athena', ATHENA_WORKGROUP: 'trailstory', ATHENA_DATABASE: 'trail_db', ATHENA_TABLE: 'cloudtrail', ATHENA_PARQUET_TABLE: 'cloudtrail_parquet', TRAIL_REGIONS: 'us-east-1, eu-west-1' };
const LAKE = { TRAIL_SOURCE: 'security-lake', ATHENA_WORKGROUP: 'trailstory', SECURITY_LAKE_DATABASE: 'amazon_security_lake_glue_db_eu_west_1', SECURITY_LAKE_TABLE: 'amazon_security_lake_table_eu_west_1_cloud_trail_mgmt_2_0', SECURITY_LAKE_REGION: 'eu-west-1' };

const fails = (env: NodeJS.ProcessEnv, variable: string) => {
  expect(() => readConfig([], env)).toThrow(ConfigError);
  expect(() => readConfig([], env)).toThrow(variable);
};

test('defaults: LookupEvents, no Athena, no Security Lake, 30 days, 10 GiB', () => {
  const c = readConfig([], {});
  expect(c).toMatchObject({ trailSource: 'lookup-events', athena: null, securityLake: null, trailRegions: [], lookbackDays: 30, findingBytesBudget: 10737418240, layoutWorkgroup: null, parquetLocation: null, layoutConcurrency: 8 });
});

test('trailSource: one of the three', () => {
  expect(readConfig([], ATHENA).trailSource).toBe('athena');
  expect(readConfig([], LAKE).trailSource).toBe('security-lake');
  fails({ TRAIL_SOURCE: 'cloudtrail-lake' }, 'TRAIL_SOURCE');
});

test('athena: the workgroup, database, raw table and Parquet table (null without the layout)', () => {
  expect(readConfig([], ATHENA).athena).toEqual({ workgroup: 'trailstory', database: 'trail_db', table: 'cloudtrail', parquetTable: 'cloudtrail_parquet' });
  expect(readConfig([], { ...ATHENA, ATHENA_PARQUET_TABLE: '' }).athena?.parquetTable).toBeNull();
  for (const v of ['ATHENA_WORKGROUP', 'ATHENA_DATABASE', 'ATHENA_TABLE']) fails({ ...ATHENA, [v]: '' }, v);
  fails({ ...ATHENA, ATHENA_DATABASE: 'trail-db' }, 'ATHENA_DATABASE');
  fails({ ...ATHENA, ATHENA_PARQUET_TABLE: 'x; DROP' }, 'ATHENA_PARQUET_TABLE');
  // Not read without the athena source.
  expect(readConfig([], { ...ATHENA, TRAIL_SOURCE: 'lookup-events' }).athena).toBeNull();
});

test('trailRegions: region names, required with athena', () => {
  expect(readConfig([], ATHENA).trailRegions).toEqual(['us-east-1', 'eu-west-1']);
  fails({ ...ATHENA, TRAIL_REGIONS: '' }, 'TRAIL_REGIONS');
  fails({ ...ATHENA, TRAIL_REGIONS: 'us-east-1,mars' }, 'TRAIL_REGIONS');
});

test('lookbackDays: 1 to 400', () => {
  expect(readConfig([], { LOOKBACK_DAYS: '90' }).lookbackDays).toBe(90);
  for (const v of ['0', '401', 'many']) fails({ LOOKBACK_DAYS: v }, 'LOOKBACK_DAYS');
});

test('findingBytesBudget: at least 10 MB (Athena bills 10 MB a query at the least)', () => {
  expect(readConfig([], { FINDING_BYTES_BUDGET: '1099511627776' }).findingBytesBudget).toBe(1099511627776);
  for (const v of ['1000', '-1', 'ten']) fails({ FINDING_BYTES_BUDGET: v }, 'FINDING_BYTES_BUDGET');
});

test('securityLake: database, table, region and workgroup, all required with security-lake', () => {
  expect(readConfig([], LAKE).securityLake).toEqual({ database: LAKE.SECURITY_LAKE_DATABASE, tables: [LAKE.SECURITY_LAKE_TABLE], region: 'eu-west-1', workgroup: 'trailstory' });
  // The management, S3 data and Lambda data tables, one query for all.
  const three = 'amazon_security_lake_table_eu_west_1_cloud_trail_mgmt_2_0, amazon_security_lake_table_eu_west_1_s3_data_2_0,amazon_security_lake_table_eu_west_1_lambda_execution_2_0';
  expect(readConfig([], { ...LAKE, SECURITY_LAKE_TABLE: three }).securityLake?.tables).toEqual(three.split(',').map((t) => t.trim()));
  expect(() => readConfig([], { ...LAKE, SECURITY_LAKE_TABLE: 'a,b;c' })).toThrow(/SECURITY_LAKE_TABLE="b;c": expected a Glue name/);
  for (const v of ['SECURITY_LAKE_DATABASE', 'SECURITY_LAKE_TABLE', 'SECURITY_LAKE_REGION', 'ATHENA_WORKGROUP']) fails({ ...LAKE, [v]: '' }, v);
  fails({ ...LAKE, SECURITY_LAKE_REGION: 'Ireland' }, 'SECURITY_LAKE_REGION');
  expect(readConfig([], { ...LAKE, ...ATHENA }).securityLake).toBeNull();
});

test('the layout: its workgroup, the Parquet location (s3://bucket/prefix/), its concurrency 1-50', () => {
  expect(readConfig(['ATHENA_LAYOUT_WORKGROUP'], { ATHENA_LAYOUT_WORKGROUP: 'wg', ATHENA_PARQUET_LOCATION: 's3://my-bucket/cloudtrail-parquet/', LAYOUT_CONCURRENCY: '20' })).toMatchObject({
    layoutWorkgroup: 'wg',
    parquetLocation: 's3://my-bucket/cloudtrail-parquet/',
    layoutConcurrency: 20,
  });
  expect(() => readConfig(['ATHENA_LAYOUT_WORKGROUP'], {})).toThrow('ATHENA_LAYOUT_WORKGROUP is not set');
  fails({ ATHENA_PARQUET_LOCATION: 's3://my-bucket/no-slash' }, 'ATHENA_PARQUET_LOCATION');
  fails({ ATHENA_PARQUET_LOCATION: 'https://my-bucket/x/' }, 'ATHENA_PARQUET_LOCATION');
  fails({ LAYOUT_CONCURRENCY: '0' }, 'LAYOUT_CONCURRENCY');
});
