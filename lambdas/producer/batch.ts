/**
 * Service-agnostic batch sending: chunks entries by the batch limits, sends each chunk, retries the
 * entries the service reports as failed (retryable ones only) with bounded backoff, and reports
 * the rest. The SNS and SQS adapters only translate requests and responses.
 */
import { BatchSendError } from '../core/errors';
import type { Message } from '../core/message';
import type { WireMessage } from '../core/wire';
import { backoffDelayMs, sleep } from './backoff';
import { chunkBySize } from './chunk';
import type { BatchResult, FailedEntry, SendResult } from './port';

export interface PreparedEntry {
  /** Position in the caller's list; its decimal form is the batch entry Id ([0-9], always valid). */
  readonly index: number;
  readonly message: Message;
  readonly wire: WireMessage;
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
  /** Requests per chunk, the first included. */
  readonly maxAttempts: number;
  readonly baseDelayMs: number;
}

/** Batch entry Id for the entry at `index`: SNS/SQS accept [A-Za-z0-9_-]{1,80}. */
export const entryId = (index: number): string => String(index);

/** Inverse of entryId; undefined for an Id this producer did not send. */
export function indexOfEntryId(id: string | undefined): number | undefined {
  if (id === undefined || !/^\d+$/.test(id)) return undefined;
  return Number(id);
}

export async function sendInBatches(
  entries: readonly PreparedEntry[],
  sendChunk: ChunkSender,
  retry: RetryOptions,
): Promise<BatchResult> {
  const successful: SendResult[] = [];
  const failed: FailedEntry[] = [];
  let requests = 0;
  // Chunks go one after another so a FIFO group keeps its order across requests.
  for (const chunk of chunkBySize(entries, (e) => e.wire.sizeBytes)) {
    let pending: readonly PreparedEntry[] = chunk;
    for (let attempt = 1; pending.length > 0; attempt++) {
      requests++;
      const outcome = await sendSafely(sendChunk, pending);
      const byIndex = new Map(pending.map((e) => [e.index, e]));
      for (const s of outcome.successful) {
        const entry = byIndex.get(s.index);
        if (!entry) continue;
        byIndex.delete(s.index);
        successful.push({
          id: entry.message.id,
          providerMessageId: s.providerMessageId,
          sequenceNumber: s.sequenceNumber,
        });
      }
      const failures = new Map(outcome.failed.map((f) => [f.index, f]));
      const retryable: PreparedEntry[] = [];
      for (const entry of byIndex.values()) {
        // An entry the response does not mention is treated as a retryable failure, never as sent.
        const f = failures.get(entry.index) ?? {
          index: entry.index,
          code: 'MissingFromResponse',
          message: 'The service response listed this entry neither as successful nor as failed.',
          senderFault: false,
        };
        if (!f.senderFault && attempt < retry.maxAttempts) retryable.push(entry);
        else
          failed.push({ id: entry.message.id, code: f.code, message: f.message, senderFault: f.senderFault });
      }
      pending = retryable;
      if (pending.length > 0) await sleep(backoffDelayMs(attempt, { baseDelayMs: retry.baseDelayMs }));
    }
  }
  return { successful, failed, requests };
}

/** A request that throws (after the SDK's own retries) fails all of its entries rather than the whole batch. */
async function sendSafely(sendChunk: ChunkSender, entries: readonly PreparedEntry[]): Promise<ChunkOutcome> {
  try {
    return await sendChunk(entries);
  } catch (error) {
    const e = error as { name?: string; message?: string; $fault?: string };
    return {
      successful: [],
      failed: entries.map((entry) => ({
        index: entry.index,
        code: e.name ?? 'Error',
        message: e.message ?? String(error),
        senderFault: e.$fault === 'client',
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
