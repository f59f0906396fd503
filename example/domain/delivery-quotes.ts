/** The example's quote gatherer: the cheapest quote wins; the result is a DispatchCourier notification. */

import {
  type CompletionReason,
  createGatherer,
  createNotification,
  type Gathering,
  type PayloadOf,
} from 'switchyard-aws/runtime';
import { DeliveryNames, DeliveryPriceQuoted, DispatchCourier } from './delivery-messages';

type Quote = PayloadOf<typeof DeliveryPriceQuoted>;

/** The cheapest quote (the earliest on a tie), or none. */
export function cheapest(gathering: Gathering<Quote>): Quote | undefined {
  return gathering.replies
    .map((r) => r.payload)
    .reduce<Quote | undefined>(
      (best, q) => (best === undefined || q.price < best.price ? q : best),
      undefined,
    );
}

export function dispatchFor(gathering: Gathering<Quote>, reason: CompletionReason) {
  const winner = cheapest(gathering);
  return createNotification(DispatchCourier, {
    quoteRequestId: gathering.requestId,
    orderId: String(gathering.context.orderId),
    courierId: winner?.courierId ?? null,
    price: winner?.price ?? null,
    quotes: gathering.replies.length,
    completedBy: reason,
  });
}

export const deliveryQuotes = createGatherer<Quote>({
  name: DeliveryNames.GATHERER,
  reply: DeliveryPriceQuoted,
  resultChannel: DeliveryNames.COURIER_DISPATCH,
  complete: dispatchFor,
});
