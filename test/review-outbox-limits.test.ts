/**
 * Review (likely finding): the size limit a message is checked against at commit travels with it.
 * The relay and the poller send with the writer's limit, so a limit configured differently in their
 * function (here: a stale _MAX_MESSAGE_BYTES of 256 KiB for a 1 MiB queue) cannot turn a message the
 * commit accepted into a permanent failure that is parked.
 */
import {
  createPollingPublisher,
  createStreamRelay,
  createUnitOfWork,
  FailureParking,
} from '../lambdas/outbox';
import { deserializeEntry } from '../lambdas/outbox/layout';
import { createProducer } from '../lambdas/producer';
import { createOutboxTable, createQueue, drain, orderEvent } from './support/outbox-fixtures';
import { StreamTail, streamEvent } from './support/stream-event';

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
const keyAttributes = { partitionKey: 'pk', sortKey: 'sk' };

describe('review: the relay sends with the size limit the writer checked', () => {
  const variable = 'SWITCHYARD_CHANNEL_REVIEW_LIMITS';
  afterEach(() => {
    delete process.env[variable];
    delete process.env[`${variable}_MAX_MESSAGE_BYTES`];
  });

  it('a 300 KB command accepted against the queue limit (1 MiB) is published by a relay configured with 256 KiB', async () => {
    const table = await createOutboxTable();
    const queueUrl = await createQueue('review-limits');
    const failures = await createQueue('review-limits-failures');
    const big = orderEvent('limits', 1, { blob: 'z'.repeat(300_000) });
    const uow = createUnitOfWork({ table, mode: 'outbox-items' });
    uow.save({ aggregateId: 'limits', item: { pk: 'ORDER#limits', sk: 'ORDER' }, expectedSequence: 0 });
    uow.send(big, { type: 'point-to-point', queueUrl });
    const { entries } = await uow.commit();
    expect(entries[0]?.maxMessageBytes).toBe(1_048_576);

    // The relay's function believes the channel takes 256 KiB.
    process.env[variable] = queueUrl;
    process.env[`${variable}_MAX_MESSAGE_BYTES`] = '262144';
    const records = (await new StreamTail(table).open().then((t) => t.read())).filter(
      (r) => r.dynamodb?.NewImage?.envelope,
    );
    expect(records.map((r) => deserializeEntry(r.dynamodb?.NewImage?.envelope?.S).maxMessageBytes)).toEqual([
      1_048_576,
    ]);
    const relay = createStreamRelay({
      producer: createProducer(),
      logger: quiet,
      parking: new FailureParking({ queueUrl: failures, table, keyAttributes, maxAttempts: 1 }),
    });
    const outcome = await relay(streamEvent(records));
    expect(outcome).toMatchObject({ published: 1, parked: [], batchItemFailures: [] });
    expect((await drain(queueUrl, 1)).map((m) => m.id)).toEqual([big.id]);
  });

  it('the poller too: the same command is published, not parked', async () => {
    const table = await createOutboxTable();
    const queueUrl = await createQueue('review-limits-poller');
    const failures = await createQueue('review-limits-poller-failures');
    const big = orderEvent('limits-poller', 1, { blob: 'z'.repeat(300_000) });
    const uow = createUnitOfWork({ table, mode: 'outbox-items', relay: 'polling' });
    uow.save({
      aggregateId: 'limits-poller',
      item: { pk: 'ORDER#limits-poller', sk: 'ORDER' },
      expectedSequence: 0,
    });
    uow.send(big, { type: 'point-to-point', queueUrl });
    await uow.commit();

    process.env[variable] = queueUrl;
    process.env[`${variable}_MAX_MESSAGE_BYTES`] = '262144';
    const poller = createPollingPublisher({
      producer: createProducer(),
      table,
      keyAttributes,
      logger: quiet,
      failureQueueUrl: failures,
      maxAttempts: 1,
    });
    expect(await poller.poll()).toMatchObject({ published: 1, failed: 0, parked: 0 });
    expect((await drain(queueUrl, 1)).map((m) => m.id)).toEqual([big.id]);
  });
});
