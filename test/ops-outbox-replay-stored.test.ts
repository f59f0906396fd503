/**
 * `switchyard outbox replay` and the relay's parking format: a record too large for the failure
 * queue keeps its payloads in the table (`storedIn`, payload null), and messages published before
 * the record failed are flagged `published`. Found by review: the replay sent the published one
 * again and the stored one with a null payload, then deleted the record.
 */
import {
  CreateQueueCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { replayOutbox } from '../cli/ops/outbox-replay';
import { describeQueue } from '../cli/ops/queues';
import { createProducer } from '../lambdas/producer';
import { uniqueName } from './support/emulators';

const sqs = new SQSClient({});

test('a record with a stored payload stays parked, says where the message is, and sends nothing', async () => {
  // GIVEN a parked record: m1 published before the failure, m2 stored in the outbox table
  const prefix = uniqueName('replay-stored');
  const { QueueUrl: failureQueueUrl } = await sqs.send(
    new CreateQueueCommand({ QueueName: `${prefix}-failures` }),
  );
  const { QueueUrl: destinationUrl } = await sqs.send(
    new CreateQueueCommand({ QueueName: `${prefix}-dest` }),
  );
  const message = (id: string, sequence: number, extra: Record<string, unknown>) => ({
    id,
    type: 'OrderStepped',
    destination: destinationUrl!,
    aggregateId: 'A',
    sequence,
    headers: { 'switchyard-kind': 'event' },
    ...extra,
  });
  const record = {
    switchyard: {
      parkId: 'event-1',
      reason: 'destination rejected the message',
      messages: [
        message('m1', 1, { payload: { step: 1 }, published: true }),
        message('m2', 2, {
          payload: null,
          storedIn: { table: 'Orders', key: { pk: 'OUTBOX-PARKED#m2', sk: 'PARKED' } },
        }),
      ],
    },
  };
  await sqs.send(new SendMessageCommand({ QueueUrl: failureQueueUrl, MessageBody: JSON.stringify(record) }));

  // WHEN
  const summary = await replayOutbox({
    sqs,
    producer: createProducer(),
    failureQueueUrl: failureQueueUrl!,
    holdSeconds: 30,
  });

  // THEN nothing reached the destination and the record is still parked
  const { Messages = [] } = await sqs.send(
    new ReceiveMessageCommand({ QueueUrl: destinationUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
  );
  expect(Messages).toEqual([]);
  expect(JSON.stringify(summary)).toMatch(/OUTBOX-PARKED#m2/);
  expect((await describeQueue(sqs, failureQueueUrl!)).depth).toBe(1);
});
