/** The polling publisher on DynamoDB Local and the SNS/SQS emulator, two pollers at once. */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { createPollingPublisher, createUnitOfWork } from '../lambdas/outbox';
import { createProducer } from '../lambdas/producer';
import type { ChannelRef } from '../lambdas/producer/port';
import { snsSqsEndpoint } from './support/emulators';
import { createOutboxTable, createQueue, drain, orderEvent } from './support/outbox-fixtures';

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
const keyAttributes = { partitionKey: 'pk', sortKey: 'sk' };
const producer = createProducer({ maxAttempts: 1 });
const queue = (queueUrl: string): ChannelRef => ({ type: 'point-to-point', queueUrl });

async function commitAll(
  table: string,
  aggregates: number,
  steps: number,
  channel: ChannelRef,
): Promise<Map<string, string[]>> {
  const ids = new Map<string, string[]>();
  for (let step = 1; step <= steps; step += 1) {
    await Promise.all(
      Array.from({ length: aggregates }, async (_, a) => {
        const aggregateId = `p${a}`;
        const uow = createUnitOfWork({ table, mode: 'outbox-items', relay: 'polling' });
        uow.save({
          aggregateId,
          item: { pk: `ORDER#${aggregateId}`, sk: 'ORDER', step },
          expectedSequence: step - 1,
        });
        const staged = uow.publish(orderEvent(aggregateId, step), channel);
        await uow.commit();
        ids.set(aggregateId, [...(ids.get(aggregateId) ?? []), staged.id]);
      }),
    );
  }
  return ids;
}

describe('polling publisher', () => {
  it('(d) two concurrent pollers publish every message, in order per aggregate, none lost', async () => {
    const table = await createOutboxTable();
    const fifo = await createQueue('poller', true);
    const ids = await commitAll(table, 8, 4, queue(fifo));
    const pollers = ['one', 'two'].map((owner) =>
      createPollingPublisher({ producer, table, keyAttributes, owner, logger: quiet, concurrency: 3 }),
    );
    let published = 0;
    let leasedSeen = 0;
    for (let round = 0; round < 10; round += 1) {
      const outcomes = await Promise.all(pollers.map((p) => p.poll()));
      published += outcomes.reduce((sum, o) => sum + o.published, 0);
      leasedSeen += outcomes.reduce((sum, o) => sum + o.leased, 0);
      if (outcomes.every((o) => o.aggregates === 0 && o.leased === 0)) break;
    }
    // Each message was published once: leases kept the two pollers on different aggregates.
    expect(published).toBe(32);
    expect(leasedSeen).toBeGreaterThan(0);
    const received = await drain(fifo, 32);
    expect(received).toHaveLength(32);
    for (const [aggregateId, expected] of ids) {
      expect(received.filter((m) => m.groupId === aggregateId).map((m) => m.id)).toEqual(expected);
    }
    const doc = DynamoDBDocumentClient.from(new DynamoDBClient({}));
    const { Item } = await doc.send(
      new GetCommand({ TableName: table, Key: { pk: 'OUTBOX#p0', sk: '00000000000000000004' } }),
    );
    expect(Item).toMatchObject({ publishedAt: expect.any(String) });
    expect(Item?.unpublished).toBeUndefined();
  });

  it('a poller that crashes between publish and mark leaves only duplicates with the same ids', async () => {
    const table = await createOutboxTable();
    const standard = await createQueue('poller-crash');
    const ids = await commitAll(table, 1, 3, queue(standard));
    const crashing = {
      ...producer,
      dispatch: (channel: ChannelRef, messages: Parameters<typeof producer.dispatch>[1]) =>
        producer.dispatch(channel, messages).then(() => {
          throw new Error('Lambda timed out before marking the items published');
        }),
    };
    const a = createPollingPublisher({ producer: crashing, table, keyAttributes, owner: 'a', logger: quiet });
    await expect(a.poll()).rejects.toThrow(/timed out/);
    const b = createPollingPublisher({ producer, table, keyAttributes, owner: 'b', logger: quiet });
    expect(await b.poll()).toMatchObject({ published: 3 });
    expect(await b.poll()).toMatchObject({ published: 0, aggregates: 0 });
    const received = await drain(standard, 6);
    expect(received).toHaveLength(6);
    expect(new Set(received.map((m) => m.id))).toEqual(new Set(ids.get('p0')));
  });

  it('parks a message it cannot publish after its attempts, with the reason, and moves on', async () => {
    const table = await createOutboxTable();
    const good = await createQueue('poller-good');
    const failures = await createQueue('poller-failures');
    const missing = `${snsSqsEndpoint()}/000000000000/no-such-queue-${Date.now()}`;
    const uow = createUnitOfWork({ table, mode: 'outbox-items', relay: 'polling' });
    uow.save({ aggregateId: 'q1', item: { pk: 'ORDER#q1', sk: 'ORDER' } });
    const poison = uow.publish(orderEvent('q1', 1), queue(missing));
    const after = uow.publish(orderEvent('q1', 2), queue(good));
    await uow.commit();
    const poller = createPollingPublisher({
      producer,
      table,
      keyAttributes,
      logger: quiet,
      failureQueueUrl: failures,
      maxAttempts: 2,
    });
    const first = await poller.poll();
    expect(first).toMatchObject({ published: 0, failed: 1, parked: 0 });
    const second = await poller.poll();
    expect(second).toMatchObject({ failed: 1, parked: 1 });
    const third = await poller.poll();
    expect(third).toMatchObject({ published: 1 });
    const [parked] = await drain(failures, 1);
    expect(parked?.body).toMatchObject({
      switchyard: {
        source: 'outbox-poller',
        reason: expect.stringMatching(/NonExistentQueue|QueueDoesNotExist|does not exist/i),
      },
    });
    const body = parked!.body as { switchyard: { messages: { id: string }[] } };
    expect(body.switchyard.messages[0]?.id).toBe(poison.id);
    expect((await drain(good, 1)).map((m) => m.id)).toEqual([after.id]);
  });
});
