/** Shared fixtures of the idempotency tests: tables, messages, handler contexts, a throttling client. */
import { CreateTableCommand, DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import type { SQSRecord } from 'aws-lambda';
import type { HandlerContext, Logger } from '../lambdas/consumer/types';
import { buildMessage, type Message } from '../lambdas/core/message';
import { toWire } from '../lambdas/core/wire';
import { uniqueName } from './support/emulators';
import { fakeContext } from './support/lambda-context';

export const ddb = new DynamoDBClient({});

/** A table with string partition key `pk`, like the processed-messages table and the business tables here. */
export async function createTable(base: string, client: DynamoDBClient = ddb): Promise<string> {
  const TableName = uniqueName(base);
  await client.send(
    new CreateTableCommand({
      TableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
    }),
  );
  return TableName;
}

export async function getItem(table: string, pk: string) {
  const { Item } = await ddb.send(
    new GetItemCommand({ TableName: table, Key: { pk: { S: pk } }, ConsistentRead: true }),
  );
  return Item;
}

export async function counterOf(table: string, pk: string): Promise<number> {
  return Number((await getItem(table, pk))?.count?.N ?? 0);
}

export interface RecordingLogger extends Logger {
  readonly lines: { level: string; message: string; fields?: Record<string, unknown> }[];
}

export function recordingLogger(): RecordingLogger {
  const lines: RecordingLogger['lines'] = [];
  return {
    lines,
    info: (message, fields) => lines.push({ level: 'info', message, fields }),
    warn: (message, fields) => lines.push({ level: 'warn', message, fields }),
    error: (message, fields) => lines.push({ level: 'error', message, fields }),
  };
}

export function handlerContext(consumerName: string, logger: Logger = recordingLogger()): HandlerContext {
  return { consumerName, record: {} as SQSRecord, lambdaContext: fakeContext(), logger };
}

export function counterMessage(
  item: string,
  options: { partitionKey?: string; seq?: number } = {},
): Message<{
  item: string;
  seq: number;
}> {
  return buildMessage(
    'CounterIncremented',
    'event',
    { item, seq: options.seq ?? 0 },
    { partitionKey: options.partitionKey },
  );
}

/** An SQS record as Lambda delivers it from a FIFO queue (headers in message attributes). */
export function fifoRecord(message: Message, groupId: string, receiveCount = 1): SQSRecord {
  const wire = toWire(message);
  const messageAttributes: SQSRecord['messageAttributes'] = {};
  for (const [name, attribute] of Object.entries(wire.attributes)) {
    messageAttributes[name] = { dataType: 'String', stringValue: attribute.StringValue };
  }
  return {
    messageId: `sqs-${message.id}`,
    receiptHandle: `rh-${message.id}-${receiveCount}`,
    body: wire.body,
    attributes: {
      ApproximateReceiveCount: String(receiveCount),
      SentTimestamp: String(Date.now()),
      SenderId: 'test',
      ApproximateFirstReceiveTimestamp: String(Date.now()),
      MessageGroupId: groupId,
      MessageDeduplicationId: message.id,
      SequenceNumber: '1',
    },
    messageAttributes,
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:orders.fifo',
    awsRegion: 'us-east-1',
  };
}

/**
 * A client whose next `count` sends fail with `makeError()` before reaching DynamoDB. Only for what
 * DynamoDB Local cannot produce: throttling, and transaction conflicts (it serializes transactions).
 */
export function failingClient(count: number, makeError: () => Error): DynamoDBClient {
  const client = new DynamoDBClient({ maxAttempts: 1 });
  let remaining = count;
  client.middlewareStack.add(
    (next) => async (args) => {
      if (remaining > 0) {
        remaining--;
        throw makeError();
      }
      return next(args);
    },
    { step: 'initialize', name: 'injectThrottle' },
  );
  return client;
}

/** Runs `fn` until it resolves, like SQS redelivering a failed record; returns the failures seen. */
export async function redeliverUntilDone(fn: () => Promise<void>, maxDeliveries = 20): Promise<unknown[]> {
  const failures: unknown[] = [];
  for (let i = 0; i < maxDeliveries; i++) {
    try {
      await fn();
      return failures;
    } catch (error) {
      failures.push(error);
    }
  }
  throw new Error(`Still failing after ${maxDeliveries} deliveries: ${String(failures.at(-1))}`);
}
