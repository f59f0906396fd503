/**
 * The log-tailing relay: turns a batch of DynamoDB stream records into publishes, batched per
 * destination (up to 10 messages a request), in stream order per partition key, and answers with
 * the checkpoint (the first record not fully published) for ReportBatchItemFailures.
 */
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import type { Logger } from '../consumer/types';
import { partitionKeyOf } from '../core/message';
import { channelRef, isFifoAddress, type MessageProducer, NOT_SENT_CODE } from '../producer/port';
import { unsendableReason } from '../producer/send-checks';
import type { FailureParking } from './failures';
import { limitOf, type OutboxEntry } from './layout';
import { parseStreamRecord } from './stream';

export interface StreamRelayOptions {
  readonly producer: MessageProducer;
  /** Parks records that keep failing for a permanent reason. @default - never park; the ESM retries and its OnFailure destination takes over */
  readonly parking?: FailureParking;
  readonly logger?: Logger;
  /** Messages per publish request. @default 10 (the SNS/SQS batch limit) */
  readonly batchSize?: number;
}

export interface RelayOutcome extends DynamoDBBatchResponse {
  readonly published: number;
  /** SNS/SQS requests made. */
  readonly requests: number;
  readonly skipped: number;
  /** Event ids of records sent to the failure queue in this invocation. */
  readonly parked: readonly string[];
}

interface RecordFailure {
  reasons: string[];
  /** Retrying cannot help (limits, missing channel, corrupt envelope). */
  permanent: boolean;
}

interface Pending {
  readonly recordIndex: number;
  readonly entry: OutboxEntry;
}

export const consoleLogger: Logger = {
  info: (message, fields) => console.log(JSON.stringify({ level: 'INFO', message, ...fields })),
  warn: (message, fields) => console.warn(JSON.stringify({ level: 'WARN', message, ...fields })),
  error: (message, fields) => console.error(JSON.stringify({ level: 'ERROR', message, ...fields })),
};

/**
 * Creates the relay's record processor.
 *
 * @example
 * const relay = createStreamRelay({ producer: createProducer() });
 * export const handler = (event: DynamoDBStreamEvent) => relay(event);
 */
export function createStreamRelay(
  options: StreamRelayOptions,
): (event: DynamoDBStreamEvent, requestId?: string) => Promise<RelayOutcome> {
  const logger = options.logger ?? consoleLogger;
  const batchSize = Math.min(10, Math.max(1, options.batchSize ?? 10));

  return async (event, requestId = 'local') => {
    const records: DynamoDBRecord[] = event.Records ?? [];
    const failures = new Map<number, RecordFailure>();
    const fail = (index: number, reason: string, permanent: boolean): void => {
      const current = failures.get(index) ?? { reasons: [], permanent: true };
      current.reasons.push(reason);
      current.permanent &&= permanent;
      failures.set(index, current);
    };
    const entriesOf = new Map<number, readonly OutboxEntry[]>();
    const byDestination = new Map<string, Pending[]>();
    let skipped = 0;
    records.forEach((record, recordIndex) => {
      try {
        const parsed = parseStreamRecord(record);
        if (parsed.skipped) skipped += 1;
        entriesOf.set(recordIndex, parsed.entries);
        for (const entry of parsed.entries) {
          const queue = byDestination.get(entry.destination) ?? [];
          queue.push({ recordIndex, entry });
          byDestination.set(entry.destination, queue);
        }
      } catch (error) {
        fail(recordIndex, `unreadable record: ${(error as Error).message}`, true);
      }
    });

    // Ids published in this invocation: a parked record marks them, so a replay does not send them twice.
    const publishedIds = new Set<string>();
    const counts = await Promise.all(
      [...byDestination].map(([destination, pending]) =>
        publishInOrder(destination, pending, batchSize, options.producer, fail, publishedIds),
      ),
    );
    const published = counts.reduce((sum, c) => sum + c.published, 0);
    const requests = counts.reduce((sum, c) => sum + c.requests, 0);

    // Walk failures in stream order: park what is exhausted, stop at the first one to retry.
    const parked: string[] = [];
    for (const index of [...failures.keys()].sort((a, b) => a - b)) {
      const failure = failures.get(index)!;
      const record = records[index]!;
      const reason = failure.reasons.join('; ');
      if (options.parking && failure.permanent) {
        const { exhausted, attempts } = await options.parking.exhausted(record);
        if (exhausted) {
          const { alreadyParked } = await options.parking.park(
            record,
            reason,
            attempts,
            entriesOf.get(index) ?? [],
            requestId,
            publishedIds,
          );
          logger.error(
            alreadyParked
              ? 'outbox record already parked by an earlier invocation; not sent again'
              : 'outbox record parked in the failure queue',
            { eventID: record.eventID, attempts, reason },
          );
          parked.push(record.eventID ?? String(index));
          continue;
        }
      }
      const sequenceNumber = record.dynamodb?.SequenceNumber ?? '';
      logger.warn('outbox record not published; checkpointing before it', {
        eventID: record.eventID,
        sequenceNumber,
        reason,
        published,
      });
      return {
        batchItemFailures: [{ itemIdentifier: sequenceNumber }],
        published,
        requests,
        skipped,
        parked,
      };
    }
    logger.info('outbox records relayed', {
      records: records.length,
      published,
      requests,
      skipped,
      parked: parked.length,
    });
    return { batchItemFailures: [], published, requests, skipped, parked };
  };
}

/**
 * Publishes one destination's messages in order, in requests of `batchSize`. Once a message of a
 * partition key fails, later messages of that key are held back (their records fail too) so the
 * retry sends them after it: order per key survives retries. On standard (non-FIFO) channels SNS
 * and SQS promise no order anyway, so requests there are filled regardless of keys.
 */
async function publishInOrder(
  destination: string,
  pending: readonly Pending[],
  batchSize: number,
  producer: MessageProducer,
  fail: (index: number, reason: string, permanent: boolean) => void,
  publishedIds: Set<string>,
): Promise<{ published: number; requests: number }> {
  // Partition key -> the record whose message failed first; later messages of the key wait behind it.
  const blocked = new Map<string, number>();
  let published = 0;
  let requests = 0;
  let channel: ReturnType<typeof channelRef>;
  try {
    channel = channelRef(destination);
  } catch (error) {
    for (const p of pending) fail(p.recordIndex, `bad destination: ${(error as Error).message}`, true);
    return { published, requests };
  }
  const keyOf = (p: Pending): string => partitionKeyOf(p.entry.message) ?? p.entry.aggregateId;
  // On a FIFO channel a request carries at most one message per key: if an entry fails, no later
  // message of its key can have gone out in the same request ahead of it.
  const onePerKey = isFifoAddress(destination);
  let remaining = pending;
  while (remaining.length > 0) {
    const chunk: Pending[] = [];
    const inChunk = new Set<string>();
    const deferred: Pending[] = [];
    for (const next of remaining) {
      const key = keyOf(next);
      const blocker = blocked.get(key);
      // Only what comes after a failed message waits behind it (a NotSent retry may come before).
      if (blocker !== undefined && next.recordIndex >= blocker) {
        // Held back by its own record: the record's fate is that of the failed message (a permanent
        // failure still lets the record be parked, with this message in it). Held back by an earlier
        // record: it is retried once that one is published or parked.
        fail(
          next.recordIndex,
          `held back behind an earlier failed message of partition key ${key}`,
          blocker === next.recordIndex,
        );
        continue;
      }
      if (chunk.length >= batchSize || (onePerKey && inChunk.has(key))) {
        deferred.push(next);
        continue;
      }
      // A message SNS/SQS would reject (size, attributes, FIFO group or dedup id) fails alone and
      // for good, not its whole request; its record is parked with the reason once attempts run out.
      const unsendable = unsendableReason(destination, next.entry.message, limitOf(next.entry, channel));
      if (unsendable !== undefined) {
        blocked.set(key, next.recordIndex);
        fail(next.recordIndex, `message ${next.entry.message.id}: ${unsendable}`, true);
        continue;
      }
      chunk.push(next);
      inChunk.add(key);
    }
    remaining = deferred;
    if (chunk.length === 0) continue;
    // Sent with the limit the writer checked (the largest in the request), not this function's own.
    const result = await producer.dispatch(
      { ...channel, maxMessageBytes: Math.max(...chunk.map((p) => limitOf(p.entry, channel))) },
      chunk.map((p) => p.entry.message),
    );
    requests += result.requests;
    published += result.successful.length;
    for (const sent of result.successful) publishedIds.add(sent.id);
    const failedIds = new Map(result.failed.map((f) => [f.id, f]));
    // NotSent entries were held back only because another entry of the request failed (a claim S3
    // refused): they go again in the next request, without it. Failing their records instead would
    // checkpoint before them, and a refused claim behind them would never be counted or parked.
    const anotherFailed = result.failed.some((f) => f.code !== NOT_SENT_CODE);
    const again: Pending[] = [];
    for (const p of chunk) {
      const failed = failedIds.get(p.entry.message.id);
      if (!failed) continue;
      if (anotherFailed && failed.code === NOT_SENT_CODE) {
        again.push(p);
        continue;
      }
      blocked.set(keyOf(p), p.recordIndex);
      fail(
        p.recordIndex,
        `message ${failed.id} to ${destination}: ${failed.code} ${failed.message}`,
        failed.senderFault,
      );
    }
    remaining = [...again, ...remaining];
  }
  return { published, requests };
}
