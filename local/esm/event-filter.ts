/**
 * Lambda event filtering (FilterCriteria.Filters[].Pattern), compiled once at mapping creation.
 * A record passes when it matches ANY of the patterns. Supported syntax (the common subset of
 * https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventfiltering.html):
 *   - nested objects that follow the record's structure;
 *   - value lists: exact strings, numbers, booleans and null (any element matching is enough,
 *     and a list-valued field matches when any of its elements matches);
 *   - `{"prefix": "s"}`, `{"suffix": "s"}`, `{"equals-ignore-case": "s"}`;
 *   - `{"anything-but": v | [v...] | {"prefix": "s"} | {"suffix": "s"}}`;
 *   - `{"numeric": [">", 0, "<=", 5]}` (operators =, <, <=, >, >=; numbers only);
 *   - `{"exists": true | false}`;
 *   - `{"$or": [pattern, pattern, ...]}` at any object level.
 * Anything else (`cidr`, `wildcard`, unknown keys) is rejected with FilterPatternError, so a
 * pattern never silently matches differently than it would in AWS.
 */
import { FilterPatternError } from './errors';

type Matcher = (value: unknown, present: boolean) => boolean;
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

/** Applies a scalar test to a field value, element-wise when the field holds a list. */
function anyElement(value: unknown, test: (v: unknown) => boolean): boolean {
  return Array.isArray(value) ? value.some(test) : test(value);
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
    return (value, present) => present && !anyElement(value, test);
  }
  const excluded = Array.isArray(operand) ? operand : [operand];
  if (!excluded.every(isScalar)) fail(path, `"anything-but" values must be strings, numbers or booleans`);
  return (value, present) => present && !anyElement(value, (v) => excluded.includes(v as never));
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
  return (value, present) =>
    present && anyElement(value, (v) => typeof v === 'number' && checks.every((c) => c(v)));
}

function compileRule(path: string, rule: unknown): Matcher {
  if (isScalar(rule)) return (value, present) => present && anyElement(value, (v) => v === rule);
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
        return (value, present) =>
          present && anyElement(value, (v) => typeof v === 'string' && v.toLowerCase().startsWith(inner));
      }
      const test = stringTest(path, operator, operand);
      return (value, present) => present && anyElement(value, test);
    }
    case 'anything-but':
      return compileAnythingBut(path, operand);
    case 'numeric':
      return compileNumeric(path, operand);
    case 'exists':
      if (typeof operand !== 'boolean')
        fail(path, `"exists" needs true or false, got ${JSON.stringify(operand)}`);
      return (_value, present) => present === operand;
    default:
      fail(
        path,
        `operator "${operator}" is not supported locally (supported: prefix, suffix, equals-ignore-case, anything-but, numeric, exists, $or)`,
      );
  }
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
        const present = isPlainObject(value) && key in value && value[key] !== undefined;
        const field = present ? (value as Record<string, unknown>)[key] : undefined;
        return rules.some((rule) => rule(field, present));
      });
    } else if (isPlainObject(sub)) {
      const nested = compileObject(here, sub);
      checks.push((value) => nested(isPlainObject(value) ? value[key] : undefined));
    } else {
      fail(here, `values must be lists (e.g. ["INSERT"]) or nested objects, got ${JSON.stringify(sub)}`);
    }
  }
  return (value) => checks.every((check) => check(value));
}

/**
 * Compiles FilterCriteria pattern strings into one predicate (a record passes if any pattern
 * matches). Throws FilterPatternError, naming the pattern and the path, for what is unsupported.
 *
 * @example
 * const passes = compileFilterPatterns(['{"eventName":["INSERT"],"dynamodb":{"NewImage":{"status":{"S":["open"]}}}}']);
 * passes(record); // true for an INSERT whose new image has status "open"
 */
export function compileFilterPatterns(patterns: readonly string[]): (record: unknown) => boolean {
  const compiled = patterns.map((text, index) => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      throw new FilterPatternError(
        `Filter pattern ${index + 1} is not valid JSON (${(error as Error).message}): ${text}`,
      );
    }
    try {
      return compileObject('', parsed);
    } catch (error) {
      if (error instanceof FilterPatternError) {
        throw new FilterPatternError(`Filter pattern ${index + 1} (${text}): ${error.message}`);
      }
      throw error;
    }
  });
  if (compiled.length === 0) return () => true;
  return (record) => compiled.some((matches) => matches(record));
}
