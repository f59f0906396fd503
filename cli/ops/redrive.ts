/**
 * Moves dead letters back to the queue they failed on. Two ways:
 *
 * - SQS's message move task (StartMessageMoveTask) on AWS, for standard queues without a filter:
 *   SQS moves the messages itself; stopping the command cancels the task, and what was moved stays moved.
 * - receive -> send -> delete, one message at a time, everywhere else (the local emulator has no
 *   move task; a filter needs to look at each message; FIFO needs the checks below). A message is
 *   deleted from the DLQ only after the destination accepted it, so an interruption at any point
 *   leaves each message in the DLQ, in the queue, or (between send and delete) in both: a duplicate
 *   that consumers' duplicate detection absorbs, never a loss.
 *
 * FIFO: each message keeps its MessageGroupId and MessageDeduplicationId, and messages are sent in
 * the order the DLQ hands them out. A message that is skipped (filter), refused or possibly still
 * inside the destination's 5-minute deduplication window stays in the DLQ, and so does the rest of
 * its group, so a group never overtakes itself. Inside that window SQS accepts a send with a known
 * deduplication id and silently drops it, and what it answers is not documented to differ from a
 * real send; so a letter is only moved once its SentTimestamp (its first send, or the time it was
 * moved to the DLQ: never earlier than the send the destination remembers) is older than the window
 * plus a margin for clock skew.
 */
import {
  CancelMessageMoveTaskCommand,
  DeleteMessageCommand,
  ListMessageMoveTasksCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
  StartMessageMoveTaskCommand,
} from '@aws-sdk/client-sqs';
import { sendableAttributes } from '../../local/sqs/message-attributes';
import type { Progress } from '../../local/workload/progress';
import { type DeadLetter, describe, release, typesOf } from './dead-letters';
import type { DeadLetterQueue, QueueInfo } from './queues';

export interface MessageFilter {
  /** Only messages of this type (for outbox records: containing one of this type). */
  readonly type?: string;
}

export interface RedriveOptions {
  readonly sqs: SQSClient;
  readonly dlq: DeadLetterQueue;
  readonly destination: QueueInfo;
  readonly filter?: MessageFilter;
  /** Stops the redrive after the message in hand. */
  readonly signal?: AbortSignal;
  readonly progress?: Progress;
  /** How long skipped messages stay hidden while the redrive runs. @default 300 */
  readonly holdSeconds?: number;
  /** Called after each message is moved (tests interrupt here). */
  readonly onMoved?: (moved: number) => void;
  /** The clock the deduplication window is judged by (tests move it forward). @default Date.now */
  readonly now?: () => number;
}

/** SQS FIFO deduplication interval, plus a margin for the skew between our clock and SQS's. */
export const FIFO_DEDUPLICATION_WINDOW_MS = 5 * 60_000;
const CLOCK_SKEW_MARGIN_MS = 30_000;

export interface RedriveSummary {
  readonly method: 'receive-send-delete' | 'message-move-task';
  readonly moved: number;
  /** Did not match the filter, or came after such a message in its FIFO group. */
  readonly skipped: number;
  /** FIFO messages the destination may still deduplicate (sent less than 5 minutes ago): kept in the DLQ. */
  readonly heldBack: number;
  /** When every held-back message is past the deduplication window: run the redrive again then. */
  readonly retryAfter?: Date;
  /** Sent, but the delete from the DLQ failed: the message is now in both queues. */
  readonly duplicated: number;
  readonly failed: readonly { readonly messageId: string; readonly reason: string }[];
  readonly interrupted: boolean;
}

export async function redriveMessages(options: RedriveOptions): Promise<RedriveSummary> {
  const { sqs, dlq, destination, filter } = options;
  const fifo = dlq.queue.fifo;
  const held: Message[] = [];
  const seen = new Set<string>();
  const blockedGroups = new Set<string>();
  const failed: { messageId: string; reason: string }[] = [];
  let moved = 0;
  let skipped = 0;
  let heldBack = 0;
  let duplicated = 0;
  let emptyReceives = 0;
  let retryAfter: number | undefined;
  const now = options.now ?? Date.now;
  const total = dlq.queue.depth;
  options.progress?.start(total, `redrive ${dlq.queue.name} -> ${destination.name}`);

  const hold = (message: Message, letter: DeadLetter) => {
    held.push(message);
    if (fifo && letter.groupId) blockedGroups.add(letter.groupId);
  };

  try {
    receiving: while (!options.signal?.aborted && emptyReceives < 2) {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: dlq.queue.url,
          MaxNumberOfMessages: 10,
          VisibilityTimeout: options.holdSeconds ?? 300,
          WaitTimeSeconds: 1,
          MessageSystemAttributeNames: ['All'],
          MessageAttributeNames: ['All'],
        }),
      );
      const fresh = Messages.filter((m) => !seen.has(m.MessageId ?? ''));
      // Messages seen before came back after their hold: keep holding them, do not count them twice.
      held.push(...Messages.filter((m) => seen.has(m.MessageId ?? '')));
      emptyReceives = fresh.length === 0 ? emptyReceives + 1 : 0;
      for (let i = 0; i < fresh.length; i += 1) {
        const message = fresh[i]!;
        if (options.signal?.aborted) {
          held.push(...fresh.slice(i));
          break receiving;
        }
        seen.add(message.MessageId ?? '');
        const letter = describe(message, dlq);
        if (fifo && letter.groupId && blockedGroups.has(letter.groupId)) {
          skipped += 1;
          hold(message, letter);
          continue;
        }
        if (filter?.type && !typesOf(letter).includes(filter.type)) {
          skipped += 1;
          hold(message, letter);
          continue;
        }
        const safeFrom = destination.fifo ? deduplicationSafeFrom(letter) : undefined;
        if (safeFrom !== undefined && now() < safeFrom) {
          heldBack += 1;
          retryAfter = Math.max(retryAfter ?? 0, safeFrom);
          hold(message, letter);
          continue;
        }
        const outcome = await moveOne(sqs, dlq.queue.url, message, letter, destination);
        if (outcome === 'moved' || outcome === 'duplicated') {
          moved += 1;
          if (outcome === 'duplicated') duplicated += 1;
          options.onMoved?.(moved);
        } else if (outcome === 'deduplicated') {
          heldBack += 1;
          hold(message, letter);
        } else {
          failed.push({ messageId: letter.messageId, reason: outcome.error });
          hold(message, letter);
        }
        options.progress?.update(moved + skipped + heldBack + failed.length, `moved ${moved}`);
      }
    }
  } finally {
    await release(sqs, dlq.queue.url, held);
    options.progress?.stop();
  }
  return {
    method: 'receive-send-delete',
    moved,
    skipped,
    heldBack,
    ...(retryAfter !== undefined ? { retryAfter: new Date(retryAfter) } : {}),
    duplicated,
    failed,
    interrupted: Boolean(options.signal?.aborted),
  };
}

/**
 * The time after which a send with this letter's deduplication id is surely not dropped. A letter
 * without SentTimestamp is treated as sent now: held for one window rather than risked.
 */
function deduplicationSafeFrom(letter: DeadLetter): number | undefined {
  if (!letter.deduplicationId) return undefined;
  const sentAt = letter.sentAt?.getTime();
  return (
    (Number.isFinite(sentAt) ? sentAt! : Date.now()) + FIFO_DEDUPLICATION_WINDOW_MS + CLOCK_SKEW_MARGIN_MS
  );
}

type MoveOutcome = 'moved' | 'duplicated' | 'deduplicated' | { error: string };

async function moveOne(
  sqs: SQSClient,
  dlqUrl: string,
  message: Message,
  letter: DeadLetter,
  destination: QueueInfo,
): Promise<MoveOutcome> {
  let sentId: string | undefined;
  try {
    const sent = await sqs.send(
      new SendMessageCommand({
        QueueUrl: destination.url,
        MessageBody: message.Body ?? '',
        MessageAttributes: sendableAttributes(message.MessageAttributes),
        MessageGroupId: destination.fifo ? letter.groupId : undefined,
        MessageDeduplicationId: destination.fifo ? letter.deduplicationId : undefined,
      }),
    );
    sentId = sent.MessageId;
  } catch (error) {
    return { error: `${(error as Error).name}: ${(error as Error).message}` };
  }
  // A second guard behind the window check: SQS keeps a message's id when it moves to the DLQ, and
  // a FIFO queue seen answering a duplicate send with the id it already has dropped the copy.
  if (destination.fifo && sentId !== undefined && sentId === message.MessageId) return 'deduplicated';
  try {
    await sqs.send(
      new DeleteMessageCommand({ QueueUrl: dlqUrl, ReceiptHandle: message.ReceiptHandle ?? '' }),
    );
    return 'moved';
  } catch {
    return 'duplicated';
  }
}

export interface MoveTaskOptions {
  readonly sqs: SQSClient;
  readonly dlq: DeadLetterQueue;
  readonly destination: QueueInfo;
  readonly signal?: AbortSignal;
  readonly progress?: Progress;
  /** @default 2000 */
  readonly pollMs?: number;
  /** @default - SQS's own rate */
  readonly maxPerSecond?: number;
}

/** Runs SQS's message move task and follows it until it ends; cancels it when `signal` aborts. */
export async function redriveWithMoveTask(options: MoveTaskOptions): Promise<RedriveSummary> {
  const { sqs, dlq, destination } = options;
  const started = await sqs.send(
    new StartMessageMoveTaskCommand({
      SourceArn: dlq.queue.arn,
      // Explicit: a consumer's DLQ also holds SNS delivery failures, whose "original source" is a topic.
      DestinationArn: destination.arn,
      MaxNumberOfMessagesPerSecond: options.maxPerSecond,
    }),
  );
  const handle = started.TaskHandle!;
  options.progress?.start(dlq.queue.depth, `move task ${dlq.queue.name} -> ${destination.name}`);
  let cancelled = false;
  try {
    for (;;) {
      if (options.signal?.aborted && !cancelled) {
        cancelled = true;
        await sqs.send(new CancelMessageMoveTaskCommand({ TaskHandle: handle })).catch(() => undefined);
      }
      const { Results = [] } = await sqs.send(
        new ListMessageMoveTasksCommand({ SourceArn: dlq.queue.arn, MaxResults: 1 }),
      );
      const task = Results[0];
      const moved = Number(task?.ApproximateNumberOfMessagesMoved ?? 0);
      options.progress?.update(moved, task?.Status ?? '');
      // CANCELLING still moves the message in hand: the count is final once the task has stopped.
      if (task?.Status !== 'RUNNING' && task?.Status !== 'CANCELLING') {
        return {
          method: 'message-move-task',
          moved,
          skipped: 0,
          heldBack: 0,
          duplicated: 0,
          failed:
            task?.Status === 'FAILED' ? [{ messageId: '-', reason: task.FailureReason ?? 'FAILED' }] : [],
          interrupted: cancelled,
        };
      }
      await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 2000));
    }
  } finally {
    options.progress?.stop();
  }
}
