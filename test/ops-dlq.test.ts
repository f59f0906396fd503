/**
 * `switchyard dlq list|show|redrive` on the SNS/SQS emulator: DLQs found through redrive policies,
 * messages shown without being consumed, redrive in order with FIFO group and deduplication ids,
 * the filter, the 5-minute deduplication window, and a redrive interrupted half way.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { main } from '../bin/cli';
import { deadLetterQueues, describeQueue, listQueues } from '../cli/ops/queues';
import { redriveMessages } from '../cli/ops/redrive';
import { FAILURE_QUEUE_ROLE, FAILURE_QUEUE_ROLE_TAG } from '../lib/transactional-outbox';
import { writeSession } from '../local/session';
import { silentProgress } from '../local/workload/progress';
import { drainQueue } from './support/drain-queue';
import { snsSqsEndpoint, uniqueName } from './support/emulators';

const sqs = new SQSClient({});

function captured() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, output: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) } };
}

async function queue(name: string, attributes: Record<string, string> = {}, tags?: Record<string, string>) {
  const fifo = name.endsWith('.fifo');
  const { QueueUrl } = await sqs.send(
    new CreateQueueCommand({
      QueueName: name,
      Attributes: { ...attributes, ...(fifo ? { FifoQueue: 'true' } : {}) },
      tags,
    }),
  );
  const { Attributes = {} } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }),
  );
  return { url: QueueUrl!, arn: Attributes.QueueArn!, name };
}

/** A source queue and its DLQ, named under one prefix so each test sees only its own. */
async function pair(prefix: string, fifo: boolean, maxReceiveCount = 1) {
  const suffix = fifo ? '.fifo' : '';
  const dlq = await queue(`${prefix}-dlq${suffix}`);
  const source = await queue(`${prefix}-work${suffix}`, {
    RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.arn, maxReceiveCount }),
    VisibilityTimeout: '30',
  });
  return { dlq, source };
}

function attributes(type: string, id: string) {
  return {
    'message-type': { DataType: 'String', StringValue: type },
    'message-id': { DataType: 'String', StringValue: id },
  };
}

async function sendTo(url: string, type: string, id: string, group?: string) {
  await sqs.send(
    new SendMessageCommand({
      QueueUrl: url,
      MessageBody: JSON.stringify({ id }),
      MessageAttributes: attributes(type, id),
      MessageGroupId: group,
      MessageDeduplicationId: group ? `dedup-${id}` : undefined,
    }),
  );
}

const readAll = (url: string) => drainQueue(sqs, url);

/** A clock six minutes ahead: letters sent to the DLQ by the test are past the deduplication window. */
const pastTheWindow = () => Date.now() + 6 * 60_000;
const idOf = (m: Message) => m.MessageAttributes?.['message-id']?.StringValue;
const depth = async (url: string) => (await describeQueue(sqs, url)).depth;

describe('switchyard dlq', () => {
  test('list shows each DLQ with depth, oldest age and source; show prints without consuming', async () => {
    // GIVEN a standard pair with two dead letters and an outbox failure queue
    const prefix = uniqueName('list');
    const { dlq, source } = await pair(prefix, false);
    await sendTo(dlq.url, 'OrderCreated', 'o-1');
    await sendTo(dlq.url, 'TicketAccepted', 't-1');
    await queue(`${prefix}-failures`, {}, { [FAILURE_QUEUE_ROLE_TAG]: FAILURE_QUEUE_ROLE });

    // WHEN listing
    const list = captured();
    const code = await main(['dlq', 'list', '--endpoint', snsSqsEndpoint(), '--prefix', prefix], list.output);

    // THEN
    expect(code).toBe(0);
    const dlqLine = list.out.find((l) => l.startsWith(dlq.name));
    expect(dlqLine).toMatch(new RegExp(`^${dlq.name}\\s+DLQ\\s+2\\s+0\\s+\\d+s\\s+${source.name}$`));
    expect(list.out.find((l) => l.startsWith(`${prefix}-failures`))).toMatch(/outbox failures\s+0/);
    expect(list.out.at(-1)).toMatch(/2 dead-letter queue\(s\), 2 message\(s\)/);

    // WHEN showing
    const show = captured();
    expect(await main(['dlq', 'show', dlq.name, '--endpoint', snsSqsEndpoint()], show.output)).toBe(0);
    expect(show.out).toEqual(
      expect.arrayContaining([
        'o-1  OrderCreated',
        't-1  TicketAccepted',
        expect.stringMatching(/^ {2}reason: received \d+ times from .*-work \(maxReceiveCount 1\)/),
        expect.stringMatching(/^ {2}received \d+x, sent /),
      ]),
    );
    // THEN nothing was consumed: both messages are still there and visible
    expect(await depth(dlq.url)).toBe(2);
  });

  test('redrive moves a FIFO DLQ back in order per group, keeping group and deduplication ids', async () => {
    // GIVEN two groups interleaved in the DLQ
    const prefix = uniqueName('fifo');
    const { dlq, source } = await pair(prefix, true);
    const sent: string[] = [];
    for (let i = 0; i < 6; i += 1) {
      const id = `m${i}`;
      await sendTo(dlq.url, 'OrderCreated', id, i % 2 === 0 ? 'order-a' : 'order-b');
      sent.push(id);
    }

    // WHEN redriving once the letters are past the deduplication window
    const summary = await redriveMessages({
      sqs,
      dlq: deadLetterQueues(await listQueues(sqs, prefix))[0]!,
      destination: await describeQueue(sqs, source.url),
      progress: silentProgress,
      now: pastTheWindow,
    });

    // THEN every message is in the source, in order per group, with its ids
    expect(summary).toMatchObject({ moved: 6, heldBack: 0, skipped: 0 });
    expect(await depth(dlq.url)).toBe(0);
    const moved = await readAll(source.url);
    const inGroup = (g: string) => moved.filter((m) => m.Attributes?.MessageGroupId === g).map(idOf);
    expect(inGroup('order-a')).toEqual(['m0', 'm2', 'm4']);
    expect(inGroup('order-b')).toEqual(['m1', 'm3', 'm5']);
    for (const m of moved) expect(m.Attributes?.MessageDeduplicationId).toBe(`dedup-${idOf(m)}`);
    expect(moved[0]?.MessageAttributes?.['message-type']?.StringValue).toBe('OrderCreated');
  });

  test('redrive does not send FIFO letters younger than the deduplication window, and says when to run again', async () => {
    // GIVEN FIFO letters sent a moment ago: a destination that saw their deduplication ids would
    // accept a resend and drop it, and SQS's answer does not tell
    const prefix = uniqueName('young');
    const { dlq, source } = await pair(prefix, true);
    await sendTo(dlq.url, 'OrderCreated', 'y1', 'order-y');
    await sendTo(dlq.url, 'OrderCreated', 'y2', 'order-y');
    await sendTo(dlq.url, 'OrderCreated', 'y3', 'order-z');

    // WHEN
    const run = captured();
    const code = await main(['dlq', 'redrive', dlq.name, '--endpoint', snsSqsEndpoint()], run.output);

    // THEN nothing moved; the first of each group is held, the rest of its group stays behind it
    expect(code).toBe(0);
    expect(run.out[0]).toMatch(
      /^Done \(receive-send-delete\): moved 0 message\(s\).*left 1 .*kept 2 that the destination may still deduplicate .*run again after \d{4}-\d\d-\d\dT/,
    );
    expect(await depth(dlq.url)).toBe(3);
    expect(await depth(source.url)).toBe(0);
  });

  test('redrive keeps FIFO messages the source would deduplicate (failed within 5 minutes), and their group behind them', async () => {
    // GIVEN messages that really failed: sent to the source, received past maxReceiveCount
    const prefix = uniqueName('window');
    const { dlq, source } = await pair(prefix, true, 1);
    await sendTo(source.url, 'OrderCreated', 'w1', 'order-w');
    await sendTo(source.url, 'OrderCreated', 'w2', 'order-w');
    for (let i = 0; i < 6 && (await depth(dlq.url)) < 2; i += 1) {
      await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: source.url, MaxNumberOfMessages: 10, VisibilityTimeout: 0 }),
      );
    }
    expect(await depth(dlq.url)).toBe(2);

    // WHEN redriving at once: the source still remembers their deduplication ids
    const summary = await redriveMessages({
      sqs,
      dlq: deadLetterQueues(await listQueues(sqs, prefix))[0]!,
      destination: await describeQueue(sqs, source.url),
      progress: silentProgress,
    });

    // THEN nothing is lost: SQS dropped the copy of the first, so it stays in the DLQ, and the
    // second (same group) is not even handed out while the first is held
    expect(summary).toMatchObject({ moved: 0, heldBack: 1 });
    expect(summary.retryAfter!.getTime()).toBeGreaterThan(Date.now() + 5 * 60_000);
    expect(await depth(dlq.url)).toBe(2);
    expect(await depth(source.url)).toBe(0);
  });

  test('redrive --filter type=... moves only matching messages and leaves the rest', async () => {
    const prefix = uniqueName('filter');
    const { dlq, source } = await pair(prefix, false);
    for (let i = 0; i < 4; i += 1) await sendTo(dlq.url, i % 2 ? 'TicketAccepted' : 'OrderCreated', `f${i}`);
    const run = captured();
    const code = await main(
      ['dlq', 'redrive', dlq.name, '--filter', 'type=OrderCreated', '--endpoint', snsSqsEndpoint()],
      run.output,
    );
    expect(code).toBe(0);
    expect(run.out[0]).toMatch(/moved 2 message\(s\).*left 2/);
    expect((await readAll(source.url)).map(idOf).sort()).toEqual(['f0', 'f2']);
    expect((await readAll(dlq.url)).map(idOf).sort()).toEqual(['f1', 'f3']);
  });

  test('an interrupted redrive loses nothing and duplicates nothing; running it again finishes in order', async () => {
    // GIVEN 30 dead letters of one FIFO group
    const prefix = uniqueName('stop');
    const { dlq, source } = await pair(prefix, true);
    const ids = Array.from({ length: 30 }, (_, i) => `s${String(i).padStart(2, '0')}`);
    for (const id of ids) await sendTo(dlq.url, 'OrderCreated', id, 'order-s');
    const target = async () => ({
      dlq: deadLetterQueues(await listQueues(sqs, prefix))[0]!,
      destination: await describeQueue(sqs, source.url),
    });

    // WHEN stopped after the 10th message (as Ctrl-C does)
    const controller = new AbortController();
    const first = await redriveMessages({
      sqs,
      ...(await target()),
      signal: controller.signal,
      progress: silentProgress,
      now: pastTheWindow,
      onMoved: (moved) => moved === 10 && controller.abort(),
    });

    // THEN 10 moved, 20 still in the DLQ, visible again at once; none in both, none missing
    expect(first).toMatchObject({ interrupted: true, moved: 10, duplicated: 0 });
    expect(await depth(dlq.url)).toBe(20);
    expect(await depth(source.url)).toBe(10);

    // WHEN run again
    const second = await redriveMessages({
      sqs,
      ...(await target()),
      progress: silentProgress,
      now: pastTheWindow,
    });

    // THEN the rest follows, and the group is in its original order
    expect(second).toMatchObject({ interrupted: false, moved: 20 });
    expect((await readAll(source.url)).map(idOf)).toEqual(ids);
    expect(await depth(dlq.url)).toBe(0);
  });

  test('--local finds the running local cloud through its session file, and says how to start one when none runs', async () => {
    const appDir = mkdtempSync(join(tmpdir(), 'switchyard-session-'));
    const none = captured();
    expect(await main(['dlq', 'list', '--local', '--app-dir', appDir], none.output)).toBe(1);
    expect(none.err.join('\n')).toMatch(/No running local cloud .* Start one with "switchyard local --keep"/);

    const prefix = uniqueName('session');
    await pair(prefix, false);
    writeSession(appDir, {
      pid: process.pid,
      region: 'us-east-1',
      endpoints: { snsSqs: snsSqsEndpoint(), dynamodb: snsSqsEndpoint() },
      startedAt: new Date().toISOString(),
      functions: [],
    });
    const found = captured();
    expect(
      await main(['dlq', 'list', '--local', '--app-dir', appDir, '--prefix', prefix], found.output),
    ).toBe(0);
    expect(found.out.join('\n')).toMatch(new RegExp(`${prefix}-dlq\\s+DLQ\\s+0`));
    expect(found.out.at(-1)).toMatch(/on the local cloud \(pid \d+/);
  });

  test('fails with a clear message for an unknown queue or filter', async () => {
    const run = captured();
    expect(
      await main(
        ['dlq', 'show', 'no-such-dlq-xyz', '--endpoint', snsSqsEndpoint(), '--prefix', 'zz-none'],
        run.output,
      ),
    ).toBe(1);
    expect(run.err.join('\n')).toMatch(/No dead-letter queue "no-such-dlq-xyz"\. There are none here/);
    const bad = captured();
    expect(
      await main(
        ['dlq', 'redrive', 'x', '--filter', 'kind=event', '--endpoint', snsSqsEndpoint()],
        bad.output,
      ),
    ).toBe(1);
    expect(bad.err.join('\n')).toMatch(/--filter "kind=event" is not understood; use --filter type=/);
  });
});
