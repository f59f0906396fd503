/**
 * How the outbox is laid out in DynamoDB: attribute names, outbox item keys, the sparse polling
 * index, and the serialized envelope both modes store. One place, shared by the unit of work, the
 * relay, the poller and the construct (which mirrors the names; it cannot import runtime code).
 */

import { ConfigurationError } from '../core/errors';
import type { MessageKind } from '../core/headers';
import { Headers } from '../core/headers';
import type { Message } from '../core/message';
import { maxMessageBytesOf } from '../producer/limits';
import { type ChannelRef, channelEnvironmentVariable, channelRef } from '../producer/port';
import { OutboxRecordError } from './errors';

export const OutboxAttributes = {
  /** Per-aggregate sequence of the last staged message, kept in the aggregate's own item. */
  SEQUENCE: '_outboxSeq',
  /**
   * Commits without messages since `_outboxSeq` last moved. With `_outboxSeq` it names the item's
   * version: every commit moves the pair forward (a commit with messages raises the sequence and
   * resets it, one without raises it), so a commit conditional on the pair it read is fenced even
   * when neither commit carries messages.
   */
  QUIET_COMMITS: '_quietCommits',
  /** In-item mode: the messages of the latest commit(s), a list of serialized envelopes. */
  IN_ITEM: '_outbox',
  /** Outbox items: serialized envelope. */
  ENVELOPE: 'envelope',
  /** Outbox items: sparse GSI partition key; present only while not yet published (polling). */
  UNPUBLISHED: 'unpublished',
  /** Outbox items: sparse GSI sort key, `<aggregateId>#<sequence>` so a query reads in order. */
  POLL_KEY: 'pollKey',
  PUBLISHED_AT: 'publishedAt',
  ATTEMPTS: 'attempts',
  /** TTL attribute (epoch seconds). */
  EXPIRES_AT: 'expiresAt',
} as const;

/** Name of the sparse GSI the polling publisher queries. */
export const POLLING_INDEX_NAME = 'outbox-unpublished';
export const OUTBOX_PK_PREFIX = 'OUTBOX#';
export const LEASE_PK_PREFIX = 'OUTBOX-LEASE#';
export const ATTEMPTS_PK_PREFIX = 'OUTBOX-RELAY-ATTEMPTS#';
/** One per parked stream record (by eventID): makes parking idempotent across relay retries. */
export const PARK_MARKER_PK_PREFIX = 'OUTBOX-RELAY-PARK#';
/** Parked messages too large for the failure queue, kept without TTL until replayed. */
export const PARKED_PK_PREFIX = 'OUTBOX-PARKED#';

/** Environment the construct sets on producer and relay functions. */
export const OutboxEnvironment = {
  TABLE: 'SWITCHYARD_OUTBOX_TABLE',
  MODE: 'SWITCHYARD_OUTBOX_MODE',
  RELAY: 'SWITCHYARD_OUTBOX_RELAY',
  PARTITION_KEY: 'SWITCHYARD_OUTBOX_PARTITION_KEY',
  SORT_KEY: 'SWITCHYARD_OUTBOX_SORT_KEY',
  FAILURE_QUEUE: 'SWITCHYARD_OUTBOX_FAILURE_QUEUE',
  BUCKETS: 'SWITCHYARD_OUTBOX_BUCKETS',
} as const;

export type OutboxMode = 'outbox-items' | 'in-item';
export type RelayKind = 'log-tailing' | 'polling';

/** Key attribute names of the table. */
export interface KeyAttributes {
  readonly partitionKey: string;
  /** Undefined for a table without sort key (in-item mode only). */
  readonly sortKey?: string;
}

export function keyAttributesFromEnvironment(): KeyAttributes {
  const sortKey = process.env[OutboxEnvironment.SORT_KEY];
  return {
    partitionKey: process.env[OutboxEnvironment.PARTITION_KEY] || 'pk',
    sortKey: sortKey === '' ? undefined : (sortKey ?? 'sk'),
  };
}

/** A message as the outbox stores it, with where it goes and its place in the aggregate's order. */
export interface OutboxEntry {
  readonly aggregateId: string;
  /** 1-based, gap-free per aggregate. */
  readonly sequence: number;
  /** Topic ARN or queue URL, resolved when the message was staged. */
  readonly destination: string;
  readonly message: Message;
  /**
   * The destination's size limit the writer checked the message against. The relay and the poller
   * send with it, so a limit configured differently in their function cannot reject (and park) a
   * message the commit accepted. @default - the destination's limit where it is read
   */
  readonly maxMessageBytes?: number;
}

interface StoredEnvelope {
  v: 1;
  a: string;
  s: number;
  d: string;
  id: string;
  type: string;
  kind: MessageKind;
  headers: Record<string, string>;
  payload: unknown;
  /** maxMessageBytes; absent in envelopes of older writers. */
  m?: number;
}

/** Envelopes are stored as one JSON string so payloads keep JSON types (DynamoDB would turn numbers into sets, drop empty strings...). */
export function serializeEntry(entry: OutboxEntry): string {
  const { message } = entry;
  const stored: StoredEnvelope = {
    v: 1,
    a: entry.aggregateId,
    s: entry.sequence,
    d: entry.destination,
    id: message.id,
    type: message.type,
    kind: message.kind,
    headers: { ...message.headers },
    payload: message.payload,
    ...(entry.maxMessageBytes === undefined ? {} : { m: entry.maxMessageBytes }),
  };
  return JSON.stringify(stored);
}

export function deserializeEntry(text: unknown): OutboxEntry {
  if (typeof text !== 'string') {
    throw new OutboxRecordError(
      `Outbox envelope is ${typeof text}, expected a JSON string written by the unit of work.`,
    );
  }
  let stored: Partial<StoredEnvelope>;
  try {
    stored = JSON.parse(text) as Partial<StoredEnvelope>;
  } catch (error) {
    throw new OutboxRecordError(
      `Outbox envelope is not JSON (${(error as Error).message}): ${text.slice(0, 120)}`,
    );
  }
  if (
    stored?.v !== 1 ||
    typeof stored.a !== 'string' ||
    typeof stored.s !== 'number' ||
    typeof stored.d !== 'string' ||
    typeof stored.id !== 'string' ||
    typeof stored.type !== 'string' ||
    typeof stored.kind !== 'string' ||
    typeof stored.headers !== 'object' ||
    stored.headers === null
  ) {
    throw new OutboxRecordError(
      `Outbox envelope lacks a field (v=1, a, s, d, id, type, kind, headers): ${text.slice(0, 200)}`,
    );
  }
  return {
    aggregateId: stored.a,
    sequence: stored.s,
    destination: stored.d,
    message: {
      id: stored.id,
      type: stored.type,
      kind: stored.kind,
      headers: stored.headers,
      payload: stored.payload,
    },
    ...(typeof stored.m === 'number' ? { maxMessageBytes: stored.m } : {}),
  };
}

/** Zero-padded so that string order is numeric order. */
export function formatSequence(sequence: number): string {
  return String(sequence).padStart(20, '0');
}

/** Resolves a channel given by name (`SWITCHYARD_CHANNEL_<NAME>`) or as a ChannelRef to its address. */
export function resolveDestination(channel: string | ChannelRef): string {
  if (typeof channel !== 'string') {
    return channel.type === 'publish-subscribe' ? channel.topicArn : channel.queueUrl;
  }
  const variable = channelEnvironmentVariable(channel);
  const address = process.env[variable];
  if (!address) {
    throw new ConfigurationError(
      `Channel "${channel}" is not bound to this function: ${variable} is not set. Route the outbox to it ` +
        '(outbox.routeTo(...)) and grant this function with outbox.grantWrite(fn), or pass a ChannelRef.',
    );
  }
  channelRef(address);
  return address;
}

/** Adds the aggregate id as partition key when the message has none, so FIFO groups follow the aggregate. */
export function withPartitionKey(message: Message, aggregateId: string): Message {
  if (message.headers[Headers.PARTITION_KEY]) return message;
  return { ...message, headers: { ...message.headers, [Headers.PARTITION_KEY]: aggregateId } };
}

/** Spreads aggregates over a few GSI partitions so one hot partition does not cap the poller. */
export function bucketOf(aggregateId: string, buckets: number): string {
  let hash = 0;
  for (let i = 0; i < aggregateId.length; i += 1) hash = (hash * 31 + aggregateId.charCodeAt(i)) >>> 0;
  return `B${hash % Math.max(1, buckets)}`;
}

export function bucketCount(): number {
  const raw = Number(process.env[OutboxEnvironment.BUCKETS] ?? '4');
  return Number.isInteger(raw) && raw > 0 ? raw : 4;
}

/** The size limit an entry is sent with: the one its writer checked, else the channel's here. */
export function limitOf(entry: OutboxEntry, channel: ChannelRef): number {
  return entry.maxMessageBytes ?? channel.maxMessageBytes ?? maxMessageBytesOf(entry.destination);
}
