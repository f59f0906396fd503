/**
 * Review of the faults-core merge (issue 8) at the relay's parking (DynamoDB Local's real stream,
 * the SQS emulator). Fails on 88e90c1.
 *
 * SQS destinations now take messages up to 1 MiB (producer/limits.ts), so commit() accepts, say, a
 * 300 KB command for a queue. When it fails for good (here: the queue does not exist) the relay parks
 * its record, but FailureParking still cuts the parked body at 250,000 bytes (the old 256 KiB limit)
 * and replaces the payload with `{ omitted: ... }`, saying the payload "stays in the table item and
 * the stream". In in-item mode the next commit of the aggregate replaces the item's outbox list, and
 * the stream keeps records 24 hours (outbox items expire by TTL after 7 days): the message that
 * could not be delivered is then gone from everywhere. The failure queue takes 1 MiB.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { createStreamRelay, createUnitOfWork, FailureParking, type ParkedRecord } from '../lambdas/outbox';
import { createProducer } from '../lambdas/producer';
import { createOutboxTable, createQueue, drain, orderEvent } from './support/outbox-fixtures';
import { StreamTail, streamEvent } from './support/stream-event';

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
const keyAttributes = { partitionKey: 'pk', sortKey: 'sk' };
const doc = DynamoDBDocumentClient.from(new DynamoDBClient({}));

describe('review: a parked message keeps its payload', () => {
  it('in-item: a 300 KB command to a missing queue is parked with its payload', async () => {
    const table = await createOutboxTable();
    const failures = await createQueue('review-park-failures');
    const existing = await createQueue('review-park-existing');
    const missing = existing.replace(/[^/]+$/, 'review-no-such-queue');
    const aggregateId = 'review-big';
    const pk = `ORDER#${aggregateId}`;
    const big = orderEvent(aggregateId, 1, { blob: 'x'.repeat(300_000) });

    const first = createUnitOfWork({ table, mode: 'in-item' });
    first.save({ aggregateId, item: { pk, sk: 'ORDER', status: 'placed' }, expectedSequence: 0 });
    first.send(big, { type: 'point-to-point', queueUrl: missing });
    await first.commit(); // accepted: within the queue's 1 MiB and the item's 400 KB
    const second = createUnitOfWork({ table, mode: 'in-item' });
    second.save({ aggregateId, item: { pk, sk: 'ORDER', status: 'paid' }, expectedSequence: 1 });
    second.publish(orderEvent(aggregateId, 2), { type: 'point-to-point', queueUrl: existing });
    await second.commit();

    const records = await new StreamTail(table).open().then((t) => t.read());
    const relay = createStreamRelay({
      producer: createProducer(),
      logger: quiet,
      parking: new FailureParking({ queueUrl: failures, table, keyAttributes, maxAttempts: 1 }),
    });
    const outcome = await relay(streamEvent(records));
    expect(outcome.parked).toEqual([records[0]!.eventID]);

    // The table no longer holds the message (the next commit replaced the in-item list)...
    const item = (
      await doc.send(new GetCommand({ TableName: table, Key: { pk, sk: 'ORDER' }, ConsistentRead: true }))
    ).Item;
    expect(JSON.stringify(item)).not.toContain(big.id);
    // ...so the failure queue is the only place left: it must carry the payload.
    const [parked] = (await drain(failures, 1)) as unknown as { body: ParkedRecord }[];
    expect(parked!.body.switchyard.messages[0]!.id).toBe(big.id);
    expect(parked!.body.switchyard.messages[0]!.payload).toEqual(big.payload);
  });
});

describe('parking: a record too large for the failure queue, and messages already published', () => {
  it('a parked record over the failure queue limit is stored in the table without TTL and referenced', async () => {
    const table = await createOutboxTable();
    const failures = await createQueue('review-park-stored');
    const existing = await createQueue('review-park-stored-existing');
    const missing = existing.replace(/[^/]+$/, 'review-no-such-queue-stored');
    const aggregateId = 'review-stored';
    const big = orderEvent(aggregateId, 1, { blob: 'y'.repeat(300_000) });
    const uow = createUnitOfWork({ table, mode: 'in-item' });
    uow.save({ aggregateId, item: { pk: `ORDER#${aggregateId}`, sk: 'ORDER' }, expectedSequence: 0 });
    uow.send(big, { type: 'point-to-point', queueUrl: missing });
    await uow.commit();

    const records = await new StreamTail(table).open().then((t) => t.read());
    // A failure queue that takes 100 KB: the 300 KB record does not fit.
    const parking = new FailureParking({
      queueUrl: failures,
      table,
      keyAttributes,
      maxAttempts: 1,
      maxMessageBytes: 100_000,
    });
    const relay = createStreamRelay({ producer: createProducer(), logger: quiet, parking });
    expect((await relay(streamEvent(records))).parked).toEqual([records[0]!.eventID]);

    const [parked] = (await drain(failures, 1)) as unknown as { body: ParkedRecord }[];
    const message = parked!.body.switchyard.messages[0]!;
    expect(message.id).toBe(big.id);
    expect(message.payload).toBeNull();
    expect(message.storedIn).toEqual({ table, key: { pk: `OUTBOX-PARKED#${big.id}`, sk: 'PARKED' } });
    const stored = (
      await doc.send(new GetCommand({ TableName: table, Key: message.storedIn!.key, ConsistentRead: true }))
    ).Item;
    expect(stored?.expiresAt).toBeUndefined();
    const whole = JSON.parse(stored!.message as string);
    expect(whole.payload).toEqual(big.payload);
    expect({ ...whole, payload: null }).toEqual({ ...message, storedIn: undefined, payload: null });
  });

  it('a record parked whole marks the messages that were published, so a replay can skip them', async () => {
    const table = await createOutboxTable();
    const failures = await createQueue('review-park-published');
    const existing = await createQueue('review-park-published-existing');
    const missing = existing.replace(/[^/]+$/, 'review-no-such-queue-published');
    const aggregateId = 'review-published';
    const delivered = orderEvent(aggregateId, 1);
    const lost = orderEvent(aggregateId, 2);
    const uow = createUnitOfWork({ table, mode: 'in-item' });
    uow.save({ aggregateId, item: { pk: `ORDER#${aggregateId}`, sk: 'ORDER' }, expectedSequence: 0 });
    uow.send(delivered, { type: 'point-to-point', queueUrl: existing });
    uow.send(lost, { type: 'point-to-point', queueUrl: missing });
    await uow.commit();

    const records = await new StreamTail(table).open().then((t) => t.read());
    const parking = new FailureParking({ queueUrl: failures, table, keyAttributes, maxAttempts: 1 });
    const relay = createStreamRelay({ producer: createProducer(), logger: quiet, parking });
    expect((await relay(streamEvent(records))).parked).toEqual([records[0]!.eventID]);

    expect((await drain(existing, 1)).map((m) => m.id)).toEqual([delivered.id]);
    const [parked] = (await drain(failures, 1)) as unknown as { body: ParkedRecord }[];
    const byId = new Map(parked!.body.switchyard.messages.map((m) => [m.id, m]));
    expect(byId.get(delivered.id)?.published).toBe(true);
    expect(byId.get(lost.id)?.published).toBeUndefined();
    expect(byId.get(lost.id)?.payload).toEqual(lost.payload);
  });
});
