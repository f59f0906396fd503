/**
 * Republishes the messages parked on an outbox relay's failure queue, in order per aggregate. A
 * failure record is deleted only after every message in it was accepted, so stopping at any point
 * loses nothing: at worst a record's messages go out again (same message ids: FIFO deduplication
 * and consumers' duplicate detection absorb them). When a record of an aggregate cannot be replayed,
 * the later records of that aggregate stay parked too, so the aggregate's order holds.
 */
import {
  DeleteMessageCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { Headers, type MessageKind } from '../../lambdas/core/headers';
import type { Message as Envelope } from '../../lambdas/core/message';
import type { ParkedMessage } from '../../lambdas/outbox/failures';
import { channelRef, type MessageProducer } from '../../lambdas/producer/port';
import type { Progress } from '../../local/workload/progress';
import { release } from './dead-letters';
import type { MessageFilter } from './redrive';

interface FailureRecord {
  readonly message: Message;
  /** The relay's identity of the parked stream record: every copy parked for it carries the same one. */
  readonly parkId?: string;
  readonly messages: readonly ParkedMessage[];
  /** Why it cannot be replayed, when it cannot. */
  readonly unreplayable?: string;
}

export interface ReplayOptions {
  readonly sqs: SQSClient;
  readonly producer: MessageProducer;
  readonly failureQueueUrl: string;
  readonly filter?: MessageFilter;
  readonly signal?: AbortSignal;
  readonly progress?: Progress;
  /** Hold on records while the replay runs. @default 300 */
  readonly holdSeconds?: number;
  /** Called after each record is replayed and deleted (tests interrupt here). */
  readonly onReplayed?: (records: number) => void;
}

export interface ReplaySummary {
  readonly records: number;
  readonly replayedRecords: number;
  readonly republishedMessages: number;
  readonly skipped: number;
  /** Second copies of a record the relay parked twice (same parkId), deleted without republishing. */
  readonly duplicateCopies: number;
  /** Records kept because they cannot be replayed (reason per record) or an earlier one of their aggregate failed. */
  readonly kept: readonly { readonly record: string; readonly reason: string }[];
  readonly interrupted: boolean;
}

export async function replayOutbox(options: ReplayOptions): Promise<ReplaySummary> {
  const { sqs, failureQueueUrl } = options;
  const records = await receiveAll(sqs, failureQueueUrl, options.holdSeconds ?? 300, options.signal);
  const held: Message[] = [];
  const kept: { record: string; reason: string }[] = [];
  const blocked = new Set<string>();
  let replayedRecords = 0;
  let republishedMessages = 0;
  let skipped = 0;
  let duplicateCopies = 0;
  // The relay parks a stream record once, except when it dies between the failure-queue send and
  // its park marker update: then two copies with one parkId arrive here, and only one is replayed.
  const replayedParkIds = new Set<string>();
  // Order per aggregate: by aggregate, then by the first sequence number a record carries.
  const ordered = [...records].sort(
    (a, b) =>
      (a.messages[0]?.aggregateId ?? '').localeCompare(b.messages[0]?.aggregateId ?? '') ||
      (a.messages[0]?.sequence ?? 0) - (b.messages[0]?.sequence ?? 0),
  );
  options.progress?.start(ordered.length, 'outbox replay');
  try {
    for (let i = 0; i < ordered.length; i += 1) {
      const record = ordered[i]!;
      if (options.signal?.aborted) {
        held.push(...ordered.slice(i).map((r) => r.message));
        break;
      }
      const aggregates = [...new Set(record.messages.map((m) => m.aggregateId))];
      const id = record.message.MessageId ?? '?';
      if (record.parkId !== undefined && replayedParkIds.has(record.parkId)) {
        await sqs.send(
          new DeleteMessageCommand({
            QueueUrl: failureQueueUrl,
            ReceiptHandle: record.message.ReceiptHandle,
          }),
        );
        duplicateCopies += 1;
      } else if (options.filter?.type && !record.messages.some((m) => m.type === options.filter?.type)) {
        skipped += 1;
        held.push(record.message);
      } else if (record.unreplayable) {
        kept.push({ record: id, reason: record.unreplayable });
        for (const a of aggregates) blocked.add(a);
        held.push(record.message);
      } else if (aggregates.some((a) => blocked.has(a))) {
        kept.push({
          record: id,
          reason: 'an earlier record of the same aggregate was kept; replaying this one would reorder it',
        });
        held.push(record.message);
      } else {
        const error = await republish(options.producer, record.messages);
        if (error) {
          kept.push({ record: id, reason: error });
          for (const a of aggregates) blocked.add(a);
          held.push(record.message);
        } else {
          await sqs.send(
            new DeleteMessageCommand({
              QueueUrl: failureQueueUrl,
              ReceiptHandle: record.message.ReceiptHandle,
            }),
          );
          replayedRecords += 1;
          republishedMessages += record.messages.length;
          if (record.parkId !== undefined) replayedParkIds.add(record.parkId);
          options.onReplayed?.(replayedRecords);
        }
      }
      options.progress?.update(i + 1, `replayed ${replayedRecords}`);
    }
  } finally {
    await release(sqs, failureQueueUrl, held);
    options.progress?.stop();
  }
  return {
    records: records.length,
    replayedRecords,
    republishedMessages,
    skipped,
    duplicateCopies,
    kept,
    interrupted: Boolean(options.signal?.aborted),
  };
}

/** Sends a record's messages in sequence order, one destination run at a time; returns an error text or undefined. */
async function republish(
  producer: MessageProducer,
  messages: readonly ParkedMessage[],
): Promise<string | undefined> {
  const sorted = [...messages].sort((a, b) => a.sequence - b.sequence);
  let i = 0;
  while (i < sorted.length) {
    const destination = sorted[i]!.destination;
    const run: ParkedMessage[] = [];
    while (i < sorted.length && sorted[i]!.destination === destination) run.push(sorted[i++]!);
    let result: Awaited<ReturnType<MessageProducer['dispatch']>>;
    try {
      result = await producer.dispatch(channelRef(destination), run.map(toEnvelope));
    } catch (error) {
      return `${(error as Error).name}: ${(error as Error).message}`;
    }
    const failure = result.failed[0];
    if (failure) return `${failure.code}: ${failure.message}`;
  }
  return undefined;
}

function toEnvelope(parked: ParkedMessage): Envelope {
  return {
    id: parked.id,
    type: parked.type,
    kind: (parked.headers[Headers.KIND] ?? 'event') as MessageKind,
    headers: parked.headers,
    payload: parked.payload,
  };
}

async function receiveAll(
  sqs: SQSClient,
  queueUrl: string,
  holdSeconds: number,
  signal: AbortSignal | undefined,
): Promise<FailureRecord[]> {
  const records = new Map<string, FailureRecord>();
  let empty = 0;
  while (empty < 2 && !signal?.aborted) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        VisibilityTimeout: holdSeconds,
        WaitTimeSeconds: 1,
        MessageSystemAttributeNames: ['All'],
      }),
    );
    empty = Messages.length === 0 ? empty + 1 : 0;
    for (const message of Messages) records.set(message.MessageId ?? '', parseRecord(message));
  }
  return [...records.values()];
}

function parseRecord(message: Message): FailureRecord {
  let body: {
    switchyard?: { messages?: ParkedMessage[]; parkId?: string };
    DDBStreamBatchInfo?: { shardId?: string };
  };
  try {
    body = JSON.parse(message.Body ?? '') as typeof body;
  } catch {
    return { message, messages: [], unreplayable: 'the body is not JSON: not an outbox failure record' };
  }
  const parked = body.switchyard?.messages ?? [];
  // Messages the relay had published before the record failed go out again only as duplicates,
  // after later messages of their aggregate: a replay leaves them out.
  const messages = parked.filter((m) => m.published !== true);
  if (parked.length === 0) {
    return {
      message,
      messages,
      unreplayable: body.DDBStreamBatchInfo
        ? "an event source mapping's own failure record (records too old or retries exhausted): it names stream sequence numbers, not messages. " +
          'Read them from the stream within its 24-hour retention, or republish from the table items.'
        : 'no switchyard.messages in the record: not written by the Switchyard relay or poller',
    };
  }
  // A record too large for the failure queue keeps its payloads in the outbox table; replaying a
  // null payload would lose it, so such a record stays parked and says where the message is.
  const stored = messages.find((m) => m.storedIn !== undefined);
  if (stored?.storedIn) {
    return {
      message,
      messages,
      unreplayable: `message ${stored.id} is stored in table ${stored.storedIn.table} under ${JSON.stringify(stored.storedIn.key)} (too large for the failure queue); republish it from that item`,
    };
  }
  const omitted = messages.find(
    (m) => typeof m.payload === 'object' && m.payload !== null && 'omitted' in (m.payload as object),
  );
  if (omitted) {
    return {
      message,
      messages,
      unreplayable: `message ${omitted.id} was too large to park with its payload; republish it from the outbox table item`,
    };
  }
  return { message, messages, parkId: body.switchyard?.parkId };
}
