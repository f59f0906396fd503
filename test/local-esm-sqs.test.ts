/** The local SQS event source mapping, rule by rule, against the SNS/SQS emulator. */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { MappingConfigError } from '../local/esm/errors';
import { SqsEventSource, type SqsMappingConfig } from '../local/esm/sqs-event-source';
import type { SqsEventRecord } from '../local/esm/sqs-record';
import { FunctionHost } from '../local/runtime/function-host';
import { uniqueName } from './support/emulators';

// Always the configured endpoint (AWS_ENDPOINT_URL_SQS), whatever host an emulator's queue URL names.
const sqs = new SQSClient({ useQueueUrlAsEndpoint: false });
const FIXTURES = join(__dirname, 'fixtures', 'functions');
const REGION = process.env.AWS_REGION ?? 'us-east-1';
const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface Queue {
  url: string;
  arn: string;
}

async function createQueue(
  base: string,
  attributes: Record<string, string> = {},
  fifo = false,
): Promise<Queue> {
  const name = uniqueName(base, fifo);
  const { QueueUrl } = await sqs.send(
    new CreateQueueCommand({
      QueueName: name,
      // Short, so retries come quickly, yet well above what a batch takes on a loaded machine
      // (cold start included): Lambda's advice is a visibility timeout above the function timeout.
      Attributes: { VisibilityTimeout: '3', ...(fifo ? { FifoQueue: 'true' } : {}), ...attributes },
    }),
  );
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }),
  );
  return { url: QueueUrl ?? '', arn: Attributes?.QueueArn ?? '' };
}

async function queueWithDlq(base: string, maxReceiveCount: number): Promise<{ queue: Queue; dlq: Queue }> {
  const dlq = await createQueue(`${base}-dlq`);
  const queue = await createQueue(base, {
    RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.arn, maxReceiveCount }),
  });
  return { queue, dlq };
}

interface Invocation {
  requestId: string;
  start: number;
  end: number;
  failNow: boolean;
  event: { Records: SqsEventRecord[] };
}

/** A recorder.js function with its invocation log, and a started mapping over `queue`. */
function startMapping(
  queue: Queue,
  mapping: Partial<SqsMappingConfig> = {},
  env: Record<string, string> = {},
  hostOptions: { timeoutSeconds?: number; concurrency?: number } = {},
): { source: SqsEventSource; invocations: () => Invocation[] } {
  const file = join(mkdtempSync(join(tmpdir(), 'esm-sqs-')), 'invocations.jsonl');
  const host = new FunctionHost(
    {
      name: uniqueName('consumer'),
      logicalId: 'Consumer',
      codeDir: FIXTURES,
      handler: 'recorder.handler',
      environment: { RECORD_FILE: file, ...env },
      timeoutSeconds: hostOptions.timeoutSeconds ?? 10,
    },
    { concurrency: hostOptions.concurrency ?? 10 },
  );
  const source = new SqsEventSource(
    {
      functionName: host.name,
      queueUrl: queue.url,
      queueArn: queue.arn,
      batchSize: 10,
      maximumBatchingWindowSeconds: 0,
      reportBatchItemFailures: false,
      awsRegion: REGION,
      ...mapping,
    },
    host,
    sqs,
    { log: (line) => process.env.ESM_DEBUG && console.log(line) },
  );
  cleanups.push(async () => {
    await source.stop();
    await host.stop();
  });
  source.start();
  const invocations = () =>
    existsSync(file)
      ? readFileSync(file, 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((line) => JSON.parse(line) as Invocation)
      : [];
  return { source, invocations };
}

async function waitFor<T>(
  probe: () => Promise<T | undefined> | T | undefined,
  what: string,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function messagesIn(queue: Queue): Promise<number> {
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queue.url,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return (
    Number(Attributes?.ApproximateNumberOfMessages ?? 0) +
    Number(Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0)
  );
}

async function inFlight(queue: Queue): Promise<number> {
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queue.url,
      AttributeNames: ['ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return Number(Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0);
}

async function drain(queue: Queue, expected: number): Promise<string[]> {
  const bodies: string[] = [];
  await waitFor(async () => {
    const { Messages } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queue.url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
    );
    bodies.push(...(Messages ?? []).map((m) => m.Body ?? ''));
    return bodies.length >= expected ? true : undefined;
  }, `${expected} messages in ${queue.arn}`);
  return bodies.sort();
}

/** Most intervals open at one instant (an end at t closes before a start at t opens). */
function peakConcurrency(intervals: readonly { start: number; end: number }[]): number {
  const edges = intervals.flatMap((i) => [
    { t: i.start, d: 1 },
    { t: i.end, d: -1 },
  ]);
  edges.sort((a, b) => a.t - b.t || a.d - b.d);
  let open = 0;
  let peak = 0;
  for (const edge of edges) {
    open += edge.d;
    peak = Math.max(peak, open);
  }
  return peak;
}

const send = (
  queue: Queue,
  body: string,
  extra: Partial<ConstructorParameters<typeof SendMessageCommand>[0]> = {},
) => sqs.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: body, ...extra }));

describe('SqsEventSource', () => {
  test("invokes with Lambda's SQS event shape and deletes the batch on success", async () => {
    // GIVEN a message with String, Number and Binary attributes
    const queue = await createQueue('esm-shape');
    await send(queue, 'hello', {
      MessageAttributes: {
        kind: { DataType: 'String', StringValue: 'order' },
        count: { DataType: 'Number', StringValue: '3' },
        blob: { DataType: 'Binary', BinaryValue: Buffer.from('hi') },
      },
    });
    // WHEN the mapping runs
    const { invocations, source } = startMapping(queue);
    const [invocation] = await waitFor(
      () => (invocations().length > 0 ? invocations() : undefined),
      'an invocation',
    );
    // THEN the record has Lambda's fields, in Lambda's order
    const record = invocation?.event.Records[0] as SqsEventRecord;
    expect(Object.keys(record)).toEqual([
      'messageId',
      'receiptHandle',
      'body',
      'attributes',
      'messageAttributes',
      'md5OfMessageAttributes',
      'md5OfBody',
      'eventSource',
      'eventSourceARN',
      'awsRegion',
    ]);
    expect(record).toMatchObject({
      body: 'hello',
      eventSource: 'aws:sqs',
      eventSourceARN: queue.arn,
      awsRegion: REGION,
    });
    expect(record.md5OfBody).toBe('5d41402abc4b2a76b9719d911017c592');
    expect(Object.keys(record.attributes)).toEqual([
      'ApproximateReceiveCount',
      'SentTimestamp',
      'SenderId',
      'ApproximateFirstReceiveTimestamp',
    ]);
    expect(record.attributes.ApproximateReceiveCount).toBe('1');
    expect(record.messageAttributes).toEqual({
      kind: { stringValue: 'order', stringListValues: [], binaryListValues: [], dataType: 'String' },
      count: { stringValue: '3', stringListValues: [], binaryListValues: [], dataType: 'Number' },
      blob: {
        binaryValue: Buffer.from('hi').toString('base64'),
        stringListValues: [],
        binaryListValues: [],
        dataType: 'Binary',
      },
    });
    // AND the message is deleted
    await waitFor(async () => ((await messagesIn(queue)) === 0 ? true : undefined), 'the queue to empty');
    expect(source.stats()).toMatchObject({ received: 1, succeeded: 1, failed: 0, invocations: 1 });
  });

  test('FIFO records carry SequenceNumber, MessageGroupId and MessageDeduplicationId', async () => {
    const queue = await createQueue('esm-fifo-shape', {}, true);
    await send(queue, 'first', { MessageGroupId: 'g1', MessageDeduplicationId: 'd1' });
    const { invocations } = startMapping(queue);
    const [invocation] = await waitFor(
      () => (invocations().length > 0 ? invocations() : undefined),
      'an invocation',
    );
    const attributes = invocation?.event.Records[0]?.attributes ?? {};
    expect(Object.keys(attributes)).toEqual([
      'ApproximateReceiveCount',
      'SentTimestamp',
      'SequenceNumber',
      'MessageGroupId',
      'SenderId',
      'MessageDeduplicationId',
      'ApproximateFirstReceiveTimestamp',
    ]);
    expect(attributes).toMatchObject({ MessageGroupId: 'g1', MessageDeduplicationId: 'd1' });
    expect(invocation?.event.Records[0]?.messageAttributes).toEqual({});
    // Lambda sends null, not an absent key, for a message without attributes.
    expect(invocation?.event.Records[0]).toHaveProperty('md5OfMessageAttributes', null);
  });

  test('batches up to batchSize messages', async () => {
    const queue = await createQueue('esm-batch-size');
    for (let i = 0; i < 7; i += 1) await send(queue, `m${i}`);
    const { invocations } = startMapping(queue, { batchSize: 3 });
    await waitFor(
      () => (invocations().reduce((n, i) => n + i.event.Records.length, 0) >= 7 ? true : undefined),
      '7 records',
    );
    const sizes = invocations().map((i) => i.event.Records.length);
    expect(Math.max(...sizes)).toBe(3);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(7);
  });

  test('waits up to the batching window to fill a batch', async () => {
    // GIVEN a mapping with a 2 s window that has just received a first message (the queue's
    // visibility timeout is well above the window, as AWS requires)
    const queue = await createQueue('esm-window', { VisibilityTimeout: '10' });
    const { invocations } = startMapping(queue, { batchSize: 10, maximumBatchingWindowSeconds: 2 });
    await send(queue, 'early');
    await waitFor(async () => ((await inFlight(queue)) === 1 ? true : undefined), 'the first receive');
    // WHEN a second message arrives inside the window
    await send(queue, 'late');
    // THEN both arrive in one invocation
    await waitFor(() => (invocations().length > 0 ? true : undefined), 'an invocation');
    expect(invocations()[0]?.event.Records.map((r) => r.body)).toEqual(['early', 'late']);
  });

  test('a function error fails the whole batch; maxReceiveCount moves it to the DLQ', async () => {
    // GIVEN a good and a bad message in one batch, and a redrive policy of 2 receives
    const { queue, dlq } = await queueWithDlq('esm-whole-batch', 2);
    await send(queue, 'good');
    await send(queue, 'FAIL');
    // WHEN the function throws for the batch
    const { invocations, source } = startMapping(queue, {}, { FAIL_MODE: 'throw' });
    // THEN both messages, the good one too, end in the DLQ after two deliveries
    expect(await drain(dlq, 2)).toEqual(['FAIL', 'good']);
    expect(await messagesIn(queue)).toBe(0);
    const deliveries = invocations().flatMap((i) =>
      i.event.Records.map((r) => `${r.body}#${r.attributes.ApproximateReceiveCount}`),
    );
    expect(deliveries.sort()).toEqual(['FAIL#1', 'FAIL#2', 'good#1', 'good#2']);
    expect(source.stats().batchesFailed).toBe(2);
    expect(source.stats().succeeded).toBe(0);
  });

  test('a timed-out invocation fails the batch', async () => {
    const { queue, dlq } = await queueWithDlq('esm-timeout', 1);
    await send(queue, 'SLEEP');
    const { source } = startMapping(queue, {}, {}, { timeoutSeconds: 1 });
    expect(await drain(dlq, 1)).toEqual(['SLEEP']);
    expect(source.stats()).toMatchObject({ batchesFailed: 1, succeeded: 0 });
  });

  test('ReportBatchItemFailures deletes all but the listed messages, which are retried', async () => {
    const queue = await createQueue('esm-partial');
    await send(queue, 'a');
    await send(queue, 'FAIL b');
    await send(queue, 'c');
    const { invocations } = startMapping(
      queue,
      { reportBatchItemFailures: true },
      { FAIL_MODE: 'report', FAIL_TIMES: '1' },
    );
    await waitFor(async () => ((await messagesIn(queue)) === 0 ? true : undefined), 'the queue to empty');
    const deliveries = invocations().flatMap((i) =>
      i.event.Records.map((r) => `${r.body}#${r.attributes.ApproximateReceiveCount}`),
    );
    // Only the failed item came back; an empty failure list (second invocation) counted as success.
    expect(deliveries.sort()).toEqual(['FAIL b#1', 'FAIL b#2', 'a#1', 'c#1']);
  });

  test.each([
    ['an empty itemIdentifier', 'EMPTY_ID'],
    ['an itemIdentifier not in the batch', 'UNKNOWN_ID'],
  ])('ReportBatchItemFailures with %s fails the whole batch', async (_label, marker) => {
    const { queue, dlq } = await queueWithDlq('esm-bad-id', 1);
    await send(queue, 'fine');
    await send(queue, marker);
    const { source } = startMapping(queue, { reportBatchItemFailures: true }, { FAIL_MODE: 'report' });
    expect(await drain(dlq, 2)).toEqual([marker, 'fine'].sort());
    expect(source.stats().batchesFailed).toBe(1);
  });

  test('maximumConcurrency bounds concurrent invocations of the mapping', async () => {
    const queue = await createQueue('esm-concurrency');
    for (let i = 0; i < 6; i += 1) await send(queue, `m${i}`);
    const { invocations } = startMapping(queue, { batchSize: 1, maximumConcurrency: 2 }, { SLEEP_MS: '800' });
    await waitFor(() => (invocations().length >= 6 ? true : undefined), '6 invocations');
    expect(peakConcurrency(invocations())).toBe(2);
  });

  test('an invoker that throws counts as a failed batch; the poller keeps going', async () => {
    const queue = await createQueue('esm-invoker-throws');
    await send(queue, 'survivor');
    const bodies: string[] = [];
    let calls = 0;
    const flaky = {
      name: 'flaky',
      invoke: async (event: unknown) => {
        calls += 1;
        if (calls === 1) throw new Error('invoker broke');
        bodies.push(...(event as { Records: SqsEventRecord[] }).Records.map((r) => r.body));
        return { ok: true, timedOut: false, durationMs: 0, requestId: 'r', logs: [] };
      },
    };
    const source = new SqsEventSource(
      {
        functionName: 'flaky',
        queueUrl: queue.url,
        queueArn: queue.arn,
        batchSize: 10,
        maximumBatchingWindowSeconds: 0,
        reportBatchItemFailures: false,
        awsRegion: REGION,
      },
      flaky,
      sqs,
    );
    cleanups.push(() => source.stop());
    source.start();
    await waitFor(() => (source.stats().succeeded === 1 ? true : undefined), 'the redelivery to succeed');
    expect(bodies).toEqual(['survivor']);
    expect(source.stats()).toMatchObject({ batchesFailed: 1, succeeded: 1 });
  });

  test('stop() ends polling: later messages stay on the queue', async () => {
    const queue = await createQueue('esm-stop');
    const { source, invocations } = startMapping(queue);
    await send(queue, 'before');
    await waitFor(() => (invocations().length === 1 ? true : undefined), 'the first invocation');
    await source.stop();
    await send(queue, 'after');
    await new Promise((r) => setTimeout(r, 1500));
    expect(invocations()).toHaveLength(1);
    expect(await messagesIn(queue)).toBe(1);
  });

  test('a disabled mapping does not poll', async () => {
    const queue = await createQueue('esm-disabled');
    await send(queue, 'x');
    const { invocations } = startMapping(queue, { enabled: false });
    await new Promise((r) => setTimeout(r, 1000));
    expect(invocations()).toHaveLength(0);
  });

  test('fails with a clear error for a configuration AWS rejects', () => {
    const host = {
      name: 'f',
      invoke: async () => ({ ok: true, timedOut: false, durationMs: 0, requestId: 'r', logs: [] }),
    };
    const base: SqsMappingConfig = {
      functionName: 'f',
      queueUrl: 'http://127.0.0.1/q',
      queueArn: 'arn:aws:sqs:us-east-1:000000000000:q',
      batchSize: 10,
      maximumBatchingWindowSeconds: 0,
      reportBatchItemFailures: false,
      awsRegion: 'us-east-1',
    };
    expect(() => new SqsEventSource({ ...base, batchSize: 50 }, host, sqs)).toThrow(
      /batchingWindow|at least 1/i,
    );
    expect(() => new SqsEventSource({ ...base, batchSize: 0 }, host, sqs)).toThrow(MappingConfigError);
    expect(
      () =>
        new SqsEventSource(
          { ...base, queueArn: `${base.queueArn}.fifo`, maximumBatchingWindowSeconds: 5 },
          host,
          sqs,
        ),
    ).toThrow(/FIFO queues do not support a batching window/);
    expect(() => new SqsEventSource({ ...base, maximumConcurrency: 1 }, host, sqs)).toThrow(
      /maximumConcurrency/,
    );
  });
});
