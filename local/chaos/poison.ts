/**
 * Poison messages: deliberately unprocessable messages the chaos workload injects into every
 * channel, each with a Switchyard message id so the checker finds it again by identity. Each must
 * end in a dead-letter queue (or the outbox relay's failure queue) with its reason; nothing else may.
 */
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { PublishCommand } from '@aws-sdk/client-sns';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { LocalCloud } from '../cloud';

export interface PoisonMessage {
  /** The message id (`message-id` header), or the outbox envelope's marker. */
  readonly id: string;
  /** Where it was injected. */
  readonly channel: string;
  /** Why it cannot be processed. */
  readonly defect: string;
}

type Attributes = Record<string, { DataType: 'String'; StringValue: string }>;

function headers(id: string, type: string, kind: string, extra: Record<string, string> = {}): Attributes {
  const all: Record<string, string> = {
    'message-id': id,
    'message-type': type,
    'message-kind': kind,
    timestamp: new Date().toISOString(),
    ...extra,
  };
  return Object.fromEntries(
    Object.entries(all).map(([name, value]) => [name, { DataType: 'String' as const, StringValue: value }]),
  );
}

const POISON_KINDS = [
  'kitchen-commands',
  'order-replies',
  'order-events',
  'kitchen-events',
  'outbox',
] as const;

/** Injects `count` poison messages, spread over the channels (at least one per channel). */
export async function injectPoison(
  cloud: LocalCloud,
  count: number,
  runId: string,
): Promise<PoisonMessage[]> {
  const outputs = cloud.outputs() as Record<string, string>;
  const { sqs, sns, dynamodb } = cloud.clients;
  const poisons: PoisonMessage[] = [];
  for (let i = 0; i < Math.max(count, POISON_KINDS.length); i += 1) {
    const kind = POISON_KINDS[i % POISON_KINDS.length] as (typeof POISON_KINDS)[number];
    const id = `poison-${runId}-${i}`;
    switch (kind) {
      case 'kitchen-commands':
        await sqs.send(
          new SendMessageCommand({
            QueueUrl: outputs.KitchenCommandsQueueUrl,
            MessageBody: JSON.stringify({ orderId: id, items: [] }),
            MessageAttributes: headers(id, 'CreateTicket', 'command', {
              'reply-to': outputs.OrderRepliesQueueUrl as string,
            }),
          }),
        );
        poisons.push({ id, channel: kind, defect: 'CreateTicket without items (fails its schema)' });
        break;
      case 'order-replies':
        await sqs.send(
          new SendMessageCommand({
            QueueUrl: outputs.OrderRepliesQueueUrl,
            MessageBody: '{"orderId": "truncated',
            MessageAttributes: headers(id, 'TicketCreated', 'reply'),
          }),
        );
        poisons.push({ id, channel: kind, defect: 'TicketCreated whose body is not JSON' });
        break;
      case 'order-events':
        // Its own message group: a poison message blocks only its group until it is dead-lettered.
        await sns.send(
          new PublishCommand({
            TopicArn: outputs.OrderEventsTopicArn,
            Message: JSON.stringify({ orderId: id }),
            MessageGroupId: id,
            MessageDeduplicationId: id,
            MessageAttributes: headers(id, 'OrderCreated', 'event', { 'partition-key': id }),
          }),
        );
        poisons.push({
          id,
          channel: kind,
          defect: 'OrderCreated without customer, items or total (fails its schema)',
        });
        break;
      case 'kitchen-events':
        await sns.send(
          new PublishCommand({
            TopicArn: outputs.KitchenEventsTopicArn,
            Message: JSON.stringify({ orderId: id, ticketId: `ticket-${id}`, readyBy: 'soon' }),
            MessageAttributes: headers(id, 'TicketAccepted', 'event'),
          }),
        );
        poisons.push({
          id,
          channel: kind,
          defect: 'TicketAccepted with readyBy not a date-time (fails its schema)',
        });
        break;
      case 'outbox':
        // An order item whose staged message is not an outbox envelope: the relay cannot read it.
        await dynamodb.send(
          new PutItemCommand({
            TableName: outputs.OrdersTableName,
            Item: marshall({
              pk: `ORDER#${id}`,
              sk: 'ORDER',
              _outboxSeq: 1,
              _outbox: [JSON.stringify({ poison: id, note: 'not an outbox envelope' })],
            }),
          }),
        );
        poisons.push({
          id,
          channel: 'outbox (Orders stream)',
          defect: 'staged message is not an outbox envelope',
        });
        break;
    }
  }
  return poisons;
}
