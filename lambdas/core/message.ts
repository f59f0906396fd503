/**
 * The Switchyard envelope: an id, a type, a kind, string headers and a JSON payload.
 * On the wire the payload is the message body and the headers are message attributes.
 */
import { ConfigurationError } from './errors';
import { Headers, MESSAGE_KIND_VALUES, type MessageKind } from './headers';
import { newMessageId } from './ids';

export interface Message<P = unknown> {
  /** Unique, time-ordered (UUIDv7 unless the producer set its own). */
  readonly id: string;
  readonly type: string;
  readonly kind: MessageKind;
  /** Every header, the standard ones included (`Headers.ID`, `Headers.TYPE`, ...). */
  readonly headers: Readonly<Record<string, string>>;
  readonly payload: P;
}

/** Options a producer may set when creating a message. */
export interface MessageOptions {
  /** @default - a new UUIDv7 */
  readonly id?: string;
  /** @default - the correlation id of `causedBy`, else the message's own id */
  readonly correlationId?: string;
  /** @default - the id of `causedBy` */
  readonly causationId?: string;
  /** The message this one is a consequence of: its correlation id is carried on. */
  readonly causedBy?: Message;
  /** Channel the receiver replies to (queue URL or ARN). */
  readonly replyTo?: string;
  /** Ordering key: becomes MessageGroupId on FIFO channels. */
  readonly partitionKey?: string;
  /**
   * Tenant of the message: on standard SQS queues it becomes MessageGroupId, which makes the queue
   * an SQS fair queue, so one noisy tenant's backlog does not delay the others.
   */
  readonly tenantKey?: string;
  /** @default - `SWITCHYARD_SOURCE`, else the Lambda function name, else 'unknown' */
  readonly source?: string;
  /** @default - now */
  readonly timestamp?: Date;
  /** Extra headers. At most 10 headers in all travel as attributes. */
  readonly headers?: Readonly<Record<string, string>>;
}

export function defaultSource(): string {
  return process.env.SWITCHYARD_SOURCE ?? process.env.AWS_LAMBDA_FUNCTION_NAME ?? 'unknown';
}

/**
 * Builds a message. Prefer a typed definition (`defineEvent`, `defineCommand`...) which validates
 * the payload; this is the untyped building block they use.
 *
 * @example
 * const msg = buildMessage('OrderCreated', 'event', { orderId: 'o-1' }, { partitionKey: 'o-1' });
 */
export function buildMessage<P>(
  type: string,
  kind: MessageKind,
  payload: P,
  options: MessageOptions = {},
): Message<P> {
  if (!type) throw new ConfigurationError('A message needs a non-empty type, such as "OrderCreated".');
  if (!MESSAGE_KIND_VALUES.includes(kind)) {
    throw new ConfigurationError(`Message kind "${kind}" is not one of ${MESSAGE_KIND_VALUES.join(', ')}.`);
  }
  const id = options.id ?? newMessageId();
  const causedBy = options.causedBy;
  const headers: Record<string, string> = { ...(options.headers ?? {}) };
  headers[Headers.ID] = id;
  headers[Headers.TYPE] = type;
  headers[Headers.KIND] = kind;
  headers[Headers.CORRELATION_ID] =
    options.correlationId ?? (causedBy ? correlationIdOf(causedBy) : undefined) ?? id;
  const causationId = options.causationId ?? causedBy?.id;
  if (causationId) headers[Headers.CAUSATION_ID] = causationId;
  if (options.replyTo) headers[Headers.REPLY_TO] = options.replyTo;
  if (options.partitionKey) headers[Headers.PARTITION_KEY] = options.partitionKey;
  if (options.tenantKey) headers[Headers.TENANT_KEY] = options.tenantKey;
  headers[Headers.TIMESTAMP] = (options.timestamp ?? new Date()).toISOString();
  headers[Headers.SOURCE] = options.source ?? defaultSource();
  return { id, type, kind, headers, payload };
}

export function correlationIdOf(message: Message): string {
  return message.headers[Headers.CORRELATION_ID] ?? message.id;
}

export function partitionKeyOf(message: Message): string | undefined {
  return message.headers[Headers.PARTITION_KEY];
}

export function replyToOf(message: Message): string | undefined {
  return message.headers[Headers.REPLY_TO];
}

/** Creation time from the timestamp header (milliseconds since the epoch), or undefined. */
export function timestampOf(message: Message): number | undefined {
  const value = message.headers[Headers.TIMESTAMP];
  if (!value) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}
