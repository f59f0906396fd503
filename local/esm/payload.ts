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
