/** Errors of the interaction styles (gatherer, pending requests, HTTP commands). */
import { SwitchyardError } from '../core/errors';

/** A reply or deadline names a gathering this table does not hold. */
export class GatheringNotFoundError extends SwitchyardError {
  constructor(message: string) {
    super(message);
    this.name = 'GatheringNotFoundError';
  }
}

/** A reply's correlation id matches no pending request of the store. */
export class UnknownRequestError extends SwitchyardError {
  constructor(message: string) {
    super(message);
    this.name = 'UnknownRequestError';
  }
}

/** The requester stopped waiting: no reply arrived before the request's deadline. */
export class RequestTimeoutError extends SwitchyardError {
  constructor(
    message: string,
    readonly correlationId: string,
  ) {
    super(message);
    this.name = 'RequestTimeoutError';
  }
}
