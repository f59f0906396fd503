import { App, Duration, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { ProcessedMessagesTable } from '../../lib/processed-messages-table';

const ITEM_ACTIONS = [
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:GetItem',
  'dynamodb:ConditionCheckItem',
];

describe('ProcessedMessagesTable', () => {
  it('creates an encrypted on-demand table with TTL and point-in-time recovery', () => {
    // GIVEN
    const stack = new Stack();
    // WHEN
    new ProcessedMessagesTable(stack, 'Processed');
    // THEN
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::DynamoDB::Table', 1);
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true },
    });
    template.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Retain' });
  });

  it('grants only the item actions of duplicate detection, on the table only', () => {
    const stack = new Stack();
    const table = new ProcessedMessagesTable(stack, 'Processed');
    const role = new iam.Role(stack, 'Consumer', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    });
    table.grantDeduplication(role);
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: [
          {
            Action: ITEM_ACTIONS,
            Effect: 'Allow',
            Resource: [{ 'Fn::GetAtt': [Match.stringLikeRegexp('^Processed'), 'Arn'] }],
          },
        ],
      },
    });
  });

  it('binds a function: table name and retention in the environment, and the grant', () => {
    const stack = new Stack();
    const table = new ProcessedMessagesTable(stack, 'Processed', { retention: Duration.days(20) });
    const fn = new lambda.Function(stack, 'Kitchen', {
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('exports.handler = async () => undefined;'),
    });
    table.bindTo(fn);
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: {
          SWITCHYARD_PROCESSED_MESSAGES_TABLE: { Ref: Match.stringLikeRegexp('^Processed') },
          SWITCHYARD_PROCESSED_MESSAGES_TTL_SECONDS: String(20 * 86400),
        },
      },
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: ITEM_ACTIONS })]) },
    });
  });

  it('warns when the retention is shorter than SQS retention', () => {
    const stack = new Stack();
    new ProcessedMessagesTable(stack, 'Processed', { retention: Duration.days(3) });
    Annotations.fromStack(stack).hasWarning(
      '/Default/Processed',
      Match.stringLikeRegexp("shorter than SQS's 14-day maximum"),
    );
  });

  it('fails on a retention below one day, naming the construct', () => {
    const stack = new Stack();
    expect(() => new ProcessedMessagesTable(stack, 'Processed', { retention: Duration.hours(2) })).toThrow(
      /Default\/Processed: 1 invalid setting[\s\S]*retention 2 hours is not allowed: use 1 day to 365 days/,
    );
  });

  it('fails on a retention above 365 days and a bad table name, listing both', () => {
    const stack = new Stack();
    expect(
      () =>
        new ProcessedMessagesTable(stack, 'Processed', { retention: Duration.days(400), tableName: 'a b' }),
    ).toThrow(/2 invalid settings[\s\S]*365 days[\s\S]*tableName "a b" is not allowed/);
  });

  it('passes the AwsSolutions and Serverless cdk-nag packs with no findings', () => {
    const stack = new Stack(new App(), 'Nag');
    const table = new ProcessedMessagesTable(stack, 'Processed');
    table.grantDeduplication(
      new iam.Role(stack, 'Consumer', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') }),
    );
    const findings: string[] = [];
    for (const pack of [new AwsSolutionsChecks(), new ServerlessChecks()]) {
      const report = pack.validateScope(stack);
      for (const violation of report.violations) {
        for (const resource of violation.violatingResources) {
          findings.push(`${violation.ruleName} ${JSON.stringify(resource)}`);
        }
      }
    }
    expect(findings).toEqual([]);
  });
});
