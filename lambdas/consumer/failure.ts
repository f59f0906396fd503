/** Why a record failed: the machine-readable reasons written to the log line of every failed record. */

export const FailureReasons = {
  /** The payload is not valid JSON. */
  INVALID_JSON: 'invalid-json',
  /** No `message-type` header, and the consumer has no fallback handler. */
  MISSING_TYPE: 'missing-type',
  /** A type this consumer has no handler for (its filter policy should have kept it out). */
  UNHANDLED_TYPE: 'unhandled-type',
  /** The payload does not match the schema of its type. */
  INVALID_PAYLOAD: 'invalid-payload',
  /** The claim-check payload is no longer in S3 (expired or deleted). */
  CLAIM_MISSING: 'claim-missing',
  /** The claim-check payload in S3 does not match the size and SHA-256 the message carries. */
  CLAIM_MISMATCH: 'claim-mismatch',
  /** S3 failed to return the claim-check payload (after the S3 client's retries); retried by SQS. */
  CLAIM_UNAVAILABLE: 'claim-unavailable',
  /** The handler threw. */
  HANDLER_ERROR: 'handler-error',
  /** FIFO: an earlier record of the same message group failed in this batch, so this one was not processed. */
  EARLIER_IN_GROUP_FAILED: 'earlier-in-group-failed',
} as const;

export type FailureReason = (typeof FailureReasons)[keyof typeof FailureReasons];

/** A record that cannot be handled, with its reason. Thrown inside the consumer, never to Lambda. */
export class RecordFailure extends Error {
  constructor(
    readonly reason: FailureReason,
    message: string,
    readonly cause?: unknown,
  ) {
    super(message);
    this.name = 'RecordFailure';
  }
}
