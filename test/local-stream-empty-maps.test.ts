/**
 * Empty maps in stream records: DynamoDB Local writes them as `{}` in GetRecords images (GetItem
 * answers `{"M":{}}`, as DynamoDB does). Through the local cloud's gateway every stream consumer
 * (the local event source mappings, `outbox replay`, user code) gets AWS's form, so `unmarshall`
 * and the relay read the item as it was written.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
} from '@aws-sdk/client-dynamodb-streams';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { App, CfnOutput, Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { LocalCloud } from '../local/cloud';
import { repairStreamRecords } from '../local/iam/stream-record-repair';
import { dynamodbEndpoint, snsSqsEndpoint, uniqueName } from './support/emulators';

function synthesize(): string {
  const outdir = mkdtempSync(join(tmpdir(), 'switchyard-empty-maps-'));
  const app = new App({ outdir });
  const stack = new Stack(app, uniqueName('EmptyMaps'));
  const table = new dynamodb.Table(stack, 'Table', {
    partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
    stream: dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
  });
  new CfnOutput(stack, 'TableName', { value: table.tableName });
  new CfnOutput(stack, 'StreamArn', { value: table.tableStreamArn! });
  app.synth();
  return outdir;
}

let cloud: LocalCloud;
let config: NonNullable<ConstructorParameters<typeof DynamoDBClient>[0]>;

beforeAll(async () => {
  cloud = await LocalCloud.start({
    assemblyDir: synthesize(),
    endpoints: { snsSqs: snsSqsEndpoint(), dynamodb: dynamodbEndpoint() },
    runEventSources: false,
  });
  config = {
    region: 'us-east-1',
    endpoint: cloud.endpoints.dynamodb,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  };
}, 120_000);

afterAll(async () => {
  await cloud?.stop();
});

test('an item with empty maps (top level, nested, in a list) reads back from the stream as written', async () => {
  const { TableName, StreamArn } = cloud.outputs() as Record<string, string>;
  const db = new DynamoDBClient(config);
  const streams = new DynamoDBStreamsClient(config);
  try {
    await db.send(
      new PutItemCommand({
        TableName,
        Item: {
          pk: { S: 'empty' },
          context: { M: {} },
          nested: { M: { inner: { M: {} }, kept: { S: 'x' } } },
          list: { L: [{ M: {} }, { N: '1' }] },
        },
      }),
    );
    const { StreamDescription } = await streams.send(new DescribeStreamCommand({ StreamArn }));
    const { ShardIterator } = await streams.send(
      new GetShardIteratorCommand({
        StreamArn,
        ShardId: StreamDescription!.Shards![0]!.ShardId!,
        ShardIteratorType: 'TRIM_HORIZON',
      }),
    );
    const { Records = [] } = await streams.send(new GetRecordsCommand({ ShardIterator }));
    const image = Records.find((r) => r.dynamodb?.Keys?.pk?.S === 'empty')?.dynamodb?.NewImage;
    expect(image?.context).toEqual({ M: {} });
    expect(unmarshall(image as Parameters<typeof unmarshall>[0])).toEqual({
      pk: 'empty',
      context: {},
      nested: { inner: {}, kept: 'x' },
      list: [{}, 1],
    });
  } finally {
    db.destroy();
    streams.destroy();
  }
});

test('the repair leaves typed values and unparseable bodies alone', () => {
  const body = Buffer.from(
    JSON.stringify({ Records: [{ dynamodb: { NewImage: { a: { S: '' }, b: { M: { c: { L: [] } } } } } }] }),
  );
  expect(repairStreamRecords(body)).toBe(body);
  const garbage = Buffer.from('not json');
  expect(repairStreamRecords(garbage)).toBe(garbage);
});

test('review: empty lists, NULL, false, empty strings and binaries, sets and nested lists read back from the stream as written', async () => {
  const { TableName, StreamArn } = cloud.outputs() as Record<string, string>;
  const db = new DynamoDBClient(config);
  const streams = new DynamoDBStreamsClient(config);
  const item = {
    pk: { S: 'other-types' },
    emptyList: { L: [] },
    nothing: { NULL: true },
    no: { BOOL: false },
    blank: { S: '' },
    noBytes: { B: new Uint8Array() },
    names: { SS: ['a', 'b'] },
    numbers: { NS: ['1', '2'] },
    nestedLists: { L: [{ L: [] }, { L: [{ M: {} }, { L: [{ NULL: true }] }] }] },
    mapOfLists: { M: { empty: { L: [] }, maps: { L: [{ M: { deeper: { M: {} } } }] } } },
  };
  try {
    await db.send(new PutItemCommand({ TableName, Item: item }));
    const { StreamDescription } = await streams.send(new DescribeStreamCommand({ StreamArn }));
    const { ShardIterator } = await streams.send(
      new GetShardIteratorCommand({
        StreamArn,
        ShardId: StreamDescription!.Shards![0]!.ShardId!,
        ShardIteratorType: 'TRIM_HORIZON',
      }),
    );
    const { Records = [] } = await streams.send(new GetRecordsCommand({ ShardIterator }));
    const image = Records.find((r) => r.dynamodb?.Keys?.pk?.S === 'other-types')?.dynamodb?.NewImage;
    expect(unmarshall(image as Parameters<typeof unmarshall>[0])).toEqual(
      unmarshall(item as Parameters<typeof unmarshall>[0]),
    );
  } finally {
    db.destroy();
    streams.destroy();
  }
});
