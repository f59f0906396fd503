import * as path from 'node:path';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import {
  BackboneMonitoring,
  createTopicKey,
  MessageConsumer,
  nagPacks,
  PointToPointChannel,
  PublishSubscribeChannel,
  TransactionalOutbox,
} from '../../lib';

const ENTRY = path.join(__dirname, '..', '..', 'example', 'functions', 'notifications.ts');
// Construct tests check wiring, not bundles: skip esbuild.
const newApp = () => new App({ context: { 'aws:cdk:bundling-stacks': [] } });

/** A small backbone: a FIFO topic with a consumer, a command channel with a consumer, two outboxes. */
function backbone(stack: Stack) {
  const events = new PublishSubscribeChannel(stack, 'Events', { channelName: 'events', fifo: true });
  const commands = new PointToPointChannel(stack, 'Commands', { channelName: 'commands' });
  new MessageConsumer(stack, 'History', {
    consumerName: 'history',
    entry: ENTRY,
    messageTypes: ['OrderCreated'],
    subscribeTo: [events],
    ordered: true,
  });
  new MessageConsumer(stack, 'Kitchen', {
    consumerName: 'kitchen',
    entry: ENTRY,
    messageTypes: ['CreateTicket'],
    source: commands,
  });
  new TransactionalOutbox(stack, 'TailingOutbox', { channels: [events] });
  new TransactionalOutbox(stack, 'PollingOutbox', { relay: 'polling', channels: [commands] });
  return { events, commands };
}

function alarmTopic(stack: Stack): { topic: sns.Topic; key: kms.Key } {
  const key = createTopicKey(stack, 'OnCallKey', 'Encrypts the on-call topic');
  return { key, topic: new sns.Topic(stack, 'OnCall', { masterKey: key, enforceSSL: true }) };
}

describe('BackboneMonitoring', () => {
  // GIVEN a backbone and an encrypted on-call topic
  const stack = new Stack(newApp(), 'Monitored');
  backbone(stack);
  const { topic } = alarmTopic(stack);
  // WHEN one call monitors it
  const monitoring = new BackboneMonitoring(stack, 'Monitoring', {
    alarmTopic: topic,
    thresholds: { oldestMessageAge: Duration.minutes(10) },
  });
  const template = Template.fromStack(stack);

  test('wires the alarms of every construct, one per failure mode', () => {
    // events: delivery failed (1); commands: DLQ (1); history: DLQ, age, errors, ESM (4);
    // kitchen: age, errors, ESM (3, its DLQ is the channel's); tailing outbox: failure queue,
    // errors, iterator age (3); polling outbox: failure queue, errors, unpublished age (3).
    expect(monitoring.alarms).toHaveLength(15);
    template.resourceCountIs('AWS::CloudWatch::Alarm', 15);
  });

  test('a DLQ alarm fires on the first message', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Statistic: 'Maximum',
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 1,
      TreatMissingData: 'notBreaching',
      AlarmDescription: Match.stringLikeRegexp('consumer history: messages in its DLQ'),
    });
  });

  test('the oldest-message alarm uses the given threshold over 3 periods', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateAgeOfOldestMessage',
      Threshold: 600,
      EvaluationPeriods: 3,
    });
  });

  test('the relay iterator age alarm is in milliseconds, default 1 minute', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'IteratorAge',
      Namespace: 'AWS/Lambda',
      Threshold: 60_000,
    });
  });

  test('the polling outbox alarms on the unpublished-age metric its poller emits, missing data breaching', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'Switchyard',
      MetricName: 'OutboxOldestUnpublishedAge',
      Dimensions: [{ Name: 'OutboxTable', Value: Match.anyValue() }],
      Threshold: 300,
      TreatMissingData: 'breaching',
    });
  });

  test('event source mappings publish EventCount metrics and an alarm watches failed invokes', () => {
    template.allResourcesProperties('AWS::Lambda::EventSourceMapping', {
      MetricsConfig: { Metrics: ['EventCount'] },
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/Lambda',
      MetricName: 'FailedInvokeEventCount',
      Dimensions: [{ Name: 'EventSourceMappingUUID', Value: Match.anyValue() }],
    });
  });

  test('every alarm notifies the on-call topic on ALARM and on OK', () => {
    const alarms = template.findResources('AWS::CloudWatch::Alarm');
    const topicRef = { Ref: stack.getLogicalId(topic.node.defaultChild as sns.CfnTopic) };
    for (const alarm of Object.values(alarms)) {
      expect(alarm.Properties.AlarmActions).toEqual([topicRef]);
      expect(alarm.Properties.OKActions).toEqual([topicRef]);
    }
  });

  test("the topic's key and topic policy let CloudWatch alarms of this account publish", () => {
    template.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Sid: 'AllowCloudWatchAlarmsToUseTheKey',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
            Condition: Match.objectLike({ StringEquals: { 'aws:SourceAccount': Match.anyValue() } }),
          }),
        ]),
      },
    });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Sid: 'AllowCloudWatchAlarmsToPublish',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: 'sns:Publish',
          }),
        ]),
      },
    });
  });

  test('the dashboard has one row per channel, consumer and outbox', () => {
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    const [dashboard] = Object.values(template.findResources('AWS::CloudWatch::Dashboard'));
    const body = JSON.stringify(stack.resolve(dashboard!.Properties.DashboardBody));
    for (const title of [
      'channel events.fifo: published',
      'channel commands: DLQ',
      'consumer history: backlog',
      'consumer kitchen: events',
      'outbox TailingOutbox: relay iterator age (ms)',
      'outbox PollingOutbox: oldest unpublished (s)',
    ]) {
      expect(body).toContain(title);
    }
    // Six rows: two channels, two consumers, two outboxes (y advances once per row).
    const ys = new Set([...body.matchAll(/\\"y\\":(\d+)/g)].map((m) => m[1]));
    expect(ys.size).toBe(6);
  });

  test('is cdk-nag clean', () => {
    expect(nagPacks().flatMap((pack) => pack.validateScope(stack).violations)).toEqual([]);
  });

  test('fails synth when a construct is created after it, naming the construct', () => {
    const late = new Stack(newApp(), 'Late');
    new BackboneMonitoring(late, 'Monitoring');
    new PointToPointChannel(late, 'Replies', { channelName: 'replies' });
    expect(() => Template.fromStack(late)).toThrow(/Late\/Replies was created after Late\/Monitoring/);
  });

  test('fails synth when the alarm topic has an imported key CloudWatch cannot be allowed to use', () => {
    const imported = new Stack(newApp(), 'Imported');
    backbone(imported);
    const key = kms.Key.fromKeyArn(imported, 'Key', 'arn:aws:kms:us-east-1:123456789012:key/abc');
    const topic = new sns.Topic(imported, 'OnCall', { masterKey: key, enforceSSL: true });
    expect(() => new BackboneMonitoring(imported, 'Monitoring', { alarmTopic: topic })).toThrow(
      /Imported\/Monitoring: alarm topic Imported\/OnCall is encrypted with imported key .*cloudwatch\.amazonaws\.com/,
    );
  });

  test('each construct offers its alarms on its own, once', () => {
    const solo = new Stack(newApp(), 'Solo');
    const { commands } = backbone(solo);
    const first = commands.addAlarms();
    expect(commands.addAlarms()).toBe(first);
    expect(first).toHaveLength(1);
  });
});
