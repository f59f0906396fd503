/**
 * What every duplicate-detection mode shares: the record key, the expiry, the DynamoDB client and
 * the sorting of DynamoDB errors into "retry later" and the rest.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { isRetryableError } from '../core/error-classification';
import { PROCESSED_MESSAGES_TABLE_ENV, PROCESSED_MESSAGES_TTL_ENV } from './environment';
import { DeduplicationConfigurationError, RetryableDeduplicationError } from './errors';

/**
 * Default lifetime of a processed-message record: 14 days, the longest an SQS message can live
 * (maximum retention), so a message redriven from a DLQ still finds its record.
 */
export const DEFAULT_TTL_SECONDS = 14 * 24 * 3600;

let sharedClient: DynamoDBClient | undefined;

/** One client per container, created on first use so importing the module costs nothing. */
export function defaultClient(): DynamoDBClient {
  sharedClient ??= new DynamoDBClient({});
  return sharedClient;
}

/** Key of the processed-message record: `<consumer>#<messageId>`. */
export function processedKey(consumerName: string, messageId: string): string {
  if (!consumerName) {
    throw new DeduplicationConfigurationError(
      'Duplicate detection needs a consumer name (HandlerContext.consumerName): give the consumer a name.',
    );
  }
  return `${consumerName}#${messageId}`;
}

export function resolveTable(table: string | undefined): string {
  const name = table ?? process.env[PROCESSED_MESSAGES_TABLE_ENV];
  if (!name) {
    throw new DeduplicationConfigurationError(
      `No processed-messages table: pass { table } to the decorator or set ${PROCESSED_MESSAGES_TABLE_ENV} ` +
        '(ProcessedMessagesTable.bindTo(fn) does).',
    );
  }
  return name;
}

export function resolveTtlSeconds(ttlSeconds: number | undefined): number {
  const fromEnv = process.env[PROCESSED_MESSAGES_TTL_ENV];
  const ttl = ttlSeconds ?? (fromEnv ? Number(fromEnv) : DEFAULT_TTL_SECONDS);
  if (!Number.isInteger(ttl) || ttl < 60) {
    throw new DeduplicationConfigurationError(
      `ttlSeconds must be a whole number of seconds >= 60, got ${String(ttlSeconds ?? fromEnv)}. ` +
        'Use at least the longest time a duplicate can arrive (SQS retention, up to 14 days).',
    );
  }
  return ttl;
}

/** Epoch seconds at which the record may be deleted by DynamoDB TTL. */
export function expiresAt(ttlSeconds: number, now = Date.now()): number {
  return Math.floor(now / 1000) + ttlSeconds;
}

const RETRYABLE_NAMES = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'TransactionConflictException',
  'TransactionInProgressException',
  'InternalServerError',
  'ServiceUnavailable',
]);

/** Cancellation reason codes of TransactWriteItems that mean "try again later". */
export const RETRYABLE_CANCELLATION_CODES = new Set([
  'TransactionConflict',
  'ThrottlingError',
  'ProvisionedThroughputExceeded',
  'RequestLimitExceeded',
]);

export function errorName(error: unknown): string {
  return error instanceof Error ? error.name : typeof error;
}

/**
 * Rethrows DynamoDB throttling/conflict errors as `RetryableDeduplicationError` (so the record fails
 * and is redelivered) and anything else unchanged. Throttles, transient and server errors are told
 * by the SDK's own classification; the names add DynamoDB's transaction conflicts.
 */
export function rethrowDynamoError(error: unknown, what: string): never {
  const name = errorName(error);
  if (RETRYABLE_NAMES.has(name) || isRetryableError(error)) {
    throw new RetryableDeduplicationError(
      `${what} failed with ${name}; the message is left for redelivery. ` +
        'If this persists, check the table capacity and hot keys.',
      name,
      error,
    );
  }
  throw error;
}
