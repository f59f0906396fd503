/**
 * The gatherer of publish / asynchronous responses against DynamoDB Local and the SNS/SQS
 * emulator: completion on all replies, on a quorum and at the deadline (a delayed message that
 * arrives with no further replies), one staged result however many duplicate, late or concurrent
 * replies arrive.
 */
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { z } from 'zod';
import { createConsumer } from '../lambdas/consumer';
import { defineCommand, defineReply, replyTo } from '../lambdas/core/definition';
import { ConfigurationError } from '../lambdas/core/errors';
import type { Message } from '../lambdas/core/message';
import { deserializeEntry, OutboxAttributes } from '../lambdas/outbox/layout';
import { createProducer } from '../lambdas/producer';
import { createGatherer, type Gatherer, GatheringDeadline } from '../lambdas/styles/gatherer';
import { createNotification } from '../lambdas/styles/notify';
import { dynamodbEndpoint, snsSqsEndpoint, uniqueName } from './support/emulators';
import { receiveAsSqsEvent } from './support/sqs-event';

const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
const dynamodb = new DynamoDBClient({ endpoint: dynamodbEndpoint(), region: 'us-east-1', credentials });
const sqs = new SQSClient({ endpoint: snsSqsEndpoint(), region: 'us-east-1', credentials });
const producer = createProducer({ sqs });

const Quote = defineReply({
  type: 'TestQuote',
  schema: z.object({ courierId: z.string(), price: z.number() }),
});
const AskQuote = defineCommand({
  type: 'TestAskQuote',
  schema: z.object({ orderId: z.string() }),
  replies: [Quote],
});
const Winner = defineCommand({
  type: 'TestWinner',
  schema: z.object({
    requestId: z.string(),
    courierId: z.string().nullable(),
    quotes: z.number(),
    reason: z.string(),
  }),
});

let table: string;
let queueUrl: string;
let resultQueueUrl: string;

beforeAll(async () => {
  table = uniqueName('gatherings');
  await dynamodb.send(
    new CreateTableCommand({
      TableName: table,
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: uniqueName('gatherer-replies') })))
    .QueueUrl!;
  resultQueueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: uniqueName('gatherer-results') })))
    .QueueUrl!;
});

afterAll(() => {
  dynamodb.destroy();
  sqs.destroy();
});

function gatherer(clock?: () => number): Gatherer<z.output<typeof Quote.schema>> {
  return createGatherer({
    clock,
    name: 'test-quotes',
    reply: Quote,
    table,
    queueUrl,
    dynamodb,
    sqs,
    resultChannel: { type: 'point-to-point', queueUrl: resultQueueUrl },
    complete: (g, reason) => {
      const best = [...g.replies].sort((a, b) => a.payload.price - b.payload.price)[0];
      return createNotification(Winner, {
        requestId: g.requestId,
        courierId: best?.payload.courierId ?? null,
        quotes: g.replies.length,
        reason,
      });
    },
  });
}

const quote = (request: Message, courierId: string, price: number) =>
  replyTo(request, Quote, { courierId, price }, { source: courierId });

/** The stored item's staged result messages (the outbox of the completing write). */
async function staged(g: Gatherer<unknown>, requestId: string) {
  const item = (await g.read(requestId)) as unknown as Record<string, unknown>;
  const entries = ((item[OutboxAttributes.IN_ITEM] as string[] | undefined) ?? []).map(deserializeEntry);
  return { item, entries, sequence: item[OutboxAttributes.SEQUENCE] };
}

async function drainDeadline(requestId: string) {
  // The deadline message of an earlier open: read it off so later tests see only their own.
  const out = await sqs.send(
    new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
  );
  return { requestId, out };
}

describe('gatherer', () => {
  test('completes on all expected replies and stages one result with the cheapest', async () => {
    // GIVEN a gathering for three couriers
    const g = gatherer();
    const request = AskQuote.create({ orderId: 'o-1' }, { replyTo: queueUrl });
    await g.open(request, { expectedReplies: 3, deadlineMs: 60_000 });
    // WHEN the three replies arrive
    expect(await g.acceptReply(quote(request, 'a', 9))).toBe('gathered');
    expect(await g.acceptReply(quote(request, 'b', 7))).toBe('gathered');
    expect(await g.acceptReply(quote(request, 'c', 8))).toBe('completed');
    // THEN the gathering is complete and its one staged result names the cheapest
    const { item, entries, sequence } = await staged(g, request.id);
    expect(item).toMatchObject({ status: 'COMPLETE', completedBy: 'all-replies' });
    expect(entries).toHaveLength(1);
    expect(entries[0]!.destination).toBe(resultQueueUrl);
    expect(entries[0]!.message.payload).toEqual({
      requestId: request.id,
      courierId: 'b',
      quotes: 3,
      reason: 'all-replies',
    });
    expect(item.resultMessageId).toBe(entries[0]!.message.id);
    expect(sequence).toBe(1);
    await drainDeadline(request.id);
  });

  test('completes on a quorum; duplicates before and late replies after change nothing', async () => {
    const g = gatherer();
    const request = AskQuote.create({ orderId: 'o-2' }, { replyTo: queueUrl });
    await g.open(request, { expectedReplies: 5, quorum: 2, deadlineMs: 60_000 });
    const first = quote(request, 'a', 5);
    expect(await g.acceptReply(first)).toBe('gathered');
    expect(await g.acceptReply(first)).toBe('duplicate'); // redelivered
    expect(await g.acceptReply(quote(request, 'a', 4))).toBe('duplicate'); // same responder again
    expect(await g.acceptReply(quote(request, 'b', 6))).toBe('completed');
    const before = await staged(g, request.id);
    // WHEN more replies come after completion, twice each
    for (const late of [quote(request, 'c', 1), quote(request, 'd', 2)]) {
      expect(await g.acceptReply(late)).toBe('late');
      expect(await g.acceptReply(late)).toBe('late');
    }
    expect(await g.expire(request.id)).toBe('already-complete');
    // THEN still exactly one result, the same message
    const after = await staged(g, request.id);
    expect(after.item).toMatchObject({
      status: 'COMPLETE',
      completedBy: 'quorum',
      duplicateReplies: 2,
      lateReplies: 4,
    });
    expect(after.entries.map((e) => e.message.id)).toEqual(before.entries.map((e) => e.message.id));
    expect(after.entries[0]!.message.payload).toMatchObject({ courierId: 'a', quotes: 2 });
    expect(after.sequence).toBe(1);
    await drainDeadline(request.id);
  });

  test('concurrent replies complete the gathering exactly once', async () => {
    const g = gatherer();
    const request = AskQuote.create({ orderId: 'o-3' }, { replyTo: queueUrl });
    await g.open(request, { expectedReplies: 6, deadlineMs: 60_000 });
    const outcomes = await Promise.all(
      ['a', 'b', 'c', 'd', 'e', 'f'].map((c, i) => g.acceptReply(quote(request, c, 10 - i))),
    );
    expect(outcomes.filter((o) => o === 'completed')).toHaveLength(1);
    const { item, entries } = await staged(g, request.id);
    expect(Object.keys(item.replies as object)).toHaveLength(6);
    expect(entries).toHaveLength(1);
    expect(entries[0]!.message.payload).toMatchObject({ courierId: 'f', quotes: 6 });
    await drainDeadline(request.id);
  });

  test('the deadline fires with no further replies: a delayed message completes the gathering', async () => {
    // GIVEN an empty queue, and a gathering with one reply of three and a 1 s deadline
    await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
    );
    const g = gatherer();
    const consumer = createConsumer({ name: 'test-quotes', handlers: g.handlers, logger: silent });
    const request = AskQuote.create({ orderId: 'o-4' }, { replyTo: queueUrl });
    const opened = Date.now();
    await g.open(request, { expectedReplies: 3, deadlineMs: 1000 });
    await producer.send(queueUrl, quote(request, 'a', 3));
    const replyEvent = await receiveAsSqsEvent(sqs, queueUrl, 1);
    expect(replyEvent.Records[0]!.messageAttributes['message-type']?.stringValue).toBe('TestQuote');
    expect((await consumer.handler(replyEvent)).batchItemFailures).toEqual([]);
    expect((await g.read(request.id))?.status).toBe('OPEN');
    // WHEN nothing else arrives, the deadline message shows up on its own after the delay
    const deadlineEvent = await receiveAsSqsEvent(sqs, queueUrl, 1);
    expect(Date.now() - opened).toBeGreaterThanOrEqual(900);
    expect(deadlineEvent.Records[0]!.messageAttributes['message-type']?.stringValue).toBe(
      GatheringDeadline.type,
    );
    expect((await consumer.handler(deadlineEvent)).batchItemFailures).toEqual([]);
    // THEN the gathering completed by deadline with what it had
    const { item, entries } = await staged(g, request.id);
    expect(item).toMatchObject({ status: 'COMPLETE', completedBy: 'deadline' });
    expect(entries[0]!.message.payload).toMatchObject({ courierId: 'a', quotes: 1, reason: 'deadline' });
    // AND a second deadline delivery (at-least-once) changes nothing
    expect((await consumer.handler(deadlineEvent)).batchItemFailures).toEqual([]);
    expect((await staged(g, request.id)).entries.map((e) => e.message.id)).toEqual(
      entries.map((e) => e.message.id),
    );
  });

  test('a reply after the deadline is late even before the deadline message is handled, and completes the round', async () => {
    // GIVEN a gathering whose 1 s deadline has passed on the gatherer's clock
    let now = Date.now();
    const g = gatherer(() => now);
    const request = AskQuote.create({ orderId: 'o-6' }, { replyTo: queueUrl });
    await g.open(request, { expectedReplies: 3, deadlineMs: 1000 });
    expect(await g.acceptReply(quote(request, 'fast', 9))).toBe('gathered');
    now += 1500;
    // WHEN a cheaper reply arrives after the deadline
    expect(await g.acceptReply(quote(request, 'slow', 1))).toBe('late');
    // THEN the round completed by deadline with the reply in time only
    const { item, entries } = await staged(g, request.id);
    expect(item).toMatchObject({ status: 'COMPLETE', completedBy: 'deadline', lateReplies: 1 });
    expect(entries[0]!.message.payload).toMatchObject({ courierId: 'fast', quotes: 1 });
    expect(await g.expire(request.id)).toBe('already-complete');
  });

  test('a reply to an unknown request fails its record with the reason (it goes to the DLQ)', async () => {
    const g = gatherer();
    const lines: string[] = [];
    const consumer = createConsumer({ name: 'test-quotes', handlers: g.handlers, logger: collecting(lines) });
    const stray = AskQuote.create({ orderId: 'o-x' }, { replyTo: queueUrl });
    await producer.send(queueUrl, quote(stray, 'a', 1));
    const event = await receiveAsSqsEvent(sqs, queueUrl, 1);
    expect((await consumer.handler(event)).batchItemFailures).toHaveLength(1);
    expect(lines.join('\n')).toMatch(/has no gathering for request .*open it \(gatherer.open\)/);
  });

  test('fails fast on a deadline over a year, one beyond 15 minutes without scheduler settings, a bad quorum or no responders', async () => {
    const g = gatherer();
    const request = AskQuote.create({ orderId: 'o-5' }, { replyTo: queueUrl });
    await expect(g.open(request, { expectedReplies: 3, deadlineMs: 367 * 86_400_000 })).rejects.toThrow(
      ConfigurationError,
    );
    // Beyond SQS's 15 minutes the deadline is a schedule: without the DelayedDelivery grant nothing is stored.
    await expect(g.open(request, { expectedReplies: 3, deadlineMs: 901_000 })).rejects.toThrow(
      /SWITCHYARD_SCHEDULER_GROUP.*delayedDelivery.grantSchedule/,
    );
    expect(await g.read(request.id)).toBeUndefined();
    await expect(g.open(request, { expectedReplies: 3, quorum: 4, deadlineMs: 1000 })).rejects.toThrow(
      /quorum is 4/,
    );
    await expect(g.open(request, { expectedReplies: 0, deadlineMs: 1000 })).rejects.toThrow(
      /expectedReplies is 0/,
    );
  });
});

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };
function collecting(lines: string[]) {
  const push = (message: string, fields?: Record<string, unknown>) =>
    lines.push(`${message} ${JSON.stringify(fields)}`);
  return { info: push, warn: push, error: push };
}
