/**
 * courier-dispatch: receives the one-way DispatchCourier notification and records one dispatch per
 * quote round (a conditional put: a redelivered notification changes nothing). It never replies:
 * the notification has no reply-to, and replyTo on it would throw NoReplyExpectedError.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { createConsumer, on } from 'switchyard-aws/runtime';
import { DeliveryNames, DispatchCourier } from '../domain/delivery-messages';
import { isConditionalCheckFailure, requiredVariable } from '../domain/environment';

const documents = DynamoDBDocumentClient.from(new DynamoDBClient({}));

export const { handler } = createConsumer({
  name: process.env.SWITCHYARD_CONSUMER_NAME ?? DeliveryNames.COURIER_DISPATCH,
  handlers: [
    on(DispatchCourier, async (notification, { logger }) => {
      try {
        await documents.send(
          new PutCommand({
            TableName: requiredVariable(DeliveryNames.DISPATCHES_TABLE),
            Item: {
              pk: notification.payload.quoteRequestId,
              ...notification.payload,
              messageId: notification.id,
            },
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        );
      } catch (error) {
        if (!isConditionalCheckFailure(error)) throw error;
        logger.info('Dispatch already recorded (redelivered notification)', { messageId: notification.id });
      }
    }),
  ],
});
