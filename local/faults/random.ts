/**
 * Seeded random streams (pure-rand's xoroshiro128+). Each worker and each mapping draws from its
 * own stream, seeded from the run's seed and the stream's name, so its sequence of decisions is the
 * same in every run with that seed; only thread scheduling interleaves the streams differently.
 */
import { xoroshiro128plus } from 'pure-rand';

/** FNV-1a of the text, folded with the seed: a stable 32-bit seed per named stream. */
export function streamSeed(seed: number, name: string): number {
  let hash = 0x811c9dc5 ^ seed;
  for (let i = 0; i < name.length; i += 1) {
    hash ^= name.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash | 0;
}

/** A function returning numbers in [0, 1), reproducible from (seed, name). */
export function randomStream(seed: number, name: string): () => number {
  const generator = xoroshiro128plus(streamSeed(seed, name));
  return () => (generator.unsafeNext() >>> 0) / 2 ** 32;
}
