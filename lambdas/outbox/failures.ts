/**
 * Parking of records the relay cannot publish. The relay counts failed attempts per stream record
 * in the outbox table; once a record failed `maxAttempts` times for a reason retrying cannot fix,
 * it goes to the failure queue (the same queue as the event source mapping's OnFailure
 * destination) in the shape AWS writes there, plus the reason and the messages themselves, which
 * AWS's own record lacks. Later records then flow again.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import { ATTEMPTS_PK_PREFIX, type KeyAttributes, type OutboxEntry } from './layout';

const MAX_PARKED_BYTES = 250_000;

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
    readonly reason: string;
    readonly eventID?: string;
    readonly messages: readonly {
      id: string;
      type: string;
      destination: string;
      aggregateId: string;
      sequence: number;
      headers: Record<string, string>;
      payload: unknown;
    }[];
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
    const { partitionKey, sortKey } = this.options.keyAttributes;
    const id = record.eventID ?? record.dynamodb?.SequenceNumber ?? 'unknown';
    const key: Record<string, string> = { [partitionKey]: `${ATTEMPTS_PK_PREFIX}${id}` };
    if (sortKey) key[sortKey] = 'ATTEMPTS';
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

  async park(
    record: DynamoDBRecord,
    reason: string,
    attempts: number,
    entries: readonly OutboxEntry[],
    requestId: string,
  ): Promise<ParkedRecord> {
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
        })),
      },
    };
    let body = JSON.stringify(parked);
    if (Buffer.byteLength(body, 'utf8') > MAX_PARKED_BYTES) {
      // An oversized message cannot ride along; its payload stays in the table item and the stream.
      const slim = {
        ...parked.switchyard,
        messages: parked.switchyard.messages.map((m) => ({
          ...m,
          payload: { omitted: 'too large for the failure queue' },
        })),
      };
      body = JSON.stringify({ ...parked, switchyard: slim });
    }
    await this.sqs.send(new SendMessageCommand({ QueueUrl: this.options.queueUrl, MessageBody: body }));
    return JSON.parse(body) as ParkedRecord;
  }
}
