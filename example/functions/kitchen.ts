/**
 * kitchen: drains kitchen-commands. CreateTicket -> a ticket in Tickets, committed in one
 * TransactWriteItems with the processed-message record (transactional duplicate detection), then
 * the TicketCreated reply to the command's reply-to queue and TicketAccepted on kitchen-events.
 * A duplicate command applies nothing and answers again: the first answer may have been lost in a
 * crash after the commit, and the receivers detect duplicates themselves.
 */
import { marshall } from '@aws-sdk/util-dynamodb';
import {
  createConsumer,
  createProducer,
  on,
  type PayloadOf,
  replyTo,
  replyToOf,
  transactional,
} from 'switchyard-aws/runtime';
import { Channels, ConsumerNames, TableVariables } from '../domain/channels';
import { channelAddress, requiredVariable } from '../domain/environment';
import { MissingReplyToError } from '../domain/errors';
import { CreateTicket, TicketAccepted, TicketCreated } from '../domain/messages';

type CreateTicketPayload = PayloadOf<typeof CreateTicket>;

const producer = createProducer();
/** How long the kitchen says a ticket takes. */
const PREPARATION_MINUTES = 20;

/** Stages the ticket; the decorator commits it with the processed-message record, or skips a duplicate. */
const createTicket = transactional<CreateTicketPayload>((command, _context, tx) => {
  const { orderId, items } = command.payload;
  tx.put({
    TableName: requiredVariable(TableVariables.TICKETS),
    Item: marshall({
      pk: orderId,
      ticketId: ticketIdOf(orderId),
      items,
      status: 'ACCEPTED',
      commandId: command.id,
    }),
  });
});

/** One ticket per order: the id follows from the order id. */
const ticketIdOf = (orderId: string) => `ticket-${orderId}`;

const kitchen = createConsumer({
  name: process.env.SWITCHYARD_CONSUMER_NAME ?? ConsumerNames.KITCHEN,
  handlers: [
    on(CreateTicket, async (command, context) => {
      const replyAddress = replyToOf(command);
      if (!replyAddress) {
        throw new MissingReplyToError(
          `CreateTicket ${command.id} has no reply-to header, so the kitchen cannot answer. Senders must set replyTo.`,
        );
      }
      const { orderId } = command.payload;
      const ticketId = ticketIdOf(orderId);
      await createTicket(command, context);
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
