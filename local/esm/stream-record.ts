/**
 * Turns DynamoDB Streams `GetRecords` records into the records of Lambda's DynamoDB event, field
 * for field as Lambda sends them (see ../shared/aws-events/dynamodb-streams-*.json).
 */
import type { AttributeValue, _Record as StreamsRecord } from '@aws-sdk/client-dynamodb-streams';

/** An attribute value as JSON: binary values are base64 strings, as in the Lambda event. */
export type JsonAttributeValue = Record<string, unknown>;

export interface DynamoDbEventRecord {
  eventID: string;
  eventName: 'INSERT' | 'MODIFY' | 'REMOVE';
  eventVersion: string;
  eventSource: 'aws:dynamodb';
  awsRegion: string;
  userIdentity?: { type: string; principalId: string };
  dynamodb: {
    /** Seconds since the epoch. */
    ApproximateCreationDateTime: number;
    Keys: Record<string, JsonAttributeValue>;
    NewImage?: Record<string, JsonAttributeValue>;
    OldImage?: Record<string, JsonAttributeValue>;
    SequenceNumber: string;
    SizeBytes: number;
    StreamViewType: string;
  };
  eventSourceARN: string;
}

const base64 = (value: Uint8Array) => Buffer.from(value).toString('base64');

function toJsonValue(value: AttributeValue): JsonAttributeValue {
  if (value.B !== undefined) return { B: base64(value.B) };
  if (value.BS !== undefined) return { BS: value.BS.map(base64) };
  if (value.M !== undefined) return { M: toJsonImage(value.M) };
  if (value.L !== undefined) return { L: value.L.map(toJsonValue) };
  // S, N, SS, NS, BOOL, NULL are JSON already; keep only the member that is set.
  const out: JsonAttributeValue = {};
  for (const [key, member] of Object.entries(value))
    if (member !== undefined && key !== '$unknown') out[key] = member;
  return out;
}

function toJsonImage(image: Record<string, AttributeValue>): Record<string, JsonAttributeValue> {
  const out: Record<string, JsonAttributeValue> = {};
  for (const [name, value] of Object.entries(image)) out[name] = toJsonValue(value);
  return out;
}

/** One record of the Lambda DynamoDB event. */
export function toDynamoDbEventRecord(
  record: StreamsRecord,
  streamArn: string,
  awsRegion: string,
): DynamoDbEventRecord {
  const stream = record.dynamodb ?? {};
  const created = stream.ApproximateCreationDateTime;
  const dynamodb: DynamoDbEventRecord['dynamodb'] = {
    ApproximateCreationDateTime: created ? Math.floor(created.getTime() / 1000) : 0,
    Keys: toJsonImage(stream.Keys ?? {}),
  } as DynamoDbEventRecord['dynamodb'];
  if (stream.NewImage) dynamodb.NewImage = toJsonImage(stream.NewImage);
  if (stream.OldImage) dynamodb.OldImage = toJsonImage(stream.OldImage);
  dynamodb.SequenceNumber = stream.SequenceNumber ?? '';
  dynamodb.SizeBytes = stream.SizeBytes ?? 0;
  dynamodb.StreamViewType = stream.StreamViewType ?? '';
  const out: Partial<DynamoDbEventRecord> = {
    eventID: record.eventID ?? '',
    eventName: record.eventName as DynamoDbEventRecord['eventName'],
    eventVersion: record.eventVersion ?? '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion,
  };
  if (record.userIdentity) {
    out.userIdentity = {
      type: record.userIdentity.Type ?? '',
      principalId: record.userIdentity.PrincipalId ?? '',
    };
  }
  return { ...out, dynamodb, eventSourceARN: streamArn } as DynamoDbEventRecord;
}

/** Sequence numbers are decimal strings of varying width; compare them as numbers. */
export function compareSequenceNumbers(a: string, b: string): number {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}
