/**
 * Retry with backoff on the SNS/SQS emulator: a failed message comes back after the consumer's
 * growing delay, not the queue's 60-second visibility timeout, and reaches the DLQ after
 * maxReceiveCount; a FIFO group waits behind its failed head, in order.
 */

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
  type Message as SqsMessage,
} from '@aws-sdk/client-sqs';
import { build } from 'esbuild';
import { z } from 'zod';
import { createConsumer, on } from '../lambdas/consumer';
import {
  RetryBackoffEnvironment,
  retryBackoffFromEnvironment,
  retryDelaySeconds,
} from '../lambdas/consumer/retry-backoff';
import { RetryScheduler } from '../lambdas/consumer/retry-scheduler';
import { defineEvent } from '../lambdas/core/definition';
import { toWire } from '../lambdas/core/wire';
import { uniqueName } from './support/emulators';
import { toSqsEvent } from './support/sqs-event';

const sqs = new SQSClient({});
const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
const Flaky = defineEvent({
  type: 'Flaky',
  schema: z.object({ n: z.number() }),
  partitionKey: () => 'group-1',
});

async function queueWithDlq(fifo: boolean, maxReceiveCount: number) {
  const suffix = fifo ? '.fifo' : '';
  const fifoAttributes: Record<string, string> = fifo ? { FifoQueue: 'true' } : {};
  const dlq = await sqs.send(
    new CreateQueueCommand({ QueueName: uniqueName('backoff-dlq') + suffix, Attributes: fifoAttributes }),
  );
  const dlqArn = (
    await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlq.QueueUrl, AttributeNames: ['QueueArn'] }))
  ).Attributes!.QueueArn!;
  const queue = await sqs.send(
    new CreateQueueCommand({
      QueueName: uniqueName('backoff') + suffix,
      Attributes: {
        ...fifoAttributes,
        VisibilityTimeout: '60',
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount }),
      },
    }),
  );
  const arn = (
    await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queue.QueueUrl, AttributeNames: ['QueueArn'] }))
  ).Attributes!.QueueArn!;
  return { url: queue.QueueUrl!, arn, dlqUrl: dlq.QueueUrl! };
}

async function send(url: string, n: number, fifo: boolean) {
  const wire = toWire(Flaky.create({ n }));
  await sqs.send(
    new SendMessageCommand({
      QueueUrl: url,
      MessageBody: wire.body,
      MessageAttributes: wire.attributes,
      ...(fifo ? { MessageGroupId: 'group-1', MessageDeduplicationId: `d-${n}` } : {}),
    }),
  );
}

/** One receive as the event source mapping makes it (long poll up to `waitSeconds`). */
async function receive(url: string, waitSeconds: number): Promise<SqsMessage[]> {
  const { Messages = [] } = await sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: url,
      MaxNumberOfMessages: 10,
      WaitTimeSeconds: waitSeconds,
      MessageAttributeNames: ['All'],
      MessageSystemAttributeNames: ['All'],
    }),
  );
  return Messages;
}

describe('retry with backoff', () => {
  test('delays grow exponentially with equal jitter and stop at the maximum', () => {
    const options = { baseSeconds: 2, maxSeconds: 30 };
    expect([1, 2, 3, 4, 5, 6].map((n) => retryDelaySeconds(n, options, () => 1))).toEqual([
      2, 4, 8, 16, 30, 30,
    ]);
    expect([1, 2, 3, 4].map((n) => retryDelaySeconds(n, options, () => 0))).toEqual([1, 2, 4, 8]);
  });

  test('a failing message returns after the backoff, not the 60 s visibility timeout, and ends in the DLQ', async () => {
    // GIVEN a queue with a 60 s visibility timeout and maxReceiveCount 3, and a consumer that always fails
    const q = await queueWithDlq(false, 3);
    await send(q.url, 1, false);
    const consumer = createConsumer({
      name: 'flaky',
      logger: quiet,
      handlers: [on(Flaky, async () => Promise.reject(new Error('downstream unavailable')))],
      retryBackoff: { baseSeconds: 1, maxSeconds: 2 },
      retryScheduler: new RetryScheduler({ baseSeconds: 1, maxSeconds: 2 }, sqs, () => 1),
    });

    // WHEN the mapping receives and invokes, three times
    const receiveCounts: number[] = [];
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const messages = await receive(q.url, 5);
      expect(messages).toHaveLength(1); // back within 5 s each time: the backoff, not 60 s
      receiveCounts.push(Number(messages[0]!.Attributes!.ApproximateReceiveCount));
      const response = await consumer.handler(toSqsEvent(messages, q.arn));
      expect(response.batchItemFailures).toHaveLength(1);
    }

    // THEN the next receive past maxReceiveCount moves it to the DLQ
    expect(receiveCounts).toEqual([1, 2, 3]);
    expect(await receive(q.url, 3)).toEqual([]);
    expect(await receive(q.dlqUrl, 1)).toHaveLength(1);
  });

  test('without an injected scheduler, the default SQS client schedules the retry', async () => {
    // GIVEN a consumer with backoff from the construct's environment and no scheduler of its own
    const q = await queueWithDlq(false, 5);
    await send(q.url, 1, false);
    const consumer = createConsumer({
      name: 'flaky-default-client',
      logger: quiet,
      handlers: [on(Flaky, async () => Promise.reject(new Error('downstream unavailable')))],
      retryBackoff: retryBackoffFromEnvironment({
        [RetryBackoffEnvironment.BASE_SECONDS]: '1',
        [RetryBackoffEnvironment.MAX_SECONDS]: '2',
      }),
    });

    // WHEN its first batch fails
    const first = await receive(q.url, 5);
    expect((await consumer.handler(toSqsEvent(first, q.arn))).batchItemFailures).toHaveLength(1);

    // THEN the message is back within 1-2 s, not after the queue's 60 s visibility timeout
    const again = await receive(q.url, 5);
    expect(again.map((m) => m.MessageId)).toEqual(first.map((m) => m.MessageId));
    expect(Number(again[0]!.Attributes!.ApproximateReceiveCount)).toBe(2);
  });

  test('@aws-sdk/client-sqs is loaded while the module loads when backoff is on, and never when it is off', async () => {
    // GIVEN the consumer bundled as NodejsFunction deploys it, the SDK left to the runtime
    const dir = mkdtempSync(join(tmpdir(), 'switchyard-backoff-load-'));
    const entry = join(dir, 'probe.ts');
    writeFileSync(
      entry,
      `import { createConsumer } from '${join(__dirname, '..', 'lambdas', 'consumer')}';\n` +
        "export const { handler } = createConsumer({ name: 'probe', handlers: [] });\n",
    );
    const bundle = join(dir, 'probe.js');
    await build({
      entryPoints: [entry],
      outfile: bundle,
      bundle: true,
      platform: 'node',
      target: 'node22',
      format: 'cjs',
      external: ['@aws-sdk/*'],
      logLevel: 'silent',
    });
    // WHEN a fresh process loads it as Lambda's init does: the runtime asks for the first event only
    // after the pending promise jobs of the init ran
    const sqsLoadedAfterInit = (environment: Record<string, string>) => {
      const script =
        'require(process.argv[1]); setImmediate(() => process.stdout.write(String(' +
        'Object.keys(require.cache).some((file) => file.includes("@aws-sdk/client-sqs")))));';
      const child = spawnSync(process.execPath, ['-e', script, bundle], {
        env: { ...process.env, NODE_PATH: join(__dirname, '..', 'node_modules'), ...environment },
        encoding: 'utf8',
      });
      expect(child.stderr).toBe('');
      return child.stdout;
    };
    try {
      // THEN only a consumer with backoff loads the SQS client, and it does so during init
      const backoffOff = {
        [RetryBackoffEnvironment.BASE_SECONDS]: '',
        [RetryBackoffEnvironment.MAX_SECONDS]: '',
      };
      const backoffOn = {
        [RetryBackoffEnvironment.BASE_SECONDS]: '1',
        [RetryBackoffEnvironment.MAX_SECONDS]: '2',
      };
      expect({ off: sqsLoadedAfterInit(backoffOff), on: sqsLoadedAfterInit(backoffOn) }).toEqual({
        off: 'false',
        on: 'true',
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  test('a FIFO group waits behind its failed head and then resumes in order', async () => {
    const q = await queueWithDlq(true, 5);
    for (const n of [1, 2, 3]) await send(q.url, n, true);
    let failFirst = true;
    const handled: number[] = [];
    const consumer = createConsumer({
      name: 'ordered',
      logger: quiet,
      handlers: [
        on(Flaky, async (message) => {
          if (failFirst && message.payload.n === 1) {
            failFirst = false;
            throw new Error('first attempt fails');
          }
          handled.push(message.payload.n);
        }),
      ],
      retryScheduler: new RetryScheduler({ baseSeconds: 2, maxSeconds: 2 }, sqs, () => 1),
      retryBackoff: { baseSeconds: 2, maxSeconds: 2 },
    });

    // The head fails: the rest of its group in the batch fails with it and all wait 2 s.
    const first = await receive(q.url, 1);
    expect((await consumer.handler(toSqsEvent(first, q.arn))).batchItemFailures).toHaveLength(first.length);
    expect(await receive(q.url, 1)).toEqual([]); // the group is blocked while its head waits

    // After the delay the group comes back whole, head first.
    const again = await receive(q.url, 5);
    const ns = again.map((m) => (JSON.parse(m.Body!) as { n: number }).n);
    expect(ns[0]).toBe(1);
    expect((await consumer.handler(toSqsEvent(again, q.arn))).batchItemFailures).toEqual([]);
    expect(handled).toEqual(ns);
  });
});
