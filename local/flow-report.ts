/**
 * What flowed through the local cloud: messages per channel, delivered and handled per consumer,
 * and dead-letter queue contents with reasons. Generic: works for any deployed app.
 *
 * How messages per channel are counted: the event source mappings' invokers are observed
 * (ObservedInvoker), so a channel's count is the number of distinct messages (Switchyard
 * `message-id`, else the provider id) its consumers received: for a topic, the union over the
 * queues subscribed to it; for a queue, what its mapping received. Messages still waiting in a
 * queue are read from its ApproximateNumberOf* attributes and listed separately.
 *
 * @example
 * const report = await collectFlowReport(cloud);
 * for (const line of formatFlowReport(report)) console.log(line);
 */
import { GetQueueAttributesCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import type { LocalCloud } from './cloud';

export interface ChannelFlow {
  readonly kind: 'topic' | 'queue' | 'stream';
  readonly name: string;
  /** Distinct messages seen by its consumers. */
  readonly messages: number;
  /** Messages still in the queue (ready + in flight), for queues. */
  readonly waiting?: number;
}

export interface ConsumerFlow {
  readonly mapping: string;
  readonly functionName: string;
  readonly source: string;
  readonly delivered: number;
  readonly failedRecords: number;
  readonly stats: Record<string, number>;
  /** Why records failed (a retried record counts per failure). */
  readonly failureReasons: ReadonlyMap<string, number>;
  /** Errors the mapping met reading its source (`N x message`): a mapping that reads nothing says why. */
  readonly errors: readonly string[];
}

export interface DeadLetterFlow {
  readonly queue: string;
  readonly count: number;
  /** Reason -> how many messages. */
  readonly reasons: ReadonlyMap<string, number>;
}

export interface FlowReport {
  readonly channels: readonly ChannelFlow[];
  readonly consumers: readonly ConsumerFlow[];
  readonly deadLetters: readonly DeadLetterFlow[];
}

function nameOfArn(arn: string): string {
  return arn.slice(arn.lastIndexOf(':') + 1).replace(/^table\//, '');
}

async function waiting(cloud: LocalCloud, url: string): Promise<number> {
  const { Attributes = {} } = await cloud.clients.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: url,
      AttributeNames: [
        'ApproximateNumberOfMessages',
        'ApproximateNumberOfMessagesNotVisible',
        'ApproximateNumberOfMessagesDelayed',
      ],
    }),
  );
  return (
    Number(Attributes.ApproximateNumberOfMessages ?? 0) +
    Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0) +
    Number(Attributes.ApproximateNumberOfMessagesDelayed ?? 0)
  );
}

/** Why a dead-lettered message failed: its own attributes if the consumer set them, else what the mapping saw. */
function reasonOf(
  cloud: LocalCloud,
  message: {
    MessageId?: string;
    Body?: string;
    MessageAttributes?: Record<string, { StringValue?: string }>;
  },
): string {
  const attributes = message.MessageAttributes ?? {};
  const own = Object.entries(attributes).find(([name]) => /reason|error/i.test(name));
  if (own?.[1].StringValue) return `${own[0]}=${own[1].StringValue}`;
  let id = attributes['message-id']?.StringValue ?? message.MessageId ?? '';
  try {
    const body = JSON.parse(message.Body ?? '') as Record<string, unknown>;
    // A DynamoDB Streams OnFailure record says why in requestContext/responseContext.
    const condition = (body.requestContext as { condition?: string } | undefined)?.condition;
    if (condition) {
      const functionError = (body.responseContext as { functionError?: string } | undefined)?.functionError;
      return `stream OnFailure: ${condition}${functionError ? ` (${functionError})` : ''}`;
    }
    if (body.Type === 'Notification') {
      id =
        (body.MessageAttributes as Record<string, { Value?: string }> | undefined)?.['message-id']?.Value ??
        String(body.MessageId);
    }
  } catch {
    // Not JSON: the ids above are all we have.
  }
  for (const mapping of cloud.mappingReports()) {
    const reason =
      mapping.observer.failureReason(id) ?? mapping.observer.failureReason(message.MessageId ?? '');
    if (reason) return `${mapping.functionName}: ${reason}`;
  }
  return 'no consumer failure recorded (undeliverable subscription message, or failed before this run)';
}

async function readDeadLetters(
  cloud: LocalCloud,
  url: string,
  expected: number,
): Promise<Map<string, number>> {
  const reasons = new Map<string, number>();
  let read = 0;
  // Bounded: enough rounds to see every message once; they stay in the queue (visibility only).
  for (let round = 0; round < Math.ceil(expected / 10) + 2 && read < expected; round++) {
    const { Messages = [] } = await cloud.clients.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: url,
        MaxNumberOfMessages: 10,
        VisibilityTimeout: 5,
        WaitTimeSeconds: 0,
        MessageAttributeNames: ['All'],
      }),
    );
    if (Messages.length === 0) break;
    read += Messages.length;
    for (const message of Messages) {
      const reason = reasonOf(cloud, message);
      reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
    }
  }
  return reasons;
}

export async function collectFlowReport(cloud: LocalCloud): Promise<FlowReport> {
  const { queues, topics, subscriptions, tables } = cloud.inventory;
  const mappings = cloud.mappingReports();
  const consumersOf = (queueArn: string) => mappings.filter((m) => m.source === queueArn);
  const deadLetterArns = new Set<string>([
    ...queues.flatMap((q) => (q.deadLetterTargetArn ? [q.deadLetterTargetArn] : [])),
    ...subscriptions.flatMap((s) => (s.deadLetterTargetArn ? [s.deadLetterTargetArn] : [])),
  ]);
  const channels: ChannelFlow[] = [];
  for (const topic of topics) {
    const ids = new Set<string>();
    for (const subscription of subscriptions.filter((s) => s.topicArn === topic.arn)) {
      const queueTopics = subscriptions.filter((s) => s.endpoint === subscription.endpoint).length;
      for (const mapping of consumersOf(subscription.endpoint)) {
        const enveloped = mapping.observer.messagesByTopic().get(topic.arn);
        // Raw delivery has no envelope; the queue's messages belong to this topic if it is the only one.
        const seen =
          enveloped ?? (queueTopics === 1 ? mapping.observer.distinctMessages() : new Set<string>());
        for (const id of seen) ids.add(id);
      }
    }
    channels.push({ kind: 'topic', name: topic.name, messages: ids.size });
  }
  for (const queue of queues.filter((q) => !deadLetterArns.has(q.arn))) {
    const ids = new Set<string>();
    for (const mapping of consumersOf(queue.arn))
      for (const id of mapping.observer.distinctMessages()) ids.add(id);
    channels.push({
      kind: 'queue',
      name: queue.name,
      messages: ids.size,
      waiting: await waiting(cloud, queue.url),
    });
  }
  for (const table of tables.filter((t) => t.streamArn)) {
    const records = mappings
      .filter((m) => m.source === table.streamArn)
      .reduce((max, m) => Math.max(max, m.observer.distinctMessages().size), 0);
    channels.push({ kind: 'stream', name: table.name, messages: records });
  }
  const consumers: ConsumerFlow[] = mappings.map((m) => ({
    mapping: m.logicalId,
    functionName: m.functionName,
    source: nameOfArn(m.source.replace(/\/stream\/.*$/, '')),
    delivered: m.observer.delivered,
    failedRecords: m.observer.failedRecords,
    stats: m.stats,
    failureReasons: m.observer.failureReasons(),
    errors: m.errors,
  }));
  const onFailureArns = new Set(
    cloud.stacks.flatMap((s) =>
      s.mappings.flatMap((m) =>
        m.kind === 'dynamodb' && m.config.onFailure ? [m.config.onFailure.destinationArn] : [],
      ),
    ),
  );
  const deadLetters: DeadLetterFlow[] = [];
  for (const queue of queues.filter((q) => deadLetterArns.has(q.arn) || onFailureArns.has(q.arn))) {
    const count = await waiting(cloud, queue.url);
    deadLetters.push({
      queue: queue.name,
      count,
      reasons: count ? await readDeadLetters(cloud, queue.url, count) : new Map(),
    });
  }
  return { channels, consumers, deadLetters };
}

export function formatFlowReport(report: FlowReport): string[] {
  const lines: string[] = ['', 'Messages per channel (distinct messages its consumers received):'];
  for (const c of report.channels) {
    lines.push(
      `  ${c.kind.padEnd(6)} ${c.name.padEnd(60)} ${String(c.messages).padStart(7)}${c.waiting ? `  (${c.waiting} still waiting)` : ''}`,
    );
  }
  lines.push('', 'Consumers (event source mappings):');
  lines.push(`  ${'function'.padEnd(48)} ${'source'.padEnd(48)} delivered  failed  stats`);
  for (const c of report.consumers) {
    const stats = Object.entries(c.stats)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ');
    lines.push(
      `  ${c.functionName.padEnd(48)} ${c.source.padEnd(48)} ${String(c.delivered).padStart(9)} ${String(c.failedRecords).padStart(7)}  ${stats}`,
    );
    for (const [reason, n] of c.failureReasons) lines.push(`      failed ${n} x ${reason.slice(0, 240)}`);
    for (const error of c.errors) lines.push(`      event source error: ${error.slice(0, 300)}`);
  }
  lines.push('', 'Dead-letter queues:');
  if (report.deadLetters.length === 0) lines.push('  (the app has none)');
  for (const d of report.deadLetters) {
    lines.push(`  ${d.queue.padEnd(60)} ${String(d.count).padStart(7)}`);
    for (const [reason, n] of d.reasons) lines.push(`      ${n} x ${reason}`);
  }
  return lines;
}
