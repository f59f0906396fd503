/**
 * Polling publisher Lambda, run on a schedule: publishes unpublished outbox items found through the
 * sparse index. Configured by the TransactionalOutbox construct (SWITCHYARD_OUTBOX_TABLE, key
 * attribute names, SWITCHYARD_OUTBOX_BUCKETS, SWITCHYARD_OUTBOX_FAILURE_QUEUE).
 */
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { Context } from 'aws-lambda';
import { ConfigurationError } from '../core/errors';
import { bucketCount, keyAttributesFromEnvironment, OutboxEnvironment } from '../outbox/layout';
import { createPollingPublisher, type PollOutcome } from '../outbox/poller';
import { createProducer } from '../producer';

const table = process.env[OutboxEnvironment.TABLE];

/**
 * The poller renews its lease (30 s) before every publish request; one request, with the SDK's own
 * retries, must end well inside it or a second poller could take the aggregate over while it is still
 * in flight. Bounded here: 3 attempts of at most 1 s to connect + 5 s for the answer, plus the SDK's
 * backoff (under 1 s for two retries), stay under 20 s.
 */
const boundedRequests = {
  maxAttempts: 3,
  requestHandler: { connectionTimeout: 1_000, requestTimeout: 5_000 },
};

const poller = table
  ? createPollingPublisher({
      producer: createProducer({ sns: new SNSClient(boundedRequests), sqs: new SQSClient(boundedRequests) }),
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
