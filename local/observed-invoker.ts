/**
 * Wraps the invoker an event source mapping calls, to count what it delivers and remember why
 * records failed. This works the same against any endpoint (embedded emulators or LocalStack),
 * because it only looks at the events the mapping hands to the function.
 *
 * @example
 * const observed = new ObservedInvoker(host, 'OrdersQueue');
 * new SqsEventSource(config, observed, sqs).start();
 * observed.distinctMessages(); // Switchyard message ids delivered so far
 */
import type { InvokeOptions, InvokeResult, Invoker } from './runtime/function-host';

interface RecordRef {
  /** SQS message id or stream event id: what batchItemFailures name. */
  readonly itemId: string;
  /** The Switchyard `message-id` header when present, else the provider id. */
  readonly messageId: string;
  /** Topic the message was published to, when the SNS envelope says so. */
  readonly topicArn?: string;
}

function stringAttribute(attributes: unknown, name: string): string | undefined {
  if (!attributes || typeof attributes !== 'object') return undefined;
  const attribute = (attributes as Record<string, { stringValue?: string; Value?: string } | undefined>)[
    name
  ];
  return attribute?.stringValue ?? attribute?.Value;
}

/** Reads the ids out of one Lambda event record (SQS, SQS with SNS envelope, DynamoDB stream). */
export function recordRef(record: Record<string, unknown>): RecordRef | undefined {
  if (typeof record.messageId === 'string') {
    const raw = stringAttribute(record.messageAttributes, 'message-id');
    if (raw) return { itemId: record.messageId, messageId: raw };
    try {
      const envelope = JSON.parse(String(record.body)) as Record<string, unknown>;
      if (envelope && envelope.Type === 'Notification' && typeof envelope.TopicArn === 'string') {
        const id = stringAttribute(envelope.MessageAttributes, 'message-id') ?? String(envelope.MessageId);
        return { itemId: record.messageId, messageId: id, topicArn: envelope.TopicArn };
      }
    } catch {
      // A plain (non-JSON) body is still a delivered record; its SQS id identifies it.
    }
    return { itemId: record.messageId, messageId: record.messageId };
  }
  const dynamodb = record.dynamodb as { SequenceNumber?: string } | undefined;
  if (dynamodb?.SequenceNumber) {
    const id = String(record.eventID ?? dynamodb.SequenceNumber);
    return { itemId: dynamodb.SequenceNumber, messageId: id };
  }
  return undefined;
}

/** Called after each invocation with the records that succeeded (not failed, not in batchItemFailures). */
export type SucceededListener = (records: readonly Record<string, unknown>[], at: number) => void;

export class ObservedInvoker implements Invoker {
  readonly name: string;
  readonly concurrency?: number;
  /** Records handed to the function, retries included. */
  delivered = 0;
  /** Records that came back as failed (whole-batch errors and batchItemFailures). */
  failedRecords = 0;
  private readonly ids = new Set<string>();
  private readonly topicsSeen = new Map<string, Set<string>>();
  private readonly lastFailure = new Map<string, string>();
  private readonly reasonCounts = new Map<string, number>();
  private readonly listeners: SucceededListener[] = [];

  constructor(
    private readonly inner: Invoker,
    /** Which mapping this is, for reports. */
    readonly mappingId: string,
  ) {
    this.name = inner.name;
    this.concurrency = inner.concurrency;
  }

  /** Tells `listener` about every record the function handled successfully, as it happens. */
  onSucceeded(listener: SucceededListener): void {
    this.listeners.push(listener);
  }

  async invoke(event: unknown, options?: InvokeOptions): Promise<InvokeResult> {
    const raw = (event as { Records?: Record<string, unknown>[] }).Records ?? [];
    const records = raw.map(recordRef).filter((r): r is RecordRef => r !== undefined);
    this.delivered += records.length;
    const firstSeen = records.filter((r) => !this.ids.has(r.messageId));
    for (const r of records) {
      this.ids.add(r.messageId);
      if (r.topicArn) {
        const set = this.topicsSeen.get(r.topicArn) ?? new Set<string>();
        set.add(r.messageId);
        this.topicsSeen.set(r.topicArn, set);
      }
    }
    const result = await this.inner.invoke(event, options);
    if (result.throttled) {
      // The function never ran: nothing was delivered (the mapping puts the messages back).
      this.delivered -= records.length;
      for (const r of firstSeen) {
        this.ids.delete(r.messageId);
        this.topicsSeen.get(r.topicArn ?? '')?.delete(r.messageId);
      }
      return result;
    }
    const failed = this.failedItems(result, records);
    this.failedRecords += failed.length;
    const reason = this.reason(result);
    if (failed.length) this.reasonCounts.set(reason, (this.reasonCounts.get(reason) ?? 0) + failed.length);
    for (const r of failed) {
      this.lastFailure.set(r.messageId, reason);
      this.lastFailure.set(r.itemId, reason);
    }
    if (this.listeners.length && result.ok) {
      const failedIds = new Set(failed.map((f) => f.itemId));
      const succeeded = raw.filter((r) => !failedIds.has(recordRef(r)?.itemId ?? ''));
      const at = Date.now();
      for (const listener of this.listeners) listener(succeeded, at);
    }
    return result;
  }

  /** Distinct messages delivered (Switchyard ids where present). */
  distinctMessages(): ReadonlySet<string> {
    return this.ids;
  }

  /** Distinct messages per topic, for records that arrived in an SNS envelope. */
  messagesByTopic(): ReadonlyMap<string, ReadonlySet<string>> {
    return this.topicsSeen;
  }

  /** Why the function last failed this message (Switchyard id or SQS message id), if it did. */
  failureReason(id: string): string | undefined {
    return this.lastFailure.get(id);
  }

  /** Failure reason -> records that failed with it (retries count again). */
  failureReasons(): ReadonlyMap<string, number> {
    return this.reasonCounts;
  }

  private failedItems(result: InvokeResult, records: RecordRef[]): RecordRef[] {
    if (!result.ok) return records;
    const failures = (result.response as { batchItemFailures?: { itemIdentifier?: string }[] } | undefined)
      ?.batchItemFailures;
    if (!Array.isArray(failures) || failures.length === 0) return [];
    const named = new Set(failures.map((f) => f.itemIdentifier));
    return records.filter((r) => named.has(r.itemId));
  }

  private reason(result: InvokeResult): string {
    if (result.timedOut) return 'function timed out';
    if (result.error) return `${result.error.errorType}: ${result.error.errorMessage}`;
    // Partial batch failure: the function's own log says why; keep its last error-looking line.
    const line = [...result.logs].reverse().find((l) => /error|fail|reason/i.test(l));
    return line ? `reported in batchItemFailures: ${line.slice(0, 300)}` : 'reported in batchItemFailures';
  }
}
