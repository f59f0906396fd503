/**
 * Idempotency figures: DynamoDB write requests, write capacity units and wall time per message for
 * each duplicate-detection mode and for the Powertools idempotency baseline, on the same workload:
 * BENCH_IDEMPOTENCY_MESSAGES deliveries (default 10,000), 10% of them duplicates of an earlier one,
 * each applying "increment a counter in a business item" through the real consumer adapter in
 * batches of 10 (Powertools: its BatchProcessor), 4 batches at a time, failed records redelivered.
 */
import { randomBytes } from 'node:crypto';
import {
  type ConsumedCapacity,
  CreateTableCommand,
  DynamoDBClient,
  ScanCommand,
  type Update,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { z } from 'zod';
import { createConsumer, type Logger, type MessageHandler, on } from '../../lambdas/consumer';
import { defineEvent, type Message } from '../../lambdas/core';
import { toWire } from '../../lambdas/core/wire';
import { inItem, marker, noDuplicateDetection, transactional } from '../../lambdas/idempotency';
import { powertoolsBatchHandler } from '../baselines/powertools-idempotency';
import type { BenchContext, BenchSuite, BenchSuiteResult } from '../suite';

const DUPLICATE_EVERY = 10; // every 10th delivery is a duplicate: 10%
const DUPLICATE_DISTANCE = 45; // a duplicate repeats the message delivered this many new messages earlier
const ITEMS = 500; // business items the counters are spread over
const BATCH_SIZE = 10;
const PARALLEL_BATCHES = 4;
/** Slices the workload is cut into; each mode runs each slice in turn (see runModes). */
const SLICES = 20;

const CounterIncremented = defineEvent({
  type: 'CounterIncremented',
  schema: z.object({ item: z.string() }),
});

type Mode = 'in-item' | 'transactional' | 'marker' | 'powertools (baseline)' | 'none (reference)';
const MODES: readonly Mode[] = [
  'in-item',
  'transactional',
  'marker',
  'powertools (baseline)',
  'none (reference)',
];
const WRITE_COMMANDS = new Set([
  'PutItemCommand',
  'UpdateItemCommand',
  'DeleteItemCommand',
  'TransactWriteItemsCommand',
  'BatchWriteItemCommand',
]);

interface Counts {
  writeRequests: number;
  successfulWrites: number;
  readRequests: number;
  failedConditionalWrites: number;
  wcu: number;
  byCommand: Record<string, number>;
}

/** Counts each command a client sends and sums the write capacity DynamoDB reports for it. */
function countingClient(endpoint: string): { client: DynamoDBClient; counts: Counts } {
  const client = new DynamoDBClient({ endpoint, maxAttempts: 1 });
  const counts: Counts = {
    writeRequests: 0,
    successfulWrites: 0,
    readRequests: 0,
    failedConditionalWrites: 0,
    wcu: 0,
    byCommand: {},
  };
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const command = context.commandName ?? 'unknown';
      const isWrite = WRITE_COMMANDS.has(command);
      counts.byCommand[command] = (counts.byCommand[command] ?? 0) + 1;
      if (isWrite) {
        counts.writeRequests++;
        // Powertools does not ask for capacity; asking changes nothing else in the request.
        (args.input as { ReturnConsumedCapacity?: string }).ReturnConsumedCapacity = 'TOTAL';
      } else {
        counts.readRequests++;
      }
      try {
        const result = await next(args);
        if (isWrite) counts.successfulWrites++;
        const consumed = (result.output as { ConsumedCapacity?: ConsumedCapacity | ConsumedCapacity[] })
          .ConsumedCapacity;
        for (const c of [consumed ?? []].flat()) counts.wcu += c.CapacityUnits ?? 0;
        return result;
      } catch (error) {
        const name = (error as Error).name;
        if (name === 'ConditionalCheckFailedException' || name === 'TransactionCanceledException') {
          counts.failedConditionalWrites++;
        }
        throw error;
      }
    },
    { step: 'initialize', name: 'switchyardIdempotencyBenchCounter' },
  );
  return { client, counts };
}

async function createTable(client: DynamoDBClient, base: string, key: string): Promise<string> {
  const TableName = `bench-${base}-${randomBytes(4).toString('hex')}`;
  await client.send(
    new CreateTableCommand({
      TableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: key, AttributeType: 'S' }],
      KeySchema: [{ AttributeName: key, KeyType: 'HASH' }],
    }),
  );
  return TableName;
}

/** Deliveries: new messages in order, every 10th delivery a repeat of a message delivered earlier. */
export function workload(deliveries: number): SQSRecord[] {
  const fresh: SQSRecord[] = [];
  const out: SQSRecord[] = [];
  for (let i = 0; i < deliveries; i++) {
    if (i % DUPLICATE_EVERY === DUPLICATE_EVERY - 1 && fresh.length > 0) {
      out.push(fresh[Math.max(0, fresh.length - DUPLICATE_DISTANCE)]!);
      continue;
    }
    const message = CounterIncremented.create({ item: `item-${fresh.length % ITEMS}` });
    const record = sqsRecord(message);
    fresh.push(record);
    out.push(record);
  }
  return out;
}

function sqsRecord(message: Message): SQSRecord {
  const wire = toWire(message);
  const messageAttributes: SQSRecord['messageAttributes'] = {};
  for (const [name, attribute] of Object.entries(wire.attributes)) {
    messageAttributes[name] = { dataType: 'String', stringValue: attribute.StringValue };
  }
  const now = String(Date.now());
  return {
    messageId: `sqs-${message.id}`,
    receiptHandle: `rh-${message.id}`,
    body: wire.body,
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: now,
      SenderId: 'bench',
      ApproximateFirstReceiveTimestamp: now,
    },
    messageAttributes,
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:counters',
    awsRegion: 'us-east-1',
  };
}

function lambdaContext(): Context {
  const deadline = Date.now() + 60_000;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: 'bench-counter',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:bench-counter',
    memoryLimitInMB: '512',
    awsRequestId: randomBytes(8).toString('hex'),
    logGroupName: '/aws/lambda/bench-counter',
    logStreamName: 'bench',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

const silent: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined };

const increment = (table: string, item: string): Update => ({
  TableName: table,
  Key: { pk: { S: item } },
  UpdateExpression: 'ADD #count :one',
  ExpressionAttributeNames: { '#count': 'count' },
  ExpressionAttributeValues: { ':one': { N: '1' } },
});

type BatchHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

function batchHandlerFor(
  mode: Mode,
  client: DynamoDBClient,
  business: string,
  processed: string,
): BatchHandler {
  if (mode === 'powertools (baseline)') {
    return powertoolsBatchHandler({
      idempotencyTable: processed,
      client,
      recordHandler: async (record) => {
        const { item } = JSON.parse(record.body) as { item: string };
        await client.send(new UpdateItemCommand(increment(business, item)));
      },
    });
  }
  const apply = async (message: Message<{ item: string }>) => {
    await client.send(new UpdateItemCommand(increment(business, message.payload.item)));
  };
  const handlers: Record<Exclude<Mode, 'powertools (baseline)'>, MessageHandler<{ item: string }>> = {
    'in-item': inItem((message) => ({ update: increment(business, message.payload.item) }), { client }),
    transactional: transactional(
      (message, _context, tx) => {
        tx.update(increment(business, message.payload.item));
      },
      { table: processed, client },
    ),
    marker: marker(apply, { table: processed, client }),
    'none (reference)': noDuplicateDetection(apply),
  };
  const consumer = createConsumer({
    name: 'bench-counter',
    handlers: [on(CounterIncremented, handlers[mode])],
    logger: silent,
  });
  return consumer.handler;
}

interface ModeFigures {
  readonly mode: Mode;
  readonly deliveries: number;
  readonly newMessages: number;
  readonly writeRequests: number;
  readonly successfulWrites: number;
  readonly readRequests: number;
  readonly failedConditionalWrites: number;
  readonly reportedWcu: number;
  readonly redeliveries: number;
  readonly wallMs: number;
  readonly counterTotal: number;
  readonly byCommand: Record<string, number>;
}

/** One mode's tables, handler and running totals; slices of the workload are fed to it in turn. */
interface ModeRun {
  readonly mode: Mode;
  readonly admin: DynamoDBClient;
  readonly business: string;
  readonly handle: BatchHandler;
  readonly counts: Counts;
  redeliveries: number;
  wallMs: number;
}

async function setUpMode(mode: Mode, endpoint: string): Promise<ModeRun> {
  const admin = new DynamoDBClient({ endpoint });
  const business = await createTable(admin, 'business', 'pk');
  const processed = await createTable(admin, 'processed', mode === 'powertools (baseline)' ? 'id' : 'pk');
  const { client, counts } = countingClient(endpoint);
  const handle = batchHandlerFor(mode, client, business, processed);
  return { mode, admin, business, handle, counts, redeliveries: 0, wallMs: 0 };
}

/** Delivers `records` in batches, PARALLEL_BATCHES at a time; failed records come back, like SQS redelivery. */
async function deliver(run: ModeRun, records: readonly SQSRecord[]): Promise<void> {
  const pending = [...records];
  const started = performance.now();
  const worker = async () => {
    while (pending.length > 0) {
      const batch = pending.splice(0, BATCH_SIZE);
      const response = await run.handle({ Records: batch }, lambdaContext());
      const failed = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
      for (const record of batch) {
        if (failed.has(record.messageId)) {
          pending.push(record);
          run.redeliveries++;
        }
      }
    }
  };
  await Promise.all(Array.from({ length: PARALLEL_BATCHES }, worker));
  run.wallMs += performance.now() - started;
}

async function figuresOf(run: ModeRun, records: readonly SQSRecord[]): Promise<ModeFigures> {
  const scan = await run.admin.send(new ScanCommand({ TableName: run.business, ConsistentRead: true }));
  const counterTotal = (scan.Items ?? []).reduce((sum, item) => sum + Number(item.count?.N ?? 0), 0);
  const { counts } = run;
  return {
    mode: run.mode,
    deliveries: records.length,
    newMessages: new Set(records.map((r) => r.messageId)).size,
    writeRequests: counts.writeRequests,
    successfulWrites: counts.successfulWrites,
    readRequests: counts.readRequests,
    failedConditionalWrites: counts.failedConditionalWrites,
    reportedWcu: counts.wcu,
    redeliveries: run.redeliveries,
    wallMs: run.wallMs,
    counterTotal,
    byCommand: counts.byCommand,
  };
}

/**
 * Runs every mode over the workload in slices, rotating which mode goes first in each slice, so
 * DynamoDB Local's JVM warm-up and any load from other processes fall evenly on all modes.
 */
async function runModes(records: readonly SQSRecord[], endpoint: string, log: (line: string) => void) {
  const runs: ModeRun[] = [];
  for (const mode of MODES) runs.push(await setUpMode(mode, endpoint));
  const slices = Math.min(SLICES, Math.max(1, Math.floor(records.length / (BATCH_SIZE * PARALLEL_BATCHES))));
  const sliceSize = Math.ceil(records.length / slices);
  for (let slice = 0; slice < slices; slice++) {
    const part = records.slice(slice * sliceSize, (slice + 1) * sliceSize);
    log(`idempotency: slice ${slice + 1}/${slices} (${part.length} deliveries) in every mode`);
    for (let i = 0; i < runs.length; i++) await deliver(runs[(slice + i) % runs.length]!, part);
  }
  return Promise.all(runs.map((run) => figuresOf(run, records)));
}

const round = (value: number, digits = 3) => Number(value.toFixed(digits));

export const idempotencySuite: BenchSuite = {
  name: 'idempotency',
  description:
    'DynamoDB write requests, WCU and wall time per message for in-item, transactional and marker duplicate detection vs Powertools idempotency',
  async run(context: BenchContext): Promise<BenchSuiteResult> {
    const deliveries = Number(process.env.BENCH_IDEMPOTENCY_MESSAGES ?? 10_000);
    if (!Number.isInteger(deliveries) || deliveries < DUPLICATE_EVERY) {
      throw new Error(
        `BENCH_IDEMPOTENCY_MESSAGES must be a whole number >= ${DUPLICATE_EVERY}, got ${deliveries}.`,
      );
    }
    const records = workload(deliveries);
    const results = await runModes(records, context.dynamodbEndpoint, (line) => context.log(line));
    const baseline = results.find((r) => r.mode === 'powertools (baseline)')!;
    const perNew = (r: ModeFigures, value: number) => round(value / r.newMessages);
    const per1000 = (r: ModeFigures) => round((r.wallMs / r.deliveries) * 1000, 1);
    const figures: Record<string, unknown> = {
      deliveries,
      newMessages: baseline.newMessages,
      duplicates: deliveries - baseline.newMessages,
      items: ITEMS,
      batchSize: BATCH_SIZE,
      parallelBatches: PARALLEL_BATCHES,
      modes: Object.fromEntries(
        results.map((r) => [
          r.mode,
          {
            writeRequestsPerDelivery: round(r.writeRequests / r.deliveries),
            writeRequestsPerNewMessage: perNew(r, r.writeRequests),
            successfulWriteRequestsPerNewMessage: perNew(r, r.successfulWrites),
            reportedWcuPerNewMessage: perNew(r, r.reportedWcu),
            failedConditionalWrites: r.failedConditionalWrites,
            readRequests: r.readRequests,
            redeliveries: r.redeliveries,
            wallMsPer1000Deliveries: per1000(r),
            counterTotal: r.counterTotal,
            effectsExactlyOnce: r.counterTotal === r.newMessages,
            requestsByCommand: r.byCommand,
            writeRequestsRatioToBaseline: round(r.writeRequests / baseline.writeRequests),
            wallTimeRatioToBaseline: round(r.wallMs / baseline.wallMs),
          },
        ]),
      ),
    };
    return {
      figures,
      tables: [
        {
          title: 'Duplicate detection: DynamoDB cost and time per message',
          columns: [
            'mode',
            'write requests / delivery',
            'successful writes / new msg',
            'WCU / new msg (reported)',
            'failed conditional writes',
            'read requests',
            'ms / 1,000 deliveries',
            'writes vs baseline',
            'time vs baseline',
            'counter = new messages',
          ],
          rows: results.map((r) => [
            r.mode,
            round(r.writeRequests / r.deliveries),
            perNew(r, r.successfulWrites),
            perNew(r, r.reportedWcu),
            r.failedConditionalWrites,
            r.readRequests,
            per1000(r),
            round(r.writeRequests / baseline.writeRequests, 2),
            round(r.wallMs / baseline.wallMs, 2),
            r.counterTotal === r.newMessages ? 'yes' : `no (${r.counterTotal} for ${r.newMessages})`,
          ]),
          notes:
            `${deliveries} SQS deliveries (${baseline.newMessages} new messages, ${deliveries - baseline.newMessages} duplicates) ` +
            `incrementing counters on ${ITEMS} items, DynamoDB Local, batches of ${BATCH_SIZE}, ${PARALLEL_BATCHES} batches in parallel. ` +
            'Write requests / delivery counts every write request, failed conditional ones (duplicates rejected) included; ' +
            'successful writes / new msg counts the ones that applied. WCU: the ConsumedCapacity DynamoDB Local returns for ' +
            'successful writes (requested on every write by an SDK middleware, the Powertools calls included; transactional items ' +
            'count 2 WCU each, as on DynamoDB); DynamoDB also charges failed conditional writes, not counted here. ' +
            'Modes run the workload in 20 slices, taking turns, the first mode rotating, so emulator warm-up and machine load are shared. Baseline: @aws-lambda-powertools/idempotency makeIdempotent + batch processPartialResponse.',
        },
      ],
    };
  },
};

export default idempotencySuite;
