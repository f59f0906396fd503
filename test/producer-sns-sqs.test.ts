/**
 * The SNS/SQS producer over the emulator: messages are sent for real, received with ReceiveMessage,
 * turned into the SQS event Lambda would deliver and run through the consumer handler.
 */
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { z } from 'zod';
import {
  ConfigurationError,
  channelEnvironmentVariable,
  channelFromEnvironment,
  createConsumer,
  createProducer,
  defineCommand,
  defineEvent,
  type Message,
  MessageLimitError,
  MissingPartitionKeyError,
  on,
} from '../lambdas';
import { uniqueName } from './support/emulators';
import { fakeContext } from './support/lambda-context';
import { queueArnOf, receiveAll, receiveAsSqsEvent, toSqsEvent } from './support/sqs-event';

const OrderPlaced = defineEvent({
  type: 'OrderPlaced',
  schema: z.object({ orderId: z.string(), total: z.number() }),
  partitionKey: (p) => p.orderId,
});
const NoteAdded = defineCommand({ type: 'NoteAdded', schema: z.object({ text: z.string() }) });

// fauxqs 1.9.2 answers queue URLs on sqs.<region>.localhost, which does not resolve here: send to the
// configured endpoint (AWS_ENDPOINT_URL_SQS) and pass the URL only as a parameter.
const sqs = new SQSClient({ useQueueUrlAsEndpoint: false });
const sns = new SNSClient({});
const producer = createProducer({ sns, sqs, baseDelayMs: 1 });

async function createQueue(base: string, fifo = false): Promise<string> {
  const out = await sqs.send(
    new CreateQueueCommand({
      QueueName: uniqueName(base, fifo),
      Attributes: fifo ? { FifoQueue: 'true' } : undefined,
    }),
  );
  return out.QueueUrl!;
}

async function createTopic(base: string, fifo = false): Promise<string> {
  const out = await sns.send(
    new CreateTopicCommand({
      Name: uniqueName(base, fifo),
      Attributes: fifo ? { FifoTopic: 'true' } : undefined,
    }),
  );
  return out.TopicArn!;
}

async function subscribe(topicArn: string, queueUrl: string, raw: boolean): Promise<void> {
  await sns.send(
    new SubscribeCommand({
      TopicArn: topicArn,
      Protocol: 'sqs',
      Endpoint: await queueArnOf(sqs, queueUrl),
      Attributes: { RawMessageDelivery: raw ? 'true' : 'false' },
    }),
  );
}

/** A consumer that records what it handled, in order. */
function recordingConsumer() {
  const handled: Message[] = [];
  const consumer = createConsumer({
    name: 'test-consumer',
    handlers: [on(OrderPlaced, (m) => void handled.push(m)), on(NoteAdded, (m) => void handled.push(m))],
    logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
  });
  return { handled, consumer };
}

const orders = (n: number, prefix = 'o') =>
  Array.from({ length: n }, (_, i) => OrderPlaced.create({ orderId: `${prefix}-${i}`, total: i }));

describe('producer: SQS point-to-point', () => {
  it('sends one message whose payload, headers and type reach the consumer handler', async () => {
    // GIVEN
    const queueUrl = await createQueue('p2p');
    const message = OrderPlaced.create({ orderId: 'o-1', total: 12.5 }, { replyTo: 'https://reply.example' });
    // WHEN
    const result = await producer.send(queueUrl, message);
    const event = await receiveAsSqsEvent(sqs, queueUrl, 1);
    const { handled, consumer } = recordingConsumer();
    const response = await consumer.handler(event, fakeContext());
    // THEN
    expect(result.id).toBe(message.id);
    expect(result.providerMessageId).toBe(event.Records[0]!.messageId);
    expect(event.Records[0]!.body).toBe('{"orderId":"o-1","total":12.5}');
    expect(response).toEqual({ batchItemFailures: [] });
    expect(handled).toHaveLength(1);
    expect(handled[0]).toEqual({
      id: message.id,
      type: 'OrderPlaced',
      kind: 'event',
      headers: message.headers,
      payload: { orderId: 'o-1', total: 12.5 },
    });
  });

  it('sends 25 messages in 3 SendMessageBatch requests and all are handled', async () => {
    const queueUrl = await createQueue('p2p-batch');
    const messages = orders(25);
    const result = await producer.sendBatch(queueUrl, messages);
    expect(result.requests).toBe(3);
    expect(result.failed).toEqual([]);
    expect(result.successful.map((s) => s.id).sort()).toEqual(messages.map((m) => m.id).sort());

    const event = await receiveAsSqsEvent(sqs, queueUrl, 25);
    const { handled, consumer } = recordingConsumer();
    expect(await consumer.handler(event)).toEqual({ batchItemFailures: [] });
    expect(handled.map((m) => m.id).sort()).toEqual(messages.map((m) => m.id).sort());
  });

  it("splits a batch by the queue's 1 MiB request limit, not only by 10 entries", async () => {
    const queueUrl = await createQueue('p2p-big');
    // ~300 KB each: three fit in one 1 MiB request, a fourth would not.
    const messages = Array.from({ length: 5 }, (_, i) =>
      NoteAdded.create({ text: `${i}`.padEnd(300_000, 'x') }),
    );
    const result = await producer.sendBatch(queueUrl, messages);
    expect(result.failed).toEqual([]);
    expect(result.requests).toBe(2);
    const received = await receiveAll(sqs, queueUrl, 5);
    expect(received.map((m) => JSON.parse(m.Body!).text.slice(0, 1)).sort()).toEqual([
      '0',
      '1',
      '2',
      '3',
      '4',
    ]);
  });

  it('sends to a FIFO queue with MessageGroupId = partition key and MessageDeduplicationId = message id', async () => {
    const queueUrl = await createQueue('p2p', true);
    const messages = [
      ...orders(3, 'a').map((m) => OrderPlaced.create(m.payload, { partitionKey: 'A' })),
      ...orders(2, 'b').map((m) => OrderPlaced.create(m.payload, { partitionKey: 'B' })),
    ];
    const result = await producer.sendBatch(queueUrl, messages);
    expect(result.failed).toEqual([]);
    expect(result.successful.every((s) => s.sequenceNumber)).toBe(true);

    const event = await receiveAsSqsEvent(sqs, queueUrl, 5);
    const byId = new Map(messages.map((m) => [m.id, m]));
    for (const record of event.Records) {
      const sent = byId.get(record.messageAttributes['message-id']!.stringValue!)!;
      expect(record.attributes.MessageGroupId).toBe(sent.headers['partition-key']);
      expect(record.attributes.MessageDeduplicationId).toBe(sent.id);
    }
    const { handled, consumer } = recordingConsumer();
    expect(await consumer.handler(event)).toEqual({ batchItemFailures: [] });
    const groupA = handled.filter((m) => m.headers['partition-key'] === 'A').map((m) => m.id);
    expect(groupA).toEqual(messages.slice(0, 3).map((m) => m.id));
  });

  it('FIFO over the emulator: a failure in group A fails the rest of A only', async () => {
    const queueUrl = await createQueue('p2p-groups', true);
    const make = (group: string, n: number) =>
      OrderPlaced.create({ orderId: `${group}${n}`, total: n }, { partitionKey: group });
    const messages = [make('A', 1), make('B', 1), make('A', 2), make('B', 2), make('A', 3), make('B', 3)];
    expect((await producer.sendBatch(queueUrl, messages)).failed).toEqual([]);

    const event = await receiveAsSqsEvent(sqs, queueUrl, 6);
    const calls: string[] = [];
    const consumer = createConsumer({
      name: 'fifo-groups',
      handlers: [
        on(OrderPlaced, (m) => {
          calls.push(m.payload.orderId);
          if (m.payload.orderId === 'A2') throw new Error('A2 fails');
        }),
      ],
      logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
    });
    const response = await consumer.handler(event);

    const sqsIdOf = (orderId: string) =>
      event.Records.find((r) => JSON.parse(r.body).orderId === orderId)!.messageId;
    expect(response.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(
      [sqsIdOf('A2'), sqsIdOf('A3')].sort(),
    );
    expect(calls.filter((c) => c.startsWith('A'))).toEqual(['A1', 'A2']);
    expect(calls.filter((c) => c.startsWith('B'))).toEqual(['B1', 'B2', 'B3']);
  });

  it('fails a FIFO send without a partition key before any request, naming the type', async () => {
    const queueUrl = await createQueue('p2p-nokey', true);
    const note = NoteAdded.create({ text: 'hi' });
    await expect(producer.send(queueUrl, note)).rejects.toThrow(MissingPartitionKeyError);
    await expect(producer.sendBatch(queueUrl, [note])).rejects.toThrow(
      /set partitionKey when creating NoteAdded/,
    );
    const out = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: 0 }));
    expect(out.Messages ?? []).toEqual([]);
  });

  it('fails a message over the queue limit of 1 MiB at send time with its type and size, single and batch', async () => {
    const queueUrl = await createQueue('p2p-limit');
    const huge = NoteAdded.create({ text: 'x'.repeat(1_048_576) });
    await expect(producer.send(queueUrl, huge)).rejects.toThrow(MessageLimitError);
    await expect(producer.send(queueUrl, huge)).rejects.toThrow(
      /NoteAdded .* is 1048\d{3} bytes.*at most 1048576/,
    );
    await expect(producer.sendBatch(queueUrl, [NoteAdded.create({ text: 'ok' }), huge])).rejects.toThrow(
      /NoteAdded .* is 1048\d{3} bytes/,
    );
    // Nothing of the batch went out: the check runs before the first request.
    const out = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: 0 }));
    expect(out.Messages ?? []).toEqual([]);
  });

  it('fails a message with more than 10 headers at send time, naming its type', async () => {
    const queueUrl = await createQueue('p2p-headers');
    const headers = Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`extra-${i}`, 'v']));
    const crowded = NoteAdded.create({ text: 'hi' }, { headers });
    await expect(producer.send(queueUrl, crowded)).rejects.toThrow(
      /NoteAdded .* has 1\d headers.*at most 10/,
    );
    await expect(producer.publishBatch('arn:aws:sns:us-east-1:000000000000:t', [crowded])).rejects.toThrow(
      MessageLimitError,
    );
  });
});

describe('producer: SNS publish-subscribe', () => {
  it('publishes to raw and non-raw subscriptions, and the consumer reads both the same way', async () => {
    // GIVEN a topic with one raw and one enveloped subscription
    const topicArn = await createTopic('pubsub');
    const rawQueue = await createQueue('raw');
    const envelopeQueue = await createQueue('envelope');
    await subscribe(topicArn, rawQueue, true);
    await subscribe(topicArn, envelopeQueue, false);
    const message = OrderPlaced.create({ orderId: 'o-7', total: 7 });
    // WHEN
    const result = await producer.publish(topicArn, message);
    const rawEvent = await receiveAsSqsEvent(sqs, rawQueue, 1);
    const envelopeEvent = await receiveAsSqsEvent(sqs, envelopeQueue, 1);
    // THEN
    expect(result.providerMessageId).toBeDefined();
    expect(rawEvent.Records[0]!.body).toBe('{"orderId":"o-7","total":7}');
    expect(JSON.parse(envelopeEvent.Records[0]!.body)).toMatchObject({
      Type: 'Notification',
      TopicArn: topicArn,
    });
    for (const event of [rawEvent, envelopeEvent]) {
      const { handled, consumer } = recordingConsumer();
      expect(await consumer.handler(event)).toEqual({ batchItemFailures: [] });
      expect(handled).toEqual([
        {
          id: message.id,
          type: 'OrderPlaced',
          kind: 'event',
          headers: message.headers,
          payload: message.payload,
        },
      ]);
    }
  });

  it('publishes 25 messages in 3 PublishBatch requests', async () => {
    const topicArn = await createTopic('pubsub-batch');
    const queueUrl = await createQueue('pubsub-batch');
    await subscribe(topicArn, queueUrl, true);
    const messages = orders(25);
    const result = await producer.publishBatch(topicArn, messages);
    expect(result).toMatchObject({ requests: 3, failed: [] });
    expect(result.successful).toHaveLength(25);
    const event = await receiveAsSqsEvent(sqs, queueUrl, 25);
    const { handled, consumer } = recordingConsumer();
    expect(await consumer.handler(event)).toEqual({ batchItemFailures: [] });
    expect(handled.map((m) => m.id).sort()).toEqual(messages.map((m) => m.id).sort());
  });

  it('publishes to a FIFO topic with MessageGroupId = partition key, delivered to a FIFO queue', async () => {
    const topicArn = await createTopic('pubsub', true);
    const queueUrl = await createQueue('pubsub-fifo', true);
    await subscribe(topicArn, queueUrl, true);
    const messages = orders(4);
    const single = await producer.publish(topicArn, messages[0]!);
    const batch = await producer.publishBatch(topicArn, messages.slice(1));
    // fauxqs does not return SNS FIFO sequence numbers (AWS does), so only the ids are checked here.
    expect(single.id).toBe(messages[0]!.id);
    expect(batch.failed).toEqual([]);
    const received = await receiveAll(sqs, queueUrl, 4);
    const event = toSqsEvent(received, await queueArnOf(sqs, queueUrl));
    const groups = event.Records.map((r) => r.attributes.MessageGroupId).sort();
    expect(groups).toEqual(['o-0', 'o-1', 'o-2', 'o-3']);
    const { handled, consumer } = recordingConsumer();
    expect(await consumer.handler(event)).toEqual({ batchItemFailures: [] });
    expect(handled.map((m) => m.headers['partition-key']).sort()).toEqual(groups);
  });
});

describe('producer: channels', () => {
  const variable = channelEnvironmentVariable('order-events');
  afterEach(() => {
    delete process.env[variable];
  });

  it('dispatches by channel type, with the channel read from the environment', async () => {
    const queueUrl = await createQueue('dispatch');
    const topicArn = await createTopic('dispatch');
    const subscriber = await createQueue('dispatch-sub');
    await subscribe(topicArn, subscriber, true);

    process.env[variable] = queueUrl;
    const queueChannel = channelFromEnvironment('order-events');
    expect(queueChannel).toEqual({ type: 'point-to-point', queueUrl });
    expect((await producer.dispatch(queueChannel, orders(2))).successful).toHaveLength(2);
    expect(await receiveAll(sqs, queueUrl, 2)).toHaveLength(2);

    process.env[variable] = topicArn;
    const topicChannel = channelFromEnvironment('order-events');
    expect(topicChannel).toEqual({ type: 'publish-subscribe', topicArn });
    expect((await producer.dispatch(topicChannel, orders(3))).successful).toHaveLength(3);
    expect(await receiveAll(sqs, subscriber, 3)).toHaveLength(3);
  });

  it('dispatches an empty list without any request', async () => {
    const result = await producer.dispatch(
      { type: 'point-to-point', queueUrl: 'https://unused.invalid/q' },
      [],
    );
    expect(result).toEqual({ successful: [], failed: [], requests: 0 });
  });

  it('fails with the variable name and the fix when a channel is not bound', () => {
    expect(variable).toBe('SWITCHYARD_CHANNEL_ORDER_EVENTS');
    expect(() => channelFromEnvironment('order-events')).toThrow(ConfigurationError);
    expect(() => channelFromEnvironment('order-events')).toThrow(
      /SWITCHYARD_CHANNEL_ORDER_EVENTS is not set.*Bind the channel to the function in CDK/,
    );
    process.env[variable] = 'not-an-address';
    expect(() => channelFromEnvironment('order-events')).toThrow(
      /SWITCHYARD_CHANNEL_ORDER_EVENTS of channel "order-events" holds "not-an-address"/,
    );
  });

  it('keeps queue attributes readable for FIFO checks (sanity of the emulator setup)', async () => {
    const queueUrl = await createQueue('sanity', true);
    const out = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['FifoQueue'] }),
    );
    expect(out.Attributes?.FifoQueue).toBe('true');
  });
});
