/**
 * Runs in a child process of test/local-gateway-in-process.test.ts: the in-process hops need the
 * fauxqs app in the same process as the gateway, and fauxqs (ES modules only) cannot be imported
 * inside jest's VM. Prints one JSON object: what each scenario observed, for the test to assert.
 */
import { CreateTableCommand, DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  QueueDoesNotExist,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { startDynamoDbLocal } from '../../local/dynamodb-local';
import { StrictLayer } from '../../local/iam/strict-layer';
import { startSnsSqs } from '../../local/sns-sqs';

const region = 'us-east-1';
const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
let counter = 0;
const unique = (base: string) => {
  counter += 1;
  return `${base}-${process.pid}-${Date.now().toString(36)}-${counter}`;
};

export const PATHS = [
  'in-process client, in-process fauxqs',
  'HTTP client, in-process fauxqs',
  'HTTP client, HTTP fauxqs',
] as const;
export type Path = (typeof PATHS)[number];

export interface PathObservations {
  /** Does the queue URL name the gateway (host:port) rather than the emulator? */
  queueUrlNamesGateway: boolean;
  received: [string | undefined, string | undefined][];
  missingQueueError: { isQueueDoesNotExist: boolean; fault: string | undefined };
  /** Per round: the abort's outcome, then `body#receiveCount` of the next receive. */
  abandonedPolls: { aborted: string; nextReceive: string[] }[];
}

export interface Observations {
  paths: Record<string, PathObservations>;
  s3RoundTrip: { length: number; equal: boolean };
  dynamodbItem: unknown;
  preAborted: { outcome: string; messagesSent: number };
}

async function main(): Promise<void> {
  const [emulator, dynamodbLocal] = await Promise.all([startSnsSqs({ region }), startDynamoDbLocal()]);
  const common = { region, accountId: '000000000000', localSsm: true, enforceIam: true };
  const upstream = { snsSqs: emulator.endpoint, dynamodb: dynamodbLocal.endpoint };
  const inProcessLayer = await StrictLayer.start({
    ...common,
    upstream,
    snsSqsInProcess: emulator.inProcess,
  });
  const httpLayer = await StrictLayer.start({ ...common, upstream });
  const layerOf = (path: Path) => (path === 'HTTP client, HTTP fauxqs' ? httpLayer : inProcessLayer);
  const sqsOn = (path: Path) =>
    new SQSClient({
      region,
      credentials,
      endpoint: layerOf(path).endpoints.snsSqs,
      ...(path === 'in-process client, in-process fauxqs'
        ? { requestHandler: layerOf(path).requestHandler() }
        : {}),
    });
  const createQueue = async (sqs: SQSClient, base: string) =>
    (
      await sqs.send(
        new CreateQueueCommand({ QueueName: unique(base), Attributes: { VisibilityTimeout: '30' } }),
      )
    ).QueueUrl ?? '';
  try {
    const observations: Observations = {
      paths: {},
      s3RoundTrip: { length: 0, equal: false },
      dynamodbItem: undefined,
      preAborted: { outcome: '', messagesSent: -1 },
    };
    for (const path of PATHS) {
      const sqs = sqsOn(path);
      const queueUrl = await createQueue(sqs, 'inproc-roundtrip');
      await sqs.send(
        new SendMessageCommand({
          QueueUrl: queueUrl,
          MessageBody: '{"orderId":"o-1","note":"ünïcødé ✓"}',
          MessageAttributes: { type: { DataType: 'String', StringValue: 'OrderPlaced' } },
        }),
      );
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: 1, MessageAttributeNames: ['All'] }),
      );
      const missing = queueUrl.replace(/[^/]+$/, unique('inproc-missing'));
      const error = await sqs
        .send(new SendMessageCommand({ QueueUrl: missing, MessageBody: 'x' }))
        .catch((e: unknown) => e);
      const abandonedPolls: PathObservations['abandonedPolls'] = [];
      const pollQueue = await createQueue(sqs, 'inproc-abandoned');
      // Several rounds: the abort and the send race each other to the emulator.
      for (let round = 0; round < 3; round += 1) {
        const abort = new AbortController();
        const poll = sqs
          .send(new ReceiveMessageCommand({ QueueUrl: pollQueue, WaitTimeSeconds: 20 }), {
            abortSignal: abort.signal,
          })
          .then(
            () => 'answered',
            (e: Error) => e.name,
          );
        await new Promise((resolve) => setTimeout(resolve, 200));
        abort.abort();
        const aborted = await poll;
        await sqs.send(new SendMessageCommand({ QueueUrl: pollQueue, MessageBody: `after-abort-${round}` }));
        const next = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: pollQueue,
            WaitTimeSeconds: 2,
            MessageSystemAttributeNames: ['ApproximateReceiveCount'],
          }),
        );
        const nextReceive = (next.Messages ?? []).map(
          (m) => `${m.Body}#${m.Attributes?.ApproximateReceiveCount}`,
        );
        abandonedPolls.push({ aborted, nextReceive });
        for (const m of next.Messages ?? [])
          await sqs.send(new DeleteMessageCommand({ QueueUrl: pollQueue, ReceiptHandle: m.ReceiptHandle }));
      }
      observations.paths[path] = {
        queueUrlNamesGateway: new URL(queueUrl).host === new URL(layerOf(path).endpoints.snsSqs).host,
        received: Messages.map((m) => [m.Body, m.MessageAttributes?.type?.StringValue]),
        missingQueueError: {
          isQueueDoesNotExist: error instanceof QueueDoesNotExist,
          fault: (error as { $fault?: string }).$fault,
        },
        abandonedPolls,
      };
      sqs.destroy();
    }

    const requestHandler = inProcessLayer.requestHandler();
    const s3 = new S3Client({
      region,
      credentials,
      endpoint: inProcessLayer.endpoints.snsSqs,
      forcePathStyle: true,
      requestHandler,
    });
    const bucket = unique('inproc-bucket').toLowerCase();
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const payload = 'x'.repeat(300_000);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'orders/big one.json', Body: payload }));
    const { Body } = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'orders/big one.json' }));
    const text = (await Body?.transformToString()) ?? '';
    observations.s3RoundTrip = { length: text.length, equal: text === payload };

    const dynamodb = new DynamoDBClient({
      region,
      credentials,
      endpoint: inProcessLayer.endpoints.dynamodb,
      requestHandler,
    });
    const TableName = unique('inproc-table');
    await dynamodb.send(
      new CreateTableCommand({
        TableName,
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    await dynamodb.send(new PutItemCommand({ TableName, Item: { pk: { S: 'k' }, n: { N: '7' } } }));
    observations.dynamodbItem = (
      await dynamodb.send(new GetItemCommand({ TableName, Key: { pk: { S: 'k' } } }))
    ).Item;

    const sqs = sqsOn('in-process client, in-process fauxqs');
    const queueUrl = await createQueue(sqs, 'inproc-preaborted');
    const abort = new AbortController();
    abort.abort();
    const outcome = await sqs
      .send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'never' }), {
        abortSignal: abort.signal,
      })
      .then(
        () => 'sent',
        (e: Error) => e.name,
      );
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: 1 }),
    );
    observations.preAborted = { outcome, messagesSent: Messages.length };
    for (const client of [s3, dynamodb, sqs]) client.destroy();
    process.stdout.write(`${JSON.stringify(observations)}\n`);
  } finally {
    await inProcessLayer.stop();
    await httpLayer.stop();
    await emulator.stop();
    await dynamodbLocal.stop();
  }
}

if (require.main === module) {
  main().then(
    () => process.exit(0),
    (error: Error) => {
      process.stderr.write(`${error.stack ?? error.message}\n`);
      process.exit(1);
    },
  );
}
