/** Errors of the food-delivery example. */
import { SwitchyardError } from 'switchyard-aws/runtime';

/** A place-order request does not match PlaceOrderRequest. */
export class InvalidOrderRequestError extends SwitchyardError {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidOrderRequestError';
  }
}

/** A command arrived without the reply-to header its sender must set. */
export class MissingReplyToError extends SwitchyardError {
  constructor(message: string) {
    super(message);
    this.name = 'MissingReplyToError';
  }
}
