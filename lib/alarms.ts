/**
 * Alarm thresholds and alarm factories shared by every Switchyard construct's `addAlarms`. Defaults
 * are chosen for an on-call engineer: anything in a dead-letter or failure queue pages at once; lag
 * (oldest message, stream iterator, unpublished outbox items) pages when it lasts a few minutes.
 */
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type { Construct } from 'constructs';

/** Namespace of the metrics Switchyard's own functions emit (CloudWatch embedded metric format). */
export const SWITCHYARD_METRIC_NAMESPACE = 'Switchyard';
/** Emitted by the outbox poller: age in seconds of the oldest item a poll found and left unpublished. */
export const OUTBOX_UNPUBLISHED_AGE_METRIC = 'OutboxOldestUnpublishedAge';
/** Dimension of the outbox metrics: the outbox table's name. */
export const OUTBOX_TABLE_DIMENSION = 'OutboxTable';

/** Thresholds of the alarms `addAlarms` creates; every one has a default. */
export interface AlarmThresholds {
  /**
   * Alarm when the oldest message on a consumer's queue is older than this.
   * @default Duration.minutes(5)
   */
  readonly oldestMessageAge?: Duration;
  /**
   * Alarm when the outbox relay's stream iterator age (log-tailing) exceeds this.
   * @default Duration.minutes(1)
   */
  readonly relayIteratorAge?: Duration;
  /**
   * Alarm when an outbox item stays unpublished longer than this (polling relay).
   * @default Duration.minutes(5)
   */
  readonly unpublishedAge?: Duration;
  /**
   * Alarm when a function (consumer or relay) fails more often than this per period.
   * @default 0 - any error
   */
  readonly functionErrors?: number;
  /**
   * Period of every alarm's metric.
   * @default Duration.minutes(1)
   */
  readonly period?: Duration;
  /**
   * Consecutive breaching periods before a lag alarm (age, iterator age) fires. Depth and error
   * alarms fire on the first breaching period.
   * @default 3
   */
  readonly lagEvaluationPeriods?: number;
}

/** The thresholds with every default filled in. */
export type ResolvedThresholds = Required<AlarmThresholds>;

export function resolveThresholds(thresholds: AlarmThresholds = {}): ResolvedThresholds {
  return {
    oldestMessageAge: thresholds.oldestMessageAge ?? Duration.minutes(5),
    relayIteratorAge: thresholds.relayIteratorAge ?? Duration.minutes(1),
    unpublishedAge: thresholds.unpublishedAge ?? Duration.minutes(5),
    functionErrors: thresholds.functionErrors ?? 0,
    period: thresholds.period ?? Duration.minutes(1),
    lagEvaluationPeriods: thresholds.lagEvaluationPeriods ?? 3,
  };
}

/** Something that made alarms; `BackboneMonitoring` adds actions to each. */
export interface IAlarmSource extends Construct {
  /** The alarms `addAlarms` created (empty before it is called). */
  readonly alarms: readonly cloudwatch.Alarm[];
  /** Creates the construct's alarms with the given thresholds; calling it again returns the same alarms. */
  addAlarms(thresholds?: AlarmThresholds): readonly cloudwatch.Alarm[];
}

/** Whether a construct is an `IAlarmSource` (duck-typed: constructs from another copy of the library count too). */
export function isAlarmSource(x: unknown): x is IAlarmSource {
  return (
    typeof x === 'object' &&
    x !== null &&
    typeof (x as IAlarmSource).addAlarms === 'function' &&
    Array.isArray((x as IAlarmSource).alarms)
  );
}

/** Fires when the metric's maximum is above zero in one period: a message in a DLQ, one failed delivery. */
export function anyAboveZeroAlarm(
  scope: Construct,
  id: string,
  metric: cloudwatch.IMetric,
  description: string,
): cloudwatch.Alarm {
  return new cloudwatch.Alarm(scope, id, {
    metric,
    threshold: 0,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    evaluationPeriods: 1,
    // No data means nothing arrived: SQS and SNS publish nothing for an idle resource.
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    alarmDescription: description,
  });
}

/** Fires when the metric stays above `threshold` for `periods` periods: lag. */
export function lagAlarm(
  scope: Construct,
  id: string,
  metric: cloudwatch.IMetric,
  threshold: number,
  periods: number,
  description: string,
  treatMissingData = cloudwatch.TreatMissingData.NOT_BREACHING,
): cloudwatch.Alarm {
  return new cloudwatch.Alarm(scope, id, {
    metric,
    threshold,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    evaluationPeriods: periods,
    treatMissingData,
    alarmDescription: description,
  });
}

/** Fires when errors exceed `threshold` in one period. */
export function errorAlarm(
  scope: Construct,
  id: string,
  metric: cloudwatch.IMetric,
  threshold: number,
  description: string,
): cloudwatch.Alarm {
  return new cloudwatch.Alarm(scope, id, {
    metric,
    threshold,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    evaluationPeriods: 1,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    alarmDescription: description,
  });
}

/**
 * A metric of a Lambda event source mapping (`MetricsConfig: EventCount`), e.g. `FailedInvokeEventCount`
 * or `DroppedEventCount`. Lambda publishes them in `AWS/Lambda` by `EventSourceMappingUUID`.
 */
export function eventSourceMappingMetric(
  mappingId: string,
  metricName: string,
  props: cloudwatch.MetricOptions = {},
): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: 'AWS/Lambda',
    metricName,
    dimensionsMap: { EventSourceMappingUUID: mappingId },
    statistic: 'Sum',
    ...props,
  });
}
