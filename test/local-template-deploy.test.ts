// biome-ignore-all lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub strings, not JS templates
/**
 * deployStack on small hand-written templates, into the shared emulators: what is created, what is
 * listed as not emulated, which properties warn, conditions, and definitions for functions,
 * mappings and schedules.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetSubscriptionAttributesCommand, SNSClient } from '@aws-sdk/client-sns';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { deployStack, emptyInventory } from '../local/template/deployer';
import type { AssemblyStack, CfnTemplate } from '../local/template/types';
import { dynamodbEndpoint, snsSqsEndpoint, uniqueName } from './support/emulators';

const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
const clients = {
  sqs: new SQSClient({ endpoint: snsSqsEndpoint(), region: 'us-east-1', credentials }),
  sns: new SNSClient({ endpoint: snsSqsEndpoint(), region: 'us-east-1', credentials }),
  dynamodb: new DynamoDBClient({ endpoint: dynamodbEndpoint(), region: 'us-east-1', credentials }),
};

function stackOf(template: CfnTemplate): AssemblyStack {
  const assemblyDir = mkdtempSync(join(tmpdir(), 'switchyard-deploy-test-'));
  return {
    stackName: uniqueName('Deploy'),
    displayName: 'Deploy',
    template,
    assemblyDir,
    fileAssets: new Map(),
  };
}

describe('deployStack', () => {
  afterAll(() => {
    for (const client of Object.values(clients)) client.destroy();
  });

  test('creates queues and subscriptions in dependency order, lists unsupported types once, warns on behaviour', async () => {
    const stack = stackOf({
      Parameters: { Retention: { Type: 'Number', Default: 600 } },
      Conditions: { Never: { 'Fn::Equals': ['a', 'b'] } },
      Resources: {
        Sub: {
          Type: 'AWS::SNS::Subscription',
          Properties: {
            TopicArn: { Ref: 'Topic' },
            Protocol: 'sqs',
            Endpoint: { 'Fn::GetAtt': ['Queue', 'Arn'] },
            FilterPolicyScope: 'MessageBody',
            FilterPolicy: { kind: ['a'] },
            RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': ['Dlq', 'Arn'] } },
            DeliveryPolicy: { healthyRetryPolicy: { numRetries: 3 } },
          },
        },
        Queue: {
          Type: 'AWS::SQS::Queue',
          Properties: {
            MessageRetentionPeriod: { Ref: 'Retention' },
            DelaySeconds: 2,
            KmsMasterKeyId: 'alias/aws/sqs',
            RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': ['Dlq', 'Arn'] }, maxReceiveCount: 4 },
          },
        },
        Dlq: {
          Type: 'AWS::SQS::Queue',
          Properties: { QueueName: { 'Fn::Sub': '${AWS::StackName}-explicit-dlq' } },
        },
        Topic: { Type: 'AWS::SNS::Topic' },
        Skipped: { Type: 'AWS::SQS::Queue', Condition: 'Never' },
        RoleA: { Type: 'AWS::IAM::Role', Properties: {} },
        RoleB: { Type: 'AWS::IAM::Role', Properties: {} },
        Alarm: { Type: 'AWS::CloudWatch::Alarm', Properties: {} },
      },
      Outputs: {
        QueueUrl: { Value: { Ref: 'Queue' } },
        DlqName: { Value: { 'Fn::GetAtt': ['Dlq', 'QueueName'] } },
        RoleArn: { Value: { 'Fn::GetAtt': ['RoleA', 'Arn'] } },
      },
    });
    const inventory = emptyInventory();
    const deployed = await deployStack(stack, { clients, inventory, region: 'us-east-1' });

    expect(Object.fromEntries(deployed.unsupported)).toEqual({
      'AWS::IAM::Role': ['RoleA', 'RoleB'],
      'AWS::CloudWatch::Alarm': ['Alarm'],
    });
    expect(deployed.resources.has('Skipped')).toBe(false);
    expect(deployed.warnings).toEqual([
      expect.stringMatching(/Sub \(AWS::SNS::Subscription\) property DeliveryPolicy is not emulated/),
    ]);
    expect(deployed.notes).toEqual(['AWS::SQS::Queue.KmsMasterKeyId']);
    expect(deployed.outputs.DlqName).toBe(`${stack.stackName}-explicit-dlq`);
    expect(deployed.outputs.RoleArn).toMatch(/^arn:aws:iam:us-east-1:000000000000:.*RoleA/);

    const { Attributes = {} } = await clients.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: String(deployed.outputs.QueueUrl), AttributeNames: ['All'] }),
    );
    expect(Attributes.MessageRetentionPeriod).toBe('600');
    expect(Attributes.DelaySeconds).toBe('2');
    const dlq = inventory.queues.find((q) => q.logicalId === 'Dlq')!;
    expect(JSON.parse(Attributes.RedrivePolicy!)).toMatchObject({
      deadLetterTargetArn: dlq.arn,
      maxReceiveCount: 4,
    });

    const subscription = inventory.subscriptions[0]!;
    const sub = await clients.sns.send(
      new GetSubscriptionAttributesCommand({ SubscriptionArn: subscription.arn }),
    );
    expect(sub.Attributes?.FilterPolicyScope).toBe('MessageBody');
    expect(JSON.parse(sub.Attributes?.RedrivePolicy ?? '{}')).toEqual({ deadLetterTargetArn: dlq.arn });
  });

  test('turns functions, mappings and rate rules into definitions with resolved values', async () => {
    const stack = stackOf({
      Resources: {
        Fn: {
          Type: 'AWS::Lambda::Function',
          Properties: {
            Runtime: 'nodejs22.x',
            Handler: 'index.handler',
            Code: { ZipFile: 'exports.handler = async () => 1;' },
            Timeout: 9,
            ReservedConcurrentExecutions: 2,
            Environment: { Variables: { QUEUE: { Ref: 'Queue' }, REGION: { Ref: 'AWS::Region' } } },
          },
        },
        Py: {
          Type: 'AWS::Lambda::Function',
          Properties: { Runtime: 'python3.12', Handler: 'x.y', Code: { ZipFile: '' } },
        },
        Queue: { Type: 'AWS::SQS::Queue', Properties: { FifoQueue: true } },
        Mapping: {
          Type: 'AWS::Lambda::EventSourceMapping',
          Properties: {
            EventSourceArn: { 'Fn::GetAtt': ['Queue', 'Arn'] },
            FunctionName: { Ref: 'Fn' },
            BatchSize: 7,
            FunctionResponseTypes: ['ReportBatchItemFailures'],
            ScalingConfig: { MaximumConcurrency: 3 },
          },
        },
        Every5: {
          Type: 'AWS::Events::Rule',
          Properties: {
            ScheduleExpression: 'rate(5 minutes)',
            Targets: [{ Id: 't', Arn: { 'Fn::GetAtt': ['Fn', 'Arn'] }, Input: '{"tick":1}' }],
          },
        },
        Cron: {
          Type: 'AWS::Events::Rule',
          Properties: {
            ScheduleExpression: 'cron(0 12 * * ? *)',
            Targets: [{ Id: 't', Arn: { 'Fn::GetAtt': ['Fn', 'Arn'] } }],
          },
        },
      },
    });
    const deployed = await deployStack(stack, { clients, inventory: emptyInventory(), region: 'us-east-1' });
    const [fn] = deployed.functions;
    expect(deployed.functions).toHaveLength(1);
    expect(fn).toMatchObject({
      logicalId: 'Fn',
      name: `${stack.stackName}-Fn`,
      timeoutSeconds: 9,
      reservedConcurrency: 2,
    });
    expect(fn!.environment).toEqual({
      QUEUE: expect.stringMatching(/\/000000000000\/Deploy-.*-Queue\.fifo$/),
      REGION: 'us-east-1',
    });
    expect(deployed.mappings).toEqual([
      {
        kind: 'sqs',
        logicalId: 'Mapping',
        config: expect.objectContaining({
          functionName: fn!.name,
          batchSize: 7,
          reportBatchItemFailures: true,
          maximumConcurrency: 3,
        }),
      },
    ]);
    expect(deployed.schedules).toEqual([
      {
        logicalId: 'Every5',
        expression: 'rate(5 minutes)',
        intervalMs: 300_000,
        functionName: fn!.name,
        event: { tick: 1 },
      },
    ]);
    expect(deployed.warnings).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/Py: runtime "python3.12" does not run locally/),
        expect.stringMatching(/Cron: schedule "cron\(0 12 \* \* \? \*\)" is not emulated/),
      ]),
    );
  });

  test('fails naming the resource when a reference cannot be resolved', async () => {
    const stack = stackOf({
      Resources: { Queue: { Type: 'AWS::SQS::Queue', Properties: { DelaySeconds: { Ref: 'Missing' } } } },
    });
    await expect(
      deployStack(stack, { clients, inventory: emptyInventory(), region: 'us-east-1' }),
    ).rejects.toThrow(
      /Creating Queue \(AWS::SQS::Queue\) failed: Reference to Missing, which is neither a resource nor a parameter/,
    );
  });
});
