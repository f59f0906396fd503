/**
 * Review of the faults-core merge (issue 8) at the unit of work, on DynamoDB Local. These tests
 * document defects the merge left; they fail on 88e90c1.
 *
 * 1. A commit whose PutItem was applied, whose response was lost, and which another commit of the
 *    same aggregate built on before the SDK's retry, is reported as OutboxConflictError ("nothing was
 *    stored, re-run the command") although its write, and therefore its messages, were stored. The
 *    caller re-runs the command: its messages go out twice, under different message ids, so no
 *    consumer deduplication can catch it.
 * 2. Two commits without messages that read the same state both succeed: `_outboxSeq`, the version
 *    the write is conditional on, does not move on a commit without messages, so the second write
 *    silently replaces the first (a lost update), and a later commit built on the stale state wins.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import type { DeserializeHandler, DeserializeHandlerArguments, HandlerExecutionContext } from '@smithy/types';
import { createUnitOfWork, expectedVersionOf, OutboxConflictError } from '../lambdas/outbox';
import type { ChannelRef } from '../lambdas/producer/port';
import { createOutboxTable, orderEvent } from './support/outbox-fixtures';
import { connectionReset } from './support/sdk-faults';

const QUEUE: ChannelRef = { type: 'point-to-point', queueUrl: 'http://127.0.0.1:1/000000000000/orders' };
const doc = DynamoDBDocumentClient.from(new DynamoDBClient({}));

let table: string;
beforeAll(async () => {
  table = await createOutboxTable();
});

const stored = async (pk: string) =>
  (await doc.send(new GetCommand({ TableName: table, Key: { pk, sk: 'ORDER' }, ConsistentRead: true }))).Item;

/**
 * A client whose first call of `commands` reaches DynamoDB Local and is applied; before its
 * response reaches the SDK, `between()` runs (another writer), then the socket resets. The SDK's
 * retry middleware sits above this one and retries the request.
 */
function clientLosingFirstResponse(commands: readonly string[], between: () => Promise<void>) {
  const client = new DynamoDBClient({});
  const seen = { calls: 0 };
  (
    client.middlewareStack as unknown as {
      add(
        m: (
          next: DeserializeHandler<object, object>,
          c: HandlerExecutionContext,
        ) => DeserializeHandler<object, object>,
        o: object,
      ): void;
    }
  ).add(
    (next, context) => async (args: DeserializeHandlerArguments<object>) => {
      if (!commands.includes(context.commandName ?? '')) return next(args);
      seen.calls += 1;
      const result = await next(args);
      if (seen.calls === 1) {
        await between();
        throw connectionReset();
      }
      return result;
    },
    { step: 'deserialize', name: 'reviewLoseFirstResponse', priority: 'high' },
  );
  return { client, seen };
}

describe('review: a lost commit response with a concurrent commit in between', () => {
  it('in-item: the applied commit is not reported as OutboxConflictError (its messages are stored)', async () => {
    const aggregateId = 'review-lost-then-overtaken';
    const pk = `ORDER#${aggregateId}`;
    let second: { sequence: number } | undefined;
    // Another command of the same aggregate reads the state A wrote and commits on top of it.
    const concurrentCommit = async () => {
      const uow = createUnitOfWork({ table, mode: 'in-item' });
      uow.save({ aggregateId, item: { pk, sk: 'ORDER', status: 'paid' } });
      uow.publish(orderEvent(aggregateId, 2), QUEUE);
      second = await uow.commit();
    };
    const { client, seen } = clientLosingFirstResponse(
      ['PutItemCommand', 'PutCommand', 'TransactWriteItemsCommand', 'TransactWriteCommand'],
      concurrentCommit,
    );

    const first = createUnitOfWork({ table, mode: 'in-item', client });
    first.save({ aggregateId, item: { pk, sk: 'ORDER', status: 'placed' }, expectedSequence: 0 });
    first.publish(orderEvent(aggregateId, 1), QUEUE);
    const outcome = await first.commit().then(
      (result) => ({ result, error: undefined }),
      (error: unknown) => ({ result: undefined, error }),
    );

    // The first PutItem was applied: the concurrent commit read its sequence (1) and wrote 2.
    expect(seen.calls).toBe(2);
    expect(second?.sequence).toBe(2);
    expect((await stored(pk))?._outboxSeq).toBe(2);
    // So the first commit happened (its stream record carries message 1 to the relay). Telling the
    // caller "conflict, nothing stored" makes it re-run the command and publish it a second time.
    expect(outcome.error).not.toBeInstanceOf(OutboxConflictError);
    expect(outcome.result?.sequence).toBe(1);
  });
});

describe('review: optimistic concurrency on an aggregate whose commits carry no messages', () => {
  it('two commits without messages that both read "new aggregate": the second is a conflict', async () => {
    const aggregateId = 'review-lost-update-zero';
    const pk = `ORDER#${aggregateId}`;
    const a = createUnitOfWork({ table, mode: 'outbox-items' });
    const b = createUnitOfWork({ table, mode: 'outbox-items' });
    // Both commands read the aggregate before either wrote (it did not exist).
    a.save({ aggregateId, item: { pk, sk: 'ORDER', status: 'cancelled' }, expectedSequence: 0 });
    b.save({ aggregateId, item: { pk, sk: 'ORDER', status: 'draft', lines: 3 }, expectedSequence: 0 });
    await a.commit();
    const second = b.commit();
    // B never saw A's "cancelled": writing over it silently is a lost update.
    await expect(second).rejects.toBeInstanceOf(OutboxConflictError);
    expect((await stored(pk))?.status).toBe('cancelled');
  });

  it('a commit without messages, then a commit with a message that read the older state: conflict', async () => {
    const aggregateId = 'review-lost-update-events';
    const pk = `ORDER#${aggregateId}`;
    const setup = createUnitOfWork({ table, mode: 'outbox-items' });
    setup.save({ aggregateId, item: { pk, sk: 'ORDER', status: 'placed' }, expectedSequence: 0 });
    setup.publish(orderEvent(aggregateId, 1), QUEUE);
    await setup.commit(); // _outboxSeq 1

    const cancel = createUnitOfWork({ table, mode: 'outbox-items' });
    const ship = createUnitOfWork({ table, mode: 'outbox-items' });
    // Both read sequence 1. Cancel writes without an event; ship then writes and publishes OrderShipped.
    cancel.save({ aggregateId, item: { pk, sk: 'ORDER', status: 'cancelled' }, expectedSequence: 1 });
    ship.save({ aggregateId, item: { pk, sk: 'ORDER', status: 'shipped' }, expectedSequence: 1 });
    ship.publish(orderEvent(aggregateId, 2), QUEUE);
    await cancel.commit();
    // Shipping a cancelled order it never saw: must be a conflict, not an event on stale state.
    await expect(ship.commit()).rejects.toBeInstanceOf(OutboxConflictError);
  });
});

describe('optimistic concurrency after commits without messages: the version read names the state', () => {
  it('expectedVersionOf(item) commits on top of a quiet commit; the sequence alone conflicts, saying what to pass', async () => {
    const aggregateId = 'review-version-of';
    const pk = `ORDER#${aggregateId}`;
    const quiet = createUnitOfWork({ table, mode: 'in-item' });
    quiet.save({ aggregateId, item: { pk, sk: 'ORDER', status: 'draft' }, expectedSequence: 0 });
    expect(await quiet.commit()).toMatchObject({ sequence: 0, quietCommits: 1 });

    const read = await stored(pk);
    const bySequenceOnly = createUnitOfWork({ table, mode: 'in-item' });
    bySequenceOnly.save({ aggregateId, item: { ...read, status: 'placed' }, expectedSequence: 0 });
    await expect(bySequenceOnly.commit()).rejects.toThrow(/expectedQuietCommits/);

    const byVersion = createUnitOfWork({ table, mode: 'in-item' });
    byVersion.save({ aggregateId, item: { ...read, status: 'placed' }, ...expectedVersionOf(read) });
    byVersion.publish(orderEvent(aggregateId, 1), QUEUE);
    expect(await byVersion.commit()).toMatchObject({ sequence: 1, quietCommits: 0 });
    expect(await stored(pk)).toMatchObject({ status: 'placed', _outboxSeq: 1, _quietCommits: 0 });
  });
});
