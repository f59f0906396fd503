/** The local DynamoDB Streams event source mapping, rule by rule, against DynamoDB Local. */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateTableCommand,
  DeleteItemCommand,
  DynamoDBClient,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import {
  type _Record,
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
} from '@aws-sdk/client-dynamodb-streams';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { StreamEventSource, type StreamMappingConfig } from '../local/esm/dynamodb-stream-event-source';
import { FilterPatternError, MappingConfigError } from '../local/esm/errors';
import type { StreamInvocationRecord } from '../local/esm/on-failure';
import type { DynamoDbEventRecord } from '../local/esm/stream-record';
import { FunctionHost } from '../local/runtime/function-host';
import { uniqueName } from './support/emulators';

const ddb = new DynamoDBClient({});
const streams = new DynamoDBStreamsClient({});
// Always the configured endpoint (AWS_ENDPOINT_URL_SQS), whatever host an emulator's queue URL names.
const sqs = new SQSClient({ useQueueUrlAsEndpoint: false });
const sns = new SNSClient({});
const FIXTURES = join(__dirname, 'fixtures', 'functions');
const REGION = 'us-east-1';
const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface Invocation {
  start: number;
  failNow: boolean;
  event: { Records: DynamoDbEventRecord[] };
}

async function createTable(): Promise<{ name: string; streamArn: string }> {
  const name = uniqueName('esm-stream');
  const { TableDescription } = await ddb.send(
    new CreateTableCommand({
      TableName: name,
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
      StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
    }),
  );
  return { name, streamArn: TableDescription?.LatestStreamArn ?? '' };
}

const put = (table: string, pk: string, extra: Record<string, { S: string } | { N: string }> = {}) =>
  ddb.send(new PutItemCommand({ TableName: table, Item: { pk: { S: pk }, ...extra } }));

async function createQueue(): Promise<{ url: string; arn: string }> {
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: uniqueName('esm-onfailure') }));
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }),
  );
  return { url: QueueUrl ?? '', arn: Attributes?.QueueArn ?? '' };
}

/** A recorder.js function and a started stream mapping; resolves once iterators are taken. */
async function startMapping(
  streamArn: string,
  mapping: Partial<StreamMappingConfig> = {},
  env: Record<string, string> = {},
): Promise<{ source: StreamEventSource; invocations: () => Invocation[] }> {
  const file = join(mkdtempSync(join(tmpdir(), 'esm-stream-')), 'invocations.jsonl');
  const host = new FunctionHost({
    name: uniqueName('stream-consumer'),
    logicalId: 'StreamConsumer',
    codeDir: FIXTURES,
    handler: 'recorder.handler',
    environment: { RECORD_FILE: file, ...env },
    timeoutSeconds: 10,
  });
  const source = new StreamEventSource(
    {
      functionName: host.name,
      streamArn,
      startingPosition: 'TRIM_HORIZON',
      batchSize: 10,
      maximumBatchingWindowSeconds: 0,
      maximumRetryAttempts: -1,
      maximumRecordAgeSeconds: -1,
      bisectBatchOnFunctionError: false,
      reportBatchItemFailures: false,
      awsRegion: REGION,
      pollIntervalMs: 100,
      ...mapping,
    },
    host,
    { streams, sqs, sns },
    { log: (line) => process.env.ESM_DEBUG && console.log(line) },
  );
  cleanups.push(async () => {
    await source.stop();
    await host.stop();
  });
  source.start();
  await source.ready();
  const invocations = () =>
    existsSync(file)
      ? readFileSync(file, 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((line) => JSON.parse(line) as Invocation)
      : [];
  return { source, invocations };
}

async function waitFor<T>(
  probe: () => Promise<T | undefined> | T | undefined,
  what: string,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function receiveOne(queueUrl: string): Promise<string> {
  return waitFor(async () => {
    const { Messages } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: 1 }),
    );
    return Messages?.[0]?.Body;
  }, `a message on ${queueUrl}`);
}

const pkOf = (r: DynamoDbEventRecord) => (r.dynamodb.Keys.pk as { S: string }).S;
const delivered = (invocations: Invocation[]) => invocations.flatMap((i) => i.event.Records.map(pkOf));
const succeeded = (invocations: Invocation[]) =>
  invocations.filter((i) => !i.failNow).flatMap((i) => i.event.Records.map(pkOf));

describe('StreamEventSource', () => {
  test("TRIM_HORIZON delivers every change in order, in Lambda's DynamoDB event shape", async () => {
    // GIVEN an insert, a modify and a remove made before the mapping starts
    const { name, streamArn } = await createTable();
    await put(name, 'a', { v: { N: '1' } });
    await ddb.send(
      new UpdateItemCommand({
        TableName: name,
        Key: { pk: { S: 'a' } },
        UpdateExpression: 'SET v = :v',
        ExpressionAttributeValues: { ':v': { N: '2' } },
      }),
    );
    await ddb.send(new DeleteItemCommand({ TableName: name, Key: { pk: { S: 'a' } } }));
    // WHEN the mapping reads from the trim horizon
    const { invocations } = await startMapping(streamArn);
    await waitFor(() => (delivered(invocations()).length >= 3 ? true : undefined), 'three records');
    // THEN the records arrive in order, shaped like Lambda's
    const records = invocations().flatMap((i) => i.event.Records);
    expect(records.map((r) => r.eventName)).toEqual(['INSERT', 'MODIFY', 'REMOVE']);
    const [insert, modify, remove] = records as [
      DynamoDbEventRecord,
      DynamoDbEventRecord,
      DynamoDbEventRecord,
    ];
    expect(Object.keys(modify)).toEqual([
      'eventID',
      'eventName',
      'eventVersion',
      'eventSource',
      'awsRegion',
      'dynamodb',
      'eventSourceARN',
    ]);
    expect(modify).toMatchObject({
      eventVersion: '1.1',
      eventSource: 'aws:dynamodb',
      awsRegion: REGION,
      eventSourceARN: streamArn,
    });
    expect(Object.keys(modify.dynamodb)).toEqual([
      'ApproximateCreationDateTime',
      'Keys',
      'NewImage',
      'OldImage',
      'SequenceNumber',
      'SizeBytes',
      'StreamViewType',
    ]);
    expect(modify.dynamodb).toMatchObject({
      Keys: { pk: { S: 'a' } },
      NewImage: { pk: { S: 'a' }, v: { N: '2' } },
      OldImage: { pk: { S: 'a' }, v: { N: '1' } },
      StreamViewType: 'NEW_AND_OLD_IMAGES',
    });
    // Seconds since the epoch, like Lambda's event, not milliseconds or an ISO string.
    expect(Number.isInteger(modify.dynamodb.ApproximateCreationDateTime)).toBe(true);
    expect(Math.abs(modify.dynamodb.ApproximateCreationDateTime - Date.now() / 1000)).toBeLessThan(600);
    expect(insert.dynamodb.OldImage).toBeUndefined();
    expect(remove.dynamodb.NewImage).toBeUndefined();
    const sequences = records.map((r) => BigInt(r.dynamodb.SequenceNumber));
    expect(sequences[0]! < sequences[1]! && sequences[1]! < sequences[2]!).toBe(true);
  });

  test('LATEST skips what was written before the mapping started', async () => {
    const { name, streamArn } = await createTable();
    await put(name, 'before');
    const { invocations } = await startMapping(streamArn, { startingPosition: 'LATEST' });
    await put(name, 'after');
    await waitFor(() => (invocations().length > 0 ? true : undefined), 'an invocation');
    await new Promise((r) => setTimeout(r, 300));
    expect(delivered(invocations())).toEqual(['after']);
  });

  test('batches up to batchSize records, keeping their order', async () => {
    const { name, streamArn } = await createTable();
    for (const pk of ['k1', 'k2', 'k3', 'k4', 'k5']) await put(name, pk);
    const { invocations } = await startMapping(streamArn, { batchSize: 2 });
    await waitFor(() => (delivered(invocations()).length >= 5 ? true : undefined), 'five records');
    expect(invocations().map((i) => i.event.Records.length)).toEqual([2, 2, 1]);
    expect(delivered(invocations())).toEqual(['k1', 'k2', 'k3', 'k4', 'k5']);
  });

  test('waits up to the batching window to fill a batch', async () => {
    const { name, streamArn } = await createTable();
    const { invocations } = await startMapping(streamArn, { batchSize: 10, maximumBatchingWindowSeconds: 2 });
    await put(name, 'first');
    await new Promise((r) => setTimeout(r, 400));
    await put(name, 'second');
    await waitFor(() => (invocations().length > 0 ? true : undefined), 'an invocation');
    expect(invocations()[0]?.event.Records.map(pkOf)).toEqual(['first', 'second']);
  });

  test('retries a failed batch MaximumRetryAttempts times, then sends the OnFailure record to SQS and moves on', async () => {
    // GIVEN a batch with a poison record, 2 retries and an SQS OnFailure destination
    const { name, streamArn } = await createTable();
    const destination = await createQueue();
    for (const pk of ['ok-1', 'FAIL', 'ok-2']) await put(name, pk);
    const { invocations, source } = await startMapping(
      streamArn,
      { maximumRetryAttempts: 2, onFailure: { destinationArn: destination.arn } },
      { FAIL_MODE: 'throw' },
    );
    // THEN the destination receives Lambda's invocation record for the whole batch
    const record = JSON.parse(await receiveOne(destination.url)) as StreamInvocationRecord;
    expect(Object.keys(record)).toEqual([
      'requestContext',
      'responseContext',
      'version',
      'timestamp',
      'DDBStreamBatchInfo',
    ]);
    expect(record.requestContext).toMatchObject({
      condition: 'RetryAttemptsExhausted',
      approximateInvokeCount: 3,
      functionArn: expect.stringMatching(/^arn:aws:lambda:us-east-1:\d{12}:function:stream-consumer-/),
    });
    expect(record.responseContext).toEqual({
      statusCode: 200,
      executedVersion: '$LATEST',
      functionError: 'Unhandled',
    });
    expect(record.version).toBe('1.0');
    const batch = invocations()[0]?.event.Records ?? [];
    expect(record.DDBStreamBatchInfo).toMatchObject({
      shardId: expect.stringMatching(/^shardId-/),
      startSequenceNumber: batch[0]?.dynamodb.SequenceNumber,
      endSequenceNumber: batch[2]?.dynamodb.SequenceNumber,
      approximateArrivalOfFirstRecord: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
      approximateArrivalOfLastRecord: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
      batchSize: 3,
      streamArn,
    });
    // 1 attempt + 2 retries, each with the same batch
    expect(invocations().map((i) => i.event.Records.map(pkOf))).toEqual([
      ['ok-1', 'FAIL', 'ok-2'],
      ['ok-1', 'FAIL', 'ok-2'],
      ['ok-1', 'FAIL', 'ok-2'],
    ]);
    // AND the shard moves past the discarded batch
    await put(name, 'later');
    await waitFor(() => (delivered(invocations()).includes('later') ? true : undefined), 'the next record');
    expect(source.stats()).toMatchObject({ recordsDiscarded: 3, onFailureRecordsSent: 1 });
  });

  test('BisectBatchOnFunctionError isolates the bad record without consuming retries; OnFailure to SNS', async () => {
    // GIVEN an SNS topic destination (observed through a raw-delivery queue) and no retries at all
    const { name, streamArn } = await createTable();
    const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: uniqueName('esm-onfailure-topic') }));
    const observer = await createQueue();
    await sns.send(
      new SubscribeCommand({
        TopicArn,
        Protocol: 'sqs',
        Endpoint: observer.arn,
        Attributes: { RawMessageDelivery: 'true' },
      }),
    );
    for (const pk of ['a', 'b', 'c', 'FAIL']) await put(name, pk);
    const { invocations, source } = await startMapping(
      streamArn,
      {
        maximumRetryAttempts: 0,
        bisectBatchOnFunctionError: true,
        onFailure: { destinationArn: TopicArn ?? '' },
      },
      { FAIL_MODE: 'throw' },
    );
    const record = JSON.parse(await receiveOne(observer.url)) as StreamInvocationRecord;
    // THEN only the poison record was discarded; the halves were tried although retries are 0
    expect(record.DDBStreamBatchInfo.batchSize).toBe(1);
    const failSequence = invocations()
      .flatMap((i) => i.event.Records)
      .find((r) => pkOf(r) === 'FAIL')?.dynamodb.SequenceNumber;
    expect(record.DDBStreamBatchInfo.startSequenceNumber).toBe(failSequence);
    expect(record.requestContext.condition).toBe('RetryAttemptsExhausted');
    expect(invocations().map((i) => i.event.Records.map(pkOf))).toEqual([
      ['a', 'b', 'c', 'FAIL'],
      ['a', 'b'],
      ['c', 'FAIL'],
      ['c'],
      ['FAIL'],
    ]);
    expect(succeeded(invocations())).toEqual(['a', 'b', 'c']);
    expect(source.stats()).toMatchObject({ bisections: 2, recordsDiscarded: 1 });
  });

  test('ReportBatchItemFailures checkpoints at the lowest failed sequence number', async () => {
    const { name, streamArn } = await createTable();
    for (const pk of ['a', 'FAIL-b', 'c', 'FAIL-d']) await put(name, pk);
    const { invocations } = await startMapping(
      streamArn,
      { reportBatchItemFailures: true },
      { FAIL_MODE: 'report', FAIL_TIMES: '1' },
    );
    await waitFor(() => (invocations().length >= 2 ? true : undefined), 'the retry');
    await new Promise((r) => setTimeout(r, 300));
    // The retry starts at the first failed record: 'a' is not sent again, 'c' is (it follows the checkpoint).
    expect(invocations().map((i) => i.event.Records.map(pkOf))).toEqual([
      ['a', 'FAIL-b', 'c', 'FAIL-d'],
      ['FAIL-b', 'c', 'FAIL-d'],
    ]);
  });

  test('ReportBatchItemFailures with an empty itemIdentifier fails the whole batch', async () => {
    const { name, streamArn } = await createTable();
    for (const pk of ['a', 'EMPTY_ID']) await put(name, pk);
    const destination = await createQueue();
    const { invocations } = await startMapping(
      streamArn,
      {
        reportBatchItemFailures: true,
        maximumRetryAttempts: 1,
        onFailure: { destinationArn: destination.arn },
      },
      { FAIL_MODE: 'report' },
    );
    const record = JSON.parse(await receiveOne(destination.url)) as StreamInvocationRecord;
    expect(record.DDBStreamBatchInfo.batchSize).toBe(2);
    // The function did not error, so there is no functionError.
    expect(record.responseContext).toEqual({ statusCode: 200, executedVersion: '$LATEST' });
    expect(invocations().map((i) => i.event.Records.map(pkOf))).toEqual([
      ['a', 'EMPTY_ID'],
      ['a', 'EMPTY_ID'],
    ]);
  });

  test('MaximumRecordAgeInSeconds discards records that are too old with RecordAgeExceeded', async () => {
    const { name, streamArn } = await createTable();
    const destination = await createQueue();
    await put(name, 'FAIL');
    await startMapping(
      streamArn,
      {
        maximumRetryAttempts: -1,
        maximumRecordAgeSeconds: 1,
        onFailure: { destinationArn: destination.arn },
      },
      { FAIL_MODE: 'throw' },
    );
    const record = JSON.parse(await receiveOne(destination.url)) as StreamInvocationRecord;
    expect(record.requestContext.condition).toBe('RecordAgeExceeded');
    expect(record.requestContext.approximateInvokeCount).toBeGreaterThanOrEqual(1);
  });

  test('filter criteria: only matching records are sent, the others are skipped', async () => {
    const { name, streamArn } = await createTable();
    const { invocations, source } = await startMapping(streamArn, {
      filterPatterns: [
        '{"eventName":["INSERT"],"dynamodb":{"NewImage":{"status":{"S":[{"prefix":"open"}]}}}}',
      ],
    });
    await put(name, 'p1', { status: { S: 'open-new' } });
    await put(name, 'p2', { status: { S: 'closed' } });
    await put(name, 'p1', { status: { S: 'open-again' } }); // MODIFY: filtered out
    await put(name, 'p3', { status: { S: 'open' } });
    await waitFor(() => (delivered(invocations()).includes('p3') ? true : undefined), 'p3');
    expect(delivered(invocations())).toEqual(['p1', 'p3']);
    expect(source.stats().recordsFiltered).toBe(2);
  });

  test('fails with a clear error for an unsupported filter operator or a bad configuration', () => {
    const invoker = {
      name: 'f',
      invoke: async () => ({ ok: true, timedOut: false, durationMs: 0, requestId: 'r', logs: [] }),
    };
    const base: StreamMappingConfig = {
      functionName: 'f',
      streamArn: 'arn:aws:dynamodb:us-east-1:000000000000:table/t/stream/2026-01-01T00:00:00.000',
      startingPosition: 'TRIM_HORIZON',
      batchSize: 10,
      maximumBatchingWindowSeconds: 0,
      maximumRetryAttempts: -1,
      maximumRecordAgeSeconds: -1,
      bisectBatchOnFunctionError: false,
      reportBatchItemFailures: false,
      awsRegion: 'us-east-1',
    };
    const clients = { streams, sqs, sns };
    expect(
      () =>
        new StreamEventSource(
          { ...base, filterPatterns: ['{"eventName":[{"wildcard":"IN*"}]}'] },
          invoker,
          clients,
        ),
    ).toThrow(FilterPatternError);
    expect(
      () => new StreamEventSource({ ...base, filterPatterns: ['{"eventName":"INSERT"}'] }, invoker, clients),
    ).toThrow(/must be lists/);
    expect(() => new StreamEventSource({ ...base, maximumRetryAttempts: -2 }, invoker, clients)).toThrow(
      MappingConfigError,
    );
    expect(
      () => new StreamEventSource({ ...base, streamArn: 'arn:aws:sqs:us-east-1:0:q' }, invoker, clients),
    ).toThrow(/not a DynamoDB stream ARN/);
    expect(
      () =>
        new StreamEventSource(
          { ...base, onFailure: { destinationArn: 'arn:aws:lambda:us-east-1:0:function:f' } },
          invoker,
          clients,
        ),
    ).toThrow(/neither an SQS queue, an SNS topic nor an S3 bucket ARN/);
    // An S3 bucket is a valid destination (AWS accepts it), but it needs an S3 client to write to.
    expect(
      () =>
        new StreamEventSource(
          { ...base, onFailure: { destinationArn: 'arn:aws:s3:::bucket' } },
          invoker,
          clients,
        ),
    ).toThrow(/is an S3 bucket, but no S3 client was given/);
  });

  test('reads a parent shard to its end before its child', async () => {
    // DynamoDB Local never splits a shard, so this one rule runs on a scripted stream: a closed
    // parent with two records and its open child with one, listed child first.
    const streamArn = 'arn:aws:dynamodb:us-east-1:000000000000:table/lineage/stream/2026-01-01T00:00:00.000';
    const raw = (pk: string, sequence: string): _Record => ({
      eventID: pk,
      eventName: 'INSERT',
      eventVersion: '1.1',
      eventSource: 'aws:dynamodb',
      dynamodb: {
        ApproximateCreationDateTime: new Date(),
        Keys: { pk: { S: pk } },
        SequenceNumber: sequence,
        SizeBytes: 8,
        StreamViewType: 'KEYS_ONLY',
      },
    });
    const shards: Record<string, { records: _Record[]; closed: boolean }> = {
      parent: { records: [raw('p1', '100'), raw('p2', '200')], closed: true },
      child: { records: [raw('c1', '300')], closed: false },
    };
    const calls: string[] = [];
    const scripted = {
      send: async (command: unknown) => {
        if (command instanceof DescribeStreamCommand) {
          return {
            StreamDescription: {
              Shards: [
                {
                  ShardId: 'child',
                  ParentShardId: 'parent',
                  SequenceNumberRange: { StartingSequenceNumber: '300' },
                },
                {
                  ShardId: 'parent',
                  SequenceNumberRange: { StartingSequenceNumber: '100', EndingSequenceNumber: '200' },
                },
              ],
            },
          };
        }
        if (command instanceof GetShardIteratorCommand) {
          calls.push(`iterator ${command.input.ShardId}`);
          return { ShardIterator: `${command.input.ShardId}|0` };
        }
        if (command instanceof GetRecordsCommand) {
          const [id, index] = (command.input.ShardIterator ?? '').split('|') as [string, string];
          const shard = shards[id] as { records: _Record[]; closed: boolean };
          const i = Number(index);
          // One record per call, so the parent takes several reads.
          const records = shard.records.slice(i, i + 1);
          const next = i + records.length;
          const done = shard.closed && next >= shard.records.length;
          return { Records: records, NextShardIterator: done ? undefined : `${id}|${next}` };
        }
        throw new Error(`unexpected command ${String(command)}`);
      },
    } as unknown as DynamoDBStreamsClient;
    const seen: string[] = [];
    const invoker = {
      name: 'lineage',
      invoke: async (event: unknown) => {
        for (const r of (event as { Records: DynamoDbEventRecord[] }).Records) {
          seen.push(pkOf(r));
          calls.push(`invoke ${pkOf(r)}`);
        }
        return { ok: true, timedOut: false, durationMs: 0, requestId: 'r', logs: [] };
      },
    };
    const source = new StreamEventSource(
      {
        functionName: 'lineage',
        streamArn,
        startingPosition: 'TRIM_HORIZON',
        batchSize: 10,
        maximumBatchingWindowSeconds: 0,
        maximumRetryAttempts: -1,
        maximumRecordAgeSeconds: -1,
        bisectBatchOnFunctionError: false,
        reportBatchItemFailures: false,
        awsRegion: REGION,
        pollIntervalMs: 20,
      },
      invoker,
      { streams: scripted, sqs, sns },
    );
    cleanups.push(() => source.stop());
    source.start();
    await waitFor(() => (seen.length >= 3 ? true : undefined), 'three records');
    expect(seen).toEqual(['p1', 'p2', 'c1']);
    // The child's iterator was only taken after the parent's last record was handled.
    expect(calls.indexOf('iterator child')).toBeGreaterThan(calls.indexOf('invoke p2'));
  });
});
