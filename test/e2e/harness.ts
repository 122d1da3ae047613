/**
 * What the end-to-end tests need around the worker: a real DynamoDB-compatible server
 * (dynalite) with the idempotency table, SQS events as Lambda delivers them, a Lambda context.
 */
import type { AddressInfo, Server } from 'node:net';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Context, SQSEvent } from 'aws-lambda';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const dynalite = require('dynalite') as (opts: { createTableMs: number; deleteTableMs?: number; updateTableMs?: number }) => Server;

/** A dynalite server with the idempotency table `table` (partition key `id`, as Powertools uses it). */
export async function startDynamo(table: string): Promise<{ server: Server; client: DynamoDBClient; stop: () => Promise<void> }> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const client = new DynamoDBClient({ endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, region: 'us-east-1', credentials: { accessKeyId: 'l', secretAccessKey: 'l' } });
  await client.send(new CreateTableCommand({ TableName: table, AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }], KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }], BillingMode: 'PAY_PER_REQUEST' }));
  return { server, client, stop: () => new Promise<void>((r) => server.close(() => r())) };
}

/**
 * An SQS event of these message bodies as the event source mapping delivers it (record `i` has
 * messageId `m<i>`); `receives`: the receive count of every record, or of each.
 */
export function sqsEvent(bodies: string[], region: string, receives: number | number[] = 1): SQSEvent {
  return {
    Records: bodies.map((body, i) => ({
      messageId: `m${i}`, receiptHandle: `r${i}`, body, md5OfBody: '', eventSource: 'aws:sqs', eventSourceARN: 'arn:aws:sqs:x', awsRegion: region, messageAttributes: {},
      attributes: { ApproximateReceiveCount: String(Array.isArray(receives) ? receives[i] : receives), SentTimestamp: '0', SenderId: 'x', ApproximateFirstReceiveTimestamp: '0' },
    })),
  };
}

/** A Lambda context with `remainingMs` left. */
export function lambdaContext(name: string, remainingMs = 900_000): Context {
  return { functionName: name, awsRequestId: name, getRemainingTimeInMillis: () => remainingMs } as unknown as Context;
}
