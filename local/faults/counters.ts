/**
 * Fault counters shared by the main thread and every function worker: one Int32 per name in a
 * SharedArrayBuffer, so a worker killed right after counting still counts (no message to lose).
 */
import { COUNTER_NAMES, type FaultKind, type Tally } from './kinds';

export class FaultCounters {
  private readonly cells: Int32Array;

  /** Wraps `buffer` (from another thread) or allocates a new one. */
  constructor(readonly buffer: SharedArrayBuffer = new SharedArrayBuffer(COUNTER_NAMES.length * 4)) {
    this.cells = new Int32Array(buffer);
  }

  add(name: FaultKind | Tally, amount = 1): void {
    Atomics.add(this.cells, COUNTER_NAMES.indexOf(name), amount);
  }

  get(name: FaultKind | Tally): number {
    return Atomics.load(this.cells, COUNTER_NAMES.indexOf(name));
  }

  /** Every counter by name. */
  snapshot(): Record<FaultKind | Tally, number> {
    return Object.fromEntries(COUNTER_NAMES.map((name) => [name, this.get(name)])) as Record<
      FaultKind | Tally,
      number
    >;
  }
}
