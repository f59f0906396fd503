/** Latency percentiles for reports and benchmarks. */

export interface LatencySummary {
  readonly count: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
  readonly mean: number;
}

/**
 * Nearest-rank percentiles of `values` (milliseconds), rounded to 0.1.
 *
 * @example
 * summarize([5, 1, 3]).p50; // 3
 */
export function summarize(values: readonly number[]): LatencySummary {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number): number => {
    if (sorted.length === 0) return 0;
    const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
    return round(sorted[rank - 1]!);
  };
  const sum = sorted.reduce((a, b) => a + b, 0);
  return {
    count: sorted.length,
    p50: at(50),
    p95: at(95),
    p99: at(99),
    max: at(100),
    mean: sorted.length ? round(sum / sorted.length) : 0,
  };
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}
