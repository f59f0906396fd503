import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { ConfigurationError } from '../lambdas/core';
import { createUnitOfWork, deserializeEntry, OutboxConflictError, OutboxUsageError } from '../lambdas/outbox';
import { createOutboxTable, orderEvent } from './support/outbox-fixtures';

const QUEUE = 'http://127.0.0.1:1/000000000000/orders';
const doc = DynamoDBDocumentClient.from(new DynamoDBClient({}));

describe('unit of work', () => {
  let table: string;
  beforeAll(async () => {
    table = await createOutboxTable();
  });

  it('in-item: commits state and messages in one write of 2 WCU (an idempotent one-item transaction), with per-aggregate sequence', async () => {
    const uow = createUnitOfWork({ table, mode: 'in-item' });
    uow.save({ aggregateId: 'o-1', item: { pk: 'ORDER#o-1', sk: 'ORDER', status: 'placed' } });
    const staged = uow.publish(orderEvent('o-1', 1), { type: 'point-to-point', queueUrl: QUEUE });
    const result = await uow.commit();

    expect(result.writeRequests).toBe(1);
    // TransactWriteItems with the commit id as ClientRequestToken (a lost response retried by the SDK
    // gets the first attempt's outcome): 2 WCU per KB, as AWS bills transactions (and Local reports).
    expect(result.writeCapacityUnits).toBe(2);
    expect(result.sequence).toBe(1);
    const { Item } = await doc.send(
      new GetCommand({ TableName: table, Key: { pk: 'ORDER#o-1', sk: 'ORDER' } }),
    );
    expect(Item?.status).toBe('placed');
    expect(Item?._outboxSeq).toBe(1);
    const [entry] = ((Item?._outbox ?? []) as string[]).map(deserializeEntry);
    expect(entry?.message.id).toBe(staged.id);
    expect(entry?.message.headers['partition-key']).toBe('o-1');
    expect(entry).toMatchObject({ aggregateId: 'o-1', sequence: 1, destination: QUEUE });

    // The next command continues the sequence, reading it itself.
    const next = createUnitOfWork({ table, mode: 'in-item' });
    next.save({ aggregateId: 'o-1', item: { pk: 'ORDER#o-1', sk: 'ORDER', status: 'paid' } });
    next.publish(orderEvent('o-1', 2), { type: 'point-to-point', queueUrl: QUEUE });
    next.publish(orderEvent('o-1', 3), { type: 'point-to-point', queueUrl: QUEUE });
    const second = await next.commit();
    expect(second.entries.map((e) => e.sequence)).toEqual([2, 3]);
  });

  it('in-item: concurrent writers of one aggregate conflict instead of reordering', async () => {
    const write = (step: number) => {
      const uow = createUnitOfWork({ table, mode: 'in-item' });
      uow.save({ aggregateId: 'o-2', item: { pk: 'ORDER#o-2', sk: 'ORDER', step }, expectedSequence: 0 });
      uow.publish(orderEvent('o-2', step), { type: 'point-to-point', queueUrl: QUEUE });
      return uow.commit();
    };
    const results = await Promise.allSettled([write(1), write(2)]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const rejected = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(rejected.reason).toBeInstanceOf(OutboxConflictError);
    expect(rejected.reason.message).toMatch(/changed since it was read.*Re-read/);
  });

  it('in-item: keeps only the configured number of earlier messages', async () => {
    for (let step = 1; step <= 4; step += 1) {
      const uow = createUnitOfWork({ table, mode: 'in-item', keepPrevious: 2 });
      uow.save({ aggregateId: 'o-3', item: { pk: 'ORDER#o-3', sk: 'ORDER', step } });
      uow.publish(orderEvent('o-3', step), { type: 'point-to-point', queueUrl: QUEUE });
      await uow.commit();
    }
    const { Item } = await doc.send(
      new GetCommand({ TableName: table, Key: { pk: 'ORDER#o-3', sk: 'ORDER' } }),
    );
    expect(((Item?._outbox ?? []) as string[]).map((t) => deserializeEntry(t).sequence)).toEqual([2, 3, 4]);
  });

  it('outbox-items: one transaction of the aggregate and one outbox item per message (polling: plus the index copy)', async () => {
    const uow = createUnitOfWork({ table, mode: 'outbox-items', relay: 'polling' });
    uow.save({ aggregateId: 'o-4', item: { pk: 'ORDER#o-4', sk: 'ORDER', status: 'placed' } });
    const staged = uow.send(orderEvent('o-4', 1), { type: 'point-to-point', queueUrl: QUEUE });
    const result = await uow.commit();
    expect(result.writeRequests).toBe(1);
    // The sparse-index copy of the outbox item costs extra write units on top of the 2 item writes.
    expect(result.writeCapacityUnits).toBeGreaterThan(2);

    const { Items } = await doc.send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': 'OUTBOX#o-4' },
      }),
    );
    expect(Items).toHaveLength(1);
    expect(Items?.[0]).toMatchObject({
      sk: '00000000000000000001',
      messageId: staged.id,
      unpublished: expect.stringMatching(/^B\d$/),
      pollKey: 'o-4#00000000000000000001',
      expiresAt: expect.any(Number),
    });
    expect(deserializeEntry(Items?.[0]?.envelope).message.id).toBe(staged.id);
  });

  it('log-tailing outbox items carry no index attributes: 2 item writes (4 WCU as AWS bills transactions)', async () => {
    const uow = createUnitOfWork({ table, mode: 'outbox-items', relay: 'log-tailing' });
    uow.save({ aggregateId: 'o-5', item: { pk: 'ORDER#o-5', sk: 'ORDER' } });
    uow.publish(orderEvent('o-5', 1), { type: 'point-to-point', queueUrl: QUEUE });
    const result = await uow.commit();
    // DynamoDB Local does not double transactional writes; AWS bills these 2 x 2 = 4 WCU.
    expect(result.writeCapacityUnits).toBe(2);
    const { Item } = await doc.send(
      new GetCommand({ TableName: table, Key: { pk: 'OUTBOX#o-5', sk: '00000000000000000001' } }),
    );
    expect(Item?.envelope).toEqual(expect.any(String));
    expect(Item?.unpublished).toBeUndefined();
  });

  it('fails with a clear error for an unbound channel name, a second aggregate or a second commit', async () => {
    const uow = createUnitOfWork({ table, mode: 'in-item' });
    expect(() => uow.publish(orderEvent('x', 1), 'nowhere')).toThrow(ConfigurationError);
    expect(() => uow.publish(orderEvent('x', 1), 'nowhere')).toThrow(/SWITCHYARD_CHANNEL_NOWHERE is not set/);
    uow.save({ aggregateId: 'o-6', item: { pk: 'ORDER#o-6', sk: 'ORDER' } });
    expect(() => uow.save({ aggregateId: 'o-7', item: { pk: 'ORDER#o-7', sk: 'ORDER' } })).toThrow(
      OutboxUsageError,
    );
    await uow.commit();
    expect(() => uow.put({ pk: 'x', sk: 'y' })).toThrow(/already committed/);
    expect(() => createUnitOfWork({ table, mode: 'in-item', relay: 'polling' })).toThrow(
      /'in-item' needs the 'log-tailing'/,
    );
  });

  it('resolves channel names from SWITCHYARD_CHANNEL_<NAME>', async () => {
    process.env.SWITCHYARD_CHANNEL_ORDER_EVENTS = QUEUE;
    try {
      const uow = createUnitOfWork({ table, mode: 'in-item' });
      uow.save({ aggregateId: 'o-8', item: { pk: 'ORDER#o-8', sk: 'ORDER' } });
      uow.publish(orderEvent('o-8', 1), 'order-events');
      const result = await uow.commit();
      expect(result.entries[0]?.destination).toBe(QUEUE);
    } finally {
      delete process.env.SWITCHYARD_CHANNEL_ORDER_EVENTS;
    }
  });
});
