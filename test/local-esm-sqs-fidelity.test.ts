/**
 * Issue 14: the local SQS mapping against AWS's rules where they used to differ — FIFO batches
 * with several messages of one group, partial batch responses on FIFO, FilterCriteria, the
 * visibility timeout check and window extension, the 6 MB payload and the concurrency back-off.
 * Every test runs against the SNS/SQS emulator over the wire.
 */
import {
  ChangeMessageVisibilityBatchCommand,
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { z } from 'zod';
import { createConsumer, defineEvent, on, toWire } from '../lambdas';
import { MappingConfigError } from '../local/esm/errors';
import { MAX_INVOKE_PAYLOAD_BYTES } from '../local/esm/payload';
import { SqsEventSource, type SqsMappingConfig } from '../local/esm/sqs-event-source';
import type { SqsEventRecord } from '../local/esm/sqs-record';
import type { InvokeResult, Invoker } from '../local/runtime/function-host';
import { uniqueName } from './support/emulators';

const sqs = new SQSClient({ useQueueUrlAsEndpoint: false });
const REGION = process.env.AWS_REGION ?? 'us-east-1';
const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
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
  const { QueueUrl = '' } = await sqs.send(
    new CreateQueueCommand({
      QueueName: uniqueName(base, fifo),
      Attributes: { VisibilityTimeout: '3', ...(fifo ? { FifoQueue: 'true' } : {}), ...attributes },
    }),
  );
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }),
  );
  return { url: QueueUrl, arn: Attributes?.QueueArn ?? '' };
}

const sendFifo = (queue: Queue, body: string, group: string) =>
  sqs.send(
    new SendMessageCommand({
      QueueUrl: queue.url,
      MessageBody: body,
      MessageGroupId: group,
      MessageDeduplicationId: body,
    }),
  );

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

async function waitFor(
  probe: () => Promise<boolean> | boolean,
  what: string,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const ok = (response?: unknown): InvokeResult => ({
  ok: true,
  response,
  timedOut: false,
  durationMs: 0,
  requestId: 'r',
  logs: [],
});
const failed = (message: string): InvokeResult => ({
  ok: false,
  timedOut: false,
  durationMs: 0,
  requestId: 'r',
  logs: [],
  error: { errorType: 'Error', errorMessage: message },
});

/** An in-process function: `handle` gets each event; returns what the function would. */
function inProcess(
  handle: (event: { Records: SqsEventRecord[] }) => Promise<InvokeResult>,
  concurrency = 10,
): Invoker {
  return {
    name: 'in-process',
    concurrency,
    invoke: (event) => handle(event as { Records: SqsEventRecord[] }),
  };
}

function start(
  queue: Queue,
  invoker: Invoker,
  mapping: Partial<SqsMappingConfig> = {},
  logs: string[] = [],
): SqsEventSource {
  const source = new SqsEventSource(
    {
      functionName: 'fn',
      queueUrl: queue.url,
      queueArn: queue.arn,
      batchSize: 10,
      maximumBatchingWindowSeconds: 0,
      reportBatchItemFailures: true,
      awsRegion: REGION,
      ...mapping,
    },
    invoker,
    sqs,
    { log: (line) => logs.push(line) },
  );
  stops.push(() => source.stop());
  source.start();
  return source;
}

describe('FIFO receive in the emulator (fauxqs-fifo.ts)', () => {
  test('one receive returns several messages of one group in order; an in-flight group blocks only itself', async () => {
    const queue = await createQueue('fifo-receive', { VisibilityTimeout: '30' }, true);
    for (const body of ['A1', 'A2', 'A3', 'A4']) await sendFifo(queue, body, 'A');
    const first = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queue.url, MaxNumberOfMessages: 10 }));
    expect((first.Messages ?? []).map((m) => m.Body)).toEqual(['A1', 'A2', 'A3', 'A4']);
    // Group A is in flight: a new A message waits, a B message does not.
    await sendFifo(queue, 'A5', 'A');
    await sendFifo(queue, 'B1', 'B');
    const second = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queue.url, MaxNumberOfMessages: 10 }),
    );
    expect((second.Messages ?? []).map((m) => m.Body)).toEqual(['B1']);
    // Deleting only part of A's batch keeps the group blocked.
    const [a1, ...rest] = first.Messages ?? [];
    await sqs.send(new DeleteMessageCommand({ QueueUrl: queue.url, ReceiptHandle: a1?.ReceiptHandle }));
    const third = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queue.url, MaxNumberOfMessages: 10 }));
    expect(third.Messages ?? []).toEqual([]);
    // Releasing the rest returns them to the group in sequence order, ahead of A5.
    await sqs.send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl: queue.url,
        Entries: rest.map((m, i) => ({
          Id: String(i),
          ReceiptHandle: m.ReceiptHandle,
          VisibilityTimeout: 0,
        })),
      }),
    );
    const fourth = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queue.url, MaxNumberOfMessages: 10 }),
    );
    expect((fourth.Messages ?? []).map((m) => m.Body)).toEqual(['A2', 'A3', 'A4', 'A5']);
  });
});

describe('FIFO batches and partial batch responses (AWS semantics)', () => {
  test('a batch holds several messages of one group, in order', async () => {
    const queue = await createQueue('fifo-batch', {}, true);
    for (const body of ['A1', 'A2', 'A3']) await sendFifo(queue, body, 'A');
    const batches: string[][] = [];
    start(
      queue,
      inProcess(async (event) => {
        batches.push(event.Records.map((r) => r.body));
        return ok();
      }),
    );
    await waitFor(async () => (await messagesIn(queue)) === 0, 'the queue to empty');
    expect(batches).toEqual([['A1', 'A2', 'A3']]);
  });

  test('a handler that lists only the failing message loses order, locally as in AWS', async () => {
    // GIVEN A1 fails once and the handler reports only A1
    const queue = await createQueue('fifo-naive', { VisibilityTimeout: '1' }, true);
    for (const body of ['A1', 'A2', 'A3']) await sendFifo(queue, body, 'A');
    const handled: string[] = [];
    let a1Failures = 0;
    const logs: string[] = [];
    start(
      queue,
      inProcess(async (event) => {
        const failures: { itemIdentifier: string }[] = [];
        for (const record of event.Records) {
          if (record.body === 'A1' && a1Failures === 0) {
            a1Failures += 1;
            failures.push({ itemIdentifier: record.messageId });
          } else handled.push(record.body);
        }
        return ok({ batchItemFailures: failures });
      }),
      {},
      logs,
    );
    // THEN A2 and A3 are deleted and A1 comes back after them: the order is broken
    await waitFor(async () => (await messagesIn(queue)) === 0, 'the queue to empty');
    expect(handled).toEqual(['A2', 'A3', 'A1']);
    // AND the mapping says why
    expect(logs.some((l) => /follows a failed message but was not listed/.test(l))).toBe(true);
  });

  test("Switchyard's consumer keeps FIFO order: it lists the rest of the failed message's group", async () => {
    const Step = defineEvent({ type: 'Step', schema: z.object({ n: z.number() }), partitionKey: () => 'A' });
    const handled: number[] = [];
    let failedOnce = false;
    const consumer = createConsumer({
      name: 'fifo-order',
      handlers: [
        on(Step, async (message) => {
          if (message.payload.n === 1 && !failedOnce) {
            failedOnce = true;
            throw new Error('first attempt of step 1 fails');
          }
          handled.push(message.payload.n);
        }),
      ],
    });
    const queue = await createQueue('fifo-consumer', { VisibilityTimeout: '1' }, true);
    for (const n of [1, 2, 3]) {
      const wire = toWire(Step.create({ n }));
      await sqs.send(
        new SendMessageCommand({
          QueueUrl: queue.url,
          MessageBody: wire.body,
          MessageAttributes: wire.attributes,
          MessageGroupId: 'A',
          MessageDeduplicationId: `step-${n}`,
        }),
      );
    }
    const batchSizes: number[] = [];
    const quiet = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      start(
        queue,
        inProcess(async (event) => {
          batchSizes.push(event.Records.length);
          return ok(await consumer.handler(event as never));
        }),
      );
      await waitFor(async () => (await messagesIn(queue)) === 0, 'the queue to empty');
    } finally {
      quiet.mockRestore();
    }
    expect(batchSizes[0]).toBe(3);
    expect(handled).toEqual([1, 2, 3]);
  });
});

describe('FilterCriteria on an SQS mapping', () => {
  test('messages matching no pattern are deleted and never reach the function', async () => {
    const queue = await createQueue('sqs-filter');
    for (const body of [
      '{"kind":"order","n":1}',
      '{"kind":"refund","n":2}',
      'plain text',
      '{"kind":"order","n":3}',
    ])
      await sqs.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: body }));
    const seen: string[] = [];
    const source = start(
      queue,
      inProcess(async (event) => {
        seen.push(...event.Records.map((r) => r.body));
        return ok();
      }),
      { filterPatterns: ['{"body":{"kind":["order"]}}'] },
    );
    await waitFor(async () => (await messagesIn(queue)) === 0, 'the queue to empty');
    expect(seen.sort()).toEqual(['{"kind":"order","n":1}', '{"kind":"order","n":3}']);
    expect(source.stats()).toMatchObject({ filtered: 2, succeeded: 2 });
  });
});

describe('visibility timeout', () => {
  test("a queue visibility timeout below the function timeout is refused with Lambda's message", () => {
    const host = inProcess(async () => ok());
    expect(
      () =>
        new SqsEventSource(
          {
            functionName: 'fn',
            queueUrl: 'http://127.0.0.1/q',
            queueArn: 'arn:aws:sqs:us-east-1:000000000000:q',
            batchSize: 10,
            maximumBatchingWindowSeconds: 0,
            reportBatchItemFailures: false,
            awsRegion: REGION,
            functionTimeoutSeconds: 60,
            queueVisibilityTimeoutSeconds: 30,
          },
          host,
          sqs,
        ),
    ).toThrow(MappingConfigError);
    expect(
      () =>
        new SqsEventSource(
          {
            functionName: 'fn',
            queueUrl: 'http://127.0.0.1/q',
            queueArn: 'arn:aws:sqs:us-east-1:000000000000:q',
            batchSize: 10,
            maximumBatchingWindowSeconds: 0,
            reportBatchItemFailures: false,
            awsRegion: REGION,
            functionTimeoutSeconds: 60,
            queueVisibilityTimeoutSeconds: 30,
          },
          host,
          sqs,
        ),
    ).toThrow('Queue visibility timeout: 30 seconds is less than Function timeout: 60 seconds');
  });

  test('with a batching window, messages stay invisible for window + function timeout + 30 s', async () => {
    // GIVEN a queue whose own visibility timeout (1 s) is shorter than the 3 s window
    const queue = await createQueue('window-visibility', { VisibilityTimeout: '1' });
    const batches: SqsEventRecord[][] = [];
    start(
      queue,
      inProcess(async (event) => {
        batches.push(event.Records);
        return ok();
      }),
      {
        batchSize: 20,
        maximumBatchingWindowSeconds: 3,
        functionTimeoutSeconds: 1,
        queueVisibilityTimeoutSeconds: 1,
      },
    );
    await sqs.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: 'early' }));
    await waitFor(() => batches.length > 0, 'the batch', 15_000);
    // THEN the message did not reappear mid-window: one record, received once
    expect(batches[0]?.map((r) => `${r.body}#${r.attributes.ApproximateReceiveCount}`)).toEqual(['early#1']);
  });
});

describe('6 MB invoke payload', () => {
  test('a batch stops before the event, metadata included, passes 6 MB; nothing is lost', async () => {
    const queue = await createQueue('payload-limit', { VisibilityTimeout: '30' });
    const body = 'x'.repeat(250 * 1024);
    for (let i = 0; i < 30; i += 1)
      await sqs.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: `${i} ${body}` }));
    const sizes: number[] = [];
    let records = 0;
    const source = start(
      queue,
      inProcess(async (event) => {
        sizes.push(Buffer.byteLength(JSON.stringify(event)));
        records += event.Records.length;
        return ok();
      }),
      { batchSize: 100, maximumBatchingWindowSeconds: 1 },
    );
    await waitFor(() => records >= 30, '30 records', 30_000);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(MAX_INVOKE_PAYLOAD_BYTES);
    expect(Math.max(...sizes)).toBeGreaterThan(5 * 1024 * 1024);
    expect(records).toBe(30);
    expect(source.stats().payloadCutoffs).toBeGreaterThan(0);
  });
});

describe('concurrency back-off after function errors', () => {
  test('errors lower the mapping concurrency; successes raise it again', async () => {
    const queue = await createQueue('backoff', { VisibilityTimeout: '30' });
    for (let i = 0; i < 4; i += 1)
      await sqs.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: `bad-${i}` }));
    let running = 0;
    const startedWith: { body: string; running: number }[] = [];
    const source = start(
      queue,
      inProcess(async (event) => {
        running += 1;
        const body = event.Records[0]?.body ?? '';
        startedWith.push({ body, running });
        await new Promise((r) => setTimeout(r, 300));
        running -= 1;
        return body.startsWith('bad') ? failed('bad message') : ok();
      }, 4),
      { batchSize: 1, maximumConcurrency: 4 },
    );
    await waitFor(() => startedWith.length >= 4, 'the 4 failing invocations');
    await waitFor(() => source.stats().concurrencyBackoffs >= 2, 'two back-offs');
    for (let i = 0; i < 8; i += 1)
      await sqs.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: `good-${i}` }));
    await waitFor(
      () => startedWith.filter((s) => s.body.startsWith('good')).length >= 8,
      'the good messages',
    );
    const good = startedWith.filter((s) => s.body.startsWith('good'));
    // Right after the errors the mapping runs one batch at a time, then scales back up.
    expect(good[0]?.running).toBe(1);
    expect(Math.max(...good.map((g) => g.running))).toBeGreaterThan(1);
  });
});

describe('AWSTraceHeader', () => {
  test("a sender's trace header reaches the record's attributes, as in AWS", async () => {
    const queue = await createQueue('trace-header');
    const header = 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1';
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: queue.url,
        MessageBody: 'traced',
        MessageSystemAttributes: { AWSTraceHeader: { DataType: 'String', StringValue: header } },
      }),
    );
    await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queue.url,
        Entries: [
          {
            Id: '1',
            MessageBody: 'traced-in-batch',
            MessageSystemAttributes: { AWSTraceHeader: { DataType: 'String', StringValue: `${header}-b` } },
          },
          { Id: '2', MessageBody: 'untraced' },
        ],
      }),
    );
    const records: SqsEventRecord[] = [];
    start(
      queue,
      inProcess(async (event) => {
        records.push(...event.Records);
        return ok();
      }),
    );
    await waitFor(() => records.length >= 3, 'three records');
    const headerOf = (body: string) => records.find((r) => r.body === body)?.attributes.AWSTraceHeader;
    expect(headerOf('traced')).toBe(header);
    expect(headerOf('traced-in-batch')).toBe(`${header}-b`);
    expect(headerOf('untraced')).toBeUndefined();
  });
});
