/**
 * FIFO redelivery after a partial batch failure, through the real consumer adapter: the failed
 * record and the later ones of its group come back, then the whole batch comes back once more.
 * Every message must be applied once, in order.
 */
import type { Update } from '@aws-sdk/client-dynamodb';
import type { SQSEvent } from 'aws-lambda';
import { z } from 'zod';
import { createConsumer, type MessageHandler, on } from '../lambdas/consumer';
import { defineEvent } from '../lambdas/core';
import { inItem, transactional } from '../lambdas/idempotency';
import { createTable, ddb, fifoRecord, getItem, recordingLogger } from './idempotency-fixtures';
import { fakeContext } from './support/lambda-context';

const StepRecorded = defineEvent({
  type: 'StepRecorded',
  schema: z.object({ item: z.string(), seq: z.number() }),
  partitionKey: (p) => p.item,
});

const appendStep = (table: string, item: string, seq: number): Update => ({
  TableName: table,
  Key: { pk: { S: item } },
  UpdateExpression: 'SET #log = list_append(if_not_exists(#log, :empty), :seq)',
  ExpressionAttributeNames: { '#log': 'log' },
  ExpressionAttributeValues: { ':empty': { L: [] }, ':seq': { L: [{ N: String(seq) }] } },
});

type Decorate = (
  apply: (item: string, seq: number) => Update,
  failOnce: Set<number>,
) => MessageHandler<{
  item: string;
  seq: number;
}>;

const modes: [string, Decorate][] = [
  [
    'transactional',
    (apply, failOnce) =>
      transactional(
        async (message, _context, tx) => {
          tx.update(apply(message.payload.item, message.payload.seq));
          if (failOnce.delete(message.payload.seq)) throw new Error('transient failure');
        },
        { client: ddb },
      ),
  ],
  [
    'in-item',
    (apply, failOnce) =>
      inItem(
        (message) => {
          if (failOnce.delete(message.payload.seq)) throw new Error('transient failure');
          return { update: apply(message.payload.item, message.payload.seq) };
        },
        { client: ddb },
      ),
  ],
];

describe.each(modes)('FIFO redelivery with %s duplicate detection', (_mode, decorate) => {
  let business: string;

  beforeAll(async () => {
    const processed = await createTable('processed');
    business = await createTable('business');
    process.env.SWITCHYARD_PROCESSED_MESSAGES_TABLE = processed;
  });

  afterAll(() => {
    delete process.env.SWITCHYARD_PROCESSED_MESSAGES_TABLE;
  });

  it('applies each message once and in order after a partial batch failure', async () => {
    // GIVEN a consumer whose handler fails once on the third message of the group
    const failOnce = new Set([3]);
    const consumer = createConsumer({
      name: 'order-history',
      handlers: [
        on(
          StepRecorded,
          decorate((item, seq) => appendStep(business, item, seq), failOnce),
        ),
      ],
      logger: recordingLogger(),
    });
    const messages = [1, 2, 3, 4, 5].map((seq) => StepRecorded.create({ item: 'order-1', seq }));
    const batch = (seqs: number[], receiveCount: number): SQSEvent => ({
      Records: seqs.map((seq) => fifoRecord(messages[seq - 1]!, 'order-1', receiveCount)),
    });
    const sqsIds = (seqs: number[]) => seqs.map((seq) => `sqs-${messages[seq - 1]!.id}`);

    // WHEN the batch fails at 3: 3, 4 and 5 are reported failed
    const first = await consumer.handler(batch([1, 2, 3, 4, 5], 1), fakeContext());
    expect(first.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(sqsIds([3, 4, 5]));
    // and SQS redelivers them, then the whole batch comes back once more (a lost delete)
    const second = await consumer.handler(batch([3, 4, 5], 2), fakeContext());
    const third = await consumer.handler(batch([1, 2, 3, 4, 5], 3), fakeContext());

    // THEN every message is applied once, in order
    expect(second.batchItemFailures).toEqual([]);
    expect(third.batchItemFailures).toEqual([]);
    const item = await getItem(business, 'order-1');
    expect(item?.log?.L?.map((entry) => Number(entry.N))).toEqual([1, 2, 3, 4, 5]);
  });
});
