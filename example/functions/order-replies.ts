/**
 * order-replies: drains order-replies. TicketCreated -> the order goes from PENDING to APPROVED
 * with its ticket id and OrderApproved is staged in the same write (transactional outbox, in-item),
 * so the state change and the event cannot part. A duplicate reply finds the order approved
 * already and changes nothing; a concurrent writer makes the commit fail and the reply is retried.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { createConsumer, createUnitOfWork, on } from 'switchyard-aws/runtime';
import { Channels, ConsumerNames, TableVariables } from '../domain/channels';
import { requiredVariable } from '../domain/environment';
import { OrderApproved, TicketCreated } from '../domain/messages';

const documents = DynamoDBDocumentClient.from(new DynamoDBClient({}));

const orderReplies = createConsumer({
  name: process.env.SWITCHYARD_CONSUMER_NAME ?? ConsumerNames.ORDER_REPLIES,
  handlers: [
    on(TicketCreated, async (reply, { logger }) => {
      const { orderId, ticketId } = reply.payload;
      const { Item: order } = await documents.send(
        new GetCommand({
          TableName: requiredVariable(TableVariables.ORDERS),
          Key: { pk: `ORDER#${orderId}`, sk: 'ORDER' },
          ConsistentRead: true,
        }),
      );
      if (order?.status !== 'PENDING') {
        logger.warn('Order is not PENDING (missing or approved already); reply ignored', {
          orderId,
          ticketId,
          status: order?.status,
          messageId: reply.id,
        });
        return;
      }
      const { _outbox, _outboxSeq, ...state } = order;
      const unitOfWork = createUnitOfWork();
      unitOfWork.save({
        aggregateId: orderId,
        item: { ...state, status: 'APPROVED', ticketId },
        expectedSequence: Number(_outboxSeq ?? 0),
      });
      unitOfWork.publish(
        OrderApproved.create({ orderId, ticketId }, { causedBy: reply }),
        Channels.ORDER_EVENTS,
      );
      await unitOfWork.commit();
    }),
  ],
});

export const handler = orderReplies.handler;
