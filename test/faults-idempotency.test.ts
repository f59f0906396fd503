/**
 * Issue 8 at duplicate detection (DynamoDB Local): the marker mode's own claim, applied but with its
 * response lost and retried by the SDK, is not taken for another delivery (suspected defect,
 * confirmed); a DynamoDB throttle below the SDK's retry layer is retried, not a failure.
 */
import { DynamoDBClient, ProvisionedThroughputExceededException } from '@aws-sdk/client-dynamodb';
import { marker } from '../lambdas/idempotency';
import { counterMessage, createTable, getItem, handlerContext } from './idempotency-fixtures';
import { connectionReset, injectFaults } from './support/sdk-faults';

describe('marker mode under SDK retries', () => {
  it('its own claim, applied and then retried after a lost response, runs the handler once', async () => {
    const table = await createTable('marker-lost');
    const client = new DynamoDBClient({});
    const faults = injectFaults(client, {
      commands: ['PutItemCommand'],
      times: 1,
      when: 'after',
      error: connectionReset,
    });
    let runs = 0;
    const handler = marker(
      async () => {
        runs += 1;
      },
      { table, client },
    );
    const message = counterMessage('m-lost');
    await handler(message, handlerContext('payments'));
    expect(faults.injected).toBe(1);
    expect(faults.calls).toBe(2);
    expect(runs).toBe(1);
    expect((await getItem(table, `payments#${message.id}`))?.status?.S).toBe('COMPLETED');
    // A duplicate delivery afterwards is acknowledged without running the handler.
    await handler(message, handlerContext('payments'));
    expect(runs).toBe(1);
  });

  it('a ProvisionedThroughputExceededException on the claim is retried by the SDK', async () => {
    const table = await createTable('marker-throttle');
    const client = new DynamoDBClient({ maxAttempts: 3 });
    const faults = injectFaults(client, {
      commands: ['PutItemCommand'],
      times: 2,
      error: () =>
        new ProvisionedThroughputExceededException({
          $metadata: { httpStatusCode: 400 },
          message: 'Throughput exceeded',
        }),
    });
    let runs = 0;
    await marker(
      async () => {
        runs += 1;
      },
      { table, client },
    )(counterMessage('m-throttle'), handlerContext('payments'));
    expect(faults.calls).toBe(3);
    expect(runs).toBe(1);
  });
});
