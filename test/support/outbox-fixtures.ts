/** Outbox tables, queues and messages for the outbox tests, on the shared emulators. */
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { buildMessage, type Message } from '../../lambdas/core';
import { bucketOf, formatSequence, serializeEntry } from '../../lambdas/outbox/layout';
import { uniqueName } from './emulators';

/** A table laid out like the construct's: pk/sk, stream NEW_AND_OLD_IMAGES, the sparse polling index. */
export async function createOutboxTable(client = new DynamoDBClient({})): Promise<string> {
  const TableName = uniqueName('outbox');
  await client.send(
    new CreateTableCommand({
      TableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
        { AttributeName: 'unpublished', AttributeType: 'S' },
        { AttributeName: 'pollKey', AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      GlobalSecondaryIndexes: [
        {
          IndexName: 'outbox-unpublished',
          KeySchema: [
            { AttributeName: 'unpublished', KeyType: 'HASH' },
            { AttributeName: 'pollKey', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'KEYS_ONLY' },
        },
      ],
      StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
    }),
  );
  return TableName;
}

export async function createQueue(base: string, fifo = false, sqs = new SQSClient({})): Promise<string> {
  const { QueueUrl } = await sqs.send(
    new CreateQueueCommand({
      QueueName: uniqueName(base, fifo),
      Attributes: fifo ? { FifoQueue: 'true' } : undefined,
    }),
  );
  return QueueUrl!;
}

export interface Received {
  readonly id: string;
  readonly type: string;
  readonly partitionKey?: string;
  readonly body: unknown;
  readonly groupId?: string;
  readonly deduplicationId?: string;
}

/** Receives (and deletes) until `expected` messages arrived or the queue stays empty twice. */
export async function drain(
  queueUrl: string,
  expected: number,
  sqs = new SQSClient({}),
): Promise<Received[]> {
  const received: Received[] = [];
  let empty = 0;
  while (received.length < expected && empty < 2) {
    const out = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 1,
        MessageAttributeNames: ['All'],
        MessageSystemAttributeNames: ['All'],
      }),
    );
    const messages = out.Messages ?? [];
    if (messages.length === 0) {
      empty += 1;
      continue;
    }
    empty = 0;
    for (const m of messages) {
      received.push({
        id: m.MessageAttributes?.['message-id']?.StringValue ?? '',
        type: m.MessageAttributes?.['message-type']?.StringValue ?? '',
        partitionKey: m.MessageAttributes?.['partition-key']?.StringValue,
        body: JSON.parse(m.Body ?? 'null'),
        groupId: m.Attributes?.MessageGroupId,
        deduplicationId: m.Attributes?.MessageDeduplicationId,
      });
    }
    await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
      }),
    );
  }
  return received;
}

export async function queueDepth(queueUrl: string, sqs = new SQSClient({})): Promise<number> {
  const out = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages'] }),
  );
  return Number(out.Attributes?.ApproximateNumberOfMessages ?? 0);
}

export function orderEvent(orderId: string, step: number, extra: Record<string, unknown> = {}): Message {
  return buildMessage('OrderStepped', 'event', { orderId, step, ...extra }, { source: 'test' });
}

/**
 * Writes unpublished outbox items for `aggregateId`, sequence 1..n, laid out as the unit of work
 * lays them out (for the polling publisher's tests, which need messages the unit of work refuses).
 */
export async function writeOutboxItems(
  table: string,
  aggregateId: string,
  messages: readonly Message[],
  destination: string,
  buckets = 4,
  doc = DynamoDBDocumentClient.from(new DynamoDBClient({})),
): Promise<void> {
  for (const [i, message] of messages.entries()) {
    const sequence = i + 1;
    const entry = {
      aggregateId,
      sequence,
      destination,
      message: { ...message, headers: { ...message.headers, 'partition-key': aggregateId } },
    };
    await doc.send(
      new PutCommand({
        TableName: table,
        Item: {
          pk: `OUTBOX#${aggregateId}`,
          sk: formatSequence(sequence),
          aggregateId,
          sequence,
          messageId: message.id,
          envelope: serializeEntry(entry),
          unpublished: bucketOf(aggregateId, buckets),
          pollKey: `${aggregateId}#${formatSequence(sequence)}`,
        },
      }),
    );
  }
}
