/**
 * A local SQS event source mapping, following https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html:
 * long-polls the queue, gathers up to `batchSize` messages within the batching window, invokes the
 * function with Lambda's SQS event, deletes the batch on success and leaves it on failure, so the
 * queue's visibility timeout and redrive policy (maxReceiveCount -> DLQ) take over, as in AWS.
 */
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { Invoker } from '../runtime/function-host';
import { readBatchItemFailures } from './batch-response';
import { MappingConfigError } from './errors';
import { invokeSafely } from './invoke-safely';
import { Slots } from './slots';
import { type SqsEventRecord, toSqsEventRecord, withFollowersOfFailedGroups } from './sqs-record';

export interface SqsMappingConfig {
  functionName: string;
  queueUrl: string;
  queueArn: string;
  /** 1..10 000 (FIFO: 1..10); above 10 needs a batching window of at least 1 s, as in AWS. */
  batchSize: number;
  /** 0..300 (FIFO queues: must be 0, as in AWS). */
  maximumBatchingWindowSeconds: number;
  reportBatchItemFailures: boolean;
  /** Most concurrent invocations from this mapping (2..1000). @default - the invoker's concurrency */
  maximumConcurrency?: number;
  /** @default true */
  enabled?: boolean;
  awsRegion: string;
}

export interface SqsMappingStats {
  /** Messages received (a message received twice counts twice). */
  received: number;
  /** Messages deleted after their invocation succeeded. */
  succeeded: number;
  /** Messages left on the queue because their invocation (or their item) failed. */
  failed: number;
  invocations: number;
  /** Invocations that failed as a whole (error, timeout, invalid batch response). */
  batchesFailed: number;
}

export interface SqsEventSourceOptions {
  /** Receives one line per failed batch or delete. @default - no logging */
  log?: (line: string) => void;
}

const MAX_RECEIVE = 10;
const MAX_LONG_POLL_SECONDS = 20;
/** Lambda's synchronous invocation payload limit (6 MB), minus room for the event envelope. */
const MAX_PAYLOAD_BYTES = 6 * 1024 * 1024 - 64 * 1024;

function validate(config: SqsMappingConfig): void {
  const problems: string[] = [];
  const fifo = config.queueArn.endsWith('.fifo') || config.queueUrl.endsWith('.fifo');
  const maxBatch = fifo ? 10 : 10_000;
  if (!Number.isInteger(config.batchSize) || config.batchSize < 1 || config.batchSize > maxBatch) {
    problems.push(
      `batchSize must be an integer from 1 to ${maxBatch}${fifo ? ' for a FIFO queue' : ''}, got ${config.batchSize}`,
    );
  }
  const window = config.maximumBatchingWindowSeconds;
  if (!(window >= 0 && window <= 300))
    problems.push(`maximumBatchingWindowSeconds must be 0..300, got ${window}`);
  if (fifo && window > 0)
    problems.push('FIFO queues do not support a batching window: set maximumBatchingWindowSeconds to 0');
  if (config.batchSize > 10 && window < 1) {
    problems.push('a batchSize above 10 needs maximumBatchingWindowSeconds of at least 1');
  }
  const max = config.maximumConcurrency;
  if (max !== undefined && !(Number.isInteger(max) && max >= 2 && max <= 1000)) {
    problems.push(`maximumConcurrency must be an integer from 2 to 1000, got ${max}`);
  }
  if (problems.length > 0) {
    throw new MappingConfigError(
      `SQS mapping ${config.queueArn} -> ${config.functionName}: ${problems.join('; ')}.`,
    );
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Polls one queue for one function.
 *
 * @example
 * const source = new SqsEventSource(
 *   { functionName: 'billing', queueUrl, queueArn, batchSize: 10, maximumBatchingWindowSeconds: 0,
 *     reportBatchItemFailures: true, awsRegion: 'us-east-1' },
 *   host,
 *   new SQSClient({}),
 * );
 * source.start();
 * // ...
 * await source.stop();
 */
export class SqsEventSource {
  private readonly counters: SqsMappingStats = {
    received: 0,
    succeeded: 0,
    failed: 0,
    invocations: 0,
    batchesFailed: 0,
  };
  private readonly slots: Slots;
  private readonly fifo: boolean;
  private readonly inFlight = new Set<Promise<void>>();
  private running = false;
  private abort = new AbortController();
  private loop: Promise<void> | undefined;

  constructor(
    private readonly config: SqsMappingConfig,
    private readonly invoker: Invoker,
    private readonly sqs: SQSClient,
    private readonly options: SqsEventSourceOptions = {},
  ) {
    validate(config);
    this.fifo = config.queueArn.endsWith('.fifo') || config.queueUrl.endsWith('.fifo');
    this.slots = new Slots(config.maximumConcurrency ?? invoker.concurrency ?? 10);
  }

  /** Starts polling; a disabled mapping (`enabled: false`) does nothing, as in AWS. */
  start(): void {
    if (this.running || this.config.enabled === false) return;
    this.running = true;
    this.abort = new AbortController();
    this.loop = this.pollLoop();
  }

  /** Stops polling, waits for in-flight batches to finish, and releases messages gathered but not yet sent. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.abort.abort();
    this.slots.releaseWaiters();
    await this.loop;
    await Promise.all([...this.inFlight]);
  }

  stats(): SqsMappingStats {
    return { ...this.counters };
  }

  private async pollLoop(): Promise<void> {
    while (this.running) {
      await this.slots.acquire();
      let batch: Message[] = [];
      try {
        batch = await this.collectBatch();
      } catch (error) {
        if (this.running) {
          this.log(`receive failed: ${(error as Error).message}; retrying in 1 s`);
          await sleep(1000);
        }
      }
      if (!this.running) {
        await this.releaseMessages(batch);
        this.slots.release();
        break;
      }
      if (batch.length === 0) {
        this.slots.release();
        continue;
      }
      const work = this.processBatch(batch).finally(() => {
        this.slots.release();
        this.inFlight.delete(work);
      });
      this.inFlight.add(work);
    }
  }

  /** Long-polls for the first messages, then keeps receiving until the batch is full or the window closes. */
  private async collectBatch(): Promise<Message[]> {
    const batch: Message[] = [];
    let bytes = 0;
    let windowEnd: number | undefined;
    while (this.running && batch.length < this.config.batchSize && bytes < MAX_PAYLOAD_BYTES) {
      let waitSeconds = MAX_LONG_POLL_SECONDS;
      if (windowEnd !== undefined) {
        const remainingMs = windowEnd - Date.now();
        if (remainingMs <= 0) break;
        waitSeconds = Math.min(MAX_LONG_POLL_SECONDS, Math.floor(remainingMs / 1000));
      }
      let messages: Message[];
      try {
        const response = await this.sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: this.config.queueUrl,
            MaxNumberOfMessages: Math.min(MAX_RECEIVE, this.config.batchSize - batch.length),
            WaitTimeSeconds: waitSeconds,
            AttributeNames: ['All'],
            MessageSystemAttributeNames: ['All'],
            MessageAttributeNames: ['All'],
          }),
          { abortSignal: this.abort.signal },
        );
        messages = response.Messages ?? [];
      } catch (error) {
        // Stopping aborts the long poll; a failure after some messages arrived still delivers those.
        if (!this.running) break;
        if (batch.length > 0) {
          this.log(`receive failed while filling a batch: ${(error as Error).message}`);
          break;
        }
        throw error;
      }
      for (const message of messages) bytes += Buffer.byteLength(message.Body ?? '');
      batch.push(...messages);
      if (batch.length === 0) continue;
      if (this.config.maximumBatchingWindowSeconds === 0) break;
      windowEnd ??= Date.now() + this.config.maximumBatchingWindowSeconds * 1000;
      // A short poll (wait 0) that came back empty: pause briefly instead of spinning.
      if (messages.length === 0 && waitSeconds === 0)
        await sleep(Math.min(100, Math.max(0, windowEnd - Date.now())));
    }
    return batch;
  }

  private async processBatch(messages: Message[]): Promise<void> {
    const records = messages.map((m) => toSqsEventRecord(m, this.config.queueArn, this.config.awsRegion));
    this.counters.received += records.length;
    this.counters.invocations += 1;
    const result = await invokeSafely(this.invoker, { Records: records });
    if (!result.ok) {
      this.failBatch(records, `${result.error?.errorType}: ${result.error?.errorMessage}`);
      return;
    }
    if (!this.config.reportBatchItemFailures) {
      await this.deleteRecords(records);
      return;
    }
    const verdict = readBatchItemFailures(result.response, new Set(records.map((r) => r.messageId)));
    if (verdict.kind === 'invalid') {
      this.failBatch(records, `invalid batch response, ${verdict.reason}`);
      return;
    }
    if (verdict.kind === 'success') {
      await this.deleteRecords(records);
      return;
    }
    const failed = this.fifo
      ? withFollowersOfFailedGroups(records, verdict.failedIds)
      : new Set(verdict.failedIds);
    this.counters.failed += failed.size;
    this.log(
      `${failed.size} of ${records.length} messages reported as failed; they return after the visibility timeout`,
    );
    await this.deleteRecords(records.filter((r) => !failed.has(r.messageId)));
  }

  /** The whole batch stays on the queue: it reappears after the visibility timeout (and moves to the DLQ after maxReceiveCount). */
  private failBatch(records: SqsEventRecord[], reason: string): void {
    this.counters.batchesFailed += 1;
    this.counters.failed += records.length;
    this.log(`batch of ${records.length} failed (${reason}); messages return after the visibility timeout`);
  }

  private async deleteRecords(records: SqsEventRecord[]): Promise<void> {
    for (let i = 0; i < records.length; i += MAX_RECEIVE) {
      const chunk = records.slice(i, i + MAX_RECEIVE);
      try {
        const response = await this.sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: this.config.queueUrl,
            Entries: chunk.map((r, index) => ({ Id: String(index), ReceiptHandle: r.receiptHandle })),
          }),
        );
        const failedDeletes = response.Failed ?? [];
        this.counters.succeeded += chunk.length - failedDeletes.length;
        for (const failure of failedDeletes) {
          // The message will be delivered again: SQS is at-least-once, and so is Lambda's poller.
          this.log(
            `delete failed for ${chunk[Number(failure.Id)]?.messageId}: ${failure.Code} ${failure.Message}`,
          );
        }
      } catch (error) {
        this.log(
          `delete of ${chunk.length} messages failed: ${(error as Error).message}; they will be delivered again`,
        );
      }
    }
  }

  /** Messages gathered when stop() came: make them visible again at once for the next consumer. */
  private async releaseMessages(messages: Message[]): Promise<void> {
    for (let i = 0; i < messages.length; i += MAX_RECEIVE) {
      const chunk = messages.slice(i, i + MAX_RECEIVE);
      await this.sqs
        .send(
          new ChangeMessageVisibilityBatchCommand({
            QueueUrl: this.config.queueUrl,
            Entries: chunk.map((m, index) => ({
              Id: String(index),
              ReceiptHandle: m.ReceiptHandle ?? '',
              VisibilityTimeout: 0,
            })),
          }),
        )
        // If this fails the messages simply return after their visibility timeout.
        .catch(() => undefined);
    }
  }

  private log(line: string): void {
    this.options.log?.(`[esm ${this.config.functionName} <- ${this.config.queueArn}] ${line}`);
  }
}
