/**
 * Transactional duplicate detection: the handler's DynamoDB writes and the processed-message
 * record commit in one TransactWriteItems, so either both happen or neither does.
 */
import {
  type ConditionCheck,
  type Delete,
  type DynamoDBClient,
  type Put,
  type TransactWriteItem,
  TransactWriteItemsCommand,
  type Update,
} from '@aws-sdk/client-dynamodb';
import type { HandlerContext, MessageHandler } from '../consumer/types';
import type { Message } from '../core/message';
import { backoffDelayMs, sleep } from '../producer/backoff';
import { acknowledgingDuplicates } from './acknowledge';
import {
  BusinessConditionFailedError,
  DeduplicationConfigurationError,
  DuplicateMessageError,
  RetryableDeduplicationError,
} from './errors';
import {
  defaultClient,
  errorName,
  expiresAt,
  processedKey,
  RETRYABLE_CANCELLATION_CODES,
  resolveTable,
  resolveTtlSeconds,
  rethrowDynamoError,
} from './settings';

/** DynamoDB's limit on items in one TransactWriteItems; one of them is the processed-message record. */
export const MAX_TRANSACTION_ITEMS = 100;

/** Collects the handler's writes; the decorator commits them with the processed-message record. */
export class TransactionStage {
  private readonly items: TransactWriteItem[] = [];

  put(put: Put): this {
    return this.add({ Put: put });
  }

  update(update: Update): this {
    return this.add({ Update: update });
  }

  delete(del: Delete): this {
    return this.add({ Delete: del });
  }

  conditionCheck(check: ConditionCheck): this {
    return this.add({ ConditionCheck: check });
  }

  /** Number of writes staged so far. */
  get size(): number {
    return this.items.length;
  }

  /** The staged items, in staging order. */
  get staged(): readonly TransactWriteItem[] {
    return this.items;
  }

  private add(item: TransactWriteItem): this {
    if (this.items.length >= MAX_TRANSACTION_ITEMS - 1) {
      throw new DeduplicationConfigurationError(
        `A transactional handler may stage at most ${MAX_TRANSACTION_ITEMS - 1} writes ` +
          `(DynamoDB allows ${MAX_TRANSACTION_ITEMS} per transaction and one is the processed-message record). ` +
          'Split the work into several messages, or use marker() if the writes need not be atomic.',
      );
    }
    this.items.push(item);
    return this;
  }
}

export type TransactionalHandler<P = unknown> = (
  message: Message<P>,
  context: HandlerContext,
  tx: TransactionStage,
) => Promise<void> | void;

export interface TransactionalOptions {
  /** @default - `SWITCHYARD_PROCESSED_MESSAGES_TABLE` */
  readonly table?: string;
  /** Lifetime of the processed-message record. @default - `SWITCHYARD_PROCESSED_MESSAGES_TTL_SECONDS`, else 14 days */
  readonly ttlSeconds?: number;
  /** @default - a shared `new DynamoDBClient({})` */
  readonly client?: DynamoDBClient;
  /**
   * TransactWriteItems calls per delivery, the first included, while DynamoDB cancels the transaction
   * only for conflicts or throttling. @default 4
   */
  readonly transactionAttempts?: number;
  /** Scale of the full-jitter backoff between those calls. @default 25 */
  readonly retryBaseDelayMs?: number;
}

/**
 * True when DynamoDB cancelled the transaction only because of contention (every reason that is not
 * `None` is a conflict or a throttle): the same items may commit a moment later. A cancellation that
 * also names a failed condition is an answer about the data, and sending it again would not change it.
 */
function cancelledOnlyByContention(codes: readonly string[]): boolean {
  const causes = codes.filter((code) => code !== 'None');
  return causes.length > 0 && causes.every((code) => RETRYABLE_CANCELLATION_CODES.has(code));
}

/**
 * Wraps a handler so its DynamoDB writes and the record "consumer X processed message M" commit in
 * one TransactWriteItems. A duplicate delivery finds the record (condition `attribute_not_exists(pk)`
 * fails): it is acknowledged and the handler's writes are not applied. One write request per message.
 *
 * - A failed condition on one of the handler's own items throws `BusinessConditionFailedError`.
 * - A transaction cancelled only by conflicts or throttling is sent again, up to `transactionAttempts`
 *   calls with jittered backoff; then `RetryableDeduplicationError` (the record is redelivered).
 * - A handler that stages nothing still records the message id.
 *
 * @example
 * on(OrderCreated, transactional(async (message, _context, tx) => {
 *   tx.put({ TableName: 'tickets', Item: { pk: { S: message.payload.orderId }, state: { S: 'OPEN' } } });
 * }, { table: process.env.SWITCHYARD_PROCESSED_MESSAGES_TABLE }))
 */
export function transactional<P>(
  handler: TransactionalHandler<P>,
  options: TransactionalOptions = {},
): MessageHandler<P> {
  return acknowledgingDuplicates('transactional', async (message, context) => {
    const table = resolveTable(options.table);
    const ttl = resolveTtlSeconds(options.ttlSeconds);
    const client = options.client ?? defaultClient();
    const tx = new TransactionStage();
    await handler(message, context, tx);
    const pk = processedKey(context.consumerName, message.id);
    const record: TransactWriteItem = {
      Put: {
        TableName: table,
        Item: { pk: { S: pk }, expiresAt: { N: String(expiresAt(ttl)) } },
        ConditionExpression: 'attribute_not_exists(pk)',
      },
    };
    const items = [...tx.staged, record];
    const maxAttempts = Math.max(1, options.transactionAttempts ?? 4);
    const baseDelayMs = Math.max(0, options.retryBaseDelayMs ?? 25);
    for (let attempt = 1; ; attempt += 1) {
      try {
        await client.send(new TransactWriteItemsCommand({ TransactItems: items }));
        return;
      } catch (error) {
        if (errorName(error) !== 'TransactionCanceledException')
          rethrowDynamoError(error, 'TransactWriteItems');
        const reasons = (error as { CancellationReasons?: { Code?: string; Message?: string }[] })
          .CancellationReasons;
        const codes = items.map((_, i) => reasons?.[i]?.Code ?? 'None');
        // Contention clears within milliseconds; retrying here, rather than failing the record, keeps
        // SQS receive counts for real failures: under a hot key, redeliveries alone reach maxReceiveCount
        // and push healthy messages to the DLQ. A cancelled transaction applied nothing, so sending the
        // same items again is safe; a retry that finds the record written acknowledges a duplicate.
        if (cancelledOnlyByContention(codes) && attempt < maxAttempts) {
          await sleep(backoffDelayMs(attempt, { baseDelayMs }));
          continue;
        }
        throwCancellation(error, codes, items, context.consumerName, message.id, attempt);
      }
    }
  });
}

/** Turns a cancelled transaction into the decorator's error: duplicate, retry later, or the handler's own failure. */
function throwCancellation(
  error: unknown,
  codes: readonly string[],
  items: readonly TransactWriteItem[],
  consumerName: string,
  messageId: string,
  attempts: number,
): never {
  if (codes[items.length - 1] === 'ConditionalCheckFailed') {
    throw new DuplicateMessageError(consumerName, messageId);
  }
  const retryable = codes.find((code) => RETRYABLE_CANCELLATION_CODES.has(code));
  if (retryable) {
    throw new RetryableDeduplicationError(
      `Transaction for message ${messageId} was cancelled (${retryable}) on ${attempts} attempt(s); ` +
        'the message is left for redelivery. If this persists, look for hot keys among the staged writes.',
      retryable,
      error,
    );
  }
  const failed = codes
    .map((code, i) => ({ code, i }))
    .filter(({ code }) => code !== 'None')
    .map(({ code, i }) => `item ${i} (${describe(items[i])}): ${code}`);
  throw new BusinessConditionFailedError(
    `Transaction for message ${messageId} was cancelled by the handler's own writes: ${failed.join('; ')}.`,
    error,
  );
}

function describe(item: TransactWriteItem | undefined): string {
  if (!item) return 'unknown';
  if (item.Put) return `Put ${item.Put.TableName}`;
  if (item.Update) return `Update ${item.Update.TableName}`;
  if (item.Delete) return `Delete ${item.Delete.TableName}`;
  if (item.ConditionCheck) return `ConditionCheck ${item.ConditionCheck.TableName}`;
  return 'unknown';
}
