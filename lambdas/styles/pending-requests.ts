/**
 * Request / asynchronous response, client side: a pending-request store keyed by correlation id
 * (= the request's id), in DynamoDB so that any number of requesters can share one reply channel
 * and any instance of the reply consumer can deliver any reply. The requester registers the
 * request with a deadline before sending it, then waits for its record to turn REPLIED; at the
 * deadline it gives up (GAVE_UP). A reply after that is still stored on the record (`lateReply`)
 * and handed to `onLateReply`: replies always reach their requester's record, never a DLQ.
 */
import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { HandlerRegistration, Logger } from '../consumer/types';
import { on } from '../consumer/types';
import type { InputOf, MessageDefinition, PayloadSchema } from '../core/definition';
import { ConfigurationError } from '../core/errors';
import { correlationIdOf, type Message, type MessageOptions } from '../core/message';
import { type ChannelRef, channelRef, type MessageProducer } from '../producer/port';
import { createProducer } from '../producer/sns-sqs-producer';
import { RequestTimeoutError, UnknownRequestError } from './errors';

/** Environment variable the PendingRequestsTable construct sets: the table name. */
export const PENDING_REQUESTS_TABLE_VARIABLE = 'SWITCHYARD_PENDING_REQUESTS_TABLE';

export type PendingStatus = 'PENDING' | 'REPLIED' | 'GAVE_UP';

export interface StoredReply {
  readonly id: string;
  readonly type: string;
  readonly headers: Record<string, string>;
  readonly payload: unknown;
}

export interface PendingRequest {
  readonly correlationId: string;
  readonly requester: string;
  readonly requestType: string;
  readonly status: PendingStatus;
  /** Epoch milliseconds after which the requester stops waiting. */
  readonly deadline: number;
  readonly reply?: StoredReply;
  /** A reply that arrived after the requester gave up. */
  readonly lateReply?: StoredReply;
}

interface StoreOptions {
  /** @default - `SWITCHYARD_PENDING_REQUESTS_TABLE` */
  readonly table?: string;
  readonly dynamodb?: DynamoDBClient;
  /** @default Date.now */
  readonly clock?: () => number;
}

export interface RequestClientOptions extends StoreOptions {
  /** Names this requester on its records (two clients may share a reply channel). */
  readonly requester: string;
  /** The reply channel (queue URL) replies must go to. */
  readonly replyTo: string;
  /** @default - createProducer() */
  readonly producer?: MessageProducer;
  /** How often `wait` reads the record. @default 100 */
  readonly pollIntervalMs?: number;
  /** Records live this long after their deadline (TTL). @default 86400 */
  readonly retentionSeconds?: number;
}

export interface RequestOptions extends Omit<MessageOptions, 'replyTo'> {
  /** How long the requester waits for the reply. */
  readonly timeoutMs: number;
}

export interface RequestClient {
  /** Registers the request (PENDING until its deadline) and sends it with this client's reply-to. */
  send<S extends PayloadSchema>(
    channel: string | ChannelRef,
    definition: MessageDefinition<S>,
    payload: InputOf<S>,
    options: RequestOptions,
  ): Promise<PendingRequest>;
  /** Waits for the reply; at the deadline marks the request GAVE_UP and throws RequestTimeoutError. */
  wait(correlationId: string): Promise<StoredReply>;
  /** send + wait. */
  request<S extends PayloadSchema>(
    channel: string | ChannelRef,
    definition: MessageDefinition<S>,
    payload: InputOf<S>,
    options: RequestOptions,
  ): Promise<StoredReply>;
  /** The record of one request (status, reply, late reply). */
  result(correlationId: string): Promise<PendingRequest | undefined>;
}

const keyOf = (correlationId: string) => ({ pk: `REQUEST#${correlationId}` });

function store(options: StoreOptions) {
  const table = options.table ?? process.env[PENDING_REQUESTS_TABLE_VARIABLE];
  if (!table) {
    throw new ConfigurationError(
      `${PENDING_REQUESTS_TABLE_VARIABLE} is not set: grant the function the PendingRequestsTable (table.grantRequester / grantReplyRouter) or pass { table }.`,
    );
  }
  const db = DynamoDBDocumentClient.from(options.dynamodb ?? new DynamoDBClient({}), {
    marshallOptions: { removeUndefinedValues: true },
  });
  const read = async (correlationId: string): Promise<PendingRequest | undefined> => {
    const { Item } = await db.send(
      new GetCommand({ TableName: table, Key: keyOf(correlationId), ConsistentRead: true }),
    );
    return Item as PendingRequest | undefined;
  };
  return { table, db, read };
}

const toStored = (message: Message): StoredReply => ({
  id: message.id,
  type: message.type,
  headers: { ...message.headers },
  payload: message.payload,
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A requester's side of request/reply.
 *
 * @example
 * const kitchen = createRequestClient({ requester: 'order-api', replyTo: channelAddress('order-api-replies') });
 * const reply = await kitchen.request('kitchen-queries', GetTicketEta, { orderId }, { timeoutMs: 2000 });
 */
export function createRequestClient(options: RequestClientOptions): RequestClient {
  const { table, db, read } = store(options);
  const clock = options.clock ?? Date.now;
  const producer = options.producer ?? createProducer();
  const pollInterval = options.pollIntervalMs ?? 100;

  const send: RequestClient['send'] = async (channel, definition, payload, requestOptions) => {
    const { timeoutMs, ...messageOptions } = requestOptions;
    if (!(timeoutMs > 0)) {
      throw new ConfigurationError(`timeoutMs is ${timeoutMs}; give how long to wait for the reply, in ms.`);
    }
    if (definition.replies.length === 0) {
      throw new ConfigurationError(
        `${definition.type} declares no replies, so no answer will come. Declare replies: [...] on its definition, or use notify for one-way commands.`,
      );
    }
    const command = definition.create(payload, { ...messageOptions, replyTo: options.replyTo });
    const deadline = clock() + timeoutMs;
    const pending: PendingRequest = {
      correlationId: command.id,
      requester: options.requester,
      requestType: command.type,
      status: 'PENDING',
      deadline,
    };
    // Registered before sending: a fast reply must find its record.
    await db.send(
      new PutCommand({
        TableName: table,
        Item: {
          ...keyOf(command.id),
          ...pending,
          expiresAt: Math.ceil(deadline / 1000) + (options.retentionSeconds ?? 86_400),
        },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
    const ref = typeof channel === 'string' ? channelRef(channel) : channel;
    await producer.dispatch(ref, [command]).then((result) => {
      if (result.failed.length) {
        throw new Error(`Sending ${command.type} ${command.id} failed: ${result.failed[0]?.message}`);
      }
    });
    return pending;
  };

  const giveUp = async (correlationId: string): Promise<StoredReply | undefined> => {
    try {
      await db.send(
        new UpdateCommand({
          TableName: table,
          Key: keyOf(correlationId),
          UpdateExpression: 'SET #status = :gaveUp',
          ConditionExpression: '#status = :pending',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':gaveUp': 'GAVE_UP', ':pending': 'PENDING' },
        }),
      );
      return undefined;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      // The reply won the race with the deadline.
      return (await read(correlationId))?.reply;
    }
  };

  const wait = async (correlationId: string): Promise<StoredReply> => {
    for (;;) {
      const record = await read(correlationId);
      if (!record) {
        throw new UnknownRequestError(`No pending request ${correlationId}: send it with this client first.`);
      }
      if (record.status === 'REPLIED' && record.reply) return record.reply;
      if (record.status === 'GAVE_UP' || clock() >= record.deadline) {
        const reply = record.status === 'PENDING' ? await giveUp(correlationId) : undefined;
        if (reply) return reply;
        throw new RequestTimeoutError(
          `No reply to ${record.requestType} ${correlationId} within its timeout; the requester gave up. ` +
            'A later reply is kept on the record (result().lateReply) and passed to onLateReply.',
          correlationId,
        );
      }
      await sleep(Math.min(pollInterval, Math.max(1, record.deadline - clock())));
    }
  };

  return {
    send,
    wait,
    async request(channel, definition, payload, requestOptions) {
      const pending = await send(channel, definition, payload, requestOptions);
      return wait(pending.correlationId);
    },
    result: read,
  };
}

export interface ReplyRouterOptions extends StoreOptions {
  /** The reply types this router delivers. */
  readonly replies: readonly MessageDefinition[];
  /** Called for a reply that arrived after its requester gave up (compensate, notify...). */
  readonly onLateReply?: (reply: Message, request: PendingRequest, logger: Logger) => Promise<void> | void;
}

export type DeliveryOutcome = 'delivered' | 'duplicate' | 'late';

/** Stores one reply on its pending request. Exported for routers outside a consumer. */
export async function deliverReply(
  reply: Message,
  options: StoreOptions = {},
): Promise<{ outcome: DeliveryOutcome; request: PendingRequest }> {
  const { table, db, read } = store(options);
  const correlationId = correlationIdOf(reply);
  try {
    const { Attributes } = await db.send(
      new UpdateCommand({
        TableName: table,
        Key: keyOf(correlationId),
        UpdateExpression: 'SET #status = :replied, reply = :reply',
        ConditionExpression: '#status = :pending',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: {
          ':replied': 'REPLIED',
          ':pending': 'PENDING',
          ':reply': toStored(reply),
        },
        ReturnValues: 'ALL_NEW',
      }),
    );
    return { outcome: 'delivered', request: Attributes as PendingRequest };
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
  }
  const record = await read(correlationId);
  if (!record) {
    throw new UnknownRequestError(
      `Reply ${reply.type} ${reply.id} has correlation id ${correlationId}, which matches no pending request. ` +
        'Requesters must register requests with createRequestClient().send before sending; records expire a day after their deadline.',
    );
  }
  if (record.status === 'REPLIED') return { outcome: 'duplicate', request: record };
  await db.send(
    new UpdateCommand({
      TableName: table,
      Key: keyOf(correlationId),
      UpdateExpression: 'SET lateReply = if_not_exists(lateReply, :reply)',
      ExpressionAttributeValues: { ':reply': toStored(reply) },
    }),
  );
  return { outcome: 'late', request: { ...record, lateReply: record.lateReply ?? toStored(reply) } };
}

/**
 * The reply channel's consumer: delivers each reply to its pending request, whichever requester
 * sent it.
 *
 * @example
 * export const { handler } = createConsumer({ name: 'api-replies', handlers: createReplyRouter({ replies: [TicketEta] }) });
 */
export function createReplyRouter(options: ReplyRouterOptions): HandlerRegistration[] {
  return options.replies.map((definition) =>
    on(definition, async (reply, { logger }) => {
      const { outcome, request } = await deliverReply(reply as Message, options);
      logger.info(`Reply ${outcome}`, { correlationId: request.correlationId, requester: request.requester });
      if (outcome === 'late') await options.onLateReply?.(reply as Message, request, logger);
    }),
  );
}
