/**
 * `switchyard dlq list|show|redrive` and `switchyard outbox replay`: the on-call engineer's tools.
 * Each acts on AWS (default credentials), on an endpoint (`--endpoint`), or on the running
 * `switchyard local --keep` (`--local`). Ctrl-C stops after the message in hand; a second Ctrl-C
 * exits at once (still safe: nothing is deleted before it was delivered).
 */
import type { Command } from 'commander';
import { createProducer } from '../../lambdas/producer';
import type { Output } from '../../local/commands/shared';
import { consoleProgress, type Progress } from '../../local/workload/progress';
import { costCommand } from './cost/command';
import { type DeadLetter, peek } from './dead-letters';
import { OperationError } from './errors';
import { replayOutbox } from './outbox-replay';
import {
  type DeadLetterQueue,
  deadLetterQueues,
  describeQueue,
  findQueue,
  listQueues,
  type QueueInfo,
} from './queues';
import { type MessageFilter, type RedriveSummary, redriveMessages, redriveWithMoveTask } from './redrive';
import { resolveTarget, type Target, type TargetOptions } from './target';

export interface OperationContext {
  readonly output: Output;
  /** @default - a progress bar on a terminal, periodic lines otherwise */
  readonly progress?: Progress;
  /** @default - aborted by SIGINT/SIGTERM */
  readonly signal?: AbortSignal;
}

interface CommonOptions extends TargetOptions {
  readonly prefix?: string;
}

export function parseFilter(text: string | undefined): MessageFilter | undefined {
  if (text === undefined) return undefined;
  const match = /^type=(.+)$/.exec(text);
  if (!match)
    throw new OperationError(
      `--filter "${text}" is not understood; use --filter type=<message type>, e.g. type=OrderCreated.`,
    );
  return { type: match[1]! };
}

function age(from: Date | undefined, now = Date.now()): string {
  if (!from) return '-';
  const seconds = Math.max(0, Math.round((now - from.getTime()) / 1000));
  if (seconds < 120) return `${seconds}s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)}m`;
  if (seconds < 172_800) return `${Math.round(seconds / 3600)}h`;
  return `${Math.round(seconds / 86_400)}d`;
}

function table(rows: readonly string[][]): string[] {
  const widths = rows[0]?.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length))) ?? [];
  return rows.map((r) =>
    r
      .map((cell, c) => cell.padEnd(widths[c] ?? 0))
      .join('  ')
      .trimEnd(),
  );
}

async function withTarget<T>(options: TargetOptions, run: (target: Target) => Promise<T>): Promise<T> {
  const target = resolveTarget(options);
  try {
    return await run(target);
  } finally {
    target.destroy();
  }
}

async function findDeadLetterQueue(
  target: Target,
  wanted: string,
  prefix?: string,
): Promise<DeadLetterQueue> {
  const found = deadLetterQueues(await listQueues(target.sqs, prefix));
  return findQueue(found, wanted, 'dead-letter queue');
}

/** `dlq list`: every DLQ with its depth, the age of its oldest message, and its sources. */
export async function dlqList(
  options: CommonOptions & { peekLimit?: number },
  ctx: OperationContext,
): Promise<number> {
  return withTarget(options, async (target) => {
    const dlqs = deadLetterQueues(await listQueues(target.sqs, options.prefix));
    if (dlqs.length === 0) {
      ctx.output.out(`No dead-letter queues on ${target.description}.`);
      return 0;
    }
    const limit = options.peekLimit ?? 100;
    const rows = [['QUEUE', 'KIND', 'MESSAGES', 'IN FLIGHT', 'OLDEST', 'SOURCE']];
    for (const dlq of dlqs) {
      // SQS has no "oldest message" attribute (CloudWatch has, but not locally): peek at the messages.
      const letters = dlq.queue.depth > 0 ? await peek(target.sqs, dlq, limit) : [];
      const oldest = letters.reduce<Date | undefined>(
        (min, l) => (l.sentAt && (!min || l.sentAt < min) ? l.sentAt : min),
        undefined,
      );
      rows.push([
        dlq.queue.name,
        {
          'dead-letter-queue': 'DLQ',
          'outbox-failure-queue': 'outbox failures',
          'scheduler-dead-letter-queue': 'scheduled deliveries',
        }[dlq.kind],
        String(dlq.queue.depth),
        String(dlq.queue.inFlight),
        `${age(oldest)}${dlq.queue.depth > limit ? ` (of ${limit} peeked)` : ''}`,
        dlq.sources.map((s) => s.name).join(', ') || '-',
      ]);
    }
    for (const line of table(rows)) ctx.output.out(line);
    const total = dlqs.reduce((n, d) => n + d.queue.depth, 0);
    ctx.output.out(`\n${dlqs.length} dead-letter queue(s), ${total} message(s), on ${target.description}.`);
    return 0;
  });
}

function formatLetter(letter: DeadLetter): string[] {
  return [
    `${letter.messageId}  ${letter.type}`,
    `  received ${letter.receiveCount}x, sent ${letter.sentAt?.toISOString() ?? '?'} (${age(letter.sentAt)} ago)` +
      (letter.groupId ? `, group ${letter.groupId}` : '') +
      (letter.deduplicationId ? `, dedup ${letter.deduplicationId}` : ''),
    `  reason: ${letter.reason}`,
  ];
}

/** `dlq show <queue>`: messages with type, id, failure reason and receive count, not consumed. */
export async function dlqShow(
  queue: string,
  options: CommonOptions & { limit?: number; json?: boolean; filter?: string },
  ctx: OperationContext,
): Promise<number> {
  const filter = parseFilter(options.filter);
  return withTarget(options, async (target) => {
    const dlq = await findDeadLetterQueue(target, queue, options.prefix);
    const letters = (await peek(target.sqs, dlq, options.limit ?? 20)).filter(
      (l) => !filter?.type || l.type === filter.type || l.containedTypes.includes(filter.type),
    );
    if (options.json) {
      const plain = letters.map(({ raw, receiptHandle: _handle, ...rest }) => ({ ...rest, body: raw.Body }));
      ctx.output.out(JSON.stringify(plain, null, 2));
      return 0;
    }
    for (const letter of letters) for (const line of formatLetter(letter)) ctx.output.out(line);
    ctx.output.out(
      `\n${letters.length} message(s) shown of ${dlq.queue.depth} in ${dlq.queue.name}; none consumed (each one's receive count went up by 1).`,
    );
    return 0;
  });
}

function interruptSignal(ctx: OperationContext): { signal: AbortSignal; dispose(): void } {
  if (ctx.signal) return { signal: ctx.signal, dispose: () => undefined };
  const controller = new AbortController();
  const onSignal = () => {
    if (controller.signal.aborted) process.exit(130);
    ctx.output.err(
      '\nStopping after the message in hand (Ctrl-C again to exit at once; nothing is lost either way) ...',
    );
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: controller.signal,
    dispose: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

function progressOf(ctx: OperationContext): Progress {
  return ctx.progress ?? consoleProgress({ tty: Boolean(process.stderr.isTTY), write: ctx.output.err });
}

function summarize(summary: RedriveSummary, dlq: QueueInfo, destination: QueueInfo, output: Output): number {
  output.out(
    `${summary.interrupted ? 'Stopped' : 'Done'} (${summary.method}): moved ${summary.moved} message(s) from ${dlq.name} to ${destination.name}` +
      (summary.skipped
        ? `, left ${summary.skipped} (filter, or behind a kept message of their FIFO group)`
        : '') +
      (summary.heldBack
        ? `, kept ${summary.heldBack} that the destination may still deduplicate (sent less than 5 minutes ago; ` +
          `run again after ${summary.retryAfter?.toISOString() ?? 'the window'})`
        : '') +
      '.',
  );
  if (summary.duplicated) {
    output.err(
      `${summary.duplicated} message(s) were delivered but could not be deleted from the DLQ: they are in both queues (consumers deduplicate them).`,
    );
  }
  for (const f of summary.failed) output.err(`  not moved: ${f.messageId}: ${f.reason}`);
  if (summary.interrupted) output.out('Run the same command again to move the rest.');
  return summary.interrupted ? 130 : summary.failed.length > 0 ? 1 : 0;
}

/** `dlq redrive <queue>`: moves messages back to their source queue. */
export async function dlqRedrive(
  queue: string,
  options: CommonOptions & { to?: string; filter?: string; manual?: boolean; rate?: number },
  ctx: OperationContext,
): Promise<number> {
  const filter = parseFilter(options.filter);
  return withTarget(options, async (target) => {
    const queues = await listQueues(target.sqs, options.prefix);
    const dlq = findQueue(deadLetterQueues(queues), queue, 'dead-letter queue');
    const destination = options.to ? findQueue(queues, options.to, 'queue') : soleSource(dlq);
    if (destination.fifo !== dlq.queue.fifo) {
      throw new OperationError(
        `${dlq.queue.name} is ${dlq.queue.fifo ? 'FIFO' : 'standard'} but ${destination.name} is not: group and deduplication ids cannot carry over. Choose a queue of the same type with --to.`,
      );
    }
    const interrupt = interruptSignal(ctx);
    try {
      // SQS's own move task where it applies: standard queues, every message (FIFO goes message by
      // message so that letters the destination may still deduplicate stay in the DLQ).
      const moveTask = target.moveTasks && !filter && !dlq.queue.fifo && !options.manual;
      const summary = moveTask
        ? await redriveWithMoveTask({
            sqs: target.sqs,
            dlq,
            destination,
            signal: interrupt.signal,
            progress: progressOf(ctx),
            maxPerSecond: options.rate,
          })
        : await redriveMessages({
            sqs: target.sqs,
            dlq,
            destination,
            filter,
            signal: interrupt.signal,
            progress: progressOf(ctx),
          });
      const after = await describeQueue(target.sqs, dlq.queue.url);
      const code = summarize(summary, dlq.queue, destination, ctx.output);
      ctx.output.out(`${after.name} now holds about ${after.depth} message(s).`);
      return code;
    } finally {
      interrupt.dispose();
    }
  });
}

function soleSource(dlq: DeadLetterQueue): QueueInfo {
  if (dlq.sources.length === 1) return dlq.sources[0]!;
  if (dlq.sources.length === 0) {
    throw new OperationError(
      `${dlq.queue.name} is not the redrive target of any queue, so there is no source to move back to. ` +
        (dlq.kind === 'outbox-failure-queue'
          ? 'It is an outbox failure queue: use "switchyard outbox replay".'
          : dlq.kind === 'scheduler-dead-letter-queue'
            ? "It holds EventBridge Scheduler's failed deliveries: each body is the SendMessage or Publish request; fix the cause (ERROR_CODE, ERROR_MESSAGE) and resend that request."
            : 'Name the destination with --to <queue>.'),
    );
  }
  throw new OperationError(
    `${dlq.queue.name} is the DLQ of ${dlq.sources.map((s) => s.name).join(' and ')}; choose one with --to <queue>.`,
  );
}

/** `outbox replay [queue]`: republishes parked outbox records, in order per aggregate. */
export async function outboxReplay(
  queue: string | undefined,
  options: CommonOptions & { filter?: string },
  ctx: OperationContext,
): Promise<number> {
  const filter = parseFilter(options.filter);
  return withTarget(options, async (target) => {
    const failureQueues = deadLetterQueues(await listQueues(target.sqs, options.prefix)).filter(
      (d) => d.kind === 'outbox-failure-queue',
    );
    let chosen: DeadLetterQueue;
    if (queue) chosen = findQueue(failureQueues, queue, 'outbox failure queue');
    else if (failureQueues.length === 1) chosen = failureQueues[0]!;
    else {
      throw new OperationError(
        failureQueues.length === 0
          ? `No outbox failure queue on ${target.description} (they carry the tag switchyard:role=outbox-failure-queue).`
          : `Several outbox failure queues: ${failureQueues.map((q) => q.queue.name).join(', ')}. Name one.`,
      );
    }
    const interrupt = interruptSignal(ctx);
    try {
      const summary = await replayOutbox({
        sqs: target.sqs,
        producer: createProducer({ sns: target.sns, sqs: target.sqs }),
        failureQueueUrl: chosen.queue.url,
        filter,
        signal: interrupt.signal,
        progress: progressOf(ctx),
      });
      ctx.output.out(
        `${summary.interrupted ? 'Stopped' : 'Done'}: replayed ${summary.replayedRecords} of ${summary.records} record(s) ` +
          `(${summary.republishedMessages} message(s)) from ${chosen.queue.name}` +
          (summary.skipped ? `, ${summary.skipped} left by the filter` : '') +
          (summary.duplicateCopies
            ? `, ${summary.duplicateCopies} duplicate cop(ies) of a parked record deleted`
            : '') +
          (summary.kept.length ? `, ${summary.kept.length} kept` : '') +
          '.',
      );
      for (const k of summary.kept) ctx.output.err(`  kept ${k.record}: ${k.reason}`);
      if (summary.interrupted) ctx.output.out('Run the same command again to replay the rest.');
      return summary.interrupted ? 130 : summary.kept.length > 0 ? 1 : 0;
    } finally {
      interrupt.dispose();
    }
  });
}

function withTargetOptions(command: Command): Command {
  return command
    .option('--local', 'act on the running "switchyard local --keep" of the app in --app-dir')
    .option('--endpoint <url>', 'act on this AWS-compatible endpoint (e.g. LocalStack)')
    .option('--region <region>', 'AWS region (default: from the AWS configuration)')
    .option('--app-dir <dir>', 'directory of the app whose local cloud --local uses', process.cwd())
    .option('--prefix <name>', 'only queues whose name starts with this (e.g. your stack name)');
}

/** Adds `dlq` and `outbox` to the CLI; `done(code)` receives each command's exit code. */
export function registerOperationCommands(
  program: Command,
  output: Output,
  done: (code: number) => void,
): void {
  const ctx: OperationContext = { output };
  const positive = (value: string) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) throw new OperationError(`"${value}" is not a positive whole number.`);
    return n;
  };
  const dlq = program.command('dlq').description('inspect and redrive dead-letter queues');
  withTargetOptions(
    dlq.command('list').description('each DLQ with its depth, oldest message age and source'),
  ).action(async (options) => done(await dlqList(options, ctx)));
  withTargetOptions(
    dlq
      .command('show')
      .description('print messages (type, id, reason, receive count) without consuming them')
      .argument('<queue>', 'DLQ name, part of it, URL or ARN')
      .option('--limit <n>', 'most messages to show (default 20)', positive)
      .option('--filter <type=...>', 'only messages of this type')
      .option('--json', 'print JSON, bodies included'),
  ).action(async (queue: string, options) => done(await dlqShow(queue, options, ctx)));
  withTargetOptions(
    dlq
      .command('redrive')
      .description(
        'move messages back to their source queue, in order, keeping FIFO group and deduplication ids',
      )
      .argument('<queue>', 'DLQ name, part of it, URL or ARN')
      .option('--to <queue>', 'destination (default: the queue whose redrive policy names the DLQ)')
      .option('--filter <type=...>', 'only messages of this type')
      .option('--manual', "receive-send-delete even where SQS's message move task would apply")
      .option('--rate <n>', 'move task: most messages per second', positive),
  ).action(async (queue: string, options) => done(await dlqRedrive(queue, options, ctx)));
  const amount = (value: string) => {
    const n = Number(value); // accepts 1e6
    if (!Number.isFinite(n) || n <= 0) throw new OperationError(`"${value}" is not a positive number.`);
    return n;
  };
  program
    .command('cost')
    .description(
      'monthly cost per channel, consumer and outbox of the synthesized app, beside the Powertools way',
    )
    .option('--messages <n>', 'messages per month through each part (default 1e6)', amount)
    .option('--payload-bytes <n>', 'payload size (default 1024)', amount)
    .option('--ms-per-message <n>', 'handler time per message (default 10)', amount)
    .option('--ms-per-invocation <n>', 'fixed time per invocation (default 20)', amount)
    .option('--app-dir <dir>', 'directory with cdk.json', process.cwd())
    .option('--assembly <dir>', 'use this synthesized cloud assembly (cdk.out)')
    .action(async (options) => done(await costCommand(options, output)));
  const outbox = program.command('outbox').description('operate transactional outboxes');
  withTargetOptions(
    outbox
      .command('replay')
      .description("republish records parked on an outbox relay's failure queue, in order per aggregate")
      .argument('[queue]', 'failure queue (default: the only one)')
      .option('--filter <type=...>', 'only records holding a message of this type'),
  ).action(async (queue: string | undefined, options) => done(await outboxReplay(queue, options, ctx)));
}
