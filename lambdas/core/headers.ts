/**
 * Header names of the Switchyard envelope. Headers travel as SNS/SQS message
 * attributes, so these names are also what filter policies match on.
 */
export const Headers = {
  ID: 'message-id',
  TYPE: 'message-type',
  KIND: 'message-kind',
  CORRELATION_ID: 'correlation-id',
  CAUSATION_ID: 'causation-id',
  REPLY_TO: 'reply-to',
  PARTITION_KEY: 'partition-key',
  TIMESTAMP: 'timestamp',
  SOURCE: 'source',
  /** Fair queues: on standard SQS queues the producer sends it as MessageGroupId (see producer/fifo.ts). */
  TENANT_KEY: 'tenant-key',
} as const;

export type HeaderName = (typeof Headers)[keyof typeof Headers];

/** The kinds of message the book names, plus the reply to a command. */
export const MessageKinds = {
  EVENT: 'event',
  COMMAND: 'command',
  DOCUMENT: 'document',
  REPLY: 'reply',
} as const;

export type MessageKind = (typeof MessageKinds)[keyof typeof MessageKinds];

export const MESSAGE_KIND_VALUES: readonly MessageKind[] = Object.values(MessageKinds);

/** SNS and SQS both cap a message at 10 message attributes. */
export const MAX_MESSAGE_ATTRIBUTES = 10;

/**
 * The smallest size limit of a channel (body + attribute names, types and values): SNS topics by
 * default. SQS queues and topics with a raised MaximumMessageSize take up to 1 MiB (producer/limits.ts).
 */
export const MAX_MESSAGE_BYTES = 262_144;
