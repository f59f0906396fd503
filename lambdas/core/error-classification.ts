/**
 * Sorts SDK errors into "try again later" and "retrying cannot help", with the SDK's own
 * service error classification (@smithy/core/retry, which @smithy/service-error-classification
 * only re-exports) rather than `$fault`: in SDK v3 a throttle
 * is `$fault: 'client'` (SNS ThrottledException, SQS RequestThrottled, DynamoDB
 * ProvisionedThroughputExceededException...), yet it is the one client fault that must be retried.
 */
import { isServerError, isThrottlingError, isTransientError } from '@smithy/core/retry';
import { wireErrorShape } from './wire-error-codes';

/**
 * KMS throttles relayed by SNS and SQS (publishing to an encrypted topic or queue). The SDK's list of
 * throttling codes lacks them because their HTTP status is 400, but they are throttles all the same.
 */
const KMS_THROTTLING_CODES: ReadonlySet<string> = new Set([
  'KMSThrottlingException',
  'KmsThrottled',
  'KMS.ThrottlingException',
]);

interface ErrorShape {
  name?: string;
  code?: string;
  message?: string;
  $retryable?: unknown;
  $metadata?: { httpStatusCode?: number };
}

/**
 * True when the same request may succeed later: throttling, transient (timeouts, connection
 * resets, 5xx without a body), server errors, errors the service model marks `$retryable`, KMS throttles.
 *
 * @example
 * isRetryableError(new ThrottledException({ $metadata: {}, message: 'Rate exceeded' })); // true
 */
export function isRetryableError(error: unknown): boolean {
  if (!error || typeof error !== 'object') return false;
  const shaped = error as ErrorShape & Error;
  return (
    KMS_THROTTLING_CODES.has(shaped.name ?? '') ||
    isThrottlingError(shaped as never) ||
    isTransientError(shaped as never) ||
    isServerError(shaped as never)
  );
}

/** True for a throttle (the SDK's throttling codes, HTTP 429, `$retryable.throttling`, KMS throttles). */
export function isThrottle(error: unknown): boolean {
  if (!error || typeof error !== 'object') return false;
  const shaped = error as ErrorShape & Error;
  return KMS_THROTTLING_CODES.has(shaped.name ?? '') || isThrottlingError(shaped as never);
}

/**
 * Classifies the error code of a failed batch entry (PublishBatch / SendMessageBatch answer with a
 * code and a SenderFault flag, not an exception): a throttle or transient code is retryable even
 * when the service flags it as the sender's fault. The code is a wire code (SNS `Throttled`, SQS
 * `KMS.ThrottlingException`): it is classified as the exception the SDK would throw for it.
 */
export function isRetryableEntryCode(code: string, senderFault: boolean): boolean {
  if (!senderFault) return true;
  const { name, httpStatusCode } = wireErrorShape(code);
  return (
    isRetryableError({ name: code, message: '', $metadata: {} }) ||
    isRetryableError({ name, message: '', $metadata: { httpStatusCode } })
  );
}
