/**
 * Message definitions of the food-delivery example, shared by its producers and consumers (and by
 * the CDK stack, which lists them per channel and derives the consumers' filter policies from them).
 * The partition key is the order id everywhere, so a FIFO channel keeps each order's messages in order.
 */

import { defineCommand, defineEvent, defineReply } from 'switchyard-aws/runtime';
import * as z from 'zod';

export const LineItem = z.object({
  sku: z.string().min(1),
  quantity: z.number().int().positive(),
  unitPrice: z.number().nonnegative(),
});

/** The request `place-order` accepts. */
export const PlaceOrderRequest = z.object({
  /**
   * The order's id, chosen by the client so that it can retry a call whose answer it did not get
   * (a timeout, a crash) without placing the order twice. @default - a new UUID
   */
  orderId: z.uuid().optional(),
  customerId: z.string().min(1),
  items: z.array(LineItem).min(1),
});
export type PlaceOrderRequest = z.infer<typeof PlaceOrderRequest>;

export const OrderCreated = defineEvent({
  type: 'OrderCreated',
  description: 'An order was placed and waits for the kitchen (status PENDING).',
  schema: z.object({
    orderId: z.string().min(1),
    customerId: z.string().min(1),
    items: z.array(LineItem).min(1),
    total: z.number().nonnegative(),
  }),
  partitionKey: (p) => p.orderId,
});

export const OrderApproved = defineEvent({
  type: 'OrderApproved',
  description: 'The kitchen accepted the order; it has a ticket.',
  schema: z.object({ orderId: z.string().min(1), ticketId: z.string().min(1) }),
  partitionKey: (p) => p.orderId,
});

export const TicketCreated = defineReply({
  type: 'TicketCreated',
  description: 'Reply to CreateTicket: the ticket exists.',
  schema: z.object({ orderId: z.string().min(1), ticketId: z.string().min(1) }),
  partitionKey: (p) => p.orderId,
});

export const CreateTicket = defineCommand({
  type: 'CreateTicket',
  description: 'Asks the kitchen to create a ticket for an order; the reply goes to the reply-to channel.',
  schema: z.object({ orderId: z.string().min(1), items: z.array(LineItem).min(1) }),
  partitionKey: (p) => p.orderId,
  replies: [TicketCreated],
});

export const TicketAccepted = defineEvent({
  type: 'TicketAccepted',
  description: 'The kitchen accepted a ticket and says when it will be ready.',
  schema: z.object({ orderId: z.string().min(1), ticketId: z.string().min(1), readyBy: z.iso.datetime() }),
  partitionKey: (p) => p.orderId,
});
