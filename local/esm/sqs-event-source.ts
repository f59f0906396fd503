/**
 * A local SQS event source mapping, following https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html:
 * long-polls the queue, drops (deletes) messages that match none of the filter criteria, gathers
 * up to `batchSize` messages within the batching window and under Lambda's 6 MB invoke payload
 * (messages cut by that limit stay in flight, in memory, and start the next invocation: putting
 * them back would count a receive the function never saw), invokes the function with Lambda's SQS event, deletes the batch on success and leaves it on
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
import { MAX_INVOKE_PAYLOAD_BYTES, PayloadBudget, splitAtPayloadLimit } from './payload';
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
  /**
   * Most concurrent invocations from this mapping (2..1000). Locally never more than the invoker's
   * concurrency: a batch beyond it would wait for an instance while its visibility timeout runs.
   * @default - the invoker's concurrency
   */
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
  /** Times the mapping lowered its concurrency after a function error or throttle. */
  concurrencyBackoffs: number;
  /**
   * Batches not invoked because no local instance of the function was free before their messages
   * would reappear (Lambda's throttle); their messages return after their visibility timeout.
   */
  throttled: number;
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
/** How long a mapping slot waits after a throttled batch before receiving again. */
const THROTTLE_PAUSE_MS = 1000;

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

/** Messages gathered for one invocation. */
interface Batch {
  messages: Message[];
  /** Epoch ms of the receive that brought the first of them: their visibility timeout runs from here. */
  receivedAt: number;
  /**
   * Received for this batch but cut by the 6 MB payload limit, still in flight. On a standard queue
   * they start the next batch; on FIFO they are invoked after this batch, in the same work.
   */
  overflow: Message[];
}

const groupOf = (message: Message) => message.Attributes?.MessageGroupId ?? '';

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
    throttled: 0,
    errors: 0,
  };
  private readonly problems = new EventSourceErrors();
  private readonly slots: Slots;
  private readonly maxConcurrency: number;
  private readonly fifo: boolean;
  private readonly passesFilter: (record: unknown) => boolean;
  /** VisibilityTimeout for receives while a batching window is open (undefined: the queue's own). */
  private windowVisibility: Promise<number | undefined> | undefined;
  /** The queue's own VisibilityTimeout, read once when the config does not give it. */
  private queueVisibility: Promise<number | undefined> | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  /** Standard queues: messages cut from the last batch by the payload limit, the start of the next. */
  private carried: Message[] = [];
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
    this.maxConcurrency = this.localConcurrency();
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
    // Closing the long poll's connection: the local emulator then ends the poll without taking a
    // message (local/fauxqs-abandoned-receive.ts). Other endpoints may still take one that arrives
    // in that moment; it then returns after its visibility timeout.
    this.abort.abort();
    this.slots.releaseWaiters();
    await this.loop;
    await Promise.all([...this.inFlight]);
    await this.releaseMessages(this.carried.splice(0));
  }

  /**
   * In AWS the function scales to the mapping's maximum concurrency. Locally it has a fixed number
   * of instances, and a batch received beyond them would wait for one while its messages' visibility
   * timeout runs: they would reappear and be invoked twice (on FIFO, one group twice at once).
   */
  private localConcurrency(): number {
    const instances = this.invoker.concurrency;
    const configured = this.config.maximumConcurrency ?? instances ?? 10;
    if (instances === undefined || configured <= instances) return configured;
    this.log(
      `maximumConcurrency ${configured} is above the ${instances} local instances of the function: ` +
        `the mapping runs at most ${instances} batches at once (raise the local function concurrency to run more)`,
    );
    return instances;
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
      let batch: Batch = { messages: [], receivedAt: Date.now(), overflow: [] };
      try {
        batch = await this.collectBatch();
      } catch (error) {
        if (this.running) {
          this.fail(`receive failed: ${(error as Error).message}; retrying in 1 s`);
          await sleep(1000);
        }
      }
      if (!this.running) {
        await this.releaseMessages([...batch.messages, ...batch.overflow]);
        this.slots.release();
        break;
      }
      if (batch.messages.length === 0) {
        this.slots.release();
        continue;
      }
      // FIFO: the overflow follows this batch in the same work, keeping its group locked meanwhile.
      if (!this.fifo) this.carried = batch.overflow;
      const processing = this.fifo ? this.processInOrder(batch) : this.processBatch(batch);
      const work = processing
        .then(() => undefined)
        .finally(() => {
          this.slots.release();
          this.inFlight.delete(work);
        });
      this.inFlight.add(work);
    }
  }

  /**
   * Starts with the messages the last batch could not carry, then long-polls for more and keeps
   * receiving until the batch is full, the window closes, or the next message would push the invoke
   * payload past 6 MB (that message and any after it in the same receive become the batch's
   * overflow, still in flight, so neither a receive is wasted nor FIFO order broken).
   */
  private async collectBatch(): Promise<Batch> {
    const batch: Message[] = [];
    let receivedAt = Date.now();
    const budget = new PayloadBudget();
    let windowEnd: number | undefined;
    const visibilityTimeout = await this.receiveVisibility();
    if (this.carried.length > 0) {
      receivedAt = Date.now();
      const carried = await this.holdLonger(this.carried.splice(0));
      const { fitting, rest } = splitAtPayloadLimit(carried, (m) => this.recordOf(m), budget);
      batch.push(...fitting);
      if (rest.length > 0)
        return this.cutAtPayloadLimit({ messages: batch, receivedAt, overflow: rest }, budget);
      // Carried messages wait for no one: a window opens at once, without one the batch is topped up with what is there now.
      if (batch.length > 0 && this.config.maximumBatchingWindowSeconds > 0)
        windowEnd = Date.now() + this.config.maximumBatchingWindowSeconds * 1000;
    }
    while (this.running && batch.length < this.config.batchSize) {
      let waitSeconds = MAX_LONG_POLL_SECONDS;
      if (windowEnd !== undefined) {
        const remainingMs = windowEnd - Date.now();
        if (remainingMs <= 0) break;
        waitSeconds = Math.min(MAX_LONG_POLL_SECONDS, Math.floor(remainingMs / 1000));
      } else if (batch.length > 0) {
        waitSeconds = 0;
      }
      let messages: Message[];
      const requestedAt = Date.now();
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
        if (batch.length === 0) receivedAt = requestedAt;
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
        const record = this.recordOf(message);
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
      if (overflow.length > 0)
        return this.cutAtPayloadLimit({ messages: batch, receivedAt, overflow }, budget);
      if (batch.length === 0) continue;
      if (this.config.maximumBatchingWindowSeconds === 0) break;
      windowEnd ??= Date.now() + this.config.maximumBatchingWindowSeconds * 1000;
      // A short poll (wait 0) that came back empty: pause briefly instead of spinning.
      if (messages.length === 0 && waitSeconds === 0)
        await sleep(Math.min(100, Math.max(0, windowEnd - Date.now())));
    }
    return { messages: batch, receivedAt, overflow: [] };
  }

  private cutAtPayloadLimit(batch: Batch, budget: PayloadBudget): Batch {
    this.counters.payloadCutoffs += 1;
    this.log(
      `batch of ${batch.messages.length} stopped at ${budget.bytes} bytes: ${batch.overflow.length} more would pass Lambda's ` +
        `${MAX_INVOKE_PAYLOAD_BYTES}-byte invoke payload; they stay in flight and ${this.fifo ? 'follow this batch' : 'start the next batch'}`,
    );
    return batch;
  }

  private recordOf(message: Message): SqsEventRecord {
    return toSqsEventRecord(message, this.config.queueArn, this.config.awsRegion);
  }

  /**
   * FIFO: invokes the batch, then its overflow in order, in payload-sized invocations. A message
   * whose group did not fully succeed before it is not invoked (it would overtake the failed one):
   * it goes back to the queue, behind the failed message, which still holds its group.
   */
  private async processInOrder(batch: Batch): Promise<void> {
    const unfinishedGroups = new Set(await this.processBatch(batch));
    let pending = batch.overflow;
    while (pending.length > 0) {
      if (!this.running) {
        await this.releaseMessages(pending);
        return;
      }
      const blocked = pending.filter((m) => unfinishedGroups.has(groupOf(m)));
      if (blocked.length > 0) {
        this.log(
          `${blocked.length} messages cut by the payload limit are not invoked: an earlier message of their group failed; they go back to the queue behind it`,
        );
        await this.releaseMessages(blocked);
      }
      const toInvoke = pending.filter((m) => !unfinishedGroups.has(groupOf(m)));
      if (toInvoke.length === 0) return;
      const receivedAt = Date.now();
      const held = await this.holdLonger(toInvoke);
      const { fitting, rest } = splitAtPayloadLimit(held, (m) => this.recordOf(m));
      if (rest.length > 0) this.counters.payloadCutoffs += 1;
      if (fitting.length > 0) {
        for (const group of await this.processBatch({ messages: fitting, receivedAt, overflow: [] }))
          unfinishedGroups.add(group);
      }
      pending = rest;
    }
  }

  /**
   * Restarts the visibility timeout of messages kept in memory for a later invocation, so they do not
   * reappear while they wait. Returns those still held: one whose receipt is no longer valid has
   * already reappeared (it will be delivered again) and must not be invoked now.
   */
  private async holdLonger(messages: Message[]): Promise<Message[]> {
    const visibility = await this.visibilitySeconds();
    if (visibility === undefined || messages.length === 0) return messages;
    const lost = new Set<Message>();
    for (let i = 0; i < messages.length; i += MAX_RECEIVE) {
      const chunk = messages.slice(i, i + MAX_RECEIVE);
      try {
        const { Failed = [] } = await this.sqs.send(
          new ChangeMessageVisibilityBatchCommand({
            QueueUrl: this.config.queueUrl,
            Entries: chunk.map((m, index) => ({
              Id: String(index),
              ReceiptHandle: m.ReceiptHandle ?? '',
              VisibilityTimeout: visibility,
            })),
          }),
        );
        for (const failure of Failed) {
          const message = chunk[Number(failure.Id)];
          if (!message) continue;
          lost.add(message);
          this.fail(
            `message ${message.MessageId} cut by the payload limit reappeared before its invocation (${failure.Code}); it will be delivered again`,
          );
        }
      } catch (error) {
        // Unknown outcome: invoke them anyway; at worst a message is delivered twice, as SQS allows.
        this.fail(
          `could not extend the visibility of ${chunk.length} carried messages: ${(error as Error).message}`,
        );
      }
    }
    return messages.filter((m) => !lost.has(m));
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
    this.windowVisibility ??= this.queueVisibilitySeconds().then((queueVisibility) => {
      // Unknown (the queue could not be read): receive with the queue's own, and ask again next time.
      if (queueVisibility === undefined) this.windowVisibility = undefined;
      return queueVisibility === undefined
        ? undefined
        : Math.max(queueVisibility, window + timeout + WINDOW_VISIBILITY_MARGIN_SECONDS);
    });
    return this.windowVisibility;
  }

  /** The queue's VisibilityTimeout: from the config, else read once from the queue (undefined if that fails). */
  private queueVisibilitySeconds(): Promise<number | undefined> {
    const configured = this.config.queueVisibilityTimeoutSeconds;
    if (configured !== undefined) return Promise.resolve(configured);
    this.queueVisibility ??= this.sqs
      .send(
        new GetQueueAttributesCommand({
          QueueUrl: this.config.queueUrl,
          AttributeNames: ['VisibilityTimeout'],
        }),
      )
      .then(({ Attributes }) => Number(Attributes?.VisibilityTimeout ?? 30))
      .catch(() => {
        this.queueVisibility = undefined;
        return undefined;
      });
    return this.queueVisibility;
  }

  /** How long received messages stay invisible: the batching window's visibility, else the queue's. */
  private async visibilitySeconds(): Promise<number | undefined> {
    return (await this.receiveVisibility()) ?? (await this.queueVisibilitySeconds());
  }

  /**
   * The latest moment the batch may start: later, its messages would reappear (and be invoked
   * again) before a run of the full function timeout ends. Undefined when the visibility is unknown.
   */
  private async startDeadline(batch: Batch): Promise<number | undefined> {
    const visibility = await this.visibilitySeconds();
    if (visibility === undefined) return undefined;
    return batch.receivedAt + (visibility - (this.config.functionTimeoutSeconds ?? 0)) * 1000;
  }

  /** Invokes one batch and settles it; returns the FIFO groups with a message not deleted. */
  private async processBatch(batch: Batch): Promise<string[]> {
    const { messages } = batch;
    const records = messages.map((m) => this.recordOf(m));
    const allGroups = [...new Set(messages.map(groupOf))];
    const startBy = await this.startDeadline(batch);
    const result = await invokeSafely(this.invoker, { Records: records }, { startBy });
    if (result.throttled) {
      await this.throttle(messages, result.error?.errorMessage ?? 'throttled');
      return allGroups;
    }
    this.counters.received += records.length;
    this.counters.invocations += 1;
    if (!result.ok) {
      this.failBatch(records, `${result.error?.errorType}: ${result.error?.errorMessage}`);
      this.backOff();
      return allGroups;
    }
    this.recover();
    if (!this.config.reportBatchItemFailures) {
      await this.deleteRecords(records);
      return [];
    }
    const verdict = readBatchItemFailures(result.response, new Set(records.map((r) => r.messageId)));
    if (verdict.kind === 'invalid') {
      this.failBatch(records, `invalid batch response, ${verdict.reason}`);
      return allGroups;
    }
    if (verdict.kind === 'success') {
      await this.deleteRecords(records);
      return [];
    }
    // As in AWS, on FIFO queues too: everything not listed is deleted.
    const failed = new Set(verdict.failedIds);
    if (this.fifo) this.warnAboutOvertaking(records, failed);
    this.counters.failed += failed.size;
    this.log(
      `${failed.size} of ${records.length} messages reported as failed; they return after the visibility timeout`,
    );
    await this.deleteRecords(records.filter((r) => !failed.has(r.messageId)));
    return [...new Set(messages.filter((m) => failed.has(m.MessageId ?? '')).map(groupOf))];
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

  /**
   * No instance was free before the batch's messages would reappear: invoking late would run them
   * twice at once. As on a Lambda throttle, the messages return after their visibility timeout (at
   * most a function timeout away; the receive counts toward maxReceiveCount, as in AWS), the mapping
   * backs off, and this slot pauses, so a busy function does not make the mapping spin through the
   * queue receiving batches only to throttle them.
   */
  private async throttle(messages: Message[], reason: string): Promise<void> {
    this.counters.throttled += 1;
    this.log(
      `batch of ${messages.length} throttled, not invoked (${reason}); its messages return after their visibility timeout`,
    );
    this.backOff('throttle');
    await sleep(THROTTLE_PAUSE_MS);
  }

  /** After a function error or throttle, halve the mapping's concurrency (AWS backs off gradually; at least 1). */
  private backOff(cause = 'function error'): void {
    const lowered = Math.max(1, Math.floor(this.slots.capacity / 2));
    if (lowered < this.slots.capacity) {
      this.counters.concurrencyBackoffs += 1;
      this.log(`${cause}: concurrency of this mapping backs off from ${this.slots.capacity} to ${lowered}`);
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

  /** Messages not invoked (stop() came, or an earlier message of their FIFO group failed): visible again at once. */
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
