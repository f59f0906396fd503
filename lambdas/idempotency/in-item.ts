/**
 * In-item duplicate detection: the ids of the last N messages applied to a business item live in
 * the item itself, and the same conditional UpdateItem that applies the change records the id.
 *
 * Layout: a list attribute (default `_processed`) of exactly N entries (16-byte digests; `NULL`
 * placeholders until filled). Each write appends the new digest at the end (`SET #p[100000] = :id`:
 * an index past the end appends) and drops the oldest (`REMOVE #p[0]`), guarded by
 * `NOT contains(#p, :id)`. Both paths are siblings, so DynamoDB accepts them in one expression.
 *
 * Window guarantee: a duplicate is detected if fewer than N other messages were applied to the
 * same item between the original and the duplicate. Duplicates from SQS (visibility timeout,
 * partial batch failure, DLQ redrive) and from SNS retries usually arrive within seconds to hours,
 * during which a single item rarely receives N other messages; an item that does (a hot counter)
 * needs a larger window or the transactional mode.
 */
import { createHash } from 'node:crypto';
import {
  type AttributeValue,
  type DynamoDBClient,
  type Put,
  type Update,
  UpdateItemCommand,
  type UpdateItemCommandInput,
} from '@aws-sdk/client-dynamodb';
import type { HandlerContext, MessageHandler } from '../consumer/types';
import type { Message } from '../core/message';
import { acknowledgingDuplicates } from './acknowledge';
import {
  BusinessConditionFailedError,
  DeduplicationConfigurationError,
  DuplicateMessageError,
  RetryableDeduplicationError,
} from './errors';
import { defaultClient, errorName, rethrowDynamoError } from './settings';
import { mergeUpdateExpression } from './update-expression';

/**
 * Default number of message ids kept per item: 32 digests take about 560 bytes, which leaves
 * about 450 bytes of business data inside one write capacity unit (1 KB).
 */
export const DEFAULT_WINDOW = 32;
export const MAX_WINDOW = 1000;
/** Appending at an index past the end of the list; larger than any window. */
const APPEND_INDEX = 100_000;
const NAME = '#sy_p';
const ID = ':sy_id';
const INIT = ':sy_init';

/** Items this container has seen with an id list, most recent last; bounded so memory stays flat. */
class RecentKeys {
  private readonly keys = new Set<string>();
  constructor(private readonly max: number) {}

  has(key: string): boolean {
    return this.keys.has(key);
  }

  add(key: string): void {
    this.keys.delete(key);
    this.keys.add(key);
    if (this.keys.size > this.max) this.keys.delete(this.keys.values().next().value as string);
  }
}

const knownItems = new RecentKeys(10_000);

/** The single business write a handler returns: an UpdateItem, or a Put applied as one (see `InItemPut`). */
export type InItemWrite = { readonly update: Update } | InItemPut;

/**
 * A Put, applied as an UpdateItem that SETs every attribute given (so the item's window of ids
 * survives). Unlike a real Put, attributes not named are kept; REMOVE them with an update if needed.
 */
export interface InItemPut {
  readonly put: Put;
  /** Names of the table's key attributes (partition key, and sort key if any), e.g. `['pk']`. */
  readonly keyAttributes: readonly string[];
}

export type InItemHandler<P = unknown> = (
  message: Message<P>,
  context: HandlerContext,
) => Promise<InItemWrite | undefined> | InItemWrite | undefined;

export interface InItemOptions {
  /** Number of recent message ids remembered per item. Fixed for an item when its list is created. @default 32 */
  readonly window?: number;
  /** Attribute holding the ids. @default '_processed' */
  readonly attribute?: string;
  /** @default - a shared `new DynamoDBClient({})` */
  readonly client?: DynamoDBClient;
}

/**
 * Wraps a handler that returns one write for one business item; the decorator adds the duplicate
 * check and the id record to that same request: one write request per message. The request has two
 * forms (create the id list / shift it); the container remembers the last 10,000 items it wrote and
 * guesses the form from that. A wrong guess (an existing item this container has not seen yet) costs
 * one failed conditional write before the right form.
 *
 * A failed condition is told apart without a read (`ReturnValuesOnConditionCheckFailure: ALL_OLD`):
 * id already in the list => duplicate, acknowledged; otherwise the handler's own condition failed =>
 * `BusinessConditionFailedError`. A handler returning `undefined` has no effect to protect: acknowledged.
 *
 * @example
 * on(OrderCreated, inItem(async (message) => ({
 *   update: {
 *     TableName: 'order-history',
 *     Key: { pk: { S: message.payload.orderId } },
 *     UpdateExpression: 'SET #s = :s ADD events :one',
 *     ExpressionAttributeNames: { '#s': 'status' },
 *     ExpressionAttributeValues: { ':s': { S: 'CREATED' }, ':one': { N: '1' } },
 *   },
 * })))
 */
export function inItem<P>(handler: InItemHandler<P>, options: InItemOptions = {}): MessageHandler<P> {
  const window = options.window ?? DEFAULT_WINDOW;
  if (!Number.isInteger(window) || window < 1 || window > MAX_WINDOW) {
    throw new DeduplicationConfigurationError(
      `inItem window must be a whole number from 1 to ${MAX_WINDOW}, got ${window}.`,
    );
  }
  const attribute = options.attribute ?? '_processed';
  return acknowledgingDuplicates('in-item', async (message, context) => {
    const write = await handler(message, context);
    if (!write) return;
    const client = options.client ?? defaultClient();
    const base = toUpdate(write);
    checkNoClash(base, attribute);
    const digest = messageDigest(context.consumerName, message.id);
    const itemKey = `${base.TableName}\u0000${JSON.stringify(base.Key)}`;
    // Guess the form from what this container has seen: an item it wrote has its list; a new one
    // most likely has none yet. A wrong guess costs one failed conditional write, then the other form.
    let form: 'shift' | 'init' = knownItems.has(itemKey) ? 'shift' : 'init';
    // Two forms race only while an item's list is being created; three tries settle any such race.
    for (let attempt = 0; attempt < 3; attempt++) {
      const input =
        form === 'shift' ? shiftForm(base, attribute, digest) : initForm(base, attribute, digest, window);
      try {
        await client.send(new UpdateItemCommand(input));
        knownItems.add(itemKey);
        return;
      } catch (error) {
        if (errorName(error) !== 'ConditionalCheckFailedException') rethrowDynamoError(error, 'UpdateItem');
        const list = (error as { Item?: Record<string, AttributeValue> }).Item?.[attribute]?.L;
        if (list?.some((entry) => entry.B !== undefined && Buffer.from(entry.B).equals(digest))) {
          throw new DuplicateMessageError(context.consumerName, message.id);
        }
        if (list !== undefined) knownItems.add(itemKey);
        if (form === 'shift' && list === undefined) {
          form = 'init';
          continue;
        }
        if (form === 'init' && list !== undefined) {
          form = 'shift';
          continue;
        }
        throw new BusinessConditionFailedError(
          `The handler's condition on ${base.TableName} failed for message ${message.id} ` +
            `(it is not a duplicate): ${base.ConditionExpression ?? '(no condition)'}.`,
          error,
        );
      }
    }
    throw new RetryableDeduplicationError(
      `Could not record message ${message.id} on its item after 3 attempts (concurrent creation); ` +
        'the message is left for redelivery.',
      'Contention',
    );
  });
}

/** 128 bits of SHA-256 over consumer and message id: collisions within a window are negligible. */
export function messageDigest(consumerName: string, messageId: string): Buffer {
  return createHash('sha256').update(`${consumerName}#${messageId}`).digest().subarray(0, 16);
}

function toUpdate(write: InItemWrite): Update {
  if ('update' in write) return write.update;
  const { put, keyAttributes } = write;
  if (keyAttributes.length === 0) {
    throw new DeduplicationConfigurationError(
      'InItemPut.keyAttributes must name the key attributes, e.g. ["pk"].',
    );
  }
  const item = put.Item ?? {};
  const key: Record<string, AttributeValue> = {};
  for (const name of keyAttributes) {
    const value = item[name];
    if (!value) throw new DeduplicationConfigurationError(`The Put item lacks key attribute "${name}".`);
    key[name] = value;
  }
  const names: Record<string, string> = { ...(put.ExpressionAttributeNames ?? {}) };
  const values: Record<string, AttributeValue> = { ...(put.ExpressionAttributeValues ?? {}) };
  const sets = Object.entries(item)
    .filter(([name]) => !keyAttributes.includes(name))
    .map(([name, value], i) => {
      names[`#sy_a${i}`] = name;
      values[`:sy_a${i}`] = value;
      return `#sy_a${i} = :sy_a${i}`;
    });
  return {
    TableName: put.TableName,
    Key: key,
    UpdateExpression: sets.length ? `SET ${sets.join(', ')}` : undefined,
    ConditionExpression: put.ConditionExpression,
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
  } as Update;
}

function checkNoClash(update: Update, attribute: string): void {
  const names = update.ExpressionAttributeNames ?? {};
  const values = update.ExpressionAttributeValues ?? {};
  if (NAME in names || ID in values || INIT in values) {
    throw new DeduplicationConfigurationError(
      `Placeholders ${NAME}, ${ID} and ${INIT} are reserved by inItem(); rename yours.`,
    );
  }
  if (Object.values(names).includes(attribute)) {
    throw new DeduplicationConfigurationError(
      `The handler's write touches "${attribute}", which inItem() uses for message ids; ` +
        'choose another attribute with the `attribute` option.',
    );
  }
}

function withCondition(user: string | undefined, ours: string): string {
  return user ? `(${user}) AND ${ours}` : ours;
}

function shiftForm(base: Update, attribute: string, digest: Buffer): UpdateItemCommandInput {
  return {
    TableName: base.TableName,
    Key: base.Key,
    UpdateExpression: mergeUpdateExpression(base.UpdateExpression, {
      SET: [`${NAME}[${APPEND_INDEX}] = ${ID}`],
      REMOVE: [`${NAME}[0]`],
    }),
    ConditionExpression: withCondition(
      base.ConditionExpression,
      `attribute_exists(${NAME}) AND NOT contains(${NAME}, ${ID})`,
    ),
    ExpressionAttributeNames: { ...(base.ExpressionAttributeNames ?? {}), [NAME]: attribute },
    ExpressionAttributeValues: { ...(base.ExpressionAttributeValues ?? {}), [ID]: { B: digest } },
    ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
  };
}

function initForm(base: Update, attribute: string, digest: Buffer, window: number): UpdateItemCommandInput {
  const initial: AttributeValue[] = Array.from({ length: window - 1 }, () => ({ NULL: true }));
  initial.push({ B: digest });
  return {
    TableName: base.TableName,
    Key: base.Key,
    UpdateExpression: mergeUpdateExpression(base.UpdateExpression, { SET: [`${NAME} = ${INIT}`] }),
    ConditionExpression: withCondition(base.ConditionExpression, `attribute_not_exists(${NAME})`),
    ExpressionAttributeNames: { ...(base.ExpressionAttributeNames ?? {}), [NAME]: attribute },
    ExpressionAttributeValues: { ...(base.ExpressionAttributeValues ?? {}), [INIT]: { L: initial } },
    ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
  };
}
