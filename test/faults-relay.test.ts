/**
 * Issue 8 at the log-tailing relay (DynamoDB Local's real stream, the SNS/SQS emulator): one bad
 * message does not fail the invocation (defect 3), a record whose failed message holds back a later
 * message of the same record can still be parked (defect 4), and a throttle is retried, never
 * parked (defect 2). Messages SNS/SQS would reject cannot be committed any more (the unit of work
 * checks them), so these tests write them into the table directly, as an older writer would have.
 */

import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { GetQueueAttributesCommand, KmsThrottled, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import type { Message } from '../lambdas/core';
import { createStreamRelay, FailureParking, type ParkedRecord } from '../lambdas/outbox';
import { serializeEntry } from '../lambdas/outbox/layout';
import { createProducer } from '../lambdas/producer';
import { uniqueName } from './support/emulators';
import { createOutboxTable, createQueue, drain, orderEvent } from './support/outbox-fixtures';
import { injectFaults } from './support/sdk-faults';
import { remainingAfter, StreamTail, streamEvent } from './support/stream-event';

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
const keyAttributes = { partitionKey: 'pk', sortKey: 'sk' };
const doc = DynamoDBDocumentClient.from(new DynamoDBClient({}));

/** Writes an aggregate item carrying `messages` in its in-item outbox, as a commit would. */
async function writeInItem(
  table: string,
  aggregateId: string,
  sequence: number,
  messages: readonly { message: Message; destination: string }[],
): Promise<void> {
  const first = sequence - messages.length + 1;
  await doc.send(
    new PutCommand({
      TableName: table,
      Item: {
        pk: `ORDER#${aggregateId}`,
        sk: 'ORDER',
        _outboxSeq: sequence,
        _outbox: messages.map(({ message, destination }, i) =>
          serializeEntry({
            aggregateId,
            sequence: first + i,
            destination,
            message: { ...message, headers: { ...message.headers, 'partition-key': aggregateId } },
          }),
        ),
      },
    }),
  );
}

/** What the event source mapping does: redeliver from the checkpoint until the batch is through. */
async function runLikeTheMapping(
  relay: ReturnType<typeof createStreamRelay>,
  records: DynamoDBRecord[],
): Promise<{ invocations: number; parked: string[] }> {
  let batch = records;
  const parked: string[] = [];
  let invocations = 0;
  while (batch.length > 0 && invocations < 10) {
    invocations += 1;
    const outcome = await relay(streamEvent(batch));
    parked.push(...outcome.parked);
    batch = remainingAfter(batch, outcome.batchItemFailures);
  }
  expect(batch).toEqual([]);
  return { invocations, parked };
}

function parking(table: string, queueUrl: string, maxAttempts: number): FailureParking {
  return new FailureParking({ queueUrl, table, keyAttributes, maxAttempts });
}

describe('relay: one bad message is parked alone, with its reason', () => {
  it.each([
    ['a space', 'order 7'],
    ['a non-ASCII character', 'commande-é'],
    ['more than 128 characters', 'o'.repeat(129)],
  ])('an aggregate id with %s (invalid FIFO group id) does not fail the invocation', async (_, badId) => {
    // GIVEN records of good-1, the bad aggregate (2 messages), good-2 and good-1 again, for a FIFO queue
    const table = await createOutboxTable();
    const fifo = await createQueue('relay-bad', true);
    const failures = await createQueue('relay-bad-failures');
    const goodFirst = orderEvent('good-1', 1);
    const bad1 = orderEvent(badId, 1);
    const bad2 = orderEvent(badId, 2);
    const goodOther = orderEvent('good-2', 1);
    const goodSecond = orderEvent('good-1', 2);
    await writeInItem(table, 'good-1', 1, [{ message: goodFirst, destination: fifo }]);
    await writeInItem(table, badId, 2, [
      { message: bad1, destination: fifo },
      { message: bad2, destination: fifo },
    ]);
    await writeInItem(table, 'good-2', 1, [{ message: goodOther, destination: fifo }]);
    await writeInItem(table, 'good-1', 2, [{ message: goodSecond, destination: fifo }]);
    const records = await new StreamTail(table).open().then((t) => t.read());
    expect(records).toHaveLength(4);
    // WHEN the relay runs as its event source mapping would (parking after 1 attempt)
    const relay = createStreamRelay({
      producer: createProducer(),
      logger: quiet,
      parking: parking(table, failures, 1),
    });
    const first = await relay(streamEvent(records));
    // THEN no invocation rejected, the bad record was parked in the first one, the rest flowed in order
    expect(first.parked).toEqual([records[1]!.eventID]);
    expect(first.batchItemFailures).toEqual([]);
    const delivered = await drain(fifo, 3);
    expect(delivered.filter((m) => m.groupId === 'good-1').map((m) => m.id)).toEqual([
      goodFirst.id,
      goodSecond.id,
    ]);
    expect(delivered.filter((m) => m.groupId === 'good-2').map((m) => m.id)).toEqual([goodOther.id]);
    const [parked] = (await drain(failures, 1)) as unknown as { body: ParkedRecord }[];
    expect(parked!.body.switchyard.reason).toMatch(/partition key .*which FIFO channels reject/);
    expect(parked!.body.switchyard.messages.map((m) => m.id)).toEqual([bad1.id, bad2.id]);
  });

  it('a record whose failed message holds back a later message of the same record is parked whole', async () => {
    // GIVEN one commit staging two messages to one topic, the first over the topic's 256 KiB limit,
    // then a later record of another aggregate
    const table = await createOutboxTable();
    const { topicArn, queueUrl } = await topicWithQueue();
    const failures = await createQueue('relay-held-failures');
    const oversized = orderEvent('big', 1, { blob: 'x'.repeat(300_000) });
    const follower = orderEvent('big', 2);
    const later = orderEvent('other', 1);
    await writeInItem(table, 'big', 2, [
      { message: oversized, destination: topicArn },
      { message: follower, destination: topicArn },
    ]);
    await writeInItem(table, 'other', 1, [{ message: later, destination: topicArn }]);
    const records = await new StreamTail(table).open().then((t) => t.read());
    // WHEN the relay runs as its event source mapping would, parking after 2 attempts
    const relay = createStreamRelay({
      producer: createProducer(),
      logger: quiet,
      parking: parking(table, failures, 2),
    });
    const { parked, invocations } = await runLikeTheMapping(relay, records);
    // THEN the record was parked with both messages and the reason; the later record went out
    expect(parked).toEqual([records[0]!.eventID]);
    expect(invocations).toBe(2);
    const [body] = (await drain(failures, 1)) as unknown as { body: ParkedRecord }[];
    expect(body!.body.switchyard.reason).toMatch(/is 300\d{3} bytes .*at most 262144/);
    expect(body!.body.switchyard.messages.map((m) => m.id)).toEqual([oversized.id, follower.id]);
    // The retry from the checkpoint publishes the later record again: a duplicate with the same id.
    expect(new Set((await drain(queueUrl, 2)).map((m) => m.id))).toEqual(new Set([later.id]));
  });
});

describe('relay: a throttle is retried, never parked, and order per aggregate holds', () => {
  it('SQS KmsThrottled on every attempt of an invocation: checkpoint, then published in order', async () => {
    // GIVEN two records of aggregate t (one message each) and a queue client throttled by KMS 3 times
    const table = await createOutboxTable();
    const fifo = await createQueue('relay-throttle', true);
    const failures = await createQueue('relay-throttle-failures');
    const first = orderEvent('t', 1);
    const second = orderEvent('t', 2);
    await writeInItem(table, 't', 1, [{ message: first, destination: fifo }]);
    await writeInItem(table, 't', 2, [{ message: second, destination: fifo }]);
    const records = await new StreamTail(table).open().then((t) => t.read());
    const sqs = new SQSClient({ useQueueUrlAsEndpoint: false, maxAttempts: 1 });
    const faults = injectFaults(sqs, {
      commands: ['SendMessageBatchCommand'],
      times: 3,
      error: () => new KmsThrottled({ $metadata: { httpStatusCode: 400 }, message: 'KMS rate exceeded' }),
    });
    // WHEN the relay (1 producer attempt, parking after 1 attempt) runs like its mapping
    const relay = createStreamRelay({
      producer: createProducer({ sqs, maxAttempts: 1 }),
      logger: quiet,
      parking: parking(table, failures, 1),
    });
    const { parked, invocations } = await runLikeTheMapping(relay, records);
    // THEN nothing was parked; the throttled record was retried until it went out, then the next
    expect(faults.injected).toBe(3);
    expect(parked).toEqual([]);
    expect(invocations).toBe(4);
    expect((await drain(fifo, 2)).map((m) => m.id)).toEqual([first.id, second.id]);
    expect(await drain(failures, 1)).toEqual([]);
  });
});

async function topicWithQueue(): Promise<{ topicArn: string; queueUrl: string }> {
  const sns = new SNSClient({});
  const sqs = new SQSClient({});
  const topicArn = (await sns.send(new CreateTopicCommand({ Name: uniqueName('relay-topic') }))).TopicArn!;
  const queueUrl = await createQueue('relay-topic-sub');
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }),
  );
  await sns.send(
    new SubscribeCommand({
      TopicArn: topicArn,
      Protocol: 'sqs',
      Endpoint: Attributes!.QueueArn,
      Attributes: { RawMessageDelivery: 'true' },
    }),
  );
  return { topicArn, queueUrl };
}
