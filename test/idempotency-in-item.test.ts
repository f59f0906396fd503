import {
  ProvisionedThroughputExceededException,
  PutItemCommand,
  type Update,
} from '@aws-sdk/client-dynamodb';
import {
  BusinessConditionFailedError,
  DeduplicationConfigurationError,
  inItem,
  RetryableDeduplicationError,
} from '../lambdas/idempotency';
import { mergeUpdateExpression } from '../lambdas/idempotency/update-expression';
import {
  counterMessage,
  counterOf,
  createTable,
  ddb,
  failingClient,
  getItem,
  handlerContext,
  recordingLogger,
} from './idempotency-fixtures';

const increment = (table: string, item: string): Update => ({
  TableName: table,
  Key: { pk: { S: item } },
  UpdateExpression: 'SET #last = :now ADD #count :one',
  ExpressionAttributeNames: { '#count': 'count', '#last': 'lastAt' },
  ExpressionAttributeValues: { ':one': { N: '1' }, ':now': { N: String(Date.now()) } },
});

/** Counts the write requests a client sends. */
function countingClient() {
  const counts = { writes: 0 };
  ddb.middlewareStack.remove('countWrites');
  ddb.middlewareStack.add(
    (next) => async (args) => {
      counts.writes++;
      return next(args);
    },
    { step: 'initialize', name: 'countWrites' },
  );
  return counts;
}

describe('mergeUpdateExpression', () => {
  it('adds actions to existing clauses and creates missing ones', () => {
    expect(mergeUpdateExpression('set a = :a ADD b :one', { SET: ['p[9] = :id'], REMOVE: ['p[0]'] })).toBe(
      'SET a = :a, p[9] = :id ADD b :one REMOVE p[0]',
    );
    expect(mergeUpdateExpression(undefined, { SET: ['p = :i'] })).toBe('SET p = :i');
  });

  it('fails on an expression that does not start with a clause keyword', () => {
    expect(() => mergeUpdateExpression('a = :a', { SET: ['p = :i'] })).toThrow(/must start with SET/);
  });
});

describe('inItem()', () => {
  let business: string;

  beforeAll(async () => {
    business = await createTable('business');
  });

  afterEach(() => {
    ddb.middlewareStack.remove('countWrites');
  });

  const counter = (options: Parameters<typeof inItem>[1] = {}) =>
    inItem<{ item: string }>((message) => ({ update: increment(business, message.payload.item) }), {
      client: ddb,
      ...options,
    });

  it('applies concurrent deliveries of the same message once', async () => {
    const handler = counter();
    const context = handlerContext('order-history');
    // a warm item (list already created) and a new item each round
    for (let round = 0; round < 15; round++) {
      for (const item of ['warm', `new-${round}`]) {
        const message = counterMessage(item);
        const outcomes = await Promise.allSettled([1, 2, 3].map(() => handler(message, context)));
        for (const outcome of outcomes) {
          if (outcome.status === 'rejected')
            expect(outcome.reason).toBeInstanceOf(RetryableDeduplicationError);
        }
        await handler(message, context);
      }
      expect(await counterOf(business, `new-${round}`)).toBe(1);
    }
    expect(await counterOf(business, 'warm')).toBe(15);
  });

  it('writes once per message on an existing item and keeps exactly `window` ids', async () => {
    const handler = counter({ window: 4 });
    const context = handlerContext('order-history');
    await handler(counterMessage('one-write'), context);
    const counts = countingClient();
    for (let i = 0; i < 6; i++) await handler(counterMessage('one-write'), context);
    expect(counts.writes).toBe(6);
    const item = await getItem(business, 'one-write');
    expect(item?._processed?.L).toHaveLength(4);
    expect(item?._processed?.L?.every((entry) => entry.B?.length === 16)).toBe(true);
    expect(Number(item?.count?.N)).toBe(7);
  });

  it('records ids on items this container has not written: with a list (another container) or without one', async () => {
    // an item whose list another container created: the first guess (create the list) fails, the shift applies
    await ddb.send(
      new PutItemCommand({
        TableName: business,
        Item: {
          pk: { S: 'foreign' },
          count: { N: '5' },
          _processed: { L: [{ NULL: true }, { NULL: true }] },
        },
      }),
    );
    // an item written by someone not using inItem(): no list yet
    await ddb.send(
      new PutItemCommand({ TableName: business, Item: { pk: { S: 'legacy' }, count: { N: '7' } } }),
    );
    const handler = counter();
    const context = handlerContext('order-history');
    for (const item of ['foreign', 'legacy']) {
      const message = counterMessage(item);
      await handler(message, context);
      await handler(message, context);
    }
    expect(await counterOf(business, 'foreign')).toBe(6);
    expect((await getItem(business, 'foreign'))?._processed?.L).toHaveLength(2);
    expect(await counterOf(business, 'legacy')).toBe(8);
    expect((await getItem(business, 'legacy'))?._processed?.L).toHaveLength(32);
  });

  it('acknowledges a duplicate, and forgets ids older than the window (documented bound)', async () => {
    const logger = recordingLogger();
    const handler = counter({ window: 3 });
    const context = handlerContext('order-history', logger);
    const first = counterMessage('window');
    await handler(first, context);
    await handler(first, context);
    expect(await counterOf(business, 'window')).toBe(1);
    expect(logger.lines.map((l) => l.message)).toContain('duplicate message acknowledged');
    // two newer messages: still inside a window of 3
    await handler(counterMessage('window'), context);
    await handler(counterMessage('window'), context);
    await handler(first, context);
    expect(await counterOf(business, 'window')).toBe(3);
    // a third newer message pushes `first` out: its duplicate is no longer detected
    await handler(counterMessage('window'), context);
    await handler(first, context);
    expect(await counterOf(business, 'window')).toBe(5);
  });

  it('applies a redelivery after a handler failure once', async () => {
    let failNext = true;
    const handler = inItem<{ item: string }>(
      (message) => {
        if (failNext) {
          failNext = false;
          throw new Error('downstream unavailable');
        }
        return { update: increment(business, message.payload.item) };
      },
      { client: ddb },
    );
    const message = counterMessage('retry');
    await expect(handler(message, handlerContext('order-history'))).rejects.toThrow('downstream unavailable');
    await handler(message, handlerContext('order-history'));
    await handler(message, handlerContext('order-history'));
    expect(await counterOf(business, 'retry')).toBe(1);
  });

  it("fails with BusinessConditionFailedError when the handler's own condition fails", async () => {
    const handler = inItem<{ item: string }>(
      (message) => ({
        update: {
          ...increment(business, message.payload.item),
          ConditionExpression: 'attribute_not_exists(#count) OR #count < :max',
          ExpressionAttributeValues: { ':one': { N: '1' }, ':now': { N: '0' }, ':max': { N: '2' } },
        },
      }),
      { client: ddb },
    );
    const context = handlerContext('order-history');
    await handler(counterMessage('capped'), context); // creates the list
    await handler(counterMessage('capped'), context);
    const third = counterMessage('capped');
    await expect(handler(third, context)).rejects.toThrow(BusinessConditionFailedError);
    await expect(handler(third, context)).rejects.toThrow(/not a duplicate/);
    expect(await counterOf(business, 'capped')).toBe(2);
  });

  it('applies a Put as an update that keeps the window', async () => {
    const handler = inItem<{ item: string }>(
      (message) => ({
        put: { TableName: business, Item: { pk: { S: message.payload.item }, status: { S: 'CREATED' } } },
        keyAttributes: ['pk'],
      }),
      { client: ddb },
    );
    const message = counterMessage('put');
    await handler(message, handlerContext('order-history'));
    await handler(message, handlerContext('order-history'));
    const item = await getItem(business, 'put');
    expect(item?.status?.S).toBe('CREATED');
    expect(item?._processed?.L).toHaveLength(32);
  });

  it('fails when the handler writes the id attribute itself', async () => {
    const handler = inItem(
      () => ({
        update: {
          TableName: business,
          Key: { pk: { S: 'clash' } },
          UpdateExpression: 'REMOVE #p',
          ExpressionAttributeNames: { '#p': '_processed' },
        },
      }),
      { client: ddb },
    );
    await expect(handler(counterMessage('clash'), handlerContext('order-history'))).rejects.toThrow(
      DeduplicationConfigurationError,
    );
  });

  it('fails on a window out of range', () => {
    expect(() => inItem(() => undefined, { window: 0 })).toThrow(
      /window must be a whole number from 1 to 1000/,
    );
  });

  it('turns throttling into a retryable failure', async () => {
    const throttled = inItem<{ item: string }>(
      (message) => ({ update: increment(business, message.payload.item) }),
      {
        client: failingClient(
          1,
          () =>
            new ProvisionedThroughputExceededException({
              message: 'Rate exceeded (injected)',
              $metadata: {},
            }),
        ),
      },
    );
    const message = counterMessage('throttled');
    await expect(throttled(message, handlerContext('order-history'))).rejects.toThrow(
      RetryableDeduplicationError,
    );
    expect(await counterOf(business, 'throttled')).toBe(0);
    await throttled(message, handlerContext('order-history'));
    await throttled(message, handlerContext('order-history'));
    expect(await counterOf(business, 'throttled')).toBe(1);
  });
});
