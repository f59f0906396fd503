/**
 * Reads every dead-letter queue and the outbox relay's failure queue (without deleting anything)
 * and tells each message's identity and reason: the Switchyard `message-id` (or the outbox marker
 * of a parked record) and why it failed, from the parked record itself or from what the consuming
 * mapping saw.
 */
import {
  ChangeMessageVisibilityBatchCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
} from '@aws-sdk/client-sqs';
import type { LocalCloud } from '../cloud';
import type { ConsumerFailureLog } from './failure-log';

export interface DeadLetter {
  readonly queue: string;
  /** Switchyard message id, poison marker, or the SQS message id when neither is known. */
  readonly id: string;
  readonly reason: string;
}

/** Queues where failed messages end: redrive targets and stream OnFailure destinations. */
export function deadLetterQueues(cloud: LocalCloud): { name: string; url: string }[] {
  const { queues, subscriptions } = cloud.inventory;
  const arns = new Set<string>([
    ...queues.flatMap((q) => (q.deadLetterTargetArn ? [q.deadLetterTargetArn] : [])),
    ...subscriptions.flatMap((s) => (s.deadLetterTargetArn ? [s.deadLetterTargetArn] : [])),
    ...cloud.stacks.flatMap((s) =>
      s.mappings.flatMap((m) =>
        m.kind === 'dynamodb' && m.config.onFailure ? [m.config.onFailure.destinationArn] : [],
      ),
    ),
  ]);
  return queues.filter((q) => arns.has(q.arn)).map((q) => ({ name: q.name, url: q.url }));
}

export async function queueDepth(cloud: LocalCloud, url: string): Promise<number> {
  const { Attributes = {} } = await cloud.clients.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: url,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return (
    Number(Attributes.ApproximateNumberOfMessages ?? 0) +
    Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0)
  );
}

function identify(cloud: LocalCloud, log: ConsumerFailureLog, queue: string, message: Message): DeadLetter {
  const attributes = message.MessageAttributes ?? {};
  const body = message.Body ?? '';
  let parsed: Record<string, unknown> | undefined;
  try {
    parsed = JSON.parse(body) as Record<string, unknown>;
  } catch {
    parsed = undefined;
  }
  const parked = parsed?.switchyard as { reason?: string; messages?: { id: string }[] } | undefined;
  if (parked?.reason) {
    const marker = /"poison":"([^"]+)"/.exec(parked.reason.replaceAll('\\"', '"'))?.[1];
    const id = marker ?? parked.messages?.[0]?.id ?? message.MessageId ?? '';
    return { queue, id, reason: `relay parked it: ${parked.reason}` };
  }
  const condition = (parsed?.requestContext as { condition?: string } | undefined)?.condition;
  if (condition) {
    const range = parsed?.DDBStreamBatchInfo as { startSequenceNumber?: string } | undefined;
    return {
      queue,
      id: `stream records from ${range?.startSequenceNumber ?? '?'}`,
      reason: `stream OnFailure: ${condition}`,
    };
  }
  const envelopeId = (parsed?.MessageAttributes as Record<string, { Value?: string }> | undefined)?.[
    'message-id'
  ]?.Value;
  const id = attributes['message-id']?.StringValue ?? envelopeId ?? message.MessageId ?? '';
  const logged = log.reasonOf(id);
  if (logged) return { queue, id, reason: logged };
  for (const mapping of cloud.mappingReports()) {
    const reason =
      mapping.observer.failureReason(id) ?? mapping.observer.failureReason(message.MessageId ?? '');
    if (reason) return { queue, id, reason: `${mapping.functionName}: ${reason}` };
  }
  return { queue, id, reason: 'no consumer failure recorded for it' };
}

/** Every message in every dead-letter queue; they stay there (received with a visibility timeout only). */
export async function readDeadLetters(cloud: LocalCloud, log: ConsumerFailureLog): Promise<DeadLetter[]> {
  const found: DeadLetter[] = [];
  for (const queue of deadLetterQueues(cloud)) {
    const expected = await queueDepth(cloud, queue.url);
    const seen = new Set<string>();
    for (let round = 0; round < Math.ceil(expected / 10) + 5 && seen.size < expected; round += 1) {
      const { Messages = [] } = await cloud.clients.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queue.url,
          MaxNumberOfMessages: 10,
          VisibilityTimeout: 120,
          WaitTimeSeconds: 0,
          MessageAttributeNames: ['All'],
        }),
      );
      if (Messages.length === 0) break;
      for (const message of Messages) {
        if (seen.has(message.MessageId ?? '')) continue;
        seen.add(message.MessageId ?? '');
        found.push(identify(cloud, log, queue.name, message));
      }
      // Visible again at once: reading a dead-letter queue must not hide its messages from the next reader.
      await cloud.clients.sqs.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: queue.url,
          Entries: Messages.map((m, i) => ({
            Id: String(i),
            ReceiptHandle: m.ReceiptHandle ?? '',
            VisibilityTimeout: 0,
          })),
        }),
      );
    }
  }
  return found;
}
