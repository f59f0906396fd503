/**
 * Lambda's invoke payload limit for event source mappings: a batch stops before the event
 * `{"Records":[...]}`, every record with all its metadata, would pass 6 MB (the synchronous
 * invocation payload quota, https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html).
 * Both pollers count the serialized event exactly as the function receives it.
 */

/** 6 MB, as Lambda counts it (6 x 1024 x 1024 bytes). */
export const MAX_INVOKE_PAYLOAD_BYTES = 6 * 1024 * 1024;

/** `{"Records":[]}` */
const ENVELOPE_BYTES = Buffer.byteLength(JSON.stringify({ Records: [] }));

/** Bytes one record adds to the event (its JSON, plus the comma that separates it from the previous one). */
export function recordBytes(record: unknown, isFirst: boolean): number {
  return Buffer.byteLength(JSON.stringify(record)) + (isFirst ? 0 : 1);
}

/** Running size of one batch's event. */
export class PayloadBudget {
  private total = ENVELOPE_BYTES;

  constructor(private readonly limit = MAX_INVOKE_PAYLOAD_BYTES) {}

  /** Size of the event so far, in bytes. */
  get bytes(): number {
    return this.total;
  }

  /**
   * Whether `record` still fits. A batch's first record always does: one SQS message (1 MiB) or
   * stream record (400 KB item, twice with both images) is far below 6 MB.
   */
  fits(record: unknown, recordsSoFar: number): boolean {
    if (recordsSoFar === 0) return true;
    return this.total + recordBytes(record, false) <= this.limit;
  }

  add(record: unknown): void {
    this.total += recordBytes(record, this.total === ENVELOPE_BYTES);
  }
}

/**
 * Splits `items`, in order, into the longest prefix whose event fits under the limit (at least one
 * item) and the rest, which must wait for a later invocation.
 */
export function splitAtPayloadLimit<T>(
  items: readonly T[],
  recordOf: (item: T) => unknown,
  budget = new PayloadBudget(),
  alreadyInBatch = 0,
): { fitting: T[]; rest: T[] } {
  let count = 0;
  for (const item of items) {
    const record = recordOf(item);
    if (!budget.fits(record, alreadyInBatch + count)) break;
    budget.add(record);
    count += 1;
  }
  return { fitting: items.slice(0, count), rest: items.slice(count) };
}
