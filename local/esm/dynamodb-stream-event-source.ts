/**
 * A local DynamoDB Streams event source mapping, following
 * https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html: reads every shard (parents before
 * children) with DescribeStream/GetShardIterator/GetRecords, filters records, batches them, and
 * invokes the function in order, one batch at a time per shard. A failed batch blocks its shard
 * and is retried until MaximumRetryAttempts or MaximumRecordAgeInSeconds; BisectBatchOnFunctionError
 * splits it (without consuming retries); ReportBatchItemFailures checkpoints at the lowest failed
 * sequence number. A discarded batch goes to the OnFailure destination as Lambda's invocation record.
 */
import { randomUUID } from 'node:crypto';
import {
  DescribeStreamCommand,
  type DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type _Record as RawRecord,
  type Shard,
  type ShardIteratorType,
} from '@aws-sdk/client-dynamodb-streams';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SNSClient } from '@aws-sdk/client-sns';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { type InvokeResult, type Invoker, LOCAL_ACCOUNT_ID } from '../runtime/function-host';
import { readBatchItemFailures } from './batch-response';
import { MappingConfigError } from './errors';
import { compileFilterPatterns } from './event-filter';
import { EventSourceErrors } from './event-source-errors';
import { invokeSafely } from './invoke-safely';
import { type DiscardCondition, OnFailureDestination, type StreamInvocationRecord } from './on-failure';
import { PayloadBudget } from './payload';
import { type DynamoDbEventRecord, toDynamoDbEventRecord } from './stream-record';

export interface StreamMappingConfig {
  functionName: string;
  streamArn: string;
  startingPosition: 'TRIM_HORIZON' | 'LATEST';
  /** 1..10 000 */
  batchSize: number;
  /** 0..300 */
  maximumBatchingWindowSeconds: number;
  /** -1 = infinite, else 0..10 000. */
  maximumRetryAttempts: number;
  /**
   * -1 = infinite. AWS requires 60..604 800; smaller positive values are accepted locally so
   * tests can exercise the rule quickly.
   */
  maximumRecordAgeSeconds: number;
  bisectBatchOnFunctionError: boolean;
  reportBatchItemFailures: boolean;
  onFailure?: { destinationArn: string; queueUrl?: string; topicArn?: string; bucket?: string };
  /** The mapping's UUID (part of an S3 OnFailure object key). @default 'local' */
  mappingUuid?: string;
  /** FilterCriteria.Filters[].Pattern JSON strings; see event-filter.ts for the supported syntax. */
  filterPatterns?: string[];
  awsRegion: string;
  /** @default true */
  enabled?: boolean;
  /** Pause between empty GetRecords calls. @default 250 (Lambda polls each shard 4 times a second) */
  pollIntervalMs?: number;
  /**
   * Pause between empty GetRecords calls while the shard is active (a record was read within the
   * last `ACTIVE_SHARD_MS`). The local cloud polls faster than Lambda's 4 times a second right
   * after traffic, where the next record of a flow is likely (an outbox's reply write), so stream
   * hops do not dominate a local round trip; an idle shard falls back to `pollIntervalMs`.
   * @default - pollIntervalMs
   */
  activePollIntervalMs?: number;
}

/** How long after its last record a shard counts as active (see `activePollIntervalMs`). */
export const ACTIVE_SHARD_MS = 2000;

export interface StreamMappingStats {
  recordsRead: number;
  /** Records dropped by the filter criteria (never sent; the checkpoint moves past them). */
  recordsFiltered: number;
  invocations: number;
  /** Records of successful invocations (or before the lowest reported failure). */
  recordsSucceeded: number;
  /** Invocations that failed as a whole or reported item failures. */
  failedInvocations: number;
  bisections: number;
  /** Records given up on (sent to the OnFailure destination, or dropped when there is none). */
  recordsDiscarded: number;
  onFailureRecordsSent: number;
  /** Shard iterators renewed from the checkpoint after ExpiredIterator/TrimmedDataAccess. */
  iteratorRenewals: number;
  /** Batches cut short so the invoke payload stays under 6 MB. */
  payloadCutoffs: number;
  /** Failed calls to the stream (DescribeStream, GetShardIterator, GetRecords); see errors(). */
  errors: number;
}

export interface StreamEventSourceOptions {
  /** Receives one line per failure, discard or destination problem. @default - no logging */
  log?: (line: string) => void;
}

interface PendingRecord {
  record: DynamoDbEventRecord;
  /** Best estimate of when the record entered the stream (ms), for MaximumRecordAgeInSeconds. */
  arrivalMs: number;
}

interface WorkItem {
  records: PendingRecord[];
  retries: number;
  invokeCount: number;
  last?: InvokeResult;
}

const SHARD_DISCOVERY_MS = 1000;
const ERROR_PAUSE_MS = 1000;
const GET_RECORDS_LIMIT = 1000;

function validate(config: StreamMappingConfig): void {
  const problems: string[] = [];
  if (!/^arn:[^:]+:dynamodb:[^:]*:[^:]*:table\/[^/]+\/stream\/.+$/.test(config.streamArn)) {
    problems.push(
      `streamArn '${config.streamArn}' is not a DynamoDB stream ARN (use the table's LatestStreamArn)`,
    );
  }
  if (!['TRIM_HORIZON', 'LATEST'].includes(config.startingPosition)) {
    problems.push(`startingPosition must be TRIM_HORIZON or LATEST, got ${config.startingPosition}`);
  }
  if (!Number.isInteger(config.batchSize) || config.batchSize < 1 || config.batchSize > 10_000) {
    problems.push(`batchSize must be an integer from 1 to 10000, got ${config.batchSize}`);
  }
  const window = config.maximumBatchingWindowSeconds;
  if (!(window >= 0 && window <= 300))
    problems.push(`maximumBatchingWindowSeconds must be 0..300, got ${window}`);
  const retries = config.maximumRetryAttempts;
  if (!Number.isInteger(retries) || retries < -1 || retries > 10_000) {
    problems.push(`maximumRetryAttempts must be -1 (infinite) or 0..10000, got ${retries}`);
  }
  const age = config.maximumRecordAgeSeconds;
  if (!(age === -1 || (age > 0 && age <= 604_800))) {
    problems.push(`maximumRecordAgeSeconds must be -1 (infinite) or 1..604800, got ${age}`);
  }
  if (problems.length > 0) {
    throw new MappingConfigError(
      `Stream mapping ${config.streamArn} -> ${config.functionName}: ${problems.join('; ')}.`,
    );
  }
}

/**
 * DynamoDB Local rounds ApproximateCreationDateTime down to the minute; when it looks rounded,
 * the moment this poller first saw the record bounds the true arrival from above.
 */
function arrivalOf(raw: RawRecord, firstSeenMs: number): number {
  const created = raw.dynamodb?.ApproximateCreationDateTime?.getTime();
  if (created === undefined) return firstSeenMs;
  return created % 60_000 === 0 ? Math.min(firstSeenMs, created + 59_999) : created;
}

function isoSeconds(epochSeconds: number): string {
  return new Date(epochSeconds * 1000).toISOString().replace('.000Z', 'Z');
}

/**
 * Reads one DynamoDB stream for one function.
 *
 * @example
 * const source = new StreamEventSource(
 *   { functionName: 'outbox-relay', streamArn, startingPosition: 'TRIM_HORIZON', batchSize: 100,
 *     maximumBatchingWindowSeconds: 0, maximumRetryAttempts: 3, maximumRecordAgeSeconds: -1,
 *     bisectBatchOnFunctionError: true, reportBatchItemFailures: true, awsRegion: 'us-east-1',
 *     onFailure: { destinationArn: dlqArn, queueUrl: dlqUrl } },
 *   host,
 *   { streams: new DynamoDBStreamsClient({}), sqs: new SQSClient({}), sns: new SNSClient({}) },
 * );
 * source.start();
 * await source.ready(); // iterators taken: writes from now on are seen, even with LATEST
 * // ...
 * await source.stop();
 */
export class StreamEventSource {
  private readonly counters: StreamMappingStats = {
    recordsRead: 0,
    recordsFiltered: 0,
    invocations: 0,
    recordsSucceeded: 0,
    failedInvocations: 0,
    bisections: 0,
    recordsDiscarded: 0,
    onFailureRecordsSent: 0,
    iteratorRenewals: 0,
    payloadCutoffs: 0,
    errors: 0,
  };
  private readonly problems = new EventSourceErrors();
  private readonly passesFilter: (record: unknown) => boolean;
  private readonly destination: OnFailureDestination | undefined;
  private readonly functionArn: string;
  private readonly pollIntervalMs: number;
  private readonly shardsStarted = new Set<string>();
  private readonly shardsDone = new Set<string>();
  private readonly processors = new Set<Promise<void>>();
  private readonly sleepers = new Set<() => void>();
  private running = false;
  private loop: Promise<void> | undefined;
  private readyPromise: Promise<void>;
  private markReady: () => void = () => undefined;

  constructor(
    private readonly config: StreamMappingConfig,
    private readonly invoker: Invoker,
    private readonly clients: {
      streams: DynamoDBStreamsClient;
      sqs: SQSClient;
      sns: SNSClient;
      s3?: S3Client;
    },
    private readonly options: StreamEventSourceOptions = {},
  ) {
    validate(config);
    this.passesFilter = compileFilterPatterns(config.filterPatterns ?? []);
    this.destination = config.onFailure
      ? new OnFailureDestination(config.onFailure, clients, config.mappingUuid)
      : undefined;
    this.functionArn = `arn:aws:lambda:${config.awsRegion}:${LOCAL_ACCOUNT_ID}:function:${config.functionName}`;
    this.pollIntervalMs = config.pollIntervalMs ?? 250;
    this.readyPromise = new Promise((resolve) => {
      this.markReady = resolve;
    });
  }

  /** Starts reading; a disabled mapping (`enabled: false`) does nothing, as in AWS. */
  start(): void {
    if (this.running) return;
    if (this.config.enabled === false) {
      this.markReady();
      return;
    }
    this.running = true;
    this.loop = this.coordinate();
  }

  /** Resolves once every shard present at start has its iterator (LATEST is fixed from then on). */
  ready(): Promise<void> {
    return this.readyPromise;
  }

  /** Stops reading; waits for the batch in flight on each shard to finish (no further retries). */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    for (const wake of this.sleepers) wake();
    await this.loop;
    await Promise.all([...this.processors]);
    this.markReady();
  }

  stats(): StreamMappingStats {
    return { ...this.counters, errors: this.problems.count };
  }

  /** The latest event source errors (failed stream calls), newest last, with how often each occurred. */
  errors(): readonly string[] {
    return this.problems.summary();
  }

  /** Discovers shards and starts a reader for each once its parent is done. */
  private async coordinate(): Promise<void> {
    let initial = true;
    while (this.running) {
      try {
        const shards = await this.listShards();
        const listed = new Set(shards.map((s) => s.ShardId));
        if (initial && this.config.startingPosition === 'LATEST') {
          // LATEST means "from now on": closed shards hold only the past.
          for (const shard of shards)
            if (shard.SequenceNumberRange?.EndingSequenceNumber) this.markShardDone(shard);
        }
        for (const shard of shards) {
          const id = shard.ShardId ?? '';
          if (this.shardsStarted.has(id)) continue;
          const parent = shard.ParentShardId;
          if (parent && listed.has(parent) && !this.shardsDone.has(parent)) continue;
          const position = initial ? this.config.startingPosition : 'TRIM_HORIZON';
          // Taken before the iterator: a record written between the two is after LATEST and must
          // not count as "before the start" when a renewal reads from the trim horizon.
          const startedSeconds = Math.floor(Date.now() / 60_000) * 60;
          const iterator = await this.shardIterator(id, position);
          this.shardsStarted.add(id);
          const reader = this.readShard(id, iterator, position, startedSeconds).catch((error) => {
            this.fail(`shard ${id} reader stopped: ${(error as Error).message}`);
          });
          this.processors.add(reader);
          void reader.finally(() => this.processors.delete(reader));
        }
        if (initial) {
          initial = false;
          this.markReady();
        }
      } catch (error) {
        if (this.running) this.fail(`DescribeStream failed: ${(error as Error).message}; retrying`);
        await this.pause(ERROR_PAUSE_MS);
        continue;
      }
      await this.pause(SHARD_DISCOVERY_MS);
    }
  }

  private markShardDone(shard: Shard): void {
    const id = shard.ShardId ?? '';
    this.shardsStarted.add(id);
    this.shardsDone.add(id);
  }

  private async listShards(): Promise<Shard[]> {
    const shards: Shard[] = [];
    let exclusiveStartShardId: string | undefined;
    do {
      const { StreamDescription } = await this.clients.streams.send(
        new DescribeStreamCommand({
          StreamArn: this.config.streamArn,
          ExclusiveStartShardId: exclusiveStartShardId,
        }),
      );
      shards.push(...(StreamDescription?.Shards ?? []));
      exclusiveStartShardId = StreamDescription?.LastEvaluatedShardId;
    } while (exclusiveStartShardId);
    return shards;
  }

  private async shardIterator(
    shardId: string,
    type: ShardIteratorType,
    sequenceNumber?: string,
  ): Promise<string | undefined> {
    const { ShardIterator } = await this.clients.streams.send(
      new GetShardIteratorCommand({
        StreamArn: this.config.streamArn,
        ShardId: shardId,
        ShardIteratorType: type,
        SequenceNumber: sequenceNumber,
      }),
    );
    return ShardIterator;
  }

  /** Reads one shard to its end (if it closes), delivering batches in order. */
  private async readShard(
    shardId: string,
    firstIterator: string | undefined,
    position: ShardIteratorType,
    /** The minute (epoch seconds) in which the first iterator was taken. */
    startedSeconds: number,
  ): Promise<void> {
    let iterator = firstIterator;
    const pending: PendingRecord[] = [];
    /** The checkpoint: the last record read from this shard. */
    let lastSequence: string | undefined;
    /** LATEST renewed from TRIM_HORIZON before any record was read: skip what predates the start. */
    let notBeforeSeconds: number | undefined;
    let windowStart: number | undefined;
    const windowMs = this.config.maximumBatchingWindowSeconds * 1000;
    let lastRecordAt = Number.NEGATIVE_INFINITY;
    const emptyPollPause = () =>
      Date.now() - lastRecordAt < ACTIVE_SHARD_MS
        ? (this.config.activePollIntervalMs ?? this.pollIntervalMs)
        : this.pollIntervalMs;
    while (this.running) {
      let fetched = 0;
      if (iterator) {
        try {
          const response = await this.clients.streams.send(
            new GetRecordsCommand({ ShardIterator: iterator, Limit: GET_RECORDS_LIMIT }),
          );
          iterator = response.NextShardIterator;
          const now = Date.now();
          if ((response.Records ?? []).length > 0) lastRecordAt = now;
          for (const raw of response.Records ?? []) {
            fetched += 1;
            const record = toDynamoDbEventRecord(raw, this.config.streamArn, this.config.awsRegion);
            lastSequence = record.dynamodb.SequenceNumber;
            if (
              notBeforeSeconds !== undefined &&
              record.dynamodb.ApproximateCreationDateTime < notBeforeSeconds
            )
              continue;
            this.counters.recordsRead += 1;
            if (this.passesFilter(record)) pending.push({ record, arrivalMs: arrivalOf(raw, now) });
            else this.counters.recordsFiltered += 1;
          }
        } catch (error) {
          if (!this.running) break;
          const name = (error as Error).name;
          if (name === 'ExpiredIteratorException' || name === 'TrimmedDataAccessException') {
            // As the Lambda service does: a new iterator from the checkpoint. DynamoDB Local numbers
            // records with one counter for all tables, so an iterator taken on an empty stream is
            // "trimmed" as soon as another table is written (issue 9).
            try {
              const renewed = await this.renewIterator(shardId, lastSequence, position);
              iterator = renewed.iterator;
              if (renewed.skipBeforeStart) notBeforeSeconds ??= startedSeconds;
              this.counters.iteratorRenewals += 1;
              this.log(`${name} on ${shardId}: iterator renewed from ${lastSequence ?? renewed.from}`);
            } catch (renewError) {
              this.fail(
                `renewing the iterator of ${shardId} failed: ${(renewError as Error).message}; retrying`,
              );
              await this.pause(ERROR_PAUSE_MS);
            }
          } else {
            this.fail(`GetRecords on ${shardId} failed: ${name}: ${(error as Error).message}; retrying`);
            await this.pause(ERROR_PAUSE_MS);
          }
          continue;
        }
      }
      const closed = iterator === undefined;
      if (pending.length === 0) {
        if (closed) break;
        await this.pause(emptyPollPause());
        continue;
      }
      windowStart ??= Date.now();
      const windowLeft = windowStart + windowMs - Date.now();
      if (pending.length < this.config.batchSize && windowLeft > 0 && !closed) {
        if (fetched === 0) await this.pause(Math.min(emptyPollPause(), windowLeft));
        continue;
      }
      const batch = pending.splice(0, this.batchLength(pending));
      windowStart = pending.length > 0 ? Date.now() : undefined;
      await this.deliver(shardId, batch);
    }
    // A shard that was read to its end lets its children start; a stopped one does not.
    if (this.running) this.shardsDone.add(shardId);
  }

  /**
   * A new iterator after the old one expired or was trimmed: right after the checkpoint; with no
   * checkpoint, from the trim horizon (for LATEST, records older than the mapping's start minute
   * are then skipped: a duplicate of a record from that minute is preferred to a lost one).
   */
  private async renewIterator(
    shardId: string,
    checkpoint: string | undefined,
    position: ShardIteratorType,
  ): Promise<{ iterator: string | undefined; from: string; skipBeforeStart: boolean }> {
    if (checkpoint) {
      try {
        return {
          iterator: await this.shardIterator(shardId, 'AFTER_SEQUENCE_NUMBER', checkpoint),
          from: checkpoint,
          skipBeforeStart: false,
        };
      } catch (error) {
        // The checkpoint itself is past the trim horizon: Lambda goes on from the oldest record.
        if ((error as Error).name !== 'TrimmedDataAccessException') throw error;
      }
    }
    return {
      iterator: await this.shardIterator(shardId, 'TRIM_HORIZON'),
      from: 'TRIM_HORIZON',
      skipBeforeStart: !checkpoint && position === 'LATEST',
    };
  }

  /** How many pending records the next batch takes: batch size, and under 6 MB of event. */
  private batchLength(pending: PendingRecord[]): number {
    const budget = new PayloadBudget();
    const limit = Math.min(this.config.batchSize, pending.length);
    for (let i = 0; i < limit; i += 1) {
      const record = (pending[i] as PendingRecord).record;
      if (!budget.fits(record, i)) {
        this.counters.payloadCutoffs += 1;
        return i;
      }
      budget.add(record);
    }
    return limit;
  }

  /** Invokes until the batch succeeds or is discarded; in order, blocking the shard meanwhile. */
  private async deliver(shardId: string, batch: PendingRecord[]): Promise<void> {
    const work: WorkItem[] = [{ records: batch, retries: 0, invokeCount: 0 }];
    const maxRetries = this.config.maximumRetryAttempts;
    const maxAgeMs = this.config.maximumRecordAgeSeconds * 1000;
    while (work.length > 0 && this.running) {
      const item = work[0] as WorkItem;
      const oldest = Math.min(...item.records.map((r) => r.arrivalMs));
      if (maxAgeMs >= 0 && Date.now() - oldest > maxAgeMs) {
        await this.discard(shardId, item, 'RecordAgeExceeded');
        work.shift();
        continue;
      }
      const result = await invokeSafely(this.invoker, { Records: item.records.map((r) => r.record) });
      this.counters.invocations += 1;
      item.invokeCount += 1;
      item.last = result;
      const failure = this.failureOf(result, item.records);
      if (failure === undefined) {
        this.counters.recordsSucceeded += item.records.length;
        work.shift();
        continue;
      }
      this.counters.failedInvocations += 1;
      if (failure.from > 0) {
        // Checkpoint at the lowest failed sequence number: retry from there.
        this.counters.recordsSucceeded += failure.from;
        item.records = item.records.slice(failure.from);
      }
      if (failure.wholeBatch && this.config.bisectBatchOnFunctionError && item.records.length > 1) {
        // Splitting does not consume the retry quota (AWS docs, "Retain discarded records").
        const half = Math.ceil(item.records.length / 2);
        this.counters.bisections += 1;
        work.splice(
          0,
          1,
          { records: item.records.slice(0, half), retries: item.retries, invokeCount: 0 },
          { records: item.records.slice(half), retries: item.retries, invokeCount: 0 },
        );
        continue;
      }
      if (maxRetries >= 0 && item.retries >= maxRetries) {
        await this.discard(shardId, item, 'RetryAttemptsExhausted');
        work.shift();
        continue;
      }
      item.retries += 1;
      await this.pause(Math.min(1000, 100 * 2 ** (item.retries - 1)));
    }
  }

  /**
   * undefined when the batch succeeded. Otherwise where to retry from: the whole batch (error,
   * timeout, invalid response) or the record with the lowest reported failed sequence number.
   */
  private failureOf(
    result: InvokeResult,
    records: PendingRecord[],
  ): { from: number; wholeBatch: boolean } | undefined {
    if (!result.ok) {
      this.log(
        `batch of ${records.length} failed: ${result.error?.errorType}: ${result.error?.errorMessage}`,
      );
      return { from: 0, wholeBatch: true };
    }
    if (!this.config.reportBatchItemFailures) return undefined;
    const sequences = records.map((r) => r.record.dynamodb.SequenceNumber);
    const verdict = readBatchItemFailures(result.response, new Set(sequences));
    if (verdict.kind === 'success') return undefined;
    if (verdict.kind === 'invalid') {
      this.log(`batch of ${records.length} failed: invalid batch response, ${verdict.reason}`);
      return { from: 0, wholeBatch: true };
    }
    const failed = new Set(verdict.failedIds);
    return { from: sequences.findIndex((sequence) => failed.has(sequence)), wholeBatch: false };
  }

  private async discard(shardId: string, item: WorkItem, condition: DiscardCondition): Promise<void> {
    const records = item.records.map((r) => r.record);
    const first = records[0] as DynamoDbEventRecord;
    const last = records[records.length - 1] as DynamoDbEventRecord;
    this.counters.recordsDiscarded += records.length;
    const invocationRecord: StreamInvocationRecord = {
      requestContext: {
        requestId: item.last?.requestId ?? randomUUID(),
        functionArn: this.functionArn,
        condition,
        approximateInvokeCount: item.invokeCount,
      },
      responseContext: {
        statusCode: item.last ? 200 : 0,
        executedVersion: '$LATEST',
        ...(item.last && !item.last.ok ? { functionError: 'Unhandled' } : {}),
      },
      version: '1.0',
      timestamp: new Date().toISOString(),
      DDBStreamBatchInfo: {
        shardId,
        startSequenceNumber: first.dynamodb.SequenceNumber,
        endSequenceNumber: last.dynamodb.SequenceNumber,
        approximateArrivalOfFirstRecord: isoSeconds(first.dynamodb.ApproximateCreationDateTime),
        approximateArrivalOfLastRecord: isoSeconds(last.dynamodb.ApproximateCreationDateTime),
        batchSize: records.length,
        streamArn: this.config.streamArn,
      },
    };
    const range = `${first.dynamodb.SequenceNumber}..${last.dynamodb.SequenceNumber}`;
    if (!this.destination) {
      this.log(
        `discarded ${records.length} records ${range} of ${shardId} (${condition}); no OnFailure destination`,
      );
      return;
    }
    for (let attempt = 1; attempt <= 3; attempt += 1) {
      try {
        await this.destination.send(invocationRecord, { Records: records });
        this.counters.onFailureRecordsSent += 1;
        this.log(`sent ${records.length} records ${range} (${condition}) to ${this.destination.arn}`);
        return;
      } catch (error) {
        this.log(
          `OnFailure send to ${this.destination.arn} failed (attempt ${attempt}): ${(error as Error).message}`,
        );
        await this.pause(200 * attempt);
      }
    }
    this.log(`LOST: could not record discarded records ${range} of ${shardId} in ${this.destination.arn}`);
  }

  /** A sleep that stop() cuts short. */
  private pause(ms: number): Promise<void> {
    if (!this.running) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.sleepers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.sleepers.add(wake);
    });
  }

  /** An event source error: counted, kept for the report, and logged. */
  private fail(line: string): void {
    this.problems.add(line);
    this.log(line);
  }

  private log(line: string): void {
    this.options.log?.(`[esm ${this.config.functionName} <- ${this.config.streamArn}] ${line}`);
  }
}
