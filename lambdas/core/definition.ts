/**
 * Typed message definitions, declared once and imported by both the producer and the consumer.
 * The schema is any Standard Schema v1 validator (zod 4 or zod/mini, valibot, arktype, ...): it
 * validates payloads at both ends and types them. JSON Schema for AsyncAPI is derived from it by the
 * CLI (`cli`/`lib/topology`), not here, so a Lambda bundle carries no JSON Schema converter.
 */
import type { StandardSchemaV1 } from '@standard-schema/spec';
import { MessageValidationError, NoReplyExpectedError } from './errors';
import { type MessageKind, MessageKinds } from './headers';
import { buildMessage, correlationIdOf, type Message, type MessageOptions, replyToOf } from './message';

/** A payload schema: any validator implementing Standard Schema v1 (https://standardschema.dev). */
export type PayloadSchema = StandardSchemaV1;
/** The payload type a schema accepts (before transforms). */
export type InputOf<S extends PayloadSchema> = StandardSchemaV1.InferInput<S>;
/** The payload type a schema yields (after transforms): what handlers receive. */
export type OutputOf<S extends PayloadSchema> = StandardSchemaV1.InferOutput<S>;

export interface MessageDefinitionProps<S extends PayloadSchema> {
  /** Unique message type name, e.g. `OrderCreated`. Used for routing and filter policies. */
  readonly type: string;
  /** A Standard Schema v1 validator; it must validate synchronously (no async refinements). */
  readonly schema: S;
  readonly description?: string;
  /** Derives the partition key (FIFO MessageGroupId) from the payload, e.g. the order id. */
  readonly partitionKey?: (payload: OutputOf<S>) => string;
  /**
   * Commands only: the replies a receiver may answer with (request / asynchronous response). The
   * AsyncAPI document and the topology diagram draw the reply channel from it; `notify` refuses a
   * command that declares replies, because its sender would wait for an answer that never comes.
   * @default - none: a one-way notification
   */
  readonly replies?: readonly MessageDefinition[];
}

export interface MessageDefinition<S extends PayloadSchema = PayloadSchema> {
  readonly type: string;
  readonly kind: MessageKind;
  readonly schema: S;
  readonly description?: string;
  /** The replies a receiver may answer this command with; empty for one-way messages. */
  readonly replies: readonly MessageDefinition[];
  /** Validates the payload and builds the message. Throws MessageValidationError on a bad payload. */
  create(payload: InputOf<S>, options?: MessageOptions): Message<OutputOf<S>>;
  /** Validates a received payload. Throws MessageValidationError naming the type and the bad fields. */
  parse(payload: unknown): OutputOf<S>;
}

export type PayloadOf<D> = D extends MessageDefinition<infer S> ? OutputOf<S> : never;

/** One problem a schema found: where (dotted path, `(root)` for the payload itself) and what. */
export interface SchemaIssue {
  readonly path: string;
  readonly message: string;
}

function pathOf(issue: StandardSchemaV1.Issue): string {
  const keys = (issue.path ?? []).map((segment) =>
    String(typeof segment === 'object' && segment !== null ? segment.key : segment),
  );
  return keys.join('.') || '(root)';
}

/**
 * Runs a Standard Schema validator synchronously: the value it yields, or the issues it found.
 * Throws MessageValidationError naming `subject` when the validator is asynchronous.
 *
 * @example
 * const result = checkAgainstSchema('the body of POST /orders', PlaceOrderRequest, body);
 * if (result.issues) return { statusCode: 400, body: { issues: result.issues } };
 */
export function checkAgainstSchema<S extends PayloadSchema>(
  subject: string,
  schema: S,
  value: unknown,
):
  | { readonly value: OutputOf<S>; readonly issues?: undefined }
  | { readonly issues: readonly SchemaIssue[] } {
  const result = schema['~standard'].validate(value);
  if (result instanceof Promise) {
    // Messages are built inline (producers, the outbox), so an async check cannot be awaited here;
    // saying so beats an unhandled promise.
    throw new MessageValidationError(
      `The schema of ${subject} validates asynchronously (an async refinement or transform). Schemas ` +
        'must validate synchronously: move the async check into the handler.',
    );
  }
  if (result.issues) return { issues: result.issues.map((i) => ({ path: pathOf(i), message: i.message })) };
  return { value: result.value as OutputOf<S> };
}

function validate<S extends PayloadSchema>(type: string, schema: S, payload: unknown): OutputOf<S> {
  const result = checkAgainstSchema(type, schema, payload);
  if (result.issues) {
    const issues = result.issues.map((i) => `${i.path}: ${i.message}`).join('; ');
    throw new MessageValidationError(
      `Payload of ${type} does not match its schema: ${issues}. Fix the producer or the definition of ${type}.`,
    );
  }
  return result.value;
}

function define<S extends PayloadSchema>(
  kind: MessageKind,
  props: MessageDefinitionProps<S>,
): MessageDefinition<S> {
  const parse = (payload: unknown): OutputOf<S> => validate(props.type, props.schema, payload);
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
export const defineEvent = <S extends PayloadSchema>(props: MessageDefinitionProps<S>) =>
  define(MessageKinds.EVENT, props);
/** Declares a command: a request for the receiver to do something. */
export const defineCommand = <S extends PayloadSchema>(props: MessageDefinitionProps<S>) =>
  define(MessageKinds.COMMAND, props);
/** Declares a document: data only. */
export const defineDocument = <S extends PayloadSchema>(props: MessageDefinitionProps<S>) =>
  define(MessageKinds.DOCUMENT, props);
/** Declares a reply to a command. */
export const defineReply = <S extends PayloadSchema>(props: MessageDefinitionProps<S>) =>
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
export function replyTo<S extends PayloadSchema>(
  request: Message,
  definition: MessageDefinition<S>,
  payload: InputOf<S>,
  options: MessageOptions = {},
): Message<OutputOf<S>> {
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
