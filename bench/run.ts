/**
 * `npm run bench [-- FILTER...]`: starts the embedded emulators once, runs every suite in
 * `bench/suites/` (or those whose name contains a FILTER term) and merges the figures into
 * `bench/results.json` and `bench/results.md`. Exits 1 when a suite failed; the others' figures
 * are written all the same.
 */
import { join, resolve } from 'node:path';
import { type DynamoDbLocal, startDynamoDbLocal } from '../local/dynamodb-local';
import { endpointEnvironment } from '../local/endpoints';
import { type SnsSqsEmulator, startSnsSqs } from '../local/sns-sqs';
import { BenchConfigurationError, describeError, loadSuites, runBenchmarks, selectSuites } from './harness';

const ROOT = resolve(__dirname, '..');

async function main(filter: readonly string[]): Promise<number> {
  const { suites, failures } = loadSuites(join(ROOT, 'bench', 'suites'));
  // Check the filter before paying for the emulators.
  selectSuites(
    suites,
    filter,
    failures.map((f) => f.name),
  );

  let snsSqs: SnsSqsEmulator | undefined;
  let dynamodb: DynamoDbLocal | undefined;
  try {
    [snsSqs, dynamodb] = await Promise.all([startSnsSqs(), startDynamoDbLocal()]);
    Object.assign(process.env, endpointEnvironment({ snsSqs: snsSqs.endpoint, dynamodb: dynamodb.endpoint }));
    console.log(`Emulators: SNS/SQS ${snsSqs.endpoint}, DynamoDB ${dynamodb.endpoint}`);
    const { failed } = await runBenchmarks({
      suites,
      filter,
      loadFailures: failures,
      resultsDir: join(ROOT, 'bench'),
      context: { snsSqsEndpoint: snsSqs.endpoint, dynamodbEndpoint: dynamodb.endpoint, root: ROOT },
    });
    if (failed.length > 0) console.error(`\nFailed suites: ${failed.join(', ')}`);
    return failed.length > 0 ? 1 : 0;
  } finally {
    await Promise.allSettled([snsSqs?.stop(), dynamodb?.stop()]);
  }
}

main(process.argv.slice(2)).then(
  // Exit explicitly: SDK keep-alive sockets left by suites must not hold the process open.
  (code) => process.exit(code),
  (error: unknown) => {
    // A configuration mistake needs its message, not a stack trace.
    console.error(error instanceof BenchConfigurationError ? error.message : describeError(error));
    process.exit(1);
  },
);
