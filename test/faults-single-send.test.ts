/**
 * Chaos-run defect 1: KMS throttles on single sends (Publish / SendMessage). The SDK's retry strategy
 * does not retry `KmsThrottled` / `KMSThrottlingException` (HTTP 400, not in its throttling list), so
 * the producer must, as its batch path does. Faults are the real exception classes, injected below
 * the SDK's retry middleware (test/support/sdk-faults.ts), against the SNS/SQS emulator.
 */
import { KMSThrottlingException, SNSClient } from '@aws-sdk/client-sns';
import { CreateQueueCommand, InvalidAddress, KmsThrottled, SQSClient } from '@aws-sdk/client-sqs';
import { z } from 'zod';
import { createProducer, defineEvent } from '../lambdas';
import { uniqueName } from './support/emulators';
import { injectFaults } from './support/sdk-faults';
import { receiveAll } from './support/sqs-event';
import { topicWithQueue as topicWithRawQueue } from './support/topic-with-queue';

const Ping = defineEvent({ type: 'Ping', schema: z.object({ n: z.number() }) });
const plainSqs = new SQSClient({ useQueueUrlAsEndpoint: false });
const meta = { $metadata: { httpStatusCode: 400 }, message: 'KMS throttled' };

async function queue(): Promise<string> {
  return (await plainSqs.send(new CreateQueueCommand({ QueueName: uniqueName('single') }))).QueueUrl!;
}

const topicWithQueue = () => topicWithRawQueue('single');

describe('single sends retry retryable errors the SDK does not (KMS throttles)', () => {
  it('send: SQS KmsThrottled on the first 2 SendMessage calls, delivered once on the 3rd', async () => {
    // GIVEN a client with 1 SDK attempt (so every retry seen is the producer's) and 2 KMS throttles
    const queueUrl = await queue();
    const sqs = new SQSClient({ useQueueUrlAsEndpoint: false, maxAttempts: 1 });
    const faults = injectFaults(sqs, {
      commands: ['SendMessageCommand'],
      times: 2,
      error: () => new KmsThrottled(meta),
    });
    const message = Ping.create({ n: 1 });
    // WHEN
    const result = await createProducer({ sqs, baseDelayMs: 1, maxAttempts: 3 }).send(queueUrl, message);
    // THEN the third call went through and the message arrived exactly once
    expect(faults.injected).toBe(2);
    expect(faults.calls).toBe(3);
    expect(result.providerMessageId).toBeDefined();
    const received = await receiveAll(plainSqs, queueUrl, 1);
    expect(received.map((m) => JSON.parse(m.Body!))).toEqual([{ n: 1 }]);
  });

  it('publish: SNS KMSThrottlingException on the first 2 Publish calls, delivered once on the 3rd', async () => {
    const { topicArn, queueUrl } = await topicWithQueue();
    const sns = new SNSClient({ maxAttempts: 1 });
    const faults = injectFaults(sns, {
      commands: ['PublishCommand'],
      times: 2,
      error: () => new KMSThrottlingException(meta),
    });
    const result = await createProducer({ sns, baseDelayMs: 1, maxAttempts: 3 }).publish(
      topicArn,
      Ping.create({ n: 2 }),
    );
    expect(faults.calls).toBe(3);
    expect(result.providerMessageId).toBeDefined();
    const received = await receiveAll(plainSqs, queueUrl, 1);
    expect(received.map((m) => JSON.parse(m.Body!))).toEqual([{ n: 2 }]);
  });

  it('the retries are bounded: a throttle that lasts fails after maxAttempts calls with the SDK error', async () => {
    const queueUrl = await queue();
    const sqs = new SQSClient({ useQueueUrlAsEndpoint: false, maxAttempts: 1 });
    const faults = injectFaults(sqs, {
      commands: ['SendMessageCommand'],
      times: 100,
      error: () => new KmsThrottled(meta),
    });
    await expect(
      createProducer({ sqs, baseDelayMs: 1, maxAttempts: 4 }).send(queueUrl, Ping.create({ n: 3 })),
    ).rejects.toBeInstanceOf(KmsThrottled);
    expect(faults.calls).toBe(4);
  });

  it('a permanent client error (InvalidAddress) is not retried: one call', async () => {
    const queueUrl = await queue();
    const sqs = new SQSClient({ useQueueUrlAsEndpoint: false, maxAttempts: 1 });
    const faults = injectFaults(sqs, {
      commands: ['SendMessageCommand'],
      times: 100,
      error: () => new InvalidAddress({ $metadata: { httpStatusCode: 400 }, message: 'bad address' }),
    });
    await expect(
      createProducer({ sqs, baseDelayMs: 1, maxAttempts: 4 }).send(queueUrl, Ping.create({ n: 4 })),
    ).rejects.toBeInstanceOf(InvalidAddress);
    expect(faults.calls).toBe(1);
  });
});
