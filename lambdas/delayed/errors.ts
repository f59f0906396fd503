/** Errors of delayed delivery. Each message says what was wrong and how to fix it. */
import { SwitchyardError } from '../core/errors';

/** A delivery time or payload EventBridge Scheduler cannot take; thrown before any request. */
export class DelayedDeliveryError extends SwitchyardError {
  constructor(message: string) {
    super(message);
    this.name = 'DelayedDeliveryError';
  }
}
