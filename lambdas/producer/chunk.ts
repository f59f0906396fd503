/**
 * Splits batch entries into requests that respect both SNS/SQS batch limits: at most 10 entries and
 * at most 256 KiB for all entries of one request together.
 */
import { MAX_MESSAGE_BYTES } from '../core/headers';

/** PublishBatch and SendMessageBatch both take at most 10 entries per request. */
export const MAX_BATCH_ENTRIES = 10;

/** PublishBatch and SendMessageBatch both cap the sum of all entries of one request at 256 KiB. */
export const MAX_BATCH_BYTES = MAX_MESSAGE_BYTES;

export interface ChunkLimits {
  /** @default MAX_BATCH_ENTRIES (10) */
  readonly maxEntries?: number;
  /** @default MAX_BATCH_BYTES (262,144) */
  readonly maxBytes?: number;
}

/**
 * Greedy, order-preserving chunking: an entry joins the current chunk unless that would break the
 * entry or byte limit. Order is kept so FIFO groups stay in send order across requests.
 *
 * @example
 * chunkBySize(wires, (w) => w.sizeBytes); // [[w0..w9], [w10..w19], ...]
 */
export function chunkBySize<T>(
  items: readonly T[],
  sizeOf: (item: T) => number,
  limits: ChunkLimits = {},
): T[][] {
  const maxEntries = limits.maxEntries ?? MAX_BATCH_ENTRIES;
  const maxBytes = limits.maxBytes ?? MAX_BATCH_BYTES;
  const chunks: T[][] = [];
  let current: T[] = [];
  let currentBytes = 0;
  for (const item of items) {
    const size = sizeOf(item);
    if (size > maxBytes) {
      // toWire() rejects such messages earlier; this guards direct callers.
      throw new RangeError(
        `A batch entry of ${size} bytes can never fit a request of at most ${maxBytes} bytes.`,
      );
    }
    if (current.length > 0 && (current.length >= maxEntries || currentBytes + size > maxBytes)) {
      chunks.push(current);
      current = [];
      currentBytes = 0;
    }
    current.push(item);
    currentBytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}
