/** Errors of duplicate detection. Messages say what was wrong and how to fix it. */
import { SwitchyardError } from '../core/errors';

/** Base class of every duplicate-detection error. */
export class DeduplicationError extends SwitchyardError {
  constructor(message: string) {
    super(message);
    this.name = 'DeduplicationError';
  }
}

/**
 * Internal signal that a message was already processed. The decorators catch it and acknowledge
 * the message (return normally): it never reaches user code or the consumer adapter.
 */
export class DuplicateMessageError extends DeduplicationError {
  constructor(
    readonly consumerName: string,
    readonly messageId: string,
  ) {
    super(`Message ${messageId} was already processed by consumer ${consumerName}.`);
    this.name = 'DuplicateMessageError';
  }
}

/**
 * The outcome is unknown or blocked for now (throttling, transaction conflict, another delivery
 * of the same message still in progress). Thrown so the record fails and SQS redelivers it later:
 * nothing was acknowledged, nothing is lost.
 */
export class RetryableDeduplicationError extends DeduplicationError {
  constructor(
    message: string,
    /** Machine-readable reason, e.g. `TransactionConflict`, `Throttling`, `InProgress`. */
    readonly reason: string,
    readonly cause?: unknown,
  ) {
    super(message);
    this.name = 'RetryableDeduplicationError';
  }
}

/** The decorator or what the handler staged is unusable (no table name, too many items, name clash). */
export class DeduplicationConfigurationError extends DeduplicationError {
  constructor(message: string) {
    super(message);
    this.name = 'DeduplicationConfigurationError';
  }
}

/** The handler's own condition failed (not a duplicate): a real failure of the business write. */
export class BusinessConditionFailedError extends DeduplicationError {
  constructor(
    message: string,
    readonly cause?: unknown,
  ) {
    super(message);
    this.name = 'BusinessConditionFailedError';
  }
}
