/**
 * The consumer adapter: one Lambda handler per consuming service that turns an SQS event into
 * typed messages, dispatches them by type and answers with a partial batch response.
 *
 * Records are processed one after another. FIFO needs that order anyway; for standard queues it keeps
 * handler load and logs predictable, and Lambda already runs many batches in parallel.
 */
import type { Context, SQSBatchItemFailure, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { ClaimMismatchError, ClaimMissingError } from '../claim-check/errors';
import { lazyClaimStore } from '../claim-check/offload';
import { claimReferenceOf } from '../claim-check/reference';
import type { ClaimStore } from '../claim-check/s3-claims';
import type { MessageDefinition } from '../core/definition';
import { ConfigurationError, MessageValidationError } from '../core/errors';
import { Headers, MESSAGE_KIND_VALUES, type MessageKind, MessageKinds } from '../core/headers';
import type { Message } from '../core/message';
import { FailureReasons, RecordFailure } from './failure';
import { createLogger, type JsonLogger } from './logger';
import { type UnwrappedRecord, unwrapRecord } from './record';
import { type RetryBackoffOptions, retryBackoffFromEnvironment } from './retry-backoff';
import type { RetryScheduler } from './retry-scheduler';
import type { HandlerRegistration, Logger, MessageHandler } from './types';

export interface ConsumerOptions {
  /** The consuming service's name; in every log line and in `HandlerContext.consumerName`. */
  readonly name: string;
  /** One registration per message type, made with `on(definition, handler)`. */
  readonly handlers: readonly HandlerRegistration[];
  /**
   * Receives messages without a Switchyard type (no `message-type` header), e.g. from foreign
   * producers. Its message has type `''`, kind `document`, and as payload the parsed JSON body or,
   * when the body is not JSON, the body text.
   * @default - such messages fail with reason `missing-type` or `invalid-json`
   */
  readonly fallback?: MessageHandler;
  /** @default - a JSON logger writing to stdout with field `consumer` */
  readonly logger?: Logger;
  /**
   * Failed messages return after an exponentially growing, jittered delay instead of the queue's
   * visibility timeout; `false` turns it off.
   * @default - from SWITCHYARD_RETRY_BASE_SECONDS / _MAX_SECONDS (set by the MessageConsumer construct), else off
   */
  readonly retryBackoff?: RetryBackoffOptions | false;
  /** Schedules the retries. @default - a scheduler with a default SQS client */
  readonly retryScheduler?: RetryScheduler;
  /**
   * Resolves claim-check envelopes (payloads a producer stored in S3) before validation.
   * @default - S3 through a module-wide client, loaded on the first claim received
   */
  readonly claimStore?: ClaimStore;
}

export interface Consumer {
  /** The Lambda handler for an SQS event source with ReportBatchItemFailures. */
  handler(event: SQSEvent, context?: Context): Promise<SQSBatchResponse>;
  /** The types that have a handler (what the consumer's filter policy lets through). */
  readonly handledTypes: readonly string[];
}

/**
 * Creates the consumer of one service.
 *
 * @example
 * const kitchen = createConsumer({
 *   name: 'kitchen',
 *   handlers: [on(OrderCreated, async (message) => createTicket(message.payload.orderId))],
 * });
 * export const handler = kitchen.handler;
 */
export function createConsumer(options: ConsumerOptions): Consumer {
  if (!options.name) throw new ConfigurationError('createConsumer needs a name, such as "kitchen".');
  const registrations = new Map<string, HandlerRegistration>();
  for (const registration of options.handlers) {
    const type = registration.definition.type;
    if (registrations.has(type)) {
      throw new ConfigurationError(
        `Consumer ${options.name} registers two handlers for ${type}; register each type once.`,
      );
    }
    registrations.set(type, registration);
  }
  const logger: Logger = options.logger ?? createLogger({ consumer: options.name });
  const backoff =
    options.retryBackoff === false ? undefined : (options.retryBackoff ?? retryBackoffFromEnvironment());
  const retries = backoff ? retrySchedulerFor(backoff, options.retryScheduler) : undefined;

  const claims = lazyClaimStore(options.claimStore);

  /** The payload text, fetched from S3 when the body is a claim envelope. */
  const payloadTextOf = async (unwrapped: UnwrappedRecord): Promise<string> => {
    const reference = claimReferenceOf(unwrapped.payloadText);
    if (!reference) return unwrapped.payloadText;
    try {
      return await (await claims()).get(reference);
    } catch (error) {
      if (error instanceof ClaimMissingError)
        throw new RecordFailure(FailureReasons.CLAIM_MISSING, error.message, error);
      if (error instanceof ClaimMismatchError)
        throw new RecordFailure(FailureReasons.CLAIM_MISMATCH, error.message, error);
      // Throttles and 5xx already had the S3 client's retries; SQS redelivers the record later.
      throw new RecordFailure(
        FailureReasons.CLAIM_UNAVAILABLE,
        `Could not read claim s3://${reference.bucket}/${reference.key}: ${describe(error)}. The message returns ` +
          'to the queue and is retried; if it keeps failing check the function role allows s3:GetObject on the key.',
        error,
      );
    }
  };

  const handleRecord = async (record: SQSRecord, unwrapped: UnwrappedRecord, lambdaContext?: Context) => {
    let payload: unknown;
    let isJson = true;
    const payloadText = await payloadTextOf(unwrapped);
    try {
      payload = JSON.parse(payloadText);
    } catch (error) {
      isJson = false;
      payload = payloadText;
      if (unwrapped.type || !options.fallback) {
        throw new RecordFailure(
          FailureReasons.INVALID_JSON,
          `Body is not valid JSON: ${(error as Error).message}`,
        );
      }
    }
    if (!unwrapped.type) {
      if (!options.fallback) {
        throw new RecordFailure(
          FailureReasons.MISSING_TYPE,
          `No ${Headers.TYPE} message attribute, so the message type is unknown. Send it with a Switchyard ` +
            'producer, or give the consumer a fallback handler for foreign messages.',
        );
      }
      const message: Message = {
        id: unwrapped.id,
        type: '',
        kind: MessageKinds.DOCUMENT,
        headers: unwrapped.headers,
        payload: isJson ? payload : payloadText,
      };
      await invoke(options.fallback, message, record, lambdaContext);
      return;
    }
    const registration = registrations.get(unwrapped.type);
    if (!registration) {
      throw new RecordFailure(
        FailureReasons.UNHANDLED_TYPE,
        `Consumer ${options.name} has no handler for ${unwrapped.type} (it handles ${[...registrations.keys()].join(', ') || 'nothing'}). ` +
          `Register one with on(${unwrapped.type}, handler), or fix the subscription's filter policy.`,
      );
    }
    let valid: unknown;
    try {
      valid = registration.definition.parse(payload);
    } catch (error) {
      if (error instanceof MessageValidationError) {
        throw new RecordFailure(FailureReasons.INVALID_PAYLOAD, error.message, error);
      }
      throw error;
    }
    const message: Message = {
      id: unwrapped.id,
      type: unwrapped.type,
      kind: kindOf(unwrapped, registration.definition),
      headers: unwrapped.headers,
      payload: valid,
    };
    await invoke(registration.handler as MessageHandler, message, record, lambdaContext);
  };

  const invoke = async (
    handler: MessageHandler,
    message: Message,
    record: SQSRecord,
    lambdaContext?: Context,
  ) => {
    const messageLogger = childOf(logger, {
      messageId: message.id,
      type: message.type,
      correlationId: message.headers[Headers.CORRELATION_ID],
    });
    try {
      await handler(message, { consumerName: options.name, record, lambdaContext, logger: messageLogger });
    } catch (error) {
      throw new RecordFailure(FailureReasons.HANDLER_ERROR, describe(error), error);
    }
  };

  return {
    handledTypes: [...registrations.keys()],
    async handler(event: SQSEvent, context?: Context): Promise<SQSBatchResponse> {
      assertSqsEvent(event, options.name);
      const batchItemFailures: SQSBatchItemFailure[] = [];
      const failedRecords: SQSRecord[] = [];
      // FIFO: once a record of a group fails, later records of that group must not overtake it.
      const failedGroups = new Set<string>();
      for (const record of event.Records ?? []) {
        const unwrapped = unwrapRecord(record);
        const fields = {
          messageId: unwrapped.id,
          type: unwrapped.type,
          correlationId: unwrapped.headers[Headers.CORRELATION_ID],
          sqsMessageId: record.messageId,
        };
        if (unwrapped.groupId !== undefined && failedGroups.has(unwrapped.groupId)) {
          batchItemFailures.push({ itemIdentifier: record.messageId });
          failedRecords.push(record);
          logger.warn('Message not processed: an earlier message of its FIFO group failed in this batch', {
            consumer: options.name,
            reason: FailureReasons.EARLIER_IN_GROUP_FAILED,
            messageGroupId: unwrapped.groupId,
            ...fields,
          });
          continue;
        }
        try {
          await handleRecord(record, unwrapped, context);
        } catch (error) {
          batchItemFailures.push({ itemIdentifier: record.messageId });
          failedRecords.push(record);
          if (unwrapped.groupId !== undefined) failedGroups.add(unwrapped.groupId);
          const failure = error instanceof RecordFailure ? error : undefined;
          logger.error('Message failed', {
            consumer: options.name,
            reason: failure?.reason ?? FailureReasons.HANDLER_ERROR,
            ...fields,
            error: failure ? failure.message : describe(error),
            ...(unwrapped.groupId !== undefined ? { messageGroupId: unwrapped.groupId } : {}),
          });
        }
      }
      if (retries && failedRecords.length > 0) {
        try {
          const scheduled = await (await retries).schedule(failedRecords);
          logger.info('Failed messages return after a backoff', {
            consumer: options.name,
            retries: scheduled.map((s) => ({ sqsMessageId: s.sqsMessageId, delaySeconds: s.delaySeconds })),
          });
        } catch (error) {
          // Nothing is lost: the messages return after the queue's visibility timeout instead.
          logger.warn('Could not schedule retries with backoff; the queue visibility timeout applies', {
            consumer: options.name,
            error: describe(error),
          });
        }
      }
      return { batchItemFailures };
    },
  };
}

/**
 * The given scheduler, or one with a default SQS client. @aws-sdk/client-sqs is loaded only here, so a
 * consumer without backoff never loads it; with backoff the import starts now, while the module loads
 * (Lambda's init phase), so the first failed batch does not pay for it.
 */
function retrySchedulerFor(backoff: RetryBackoffOptions, given?: RetryScheduler): Promise<RetryScheduler> {
  const scheduler = given
    ? Promise.resolve(given)
    : import('./retry-scheduler').then((module) => new module.RetryScheduler(backoff));
  // A failed load surfaces where the scheduler is awaited (logged, the visibility timeout applies).
  scheduler.catch(() => undefined);
  return scheduler;
}

/** The kind header when valid, else the kind of the definition. */
function kindOf(unwrapped: UnwrappedRecord, definition: MessageDefinition): MessageKind {
  const header = unwrapped.headers[Headers.KIND] as MessageKind | undefined;
  return header && MESSAGE_KIND_VALUES.includes(header) ? header : definition.kind;
}

function childOf(logger: Logger, fields: Record<string, unknown>): Logger {
  const child = (logger as Partial<JsonLogger>).child;
  return typeof child === 'function' ? child.call(logger, fields) : logger;
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/**
 * A consumer is wired to an SQS event source. Any other event (SNS -> Lambda, DynamoDB Streams, a
 * test payload) is a wiring mistake, not a bad message: fail the whole invocation and say so,
 * rather than failing every record with a confusing reason.
 */
function assertSqsEvent(event: SQSEvent, consumerName: string): void {
  const records = (event as { Records?: unknown } | undefined)?.Records;
  if (!Array.isArray(records)) {
    throw new ConfigurationError(
      `Consumer ${consumerName} received an event without a Records array. It handles SQS events: attach it to ` +
        'a queue with an SQS event source (MessageConsumer does this).',
    );
  }
  for (const record of records as { eventSource?: unknown; EventSource?: unknown; body?: unknown }[]) {
    const source = record.eventSource ?? record.EventSource;
    if (source !== 'aws:sqs' || typeof record.body !== 'string') {
      throw new ConfigurationError(
        `Consumer ${consumerName} handles SQS events, but received a record from ${String(source ?? 'an unknown source')}. ` +
          'Subscribe a queue to the topic (SNS -> SQS) or attach the function to a queue; DynamoDB stream records ' +
          'belong to the outbox relay.',
      );
    }
  }
}
