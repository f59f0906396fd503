/** The no-op variant: the same decorator shape, no duplicate detection (for naturally idempotent handlers). */
import type { MessageHandler } from '../consumer/types';

/**
 * Returns the handler unchanged. Use it where the effect is idempotent by nature (a PUT of the
 * same value), to say so explicitly in the registration.
 *
 * @example
 * on(PriceChanged, noDuplicateDetection(async (message) => prices.put(message.payload)))
 */
export function noDuplicateDetection<P>(handler: MessageHandler<P>): MessageHandler<P> {
  return handler;
}
