/**
 * kitchen: drains kitchen-commands. CreateTicket -> a ticket in Tickets (one per order: a
 * duplicate command finds it and answers again), the TicketCreated reply to the command's reply-to
 * queue, and TicketAccepted on kitchen-events.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { createConsumer, on } from '../consumer';
import { replyTo } from '../core/definition';
import { replyToOf } from '../core/message';
import { Channels, ConsumerNames, TableVariables } from '../example/channels';
import { channelAddress, isConditionalCheckFailure, requiredVariable } from '../example/environment';
import { MissingReplyToError } from '../example/errors';
import { CreateTicket, TicketAccepted, TicketCreated } from '../example/messages';
import { createProducer } from '../producer';

const documents = DynamoDBDocumentClient.from(new DynamoDBClient({}));
const producer = createProducer();
/** How long the kitchen says a ticket takes. */
const PREPARATION_MINUTES = 20;

const kitchen = createConsumer({
  name: process.env.SWITCHYARD_CONSUMER_NAME ?? ConsumerNames.KITCHEN,
  handlers: [
    on(CreateTicket, async (command, { logger }) => {
      const replyAddress = replyToOf(command);
      if (!replyAddress) {
        throw new MissingReplyToError(
          `CreateTicket ${command.id} has no reply-to header, so the kitchen cannot answer. Senders must set replyTo.`,
        );
      }
      const { orderId, items } = command.payload;
      // One ticket per order: the id follows from the order, so a redelivered command finds the same ticket.
      const ticketId = `ticket-${orderId}`;
      try {
        await documents.send(
          new PutCommand({
            TableName: requiredVariable(TableVariables.TICKETS),
            Item: { pk: orderId, ticketId, items, status: 'ACCEPTED', commandId: command.id },
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        );
      } catch (error) {
        if (!isConditionalCheckFailure(error)) throw error;
        logger.info('Ticket already exists; answering again', { orderId, ticketId, messageId: command.id });
      }
      await producer.send(replyAddress, replyTo(command, TicketCreated, { orderId, ticketId }));
      const readyBy = new Date(Date.now() + PREPARATION_MINUTES * 60_000).toISOString();
      await producer.publish(
        channelAddress(Channels.KITCHEN_EVENTS),
        TicketAccepted.create({ orderId, ticketId, readyBy }, { causedBy: command }),
      );
    }),
  ],
});

export const handler = kitchen.handler;
