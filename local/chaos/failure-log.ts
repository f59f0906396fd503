/**
 * Why a consumer failed each message, from the consumers' own structured log lines ("Message
 * failed" with `messageId`, `reason` and `error`), so a dead letter's reason is its own and not
 * that of another message failed in the same batch.
 */
export class ConsumerFailureLog {
  private readonly reasons = new Map<string, string>();

  /** Feed every function log line here (LocalCloudOptions.functionLog). */
  observe(line: string): void {
    if (!line.includes('"messageId"')) return;
    const start = line.indexOf('{');
    if (start < 0) return;
    let entry: Record<string, unknown>;
    try {
      entry = JSON.parse(line.slice(start)) as Record<string, unknown>;
    } catch {
      return;
    }
    if (typeof entry.messageId !== 'string' || typeof entry.reason !== 'string') return;
    const consumer = typeof entry.consumer === 'string' ? `${entry.consumer}: ` : '';
    const error = typeof entry.error === 'string' ? ` (${entry.error})` : '';
    this.reasons.set(entry.messageId, `${consumer}${entry.reason}${error}`);
  }

  /** The last failure reason logged for this message id. */
  reasonOf(messageId: string): string | undefined {
    return this.reasons.get(messageId);
  }
}
