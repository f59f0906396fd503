import * as path from 'node:path';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import {
  MessageConsumer,
  type MessageConsumerProps,
  nagPacks,
  PointToPointChannel,
  PublishSubscribeChannel,
} from '../../lib';

const ENTRY = path.join(__dirname, '..', '..', 'example', 'functions', 'notifications.ts');
// Construct tests check wiring, not bundles (example-app.test.ts bundles for real): skip esbuild.
const newApp = () => new App({ context: { 'aws:cdk:bundling-stacks': [] } });
const nagViolations = (stack: Stack) => nagPacks().flatMap((pack) => pack.validateScope(stack).violations);

describe('MessageConsumer', () => {
  // GIVEN a FIFO and a standard topic, a command queue and three consumers
  const stack = new Stack(newApp(), 'Consumers');
  const orderEvents = new PublishSubscribeChannel(stack, 'OrderEvents', {
    channelName: 'order-events',
    fifo: true,
  });
  const kitchenEvents = new PublishSubscribeChannel(stack, 'KitchenEvents', {
    channelName: 'kitchen-events',
  });
  const commands = new PointToPointChannel(stack, 'Commands', { channelName: 'kitchen-commands' });
  const history = new MessageConsumer(stack, 'History', {
    consumerName: 'order-history',
    entry: ENTRY,
    messageTypes: ['OrderCreated', 'OrderApproved'],
    subscribeTo: [orderEvents],
    ordered: true,
    timeout: Duration.seconds(20),
    maxConcurrency: 5,
  });
  new MessageConsumer(stack, 'Notifications', {
    consumerName: 'notifications',
    entry: ENTRY,
    messageTypes: ['TicketAccepted'],
    subscribeTo: [kitchenEvents, orderEvents],
    batchSize: 100,
    maxBatchingWindow: Duration.seconds(2),
  });
  const kitchen = new MessageConsumer(stack, 'Kitchen', {
    consumerName: 'kitchen',
    entry: ENTRY,
    messageTypes: ['CreateTicket'],
    source: commands,
  });
  const template = Template.fromStack(stack);

  test('subscribes with raw delivery, a message-type filter and the DLQ as redrive target', () => {
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'sqs',
      RawMessageDelivery: true,
      FilterPolicy: { 'message-type': ['OrderCreated', 'OrderApproved'] },
      RedrivePolicy: { deadLetterTargetArn: Match.anyValue() },
    });
    template.resourceCountIs('AWS::SNS::Subscription', 3);
  });

  test('gives an ordered consumer a FIFO queue with visibility 6x its timeout and a FIFO DLQ', () => {
    template.hasResourceProperties('AWS::SQS::Queue', {
      FifoQueue: true,
      VisibilityTimeout: 120,
      SqsManagedSseEnabled: true,
      RedrivePolicy: { maxReceiveCount: 5, deadLetterTargetArn: Match.anyValue() },
    });
    expect(history.fifo).toBe(true);
    expect(history.deadLetterQueue.fifo).toBe(true);
  });

  test('the queue policy lets only the subscribed topic send, and only over TLS', () => {
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          Match.objectLike({
            Action: 'sqs:SendMessage',
            Principal: { Service: 'sns.amazonaws.com' },
            Condition: { ArnEquals: { 'aws:SourceArn': { Ref: Match.stringLikeRegexp('OrderEvents') } } },
          }),
        ]),
      },
    });
  });

  test('the event source reports batch item failures with the configured batch and concurrency', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BatchSize: 10,
      ScalingConfig: { MaximumConcurrency: 5 },
    });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 100,
      MaximumBatchingWindowInSeconds: 2,
    });
  });

  test('the function runs nodejs22.x on arm64 with its consumer name and a log group kept one month', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Timeout: 20,
      MemorySize: 512,
      TracingConfig: { Mode: 'Active' },
      Environment: { Variables: Match.objectLike({ SWITCHYARD_CONSUMER_NAME: 'order-history' }) },
    });
    template.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
    template.resourcePropertiesCountIs('AWS::IAM::Role', { ManagedPolicyArns: Match.anyValue() }, 0);
  });

  test('a command consumer drains the channel queue', () => {
    expect(kitchen.queue).toBe(commands.queue);
    expect(kitchen.deadLetterQueue).toBe(commands.deadLetterQueue);
  });

  test('warns when a FIFO topic feeds a standard queue without ordered', () => {
    Annotations.fromStack(stack).hasWarning(
      '/Consumers/Notifications',
      Match.stringLikeRegexp('Channel "order-events" is FIFO but this consumer\'s queue is standard'),
    );
  });

  test('is cdk-nag clean', () => {
    expect(nagViolations(stack)).toEqual([]);
  });

  describe('validation', () => {
    /** Builds a consumer named C in a fresh stack `Bad`, subscribed to a FIFO or a standard topic. */
    const make = (props: Partial<MessageConsumerProps>, topic: 'fifo' | 'standard' = 'standard') => {
      const s = new Stack(newApp(), 'Bad');
      const channel = new PublishSubscribeChannel(s, 'Topic', {
        channelName: topic === 'fifo' ? 'fifo' : 'std',
        fifo: topic === 'fifo',
      });
      return () =>
        new MessageConsumer(s, 'C', {
          consumerName: 'c',
          entry: ENTRY,
          messageTypes: ['T'],
          subscribeTo: [channel],
          ...props,
        });
    };

    test('fails when order is required but the queue is standard', () => {
      expect(make({ ordered: true, fifo: false }, 'fifo')).toThrow(
        /^Bad\/C: .*ordered is true but the queue is standard while channel "fifo" is FIFO/s,
      );
    });

    test('fails on a standard topic feeding a FIFO queue', () => {
      expect(make({ fifo: true })).toThrow(
        /channel "std" is a standard topic but the consumer's queue is FIFO/,
      );
    });

    test('fails on a DLQ of the other type', () => {
      const s = new Stack(newApp(), 'Bad');
      const std = new PublishSubscribeChannel(s, 'Std', { channelName: 'std' });
      const fifoDlq = new sqs.Queue(s, 'Dlq', { fifo: true });
      expect(
        () =>
          new MessageConsumer(s, 'C', {
            consumerName: 'c',
            entry: ENTRY,
            messageTypes: ['T'],
            subscribeTo: [std],
            deadLetterQueue: fifoDlq,
          }),
      ).toThrow(/deadLetterQueue is FIFO but the consumer's queue is standard/);
    });

    test('fails on a bad name and no message types, in one error', () => {
      expect(make({ consumerName: 'bad name', messageTypes: [] })).toThrow(
        /Bad\/C: 2 invalid settings:.*consumerName "bad name" is not allowed.*handles no message types/s,
      );
    });

    test('fails when the visibility timeout is under 6x the function timeout', () => {
      expect(make({ timeout: Duration.seconds(60), visibilityTimeout: Duration.seconds(120) })).toThrow(
        /visibilityTimeout is 120 s but the function timeout is 60 s: it must be at least 6x \(360 s\)/,
      );
    });

    test('fails on a function timeout over 900 s', () => {
      expect(make({ timeout: Duration.seconds(901) })).toThrow(
        /timeout is 901 s; Lambda allows at most 900 s/,
      );
    });

    test('fails on batch size over 10 on FIFO, and over 10 without a window on standard', () => {
      expect(make({ ordered: true, batchSize: 20 }, 'fifo')).toThrow(
        /batchSize is 20 on a FIFO queue; SQS allows 1-10/,
      );
      expect(make({ batchSize: 20 })).toThrow(/batchSize is 20 without maxBatchingWindow/);
    });

    test('fails on maxConcurrency out of 2-1000', () => {
      expect(make({ maxConcurrency: 1 })).toThrow(/maxConcurrency is 1; SQS event sources allow 2-1000/);
      expect(make({ maxConcurrency: 1001 })).toThrow(/maxConcurrency is 1001/);
    });
  });
});
