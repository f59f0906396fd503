/**
 * Messages of the delivery part of the example: the restaurant asks every courier for a delivery
 * price (publish / asynchronous responses), and tells the cheapest one to pick the order up (a
 * one-way notification).
 */

import { defineCommand, defineReply } from 'switchyard-aws/runtime';
import * as z from 'zod';

export const DeliveryPriceQuoted = defineReply({
  type: 'DeliveryPriceQuoted',
  description: "A courier's answer to QuoteDeliveryPrice: its price and how soon it can pick up.",
  schema: z.object({
    orderId: z.string().min(1),
    courierId: z.string().min(1),
    price: z.number().nonnegative(),
    pickupMinutes: z.number().int().nonnegative(),
  }),
  partitionKey: (p) => p.orderId,
});

export const QuoteDeliveryPrice = defineCommand({
  type: 'QuoteDeliveryPrice',
  description: 'Published to every courier: quote a price for delivering this order; reply to reply-to.',
  schema: z.object({
    orderId: z.string().min(1),
    pickupAddress: z.string().min(1),
    dropoffAddress: z.string().min(1),
  }),
  partitionKey: (p) => p.orderId,
  replies: [DeliveryPriceQuoted],
});

export const DispatchCourier = defineCommand({
  type: 'DispatchCourier',
  description:
    'One-way: the quote gatherer tells the courier service which courier won (courierId null when nobody quoted in time).',
  schema: z.object({
    quoteRequestId: z.string().min(1),
    orderId: z.string().min(1),
    courierId: z.string().min(1).nullable(),
    price: z.number().nonnegative().nullable(),
    quotes: z.number().int().nonnegative(),
    completedBy: z.enum(['all-replies', 'quorum', 'deadline']),
  }),
  partitionKey: (p) => p.orderId,
});

/** Names shared by the delivery stack and its functions. */
export const DeliveryNames = {
  QUOTE_REQUESTS: 'delivery-quote-requests',
  COURIER_DISPATCH: 'courier-dispatch',
  GATHERER: 'delivery-quotes',
  DISPATCHES_TABLE: 'DISPATCHES_TABLE',
  COURIER_ID: 'COURIER_ID',
  COURIER_PRICE: 'COURIER_PRICE',
  COURIER_DELAY_MS: 'COURIER_DELAY_MS',
} as const;

/** The example's quote round: every courier, the cheapest answer within 2 s wins. */
export const QUOTE_DEADLINE_MS = 2000;
