/**
 * Merges extra actions into a user's UpdateExpression. DynamoDB allows each clause keyword (SET,
 * REMOVE, ADD, DELETE) once, so actions go into the existing clause rather than a second one. The
 * keywords are reserved words, so they cannot appear as raw attribute names: splitting on them is sound.
 */
import { DeduplicationConfigurationError } from './errors';

export type ClauseName = 'SET' | 'REMOVE' | 'ADD' | 'DELETE';

const KEYWORD = /\b(SET|REMOVE|ADD|DELETE)\b/gi;

export function parseUpdateExpression(expression: string): Map<ClauseName, string> {
  const clauses = new Map<ClauseName, string>();
  const matches = [...expression.matchAll(KEYWORD)];
  const head = expression.slice(0, matches[0]?.index ?? expression.length).trim();
  if (head) {
    throw new DeduplicationConfigurationError(
      `UpdateExpression "${expression}" must start with SET, REMOVE, ADD or DELETE.`,
    );
  }
  matches.forEach((match, i) => {
    const name = match[1]!.toUpperCase() as ClauseName;
    if (clauses.has(name)) {
      throw new DeduplicationConfigurationError(`UpdateExpression "${expression}" has ${name} twice.`);
    }
    const end = matches[i + 1]?.index ?? expression.length;
    clauses.set(name, expression.slice(match.index! + match[0].length, end).trim());
  });
  return clauses;
}

/** Returns `expression` with `actions` appended to their clauses (clauses created as needed). */
export function mergeUpdateExpression(
  expression: string | undefined,
  actions: Partial<Record<ClauseName, readonly string[]>>,
): string {
  const clauses = parseUpdateExpression(expression ?? '');
  for (const [name, extra] of Object.entries(actions) as [ClauseName, readonly string[]][]) {
    if (extra.length === 0) continue;
    const existing = clauses.get(name);
    clauses.set(name, existing ? `${existing}, ${extra.join(', ')}` : extra.join(', '));
  }
  return [...clauses.entries()].map(([name, body]) => `${name} ${body}`).join(' ');
}
