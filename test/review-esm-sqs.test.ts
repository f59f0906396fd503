/**
 * Adversarial review of the esm-fidelity merge (issue 14): the local SQS mapping and the fauxqs
 * FIFO subclass under failure. Each test asserts what AWS documents (or what the product brief
 * requires: nothing lost, a message that cannot be handled ends in a DLQ with its reason) and
 * fails against the merged code.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { SqsEventSource, type SqsMappingConfig } from '../local/esm/sqs-event-source';
import type { SqsEventRecord } from '../local/esm/sqs-record';
import type { InvokeResult, Invoker } from '../local/runtime/function-host';
import { FunctionHost } from '../local/runtime/function-host';
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
      Attributes: { VisibilityTimeout: '30', ...(fifo ? { FifoQueue: 'true' } : {}), ...attributes },
    }),
  );
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }),
  );
  return { url: QueueUrl, arn: Attributes?.QueueArn ?? '' };
}

async function counts(queue: Queue): Promise<{ visible: number; inFlight: number }> {
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queue.url,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return {
    visible: Number(Attributes?.ApproximateNumberOfMessages ?? 0),
    inFlight: Number(Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0),
  };
}

async function waitFor(
  probe: () => Promise<boolean> | boolean,
  what: string,
  timeoutMs = 30_000,
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

function start(queue: Queue, invoker: Invoker, mapping: Partial<SqsMappingConfig> = {}, logs: string[] = []) {
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

async function drainDlq(dlq: Queue): Promise<string[]> {
  const bodies: string[] = [];
  for (;;) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: dlq.url, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
    );
    if (Messages.length === 0) return bodies;
    bodies.push(...Messages.map((m) => m.Body ?? ''));
  }
}

describe('6 MB overflow put back to the queue', () => {
  test('a FIFO message cut from a batch by the 6 MB limit is delivered, in order, not dead-lettered unseen', async () => {
    // GIVEN a FIFO queue with maxReceiveCount 1 (allowed by SQS: "no retries") and a DLQ
    const dlq = await createQueue('review-overflow-dlq', {}, true);
    const queue = await createQueue(
      'review-overflow',
      { RedrivePolicy: JSON.stringify({ maxReceiveCount: 1, deadLetterTargetArn: dlq.arn }) },
      true,
    );
    // AND 12 messages of one group, 700 KB each: 10 of them (one receive) are 7 MB of event
    const pad = 'p'.repeat(700 * 1024);
    const names = Array.from({ length: 12 }, (_, i) => `A${String(i + 1).padStart(2, '0')}`);
    for (const name of names) {
      await sqs.send(
        new SendMessageCommand({
          QueueUrl: queue.url,
          MessageBody: `${name} ${pad}`,
          MessageGroupId: 'A',
          MessageDeduplicationId: name,
        }),
      );
    }
    // WHEN a function that never fails consumes the queue
    const handled: string[] = [];
    const logs: string[] = [];
    start(
      queue,
      {
        name: 'in-process',
        concurrency: 2,
        invoke: async (event) => {
          handled.push(...(event as { Records: SqsEventRecord[] }).Records.map((r) => r.body.slice(0, 3)));
          return ok();
        },
      },
      {},
      logs,
    );
    await waitFor(async () => {
      const c = await counts(queue);
      return c.visible + c.inFlight === 0;
    }, 'the queue to empty');
    const deadLettered = (await drainDlq(dlq)).map((b) => b.slice(0, 3));
    // THEN every message reached the function once, in group order, and none was dead-lettered.
    // Merged code: A09/A10 are received, put back with ChangeMessageVisibility 0 (receive count
    // already 1), and the next receive moves them to the DLQ; A11 overtakes them.
    expect({ handled, deadLettered }).toEqual({ handled: names, deadLettered: [] });
  });
});

describe('6 MB overflow kept in flight (the fix)', () => {
  const pad = 'p'.repeat(700 * 1024);
  const bodiesOf = (event: unknown) =>
    (event as { Records: SqsEventRecord[] }).Records.map(
      (r) => `${r.body.slice(0, 3)}#${r.attributes.ApproximateReceiveCount}`,
    );

  test('on a standard queue the cut messages start the next batch, received once, none dead-lettered', async () => {
    const dlq = await createQueue('overflow-std-dlq');
    const queue = await createQueue('overflow-std', {
      RedrivePolicy: JSON.stringify({ maxReceiveCount: 1, deadLetterTargetArn: dlq.arn }),
    });
    const names = Array.from({ length: 12 }, (_, i) => `S${String(i + 1).padStart(2, '0')}`);
    for (const name of names)
      await sqs.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: `${name} ${pad}` }));
    const handled: string[] = [];
    const source = start(queue, {
      name: 'in-process',
      concurrency: 1,
      invoke: async (event) => {
        handled.push(...bodiesOf(event));
        return ok();
      },
    });
    await waitFor(async () => {
      const c = await counts(queue);
      return c.visible + c.inFlight === 0;
    }, 'the queue to empty');
    expect(await drainDlq(dlq)).toEqual([]);
    // Every message reached the function on its first receive: the cut ones were never put back.
    expect(handled.sort()).toEqual(names.map((n) => `${n}#1`));
    expect(source.stats().payloadCutoffs).toBeGreaterThan(0);
  });

  test('on FIFO the cut messages of a group whose batch failed are not invoked ahead of the retry', async () => {
    const queue = await createQueue('overflow-fifo-fail', { VisibilityTimeout: '2' }, true);
    const names = Array.from({ length: 10 }, (_, i) => `F${String(i + 1).padStart(2, '0')}`);
    for (const name of names) {
      await sqs.send(
        new SendMessageCommand({
          QueueUrl: queue.url,
          MessageBody: `${name} ${pad}`,
          MessageGroupId: 'F',
          MessageDeduplicationId: name,
        }),
      );
    }
    const invocations: string[][] = [];
    start(
      queue,
      {
        name: 'in-process',
        concurrency: 2,
        invoke: async (event) => {
          invocations.push(bodiesOf(event));
          // The first invocation fails as a whole.
          return invocations.length === 1
            ? { ...ok(), ok: false, error: { errorType: 'Error', errorMessage: 'first delivery fails' } }
            : ok();
        },
      },
      { functionTimeoutSeconds: 1, queueVisibilityTimeoutSeconds: 2 },
    );
    await waitFor(async () => {
      const c = await counts(queue);
      return c.visible + c.inFlight === 0;
    }, 'the queue to empty');
    const delivered = invocations.flat().map((b) => b.slice(0, 3));
    // THEN the group arrives in order: the failed batch, then the same messages again, then the rest;
    // the cut messages F09/F10 never ran before the retry of F01..F08.
    const firstBatch = invocations[0]?.map((b) => b.slice(0, 3)) ?? [];
    expect(firstBatch).toEqual(names.slice(0, firstBatch.length));
    expect(delivered).toEqual([...firstBatch, ...names]);
  });
});

describe('mapping concurrency above the local function concurrency', () => {
  const dir = mkdtempSync(join(tmpdir(), 'review-esm-'));
  test('a batch waiting for a free local instance is not redelivered while the first delivery still runs', async () => {
    // GIVEN a function with timeout 2 s that takes 1.5 s, and a queue visibility of 2 s
    // (AWS accepts visibility >= function timeout), and ScalingConfig.MaximumConcurrency 4.
    // Locally the function has 2 instances (the local cloud's functionConcurrency, default 4, plays
    // this role when ReservedConcurrentExecutions is not set; in AWS the function is not limited).
    const recordFile = join(dir, 'calls.jsonl');
    const host = new FunctionHost(
      {
        name: 'slow-recorder',
        logicalId: 'SlowRecorder',
        codeDir: join(__dirname, 'fixtures', 'functions'),
        handler: 'recorder.handler',
        environment: { RECORD_FILE: recordFile, SLEEP_MS: '1500' },
        timeoutSeconds: 2,
      },
      { concurrency: 2 },
    );
    stops.push(() => host.stop());
    // Warm both instances, so cold starts play no part.
    await Promise.all([host.invoke({ Records: [] }), host.invoke({ Records: [] })]);
    const queue = await createQueue('review-concurrency', { VisibilityTimeout: '2' });
    for (let i = 0; i < 4; i += 1)
      await sqs.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: `m${i}` }));
    // WHEN the mapping runs with batch size 1 and maximum concurrency 4
    const source = start(queue, host, {
      batchSize: 1,
      maximumConcurrency: 4,
      functionTimeoutSeconds: 2,
      queueVisibilityTimeoutSeconds: 2,
    });
    await waitFor(async () => {
      const c = await counts(queue);
      return source.stats().succeeded >= 4 && c.visible + c.inFlight === 0;
    }, 'all four handled');
    await new Promise((r) => setTimeout(r, 2500));
    // THEN each message was invoked once (each invocation, 1.5 s, ends inside the 2 s visibility).
    // Merged code: 4 batches are received at once, 2 wait ~1.5 s for an instance, their messages
    // reappear after 2 s and are received and invoked again while the first delivery still runs.
    const bodies = readFileSync(recordFile, 'utf8')
      .split('\n')
      .filter(Boolean)
      .flatMap((line) => (JSON.parse(line).event.Records as { body: string }[]).map((r) => r.body));
    expect(bodies.sort()).toEqual(['m0', 'm1', 'm2', 'm3']);
  });
});

describe('two mappings sharing one local instance (the throttle)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'review-esm-throttle-'));
  test('a batch no instance can start before its messages reappear is throttled, not run late and then again', async () => {
    // GIVEN a function with ONE local instance, timeout 2 s, taking 1.5 s, consumed by two queues
    // whose visibility (2 s) equals the timeout: a batch that waits at all could not finish in time
    const recordFile = join(dir, 'calls.jsonl');
    const host = new FunctionHost(
      {
        name: 'shared-recorder',
        logicalId: 'SharedRecorder',
        codeDir: join(__dirname, 'fixtures', 'functions'),
        handler: 'recorder.handler',
        environment: { RECORD_FILE: recordFile, SLEEP_MS: '1500' },
        timeoutSeconds: 2,
      },
      { concurrency: 1 },
    );
    stops.push(() => host.stop());
    await host.invoke({ Records: [] });
    const queues = [
      await createQueue('throttle-a', { VisibilityTimeout: '2' }),
      await createQueue('throttle-b', { VisibilityTimeout: '2' }),
    ];
    const logs: string[] = [];
    const sources = queues.map((queue) =>
      start(queue, host, { batchSize: 1, functionTimeoutSeconds: 2, queueVisibilityTimeoutSeconds: 2 }, logs),
    );
    // WHEN both queues get a message at once
    await Promise.all(
      queues.map((queue, i) =>
        sqs.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: `q${i}` })),
      ),
    );
    await waitFor(async () => {
      const all = await Promise.all(queues.map(counts));
      const succeeded = sources.reduce((sum, source) => sum + source.stats().succeeded, 0);
      return succeeded >= 2 && all.every((c) => c.visible + c.inFlight === 0);
    }, 'both handled');
    await new Promise((r) => setTimeout(r, 2500));
    // THEN one batch waited for the instance and was throttled (never run late), and each message
    // ran exactly once, after its redelivery
    const bodies = readFileSync(recordFile, 'utf8')
      .split('\n')
      .filter(Boolean)
      .flatMap((line) => (JSON.parse(line).event.Records as { body: string }[]).map((r) => r.body));
    expect(bodies.sort()).toEqual(['q0', 'q1']);
    expect(sources.reduce((sum, source) => sum + source.stats().throttled, 0)).toBeGreaterThanOrEqual(1);
    expect(logs.join('\n')).toMatch(/throttled, not invoked \(Rate Exceeded/);
  });
});

describe('stopping a mapping', () => {
  test('a message sent right after stop() is not swallowed by the aborted long poll', async () => {
    // GIVEN a mapping long-polling an empty queue
    const queue = await createQueue('review-stop');
    const seen: string[] = [];
    const source = start(queue, {
      name: 'in-process',
      concurrency: 2,
      invoke: async (event) => {
        seen.push(...(event as { Records: SqsEventRecord[] }).Records.map((r) => r.body));
        return ok();
      },
    });
    await new Promise((r) => setTimeout(r, 500));
    // WHEN the mapping is stopped (disabled) and a message arrives afterwards
    await source.stop();
    await sqs.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: 'after-stop' }));
    // THEN the next consumer gets it at once, never received before.
    // Merged code: stop() aborts the HTTP request, but fauxqs' handler keeps waiting and dequeues
    // the message for nobody: it is invisible for the visibility timeout (30 s) with
    // ApproximateReceiveCount 1, so with maxReceiveCount 1 it would go to the DLQ unseen.
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queue.url,
        WaitTimeSeconds: 2,
        MessageSystemAttributeNames: ['ApproximateReceiveCount'],
      }),
    );
    expect(seen).toEqual([]);
    expect(Messages.map((m) => `${m.Body}#${m.Attributes?.ApproximateReceiveCount}`)).toEqual([
      'after-stop#1',
    ]);
  });
});
