/**
 * Bounded, jittered retry of one SDK request, for the single-send paths (Publish, SendMessage). The
 * SDK's own retry strategy runs first, inside `call`; this layer adds the errors Switchyard classifies
 * as retryable and the SDK does not retry: KMS throttles relayed by SNS and SQS are HTTP 400 and
 * missing from the SDK's throttling codes, so without this a short KMS throttle fails the record.
 */
import { isRetryableError } from '../core/error-classification';
import { backoffDelayMs, sleep } from './backoff';
import type { RetryOptions } from './batch';

/**
 * Calls `call` up to `retry.maxAttempts` times while it throws a retryable error, sleeping a
 * full-jitter backoff between calls (same schedule as the batch path); rethrows the last error.
 */
export async function withRetries<T>(call: () => Promise<T>, retry: RetryOptions): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await call();
    } catch (error) {
      if (attempt >= retry.maxAttempts || !isRetryableError(error)) throw error;
      await sleep(backoffDelayMs(attempt, { baseDelayMs: retry.baseDelayMs }));
    }
  }
}
