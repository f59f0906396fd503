/**
 * Request / asynchronous response with the client side in the example: the order API asks the
 * kitchen when a ticket will be ready and waits up to 2 s for the answer (pending-request store).
 */

import { defineCommand, defineReply } from 'switchyard-aws/runtime';
import * as z from 'zod';

export const TicketEta = defineReply({
  type: 'TicketEta',
  description:
    "Reply to GetTicketEta: the ticket's status and minutes until ready (null when there is no ticket).",
  schema: z.object({
    orderId: z.string().min(1),
    status: z.enum(['ACCEPTED', 'NO_TICKET']),
    minutes: z.number().int().nonnegative().nullable(),
  }),
  partitionKey: (p) => p.orderId,
});

export const GetTicketEta = defineCommand({
  type: 'GetTicketEta',
  description: 'Asks the kitchen when the ticket of an order will be ready; the reply goes to reply-to.',
  schema: z.object({ orderId: z.string().min(1) }),
  partitionKey: (p) => p.orderId,
  replies: [TicketEta],
});

export const KitchenQueryNames = {
  QUERIES: 'kitchen-queries',
  API_REPLIES: 'order-api-replies',
} as const;

/** How long the order API waits for the kitchen before answering 202 with a status reference. */
export const ETA_TIMEOUT_MS = 2000;
