/**
 * The organisation path: the enrich worker runs in the delegated-administrator account and
 * reaches a member account through the member role (STS AssumeRole that the emulator checks
 * against the role's trust policy: the worker role's ARN, `aws:PrincipalOrgID`, the ExternalId).
 * A member where the role is not deployed yet is isolated: its finding is still annotated from
 * the administrator account, saying why its context is missing, and nothing is dead-lettered.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Context, SQSEvent } from 'aws-lambda';
import { makeClients } from '../../src/clients';
import { readConfig } from '../../src/config';
import { messageFor } from '../../src/lambda/messages';
import { makeWorker, type RecordOutcome } from '../../src/lambda/worker';
import type { NormalizedFinding } from '../../src/model/finding';
import { readFinding } from '../../src/storyline/investigate';
import { AwsEmulator } from '../emulator/server';
import { guardDutyToAsff, seedOrganization, seedScenario } from '../emulator/seed';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const dynalite = require('dynalite') as (opts: { createTableMs: number }) => import('node:net').Server;

const SCENARIO = path.resolve(__dirname, '../../../shared/scenarios/a-leaked-key-cryptomining');
const HAVE = fs.existsSync(SCENARIO);
if (!HAVE) process.stdout.write('shared/ not found: skipping the organisation end-to-end test\n');

const ADMIN = '500000000001';
const NEW_MEMBER = '500000000003';
const EXTERNAL_ID = 'trailstory-ext-7f3a';

(HAVE ? describe : describe.skip)('the worker in the delegated-admin account, across member accounts', () => {
  let emu: AwsEmulator;
  let ddb: import('node:net').Server;
  afterAll(async () => {
    await emu?.stop();
    await new Promise<void>((r) => ddb?.close(() => r()));
  });

  test('a member with the role is enriched in its own account; a new member without it is annotated with the reason', async () => {
    emu = await AwsEmulator.start({ seed: 11 });
    emu.knobs.lookupEventsPerSecond = 0;
    ddb = dynalite({ createTableMs: 0 });
    await new Promise<void>((r) => ddb.listen(0, '127.0.0.1', () => r()));
    const dynamo = new DynamoDBClient({ endpoint: `http://127.0.0.1:${(ddb.address() as import('node:net').AddressInfo).port}`, region: 'us-east-1', credentials: { accessKeyId: 'l', secretAccessKey: 'l' } });
    await dynamo.send(new CreateTableCommand({ TableName: 'idem', AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }], KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }], BillingMode: 'PAY_PER_REQUEST' }));

    // Prepare: the organisation, the member role in the scenario's account only.
    seedScenario(emu, SCENARIO);
    const member = readFinding(path.join(SCENARIO, 'finding.json'));
    const region = member.region;
    const org = seedOrganization(emu, {
      managementAccount: '500000000000',
      ous: [{ name: 'workloads', accounts: [{ id: ADMIN, name: 'security' }, { id: member.accountId, name: 'prod' }, { id: NEW_MEMBER, name: 'new' }] }],
      delegatedAdmins: [{ account: ADMIN, servicePrincipal: 'securityhub.amazonaws.com' }],
    });
    const workerRoleArn = `arn:aws:iam::${ADMIN}:role/EnrichWorkerRole`;
    emu.identities.putRole(ADMIN, 'EnrichWorkerRole', { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }] });
    emu.identities.putRole(member.accountId, 'TrailstoryMemberRole', {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: { AWS: workerRoleArn }, Action: 'sts:AssumeRole', Condition: { StringEquals: { 'aws:PrincipalOrgID': org.organization.Id, 'sts:ExternalId': EXTERNAL_ID } } }],
    });
    // The new member's finding, in Security Hub (the administrator sees both members' findings).
    const native = JSON.parse(fs.readFileSync(path.join(SCENARIO, 'finding.json'), 'utf8')) as Record<string, unknown>;
    const newArn = member.arn.replace(member.accountId, NEW_MEMBER).replace(/finding\/[0-9a-f]+$/, `finding/${'c'.repeat(32)}`);
    emu.securityHub.put(guardDutyToAsff({ ...native, accountId: NEW_MEMBER, arn: newArn, id: 'c'.repeat(32) }));
    emu.securityHub.linkMembers(ADMIN, [member.accountId, NEW_MEMBER]);
    const newFinding: NormalizedFinding = { ...member, accountId: NEW_MEMBER, arn: newArn, id: 'c'.repeat(32) };

    const workerCreds = emu.sessionClientConfig(ADMIN, 'EnrichWorkerRole', region, { sessionName: 'enrich-worker' }).credentials;
    const queueUrl = emu.sqs.createQueue('enrich', ADMIN, region);
    const config = readConfig([], { ENRICH_QUEUE_URL: queueUrl, ENRICH_DLQ_URL: emu.sqs.createQueue('dlq', ADMIN, region), IDEMPOTENCY_TABLE: 'idem', OWN_ACCOUNT_ID: ADMIN, MEMBER_EXTERNAL_ID: EXTERNAL_ID, AWS_ENDPOINT_URL: emu.endpoint });
    const clients = makeClients(config, region, { credentials: workerCreds, maxAttempts: 1 });
    const outcomes: RecordOutcome[] = [];
    const offset = Date.parse(member.updatedAt ?? '') + 3600_000 - Date.now();
    const worker = makeWorker(config, clients, dynamo, {
      onOutcome: (o) => outcomes.push(o),
      timer: { now: () => Date.now() + offset, sleep: async () => undefined },
      ownCredentials: workerCreds,
      memberOverrides: { maxAttempts: 1 },
    });

    // Act: both findings in one batch.
    const event: SQSEvent = {
      Records: [member, newFinding].map((f, i) => ({
        messageId: `m${i}`, receiptHandle: `r${i}`, body: JSON.stringify(messageFor(f, 'guardduty-event')), md5OfBody: '', eventSource: 'aws:sqs', eventSourceARN: 'arn:aws:sqs:x', awsRegion: region, messageAttributes: {},
        attributes: { ApproximateReceiveCount: '1', SentTimestamp: '0', SenderId: 'x', ApproximateFirstReceiveTimestamp: '0' },
      })),
    };
    const res = await worker(event, { functionName: 'w', awsRequestId: 'org', getRemainingTimeInMillis: () => 900_000 } as unknown as Context);

    // Assess: nothing failed, nothing dead-lettered.
    expect(res.batchItemFailures).toEqual([]);
    expect(emu.sqs.messages(config.enrichDlqUrl as string)).toEqual([]);
    // The member: its CloudTrail read and its companion finding imported in its own account, through the member role.
    const assumed = emu.requests.filter((r) => r.operation === 'AssumeRole');
    expect(assumed.some((r) => r.status === 200)).toBe(true);
    expect(emu.requests.some((r) => r.operation === 'LookupEvents' && r.account === member.accountId && r.status === 200)).toBe(true);
    const companion = emu.securityHub.get(`${member.arn}/trailstory-storyline`) as Record<string, unknown> | undefined;
    expect(companion?.AwsAccountId).toBe(member.accountId);
    expect(outcomes.find((o) => o.key.startsWith(member.accountId))?.steps).toBeGreaterThan(0);
    // The new member: annotated from the administrator account, saying why its context is missing.
    expect(assumed.some((r) => r.status === 403)).toBe(true);
    expect(emu.securityHub.get(`${newArn}/trailstory-storyline`)).toBeUndefined();
    const annotated = emu.securityHub.get(newArn) as Record<string, unknown>;
    const note = annotated.Note as { Text: string; UpdatedBy: string };
    expect(note.UpdatedBy).toBe('trailstory');
    expect(note.Text).toContain(`account ${NEW_MEMBER} could not be reached in ${region}`);
    const udf = annotated.UserDefinedFields as Record<string, string>;
    expect(udf['trailstory.6.coverage']).toContain('the trailstory member role');
  });
});
