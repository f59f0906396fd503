/**
 * Request / asynchronous response end to end over the emulators: two requesters share one reply
 * queue, a responder answers from the command queue, one reply router delivers every reply to its
 * own requester's pending request; a reply after the requester gave up is kept on its record and
 * passed to onLateReply, never dropped.
 */
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import { z } from 'zod';
import { createConsumer, on } from '../lambdas/consumer';
import { defineCommand, defineReply, replyTo } from '../lambdas/core/definition';
import { ConfigurationError } from '../lambdas/core/errors';
import { replyToOf } from '../lambdas/core/message';
import { createProducer } from '../lambdas/producer';
import { createReplyRouter, createRequestClient, RequestTimeoutError } from '../lambdas/styles';
import { dynamodbEndpoint, snsSqsEndpoint, uniqueName } from './support/emulators';
import { receiveAll, receiveAsSqsEvent, toSqsEvent } from './support/sqs-event';

const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
const dynamodb = new DynamoDBClient({ endpoint: dynamodbEndpoint(), region: 'us-east-1', credentials });
const sqs = new SQSClient({ endpoint: snsSqsEndpoint(), region: 'us-east-1', credentials });
const producer = createProducer({ sqs });

const EtaReply = defineReply({
  type: 'TestEta',
  schema: z.object({ orderId: z.string(), minutes: z.number() }),
});
const GetEta = defineCommand({
  type: 'TestGetEta',
  schema: z.object({ orderId: z.string() }),
  replies: [EtaReply],
});
const Ping = defineCommand({ type: 'TestPing', schema: z.object({}) });

let table: string;
let commandQueue: string;
let replyQueue: string;

beforeAll(async () => {
  table = uniqueName('pending-requests');
  await dynamodb.send(
    new CreateTableCommand({
      TableName: table,
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  commandQueue = (await sqs.send(new CreateQueueCommand({ QueueName: uniqueName('eta-commands') })))
    .QueueUrl!;
  replyQueue = (await sqs.send(new CreateQueueCommand({ QueueName: uniqueName('shared-replies') })))
    .QueueUrl!;
});

afterAll(() => {
  dynamodb.destroy();
  sqs.destroy();
});

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };
const client = (requester: string, extra: { pollIntervalMs?: number } = {}) =>
  createRequestClient({ requester, replyTo: replyQueue, table, dynamodb, producer, ...extra });

/** The responder: answers `count` commands from the command queue with minutes = orderId length. */
async function respond(count: number): Promise<void> {
  const commands = await receiveAll(sqs, commandQueue, count);
  for (const m of commands) {
    const event = toSqsEvent([m], 'arn:aws:sqs:us-east-1:000000000000:eta-commands');
    const responder = createConsumer({
      name: 'eta-service',
      logger: silent,
      handlers: [
        on(GetEta, async (command) => {
          const reply = replyTo(command, EtaReply, {
            orderId: command.payload.orderId,
            minutes: command.payload.orderId.length,
          });
          await producer.send(replyToOf(command)!, reply);
        }),
      ],
    });
    expect((await responder.handler(event)).batchItemFailures).toEqual([]);
  }
}

describe('request / asynchronous response', () => {
  test('two clients sharing one reply channel each get their own replies', async () => {
    // GIVEN two requesters with the same reply queue, and one router draining it
    const kitchen = client('kitchen-ui');
    const courier = client('courier-ui');
    const late: string[] = [];
    const router = createConsumer({
      name: 'shared-replies',
      logger: silent,
      handlers: createReplyRouter({
        replies: [EtaReply],
        table,
        dynamodb,
        onLateReply: (r) => void late.push(r.id),
      }),
    });
    // WHEN each sends two requests
    const sent = await Promise.all([
      kitchen.send(commandQueue, GetEta, { orderId: 'k1' }, { timeoutMs: 20_000 }),
      courier.send(commandQueue, GetEta, { orderId: 'c-22' }, { timeoutMs: 20_000 }),
      kitchen.send(commandQueue, GetEta, { orderId: 'k-333' }, { timeoutMs: 20_000 }),
      courier.send(commandQueue, GetEta, { orderId: 'c-4444' }, { timeoutMs: 20_000 }),
    ]);
    const waits = [
      kitchen.wait(sent[0].correlationId),
      courier.wait(sent[1].correlationId),
      kitchen.wait(sent[2].correlationId),
      courier.wait(sent[3].correlationId),
    ];
    await respond(4);
    const replies = await receiveAsSqsEvent(sqs, replyQueue, 4);
    expect((await router.handler(replies)).batchItemFailures).toEqual([]);
    // THEN every wait resolves with the reply to its own request
    const answers = await Promise.all(waits);
    expect(answers.map((a) => a.payload)).toEqual([
      { orderId: 'k1', minutes: 2 },
      { orderId: 'c-22', minutes: 4 },
      { orderId: 'k-333', minutes: 5 },
      { orderId: 'c-4444', minutes: 6 },
    ]);
    expect(answers.map((a) => a.headers['correlation-id'])).toEqual(sent.map((s) => s.correlationId));
    expect((await kitchen.result(sent[0].correlationId))?.requester).toBe('kitchen-ui');
    expect((await courier.result(sent[1].correlationId))?.requester).toBe('courier-ui');
    // AND a redelivered reply is a duplicate: nothing changes, nothing is late
    expect((await router.handler(replies)).batchItemFailures).toEqual([]);
    expect(late).toEqual([]);
  });

  test('a reply after the requester gave up reaches its record and onLateReply, not a DLQ', async () => {
    const requester = client('impatient', { pollIntervalMs: 50 });
    const late: string[] = [];
    const router = createConsumer({
      name: 'shared-replies',
      logger: silent,
      handlers: createReplyRouter({
        replies: [EtaReply],
        table,
        dynamodb,
        onLateReply: (r) => void late.push(r.id),
      }),
    });
    // WHEN the requester waits 300 ms and the responder answers later
    const pending = await requester.send(commandQueue, GetEta, { orderId: 'slow' }, { timeoutMs: 300 });
    await expect(requester.wait(pending.correlationId)).rejects.toThrow(RequestTimeoutError);
    expect((await requester.result(pending.correlationId))?.status).toBe('GAVE_UP');
    await respond(1);
    const event = await receiveAsSqsEvent(sqs, replyQueue, 1);
    // THEN the router accepts it (no batch failure), keeps it on the record and reports it late
    expect((await router.handler(event)).batchItemFailures).toEqual([]);
    const record = await requester.result(pending.correlationId);
    expect(record).toMatchObject({
      status: 'GAVE_UP',
      lateReply: { type: 'TestEta', payload: { orderId: 'slow', minutes: 4 } },
    });
    expect(late).toHaveLength(1);
  });

  test('a reply matching no pending request fails with the reason; one-way commands cannot be requests', async () => {
    const lines: string[] = [];
    const push = (m: string, f?: Record<string, unknown>) => lines.push(`${m} ${JSON.stringify(f)}`);
    const router = createConsumer({
      name: 'shared-replies',
      logger: { info: push, warn: push, error: push },
      handlers: createReplyRouter({ replies: [EtaReply], table, dynamodb }),
    });
    const orphan = replyTo(GetEta.create({ orderId: 'x' }, { replyTo: replyQueue }), EtaReply, {
      orderId: 'x',
      minutes: 1,
    });
    await producer.send(replyQueue, orphan);
    const event = await receiveAsSqsEvent(sqs, replyQueue, 1);
    expect((await router.handler(event)).batchItemFailures).toHaveLength(1);
    expect(lines.join('\n')).toMatch(/matches no pending request/);
    await expect(client('x').send(commandQueue, Ping, {}, { timeoutMs: 100 })).rejects.toThrow(
      ConfigurationError,
    );
  });
});
