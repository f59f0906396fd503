/**
 * Issues 9 and 14 on the DynamoDB stream mapping, against DynamoDB Local: several streamed tables
 * (iterators renewed from the checkpoint after TrimmedDataAccessException), event source errors
 * kept for the report, and the 6 MB invoke payload.
 */
import { CreateTableCommand, DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient, TrimmedDataAccessException } from '@aws-sdk/client-dynamodb-streams';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { StreamEventSource, type StreamMappingConfig } from '../local/esm/dynamodb-stream-event-source';
import { MAX_INVOKE_PAYLOAD_BYTES } from '../local/esm/payload';
import type { DynamoDbEventRecord } from '../local/esm/stream-record';
import type { InvokeResult, Invoker } from '../local/runtime/function-host';
import { snsSqsEndpoint, uniqueName } from './support/emulators';

const ddb = new DynamoDBClient({});
const streams = new DynamoDBStreamsClient({});
const sqs = new SQSClient({ useQueueUrlAsEndpoint: false });
const sns = new SNSClient({});
const s3 = new S3Client({ endpoint: snsSqsEndpoint(), forcePathStyle: true });
const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
});

async function createTable(base: string): Promise<{ name: string; streamArn: string }> {
  const name = uniqueName(base);
  const { TableDescription } = await ddb.send(
    new CreateTableCommand({
      TableName: name,
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
      StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_IMAGE' },
    }),
  );
  return { name, streamArn: TableDescription?.LatestStreamArn ?? '' };
}

const put = (table: string, pk: string, data = '') =>
  ddb.send(
    new PutItemCommand({ TableName: table, Item: { pk: { S: pk }, ...(data ? { data: { S: data } } : {}) } }),
  );

async function waitFor(probe: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A mapping whose function collects the keys (and event sizes) it is invoked with. */
async function collecting(
  streamArn: string,
  mapping: Partial<StreamMappingConfig> = {},
  awaitReady = true,
  fail = false,
  streamsClient: DynamoDBStreamsClient = streams,
): Promise<{ source: StreamEventSource; keys: string[]; sizes: number[] }> {
  const keys: string[] = [];
  const sizes: number[] = [];
  const invoker: Invoker = {
    name: 'collector',
    invoke: async (event): Promise<InvokeResult> => {
      const records = (event as { Records: DynamoDbEventRecord[] }).Records;
      sizes.push(Buffer.byteLength(JSON.stringify(event)));
      keys.push(...records.map((r) => String(r.dynamodb.Keys.pk?.S)));
      if (fail) {
        return {
          ok: false,
          timedOut: false,
          durationMs: 0,
          requestId: 'r',
          logs: [],
          error: { errorType: 'Error', errorMessage: 'boom' },
        };
      }
      return { ok: true, timedOut: false, durationMs: 0, requestId: 'r', logs: [] };
    },
  };
  const source = new StreamEventSource(
    {
      functionName: 'collector',
      streamArn,
      startingPosition: 'TRIM_HORIZON',
      batchSize: 100,
      maximumBatchingWindowSeconds: 0,
      maximumRetryAttempts: -1,
      maximumRecordAgeSeconds: -1,
      bisectBatchOnFunctionError: false,
      reportBatchItemFailures: false,
      awsRegion: 'us-east-1',
      pollIntervalMs: 100,
      ...mapping,
    },
    invoker,
    { streams: streamsClient, sqs, sns, s3 },
  );
  stops.push(() => source.stop());
  source.start();
  if (awaitReady) await source.ready();
  return { source, keys, sizes };
}

describe('several stream-backed tables', () => {
  test('a mapping whose stream was empty keeps reading after another table is written (TrimmedDataAccessException)', async () => {
    // GIVEN two streamed tables, each with a mapping that starts while its stream is empty
    const first = await createTable('outbox-a');
    const second = await createTable('outbox-b');
    const a = await collecting(first.streamArn);
    const b = await collecting(second.streamArn);
    await new Promise((r) => setTimeout(r, 300));
    // WHEN the second table is written first, then both
    for (let i = 0; i < 5; i += 1) await put(second.name, `b${i}`);
    for (let i = 0; i < 5; i += 1) {
      await put(first.name, `a${i}`);
      await put(second.name, `b${i + 5}`);
    }
    // THEN each mapping delivers every record of its own table, in order
    await waitFor(() => a.keys.length >= 5 && b.keys.length >= 10, 'both tables delivered');
    expect(a.keys).toEqual(['a0', 'a1', 'a2', 'a3', 'a4']);
    expect(b.keys).toEqual(Array.from({ length: 10 }, (_, i) => `b${i}`));
    // AND a renewal DynamoDB Local forces (whether it does depends on when the mapping polled
    // relative to the writes; the next test forces one) is not reported as an error
    expect(a.source.stats().errors).toBe(0);
  });

  test('a TrimmedDataAccessException renews the iterator from the checkpoint: nothing lost, nothing twice', async () => {
    // GIVEN a mapping whose GetRecords fails once, after some records were delivered, with the
    // real exception class (thrown below the SDK's retry layer, which does not retry it)
    const { name, streamArn } = await createTable('outbox-trim');
    const failing = new DynamoDBStreamsClient({});
    let armed = false;
    failing.middlewareStack.add(
      (next, context) => async (args) => {
        if (armed && context.commandName === 'GetRecordsCommand') {
          armed = false;
          throw new TrimmedDataAccessException({ message: 'injected: iterator trimmed', $metadata: {} });
        }
        return next(args);
      },
      { step: 'deserialize', name: 'injectTrimmed' },
    );
    stops.push(async () => failing.destroy());
    const mapping = await collecting(streamArn, {}, true, false, failing);
    for (let i = 0; i < 3; i += 1) await put(name, `k${i}`);
    await waitFor(() => mapping.keys.length >= 3, 'the first records');
    // WHEN the next read fails as trimmed, and more records follow. (DynamoDB Local may itself have
    // trimmed the iterator the mapping took on the empty stream, once, before k0-k2 could arrive:
    // only the renewals from here on are the injected one's.)
    const renewalsBefore = mapping.source.stats().iteratorRenewals;
    armed = true;
    for (let i = 3; i < 6; i += 1) await put(name, `k${i}`);
    // THEN every record arrives once, in order, and the renewal is counted, not reported as an error
    await waitFor(() => mapping.keys.length >= 6, 'every record');
    await new Promise((r) => setTimeout(r, 300));
    expect(armed).toBe(false);
    expect(mapping.keys).toEqual(['k0', 'k1', 'k2', 'k3', 'k4', 'k5']);
    expect(mapping.source.stats().iteratorRenewals - renewalsBefore).toBe(1);
    expect(mapping.source.stats().errors).toBe(0);
  });
});

describe('event source errors', () => {
  test('a failing stream call is kept for the report, with how often it happened', async () => {
    // Its iterators are never taken, so ready() is not awaited.
    const { source } = await collecting(
      'arn:aws:dynamodb:us-east-1:000000000000:table/missing/stream/2024-01-01T00:00:00.000',
      {},
      false,
    );
    await waitFor(() => source.stats().errors > 0, 'an event source error');
    expect(source.errors()[0]).toMatch(
      /^\d+ x DescribeStream failed: .*(not found|ResourceNotFound|Requested resource)/i,
    );
  });
});

describe('6 MB invoke payload on streams', () => {
  test('a batch stops before its event passes 6 MB; every record is still delivered, in order', async () => {
    const table = await createTable('payload');
    const data = 'y'.repeat(350 * 1024);
    for (let i = 0; i < 20; i += 1) await put(table.name, `k${String(i).padStart(2, '0')}`, data);
    const { source, keys, sizes } = await collecting(table.streamArn);
    await waitFor(() => keys.length >= 20, '20 records', 30_000);
    expect(keys).toEqual(Array.from({ length: 20 }, (_, i) => `k${String(i).padStart(2, '0')}`));
    expect(Math.max(...sizes)).toBeLessThanOrEqual(MAX_INVOKE_PAYLOAD_BYTES);
    expect(sizes.length).toBeGreaterThan(1);
    expect(source.stats().payloadCutoffs).toBeGreaterThan(0);
  });
});

describe('S3 OnFailure destination', () => {
  test('a discarded batch is written to the bucket with the invocation record and the records', async () => {
    const bucket = uniqueName('failed-batches');
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const table = await createTable('s3-onfailure');
    const { source } = await collecting(
      table.streamArn,
      {
        maximumRetryAttempts: 0,
        mappingUuid: 'mapping-uuid-1',
        onFailure: { destinationArn: `arn:aws:s3:::${bucket}`, bucket },
      },
      true,
      true,
    );
    await put(table.name, 'doomed');
    await waitFor(() => source.stats().onFailureRecordsSent === 1, 'the failure record');
    const { Contents = [] } = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
    expect(Contents).toHaveLength(1);
    const key = Contents[0]?.Key ?? '';
    expect(key).toMatch(
      /^aws\/lambda\/mapping-uuid-1\/[^/]+\/\d{4}\/\d{2}\/\d{2}\/\d{4}-\d{2}-\d{2}T\d{2}\.\d{2}\.\d{2}-[0-9a-f-]{36}$/,
    );
    const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    const body = JSON.parse((await object.Body?.transformToString()) ?? '{}');
    expect(body.requestContext).toMatchObject({
      condition: 'RetryAttemptsExhausted',
      approximateInvokeCount: 1,
    });
    expect(body.DDBStreamBatchInfo).toMatchObject({ batchSize: 1, streamArn: table.streamArn });
    expect(body.payload.Records.map((r: DynamoDbEventRecord) => r.dynamodb.Keys.pk?.S)).toEqual(['doomed']);
  });
});
