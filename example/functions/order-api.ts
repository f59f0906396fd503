/**
 * order-api: the example's HTTP front door (a Lambda function URL). Commands answer at once with a
 * status reference and finish asynchronously (finish processing after returning a response):
 *
 * - POST /orders                         -> 202 { orderId, statusUrl }: order + messages committed (outbox)
 * - GET  /orders/{orderId}               -> the order's status (PENDING, then APPROVED)
 * - POST /orders/{orderId}/delivery-quotes -> 202 { quoteRequestId, statusUrl }: quotes asked of every courier
 * - GET  /delivery-quotes/{requestId}    -> the gathering (OPEN/COMPLETE, replies) and the dispatch
 * - GET  /orders/{orderId}/eta           -> asks the kitchen (request/reply) and waits up to 2 s: 200 with
 *                                          the answer, or 202 with /requests/{correlationId} to poll
 * - GET  /requests/{correlationId}       -> the pending request: PENDING, REPLIED or GAVE_UP (+ late reply)
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import {
  accepted,
  createHttpApi,
  createProducer,
  createRequestClient,
  GathererEnvironment,
  RequestTimeoutError,
  route,
} from 'switchyard-aws/runtime';
import * as z from 'zod';
import { TableVariables } from '../domain/channels';
import { DeliveryNames, QUOTE_DEADLINE_MS, QuoteDeliveryPrice } from '../domain/delivery-messages';
import { deliveryQuotes } from '../domain/delivery-quotes';
import { channelAddress, requiredVariable } from '../domain/environment';
import { ETA_TIMEOUT_MS, GetTicketEta, KitchenQueryNames } from '../domain/kitchen-queries';
import { PlaceOrderRequest } from '../domain/messages';
import { handler as placeOrder } from './place-order';

const documents = DynamoDBDocumentClient.from(new DynamoDBClient({}));
const producer = createProducer();
/** The couriers subscribed to delivery-quote-requests (the stack sets it). */
const COURIERS_VARIABLE = 'COURIER_COUNT';

let kitchenClient: ReturnType<typeof createRequestClient> | undefined;
/** Created on first use: it reads its table and reply channel from the environment. */
const kitchen = () => {
  kitchenClient ??= createRequestClient({
    requester: 'order-api',
    replyTo: channelAddress(KitchenQueryNames.API_REPLIES),
    producer,
  });
  return kitchenClient;
};

const QuoteRequest = z.object({ pickupAddress: z.string().min(1), dropoffAddress: z.string().min(1) });

export const handler = createHttpApi([
  route(
    'POST',
    '/orders',
    async ({ body }) => {
      const { orderId, status } = await placeOrder(body);
      return accepted(`/orders/${orderId}`, { orderId, status });
    },
    PlaceOrderRequest,
  ),
  route('GET', '/orders/{orderId}', async ({ params }) => {
    const { Item } = await documents.send(
      new GetCommand({
        TableName: requiredVariable(TableVariables.ORDERS),
        Key: { pk: `ORDER#${params.orderId}`, sk: 'ORDER' },
        ConsistentRead: true,
      }),
    );
    if (!Item) return { statusCode: 404, body: { error: `No order ${params.orderId}.` } };
    return {
      statusCode: 200,
      body: { orderId: Item.orderId, status: Item.status, ticketId: Item.ticketId ?? null },
    };
  }),
  route(
    'POST',
    '/orders/{orderId}/delivery-quotes',
    async ({ params, body }) => {
      const request = QuoteDeliveryPrice.create(
        { orderId: params.orderId!, ...body },
        { replyTo: requiredVariable(GathererEnvironment.QUEUE) },
      );
      await deliveryQuotes.open(request, {
        expectedReplies: Number(requiredVariable(COURIERS_VARIABLE)),
        deadlineMs: QUOTE_DEADLINE_MS,
        context: { orderId: params.orderId },
      });
      await producer.publish(channelAddress(DeliveryNames.QUOTE_REQUESTS), request);
      return accepted(`/delivery-quotes/${request.id}`, {
        quoteRequestId: request.id,
        deadlineMs: QUOTE_DEADLINE_MS,
      });
    },
    QuoteRequest,
  ),
  route('GET', '/orders/{orderId}/eta', async ({ params }) => {
    const pending = await kitchen().send(
      channelAddress(KitchenQueryNames.QUERIES),
      GetTicketEta,
      { orderId: params.orderId! },
      { timeoutMs: ETA_TIMEOUT_MS },
    );
    try {
      const reply = await kitchen().wait(pending.correlationId);
      return {
        statusCode: 200,
        body: { correlationId: pending.correlationId, ...(reply.payload as object) },
      };
    } catch (error) {
      if (!(error instanceof RequestTimeoutError)) throw error;
      return accepted(`/requests/${pending.correlationId}`, {
        correlationId: pending.correlationId,
        status: 'GAVE_UP',
      });
    }
  }),
  route('GET', '/requests/{correlationId}', async ({ params }) => {
    const record = await kitchen().result(params.correlationId!);
    if (!record) return { statusCode: 404, body: { error: `No request ${params.correlationId}.` } };
    return {
      statusCode: 200,
      body: {
        correlationId: record.correlationId,
        status: record.status,
        reply: record.reply?.payload ?? null,
        lateReply: record.lateReply?.payload ?? null,
      },
    };
  }),
  route('GET', '/delivery-quotes/{requestId}', async ({ params }) => {
    const gathering = await deliveryQuotes.read(params.requestId!);
    if (!gathering) return { statusCode: 404, body: { error: `No quote round ${params.requestId}.` } };
    const { Item: dispatch } = await documents.send(
      new GetCommand({
        TableName: requiredVariable(DeliveryNames.DISPATCHES_TABLE),
        Key: { pk: params.requestId },
        ConsistentRead: true,
      }),
    );
    return {
      statusCode: 200,
      body: {
        quoteRequestId: gathering.requestId,
        status: gathering.status,
        completedBy: gathering.completedBy ?? null,
        quotes: Object.entries(gathering.replies).map(([responder, r]) => ({
          responder,
          ...(r.payload as object),
        })),
        lateReplies: gathering.lateReplies ?? 0,
        duplicateReplies: gathering.duplicateReplies ?? 0,
        dispatch: dispatch ? { courierId: dispatch.courierId, price: dispatch.price } : null,
      },
    };
  }),
]);
