/**
 * The IAM condition operators and keys that CDK-generated and cdk-nag-clean templates use. An
 * operator or key outside this set is reported once and fails closed: an Allow with it does not
 * apply, a Deny with it does; nothing unknown is silently allowed.
 */
import { wildcardMatch } from './policy-document';

/** Condition keys the local cloud knows the value of for a request. */
export const SUPPORTED_KEYS = [
  'aws:sourcearn',
  'aws:sourceaccount',
  'aws:securetransport',
  'kms:viaservice',
  'aws:principalarn',
];

const OPERATORS: Record<string, (actual: string, expected: string) => boolean> = {
  StringEquals: (a, e) => a === e,
  StringNotEquals: (a, e) => a !== e,
  StringLike: (a, e) => wildcardMatch(e, a),
  StringNotLike: (a, e) => !wildcardMatch(e, a),
  ArnEquals: (a, e) => a === e,
  ArnLike: (a, e) => wildcardMatch(e, a),
  ArnNotEquals: (a, e) => a !== e,
  ArnNotLike: (a, e) => !wildcardMatch(e, a),
  Bool: (a, e) => a.toLowerCase() === e.toLowerCase(),
};

/** Negated operators hold when no listed value matches; the others when any does. */
const NEGATED = new Set(['StringNotEquals', 'StringNotLike', 'ArnNotEquals', 'ArnNotLike']);

export type ConditionOutcome = 'match' | 'no-match' | 'unsupported';

export interface UnsupportedCondition {
  readonly operator: string;
  readonly key: string;
}

/**
 * Evaluates one statement's Condition block against the request's context (lower-cased keys).
 * Every operator and every key in it must hold.
 */
export function evaluateConditions(
  condition: Record<string, Record<string, unknown>> | undefined,
  context: ReadonlyMap<string, string>,
  onUnsupported: (u: UnsupportedCondition) => void,
): ConditionOutcome {
  if (!condition) return 'match';
  let outcome: ConditionOutcome = 'match';
  for (const [rawOperator, entries] of Object.entries(condition)) {
    const ifExists = rawOperator.endsWith('IfExists');
    const operator = ifExists ? rawOperator.slice(0, -'IfExists'.length) : rawOperator;
    for (const [rawKey, expectedValue] of Object.entries(entries ?? {})) {
      const key = rawKey.toLowerCase();
      const expected = (Array.isArray(expectedValue) ? expectedValue : [expectedValue]).map(String);
      if (!SUPPORTED_KEYS.includes(key) || (operator !== 'Null' && !OPERATORS[operator])) {
        onUnsupported({ operator: rawOperator, key: rawKey });
        outcome = 'unsupported';
        continue;
      }
      const actual = context.get(key);
      let holds: boolean;
      if (operator === 'Null') {
        // Null: true means "the key is absent".
        holds = expected.some((e) => e.toLowerCase() === String(actual === undefined));
      } else if (actual === undefined) {
        holds = ifExists || NEGATED.has(operator);
      } else {
        const test = OPERATORS[operator]!;
        holds = NEGATED.has(operator)
          ? expected.every((e) => test(actual, e))
          : expected.some((e) => test(actual, e));
      }
      if (!holds && outcome === 'match') outcome = 'no-match';
    }
  }
  return outcome;
}
