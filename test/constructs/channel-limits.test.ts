/** Message size limits as AWS has them now: SNS large messages opt-in, SQS 1 MiB, passed to producers. */
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { maxMessageBytesOf } from '../../lambdas/producer/limits';
import { PointToPointChannel, PublishSubscribeChannel, TransactionalOutbox } from '../../lib';

const newApp = () => new App({ context: { 'aws:cdk:bundling-stacks': [] } });

function producer(stack: Stack, id = 'Producer'): lambda.Function {
  return new lambda.Function(stack, id, {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => {}'),
  });
}

function environmentOf(template: Template, description: RegExp): Record<string, string> {
  const functions = template.findResources('AWS::Lambda::Function');
  const match = Object.entries(functions).find(([id]) => description.test(id));
  return (match?.[1].Properties.Environment?.Variables ?? {}) as Record<string, string>;
}

describe('channel message size limits', () => {
  test('a large-message topic sets MaximumMessageSize and tells its producers the limit', () => {
    // GIVEN
    const stack = new Stack(newApp(), 'Large');
    const channel = new PublishSubscribeChannel(stack, 'Documents', {
      channelName: 'documents',
      maximumMessageSize: 1_048_576,
    });
    // WHEN
    channel.bindProducer(producer(stack));
    // THEN
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::SNS::Topic', { MaximumMessageSize: 1_048_576 });
    const env = environmentOf(template, /^Producer/);
    expect(env.SWITCHYARD_CHANNEL_DOCUMENTS_MAX_MESSAGE_BYTES).toBe('1048576');
    // The producer's pre-send check (lambdas/producer/limits.ts) reads the limit of the bound address.
    const topicArn = 'arn:aws:sns:us-east-1:123456789012:documents';
    const deployed = {
      SWITCHYARD_CHANNEL_DOCUMENTS: topicArn,
      SWITCHYARD_CHANNEL_DOCUMENTS_MAX_MESSAGE_BYTES: env.SWITCHYARD_CHANNEL_DOCUMENTS_MAX_MESSAGE_BYTES,
    };
    expect(maxMessageBytesOf(topicArn, deployed)).toBe(1_048_576);
    expect(channel.largeMessages).toBe(true);
  });

  test('a default topic keeps the SNS default (no property) and producers learn 262,144', () => {
    const stack = new Stack(newApp(), 'Default');
    const channel = new PublishSubscribeChannel(stack, 'Events', { channelName: 'events' });
    channel.bindProducer(producer(stack));
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::SNS::Topic', { MaximumMessageSize: Match.absent() });
    expect(environmentOf(template, /^Producer/).SWITCHYARD_CHANNEL_EVENTS_MAX_MESSAGE_BYTES).toBe('262144');
  });

  test('a point-to-point channel allows 1 MiB by default, or the size it is given', () => {
    const stack = new Stack(newApp(), 'Queues');
    const big = new PointToPointChannel(stack, 'Big', { channelName: 'big' });
    const small = new PointToPointChannel(stack, 'Small', {
      channelName: 'small',
      maximumMessageSize: 65_536,
    });
    big.bindProducer(producer(stack, 'BigProducer'));
    small.bindProducer(producer(stack, 'SmallProducer'));
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::SQS::Queue', { MaximumMessageSize: 65_536 });
    expect(environmentOf(template, /^BigProducer/).SWITCHYARD_CHANNEL_BIG_MAX_MESSAGE_BYTES).toBe('1048576');
    expect(environmentOf(template, /^SmallProducer/).SWITCHYARD_CHANNEL_SMALL_MAX_MESSAGE_BYTES).toBe(
      '65536',
    );
  });

  test('outbox writers learn the limit of each routed channel, so the unit of work can check it', () => {
    const stack = new Stack(newApp(), 'Outbox');
    const channel = new PublishSubscribeChannel(stack, 'Documents', {
      channelName: 'documents',
      maximumMessageSize: 524_288,
    });
    const outbox = new TransactionalOutbox(stack, 'Outbox', { channels: [channel] });
    outbox.grantWrite(producer(stack, 'Writer'));
    const template = Template.fromStack(stack);
    expect(environmentOf(template, /^Writer/).SWITCHYARD_CHANNEL_DOCUMENTS_MAX_MESSAGE_BYTES).toBe('524288');
  });

  test('fails synth when a large-message topic has a subscription SNS does not allow, naming both', () => {
    const stack = new Stack(newApp(), 'Email');
    const channel = new PublishSubscribeChannel(stack, 'Documents', {
      channelName: 'documents',
      maximumMessageSize: 1_048_576,
    });
    channel.topic.addSubscription(new subscriptions.EmailSubscription('oncall@example.com'));
    expect(() => Template.fromStack(stack)).toThrow(
      /Email\/Documents: maximumMessageSize 1048576 .* admits only SQS, Lambda and Firehose subscriptions; Email\/Documents\/Resource\/oncall@example.com\/Resource uses "email"/,
    );
  });

  test('fails synth when a large-message topic has more than 100 subscriptions', () => {
    const stack = new Stack(newApp(), 'Many');
    const channel = new PublishSubscribeChannel(stack, 'Documents', {
      channelName: 'documents',
      maximumMessageSize: 300_000,
    });
    for (let i = 0; i < 101; i += 1) {
      const queue = new sqs.Queue(stack, `Queue${i}`, { enforceSSL: true });
      channel.topic.addSubscription(new subscriptions.SqsSubscription(queue));
    }
    expect(() => Template.fromStack(stack)).toThrow(/admits at most 100 subscriptions; it has 101/);
  });

  test('the same subscriptions are fine on a topic with the default size', () => {
    const stack = new Stack(newApp(), 'Small');
    const channel = new PublishSubscribeChannel(stack, 'Events', { channelName: 'events' });
    channel.topic.addSubscription(new subscriptions.EmailSubscription('oncall@example.com'));
    expect(() => Template.fromStack(stack)).not.toThrow();
  });

  test('fails at construction on a size SNS or SQS does not allow', () => {
    const stack = new Stack(newApp(), 'Bad');
    expect(
      () =>
        new PublishSubscribeChannel(stack, 'Huge', { channelName: 'huge', maximumMessageSize: 2_000_000 }),
    ).toThrow(
      /Bad\/Huge: 1 invalid setting:\n {2}- maximumMessageSize is 2000000; SNS allows whole numbers of bytes from 1024 to 1048576/,
    );
    expect(
      () => new PointToPointChannel(stack, 'Tiny', { channelName: 'tiny', maximumMessageSize: 100 }),
    ).toThrow(
      /Bad\/Tiny: .*maximumMessageSize is 100; SQS allows whole numbers of bytes from 1024 to 1048576/s,
    );
  });
});
