/** quote-gatherer: drains the gatherer's reply channel (courier quotes and its own deadline messages). */
import { createConsumer } from '../consumer';
import { DeliveryNames } from '../example/delivery-messages';
import { deliveryQuotes } from '../example/delivery-quotes';

export const { handler } = createConsumer({
  name: process.env.SWITCHYARD_CONSUMER_NAME ?? DeliveryNames.GATHERER,
  handlers: deliveryQuotes.handlers,
});
