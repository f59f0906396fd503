/**
 * SSM in the local cloud and the README's cross-app import: one app exports its channel with
 * `exportToSsm()`, a second app imports it with `fromSsmParameter` into the same running local
 * cloud (deployed through the first cloud's gateway). The importer's template resolves the
 * `AWS::SSM::Parameter::Value<String>` parameters, its function reads the parameter through the
 * SSM API, and its role gets the KMS permission on the exporter's customer-managed key.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import {
  GetParameterCommand,
  GetParametersByPathCommand,
  GetParametersCommand,
  PutParameterCommand,
  SSMClient,
} from '@aws-sdk/client-ssm';
import { App, CfnOutput, Stack } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { PointToPointChannel } from '../lib';
import { LocalCloud } from '../local/cloud';
import { dynamodbEndpoint, snsSqsEndpoint, uniqueName } from './support/emulators';

const channelName = uniqueName('commands');
const exporterStack = uniqueName('Exporter');
const parameterName = `/switchyard/${exporterStack}/channels/${channelName}`;

function exporterApp(): string {
  const outdir = mkdtempSync(join(tmpdir(), 'switchyard-exporter-'));
  const app = new App({ outdir });
  const stack = new Stack(app, exporterStack);
  const key = new kms.Key(stack, 'CommandsKey');
  const channel = new PointToPointChannel(stack, 'Commands', { channelName, encryptionMasterKey: key });
  channel.exportToSsm();
  new CfnOutput(stack, 'KeyArn', { value: key.keyArn });
  new CfnOutput(stack, 'QueueUrl', { value: channel.queue.queueUrl });
  new CfnOutput(stack, 'QueueArn', { value: channel.queue.queueArn });
  app.synth();
  return outdir;
}

function importerApp(): string {
  const outdir = mkdtempSync(join(tmpdir(), 'switchyard-importer-'));
  const app = new App({ outdir });
  const stack = new Stack(app, uniqueName('Importer'));
  const commands = PointToPointChannel.fromSsmParameter(stack, 'Commands', parameterName);
  const reader = new lambda.Function(stack, 'Reader', {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    environment: { PARAMETER: parameterName },
    code: lambda.Code.fromInline(`
const { SSMClient, GetParameterCommand } = require('@aws-sdk/client-ssm');
const ssm = new SSMClient({});
exports.handler = async () => {
  const out = await ssm.send(new GetParameterCommand({ Name: process.env.PARAMETER }));
  return { value: out.Parameter.Value, accessKeyId: process.env.AWS_ACCESS_KEY_ID };
};`),
  });
  ssm.StringParameter.fromStringParameterName(stack, 'Parameter', parameterName).grantRead(reader);
  commands.grantSend(reader);
  new CfnOutput(stack, 'ImportedQueueArn', { value: commands.queue.queueArn });
  new CfnOutput(stack, 'ReaderName', { value: reader.functionName });
  app.synth();
  return outdir;
}

let exporter: LocalCloud;
let importer: LocalCloud;

beforeAll(async () => {
  exporter = await LocalCloud.start({
    assemblyDir: exporterApp(),
    endpoints: { snsSqs: snsSqsEndpoint(), dynamodb: dynamodbEndpoint() },
    runEventSources: false,
  });
  // The second app deploys into the first one's running cloud, through its gateway.
  importer = await LocalCloud.start({
    assemblyDir: importerApp(),
    endpoints: exporter.endpoints,
    runEventSources: false,
  });
}, 180_000);

afterAll(async () => {
  await importer?.stop();
  await exporter?.stop();
});

describe('SSM parameters and the cross-app channel import', () => {
  test("the importer's template resolves the exporter's parameters", () => {
    const exported = exporter.outputs() as Record<string, string>;
    expect((importer.outputs() as Record<string, string>).ImportedQueueArn).toBe(exported.QueueArn);
  });

  test('a function reads the parameter through the SSM API with its role', async () => {
    const result = await importer.invoke('Reader', {});
    expect(result.error).toBeUndefined();
    const response = result.response as { value: string; accessKeyId: string };
    expect(response.value).toBe((exporter.outputs() as Record<string, string>).QueueArn);
    // It signed as its role, not as the CLI's administrator key.
    expect(response.accessKeyId).toMatch(/^ASIALOCAL/);
  });

  test("the importer's role is granted the exporter's key, read from the <name>/kms-key-arn parameter", () => {
    const identity = importer.strict!.identityOf(importer.findFunction('Reader'))!;
    const keyArn = (exporter.outputs() as Record<string, string>).KeyArn!;
    expect(keyArn).toMatch(/^arn:aws:kms:us-east-1:000000000000:key\//);
    // The importer's gateway does not know the exporter's queue is encrypted (another app's
    // template), so the KMS check is asked of its authorizer directly.
    expect(importer.strict!.authorize(identity, 'kms:GenerateDataKey', keyArn)).toBeUndefined();
    expect(importer.strict!.authorize(identity, 'kms:Decrypt', keyArn)).toBeUndefined();
  });

  test("the importer's function role may send to the exporter's queue through both gateways", async () => {
    const reader = importer.findFunction('Reader');
    const identity = importer.strict!.identityOf(reader)!;
    const client = new SQSClient({
      region: 'us-east-1',
      endpoint: importer.endpoints.snsSqs,
      credentials: { accessKeyId: identity.accessKeyId, secretAccessKey: 'local' },
      maxAttempts: 1,
    });
    try {
      const queueUrl = (exporter.outputs() as Record<string, string>).QueueUrl!;
      await client.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'from the importer' }));
      expect(importer.denials()).toEqual([]);
      const admin = exporter.clients.sqs;
      const received = await admin.send(
        new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: 2 }),
      );
      expect(received.Messages?.[0]?.Body).toBe('from the importer');
    } finally {
      client.destroy();
    }
  });

  test('PutParameter, GetParameters and GetParametersByPath answer as SSM does', async () => {
    const client = new SSMClient({
      region: 'us-east-1',
      endpoint: exporter.endpoints.snsSqs,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    try {
      const path = `/${uniqueName('ssm-api')}`;
      expect(
        (await client.send(new PutParameterCommand({ Name: `${path}/a`, Value: '1', Type: 'String' })))
          .Version,
      ).toBe(1);
      const again = await client
        .send(new PutParameterCommand({ Name: `${path}/a`, Value: '2', Type: 'String' }))
        .catch((e) => e);
      expect(again.name).toBe('ParameterAlreadyExists');
      await client.send(
        new PutParameterCommand({ Name: `${path}/a`, Value: '2', Type: 'String', Overwrite: true }),
      );
      await client.send(new PutParameterCommand({ Name: `${path}/deeper/b`, Value: '3', Type: 'String' }));
      const some = await client.send(new GetParametersCommand({ Names: [`${path}/a`, `${path}/missing`] }));
      expect(some.Parameters?.map((p) => [p.Name, p.Value, p.Version])).toEqual([[`${path}/a`, '2', 2]]);
      expect(some.InvalidParameters).toEqual([`${path}/missing`]);
      const shallow = await client.send(new GetParametersByPathCommand({ Path: path }));
      expect(shallow.Parameters?.map((p) => p.Name)).toEqual([`${path}/a`]);
      const deep = await client.send(new GetParametersByPathCommand({ Path: path, Recursive: true }));
      expect(deep.Parameters?.map((p) => p.Name).sort()).toEqual([`${path}/a`, `${path}/deeper/b`]);
      const missing = await client.send(new GetParameterCommand({ Name: `${path}/missing` })).catch((e) => e);
      expect(missing.name).toBe('ParameterNotFound');
    } finally {
      client.destroy();
    }
  });
});
