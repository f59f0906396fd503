/**
 * Lambda event filtering (FilterCriteria.Filters[].Pattern), compiled once at mapping creation,
 * with the semantics of https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventfiltering.html
 * (the EventBridge pattern rules Lambda shares). A record passes when it matches ANY pattern.
 *
 * Matching follows the record's structure, and rules apply to LEAF values only (strings, numbers,
 * booleans, null), as the DynamoDB filtering page documents: `{"Organizations":[{"exists":true}]}`
 * never matches a list attribute, `{"Organizations":{"L":{"S":["Sales"]}}}` steps through the list.
 * A pattern level meeting an array of objects matches when ONE element matches all of that
 * level's fields (EventBridge's array consistency). A field whose value is an array of leaves
 * matches when any element does. Duplicate keys in a pattern keep the last value (JSON.parse does
 * exactly what the "Duplicate keys" section says).
 *
 * Supported rules: exact strings, numbers, booleans and null (`""` is Empty); `prefix`, `suffix`,
 * `equals-ignore-case`; `anything-but` with a value, a list or prefix/suffix/equals-ignore-case;
 * `numeric` (=, <, <=, >, >=; numbers only, so DynamoDB's `{"N":"5"}` strings never match, as its
 * page says); `exists`; `$or`. Anything else (`cidr`, `wildcard`, unknown keys) is rejected with
 * FilterPatternError, so a pattern never silently matches differently than it would in AWS.
 *
 * The data key (`body` for SQS, `dynamodb` for streams) follows the "Properly filtering" tables:
 * a JSON pattern on a plain-string body (or the reverse) drops the message; a non-JSON pattern for
 * `dynamodb` is refused at mapping creation.
 */
import { FilterPatternError } from './errors';

/** Tests the leaf values found at a field (empty when the field is absent or not a leaf). */
type Matcher = (leaves: readonly unknown[]) => boolean;
type ObjectMatcher = (value: unknown) => boolean;

const NUMERIC_OPERATORS: Record<string, (a: number, b: number) => boolean> = {
  '=': (a, b) => a === b,
  '<': (a, b) => a < b,
  '<=': (a, b) => a <= b,
  '>': (a, b) => a > b,
  '>=': (a, b) => a >= b,
};

function fail(path: string, message: string): never {
  throw new FilterPatternError(`Filter pattern, at ${path || 'the top level'}: ${message}`);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isScalar(value: unknown): value is string | number | boolean | null {
  return value === null || ['string', 'number', 'boolean'].includes(typeof value);
}

/** The leaf values of a field: itself when scalar, the scalar elements of (nested) arrays, else none. */
export function leafValues(value: unknown): unknown[] {
  if (value === undefined) return [];
  if (isScalar(value)) return [value];
  if (Array.isArray(value))
    return value.flatMap((element) => (isPlainObject(element) ? [] : leafValues(element)));
  return [];
}

function stringTest(path: string, operator: string, operand: unknown): (v: unknown) => boolean {
  if (typeof operand !== 'string') fail(path, `"${operator}" needs a string, got ${JSON.stringify(operand)}`);
  switch (operator) {
    case 'prefix':
      return (v) => typeof v === 'string' && v.startsWith(operand);
    case 'suffix':
      return (v) => typeof v === 'string' && v.endsWith(operand);
    default:
      return (v) => typeof v === 'string' && v.toLowerCase() === operand.toLowerCase();
  }
}

function compileAnythingBut(path: string, operand: unknown): Matcher {
  if (isPlainObject(operand)) {
    const [operator, inner] = Object.entries(operand)[0] ?? [];
    if (
      Object.keys(operand).length !== 1 ||
      !operator ||
      !['prefix', 'suffix', 'equals-ignore-case'].includes(operator)
    ) {
      fail(
        path,
        `"anything-but" supports a value, a list, or {"prefix"|"suffix"|"equals-ignore-case": ...}; got ${JSON.stringify(operand)}`,
      );
    }
    const test = stringTest(path, operator, inner);
    return (leaves) => leaves.some((v) => typeof v === 'string' && !test(v));
  }
  const excluded = Array.isArray(operand) ? operand : [operand];
  if (!excluded.every(isScalar)) fail(path, `"anything-but" values must be strings, numbers or booleans`);
  return (leaves) => leaves.some((v) => !excluded.includes(v as never));
}

function compileNumeric(path: string, operand: unknown): Matcher {
  if (!Array.isArray(operand) || operand.length === 0 || operand.length % 2 !== 0 || operand.length > 4) {
    fail(
      path,
      `"numeric" needs [operator, number] or [operator, number, operator, number], got ${JSON.stringify(operand)}`,
    );
  }
  const checks: ((n: number) => boolean)[] = [];
  for (let i = 0; i < operand.length; i += 2) {
    const operator = NUMERIC_OPERATORS[operand[i] as string];
    const bound = operand[i + 1];
    if (!operator || typeof bound !== 'number') {
      fail(
        path,
        `"numeric" operators are =, <, <=, >, >= followed by a number; got ${JSON.stringify(operand)}`,
      );
    }
    checks.push((n) => operator(n, bound));
  }
  return (leaves) => leaves.some((v) => typeof v === 'number' && checks.every((c) => c(v)));
}

function compileRule(path: string, rule: unknown): Matcher {
  if (isScalar(rule)) return (leaves) => leaves.some((v) => v === rule);
  if (!isPlainObject(rule) || Object.keys(rule).length !== 1) {
    fail(path, `each list element must be a value or a one-key operator object, got ${JSON.stringify(rule)}`);
  }
  const [operator, operand] = Object.entries(rule)[0] as [string, unknown];
  switch (operator) {
    case 'prefix':
    case 'suffix':
    case 'equals-ignore-case': {
      if (operator === 'prefix' && isPlainObject(operand) && 'equals-ignore-case' in operand) {
        const inner = String(operand['equals-ignore-case']).toLowerCase();
        return (leaves) => leaves.some((v) => typeof v === 'string' && v.toLowerCase().startsWith(inner));
      }
      const test = stringTest(path, operator, operand);
      return (leaves) => leaves.some(test);
    }
    case 'anything-but':
      return compileAnythingBut(path, operand);
    case 'numeric':
      return compileNumeric(path, operand);
    case 'exists':
      if (typeof operand !== 'boolean')
        fail(path, `"exists" needs true or false, got ${JSON.stringify(operand)}`);
      // Leaf nodes only: an object or a list of objects at this path does not "exist" here.
      return (leaves) => leaves.length > 0 === operand;
    default:
      fail(
        path,
        `operator "${operator}" is not supported locally (supported: prefix, suffix, equals-ignore-case, anything-but, numeric, exists, $or)`,
      );
  }
}

/** A nested pattern level meets an array of objects: one element must match the whole level. */
function stepInto(nested: ObjectMatcher, field: unknown): boolean {
  if (!Array.isArray(field)) return nested(field);
  const objects = field.filter(isPlainObject);
  return objects.length === 0 ? nested(undefined) : objects.some((element) => nested(element));
}

function compileObject(path: string, pattern: unknown): ObjectMatcher {
  if (!isPlainObject(pattern))
    fail(path, `a pattern level must be a JSON object, got ${JSON.stringify(pattern)}`);
  const checks: ObjectMatcher[] = [];
  for (const [key, sub] of Object.entries(pattern)) {
    const here = path ? `${path}.${key}` : key;
    if (key === '$or') {
      if (!Array.isArray(sub) || sub.length < 2) fail(here, '"$or" needs a list of at least two patterns');
      const alternatives = sub.map((alternative, i) => compileObject(`${here}[${i}]`, alternative));
      checks.push((value) => alternatives.some((alternative) => alternative(value)));
    } else if (Array.isArray(sub)) {
      if (sub.length === 0) fail(here, 'a value list must not be empty');
      const rules = sub.map((rule) => compileRule(here, rule));
      checks.push((value) => {
        const leaves = leafValues(isPlainObject(value) ? value[key] : undefined);
        return rules.some((rule) => rule(leaves));
      });
    } else if (isPlainObject(sub)) {
      const nested = compileObject(here, sub);
      checks.push((value) => stepInto(nested, isPlainObject(value) ? value[key] : undefined));
    } else {
      fail(here, `values must be lists (e.g. ["INSERT"]) or nested objects, got ${JSON.stringify(sub)}`);
    }
  }
  return (value) => checks.every((check) => check(value));
}

/** Which field of the record holds the payload, and how the source encodes it. */
export type FilterDataKey = 'dynamodb' | 'body';

function parseJsonBody(body: unknown): { json: true; value: unknown } | { json: false } {
  if (typeof body !== 'string') return { json: false };
  try {
    const value: unknown = JSON.parse(body);
    // Only objects and arrays count as a JSON body; "42" or "\"x\"" are plain strings to filter on.
    return typeof value === 'object' && value !== null ? { json: true, value } : { json: false };
  } catch {
    return { json: false };
  }
}

/** One pattern, with the SQS rule for how `body` is read (JSON pattern vs plain-string pattern). */
function compilePattern(text: string, index: number, dataKey: FilterDataKey): (record: unknown) => boolean {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new FilterPatternError(
      `Filter pattern ${index + 1} is not valid JSON (${(error as Error).message}): ${text}`,
    );
  }
  let matches: ObjectMatcher;
  try {
    matches = compileObject('', parsed);
  } catch (error) {
    if (error instanceof FilterPatternError) {
      throw new FilterPatternError(`Filter pattern ${index + 1} (${text}): ${error.message}`);
    }
    throw error;
  }
  const data = isPlainObject(parsed) ? parsed[dataKey] : undefined;
  if (dataKey === 'dynamodb') {
    if (Array.isArray(data)) {
      throw new FilterPatternError(
        `Filter pattern ${index + 1} (${text}): the pattern for "dynamodb" must be a JSON object of keys ` +
          '(e.g. {"dynamodb":{"Keys":{"id":{"S":["a"]}}}}), as Lambda requires; a value list is rejected.',
      );
    }
    return matches;
  }
  if (data === undefined) return matches;
  const wantsJsonBody = isPlainObject(data);
  return (record) => {
    const body = parseJsonBody(isPlainObject(record) ? record.body : undefined);
    // A format mismatch between body and pattern drops the message, as the SQS table says.
    if (wantsJsonBody !== body.json) return false;
    return matches(body.json ? { ...(record as Record<string, unknown>), body: body.value } : record);
  };
}

/**
 * Compiles FilterCriteria pattern strings into one predicate (a record passes if any pattern
 * matches). Throws FilterPatternError, naming the pattern and the path, for what is unsupported.
 *
 * @example
 * const passes = compileFilterPatterns(['{"eventName":["INSERT"],"dynamodb":{"NewImage":{"status":{"S":["open"]}}}}']);
 * passes(record); // true for an INSERT whose new image has status "open"
 */
export function compileFilterPatterns(
  patterns: readonly string[],
  dataKey: FilterDataKey = 'dynamodb',
): (record: unknown) => boolean {
  const compiled = patterns.map((text, index) => compilePattern(text, index, dataKey));
  if (compiled.length === 0) return () => true;
  return (record) => compiled.some((matches) => matches(record));
}
