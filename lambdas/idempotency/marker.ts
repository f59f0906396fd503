/**
 * Marker duplicate detection for effects outside DynamoDB (an e-mail, a payment API call): an
 * IN_PROGRESS record with a lease before the handler, COMPLETED after.
 *
 * What it guarantees: two concurrent deliveries never run the handler at the same time; a message
 * whose handler completed is never run again while its record lives; a handler that threw releases
 * the marker so the redelivery runs it. What it cannot guarantee: if the process dies after the
 * external effect and before COMPLETED is written, the lease expires and the redelivery repeats the
 * effect. That is at-least-once for the external effect: give the external system an idempotency
 * key (the message id) where it accepts one.
 */
import { randomUUID } from 'node:crypto';
import {
  type AttributeValue,
  DeleteItemCommand,
  type DynamoDBClient,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import type { MessageHandler } from '../consumer/types';
import { acknowledgingDuplicates } from './acknowledge';
import {
  DeduplicationConfigurationError,
  DuplicateMessageError,
  RetryableDeduplicationError,
} from './errors';
import {
  defaultClient,
  errorName,
  expiresAt,
  processedKey,
  resolveTable,
  resolveTtlSeconds,
  rethrowDynamoError,
} from './settings';

export const MarkerStatus = { IN_PROGRESS: 'IN_PROGRESS', COMPLETED: 'COMPLETED' } as const;

/** Lease when there is no Lambda context to ask for the remaining time. */
export const DEFAULT_LEASE_SECONDS = 60;

export interface MarkerOptions {
  /** @default - `SWITCHYARD_PROCESSED_MESSAGES_TABLE` */
  readonly table?: string;
  /** Lifetime of the COMPLETED record. @default - `SWITCHYARD_PROCESSED_MESSAGES_TTL_SECONDS`, else 14 days */
  readonly ttlSeconds?: number;
  /**
   * How long an IN_PROGRESS marker blocks other deliveries; after it, a redelivery may take over.
   * @default - the remaining Lambda time (the invocation cannot outlive it), else 60 seconds
   */
  readonly leaseSeconds?: number;
  /** @default - a shared `new DynamoDBClient({})` */
  readonly client?: DynamoDBClient;
}

/**
 * Wraps a handler with an IN_PROGRESS / COMPLETED marker in the processed-messages table.
 * Two or three write requests per message (claim, complete; release on failure).
 *
 * @example
 * on(PaymentRequested, marker(async (message) => {
 *   await payments.charge(message.payload, { idempotencyKey: message.id });
 * }))
 */
export function marker<P>(handler: MessageHandler<P>, options: MarkerOptions = {}): MessageHandler<P> {
  if (options.leaseSeconds !== undefined && !(options.leaseSeconds > 0)) {
    throw new DeduplicationConfigurationError(`leaseSeconds must be positive, got ${options.leaseSeconds}.`);
  }
  return acknowledgingDuplicates('marker', async (message, context) => {
    const table = resolveTable(options.table);
    const ttl = resolveTtlSeconds(options.ttlSeconds);
    const client = options.client ?? defaultClient();
    const pk = processedKey(context.consumerName, message.id);
    const owner = randomUUID();
    const now = Date.now();
    const leaseMs =
      options.leaseSeconds !== undefined
        ? options.leaseSeconds * 1000
        : (context.lambdaContext?.getRemainingTimeInMillis() ?? DEFAULT_LEASE_SECONDS * 1000);
    const fields = { consumer: context.consumerName, messageId: message.id, mode: 'marker' };

    try {
      await client.send(
        new PutItemCommand({
          TableName: table,
          Item: {
            pk: { S: pk },
            status: { S: MarkerStatus.IN_PROGRESS },
            leaseUntil: { N: String(now + leaseMs) },
            owner: { S: owner },
            expiresAt: { N: String(expiresAt(ttl, now)) },
          },
          ConditionExpression: 'attribute_not_exists(pk) OR (#status = :inProgress AND leaseUntil < :now)',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':inProgress': { S: MarkerStatus.IN_PROGRESS },
            ':now': { N: String(now) },
          },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
    } catch (error) {
      if (errorName(error) !== 'ConditionalCheckFailedException')
        rethrowDynamoError(error, 'PutItem (marker)');
      const old = (error as { Item?: Record<string, AttributeValue> }).Item;
      // Our own claim: the first PutItem was applied, its response lost, and the SDK's retry met it.
      const ownClaim = old?.status?.S === MarkerStatus.IN_PROGRESS && old.owner?.S === owner;
      if (!ownClaim) {
        if (old?.status?.S === MarkerStatus.COMPLETED) {
          throw new DuplicateMessageError(context.consumerName, message.id);
        }
        throw new RetryableDeduplicationError(
          `Message ${message.id} is being processed by another delivery of consumer ${context.consumerName} ` +
            `(lease until ${new Date(Number(old?.leaseUntil?.N ?? now)).toISOString()}); it will be redelivered.`,
          'InProgress',
          error,
        );
      }
    }

    try {
      await handler(message, context);
    } catch (handlerError) {
      await release(client, table, pk, owner).catch((releaseError: unknown) =>
        // The lease still expires, so the redelivery runs after it: slower, not lost.
        context.logger.warn('could not release the in-progress marker', {
          ...fields,
          error: errorName(releaseError),
        }),
      );
      throw handlerError;
    }

    try {
      await client.send(
        new UpdateItemCommand({
          TableName: table,
          Key: { pk: { S: pk } },
          UpdateExpression: 'SET #status = :completed, expiresAt = :expiresAt REMOVE leaseUntil',
          ConditionExpression: '#owner = :owner',
          ExpressionAttributeNames: { '#status': 'status', '#owner': 'owner' },
          ExpressionAttributeValues: {
            ':completed': { S: MarkerStatus.COMPLETED },
            ':expiresAt': { N: String(expiresAt(ttl)) },
            ':owner': { S: owner },
          },
        }),
      );
    } catch (error) {
      // The effect happened: failing the record would repeat it. Acknowledge and say so.
      context.logger.error(
        'effect applied but the COMPLETED marker was not written; a later duplicate may repeat it',
        {
          ...fields,
          error: errorName(error),
        },
      );
    }
  });
}

async function release(client: DynamoDBClient, table: string, pk: string, owner: string): Promise<void> {
  await client.send(
    new DeleteItemCommand({
      TableName: table,
      Key: { pk: { S: pk } },
      ConditionExpression: '#owner = :owner',
      ExpressionAttributeNames: { '#owner': 'owner' },
      ExpressionAttributeValues: { ':owner': { S: owner } },
    }),
  );
}
