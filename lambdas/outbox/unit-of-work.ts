/**
 * The unit of work: stages one aggregate's new state, other business items and the messages the
 * change produces, then commits them atomically, in one of two layouts:
 *
 * - `outbox-items`: one TransactWriteItems with the aggregate item, the other items and one outbox
 *   item per message (`pk = OUTBOX#<aggregateId>`, `sk = <zero-padded sequence>`).
 * - `in-item`: one write of the aggregate item carrying the messages in its `_outbox` list; the
 *   log-tailing relay finds them in the stream's NEW_IMAGE (and not in OLD_IMAGE).
 *
 * Both are one TransactWriteItems whose ClientRequestToken is the commit id: when a commit's response
 * is lost and the SDK retries it, DynamoDB answers the first attempt's outcome (for 10 minutes), even
 * if another commit of the aggregate was written in between. A plain PutItem could only tell its own
 * write from a concurrent one by looking at the item, which the concurrent commit had replaced.
 *
 * Optimistic concurrency and per-aggregate order: the aggregate item keeps `_outboxSeq`, the sequence
 * of its last message, and `_quietCommits`, the commits without messages since then. Every commit
 * moves that pair forward and is conditional on the pair read, so concurrent writers conflict
 * (OutboxConflictError) instead of interleaving messages or losing an update. Message ids are fixed
 * at staging time: they are the ids consumers see.
 */
import { randomUUID } from 'node:crypto';
import {
  type AttributeValue,
  ConditionalCheckFailedException,
  DynamoDBClient,
  TransactionCanceledException,
  TransactionInProgressException,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { ConfigurationError } from '../core/errors';
import type { Message } from '../core/message';
import { maxMessageBytesOf } from '../producer/limits';
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
  /** The aggregate's whole new item, key attributes included. Written whole (a Put), not merged. */
  readonly item: Record<string, unknown>;
  /**
   * `_outboxSeq` of the item as it was read (0 for a new aggregate). The write fails with
   * OutboxConflictError if the item changed since. `expectedVersionOf(item)` gives both fields.
   * @default - read with a consistent GetItem at commit
   */
  readonly expectedSequence?: number;
  /**
   * `_quietCommits` of the item as it was read: commits without messages since its sequence moved.
   * @default 0 (with `expectedSequence`; read with it otherwise)
   */
  readonly expectedQuietCommits?: number;
}

/**
 * The version fields of an aggregate item as read, for `save()`: the commit is fenced against every
 * commit since, with or without messages.
 *
 * @example
 * const { Item: order } = await doc.send(new GetCommand({ TableName, Key, ConsistentRead: true }));
 * uow.save({ aggregateId, item: { ...order, status: 'APPROVED' }, ...expectedVersionOf(order) });
 */
export function expectedVersionOf(item: Record<string, unknown> | undefined): {
  expectedSequence: number;
  expectedQuietCommits: number;
} {
  return {
    expectedSequence: Number(item?.[OutboxAttributes.SEQUENCE] ?? 0),
    expectedQuietCommits: Number(item?.[OutboxAttributes.QUIET_COMMITS] ?? 0),
  };
}

export interface CommitResult {
  readonly aggregateId: string;
  /** The aggregate's `_outboxSeq` after the commit. */
  readonly sequence: number;
  /** The aggregate's `_quietCommits` after the commit (0 when it carried messages). */
  readonly quietCommits: number;
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
 * await uow.commit(); // one write of the item; the relay publishes OrderCreated from the table's stream
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
  private readonly messages: { message: Message; destination: string; maxMessageBytes: number }[] = [];
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
   * Stages another business item in the same transaction (each item adds its own write cost).
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
    const { expected, quiet, previous } = await this.readSequence(aggregate);
    const entries: OutboxEntry[] = this.messages.map(({ message, destination, maxMessageBytes }, i) => ({
      aggregateId: aggregate.aggregateId,
      sequence: expected + i + 1,
      destination,
      message: withPartitionKey(message, aggregate.aggregateId),
      maxMessageBytes,
    }));
    const sequence = expected + entries.length;
    const quietCommits = entries.length > 0 ? 0 : quiet + 1;
    const commitId = randomUUID();
    const item: Record<string, unknown> = {
      ...aggregate.item,
      [OutboxAttributes.SEQUENCE]: sequence,
      [OutboxAttributes.QUIET_COMMITS]: quietCommits,
      [COMMIT_ID]: commitId,
    };
    if (this.mode === 'in-item') {
      const keep = Math.max(0, this.options.keepPrevious ?? 0);
      const kept = keep > 0 ? previous.slice(-keep) : [];
      item[OutboxAttributes.IN_ITEM] = [...kept, ...entries.map(serializeEntry)];
    }
    const outboxItems = this.mode === 'outbox-items' ? entries.map((entry) => this.outboxItem(entry)) : [];
    this.checkItemLimits(aggregate, item, outboxItems);
    const condition = versionCondition(expected, quiet);
    const done = (writeCapacityUnits: number): CommitResult => ({
      aggregateId: aggregate.aggregateId,
      sequence,
      quietCommits,
      entries,
      writeRequests: 1,
      writeCapacityUnits,
    });
    const transaction = new TransactWriteCommand({
      ReturnConsumedCapacity: 'TOTAL',
      // The SDK resends the same token when it retries (it would generate one itself; the commit
      // id makes it traceable): DynamoDB answers the first attempt's outcome, it does not re-run,
      // even when another commit of the aggregate was written in between.
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
    });
    try {
      const result = await sendAwaitingOwnAttempt(this.client, transaction);
      return done((result.ConsumedCapacity ?? []).reduce((sum, c) => sum + (c.CapacityUnits ?? 0), 0));
    } catch (error) {
      // Past the token's 10 minutes the retry is evaluated afresh: it may still meet our own write.
      if (ownWriteFound(error, commitId)) return done(0);
      const translated = this.translate(error, aggregate, expected, quiet);
      if (translated !== error) throw translated;
      // Not a conflict: the outcome is unknown (retries exhausted after a lost response). Reporting
      // a failure for an applied commit would make the caller run the command again and stage its
      // messages a second time under new ids, so look at the item before saying it failed.
      const found = await this.commitFound(aggregate, commitId, expected, quiet);
      if (found === 'ours') return done(0);
      if (found === 'overtaken') {
        // Another commit replaced the item after ours may have been applied beneath it, so the item
        // cannot tell. Within the token's 10 minutes the same token answers our first attempt's
        // outcome: success when it was applied, else its condition meets the moved-on item (conflict).
        try {
          const result = await sendAwaitingOwnAttempt(this.client, transaction);
          return done((result.ConsumedCapacity ?? []).reduce((sum, c) => sum + (c.CapacityUnits ?? 0), 0));
        } catch (resendError) {
          if (ownWriteFound(resendError, commitId)) return done(0);
          const conflict = this.translate(resendError, aggregate, expected, quiet);
          if (conflict !== resendError) throw conflict;
        }
      }
      throw error;
    }
  }

  /**
   * What the aggregate item says of this commit: 'ours' when it carries this commit's id (applied),
   * 'unchanged' when it still has the version read (not applied), 'overtaken' when another commit
   * replaced it, 'unknown' when it could not be read.
   */
  private async commitFound(
    aggregate: AggregateChange,
    commitId: string,
    expected: number,
    quiet: number,
  ): Promise<'ours' | 'unchanged' | 'overtaken' | 'unknown'> {
    try {
      const { Item } = await this.client.send(
        new GetCommand({
          TableName: this.table,
          Key: this.keyOf(aggregate),
          ConsistentRead: true,
          ProjectionExpression: '#commit, #seq, #quiet',
          ExpressionAttributeNames: {
            '#commit': COMMIT_ID,
            '#seq': OutboxAttributes.SEQUENCE,
            '#quiet': OutboxAttributes.QUIET_COMMITS,
          },
        }),
      );
      if (Item?.[COMMIT_ID] === commitId) return 'ours';
      const { expectedSequence, expectedQuietCommits } = expectedVersionOf(Item);
      return expectedSequence === expected && expectedQuietCommits === quiet ? 'unchanged' : 'overtaken';
    } catch {
      // The check failed too: the original error stands, the caller retries the command.
      return 'unknown';
    }
  }

  private keyOf(aggregate: AggregateChange): Record<string, unknown> {
    const key: Record<string, unknown> = { [this.keys.partitionKey]: aggregate.item[this.keys.partitionKey] };
    if (this.keys.sortKey) key[this.keys.sortKey] = aggregate.item[this.keys.sortKey];
    return key;
  }

  /** Every staged message must be publishable as it will be published (partition key included). */
  private checkMessages(aggregate: AggregateChange): void {
    for (const { message, destination, maxMessageBytes } of this.messages) {
      const published = withPartitionKey(message, aggregate.aggregateId);
      const reason = unsendableReason(destination, published, maxMessageBytes);
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
    const maxMessageBytes =
      (typeof channel === 'string' ? undefined : channel.maxMessageBytes) ?? maxMessageBytesOf(destination);
    this.messages.push({ message: staged, destination, maxMessageBytes });
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

  private async readSequence(
    aggregate: AggregateChange,
  ): Promise<{ expected: number; quiet: number; previous: string[] }> {
    if (aggregate.expectedSequence !== undefined) {
      const quiet = aggregate.expectedQuietCommits ?? 0;
      for (const [name, value] of [
        ['expectedSequence', aggregate.expectedSequence],
        ['expectedQuietCommits', quiet],
      ] as const) {
        if (!Number.isInteger(value) || value < 0)
          throw new OutboxUsageError(`${name} must be a whole number >= 0, got ${value}.`);
      }
      return { expected: aggregate.expectedSequence, quiet, previous: [] };
    }
    if (aggregate.expectedQuietCommits !== undefined) {
      throw new OutboxUsageError(
        'expectedQuietCommits without expectedSequence: pass both as read (expectedVersionOf(item)), or neither.',
      );
    }
    const { Item } = await this.client.send(
      new GetCommand({
        TableName: this.table,
        Key: this.keyOf(aggregate),
        ConsistentRead: true,
        ProjectionExpression: '#seq, #quiet, #outbox',
        ExpressionAttributeNames: {
          '#seq': OutboxAttributes.SEQUENCE,
          '#quiet': OutboxAttributes.QUIET_COMMITS,
          '#outbox': OutboxAttributes.IN_ITEM,
        },
      }),
    );
    const { expectedSequence: expected, expectedQuietCommits: quiet } = expectedVersionOf(Item);
    const previous = Array.isArray(Item?.[OutboxAttributes.IN_ITEM])
      ? (Item[OutboxAttributes.IN_ITEM] as string[])
      : [];
    return { expected, quiet, previous };
  }

  private translate(error: unknown, aggregate: AggregateChange, expected: number, quiet: number): unknown {
    const conflict =
      error instanceof ConditionalCheckFailedException ||
      (error instanceof TransactionCanceledException &&
        error.CancellationReasons?.[0]?.Code === 'ConditionalCheckFailed');
    if (!conflict) return error;
    const old = oldItemOf(error);
    const found = old?.[OutboxAttributes.SEQUENCE]?.N;
    const foundQuiet = old?.[OutboxAttributes.QUIET_COMMITS]?.N ?? '0';
    // An item whose last commits carried no messages is not named by its sequence alone: a caller
    // passing only expectedSequence would conflict on every retry. Say what to pass.
    const hint =
      found === String(expected) && quiet === 0 && foundQuiet !== '0'
        ? ` Its last ${foundQuiet} commit(s) carried no messages, so its sequence alone does not name the state read: ` +
          `pass expectedQuietCommits (the item's ${OutboxAttributes.QUIET_COMMITS}) too, e.g. save({ ..., ...expectedVersionOf(item) }).`
        : '';
    return new OutboxConflictError(
      `Aggregate "${aggregate.aggregateId}" changed since it was read (expected outbox sequence ${expected}` +
        `${quiet > 0 ? ` after ${quiet} commit(s) without messages` : ''}). Re-read the aggregate and run the command again.${hint}`,
      aggregate.aggregateId,
      expected,
    );
  }

  private assertOpen(): void {
    if (this.committed)
      throw new OutboxUsageError('This unit of work was already committed; create a new one per command.');
  }
}

/** How often, and how long apart, a commit is resent while DynamoDB still runs its first attempt. */
const IN_PROGRESS_RETRIES = 6;
const IN_PROGRESS_BASE_DELAY_MS = 50;

/**
 * Sends the transaction; while DynamoDB answers TransactionInProgressException, sends it again with
 * the same token. That answer means an earlier attempt with this token (whose response was lost, so
 * the SDK retried) is still running. The SDK classifies the answer as a throttle, but its few
 * attempts may all land while that attempt runs, and then the commit would be reported as failed
 * although it is applied. Once the first attempt has finished, the same token returns its outcome,
 * so waiting turns "unknown" into the real answer.
 */
async function sendAwaitingOwnAttempt(client: DynamoDBDocumentClient, transaction: TransactWriteCommand) {
  for (let attempt = 0; ; attempt++) {
    try {
      return await client.send(transaction);
    } catch (error) {
      if (!(error instanceof TransactionInProgressException) || attempt >= IN_PROGRESS_RETRIES) throw error;
      const ceiling = IN_PROGRESS_BASE_DELAY_MS * 2 ** attempt;
      await new Promise((resolve) => setTimeout(resolve, ceiling / 2 + Math.random() * (ceiling / 2)));
    }
  }
}

/** The aggregate item as the failed condition found it (ReturnValuesOnConditionCheckFailure ALL_OLD). */
function oldItemOf(error: unknown): Record<string, AttributeValue> | undefined {
  if (error instanceof ConditionalCheckFailedException) return error.Item;
  if (error instanceof TransactionCanceledException) return error.CancellationReasons?.[0]?.Item;
  return undefined;
}

/** True when a failed condition met the item this very commit wrote (same commit id). */
function ownWriteFound(error: unknown, commitId: string): boolean {
  return oldItemOf(error)?.[COMMIT_ID]?.S === commitId;
}

/**
 * The write's condition: the item still has the version read. Items written before
 * `_quietCommits` existed count as 0. A new aggregate (0, 0) may also find an item without
 * `_outboxSeq` (business data written by other code).
 */
function versionCondition(
  expected: number,
  quiet: number,
): {
  ConditionExpression: string;
  ExpressionAttributeNames: Record<string, string>;
  ExpressionAttributeValues: Record<string, number>;
} {
  const ExpressionAttributeNames = {
    '#seq': OutboxAttributes.SEQUENCE,
    '#quiet': OutboxAttributes.QUIET_COMMITS,
  };
  if (quiet > 0) {
    return {
      ConditionExpression: '#seq = :expected AND #quiet = :quiet',
      ExpressionAttributeNames,
      ExpressionAttributeValues: { ':expected': expected, ':quiet': quiet },
    };
  }
  const noQuietCommits = '(attribute_not_exists(#quiet) OR #quiet = :zero)';
  if (expected === 0) {
    return {
      ConditionExpression: `attribute_not_exists(#seq) OR (#seq = :zero AND ${noQuietCommits})`,
      ExpressionAttributeNames,
      ExpressionAttributeValues: { ':zero': 0 },
    };
  }
  return {
    ConditionExpression: `#seq = :expected AND ${noQuietCommits}`,
    ExpressionAttributeNames,
    ExpressionAttributeValues: { ':expected': expected, ':zero': 0 },
  };
}
