/**
 * Issue 8, defects 1 and 2 at the producer: FIFO order under retries, and throttles classified by
 * the SDK's own error classification. Faults are injected in the SDK clients' middleware stacks
 * (test/support/sdk-faults.ts): whole-request faults below the retry middleware, so the SDK's real
 * retry strategy runs first; partial batch failures as the 200 answer the service gives.
 */
import { KMSThrottlingException, SNSClient, ThrottledException } from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  InvalidAddress,
  KmsThrottled,
  RequestThrottled,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { z } from 'zod';
import { createProducer, defineEvent } from '../lambdas';
import { isRetryableError } from '../lambdas/core/error-classification';
import { uniqueName } from './support/emulators';
import { failEntries, injectFaults } from './support/sdk-faults';
import { receiveAll } from './support/sqs-event';
import { topicWithQueue as topicWithRawQueue } from './support/topic-with-queue';

const Step = defineEvent({
  type: 'Step',
  schema: z.object({ group: z.string(), n: z.number() }),
  partitionKey: (p) => p.group,
});
const steps = (group: string, count: number) =>
  Array.from({ length: count }, (_, n) => Step.create({ group, n }));

const plainSqs = new SQSClient({ useQueueUrlAsEndpoint: false });

async function fifoQueue(): Promise<string> {
  const out = await plainSqs.send(
    new CreateQueueCommand({
      QueueName: uniqueName('faults', true),
      Attributes: { FifoQueue: 'true' },
    }),
  );
  return out.QueueUrl!;
}

async function standardQueue(): Promise<string> {
  return (await plainSqs.send(new CreateQueueCommand({ QueueName: uniqueName('faults') }))).QueueUrl!;
}

/** Receives in queue order and returns `group:n` labels. */
async function arrivals(queueUrl: string, count: number): Promise<string[]> {
  const received = await receiveAll(plainSqs, queueUrl, count);
  return received.map((m) => {
    const p = JSON.parse(m.Body!) as { group: string; n: number };
    return `${p.group}:${p.n}`;
  });
}

describe('producer on FIFO channels: a failed entry holds back the rest of its group', () => {
  it('12 messages of one group, entry 2 failing once, arrive 0..11 in order', async () => {
    // GIVEN a FIFO queue and a client whose batch entry for message 2 fails once (InternalError)
    const queueUrl = await fifoQueue();
    const messages = steps('g', 12);
    const sqs = new SQSClient({ useQueueUrlAsEndpoint: false });
    const { attempts } = failEntries(
      sqs,
      new Map([[messages[2]!.id, { code: 'InternalError', senderFault: false, times: 1 }]]),
    );
    // WHEN the batch is sent
    const result = await createProducer({ sqs, baseDelayMs: 1 }).sendBatch(queueUrl, messages);
    // THEN all went through, message 2 needed two attempts, and they arrived in order
    expect(result.failed).toEqual([]);
    expect(attempts.get(messages[2]!.id)).toBe(2);
    expect(await arrivals(queueUrl, 12)).toEqual(messages.map((_, n) => `g:${n}`));
  });

  it('never puts two entries of one group in a request, so nothing of a group rides ahead of a failed entry', async () => {
    const queueUrl = await fifoQueue();
    const messages = [...steps('a', 3), ...steps('b', 3)];
    const sqs = new SQSClient({ useQueueUrlAsEndpoint: false });
    const { requests } = failEntries(sqs, new Map());
    const result = await createProducer({ sqs, baseDelayMs: 1 }).sendBatch(queueUrl, messages);
    expect(result.failed).toEqual([]);
    // Groups interleave: [a0,b0], [a1,b1], [a2,b2]
    const id = (m: (typeof messages)[number]) => m.id;
    expect(requests).toEqual([
      [id(messages[0]!), id(messages[3]!)],
      [id(messages[1]!), id(messages[4]!)],
      [id(messages[2]!), id(messages[5]!)],
    ]);
  });

  it('an entry that fails for good fails the later entries of its group (HeldBack); other groups go on', async () => {
    // GIVEN 13 messages: group a (a0..a5, a1 always fails) and group b (b0..b6)
    const queueUrl = await fifoQueue();
    const a = steps('a', 6);
    const b = steps('b', 7);
    const sqs = new SQSClient({ useQueueUrlAsEndpoint: false });
    const { delivered } = failEntries(
      sqs,
      new Map([[a[1]!.id, { code: 'InternalError', senderFault: false, times: Number.POSITIVE_INFINITY }]]),
    );
    // WHEN sent with 3 attempts per message
    const result = await createProducer({ sqs, baseDelayMs: 1, maxAttempts: 3 }).sendBatch(queueUrl, [
      ...a,
      ...b,
    ]);
    // THEN a1 failed, a2..a5 were held back and never sent, group b arrived whole and in order
    expect(result.failed.map((f) => [f.id, f.code])).toEqual([
      [a[1]!.id, 'InternalError'],
      ...a.slice(2).map((m) => [m.id, 'HeldBack']),
    ]);
    expect(result.failed.find((f) => f.code === 'HeldBack')?.message).toMatch(
      new RegExp(`message ${a[1]!.id} of the same FIFO group a failed`),
    );
    for (const m of a.slice(1)) expect(delivered).not.toContain(m.id);
    const got = await arrivals(queueUrl, 8);
    expect(got.filter((l) => l.startsWith('a'))).toEqual(['a:0']);
    expect(got.filter((l) => l.startsWith('b'))).toEqual(b.map((_, n) => `b:${n}`));
  });

  it('holds back later chunks too: a group never resumes after a message that failed for good', async () => {
    // 25 messages of one group; message 3 is rejected as the sender's fault: 4..24 must not go out.
    const queueUrl = await fifoQueue();
    const messages = steps('g', 25);
    const sqs = new SQSClient({ useQueueUrlAsEndpoint: false });
    const { delivered } = failEntries(
      sqs,
      new Map([[messages[3]!.id, { code: 'InvalidParameterValue', senderFault: true, times: 1 }]]),
    );
    const result = await createProducer({ sqs, baseDelayMs: 1 }).sendBatch(queueUrl, messages);
    expect(result.successful.map((s) => s.id)).toEqual(messages.slice(0, 3).map((m) => m.id));
    expect(result.failed).toHaveLength(22);
    expect(result.failed[0]).toMatchObject({ code: 'InvalidParameterValue', senderFault: true });
    expect(delivered).toEqual(messages.slice(0, 3).map((m) => m.id));
    expect(await arrivals(queueUrl, 3)).toEqual(['g:0', 'g:1', 'g:2']);
  });
});

describe('producer: throttles are retried (SDK error classification), never treated as permanent', () => {
  const throttles: [string, () => Error][] = [
    [
      'SQS RequestThrottled',
      () => new RequestThrottled({ $metadata: { httpStatusCode: 400 }, message: 'Rate exceeded' }),
    ],
    [
      'SQS KmsThrottled',
      () => new KmsThrottled({ $metadata: { httpStatusCode: 400 }, message: 'KMS throttled' }),
    ],
  ];

  it.each(throttles)(
    '%s on SendMessageBatch after the SDK retries: sent on a later request, in order',
    async (_, error) => {
      // GIVEN a client with 2 SDK attempts whose first 3 SendMessageBatch calls throw the throttle
      const queueUrl = await fifoQueue();
      const sqs = new SQSClient({ useQueueUrlAsEndpoint: false, maxAttempts: 2 });
      const faults = injectFaults(sqs, { commands: ['SendMessageBatchCommand'], times: 3, error });
      const messages = steps('g', 3);
      // WHEN
      const result = await createProducer({ sqs, baseDelayMs: 1, maxAttempts: 5 }).sendBatch(
        queueUrl,
        messages,
      );
      // THEN every message went through once, in order
      expect(faults.injected).toBe(3);
      expect(result.failed).toEqual([]);
      expect(await arrivals(queueUrl, 3)).toEqual(['g:0', 'g:1', 'g:2']);
    },
  );

  it('SNS ThrottledException: the SDK retries it itself, then the producer', async () => {
    const sns = new SNSClient({ maxAttempts: 2 });
    const { topicArn, queueUrl } = await topicWithQueue();
    const faults = injectFaults(sns, {
      commands: ['PublishBatchCommand'],
      times: 3,
      error: () => new ThrottledException({ $metadata: { httpStatusCode: 400 }, message: 'Rate exceeded' }),
    });
    const messages = steps('x', 4);
    const result = await createProducer({ sns, baseDelayMs: 1 }).publishBatch(topicArn, messages);
    expect(result.failed).toEqual([]);
    // SDK: attempts 1 and 2 of request 1 throttled; request 2: attempt 1 throttled, attempt 2 passes.
    expect(faults.calls).toBe(4);
    expect(result.requests).toBe(2);
    expect((await arrivals(queueUrl, 4)).sort()).toEqual(['x:0', 'x:1', 'x:2', 'x:3']);
  });

  it('SNS KMSThrottlingException (400, not in the SDK retry list): retried by the producer', async () => {
    const sns = new SNSClient({ maxAttempts: 2 });
    const { topicArn, queueUrl } = await topicWithQueue();
    const faults = injectFaults(sns, {
      commands: ['PublishBatchCommand'],
      times: 2,
      error: () =>
        new KMSThrottlingException({ $metadata: { httpStatusCode: 400 }, message: 'KMS throttled' }),
    });
    const result = await createProducer({ sns, baseDelayMs: 1 }).publishBatch(topicArn, steps('k', 2));
    expect(result.failed).toEqual([]);
    expect(result.requests).toBe(3);
    expect(faults.calls).toBe(3);
    expect(await arrivals(queueUrl, 2)).toHaveLength(2);
  });

  it('a partial failure with a throttle code flagged SenderFault is retried too', async () => {
    const queueUrl = await standardQueue();
    const messages = steps('s', 3);
    const sqs = new SQSClient({ useQueueUrlAsEndpoint: false });
    const { attempts } = failEntries(
      sqs,
      new Map([[messages[1]!.id, { code: 'RequestThrottled', senderFault: true, times: 1 }]]),
    );
    const result = await createProducer({ sqs, baseDelayMs: 1 }).sendBatch(queueUrl, messages);
    expect(result.failed).toEqual([]);
    expect(attempts.get(messages[1]!.id)).toBe(2);
  });

  it('a real client error (InvalidAddress) stays permanent: one request, senderFault', async () => {
    const queueUrl = await standardQueue();
    const sqs = new SQSClient({ useQueueUrlAsEndpoint: false });
    const faults = injectFaults(sqs, {
      commands: ['SendMessageBatchCommand'],
      times: 10,
      error: () => new InvalidAddress({ $metadata: { httpStatusCode: 400 }, message: 'bad address' }),
    });
    const result = await createProducer({ sqs, baseDelayMs: 1 }).sendBatch(queueUrl, steps('p', 2));
    expect(result.requests).toBe(1);
    expect(faults.calls).toBe(1);
    expect(result.failed.map((f) => [f.code, f.senderFault])).toEqual([
      ['InvalidAddress', true],
      ['InvalidAddress', true],
    ]);
  });

  it('classifies the throttles of SNS, SQS, KMS and DynamoDB as retryable, and a validation error not', async () => {
    const { ProvisionedThroughputExceededException, ThrottlingException, ConditionalCheckFailedException } =
      await import('@aws-sdk/client-dynamodb');
    const meta = { $metadata: { httpStatusCode: 400 }, message: 'm' };
    expect(isRetryableError(new ThrottledException(meta))).toBe(true);
    expect(isRetryableError(new KMSThrottlingException(meta))).toBe(true);
    expect(isRetryableError(new RequestThrottled(meta))).toBe(true);
    expect(isRetryableError(new KmsThrottled(meta))).toBe(true);
    expect(isRetryableError(new ProvisionedThroughputExceededException(meta))).toBe(true);
    expect(isRetryableError(new ThrottlingException(meta))).toBe(true);
    expect(isRetryableError(new ConditionalCheckFailedException(meta))).toBe(false);
    expect(isRetryableError(new InvalidAddress(meta))).toBe(false);
    // Every throttle above is `$fault: 'client'`: the old `$fault === 'client'` rule called them permanent.
    expect(new ThrottledException(meta).$fault).toBe('client');
  });
});

const topicWithQueue = () => topicWithRawQueue('faults');
