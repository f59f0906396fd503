/**
 * courier: one per courier company (COURIER_ID, COURIER_PRICE, COURIER_DELAY_MS). Subscribed to
 * delivery-quote-requests; answers every QuoteDeliveryPrice with its price, after its think time,
 * to the request's reply-to address, correlated by the request id.
 */
import { createConsumer, createProducer, on, replyTo, replyToOf } from 'switchyard-aws/runtime';
import { DeliveryNames, DeliveryPriceQuoted, QuoteDeliveryPrice } from '../domain/delivery-messages';
import { requiredVariable } from '../domain/environment';

const producer = createProducer();

export const { handler } = createConsumer({
  name: process.env.SWITCHYARD_CONSUMER_NAME ?? 'courier',
  handlers: [
    on(QuoteDeliveryPrice, async (request) => {
      const courierId = requiredVariable(DeliveryNames.COURIER_ID);
      const delayMs = Number(process.env[DeliveryNames.COURIER_DELAY_MS] ?? 0);
      if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
      // replyTo throws NoReplyExpectedError when the request has no reply-to: nothing is sent then.
      const reply = replyTo(request, DeliveryPriceQuoted, {
        orderId: request.payload.orderId,
        courierId,
        price: Number(requiredVariable(DeliveryNames.COURIER_PRICE)),
        pickupMinutes: 10,
      });
      await producer.send(replyToOf(request)!, reply);
    }),
  ],
});
