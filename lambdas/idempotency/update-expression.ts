/**
 * Merges extra actions into a user's UpdateExpression. DynamoDB allows each clause keyword (SET,
 * REMOVE, ADD, DELETE) once, so actions go into the existing clause rather than a second one.
 *
 * The expression is tokenized first: `#name` and `:value` placeholders are single tokens, so a
 * placeholder that spells a keyword (`:remove`, `#set`, `:delete`) is never taken for a clause.
 * A keyword is a clause only as a bare word outside parentheses (the keywords are reserved words,
 * so they cannot be raw attribute names).
 */
import { DeduplicationConfigurationError } from './errors';

export type ClauseName = 'SET' | 'REMOVE' | 'ADD' | 'DELETE';

const CLAUSES: ReadonlySet<string> = new Set(['SET', 'REMOVE', 'ADD', 'DELETE']);

interface Token {
  readonly kind: 'word' | 'placeholder' | 'number' | 'symbol';
  readonly text: string;
  readonly start: number;
  readonly end: number;
}

// Sticky: each match must start where the previous one ended (after optional white space).
const TOKEN = /\s*(?:([#:][A-Za-z0-9_]+)|([A-Za-z_][A-Za-z0-9_]*)|([0-9]+)|([[\](),=+\-.]))/y;

/** Splits an update expression into tokens; throws on a character DynamoDB would not accept. */
export function tokenizeUpdateExpression(expression: string): Token[] {
  const tokens: Token[] = [];
  let position = 0;
  while (expression.slice(position).trim() !== '') {
    TOKEN.lastIndex = position;
    const match = TOKEN.exec(expression);
    if (!match) {
      const rest = expression.slice(position).trimStart();
      throw new DeduplicationConfigurationError(
        `UpdateExpression "${expression}" has an unexpected "${rest[0]}" at position ${expression.length - rest.length}: ` +
          'use attribute names, #name and :value placeholders, and = + - , . [ ] ( ).',
      );
    }
    const [, placeholder, word, number, symbol] = match;
    const text = (placeholder ?? word ?? number ?? symbol) as string;
    const end = match.index + match[0].length;
    const kind = placeholder ? 'placeholder' : word ? 'word' : number ? 'number' : 'symbol';
    tokens.push({ kind, text, start: end - text.length, end });
    position = end;
  }
  return tokens;
}

export function parseUpdateExpression(expression: string): Map<ClauseName, string> {
  const clauses = new Map<ClauseName, string>();
  const tokens = tokenizeUpdateExpression(expression);
  const starts: { name: ClauseName; start: number; end: number }[] = [];
  let depth = 0;
  for (const token of tokens) {
    if (token.text === '(') depth += 1;
    else if (token.text === ')') depth -= 1;
    else if (token.kind === 'word' && depth === 0 && CLAUSES.has(token.text.toUpperCase()))
      starts.push({ name: token.text.toUpperCase() as ClauseName, start: token.start, end: token.end });
  }
  const firstToken = tokens[0];
  if (firstToken && starts[0]?.start !== firstToken.start) {
    throw new DeduplicationConfigurationError(
      `UpdateExpression "${expression}" must start with SET, REMOVE, ADD or DELETE.`,
    );
  }
  starts.forEach((clause, i) => {
    if (clauses.has(clause.name)) {
      throw new DeduplicationConfigurationError(`UpdateExpression "${expression}" has ${clause.name} twice.`);
    }
    const end = starts[i + 1]?.start ?? expression.length;
    clauses.set(clause.name, expression.slice(clause.end, end).trim());
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
