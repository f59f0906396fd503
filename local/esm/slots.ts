/** A counting semaphore: bounds how many batches of one mapping are in flight at once. */
export class Slots {
  private used = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly limit: number) {}

  /** Resolves once a slot is free; call `release()` when done with it. */
  acquire(): Promise<void> {
    if (this.used < this.limit) {
      this.used += 1;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.used -= 1;
  }

  /** Wakes every waiter (used on stop; they must check whether to continue). */
  releaseWaiters(): void {
    for (const waiter of this.waiting.splice(0)) {
      this.used += 1;
      waiter();
    }
  }
}
