import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { nagPacks, PointToPointChannel } from '../../lib';

const nagViolations = (stack: Stack) => nagPacks().flatMap((pack) => pack.validateScope(stack).violations);

describe('PointToPointChannel', () => {
  // GIVEN a standard and a FIFO channel with fixed queue names, a sender, an export and imports
  const app = new App();
  const stack = new Stack(app, 'Queues');
  const commands = new PointToPointChannel(stack, 'KitchenCommands', {
    channelName: 'kitchen-commands',
    queueName: 'kitchen-commands',
    visibilityTimeout: Duration.seconds(120),
  });
  new PointToPointChannel(stack, 'Ordered', {
    channelName: 'ordered',
    queueName: 'ordered',
    fifo: true,
    maxReceiveCount: 3,
  });
  const sender = new iam.Role(stack, 'Sender', { assumedBy: new iam.AccountRootPrincipal() });
  commands.grantSend(sender);
  commands.exportToSsm();
  const importStack = new Stack(app, 'Importer');
  const byArn = PointToPointChannel.fromChannelArn(
    importStack,
    'ByArn',
    'arn:aws:sqs:eu-west-1:123456789012:kitchen-commands',
  );
  const bySsm = PointToPointChannel.fromSsmParameter(
    importStack,
    'BySsm',
    '/switchyard/Queues/channels/ordered.fifo',
  );
  bySsm.grantSend(new iam.Role(importStack, 'Importer', { assumedBy: new iam.AccountRootPrincipal() }));
  const template = Template.fromStack(stack);
  const imports = Template.fromStack(importStack);

  test('queues and DLQs use SQS-managed SSE; DLQs keep messages 14 days', () => {
    template.resourceCountIs('AWS::SQS::Queue', 4);
    template.allResourcesProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true });
    template.hasResourceProperties('AWS::SQS::Queue', {
      QueueName: 'kitchen-commands-dlq',
      MessageRetentionPeriod: 1209600,
    });
  });

  test('redrives to the DLQ after 5 receives by default and keeps the FIFO flag on both', () => {
    template.hasResourceProperties('AWS::SQS::Queue', {
      QueueName: 'kitchen-commands',
      VisibilityTimeout: 120,
      RedrivePolicy: { deadLetterTargetArn: Match.anyValue(), maxReceiveCount: 5 },
    });
    template.hasResourceProperties('AWS::SQS::Queue', {
      QueueName: 'ordered.fifo',
      FifoQueue: true,
      DeduplicationScope: 'messageGroup',
      FifoThroughputLimit: 'perMessageGroupId',
      RedrivePolicy: { maxReceiveCount: 3, deadLetterTargetArn: Match.anyValue() },
    });
    template.hasResourceProperties('AWS::SQS::Queue', { QueueName: 'ordered-dlq.fifo', FifoQueue: true });
  });

  test('denies every non-TLS request', () => {
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  test('grantSend gives sqs:SendMessage on the queue', () => {
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({ Action: Match.arrayWith(['sqs:SendMessage']) })]),
      },
    });
  });

  test('exports to SSM and imports from an ARN or SSM', () => {
    template.hasResourceProperties('AWS::SSM::Parameter', {
      Name: '/switchyard/Queues/channels/kitchen-commands',
    });
    expect([byArn.channelName, byArn.fifo, byArn.environmentVariable]).toEqual([
      'kitchen-commands',
      false,
      'SWITCHYARD_CHANNEL_KITCHEN_COMMANDS',
    ]);
    expect([bySsm.channelName, bySsm.fifo]).toEqual(['ordered', true]);
    imports.hasParameter('*', { Default: '/switchyard/Queues/channels/ordered.fifo' });
  });

  test('is cdk-nag clean', () => {
    expect(nagViolations(stack)).toEqual([]);
    expect(nagViolations(importStack)).toEqual([]);
  });

  test('fails on a bad name, a DLQ of the other type and a bad maxReceiveCount, all at once', () => {
    const bad = new Stack(new App(), 'Bad');
    const fifoDlq = new sqs.Queue(bad, 'FifoDlq', { fifo: true });
    expect(
      () =>
        new PointToPointChannel(bad, 'Cmds', {
          channelName: 'a'.repeat(80),
          deadLetterQueue: fifoDlq,
          maxReceiveCount: 0,
        }),
    ).toThrow(
      /^Bad\/Cmds: 3 invalid settings:\n.*channelName "a+" is not allowed: use 1-76 characters.*deadLetterQueue is FIFO but the channel is standard.*maxReceiveCount is 0; SQS allows 1-1000/s,
    );
  });

  test('fails on contentBasedDeduplication without FIFO', () => {
    const bad = new Stack(new App(), 'Bad');
    expect(
      () => new PointToPointChannel(bad, 'Q', { channelName: 'q', contentBasedDeduplication: true }),
    ).toThrow(/Bad\/Q: .*only FIFO queues deduplicate/s);
  });
});
