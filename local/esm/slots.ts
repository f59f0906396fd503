/**
 * A counting semaphore whose limit can change while in use: bounds how many batches of one
 * mapping are in flight, and lets the mapping back its concurrency off after function errors.
 */
export class Slots {
  private used = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private limit: number) {}

  /** The current limit. */
  get capacity(): number {
    return this.limit;
  }

  /** Changes the limit (at least 1); batches already in flight finish, new ones wait. */
  setLimit(limit: number): void {
    this.limit = Math.max(1, limit);
    this.admit();
  }

  /** Resolves once a slot is free; call `release()` when done with it. */
  acquire(): Promise<void> {
    if (this.used < this.limit) {
      this.used += 1;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  release(): void {
    this.used -= 1;
    this.admit();
  }

  /** Wakes every waiter (used on stop; they must check whether to continue). */
  releaseWaiters(): void {
    for (const waiter of this.waiting.splice(0)) {
      this.used += 1;
      waiter();
    }
  }

  private admit(): void {
    while (this.used < this.limit && this.waiting.length > 0) {
      this.used += 1;
      this.waiting.shift()?.();
    }
  }
}
