/** Errors the outbox runtime throws on purpose. Messages say what was wrong and how to fix it. */
import { SwitchyardError } from '../core/errors';

/** The unit of work was used in a way that cannot be committed (no aggregate, too many messages...). */
export class OutboxUsageError extends SwitchyardError {
  constructor(message: string) {
    super(message);
    this.name = 'OutboxUsageError';
  }
}

/**
 * Another writer changed the aggregate since it was read (its outbox sequence moved on). Re-read
 * the aggregate and retry the command: concurrent writers conflict instead of reordering messages.
 */
export class OutboxConflictError extends SwitchyardError {
  constructor(
    message: string,
    readonly aggregateId: string,
    readonly expectedSequence: number,
  ) {
    super(message);
    this.name = 'OutboxConflictError';
  }
}

/** A stream record or outbox item that cannot be turned back into messages (corrupt envelope). */
export class OutboxRecordError extends SwitchyardError {
  constructor(message: string) {
    super(message);
    this.name = 'OutboxRecordError';
  }
}

/**
 * A commit that could never be stored or published: a message SNS/SQS would reject (size with
 * attributes, more than 10 attributes, FIFO group or deduplication id), or more than DynamoDB takes
 * (100 items or 4 MB per transaction, 400 KB per item). Thrown by commit() before anything is written.
 */
export class OutboxLimitError extends OutboxUsageError {
  constructor(
    message: string,
    readonly cause?: unknown,
  ) {
    super(message);
    this.name = 'OutboxLimitError';
  }
}
