/**
 * Review of the faults-core merge (issue 8): "poll() settles only after all its workers finished,
 * so no worker of a failed poll publishes alongside the next one" (README, poller.ts). Fails on
 * 88e90c1: only publishAggregate() is inside the worker's try/catch. When claim() (or release())
 * throws, e.g. a DynamoDB throttle that outlasted the SDK's retries, the error leaves the worker,
 * Promise.all rejects at once and poll() rejects while the other workers still publish. In Lambda
 * those workers are frozen with the invocation and go on in the next one, beside its own poll.
 */
import { DynamoDBClient, ProvisionedThroughputExceededException } from '@aws-sdk/client-dynamodb';
import type { DeserializeHandler, DeserializeHandlerArguments, HandlerExecutionContext } from '@smithy/types';
import { createPollingPublisher } from '../lambdas/outbox';
import { createProducer } from '../lambdas/producer';
import type { MessageProducer } from '../lambdas/producer/port';
import {
  createOutboxTable,
  createQueue,
  orderEvent,
  writeOutboxItems as writeOutbox,
} from './support/outbox-fixtures';

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
const keyAttributes = { partitionKey: 'pk', sortKey: 'sk' };

describe('review: poll() settles only after every worker finished', () => {
  it('a claim that throws (DynamoDB throttle past the SDK retries) does not settle poll() under a publishing worker', async () => {
    const table = await createOutboxTable();
    const queueUrl = await createQueue('review-settle');
    await writeOutbox(table, 'first', [orderEvent('first', 1)], queueUrl, 1);
    await writeOutbox(table, 'second', [orderEvent('second', 1)], queueUrl, 1);
    // The second claim (PutItem of a lease) is throttled on every SDK attempt.
    const client = new DynamoDBClient({ maxAttempts: 1 });
    let puts = 0;
    (client.middlewareStack as unknown as { add(m: unknown, o: unknown): void }).add(
      (next: DeserializeHandler<object, object>, context: HandlerExecutionContext) =>
        async (args: DeserializeHandlerArguments<object>) => {
          if (!['PutCommand', 'PutItemCommand'].includes(context.commandName ?? '')) return next(args);
          puts += 1;
          if (puts === 2)
            throw new ProvisionedThroughputExceededException({
              $metadata: { httpStatusCode: 400 },
              message: 'Rate exceeded',
            });
          return next(args);
        },
      { step: 'deserialize', name: 'reviewThrottleSecondClaim', priority: 'high' },
    );
    // The first aggregate's publish takes 1.5 s.
    const inner = createProducer();
    let lastPublishEnded = 0;
    const slow: MessageProducer = {
      ...inner,
      dispatch: async (channel, messages) => {
        await new Promise((resolve) => setTimeout(resolve, 1500));
        try {
          return await inner.dispatch(channel, messages);
        } finally {
          lastPublishEnded = Date.now();
        }
      },
    };
    const poller = createPollingPublisher({
      producer: slow,
      table,
      keyAttributes,
      logger: quiet,
      client,
      buckets: 1,
      concurrency: 2,
    });
    const outcome = await poller.poll().then(
      () => 'resolved',
      (error: Error) => error.name,
    );
    const settledAt = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 2500));
    expect(outcome).toBe('ProvisionedThroughputExceededException');
    // A worker of this poll published after poll() had settled.
    expect(lastPublishEnded).toBeGreaterThan(0);
    expect(lastPublishEnded).toBeLessThanOrEqual(settledAt);
  });
});
