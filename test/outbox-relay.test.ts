/**
 * Failure tests of the log-tailing relay on DynamoDB Local's real stream and the SNS/SQS emulator:
 * records are read with the Streams API and handed to the relay as Lambda would.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DeleteItemCommand, DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBRecord } from 'aws-lambda';
import type { Message } from '../lambdas/core';
import { createStreamRelay, createUnitOfWork, FailureParking, type ParkedRecord } from '../lambdas/outbox';
import { createProducer } from '../lambdas/producer';
import type { BatchResult, ChannelRef, MessageProducer } from '../lambdas/producer/port';
import { snsSqsEndpoint } from './support/emulators';
import { createOutboxTable, createQueue, drain, orderEvent } from './support/outbox-fixtures';
import { remainingAfter, StreamTail, streamEvent } from './support/stream-event';

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
const producer = createProducer({ maxAttempts: 1 });

const queue = (queueUrl: string): ChannelRef => ({ type: 'point-to-point', queueUrl });

/** Commits `steps` in-item commits per aggregate, interleaved across aggregates; returns the staged ids per aggregate. */
async function commitInterleaved(
  table: string,
  aggregates: readonly string[],
  steps: number,
  channelFor: (aggregateId: string) => ChannelRef,
): Promise<Map<string, string[]>> {
  const ids = new Map<string, string[]>(aggregates.map((a) => [a, []]));
  for (let step = 1; step <= steps; step += 1) {
    for (const aggregateId of aggregates) {
      const uow = createUnitOfWork({ table, mode: 'in-item' });
      uow.save({ aggregateId, item: { pk: `ORDER#${aggregateId}`, sk: 'ORDER', step } });
      ids.get(aggregateId)!.push(uow.publish(orderEvent(aggregateId, step), channelFor(aggregateId)).id);
      await uow.commit();
    }
  }
  return ids;
}

/** Wraps a producer; `decide` may replace a dispatch (to fail entries or crash). */
function wrapProducer(
  inner: MessageProducer,
  decide: (channel: ChannelRef, messages: readonly Message[]) => Promise<BatchResult> | undefined,
): MessageProducer {
  return {
    ...inner,
    dispatch: (channel, messages) => decide(channel, messages) ?? inner.dispatch(channel, messages),
  };
}

describe('log-tailing relay on the emulators', () => {
  it('(a) a crash after publishing, before the checkpoint, only duplicates downstream with the same ids', async () => {
    const table = await createOutboxTable();
    const standard = await createQueue('relay-crash');
    const fifo = await createQueue('relay-crash', true);
    const ids = await commitInterleaved(table, ['a1', 'a2', 'a3'], 3, (a) =>
      queue(a === 'a3' ? fifo : standard),
    );
    const records = await new StreamTail(table).open().then((t) => t.read());
    expect(records).toHaveLength(9);

    let crashed = false;
    const crashing = wrapProducer(producer, (channel, messages) => {
      if (crashed) return undefined;
      return producer.dispatch(channel, messages).then(() => {
        crashed = true;
        throw new Error('Lambda runtime killed after the publish returned');
      });
    });
    await expect(
      createStreamRelay({ producer: crashing, logger: quiet })(streamEvent(records)),
    ).rejects.toThrow(/killed/);
    // The event source mapping delivers the same batch again: nothing was checkpointed.
    const rerun = await createStreamRelay({ producer, logger: quiet })(streamEvent(records));
    expect(rerun.batchItemFailures).toEqual([]);

    const onStandard = await drain(standard, 12);
    const expected = [...ids.get('a1')!, ...ids.get('a2')!];
    expect(new Set(onStandard.map((m) => m.id))).toEqual(new Set(expected)); // nothing lost
    expect(onStandard.length).toBeGreaterThan(expected.length); // duplicates of the first attempt...
    expect(onStandard.length).toBeLessThanOrEqual(expected.length * 2); // ...at most once more each
    // FIFO deduplication (id = message id) absorbs the re-publish.
    expect((await drain(fifo, 3)).map((m) => m.id)).toEqual(ids.get('a3'));
  });

  it('(b) a poison record is reported, retried, then parked with its reason; later records still flow', async () => {
    const table = await createOutboxTable();
    const good = await createQueue('relay-good');
    const failureQueue = await createQueue('relay-failures');
    const missing = `${snsSqsEndpoint()}/000000000000/no-such-queue-${Date.now()}`;
    const ids = await commitInterleaved(table, ['g1', 'poison', 'g2'], 2, (a) =>
      queue(a === 'poison' ? missing : good),
    );
    const records = await new StreamTail(table).open().then((t) => t.read());
    const relay = createStreamRelay({
      producer,
      logger: quiet,
      parking: new FailureParking({
        queueUrl: failureQueue,
        table,
        keyAttributes: { partitionKey: 'pk', sortKey: 'sk' },
        maxAttempts: 3,
      }),
    });

    // What the event source mapping does: redeliver from the checkpoint, up to its retry limit.
    let batch: DynamoDBRecord[] = records;
    const checkpoints: string[] = [];
    for (let invocation = 0; invocation < 10 && batch.length > 0; invocation += 1) {
      const { batchItemFailures } = await relay(streamEvent(batch));
      checkpoints.push(...batchItemFailures.map((f) => f.itemIdentifier));
      batch = remainingAfter(batch, batchItemFailures);
    }
    expect(batch).toEqual([]);
    const poisonRecords = records.filter((r) => r.dynamodb?.NewImage?.pk?.S === 'ORDER#poison');
    // The first poison record is the checkpoint until it is parked (attempts 1 and 2), then the second.
    expect(checkpoints.slice(0, 2)).toEqual([
      poisonRecords[0]!.dynamodb!.SequenceNumber,
      poisonRecords[0]!.dynamodb!.SequenceNumber,
    ]);

    const parked = (await drain(failureQueue, 2, new SQSClient({}))) as unknown as { body: ParkedRecord }[];
    expect(parked).toHaveLength(2);
    const first = parked[0]!.body;
    expect(first.requestContext.condition).toBe('RetryAttemptsExhausted');
    expect(first.requestContext.approximateInvokeCount).toBe(3);
    expect(first.DDBStreamBatchInfo.startSequenceNumber).toBe(poisonRecords[0]!.dynamodb!.SequenceNumber);
    expect(first.switchyard.reason).toMatch(/NonExistentQueue|QueueDoesNotExist|does not exist/i);
    expect(first.switchyard.messages.map((m) => m.id)).toEqual([ids.get('poison')![0]]);

    const delivered = await drain(good, 8);
    expect(new Set(delivered.map((m) => m.id))).toEqual(new Set([...ids.get('g1')!, ...ids.get('g2')!]));
  });

  it('(c) per-aggregate order survives a failed publish and its retry on a FIFO queue', async () => {
    const table = await createOutboxTable();
    const fifo = await createQueue('relay-order', true);
    const ids = await commitInterleaved(table, ['x', 'y'], 4, () => queue(fifo));
    const records = await new StreamTail(table).open().then((t) => t.read());
    const flaky = ids.get('x')![1]!; // x's second message fails once, transiently
    let failedOnce = false;
    const failing = wrapProducer(producer, (channel, messages) => {
      if (failedOnce || !messages.some((m) => m.id === flaky)) return undefined;
      failedOnce = true;
      const rest = messages.filter((m) => m.id !== flaky);
      return producer.dispatch(channel, rest).then((result) => ({
        ...result,
        failed: [
          ...result.failed,
          { id: flaky, code: 'InternalError', message: 'try again', senderFault: false },
        ],
      }));
    });
    const relay = createStreamRelay({ producer: failing, logger: quiet });
    const first = await relay(streamEvent(records));
    const flakyRecord = records.find((r) => r.dynamodb?.NewImage?._outbox?.L?.[0]?.S?.includes(flaky));
    expect(first.batchItemFailures).toEqual([{ itemIdentifier: flakyRecord!.dynamodb!.SequenceNumber }]);
    const second = await relay(streamEvent(remainingAfter(records, first.batchItemFailures)));
    expect(second.batchItemFailures).toEqual([]);

    const received = await drain(fifo, 8);
    for (const aggregate of ['x', 'y']) {
      expect(received.filter((m) => m.groupId === aggregate).map((m) => m.id)).toEqual(ids.get(aggregate));
    }
    expect(received.every((m) => m.deduplicationId === m.id)).toBe(true);
  });

  it('publishes outbox-item inserts in batches of 10 and ignores their later changes and removals', async () => {
    const table = await createOutboxTable();
    const standard = await createQueue('relay-batch');
    const staged: string[] = [];
    for (let i = 0; i < 25; i += 1) {
      const uow = createUnitOfWork({ table, mode: 'outbox-items' });
      uow.save({ aggregateId: `b${i}`, item: { pk: `ORDER#b${i}`, sk: 'ORDER' } });
      staged.push(uow.publish(orderEvent(`b${i}`, 1), queue(standard)).id);
      await uow.commit();
    }
    const tail = await new StreamTail(table).open();
    const relay = createStreamRelay({ producer, logger: quiet });
    const outcome = await relay(streamEvent(await tail.read()));
    expect(outcome).toMatchObject({ batchItemFailures: [], published: 25, requests: 3 });
    expect(new Set((await drain(standard, 25)).map((m) => m.id))).toEqual(new Set(staged));

    // A poller-style mark and a delete (as TTL would) of outbox items publish nothing.
    const key = { pk: { S: 'OUTBOX#b0' }, sk: { S: '00000000000000000001' } };
    const ddb = new DynamoDBClient({});
    await ddb.send(
      new UpdateItemCommand({
        TableName: table,
        Key: key,
        UpdateExpression: 'SET publishedAt = :t',
        ExpressionAttributeValues: { ':t': { S: 'now' } },
      }),
    );
    await ddb.send(new DeleteItemCommand({ TableName: table, Key: key }));
    const later = await tail.read();
    expect(later.map((r) => r.eventName)).toEqual(['MODIFY', 'REMOVE']);
    expect(await relay(streamEvent(later))).toMatchObject({
      batchItemFailures: [],
      published: 0,
      skipped: 2,
    });
  });

  it('answers with no failures for every shared AWS sample event', async () => {
    const dir = join(__dirname, '..', '..', 'shared', 'aws-events');
    const relay = createStreamRelay({ producer, logger: quiet });
    for (const file of [
      'dynamodb-streams-with-userIdentity-service.json',
      'dynamodb-streams-real-modify-new-and-old.json',
    ]) {
      let text: string;
      try {
        text = readFileSync(join(dir, file), 'utf8');
      } catch {
        continue; // the shared folder is optional
      }
      expect(await relay(JSON.parse(text))).toMatchObject({ batchItemFailures: [], published: 0 });
    }
  });
});
