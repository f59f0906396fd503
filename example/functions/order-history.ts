/**
 * order-history: the CQRS view of orders (a replica of the order service's data, updated from its
 * events), fed in order (FIFO) from order-events. Each event updates the order's view item and
 * appends its type to `events`. Duplicate detection is in-item: the message id is recorded inside
 * the view item by the same UpdateItem that applies the event, so one write per message.
 */
import type { Update } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { Message } from 'switchyard-aws/runtime';
import { createConsumer, inItem, on } from 'switchyard-aws/runtime';
import { ConsumerNames, TableVariables } from '../domain/channels';
import { requiredVariable } from '../domain/environment';
import { OrderApproved, OrderCreated } from '../domain/messages';

/** The update that applies one event to the view: sets `fields`, appends the type, stamps the time. */
function viewUpdate(message: Message, orderId: string, fields: Record<string, unknown>): { update: Update } {
  const names: Record<string, string> = { '#events': 'events', '#updatedAt': 'updatedAt' };
  const values: Record<string, unknown> = { ':type': [message.type], ':empty': [], ':now': Date.now() };
  const sets = ['#events = list_append(if_not_exists(#events, :empty), :type)', '#updatedAt = :now'];
  for (const [key, value] of Object.entries(fields)) {
    names[`#${key}`] = key;
    values[`:${key}`] = value;
    sets.push(`#${key} = :${key}`);
  }
  return {
    update: {
      TableName: requiredVariable(TableVariables.ORDER_HISTORY),
      Key: marshall({ pk: orderId }),
      UpdateExpression: `SET ${sets.join(', ')}`,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: marshall(values, { removeUndefinedValues: true }),
    },
  };
}

const orderHistory = createConsumer({
  name: process.env.SWITCHYARD_CONSUMER_NAME ?? ConsumerNames.ORDER_HISTORY,
  handlers: [
    on(
      OrderCreated,
      inItem((message) =>
        viewUpdate(message, message.payload.orderId, {
          status: 'PENDING',
          customerId: message.payload.customerId,
          total: message.payload.total,
          placedAt: Date.parse(message.headers.timestamp ?? '') || Date.now(),
        }),
      ),
    ),
    on(
      OrderApproved,
      inItem((message) =>
        viewUpdate(message, message.payload.orderId, {
          status: 'APPROVED',
          ticketId: message.payload.ticketId,
        }),
      ),
    ),
  ],
});

export const handler = orderHistory.handler;
