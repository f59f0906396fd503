import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { nagPacks, PublishSubscribeChannel } from '../../lib';

const nagViolations = (stack: Stack) => nagPacks().flatMap((pack) => pack.validateScope(stack).violations);

describe('PublishSubscribeChannel', () => {
  // GIVEN one stack with a FIFO and a standard channel, a publisher, an export and two imports
  const app = new App();
  const stack = new Stack(app, 'Channels');
  const fifo = new PublishSubscribeChannel(stack, 'OrderEvents', {
    channelName: 'order-events',
    topicName: 'order-events',
    fifo: true,
  });
  const standard = new PublishSubscribeChannel(stack, 'KitchenEvents', {
    channelName: 'kitchen-events',
    topicName: 'kitchen-events',
  });
  const publisher = new iam.Role(stack, 'Publisher', { assumedBy: new iam.AccountRootPrincipal() });
  standard.grantPublish(publisher);
  fifo.exportToSsm();
  const importStack = new Stack(app, 'Importer');
  const byArn = PublishSubscribeChannel.fromChannelArn(
    importStack,
    'ByArn',
    'arn:aws:sns:eu-west-1:123456789012:order-events.fifo',
  );
  const bySsm = PublishSubscribeChannel.fromSsmParameter(
    importStack,
    'BySsm',
    '/switchyard/Channels/channels/order-events.fifo',
  );
  const importer = new iam.Role(importStack, 'Importer', { assumedBy: new iam.AccountRootPrincipal() });
  bySsm.grantPublish(importer);
  const template = Template.fromStack(stack);
  const imports = Template.fromStack(importStack);

  test('encrypts each topic with its own rotating key that SNS may use', () => {
    template.resourceCountIs('AWS::KMS::Key', 2);
    template.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Principal: { Service: 'sns.amazonaws.com' },
            Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          }),
        ]),
      },
    });
    template.hasResourceProperties('AWS::SNS::Topic', {
      TopicName: 'order-events.fifo',
      FifoTopic: true,
      FifoThroughputScope: 'MessageGroup',
      KmsMasterKeyId: Match.anyValue(),
    });
    template.hasResourceProperties('AWS::SNS::Topic', {
      TopicName: 'kitchen-events',
      KmsMasterKeyId: Match.anyValue(),
    });
  });

  test('allows only TLS publishing', () => {
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  test('grantPublish gives sns:Publish and exact key actions (no wildcard)', () => {
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Action: 'sns:Publish' }),
          Match.objectLike({ Action: ['kms:Decrypt', 'kms:GenerateDataKey'] }),
        ]),
      },
    });
  });

  test('exports the topic and key ARNs to SSM under the default name', () => {
    template.hasResourceProperties('AWS::SSM::Parameter', {
      Name: '/switchyard/Channels/channels/order-events.fifo',
    });
    template.hasResourceProperties('AWS::SSM::Parameter', {
      Name: '/switchyard/Channels/channels/order-events.fifo/kms-key-arn',
    });
  });

  test('imports from an ARN and from SSM keep the name and FIFO flag', () => {
    expect([byArn.channelName, byArn.fifo, byArn.environmentVariable]).toEqual([
      'order-events',
      true,
      'SWITCHYARD_CHANNEL_ORDER_EVENTS',
    ]);
    expect([bySsm.channelName, bySsm.fifo]).toEqual(['order-events', true]);
    imports.hasParameter('*', {
      Type: 'AWS::SSM::Parameter::Value<String>',
      Default: '/switchyard/Channels/channels/order-events.fifo',
    });
    imports.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({ Action: ['kms:Decrypt', 'kms:GenerateDataKey'] })]),
      },
    });
  });

  test('is cdk-nag clean', () => {
    expect(nagViolations(stack)).toEqual([]);
    expect(nagViolations(importStack)).toEqual([]);
  });

  test('fails on a bad channel name, naming the construct and the fix', () => {
    const bad = new Stack(new App(), 'Bad');
    expect(() => new PublishSubscribeChannel(bad, 'Oops', { channelName: 'order events!' })).toThrow(
      /^Bad\/Oops: .*channelName "order events!" is not allowed: use 1-256 characters.*e\.g\. "order-events-"/s,
    );
    expect(
      () => new PublishSubscribeChannel(bad, 'Long', { channelName: 'a'.repeat(252), fifo: true }),
    ).toThrow(/1-251 characters.*\.fifo/s);
  });

  test('fails on FIFO-only settings for a standard topic, listing every problem once', () => {
    const bad = new Stack(new App(), 'Bad');
    expect(
      () =>
        new PublishSubscribeChannel(bad, 'Std', {
          channelName: 'std',
          contentBasedDeduplication: true,
          fifoThroughputScope: undefined,
        }),
    ).toThrow(/Bad\/Std: 1 invalid setting:\n {2}- contentBasedDeduplication is true but fifo is false/);
  });
});
