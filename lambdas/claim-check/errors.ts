/** Why a claim could not be stored or resolved. The consumer fails the record with the message. */
import { SwitchyardError } from '../core/errors';

/** The claim is gone (expired by the bucket's lifecycle, deleted) or was never stored. */
export class ClaimMissingError extends SwitchyardError {
  constructor(message: string) {
    super(message);
    this.name = 'ClaimMissingError';
  }
}

/** The stored object is not the payload the message was sent with (size or SHA-256 differ). */
export class ClaimMismatchError extends SwitchyardError {
  constructor(message: string) {
    super(message);
    this.name = 'ClaimMismatchError';
  }
}
