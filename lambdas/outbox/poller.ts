/**
 * The polling publisher: finds aggregates with unpublished outbox items through the sparse index,
 * claims each with a short lease (so two pollers never publish one aggregate at once), reads its
 * unpublished items consistently in sequence order, publishes them and marks each published with a
 * conditional update. A crash between publish and mark re-publishes the same message ids (FIFO
 * deduplication and consumer dedup absorb them); nothing is lost or reordered per aggregate.
 */

import { randomUUID } from 'node:crypto';
import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  TransactionCanceledException,
} from '@aws-sdk/client-dynamodb';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { Logger } from '../consumer/types';
import { timestampOf } from '../core/message';
import { type ChannelRef, channelRef, type MessageProducer, NOT_SENT_CODE } from '../producer/port';
import { unsendableReason as sendCheckFailure } from '../producer/send-checks';
import {
  deserializeEntry,
  type KeyAttributes,
  LEASE_PK_PREFIX,
  limitOf,
  OUTBOX_PK_PREFIX,
  OutboxAttributes,
  type OutboxEntry,
  POLLING_INDEX_NAME,
} from './layout';
import { unpublishedAgeDocument } from './metrics';
import { consoleLogger } from './relay';

export interface PollingPublisherOptions {
  readonly producer: MessageProducer;
  readonly table: string;
  readonly keyAttributes: KeyAttributes;
  readonly client?: DynamoDBClient;
  /** Number of sparse-index partitions the writers spread over (SWITCHYARD_OUTBOX_BUCKETS). @default 4 */
  readonly buckets?: number;
  /**
   * How long a claim on an aggregate lasts. It is renewed before every publish request, so it must
   * exceed the slowest single request (with the SDK's own retries; bound it with the clients'
   * `requestTimeout` and `maxAttempts`, as lambdas/functions/outbox-poller.ts does). @default 30 seconds
   */
  readonly leaseMs?: number;
  /** Aggregates claimed per poll. @default 200 */
  readonly maxAggregates?: number;
  /** Aggregates published at once. @default 4 */
  readonly concurrency?: number;
  /** Failed polls of one item, for a permanent reason, before it is parked. @default 3 */
  readonly maxAttempts?: number;
  /** Where parked items go, with their reason. @default - never park; the item is retried every poll */
  readonly failureQueueUrl?: string;
  readonly sqs?: SQSClient;
  /** Seconds an item lives after publication before TTL removes it. @default 86400 */
  readonly publishedRetentionSeconds?: number;
  readonly logger?: Logger;
  /** Identifies this poller in leases; each poll() adds its own suffix. @default - a random id */
  readonly owner?: string;
  /**
   * Where the poll's metric line (CloudWatch embedded metric format) goes.
   * @default - stdout, which Lambda sends to CloudWatch Logs
   */
  readonly metricSink?: (line: string) => void;
}

export interface PollOutcome {
  readonly published: number;
  readonly requests: number;
  /** Aggregates this poller published (or tried to). */
  readonly aggregates: number;
  /** Aggregates another poller held. */
  readonly leased: number;
  readonly failed: number;
  readonly parked: number;
  /** Age in seconds of the oldest item this poll found and left unpublished; 0 when none. */
  readonly oldestUnpublishedAgeSeconds: number;
}

interface OutboxRow {
  readonly key: Record<string, unknown>;
  readonly entry: OutboxEntry;
  readonly attempts: number;
}

/**
 * Creates a polling publisher. Call `poll()` from a scheduled function.
 *
 * @example
 * const poller = createPollingPublisher({ producer: createProducer(), table, keyAttributes: { partitionKey: 'pk', sortKey: 'sk' } });
 * export const handler = async (_e: unknown, ctx: Context) => poller.poll(() => ctx.getRemainingTimeInMillis());
 */
export function createPollingPublisher(options: PollingPublisherOptions): {
  poll(remainingMs?: () => number): Promise<PollOutcome>;
} {
  const db = DynamoDBDocumentClient.from(options.client ?? new DynamoDBClient({}));
  const sqs = options.sqs ?? new SQSClient({});
  const logger = options.logger ?? consoleLogger;
  const pollerId = options.owner ?? randomUUID();
  const leaseMs = options.leaseMs ?? 30_000;
  const { partitionKey, sortKey } = options.keyAttributes;
  if (!sortKey)
    throw new Error('The polling publisher needs a table with a sort key (outbox items are pk + sequence).');

  const bucketTotal = Math.max(1, options.buckets ?? 4);
  // Where the last poll stopped in each bucket, and which bucket it started with: every poll starts
  // one bucket further and each bucket resumes after the aggregates it handed out last time, so a
  // backlog (or an aggregate that keeps failing) at the front of one bucket starves nobody.
  const cursors = new Map<number, Record<string, unknown>>();
  let firstBucket = 0;

  /** Adds up to `limit` aggregates of bucket `b` not yet in `found`, resuming at its cursor. */
  const collect = async (b: number, limit: number, found: Set<string>): Promise<void> => {
    let added = 0;
    let start = cursors.get(b);
    let wrapped = start === undefined;
    for (;;) {
      const page = await db.send(
        new QueryCommand({
          TableName: options.table,
          IndexName: POLLING_INDEX_NAME,
          KeyConditionExpression: '#u = :b',
          ExpressionAttributeNames: { '#u': OutboxAttributes.UNPUBLISHED },
          ExpressionAttributeValues: { ':b': `B${b}` },
          ExclusiveStartKey: start,
        }),
      );
      for (const item of page.Items ?? []) {
        const pk = item[partitionKey];
        if (typeof pk !== 'string' || !pk.startsWith(OUTBOX_PK_PREFIX)) continue;
        const aggregateId = pk.slice(OUTBOX_PK_PREFIX.length);
        if (found.has(aggregateId)) continue;
        found.add(aggregateId);
        added += 1;
        if (added >= limit) {
          cursors.set(b, item);
          return;
        }
      }
      start = page.LastEvaluatedKey;
      if (start) continue;
      cursors.delete(b);
      if (wrapped) return;
      wrapped = true; // from the cursor to the end; now the part before it
    }
  };

  const findAggregates = async (): Promise<string[]> => {
    const found = new Set<string>();
    const max = options.maxAggregates ?? 200;
    const share = Math.max(1, Math.ceil(max / bucketTotal));
    const order = Array.from({ length: bucketTotal }, (_, i) => (firstBucket + i) % bucketTotal);
    firstBucket = (firstBucket + 1) % bucketTotal;
    // A fair share per bucket first, then whatever room is left from any bucket.
    for (const b of order) if (found.size < max) await collect(b, Math.min(share, max - found.size), found);
    for (const b of order) if (found.size < max) await collect(b, max - found.size, found);
    return [...found];
  };

  const leaseKey = (aggregateId: string) => ({
    [partitionKey]: `${LEASE_PK_PREFIX}${aggregateId}`,
    [sortKey]: 'LEASE',
  });

  // A lease held by an earlier poll of this same poller is not ours: each poll() has its own owner.
  const claim = async (aggregateId: string, owner: string): Promise<boolean> => {
    const now = Date.now();
    try {
      await db.send(
        new PutCommand({
          TableName: options.table,
          Item: {
            ...leaseKey(aggregateId),
            owner,
            leaseUntil: now + leaseMs,
            expiresAt: Math.floor(now / 1000) + 3600,
          },
          ConditionExpression: 'attribute_not_exists(#pk) OR leaseUntil < :now',
          ExpressionAttributeNames: { '#pk': partitionKey },
          ExpressionAttributeValues: { ':now': now },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return true;
    } catch (error) {
      // The SDK's retry of a claim whose response was lost meets this poll's own lease: it is ours.
      if (error instanceof ConditionalCheckFailedException) return error.Item?.owner?.S === owner;
      throw error;
    }
  };

  /**
   * Fencing before every publish request: extends the lease only if this poll still holds it. False
   * when it ran out and another poller may have taken the aggregate over: publish nothing more.
   */
  const renew = async (aggregateId: string, owner: string): Promise<boolean> => {
    const now = Date.now();
    try {
      await db.send(
        new UpdateCommand({
          TableName: options.table,
          Key: leaseKey(aggregateId),
          UpdateExpression: 'SET leaseUntil = :until',
          ConditionExpression: '#owner = :me AND leaseUntil >= :now',
          ExpressionAttributeNames: { '#owner': 'owner' },
          ExpressionAttributeValues: { ':me': owner, ':now': now, ':until': now + leaseMs },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  };

  const release = async (aggregateId: string, owner: string): Promise<void> => {
    try {
      await db.send(
        new DeleteCommand({
          TableName: options.table,
          Key: leaseKey(aggregateId),
          ConditionExpression: '#owner = :me',
          ExpressionAttributeNames: { '#owner': 'owner' },
          ExpressionAttributeValues: { ':me': owner },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  };

  const unpublished = async (aggregateId: string): Promise<OutboxRow[]> => {
    const rows: OutboxRow[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await db.send(
        new QueryCommand({
          TableName: options.table,
          KeyConditionExpression: '#pk = :pk',
          FilterExpression: 'attribute_exists(#u)',
          ExpressionAttributeNames: { '#pk': partitionKey, '#u': OutboxAttributes.UNPUBLISHED },
          ExpressionAttributeValues: { ':pk': `${OUTBOX_PK_PREFIX}${aggregateId}` },
          ConsistentRead: true,
          ExclusiveStartKey: start,
        }),
      );
      for (const item of page.Items ?? []) {
        rows.push({
          key: { [partitionKey]: item[partitionKey], [sortKey]: item[sortKey] },
          entry: deserializeEntry(item[OutboxAttributes.ENVELOPE]),
          attempts: Number(item[OutboxAttributes.ATTEMPTS] ?? 0),
        });
      }
      start = page.LastEvaluatedKey;
    } while (start);
    return rows;
  };

  const markPublished = async (row: OutboxRow): Promise<void> => {
    const now = Date.now();
    try {
      await db.send(
        new UpdateCommand({
          TableName: options.table,
          Key: row.key,
          ConditionExpression: 'attribute_exists(#u)',
          UpdateExpression: 'REMOVE #u, #pollKey SET #publishedAt = :now, #expiresAt = :ttl',
          ExpressionAttributeNames: {
            '#u': OutboxAttributes.UNPUBLISHED,
            '#pollKey': OutboxAttributes.POLL_KEY,
            '#publishedAt': OutboxAttributes.PUBLISHED_AT,
            '#expiresAt': OutboxAttributes.EXPIRES_AT,
          },
          ExpressionAttributeValues: {
            ':now': new Date(now).toISOString(),
            ':ttl': Math.floor(now / 1000) + (options.publishedRetentionSeconds ?? 86_400),
          },
        }),
      );
    } catch (error) {
      // Another poller (whose lease ran out under it) marked it first: same message, nothing to do.
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  };

  /**
   * Counts a failed attempt; parks the item when permanent failures used up its attempts. Only while
   * this poll holds the lease: a poll that lost it must not count (or park) a failure the poller now
   * holding the aggregate may already have got past. False when nothing was recorded.
   */
  const recordFailure = async (
    row: OutboxRow,
    reason: string,
    permanent: boolean,
    owner: string,
  ): Promise<boolean> => {
    const aggregateId = row.entry.aggregateId;
    if (!(await renew(aggregateId, owner))) return false;
    const attempts = row.attempts + 1;
    const park = permanent && options.failureQueueUrl !== undefined && attempts >= (options.maxAttempts ?? 3);
    if (park) {
      await sqs.send(
        new SendMessageCommand({
          QueueUrl: options.failureQueueUrl,
          MessageBody: JSON.stringify({
            version: '1.0',
            timestamp: new Date().toISOString(),
            requestContext: { condition: 'RetryAttemptsExhausted', approximateInvokeCount: attempts },
            switchyard: {
              // One row, one park id: a second copy (sent before a crash or a lost lease kept the
              // row from being marked) is merged by `switchyard outbox replay`, not republished twice.
              parkId: `poller:${row.entry.message.id}`,
              reason,
              source: 'outbox-poller',
              messages: [
                {
                  ...row.entry.message,
                  destination: row.entry.destination,
                  aggregateId: row.entry.aggregateId,
                  sequence: row.entry.sequence,
                },
              ],
            },
          }),
        }),
      );
    }
    const now = Date.now();
    try {
      await db.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              // Fenced on the lease, in the same write as the count.
              ConditionCheck: {
                TableName: options.table,
                Key: leaseKey(aggregateId),
                ConditionExpression: '#owner = :me AND leaseUntil >= :now',
                ExpressionAttributeNames: { '#owner': 'owner' },
                ExpressionAttributeValues: { ':me': owner, ':now': now },
              },
            },
            {
              Update: {
                TableName: options.table,
                Key: row.key,
                UpdateExpression: park
                  ? 'SET #attempts = :a, failureReason = :r, parkedAt = :now REMOVE #u, #pollKey'
                  : 'SET #attempts = :a, failureReason = :r',
                ExpressionAttributeNames: {
                  '#attempts': OutboxAttributes.ATTEMPTS,
                  ...(park
                    ? { '#u': OutboxAttributes.UNPUBLISHED, '#pollKey': OutboxAttributes.POLL_KEY }
                    : {}),
                },
                ExpressionAttributeValues: {
                  ':a': attempts,
                  ':r': reason.slice(0, 1000),
                  ...(park ? { ':now': new Date(now).toISOString() } : {}),
                },
              },
            },
          ],
        }),
      );
    } catch (error) {
      if (
        error instanceof TransactionCanceledException &&
        error.CancellationReasons?.[0]?.Code === 'ConditionalCheckFailed'
      )
        return false;
      throw error;
    }
    return park;
  };

  /** Publishes in order; also returns the creation time of the first item left unpublished. */
  const publishAggregate = async (
    aggregateId: string,
    owner: string,
    remainingMs: () => number,
  ): Promise<{
    published: number;
    requests: number;
    failed: number;
    parked: number;
    lostLease: boolean;
    oldestLeftAt?: number;
  }> => {
    const rows = await unpublished(aggregateId);
    const tally = await publishRows(rows, aggregateId, owner, remainingMs);
    // Items go out in order and a failure stops the aggregate, so the first left is rows[published].
    const left = rows[tally.published];
    return { ...tally, oldestLeftAt: left ? timestampOf(left.entry.message) : undefined };
  };

  const publishRows = async (
    rows: OutboxRow[],
    aggregateId: string,
    owner: string,
    remainingMs: () => number,
  ): Promise<{ published: number; requests: number; failed: number; parked: number; lostLease: boolean }> => {
    const tally = { published: 0, requests: 0, failed: 0, parked: 0, lostLease: false };
    let i = 0;
    while (i < rows.length) {
      if (remainingMs() < 5_000) break;
      if (!(await renew(aggregateId, owner))) {
        tally.lostLease = true;
        break;
      }
      const destination = rows[i]!.entry.destination;
      const chunk: OutboxRow[] = [];
      while (i < rows.length && chunk.length < 10 && rows[i]!.entry.destination === destination)
        chunk.push(rows[i++]!);
      const invalid = chunk.findIndex((row) => !isSendable(row.entry));
      const sendable = invalid === -1 ? chunk : chunk.slice(0, invalid);
      if (sendable.length > 0) {
        // The lease was renewed just above for the first request; every further request of this
        // dispatch (FIFO: one per message group, plus retries) renews it again before it goes out.
        let requestsOfDispatch = 0;
        const channel = channelRef(destination);
        // Sent with the limit the writer checked (the largest in the request), not this function's own.
        const result = await options.producer.dispatch(
          { ...channel, maxMessageBytes: Math.max(...sendable.map((row) => limitOf(row.entry, channel))) },
          sendable.map((row) => row.entry.message),
          {
            beforeRequest: async () => {
              requestsOfDispatch += 1;
              if (requestsOfDispatch === 1) return true;
              if (remainingMs() >= 5_000 && (await renew(aggregateId, owner))) return true;
              tally.lostLease = true;
              return false;
            },
          },
        );
        tally.requests += result.requests;
        // Every row that went out is marked, even after a failed one: on a standard channel the rows
        // after a failed entry of the same request were published and must not go out again.
        const sent = new Set(result.successful.map((s) => s.id));
        for (const row of sendable) {
          if (!sent.has(row.entry.message.id)) continue;
          await markPublished(row);
          tally.published += 1;
        }
        const failedById = new Map(result.failed.map((f) => [f.id, f]));
        // NotSent is no attempt of its row: the dispatch stopped (lease lost, invocation ending) or
        // another row of it failed first (a claim S3 refused). Count the row that really failed, even
        // behind a NotSent one, or a claim refused for good would block the aggregate, never parked.
        const firstFailed = sendable.find((row) => {
          const failure = failedById.get(row.entry.message.id);
          return failure !== undefined && failure.code !== NOT_SENT_CODE;
        });
        if (!firstFailed && sendable.some((row) => failedById.has(row.entry.message.id))) return tally;
        if (firstFailed) {
          const failure = failedById.get(firstFailed.entry.message.id)!;
          tally.failed += 1;
          if (
            await recordFailure(
              firstFailed,
              `${failure.code}: ${failure.message}`,
              failure.senderFault,
              owner,
            )
          )
            tally.parked += 1;
          return tally; // later messages of this aggregate wait: order first
        }
      }
      if (invalid !== -1) {
        const row = chunk[invalid]!;
        tally.failed += 1;
        if (await recordFailure(row, unsendableReason(row.entry), true, owner)) tally.parked += 1;
        return tally;
      }
    }
    return tally;
  };

  return {
    async poll(remainingMs = () => Number.POSITIVE_INFINITY): Promise<PollOutcome> {
      const owner = `${pollerId}:${randomUUID()}`;
      const aggregates = await findAggregates();
      const outcome = { published: 0, requests: 0, aggregates: 0, leased: 0, failed: 0, parked: 0 };
      let oldestLeftAt = Number.POSITIVE_INFINITY;
      let next = 0;
      let failure: { error: unknown } | undefined;
      const worker = async (): Promise<void> => {
        while (next < aggregates.length && remainingMs() > 5_000 && !failure) {
          const aggregateId = aggregates[next++]!;
          // Claim and release too: an error anywhere ends this worker only, after its own lease is
          // handed back, while the other workers finish what they publish.
          try {
            if (!(await claim(aggregateId, owner))) {
              outcome.leased += 1;
              continue;
            }
            try {
              const tally = await publishAggregate(aggregateId, owner, remainingMs);
              outcome.aggregates += 1;
              outcome.published += tally.published;
              outcome.requests += tally.requests;
              outcome.failed += tally.failed;
              outcome.parked += tally.parked;
              if (tally.oldestLeftAt !== undefined) oldestLeftAt = Math.min(oldestLeftAt, tally.oldestLeftAt);
              if (tally.lostLease)
                logger.warn('outbox lease lost; another poller may go on', { owner, aggregateId });
            } finally {
              await release(aggregateId, owner);
            }
          } catch (error) {
            failure ??= { error };
          }
        }
      };
      // Every worker finishes (and releases its lease) before poll() settles, even when one failed:
      // no worker outlives the invocation and keeps publishing while the next one starts.
      await Promise.allSettled(Array.from({ length: options.concurrency ?? 4 }, worker));
      if (failure) throw failure.error;
      const now = Date.now();
      const oldestUnpublishedAgeSeconds = Number.isFinite(oldestLeftAt) ? (now - oldestLeftAt) / 1000 : 0;
      logger.info('outbox poll done', { owner, ...outcome, oldestUnpublishedAgeSeconds });
      // Emitted on every poll, 0 included: a poller that stops reporting is itself an alarm.
      (options.metricSink ?? ((line: string) => process.stdout.write(`${line}\n`)))(
        unpublishedAgeDocument(options.table, oldestUnpublishedAgeSeconds, now),
      );
      return { ...outcome, oldestUnpublishedAgeSeconds };
    },
  };
}

function isSendable(entry: OutboxEntry): boolean {
  return unsendableReason(entry) === '';
}

/** Why SNS/SQS would reject the entry (bad destination, size, attributes, FIFO ids), or ''. */
function unsendableReason(entry: OutboxEntry): string {
  let channel: ChannelRef;
  try {
    channel = channelRef(entry.destination);
  } catch (error) {
    return (error as Error).message;
  }
  return sendCheckFailure(entry.destination, entry.message, limitOf(entry, channel)) ?? '';
}
