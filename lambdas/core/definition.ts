/**
 * Typed message definitions, declared once and imported by both the producer and the consumer.
 * The zod schema validates payloads at both ends and yields the JSON Schema used by AsyncAPI.
 */
import { z } from 'zod';
import { MessageValidationError, NoReplyExpectedError } from './errors';
import { type MessageKind, MessageKinds } from './headers';
import { buildMessage, correlationIdOf, type Message, type MessageOptions, replyToOf } from './message';

export interface MessageDefinitionProps<S extends z.ZodType> {
  /** Unique message type name, e.g. `OrderCreated`. Used for routing and filter policies. */
  readonly type: string;
  readonly schema: S;
  readonly description?: string;
  /** Derives the partition key (FIFO MessageGroupId) from the payload, e.g. the order id. */
  readonly partitionKey?: (payload: z.output<S>) => string;
  /**
   * Commands only: the replies a receiver may answer with (request / asynchronous response). The
   * AsyncAPI document and the topology diagram draw the reply channel from it; `notify` refuses a
   * command that declares replies, because its sender would wait for an answer that never comes.
   * @default - none: a one-way notification
   */
  readonly replies?: readonly MessageDefinition[];
}

export interface MessageDefinition<S extends z.ZodType = z.ZodType> {
  readonly type: string;
  readonly kind: MessageKind;
  readonly schema: S;
  readonly description?: string;
  /** The replies a receiver may answer this command with; empty for one-way messages. */
  readonly replies: readonly MessageDefinition[];
  /** Validates the payload and builds the message. Throws MessageValidationError on a bad payload. */
  create(payload: z.input<S>, options?: MessageOptions): Message<z.output<S>>;
  /** Validates a received payload. Throws MessageValidationError naming the type and the bad fields. */
  parse(payload: unknown): z.output<S>;
  /** JSON Schema (draft 2020-12) of the payload. */
  jsonSchema(): Record<string, unknown>;
}

export type PayloadOf<D> = D extends MessageDefinition<infer S> ? z.output<S> : never;

function define<S extends z.ZodType>(
  kind: MessageKind,
  props: MessageDefinitionProps<S>,
): MessageDefinition<S> {
  const parse = (payload: unknown): z.output<S> => {
    const result = props.schema.safeParse(payload);
    if (!result.success) {
      const issues = result.error.issues
        .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
        .join('; ');
      throw new MessageValidationError(
        `Payload of ${props.type} does not match its schema: ${issues}. Fix the producer or the definition of ${props.type}.`,
      );
    }
    return result.data;
  };
  return {
    type: props.type,
    kind,
    schema: props.schema,
    description: props.description,
    replies: props.replies ?? [],
    parse,
    create(payload, options = {}) {
      const valid = parse(payload);
      const partitionKey = options.partitionKey ?? props.partitionKey?.(valid);
      return buildMessage(props.type, kind, valid, { ...options, partitionKey });
    },
    jsonSchema() {
      return z.toJSONSchema(props.schema) as Record<string, unknown>;
    },
  };
}

/**
 * Declares an event: something that happened to the sender.
 *
 * @example
 * export const OrderCreated = defineEvent({
 *   type: 'OrderCreated',
 *   schema: z.object({ orderId: z.string(), total: z.number() }),
 *   partitionKey: (p) => p.orderId,
 * });
 */
export const defineEvent = <S extends z.ZodType>(props: MessageDefinitionProps<S>) =>
  define(MessageKinds.EVENT, props);
/** Declares a command: a request for the receiver to do something. */
export const defineCommand = <S extends z.ZodType>(props: MessageDefinitionProps<S>) =>
  define(MessageKinds.COMMAND, props);
/** Declares a document: data only. */
export const defineDocument = <S extends z.ZodType>(props: MessageDefinitionProps<S>) =>
  define(MessageKinds.DOCUMENT, props);
/** Declares a reply to a command. */
export const defineReply = <S extends z.ZodType>(props: MessageDefinitionProps<S>) =>
  define(MessageKinds.REPLY, props);

/**
 * Builds the reply to a request: correlation id = the request's id (as the book's request /
 * asynchronous response style asks), causation id = the request's id, same partition key.
 * Throws NoReplyExpectedError when the request carries no reply-to header (a one-way notification,
 * see `notify`): nobody waits for that answer, and sending it would need an address nobody gave.
 *
 * @example
 * const reply = replyTo(command, TicketCreatedReply, { ticketId: 't-1' });
 * await producer.send(replyToOf(command)!, reply);
 */
export function replyTo<S extends z.ZodType>(
  request: Message,
  definition: MessageDefinition<S>,
  payload: z.input<S>,
  options: MessageOptions = {},
): Message<z.output<S>> {
  if (!replyToOf(request)) {
    throw new NoReplyExpectedError(
      `${request.type} ${request.id} carries no reply-to header: it is a one-way notification (sent with notify), ` +
        `so there is no requester waiting for ${definition.type} and no address to send it to. Do not reply to it; ` +
        `if the sender needs an answer, it must send the command with a replyTo address (request/reply) instead.`,
    );
  }
  return definition.create(payload, {
    partitionKey: request.headers['partition-key'],
    ...options,
    correlationId: request.id,
    causationId: request.id,
  });
}

export { correlationIdOf };
