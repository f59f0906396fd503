/**
 * Runs only the idempotency bench suite against a fresh DynamoDB Local and prints its result:
 * `BENCH_IDEMPOTENCY_MESSAGES=1000 npx ts-node --transpile-only bench/baselines/run-idempotency-suite.ts`.
 * Dev-only; `npm run bench` runs every suite.
 */
import { startDynamoDbLocal } from '../../local/dynamodb-local';
import { idempotencySuite } from '../suites/20-idempotency';

async function main(): Promise<void> {
  const dynamodb = await startDynamoDbLocal();
  process.env.AWS_REGION ??= 'us-east-1';
  process.env.AWS_ACCESS_KEY_ID ??= 'local';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'local';
  process.env.AWS_ENDPOINT_URL_DYNAMODB = dynamodb.endpoint;
  try {
    const result = await idempotencySuite.run({
      snsSqsEndpoint: '',
      dynamodbEndpoint: dynamodb.endpoint,
      root: process.cwd(),
      log: (line) => console.error(line),
    });
    console.log(JSON.stringify(result, null, 2));
  } finally {
    await dynamodb.stop();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
