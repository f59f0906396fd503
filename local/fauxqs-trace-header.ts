/**
 * SQS's `AWSTraceHeader` system attribute on top of fauxqs 1.9.x, which drops it: a sender's
 * `MessageSystemAttributes.AWSTraceHeader` (SendMessage, SendMessageBatch) is kept with the
 * message, and ReceiveMessage returns it when `AWSTraceHeader` or `All` attributes are asked for,
 * so the Lambda SQS event carries it as in AWS (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-message-metadata.html).
 *
 * Done with Fastify hooks around fauxqs' JSON-protocol handlers, which see the request and the
 * serialized response; fauxqs itself is not changed.
 */

interface StoredMessage {
  messageId: string;
  awsTraceHeader?: string;
}

interface QueueInternals {
  messages?: StoredMessage[];
  delayedMessages?: StoredMessage[];
  fifoMessages?: Map<string, StoredMessage[]>;
  fifoDelayed?: Map<string, StoredMessage[]>;
  inflightMessages: Map<string, { message: StoredMessage }>;
}

interface StoreInternals {
  getQueue(url: string): QueueInternals | undefined;
  queues: Map<string, QueueInternals>;
}

interface HookRequest {
  headers: Record<string, string | string[] | undefined>;
  body?: unknown;
}

/** The subset of a Fastify instance used here. */
export interface HookableApp {
  addHook(
    name: 'onSend',
    hook: (request: HookRequest, reply: unknown, payload: unknown) => Promise<unknown>,
  ): unknown;
}

interface SystemAttribute {
  StringValue?: string;
}

function traceHeaderOf(entry: { MessageSystemAttributes?: Record<string, SystemAttribute> } | undefined) {
  return entry?.MessageSystemAttributes?.AWSTraceHeader?.StringValue;
}

/** A queue by URL; a client may name the queue with another host than the one fauxqs stored. */
function queueOf(store: StoreInternals, url: unknown): QueueInternals | undefined {
  if (typeof url !== 'string') return undefined;
  const exact = store.getQueue(url);
  if (exact) return exact;
  const path = url.replace(/^https?:\/\/[^/]+/, '');
  for (const [stored, queue] of store.queues) if (stored.endsWith(path)) return queue;
  return undefined;
}

function findMessage(queue: QueueInternals, messageId: string): StoredMessage | undefined {
  const lists: StoredMessage[][] = [
    queue.messages ?? [],
    queue.delayedMessages ?? [],
    ...(queue.fifoMessages?.values() ?? []),
    ...(queue.fifoDelayed?.values() ?? []),
    [...queue.inflightMessages.values()].map((entry) => entry.message),
  ];
  for (const list of lists) {
    const found = list.find((m) => m.messageId === messageId);
    if (found) return found;
  }
  return undefined;
}

function parse(payload: unknown): Record<string, unknown> | undefined {
  if (typeof payload !== 'string') return undefined;
  try {
    return JSON.parse(payload) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/** Registers the hooks on fauxqs' app (before it listens). */
export function keepTraceHeaders(app: HookableApp, store: StoreInternals): void {
  app.addHook('onSend', async (request, _reply, payload) => {
    const target = String(request.headers['x-amz-target'] ?? '');
    const body = (request.body ?? {}) as Record<string, unknown>;
    if (target === 'AmazonSQS.SendMessage') {
      const header = traceHeaderOf(body as never);
      const response = parse(payload);
      const queue = queueOf(store, body.QueueUrl);
      const message =
        header && queue && response ? findMessage(queue, String(response.MessageId)) : undefined;
      if (message) message.awsTraceHeader = header;
      return payload;
    }
    if (target === 'AmazonSQS.SendMessageBatch') {
      const entries = (body.Entries ?? []) as ({ Id?: string } & Record<string, unknown>)[];
      const response = parse(payload);
      const queue = queueOf(store, body.QueueUrl);
      if (!queue || !response) return payload;
      for (const done of (response.Successful ?? []) as { Id?: string; MessageId?: string }[]) {
        const header = traceHeaderOf(entries.find((e) => e.Id === done.Id) as never);
        const message = header ? findMessage(queue, String(done.MessageId)) : undefined;
        if (message) message.awsTraceHeader = header;
      }
      return payload;
    }
    if (target === 'AmazonSQS.ReceiveMessage') {
      const names = [
        ...((body.AttributeNames ?? []) as string[]),
        ...((body.MessageSystemAttributeNames ?? []) as string[]),
      ];
      if (!names.includes('All') && !names.includes('AWSTraceHeader')) return payload;
      const response = parse(payload);
      const queue = queueOf(store, body.QueueUrl);
      const messages = (response?.Messages ?? []) as {
        ReceiptHandle?: string;
        Attributes?: Record<string, string>;
      }[];
      let changed = false;
      for (const received of messages) {
        const header = queue?.inflightMessages.get(String(received.ReceiptHandle))?.message.awsTraceHeader;
        if (!header) continue;
        received.Attributes = { ...received.Attributes, AWSTraceHeader: header };
        changed = true;
      }
      return changed ? JSON.stringify(response) : payload;
    }
    return payload;
  });
}
