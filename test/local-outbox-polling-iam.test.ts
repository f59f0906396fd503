/**
 * The polling outbox relay on an imported table, under the local cloud's IAM enforcement: its
 * role must allow the poller's Query on the sparse polling index (`<table ARN>/index/*`), which
 * CDK's grantReadWriteData leaves out for a table whose indexes it does not know.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, CfnOutput, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as sns from 'aws-cdk-lib/aws-sns';
import { TransactionalOutbox } from '../lib';
import { LocalCloud } from '../local/cloud';
import { dynamodbEndpoint, snsSqsEndpoint, uniqueName } from './support/emulators';

function synthesize(): string {
  const outdir = mkdtempSync(join(tmpdir(), 'switchyard-polling-iam-'));
  const app = new App({ outdir });
  const tableName = uniqueName('polled-orders');
  const owner = new Stack(app, uniqueName('TableOwner'));
  const table = new dynamodb.Table(owner, 'Orders', {
    tableName,
    partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
    sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
    removalPolicy: RemovalPolicy.DESTROY,
  });
  TransactionalOutbox.addPollingIndex(table);
  const service = new Stack(app, uniqueName('PollingService'));
  service.addDependency(owner);
  const outbox = new TransactionalOutbox(service, 'Outbox', {
    table: dynamodb.Table.fromTableName(service, 'Imported', tableName),
    relay: 'polling',
    channels: [{ name: 'events', topic: new sns.Topic(service, 'Events') }],
  });
  new CfnOutput(service, 'PollerName', { value: outbox.relayFunction.functionName });
  app.synth();
  return outdir;
}

let cloud: LocalCloud;

beforeAll(async () => {
  cloud = await LocalCloud.start({
    assemblyDir: synthesize(),
    endpoints: { snsSqs: snsSqsEndpoint(), dynamodb: dynamodbEndpoint() },
    runEventSources: false,
  });
}, 180_000);

afterAll(async () => {
  await cloud?.stop();
});

test('the poller may query the polling index of an imported table', async () => {
  const poller = String((cloud.outputs() as Record<string, string>).PollerName);
  const result = await cloud.invoke(poller, {
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    time: new Date().toISOString(),
    detail: {},
  });
  expect(cloud.denials().map((d) => d.message)).toEqual([]);
  expect(result.error).toBeUndefined();
}, 60_000);
