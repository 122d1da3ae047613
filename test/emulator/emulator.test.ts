import * as fs from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { CloudTrailClient, LookupEventsCommand, LookupEventsCommandInput } from '@aws-sdk/client-cloudtrail';
import {
  BatchImportFindingsCommand, BatchUpdateFindingsCommand, GetFindingsCommand, SecurityHubClient, AwsSecurityFinding,
} from '@aws-sdk/client-securityhub';
import { GetFindingsCommand as GdGetFindingsCommand, GuardDutyClient, ListDetectorsCommand, ListFindingsCommand } from '@aws-sdk/client-guardduty';
import {
  DetectiveClient, GetInvestigationCommand, GetMembersCommand, ListGraphsCommand, ListIndicatorsCommand, ListMembersCommand, StartInvestigationCommand,
} from '@aws-sdk/client-detective';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { ListAccountsCommand, OrganizationsClient } from '@aws-sdk/client-organizations';
import { DeleteMessageCommand, GetQueueUrlCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { AwsEmulator, modelsDirOf } from './server';
import { seedScenario } from './seed';
import { rejection } from './testing';

// The API models: ../shared/aws-models, or the copies bundled in test/emulator/models without it
// (AwsEmulator.start's default). What needs ../shared itself skips without it, with one notice:
// the scenario seeding (../shared/scenarios); S3 too if its model were ever left out of the copies.
const SHARED = path.resolve(__dirname, '../../../shared');
const MODELS = modelsDirOf(path.resolve(__dirname, '../..'));
const HAVE_S3_MODEL = fs.readdirSync(MODELS).some((n) => /^s3-.*\.json(\.gz)?$/.test(n));
const SCENARIOS = path.join(SHARED, 'scenarios');
const HAVE_SCENARIOS = fs.existsSync(SCENARIOS);
const skipped = [...(HAVE_S3_MODEL ? [] : [`S3 (no S3 model in ${MODELS})`]), ...(HAVE_SCENARIOS ? [] : [`scenario seeding (${SCENARIOS} is absent)`])];
if (skipped.length) process.stdout.write(`emulator tests skipped: ${skipped.join('; ')}\n`);
const itS3 = HAVE_S3_MODEL ? it : it.skip;

const A = '111111111111';
const B = '222222222222';
const R = 'us-east-1';


function finding(account: string, region: string, over: Partial<AwsSecurityFinding> = {}): AwsSecurityFinding {
  return {
    SchemaVersion: '2018-10-08',
    Id: 'trailstory/test-1',
    ProductArn: `arn:aws:securityhub:${region}:${account}:product/${account}/default`,
    GeneratorId: 'trailstory',
    AwsAccountId: account,
    Types: ['TTPs/Persistence'],
    CreatedAt: '2026-10-15T03:00:00Z',
    UpdatedAt: '2026-10-15T03:00:00Z',
    Severity: { Label: 'MEDIUM' },
    Title: 'Storyline',
    Description: 'A storyline',
    Resources: [{ Type: 'AwsIamAccessKey', Id: 'AWS::IAM::AccessKey:AKIAEXAMPLE' }],
    ...over,
  };
}

describe('AwsEmulator', () => {
  let emu: AwsEmulator;
  beforeAll(async () => {
    emu = await AwsEmulator.start({ seed: 42 });
  });
  afterAll(async () => {
    await emu.stop();
  });
  beforeEach(() => emu.reset());

  const ct = (account = A, region = R): CloudTrailClient => new CloudTrailClient(emu.clientConfig(account, region, 1));
  const sh = (account = A, region = R): SecurityHubClient => new SecurityHubClient(emu.clientConfig(account, region, 1));

  describe('STS (awsQuery)', () => {
    it('GetCallerIdentity answers the account of the access key; AssumeRole keys map to the role account', async () => {
      emu.accountForAccessKey('AKIATESTKEYB', B, `arn:aws:iam::${B}:user/alice`);
      const sts = new STSClient({ region: R, endpoint: emu.endpoint, credentials: { accessKeyId: 'AKIATESTKEYB', secretAccessKey: 'x' } });
      const me = await sts.send(new GetCallerIdentityCommand({}));
      expect(me).toMatchObject({ Account: B, Arn: `arn:aws:iam::${B}:user/alice` });
      const unknown = new STSClient({ region: R, endpoint: emu.endpoint, credentials: { accessKeyId: 'AKIANOBODY', secretAccessKey: 'x' } });
      expect((await unknown.send(new GetCallerIdentityCommand({}))).Account).toBe(A);

      const ar = await sts.send(new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${A}:role/ops/Investigator`, RoleSessionName: 'trailstory' }));
      expect(ar.Credentials?.Expiration).toBeInstanceOf(Date);
      expect(ar.AssumedRoleUser?.Arn).toBe(`arn:aws:sts::${A}:assumed-role/Investigator/trailstory`);
      const as = new STSClient({ region: R, endpoint: emu.endpoint, credentials: { accessKeyId: ar.Credentials?.AccessKeyId ?? '', secretAccessKey: 'x', sessionToken: ar.Credentials?.SessionToken ?? '' } });
      expect((await as.send(new GetCallerIdentityCommand({}))).Account).toBe(A);
      expect(emu.requests.map((r) => `${r.service}:${r.operation}:${r.account}:${r.status}`)).toEqual([
        `sts:GetCallerIdentity:${B}:200`, `sts:GetCallerIdentity:${A}:200`, `sts:AssumeRole:${B}:200`, `sts:GetCallerIdentity:${A}:200`,
      ]);
    });

    it('rejects a session name of 1 character by the model (length 2-64) as ValidationError', async () => {
      const sts = new STSClient(emu.clientConfig(A, R, 1));
      const e = await rejection(sts.send(new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${A}:role/x`, RoleSessionName: 'a' })));
      expect(e.name).toBe('ValidationError');
      expect(e.message).toMatch(/RoleSessionName/);
    });
  });

  describe('CloudTrail LookupEvents (awsJson1_1)', () => {
    const rec = (i: number, over: Record<string, unknown> = {}): Record<string, unknown> => ({
      eventVersion: '1.09', eventID: `e-${i}`, eventTime: new Date(Date.UTC(2026, 9, 15, 2, i)).toISOString(), eventSource: 'ec2.amazonaws.com',
      eventName: 'DescribeInstances', awsRegion: R, recipientAccountId: A, readOnly: true, managementEvent: true, eventCategory: 'Management',
      userIdentity: { type: 'IAMUser', userName: 'ci', accessKeyId: 'AKIACI', accountId: A }, ...over,
    });

    it('serves management events newest first by AccessKeyId, with CloudTrailEvent strings and pages of MaxResults', async () => {
      for (let i = 0; i < 5; i++) emu.cloudTrail.add(rec(i));
      emu.cloudTrail.add(rec(10, { managementEvent: false, eventCategory: 'Data', eventSource: 's3.amazonaws.com', eventName: 'GetObject' }));
      emu.cloudTrail.add(rec(11, { userIdentity: { type: 'IAMUser', userName: 'other', accessKeyId: 'AKIAOTHER' } }));
      emu.knobs.lookupEventsPerSecond = 0;
      const input: LookupEventsCommandInput = { LookupAttributes: [{ AttributeKey: 'AccessKeyId', AttributeValue: 'AKIACI' }], MaxResults: 3 };
      const p1 = await ct().send(new LookupEventsCommand(input));
      expect(p1.Events?.map((e) => e.EventId)).toEqual(['e-4', 'e-3', 'e-2']);
      expect(p1.Events?.[0]?.EventTime).toEqual(new Date('2026-10-15T02:04:00Z'));
      expect(JSON.parse(p1.Events?.[0]?.CloudTrailEvent ?? '{}')).toMatchObject({ eventID: 'e-4' });
      expect(p1.Events?.[0]?.Username).toBe('ci');
      const p2 = await ct().send(new LookupEventsCommand({ ...input, NextToken: p1.NextToken }));
      expect(p2.Events?.map((e) => e.EventId)).toEqual(['e-1', 'e-0']);
      expect(p2.NextToken).toBeUndefined();
      // The data event is never served.
      const all = await ct().send(new LookupEventsCommand({}));
      expect(all.Events?.map((e) => e.EventId)).not.toContain('e-10');
      // StartTime / EndTime
      const win = await ct().send(new LookupEventsCommand({ StartTime: new Date('2026-10-15T02:01:00Z'), EndTime: new Date('2026-10-15T02:02:00Z') }));
      expect(win.Events?.map((e) => e.EventId)).toEqual(['e-2', 'e-1']);
    });

    it('rejects two lookup attributes', async () => {
      const e = await rejection(ct().send(new LookupEventsCommand({ LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: 'A' }, { AttributeKey: 'Username', AttributeValue: 'b' }] })));
      expect(e).toMatchObject({ name: 'InvalidLookupAttributesException', status: 400 });
    });

    it('rejects MaxResults 51 (model range 1-50)', async () => {
      const e = await rejection(ct().send(new LookupEventsCommand({ MaxResults: 51 })));
      expect(e.name).toBe('InvalidMaxResultsException');
    });

    it('rejects a NextToken reused with other parameters', async () => {
      emu.knobs.lookupEventsPerSecond = 0;
      for (let i = 0; i < 3; i++) emu.cloudTrail.add(rec(i));
      const p1 = await ct().send(new LookupEventsCommand({ MaxResults: 1 }));
      const e = await rejection(ct().send(new LookupEventsCommand({ MaxResults: 2, NextToken: p1.NextToken })));
      expect(e.name).toBe('InvalidNextTokenException');
    });

    it('throttles the third request within a second per account and region (HTTP 400 ThrottlingException), not other accounts', async () => {
      const c = ct();
      await c.send(new LookupEventsCommand({}));
      await c.send(new LookupEventsCommand({}));
      const e = await rejection(c.send(new LookupEventsCommand({})));
      expect(e).toMatchObject({ name: 'ThrottlingException', status: 400 });
      await expect(ct(B).send(new LookupEventsCommand({}))).resolves.toBeDefined();
      await expect(ct(A, 'eu-west-1').send(new LookupEventsCommand({}))).resolves.toBeDefined();
    });

    it('serves IAM and sign-in events only to us-east-1 clients; STS where its endpoint logged it', async () => {
      emu.knobs.lookupEventsPerSecond = 0;
      emu.cloudTrail.add(rec(1, { eventSource: 'iam.amazonaws.com', eventName: 'CreateUser', awsRegion: 'eu-west-1' }));
      emu.cloudTrail.add(rec(2, { eventSource: 'sts.amazonaws.com', eventName: 'GetCallerIdentity', awsRegion: 'us-east-1' }));
      emu.cloudTrail.add(rec(3, { awsRegion: 'eu-west-1' }));
      emu.cloudTrail.add(rec(4, { eventSource: 'sts.amazonaws.com', eventName: 'GetCallerIdentity', awsRegion: 'eu-west-1' }));
      expect((await ct(A, 'eu-west-1').send(new LookupEventsCommand({}))).Events?.map((e) => e.EventId)).toEqual(['e-4', 'e-3']);
      expect((await ct(A, 'us-east-1').send(new LookupEventsCommand({}))).Events?.map((e) => e.EventId)).toEqual(['e-2', 'e-1']);
    });
  });

  describe('Security Hub (restJson1)', () => {
    it('imports, updates and reads back a finding', async () => {
      const c = sh();
      const imp = await c.send(new BatchImportFindingsCommand({ Findings: [finding(A, R)] }));
      expect(imp).toMatchObject({ SuccessCount: 1, FailedCount: 0, FailedFindings: [] });
      const pa = `arn:aws:securityhub:${R}:${A}:product/${A}/default`;
      const upd = await c.send(new BatchUpdateFindingsCommand({
        FindingIdentifiers: [{ Id: 'trailstory/test-1', ProductArn: pa }, { Id: 'nope', ProductArn: pa }],
        Note: { Text: 'storyline: 12 steps', UpdatedBy: 'trailstory' }, UserDefinedFields: { storyline: 'yes' },
      }));
      expect(upd.ProcessedFindings).toEqual([{ Id: 'trailstory/test-1', ProductArn: pa }]);
      expect(upd.UnprocessedFindings).toEqual([{ FindingIdentifier: { Id: 'nope', ProductArn: pa }, ErrorCode: 'FindingNotFound', ErrorMessage: 'Finding Not Found' }]);
      const got = await c.send(new GetFindingsCommand({ Filters: { Id: [{ Value: 'trailstory/test-1', Comparison: 'EQUALS' }] } }));
      expect(got.Findings?.[0]).toMatchObject({ Note: { Text: 'storyline: 12 steps' }, UserDefinedFields: { storyline: 'yes' }, ProductName: 'Default' });
      // A re-import cannot change the Note.
      await c.send(new BatchImportFindingsCommand({ Findings: [finding(A, R, { UpdatedAt: '2026-10-15T04:00:00Z', Note: { Text: 'x', UpdatedBy: 'y', UpdatedAt: '2026-10-15T04:00:00Z' } })] }));
      expect(emu.securityHub.get('trailstory/test-1')?.Note).toMatchObject({ Text: 'storyline: 12 steps' });
    });

    it('rejects 101 findings in one call with InvalidInputException', async () => {
      const list = Array.from({ length: 101 }, (_, i) => finding(A, R, { Id: `f-${i}` }));
      const e = await rejection(sh().send(new BatchImportFindingsCommand({ Findings: list })));
      expect(e).toMatchObject({ name: 'InvalidInputException', status: 400 });
    });

    it('answers an import for another account with an AccessDenied FailedFindings entry inside HTTP 200', async () => {
      const out = await sh(A).send(new BatchImportFindingsCommand({ Findings: [finding(B, R), finding(A, R, { Id: 'ok' })] }));
      expect(out.$metadata.httpStatusCode).toBe(200);
      expect(out).toMatchObject({ SuccessCount: 1, FailedCount: 1 });
      expect(out.FailedFindings?.[0]).toMatchObject({ Id: 'trailstory/test-1', ErrorCode: 'AccessDeniedException' });
    });

    it('fails a finding whose ProductArn names another region or partition', async () => {
      const out = await sh(A, 'us-gov-west-1').send(new BatchImportFindingsCommand({ Findings: [finding(A, R)] }));
      expect(out.FailedCount).toBe(1);
      expect(out.FailedFindings?.[0]?.ErrorMessage).toMatch(/arn:aws-us-gov:securityhub:us-gov-west-1:111111111111:product\/111111111111\/default/);
    });

    it('fails Types "TTPs/" (empty part), keeping the other findings', async () => {
      const out = await sh().send(new BatchImportFindingsCommand({ Findings: [finding(A, R, { Id: 'a' }), finding(A, R, { Id: 'b', Types: ['TTPs/'] }), finding(A, R, { Id: 'c' })] }));
      expect(out).toMatchObject({ SuccessCount: 2, FailedCount: 1 });
      expect(out.FailedFindings?.[0]).toMatchObject({ Id: 'b', ErrorCode: 'InvalidInput' });
      expect(emu.securityHub.all(R).map((f) => f.Id).sort()).toEqual(['a', 'c']);
    });

    it('fails a Title over 256 characters', async () => {
      const out = await sh().send(new BatchImportFindingsCommand({ Findings: [finding(A, R, { Title: 'x'.repeat(257) })] }));
      expect(out.FailedFindings?.[0]?.ErrorMessage).toMatch(/Title/);
    });

    it('fails a re-import whose UpdatedAt does not move forward', async () => {
      await sh().send(new BatchImportFindingsCommand({ Findings: [finding(A, R)] }));
      const out = await sh().send(new BatchImportFindingsCommand({ Findings: [finding(A, R, { Title: 'changed' })] }));
      expect(out.FailedCount).toBe(1);
      expect(out.FailedFindings?.[0]?.ErrorMessage).toMatch(/UpdatedAt/);
      expect(emu.securityHub.get('trailstory/test-1')?.Title).toBe('Storyline');
    });

    it('model validation per finding: a required member missing and an enum value not allowed', async () => {
      const missing = finding(A, R, { Id: 'm' }) as unknown as Record<string, unknown>;
      delete missing.GeneratorId;
      const out = await sh().send(new BatchImportFindingsCommand({ Findings: [missing as unknown as AwsSecurityFinding, finding(A, R, { Id: 'e', Severity: { Label: 'SEVERE' as never } })] }));
      expect(out.FailedCount).toBe(2);
      expect(out.FailedFindings?.[0]?.ErrorMessage).toMatch(/GeneratorId.*required/);
      expect(out.FailedFindings?.[1]?.ErrorMessage).toMatch(/SEVERE.*INFORMATIONAL, LOW, MEDIUM, HIGH, CRITICAL/);
    });

    it('rejects a Note of 513 characters', async () => {
      const e = await rejection(sh().send(new BatchUpdateFindingsCommand({
        FindingIdentifiers: [{ Id: 'x', ProductArn: 'arn:aws:securityhub:us-east-1::product/aws/guardduty' }], Note: { Text: 'n'.repeat(513), UpdatedBy: 'trailstory' },
      })));
      expect(e).toMatchObject({ name: 'InvalidInputException', status: 400 });
    });

    it('rejects 51 UserDefinedFields and a request without the required Note.UpdatedBy (model)', async () => {
      const ids = [{ Id: 'x', ProductArn: 'arn:aws:securityhub:us-east-1::product/aws/guardduty' }];
      const udf = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, 'v']));
      expect((await rejection(sh().send(new BatchUpdateFindingsCommand({ FindingIdentifiers: ids, UserDefinedFields: udf })))).name).toBe('InvalidInputException');
      const e = await rejection(sh().send(new BatchUpdateFindingsCommand({ FindingIdentifiers: ids, Note: { Text: 'x' } as never })));
      expect(e.message).toMatch(/Note.UpdatedBy.*required/);
    });

    it('GetFindings pages 100 at a time and filters on ProductName, AwsAccountId, Region and UpdatedAt', async () => {
      for (let i = 0; i < 150; i++) {
        emu.securityHub.put({ ...finding(A, R, { Id: `f-${String(i).padStart(3, '0')}`, UpdatedAt: new Date(Date.UTC(2026, 9, 1) + i * 3600_000).toISOString() }), ProductName: i % 2 ? 'GuardDuty' : 'Default', Region: R });
      }
      const c = sh();
      const p1 = await c.send(new GetFindingsCommand({}));
      expect(p1.Findings).toHaveLength(100);
      const p2 = await c.send(new GetFindingsCommand({ NextToken: p1.NextToken }));
      expect(p2.Findings).toHaveLength(50);
      expect(p2.NextToken).toBeUndefined();
      const gd = await c.send(new GetFindingsCommand({
        Filters: {
          ProductName: [{ Value: 'GuardDuty', Comparison: 'EQUALS' }], AwsAccountId: [{ Value: A, Comparison: 'EQUALS' }], Region: [{ Value: R, Comparison: 'EQUALS' }],
          UpdatedAt: [{ Start: '2026-10-01T00:00:00Z', End: '2026-10-01T09:30:00Z' }],
        },
      }));
      expect(gd.Findings?.map((f) => f.Id)).toEqual(['f-009', 'f-007', 'f-005', 'f-003', 'f-001']);
      expect((await rejection(c.send(new GetFindingsCommand({ MaxResults: 101 })))).name).toBe('InvalidInputException');
      // Another account sees nothing; its administrator sees them.
      expect((await sh(B).send(new GetFindingsCommand({}))).Findings).toEqual([]);
      emu.securityHub.linkMembers(B, [A]);
      expect((await sh(B).send(new GetFindingsCommand({ MaxResults: 5 }))).Findings).toHaveLength(5);
    });
  });

  describe('Detective (restJson1)', () => {
    it('lists graphs per region (empty elsewhere), members with statuses, and runs an investigation RUNNING → SUCCESSFUL', async () => {
      const graph = emu.detective.createGraph(A, R);
      emu.detective.setMember(graph, B, 'INVITED');
      emu.detective.setMember(graph, '333333333333', 'ENABLED');
      const roleArn = `arn:aws:iam::${A}:role/ops/deployer`;
      emu.detective.indicatorsFor.set(roleArn, Array.from({ length: 130 }, (_, i) => ({ IndicatorType: 'TTP_OBSERVED', IndicatorDetail: { TTPsObservedDetail: { Tactic: 'Discovery', Technique: `T${i}` } } })));
      const c = new DetectiveClient(emu.clientConfig(A, R, 1));
      expect((await c.send(new ListGraphsCommand({}))).GraphList?.map((g) => g.Arn)).toEqual([graph]);
      expect((await new DetectiveClient(emu.clientConfig(A, 'eu-west-1', 1)).send(new ListGraphsCommand({}))).GraphList).toEqual([]);
      const members = await c.send(new ListMembersCommand({ GraphArn: graph }));
      expect(members.MemberDetails?.map((m) => [m.AccountId, m.Status])).toEqual([[B, 'INVITED'], ['333333333333', 'ENABLED']]);
      const gm = await c.send(new GetMembersCommand({ GraphArn: graph, AccountIds: [B, '444444444444'] }));
      expect(gm.UnprocessedAccounts?.map((u) => u.AccountId)).toEqual(['444444444444']);
      const { InvestigationId } = await c.send(new StartInvestigationCommand({ GraphArn: graph, EntityArn: roleArn, ScopeStartTime: new Date('2026-10-14T00:00:00Z'), ScopeEndTime: new Date('2026-10-16T00:00:00Z') }));
      const first = await c.send(new GetInvestigationCommand({ GraphArn: graph, InvestigationId }));
      expect(first).toMatchObject({ Status: 'RUNNING', EntityType: 'IAM_ROLE' });
      expect(first.ScopeStartTime).toEqual(new Date('2026-10-14T00:00:00Z'));
      expect((await c.send(new GetInvestigationCommand({ GraphArn: graph, InvestigationId }))).Status).toBe('SUCCESSFUL');
      const i1 = await c.send(new ListIndicatorsCommand({ GraphArn: graph, InvestigationId }));
      expect(i1.Indicators).toHaveLength(100);
      const i2 = await c.send(new ListIndicatorsCommand({ GraphArn: graph, InvestigationId, NextToken: i1.NextToken }));
      expect(i2.Indicators).toHaveLength(30);
    });

    it('rejects StartInvestigation with a role session ARN (ValidationException)', async () => {
      const graph = emu.detective.createGraph(A, R);
      const c = new DetectiveClient(emu.clientConfig(A, R, 1));
      const e = await rejection(c.send(new StartInvestigationCommand({
        GraphArn: graph, EntityArn: `arn:aws:sts::${A}:assumed-role/deployer/session-1`, ScopeStartTime: new Date('2026-10-14T00:00:00Z'), ScopeEndTime: new Date('2026-10-16T00:00:00Z'),
      })));
      expect(e).toMatchObject({ name: 'ValidationException', status: 400 });
    });

    it('rejects an EntityArn that does not match the model pattern ^arn:', async () => {
      const graph = emu.detective.createGraph(A, R);
      const e = await rejection(new DetectiveClient(emu.clientConfig(A, R, 1)).send(new StartInvestigationCommand({
        GraphArn: graph, EntityArn: 'deployer', ScopeStartTime: new Date('2026-10-14T00:00:00Z'), ScopeEndTime: new Date('2026-10-16T00:00:00Z'),
      })));
      expect(e.name).toBe('ValidationException');
      expect(e.message).toMatch(/EntityArn.*pattern/);
    });
  });

  describe('Organizations, SQS, S3', () => {
    it('Organizations ListAccounts (awsJson1_1), and AWSOrganizationsNotInUseException outside an organization', async () => {
      const c = new OrganizationsClient(emu.clientConfig(A, R, 1));
      expect((await rejection(c.send(new ListAccountsCommand({})))).name).toBe('AWSOrganizationsNotInUseException');
      emu.organizations.addAccount(A, 'prod');
      emu.organizations.addAccount(B, 'dev', A);
      expect((await c.send(new ListAccountsCommand({}))).Accounts?.map((a) => a.Id)).toEqual([A, B]);
    });

    it('SQS (awsJson1_0): GetQueueUrl, SendMessage with a delay, Receive, Delete; DelaySeconds 901 rejected', async () => {
      const url = emu.sqs.createQueue('storylines', A, R);
      const c = new SQSClient(emu.clientConfig(A, R, 1));
      expect((await c.send(new GetQueueUrlCommand({ QueueName: 'storylines' }))).QueueUrl).toBe(url);
      expect((await rejection(c.send(new GetQueueUrlCommand({ QueueName: 'nope' })))).name).toBe('QueueDoesNotExist');
      await c.send(new SendMessageCommand({ QueueUrl: url, MessageBody: '{"n":1}' }));
      await c.send(new SendMessageCommand({ QueueUrl: url, MessageBody: '{"n":2}', DelaySeconds: 900 }));
      expect(emu.sqs.messages(url).map((m) => m.DelaySeconds)).toEqual([0, 900]);
      const got = await c.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10 }));
      expect(got.Messages?.map((m) => m.Body)).toEqual(['{"n":1}']);
      await c.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: got.Messages?.[0]?.ReceiptHandle }));
      expect(emu.sqs.messages(url)).toHaveLength(1);
      expect((await rejection(c.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'x', DelaySeconds: 901 })))).name).toBe('InvalidParameterValue');
    });

    itS3('S3 (restXml, path-style): PutObject / GetObject round-trip; NoSuchKey', async () => {
      const c = new S3Client(emu.clientConfig(A, R, 1));
      await c.send(new CreateBucketCommand({ Bucket: 'reports' }));
      await c.send(new PutObjectCommand({ Bucket: 'reports', Key: 'a/b/report.json', Body: '{"ok":true}', ContentType: 'application/json' }));
      expect(emu.s3.getObject('reports', 'a/b/report.json')?.body.toString()).toBe('{"ok":true}');
      const got = await c.send(new GetObjectCommand({ Bucket: 'reports', Key: 'a/b/report.json' }));
      expect(await got.Body?.transformToString()).toBe('{"ok":true}');
      expect(got.ContentType).toBe('application/json');
      expect((await rejection(c.send(new GetObjectCommand({ Bucket: 'reports', Key: 'missing' })))).name).toBe('NoSuchKey');
      expect((await rejection(c.send(new PutObjectCommand({ Bucket: 'nobucket', Key: 'k', Body: 'x' })))).name).toBe('NoSuchBucket');
    });

    itS3('S3 PutObject of a stream (aws-chunked upload) and user metadata', async () => {
      const c = new S3Client(emu.clientConfig(A, R, 1));
      emu.s3.createBucket('reports', A);
      const body = Buffer.alloc(200_000, 'abc');
      await c.send(new PutObjectCommand({ Bucket: 'reports', Key: 'big.bin', Body: Readable.from([body.subarray(0, 70_000), body.subarray(70_000)]), ContentLength: body.length, Metadata: { finding: 'ab189a10' } }));
      expect(emu.s3.getObject('reports', 'big.bin')?.body.equals(body)).toBe(true);
      const got = await c.send(new GetObjectCommand({ Bucket: 'reports', Key: 'big.bin' }));
      expect(got.Metadata).toEqual({ finding: 'ab189a10' });
      expect(Buffer.from(await got.Body?.transformToByteArray() ?? []).equals(body)).toBe(true);
    });
  });

  describe('knobs', () => {
    async function statuses(seed: number): Promise<number[]> {
      const e = await AwsEmulator.start({ seed });
      try {
        e.knobs.throttleRate = 0.3;
        e.knobs.serverErrorRate = 0.3;
        e.knobs.lookupEventsPerSecond = 0;
        const c = new CloudTrailClient(e.clientConfig(A, R, 1));
        for (let i = 0; i < 20; i++) await c.send(new LookupEventsCommand({})).catch(() => undefined);
        return e.requests.map((r) => r.status);
      } finally {
        await e.stop();
      }
    }

    it('produce throttles and 5xx reproducibly for a seed', async () => {
      const a = await statuses(7);
      const b = await statuses(7);
      expect(a).toEqual(b);
      expect(a).toContain(200);
      expect(a).toContain(400);
      expect(a.some((s) => s >= 500)).toBe(true);
    });

    it('throttle Security Hub with 429 TooManyRequestsException, retried by the SDK until it gives up', async () => {
      emu.knobs.throttleRate = 1;
      const e = await rejection(new SecurityHubClient({ ...emu.clientConfig(A, R), maxAttempts: 2 }).send(new GetFindingsCommand({})));
      expect(e).toMatchObject({ name: 'TooManyRequestsException', status: 429 });
      expect(emu.requests.filter((r) => r.operation === 'GetFindings')).toHaveLength(2);
    });

    it('securityHubQuotas: GetFindings beyond its burst of 6 answers 429 TooManyRequestsException', async () => {
      emu.knobs.securityHubQuotas = true;
      const c = sh();
      const results = await Promise.allSettled(Array.from({ length: 9 }, () => c.send(new GetFindingsCommand({}))));
      const ok = results.filter((r) => r.status === 'fulfilled').length;
      expect(ok).toBeGreaterThanOrEqual(6); // the burst (a slow machine may refill one more token)
      expect(ok).toBeLessThan(9);
      const denied = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      expect((denied?.reason as Error).name).toBe('TooManyRequestsException');
    });

    it('timeScale shortens the second of the per-second quotas (LookupEvents 2/s: 2 per 50 ms at 20)', async () => {
      emu.knobs.timeScale = 20;
      const c = ct();
      await c.send(new LookupEventsCommand({}));
      await c.send(new LookupEventsCommand({}));
      expect(await rejection(c.send(new LookupEventsCommand({})))).toMatchObject({ name: 'ThrottlingException' });
      await new Promise((r) => setTimeout(r, 60));
      await c.send(new LookupEventsCommand({}));
    });

    it('latencyMs delays answers', async () => {
      emu.knobs.latencyMs = 150;
      const t0 = Date.now();
      await new STSClient(emu.clientConfig(A, R)).send(new GetCallerIdentityCommand({}));
      expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
    });
  });

  describe('seedScenario', () => {
    const dir = path.join(SCENARIOS, 'a-leaked-key-cryptomining');
    const maybe = fs.existsSync(dir) ? it : it.skip;
    const withScenarios = HAVE_SCENARIOS ? it : it.skip;

    maybe('serves a-leaked-key-cryptomining management events by AccessKeyId and its GuardDuty finding', async () => {
      const res = seedScenario(emu, dir);
      expect(res.records).toBe(128);
      expect(res.guardDutyFindings).toHaveLength(1);
      emu.knobs.lookupEventsPerSecond = 0;
      const c = ct(A, 'us-east-1');
      const ids: string[] = [];
      let token: string | undefined;
      do {
        const page = await c.send(new LookupEventsCommand({ LookupAttributes: [{ AttributeKey: 'AccessKeyId', AttributeValue: 'AKIARTXV5AHDYDMJWZ4E' }], NextToken: token }));
        ids.push(...(page.Events ?? []).map((e) => e.EventId ?? ''));
        token = page.NextToken;
      } while (token);
      expect(ids).toContain('c38f1486-4677-4ab2-9a95-5e3742e4bedb'); // recon-whoami (sts, us-east-1)
      expect(ids).toContain('6be2d524-9ccf-4ba6-9e52-2bcc3c771e3c'); // CreateUser
      expect(ids).toContain('6a3c84c4-d4c2-4801-bfe4-50744d2cbf8e'); // CI noise during the attack
      expect(ids).not.toContain('f58729e2-cec7-453c-9d57-71fa30fefdd9'); // eu-west-1, by the minted key
      const eu = await ct(A, 'eu-west-1').send(new LookupEventsCommand({ LookupAttributes: [{ AttributeKey: 'EventId', AttributeValue: 'f58729e2-cec7-453c-9d57-71fa30fefdd9' }] }));
      expect(eu.Events).toHaveLength(1);

      const gd = new GuardDutyClient(emu.clientConfig(A, R, 1));
      const { DetectorIds } = await gd.send(new ListDetectorsCommand({}));
      expect(DetectorIds).toEqual(['c86bc141b3f3717e4414831297a7efa7']);
      const listed = await gd.send(new ListFindingsCommand({ DetectorId: DetectorIds?.[0] }));
      expect(listed.FindingIds).toEqual(['ab189a10b0e77f5874963e3c2919b1f3']);
      const byType = (t: string) => gd.send(new ListFindingsCommand({ DetectorId: DetectorIds?.[0], FindingCriteria: { Criterion: { type: { Eq: [t] }, severity: { GreaterThanOrEqual: 4 } } } }));
      expect((await byType('Persistence:IAMUser/AnomalousBehavior')).FindingIds).toHaveLength(1);
      expect((await byType('Recon:EC2/PortProbeUnprotectedPort')).FindingIds).toHaveLength(0);
      const got = await gd.send(new GdGetFindingsCommand({ DetectorId: DetectorIds?.[0], FindingIds: listed.FindingIds }));
      expect(got.Findings?.[0]).toMatchObject({
        Type: 'Persistence:IAMUser/AnomalousBehavior', Severity: 5, AccountId: A,
        Resource: { ResourceType: 'AccessKey', AccessKeyDetails: { AccessKeyId: 'AKIARTXV5AHDYDMJWZ4E', UserName: 'ci-deployer' } },
        Service: { Count: 3, Action: { AwsApiCallAction: { Api: 'CreateUser' } } },
      });
      const e = await rejection(gd.send(new GdGetFindingsCommand({ DetectorId: DetectorIds?.[0], FindingIds: Array.from({ length: 51 }, (_, i) => `f${i}`) })));
      expect(e.name).toBe('BadRequestException');
      expect((await rejection(new GuardDutyClient(emu.clientConfig(B, R, 1)).send(new GdGetFindingsCommand({ DetectorId: DetectorIds?.[0], FindingIds: ['x'] })))).name).toBe('BadRequestException');

      const asff = await sh().send(new GetFindingsCommand({ Filters: { ProductName: [{ Value: 'GuardDuty', Comparison: 'EQUALS' }] } }));
      expect(asff.Findings?.[0]).toMatchObject({
        Id: 'arn:aws:guardduty:us-east-1:111111111111:detector/c86bc141b3f3717e4414831297a7efa7/finding/ab189a10b0e77f5874963e3c2919b1f3',
        ProductArn: 'arn:aws:securityhub:us-east-1::product/aws/guardduty', Types: ['TTPs/Persistence/IAMUser-AnomalousBehavior'],
        Resources: [{ Type: 'AwsIamAccessKey', Details: { AwsIamAccessKey: { PrincipalName: 'ci-deployer' } } }],
      });
    });

    withScenarios('seeds every shared scenario without unreadable entries other than broken records', () => {
      for (const name of fs.readdirSync(SCENARIOS)) {
        emu.reset();
        const res = seedScenario(emu, path.join(SCENARIOS, name));
        expect(res.records).toBeGreaterThan(0);
        expect(res.asffFindings.length).toBeGreaterThan(0);
      }
    });
  });
});
