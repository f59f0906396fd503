/**
 * The unit of work: stages one aggregate's new state, other business items and the messages the
 * change produces, then commits them atomically, in one of two layouts:
 *
 * - `outbox-items`: one TransactWriteItems with the aggregate item, the other items and one outbox
 *   item per message (`pk = OUTBOX#<aggregateId>`, `sk = <zero-padded sequence>`).
 * - `in-item`: one PutItem of the aggregate item carrying the messages in its `_outbox` list; the
 *   log-tailing relay finds them in the stream's NEW_IMAGE (and not in OLD_IMAGE).
 *
 * Per-aggregate order: the aggregate item keeps `_outboxSeq`, the sequence of its last message; the
 * write is conditional on the value read, so concurrent writers conflict (OutboxConflictError)
 * instead of interleaving. Message ids are fixed at staging time: they are the ids consumers see.
 */
import { randomUUID } from 'node:crypto';
import {
  type AttributeValue,
  ConditionalCheckFailedException,
  DynamoDBClient,
  TransactionCanceledException,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { ConfigurationError } from '../core/errors';
import type { Message } from '../core/message';
import type { ChannelRef } from '../producer/port';
import { unsendableReason } from '../producer/send-checks';
import { OutboxConflictError, OutboxLimitError, OutboxUsageError } from './errors';
import { itemSizeBytes, MAX_ITEM_BYTES, MAX_TRANSACTION_BYTES, MAX_TRANSACTION_ITEMS } from './item-size';
import {
  bucketCount,
  bucketOf,
  formatSequence,
  type KeyAttributes,
  keyAttributesFromEnvironment,
  OUTBOX_PK_PREFIX,
  OutboxAttributes,
  type OutboxEntry,
  OutboxEnvironment,
  type OutboxMode,
  type RelayKind,
  resolveDestination,
  serializeEntry,
  withPartitionKey,
} from './layout';

export interface UnitOfWorkOptions {
  /** @default - `SWITCHYARD_OUTBOX_TABLE` */
  readonly table?: string;
  /** @default - a client for the default region and endpoint */
  readonly client?: DynamoDBClient;
  /** @default - `SWITCHYARD_OUTBOX_MODE`, else 'outbox-items' */
  readonly mode?: OutboxMode;
  /** Which relay reads the outbox: polling needs the sparse-index attribute on outbox items. @default - `SWITCHYARD_OUTBOX_RELAY`, else 'log-tailing' */
  readonly relay?: RelayKind;
  /** @default - `SWITCHYARD_OUTBOX_PARTITION_KEY`/`_SORT_KEY`, else pk/sk */
  readonly keyAttributes?: KeyAttributes;
  /** How long outbox items live before TTL removes them, in seconds. @default 604800 (7 days) */
  readonly retentionSeconds?: number;
  /**
   * In-item mode: how many messages of earlier commits `_outbox` keeps next to the new ones (they
   * are never re-published: the relay only publishes ids absent from OLD_IMAGE). Each kept message
   * adds its size to every write of the item, so keep it small. Earlier messages are known only when
   * the unit of work reads the item itself (no `expectedSequence`). @default 0
   */
  readonly keepPrevious?: number;
  /** At most this many messages per commit (bounds `_outbox` and the transaction). @default 25 */
  readonly maxMessages?: number;
}

/** The aggregate whose change produces the messages. */
export interface AggregateChange {
  /** Ordering scope of the messages; also their partition key when they have none. */
  readonly aggregateId: string;
  /** The aggregate's whole new item, key attributes included. Written with PutItem. */
  readonly item: Record<string, unknown>;
  /**
   * `_outboxSeq` of the item as it was read (0 for a new aggregate). The write fails with
   * OutboxConflictError if it moved on. @default - read with a consistent GetItem at commit
   */
  readonly expectedSequence?: number;
}

export interface CommitResult {
  readonly aggregateId: string;
  /** The aggregate's `_outboxSeq` after the commit. */
  readonly sequence: number;
  readonly entries: readonly OutboxEntry[];
  /** DynamoDB write requests the commit made (1 in both modes). */
  readonly writeRequests: number;
  /** Write capacity units DynamoDB reported (ReturnConsumedCapacity TOTAL). */
  readonly writeCapacityUnits: number;
}

interface StagedPut {
  readonly item: Record<string, unknown>;
  readonly condition?: string;
  readonly names?: Record<string, string>;
  readonly values?: Record<string, unknown>;
}

const DEFAULT_RETENTION_SECONDS = 7 * 24 * 3600;
const TRANSACTION_LIMIT = MAX_TRANSACTION_ITEMS;
/**
 * Id of the commit that last wrote the aggregate item. When a write's response is lost and the SDK
 * retries it, the retry's condition fails on the first attempt's own write; this id tells that
 * apart from a concurrent writer (who would leave a different id).
 */
const COMMIT_ID = '_outboxCommit';

let defaultClient: DynamoDBDocumentClient | undefined;

function documentClient(client?: DynamoDBClient): DynamoDBDocumentClient {
  if (client)
    return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  defaultClient ??= DynamoDBDocumentClient.from(new DynamoDBClient({}), {
    marshallOptions: { removeUndefinedValues: true },
  });
  return defaultClient;
}

/**
 * Starts a unit of work for one command.
 *
 * @example
 * const uow = createUnitOfWork({ mode: 'in-item' });
 * uow.save({ aggregateId: order.id, item: { pk: `ORDER#${order.id}`, sk: 'ORDER', ...order }, expectedSequence: 0 });
 * uow.publish(OrderCreated.create({ orderId: order.id }), 'orders');
 * await uow.commit(); // one PutItem; the relay publishes OrderCreated from the table's stream
 */
export function createUnitOfWork(options: UnitOfWorkOptions = {}): UnitOfWork {
  return new UnitOfWork(options);
}

export class UnitOfWork {
  private readonly table: string;
  private readonly client: DynamoDBDocumentClient;
  private readonly mode: OutboxMode;
  private readonly relay: RelayKind;
  private readonly keys: KeyAttributes;
  private aggregate: AggregateChange | undefined;
  private readonly puts: StagedPut[] = [];
  private readonly messages: { message: Message; destination: string }[] = [];
  private committed = false;

  constructor(private readonly options: UnitOfWorkOptions) {
    const table = options.table ?? process.env[OutboxEnvironment.TABLE];
    if (!table) {
      throw new ConfigurationError(
        `No outbox table: pass { table } or set ${OutboxEnvironment.TABLE} (outbox.grantWrite(fn) sets it).`,
      );
    }
    this.table = table;
    this.client = documentClient(options.client);
    this.mode =
      options.mode ?? (process.env[OutboxEnvironment.MODE] as OutboxMode | undefined) ?? 'outbox-items';
    this.relay =
      options.relay ?? (process.env[OutboxEnvironment.RELAY] as RelayKind | undefined) ?? 'log-tailing';
    if (this.mode !== 'outbox-items' && this.mode !== 'in-item') {
      throw new ConfigurationError(`Outbox mode "${this.mode}" is not 'outbox-items' or 'in-item'.`);
    }
    if (this.mode === 'in-item' && this.relay === 'polling') {
      throw new ConfigurationError(
        "Outbox mode 'in-item' needs the 'log-tailing' relay: the polling publisher reads outbox items only.",
      );
    }
    this.keys = options.keyAttributes ?? keyAttributesFromEnvironment();
  }

  /** Stages the aggregate's new item. Exactly one aggregate per unit of work. */
  save(change: AggregateChange): this {
    this.assertOpen();
    if (this.aggregate) {
      throw new OutboxUsageError(
        `Unit of work already saves aggregate "${this.aggregate.aggregateId}"; one aggregate per unit of work keeps its order simple. Use put() for other items.`,
      );
    }
    if (!change.aggregateId) throw new OutboxUsageError('save() needs a non-empty aggregateId.');
    if (change.item[this.keys.partitionKey] === undefined) {
      throw new OutboxUsageError(
        `Aggregate item lacks its partition key attribute "${this.keys.partitionKey}". Include the key in item.`,
      );
    }
    this.aggregate = change;
    return this;
  }

  /**
   * Stages another business item in the same transaction (outbox-items mode; in in-item mode it
   * turns the single PutItem into a transaction, losing the one-write cost).
   */
  put(item: Record<string, unknown>, condition?: Omit<StagedPut, 'item'>): this {
    this.assertOpen();
    this.puts.push({ item, ...condition });
    return this;
  }

  /**
   * Stages an event for a channel (name bound via `SWITCHYARD_CHANNEL_<NAME>`, or a ChannelRef).
   * Returns the message as it will be published (after `save()`, with the aggregate id as partition
   * key when it had none).
   */
  publish(message: Message, channel: string | ChannelRef): Message {
    return this.stage(message, channel);
  }

  /** Stages a command for a point-to-point channel. Returns the message as it will be sent. */
  send(message: Message, channel: string | ChannelRef): Message {
    return this.stage(message, channel);
  }

  /** Writes everything atomically. Throws OutboxConflictError if the aggregate changed meanwhile. */
  async commit(): Promise<CommitResult> {
    this.assertOpen();
    const aggregate = this.aggregate;
    if (!aggregate) {
      throw new OutboxUsageError(
        'commit() without save(): stage the aggregate whose change produces the messages.',
      );
    }
    const max = this.options.maxMessages ?? 25;
    if (this.messages.length > max) {
      throw new OutboxUsageError(
        `Unit of work stages ${this.messages.length} messages; at most ${max} per commit (raise maxMessages up to ${TRANSACTION_LIMIT - 1 - this.puts.length}).`,
      );
    }
    this.checkMessages(aggregate);
    this.committed = true;
    const { expected, previous } = await this.readSequence(aggregate);
    const entries: OutboxEntry[] = this.messages.map(({ message, destination }, i) => ({
      aggregateId: aggregate.aggregateId,
      sequence: expected + i + 1,
      destination,
      message: withPartitionKey(message, aggregate.aggregateId),
    }));
    const sequence = expected + entries.length;
    const commitId = randomUUID();
    const item: Record<string, unknown> = {
      ...aggregate.item,
      [OutboxAttributes.SEQUENCE]: sequence,
      [COMMIT_ID]: commitId,
    };
    if (this.mode === 'in-item') {
      const keep = Math.max(0, this.options.keepPrevious ?? 0);
      const kept = keep > 0 ? previous.slice(-keep) : [];
      item[OutboxAttributes.IN_ITEM] = [...kept, ...entries.map(serializeEntry)];
    }
    const outboxItems = this.mode === 'outbox-items' ? entries.map((entry) => this.outboxItem(entry)) : [];
    this.checkItemLimits(aggregate, item, outboxItems);
    // A first commit may find `_outboxSeq: 0` (a commit without messages): still a first commit.
    const condition =
      expected === 0
        ? {
            ConditionExpression: 'attribute_not_exists(#seq) OR #seq = :zero',
            ExpressionAttributeNames: { '#seq': OutboxAttributes.SEQUENCE },
            ExpressionAttributeValues: { ':zero': 0 },
          }
        : {
            ConditionExpression: '#seq = :expected',
            ExpressionAttributeNames: { '#seq': OutboxAttributes.SEQUENCE },
            ExpressionAttributeValues: { ':expected': expected },
          };
    try {
      if (this.mode === 'in-item' && this.puts.length === 0) {
        const result = await this.client.send(
          new PutCommand({
            TableName: this.table,
            Item: item,
            ReturnConsumedCapacity: 'TOTAL',
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
            ...condition,
          }),
        );
        return {
          aggregateId: aggregate.aggregateId,
          sequence,
          entries,
          writeRequests: 1,
          writeCapacityUnits: result.ConsumedCapacity?.CapacityUnits ?? 0,
        };
      }
      const result = await this.client.send(
        new TransactWriteCommand({
          ReturnConsumedCapacity: 'TOTAL',
          // The SDK resends the same token when it retries (it would generate one itself; the commit
          // id makes it traceable): DynamoDB answers the first attempt's outcome, it does not re-run.
          ClientRequestToken: commitId,
          TransactItems: [
            {
              Put: {
                TableName: this.table,
                Item: item,
                ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
                ...condition,
              },
            },
            ...this.puts.map((put) => ({
              Put: {
                TableName: this.table,
                Item: put.item,
                ConditionExpression: put.condition,
                ExpressionAttributeNames: put.names,
                ExpressionAttributeValues: put.values,
              },
            })),
            ...outboxItems.map((outboxItem) => ({
              Put: {
                TableName: this.table,
                Item: outboxItem,
                ConditionExpression: 'attribute_not_exists(#pk)',
                ExpressionAttributeNames: { '#pk': this.keys.partitionKey },
              },
            })),
          ],
        }),
      );
      const units = (result.ConsumedCapacity ?? []).reduce((sum, c) => sum + (c.CapacityUnits ?? 0), 0);
      return {
        aggregateId: aggregate.aggregateId,
        sequence,
        entries,
        writeRequests: 1,
        writeCapacityUnits: units,
      };
    } catch (error) {
      if (ownWriteFound(error, commitId)) {
        // The first attempt was applied and its response lost; the SDK's retry met our own write.
        return {
          aggregateId: aggregate.aggregateId,
          sequence,
          entries,
          writeRequests: 1,
          writeCapacityUnits: 0,
        };
      }
      throw this.translate(error, aggregate, expected);
    }
  }

  /** Every staged message must be publishable as it will be published (partition key included). */
  private checkMessages(aggregate: AggregateChange): void {
    for (const { message, destination } of this.messages) {
      const published = withPartitionKey(message, aggregate.aggregateId);
      const reason = unsendableReason(destination, published);
      if (reason !== undefined) {
        throw new OutboxLimitError(
          `Commit of aggregate "${aggregate.aggregateId}" refused, nothing was stored: message ${message.type} ` +
            `(${message.id}) to ${destination} could never be published. ${reason}`,
        );
      }
    }
  }

  /** DynamoDB's limits, checked before the write so the caller gets a reason rather than a ValidationException. */
  private checkItemLimits(
    aggregate: AggregateChange,
    item: Record<string, unknown>,
    outboxItems: readonly Record<string, unknown>[],
  ): void {
    const refuse = (what: string): never => {
      throw new OutboxLimitError(
        `Commit of aggregate "${aggregate.aggregateId}" refused, nothing was stored: ${what}`,
      );
    };
    const items = [
      { label: 'the aggregate item', item },
      ...this.puts.map((put, i) => ({ label: `put() item ${i + 1}`, item: put.item })),
      ...outboxItems.map((outboxItem, i) => ({
        label: `the outbox item of message ${i + 1}`,
        item: outboxItem,
      })),
    ];
    if (items.length > 1 && items.length > MAX_TRANSACTION_ITEMS) {
      refuse(
        `it writes ${items.length} items in one transaction; DynamoDB takes at most ${MAX_TRANSACTION_ITEMS}. ` +
          'Stage fewer messages or put() items per command.',
      );
    }
    let total = 0;
    for (const { label, item: written } of items) {
      const size = itemSizeBytes(written);
      total += size;
      if (size > MAX_ITEM_BYTES) {
        refuse(
          `${label} is ${size} bytes; DynamoDB items hold at most ${MAX_ITEM_BYTES} bytes (400 KB)` +
            (this.mode === 'in-item' && written === item
              ? ', and in in-item mode the aggregate item carries its messages. Use outbox-items mode or smaller messages.'
              : '. Store the large part elsewhere (for example S3) and stage a reference.'),
        );
      }
    }
    if (items.length > 1 && total > MAX_TRANSACTION_BYTES) {
      refuse(
        `its items take ${total} bytes; one DynamoDB transaction takes at most ${MAX_TRANSACTION_BYTES} bytes (4 MB).`,
      );
    }
  }

  private stage(message: Message, channel: string | ChannelRef): Message {
    this.assertOpen();
    const destination = resolveDestination(channel);
    const staged = this.aggregate ? withPartitionKey(message, this.aggregate.aggregateId) : message;
    this.messages.push({ message: staged, destination });
    return staged;
  }

  private outboxItem(entry: OutboxEntry): Record<string, unknown> {
    const { partitionKey, sortKey } = this.keys;
    if (!sortKey) {
      throw new ConfigurationError(
        "Outbox mode 'outbox-items' needs a table with a sort key (outbox items are pk + sequence).",
      );
    }
    const now = Date.now();
    const item: Record<string, unknown> = {
      [partitionKey]: `${OUTBOX_PK_PREFIX}${entry.aggregateId}`,
      [sortKey]: formatSequence(entry.sequence),
      aggregateId: entry.aggregateId,
      sequence: entry.sequence,
      messageId: entry.message.id,
      messageType: entry.message.type,
      [OutboxAttributes.ENVELOPE]: serializeEntry(entry),
      createdAt: new Date(now).toISOString(),
      [OutboxAttributes.EXPIRES_AT]:
        Math.floor(now / 1000) + (this.options.retentionSeconds ?? DEFAULT_RETENTION_SECONDS),
    };
    if (this.relay === 'polling') {
      // Only unpublished items carry the index keys: the index stays as small as the backlog.
      item[OutboxAttributes.UNPUBLISHED] = bucketOf(entry.aggregateId, bucketCount());
      item[OutboxAttributes.POLL_KEY] = `${entry.aggregateId}#${formatSequence(entry.sequence)}`;
    }
    return item;
  }

  private async readSequence(aggregate: AggregateChange): Promise<{ expected: number; previous: string[] }> {
    if (aggregate.expectedSequence !== undefined) {
      if (!Number.isInteger(aggregate.expectedSequence) || aggregate.expectedSequence < 0) {
        throw new OutboxUsageError(
          `expectedSequence must be a whole number >= 0, got ${aggregate.expectedSequence}.`,
        );
      }
      return { expected: aggregate.expectedSequence, previous: [] };
    }
    const key: Record<string, unknown> = { [this.keys.partitionKey]: aggregate.item[this.keys.partitionKey] };
    if (this.keys.sortKey) key[this.keys.sortKey] = aggregate.item[this.keys.sortKey];
    const { Item } = await this.client.send(
      new GetCommand({
        TableName: this.table,
        Key: key,
        ConsistentRead: true,
        ProjectionExpression: '#seq, #outbox',
        ExpressionAttributeNames: { '#seq': OutboxAttributes.SEQUENCE, '#outbox': OutboxAttributes.IN_ITEM },
      }),
    );
    const expected = Number(Item?.[OutboxAttributes.SEQUENCE] ?? 0);
    const previous = Array.isArray(Item?.[OutboxAttributes.IN_ITEM])
      ? (Item[OutboxAttributes.IN_ITEM] as string[])
      : [];
    return { expected, previous };
  }

  private translate(error: unknown, aggregate: AggregateChange, expected: number): unknown {
    const conflict =
      error instanceof ConditionalCheckFailedException ||
      (error instanceof TransactionCanceledException &&
        error.CancellationReasons?.[0]?.Code === 'ConditionalCheckFailed');
    if (!conflict) return error;
    return new OutboxConflictError(
      `Aggregate "${aggregate.aggregateId}" changed since it was read (expected outbox sequence ${expected}). ` +
        'Re-read the aggregate and run the command again.',
      aggregate.aggregateId,
      expected,
    );
  }

  private assertOpen(): void {
    if (this.committed)
      throw new OutboxUsageError('This unit of work was already committed; create a new one per command.');
  }
}

/** True when a failed condition met the item this very commit wrote (same commit id). */
function ownWriteFound(error: unknown, commitId: string): boolean {
  let old: Record<string, AttributeValue> | undefined;
  if (error instanceof ConditionalCheckFailedException) old = error.Item;
  else if (error instanceof TransactionCanceledException) old = error.CancellationReasons?.[0]?.Item;
  return old?.[COMMIT_ID]?.S === commitId;
}
