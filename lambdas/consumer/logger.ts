/** A minimal structured logger: one JSON object per line, which CloudWatch Logs Insights can query. */
import type { Logger } from './types';

export type LogLevel = 'info' | 'warn' | 'error';

/** A Logger that can derive loggers carrying extra fields (consumer name, message id...). */
export interface JsonLogger extends Logger {
  child(fields: Record<string, unknown>): JsonLogger;
}

export type LineWriter = (line: string) => void;

// All levels go to stdout: Lambda sends stdout and stderr to the same log stream, and one stream keeps
// the lines in the order they were written.
const writeStdout: LineWriter = (line) => {
  process.stdout.write(line);
};

/**
 * Creates a logger whose every call writes one JSON line with `level`, `message`, `timestamp`,
 * the logger's fields and the call's fields. Error values are written as `{ name, message, stack }`.
 *
 * @example
 * const logger = createLogger({ consumer: 'kitchen' });
 * logger.error('Message failed', { reason: 'handler-error', messageId });
 * // {"level":"error","message":"Message failed","timestamp":"...","consumer":"kitchen","reason":"handler-error",...}
 */
export function createLogger(
  fields: Record<string, unknown> = {},
  write: LineWriter = writeStdout,
): JsonLogger {
  const log = (level: LogLevel, message: string, callFields: Record<string, unknown> = {}) => {
    const entry = { level, message, timestamp: new Date().toISOString(), ...fields, ...callFields };
    write(`${JSON.stringify(entry, replaceErrors)}\n`);
  };
  return {
    info: (message, callFields) => log('info', message, callFields),
    warn: (message, callFields) => log('warn', message, callFields),
    error: (message, callFields) => log('error', message, callFields),
    child: (more) => createLogger({ ...fields, ...more }, write),
  };
}

function replaceErrors(_key: string, value: unknown): unknown {
  if (value instanceof Error) return { name: value.name, message: value.message, stack: value.stack };
  if (typeof value === 'bigint') return value.toString();
  return value;
}
