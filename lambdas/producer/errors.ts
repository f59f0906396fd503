/** Errors of the producer adapters. */
import { ConfigurationError } from '../core/errors';

/** A message bound for a FIFO channel has no partition key, so it has no MessageGroupId. */
export class MissingPartitionKeyError extends ConfigurationError {
  constructor(
    readonly messageType: string,
    readonly messageId: string,
    readonly address: string,
  ) {
    super(
      `Message ${messageType} (${messageId}) goes to the FIFO channel ${address}, which needs a MessageGroupId, ` +
        `but it has no partition key: set partitionKey when creating ${messageType} ` +
        `(in its definition, partitionKey: (p) => p.someId, or in the options of create()).`,
    );
    this.name = 'MissingPartitionKeyError';
  }
}
