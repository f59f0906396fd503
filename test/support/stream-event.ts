/**
 * Reads a DynamoDB Local table's stream with the DynamoDB Streams API and builds the
 * `DynamoDBStreamEvent` Lambda's event source mapping would deliver, so the relay runs on records
 * DynamoDB really wrote. Binary values become base64 and the creation time epoch seconds, as in Lambda.
 */
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  type AttributeValue,
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type _Record as StreamRecord,
} from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBRecord, DynamoDBStreamEvent, AttributeValue as LambdaAttributeValue } from 'aws-lambda';

function toLambdaValue(value: AttributeValue): LambdaAttributeValue {
  if (value.B !== undefined) return { B: Buffer.from(value.B).toString('base64') };
  if (value.BS !== undefined) return { BS: value.BS.map((b) => Buffer.from(b).toString('base64')) };
  if (value.L !== undefined) return { L: value.L.map(toLambdaValue) };
  if (value.M !== undefined) return { M: toLambdaImage(value.M) };
  const { $unknown: _unknown, ...rest } = value as AttributeValue & { $unknown?: unknown };
  return rest as LambdaAttributeValue;
}

function toLambdaImage(
  image: Record<string, AttributeValue> | undefined,
): Record<string, LambdaAttributeValue> {
  const out: Record<string, LambdaAttributeValue> = {};
  for (const [name, value] of Object.entries(image ?? {})) out[name] = toLambdaValue(value);
  return out;
}

export function toLambdaRecord(
  record: StreamRecord,
  streamArn: string,
  region = 'us-east-1',
): DynamoDBRecord {
  const ddb = record.dynamodb ?? {};
  const result: DynamoDBRecord = {
    eventID: record.eventID,
    eventName: record.eventName as DynamoDBRecord['eventName'],
    eventVersion: record.eventVersion ?? '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: record.awsRegion ?? region,
    eventSourceARN: streamArn,
    dynamodb: {
      ApproximateCreationDateTime: ddb.ApproximateCreationDateTime
        ? Math.floor(ddb.ApproximateCreationDateTime.getTime() / 1000)
        : undefined,
      Keys: toLambdaImage(ddb.Keys),
      NewImage: ddb.NewImage ? toLambdaImage(ddb.NewImage) : undefined,
      OldImage: ddb.OldImage ? toLambdaImage(ddb.OldImage) : undefined,
      SequenceNumber: ddb.SequenceNumber,
      SizeBytes: ddb.SizeBytes,
      StreamViewType: ddb.StreamViewType as NonNullable<DynamoDBRecord['dynamodb']>['StreamViewType'],
    },
  };
  if (record.userIdentity) {
    result.userIdentity = { type: record.userIdentity.Type, principalId: record.userIdentity.PrincipalId };
  }
  return result;
}

/** Tails every shard of a table's stream from its start, like an event source at TRIM_HORIZON. */
export class StreamTail {
  private readonly streams = new DynamoDBStreamsClient({});
  private readonly iterators = new Map<string, string | undefined>();
  private streamArn = '';
  private shardIds: string[] = [];
  private describedAt = 0;

  constructor(private readonly table: string) {}

  async open(): Promise<this> {
    const { Table } = await new DynamoDBClient({}).send(new DescribeTableCommand({ TableName: this.table }));
    if (!Table?.LatestStreamArn) throw new Error(`Table ${this.table} has no stream.`);
    this.streamArn = Table.LatestStreamArn;
    return this;
  }

  /**
   * Reads what the stream holds now (all shards), as Lambda records in stream order per shard.
   * `maxPages` bounds the GetRecords calls per shard: a tail of a table under constant writes
   * never sees an empty page, so a poller reads a page and hands it on, as Lambda's does.
   */
  async read(maxPages = Number.POSITIVE_INFINITY): Promise<DynamoDBRecord[]> {
    // New shards appear rarely; describing the stream on every read would dominate a busy tail.
    if (Date.now() - this.describedAt > 1000) {
      const { StreamDescription } = await this.streams.send(
        new DescribeStreamCommand({ StreamArn: this.streamArn }),
      );
      this.shardIds = (StreamDescription?.Shards ?? []).map((shard) => shard.ShardId!);
      this.describedAt = Date.now();
    }
    const records: DynamoDBRecord[] = [];
    for (const shardId of this.shardIds) {
      if (!this.iterators.has(shardId)) {
        const { ShardIterator } = await this.streams.send(
          new GetShardIteratorCommand({
            StreamArn: this.streamArn,
            ShardId: shardId,
            ShardIteratorType: 'TRIM_HORIZON',
          }),
        );
        this.iterators.set(shardId, ShardIterator);
      }
      let iterator = this.iterators.get(shardId);
      for (let pages = 0; iterator && pages < maxPages; pages += 1) {
        const page = await this.streams.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 1000 }));
        records.push(...(page.Records ?? []).map((r) => toLambdaRecord(r, this.streamArn)));
        iterator = page.NextShardIterator;
        this.iterators.set(shardId, iterator);
        if (!page.Records?.length) break;
      }
    }
    return records;
  }
}

export function streamEvent(records: readonly DynamoDBRecord[]): DynamoDBStreamEvent {
  return { Records: [...records] };
}

/**
 * What the event source mapping does with a partial batch response, reduced to the parts the
 * relay relies on: records from the reported checkpoint on are delivered again.
 */
export function remainingAfter(
  records: readonly DynamoDBRecord[],
  failures: { itemIdentifier: string }[],
): DynamoDBRecord[] {
  const first = failures[0];
  if (!first) return [];
  const index = records.findIndex((r) => r.dynamodb?.SequenceNumber === first.itemIdentifier);
  if (index < 0) throw new Error(`Checkpoint ${first.itemIdentifier} is not a record of the batch.`);
  return records.slice(index);
}
