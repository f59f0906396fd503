/** quote-gatherer: drains the gatherer's reply channel (courier quotes and its own deadline messages). */
import { createConsumer } from 'switchyard-aws/runtime';
import { DeliveryNames } from '../domain/delivery-messages';
import { deliveryQuotes } from '../domain/delivery-quotes';

export const { handler } = createConsumer({
  name: process.env.SWITCHYARD_CONSUMER_NAME ?? DeliveryNames.GATHERER,
  handlers: deliveryQuotes.handlers,
});
