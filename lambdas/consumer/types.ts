/** The inbound side: typed handlers that the consumer adapter dispatches to, by message type. */
import type { Context, SQSRecord } from 'aws-lambda';
import type { MessageDefinition, OutputOf, PayloadSchema } from '../core/definition';
import type { Message } from '../core/message';

/** One structured JSON line per call. */
export interface Logger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export interface HandlerContext {
  /** The consuming service's name (the key of duplicate detection). */
  readonly consumerName: string;
  /** The SQS record the message came from. */
  readonly record: SQSRecord;
  readonly lambdaContext?: Context;
  readonly logger: Logger;
}

export type MessageHandler<P = unknown> = (
  message: Message<P>,
  context: HandlerContext,
) => Promise<void> | void;

export interface HandlerRegistration {
  readonly definition: MessageDefinition;
  readonly handler: MessageHandler<never>;
}

/**
 * Registers a typed handler for one message type.
 *
 * @example
 * on(OrderCreated, async (message) => kitchen.createTicket(message.payload.orderId))
 */
export function on<S extends PayloadSchema>(
  definition: MessageDefinition<S>,
  handler: MessageHandler<OutputOf<S>>,
): HandlerRegistration {
  return { definition, handler: handler as MessageHandler<never> };
}
