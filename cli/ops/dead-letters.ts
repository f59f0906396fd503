/**
 * Reading dead letters without consuming them, and describing each: message type and id, why it
 * failed, how often it was received. A peek is a receive with a short hold followed by releasing
 * every message at once (visibility 0), so nothing is deleted and nothing waits longer than needed.
 */
import {
  ChangeMessageVisibilityBatchCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { Headers } from '../../lambdas/core/headers';
import type { DeadLetterQueue } from './queues';

/** How long a peeked message stays hidden if the process dies before releasing it. */
const PEEK_HOLD_SECONDS = 30;

export interface DeadLetter {
  readonly receiptHandle: string;
  readonly sqsMessageId: string;
  readonly messageId: string;
  readonly type: string;
  readonly receiveCount: number;
  readonly sentAt?: Date;
  readonly reason: string;
  readonly groupId?: string;
  readonly deduplicationId?: string;
  /** Types of the messages inside an outbox failure record (empty for plain dead letters). */
  readonly containedTypes: readonly string[];
  readonly raw: Message;
}

/** Receives up to `limit` messages, then makes them all visible again. */
export async function peek(sqs: SQSClient, dlq: DeadLetterQueue, limit: number): Promise<DeadLetter[]> {
  const seen = new Map<string, Message>();
  const handles: Message[] = [];
  try {
    while (seen.size < limit) {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: dlq.queue.url,
          MaxNumberOfMessages: Math.min(10, limit - seen.size),
          VisibilityTimeout: PEEK_HOLD_SECONDS,
          WaitTimeSeconds: 0,
          MessageSystemAttributeNames: ['All'],
          MessageAttributeNames: ['All'],
        }),
      );
      if (Messages.length === 0) break;
      for (const m of Messages) {
        handles.push(m);
        if (m.MessageId) seen.set(m.MessageId, m);
      }
    }
  } finally {
    await release(sqs, dlq.queue.url, handles);
  }
  return [...seen.values()].map((m) => describe(m, dlq));
}

/** Makes held messages visible again (batches of 10, as SQS allows). */
export async function release(sqs: SQSClient, queueUrl: string, messages: readonly Message[]): Promise<void> {
  for (let i = 0; i < messages.length; i += 10) {
    const chunk = messages.slice(i, i + 10).filter((m) => m.ReceiptHandle);
    if (chunk.length === 0) continue;
    await sqs.send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl: queueUrl,
        Entries: chunk.map((m, n) => ({
          Id: String(n),
          ReceiptHandle: m.ReceiptHandle!,
          VisibilityTimeout: 0,
        })),
      }),
    );
  }
}

interface FailureRecordBody {
  requestContext?: { condition?: string; approximateInvokeCount?: number };
  responseContext?: { functionError?: string };
  switchyard?: { reason?: string; source?: string; messages?: { id?: string; type?: string }[] };
}

export function describe(message: Message, dlq: DeadLetterQueue): DeadLetter {
  if (dlq.kind === 'scheduler-dead-letter-queue') return describeScheduledDelivery(message);
  const attributes = message.MessageAttributes ?? {};
  const system = message.Attributes ?? {};
  const receiveCount = Number(system.ApproximateReceiveCount ?? 0);
  const body = parseBody(message.Body);
  const inner = body?.switchyard?.messages ?? [];
  const sent = system.SentTimestamp ? new Date(Number(system.SentTimestamp)) : undefined;
  return {
    receiptHandle: message.ReceiptHandle ?? '',
    sqsMessageId: message.MessageId ?? '',
    messageId: attributes[Headers.ID]?.StringValue ?? inner[0]?.id ?? message.MessageId ?? '',
    type:
      attributes[Headers.TYPE]?.StringValue ??
      (inner.length > 0 ? `outbox record (${inner.map((m) => m.type).join(', ')})` : undefined) ??
      (body?.requestContext ? 'stream failure record' : 'unknown (no message-type attribute)'),
    receiveCount,
    sentAt: sent,
    reason: reasonOf(body, attributes['failure-reason']?.StringValue, receiveCount, dlq),
    groupId: system.MessageGroupId,
    deduplicationId: system.MessageDeduplicationId,
    containedTypes: inner.map((m) => m.type ?? ''),
    raw: message,
  };
}

/** The type `--filter type=` matches against: the message's own, or any type inside a failure record. */
export function typesOf(letter: DeadLetter): string[] {
  return letter.containedTypes.length > 0 ? [...letter.containedTypes] : [letter.type];
}

function parseBody(body: string | undefined): FailureRecordBody | undefined {
  if (!body?.startsWith('{')) return undefined;
  try {
    const parsed = JSON.parse(body) as FailureRecordBody;
    return parsed.requestContext || parsed.switchyard ? parsed : undefined;
  } catch {
    return undefined;
  }
}

function reasonOf(
  body: FailureRecordBody | undefined,
  attributeReason: string | undefined,
  receiveCount: number,
  dlq: DeadLetterQueue,
): string {
  if (body?.switchyard?.reason) return `${body.switchyard.source ?? 'relay'}: ${body.switchyard.reason}`;
  if (body?.requestContext) {
    return `${body.requestContext.condition ?? 'failed'} after ${body.requestContext.approximateInvokeCount ?? '?'} invocations (${body.responseContext?.functionError ?? 'no function error'}); the record's messages are in the table's stream`;
  }
  if (attributeReason) return attributeReason;
  const source = dlq.sources.map((s) => s.name).join(' or ') || 'its source';
  const max = dlq.sources[0]?.maxReceiveCount;
  return (
    `received ${receiveCount} times from ${source}${max ? ` (maxReceiveCount ${max})` : ''} without success, ` +
    "or SNS could not deliver it; the handler's reason is in the consumer's log under this message id"
  );
}

/**
 * A delivery EventBridge Scheduler could not make: the body is the universal target's request
 * (SendMessage or Publish) with the message's headers as its attributes; the error is in attributes.
 */
function describeScheduledDelivery(message: Message): DeadLetter {
  const attributes = message.MessageAttributes ?? {};
  const system = message.Attributes ?? {};
  let request: {
    MessageAttributes?: Record<string, { StringValue?: string }>;
    QueueUrl?: string;
    TopicArn?: string;
  } = {};
  try {
    request = JSON.parse(message.Body ?? '{}') as typeof request;
  } catch {
    // Not a request Switchyard scheduled: shown with what SQS knows.
  }
  const headers = request.MessageAttributes ?? {};
  const code = attributes.ERROR_CODE?.StringValue ?? 'unknown error';
  const error = attributes.ERROR_MESSAGE?.StringValue ?? '';
  const sent = system.SentTimestamp ? new Date(Number(system.SentTimestamp)) : undefined;
  return {
    receiptHandle: message.ReceiptHandle ?? '',
    sqsMessageId: message.MessageId ?? '',
    messageId: headers[Headers.ID]?.StringValue ?? message.MessageId ?? '',
    type: headers[Headers.TYPE]?.StringValue ?? 'unknown (no message-type attribute)',
    receiveCount: Number(system.ApproximateReceiveCount ?? 0),
    sentAt: sent,
    reason: `EventBridge Scheduler could not deliver to ${request.QueueUrl ?? request.TopicArn ?? 'its target'}: ${code}${error ? `: ${error}` : ''}`,
    groupId: system.MessageGroupId,
    deduplicationId: system.MessageDeduplicationId,
    containedTypes: [],
    raw: message,
  };
}
