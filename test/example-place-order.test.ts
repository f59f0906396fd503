/**
 * place-order with a client-chosen order id: a retried call (its first answer lost to a timeout or
 * a crash) gets the same order back instead of a second order, and an id taken by another
 * customer's order is refused with a clear error. Runs the bundled function on the local cloud.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { FoodDeliveryStack } from '../example/food-delivery-stack';
import { LocalCloud } from '../local/cloud';
import { scanAll } from '../local/workload/scan';
import { dynamodbEndpoint, snsSqsEndpoint, uniqueName } from './support/emulators';

describe('place-order with a client-chosen order id', () => {
  let cloud: LocalCloud;
  const items = [{ sku: 'ramen', quantity: 2, unitPrice: 9 }];

  beforeAll(async () => {
    const assembly = mkdtempSync(join(tmpdir(), 'switchyard-place-order-'));
    const app = new App({ outdir: assembly });
    new FoodDeliveryStack(app, uniqueName('SwitchyardFoodDelivery'));
    app.synth();
    cloud = await LocalCloud.start({
      assemblyDir: assembly,
      endpoints: { snsSqs: snsSqsEndpoint(), dynamodb: dynamodbEndpoint() },
      runEventSources: false,
    });
  }, 240_000);

  afterAll(async () => {
    await cloud?.stop();
  });

  test('the same request sent twice places one order and answers both times', async () => {
    const orderId = randomUUID();
    const request = { orderId, customerId: 'customer-7', items };
    const first = await cloud.invoke('PlaceOrder', request);
    const retried = await cloud.invoke('PlaceOrder', request);
    expect(first.response).toEqual({ orderId, status: 'PENDING' });
    expect(retried.ok).toBe(true);
    expect(retried.response).toEqual({ orderId, status: 'PENDING' });
    const table = String(cloud.outputs().OrdersTableName);
    const stored = (await scanAll(cloud.clients.dynamodb, table)).filter((i) => i.pk === `ORDER#${orderId}`);
    expect(stored).toHaveLength(1);
    expect(stored[0]?._outboxSeq).toBe(2);
  }, 60_000);

  test('an id taken by another customer is refused, naming the fix', async () => {
    const orderId = randomUUID();
    await cloud.invoke('PlaceOrder', { orderId, customerId: 'customer-1', items });
    const other = await cloud.invoke('PlaceOrder', { orderId, customerId: 'customer-2', items });
    expect(other.ok).toBe(false);
    expect(other.error?.errorType).toBe('InvalidOrderRequestError');
    expect(other.error?.errorMessage).toMatch(/taken by another order.*new UUID/);
  }, 60_000);

  test('an order id that is not a UUID is refused before anything is stored', async () => {
    const result = await cloud.invoke('PlaceOrder', { orderId: 'order 1', customerId: 'c', items });
    expect(result.ok).toBe(false);
    expect(result.error?.errorMessage).toMatch(/orderId/);
  }, 60_000);
});
