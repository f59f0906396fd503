/**
 * Retry of batch entries the service reports as failed. The emulator cannot fail single entries, so
 * the clients' `send` is wrapped to fail chosen entries (by message id) before the real request goes
 * to the emulator; everything that is not failed really is sent.
 */
import { CreateTopicCommand, PublishBatchCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  SendMessageBatchCommand,
  type SendMessageBatchResult,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { z } from 'zod';
import { assertAllSent, BatchSendError, createProducer, defineEvent } from '../lambdas';
import { uniqueName } from './support/emulators';
import { receiveAll } from './support/sqs-event';

const ItemAdded = defineEvent({ type: 'ItemAdded', schema: z.object({ n: z.number() }) });
const items = (count: number) => Array.from({ length: count }, (_, n) => ItemAdded.create({ n }));

interface InjectedFailure {
  readonly code: string;
  readonly senderFault: boolean;
  /** How many attempts of this message fail; Infinity = always. */
  readonly times: number;
}

type Plan = Map<string, InjectedFailure>;

interface Entry {
  Id?: string;
  MessageAttributes?: Record<string, { StringValue?: string }>;
}

/** Splits entries into those to fail now (by the plan and the attempts seen) and those to send. */
function applyPlan<E extends Entry>(entries: E[], plan: Plan, attempts: Map<string, number>) {
  const keep: E[] = [];
  const failed: { Id: string; Code: string; Message: string; SenderFault: boolean }[] = [];
  for (const entry of entries) {
    const id = entry.MessageAttributes?.['message-id']?.StringValue ?? '';
    const attempt = (attempts.get(id) ?? 0) + 1;
    attempts.set(id, attempt);
    const failure = plan.get(id);
    if (failure && attempt <= failure.times) {
      failed.push({
        Id: entry.Id!,
        Code: failure.code,
        Message: 'injected',
        SenderFault: failure.senderFault,
      });
    } else keep.push(entry);
  }
  return { keep, failed };
}

function flakySqs(plan: Plan) {
  const client = new SQSClient({ useQueueUrlAsEndpoint: false });
  const attempts = new Map<string, number>();
  const realSend = client.send.bind(client) as (command: unknown) => Promise<unknown>;
  client.send = (async (command: unknown) => {
    if (!(command instanceof SendMessageBatchCommand)) return realSend(command);
    const { keep, failed } = applyPlan(command.input.Entries ?? [], plan, attempts);
    const out = (
      keep.length > 0 ? await realSend(new SendMessageBatchCommand({ ...command.input, Entries: keep })) : {}
    ) as SendMessageBatchResult;
    return { ...out, Successful: out.Successful ?? [], Failed: [...(out.Failed ?? []), ...failed] };
  }) as typeof client.send;
  return { client, attempts };
}

function flakySns(plan: Plan) {
  const client = new SNSClient({});
  const attempts = new Map<string, number>();
  const realSend = client.send.bind(client) as (command: unknown) => Promise<unknown>;
  client.send = (async (command: unknown) => {
    if (!(command instanceof PublishBatchCommand)) return realSend(command);
    const { keep, failed } = applyPlan(command.input.PublishBatchRequestEntries ?? [], plan, attempts);
    const out = (
      keep.length > 0
        ? await realSend(new PublishBatchCommand({ ...command.input, PublishBatchRequestEntries: keep }))
        : {}
    ) as { Successful?: unknown[]; Failed?: unknown[] };
    return { ...out, Successful: out.Successful ?? [], Failed: [...(out.Failed ?? []), ...failed] };
  }) as typeof client.send;
  return { client, attempts };
}

const plainSqs = new SQSClient({ useQueueUrlAsEndpoint: false });

async function newQueue(): Promise<string> {
  return (await plainSqs.send(new CreateQueueCommand({ QueueName: uniqueName('retry') }))).QueueUrl!;
}

const bodiesOf = async (queueUrl: string, count: number) =>
  (await receiveAll(plainSqs, queueUrl, count))
    .map((m) => JSON.parse(m.Body!).n as number)
    .sort((a, b) => a - b);

describe('producer: retry of failed batch entries', () => {
  it('retries entries that failed with a retryable error until they are sent', async () => {
    // GIVEN 12 messages (2 requests), two of which fail once and one twice
    const queueUrl = await newQueue();
    const messages = items(12);
    const plan: Plan = new Map([
      [messages[2]!.id, { code: 'InternalError', senderFault: false, times: 1 }],
      [messages[11]!.id, { code: 'ServiceUnavailable', senderFault: false, times: 2 }],
      [messages[5]!.id, { code: 'ThrottlingException', senderFault: false, times: 1 }],
    ]);
    const { client, attempts } = flakySqs(plan);
    // WHEN
    const result = await createProducer({ sqs: client, baseDelayMs: 1, maxAttempts: 3 }).sendBatch(
      queueUrl,
      messages,
    );
    // THEN: the retried entries ride along with the next ones: [0-9], [2,5,10,11], [11], [11];
    // every message arrived exactly once
    expect(result.failed).toEqual([]);
    expect(result.requests).toBe(4);
    expect(result.successful.map((s) => s.id).sort()).toEqual(messages.map((m) => m.id).sort());
    expect(attempts.get(messages[11]!.id)).toBe(3);
    expect(attempts.get(messages[0]!.id)).toBe(1);
    expect(await bodiesOf(queueUrl, 12)).toEqual(messages.map((m) => m.payload.n));
    expect(() => assertAllSent(result)).not.toThrow();
  });

  it('surfaces an entry that still fails after the bounded attempts', async () => {
    const queueUrl = await newQueue();
    const messages = items(5);
    const { client, attempts } = flakySqs(
      new Map([[messages[0]!.id, { code: 'InternalError', senderFault: false, times: Infinity }]]),
    );
    const result = await createProducer({ sqs: client, baseDelayMs: 1, maxAttempts: 4 }).sendBatch(
      queueUrl,
      messages,
    );
    expect(result.failed).toEqual([
      { id: messages[0]!.id, code: 'InternalError', message: 'injected', senderFault: false },
    ]);
    expect(result.successful).toHaveLength(4);
    expect(result.requests).toBe(4);
    expect(attempts.get(messages[0]!.id)).toBe(4);
    expect(await bodiesOf(queueUrl, 4)).toEqual([1, 2, 3, 4]);
    expect(() => assertAllSent(result)).toThrow(BatchSendError);
    expect(() => assertAllSent(result)).toThrow(/1 of 5 messages were not sent: .*InternalError/);
  });

  it('does not retry an entry the service rejects as a sender fault', async () => {
    const queueUrl = await newQueue();
    const messages = items(3);
    const { client, attempts } = flakySqs(
      new Map([[messages[1]!.id, { code: 'InvalidParameterValue', senderFault: true, times: Infinity }]]),
    );
    const result = await createProducer({ sqs: client, baseDelayMs: 1 }).sendBatch(queueUrl, messages);
    expect(result.requests).toBe(1);
    expect(attempts.get(messages[1]!.id)).toBe(1);
    expect(result.failed).toEqual([
      { id: messages[1]!.id, code: 'InvalidParameterValue', message: 'injected', senderFault: true },
    ]);
    try {
      assertAllSent(result);
      throw new Error('assertAllSent did not throw');
    } catch (error) {
      expect(error).toBeInstanceOf(BatchSendError);
      expect((error as BatchSendError).failures).toEqual(result.failed);
    }
  });

  it('retries failed PublishBatch entries too', async () => {
    const sns = new SNSClient({});
    const topicArn = (await sns.send(new CreateTopicCommand({ Name: uniqueName('retry') }))).TopicArn!;
    const queueUrl = await newQueue();
    const { Attributes } = await plainSqs.send(
      new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }),
    );
    await sns.send(
      new SubscribeCommand({
        TopicArn: topicArn,
        Protocol: 'sqs',
        Endpoint: Attributes!.QueueArn,
        Attributes: { RawMessageDelivery: 'true' },
      }),
    );
    const messages = items(4);
    const { client } = flakySns(
      new Map([[messages[3]!.id, { code: 'InternalError', senderFault: false, times: 1 }]]),
    );
    const result = await createProducer({ sns: client, baseDelayMs: 1 }).publishBatch(topicArn, messages);
    expect(result).toMatchObject({ failed: [], requests: 2 });
    expect(await bodiesOf(queueUrl, 4)).toEqual([0, 1, 2, 3]);
  });

  it('reports every entry as failed when the whole request is rejected (queue does not exist)', async () => {
    const queueUrl = `${await newQueue()}-missing`;
    const messages = items(12);
    const result = await createProducer({ sqs: plainSqs, baseDelayMs: 1 }).sendBatch(queueUrl, messages);
    expect(result.successful).toEqual([]);
    expect(result.failed.map((f) => f.id)).toEqual(messages.map((m) => m.id));
    expect(result.failed.every((f) => f.senderFault)).toBe(true);
    // One request per chunk: a sender fault is not retried.
    expect(result.requests).toBe(2);
  });
});
