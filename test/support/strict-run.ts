/**
 * Runs the example workload on fresh embedded emulators in a child process (fauxqs is ESM-only and
 * cannot start inside jest's VM) and prints what the local cloud found, as one JSON line.
 * Usage: node -r ts-node/register/transpile-only test/support/strict-run.ts <assemblyDir> <orders> <timeoutMs> [no-iam]
 */
import { LocalCloud } from '../../local/cloud';
import { runFoodDeliveryWorkload } from '../../local/workload/food-delivery';

async function main(): Promise<void> {
  const cloud = await LocalCloud.start({ assemblyDir: process.argv[2], iam: process.argv[5] !== 'no-iam' });
  try {
    const result = await runFoodDeliveryWorkload(cloud, {
      orders: Number(process.argv[3] ?? 2),
      timeoutMs: Number(process.argv[4] ?? 12_000),
    });
    const report = {
      ordersCompleted: result.ordersCompleted,
      denials: cloud.denials(),
      undeliverable: cloud.undeliverableSubscriptions(),
      unsupported: cloud.strict?.unsupportedConditions ?? [],
    };
    process.stdout.write(`STRICT-RUN ${JSON.stringify(report)}\n`);
  } finally {
    await cloud.stop();
  }
}

main().then(
  () => process.exit(0),
  (error: Error) => {
    process.stderr.write(`${error.stack ?? error.message}\n`);
    process.exit(1);
  },
);
