/**
 * `switchyard outbox replay` on DynamoDB Local and the SNS/SQS emulator: records the real poller
 * parked (their destination did not exist yet) are republished in order per aggregate, the failure
 * records are deleted only once delivered, and an interrupted replay loses nothing.
 */
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { main } from '../bin/cli';
import { replayOutbox } from '../cli/ops/outbox-replay';
import { describeQueue } from '../cli/ops/queues';
import { Headers } from '../lambdas/core/headers';
import { createPollingPublisher, createUnitOfWork } from '../lambdas/outbox';
import { createProducer } from '../lambdas/producer';
import { FAILURE_QUEUE_ROLE, FAILURE_QUEUE_ROLE_TAG } from '../lib/transactional-outbox';
import { silentProgress } from '../local/workload/progress';
import { snsSqsEndpoint, uniqueName } from './support/emulators';
import { createOutboxTable, orderEvent } from './support/outbox-fixtures';

const sqs = new SQSClient({});
const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
const keyAttributes = { partitionKey: 'pk', sortKey: 'sk' };

function captured() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, output: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) } };
}

/** Parks `steps` messages per aggregate: their FIFO destination does not exist yet. */
async function parkedOutbox(prefix: string, aggregates: string[], steps: number) {
  const { QueueUrl: failureQueueUrl } = await sqs.send(
    new CreateQueueCommand({
      QueueName: `${prefix}-failures`,
      tags: { [FAILURE_QUEUE_ROLE_TAG]: FAILURE_QUEUE_ROLE },
    }),
  );
  const destinationName = `${prefix}-events.fifo`;
  const destination = `${snsSqsEndpoint()}/000000000000/${destinationName}`;
  const table = await createOutboxTable();
  for (const aggregateId of aggregates) {
    for (let step = 1; step <= steps; step += 1) {
      const uow = createUnitOfWork({ table, mode: 'outbox-items', relay: 'polling' });
      uow.save({
        aggregateId,
        item: { pk: `ORDER#${aggregateId}`, sk: 'ORDER', step },
        expectedSequence: step - 1,
      });
      uow.publish(orderEvent(aggregateId, step), { type: 'point-to-point', queueUrl: destination });
      await uow.commit();
    }
  }
  const poller = createPollingPublisher({
    producer: createProducer({ maxAttempts: 1 }),
    table,
    keyAttributes,
    logger: quiet,
    failureQueueUrl,
    maxAttempts: 1,
    metricSink: () => undefined,
  });
  // Each poll parks the first item of each aggregate (a failure stops the aggregate, for order).
  for (let round = 0; round < steps; round += 1) await poller.poll();
  expect((await describeQueue(sqs, failureQueueUrl!)).depth).toBe(aggregates.length * steps);
  const created = await sqs.send(
    new CreateQueueCommand({ QueueName: destinationName, Attributes: { FifoQueue: 'true' } }),
  );
  return { failureQueueUrl: failureQueueUrl!, destinationUrl: created.QueueUrl! };
}

async function receivedSteps(queueUrl: string): Promise<{ aggregate: string; step: number }[]> {
  const got: { aggregate: string; step: number }[] = [];
  for (let empty = 0; empty < 2; ) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        MessageAttributeNames: ['All'],
      }),
    );
    empty = Messages.length ? 0 : empty + 1;
    for (const m of Messages) {
      const payload = JSON.parse(m.Body ?? '{}') as { orderId: string; step: number };
      expect(m.MessageAttributes?.[Headers.TYPE]?.StringValue).toBe('OrderStepped');
      got.push({ aggregate: payload.orderId, step: payload.step });
      await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle }));
    }
  }
  return got;
}

const stepsOf = (got: { aggregate: string; step: number }[], aggregate: string) =>
  got.filter((g) => g.aggregate === aggregate).map((g) => g.step);

describe('switchyard outbox replay', () => {
  test('republishes parked records in order per aggregate and empties the failure queue', async () => {
    // GIVEN three parked records per aggregate for two aggregates
    const prefix = uniqueName('replay');
    const { failureQueueUrl, destinationUrl } = await parkedOutbox(prefix, ['a1', 'a2'], 3);

    // WHEN
    const run = captured();
    const code = await main(
      ['outbox', 'replay', '--endpoint', snsSqsEndpoint(), '--prefix', prefix],
      run.output,
    );

    // THEN
    expect(code).toBe(0);
    expect(run.out[0]).toMatch(/^Done: replayed 6 of 6 record\(s\) \(6 message\(s\)\) from .*-failures\.$/);
    const got = await receivedSteps(destinationUrl);
    expect(stepsOf(got, 'a1')).toEqual([1, 2, 3]);
    expect(stepsOf(got, 'a2')).toEqual([1, 2, 3]);
    expect((await describeQueue(sqs, failureQueueUrl)).depth).toBe(0);
  });

  test('an interrupted replay keeps the rest parked; running it again finishes in order', async () => {
    const prefix = uniqueName('replay-stop');
    const { failureQueueUrl, destinationUrl } = await parkedOutbox(prefix, ['b1'], 5);
    const controller = new AbortController();
    const options = {
      sqs,
      producer: createProducer({ maxAttempts: 1 }),
      failureQueueUrl,
      progress: silentProgress,
    };

    const first = await replayOutbox({
      ...options,
      signal: controller.signal,
      onReplayed: (n) => n === 2 && controller.abort(),
    });
    expect(first).toMatchObject({ interrupted: true, replayedRecords: 2 });
    expect((await describeQueue(sqs, failureQueueUrl)).depth).toBe(3);

    const second = await replayOutbox(options);
    expect(second).toMatchObject({ interrupted: false, replayedRecords: 3, kept: [] });
    expect(stepsOf(await receivedSteps(destinationUrl), 'b1')).toEqual([1, 2, 3, 4, 5]);
  });

  test('--filter type=... replays only records holding that type', async () => {
    const prefix = uniqueName('replay-filter');
    const { failureQueueUrl } = await parkedOutbox(prefix, ['c1'], 1);
    const run = captured();
    const code = await main(
      [
        'outbox',
        'replay',
        '--filter',
        'type=OrderCancelled',
        '--endpoint',
        snsSqsEndpoint(),
        '--prefix',
        prefix,
      ],
      run.output,
    );
    expect(code).toBe(0);
    expect(run.out[0]).toMatch(/replayed 0 of 1 record\(s\).*1 left by the filter/);
    expect((await describeQueue(sqs, failureQueueUrl)).depth).toBe(1);
  });
});
