/**
 * Security Lake's CloudTrail tables as data (src/sources/security-lake-tables.ts): the names, the
 * version 1 refusal, the leaves a query selects, and Parquet written in Security Lake's layout
 * (test/support/security-lake.ts, DuckDB) read back, rebuilt with `ocsfFromRow` and mapped with
 * `cloudTrailRecordFromOcsf`: the records of a few public scenarios again.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { leafSql, ocsfFromRow, ocsfHiveType, SECURITY_LAKE_COLUMNS, securityLakeDatabase, securityLakeLeaves, securityLakeTable, securityLakeTableProblem, securityLakeTableV1 } from '../../src/sources/security-lake-tables';
import { toTrailEvent, type TrailEvent } from '../../src/trail/event';
import { cloudTrailRecordFromOcsf, isOcsfProblem, VERSION_1_REFUSAL } from '../../src/trail/ocsf-api-activity';
import { sharedDir } from '../support/shared';
import { readSecurityLakeParquet, recordsUnder, writeSecurityLakeParquet } from '../support/security-lake';

const SCENARIOS = path.join(sharedDir(), 'scenarios');
const present = fs.existsSync(SCENARIOS);
if (!present) process.stdout.write(`${SCENARIOS} not found: skipping the Security Lake Parquet round trip\n`);

describe('Security Lake CloudTrail tables', () => {
  test('names of the source version 2 tables; version 1 refused with its one line', () => {
    expect(securityLakeDatabase('us-east-1')).toBe('amazon_security_lake_glue_db_us_east_1');
    expect(securityLakeTable('eu-west-1')).toBe('amazon_security_lake_table_eu_west_1_cloud_trail_mgmt_2_0');
    expect(securityLakeTable('eu-west-1', 's3_data')).toBe('amazon_security_lake_table_eu_west_1_s3_data_2_0');
    expect(securityLakeTable('ap-southeast-2', 'lambda_execution')).toBe('amazon_security_lake_table_ap_southeast_2_lambda_execution_2_0');
    expect(securityLakeTableProblem(securityLakeTable('us-east-1'))).toBeNull();
    expect(securityLakeTableProblem(`"${securityLakeDatabase('us-east-1')}"."${securityLakeTable('us-east-1', 's3_data')}"`)).toBeNull();
    const v1 = securityLakeTableProblem(securityLakeTableV1('us-east-1')) as string;
    expect(v1).toBe(`amazon_security_lake_table_us_east_1_cloud_trail_mgmt_1_0: ${VERSION_1_REFUSAL}`);
    expect(v1.split('\n')).toHaveLength(1);
    expect(securityLakeTableProblem('amazon_security_lake_table_us_east_1_vpc_flow_2_0')).toMatch(/not a Security Lake CloudTrail table/);
    // A resource link may be named anything: read as the version 2 table it points to.
    expect(securityLakeTableProblem('cloudtrail_mgmt_link')).toBeNull();
    expect(securityLakeTableProblem('amazon_security_lake_table_us_east_1_cloud_trail_mgmt_3_0')).toMatch(/source version 3\.0 is not known/);
  });

  test('the leaves a query selects: struct leaves by path, arrays and maps as JSON', () => {
    const leaves = securityLakeLeaves();
    const byAlias = new Map(leaves.map((l) => [l.alias, l]));
    for (const p of ['actor.user.credential_uid', 'actor.user.uid', 'actor.user.uid_alt', 'actor.session.issuer', 'actor.session.created_time', 'src_endpoint.ip', 'api.operation', 'api.service.name', 'api.request.data', 'api.response.data', 'api.request.uid', 'time', 'cloud.region', 'cloud.account.uid', 'metadata.uid']) {
      expect(byAlias.get(p.split('.').join('__'))?.path).toBe(p);
    }
    expect(leafSql(byAlias.get('actor__user__credential_uid')!)).toBe('actor.user.credential_uid AS actor__user__credential_uid');
    expect(leafSql(byAlias.get('resources')!)).toBe('json_format(CAST(resources AS JSON)) AS resources');
    expect(leafSql(byAlias.get('unmapped')!)).toBe('json_format(CAST(unmapped AS JSON)) AS unmapped');
    expect(byAlias.get('time')?.type).toBe('bigint');
    expect(ocsfHiveType(SECURITY_LAKE_COLUMNS.find((c) => c.name === 'cloud')!)).toBe('struct<region:string,provider:string,account:struct<uid:string>>');
  });

  test('a result row rebuilt into the OCSF event, and the CloudTrail record from it', () => {
    const rec = cloudTrailRecordFromOcsf(
      ocsfFromRow({
        class_uid: '6003',
        metadata__uid: 'e1',
        metadata__version: '1.1.0',
        time: '1790812800000',
        api__operation: 'AssumeRole',
        api__service__name: 'sts.amazonaws.com',
        api__request__data: '{"roleArn":"arn:aws:iam::1:role/R"}',
        actor__user__type: 'IAMUser',
        actor__user__uid: 'arn:aws:iam::111111111111:user/dev',
        actor__user__credential_uid: 'AKIAEXAMPLE',
        actor__session__is_mfa: 'true',
        src_endpoint__ip: '198.51.100.1',
        cloud__region: 'us-east-1',
        resources: '[{"uid":"arn:aws:iam::1:role/R","owner":{"account":{"uid":"1"}},"type":"AWS::IAM::Role"}]',
        unmapped: '{"readOnly":"false","eventType":"AwsApiCall"}',
        api__response__data: '',
      }),
    );
    expect(rec).toEqual({
      eventID: 'e1',
      eventTime: '2026-10-01T00:00:00Z',
      eventName: 'AssumeRole',
      eventSource: 'sts.amazonaws.com',
      awsRegion: 'us-east-1',
      sourceIPAddress: '198.51.100.1',
      requestParameters: { roleArn: 'arn:aws:iam::1:role/R' },
      resources: [{ ARN: 'arn:aws:iam::1:role/R', accountId: '1', type: 'AWS::IAM::Role' }],
      readOnly: false,
      eventType: 'AwsApiCall',
      userIdentity: { type: 'IAMUser', arn: 'arn:aws:iam::111111111111:user/dev', accessKeyId: 'AKIAEXAMPLE', sessionContext: { attributes: { mfaAuthenticated: 'true' } } },
    });
  });

  (present ? test : test.skip)('Parquet in Security Lake layout, read back and rebuilt: the records of three scenarios', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'security-lake-parquet-'));
    try {
      const want = new Map<string, TrailEvent>();
      const records: Record<string, unknown>[] = [];
      for (const name of ['a-leaked-key-cryptomining', 'b-instance-creds-exfil-s3', 'h-lookup-events-snapshot-exfil']) {
        for (const { records: rs } of recordsUnder(path.join(SCENARIOS, name, 'cloudtrail'))) {
          for (const r of rs) {
            const ev = toTrailEvent(r, 'x');
            if (typeof ev === 'string' || want.has(ev.eventId)) continue;
            want.set(ev.eventId, ev);
            records.push(r);
          }
        }
      }
      const files = await writeSecurityLakeParquet(records, dir);
      expect(files.length).toBeGreaterThan(2);
      for (const f of files) expect(path.relative(dir, f)).toMatch(/^region=[a-z]{2}(-[a-z]+)+-\d\/accountId=\d{12}\/eventDay=\d{8}\/part-\d{5}\.parquet$/);
      const rows = await readSecurityLakeParquet(files);
      expect(rows).toHaveLength(records.length);
      const got = new Map<string, TrailEvent>();
      for (const row of rows) {
        const rec = cloudTrailRecordFromOcsf(ocsfFromRow(row));
        if (isOcsfProblem(rec)) throw new Error(rec.message);
        const ev = toTrailEvent(rec, 'x') as TrailEvent;
        got.set(ev.eventId, ev);
      }
      expect(got.size).toBe(want.size);
      for (const [id, ev] of want) expect(got.get(id)).toEqual(ev);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
