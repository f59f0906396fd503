/**
 * The local cloud's gateway over the real wire (SDK -> gateway -> fauxqs / DynamoDB Local):
 * AWS's error shapes for denials (the SDK raises the classes AWS would), explicit Deny first,
 * TLS-only statements and loopback, unsupported conditions, and the AWS limits the emulators do
 * not enforce, one test each.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient, ListTablesCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { PublishBatchCommand, PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import {
  type MessageAttributeValue,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { App, CfnOutput, Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { LocalCloud } from '../local/cloud';
import { dynamodbEndpoint, snsSqsEndpoint, uniqueName } from './support/emulators';

const stackName = uniqueName('StrictGateway');

function synthesize(): string {
  const outdir = mkdtempSync(join(tmpdir(), 'switchyard-strict-gateway-'));
  const app = new App({ outdir });
  const stack = new Stack(app, stackName);
  const key = new kms.Key(stack, 'TopicKey');
  const encryptedTopic = new sns.Topic(stack, 'EncryptedTopic', { masterKey: key, enforceSSL: true });
  const plainTopic = new sns.Topic(stack, 'PlainTopic');
  const queue = new sqs.Queue(stack, 'Queue', { enforceSSL: true, maxMessageSizeBytes: 2048 });
  const fifoQueue = new sqs.Queue(stack, 'FifoQueue', { fifo: true, contentBasedDeduplication: true });
  const table = new dynamodb.Table(stack, 'Table', {
    partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
  });
  const assumedBy = new iam.ServicePrincipal('lambda.amazonaws.com');
  // No permissions at all.
  const bare = new iam.Role(stack, 'BareRole', { assumedBy });
  // sns:Publish and kms:Decrypt but not kms:GenerateDataKey; SQS allowed by its identity policy,
  // yet denied explicitly by the queue's policy.
  const partial = new iam.Role(stack, 'PartialRole', { assumedBy });
  partial.addToPolicy(
    new iam.PolicyStatement({ actions: ['sns:Publish'], resources: [encryptedTopic.topicArn] }),
  );
  partial.addToPolicy(new iam.PolicyStatement({ actions: ['kms:Decrypt'], resources: [key.keyArn] }));
  queue.grantSendMessages(partial);
  queue.addToResourcePolicy(
    new iam.PolicyStatement({
      effect: iam.Effect.DENY,
      principals: [partial],
      actions: ['sqs:SendMessage'],
      resources: [queue.queueArn],
    }),
  );
  // Allowed only under a condition operator the local cloud does not support.
  const conditional = new iam.Role(stack, 'ConditionalRole', { assumedBy });
  conditional.addToPolicy(
    new iam.PolicyStatement({
      actions: ['dynamodb:PutItem'],
      resources: [table.tableArn],
      conditions: { DateGreaterThan: { 'aws:CurrentTime': '2020-01-01T00:00:00Z' } },
    }),
  );
  // Subscriptions whose queues have no policy letting SNS send: one without, one with a DLQ.
  const deniedTopic = new sns.Topic(stack, 'DeniedTopic');
  const unreachable = new sqs.Queue(stack, 'Unreachable');
  const unreachableDlq = new sqs.Queue(stack, 'UnreachableDlq');
  new sns.Subscription(stack, 'NoDlqSubscription', {
    topic: deniedTopic,
    protocol: sns.SubscriptionProtocol.SQS,
    endpoint: unreachable.queueArn,
    rawMessageDelivery: true,
  });
  const withDlq = new sqs.Queue(stack, 'UnreachableWithDlq');
  new sns.Subscription(stack, 'DlqSubscription', {
    topic: deniedTopic,
    protocol: sns.SubscriptionProtocol.SQS,
    endpoint: withDlq.queueArn,
    rawMessageDelivery: true,
    deadLetterQueue: unreachableDlq,
  });
  const out = (id: string, value: string) => new CfnOutput(stack, id, { value });
  out('DeniedTopicArn', deniedTopic.topicArn);
  out('UnreachableUrl', unreachable.queueUrl);
  out('UnreachableArn', unreachable.queueArn);
  out('UnreachableWithDlqUrl', withDlq.queueUrl);
  out('UnreachableWithDlqArn', withDlq.queueArn);
  out('UnreachableDlqUrl', unreachableDlq.queueUrl);
  out('EncryptedTopicArn', encryptedTopic.topicArn);
  out('PlainTopicArn', plainTopic.topicArn);
  out('QueueUrl', queue.queueUrl);
  out('FifoQueueUrl', fifoQueue.queueUrl);
  out('TableName', table.tableName);
  out('BareRoleArn', bare.roleArn);
  out('PartialRoleArn', partial.roleArn);
  out('ConditionalRoleArn', conditional.roleArn);
  app.synth();
  return outdir;
}

let cloud: LocalCloud;
let o: Record<string, string>;
const clients: { destroy(): void }[] = [];

/** SDK clients signing as a function acting with `roleArn` (as the local cloud issues them). */
function as(roleArn: string) {
  return signingWith(cloud.strict!.credentials.issue('test-function', roleArn).accessKeyId);
}

/** Any key the local cloud did not issue (like the CLI's printed `local`) acts as the account's administrator. */
const admin = () => signingWith('local');

function signingWith(accessKeyId: string) {
  const config = {
    region: 'us-east-1',
    endpoint: cloud.endpoints.snsSqs,
    credentials: { accessKeyId, secretAccessKey: 'local' },
    maxAttempts: 1,
  };
  const made = {
    sqs: new SQSClient(config),
    sns: new SNSClient(config),
    dynamodb: new DynamoDBClient(config),
  };
  clients.push(made.sqs, made.sns, made.dynamodb);
  return made;
}

beforeAll(async () => {
  cloud = await LocalCloud.start({
    assemblyDir: synthesize(),
    endpoints: { snsSqs: snsSqsEndpoint(), dynamodb: dynamodbEndpoint() },
    runEventSources: false,
  });
  o = cloud.outputs() as Record<string, string>;
}, 120_000);

afterAll(async () => {
  for (const c of clients) c.destroy();
  await cloud?.stop();
});

function attributes(n: number): Record<string, MessageAttributeValue> {
  return Object.fromEntries(
    Array.from({ length: n }, (_, i) => [`a${i}`, { DataType: 'String', StringValue: 'v' }]),
  );
}

describe('denials in AWS error shapes', () => {
  test('SQS: AccessDenied naming the principal, action and resource', async () => {
    const error = await as(o.BareRoleArn!)
      .sqs.send(new SendMessageCommand({ QueueUrl: o.QueueUrl, MessageBody: 'x' }))
      .catch((e) => e);
    expect(error.name).toBe('AccessDenied');
    expect(error.$fault).toBe('client');
    expect(error.message).toMatch(
      new RegExp(
        `^User: arn:aws:sts::000000000000:assumed-role/${stackName}-BareRole[^/]*/test-function is not authorized to perform: sqs:SendMessage on resource: arn:aws:sqs:us-east-1:000000000000:${stackName}-Queue`,
      ),
    );
  });

  test('SNS: AuthorizationErrorException', async () => {
    const error = await as(o.BareRoleArn!)
      .sns.send(new PublishCommand({ TopicArn: o.PlainTopicArn, Message: 'x' }))
      .catch((e) => e);
    expect(error.name).toBe('AuthorizationErrorException');
    expect(error.message).toContain(`sns:Publish on resource: ${o.PlainTopicArn}`);
  });

  test('DynamoDB: AccessDeniedException', async () => {
    const error = await as(o.BareRoleArn!)
      .dynamodb.send(new PutItemCommand({ TableName: o.TableName, Item: { pk: { S: '1' } } }))
      .catch((e) => e);
    expect(error.name).toBe('AccessDeniedException');
    expect(error.message).toContain(
      'dynamodb:PutItem on resource: arn:aws:dynamodb:us-east-1:000000000000:table/',
    );
  });

  test('KMS: publishing to a CMK-encrypted topic without kms:GenerateDataKey is KMSAccessDeniedException', async () => {
    const error = await as(o.PartialRoleArn!)
      .sns.send(new PublishCommand({ TopicArn: o.EncryptedTopicArn, Message: 'x' }))
      .catch((e) => e);
    expect(error.name).toBe('KMSAccessDeniedException');
    expect(error.message).toMatch(
      /kms:GenerateDataKey on resource: arn:aws:kms:us-east-1:000000000000:key\//,
    );
  });

  test("an explicit Deny in the queue policy wins over the role's Allow", async () => {
    const error = await as(o.PartialRoleArn!)
      .sqs.send(new SendMessageCommand({ QueueUrl: o.QueueUrl, MessageBody: 'x' }))
      .catch((e) => e);
    expect(error.name).toBe('AccessDenied');
    expect(error.message).toMatch(/with an explicit deny in queue policy/);
  });

  test('TLS-only statements (aws:SecureTransport false) do not deny loopback calls', async () => {
    // The topic's enforceSSL Deny applies to every principal; over loopback it must not match.
    const error = await as(o.PartialRoleArn!)
      .sns.send(new PublishCommand({ TopicArn: o.EncryptedTopicArn, Message: 'x' }))
      .catch((e) => e);
    expect(error.message).not.toMatch(/explicit deny/);
    expect(error.message).toMatch(/kms:GenerateDataKey/);
  });

  test('an unsupported condition operator never grants, and is reported once', async () => {
    const client = as(o.ConditionalRoleArn!).dynamodb;
    for (let i = 0; i < 2; i++) {
      const error = await client
        .send(new PutItemCommand({ TableName: o.TableName, Item: { pk: { S: '1' } } }))
        .catch((e) => e);
      expect(error.name).toBe('AccessDeniedException');
    }
    expect(cloud.strict!.unsupportedConditions.filter((m) => m.includes('DateGreaterThan'))).toHaveLength(1);
  });
});

describe('SNS delivery to queues whose policy does not let SNS send', () => {
  test('goes to the subscription DLQ when it has one, else is dropped and counted; never to the queue', async () => {
    const { sns: client, sqs: queues } = admin();
    await client.send(new PublishCommand({ TopicArn: o.DeniedTopicArn, Message: 'undeliverable' }));
    const dlq = await queues.send(
      new ReceiveMessageCommand({ QueueUrl: o.UnreachableDlqUrl, WaitTimeSeconds: 5 }),
    );
    expect(dlq.Messages?.map((m) => m.Body)).toEqual(['undeliverable']);
    for (const url of [o.UnreachableUrl, o.UnreachableWithDlqUrl]) {
      const received = await queues.send(new ReceiveMessageCommand({ QueueUrl: url, WaitTimeSeconds: 1 }));
      expect(received.Messages ?? []).toEqual([]);
    }
    const stats = cloud.undeliverableSubscriptions();
    const dropped = stats.find((u) => u.queueArn === o.UnreachableArn);
    for (let i = 0; i < 50 && dropped && dropped.dropped === 0; i++)
      await new Promise((r) => setTimeout(r, 100));
    expect(dropped?.dropped).toBe(1);
    expect(dropped?.denial.message).toMatch(
      /^User: sns\.amazonaws\.com is not authorized to perform: sqs:SendMessage on resource: .* because no resource-based policy allows/,
    );
    expect(stats.find((u) => u.queueArn === o.UnreachableWithDlqArn)?.toDeadLetterQueue).toBe(1);
  });
});

describe('credentials', () => {
  test('any access key sees the same tables (DynamoDB Local runs with -sharedDb)', async () => {
    const { TableNames } = await signingWith('AKIASOMEONEELSE').dynamodb.send(new ListTablesCommand({}));
    expect(TableNames).toContain(o.TableName);
  });
});

describe('AWS limits the emulators do not enforce', () => {
  test('SQS: more than 10 message attributes is InvalidParameterValue; 10 are accepted', async () => {
    const { sqs } = admin();
    await expect(
      sqs.send(
        new SendMessageCommand({
          QueueUrl: o.FifoQueueUrl,
          MessageBody: 'x',
          MessageGroupId: 'g',
          MessageAttributes: attributes(10),
        }),
      ),
    ).resolves.toBeDefined();
    const error = await sqs
      .send(
        new SendMessageCommand({
          QueueUrl: o.FifoQueueUrl,
          MessageBody: 'x',
          MessageGroupId: 'g',
          MessageAttributes: attributes(11),
        }),
      )
      .catch((e) => e);
    expect(error.name).toBe('InvalidParameterValue');
    expect(error.message).toBe('Number of message attributes [11] exceeds the allowed maximum [10].');
  });

  test("SQS: a message over the queue's MaximumMessageSize is rejected", async () => {
    const error = await admin()
      .sqs.send(new SendMessageCommand({ QueueUrl: o.QueueUrl, MessageBody: 'x'.repeat(2049) }))
      .catch((e) => e);
    expect(error.name).toBe('InvalidParameterValue');
    expect(error.message).toMatch(/Message must be shorter than 2048 bytes/);
  });

  test('SNS: a message over 256 KiB (body and attributes) is rejected', async () => {
    const { sns: client } = admin();
    const justOver = 'x'.repeat(256 * 1024 - 10);
    const error = await client
      .send(
        new PublishCommand({
          TopicArn: o.PlainTopicArn,
          Message: justOver,
          MessageAttributes: attributes(2),
        }),
      )
      .catch((e) => e);
    expect(error.name).toBe('InvalidParameterException');
    expect(error.message).toMatch(/Message too long/);
    await expect(
      client.send(new PublishCommand({ TopicArn: o.PlainTopicArn, Message: justOver })),
    ).resolves.toBeDefined();
  });

  test('SNS: more than 10 message attributes is rejected', async () => {
    const error = await admin()
      .sns.send(
        new PublishCommand({ TopicArn: o.PlainTopicArn, Message: 'x', MessageAttributes: attributes(11) }),
      )
      .catch((e) => e);
    expect(error.name).toBe('InvalidParameterException');
  });

  test('batches of more than 10 entries are rejected by SQS and SNS', async () => {
    const { sqs, sns: client } = admin();
    const entries = Array.from({ length: 11 }, (_, i) => ({ Id: `e${i}`, MessageBody: 'x', Message: 'x' }));
    const sqsError = await sqs
      .send(new SendMessageBatchCommand({ QueueUrl: o.QueueUrl, Entries: entries }))
      .catch((e) => e);
    expect(sqsError.name).toBe('TooManyEntriesInBatchRequest');
    const snsError = await client
      .send(new PublishBatchCommand({ TopicArn: o.PlainTopicArn, PublishBatchRequestEntries: entries }))
      .catch((e) => e);
    expect(snsError.name).toBe('TooManyEntriesInBatchRequestException');
  });

  test('an SQS batch entry over a limit fails alone, as in AWS; the others are sent', async () => {
    const out = await admin().sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: o.FifoQueueUrl,
        Entries: [
          { Id: 'ok', MessageBody: 'x', MessageGroupId: 'g' },
          { Id: 'bad', MessageBody: 'x', MessageGroupId: 'g', MessageAttributes: attributes(11) },
        ],
      }),
    );
    expect(out.Successful?.map((s) => s.Id)).toEqual(['ok']);
    expect(out.Failed).toEqual([
      expect.objectContaining({ Id: 'bad', Code: 'InvalidParameterValue', SenderFault: true }),
    ]);
  });

  test('FIFO: a missing MessageGroupId, or one with characters AWS refuses, is rejected', async () => {
    const { sqs } = admin();
    const missing = await sqs
      .send(new SendMessageCommand({ QueueUrl: o.FifoQueueUrl, MessageBody: 'x' }))
      .catch((e) => e);
    expect(missing.name).toBe('MissingParameter');
    const invalid = await sqs
      .send(new SendMessageCommand({ QueueUrl: o.FifoQueueUrl, MessageBody: 'x', MessageGroupId: 'order 1' }))
      .catch((e) => e);
    expect(invalid.name).toBe('InvalidParameterValue');
    expect(invalid.message).toMatch(
      /MessageGroupId can only include alphanumeric and punctuation characters/,
    );
  });
});
