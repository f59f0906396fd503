/**
 * Retry with backoff per consumer: a message that failed becomes visible again after an
 * exponentially growing, jittered delay (ChangeMessageVisibility on its receipt handle) instead of
 * the queue's fixed visibility timeout. The redrive policy still moves it to the DLQ after
 * maxReceiveCount receives. On FIFO queues every failed message of a group gets the delay of the
 * group's first failure; SQS hands out nothing more of a group while its head is invisible, so the
 * group waits, in order.
 */
import { ChangeMessageVisibilityBatchCommand, GetQueueUrlCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';

export interface RetryBackoffOptions {
  /** Delay scale of the first retry, in seconds. */
  readonly baseSeconds: number;
  /** Upper bound of any delay, in seconds (SQS allows up to 43,200). */
  readonly maxSeconds: number;
}

/** Set by the MessageConsumer construct (`retryBackoff`). */
export const RetryBackoffEnvironment = {
  BASE_SECONDS: 'SWITCHYARD_RETRY_BASE_SECONDS',
  MAX_SECONDS: 'SWITCHYARD_RETRY_MAX_SECONDS',
} as const;

/** SQS's ceiling for a visibility timeout. */
const MAX_VISIBILITY_SECONDS = 43_200;

export function retryBackoffFromEnvironment(
  env: NodeJS.ProcessEnv = process.env,
): RetryBackoffOptions | undefined {
  const base = Number(env[RetryBackoffEnvironment.BASE_SECONDS]);
  const max = Number(env[RetryBackoffEnvironment.MAX_SECONDS]);
  if (!(base > 0) || !(max >= base)) return undefined;
  return { baseSeconds: base, maxSeconds: Math.min(max, MAX_VISIBILITY_SECONDS) };
}

/**
 * Delay after the `receiveCount`-th failed receive: "equal jitter", a random value in
 * [cap/2, cap] with cap = min(max, base * 2^(receiveCount-1)), so delays keep growing while many
 * consumers' retries still spread out. Whole seconds, at least 1, as SQS takes them.
 */
export function retryDelaySeconds(
  receiveCount: number,
  options: RetryBackoffOptions,
  random: () => number = Math.random,
): number {
  const cap = Math.min(options.maxSeconds, options.baseSeconds * 2 ** Math.max(0, receiveCount - 1));
  return Math.max(1, Math.min(MAX_VISIBILITY_SECONDS, Math.round(cap / 2 + random() * (cap / 2))));
}

export interface ScheduledRetry {
  readonly sqsMessageId: string;
  readonly delaySeconds: number;
}

/** Sets the visibility of failed records; returns what it scheduled. Failures are the caller's to log. */
export class RetryScheduler {
  private readonly urls = new Map<string, Promise<string>>();

  constructor(
    private readonly options: RetryBackoffOptions,
    private readonly sqs: SQSClient = new SQSClient({}),
    private readonly random: () => number = Math.random,
  ) {}

  async schedule(failed: readonly SQSRecord[]): Promise<ScheduledRetry[]> {
    const delays = new Map<string, number>(); // per FIFO group: the delay of its first failure
    const byQueue = new Map<string, { record: SQSRecord; delaySeconds: number }[]>();
    for (const record of failed) {
      const group = record.attributes.MessageGroupId;
      const own = retryDelaySeconds(
        Number(record.attributes.ApproximateReceiveCount ?? 1),
        this.options,
        this.random,
      );
      const delaySeconds = group === undefined ? own : (delays.get(group) ?? own);
      if (group !== undefined && !delays.has(group)) delays.set(group, delaySeconds);
      const list = byQueue.get(record.eventSourceARN) ?? [];
      list.push({ record, delaySeconds });
      byQueue.set(record.eventSourceARN, list);
    }
    const scheduled: ScheduledRetry[] = [];
    for (const [arn, entries] of byQueue) {
      const queueUrl = await this.queueUrl(arn);
      for (let i = 0; i < entries.length; i += 10) {
        const chunk = entries.slice(i, i + 10);
        const result = await this.sqs.send(
          new ChangeMessageVisibilityBatchCommand({
            QueueUrl: queueUrl,
            Entries: chunk.map((e, n) => ({
              Id: String(n),
              ReceiptHandle: e.record.receiptHandle,
              VisibilityTimeout: e.delaySeconds,
            })),
          }),
        );
        const failedIds = new Set((result.Failed ?? []).map((f) => f.Id));
        chunk.forEach((e, n) => {
          if (!failedIds.has(String(n))) {
            scheduled.push({ sqsMessageId: e.record.messageId, delaySeconds: e.delaySeconds });
          }
        });
      }
    }
    return scheduled;
  }

  /** The queue URL of an event source ARN (arn:aws:sqs:region:account:name), looked up once. */
  private queueUrl(arn: string): Promise<string> {
    let url = this.urls.get(arn);
    if (!url) {
      const [, , , , account, name] = arn.split(':');
      url = this.sqs
        .send(new GetQueueUrlCommand({ QueueName: name, QueueOwnerAWSAccountId: account }))
        .then((r) => r.QueueUrl ?? '');
      url.catch(() => this.urls.delete(arn));
      this.urls.set(arn, url);
    }
    return url;
  }
}
