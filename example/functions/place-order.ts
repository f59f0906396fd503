/**
 * place-order: invoked directly with `{ customerId, items }`. Validates locally, then in ONE write
 * stores the order PENDING together with OrderCreated and the CreateTicket command (transactional
 * outbox, in-item mode: the relay publishes them from the table's stream), and answers at once with
 * the order id: the approval arrives asynchronously (finish processing after returning a response).
 */
import { randomUUID } from 'node:crypto';
import { createUnitOfWork } from 'switchyard-aws/runtime';
import { Channels } from '../domain/channels';
import { channelAddress } from '../domain/environment';
import { InvalidOrderRequestError } from '../domain/errors';
import { CreateTicket, OrderCreated, PlaceOrderRequest } from '../domain/messages';

export interface PlaceOrderResult {
  readonly orderId: string;
  readonly status: 'PENDING';
}

export async function handler(event: unknown): Promise<PlaceOrderResult> {
  const parsed = PlaceOrderRequest.safeParse(event);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new InvalidOrderRequestError(
      `Invalid place-order request: ${issues}. Send { customerId: string, items: [{ sku, quantity, unitPrice }] } with at least one item.`,
    );
  }
  const { customerId, items } = parsed.data;
  const orderId = randomUUID();
  const total = Math.round(items.reduce((sum, i) => sum + i.quantity * i.unitPrice, 0) * 100) / 100;

  const created = OrderCreated.create({ orderId, customerId, items, total });
  const unitOfWork = createUnitOfWork();
  unitOfWork.save({
    aggregateId: orderId,
    item: { pk: `ORDER#${orderId}`, sk: 'ORDER', orderId, customerId, items, total, status: 'PENDING' },
    expectedSequence: 0,
  });
  unitOfWork.publish(created, Channels.ORDER_EVENTS);
  unitOfWork.send(
    CreateTicket.create(
      { orderId, items },
      { causedBy: created, replyTo: channelAddress(Channels.ORDER_REPLIES) },
    ),
    Channels.KITCHEN_COMMANDS,
  );
  await unitOfWork.commit();
  return { orderId, status: 'PENDING' };
}
