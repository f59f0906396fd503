/** Issue 8 defect 6: the in-item update-expression merge tokenizes, so placeholders that spell keywords survive. */
import { inItem } from '../lambdas/idempotency';
import { mergeUpdateExpression, parseUpdateExpression } from '../lambdas/idempotency/update-expression';
import { counterMessage, createTable, getItem, handlerContext } from './idempotency-fixtures';

describe('update expression parser: #name and :value placeholders are tokens', () => {
  it('SET #status = :remove keeps :remove as a value', () => {
    expect(parseUpdateExpression('SET #status = :remove')).toEqual(new Map([['SET', '#status = :remove']]));
    expect(mergeUpdateExpression('SET #status = :remove', { SET: ['#sy_p = :sy_init'] })).toBe(
      'SET #status = :remove, #sy_p = :sy_init',
    );
  });

  it('SET #s = :set keeps :set as a value', () => {
    expect(mergeUpdateExpression('SET #s = :set', { SET: ['p[100000] = :id'], REMOVE: ['p[0]'] })).toBe(
      'SET #s = :set, p[100000] = :id REMOVE p[0]',
    );
  });

  it('ADD #count :delete keeps :delete as a value', () => {
    expect(mergeUpdateExpression('ADD #count :delete', { SET: ['p = :i'] })).toBe(
      'ADD #count :delete SET p = :i',
    );
  });

  it('placeholders spelling every keyword, mixed case, functions and paths', () => {
    const expression =
      'set #add = list_append(#add, :set), #delete.#remove[2] = if_not_exists(#x, :add) + :remove REMOVE #set Add #n :delete';
    expect(parseUpdateExpression(expression)).toEqual(
      new Map([
        ['SET', '#add = list_append(#add, :set), #delete.#remove[2] = if_not_exists(#x, :add) + :remove'],
        ['REMOVE', '#set'],
        ['ADD', '#n :delete'],
      ]),
    );
  });

  it('still rejects a clause twice, a missing keyword and characters DynamoDB does not accept', () => {
    expect(() => parseUpdateExpression('SET a = :a SET b = :b')).toThrow(/SET twice/);
    expect(() => parseUpdateExpression('#a = :a')).toThrow(/must start with SET/);
    expect(() => parseUpdateExpression('SET a = :a; DROP')).toThrow(/unexpected ";" at position 10/);
    expect(parseUpdateExpression('')).toEqual(new Map());
  });
});

describe('inItem() on DynamoDB Local with placeholders that spell keywords', () => {
  it('applies SET #status = :remove and ADD #count :delete once, and detects the duplicate', async () => {
    const table = await createTable('in-item-keywords');
    let runs = 0;
    const handler = inItem<{ item: string; seq: number }>(async (message) => {
      runs += 1;
      return {
        update: {
          TableName: table,
          Key: { pk: { S: message.payload.item } },
          UpdateExpression: 'SET #status = :remove, #s = :set ADD #count :delete',
          ExpressionAttributeNames: { '#status': 'status', '#s': 'state', '#count': 'count' },
          ExpressionAttributeValues: {
            ':remove': { S: 'REMOVED' },
            ':set': { S: 'SET' },
            ':delete': { N: '1' },
          },
        },
      };
    });
    const message = counterMessage('kw-1');
    await handler(message, handlerContext('keywords'));
    await handler(message, handlerContext('keywords')); // a duplicate delivery
    const item = await getItem(table, 'kw-1');
    expect(item?.status?.S).toBe('REMOVED');
    expect(item?.state?.S).toBe('SET');
    expect(item?.count?.N).toBe('1');
    expect(runs).toBe(2);
  });
});
