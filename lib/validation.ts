/**
 * Synth-time validation: constructs collect every problem with their props and throw once, with a
 * message that starts with the construct path and says the value given, what is allowed and how to fix it.
 */
import { Token } from 'aws-cdk-lib';
import type { Construct } from 'constructs';

/** Thrown at synth time when a Switchyard construct is given props that cannot work. */
export class SwitchyardConfigurationError extends Error {
  constructor(
    message: string,
    /** Each problem on its own. */
    readonly problems: readonly string[],
  ) {
    super(message);
    this.name = 'SwitchyardConfigurationError';
  }
}

/** Collects the problems found in one construct's props. */
export class Problems {
  private readonly found: string[] = [];

  constructor(private readonly scope: Construct) {}

  add(problem: string): void {
    this.found.push(problem);
  }

  get count(): number {
    return this.found.length;
  }

  /** Throws one error listing every problem, or does nothing when there are none. */
  throwIfAny(): void {
    if (this.found.length === 0) return;
    const list = this.found.map((p) => `  - ${p}`).join('\n');
    throw new SwitchyardConfigurationError(
      `${this.scope.node.path}: ${this.found.length} invalid setting${this.found.length === 1 ? '' : 's'}:\n${list}`,
      [...this.found],
    );
  }
}

const NAME_PATTERN = /^[A-Za-z0-9_-]+$/;

/**
 * Checks a channel or consumer name: 1 to `maxLength` characters of `[A-Za-z0-9_-]`. `reserved`
 * characters are kept for a suffix the construct adds (`.fifo`).
 */
export function checkName(
  problems: Problems,
  what: string,
  name: string,
  maxLength: number,
  reserved = 0,
): void {
  if (Token.isUnresolved(name)) {
    problems.add(
      `${what} is a token; give a literal name so it can be checked and used in environment variables.`,
    );
    return;
  }
  const allowed = maxLength - reserved;
  if (name.length < 1 || name.length > allowed || !NAME_PATTERN.test(name)) {
    problems.add(
      `${what} "${name}" is not allowed: use 1-${allowed} characters of A-Z, a-z, 0-9, "_" and "-"` +
        (reserved > 0 ? ' (the ".fifo" suffix is added for you when fifo is true)' : '') +
        `, e.g. "${suggestName(name, allowed)}".`,
    );
  }
}

function suggestName(name: string, maxLength: number): string {
  const cleaned = name
    .replace(/\.fifo$/, '')
    .replace(/[^A-Za-z0-9_-]+/g, '-')
    .slice(0, maxLength);
  return cleaned.length > 0 ? cleaned : 'orders';
}
