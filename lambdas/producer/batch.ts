/**
 * Service-agnostic batch sending: packs entries into requests by the batch limits, retries the
 * entries the service reports as failed (retryable ones only) with bounded backoff, and reports
 * the rest. The SNS and SQS adapters only translate requests and responses.
 *
 * FIFO channels: a request carries at most one entry per message group, and an entry is only sent
 * once every earlier entry of its group went through. A failed entry therefore holds back every
 * later entry of its group (in the same request nothing of its group rides along; later requests
 * wait for its retry); when it fails for good, those later entries are reported failed
 * (`HeldBack`), never sent ahead of it. Other groups proceed meanwhile.
 */

import { isRetryableEntryCode, isRetryableError } from '../core/error-classification';
import { BatchSendError } from '../core/errors';
import type { Message } from '../core/message';
import type { WireMessage } from '../core/wire';
import { backoffDelayMs, sleep } from './backoff';
import { MAX_BATCH_ENTRIES } from './chunk';
import type { BatchResult, FailedEntry, SendResult } from './port';

export interface PreparedEntry {
  /** Position in the caller's list; its decimal form is the batch entry Id ([0-9], always valid). */
  readonly index: number;
  readonly message: Message;
  readonly wire: WireMessage;
  /** MessageGroupId on FIFO channels; undefined on standard channels. */
  readonly groupId?: string;
}

export interface EntrySuccess {
  readonly index: number;
  readonly providerMessageId?: string;
  readonly sequenceNumber?: string;
}

export interface EntryFailure {
  readonly index: number;
  readonly code: string;
  readonly message: string;
  readonly senderFault: boolean;
}

export interface ChunkOutcome {
  readonly successful: readonly EntrySuccess[];
  readonly failed: readonly EntryFailure[];
}

/** Sends one chunk as one request (PublishBatch or SendMessageBatch). */
export type ChunkSender = (entries: readonly PreparedEntry[]) => Promise<ChunkOutcome>;

export interface RetryOptions {
  /** Requests per entry, the first included. */
  readonly maxAttempts: number;
  readonly baseDelayMs: number;
}

export interface BatchLimits {
  /** Sum of the entry sizes of one request: the channel's message size limit. */
  readonly maxBatchBytes: number;
  /** @default 10 */
  readonly maxEntries?: number;
}

/** Batch entry Id for the entry at `index`: SNS/SQS accept [A-Za-z0-9_-]{1,80}. */
export const entryId = (index: number): string => String(index);

/** Inverse of entryId; undefined for an Id this producer did not send. */
export function indexOfEntryId(id: string | undefined): number | undefined {
  if (id === undefined || !/^\d+$/.test(id)) return undefined;
  return Number(id);
}

interface PendingEntry {
  readonly entry: PreparedEntry;
  attempts: number;
}

/**
 * Sends every entry, retrying the retryable failures up to `retry.maxAttempts` requests each, and
 * returns what went through and what did not (in the caller's order).
 */
export async function sendInBatches(
  entries: readonly PreparedEntry[],
  sendChunk: ChunkSender,
  retry: RetryOptions,
  limits: BatchLimits,
): Promise<BatchResult> {
  const sent = new Map<number, SendResult>();
  const failed = new Map<number, FailedEntry>();
  let pending: PendingEntry[] = entries.map((entry) => ({ entry, attempts: 0 }));
  let requests = 0;
  while (pending.length > 0) {
    const request = nextRequest(pending, limits);
    requests++;
    const outcome = await sendSafely(
      sendChunk,
      request.map((p) => p.entry),
    );
    const successes = new Map(outcome.successful.map((s) => [s.index, s]));
    const failures = new Map(outcome.failed.map((f) => [f.index, f]));
    const failedGroups = new Map<string, string>();
    let retrying = 0;
    for (const p of request) {
      const { entry } = p;
      p.attempts++;
      const success = successes.get(entry.index);
      if (success) {
        sent.set(entry.index, {
          id: entry.message.id,
          providerMessageId: success.providerMessageId,
          sequenceNumber: success.sequenceNumber,
        });
        continue;
      }
      // An entry the response does not mention is treated as a retryable failure, never as sent.
      const f = failures.get(entry.index) ?? {
        index: entry.index,
        code: 'MissingFromResponse',
        message: 'The service response listed this entry neither as successful nor as failed.',
        senderFault: false,
      };
      const retryable = isRetryableEntryCode(f.code, f.senderFault);
      if (retryable && p.attempts < retry.maxAttempts) {
        retrying++;
        continue;
      }
      failed.set(entry.index, {
        id: entry.message.id,
        code: f.code,
        message: f.message,
        senderFault: !retryable,
      });
      if (entry.groupId !== undefined) failedGroups.set(entry.groupId, entry.message.id);
    }
    pending = pending.filter((p) => {
      const index = p.entry.index;
      if (sent.has(index) || failed.has(index)) return false;
      const blockedBy = p.entry.groupId === undefined ? undefined : failedGroups.get(p.entry.groupId);
      if (blockedBy === undefined) return true;
      failed.set(index, {
        id: p.entry.message.id,
        code: 'HeldBack',
        message:
          `Not sent: message ${blockedBy} of the same FIFO group ${p.entry.groupId} failed before it, ` +
          'and sending this one would overtake it. Send both again in order.',
        senderFault: false,
      });
      return false;
    });
    if (retrying > 0) {
      const attempt = Math.max(...request.map((p) => p.attempts));
      await sleep(backoffDelayMs(attempt, { baseDelayMs: retry.baseDelayMs }));
    }
  }
  const inOrder = <T>(map: Map<number, T>): T[] =>
    [...map.entries()].sort((a, b) => a[0] - b[0]).map(([, v]) => v);
  return { successful: inOrder(sent), failed: inOrder(failed), requests };
}

/**
 * The next request: entries in the caller's order, at most `maxEntries` and `maxBatchBytes`; on FIFO
 * channels only the first pending entry of each group (its earlier entries all went through).
 */
function nextRequest(pending: readonly PendingEntry[], limits: BatchLimits): PendingEntry[] {
  const maxEntries = limits.maxEntries ?? MAX_BATCH_ENTRIES;
  const request: PendingEntry[] = [];
  const seenGroups = new Set<string>();
  let bytes = 0;
  for (const p of pending) {
    if (request.length >= maxEntries) break;
    const group = p.entry.groupId;
    if (group !== undefined) {
      if (seenGroups.has(group)) continue;
      seenGroups.add(group);
    }
    const size = p.entry.wire.sizeBytes;
    if (request.length > 0 && bytes + size > limits.maxBatchBytes) continue;
    request.push(p);
    bytes += size;
  }
  return request;
}

/** A request that throws (after the SDK's own retries) fails all of its entries rather than the whole batch. */
async function sendSafely(sendChunk: ChunkSender, entries: readonly PreparedEntry[]): Promise<ChunkOutcome> {
  try {
    return await sendChunk(entries);
  } catch (error) {
    const e = error as { name?: string; message?: string };
    return {
      successful: [],
      failed: entries.map((entry) => ({
        index: entry.index,
        code: e.name ?? 'Error',
        message: e.message ?? String(error),
        // Thrown after the SDK's own retries: a throttle or transient error may still pass later.
        senderFault: !isRetryableError(error),
      })),
    };
  }
}

/**
 * Throws BatchSendError when any entry of a batch still failed, listing them.
 *
 * @example
 * assertAllSent(await producer.publishBatch(topicArn, events));
 */
export function assertAllSent(result: BatchResult): void {
  if (result.failed.length === 0) return;
  const summary = result.failed
    .slice(0, 5)
    .map((f) => `${f.id}: ${f.code} (${f.message})`)
    .join('; ');
  const more = result.failed.length > 5 ? ` and ${result.failed.length - 5} more` : '';
  throw new BatchSendError(
    `${result.failed.length} of ${result.failed.length + result.successful.length} messages were not sent: ` +
      `${summary}${more}. Entries with senderFault=true need a fix in the request; others may be sent again.`,
    result.failed,
  );
}
