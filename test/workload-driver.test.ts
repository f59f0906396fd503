/**
 * The example workload's verdict (local/workload/food-delivery.ts): what makes an order complete and
 * what breaks an invariant comes from the read models themselves, with the approval hook only a
 * shortcut for when to look. The driver runs against a stand-in for the local cloud whose read
 * models are real tables in DynamoDB Local, so each case sets exactly what the tables say.
 */
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { LocalCloud } from '../local/cloud';
import { checkInvariants, runFoodDeliveryWorkload } from '../local/workload/food-delivery';
import { dynamodbEndpoint, uniqueName } from './support/emulators';

type Hook = (records: Record<string, unknown>[], at: number) => void;

const client = new DynamoDBClient({
  endpoint: dynamodbEndpoint(),
  region: 'us-east-1',
  credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
});
const documents = DynamoDBDocumentClient.from(client);

afterAll(() => client.destroy());

async function table(base: string): Promise<string> {
  const name = uniqueName(base);
  await client.send(
    new CreateTableCommand({
      TableName: name,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
    }),
  );
  return name;
}

/** What the history writer's mapping hands the hook for an OrderApproved event. */
function approvedRecord(orderId: string): Record<string, unknown> {
  return {
    messageAttributes: { 'message-type': { stringValue: 'OrderApproved' } },
    body: JSON.stringify({ orderId }),
  };
}

interface Tables {
  readonly history: string;
  readonly tickets: string;
  readonly notifications: string;
}

/**
 * A local cloud with just what the driver uses: place-order answers `orderIds` in turn, and the
 * history writer's hook reports an approval only for the orders in `hookApproves`.
 */
function standIn(tables: Tables, orderIds: string[], hookApproves: string[]): LocalCloud {
  const hooks: Hook[] = [];
  let next = 0;
  return {
    outputs: () => ({
      PlaceOrderFunctionName: 'place-order',
      OrdersTableName: 'orders',
      TicketsTableName: tables.tickets,
      OrderHistoryTableName: tables.history,
      NotificationsTableName: tables.notifications,
    }),
    functions: () => [{ name: 'history-writer', environment: { TABLE: tables.history } }],
    mappingReports: () => [
      { functionName: 'history-writer', observer: { onSucceeded: (hook: Hook) => hooks.push(hook) } },
    ],
    invoke: async () => {
      const orderId = orderIds[next++]!;
      if (hookApproves.includes(orderId)) {
        setTimeout(() => {
          for (const hook of hooks) hook([approvedRecord(orderId)], Date.now());
        }, 20);
      }
      return { ok: true, response: { orderId, status: 'PENDING' } };
    },
    clients: { dynamodb: client },
    denials: () => [],
  } as unknown as LocalCloud;
}

async function readModels(
  orderIds: string[],
  view: (orderId: string) => { status: string; events: string[] },
): Promise<Tables> {
  const tables = {
    history: await table('history'),
    tickets: await table('tickets'),
    notifications: await table('notifications'),
  };
  for (const orderId of orderIds) {
    const ticketId = `ticket-${orderId}`;
    await documents.send(
      new PutCommand({
        TableName: tables.history,
        Item: { pk: orderId, ticketId, updatedAt: new Date().toISOString(), ...view(orderId) },
      }),
    );
    await documents.send(new PutCommand({ TableName: tables.tickets, Item: { pk: orderId, ticketId } }));
    await documents.send(
      new PutCommand({ TableName: tables.notifications, Item: { pk: ticketId, orderId } }),
    );
  }
  return tables;
}

const inOrder = { status: 'APPROVED', events: ['OrderCreated', 'OrderApproved'] };
const quick = { timeoutMs: 1000, redeliveryGraceMs: 0, pollIntervalMs: 50 };

test('an order APPROVED in the view counts even when the hook missed it: the tables are read again at the end', async () => {
  const orderIds = ['o-1', 'o-2'];
  const tables = await readModels(orderIds, () => inOrder);
  const result = await runFoodDeliveryWorkload(standIn(tables, orderIds, ['o-1']), { orders: 2, ...quick });
  expect(result.incomplete).toEqual([]);
  expect(result.invariantFailures).toEqual([]);
  expect(result.ordersCompleted).toBe(2);
});

test('an order the hook approved but whose view is not APPROVED is not complete', async () => {
  const orderIds = ['o-1', 'o-2'];
  const tables = await readModels(orderIds, (id) =>
    id === 'o-2' ? { status: 'PENDING', events: ['OrderCreated'] } : inOrder,
  );
  const result = await runFoodDeliveryWorkload(standIn(tables, orderIds, orderIds), { orders: 2, ...quick });
  expect(result.incomplete).toEqual(['order o-2: not APPROVED in view']);
  expect(result.ordersCompleted).toBe(1);
  // Its hook approval does not make it into the latency or the completion time either.
  expect(result.latenciesMs).toHaveLength(1);
});

describe('history order, whatever the view says', () => {
  const order = { placedAt: 1, approvedAt: 2, ticketId: 'ticket-o-1' };
  const tickets = [{ pk: 'o-1', ticketId: 'ticket-o-1' }];
  const notifications = [{ pk: 'ticket-o-1', orderId: 'o-1' }];
  const check = (view: Record<string, unknown>) =>
    checkInvariants(
      new Map([['o-1', order]]),
      [{ pk: 'o-1', ticketId: 'ticket-o-1', ...view }],
      tickets,
      notifications,
    );

  test('in order: nothing to report', () => {
    expect(check(inOrder)).toEqual({ incomplete: [], failures: [] });
  });

  test('approved before created, in a view still PENDING', () => {
    const { failures, incomplete } = check({ status: 'PENDING', events: ['OrderApproved', 'OrderCreated'] });
    expect(failures).toEqual([expect.stringContaining('order o-1: history events out of order or missing')]);
    expect(incomplete).toEqual(['order o-1: not APPROVED in view']);
  });

  test('an event applied twice', () => {
    const { failures } = check({
      status: 'APPROVED',
      events: ['OrderCreated', 'OrderApproved', 'OrderApproved'],
    });
    expect(failures).toEqual([
      expect.stringContaining('order o-1: history has OrderApproved more than once'),
    ]);
  });

  test('a ticket applied twice', () => {
    const twice = checkInvariants(
      new Map([['o-1', order]]),
      [{ pk: 'o-1', ticketId: 'ticket-o-1', ...inOrder }],
      [{ pk: 'o-1', ticketId: 'ticket-o-1', timesApplied: 2 }],
      notifications,
    );
    expect(twice.failures).toEqual(['ticket ticket-o-1 applied 2 times (expected exactly 1)']);
  });

  test('a view APPROVED without its ticket', () => {
    const { failures } = checkInvariants(
      new Map([['o-1', order]]),
      [{ pk: 'o-1', ...inOrder }],
      tickets,
      notifications,
    );
    expect(failures).toEqual(['order o-1: the view says APPROVED but names no ticket']);
  });

  test('APPROVED without OrderCreated', () => {
    const { failures } = check({ status: 'APPROVED', events: ['OrderApproved'] });
    expect(failures).toEqual([expect.stringContaining('history events out of order or missing')]);
  });
});
