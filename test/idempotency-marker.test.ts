import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { marker, RetryableDeduplicationError } from '../lambdas/idempotency';
import {
  counterMessage,
  createTable,
  ddb,
  getItem,
  handlerContext,
  recordingLogger,
} from './idempotency-fixtures';

describe('marker()', () => {
  let processed: string;

  beforeAll(async () => {
    processed = await createTable('processed');
  });

  it('runs the handler once for concurrent deliveries', async () => {
    const effects: string[] = [];
    const handler = marker(
      async (message) => {
        effects.push(message.id);
        await new Promise((resolve) => setTimeout(resolve, 20));
      },
      { table: processed, client: ddb },
    );
    const context = handlerContext('mailer');
    for (let round = 0; round < 10; round++) {
      const message = counterMessage('m');
      const outcomes = await Promise.allSettled([1, 2, 3].map(() => handler(message, context)));
      for (const outcome of outcomes) {
        if (outcome.status === 'rejected') {
          expect(outcome.reason).toBeInstanceOf(RetryableDeduplicationError);
          expect((outcome.reason as RetryableDeduplicationError).reason).toBe('InProgress');
        }
      }
      // redelivery after the winner completed: acknowledged
      await handler(message, context);
      expect(effects.filter((id) => id === message.id)).toHaveLength(1);
      expect((await getItem(processed, `mailer#${message.id}`))?.status?.S).toBe('COMPLETED');
    }
  });

  it('releases the marker when the handler fails, so the redelivery runs it once', async () => {
    let attempts = 0;
    const handler = marker(
      async () => {
        attempts++;
        if (attempts === 1) throw new Error('smtp down');
      },
      { table: processed, client: ddb },
    );
    const message = counterMessage('m');
    await expect(handler(message, handlerContext('mailer'))).rejects.toThrow('smtp down');
    expect(await getItem(processed, `mailer#${message.id}`)).toBeUndefined();
    await handler(message, handlerContext('mailer'));
    await handler(message, handlerContext('mailer'));
    expect(attempts).toBe(2);
  });

  it('takes over an expired in-progress marker (a crashed delivery) and refuses an unexpired one', async () => {
    const message = counterMessage('m');
    const crashed = (leaseUntil: number) =>
      ddb.send(
        new PutItemCommand({
          TableName: processed,
          Item: {
            pk: { S: `mailer#${message.id}` },
            status: { S: 'IN_PROGRESS' },
            leaseUntil: { N: String(leaseUntil) },
            owner: { S: 'crashed-invocation' },
          },
        }),
      );
    let runs = 0;
    const handler = marker(
      async () => {
        runs++;
      },
      { table: processed, client: ddb, leaseSeconds: 30 },
    );
    await crashed(Date.now() + 60_000);
    await expect(handler(message, handlerContext('mailer'))).rejects.toThrow(
      /being processed by another delivery/,
    );
    expect(runs).toBe(0);
    await crashed(Date.now() - 1);
    const logger = recordingLogger();
    await handler(message, handlerContext('mailer', logger));
    expect(runs).toBe(1);
    expect((await getItem(processed, `mailer#${message.id}`))?.status?.S).toBe('COMPLETED');
  });

  it('leases for the remaining Lambda time by default', async () => {
    let leaseUntil = 0;
    const handler = marker(
      async (message) => {
        leaseUntil = Number((await getItem(processed, `mailer#${message.id}`))?.leaseUntil?.N);
      },
      { table: processed, client: ddb },
    );
    const before = Date.now();
    await handler(counterMessage('m'), handlerContext('mailer')); // fakeContext: 30 s left
    expect(leaseUntil).toBeGreaterThan(before + 25_000);
    expect(leaseUntil).toBeLessThanOrEqual(Date.now() + 30_000);
  });

  it('fails on a non-positive lease', () => {
    expect(() => marker(async () => undefined, { leaseSeconds: 0 })).toThrow(/leaseSeconds must be positive/);
  });
});
