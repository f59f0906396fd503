/**
 * SQS fair queues: on a standard queue, a message's tenant key goes out as MessageGroupId (seen by a
 * middleware on the real client, in the request it sends to the emulator; fauxqs 1.9 accepts the field
 * but does not emulate fair scheduling, so the scheduling itself is untested here).
 */

import { ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { z } from 'zod';
import { defineEvent } from '../lambdas/core/definition';
import { ConfigurationError } from '../lambdas/core/errors';
import { Headers } from '../lambdas/core/headers';
import { createProducer } from '../lambdas/producer';
import { createQueue } from './support/outbox-fixtures';

const Job = defineEvent({ type: 'JobQueued', schema: z.object({ job: z.number() }) });

/** A real client that records the input of every request it sends. */
function recordingClient(): { sqs: SQSClient; sent: Record<string, unknown>[] } {
  const sqs = new SQSClient({});
  const sent: Record<string, unknown>[] = [];
  sqs.middlewareStack.add(
    (next) => async (args) => {
      sent.push(args.input as Record<string, unknown>);
      return next(args);
    },
    { step: 'initialize', name: 'recordRequests' },
  );
  return { sqs, sent };
}

describe('fair queues (tenant key as MessageGroupId on standard queues)', () => {
  test('sends each message with its tenant as MessageGroupId, and the tenant-key header', async () => {
    const queueUrl = await createQueue('fair');
    const { sqs, sent } = recordingClient();
    const producer = createProducer({ sqs, maxAttempts: 1 });
    const messages = [
      Job.create({ job: 1 }, { tenantKey: 'tenant-a' }),
      Job.create({ job: 2 }, { tenantKey: 'tenant-b' }),
      Job.create({ job: 3 }),
    ];
    const result = await producer.sendBatch(queueUrl, messages);
    expect(result.failed).toEqual([]);
    const entries = (sent[0] as { Entries: { MessageGroupId?: string }[] }).Entries;
    expect(entries.map((e) => e.MessageGroupId)).toEqual(['tenant-a', 'tenant-b', undefined]);
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 1,
        MessageAttributeNames: ['All'],
      }),
    );
    expect(Messages.map((m) => m.MessageAttributes?.[Headers.TENANT_KEY]?.StringValue).sort()).toEqual([
      'tenant-a',
      'tenant-b',
      undefined,
    ]);
  });

  test('rejects a tenant key SQS would refuse, before any request', async () => {
    const queueUrl = await createQueue('fair-bad');
    const { sqs, sent } = recordingClient();
    const producer = createProducer({ sqs, maxAttempts: 1 });
    await expect(
      producer.send(queueUrl, Job.create({ job: 1 }, { tenantKey: 'ténant with spaces' })),
    ).rejects.toThrow(ConfigurationError);
    expect(sent).toEqual([]);
  });
});
