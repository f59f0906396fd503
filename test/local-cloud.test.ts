/**
 * Deploys a small synthesized CDK stack into the shared emulators through the `--endpoint` path
 * and checks the created resources and one message end to end (topic -> filtered subscription ->
 * FIFO queue -> SQS event source mapping -> NodejsFunction -> table).
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
  GetItemCommand,
} from '@aws-sdk/client-dynamodb';
import { GetSubscriptionAttributesCommand, PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { App, CfnOutput, Duration, Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { LocalCloud } from '../local/cloud';
import { recordRef } from '../local/observed-invoker';
import { dynamodbEndpoint, snsSqsEndpoint, uniqueName } from './support/emulators';

function synthesizeTestStack(stackName: string): string {
  const outdir = mkdtempSync(join(tmpdir(), 'switchyard-local-cloud-test-'));
  const app = new App({ outdir });
  const stack = new Stack(app, stackName);
  const topic = new sns.Topic(stack, 'Events', { fifo: true, contentBasedDeduplication: true });
  const dlq = new sqs.Queue(stack, 'EventsDlq', { fifo: true });
  const queue = new sqs.Queue(stack, 'EventsQueue', {
    fifo: true,
    visibilityTimeout: Duration.seconds(20),
    retentionPeriod: Duration.hours(2),
    deadLetterQueue: { queue: dlq, maxReceiveCount: 3 },
  });
  topic.addSubscription(
    new subscriptions.SqsSubscription(queue, {
      rawMessageDelivery: true,
      filterPolicy: { kind: sns.SubscriptionFilter.stringFilter({ allowlist: ['wanted'] }) },
    }),
  );
  const table = new dynamodb.Table(stack, 'Records', {
    partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
    billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
    stream: dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
    timeToLiveAttribute: 'expiresAt',
  });
  table.addGlobalSecondaryIndex({
    indexName: 'byKind',
    partitionKey: { name: 'kind', type: dynamodb.AttributeType.STRING },
  });
  const fn = new NodejsFunction(stack, 'Recorder', {
    entry: join(__dirname, 'fixtures', 'local-cloud', 'record-handler.ts'),
    runtime: lambda.Runtime.NODEJS_22_X,
    timeout: Duration.seconds(10),
    environment: { RECORDS_TABLE: table.tableName },
    bundling: { minify: false, sourceMap: false },
  });
  table.grantWriteData(fn);
  fn.addEventSource(new SqsEventSource(queue, { batchSize: 5, reportBatchItemFailures: true }));
  new CfnOutput(stack, 'TopicArn', { value: topic.topicArn });
  new CfnOutput(stack, 'QueueUrl', { value: queue.queueUrl });
  new CfnOutput(stack, 'DlqArn', { value: dlq.queueArn });
  new CfnOutput(stack, 'TableName', { value: table.tableName });
  app.synth();
  return outdir;
}

// Both isolations: sandboxes sharing threads (the default) and a thread per sandbox.
describe.each(['shared', 'thread'] as const)('LocalCloud on given endpoints (isolation %s)', (isolation) => {
  const stackName = uniqueName(`LocalCloudTest${isolation}`);
  let cloud: LocalCloud;
  let outputs: Record<string, string>;
  const sqsClient = new SQSClient({});
  const snsClient = new SNSClient({});
  const ddb = new DynamoDBClient({});

  beforeAll(async () => {
    cloud = await LocalCloud.start({
      assemblyDir: synthesizeTestStack(stackName),
      endpoints: { snsSqs: snsSqsEndpoint(), dynamodb: dynamodbEndpoint() },
      isolation,
    });
    outputs = cloud.outputs() as Record<string, string>;
  });

  afterAll(async () => {
    await cloud?.stop();
  });

  test('enforces IAM and queue policies (not listed as unemulated), and names resources <stackName>-<logicalId>', () => {
    const stack = cloud.stacks[0]!;
    const created = new Set([...stack.resources.values()].map((r) => r.type));
    for (const type of ['AWS::IAM::Role', 'AWS::IAM::Policy', 'AWS::SQS::QueuePolicy']) {
      expect(created).toContain(type);
      expect([...stack.unsupported.keys()]).not.toContain(type);
    }
    expect(outputs.TableName).toMatch(new RegExp(`^${stackName}-Records`));
    // CDK names FIFO topics itself (the name must end in .fifo); explicit names are kept.
    expect(outputs.TopicArn).toMatch(/^arn:aws:sns:us-east-1:000000000000:.*Events.*\.fifo$/);
  });

  test('creates the FIFO queue with its attributes and redrive policy to the DLQ', async () => {
    const { Attributes = {} } = await sqsClient.send(
      new GetQueueAttributesCommand({ QueueUrl: outputs.QueueUrl, AttributeNames: ['All'] }),
    );
    expect(Attributes.FifoQueue).toBe('true');
    expect(Attributes.VisibilityTimeout).toBe('20');
    expect(Attributes.MessageRetentionPeriod).toBe('7200');
    expect(JSON.parse(Attributes.RedrivePolicy ?? '{}')).toEqual({
      deadLetterTargetArn: outputs.DlqArn,
      maxReceiveCount: 3,
    });
  });

  test('subscribes the queue with raw delivery and the filter policy', async () => {
    const subscription = cloud.inventory.subscriptions.find((s) => s.topicArn === outputs.TopicArn)!;
    const { Attributes = {} } = await snsClient.send(
      new GetSubscriptionAttributesCommand({ SubscriptionArn: subscription.arn }),
    );
    expect(Attributes.RawMessageDelivery).toBe('true');
    expect(JSON.parse(Attributes.FilterPolicy ?? '{}')).toEqual({ kind: ['wanted'] });
  });

  test('creates the table with its key, GSI, stream and TTL', async () => {
    const { Table } = await ddb.send(new DescribeTableCommand({ TableName: outputs.TableName }));
    expect(Table?.KeySchema).toEqual([{ AttributeName: 'pk', KeyType: 'HASH' }]);
    expect(Table?.GlobalSecondaryIndexes?.map((g) => g.IndexName)).toEqual(['byKind']);
    expect(Table?.StreamSpecification).toEqual({ StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' });
    const ttl = await ddb.send(new DescribeTimeToLiveCommand({ TableName: outputs.TableName }));
    expect(ttl.TimeToLiveDescription?.AttributeName).toBe('expiresAt');
  });

  test('resolves the function environment to local names', () => {
    const recorder = cloud.findFunction('Recorder');
    expect(recorder.environment.RECORDS_TABLE).toBe(outputs.TableName);
    expect(recorder.timeoutSeconds).toBe(10);
  });

  test('delivers a published message through the filter, queue and mapping to the function', async () => {
    // The unwanted one goes first in the same group: if the filter let it through, FIFO order
    // would make it arrive before the wanted one.
    for (const [id, kind] of [
      ['skipped-1', 'other'],
      ['delivered-1', 'wanted'],
    ] as const) {
      await snsClient.send(
        new PublishCommand({
          TopicArn: outputs.TopicArn,
          Message: JSON.stringify({ id }),
          MessageGroupId: 'g1',
          MessageAttributes: { kind: { DataType: 'String', StringValue: kind } },
        }),
      );
    }
    const key = (id: string) => ({
      TableName: outputs.TableName,
      Key: { pk: { S: id } },
      ConsistentRead: true,
    });
    let item: Record<string, unknown> | undefined;
    for (let i = 0; i < 100 && !item; i++) {
      item = (await ddb.send(new GetItemCommand(key('delivered-1')))).Item;
      if (!item) await new Promise((r) => setTimeout(r, 100));
    }
    expect(item).toMatchObject({ kind: { S: 'wanted' } });
    expect((await ddb.send(new GetItemCommand(key('skipped-1')))).Item).toBeUndefined();
    const consumer = cloud.mappingReports()[0]!;
    expect(consumer.functionName).toBe(cloud.findFunction('Recorder').name);
    expect(consumer.observer.delivered).toBe(1);
    expect(cloud.initStats()).toMatchObject({
      isolation,
      sharedThreads: isolation === 'shared' ? 1 : 0,
      ownThreads: [],
    });
  });
});

describe('recordRef (what the flow report counts)', () => {
  const events = join(__dirname, 'fixtures', 'events');
  const records = (file: string) =>
    (JSON.parse(readFileSync(join(events, file), 'utf8')) as { Records: Record<string, unknown>[] }).Records;

  test('reads the topic and the Switchyard message id from an SNS envelope', () => {
    const [record] = records('sqs-sns-envelope.json');
    const envelope = JSON.parse(String(record!.body)) as {
      TopicArn: string;
      MessageAttributes: Record<string, { Value: string }>;
    };
    expect(recordRef(record!)).toEqual({
      itemId: record!.messageId,
      messageId: envelope.MessageAttributes['message-id']!.Value,
      topicArn: envelope.TopicArn,
    });
  });

  test('uses the SQS message id for plain bodies and the sequence number for stream records', () => {
    const [sqsRecord] = records('sqs-standard.json');
    expect(recordRef(sqsRecord!)).toEqual({ itemId: sqsRecord!.messageId, messageId: sqsRecord!.messageId });
    const streamRecord = {
      eventID: 'e-1',
      eventName: 'INSERT',
      dynamodb: { SequenceNumber: '4421584500000000017450439091' },
    };
    expect(recordRef(streamRecord)).toEqual({ itemId: '4421584500000000017450439091', messageId: 'e-1' });
  });
});
