/** Small statistics for benchmark samples. */

/** Summary of timing samples in milliseconds. */
export interface SampleSummary {
  readonly samples: number;
  readonly medianMs: number;
  readonly minMs: number;
  readonly maxMs: number;
}

/** Median of a non-empty list (mean of the two middle values for an even count). */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError('median() needs at least one value.');
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

export function summarize(valuesMs: readonly number[]): SampleSummary {
  return {
    samples: valuesMs.length,
    medianMs: round(median(valuesMs)),
    minMs: round(Math.min(...valuesMs)),
    maxMs: round(Math.max(...valuesMs)),
  };
}

/** Rounds to 3 decimals: microsecond resolution is all a millisecond figure needs. */
export function round(value: number, decimals = 3): number {
  const factor = 10 ** decimals;
  return Math.round(value * factor) / factor;
}
