/**
 * Chaos-run defect 3: parking was at-least-once. A relay killed after the failure-queue SendMessage
 * and before its checkpoint got the same stream record again and parked it again, so the operator
 * found two entries for one failure. DynamoDB Local's real stream and the SQS emulator; the kill is
 * an exception escaping the invocation (what the event source mapping sees of a killed relay: the
 * batch is retried from its last checkpoint), and SDK faults are injected below the retry layer.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import { replayOutbox } from '../cli/ops/outbox-replay';
import type { Logger } from '../lambdas/consumer/types';
import { createStreamRelay, createUnitOfWork, FailureParking, type ParkedRecord } from '../lambdas/outbox';
import { createProducer } from '../lambdas/producer';
import { createOutboxTable, createQueue, drain, orderEvent } from './support/outbox-fixtures';
import { injectFaults } from './support/sdk-faults';
import { StreamTail, streamEvent } from './support/stream-event';

const keyAttributes = { partitionKey: 'pk', sortKey: 'sk' };
const doc = DynamoDBDocumentClient.from(new DynamoDBClient({}));

/** What a relay process dying looks like to the caller: a non-retryable error out of the invocation. */
const killed = () => Object.assign(new Error('relay process killed (injected)'), { name: 'RelayKilled' });

/** A logger that kills the relay the first time it reports a parked record: after the send, before the checkpoint. */
function killingOnFirstPark(): Logger {
  let killedOnce = false;
  const quiet = () => undefined;
  return {
    info: quiet,
    warn: quiet,
    error: (message) => {
      if (!killedOnce && message === 'outbox record parked in the failure queue') {
        killedOnce = true;
        throw killed();
      }
    },
  };
}

/** One committed message to a queue that does not exist: a permanent failure, parked after 1 attempt. */
async function unpublishableRecord(
  name: string,
): Promise<{ table: string; records: DynamoDBRecord[]; missingQueueName: string }> {
  const table = await createOutboxTable();
  const existing = await createQueue(`${name}-existing`);
  const missing = existing.replace(/[^/]+$/, `${name}-no-such-queue`);
  const aggregateId = name;
  const uow = createUnitOfWork({ table, mode: 'in-item' });
  uow.save({ aggregateId, item: { pk: `ORDER#${aggregateId}`, sk: 'ORDER' }, expectedSequence: 0 });
  uow.send(orderEvent(aggregateId, 1), { type: 'point-to-point', queueUrl: missing });
  await uow.commit();
  const records = await new StreamTail(table).open().then((t) => t.read());
  expect(records).toHaveLength(1);
  return { table, records, missingQueueName: `${name}-no-such-queue` };
}

/** Redelivers the batch after a failed invocation, as the event source mapping does. */
async function invokeUntilDone(relay: ReturnType<typeof createStreamRelay>, records: DynamoDBRecord[]) {
  const failures: unknown[] = [];
  for (let invocation = 0; invocation < 5; invocation += 1) {
    try {
      return { outcome: await relay(streamEvent(records)), failures };
    } catch (error) {
      failures.push(error);
    }
  }
  throw new Error(`relay still failing after 5 invocations: ${String(failures.at(-1))}`);
}

describe('relay parking is idempotent per stream record', () => {
  it('killed after the failure-queue send, before the checkpoint: the retry does not park the record again', async () => {
    // GIVEN a record that is parked on its first attempt, and a relay killed right after parking it
    const { table, records } = await unpublishableRecord('park-once');
    const failureQueue = await createQueue('park-once-failures');
    const relay = createStreamRelay({
      producer: createProducer(),
      logger: killingOnFirstPark(),
      parking: new FailureParking({ queueUrl: failureQueue, table, keyAttributes, maxAttempts: 1 }),
    });
    // WHEN the mapping invokes it again with the same record
    const { outcome, failures } = await invokeUntilDone(relay, records);
    // THEN the second invocation checkpoints past the record, and the operator finds one entry
    expect(failures.map((e) => (e as Error).name)).toEqual(['RelayKilled']);
    expect(outcome.batchItemFailures).toEqual([]);
    expect(outcome.parked).toEqual([records[0]!.eventID]);
    const parked = (await drain(failureQueue, 2)) as unknown as { body: ParkedRecord }[];
    expect(parked).toHaveLength(1);
    expect(parked[0]!.body.switchyard.parkId).toBe(records[0]!.eventID);
    const marker = await doc.send(
      new GetCommand({
        TableName: table,
        Key: { pk: `OUTBOX-RELAY-PARK#${records[0]!.eventID}`, sk: 'PARK' },
        ConsistentRead: true,
      }),
    );
    expect(marker.Item?.state).toBe('PARKED');
    expect(marker.Item?.expiresAt).toEqual(expect.any(Number));
  });

  it('a SendMessage that failed before reaching the queue is sent on the retry: the claim never loses a record', async () => {
    const { table, records } = await unpublishableRecord('park-retry');
    const failureQueue = await createQueue('park-retry-failures');
    const sqs = new SQSClient({});
    const faults = injectFaults(sqs, { commands: ['SendMessageCommand'], times: 1, error: killed });
    const relay = createStreamRelay({
      producer: createProducer(),
      logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
      parking: new FailureParking({ queueUrl: failureQueue, table, keyAttributes, maxAttempts: 1, sqs }),
    });
    const { failures } = await invokeUntilDone(relay, records);
    expect(failures).toHaveLength(1);
    expect(faults.calls).toBe(2);
    expect(await drain(failureQueue, 2)).toHaveLength(1);
  });

  it('the one window left (killed between SendMessage and the marker update): both copies share one parkId', async () => {
    // The SendMessage is applied, then the process dies before the marker says PARKED: the retry
    // cannot tell whether the send happened, so it sends again rather than risk losing the record.
    const { table, records } = await unpublishableRecord('park-window');
    const failureQueue = await createQueue('park-window-failures');
    const sqs = new SQSClient({});
    injectFaults(sqs, { commands: ['SendMessageCommand'], times: 1, when: 'after', error: killed });
    const relay = createStreamRelay({
      producer: createProducer(),
      logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
      parking: new FailureParking({ queueUrl: failureQueue, table, keyAttributes, maxAttempts: 1, sqs }),
    });
    await invokeUntilDone(relay, records);
    const parked = (await drain(failureQueue, 3)) as unknown as { body: ParkedRecord }[];
    expect(parked).toHaveLength(2);
    expect(new Set(parked.map((p) => p.body.switchyard.parkId))).toEqual(new Set([records[0]!.eventID]));
  });

  it('outbox replay republishes such a record once and deletes the second copy (same parkId)', async () => {
    // GIVEN the two copies of the one window left, and the destination created since
    const { table, records, missingQueueName } = await unpublishableRecord('park-replay');
    const failureQueue = await createQueue('park-replay-failures');
    const sqs = new SQSClient({});
    injectFaults(sqs, { commands: ['SendMessageCommand'], times: 1, when: 'after', error: killed });
    const relay = createStreamRelay({
      producer: createProducer(),
      logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
      parking: new FailureParking({ queueUrl: failureQueue, table, keyAttributes, maxAttempts: 1, sqs }),
    });
    await invokeUntilDone(relay, records);
    const plain = new SQSClient({});
    const destination = (await plain.send(new CreateQueueCommand({ QueueName: missingQueueName }))).QueueUrl!;
    // WHEN the operator replays the failure queue
    const summary = await replayOutbox({
      sqs: plain,
      producer: createProducer(),
      failureQueueUrl: failureQueue,
    });
    // THEN one record was republished, the copy deleted, and the destination got the message once
    expect(summary).toMatchObject({
      records: 2,
      replayedRecords: 1,
      republishedMessages: 1,
      duplicateCopies: 1,
    });
    expect(await drain(destination, 2)).toHaveLength(1);
    expect(await drain(failureQueue, 1)).toEqual([]);
  });
});
