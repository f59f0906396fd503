/** FIFO channel fields: the partition key becomes MessageGroupId, the message id MessageDeduplicationId. */
import { ConfigurationError } from '../core/errors';
import { Headers } from '../core/headers';
import { type Message, partitionKeyOf } from '../core/message';
import { MissingPartitionKeyError } from './errors';
import { isFifoAddress } from './port';

export interface FifoFields {
  MessageGroupId?: string;
  MessageDeduplicationId?: string;
}

// SNS and SQS: 1-128 characters, alphanumeric and punctuation.
const FIFO_ID = /^[A-Za-z0-9!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~]{1,128}$/;

/**
 * The FIFO request fields for a message, or none for a standard channel. Using the message id as
 * deduplication id makes a retried send of the same message a no-op within the 5-minute window.
 */
export function fifoFields(address: string, message: Message): FifoFields {
  if (!isFifoAddress(address)) return fairQueueFields(address, message);
  const groupId = partitionKeyOf(message);
  if (!groupId) throw new MissingPartitionKeyError(message.type, message.id, address);
  for (const [field, value] of [
    ['partition key', groupId],
    ['message id', message.id],
  ] as const) {
    if (!FIFO_ID.test(value)) {
      throw new ConfigurationError(
        `Message ${message.type} (${message.id}) has ${field} "${value}", which FIFO channels reject: ` +
          'use 1-128 letters, digits or punctuation characters.',
      );
    }
  }
  return { MessageGroupId: groupId, MessageDeduplicationId: message.id };
}

/**
 * Standard SQS queues: a message with a tenant key carries it as MessageGroupId, which turns the
 * queue into an SQS fair queue (no ordering, no deduplication: a noisy tenant's backlog just stops
 * delaying the other tenants). SNS standard topics get nothing.
 */
function fairQueueFields(address: string, message: Message): FifoFields {
  const tenant = message.headers[Headers.TENANT_KEY];
  if (!tenant || !/^https?:\/\//.test(address)) return {};
  if (!FIFO_ID.test(tenant)) {
    throw new ConfigurationError(
      `Message ${message.type} (${message.id}) has tenant key "${tenant}", which SQS rejects as MessageGroupId: ` +
        'use 1-128 letters, digits or punctuation characters.',
    );
  }
  return { MessageGroupId: tenant };
}
