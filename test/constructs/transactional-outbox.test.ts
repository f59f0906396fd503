import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { TransactionalOutbox } from '../../lib/transactional-outbox';

function nagFindings(stack: Stack): string[] {
  const findings: string[] = [];
  for (const pack of [new AwsSolutionsChecks(), new ServerlessChecks()]) {
    const report = pack.validateScope(stack);
    for (const violation of report.violations) {
      for (const resource of violation.violatingResources) {
        findings.push(`${violation.ruleName} ${JSON.stringify(resource)}`);
      }
    }
  }
  return findings;
}

function producerFunction(stack: Stack): lambda.Function {
  return new lambda.Function(stack, 'PlaceOrder', {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => {}'),
  });
}

describe('TransactionalOutbox', () => {
  let stack: Stack;
  beforeEach(() => {
    stack = new Stack(new App(), 'Test');
  });

  it('creates a streamed table, a relay on its stream with bisect, partial failures, retries, OnFailure and the TTL filter', () => {
    // GIVEN
    const topic = new sns.Topic(stack, 'OrderEvents', { enforceSSL: true });
    // WHEN
    const outbox = new TransactionalOutbox(stack, 'Outbox', {
      mode: 'in-item',
      channels: [{ name: 'order-events', topic }],
    });
    const fn = producerFunction(stack);
    outbox.grantWrite(fn);
    // THEN
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      BillingMode: 'PAY_PER_REQUEST',
      StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
    });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BisectBatchOnFunctionError: true,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      MaximumRetryAttempts: 10,
      MaximumRecordAgeInSeconds: 86400,
      StartingPosition: 'TRIM_HORIZON',
      DestinationConfig: { OnFailure: { Destination: Match.anyValue() } },
      FilterCriteria: { Filters: [{ Pattern: JSON.stringify({ eventName: ['INSERT', 'MODIFY'] }) }] },
    });
    template.hasResourceProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: 'sns:Publish' })]) },
    });
    // The relay's parking: attempt counters, stored payloads and park markers (read back on a retry).
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Action: ['dynamodb:UpdateItem', 'dynamodb:PutItem', 'dynamodb:GetItem'] }),
        ]),
      },
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          SWITCHYARD_OUTBOX_TABLE: Match.anyValue(),
          SWITCHYARD_OUTBOX_MODE: 'in-item',
          SWITCHYARD_OUTBOX_RELAY: 'log-tailing',
          SWITCHYARD_CHANNEL_ORDER_EVENTS: Match.anyValue(),
        }),
      },
    });
    expect(outbox.metricIteratorAge().metricName).toBe('IteratorAge');
  });

  it('passes cdk-nag AwsSolutions and Serverless checks with reasoned acknowledgements only', () => {
    const secure = { enforceSSL: true, encryption: sqs.QueueEncryption.SQS_MANAGED };
    const dlq = new sqs.Queue(stack, 'KitchenDlq', secure);
    const queue = new sqs.Queue(stack, 'Kitchen', {
      ...secure,
      deadLetterQueue: { queue: dlq, maxReceiveCount: 5 },
    });
    new TransactionalOutbox(stack, 'Outbox', { channels: [{ name: 'kitchen', queue }] });
    const polled = new TransactionalOutbox(stack, 'Polled', { relay: 'polling' });
    expect(polled.schedule).toBeDefined();
    const findings = nagFindings(stack);
    // The test's own DLQ is the only finding outside the construct.
    expect(findings.filter((f) => !f.includes('KitchenDlq'))).toEqual([]);
  });

  it('polling creates the sparse index and a one-minute schedule', () => {
    new TransactionalOutbox(stack, 'Outbox', { relay: 'polling', pollingInterval: Duration.minutes(2) });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      GlobalSecondaryIndexes: [
        Match.objectLike({
          IndexName: 'outbox-unpublished',
          KeySchema: [
            { AttributeName: 'unpublished', KeyType: 'HASH' },
            { AttributeName: 'pollKey', KeyType: 'RANGE' },
          ],
        }),
      ],
    });
    template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(2 minutes)' });
    template.resourceCountIs('AWS::Lambda::EventSourceMapping', 0);
  });

  it('fails for in-item on a table streaming only new images', () => {
    const table = new dynamodb.Table(stack, 'Orders', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
      stream: dynamodb.StreamViewType.NEW_IMAGE,
    });
    expect(() => new TransactionalOutbox(stack, 'Outbox', { table, mode: 'in-item' })).toThrow(
      /Test\/Outbox.*streams NEW_IMAGE, but mode 'in-item' needs NEW_AND_OLD_IMAGES/s,
    );
  });

  it('accepts outbox items on a table streaming new images', () => {
    const table = new dynamodb.Table(stack, 'Orders', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
      stream: dynamodb.StreamViewType.NEW_IMAGE,
      timeToLiveAttribute: 'expiresAt',
    });
    const outbox = new TransactionalOutbox(stack, 'Outbox', { table });
    expect(outbox.table).toBe(table);
  });

  it('fails for log-tailing without a stream, and for polling without the index', () => {
    const table = new dynamodb.Table(stack, 'Orders', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
      timeToLiveAttribute: 'expiresAt',
    });
    expect(() => new TransactionalOutbox(stack, 'A', { table })).toThrow(/Test\/A.*needs a stream/s);
    expect(() => new TransactionalOutbox(stack, 'B', { table, relay: 'polling' })).toThrow(
      /Test\/B.*needs the sparse index "outbox-unpublished".*addPollingIndex/s,
    );
    TransactionalOutbox.addPollingIndex(table);
    expect(() => new TransactionalOutbox(stack, 'C', { table, relay: 'polling' })).not.toThrow();
  });

  it("fails on a table without TTL on expiresAt, where the relay's attempt counters would pile up", () => {
    const table = new dynamodb.Table(stack, 'Orders', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
      stream: dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
    });
    expect(() => new TransactionalOutbox(stack, 'Outbox', { table, mode: 'in-item' })).toThrow(
      /Test\/Outbox.*table Test\/Orders has no TTL on "expiresAt".*attempt counters.*timeToLiveAttribute: 'expiresAt'/s,
    );
  });

  it('fails for in-item with polling, and collects every problem in one error', () => {
    expect(
      () => new TransactionalOutbox(stack, 'Outbox', { mode: 'in-item', relay: 'polling', maxAttempts: 0 }),
    ).toThrow(/2 invalid settings.*'in-item' with relay 'polling' cannot work.*maxAttempts 0/s);
  });

  it('fails for outbox items on a table without sort key', () => {
    const table = new dynamodb.Table(stack, 'Orders', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      stream: dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
    });
    expect(() => new TransactionalOutbox(stack, 'Outbox', { table })).toThrow(
      /needs a table with a sort key/,
    );
  });
});
