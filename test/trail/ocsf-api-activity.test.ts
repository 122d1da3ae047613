/**
 * Security Lake's OCSF API Activity (source version 2, OCSF 1.1.0) back to CloudTrail
 * (src/trail/ocsf-api-activity.ts): every record of the shared corpus and the public scenarios
 * mapped the way Security Lake maps it (test/support/security-lake.ts), validated against OCSF
 * 1.1.0 API Activity, and mapped back gives the same TrailEvent as the record itself; a version 1
 * event and other classes are refused. Without ../shared the corpus tests skip with one notice.
 */
/* eslint-disable @typescript-eslint/no-explicit-any -- OCSF events and records read by path in the assertions */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { toTrailEvent, type TrailEvent } from '../../src/trail/event';
import { cloudTrailRecordFromOcsf, isOcsfProblem, looksLikeOcsf, VERSION_1_REFUSAL, type OcsfProblem } from '../../src/trail/ocsf-api-activity';
import { loadOcsfSchema, OcsfValidator, ocsfSchemaDir, sharedDir } from '../support/ocsf-schema';
import { ocsfFromCloudTrail, recordsUnder } from '../support/security-lake';

const SHARED = sharedDir();
const SCHEMA_DIR = ocsfSchemaDir();
const present = fs.existsSync(path.join(SHARED, 'corpus')) && fs.existsSync(path.join(SCHEMA_DIR, 'dictionary.json'));
if (!present) process.stdout.write(`${SHARED} not found: skipping the OCSF round trip over the corpus\n`);

const ASSUMED_ROLE = {
  eventVersion: '1.08',
  userIdentity: {
    type: 'AssumedRole',
    principalId: 'AROAEXAMPLEROLEID:i-0abc1234def567890',
    arn: 'arn:aws:sts::111111111111:assumed-role/web-app-role/i-0abc1234def567890',
    accountId: '111111111111',
    accessKeyId: 'ASIAEXAMPLEKEY000001',
    sessionContext: {
      sessionIssuer: { type: 'Role', principalId: 'AROAEXAMPLEROLEID', arn: 'arn:aws:iam::111111111111:role/service/web-app-role', accountId: '111111111111', userName: 'web-app-role' },
      webIdFederationData: {},
      attributes: { creationDate: '2026-10-01T00:00:00Z', mfaAuthenticated: 'false' },
      sourceIdentity: 'jordan',
      ec2RoleDelivery: '2.0',
    },
  },
  eventTime: '2026-10-01T00:05:07Z',
  eventSource: 's3.amazonaws.com',
  eventName: 'GetObject',
  awsRegion: 'eu-west-1',
  sourceIPAddress: '203.0.113.9',
  userAgent: 'aws-cli/2.15.0',
  errorCode: 'AccessDenied',
  errorMessage: 'Access Denied',
  requestParameters: { bucketName: 'b', key: 'k', size: 12 },
  responseElements: null,
  additionalEventData: { bytesTransferredOut: 0, SignatureVersion: 'SigV4' },
  requestID: 'REQ1',
  eventID: '11111111-2222-3333-4444-555555555555',
  readOnly: true,
  resources: [{ accountId: '111111111111', type: 'AWS::S3::Bucket', ARN: 'arn:aws:s3:::b' }],
  eventType: 'AwsApiCall',
  managementEvent: false,
  recipientAccountId: '222222222222',
  sharedEventID: 'SHARED1',
  eventCategory: 'Data',
  sessionCredentialFromConsole: 'true',
};

describe('OCSF API Activity to CloudTrail', () => {
  test('one record, field by field: the OCSF paths Security Lake uses and back', () => {
    const ev = ocsfFromCloudTrail(ASSUMED_ROLE) as Record<string, any>;
    expect(ev.class_uid).toBe(6003);
    expect(ev.metadata).toMatchObject({ uid: ASSUMED_ROLE.eventID, version: '1.1.0', product: { name: 'CloudTrail', vendor_name: 'AWS', version: '1.08', feature: { name: 'Data' } } });
    expect(ev.time).toBe(Date.UTC(2026, 9, 1, 0, 5, 7));
    expect(ev.actor.user).toEqual({ type: 'AssumedRole', type_id: 99, uid: ASSUMED_ROLE.userIdentity.arn, uid_alt: ASSUMED_ROLE.userIdentity.principalId, account: { uid: '111111111111' }, credential_uid: 'ASIAEXAMPLEKEY000001' });
    expect(ev.actor.session).toEqual({ created_time: Date.UTC(2026, 9, 1), created_time_dt: '2026-10-01T00:00:00.000Z', is_mfa: false, issuer: 'arn:aws:iam::111111111111:role/service/web-app-role' });
    expect(ev.api).toEqual({ operation: 'GetObject', service: { name: 's3.amazonaws.com' }, request: { uid: 'REQ1', data: '{"bucketName":"b","key":"k","size":12}' }, response: { error: 'AccessDenied', message: 'Access Denied' } });
    expect(ev.cloud).toEqual({ provider: 'AWS', region: 'eu-west-1', account: { uid: '222222222222' } });
    expect(ev.src_endpoint).toEqual({ ip: '203.0.113.9' });
    expect(ev.status_id).toBe(2);
    expect(ev.unmapped).toEqual({
      additionalEventData: '{"bytesTransferredOut":0,"SignatureVersion":"SigV4"}',
      readOnly: 'true',
      eventType: 'AwsApiCall',
      managementEvent: 'false',
      sharedEventID: 'SHARED1',
      sessionCredentialFromConsole: 'true',
      'userIdentity.sessionContext.sessionIssuer.type': 'Role',
      'userIdentity.sessionContext.sessionIssuer.principalId': 'AROAEXAMPLEROLEID',
      'userIdentity.sessionContext.sessionIssuer.accountId': '111111111111',
      'userIdentity.sessionContext.sessionIssuer.userName': 'web-app-role',
      'userIdentity.sessionContext.sourceIdentity': 'jordan',
      'userIdentity.sessionContext.ec2RoleDelivery': '2.0',
    });
    const back = cloudTrailRecordFromOcsf(ev);
    // What has no value is not kept: a null responseElements, an empty webIdFederationData.
    const { responseElements: _none, ...withoutNull } = ASSUMED_ROLE;
    const { webIdFederationData: _empty, ...ctx } = ASSUMED_ROLE.userIdentity.sessionContext;
    expect(back).toEqual({ ...withoutNull, userIdentity: { ...ASSUMED_ROLE.userIdentity, sessionContext: ctx } });
  });

  test('the JSON Athena exports of a row: numbers and data as text, unmapped as key/value rows, time_dt only', () => {
    const ev = ocsfFromCloudTrail(ASSUMED_ROLE) as Record<string, any>;
    const exported = { ...ev, class_uid: '6003', time: undefined, time_dt: '2026-10-01 00:05:07.000', unmapped: Object.entries(ev.unmapped).map(([key, value]) => ({ key, value })) };
    const rec = cloudTrailRecordFromOcsf(JSON.parse(JSON.stringify(exported))) as Record<string, any>;
    expect(rec.eventTime).toBe('2026-10-01T00:05:07Z');
    expect(rec.readOnly).toBe(true);
    expect(rec.additionalEventData).toEqual(ASSUMED_ROLE.additionalEventData);
    expect(rec.userIdentity.sessionContext.sourceIdentity).toBe('jordan');
    expect(toTrailEvent(rec, 'f')).toEqual(toTrailEvent(ASSUMED_ROLE, 'f'));
  });

  test('flattened unmapped keys (source version 1 style) are rebuilt into their objects', () => {
    const ev = ocsfFromCloudTrail(ASSUMED_ROLE) as Record<string, any>;
    const { additionalEventData: _a, ...rest } = ev.unmapped as Record<string, string>;
    const rec = cloudTrailRecordFromOcsf({ ...ev, unmapped: { ...rest, 'additionalEventData.SignatureVersion': 'SigV4', 'additionalEventData.MFAUsed': 'No' } }) as Record<string, any>;
    expect(rec.additionalEventData).toEqual({ SignatureVersion: 'SigV4', MFAUsed: 'No' });
  });

  test('a version 1 event (OCSF 1.0.0-rc.2) is refused with its one line; other classes and shapes too', () => {
    const ev = ocsfFromCloudTrail(ASSUMED_ROLE) as Record<string, any>;
    const v1 = cloudTrailRecordFromOcsf({ ...ev, class_uid: 3005, metadata: { ...ev.metadata, version: '1.0.0-rc.2' } }) as OcsfProblem;
    expect(v1).toEqual({ problem: 'ocsf-version-1', message: `OCSF 1.0.0-rc.2: ${VERSION_1_REFUSAL}` });
    expect(v1.message.split('\n')).toHaveLength(1);
    expect(cloudTrailRecordFromOcsf({ ...ev, class_uid: 3002 })).toMatchObject({ problem: 'not-api-activity' });
    expect(cloudTrailRecordFromOcsf({ ...ev, metadata: { version: '1.1.0' } })).toMatchObject({ problem: 'no-metadata-uid' });
    expect(cloudTrailRecordFromOcsf({ ...ev, time: undefined, time_dt: undefined })).toMatchObject({ problem: 'no-time' });
    expect(cloudTrailRecordFromOcsf({ ...ev, api: {} })).toMatchObject({ problem: 'no-api-operation' });
    expect(cloudTrailRecordFromOcsf([ev])).toMatchObject({ problem: 'not-an-object' });
    expect(isOcsfProblem(cloudTrailRecordFromOcsf(ev))).toBe(false);
    expect(looksLikeOcsf(ev)).toBe(true);
    expect(looksLikeOcsf(ASSUMED_ROLE)).toBe(false);
  });

  (present ? test : test.skip)('every record of the corpus and the scenarios: valid OCSF 1.1.0 API Activity, and back to the same TrailEvent', () => {
    const validator = new OcsfValidator(loadOcsfSchema(SCHEMA_DIR));
    const files = [...recordsUnder(path.join(SHARED, 'corpus', 'cloudtrail')), ...recordsUnder(path.join(SHARED, 'scenarios'))];
    let compared = 0;
    let unusable = 0;
    const invalid: string[] = [];
    const differ: string[] = [];
    for (const { file, records } of files) {
      for (const r of records) {
        const want = toTrailEvent(r, 'x');
        // Resources come back as CloudTrail names their fields (ARN, accountId, type): a few Panther test records write `arn`.
        if (typeof want !== 'string') want.resources = want.resources.map(({ arn, ARN, ...rest }) => ({ ...rest, ...(ARN ?? arn ? { ARN: ARN ?? arn } : {}) }));
        if (typeof want === 'string') {
          unusable++;
          continue;
        }
        const ocsf = ocsfFromCloudTrail(r);
        const problems = validator.problems(ocsf);
        if (problems.length > 0 && invalid.length < 5) invalid.push(`${file} ${want.eventId}: ${problems.join('; ')}`);
        const back = cloudTrailRecordFromOcsf(JSON.parse(JSON.stringify(ocsf)));
        const got = isOcsfProblem(back) ? back : (toTrailEvent(back, 'x') as TrailEvent);
        try {
          expect(got).toEqual(want);
        } catch (e) {
          if (differ.length < 5) differ.push(`${file} ${want.eventId}: ${(e as Error).message.slice(0, 1500)}`);
        }
        compared++;
      }
    }
    expect(invalid).toEqual([]);
    expect(differ).toEqual([]);
    // 2,900 Invictus records alone; the rest from Stratus, the guide, Panther and the scenarios.
    expect(compared).toBeGreaterThan(4000);
    expect(unusable).toBeLessThan(compared / 20);
  });
});
