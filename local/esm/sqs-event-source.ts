/**
 * A local SQS event source mapping, following https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html:
 * long-polls the queue, drops (deletes) messages that match none of the filter criteria, gathers
 * up to `batchSize` messages within the batching window and under Lambda's 6 MB invoke payload,
 * invokes the function with Lambda's SQS event, deletes the batch on success and leaves it on
 * failure, so the queue's visibility timeout and redrive policy (maxReceiveCount -> DLQ) take over,
 * as in AWS. A partial batch response deletes everything not listed, on FIFO queues too (the
 * function itself must list the rest of a failed message's group, as AWS documents). After a
 * function error the mapping's concurrency backs off and recovers with successes.
 */
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { Invoker } from '../runtime/function-host';
import { readBatchItemFailures } from './batch-response';
import { MappingConfigError } from './errors';
import { compileFilterPatterns } from './event-filter';
import { EventSourceErrors } from './event-source-errors';
import { invokeSafely } from './invoke-safely';
import { MAX_INVOKE_PAYLOAD_BYTES, PayloadBudget } from './payload';
import { Slots } from './slots';
import { type SqsEventRecord, toSqsEventRecord } from './sqs-record';

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
  /** FilterCriteria.Filters[].Pattern JSON strings; messages matching none are deleted unseen. */
  filterPatterns?: string[];
  /** The function's timeout; with the queue's visibility timeout, checked as AWS checks it. */
  functionTimeoutSeconds?: number;
  /** The queue's VisibilityTimeout. @default - read from the queue when a batching window needs it */
  queueVisibilityTimeoutSeconds?: number;
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
  /** Messages deleted unseen because they matched none of the filter criteria. */
  filtered: number;
  /** Batches cut short so the invoke payload stays under 6 MB (the rest waits for the next batch). */
  payloadCutoffs: number;
  /** Times the mapping lowered its concurrency after a function error. */
  concurrencyBackoffs: number;
  /** Failed calls to the queue (receive, delete); see errors(). */
  errors: number;
}

export interface SqsEventSourceOptions {
  /** Receives one line per failed batch or delete. @default - no logging */
  log?: (line: string) => void;
}

const MAX_RECEIVE = 10;
const MAX_LONG_POLL_SECONDS = 20;
/** Lambda keeps messages of a windowed batch invisible for window + function timeout + 30 s. */
const WINDOW_VISIBILITY_MARGIN_SECONDS = 30;

/** Checks a mapping as Lambda's CreateEventSourceMapping does; throws MappingConfigError. */
export function validateSqsMapping(config: SqsMappingConfig): void {
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
  const visibility = config.queueVisibilityTimeoutSeconds;
  const timeout = config.functionTimeoutSeconds;
  if (visibility !== undefined && timeout !== undefined && visibility < timeout) {
    // Lambda's own wording for this InvalidParameterValueException.
    problems.push(
      `Queue visibility timeout: ${visibility} seconds is less than Function timeout: ${timeout} seconds ` +
        "(raise the queue's visibilityTimeout to at least the function timeout; AWS advises six times it)",
    );
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
    filtered: 0,
    payloadCutoffs: 0,
    concurrencyBackoffs: 0,
    errors: 0,
  };
  private readonly problems = new EventSourceErrors();
  private readonly slots: Slots;
  private readonly maxConcurrency: number;
  private readonly fifo: boolean;
  private readonly passesFilter: (record: unknown) => boolean;
  /** VisibilityTimeout for receives while a batching window is open (undefined: the queue's own). */
  private windowVisibility: Promise<number | undefined> | undefined;
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
    validateSqsMapping(config);
    this.fifo = config.queueArn.endsWith('.fifo') || config.queueUrl.endsWith('.fifo');
    this.maxConcurrency = config.maximumConcurrency ?? invoker.concurrency ?? 10;
    this.slots = new Slots(this.maxConcurrency);
    this.passesFilter = compileFilterPatterns(config.filterPatterns ?? [], 'body');
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
    return { ...this.counters, errors: this.problems.count };
  }

  /** The latest event source errors (failed receives and deletes), with how often each occurred. */
  errors(): readonly string[] {
    return this.problems.summary();
  }

  private async pollLoop(): Promise<void> {
    while (this.running) {
      await this.slots.acquire();
      let batch: Message[] = [];
      try {
        batch = await this.collectBatch();
      } catch (error) {
        if (this.running) {
          this.fail(`receive failed: ${(error as Error).message}; retrying in 1 s`);
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

  /**
   * Long-polls for the first messages, then keeps receiving until the batch is full, the window
   * closes, or the next message would push the invoke payload past 6 MB (that message and any
   * after it in the same receive go back to the queue at once, so FIFO order is kept).
   */
  private async collectBatch(): Promise<Message[]> {
    const batch: Message[] = [];
    const budget = new PayloadBudget();
    let windowEnd: number | undefined;
    const visibilityTimeout = await this.receiveVisibility();
    while (this.running && batch.length < this.config.batchSize) {
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
            VisibilityTimeout: visibilityTimeout,
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
          this.fail(`receive failed while filling a batch: ${(error as Error).message}`);
          break;
        }
        throw error;
      }
      const dropped: SqsEventRecord[] = [];
      const overflow: Message[] = [];
      for (const message of messages) {
        const record = toSqsEventRecord(message, this.config.queueArn, this.config.awsRegion);
        if (!this.passesFilter(record)) {
          dropped.push(record);
        } else if (overflow.length > 0 || !budget.fits(record, batch.length)) {
          overflow.push(message);
        } else {
          budget.add(record);
          batch.push(message);
        }
      }
      if (dropped.length > 0) await this.deleteFiltered(dropped);
      if (overflow.length > 0) {
        this.counters.payloadCutoffs += 1;
        this.log(
          `batch of ${batch.length} stopped at ${budget.bytes} bytes: ${overflow.length} more would pass Lambda's ${MAX_INVOKE_PAYLOAD_BYTES}-byte invoke payload; they wait for the next batch`,
        );
        await this.releaseMessages(overflow);
        break;
      }
      if (batch.length === 0) continue;
      if (this.config.maximumBatchingWindowSeconds === 0) break;
      windowEnd ??= Date.now() + this.config.maximumBatchingWindowSeconds * 1000;
      // A short poll (wait 0) that came back empty: pause briefly instead of spinning.
      if (messages.length === 0 && waitSeconds === 0)
        await sleep(Math.min(100, Math.max(0, windowEnd - Date.now())));
    }
    return batch;
  }

  /**
   * With a batching window, Lambda keeps received messages invisible for window + function timeout
   * + 30 s, so they do not reappear while the window is open or the function runs. Never shorter
   * than the queue's own visibility timeout.
   */
  private receiveVisibility(): Promise<number | undefined> {
    const window = this.config.maximumBatchingWindowSeconds;
    const timeout = this.config.functionTimeoutSeconds;
    if (window === 0 || timeout === undefined) return Promise.resolve(undefined);
    this.windowVisibility ??= (async () => {
      let queueVisibility = this.config.queueVisibilityTimeoutSeconds;
      if (queueVisibility === undefined) {
        const { Attributes } = await this.sqs.send(
          new GetQueueAttributesCommand({
            QueueUrl: this.config.queueUrl,
            AttributeNames: ['VisibilityTimeout'],
          }),
        );
        queueVisibility = Number(Attributes?.VisibilityTimeout ?? 30);
      }
      return Math.max(queueVisibility, window + timeout + WINDOW_VISIBILITY_MARGIN_SECONDS);
    })().catch(() => {
      this.windowVisibility = undefined;
      return undefined;
    });
    return this.windowVisibility;
  }

  private async processBatch(messages: Message[]): Promise<void> {
    const records = messages.map((m) => toSqsEventRecord(m, this.config.queueArn, this.config.awsRegion));
    this.counters.received += records.length;
    this.counters.invocations += 1;
    const result = await invokeSafely(this.invoker, { Records: records });
    if (!result.ok) {
      this.failBatch(records, `${result.error?.errorType}: ${result.error?.errorMessage}`);
      this.backOff();
      return;
    }
    this.recover();
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
    // As in AWS, on FIFO queues too: everything not listed is deleted.
    const failed = new Set(verdict.failedIds);
    if (this.fifo) this.warnAboutOvertaking(records, failed);
    this.counters.failed += failed.size;
    this.log(
      `${failed.size} of ${records.length} messages reported as failed; they return after the visibility timeout`,
    );
    await this.deleteRecords(records.filter((r) => !failed.has(r.messageId)));
  }

  /**
   * A FIFO message listed as failed while a later message of its group is not: AWS deletes the
   * later one, so it overtakes (or, if the retry goes to the DLQ, outlives) the failed one. Say so.
   */
  private warnAboutOvertaking(records: SqsEventRecord[], failed: ReadonlySet<string>): void {
    const failedGroups = new Set<string>();
    for (const record of records) {
      const group = record.attributes.MessageGroupId;
      if (group === undefined) continue;
      if (failed.has(record.messageId)) failedGroups.add(group);
      else if (failedGroups.has(group)) {
        this.log(
          `FIFO group ${group}: message ${record.messageId} follows a failed message but was not listed in batchItemFailures, ` +
            'so it is deleted (as in AWS) and overtakes the failed one; list every later message of the group to keep order',
        );
        failedGroups.delete(group);
      }
    }
  }

  /** After a function error, halve the mapping's concurrency (AWS backs off gradually; at least 1). */
  private backOff(): void {
    const lowered = Math.max(1, Math.floor(this.slots.capacity / 2));
    if (lowered < this.slots.capacity) {
      this.counters.concurrencyBackoffs += 1;
      this.log(
        `function error: concurrency of this mapping backs off from ${this.slots.capacity} to ${lowered}`,
      );
      this.slots.setLimit(lowered);
    }
  }

  /** Each successful invocation wins one slot back, up to the configured maximum. */
  private recover(): void {
    if (this.slots.capacity < this.maxConcurrency) this.slots.setLimit(this.slots.capacity + 1);
  }

  /** Non-matching messages: Lambda removes them from the queue; the function never sees them. */
  private async deleteFiltered(records: SqsEventRecord[]): Promise<void> {
    const deleted = await this.deleteRecords(records, false);
    this.counters.filtered += deleted;
  }

  /** The whole batch stays on the queue: it reappears after the visibility timeout (and moves to the DLQ after maxReceiveCount). */
  private failBatch(records: SqsEventRecord[], reason: string): void {
    this.counters.batchesFailed += 1;
    this.counters.failed += records.length;
    this.log(`batch of ${records.length} failed (${reason}); messages return after the visibility timeout`);
  }

  /** Deletes in batches of 10; returns how many were deleted. */
  private async deleteRecords(records: SqsEventRecord[], succeeded = true): Promise<number> {
    let deleted = 0;
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
        deleted += chunk.length - failedDeletes.length;
        if (succeeded) this.counters.succeeded += chunk.length - failedDeletes.length;
        for (const failure of failedDeletes) {
          // The message will be delivered again: SQS is at-least-once, and so is Lambda's poller.
          this.fail(
            `delete failed for ${chunk[Number(failure.Id)]?.messageId}: ${failure.Code} ${failure.Message}`,
          );
        }
      } catch (error) {
        this.fail(
          `delete of ${chunk.length} messages failed: ${(error as Error).message}; they will be delivered again`,
        );
      }
    }
    return deleted;
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

  /** An event source error: counted, kept for the report, and logged. */
  private fail(line: string): void {
    this.problems.add(line);
    this.log(line);
  }

  private log(line: string): void {
    this.options.log?.(`[esm ${this.config.functionName} <- ${this.config.queueArn}] ${line}`);
  }
}
