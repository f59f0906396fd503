/**
 * DynamoDB's item size, computed the way DynamoDB bills and limits it (Developer Guide, "Item sizes
 * and formats"): attribute names plus values; strings and binaries by their bytes; a number by its
 * significant digits (about one byte per two digits, plus one); booleans and null 1 byte; lists and
 * maps 3 bytes plus 1 byte per element plus the elements. Used to refuse a commit DynamoDB would
 * reject, with a message that says which item and by how much, instead of a ValidationException.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';

/** Most bytes one item may take. */
export const MAX_ITEM_BYTES = 400 * 1024;
/** Most items in one TransactWriteItems. */
export const MAX_TRANSACTION_ITEMS = 100;
/** Most bytes all items of one transaction may take together. */
export const MAX_TRANSACTION_BYTES = 4 * 1024 * 1024;

/** Size in bytes of `item` as DynamoDB counts it (the item is marshalled like lib-dynamodb does). */
export function itemSizeBytes(item: Record<string, unknown>): number {
  const marshalled = marshall(item, { removeUndefinedValues: true, convertClassInstanceToMap: true });
  let size = 0;
  for (const [name, value] of Object.entries(marshalled))
    size += Buffer.byteLength(name, 'utf8') + valueSize(value);
  return size;
}

function numberSize(text: string): number {
  const digits = text
    .replace(/^[-+]/, '')
    .replace(/[eE].*$/, '')
    .replace('.', '')
    .replace(/^0+/, '')
    .replace(/0+$/, '');
  return Math.min(21, Math.ceil(Math.max(1, digits.length) / 2) + 1);
}

function valueSize(value: AttributeValue): number {
  if (value.S !== undefined) return Buffer.byteLength(value.S, 'utf8');
  if (value.N !== undefined) return numberSize(value.N);
  if (value.B !== undefined) return value.B.byteLength;
  if (value.BOOL !== undefined || value.NULL !== undefined) return 1;
  if (value.SS !== undefined) return value.SS.reduce((sum, s) => sum + Buffer.byteLength(s, 'utf8'), 0);
  if (value.NS !== undefined) return value.NS.reduce((sum, n) => sum + numberSize(n), 0);
  if (value.BS !== undefined) return value.BS.reduce((sum, b) => sum + b.byteLength, 0);
  if (value.L !== undefined) return 3 + value.L.reduce((sum, v) => sum + 1 + valueSize(v), 0);
  if (value.M !== undefined) {
    return (
      3 +
      Object.entries(value.M).reduce(
        (sum, [name, v]) => sum + 1 + Buffer.byteLength(name, 'utf8') + valueSize(v as AttributeValue),
        0,
      )
    );
  }
  return 0;
}
