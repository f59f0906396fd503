/**
 * The poller's health metric (CloudWatch embedded metric format) on DynamoDB Local and the SNS/SQS
 * emulator: the age of an item a poll leaves unpublished, and 0 once everything is published.
 */
import { createPollingPublisher, createUnitOfWork } from '../lambdas/outbox';
import { OutboxMetric } from '../lambdas/outbox/metrics';
import { createProducer } from '../lambdas/producer';
import {
  OUTBOX_TABLE_DIMENSION,
  OUTBOX_UNPUBLISHED_AGE_METRIC,
  SWITCHYARD_METRIC_NAMESPACE,
} from '../lib/alarms';
import { snsSqsEndpoint } from './support/emulators';
import { createOutboxTable, createQueue, drain, orderEvent } from './support/outbox-fixtures';

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
const keyAttributes = { partitionKey: 'pk', sortKey: 'sk' };

interface EmfLine {
  _aws: { CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string }[] }[] };
  [key: string]: unknown;
}

describe('outbox poller metric', () => {
  it('reports the age of an item it could not publish', async () => {
    // GIVEN an item staged 90 seconds ago for a queue that does not exist yet
    const table = await createOutboxTable();
    const lines: EmfLine[] = [];
    const missing = `${snsSqsEndpoint()}/000000000000/no-such-queue-${Date.now()}`;
    const uow = createUnitOfWork({ table, mode: 'outbox-items', relay: 'polling' });
    uow.save({ aggregateId: 'm1', item: { pk: 'ORDER#m1', sk: 'ORDER' } });
    const old = orderEvent('m1', 1);
    const staged = {
      ...old,
      headers: { ...old.headers, timestamp: new Date(Date.now() - 90_000).toISOString() },
    };
    uow.publish(staged, { type: 'point-to-point', queueUrl: missing });
    await uow.commit();
    const poller = createPollingPublisher({
      producer: createProducer({ maxAttempts: 1 }),
      table,
      keyAttributes,
      logger: quiet,
      metricSink: (line) => lines.push(JSON.parse(line) as EmfLine),
    });

    // WHEN a poll fails to publish it
    const outcome = await poller.poll();

    // THEN the metric line says how old the stuck item is, under the names the construct alarms on
    expect(outcome.failed).toBe(1);
    expect(outcome.oldestUnpublishedAgeSeconds).toBeGreaterThanOrEqual(90);
    const [line] = lines;
    expect(line?._aws.CloudWatchMetrics[0]).toEqual({
      Namespace: SWITCHYARD_METRIC_NAMESPACE,
      Dimensions: [[OUTBOX_TABLE_DIMENSION]],
      Metrics: [{ Name: OUTBOX_UNPUBLISHED_AGE_METRIC, Unit: 'Seconds' }],
    });
    expect(line?.[OutboxMetric.TABLE_DIMENSION]).toBe(table);
    expect(line?.[OUTBOX_UNPUBLISHED_AGE_METRIC]).toBeGreaterThanOrEqual(90);
  });

  it('reports 0 when a poll publishes everything it found', async () => {
    const table = await createOutboxTable();
    const queueUrl = await createQueue('poller-metric');
    const lines: EmfLine[] = [];
    const uow = createUnitOfWork({ table, mode: 'outbox-items', relay: 'polling' });
    uow.save({ aggregateId: 'm2', item: { pk: 'ORDER#m2', sk: 'ORDER' } });
    uow.publish(orderEvent('m2', 1), { type: 'point-to-point', queueUrl });
    await uow.commit();
    const poller = createPollingPublisher({
      producer: createProducer({ maxAttempts: 1 }),
      table,
      keyAttributes,
      logger: quiet,
      metricSink: (line) => lines.push(JSON.parse(line) as EmfLine),
    });
    expect(await poller.poll()).toMatchObject({ published: 1, oldestUnpublishedAgeSeconds: 0 });
    expect(lines[0]?.[OUTBOX_UNPUBLISHED_AGE_METRIC]).toBe(0);
    await drain(queueUrl, 1);
  });
});
