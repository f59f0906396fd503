/**
 * The checks a message must pass before it may be sent to a channel, in one place for every sender:
 * the producer (before any request), the unit of work (before anything is stored, so a commit never
 * accepts a message that can never be published) and the outbox relay and poller (so one bad
 * message fails alone instead of its whole batch).
 */
import { claimLocationOf } from '../claim-check/location';
import { asClaimed } from '../claim-check/offload';
import { SwitchyardError } from '../core/errors';
import type { Message } from '../core/message';
import { toWire, type WireMessage } from '../core/wire';
import { type FifoFields, fifoFields } from './fifo';
import { maxMessageBytesOf } from './limits';

export interface SendableMessage {
  readonly wire: WireMessage;
  readonly fifo: FifoFields;
}

/**
 * Encodes `message` for the channel at `address` and checks everything SNS/SQS would reject: at most
 * 10 attributes with valid names and values, the size with attributes against the channel's limit,
 * and on FIFO channels the group id (partition key) and deduplication id (message id): 1-128
 * letters, digits or punctuation. Throws MessageLimitError or ConfigurationError saying what to fix.
 *
 * @example
 * const { wire, fifo } = checkSendable(queueUrl, message); // throws before any request
 */
export function checkSendable(
  address: string,
  message: Message,
  maxBytes: number = maxMessageBytesOf(address),
): SendableMessage {
  const wire = toWire(message, maxBytes);
  return { wire, fifo: fifoFields(address, message) };
}

/**
 * The reason `message` cannot be sent to `address`, or undefined when it can. On a channel with a
 * claim location an oversized message is checked as it will travel: as a claim envelope.
 */
export function unsendableReason(address: string, message: Message, maxBytes?: number): string | undefined {
  try {
    const location = claimLocationOf(address);
    checkSendable(address, location ? asClaimed(message, location) : message, maxBytes);
    return undefined;
  } catch (error) {
    if (error instanceof SwitchyardError) return error.message;
    throw error;
  }
}
