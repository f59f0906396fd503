/** kitchen-eta: answers GetTicketEta from the Tickets table, to the request's reply-to address. */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { createConsumer, createProducer, on, replyTo, replyToOf } from 'switchyard-aws/runtime';
import { TableVariables } from '../domain/channels';
import { requiredVariable } from '../domain/environment';
import { GetTicketEta, TicketEta } from '../domain/kitchen-queries';

const documents = DynamoDBDocumentClient.from(new DynamoDBClient({}));
const producer = createProducer();
/** The kitchen's promise for an accepted ticket (as TicketAccepted says). */
const PREPARATION_MINUTES = 20;

export const { handler } = createConsumer({
  name: process.env.SWITCHYARD_CONSUMER_NAME ?? 'kitchen-eta',
  handlers: [
    on(GetTicketEta, async (query) => {
      const { orderId } = query.payload;
      const { Item } = await documents.send(
        new GetCommand({ TableName: requiredVariable(TableVariables.TICKETS), Key: { pk: orderId } }),
      );
      // replyTo throws NoReplyExpectedError for a query without reply-to: the record fails with that reason.
      const reply = replyTo(
        query,
        TicketEta,
        Item
          ? { orderId, status: 'ACCEPTED', minutes: PREPARATION_MINUTES }
          : { orderId, status: 'NO_TICKET', minutes: null },
      );
      await producer.send(replyToOf(query)!, reply);
    }),
  ],
});
