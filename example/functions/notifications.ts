/**
 * notifications: tells the customer when the kitchen accepted their order. One Notifications item
 * per ticket; a redelivered TicketAccepted finds it and changes nothing.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { createConsumer, on } from 'switchyard-aws/runtime';
import { ConsumerNames, TableVariables } from '../domain/channels';
import { isConditionalCheckFailure, requiredVariable } from '../domain/environment';
import { TicketAccepted } from '../domain/messages';

const documents = DynamoDBDocumentClient.from(new DynamoDBClient({}));

const notifications = createConsumer({
  name: process.env.SWITCHYARD_CONSUMER_NAME ?? ConsumerNames.NOTIFICATIONS,
  handlers: [
    on(TicketAccepted, async (message, { logger }) => {
      const { orderId, ticketId, readyBy } = message.payload;
      try {
        await documents.send(
          new PutCommand({
            TableName: requiredVariable(TableVariables.NOTIFICATIONS),
            Item: {
              pk: ticketId,
              orderId,
              readyBy,
              text: `Your order ${orderId} is being prepared and will be ready by ${readyBy}.`,
              messageId: message.id,
            },
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        );
      } catch (error) {
        if (!isConditionalCheckFailure(error)) throw error;
        logger.info('Notification sent already; skipped', { orderId, ticketId, messageId: message.id });
      }
    }),
  ],
});

export const handler = notifications.handler;
