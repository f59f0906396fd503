/**
 * Claim check in the local cloud: a synthesized app with a ClaimCheckStore is deployed (the bucket
 * and its TLS-only policy included), functions run with their roles behind the authorizing gateway,
 * and large receipts travel SNS -> SQS and over a FIFO queue, resolved by the consumers. A consumer
 * whose role lacks s3:GetObject, and one whose role lacks kms:Decrypt on the bucket's key, are
 * denied by the gateway, and their messages end in their DLQs.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { App, CfnOutput, Duration, Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kms from 'aws-cdk-lib/aws-kms';
import {
  ClaimCheckStore,
  MessageConsumer,
  PointToPointChannel,
  PublishSubscribeChannel,
  ServiceFunction,
} from '../lib';
import { LocalCloud } from '../local/cloud';
import { dynamodbEndpoint, snsSqsEndpoint, uniqueName } from './support/emulators';

const ENTRY = join(__dirname, 'fixtures', 'local-cloud', 'claim-check-app.ts');
const stackName = uniqueName('ClaimCheck');

type Template = { Resources: Record<string, { Type: string; Properties: Record<string, unknown> }> };

function synthesize(): string {
  const outdir = mkdtempSync(join(tmpdir(), 'switchyard-claim-check-'));
  const app = new App({ outdir, context: { 'switchyard:removalPolicy': 'destroy' } });
  const stack = new Stack(app, stackName);
  // SSE-KMS with a customer key: the gateway then also checks kms:GenerateDataKey / kms:Decrypt.
  const key = new kms.Key(stack, 'ClaimsKey', { enableKeyRotation: true });
  const claims = new ClaimCheckStore(stack, 'Claims', { encryptionKey: key });
  const receipts = new PublishSubscribeChannel(stack, 'Receipts', {
    channelName: 'receipts',
    claimCheck: claims,
  });
  const documents = new PointToPointChannel(stack, 'Documents', {
    channelName: 'documents',
    fifo: true,
    claimCheck: claims,
  });
  const records = new dynamodb.Table(stack, 'Records', {
    partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
    billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
  });
  const producer = new ServiceFunction(stack, 'Producer', { entry: ENTRY, handler: 'produce' });
  receipts.bindProducer(producer.function);
  documents.bindProducer(producer.function);
  const consumerProps = {
    entry: ENTRY,
    handler: 'consume',
    handles: [],
    messageTypes: ['ReceiptIssued'],
    timeout: Duration.seconds(5),
    environment: { RECORDS_TABLE: records.tableName },
    // A failed message returns after a second, and moves to the DLQ on its second failure.
    retryBackoff: { base: Duration.seconds(1), max: Duration.seconds(1) },
    maxReceiveCount: 2,
  };
  const kitchen = new MessageConsumer(stack, 'Kitchen', {
    ...consumerProps,
    consumerName: 'kitchen',
    subscribeTo: [receipts],
  });
  const archive = new MessageConsumer(stack, 'Archive', {
    ...consumerProps,
    consumerName: 'archive',
    source: documents,
  });
  const audit = new MessageConsumer(stack, 'Audit', {
    ...consumerProps,
    consumerName: 'audit',
    subscribeTo: [receipts],
  });
  const ledger = new MessageConsumer(stack, 'Ledger', {
    ...consumerProps,
    consumerName: 'ledger',
    subscribeTo: [receipts],
  });
  for (const consumer of [kitchen, archive, audit, ledger]) records.grantWriteData(consumer.handler);
  new CfnOutput(stack, 'ProducerName', { value: producer.function.functionName });
  new CfnOutput(stack, 'BucketName', { value: claims.bucket.bucketName });
  new CfnOutput(stack, 'TableName', { value: records.tableName });
  new CfnOutput(stack, 'AuditDlqUrl', { value: audit.deadLetterQueue.queueUrl });
  new CfnOutput(stack, 'LedgerDlqUrl', { value: ledger.deadLetterQueue.queueUrl });
  app.synth();
  // The audit consumer loses its claim grant (as if someone forgot grantRead on a hand-made
  // consumer), the ledger consumer its kms:Decrypt on the bucket key.
  const file = join(outdir, `${stackName}.template.json`);
  const template = JSON.parse(readFileSync(file, 'utf8')) as Template;
  const drop = (prefix: string, action: string) => {
    let dropped = 0;
    for (const [id, resource] of Object.entries(template.Resources)) {
      if (resource.Type !== 'AWS::IAM::Policy' || !id.startsWith(prefix)) continue;
      const document = resource.Properties.PolicyDocument as { Statement: { Action: string | string[] }[] };
      document.Statement = document.Statement.flatMap((statement) => {
        const actions = [statement.Action].flat();
        if (!actions.includes(action)) return [statement];
        dropped += 1;
        const kept = actions.filter((a) => a !== action);
        return kept.length > 0 ? [{ ...statement, Action: kept }] : [];
      });
    }
    if (dropped !== 1)
      throw new Error(`expected one ${action} statement on the ${prefix} role, found ${dropped}`);
  };
  drop('Audit', 's3:GetObject');
  drop('Ledger', 'kms:Decrypt');
  writeFileSync(file, JSON.stringify(template));
  return outdir;
}

let cloud: LocalCloud;
let outputs: Record<string, string>;
const dynamo = new DynamoDBClient({});

beforeAll(async () => {
  cloud = await LocalCloud.start({
    assemblyDir: synthesize(),
    endpoints: { snsSqs: snsSqsEndpoint(), dynamodb: dynamodbEndpoint() },
  });
  outputs = cloud.outputs() as Record<string, string>;
}, 240_000);

afterAll(async () => {
  await cloud?.stop();
});

async function recorded(consumer: string, id: string): Promise<Record<string, string> | undefined> {
  const out = await dynamo.send(
    new GetItemCommand({
      TableName: outputs.TableName,
      Key: { pk: { S: `${consumer}#${id}` } },
      ConsistentRead: true,
    }),
  );
  return out.Item ? { bytes: out.Item.bytes!.N!, lines: out.Item.lines!.N! } : undefined;
}

async function until<T>(probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 250));
  }
}

test('the deployer creates the bucket and its policy; bucket settings fauxqs cannot apply are noted', () => {
  const [deployed] = cloud.stacks;
  expect(deployed!.warnings.filter((w) => /S3/.test(w))).toEqual([]);
  expect([...deployed!.unsupported.keys()].filter((t) => t.startsWith('AWS::S3::'))).toEqual([]);
  expect(deployed!.notes).toEqual(
    expect.arrayContaining(['AWS::S3::Bucket.LifecycleConfiguration', 'AWS::S3::Bucket.BucketEncryption']),
  );
  expect(outputs.BucketName).toMatch(/^claimcheck-/);
});

test('large receipts over SNS -> SQS and a FIFO queue reach the handlers resolved; the role without s3:GetObject is denied', async () => {
  // WHEN the producer function sends a 1.1 MB receipt to the topic (256 KiB) and to the FIFO queue (1 MiB)
  const result = await cloud.invoke(outputs.ProducerName!, { orderId: 'o-1', bytes: 1_100_000 });
  expect(result.error).toBeUndefined();
  const [toTopic, toQueue] = (result.response as { ids: string[] }).ids as [string, string];
  // THEN both payloads are claims in the bucket, under their channel's prefix
  const s3 = new S3Client({});
  const keys = ((await s3.send(new ListObjectsV2Command({ Bucket: outputs.BucketName }))).Contents ?? []).map(
    (o) => o.Key,
  );
  expect(keys.sort()).toEqual([`documents/${toQueue}`, `receipts/${toTopic}`].sort());
  // AND the consumers' handlers saw the full receipts (11,000 lines)
  expect(await until(() => recorded('kitchen', toTopic))).toMatchObject({ lines: '11000' });
  expect(await until(() => recorded('archive', toQueue))).toMatchObject({ lines: '11000' });
  // AND the audit consumer, whose role lost s3:GetObject, was denied by the gateway ...
  const denial = await until(async () =>
    cloud.denials().find((d) => d.action === 's3:GetObject' && /Audit/.test(d.principal)),
  );
  expect(denial.resource).toBe(`arn:aws:s3:::${outputs.BucketName}/receipts/${toTopic}`);
  // AND the ledger consumer, whose role lost kms:Decrypt on the bucket key, was denied too
  const keyDenial = await until(async () =>
    cloud.denials().find((d) => d.action === 'kms:Decrypt' && /Ledger/.test(d.principal)),
  );
  expect(keyDenial.resource).toMatch(/^arn:aws:kms:us-east-1:000000000000:key\//);
  // ... and their messages, failed twice with claim-unavailable, wait in their DLQs (never dropped)
  const sqs = new SQSClient({ useQueueUrlAsEndpoint: false });
  for (const dlq of [outputs.AuditDlqUrl, outputs.LedgerDlqUrl]) {
    await until(async () => {
      const out = await sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: dlq, AttributeNames: ['ApproximateNumberOfMessages'] }),
      );
      return Number(out.Attributes?.ApproximateNumberOfMessages) === 1 ? true : undefined;
    });
  }
  expect(await recorded('ledger', toTopic)).toBeUndefined();
  expect(await recorded('audit', toTopic)).toBeUndefined();
  // No other denial: the producer's PutObject (and kms:GenerateDataKey) and the granted consumers'
  // GetObject (and kms:Decrypt) passed the gateway.
  expect(cloud.denials().filter((d) => d !== denial && d !== keyDenial)).toEqual([]);
}, 90_000);
