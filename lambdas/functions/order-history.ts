/**
 * order-history: the CQRS view of orders, fed in order (FIFO) from order-events. Each event
 * updates the order's view item and appends its type to `events`; a message applied already
 * (same message id) changes nothing.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { createConsumer, type Logger, on } from '../consumer';
import type { Message } from '../core/message';
import { ConsumerNames, TableVariables } from '../example/channels';
import { isConditionalCheckFailure, requiredVariable } from '../example/environment';
import { OrderApproved, OrderCreated } from '../example/messages';

const documents = DynamoDBDocumentClient.from(new DynamoDBClient({}));

/** Applies one event to the view: sets `fields`, appends the type, remembers the message id. */
async function apply(message: Message, orderId: string, fields: Record<string, unknown>, logger: Logger) {
  const names: Record<string, string> = { '#events': 'events', '#applied': 'appliedMessageIds' };
  const values: Record<string, unknown> = {
    ':type': [message.type],
    ':empty': [],
    ':id': message.id,
    ':ids': new Set([message.id]),
  };
  const sets = ['#events = list_append(if_not_exists(#events, :empty), :type)'];
  for (const [key, value] of Object.entries(fields)) {
    names[`#${key}`] = key;
    values[`:${key}`] = value;
    sets.push(`#${key} = :${key}`);
  }
  try {
    await documents.send(
      new UpdateCommand({
        TableName: requiredVariable(TableVariables.ORDER_HISTORY),
        Key: { pk: orderId },
        UpdateExpression: `SET ${sets.join(', ')} ADD #applied :ids`,
        ConditionExpression: 'attribute_not_exists(#applied) OR NOT contains(#applied, :id)',
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      }),
    );
  } catch (error) {
    if (!isConditionalCheckFailure(error)) throw error;
    logger.info('Event applied to the view already; skipped', {
      orderId,
      messageId: message.id,
      type: message.type,
    });
  }
}

const orderHistory = createConsumer({
  name: process.env.SWITCHYARD_CONSUMER_NAME ?? ConsumerNames.ORDER_HISTORY,
  handlers: [
    on(OrderCreated, (message, { logger }) =>
      apply(
        message,
        message.payload.orderId,
        { status: 'PENDING', customerId: message.payload.customerId, total: message.payload.total },
        logger,
      ),
    ),
    on(OrderApproved, (message, { logger }) =>
      apply(
        message,
        message.payload.orderId,
        { status: 'APPROVED', ticketId: message.payload.ticketId },
        logger,
      ),
    ),
  ],
});

export const handler = orderHistory.handler;
