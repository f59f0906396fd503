import * as path from 'node:path';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { MessageConsumer, PointToPointChannel } from '../../lib';

const ENTRY = path.join(__dirname, '..', '..', 'example', 'functions', 'notifications.ts');
const newStack = () => new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Backoff');

describe('MessageConsumer retryBackoff', () => {
  test('passes the delays to the function, which reschedules failed messages with them', () => {
    const stack = newStack();
    const commands = new PointToPointChannel(stack, 'Commands', { channelName: 'commands' });
    new MessageConsumer(stack, 'Kitchen', {
      consumerName: 'kitchen',
      entry: ENTRY,
      messageTypes: ['CreateTicket'],
      source: commands,
      retryBackoff: { base: Duration.seconds(30), max: Duration.minutes(15) },
    });
    const fn = Object.values(Template.fromStack(stack).findResources('AWS::Lambda::Function'))[0]!;
    expect(fn.Properties.Environment.Variables).toMatchObject({
      SWITCHYARD_RETRY_BASE_SECONDS: '30',
      SWITCHYARD_RETRY_MAX_SECONDS: '900',
    });
  });

  test('fails on delays SQS cannot take, naming the consumer', () => {
    const stack = newStack();
    const commands = new PointToPointChannel(stack, 'Commands', { channelName: 'commands' });
    expect(
      () =>
        new MessageConsumer(stack, 'Kitchen', {
          consumerName: 'kitchen',
          entry: ENTRY,
          messageTypes: ['CreateTicket'],
          source: commands,
          retryBackoff: { base: Duration.minutes(5), max: Duration.hours(13) },
        }),
    ).toThrow(
      /Backoff\/Kitchen: .*retryBackoff is base 300 s, max 46800 s; it needs 1 s <= base <= max <= 43,200 s/s,
    );
  });
});
