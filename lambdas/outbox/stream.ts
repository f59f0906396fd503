/**
 * Reads DynamoDB stream records (Lambda's `DynamoDBStreamEvent` shape) back into outbox entries,
 * for both layouts: outbox items (INSERT of an `OUTBOX#` item) and in-item (`_outbox` messages in
 * NEW_IMAGE whose ids are not in OLD_IMAGE). TTL deletes and other removals never publish.
 */
import type { DynamoDBRecord } from 'aws-lambda';
import { OutboxRecordError } from './errors';
import { deserializeEntry, OUTBOX_PK_PREFIX, OutboxAttributes, type OutboxEntry } from './layout';

/**
 * Lambda event filter for the relay's event source: only INSERT and MODIFY reach the function, so
 * TTL deletes (always REMOVE, by `dynamodb.amazonaws.com`) are dropped before they cost an invoke.
 *
 * @example
 * new DynamoEventSource(table, { filters: [lambda.FilterCriteria.filter(RELAY_FILTER_PATTERN)], ... })
 */
export const RELAY_FILTER_PATTERN = { eventName: ['INSERT', 'MODIFY'] } as const;

/** Why a record publishes nothing. */
export type SkipReason = 'ttl-delete' | 'remove' | 'no-messages';

export interface ParsedStreamRecord {
  readonly sequenceNumber: string;
  readonly eventID: string;
  /** New messages, in sequence order. Empty when skipped. */
  readonly entries: readonly OutboxEntry[];
  readonly skipped?: SkipReason;
}

/** A record DynamoDB itself wrote: TTL expiry (the stream's `userIdentity` marker). */
export function isServiceRecord(record: DynamoDBRecord): boolean {
  const identity = record.userIdentity as { type?: string; principalId?: string } | undefined;
  return identity?.type === 'Service' && identity.principalId === 'dynamodb.amazonaws.com';
}

/**
 * Unmarshalls a stream image (JSON attribute values: S, N, B, BOOL, NULL, L, M, SS, NS, BS).
 * Numbers stay strings (no precision loss, no throw on 38-digit numbers); binaries stay base64;
 * sets become arrays. Only the outbox attributes are read afterwards, so this lossless form suffices.
 */
export function unmarshallImage(image: unknown): Record<string, unknown> | undefined {
  if (!image || typeof image !== 'object') return undefined;
  const result: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(image as Record<string, unknown>))
    result[name] = toNative(value, name);
  return result;
}

function toNative(value: unknown, path: string): unknown {
  if (!value || typeof value !== 'object') {
    throw new OutboxRecordError(
      `Stream image attribute ${path} is not a DynamoDB attribute value: ${JSON.stringify(value)}`,
    );
  }
  const [type, data] = Object.entries(value as Record<string, unknown>)[0] ?? [];
  switch (type) {
    case 'S':
    case 'N':
    case 'B':
    case 'BOOL':
      return data;
    case 'NULL':
      return null;
    case 'SS':
    case 'NS':
    case 'BS':
      return Array.isArray(data) ? [...data] : [];
    case 'L':
      return Array.isArray(data) ? data.map((item, i) => toNative(item, `${path}[${i}]`)) : [];
    case 'M':
      return unmarshallImage(data) ?? {};
    default:
      throw new OutboxRecordError(`Stream image attribute ${path} has unknown type ${String(type)}.`);
  }
}

/**
 * Extracts the messages a stream record carries.
 *
 * @example
 * const { entries } = parseStreamRecord(event.Records[0]);
 */
export function parseStreamRecord(record: DynamoDBRecord): ParsedStreamRecord {
  const sequenceNumber = record.dynamodb?.SequenceNumber;
  if (!sequenceNumber) {
    throw new OutboxRecordError(
      `Stream record ${record.eventID ?? '(no eventID)'} has no dynamodb.SequenceNumber; is this a DynamoDB stream event?`,
    );
  }
  const base = { sequenceNumber, eventID: record.eventID ?? sequenceNumber };
  if (isServiceRecord(record)) return { ...base, entries: [], skipped: 'ttl-delete' };
  if (record.eventName === 'REMOVE') return { ...base, entries: [], skipped: 'remove' };
  const newImage = unmarshallImage(record.dynamodb?.NewImage);
  if (!newImage) return { ...base, entries: [], skipped: 'no-messages' };
  const entries = [...outboxItemEntries(record, newImage), ...inItemEntries(record, newImage)].sort(
    (a, b) => a.sequence - b.sequence,
  );
  return entries.length ? { ...base, entries } : { ...base, entries: [], skipped: 'no-messages' };
}

function outboxItemEntries(record: DynamoDBRecord, image: Record<string, unknown>): OutboxEntry[] {
  const envelope = image[OutboxAttributes.ENVELOPE];
  if (envelope === undefined) return [];
  const isOutboxItem = Object.values(image).some(
    (v) => typeof v === 'string' && v.startsWith(OUTBOX_PK_PREFIX),
  );
  // Outbox items are written once; later changes (the poller marking them) are not new messages.
  if (!isOutboxItem || record.eventName !== 'INSERT') return [];
  return [deserializeEntry(envelope)];
}

function inItemEntries(record: DynamoDBRecord, image: Record<string, unknown>): OutboxEntry[] {
  const current = image[OutboxAttributes.IN_ITEM];
  if (current === undefined) return [];
  if (!Array.isArray(current)) {
    throw new OutboxRecordError(
      `Attribute ${OutboxAttributes.IN_ITEM} of record ${record.eventID} is not a list.`,
    );
  }
  let known = new Set<string>();
  if (record.eventName === 'MODIFY') {
    const oldImage = unmarshallImage(record.dynamodb?.OldImage);
    if (!oldImage) {
      throw new OutboxRecordError(
        `MODIFY record ${record.eventID} has no OldImage (stream view ${record.dynamodb?.StreamViewType}); ` +
          'in-item outbox needs StreamViewType NEW_AND_OLD_IMAGES to tell new messages from old ones.',
      );
    }
    const previous = oldImage[OutboxAttributes.IN_ITEM];
    if (Array.isArray(previous)) known = new Set(previous.map((text) => deserializeEntry(text).message.id));
  }
  return current.map(deserializeEntry).filter((entry) => !known.has(entry.message.id));
}
