/**
 * Parking of records the relay cannot publish. The relay counts failed attempts per stream record
 * in the outbox table; once a record failed `maxAttempts` times for a reason retrying cannot fix,
 * it goes to the failure queue (the same queue as the event source mapping's OnFailure
 * destination) in the shape AWS writes there, plus the reason and the messages themselves, which
 * AWS's own record lacks. Later records then flow again.
 *
 * The payloads are never dropped: a parked record is measured against the failure queue's own limit
 * (SQS: 1 MiB), and one that still does not fit has each message stored in the outbox table as a
 * parked item without TTL (`pk = OUTBOX-PARKED#<message id>`), which the failure message references
 * instead of carrying the payload.
 *
 * Parking is idempotent per stream record. A relay killed after the failure-queue SendMessage and
 * before its checkpoint gets the same record again, counts another attempt and would park it again:
 * two entries for one failure reach the operator, who may replay both. A FIFO deduplication id is
 * no answer: the failure queue is also the mapping's OnFailure destination and the construct makes
 * it a standard queue, and FIFO deduplication covers only 5 minutes while the mapping may retry a
 * record until its maximum age (1 day). Putting the eventID in the body alone still leaves the copy
 * in front of the operator. So the table holds a marker per record (`OUTBOX-RELAY-PARK#<eventID>`),
 * claimed with a conditional write before the send and marked PARKED right after it; a retry that
 * finds PARKED does not send again. The one window left, a kill between SendMessage returning and
 * the marker update (one DynamoDB request), cannot be closed between two services without a
 * deduplicating reader: there the retry sends again (losing a parked record would be worse), and
 * both copies carry the same `switchyard.parkId`, and `switchyard outbox replay` republishes one of
 * them and deletes the other, so the operator acts on the failure once.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import { maxMessageBytesOf } from '../producer/limits';
import {
  ATTEMPTS_PK_PREFIX,
  type KeyAttributes,
  type OutboxEntry,
  PARK_MARKER_PK_PREFIX,
  PARKED_PK_PREFIX,
} from './layout';

export interface FailureParkingOptions {
  /** Queue URL of the failure destination. */
  readonly queueUrl: string;
  /** Table where attempts are counted (the outbox table). */
  readonly table: string;
  readonly keyAttributes: KeyAttributes;
  /** Failed invocations of one record before it is parked. @default 3 */
  readonly maxAttempts?: number;
  readonly sqs?: SQSClient;
  readonly dynamodb?: DynamoDBClient;
  /** Reported as `requestContext.functionArn`. */
  readonly functionArn?: string;
  /** Largest body the failure queue takes. @default - the queue's limit (SQS: 1 MiB) */
  readonly maxMessageBytes?: number;
}

/** Where a parked message too large for the failure queue is kept (no TTL: it stays until replayed). */
export interface StoredPayloadRef {
  readonly table: string;
  readonly key: Record<string, string>;
}

/** One message of a parked record. */
export interface ParkedMessage {
  readonly id: string;
  readonly type: string;
  readonly destination: string;
  readonly aggregateId: string;
  readonly sequence: number;
  readonly headers: Record<string, string>;
  /** The payload; null when the message is stored in the table instead (see `storedIn`). */
  readonly payload: unknown;
  /** Set when the record was too large for the failure queue: the item holding the whole message. */
  readonly storedIn?: StoredPayloadRef;
  /** True when this message was published before the record failed: a replay skips it. */
  readonly published?: boolean;
}

/** What lands in the failure queue: AWS's OnFailure record for a stream batch of one, plus `switchyard`. */
export interface ParkedRecord {
  readonly requestContext: {
    readonly requestId: string;
    readonly functionArn: string;
    readonly condition: 'RetryAttemptsExhausted';
    readonly approximateInvokeCount: number;
  };
  readonly responseContext: {
    readonly statusCode: 200;
    readonly executedVersion: string;
    readonly functionError: string;
  };
  readonly version: '1.0';
  readonly timestamp: string;
  readonly DDBStreamBatchInfo: {
    readonly startSequenceNumber: string;
    readonly endSequenceNumber: string;
    readonly approximateArrivalOfFirstRecord?: string;
    readonly approximateArrivalOfLastRecord?: string;
    readonly batchSize: 1;
    readonly streamArn?: string;
  };
  readonly switchyard: {
    /** Same for every copy parked for one stream record (its eventID): the key to deduplicate by. */
    readonly parkId: string;
    readonly reason: string;
    readonly eventID?: string;
    readonly messages: readonly ParkedMessage[];
  };
}

export class FailureParking {
  private readonly sqs: SQSClient;
  private readonly dynamodb: DynamoDBDocumentClient;

  constructor(private readonly options: FailureParkingOptions) {
    this.sqs = options.sqs ?? new SQSClient({});
    this.dynamodb = DynamoDBDocumentClient.from(options.dynamodb ?? new DynamoDBClient({}));
  }

  /** Counts one more failed attempt of the record; true when it has now used up its attempts. */
  async exhausted(record: DynamoDBRecord): Promise<{ exhausted: boolean; attempts: number }> {
    const key = this.keyOf(ATTEMPTS_PK_PREFIX, recordId(record), 'ATTEMPTS');
    const out = await this.dynamodb.send(
      new UpdateCommand({
        TableName: this.options.table,
        Key: key,
        UpdateExpression: 'ADD attempts :one SET expiresAt = :ttl',
        ExpressionAttributeValues: { ':one': 1, ':ttl': Math.floor(Date.now() / 1000) + 2 * 86400 },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    const attempts = Number(out.Attributes?.attempts ?? 1);
    return { exhausted: attempts >= (this.options.maxAttempts ?? 3), attempts };
  }

  /**
   * Sends the record to the failure queue once: a record already parked by an earlier (killed)
   * invocation is not sent again; `alreadyParked` says so.
   */
  async park(
    record: DynamoDBRecord,
    reason: string,
    attempts: number,
    entries: readonly OutboxEntry[],
    requestId: string,
    publishedIds: ReadonlySet<string> = new Set(),
  ): Promise<{ alreadyParked: boolean; failureMessageId?: string }> {
    const parkId = recordId(record);
    const marker = this.keyOf(PARK_MARKER_PK_PREFIX, parkId, 'PARK');
    const previous = await this.claim(marker);
    if (previous?.state === 'PARKED') return { alreadyParked: true, failureMessageId: previous.messageId };
    const body = await this.failureBody(record, parkId, reason, attempts, entries, requestId, publishedIds);
    const out = await this.sqs.send(
      new SendMessageCommand({ QueueUrl: this.options.queueUrl, MessageBody: body }),
    );
    await this.dynamodb.send(
      new UpdateCommand({
        TableName: this.options.table,
        Key: marker,
        UpdateExpression: 'SET #state = :parked, messageId = :id',
        ExpressionAttributeNames: { '#state': 'state' },
        ExpressionAttributeValues: { ':parked': 'PARKED', ':id': out.MessageId ?? '' },
      }),
    );
    return { alreadyParked: false, failureMessageId: out.MessageId };
  }

  /**
   * Claims the record's park marker (conditional put); when an earlier invocation claimed it, returns
   * that marker. The marker lives as long as the stream can redeliver the record (24 h), plus a day.
   */
  private async claim(
    key: Record<string, string>,
  ): Promise<{ state?: string; messageId?: string } | undefined> {
    try {
      await this.dynamodb.send(
        new PutCommand({
          TableName: this.options.table,
          Item: {
            ...key,
            state: 'SENDING',
            claimedAt: new Date().toISOString(),
            expiresAt: Math.floor(Date.now() / 1000) + 2 * 86400,
          },
          ConditionExpression: `attribute_not_exists(#pk)`,
          ExpressionAttributeNames: { '#pk': this.options.keyAttributes.partitionKey },
        }),
      );
      return undefined;
    } catch (error) {
      if ((error as Error).name !== 'ConditionalCheckFailedException') throw error;
      const { Item } = await this.dynamodb.send(
        new GetCommand({ TableName: this.options.table, Key: key, ConsistentRead: true }),
      );
      return Item as { state?: string; messageId?: string } | undefined;
    }
  }

  private keyOf(prefix: string, id: string, sortValue: string): Record<string, string> {
    const { partitionKey, sortKey } = this.options.keyAttributes;
    const key: Record<string, string> = { [partitionKey]: `${prefix}${id}` };
    if (sortKey) key[sortKey] = sortValue;
    return key;
  }

  /** The failure-queue body; payloads too large for the queue are moved to the table first. */
  private async failureBody(
    record: DynamoDBRecord,
    parkId: string,
    reason: string,
    attempts: number,
    entries: readonly OutboxEntry[],
    requestId: string,
    publishedIds: ReadonlySet<string>,
  ): Promise<string> {
    const sequenceNumber = record.dynamodb?.SequenceNumber ?? '';
    const created = record.dynamodb?.ApproximateCreationDateTime;
    const arrival = created ? new Date(created * 1000).toISOString() : undefined;
    const parked: ParkedRecord = {
      requestContext: {
        requestId,
        functionArn: this.options.functionArn ?? process.env.AWS_LAMBDA_FUNCTION_NAME ?? 'outbox-relay',
        condition: 'RetryAttemptsExhausted',
        approximateInvokeCount: attempts,
      },
      responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'OutboxRecordFailed' },
      version: '1.0',
      timestamp: new Date().toISOString(),
      DDBStreamBatchInfo: {
        startSequenceNumber: sequenceNumber,
        endSequenceNumber: sequenceNumber,
        approximateArrivalOfFirstRecord: arrival,
        approximateArrivalOfLastRecord: arrival,
        batchSize: 1,
        streamArn: record.eventSourceARN,
      },
      switchyard: {
        parkId,
        reason,
        eventID: record.eventID,
        messages: entries.map((e) => ({
          id: e.message.id,
          type: e.message.type,
          destination: e.destination,
          aggregateId: e.aggregateId,
          sequence: e.sequence,
          headers: { ...e.message.headers },
          payload: e.message.payload,
          ...(publishedIds.has(e.message.id) ? { published: true } : {}),
        })),
      },
    };
    let body = JSON.stringify(parked);
    const limit = this.options.maxMessageBytes ?? maxMessageBytesOf(this.options.queueUrl);
    if (Buffer.byteLength(body, 'utf8') > limit) {
      // Too large for the failure queue: each message goes to the table for good (no TTL), since the
      // stream and the in-item outbox lose it, and the failure message points at it.
      const messages: ParkedMessage[] = [];
      for (const m of parked.switchyard.messages) messages.push(await this.store(m));
      body = JSON.stringify({ ...parked, switchyard: { ...parked.switchyard, messages } });
    }
    return body;
  }

  /** Stores one parked message in the table (one message fits: it came out of one item). */
  private async store(message: ParkedMessage): Promise<ParkedMessage> {
    const { partitionKey, sortKey } = this.options.keyAttributes;
    const key: Record<string, string> = { [partitionKey]: `${PARKED_PK_PREFIX}${message.id}` };
    if (sortKey) key[sortKey] = 'PARKED';
    await this.dynamodb.send(
      new PutCommand({
        TableName: this.options.table,
        Item: { ...key, parkedAt: new Date().toISOString(), message: JSON.stringify(message) },
      }),
    );
    return { ...message, payload: null, storedIn: { table: this.options.table, key } };
  }
}

/** The stream record's identity: its eventID (unique per stream record), else its sequence number. */
function recordId(record: DynamoDBRecord): string {
  return record.eventID ?? record.dynamodb?.SequenceNumber ?? 'unknown';
}
