/**
 * Issue 8: what users of other libraries hit in the same situations, shown not to happen here.
 *
 * - Powertools TS #3673: with `skipGroupOnError`, the FIFO batch processor remembers failed group ids
 *   across invocations of a warm instance, so a record retried there is skipped without reaching
 *   the record handler (only a different instance processes it).
 * - Powertools TS #5675: the Middy idempotency middleware's error hook deletes the idempotency
 *   record even when this invocation never acquired it (a rejected concurrent duplicate removes the
 *   lock of the still-running original, so a retry runs the handler again).
 * - NServiceBus #6583: the outbox checks for an entry, then runs the handler; two copies of one
 *   message handled at once on two instances both find none and both run the handler.
 */
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { z } from 'zod';
import { createConsumer, createProducer, defineEvent, on } from '../lambdas';
import { marker, RetryableDeduplicationError, transactional } from '../lambdas/idempotency';
import { counterMessage, counterOf, createTable, getItem, handlerContext } from './idempotency-fixtures';
import { uniqueName } from './support/emulators';
import { queueArnOf, toSqsEvent } from './support/sqs-event';

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
const sqs = new SQSClient({ useQueueUrlAsEndpoint: false });

describe('vs Powertools TS #3673: a FIFO record retried on the same warm instance reaches the handler', () => {
  const Stepped = defineEvent({
    type: 'Stepped',
    schema: z.object({ group: z.string(), n: z.number() }),
    partitionKey: (p) => p.group,
  });

  async function receiveEvent(queueUrl: string, arn: string, count: number): Promise<SQSEvent> {
    const messages = [];
    for (let poll = 0; poll < 20 && messages.length < count; poll += 1) {
      const out = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 0,
          MessageAttributeNames: ['All'],
          MessageSystemAttributeNames: ['All'],
        }),
      );
      messages.push(...(out.Messages ?? []));
      if (messages.length < count) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return toSqsEvent(messages, arn);
  }

  /** What the event source mapping does with the answer: delete the records that succeeded. */
  async function acknowledge(queueUrl: string, event: SQSEvent, failedIds: readonly string[]): Promise<void> {
    const done = event.Records.filter((r) => !failedIds.includes(r.messageId));
    if (done.length === 0) return;
    await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: done.map((r, i) => ({ Id: String(i), ReceiptHandle: r.receiptHandle })),
      }),
    );
  }

  it('group g fails in invocation 1; its redelivery to the same consumer instance is processed, in order', async () => {
    // GIVEN a FIFO queue (3 s visibility) with g0, g1 (group g) and h0 (group h), and one consumer instance
    const { QueueUrl: queueUrl } = await sqs.send(
      new CreateQueueCommand({
        QueueName: uniqueName('warm', true),
        Attributes: { FifoQueue: 'true', VisibilityTimeout: '3' },
      }),
    );
    const arn = await queueArnOf(sqs, queueUrl!);
    const sent = [
      Stepped.create({ group: 'g', n: 0 }),
      Stepped.create({ group: 'g', n: 1 }),
      Stepped.create({ group: 'h', n: 0 }),
    ];
    await createProducer({ sqs }).sendBatch(queueUrl!, sent);
    const handled: string[] = [];
    let failNext = true;
    const consumer = createConsumer({
      name: 'warm',
      logger: quiet,
      handlers: [
        on(Stepped, (m) => {
          const label = `${m.payload.group}${m.payload.n}`;
          if (label === 'g0' && failNext) {
            failNext = false;
            throw new Error('transient failure of g0');
          }
          handled.push(label);
        }),
      ],
    });
    // WHEN invocation 1 fails g0 (g1 is held back behind it, in the batch or by the queue) and the
    // redeliveries reach the same consumer instance
    const first = await receiveEvent(queueUrl!, arn, 3);
    const firstAnswer = await consumer.handler(first);
    const g0Record = first.Records.find((r) => r.body.includes('"group":"g","n":0'));
    expect(firstAnswer.batchItemFailures.map((f) => f.itemIdentifier)).toContain(g0Record!.messageId);
    await acknowledge(
      queueUrl!,
      first,
      firstAnswer.batchItemFailures.map((f) => f.itemIdentifier),
    );
    for (let invocation = 2; invocation <= 6 && handled.length < 3; invocation += 1) {
      const event = await receiveEvent(queueUrl!, arn, 3 - handled.length);
      const answer = await consumer.handler(event);
      expect(answer.batchItemFailures).toEqual([]);
      await acknowledge(queueUrl!, event, []);
    }
    // THEN the retried g0 went through the handler, then g1: nothing skipped, nothing out of order
    expect(handled).toEqual(['h0', 'g0', 'g1']);
  });
});

describe('vs Powertools TS #5675: only the delivery that acquired the marker may remove it', () => {
  it('a rejected concurrent duplicate leaves the running original its lock; the handler runs once', async () => {
    const table = await createTable('cmp-5675');
    const message = counterMessage('p-1');
    let runs = 0;
    let finishOriginal: () => void = () => undefined;
    const handler = marker(
      async () => {
        runs += 1;
        await new Promise<void>((resolve) => {
          finishOriginal = resolve;
        });
      },
      { table },
    );
    const original = handler(message, handlerContext('payments'));
    await new Promise((resolve) => setTimeout(resolve, 300));
    // Two duplicates arrive while the original runs: both rejected, for redelivery.
    for (let i = 0; i < 2; i += 1) {
      await expect(handler(message, handlerContext('payments'))).rejects.toBeInstanceOf(
        RetryableDeduplicationError,
      );
      expect((await getItem(table, `payments#${message.id}`))?.status?.S).toBe('IN_PROGRESS');
    }
    finishOriginal();
    await original;
    // The redelivery after the original completed is acknowledged without running the handler.
    await handler(message, handlerContext('payments'));
    expect(runs).toBe(1);
    expect((await getItem(table, `payments#${message.id}`))?.status?.S).toBe('COMPLETED');
  });

  it("an original whose lease ran out and whose handler then fails does not delete the new owner's marker", async () => {
    const table = await createTable('cmp-5675-lease');
    const message = counterMessage('p-2');
    let failOriginal: (error: Error) => void = () => undefined;
    let finishTakeover: () => void = () => undefined;
    let runs = 0;
    const handler = marker(
      async () => {
        runs += 1;
        if (runs === 1) await new Promise<void>((_, reject) => (failOriginal = reject));
        else await new Promise<void>((resolve) => (finishTakeover = resolve));
      },
      { table, leaseSeconds: 0.5 },
    );
    const original = handler(message, handlerContext('payments'));
    await new Promise((resolve) => setTimeout(resolve, 800)); // the original's lease runs out
    const takeover = handler(message, handlerContext('payments'));
    await new Promise((resolve) => setTimeout(resolve, 300));
    failOriginal(new Error('original failed late'));
    await expect(original).rejects.toThrow(/failed late/);
    // The takeover still holds its marker: the original's release was conditional on its owner.
    const held = await getItem(table, `payments#${message.id}`);
    expect(held?.status?.S).toBe('IN_PROGRESS');
    finishTakeover();
    await takeover;
    expect((await getItem(table, `payments#${message.id}`))?.status?.S).toBe('COMPLETED');
  });
});

describe('vs NServiceBus #6583: two copies of one message handled at once', () => {
  it('marker: the handler body runs once; the other copy waits and is then acknowledged', async () => {
    const table = await createTable('cmp-6583-marker');
    const message = counterMessage('n-1');
    let runs = 0;
    const handler = marker(
      async () => {
        runs += 1;
        await new Promise((resolve) => setTimeout(resolve, 300));
      },
      { table },
    );
    const outcomes = await Promise.allSettled([
      handler(message, handlerContext('orders')),
      handler(message, handlerContext('orders')),
    ]);
    expect(outcomes.map((o) => o.status).sort()).toEqual(['fulfilled', 'rejected']);
    await handler(message, handlerContext('orders')); // SQS redelivers the rejected copy
    expect(runs).toBe(1);
  });

  it('transactional: both copies may run the handler function, its DynamoDB effect commits once', async () => {
    const processed = await createTable('cmp-6583-processed');
    const business = await createTable('cmp-6583-business');
    const message = counterMessage('n-2');
    const handler = transactional(
      async (_m, _c, tx) => {
        await new Promise((resolve) => setTimeout(resolve, 200));
        tx.update({
          TableName: business,
          Key: { pk: { S: 'n-2' } },
          UpdateExpression: 'ADD #count :one',
          ExpressionAttributeNames: { '#count': 'count' },
          ExpressionAttributeValues: { ':one': { N: '1' } },
        });
      },
      { table: processed },
    );
    const copy = async () => {
      for (let delivery = 0; delivery < 10; delivery += 1) {
        try {
          return await handler(message, handlerContext('orders'));
        } catch (error) {
          if (!(error instanceof RetryableDeduplicationError)) throw error;
        }
      }
      throw new Error('still failing after 10 deliveries');
    };
    await Promise.all([copy(), copy()]);
    expect(await counterOf(business, 'n-2')).toBe(1);
  });
});
