/**
 * Transactional outbox figures: DynamoDB write requests and write units per published event in
 * both modes, relay SNS/SQS requests per 1,000 events, relay throughput and commit-to-consumer
 * latency through the local stack (commit -> DynamoDB Local stream -> relay -> SQS emulator ->
 * receive). The stream is read with the Streams API and handed to the relay in batches of up to
 * 100 records, as the event source mapping would (batchSize 100).
 */

import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { DynamoDBRecord } from 'aws-lambda';
import { buildMessage } from '../../lambdas/core';
import { createStreamRelay, createUnitOfWork, type OutboxMode } from '../../lambdas/outbox';
import { createProducer } from '../../lambdas/producer';
import { remainingAfter, StreamTail } from '../../test/support/stream-event';
import type { BenchContext, BenchSuite, BenchSuiteResult, BenchTable } from '../suite';
import { countRequests } from '../support/request-counter';
import { round } from '../support/stats';

const AGGREGATES = 100;
const WRITERS = 16;
const RECEIVERS = 4;
const ESM_BATCH_SIZE = 100;
const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
const uniqueName = (base: string) => `bench-${base}-${randomBytes(4).toString('hex')}`;

interface ModeFigures {
  readonly mode: OutboxMode;
  readonly phase: Phase;
  readonly events: number;
  readonly writeRequestsPerEvent: number;
  /** As DynamoDB Local reports them (ReturnConsumedCapacity TOTAL). */
  readonly reportedWcuPerEvent: number;
  /** As AWS bills them: transactional writes cost 2 WCU per KB-item, DynamoDB Local reports 1. */
  readonly billedWcuPerEvent: number;
  readonly relayPublishRequestsPer1000: number;
  readonly relayInvocations: number;
  readonly meanRecordsPerInvocation: number;
  /** Events published per second of relay invocation time. */
  readonly relayEventsPerSecond: number;
  /** Events per second from the first relayed batch to the last, stream reads and waits for writers included. */
  readonly pipelineEventsPerSecond: number;
  readonly latencyMs: { p50: number; p95: number; p99: number; max: number };
  readonly delivered: number;
  readonly duplicates: number;
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, index)]!;
}

async function createTable(ddb: DynamoDBClient): Promise<string> {
  const TableName = uniqueName('outbox');
  await ddb.send(
    new CreateTableCommand({
      TableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
    }),
  );
  return TableName;
}

/**
 * `live`: writers and relay run together (latency as a service sees it). `backlog`: the events are
 * committed first, then the relay drains them in full batches (relay throughput under load).
 */
type Phase = 'live' | 'backlog';

async function runMode(
  mode: OutboxMode,
  phase: Phase,
  events: number,
  context: BenchContext,
): Promise<ModeFigures> {
  const ddb = new DynamoDBClient({});
  const relaySqs = new SQSClient({});
  const consumerSqs = new SQSClient({});
  const table = await createTable(ddb);
  const { QueueUrl } = await consumerSqs.send(new CreateQueueCommand({ QueueName: uniqueName('consumer') }));
  const queueUrl = QueueUrl!;
  const writeCounter = countRequests(ddb);
  const publishCounter = countRequests(relaySqs);
  const relay = createStreamRelay({ producer: createProducer({ sqs: relaySqs }), logger: quiet });
  const tail = await new StreamTail(table).open();

  const committedAt = new Map<string, number>();
  const receivedAt = new Map<string, number>();
  let duplicates = 0;
  let wcu = 0;
  let writersDone = false;

  // Writers: AGGREGATES aggregates, each committed in sequence; WRITERS of them at a time.
  const perAggregate = Math.ceil(events / AGGREGATES);
  let nextAggregate = 0;
  let committed = 0;
  const writer = async (): Promise<void> => {
    while (nextAggregate < AGGREGATES) {
      const aggregateId = `order-${nextAggregate++}`;
      for (let step = 0; step < perAggregate && committed < events; step += 1) {
        committed += 1;
        const uow = createUnitOfWork({ table, client: ddb, mode, relay: 'log-tailing' });
        uow.save({
          aggregateId,
          item: { pk: `ORDER#${aggregateId}`, sk: 'ORDER', status: `step-${step}`, total: 12.5 },
          expectedSequence: step,
        });
        const message = uow.publish(
          buildMessage('OrderUpdated', 'event', { orderId: aggregateId, step }, { source: 'bench' }),
          { type: 'point-to-point', queueUrl },
        );
        const result = await uow.commit();
        committedAt.set(message.id, performance.now());
        wcu += result.writeCapacityUnits;
      }
    }
  };

  // Relay: the event source mapping's loop, batches of up to 100 records, redelivery from the checkpoint.
  let relayInvocations = 0;
  let relayedRecords = 0;
  let relayStart = 0;
  let relayEnd = 0;
  let published = 0;
  let readMs = 0;
  let relayMs = 0;
  // Like the event source mapping, reading the stream runs ahead of the invocations.
  let backlog: DynamoDBRecord[] = [];
  let readerDone = false;
  const readerLoop = async (): Promise<void> => {
    while (!(writersDone && published >= events)) {
      const readStart = performance.now();
      const records = await tail.read(1);
      readMs += performance.now() - readStart;
      backlog.push(...records);
      if (records.length === 0) await new Promise((r) => setTimeout(r, 20));
    }
    readerDone = true;
  };
  const relayLoop = async (): Promise<void> => {
    while (!readerDone) {
      if (backlog.length === 0) {
        await new Promise((r) => setTimeout(r, 10));
        continue;
      }
      const batch = backlog.slice(0, ESM_BATCH_SIZE);
      if (relayStart === 0) relayStart = performance.now();
      const invokeStart = performance.now();
      const outcome = await relay({ Records: batch });
      relayMs += performance.now() - invokeStart;
      relayInvocations += 1;
      published += outcome.published;
      const redo = remainingAfter(batch, outcome.batchItemFailures);
      relayedRecords += batch.length - redo.length;
      backlog = [...redo, ...backlog.slice(batch.length)];
      relayEnd = performance.now();
    }
  };

  let receiversStop = false;
  const receiver = async (): Promise<void> => {
    while (!receiversStop) {
      const out = await consumerSqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 1,
          MessageAttributeNames: ['All'],
        }),
      );
      const now = performance.now();
      const messages = out.Messages ?? [];
      for (const m of messages) {
        const id = m.MessageAttributes?.['message-id']?.StringValue ?? '';
        if (receivedAt.has(id)) duplicates += 1;
        else receivedAt.set(id, now);
      }
      if (messages.length > 0) {
        await consumerSqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: queueUrl,
            Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
          }),
        );
      }
      if (receivedAt.size >= events) receiversStop = true;
    }
  };

  const receivers = Array.from({ length: RECEIVERS }, receiver);
  let relayDone = phase === 'live' ? Promise.all([readerLoop(), relayLoop()]) : undefined;
  const writeStart = performance.now();
  await Promise.all(Array.from({ length: WRITERS }, writer));
  const writeMs = performance.now() - writeStart;
  writersDone = true;
  relayDone ??= Promise.all([readerLoop(), relayLoop()]);
  await relayDone;
  const deadline = Date.now() + 30_000;
  while (receivedAt.size < events && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  receiversStop = true;
  await Promise.all(receivers);
  context.log(
    `outbox ${mode} ${phase}: ${committed} committed in ${Math.round(writeMs)} ms, ${published} published in ${Math.round(relayMs)} ms of relay time ` +
      `(stream reads ${Math.round(readMs)} ms), ${receivedAt.size} received`,
  );

  const latencies = [...receivedAt].map(([id, at]) => at - (committedAt.get(id) ?? at)).sort((a, b) => a - b);
  const reported = wcu / committed;
  return {
    mode,
    phase,
    events: committed,
    // The writers' client made only commit requests (expectedSequence given: no read first).
    writeRequestsPerEvent: round(writeCounter.count / committed, 3),
    reportedWcuPerEvent: round(reported, 3),
    billedWcuPerEvent: round(mode === 'outbox-items' ? reported * 2 : reported, 3),
    relayPublishRequestsPer1000: round((publishCounter.count / published) * 1000, 1),
    relayInvocations,
    meanRecordsPerInvocation: round(relayedRecords / Math.max(1, relayInvocations), 1),
    relayEventsPerSecond: round(published / (relayMs / 1000), 0),
    pipelineEventsPerSecond: round(published / ((relayEnd - relayStart) / 1000), 0),
    latencyMs: {
      p50: round(percentile(latencies, 50), 1),
      p95: round(percentile(latencies, 95), 1),
      p99: round(percentile(latencies, 99), 1),
      max: round(latencies[latencies.length - 1] ?? Number.NaN, 1),
    },
    delivered: receivedAt.size,
    duplicates,
  };
}

export const suite: BenchSuite = {
  name: 'outbox',
  description:
    'Transactional outbox: DynamoDB writes per event (in-item vs outbox items), relay publish requests, throughput and commit-to-consumer latency through DynamoDB Local streams and the SQS emulator.',
  async run(context: BenchContext): Promise<BenchSuiteResult> {
    const events = Number(process.env.BENCH_OUTBOX_EVENTS ?? '2000');
    if (!Number.isInteger(events) || events < 1) {
      throw new Error(
        `BENCH_OUTBOX_EVENTS must be a whole number >= 1, got "${process.env.BENCH_OUTBOX_EVENTS}".`,
      );
    }
    const figures: ModeFigures[] = [];
    for (const mode of ['in-item', 'outbox-items'] as const) {
      for (const phase of ['live', 'backlog'] as const)
        figures.push(await runMode(mode, phase, events, context));
    }
    const writes: BenchTable = {
      title: 'Outbox: DynamoDB writes per published event',
      columns: [
        'mode',
        'events',
        'write requests/event',
        'WCU/event (DynamoDB Local)',
        'WCU/event (AWS billing)',
      ],
      rows: figures.map((f) => [
        `${f.mode} (${f.phase})`,
        f.events,
        f.writeRequestsPerEvent,
        f.reportedWcuPerEvent,
        f.billedWcuPerEvent,
      ]),
      notes:
        'One event per commit, small aggregate item (<1 KB). ReturnConsumedCapacity TOTAL as DynamoDB Local reports it; ' +
        'AWS bills transactional writes at 2 WCU per item-KB: in-item is a one-item transaction (idempotent by ClientRequestToken), 2; outbox items (aggregate + outbox item) 4. Targets: in-item 1 request 2 WCU; outbox items 1 request 4 WCU.',
    };
    const relay: BenchTable = {
      title: 'Outbox: log-tailing relay through the local stack',
      columns: [
        'mode',
        'publish requests/1,000 events',
        'records/invocation',
        'relay events/s',
        'pipeline events/s',
        'latency p50 ms',
        'p95 ms',
        'p99 ms',
        'delivered',
        'duplicates',
      ],
      rows: figures.map((f) => [
        `${f.mode} (${f.phase})`,
        f.relayPublishRequestsPer1000,
        f.meanRecordsPerInvocation,
        f.relayEventsPerSecond,
        f.pipelineEventsPerSecond,
        f.latencyMs.p50,
        f.latencyMs.p95,
        f.latencyMs.p99,
        f.delivered,
        f.duplicates,
      ]),
      notes:
        `${AGGREGATES} aggregates, ${WRITERS} concurrent writers; stream read with GetRecords and relayed in batches of up to ${ESM_BATCH_SIZE} records; ` +
        'SendMessageBatch to one SQS queue, counted by SDK middleware (retries included). Latency = commit returned -> ReceiveMessage returned. ' +
        'relay events/s = events per second of relay invocation time; pipeline = first to last relayed batch (stream reads, writer pace included). ' +
        'live = writers and relay together; backlog = all events committed first, then relayed (throughput under load; its latency includes the wait for the writers). ' +
        'Target: at most 100 publish requests per 1,000 events (batches of 10).',
    };
    return { figures: { events, modes: figures }, tables: [writes, relay] };
  },
};

export default suite;
