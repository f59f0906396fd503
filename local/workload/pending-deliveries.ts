/**
 * Before a run calls an order lost, messages still queued or in flight (a redelivery after a
 * timed-out or failed invocation, for instance) must have had their chance: on a loaded 2-core
 * machine a cold start can make a first delivery fail, and SQS redelivers after the visibility
 * timeout, as in AWS. These helpers tell whether deliveries are pending and how long the last
 * one can still take.
 */
import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { QueueInfo } from '../template/resources/context';

export interface QueueView {
  readonly inventory: { readonly queues: readonly QueueInfo[] };
  readonly clients: { readonly sqs: SQSClient };
}

/** Dead-letter queues hold what is already given up on: not a pending delivery. */
function workQueues(cloud: QueueView): QueueInfo[] {
  const deadLetters = new Set(
    cloud.inventory.queues.flatMap((q) => (q.deadLetterTargetArn ? [q.deadLetterTargetArn] : [])),
  );
  return cloud.inventory.queues.filter((q) => !deadLetters.has(q.arn));
}

/** Messages waiting, delayed or in flight in every queue that is not a dead-letter queue. */
export async function pendingDeliveries(cloud: QueueView): Promise<number> {
  let pending = 0;
  for (const queue of workQueues(cloud)) {
    const { Attributes = {} } = await cloud.clients.sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: queue.url,
        AttributeNames: [
          'ApproximateNumberOfMessages',
          'ApproximateNumberOfMessagesNotVisible',
          'ApproximateNumberOfMessagesDelayed',
        ],
      }),
    );
    pending +=
      Number(Attributes.ApproximateNumberOfMessages ?? 0) +
      Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0) +
      Number(Attributes.ApproximateNumberOfMessagesDelayed ?? 0);
  }
  return pending;
}

/**
 * The longest a message can still be redelivered: visibility timeout x maxReceiveCount of the
 * slowest queue (a message goes to its DLQ after that), plus 10 s; capped at 15 minutes.
 */
export function redeliveryGraceMs(cloud: QueueView): number {
  const longest = workQueues(cloud).reduce(
    (max, q) => Math.max(max, (q.visibilityTimeoutSeconds ?? 30) * (q.maxReceiveCount ?? 1)),
    0,
  );
  return Math.min(15 * 60_000, longest * 1000 + 10_000);
}
