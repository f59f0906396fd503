/**
 * Log-tailing relay Lambda: DynamoDB stream of the outbox table -> SNS/SQS. Configured by the
 * TransactionalOutbox construct through SWITCHYARD_OUTBOX_TABLE (attempt counting),
 * SWITCHYARD_OUTBOX_FAILURE_QUEUE (parking) and the key attribute names.
 */
import type { Context, DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { FailureParking } from '../outbox/failures';
import { keyAttributesFromEnvironment, OutboxEnvironment } from '../outbox/layout';
import { createStreamRelay } from '../outbox/relay';
import { createProducer } from '../producer';

const table = process.env[OutboxEnvironment.TABLE];
const failureQueue = process.env[OutboxEnvironment.FAILURE_QUEUE];

const relay = createStreamRelay({
  producer: createProducer(),
  parking:
    table && failureQueue
      ? new FailureParking({
          table,
          queueUrl: failureQueue,
          keyAttributes: keyAttributesFromEnvironment(),
          maxAttempts: Number(process.env.SWITCHYARD_OUTBOX_MAX_ATTEMPTS ?? '3'),
        })
      : undefined,
});

export async function handler(event: DynamoDBStreamEvent, context?: Context): Promise<DynamoDBBatchResponse> {
  const { batchItemFailures } = await relay(event, context?.awsRequestId);
  return { batchItemFailures };
}
