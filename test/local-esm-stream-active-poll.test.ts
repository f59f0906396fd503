/**
 * The stream mapping's two polling cadences (issue 13): Lambda's 250 ms (here `pollIntervalMs`)
 * while a shard is idle, the faster `activePollIntervalMs` for ACTIVE_SHARD_MS after a record was
 * read. Counted as GetRecords requests reaching DynamoDB Local, with margins far from the limits.
 */
import { CreateTableCommand, DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { ACTIVE_SHARD_MS, StreamEventSource } from '../local/esm/dynamodb-stream-event-source';
import type { InvokeResult, Invoker } from '../local/runtime/function-host';
import { uniqueName } from './support/emulators';

const ddb = new DynamoDBClient({});
const streams = new DynamoDBStreamsClient({});
let getRecordsCalls = 0;
streams.middlewareStack.add(
  (next, context) => async (args) => {
    if (context.commandName === 'GetRecordsCommand') getRecordsCalls += 1;
    return next(args);
  },
  { step: 'initialize', name: 'countGetRecords' },
);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** GetRecords calls made during `ms`. */
async function callsDuring(ms: number): Promise<number> {
  const before = getRecordsCalls;
  await sleep(ms);
  return getRecordsCalls - before;
}

test('polls an active shard at activePollIntervalMs and an idle one at pollIntervalMs', async () => {
  const table = uniqueName('esm-active-poll');
  const { TableDescription } = await ddb.send(
    new CreateTableCommand({
      TableName: table,
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
      StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
    }),
  );
  const delivered: string[] = [];
  const invoker: Invoker = {
    name: 'active-poll-consumer',
    async invoke(event): Promise<InvokeResult> {
      for (const r of (event as { Records: { dynamodb: { Keys: { pk: { S: string } } } }[] }).Records)
        delivered.push(r.dynamodb.Keys.pk.S);
      return { ok: true, response: null, timedOut: false, durationMs: 1, requestId: 'r', logs: [] };
    },
  };
  const source = new StreamEventSource(
    {
      functionName: invoker.name,
      streamArn: TableDescription?.LatestStreamArn ?? '',
      startingPosition: 'TRIM_HORIZON',
      batchSize: 10,
      maximumBatchingWindowSeconds: 0,
      maximumRetryAttempts: -1,
      maximumRecordAgeSeconds: -1,
      bisectBatchOnFunctionError: false,
      reportBatchItemFailures: false,
      awsRegion: 'us-east-1',
      pollIntervalMs: 1000,
      activePollIntervalMs: 20,
    },
    invoker,
    { streams, sqs: new SQSClient({}), sns: new SNSClient({}) },
  );
  source.start();
  try {
    await source.ready();
    // Idle: at most one poll a second (two in 1.5 s, whatever the phase).
    expect(await callsDuring(1500)).toBeLessThanOrEqual(2);

    await ddb.send(new PutItemCommand({ TableName: table, Item: { pk: { S: 'first' } } }));
    while (!delivered.includes('first')) await sleep(10);
    // Active: a poll every 20 ms plus the request's own time; even a busy machine makes 5 in a second.
    expect(await callsDuring(1000)).toBeGreaterThanOrEqual(5);

    // The shard goes idle again ACTIVE_SHARD_MS after its last record.
    await sleep(ACTIVE_SHARD_MS);
    expect(await callsDuring(1500)).toBeLessThanOrEqual(2);
  } finally {
    await source.stop();
  }
});
