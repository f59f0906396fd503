/**
 * Schedules the retries of failed records with ChangeMessageVisibility (see retry-backoff.ts for the
 * policy). Its own module because it is the only consumer code that needs @aws-sdk/client-sqs: a
 * consumer without retry backoff never loads it.
 */
import { ChangeMessageVisibilityBatchCommand, GetQueueUrlCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { type RetryBackoffOptions, retryDelaySeconds } from './retry-backoff';

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
