/** Batch chunking by the 10-entry and 256 KiB limits, and the retry backoff. */
import { backoffDelayMs } from '../lambdas/producer/backoff';
import { chunkBySize, MAX_BATCH_BYTES, MAX_BATCH_ENTRIES } from '../lambdas/producer/chunk';

const sizes = (chunks: number[][]) => chunks.map((c) => c.length);

describe('chunkBySize', () => {
  it('splits 25 small entries into 10 + 10 + 5, in order', () => {
    const items = Array.from({ length: 25 }, (_, i) => i);
    const chunks = chunkBySize(items, () => 100);
    expect(sizes(chunks)).toEqual([10, 10, 5]);
    expect(chunks.flat()).toEqual(items);
  });

  it('starts a new chunk when the next entry would pass 256 KiB', () => {
    const items = [100_000, 100_000, 100_000, 62_144, 200_000];
    const chunks = chunkBySize(items, (n) => n);
    expect(chunks).toEqual([[100_000, 100_000], [100_000, 62_144], [200_000]]);
    for (const chunk of chunks) expect(chunk.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(MAX_BATCH_BYTES);
  });

  it('fills a chunk to exactly 256 KiB', () => {
    expect(chunkBySize([131_072, 131_072, 1], (n) => n)).toEqual([[131_072, 131_072], [1]]);
  });

  it('puts one entry of the maximum size alone', () => {
    expect(chunkBySize([1, MAX_BATCH_BYTES, 1], (n) => n)).toEqual([[1], [MAX_BATCH_BYTES], [1]]);
  });

  it('applies both limits together', () => {
    const items = [...Array.from({ length: 12 }, () => 10), 262_140, ...Array.from({ length: 3 }, () => 10)];
    expect(sizes(chunkBySize(items, (n) => n))).toEqual([MAX_BATCH_ENTRIES, 2, 1, 3]);
  });

  it('returns no chunk for no entry', () => {
    expect(chunkBySize([], () => 1)).toEqual([]);
  });

  it('fails for an entry that can never fit', () => {
    expect(() => chunkBySize([MAX_BATCH_BYTES + 1], (n) => n)).toThrow(/262145 bytes can never fit/);
  });

  it('honours custom limits', () => {
    expect(sizes(chunkBySize([1, 1, 1, 1, 1], (n) => n, { maxEntries: 2 }))).toEqual([2, 2, 1]);
    expect(sizes(chunkBySize([3, 3, 3], (n) => n, { maxBytes: 6 }))).toEqual([2, 1]);
  });
});

describe('backoffDelayMs', () => {
  it('grows exponentially up to the cap, with full jitter', () => {
    const options = { baseDelayMs: 100, maxDelayMs: 1000 };
    expect([1, 2, 3, 4, 5].map((r) => backoffDelayMs(r, options, () => 0.999999))).toEqual([
      99, 199, 399, 799, 999,
    ]);
    expect(backoffDelayMs(3, options, () => 0)).toBe(0);
    for (let i = 0; i < 100; i++) {
      const delay = backoffDelayMs(10, options);
      expect(delay).toBeGreaterThanOrEqual(0);
      expect(delay).toBeLessThan(1000);
    }
  });
});
