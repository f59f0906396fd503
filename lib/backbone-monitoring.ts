/**
 * One call that monitors a whole backbone: every Switchyard construct in the stack gets its alarms
 * (with one set of thresholds), every alarm notifies the operator's SNS topic, and one CloudWatch
 * dashboard shows a row per channel, per consumer and per outbox, built from the constructs' metric methods.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct, type IConstruct } from 'constructs';
import { type AlarmThresholds, type IAlarmSource, isAlarmSource } from './alarms';
import { DelayedDelivery } from './delayed-delivery';
import { MessageConsumer } from './message-consumer';
import { PointToPointChannel } from './point-to-point-channel';
import { PublishSubscribeChannel } from './publish-subscribe-channel';
import { TransactionalOutbox } from './transactional-outbox';

export interface BackboneMonitoringProps {
  /**
   * Where alarms notify (on ALARM and back to OK). When the topic is KMS-encrypted with a key made in
   * this app, the key policy gets a statement letting CloudWatch use it (otherwise CloudWatch cannot
   * publish and alarms are dropped silently); an imported key cannot be changed, so synth fails.
   * @default - alarms without actions (visible in the console and the dashboard only)
   */
  readonly alarmTopic?: sns.ITopic;
  /** Thresholds of every alarm. @default - see `AlarmThresholds` */
  readonly thresholds?: AlarmThresholds;
  /**
   * Name of the dashboard.
   * @default - `<stack name>-switchyard`
   */
  readonly dashboardName?: string;
  /**
   * Whether to create the dashboard.
   * @default true
   */
  readonly dashboard?: boolean;
}

/** A dashboard row is 24 units wide; each row's widgets share it. */
const ROW_WIDTH = 24;
const WIDGET_HEIGHT = 5;

type WidgetOfWidth = (width: number) => cloudwatch.IWidget;

/**
 * Alarms and a dashboard for every Switchyard construct in the stack. Create it after them: a
 * construct added later fails synth with a message saying so.
 *
 * @example
 * const oncall = new sns.Topic(this, 'OnCall', { masterKey: oncallKey, enforceSSL: true });
 * new BackboneMonitoring(this, 'Monitoring', { alarmTopic: oncall });
 */
export class BackboneMonitoring extends Construct {
  /** Every alarm wired, across constructs. */
  readonly alarms: readonly cloudwatch.Alarm[];
  readonly dashboard?: cloudwatch.Dashboard;
  /** The constructs monitored. */
  readonly sources: readonly IAlarmSource[];

  constructor(scope: Construct, id: string, props: BackboneMonitoringProps = {}) {
    super(scope, id);
    const stack = Stack.of(this);
    this.sources = stack.node.findAll().filter(isMonitored);
    const alarms = this.sources.flatMap((source) => [...source.addAlarms(props.thresholds)]);
    this.alarms = alarms;
    if (props.alarmTopic) {
      const action = new actions.SnsAction(props.alarmTopic);
      for (const alarm of alarms) {
        alarm.addAlarmAction(action);
        alarm.addOkAction(action);
      }
      allowCloudWatchToPublish(this, props.alarmTopic);
    }
    if (props.dashboard ?? true) {
      this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
        dashboardName: props.dashboardName,
        defaultInterval: Duration.hours(3),
      });
      for (const source of this.sources) this.dashboard.addWidgets(...rowOf(source, alarms));
    }
    // Constructs added after this one would go unmonitored without anyone noticing.
    this.node.addValidation({
      validate: () =>
        stack.node
          .findAll()
          .filter(isMonitored)
          .filter((c) => !this.sources.includes(c))
          .map(
            (c) =>
              `${c.node.path} was created after ${this.node.path}, so it has no alarms and no dashboard row. Create BackboneMonitoring last.`,
          ),
    });
  }
}

function isMonitored(c: IConstruct): c is IAlarmSource {
  return (
    isAlarmSource(c) &&
    (c instanceof PublishSubscribeChannel ||
      c instanceof PointToPointChannel ||
      c instanceof MessageConsumer ||
      c instanceof TransactionalOutbox ||
      c instanceof DelayedDelivery)
  );
}

/**
 * CloudWatch publishes alarm notifications as the `cloudwatch.amazonaws.com` service: the topic
 * policy must let it publish, and a KMS key must let it encrypt. Both grants are limited to alarms of
 * this account (confused-deputy protection).
 */
function allowCloudWatchToPublish(scope: Construct, topic: sns.ITopic): void {
  const stack = Stack.of(scope);
  const alarmArns = `arn:${stack.partition}:cloudwatch:${stack.region}:${stack.account}:alarm:*`;
  const conditions = {
    StringEquals: { 'aws:SourceAccount': stack.account },
    ArnLike: { 'aws:SourceArn': alarmArns },
  };
  topic.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'AllowCloudWatchAlarmsToPublish',
      principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
      actions: ['sns:Publish'],
      resources: [topic.topicArn],
      conditions,
    }),
  );
  const key = topic.masterKey;
  if (!key) return;
  if (!(key instanceof kms.Key)) {
    throw new Error(
      `${scope.node.path}: alarm topic ${topic.node.path} is encrypted with imported key ${key.node.path}, whose policy this app cannot change, ` +
        'so CloudWatch could not publish alarms to it. Add a key policy statement allowing cloudwatch.amazonaws.com kms:Decrypt and kms:GenerateDataKey* ' +
        '(condition aws:SourceAccount = your account) to that key, then pass the topic without its key, or use a topic whose key this app creates.',
    );
  }
  key.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'AllowCloudWatchAlarmsToUseTheKey',
      principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
      actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
      resources: ['*'],
      conditions,
    }),
  );
}

function graph(title: string, left: cloudwatch.IMetric[], right: cloudwatch.IMetric[] = []): WidgetOfWidth {
  return (width) => new cloudwatch.GraphWidget({ title, left, right, width, height: WIDGET_HEIGHT });
}

function alarmStatus(title: string, alarms: readonly cloudwatch.IAlarm[]): WidgetOfWidth {
  return (width) =>
    new cloudwatch.AlarmStatusWidget({ title, alarms: [...alarms], width, height: WIDGET_HEIGHT });
}

/** One dashboard row: what the construct carries and whether its alarms are firing. */
function rowOf(source: IAlarmSource, alarms: readonly cloudwatch.Alarm[]): cloudwatch.IWidget[] {
  const widgets = widgetsOf(source, alarms);
  const width = Math.floor(ROW_WIDTH / widgets.length);
  return widgets.map((widget) => widget(width));
}

function widgetsOf(source: IAlarmSource, alarms: readonly cloudwatch.Alarm[]): WidgetOfWidth[] {
  const own = source.alarms.filter((a) => alarms.includes(a));
  if (source instanceof PublishSubscribeChannel) {
    const name = `channel ${source.displayName}`;
    return [
      graph(`${name}: published`, [source.metricNumberOfMessagesPublished({ statistic: 'Sum' })]),
      graph(`${name}: failed / filtered out`, [
        source.metricNumberOfNotificationsFailed({ statistic: 'Sum' }),
        source.metricNumberOfNotificationsFilteredOut({ statistic: 'Sum' }),
      ]),
      alarmStatus(`${name}: alarms`, own),
    ];
  }
  if (source instanceof PointToPointChannel) {
    const name = `channel ${source.displayName}`;
    return [
      graph(`${name}: waiting`, [source.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum' })]),
      graph(`${name}: oldest message (s)`, [
        source.metricApproximateAgeOfOldestMessage({ statistic: 'Maximum' }),
      ]),
      graph(`${name}: DLQ`, [source.metricDeadLetterQueueMessagesVisible()]),
      alarmStatus(`${name}: alarms`, own),
    ];
  }
  if (source instanceof MessageConsumer) {
    const name = `consumer ${source.consumerName}`;
    return [
      graph(
        `${name}: backlog`,
        [source.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum' })],
        [source.metricApproximateAgeOfOldestMessage({ statistic: 'Maximum' })],
      ),
      graph(`${name}: events`, [
        source.metricEventSourceMapping('PolledEventCount'),
        source.metricEventSourceMapping('DeletedEventCount'),
        source.metricEventSourceMapping('FailedInvokeEventCount'),
      ]),
      graph(
        `${name}: function`,
        [source.metricInvocations({ statistic: 'Sum' }), source.metricErrors({ statistic: 'Sum' })],
        [source.metricDuration()],
      ),
      graph(`${name}: DLQ`, [source.metricDeadLetterQueueMessagesVisible()]),
      alarmStatus(`${name}: alarms`, own),
    ];
  }
  if (source instanceof DelayedDelivery) {
    const name = `delayed delivery ${source.node.id}`;
    return [
      graph(`${name}: failed deliveries (DLQ)`, [source.metricDeadLetterQueueMessagesVisible()]),
      alarmStatus(`${name}: alarms`, own),
    ];
  }
  const outbox = source as TransactionalOutbox;
  const name = `outbox ${outbox.node.id}`;
  const lag =
    outbox.relay === 'log-tailing'
      ? graph(`${name}: relay iterator age (ms)`, [outbox.metricIteratorAge()])
      : graph(`${name}: oldest unpublished (s)`, [outbox.metricOldestUnpublishedAge()]);
  return [
    lag,
    graph(`${name}: relay errors`, [outbox.metricRelayErrors({ statistic: 'Sum' })]),
    graph(`${name}: failure queue`, [outbox.metricFailedRecords()]),
    alarmStatus(`${name}: alarms`, own),
  ];
}
