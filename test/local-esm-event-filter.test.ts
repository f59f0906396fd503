/** Lambda event filtering patterns: each supported operator, and clear errors for the rest. */
import { FilterPatternError } from '../local/esm/errors';
import { compileFilterPatterns } from '../local/esm/event-filter';

const record = {
  eventName: 'MODIFY',
  dynamodb: {
    NewImage: { status: { S: 'Open-Order' }, total: 42, tags: ['red', 'blue'], note: null },
  },
};

const matches = (...patterns: unknown[]) =>
  compileFilterPatterns(patterns.map((p) => JSON.stringify(p)))(record);
const image = (fields: unknown) => ({ dynamodb: { NewImage: fields } });

describe('compileFilterPatterns', () => {
  test('exact values, with list-valued fields matching on any element', () => {
    expect(matches({ eventName: ['INSERT', 'MODIFY'] })).toBe(true);
    expect(matches({ eventName: ['INSERT'] })).toBe(false);
    expect(matches(image({ tags: ['blue'] }))).toBe(true);
    expect(matches(image({ total: [42] }))).toBe(true);
    expect(matches(image({ note: [null] }))).toBe(true);
    expect(matches(image({ status: { S: ['open-order'] } }))).toBe(false);
  });

  test('prefix, suffix and equals-ignore-case', () => {
    expect(matches(image({ status: { S: [{ prefix: 'Open' }] } }))).toBe(true);
    expect(matches(image({ status: { S: [{ prefix: 'Closed' }] } }))).toBe(false);
    expect(matches(image({ status: { S: [{ suffix: '-Order' }] } }))).toBe(true);
    expect(matches(image({ status: { S: [{ 'equals-ignore-case': 'open-order' }] } }))).toBe(true);
  });

  test('anything-but with a value, a list and a prefix; never matches a missing field', () => {
    expect(matches({ eventName: [{ 'anything-but': 'REMOVE' }] })).toBe(true);
    expect(matches({ eventName: [{ 'anything-but': ['MODIFY', 'REMOVE'] }] })).toBe(false);
    expect(matches({ eventName: [{ 'anything-but': { prefix: 'MOD' } }] })).toBe(false);
    expect(matches({ missing: [{ 'anything-but': 'x' }] })).toBe(false);
  });

  test('numeric ranges on numbers only', () => {
    expect(matches(image({ total: [{ numeric: ['>', 40, '<=', 42] }] }))).toBe(true);
    expect(matches(image({ total: [{ numeric: ['<', 10] }] }))).toBe(false);
    expect(matches(image({ total: [{ numeric: ['=', 42] }] }))).toBe(true);
    expect(matches(image({ status: { S: [{ numeric: ['>', 0] }] } }))).toBe(false);
  });

  test('exists true and false', () => {
    expect(matches(image({ total: [{ exists: true }] }))).toBe(true);
    expect(matches(image({ discount: [{ exists: false }] }))).toBe(true);
    expect(matches(image({ discount: [{ exists: true }] }))).toBe(false);
    expect(matches({ dynamodb: { OldImage: { total: [{ exists: false }] } } })).toBe(true);
  });

  test('$or, and several patterns (any pattern matching is enough)', () => {
    expect(matches({ $or: [{ eventName: ['INSERT'] }, image({ total: [{ numeric: ['>', 10] }] })] })).toBe(
      true,
    );
    expect(matches({ $or: [{ eventName: ['INSERT'] }, { eventName: ['REMOVE'] }] })).toBe(false);
    expect(matches({ eventName: ['INSERT'] }, { eventName: ['MODIFY'] })).toBe(true);
    expect(compileFilterPatterns([])(record)).toBe(true);
  });

  test('fails with a clear error for unsupported operators and malformed patterns', () => {
    expect(() => compileFilterPatterns(['{"eventName":[{"wildcard":"MOD*"}]}'])).toThrow(FilterPatternError);
    expect(() => compileFilterPatterns(['{"eventName":[{"cidr":"10.0.0.0/24"}]}'])).toThrow(
      /"cidr" is not supported/,
    );
    expect(() => compileFilterPatterns(['{"eventName":'])).toThrow(/not valid JSON/);
    expect(() => compileFilterPatterns(['{"eventName":[]}'])).toThrow(/must not be empty/);
    expect(() => compileFilterPatterns(['{"a":[{"numeric":[">"]}]}'])).toThrow(/"numeric" needs/);
    expect(() => compileFilterPatterns(['{"$or":[{"a":["x"]}]}'])).toThrow(/at least two/);
  });
});
