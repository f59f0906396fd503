/** Bounded exponential backoff with full jitter, for retrying batch entries the service rejected. */

export interface BackoffOptions {
  /** Delay scale of the first retry in milliseconds. */
  readonly baseDelayMs: number;
  /** Upper bound of any single delay. @default 5000 */
  readonly maxDelayMs?: number;
}

/**
 * Delay before retry number `retry` (1 = first retry): a random value in [0, min(max, base * 2^(retry-1))].
 * Full jitter spreads the retries of many concurrent producers (AWS Architecture Blog, "Exponential
 * Backoff And Jitter").
 */
export function backoffDelayMs(
  retry: number,
  options: BackoffOptions,
  random: () => number = Math.random,
): number {
  const cap = Math.min(options.maxDelayMs ?? 5000, options.baseDelayMs * 2 ** Math.max(0, retry - 1));
  return Math.floor(random() * cap);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
