/**
 * order-replies: drains order-replies. TicketCreated -> the order goes from PENDING to APPROVED
 * with its ticket id, then OrderApproved is published. A duplicate reply finds the order approved
 * already and changes nothing.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { createConsumer, on } from '../consumer';
import { Channels, ConsumerNames, TableVariables } from '../example/channels';
import { channelAddress, isConditionalCheckFailure, requiredVariable } from '../example/environment';
import { OrderApproved, TicketCreated } from '../example/messages';
import { createProducer } from '../producer';

const documents = DynamoDBDocumentClient.from(new DynamoDBClient({}));
const producer = createProducer();

const orderReplies = createConsumer({
  name: process.env.SWITCHYARD_CONSUMER_NAME ?? ConsumerNames.ORDER_REPLIES,
  handlers: [
    on(TicketCreated, async (reply, { logger }) => {
      const { orderId, ticketId } = reply.payload;
      try {
        await documents.send(
          new UpdateCommand({
            TableName: requiredVariable(TableVariables.ORDERS),
            Key: { pk: `ORDER#${orderId}`, sk: 'ORDER' },
            UpdateExpression: 'SET #status = :approved, ticketId = :ticketId',
            ConditionExpression: '#status = :pending',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: {
              ':approved': 'APPROVED',
              ':pending': 'PENDING',
              ':ticketId': ticketId,
            },
          }),
        );
      } catch (error) {
        if (!isConditionalCheckFailure(error)) throw error;
        logger.warn('Order is not PENDING (missing or approved already); reply ignored', {
          orderId,
          ticketId,
          messageId: reply.id,
        });
        return;
      }
      await producer.publish(
        channelAddress(Channels.ORDER_EVENTS),
        OrderApproved.create({ orderId, ticketId }, { causedBy: reply }),
      );
    }),
  ],
});

export const handler = orderReplies.handler;
