/**
 * What the local-e2e bench measures with (issue 13): CPU accounting from /proc, the fair baseline
 * (the example's AWS calls per order, hand-written, against the emulators), and the honest latency
 * probes (unloaded one at a time; open loop at a fixed rate) on the deployed food-delivery example.
 */
import { join } from 'node:path';
import { DeleteItemCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { LocalCloud } from '../local/cloud';
import { machineLoadSince, processCpuMs, sampleMachine, threadCpuMs } from '../local/machine-load';
import { runBaseline } from '../local/workload/baseline';
import { verifyOrders } from '../local/workload/food-delivery';
import { runLatencyPhases } from '../local/workload/latency-phases';
import { measureOpenLoopLatency, measureUnloadedLatency } from '../local/workload/latency-probe';
import { dynamodbEndpoint, snsSqsEndpoint } from './support/emulators';

function burnCpu(ms: number): void {
  const until = process.cpuUsage().user / 1000 + ms;
  let x = 0;
  while (process.cpuUsage().user / 1000 < until) x += Math.sqrt(x + 1);
}

describe('CPU accounting', () => {
  test('reads this process, its threads and the machine from /proc', () => {
    const before = sampleMachine([process.pid]);
    burnCpu(300);
    const load = machineLoadSince(before, sampleMachine([process.pid]));
    // Own CPU counted twice on purpose (process.cpuUsage + the same pid as a "child"): >= 2 x 300 ms.
    expect(load.ownCpuMs).toBeGreaterThanOrEqual(550);
    expect(load.busyShare).toBeGreaterThan(0);
    expect(load.busyShare).toBeLessThanOrEqual(1);
    expect(load.cores).toBeGreaterThanOrEqual(1);
    expect(threadCpuMs().get(process.pid)).toBeGreaterThan(0);
    expect(processCpuMs(process.pid)).toBeGreaterThan(0);
    expect(processCpuMs(2 ** 30)).toBeUndefined();
  });
});

describe('fair baseline', () => {
  test('runs every order through the same calls and counts five deliveries per order', async () => {
    const config = { region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } };
    const clients = {
      dynamodb: new DynamoDBClient({ ...config, endpoint: dynamodbEndpoint() }),
      streams: new DynamoDBStreamsClient({ ...config, endpoint: dynamodbEndpoint() }),
      sns: new SNSClient({ ...config, endpoint: snsSqsEndpoint() }),
      sqs: new SQSClient({ ...config, endpoint: snsSqsEndpoint() }),
    };
    try {
      const result = await runBaseline(clients, { orders: 8, concurrency: 4, timeoutMs: 30_000 });
      expect(result.completed).toBe(8);
      expect(result.deliveries).toBe(40);
      expect(result.ordersPerSecond).toBeGreaterThan(0);
    } finally {
      for (const client of Object.values(clients)) client.destroy();
    }
  }, 60_000);
});

describe('latency probes on the deployed example', () => {
  let cloud: LocalCloud;

  beforeAll(async () => {
    cloud = await LocalCloud.start({
      projectDir: join(__dirname, '..'),
      endpoints: { snsSqs: snsSqsEndpoint(), dynamodb: dynamodbEndpoint() },
    });
  }, 240_000);

  afterAll(async () => {
    await cloud?.stop();
  });

  test('unloaded: one order at a time, each APPROVED before the next', async () => {
    const result = await measureUnloadedLatency(cloud, { orders: 3 });
    expect(result.problems).toEqual([]);
    expect(result.completed).toBe(3);
    expect(result.latencyMs.count).toBe(3);
    expect(result.latencyMs.p50).toBeGreaterThan(0);
    // Sequential: the probe cannot finish before the sum of its own latencies.
    expect(result.durationMs).toBeGreaterThanOrEqual(result.latencyMs.mean * 3 * 0.99);
  }, 60_000);

  test('open loop: orders placed on schedule, latency from the scheduled arrival', async () => {
    const started = Date.now();
    const result = await measureOpenLoopLatency(cloud, { ordersPerSecond: 4, orders: 8 });
    expect(result.problems).toEqual([]);
    expect(result.completed).toBe(8);
    // The eighth order is scheduled 7 / 4 s after the first, whatever the others did.
    expect(Date.now() - started).toBeGreaterThanOrEqual(1750);
    expect(result.latencyMs.count).toBe(8);
  }, 60_000);

  test("the probes' orders are checked like the workload's: a missing ticket is reported", async () => {
    const result = await measureUnloadedLatency(cloud, { orders: 2, firstIndex: 500 });
    expect(result.placed).toHaveLength(2);
    for (const order of result.placed) expect(order.approvedAt).toBeGreaterThanOrEqual(order.placedAt);
    expect(await verifyOrders(cloud, result.placed)).toEqual({ incomplete: [], failures: [] });

    // The kitchen's ticket of the first order disappears: the same check now names that order.
    const [lost, kept] = result.placed;
    await cloud.clients.dynamodb.send(
      new DeleteItemCommand({
        TableName: String(cloud.outputs().TicketsTableName),
        Key: { pk: { S: lost!.orderId } },
      }),
    );
    const checks = await verifyOrders(cloud, result.placed, { timeoutMs: 1000, redeliveryGraceMs: 0 });
    expect(checks.incomplete).toEqual([expect.stringContaining(`order ${lost!.orderId}: no ticket`)]);
    expect(checks.incomplete.join()).not.toContain(kept!.orderId);
  }, 60_000);

  test('the latency phases: 20 orders one at a time, then open loop at 80% of the capacity, all checked', async () => {
    const phases = await runLatencyPhases(cloud, { capacity: 5, firstIndex: 600 });
    expect(phases.unloaded.completed).toBe(20);
    // 80% of 5 orders/s for 5 s, at least 20 orders.
    expect(phases.loaded?.ordersPerSecond).toBe(4);
    expect(phases.loaded?.completed).toBe(20);
    expect(phases.incomplete).toEqual([]);
    expect(phases.invariantFailures).toEqual([]);
  }, 90_000);

  test('refuses an open loop without a rate', async () => {
    await expect(measureOpenLoopLatency(cloud, { ordersPerSecond: 0, orders: 1 })).rejects.toThrow(
      /ordersPerSecond must be > 0/,
    );
  });
});
