/**
 * The fair baseline for the local cloud (issue 13): a hand-written script that makes the AWS
 * calls the food-delivery example makes per order, against the same emulators, with no function
 * host, no event source mapping emulation and no IAM gateway. Per order:
 *
 * 1. place-order: PutItem of the order with its outbox messages (Orders table, stream on);
 * 2. outbox relay: GetRecords on the Orders stream, Publish OrderCreated to the FIFO order-events
 *    topic (fan-out to the history FIFO queue), SendMessage CreateTicket to kitchen-commands;
 * 3. kitchen: ReceiveMessage (10), per message PutItem (processed-message record), 2 UpdateItem
 *    (ticket), Publish TicketAccepted to kitchen-events (fan-out to notifications), SendMessage
 *    TicketCreated to order-replies, then DeleteMessageBatch;
 * 4. order-replies: ReceiveMessage, per message GetItem + PutItem of the order with OrderApproved in
 *    its outbox, DeleteMessageBatch; the relay reads it from the stream and publishes OrderApproved;
 * 5. order-history: ReceiveMessage on the FIFO queue, UpdateItem per event, DeleteMessageBatch;
 * 6. notifications: ReceiveMessage, PutItem per TicketAccepted, DeleteMessageBatch.
 *
 * Five deliveries per order, as in the example (CreateTicket, TicketCreated, OrderCreated,
 * OrderApproved, TicketAccepted). The counts match what the IAM gateway recorded for a 100-order
 * run of the example (see the README's performance section); bodies are of similar size.
 *
 * @example
 * const result = await runBaseline({ dynamodb, streams, sns, sqs }, { orders: 500 });
 */
import { randomBytes, randomUUID } from 'node:crypto';
import {
  CreateTableCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import {
  type _Record,
  DescribeStreamCommand,
  type DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
} from '@aws-sdk/client-dynamodb-streams';
import {
  CreateTopicCommand,
  DeleteTopicCommand,
  PublishCommand,
  type SNSClient,
  SubscribeCommand,
} from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';

export interface BaselineClients {
  readonly dynamodb: DynamoDBClient;
  readonly streams: DynamoDBStreamsClient;
  readonly sns: SNSClient;
  readonly sqs: SQSClient;
}

export interface BaselineResult {
  readonly orders: number;
  readonly completed: number;
  /** Deliveries to consumers (five per order). */
  readonly deliveries: number;
  readonly durationMs: number;
  readonly ordersPerSecond: number;
  readonly messagesPerSecond: number;
}

interface Resources {
  readonly tables: Record<'orders' | 'tickets' | 'history' | 'notifications' | 'processed', string>;
  readonly topics: Record<'orderEvents' | 'kitchenEvents', string>;
  readonly queues: Record<'kitchen' | 'replies' | 'history' | 'notifications', string>;
}

const PAD = 'x'.repeat(300);

function envelope(type: string, payload: Record<string, unknown>): string {
  // About the size of a Switchyard envelope: id, type, headers, payload.
  return JSON.stringify({
    id: randomUUID(),
    type,
    occurredAt: new Date().toISOString(),
    headers: { pad: PAD },
    payload,
  });
}

async function createResources(clients: BaselineClients): Promise<Resources> {
  const suffix = randomBytes(4).toString('hex');
  const table = async (name: string, withStream = false): Promise<string> => {
    const TableName = `baseline-${name}-${suffix}`;
    await clients.dynamodb.send(
      new CreateTableCommand({
        TableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: 'pk', AttributeType: 'S' },
          ...(withStream ? [{ AttributeName: 'sk', AttributeType: 'S' as const }] : []),
        ],
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          ...(withStream ? [{ AttributeName: 'sk', KeyType: 'RANGE' as const }] : []),
        ],
        ...(withStream
          ? { StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' } }
          : {}),
      }),
    );
    return TableName;
  };
  const queue = async (name: string, fifo = false): Promise<string> => {
    const { QueueUrl } = await clients.sqs.send(
      new CreateQueueCommand({
        QueueName: `baseline-${name}-${suffix}${fifo ? '.fifo' : ''}`,
        Attributes: fifo ? { FifoQueue: 'true', ContentBasedDeduplication: 'false' } : {},
      }),
    );
    return QueueUrl!;
  };
  const topic = async (name: string, fifo = false): Promise<string> => {
    const { TopicArn } = await clients.sns.send(
      new CreateTopicCommand({
        Name: `baseline-${name}-${suffix}${fifo ? '.fifo' : ''}`,
        Attributes: fifo ? { FifoTopic: 'true' } : {},
      }),
    );
    return TopicArn!;
  };
  const [orders, tickets, history, notifications, processed] = await Promise.all([
    table('orders', true),
    table('tickets'),
    table('history'),
    table('notifications'),
    table('processed'),
  ]);
  const [orderEvents, kitchenEvents] = await Promise.all([
    topic('order-events', true),
    topic('kitchen-events'),
  ]);
  const [kitchen, replies, historyQueue, notificationsQueue] = await Promise.all([
    queue('kitchen'),
    queue('replies'),
    queue('history', true),
    queue('notifications'),
  ]);
  const subscribe = async (topicArn: string, queueUrl: string) => {
    const { Attributes } = await clients.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }),
    );
    await clients.sns.send(
      new SubscribeCommand({ TopicArn: topicArn, Protocol: 'sqs', Endpoint: Attributes!.QueueArn! }),
    );
  };
  await Promise.all([subscribe(orderEvents, historyQueue), subscribe(kitchenEvents, notificationsQueue)]);
  return {
    tables: { orders, tickets, history, notifications, processed },
    topics: { orderEvents, kitchenEvents },
    queues: { kitchen, replies, history: historyQueue, notifications: notificationsQueue },
  };
}

async function deleteResources(clients: BaselineClients, resources: Resources): Promise<void> {
  await Promise.allSettled([
    ...Object.values(resources.tables).map((TableName) =>
      clients.dynamodb.send(new DeleteTableCommand({ TableName })),
    ),
    ...Object.values(resources.topics).map((TopicArn) =>
      clients.sns.send(new DeleteTopicCommand({ TopicArn })),
    ),
    ...Object.values(resources.queues).map((QueueUrl) =>
      clients.sqs.send(new DeleteQueueCommand({ QueueUrl })),
    ),
  ]);
}

/** Reads the Orders stream from its start; hands each new record to `onRecord`, until `stop()`. */
function tailStream(
  clients: BaselineClients,
  tableName: string,
  onRecord: (record: _Record) => Promise<void>,
): { stop(): Promise<void> } {
  let running = true;
  const loop = (async () => {
    const { Table } = await clients.dynamodb.send(new DescribeTableCommand({ TableName: tableName }));
    const { StreamDescription } = await clients.streams.send(
      new DescribeStreamCommand({ StreamArn: Table!.LatestStreamArn! }),
    );
    const shardId = StreamDescription!.Shards![0]!.ShardId!;
    let { ShardIterator: iterator } = await clients.streams.send(
      new GetShardIteratorCommand({
        StreamArn: Table!.LatestStreamArn!,
        ShardId: shardId,
        ShardIteratorType: 'TRIM_HORIZON',
      }),
    );
    while (running && iterator) {
      const page = await clients.streams.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 100 }));
      iterator = page.NextShardIterator;
      const records = page.Records ?? [];
      // The relay publishes a batch's records concurrently except for ordering within one order.
      await Promise.all(records.map(onRecord));
      if (records.length === 0) await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
    },
  };
}

/** Long-polls a queue with `pollers` loops of 10, handles each message, deletes each batch. */
function consume(
  sqs: SQSClient,
  queueUrl: string,
  pollers: number,
  handle: (message: Message) => Promise<void>,
): { stop(): Promise<void> } {
  let running = true;
  const poll = async () => {
    while (running) {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
      );
      if (Messages.length === 0) continue;
      await Promise.all(Messages.map(handle));
      await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
        }),
      );
    }
  };
  const loops = Array.from({ length: pollers }, poll);
  return {
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}

function bodyOf(message: Message): { type: string; payload: Record<string, string> } {
  const body = JSON.parse(message.Body ?? '{}') as { Type?: string; Message?: string };
  const inner = body.Type === 'Notification' && body.Message ? JSON.parse(body.Message) : body;
  return inner as { type: string; payload: Record<string, string> };
}

/**
 * Runs `orders` orders through the hand-written flow with `concurrency` placements in flight and
 * resolves when every order is in the history view as APPROVED with its notification written.
 */
export async function runBaseline(
  clients: BaselineClients,
  options: { orders: number; concurrency?: number; pollers?: number; timeoutMs?: number },
): Promise<BaselineResult> {
  const resources = await createResources(clients);
  const { dynamodb, sns, sqs } = clients;
  const pollers = options.pollers ?? 4;
  const approved = new Set<string>();
  const notified = new Set<string>();
  let deliveries = 0;
  let finish: () => void = () => undefined;
  const allDone = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const checkDone = () => {
    if (approved.size >= options.orders && notified.size >= options.orders) finish();
  };
  const s = (value: string) => ({ S: value });

  const relay = tailStream(clients, resources.tables.orders, async (record) => {
    const image = record.dynamodb?.NewImage;
    const outbox = image?.outbox?.S;
    if (!outbox || record.eventName === 'REMOVE') return;
    const orderId = image.pk!.S!;
    const messages = JSON.parse(outbox) as { type: string; body: string }[];
    await Promise.all(
      messages.map((m) =>
        m.type === 'CreateTicket'
          ? sqs.send(new SendMessageCommand({ QueueUrl: resources.queues.kitchen, MessageBody: m.body }))
          : sns.send(
              new PublishCommand({
                TopicArn: resources.topics.orderEvents,
                Message: m.body,
                MessageGroupId: orderId,
                MessageDeduplicationId: randomUUID(),
              }),
            ),
      ),
    );
  });
  const kitchen = consume(sqs, resources.queues.kitchen, pollers, async (message) => {
    deliveries += 1;
    const { payload } = bodyOf(message);
    const ticketId = randomUUID();
    await dynamodb.send(
      new PutItemCommand({
        TableName: resources.tables.processed,
        Item: { pk: s(message.MessageId!), expiresAt: { N: String(Math.floor(Date.now() / 1000) + 86_400) } },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
    for (const status of ['CREATED', 'ACCEPTED']) {
      await dynamodb.send(
        new UpdateItemCommand({
          TableName: resources.tables.tickets,
          Key: { pk: s(payload.orderId!) },
          UpdateExpression: 'SET ticketId = :t, #s = :s, updatedAt = :u',
          ExpressionAttributeNames: { '#s': 'status' },
          ExpressionAttributeValues: {
            ':t': s(ticketId),
            ':s': s(status),
            ':u': s(new Date().toISOString()),
          },
        }),
      );
    }
    await Promise.all([
      sns.send(
        new PublishCommand({
          TopicArn: resources.topics.kitchenEvents,
          Message: envelope('TicketAccepted', { orderId: payload.orderId!, ticketId }),
        }),
      ),
      sqs.send(
        new SendMessageCommand({
          QueueUrl: resources.queues.replies,
          MessageBody: envelope('TicketCreated', { orderId: payload.orderId!, ticketId }),
        }),
      ),
    ]);
  });
  const replies = consume(sqs, resources.queues.replies, pollers, async (message) => {
    deliveries += 1;
    const { payload } = bodyOf(message);
    const key = { pk: s(payload.orderId!), sk: s('order') };
    await dynamodb.send(
      new GetItemCommand({ TableName: resources.tables.orders, Key: key, ConsistentRead: true }),
    );
    await dynamodb.send(
      new PutItemCommand({
        TableName: resources.tables.orders,
        Item: {
          ...key,
          status: s('APPROVED'),
          ticketId: s(payload.ticketId!),
          outbox: s(JSON.stringify([{ type: 'OrderApproved', body: envelope('OrderApproved', payload) }])),
        },
      }),
    );
  });
  const history = consume(sqs, resources.queues.history, pollers, async (message) => {
    deliveries += 1;
    const { type, payload } = bodyOf(message);
    await dynamodb.send(
      new UpdateItemCommand({
        TableName: resources.tables.history,
        Key: { pk: s(payload.orderId!) },
        UpdateExpression: 'SET #s = :s, events = list_append(if_not_exists(events, :none), :e)',
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: {
          ':s': s(type === 'OrderApproved' ? 'APPROVED' : 'PENDING'),
          ':e': { L: [s(type)] },
          ':none': { L: [] },
        },
      }),
    );
    if (type === 'OrderApproved') {
      approved.add(payload.orderId!);
      checkDone();
    }
  });
  const notifications = consume(sqs, resources.queues.notifications, pollers, async (message) => {
    deliveries += 1;
    const { payload } = bodyOf(message);
    await dynamodb.send(
      new PutItemCommand({
        TableName: resources.tables.notifications,
        Item: { pk: s(payload.ticketId!), orderId: s(payload.orderId!), sentAt: s(new Date().toISOString()) },
      }),
    );
    notified.add(payload.ticketId!);
    checkDone();
  });

  const started = Date.now();
  let next = 0;
  const place = async () => {
    while (next < options.orders) {
      next += 1;
      const orderId = randomUUID();
      const created = envelope('OrderCreated', { orderId });
      await dynamodb.send(
        new PutItemCommand({
          TableName: resources.tables.orders,
          Item: {
            pk: s(orderId),
            sk: s('order'),
            status: s('PENDING'),
            outbox: s(
              JSON.stringify([
                { type: 'OrderCreated', body: created },
                { type: 'CreateTicket', body: envelope('CreateTicket', { orderId }) },
              ]),
            ),
          },
        }),
      );
    }
  };
  await Promise.all(Array.from({ length: options.concurrency ?? 20 }, place));
  const timeout = new Promise<void>((resolve) => setTimeout(resolve, options.timeoutMs ?? 120_000).unref());
  await Promise.race([allDone, timeout]);
  const durationMs = Date.now() - started;
  await Promise.all([relay.stop(), kitchen.stop(), replies.stop(), history.stop(), notifications.stop()]);
  await deleteResources(clients, resources);
  const completed = Math.min(approved.size, notified.size);
  const seconds = durationMs / 1000;
  return {
    orders: options.orders,
    completed,
    deliveries,
    durationMs,
    ordersPerSecond: Math.round((completed / seconds) * 10) / 10,
    messagesPerSecond: Math.round((deliveries / seconds) * 10) / 10,
  };
}
