import {
  ProvisionedThroughputExceededException,
  TransactionCanceledException,
  type Update,
} from '@aws-sdk/client-dynamodb';
import {
  BusinessConditionFailedError,
  DeduplicationConfigurationError,
  RetryableDeduplicationError,
  transactional,
} from '../lambdas/idempotency';
import {
  counterMessage,
  counterOf,
  createTable,
  failingClient,
  getItem,
  handlerContext,
  recordingLogger,
} from './idempotency-fixtures';

const increment = (table: string, item: string): Update => ({
  TableName: table,
  Key: { pk: { S: item } },
  UpdateExpression: 'ADD #count :one',
  ExpressionAttributeNames: { '#count': 'count' },
  ExpressionAttributeValues: { ':one': { N: '1' } },
});

const conflict = () =>
  new TransactionCanceledException({
    message: 'Transaction cancelled (injected)',
    $metadata: {},
    CancellationReasons: [{ Code: 'TransactionConflict' }, { Code: 'None' }],
  });
const throttle = () =>
  new ProvisionedThroughputExceededException({ message: 'Rate exceeded (injected)', $metadata: {} });

describe('transactional()', () => {
  let processed: string;
  let business: string;

  beforeAll(async () => {
    [processed, business] = await Promise.all([createTable('processed'), createTable('business')]);
  });

  it('applies concurrent deliveries of the same message once', async () => {
    // GIVEN
    const handler = transactional<{ item: string }>(
      async (message, _context, tx) => {
        tx.update(increment(business, message.payload.item));
      },
      { table: processed },
    );
    const context = handlerContext('kitchen');
    for (let round = 0; round < 15; round++) {
      const message = counterMessage(`concurrent-${round}`);
      // WHEN three deliveries race
      const outcomes = await Promise.allSettled([1, 2, 3].map(() => handler(message, context)));
      // THEN a loser is either acknowledged (duplicate) or failed as retryable, never anything else
      for (const outcome of outcomes) {
        if (outcome.status === 'rejected') expect(outcome.reason).toBeInstanceOf(RetryableDeduplicationError);
      }
      expect(outcomes.some((o) => o.status === 'fulfilled')).toBe(true);
      // and redelivering the failed ones acknowledges them without a second effect
      for (const outcome of outcomes.filter((o) => o.status === 'rejected')) {
        void outcome;
        await handler(message, context);
      }
      expect(await counterOf(business, `concurrent-${round}`)).toBe(1);
    }
  });

  it('acknowledges a duplicate without applying its writes and logs it', async () => {
    const logger = recordingLogger();
    const calls: string[] = [];
    const handler = transactional<{ item: string }>(
      async (message, _context, tx) => {
        calls.push(message.id);
        tx.update(increment(business, message.payload.item));
      },
      { table: processed },
    );
    const message = counterMessage('dup-1');
    await handler(message, handlerContext('kitchen', logger));
    await handler(message, handlerContext('kitchen', logger));
    expect(calls).toHaveLength(2);
    expect(await counterOf(business, 'dup-1')).toBe(1);
    expect(logger.lines).toContainEqual(
      expect.objectContaining({
        message: 'duplicate message acknowledged',
        fields: expect.objectContaining({ messageId: message.id }),
      }),
    );
    // the same message id for another consumer is not a duplicate
    await handler(message, handlerContext('billing'));
    expect(await counterOf(business, 'dup-1')).toBe(2);
  });

  it('applies a redelivery after a handler failure once', async () => {
    let failNext = true;
    const handler = transactional<{ item: string }>(
      async (message, _context, tx) => {
        tx.update(increment(business, message.payload.item));
        if (failNext) {
          failNext = false;
          throw new Error('downstream unavailable');
        }
      },
      { table: processed },
    );
    const message = counterMessage('fail-then-retry');
    await expect(handler(message, handlerContext('kitchen'))).rejects.toThrow('downstream unavailable');
    expect(await counterOf(business, 'fail-then-retry')).toBe(0);
    await handler(message, handlerContext('kitchen'));
    await handler(message, handlerContext('kitchen'));
    expect(await counterOf(business, 'fail-then-retry')).toBe(1);
  });

  it('records the message id when the handler stages nothing', async () => {
    const handler = transactional(async () => undefined, { table: processed, ttlSeconds: 3600 });
    const message = counterMessage('nothing');
    await handler(message, handlerContext('kitchen'));
    const record = await getItem(processed, `kitchen#${message.id}`);
    expect(Number(record?.expiresAt?.N)).toBeGreaterThan(Date.now() / 1000 + 3500);
  });

  it("fails with BusinessConditionFailedError when the handler's own condition fails", async () => {
    const handler = transactional(
      async (_message, _context, tx) => {
        tx.conditionCheck({
          TableName: business,
          Key: { pk: { S: 'does-not-exist' } },
          ConditionExpression: 'attribute_exists(pk)',
        });
      },
      { table: processed },
    );
    const message = counterMessage('x');
    await expect(handler(message, handlerContext('kitchen'))).rejects.toThrow(BusinessConditionFailedError);
    await expect(handler(message, handlerContext('kitchen'))).rejects.toThrow(
      /item 0 \(ConditionCheck .*\): ConditionalCheckFailed/,
    );
    // nothing recorded: a redelivery will run the handler again
    expect(await getItem(processed, `kitchen#${message.id}`)).toBeUndefined();
  });

  it('fails when more than 99 writes are staged', async () => {
    const handler = transactional(
      async (_message, _context, tx) => {
        for (let i = 0; i < 100; i++) tx.update(increment(business, `many-${i}`));
      },
      { table: processed },
    );
    await expect(handler(counterMessage('x'), handlerContext('kitchen'))).rejects.toThrow(
      DeduplicationConfigurationError,
    );
    await expect(handler(counterMessage('x'), handlerContext('kitchen'))).rejects.toThrow(
      /at most 99 writes/,
    );
  });

  it('fails when no table is configured', async () => {
    delete process.env.SWITCHYARD_PROCESSED_MESSAGES_TABLE;
    const handler = transactional(async () => undefined);
    await expect(handler(counterMessage('x'), handlerContext('kitchen'))).rejects.toThrow(
      /SWITCHYARD_PROCESSED_MESSAGES_TABLE/,
    );
  });

  it('turns transaction conflicts that outlast its in-process attempts into retryable failures, never acknowledgements', async () => {
    // DynamoDB Local serializes transactions (120 concurrent ones on one item produced no conflict in
    // a probe), so the cancellation DynamoDB sends on a conflict is injected here: on all 4 attempts.
    const handler = transactional<{ item: string }>(
      async (message, _context, tx) => {
        tx.update(increment(business, message.payload.item));
      },
      { table: processed, client: failingClient(4, conflict), retryBaseDelayMs: 1 },
    );
    const message = counterMessage('conflict');
    const failure = handler(message, handlerContext('kitchen'));
    await expect(failure).rejects.toThrow(RetryableDeduplicationError);
    await expect(failure).rejects.toMatchObject({ reason: 'TransactionConflict' });
    expect(await getItem(processed, `kitchen#${message.id}`)).toBeUndefined();
    await handler(message, handlerContext('kitchen'));
    await handler(message, handlerContext('kitchen'));
    expect(await counterOf(business, 'conflict')).toBe(1);
  });

  it('turns throttling into a retryable failure', async () => {
    const handler = transactional<{ item: string }>(
      async (message, _context, tx) => {
        tx.update(increment(business, message.payload.item));
      },
      { table: processed, client: failingClient(1, throttle) },
    );
    const message = counterMessage('throttled');
    const failure = handler(message, handlerContext('kitchen'));
    await expect(failure).rejects.toThrow(RetryableDeduplicationError);
    await expect(failure).rejects.toMatchObject({ reason: 'ProvisionedThroughputExceededException' });
    expect(await counterOf(business, 'throttled')).toBe(0);
    await handler(message, handlerContext('kitchen'));
    expect(await counterOf(business, 'throttled')).toBe(1);
  });
});
