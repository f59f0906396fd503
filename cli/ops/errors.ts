/** Errors of the operator commands: each message says what was wrong and what to do. */
export class OperationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OperationError';
  }
}
