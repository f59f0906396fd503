import { RequestThrottled, SQSClient } from '@aws-sdk/client-sqs';
import type { Message } from '../lambdas/core';
import { createPollingPublisher } from '../lambdas/outbox';
import { createProducer } from '../lambdas/producer';
import type { BatchResult, ChannelRef, MessageProducer } from '../lambdas/producer/port';
import {
  createOutboxTable,
  createQueue,
  drain,
  orderEvent,
  writeOutboxItems as writeOutbox,
} from './support/outbox-fixtures';
import { injectFaults } from './support/sdk-faults';

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
const keyAttributes = { partitionKey: 'pk', sortKey: 'sk' };

function wrapProducer(
  inner: MessageProducer,
  decide: (channel: ChannelRef, messages: readonly Message[]) => Promise<BatchResult> | undefined,
): MessageProducer {
  return {
    ...inner,
    dispatch: (channel, messages) => decide(channel, messages) ?? inner.dispatch(channel, messages),
  };
}

describe('poller: bad messages and throttles', () => {
  it('an aggregate id with a space (invalid FIFO group id) is parked with its reason; poll() does not reject', async () => {
    const table = await createOutboxTable();
    const fifo = await createQueue('poller-bad', true);
    const failures = await createQueue('poller-bad-failures');
    const bad = [orderEvent('order 9', 1), orderEvent('order 9', 2)];
    const good = [orderEvent('good', 1), orderEvent('good', 2)];
    await writeOutbox(table, 'order 9', bad, fifo);
    await writeOutbox(table, 'good', good, fifo);
    const poller = createPollingPublisher({
      producer: createProducer(),
      table,
      keyAttributes,
      logger: quiet,
      failureQueueUrl: failures,
      maxAttempts: 1,
    });
    // Poll 1: the good aggregate goes out whole; the bad one's first message is parked, its second
    // waits behind it (order per aggregate); poll 2 parks the second.
    expect(await poller.poll()).toMatchObject({ published: 2, failed: 1, parked: 1 });
    expect(await poller.poll()).toMatchObject({ published: 0, failed: 1, parked: 1 });
    expect(await poller.poll()).toMatchObject({ aggregates: 0 });
    expect((await drain(fifo, 2)).map((m) => m.id)).toEqual(good.map((m) => m.id));
    const parked = await drain(failures, 2);
    const bodies = parked.map(
      (p) => p.body as { switchyard: { reason: string; messages: { id: string }[] } },
    );
    expect(bodies.map((b) => b.switchyard.messages[0]!.id)).toEqual(bad.map((m) => m.id));
    expect(bodies[0]!.switchyard.reason).toMatch(/partition key "order 9", which FIFO channels reject/);
  });

  it('SQS RequestThrottled past the SDK retries: counted as a retryable failure, never parked, order kept', async () => {
    const table = await createOutboxTable();
    const fifo = await createQueue('poller-throttle', true);
    const failures = await createQueue('poller-throttle-failures');
    const messages = [orderEvent('t', 1), orderEvent('t', 2), orderEvent('t', 3)];
    await writeOutbox(table, 't', messages, fifo);
    const sqs = new SQSClient({ useQueueUrlAsEndpoint: false, maxAttempts: 2 });
    const faults = injectFaults(sqs, {
      commands: ['SendMessageBatchCommand'],
      times: 4,
      error: () => new RequestThrottled({ $metadata: { httpStatusCode: 400 }, message: 'Rate exceeded' }),
    });
    const poller = createPollingPublisher({
      producer: createProducer({ sqs, maxAttempts: 1 }),
      table,
      keyAttributes,
      logger: quiet,
      failureQueueUrl: failures,
      maxAttempts: 1,
    });
    const first = await poller.poll();
    expect(first).toMatchObject({ published: 0, failed: 1, parked: 0 });
    await poller.poll();
    await poller.poll();
    expect(faults.injected).toBe(4);
    expect((await drain(fifo, 3)).map((m) => m.id)).toEqual(messages.map((m) => m.id));
    expect(await drain(failures, 1)).toEqual([]);
  });
});

describe('poller: lease fencing and fairness', () => {
  it('a worker left over from a failed poll never publishes an aggregate alongside the next poll', async () => {
    // GIVEN aggregate "la", whose publish throws (a bug), and "lb", whose publish takes a while
    const table = await createOutboxTable();
    const queueUrl = await createQueue('poller-lease');
    await writeOutbox(table, 'la', [orderEvent('la', 1)], queueUrl);
    await writeOutbox(table, 'lb', [orderEvent('lb', 1)], queueUrl);
    const producer = createProducer();
    let inFlight = 0;
    let maxInFlight = 0;
    let wake: (() => void) | undefined;
    const slow = wrapProducer(producer, (channel, messages) => {
      if (messages[0]?.headers['partition-key'] === 'la') return Promise.reject(new Error('bug in la'));
      return (async () => {
        inFlight += 1;
        maxInFlight = Math.max(maxInFlight, inFlight);
        wake?.(); // a second publish of lb ends the wait at once: that is the overlap we look for
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, 1500);
        });
        inFlight -= 1;
        return producer.dispatch(channel, messages);
      })();
    });
    const poller = createPollingPublisher({
      producer: slow,
      table,
      keyAttributes,
      logger: quiet,
      concurrency: 2,
    });
    // WHEN the first poll fails and the next invocation of the same container polls right away
    await expect(poller.poll()).rejects.toThrow(/bug in la/);
    await expect(poller.poll()).rejects.toThrow(/bug in la/);
    await new Promise((resolve) => setTimeout(resolve, 1700));
    // THEN lb was never published by two workers at once, and exactly once
    expect(maxInFlight).toBe(1);
    expect((await drain(queueUrl, 2)).filter((m) => m.partitionKey === 'lb')).toHaveLength(1);
  });

  it('a backlog in the first bucket does not starve the others', async () => {
    // GIVEN 2 buckets: s1 and s3 in B0 keep failing (retryable), s0 in B1 is fine; 2 aggregates per poll
    const table = await createOutboxTable();
    const stuck = await createQueue('poller-stuck');
    const fine = await createQueue('poller-fine');
    await writeOutbox(table, 's1', [orderEvent('s1', 1)], stuck, 2);
    await writeOutbox(table, 's3', [orderEvent('s3', 1)], stuck, 2);
    await writeOutbox(table, 's0', [orderEvent('s0', 1)], fine, 2);
    const producer = createProducer();
    const failing = wrapProducer(producer, (channel, messages) =>
      channel.type === 'point-to-point' && channel.queueUrl === stuck
        ? Promise.resolve({
            successful: [],
            failed: messages.map((m) => ({
              id: m.id,
              code: 'InternalError',
              message: 'down',
              senderFault: false,
            })),
            requests: 1,
          })
        : undefined,
    );
    const poller = createPollingPublisher({
      producer: failing,
      table,
      keyAttributes,
      logger: quiet,
      buckets: 2,
      maxAggregates: 2,
    });
    // WHEN it polls three times
    for (let i = 0; i < 3; i += 1) await poller.poll();
    // THEN s0 was published
    expect((await drain(fine, 1)).map((m) => m.partitionKey)).toEqual(['s0']);
  });
});
