/**
 * Issue 14: what AWS's CreateEventSourceMapping refuses, the local deploy refuses too, with the
 * construct named (visibility timeout vs function timeout, StartingPosition, unemulated stream
 * settings, malformed filters); and what AWS accepts (SQS FilterCriteria, an S3 OnFailure
 * destination) deploys.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { deployStack, emptyInventory } from '../local/template/deployer';
import type { AssemblyStack, CfnTemplate } from '../local/template/types';
import { dynamodbEndpoint, snsSqsEndpoint, uniqueName } from './support/emulators';

const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
const clients = {
  sqs: new SQSClient({ endpoint: snsSqsEndpoint(), region: 'us-east-1', credentials }),
  sns: new SNSClient({ endpoint: snsSqsEndpoint(), region: 'us-east-1', credentials }),
  dynamodb: new DynamoDBClient({ endpoint: dynamodbEndpoint(), region: 'us-east-1', credentials }),
};
afterAll(() => {
  for (const client of Object.values(clients)) client.destroy();
});

function stackOf(resources: CfnTemplate['Resources']): AssemblyStack {
  return {
    stackName: uniqueName('EsmRules'),
    displayName: 'EsmRules',
    template: { Resources: resources },
    assemblyDir: mkdtempSync(join(tmpdir(), 'switchyard-esm-rules-')),
    fileAssets: new Map(),
  };
}

const fn = (timeout: number) => ({
  Type: 'AWS::Lambda::Function',
  Properties: {
    Runtime: 'nodejs22.x',
    Handler: 'index.handler',
    Code: { ZipFile: 'exports.handler = async () => 1;' },
    Timeout: timeout,
  },
});

const table = {
  Type: 'AWS::DynamoDB::Table',
  Properties: {
    AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
    KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
    BillingMode: 'PAY_PER_REQUEST',
    StreamSpecification: { StreamViewType: 'NEW_IMAGE' },
  },
};

const deploy = (resources: CfnTemplate['Resources']) =>
  deployStack(stackOf(resources), { clients, inventory: emptyInventory(), region: 'us-east-1' });

function streamMapping(extra: Record<string, unknown>) {
  return {
    Fn: fn(10),
    Table: table,
    Mapping: {
      Type: 'AWS::Lambda::EventSourceMapping',
      Properties: {
        EventSourceArn: { 'Fn::GetAtt': ['Table', 'StreamArn'] },
        FunctionName: { Ref: 'Fn' },
        ...extra,
      },
    },
  };
}

describe('local deploy of event source mappings', () => {
  test("a queue visibility timeout below the function timeout fails the deploy with AWS's message", async () => {
    await expect(
      deploy({
        Fn: fn(60),
        Queue: { Type: 'AWS::SQS::Queue', Properties: { VisibilityTimeout: 30 } },
        Mapping: {
          Type: 'AWS::Lambda::EventSourceMapping',
          Properties: { EventSourceArn: { 'Fn::GetAtt': ['Queue', 'Arn'] }, FunctionName: { Ref: 'Fn' } },
        },
      }),
    ).rejects.toThrow(
      /Creating Mapping \(AWS::Lambda::EventSourceMapping\) failed: .*Queue visibility timeout: 30 seconds is less than Function timeout: 60 seconds/,
    );
  });

  test('SQS FilterCriteria deploy into the mapping (no longer a warning)', async () => {
    const deployed = await deploy({
      Fn: fn(10),
      Queue: { Type: 'AWS::SQS::Queue', Properties: {} },
      Mapping: {
        Type: 'AWS::Lambda::EventSourceMapping',
        Properties: {
          EventSourceArn: { 'Fn::GetAtt': ['Queue', 'Arn'] },
          FunctionName: { Ref: 'Fn' },
          FilterCriteria: { Filters: [{ Pattern: '{"body":{"kind":["order"]}}' }] },
        },
      },
    });
    expect(deployed.mappings[0]?.config).toMatchObject({
      filterPatterns: ['{"body":{"kind":["order"]}}'],
      functionTimeoutSeconds: 10,
      queueVisibilityTimeoutSeconds: 30,
    });
    expect(deployed.warnings.join('\n')).not.toMatch(/FilterCriteria/);
  });

  test('a malformed filter pattern fails the deploy', async () => {
    await expect(
      deploy(
        streamMapping({
          StartingPosition: 'LATEST',
          FilterCriteria: { Filters: [{ Pattern: '{"dynamodb":["x"]}' }] },
        }),
      ),
    ).rejects.toThrow(/must be a JSON object of keys/);
  });

  test('a DynamoDB stream mapping without StartingPosition is refused, as AWS refuses it', async () => {
    await expect(deploy(streamMapping({}))).rejects.toThrow(/StartingPosition is required/);
    await expect(deploy(streamMapping({ StartingPosition: 'AT_TIMESTAMP' }))).rejects.toThrow(
      /AT_TIMESTAMP is Kinesis only/,
    );
  });

  test.each([
    ['ParallelizationFactor', 2, /ParallelizationFactor 2 is not emulated/],
    ['TumblingWindowInSeconds', 60, /TumblingWindowInSeconds 60 is not emulated/],
  ])('%s is refused at deploy rather than run differently', async (property, value, message) => {
    await expect(
      deploy(streamMapping({ StartingPosition: 'TRIM_HORIZON', [property]: value })),
    ).rejects.toThrow(message);
    // Their neutral values deploy.
    const neutral = property === 'ParallelizationFactor' ? 1 : 0;
    const deployed = await deploy(streamMapping({ StartingPosition: 'TRIM_HORIZON', [property]: neutral }));
    expect(deployed.mappings).toHaveLength(1);
  });

  test('an S3 bucket is accepted as OnFailure destination of a stream mapping', async () => {
    const deployed = await deploy(
      streamMapping({
        StartingPosition: 'TRIM_HORIZON',
        DestinationConfig: { OnFailure: { Destination: 'arn:aws:s3:::failed-batches' } },
      }),
    );
    expect(deployed.mappings[0]?.config).toMatchObject({
      onFailure: { destinationArn: 'arn:aws:s3:::failed-batches', bucket: 'failed-batches' },
    });
  });
});
