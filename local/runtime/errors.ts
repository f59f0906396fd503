/** Errors of the local function runtime. Messages say what was wrong and how to fix it. */

/** A function spec cannot run: missing code directory, malformed handler, bad timeout. */
export class FunctionSpecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FunctionSpecError';
  }
}

/** Lambda's error types as they appear in `InvokeResult.error.errorType`. */
export const RuntimeErrorType = {
  Timeout: 'Sandbox.Timedout',
  ExitError: 'Runtime.ExitError',
  OutOfMemory: 'Runtime.OutOfMemory',
  InitTimeout: 'Runtime.InitTimeout',
  HostStopped: 'Runtime.HostStopped',
  /** Lambda's Invoke error when no concurrency is left (HTTP 429). */
  Throttled: 'TooManyRequestsException',
} as const;
