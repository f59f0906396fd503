/**
 * One-way notification: `notify` sends a command with no reply-to to a queue (over the SNS/SQS
 * emulator); replying to it is a clear error; commands that expect replies and topics are refused.
 */
import { CreateQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import { z } from 'zod';
import { createConsumer, on } from '../lambdas/consumer';
import { defineCommand, defineEvent, defineReply, replyTo } from '../lambdas/core/definition';
import {
  ConfigurationError,
  NoReplyExpectedError,
  NotificationExpectsReplyError,
} from '../lambdas/core/errors';
import { createProducer } from '../lambdas/producer';
import { createNotification, notify } from '../lambdas/styles/notify';
import { snsSqsEndpoint, uniqueName } from './support/emulators';
import { receiveAsSqsEvent } from './support/sqs-event';

const sqs = new SQSClient({
  endpoint: snsSqsEndpoint(),
  region: 'us-east-1',
  credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
});
const producer = createProducer({ sqs });
afterAll(() => sqs.destroy());

const Done = defineReply({ type: 'TestDone', schema: z.object({}) });
const Dispatch = defineCommand({ type: 'TestDispatch', schema: z.object({ orderId: z.string() }) });
const Cook = defineCommand({ type: 'TestCook', schema: z.object({ orderId: z.string() }), replies: [Done] });
const Cooked = defineEvent({ type: 'TestCooked', schema: z.object({ orderId: z.string() }) });

describe('notify (one-way notification)', () => {
  test('sends a command without reply-to; a handler that replies gets NoReplyExpectedError', async () => {
    // GIVEN a service queue
    const queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: uniqueName('dispatch') })))
      .QueueUrl!;
    // WHEN a notification is sent
    const result = await notify(producer, queueUrl, Dispatch, { orderId: 'o-1' });
    const event = await receiveAsSqsEvent(sqs, queueUrl, 1);
    // THEN it crossed the wire as a command with no reply-to header
    const attributes = event.Records[0]!.messageAttributes;
    expect(attributes['message-id']?.stringValue).toBe(result.id);
    expect(attributes['message-kind']?.stringValue).toBe('command');
    expect(attributes['reply-to']).toBeUndefined();
    // AND a handler that tries to answer it fails with the reason
    const errors: string[] = [];
    const consumer = createConsumer({
      name: 'dispatch',
      logger: {
        info: () => undefined,
        warn: () => undefined,
        error: (m, f) => void errors.push(`${m} ${JSON.stringify(f)}`),
      },
      handlers: [
        on(Dispatch, (command) => {
          replyTo(command, Done, {});
        }),
      ],
    });
    expect((await consumer.handler(event)).batchItemFailures).toHaveLength(1);
    expect(errors.join()).toMatch(/NoReplyExpectedError: TestDispatch .* is a one-way notification/);
  });

  test('replyTo throws NoReplyExpectedError on a message without reply-to', () => {
    expect(() => replyTo(Dispatch.create({ orderId: 'o' }), Done, {})).toThrow(NoReplyExpectedError);
  });

  test('refuses commands that declare replies, a replyTo option, events and topics', async () => {
    expect(() => createNotification(Cook, { orderId: 'o' })).toThrow(NotificationExpectsReplyError);
    expect(() => createNotification(Dispatch, { orderId: 'o' }, { replyTo: 'x' } as never)).toThrow(
      /has no reply address/,
    );
    expect(() => createNotification(Cooked, { orderId: 'o' })).toThrow(ConfigurationError);
    await expect(
      notify(producer, 'arn:aws:sns:us-east-1:000000000000:topic', Dispatch, { orderId: 'o' }),
    ).rejects.toThrow(/point-to-point/);
  });
});
