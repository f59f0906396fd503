/** order-api-replies: delivers each kitchen reply to the order API's pending request it answers. */
import { createConsumer, createReplyRouter } from 'switchyard-aws/runtime';
import { TicketEta } from '../domain/kitchen-queries';

export const { handler } = createConsumer({
  name: process.env.SWITCHYARD_CONSUMER_NAME ?? 'order-api-replies',
  handlers: createReplyRouter({
    replies: [TicketEta],
    // The API answered 202 already; the reply stays on the record for GET /requests/{id}.
    onLateReply: (reply, request, logger) =>
      logger.info('Late reply kept for the status query', {
        correlationId: request.correlationId,
        type: reply.type,
      }),
  }),
});
