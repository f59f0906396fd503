/**
 * The errors an event source mapping meets while talking to its source (failed receives, stream
 * reads, deletes), kept so that the run's report and `--verbose` can show them instead of a
 * mapping silently reading nothing. Repeats of one message are counted, not stored again.
 */
const KEPT = 20;

export class EventSourceErrors {
  private readonly seen = new Map<string, number>();
  private total = 0;

  add(message: string): void {
    this.total += 1;
    // Request ids and iterators differ per attempt; the rest of the message says what happened.
    const key = message.replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi, '<id>');
    const before = this.seen.get(key) ?? 0;
    // Re-inserted so the map stays ordered by the latest occurrence.
    this.seen.delete(key);
    this.seen.set(key, before + 1);
    while (this.seen.size > KEPT) this.seen.delete(this.seen.keys().next().value as string);
  }

  get count(): number {
    return this.total;
  }

  /** `N x message`, oldest first. */
  summary(): string[] {
    return [...this.seen].map(([message, n]) => `${n} x ${message}`);
  }
}
