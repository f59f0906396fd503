/**
 * `node -r esbuild-register -r tsconfig-paths/register bench/cpu-per-order.ts [ORDERS] [FUNCTION_CONCURRENCY]`:
 * CPU milliseconds per order of the food-delivery example on the local cloud, split into the
 * local cloud's main thread, its other threads (function workers, libuv, GC), DynamoDB Local's JVM
 * and fauxqs (in a child process here). How the README's "what each change bought" figures were
 * taken: 5 warm-up orders, then ORDERS (default 200) closed-loop. Prints one JSON line.
 */
import { LocalCloud } from '../local/cloud';
import { startDynamoDbLocal } from '../local/dynamodb-local';
import { processCpuMs, threadCpuMs } from '../local/machine-load';
import { runFoodDeliveryWorkload } from '../local/workload/food-delivery';
import { measureUnloadedLatency } from '../local/workload/latency-probe';
import { spawnSnsSqs } from './support/sns-sqs-process';

async function main(orders: number, functionConcurrency: number | undefined): Promise<void> {
  const [snsSqs, dynamodb] = await Promise.all([spawnSnsSqs(), startDynamoDbLocal()]);
  const cloud = await LocalCloud.start({
    projectDir: process.cwd(),
    endpoints: { snsSqs: snsSqs.endpoint, dynamodb: dynamodb.endpoint },
    functionConcurrency,
  });
  try {
    await measureUnloadedLatency(cloud, { orders: 5, firstIndex: 100_000 });
    const threadsBefore = threadCpuMs();
    const processBefore = process.cpuUsage();
    const dynamodbBefore = processCpuMs(dynamodb.pid ?? 0) ?? 0;
    const snsSqsBefore = processCpuMs(snsSqs.pid) ?? 0;
    const result = await runFoodDeliveryWorkload(cloud, { orders });
    const processUsage = process.cpuUsage(processBefore);
    let mainThread = 0;
    let otherThreads = 0;
    for (const [tid, ms] of threadCpuMs()) {
      const used = ms - (threadsBefore.get(tid) ?? 0);
      if (tid === process.pid) mainThread = used;
      else otherThreads += used;
    }
    const per = (ms: number) => Math.round((ms / orders) * 10) / 10;
    console.log(
      JSON.stringify({
        orders,
        completed: result.ordersCompleted,
        seconds: result.durationMs / 1000,
        functionInstances: cloud.initStats().instancesStarted,
        cpuMsPerOrder: {
          localCloudProcess: per((processUsage.user + processUsage.system) / 1000),
          mainThread: per(mainThread),
          otherThreads: per(otherThreads),
          dynamodbLocal: per((processCpuMs(dynamodb.pid ?? 0) ?? 0) - dynamodbBefore),
          snsSqs: per((processCpuMs(snsSqs.pid) ?? 0) - snsSqsBefore),
        },
      }),
    );
  } finally {
    await cloud.stop();
    await Promise.allSettled([snsSqs.stop(), dynamodb.stop()]);
  }
}

const [orders = '200', concurrency] = process.argv.slice(2);
main(Number(orders), concurrency ? Number(concurrency) : undefined).then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
