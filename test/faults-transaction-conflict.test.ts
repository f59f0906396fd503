/**
 * Chaos-run defect 2: a DynamoDB TransactionConflict in transactional duplicate detection used to
 * throw at once and leave the message for redelivery, spending SQS receive counts (and, under
 * contention, reaching the DLQ). The real `TransactionCanceledException` DynamoDB answers with is
 * injected below the SDK's retry layer (the SDK does not retry it); the transaction then really runs
 * against DynamoDB Local.
 */
import { DynamoDBClient, TransactionCanceledException, type Update } from '@aws-sdk/client-dynamodb';
import { RetryableDeduplicationError, transactional } from '../lambdas/idempotency';
import { counterMessage, counterOf, createTable, getItem, handlerContext } from './idempotency-fixtures';
import { injectFaults } from './support/sdk-faults';

const increment = (table: string, item: string): Update => ({
  TableName: table,
  Key: { pk: { S: item } },
  UpdateExpression: 'ADD #count :one',
  ExpressionAttributeNames: { '#count': 'count' },
  ExpressionAttributeValues: { ':one': { N: '1' } },
});

const cancelled = (codes: string[]) => () =>
  new TransactionCanceledException({
    message: `Transaction cancelled, please refer cancellation reasons for specific reasons [${codes.join(', ')}]`,
    $metadata: { httpStatusCode: 400 },
    CancellationReasons: codes.map((Code) => ({ Code })),
  });

describe('transactional(): transaction conflicts are retried in-process, bounded', () => {
  let processed: string;
  let business: string;

  beforeAll(async () => {
    [processed, business] = await Promise.all([
      createTable('tx-conflict-processed'),
      createTable('tx-conflict-business'),
    ]);
  });

  const handlerWith = (client: DynamoDBClient, attempts?: number) =>
    transactional<{ item: string }>(
      async (message, _context, tx) => {
        tx.update(increment(business, message.payload.item));
      },
      { table: processed, client, transactionAttempts: attempts, retryBaseDelayMs: 1 },
    );

  it('two TransactionConflict cancellations, then the transaction commits: no redelivery needed', async () => {
    // GIVEN a client whose first two TransactWriteItems are cancelled by a conflict
    const client = new DynamoDBClient({});
    const faults = injectFaults(client, {
      commands: ['TransactWriteItemsCommand'],
      times: 2,
      error: cancelled(['TransactionConflict']),
    });
    const message = counterMessage('conflict-twice');
    // WHEN one delivery is handled
    await handlerWith(client)(message, handlerContext('kitchen'));
    // THEN the third transaction committed both the business write and the processed record
    expect(faults.calls).toBe(3);
    expect(await counterOf(business, 'conflict-twice')).toBe(1);
    expect(await getItem(processed, `kitchen#${message.id}`)).toBeDefined();
  });

  it('a throttle reason (ThrottlingError) is retried the same way', async () => {
    const client = new DynamoDBClient({});
    const faults = injectFaults(client, {
      commands: ['TransactWriteItemsCommand'],
      times: 1,
      error: cancelled(['ThrottlingError', 'None']),
    });
    await handlerWith(client)(counterMessage('throttled-reason'), handlerContext('kitchen'));
    expect(faults.calls).toBe(2);
    expect(await counterOf(business, 'throttled-reason')).toBe(1);
  });

  it('a conflict that outlasts the bounded attempts leaves the message for redelivery, nothing written', async () => {
    const client = new DynamoDBClient({});
    const faults = injectFaults(client, {
      commands: ['TransactWriteItemsCommand'],
      times: 100,
      error: cancelled(['TransactionConflict', 'None']),
    });
    const message = counterMessage('conflict-forever');
    const failure = handlerWith(client, 4)(message, handlerContext('kitchen'));
    await expect(failure).rejects.toThrow(RetryableDeduplicationError);
    await expect(failure).rejects.toMatchObject({ reason: 'TransactionConflict' });
    expect(faults.calls).toBe(4);
    expect(await getItem(processed, `kitchen#${message.id}`)).toBeUndefined();
    expect(await counterOf(business, 'conflict-forever')).toBe(0);
  });

  it("a conflict alongside the handler's own failed condition is not retried in-process", async () => {
    const client = new DynamoDBClient({});
    const faults = injectFaults(client, {
      commands: ['TransactWriteItemsCommand'],
      times: 100,
      error: cancelled(['ConditionalCheckFailed', 'TransactionConflict']),
    });
    const failure = handlerWith(client)(counterMessage('mixed'), handlerContext('kitchen'));
    await expect(failure).rejects.toThrow(RetryableDeduplicationError);
    expect(faults.calls).toBe(1);
  });

  it('a retry that finds the record written by a concurrent delivery acknowledges it as a duplicate', async () => {
    // GIVEN the processed record already committed by another delivery, and a conflict on the first try
    const client = new DynamoDBClient({});
    const message = counterMessage('conflict-then-duplicate');
    await handlerWith(new DynamoDBClient({}))(message, handlerContext('kitchen'));
    const faults = injectFaults(client, {
      commands: ['TransactWriteItemsCommand'],
      times: 1,
      error: cancelled(['None', 'TransactionConflict']),
    });
    // WHEN the second delivery retries after the conflict, THEN it is acknowledged, not re-applied
    await handlerWith(client)(message, handlerContext('kitchen'));
    expect(faults.calls).toBe(2);
    expect(await counterOf(business, 'conflict-then-duplicate')).toBe(1);
  });
});
