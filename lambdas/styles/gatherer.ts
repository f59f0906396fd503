/**
 * Publish / asynchronous responses: a request goes to a publish-subscribe channel with a reply-to
 * address, every subscriber that can answer replies with the request id as correlation id, and the
 * gatherer collects the replies in DynamoDB until the first of: all expected replies, a quorum, or
 * the deadline. The deadline is a message to the gatherer's own queue delayed until then (SQS
 * DelaySeconds within 15 minutes, an EventBridge Scheduler schedule beyond), so it fires with
 * no further replies. Completion is one conditional write that also stages the single result
 * message in the item's outbox (in-item mode): the log-tailing relay publishes it, so the result
 * is emitted once however many duplicate or late replies arrive.
 */

import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { StandardSchemaV1 } from '@standard-schema/spec';
import type { HandlerRegistration, Logger } from '../consumer/types';
import { on } from '../consumer/types';
import { defineDocument, type MessageDefinition } from '../core/definition';
import { ConfigurationError } from '../core/errors';
import { Headers } from '../core/headers';
import { correlationIdOf, type Message } from '../core/message';
import { stringFieldsSchema } from '../core/string-fields-schema';
import { createDelayedDelivery, type DelayedDelivery } from '../delayed/delayed-delivery';
import { schedulerSettingsFromEnvironment } from '../delayed/environment';
import { MAX_DELAY_MS, SQS_MAX_DELAY_SECONDS } from '../delayed/limits';
import { OutboxAttributes, resolveDestination, serializeEntry } from '../outbox/layout';
import type { ChannelRef } from '../producer/port';
import { GatheringNotFoundError } from './errors';

/** Environment variables the ReplyGatherer construct sets on the functions that use a gatherer. */
export const GathererEnvironment = {
  TABLE: 'SWITCHYARD_GATHERER_TABLE',
  /** The gatherer's reply queue: replies and the deadline message both land there. */
  QUEUE: 'SWITCHYARD_GATHERER_QUEUE',
} as const;

/**
 * Deadlines up to 15 minutes are a delayed SQS message; longer ones (up to a year) an EventBridge
 * Scheduler one-time schedule, which needs `ReplyGatherer`'s `delayedDelivery` prop.
 */
export const MAX_DEADLINE_MS = MAX_DELAY_MS;

/** The message the gatherer sends itself, delayed until the deadline. */
export const GatheringDeadline = defineDocument({
  type: 'SwitchyardGatheringDeadline',
  description: 'Sent by a gatherer to its own queue, delayed until the deadline of a gathering.',
  schema: stringFieldsSchema('requestId', 'gatherer'),
});

export type CompletionReason = 'all-replies' | 'quorum' | 'deadline';

export interface GatheredReply<P> {
  /** Who answered: the reply's `source` header (one answer per responder counts). */
  readonly responder: string;
  readonly messageId: string;
  readonly receivedAt: string;
  readonly payload: P;
}

export interface Gathering<P> {
  readonly requestId: string;
  readonly requestType: string;
  readonly expectedReplies: number;
  readonly quorum?: number;
  readonly deadline: string;
  /** Extra data the opener stored (e.g. the order id), echoed to `complete`. */
  readonly context: Record<string, unknown>;
  readonly replies: readonly GatheredReply<P>[];
}

export interface GatherOptions {
  /** Complete when this many replies are in (the number of responders). */
  readonly expectedReplies: number;
  /** Complete as soon as this many replies are in. @default - wait for expectedReplies */
  readonly quorum?: number;
  /**
   * Complete with what is there this long after opening: up to 15 minutes through SQS DelaySeconds,
   * up to a year through EventBridge Scheduler (give `ReplyGatherer` a `delayedDelivery`).
   */
  readonly deadlineMs: number;
  /** Kept with the gathering and handed to `complete`. @default {} */
  readonly context?: Record<string, unknown>;
}

export interface GathererOptions<P> {
  /** Names the gatherer in logs and in its deadline messages. */
  readonly name: string;
  /** The reply type it gathers. */
  readonly reply: MessageDefinition<StandardSchemaV1<unknown, P>>;
  /** Builds the one result message from the gathered replies. */
  readonly complete: (gathering: Gathering<P>, reason: CompletionReason) => Message;
  /** Where the result goes: a channel bound to the gatherer's outbox relay (name or ref). */
  readonly resultChannel: string | ChannelRef;
  /** @default - `SWITCHYARD_GATHERER_TABLE` */
  readonly table?: string;
  /** @default - `SWITCHYARD_GATHERER_QUEUE` */
  readonly queueUrl?: string;
  readonly dynamodb?: DynamoDBClient;
  readonly sqs?: SQSClient;
  /** @default Date.now */
  readonly clock?: () => number;
  /**
   * Sends the deadline message at the deadline.
   * @default - `createDelayedDelivery` with this gatherer's SQS client and clock
   */
  readonly delayedDelivery?: DelayedDelivery;
}

export type ReplyOutcome = 'gathered' | 'completed' | 'duplicate' | 'late';

export interface Gatherer<P> {
  /**
   * Opens a gathering for `request` (its id is the correlation id replies carry) and schedules its
   * deadline. Call it before publishing the request. Idempotent per request id.
   */
  open(request: Message, options: GatherOptions): Promise<void>;
  /** Records one reply; completes the gathering when it is the last one needed. */
  acceptReply(reply: Message<P>, logger?: Logger): Promise<ReplyOutcome>;
  /** Completes the gathering with what it has, unless it completed already. */
  expire(requestId: string): Promise<'completed' | 'already-complete'>;
  /** Handlers for the gatherer's consumer: the reply type and the deadline message. */
  readonly handlers: readonly HandlerRegistration[];
  /** Reads a gathering (tests, status queries). */
  read(requestId: string): Promise<GatheringItem | undefined>;
}

/** The stored gathering. */
export interface GatheringItem {
  readonly pk: string;
  readonly sk: string;
  readonly requestId: string;
  readonly requestType: string;
  readonly status: 'OPEN' | 'COMPLETE';
  readonly expectedReplies: number;
  readonly quorum?: number;
  readonly deadline: string;
  /** The deadline in epoch milliseconds: replies after it are late. */
  readonly deadlineAt: number;
  readonly context: Record<string, unknown>;
  readonly replies: Record<string, { messageId: string; receivedAt: string; payload: unknown }>;
  readonly version: number;
  readonly completedBy?: CompletionReason;
  readonly completedAt?: string;
  readonly resultMessageId?: string;
  readonly duplicateReplies?: number;
  readonly lateReplies?: number;
}

const GATHERING_SORT_KEY = 'GATHERING';
const keyOf = (requestId: string) => ({ pk: `GATHERING#${requestId}`, sk: GATHERING_SORT_KEY });
/** Completion retries when other replies keep moving the version (each retry re-reads). */
const MAX_COMPLETION_ATTEMPTS = 8;

/**
 * Creates a gatherer.
 *
 * @example
 * const quotes = createGatherer({
 *   name: 'delivery-quotes',
 *   reply: DeliveryPriceQuoted,
 *   resultChannel: 'courier-dispatch',
 *   complete: (g, reason) => createNotification(DispatchCourier, cheapest(g, reason)),
 * });
 * await quotes.open(request, { expectedReplies: 3, deadlineMs: 2000 });
 * export const { handler } = createConsumer({ name: 'quote-gatherer', handlers: quotes.handlers });
 */
export function createGatherer<P>(options: GathererOptions<P>): Gatherer<P> {
  const clock = options.clock ?? Date.now;
  const table = (): string => required(options.table, GathererEnvironment.TABLE);
  const queueUrl = (): string => required(options.queueUrl, GathererEnvironment.QUEUE);
  let documents: DynamoDBDocumentClient | undefined;
  const db = () => {
    documents ??= DynamoDBDocumentClient.from(options.dynamodb ?? new DynamoDBClient({}), {
      marshallOptions: { removeUndefinedValues: true },
    });
    return documents;
  };
  let sqsClient: SQSClient | undefined;
  const sqs = () => {
    sqsClient ??= options.sqs ?? new SQSClient({});
    return sqsClient;
  };

  let delayed = options.delayedDelivery;
  const delayedDelivery = (): DelayedDelivery => {
    delayed ??= createDelayedDelivery({ sqs: sqs(), now: clock });
    return delayed;
  };

  const read = async (requestId: string): Promise<GatheringItem | undefined> => {
    const { Item } = await db().send(
      new GetCommand({ TableName: table(), Key: keyOf(requestId), ConsistentRead: true }),
    );
    return Item ? toGatheringItem(Item) : undefined;
  };

  const decide = (item: GatheringItem): CompletionReason | undefined => {
    const count = Object.keys(item.replies).length;
    if (count >= item.expectedReplies) return 'all-replies';
    if (item.quorum !== undefined && count >= item.quorum) return 'quorum';
    return undefined;
  };

  /** One conditional write: status COMPLETE + the result staged in the item's outbox. */
  const complete = async (item: GatheringItem, reason: CompletionReason): Promise<boolean> => {
    const gathering: Gathering<P> = {
      requestId: item.requestId,
      requestType: item.requestType,
      expectedReplies: item.expectedReplies,
      quorum: item.quorum,
      deadline: item.deadline,
      context: item.context,
      replies: Object.entries(item.replies)
        .map(([responder, r]) => ({ responder, ...r, payload: r.payload as P }))
        .sort((a, b) => a.receivedAt.localeCompare(b.receivedAt)),
    };
    const result = options.complete(gathering, reason);
    const raw = item as unknown as Record<string, unknown>;
    const sequence = Number(raw[OutboxAttributes.SEQUENCE] ?? 0) + 1;
    const entry = serializeEntry({
      aggregateId: item.requestId,
      sequence,
      destination: resolveDestination(options.resultChannel),
      message: result,
    });
    try {
      await db().send(
        new UpdateCommand({
          TableName: table(),
          Key: keyOf(item.requestId),
          UpdateExpression:
            'SET #status = :complete, completedBy = :reason, completedAt = :now, resultMessageId = :resultId, #outbox = :outbox, #seq = :seq',
          ConditionExpression: '#status = :open AND #version = :version',
          ExpressionAttributeNames: {
            '#status': 'status',
            '#version': 'version',
            '#outbox': OutboxAttributes.IN_ITEM,
            '#seq': OutboxAttributes.SEQUENCE,
          },
          ExpressionAttributeValues: {
            ':complete': 'COMPLETE',
            ':open': 'OPEN',
            ':reason': reason,
            ':now': new Date(clock()).toISOString(),
            ':resultId': result.id,
            ':outbox': [entry],
            ':seq': sequence,
            ':version': item.version,
          },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  };

  const count = async (requestId: string, attribute: 'duplicateReplies' | 'lateReplies') => {
    await db().send(
      new UpdateCommand({
        TableName: table(),
        Key: keyOf(requestId),
        UpdateExpression: 'ADD #counter :one',
        ExpressionAttributeNames: { '#counter': attribute },
        ExpressionAttributeValues: { ':one': 1 },
      }),
    );
  };

  /** Completes `requestId` when `decideReason` says so; retries while replies move the version. */
  const completeIfDue = async (
    requestId: string,
    decideReason: (item: GatheringItem) => CompletionReason | undefined,
  ): Promise<'completed' | 'not-due' | 'already-complete'> => {
    for (let attempt = 0; attempt < MAX_COMPLETION_ATTEMPTS; attempt++) {
      const item = await read(requestId);
      if (!item) throw notFound(requestId, options.name);
      if (item.status === 'COMPLETE') return 'already-complete';
      const reason = decideReason(item);
      if (!reason) return 'not-due';
      if (await complete(item, reason)) return 'completed';
    }
    throw new Error(
      `Gathering ${requestId} kept changing during ${MAX_COMPLETION_ATTEMPTS} completion attempts; the message is retried.`,
    );
  };

  const acceptReply = async (reply: Message<P>, logger?: Logger): Promise<ReplyOutcome> => {
    const requestId = correlationIdOf(reply);
    const responder = reply.headers[Headers.SOURCE] ?? reply.id;
    const entry = {
      messageId: reply.id,
      receivedAt: new Date(clock()).toISOString(),
      payload: reply.payload,
    };
    try {
      await db().send(
        new UpdateCommand({
          TableName: table(),
          Key: keyOf(requestId),
          UpdateExpression: 'SET #reply = :entry ADD #version :one',
          // A reply after the deadline is late even before the deadline message is handled.
          ConditionExpression: '#status = :open AND attribute_not_exists(#reply) AND #deadlineAt > :now',
          ExpressionAttributeNames: {
            '#reply': `${REPLY_ATTRIBUTE_PREFIX}${responder}`,
            '#status': 'status',
            '#version': 'version',
            '#deadlineAt': 'deadlineAt',
          },
          ExpressionAttributeValues: { ':entry': entry, ':open': 'OPEN', ':one': 1, ':now': clock() },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const item = await read(requestId);
      if (!item) throw notFound(requestId, options.name);
      // A reply already counted, or one after completion: expected with at-least-once delivery
      // and slow responders; counted for the record, never a second result.
      const pastDeadline =
        item.status === 'OPEN' && clock() >= item.deadlineAt && !(responder in item.replies);
      const outcome: ReplyOutcome = item.status === 'COMPLETE' || pastDeadline ? 'late' : 'duplicate';
      await count(requestId, outcome === 'late' ? 'lateReplies' : 'duplicateReplies');
      // The deadline passed and its message is not handled yet: complete now, with the replies in time.
      if (pastDeadline) await expire(requestId);
      logger?.info(`Reply ${outcome}: the gathering does not change`, { requestId, responder });
      return outcome;
    }
    const done = await completeIfDue(requestId, decide);
    return done === 'completed' ? 'completed' : 'gathered';
  };

  const expire = async (requestId: string): Promise<'completed' | 'already-complete'> => {
    const outcome = await completeIfDue(requestId, () => 'deadline');
    return outcome === 'completed' ? 'completed' : 'already-complete';
  };

  const open = async (request: Message, gather: GatherOptions): Promise<void> => {
    validate(gather, options.name);
    // A deadline beyond SQS's 15 minutes needs the scheduler settings: fail before the gathering is stored.
    if (gather.deadlineMs > SQS_MAX_DELAY_SECONDS * 1000 && !options.delayedDelivery)
      schedulerSettingsFromEnvironment();
    const deadlineAt = clock() + gather.deadlineMs;
    try {
      await db().send(
        new PutCommand({
          TableName: table(),
          Item: {
            ...keyOf(request.id),
            requestId: request.id,
            requestType: request.type,
            status: 'OPEN',
            expectedReplies: gather.expectedReplies,
            quorum: gather.quorum,
            deadline: new Date(deadlineAt).toISOString(),
            deadlineAt,
            // Replies are top-level attributes (`reply:<responder>`); an empty context is not stored.
            ...(gather.context && Object.keys(gather.context).length ? { context: gather.context } : {}),
            version: 0,
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (error) {
      // Opening again (a retried request) keeps the first gathering; the deadline is re-sent below.
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
    // Within 15 minutes a delayed SQS message, beyond that a one-time schedule (delayed/ decides).
    await delayedDelivery().deliverAfter(
      { type: 'point-to-point', queueUrl: queueUrl() },
      GatheringDeadline.create({ requestId: request.id, gatherer: options.name }),
      gather.deadlineMs,
    );
  };

  return {
    open,
    acceptReply,
    expire,
    read,
    handlers: [
      on(options.reply, async (reply, { logger }) => {
        await acceptReply(reply as Message<P>, logger);
      }),
      on(GatheringDeadline, async (deadline, { logger }) => {
        const outcome = await expire(deadline.payload.requestId);
        logger.info('Gathering deadline', { requestId: deadline.payload.requestId, outcome });
      }),
    ],
  };
}

/** Each reply is its own attribute, so recording one is a single conditional SET. */
const REPLY_ATTRIBUTE_PREFIX = 'reply:';

function toGatheringItem(raw: Record<string, unknown>): GatheringItem {
  const replies: GatheringItem['replies'] = {};
  const rest: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(raw)) {
    if (name.startsWith(REPLY_ATTRIBUTE_PREFIX))
      replies[name.slice(REPLY_ATTRIBUTE_PREFIX.length)] = value as GatheringItem['replies'][string];
    else rest[name] = value;
  }
  return {
    ...(rest as unknown as GatheringItem),
    context: (raw.context as Record<string, unknown>) ?? {},
    replies,
  };
}

function validate(gather: GatherOptions, name: string): void {
  const problems: string[] = [];
  if (!Number.isInteger(gather.expectedReplies) || gather.expectedReplies < 1)
    problems.push(`expectedReplies is ${gather.expectedReplies}; give the number of responders (>= 1)`);
  if (
    gather.quorum !== undefined &&
    (!Number.isInteger(gather.quorum) || gather.quorum < 1 || gather.quorum > gather.expectedReplies)
  )
    problems.push(`quorum is ${gather.quorum}; it must be 1..expectedReplies (${gather.expectedReplies})`);
  if (!(gather.deadlineMs > 0 && gather.deadlineMs <= MAX_DEADLINE_MS))
    problems.push(
      `deadlineMs is ${gather.deadlineMs}; it must be 1..${MAX_DEADLINE_MS} (one year; beyond 15 minutes the deadline is an EventBridge Scheduler schedule)`,
    );
  if (problems.length) throw new ConfigurationError(`Gatherer ${name}: ${problems.join('; ')}.`);
}

function notFound(requestId: string, name: string): GatheringNotFoundError {
  return new GatheringNotFoundError(
    `Gatherer ${name} has no gathering for request ${requestId}: open it (gatherer.open) before publishing the request, ` +
      'and send replies with replyTo(request, ...) so their correlation id is the request id.',
  );
}

function required(value: string | undefined, variable: string): string {
  const resolved = value ?? process.env[variable];
  if (!resolved) {
    throw new ConfigurationError(
      `${variable} is not set. Attach the function to the ReplyGatherer construct (gatherer.grantOpen / the gatherer consumer) or pass it in the options.`,
    );
  }
  return resolved;
}
