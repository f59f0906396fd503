/**
 * The fair baseline for the local cloud (issue 13): a hand-written script that makes the AWS
 * calls the food-delivery example makes per order, against the same emulators, with no function
 * host, no event source mapping emulation and no IAM gateway. Per order:
 *
 * 1. place-order: TransactWriteItems (one Put) of the order with its outbox messages (Orders table,
 *    stream on);
 * 2. outbox relay: GetRecords on the Orders stream, per page PublishBatch of the OrderCreated events
 *    to the FIFO order-events topic (fan-out to the history FIFO queue) and SendMessageBatch of the
 *    CreateTicket commands to kitchen-commands;
 * 3. kitchen: ReceiveMessage (10), per message TransactWriteItems (Put of the processed-message
 *    record, 2 Updates of the ticket), Publish TicketAccepted to kitchen-events (fan-out to
 *    notifications), SendMessage TicketCreated to order-replies, then DeleteMessageBatch;
 * 4. order-replies: ReceiveMessage, per message GetItem + TransactWriteItems (one Put) of the order
 *    with OrderApproved in its outbox, DeleteMessageBatch; the relay reads it from the stream and
 *    publishes OrderApproved;
 * 5. order-history: ReceiveMessage on the FIFO queue, UpdateItem per event, DeleteMessageBatch;
 * 6. notifications: ReceiveMessage, PutItem per TicketAccepted, DeleteMessageBatch.
 *
 * Five deliveries per order, as in the example (CreateTicket, TicketCreated, OrderCreated,
 * OrderApproved, TicketAccepted). The operations match what the IAM gateway saw in a 100-order run of
 * the example (README, "Local cloud performance"); bodies are of similar size. The example's
 * order-history also retries some conditional updates (2.5 UpdateItem per order, not 2), which this
 * baseline does not: the baseline is, if anything, a little cheaper than the example's exact work.
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
  TransactWriteItemsCommand,
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
  PublishBatchCommand,
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
  SendMessageBatchCommand,
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

/** Reads the Orders stream from its start; hands each page of new records to `onPage`, until `stop()`. */
function tailStream(
  clients: BaselineClients,
  tableName: string,
  onPage: (records: _Record[]) => Promise<void>,
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
      if (records.length > 0) await onPage(records);
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

  const relay = tailStream(clients, resources.tables.orders, async (records) => {
    // As the relay does: one PublishBatch / SendMessageBatch per channel and 10 entries.
    const events: { Id: string; Message: string; MessageGroupId: string; MessageDeduplicationId: string }[] =
      [];
    const commands: { Id: string; MessageBody: string }[] = [];
    for (const record of records) {
      const image = record.dynamodb?.NewImage;
      const outbox = image?.outbox?.S;
      if (!outbox || record.eventName === 'REMOVE') continue;
      const orderId = image.pk!.S!;
      for (const m of JSON.parse(outbox) as { type: string; body: string }[]) {
        const Id = String(events.length + commands.length);
        if (m.type === 'CreateTicket') commands.push({ Id, MessageBody: m.body });
        else
          events.push({ Id, Message: m.body, MessageGroupId: orderId, MessageDeduplicationId: randomUUID() });
      }
    }
    const chunks = <T>(items: T[]) =>
      Array.from({ length: Math.ceil(items.length / 10) }, (_, i) => items.slice(i * 10, i * 10 + 10));
    await Promise.all([
      ...chunks(events).map((entries) =>
        sns.send(
          new PublishBatchCommand({
            TopicArn: resources.topics.orderEvents,
            PublishBatchRequestEntries: entries,
          }),
        ),
      ),
      ...chunks(commands).map((entries) =>
        sqs.send(new SendMessageBatchCommand({ QueueUrl: resources.queues.kitchen, Entries: entries })),
      ),
    ]);
  });
  const kitchen = consume(sqs, resources.queues.kitchen, pollers, async (message) => {
    deliveries += 1;
    const { payload } = bodyOf(message);
    const ticketId = randomUUID();
    const now = s(new Date().toISOString());
    const ticketUpdate = (pk: string, status: string) => ({
      Update: {
        TableName: resources.tables.tickets,
        Key: { pk: s(pk) },
        UpdateExpression: 'SET ticketId = :t, orderId = :o, #s = :s, updatedAt = :u',
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: {
          ':t': s(ticketId),
          ':o': s(payload.orderId!),
          ':s': s(status),
          ':u': now,
        },
      },
    });
    await dynamodb.send(
      new TransactWriteItemsCommand({
        TransactItems: [
          {
            Put: {
              TableName: resources.tables.processed,
              Item: {
                pk: s(message.MessageId!),
                expiresAt: { N: String(Math.floor(Date.now() / 1000) + 86_400) },
              },
              ConditionExpression: 'attribute_not_exists(pk)',
            },
          },
          ticketUpdate(payload.orderId!, 'ACCEPTED'),
          ticketUpdate(ticketId, 'ACCEPTED'),
        ],
      }),
    );
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
      new TransactWriteItemsCommand({
        TransactItems: [
          {
            Put: {
              TableName: resources.tables.orders,
              Item: {
                ...key,
                status: s('APPROVED'),
                ticketId: s(payload.ticketId!),
                outbox: s(
                  JSON.stringify([{ type: 'OrderApproved', body: envelope('OrderApproved', payload) }]),
                ),
              },
            },
          },
        ],
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
        new TransactWriteItemsCommand({
          TransactItems: [
            {
              Put: {
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
              },
            },
          ],
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
