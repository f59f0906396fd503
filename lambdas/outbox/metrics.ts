/**
 * The outbox poller's health metric, written to its log in CloudWatch embedded metric format (EMF):
 * CloudWatch Logs turns the line into a metric, with no PutMetricData call and no extra permission.
 * One metric does not justify a metrics library in every poller bundle.
 */

/** Must match `SWITCHYARD_METRIC_NAMESPACE` / `OUTBOX_UNPUBLISHED_AGE_METRIC` / `OUTBOX_TABLE_DIMENSION` in lib/alarms.ts. */
export const OutboxMetric = {
  NAMESPACE: 'Switchyard',
  OLDEST_UNPUBLISHED_AGE: 'OutboxOldestUnpublishedAge',
  TABLE_DIMENSION: 'OutboxTable',
} as const;

/** The EMF document for the age (seconds) of the oldest item a poll left unpublished. */
export function unpublishedAgeDocument(table: string, ageSeconds: number, now = Date.now()): string {
  return JSON.stringify({
    _aws: {
      Timestamp: now,
      CloudWatchMetrics: [
        {
          Namespace: OutboxMetric.NAMESPACE,
          Dimensions: [[OutboxMetric.TABLE_DIMENSION]],
          Metrics: [{ Name: OutboxMetric.OLDEST_UNPUBLISHED_AGE, Unit: 'Seconds' }],
        },
      ],
    },
    [OutboxMetric.TABLE_DIMENSION]: table,
    [OutboxMetric.OLDEST_UNPUBLISHED_AGE]: Math.max(0, Math.round(ageSeconds)),
  });
}
