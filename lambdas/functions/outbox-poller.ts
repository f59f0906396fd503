/**
 * Polling publisher Lambda, run on a schedule: publishes unpublished outbox items found through the
 * sparse index. Configured by the TransactionalOutbox construct (SWITCHYARD_OUTBOX_TABLE, key
 * attribute names, SWITCHYARD_OUTBOX_BUCKETS, SWITCHYARD_OUTBOX_FAILURE_QUEUE).
 */
import type { Context } from 'aws-lambda';
import { ConfigurationError } from '../core/errors';
import { bucketCount, keyAttributesFromEnvironment, OutboxEnvironment } from '../outbox/layout';
import { createPollingPublisher, type PollOutcome } from '../outbox/poller';
import { createProducer } from '../producer';

const table = process.env[OutboxEnvironment.TABLE];

const poller = table
  ? createPollingPublisher({
      producer: createProducer(),
      table,
      keyAttributes: keyAttributesFromEnvironment(),
      buckets: bucketCount(),
      failureQueueUrl: process.env[OutboxEnvironment.FAILURE_QUEUE],
    })
  : undefined;

export async function handler(_event: unknown, context?: Context): Promise<PollOutcome> {
  if (!poller) {
    throw new ConfigurationError(
      `${OutboxEnvironment.TABLE} is not set: deploy the poller with the TransactionalOutbox construct.`,
    );
  }
  return poller.poll(context ? () => context.getRemainingTimeInMillis() : undefined);
}
