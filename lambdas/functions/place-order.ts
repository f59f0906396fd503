/**
 * place-order: invoked directly with `{ customerId, items }`. Stores the order PENDING, publishes
 * OrderCreated and asks the kitchen for a ticket (reply to order-replies), then answers at once
 * with the order id: the approval arrives asynchronously.
 */
import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { Channels, TableVariables } from '../example/channels';
import { channelAddress, requiredVariable } from '../example/environment';
import { InvalidOrderRequestError } from '../example/errors';
import { CreateTicket, OrderCreated, PlaceOrderRequest } from '../example/messages';
import { createProducer } from '../producer';

const documents = DynamoDBDocumentClient.from(new DynamoDBClient({}));
const producer = createProducer();

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

  await documents.send(
    new PutCommand({
      TableName: requiredVariable(TableVariables.ORDERS),
      Item: { pk: `ORDER#${orderId}`, sk: 'ORDER', orderId, customerId, items, total, status: 'PENDING' },
      ConditionExpression: 'attribute_not_exists(pk)',
    }),
  );

  const created = OrderCreated.create({ orderId, customerId, items, total });
  await producer.publish(channelAddress(Channels.ORDER_EVENTS), created);
  await producer.send(
    channelAddress(Channels.KITCHEN_COMMANDS),
    CreateTicket.create(
      { orderId, items },
      { causedBy: created, replyTo: channelAddress(Channels.ORDER_REPLIES) },
    ),
  );
  return { orderId, status: 'PENDING' };
}
