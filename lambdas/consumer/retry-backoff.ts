/**
 * Retry with backoff per consumer: a message that failed becomes visible again after an
 * exponentially growing, jittered delay (ChangeMessageVisibility on its receipt handle) instead of
 * the queue's fixed visibility timeout. The redrive policy still moves it to the DLQ after
 * maxReceiveCount receives. On FIFO queues every failed message of a group gets the delay of the
 * group's first failure; SQS hands out nothing more of a group while its head is invisible, so the
 * group waits, in order.
 *
 * This module is the policy (options, delays) and needs no AWS client; the scheduler that talks to
 * SQS is in retry-scheduler.ts, which a consumer loads only when backoff is on.
 */

export interface RetryBackoffOptions {
  /** Delay scale of the first retry, in seconds. */
  readonly baseSeconds: number;
  /** Upper bound of any delay, in seconds (SQS allows up to 43,200). */
  readonly maxSeconds: number;
}

/** Set by the MessageConsumer construct (`retryBackoff`). */
export const RetryBackoffEnvironment = {
  BASE_SECONDS: 'SWITCHYARD_RETRY_BASE_SECONDS',
  MAX_SECONDS: 'SWITCHYARD_RETRY_MAX_SECONDS',
} as const;

/** SQS's ceiling for a visibility timeout. */
const MAX_VISIBILITY_SECONDS = 43_200;

export function retryBackoffFromEnvironment(
  env: NodeJS.ProcessEnv = process.env,
): RetryBackoffOptions | undefined {
  const base = Number(env[RetryBackoffEnvironment.BASE_SECONDS]);
  const max = Number(env[RetryBackoffEnvironment.MAX_SECONDS]);
  if (!(base > 0) || !(max >= base)) return undefined;
  return { baseSeconds: base, maxSeconds: Math.min(max, MAX_VISIBILITY_SECONDS) };
}

/**
 * Delay after the `receiveCount`-th failed receive: "equal jitter", a random value in
 * [cap/2, cap] with cap = min(max, base * 2^(receiveCount-1)), so delays keep growing while many
 * consumers' retries still spread out. Whole seconds, at least 1, as SQS takes them.
 */
export function retryDelaySeconds(
  receiveCount: number,
  options: RetryBackoffOptions,
  random: () => number = Math.random,
): number {
  const cap = Math.min(options.maxSeconds, options.baseSeconds * 2 ** Math.max(0, receiveCount - 1));
  return Math.max(1, Math.min(MAX_VISIBILITY_SECONDS, Math.round(cap / 2 + random() * (cap / 2))));
}
