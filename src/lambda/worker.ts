/**
 * The enrich worker's logic, apart from its Lambda wiring so tests can run it against the
 * emulator and a real DynamoDB-compatible server: each SQS record is one finding, enriched
 * once per idempotency key (Powertools idempotency on DynamoDB), failures reported as partial
 * batch failures (Powertools batch) so SQS retries them, and after `maxReceives` sent to the
 * dead-letter queue with their reason instead. A finding seen before its CloudTrail events can
 * be visible is queued again with a delay.
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { AthenaClient } from '@aws-sdk/client-athena';
import { CloudTrailClient } from '@aws-sdk/client-cloudtrail';
import { DetectiveClient } from '@aws-sdk/client-detective';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GuardDutyClient } from '@aws-sdk/client-guardduty';
import { S3Client } from '@aws-sdk/client-s3';
import { SecurityHubClient } from '@aws-sdk/client-securityhub';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { ClientOverrides, ClientSet } from '../clients';
import { AccountClients } from '../clients/accounts';
import { partitionOf } from '../findings/common';
import type { Config } from '../config';
import { enrichFinding } from '../enrich/enrich';
import { CloudTrailLookupSource } from '../sources/cloudtrail-lookup';
import { SharedQueries } from '../sources/athena';
import { trailSourceOf } from '../sources/choose';
import type { SourceUsage } from '../sources/types';
import { DetectiveSource } from '../sources/detective';
import { RateBudget, realTimer, type Timer } from '../sources/rate';
import { loadEventMap } from '../storyline/tactics';
import type { Storyline } from '../model/storyline';
import { S3EvidenceStore } from '../report/evidence';
import { putReport } from '../report/s3';
import { messageFor, type EnrichMessage } from './messages';

/** What one record's enrichment came to. */
export interface RecordOutcome {
  key: string;
  steps: number;
  requests: Record<string, number>;
  recheckQueued: boolean;
  /** What a querying trail source spent (Athena, Security Lake). */
  usage?: SourceUsage;
}

/** Options of {@link makeWorker}: an observer of each record's outcome, and the clock (tests fix it). */
export interface WorkerOptions {
  onOutcome?: (o: RecordOutcome) => void;
  timer?: Timer;
  /** The functions' own credentials when not the default chain (tests, the demo): the base for member-role AssumeRole. */
  ownCredentials?: { accessKeyId: string; secretAccessKey: string };
  /** Client settings for member-account clients (tests: the emulator's endpoint). */
  memberOverrides?: ClientOverrides;
}

/**
 * The SDK clients the worker uses, in its own account and (the same services) in member accounts;
 * its function's bundle holds these, DynamoDB's for the idempotency table, and no other. The
 * member role's credentials come from the SDK's credential provider (its own STS client).
 */
export const WORKER_CLIENTS = { athena: AthenaClient, cloudTrail: CloudTrailClient, securityHub: SecurityHubClient, detective: DetectiveClient, guardDuty: GuardDutyClient, sqs: SQSClient, s3: S3Client };

/** Builds the SQS batch handler. `dynamo`: the client for the idempotency table. */
export function makeWorker(config: Readonly<Config>, clients: ClientSet<keyof typeof WORKER_CLIENTS>, dynamo: DynamoDBClient, opts: WorkerOptions = {}) {
  const onOutcome = opts.onOutcome ?? (() => undefined);
  const timer = opts.timer ?? realTimer;
  if (!config.idempotencyTable) throw new Error('IDEMPOTENCY_TABLE is not set');
  const persistenceStore = new DynamoDBPersistenceLayer({ tableName: config.idempotencyTable, awsSdkV3Client: dynamo });
  const idempotency = new IdempotencyConfig({ eventKeyJmesPath: 'key', expiresAfterSeconds: 7 * 24 * 3600 });
  const budget = new RateBudget(2, 2, timer);
  const eventMap = loadEventMap();
  const processor = new BatchProcessor(EventType.SQS);
  /** No new CloudTrail request starts after this (epoch ms): the invocation's time, less a margin for the writes. */
  let deadline = Infinity;
  /** The findings of one batch share their Athena rounds (one query for all of them a round). */
  let shared = new SharedQueries();
  const reportRegion = process.env.AWS_REGION ?? 'us-east-1';
  // In an organisation: the finding's own account through its member role.
  const accounts = config.ownAccountId
    ? new AccountClients(
        config,
        clients,
        { ownAccount: config.ownAccountId, memberRoleName: config.memberRoleName, externalId: config.memberExternalId, partition: partitionOf(reportRegion) },
        opts.ownCredentials,
        opts.memberOverrides,
      )
    : null;
  const detective = config.useDetective ? new DetectiveSource((r) => clients.detective(r), timer) : null;


  const enrichOnce = makeIdempotent(
    async (msg: EnrichMessage): Promise<RecordOutcome> => {
      const f = msg.finding;
      const own = accounts ? accounts.for(f.accountId, f.region) : clients;
      const trail = trailSourceOf(config, f, { lookup: () => new CloudTrailLookupSource((r) => own.cloudTrail(r), budget, { extraRegions: config.lookupExtraRegions, deadline }, timer), athena: (region) => clients.athena(region), deadline, timer, shared });
      const bucket = config.reportBucket;
      const report = bucket ? (st: Storyline, now: string) => putReport(clients.s3(), bucket, reportRegion, st, now) : undefined;
      const outcome = await enrichFinding(f, {
        trail,
        securityHub: clients.securityHub(f.region),
        securityHubImport: own.securityHub(f.region),
        memberAccount: f.accountId,
        guardDuty: clients.guardDuty(f.region),
        eventMap,
        now: () => new Date(timer.now()),
        report,
        // Detective's behavior graph lives in the administrator account: its own clients.
        detective: detective ?? undefined,
        evidence: bucket ? new S3EvidenceStore(clients.s3(), bucket) : undefined,
        previousInvestigationId: msg.investigationId,
        target: config.securityHubTarget,
        v2: { setSeverity: config.v2SetSeverity, setStatus: config.v2SetStatus },
      });
      if (outcome.result.failures.length > 0) {
        throw new Error(`Security Hub refused: ${outcome.result.failures.map((x) => `${x.stage} ${x.errorCode}: ${x.errorMessage}`).join('; ')}`);
      }
      let recheckQueued = false;
      if (outcome.incomplete && msg.pass < 2) {
        await clients.sqs().send(
          new SendMessageCommand({
            QueueUrl: config.enrichQueueUrl,
            DelaySeconds: config.reenrichDelaySeconds,
            MessageBody: JSON.stringify(messageFor(f, 'recheck', msg.pass + 1, outcome.detective?.investigationId)),
          }),
        );
        recheckQueued = true;
      }
      return { key: msg.key, steps: outcome.storyline.steps.length, requests: outcome.requests, recheckQueued, ...(outcome.usage ? { usage: outcome.usage } : {}) };
    },
    { persistenceStore, config: idempotency },
  );

  const recordHandler = async (record: SQSRecord): Promise<void> => {
    let msg: EnrichMessage;
    try {
      msg = JSON.parse(record.body) as EnrichMessage;
      if (!msg || typeof msg.key !== 'string' || !msg.finding) throw new Error('not an enrich message');
    } catch (e) {
      await deadLetter(record, `malformed message: ${(e as Error).message}`);
      return;
    }
    try {
      onOutcome(await enrichOnce(msg));
    } catch (e) {
      const receives = Number(record.attributes?.ApproximateReceiveCount ?? '1');
      if (receives >= config.maxReceives) {
        await deadLetter(record, `${(e as Error).name}: ${(e as Error).message}`);
        return;
      }
      throw e;
    }
  };

  const deadLetter = async (record: SQSRecord, reason: string): Promise<void> => {
    if (!config.enrichDlqUrl) throw new Error(`no ENRICH_DLQ_URL for a failed message (${reason})`);
    await clients.sqs().send(
      new SendMessageCommand({
        QueueUrl: config.enrichDlqUrl,
        MessageBody: record.body,
        MessageAttributes: { reason: { DataType: 'String', StringValue: reason.slice(0, 1024) } },
      }),
    );
  };

  return async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    idempotency.registerLambdaContext(context);
    const remaining = context.getRemainingTimeInMillis();
    deadline = timer.now() + Math.max(0, remaining - Math.min(60_000, remaining / 4));
    // The batch's findings share their rounds: a round's queries wait (500 ms at most) for them all.
    shared = new SharedQueries(500, event.Records.length);
    // A batch whose every record failed is answered like any other (each record reported), not
    // thrown: the same redelivery, without a function error that slows the event source mapping.
    return processPartialResponse(event, recordHandler, processor, { context, throwOnFullBatchFailure: false });
  };
}
