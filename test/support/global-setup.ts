/**
 * Starts one DynamoDB Local and one SNS/SQS emulator for the whole jest run and exports their
 * endpoints through the standard AWS_ENDPOINT_URL_* variables, which jest workers inherit.
 * Tests create resources with unique names (see `uniqueName`) so they never collide.
 */
import { startDynamoDbLocal } from '../../local/dynamodb-local';
import { endpointEnvironment } from '../../local/endpoints';
import { startSnsSqs } from '../../local/sns-sqs';
import { withNpxEsbuildShim } from '../../local/template/npx-esbuild-shim';

export default async function globalSetup(): Promise<void> {
  const [snsSqs, dynamodb] = await Promise.all([startSnsSqs(), startDynamoDbLocal()]);
  Object.assign(process.env, endpointEnvironment({ snsSqs: snsSqs.endpoint, dynamodb: dynamodb.endpoint }));
  process.env.SWITCHYARD_TEST_SNS_SQS = snsSqs.endpoint;
  process.env.SWITCHYARD_TEST_DYNAMODB = dynamodb.endpoint;
  // Tests that bundle functions in-process (NodejsFunction) skip npx's start-up, as synthesis does.
  const shim = withNpxEsbuildShim(process.env);
  if (shim.env.PATH !== undefined) process.env.PATH = shim.env.PATH;
  (globalThis as Record<string, unknown>).__SWITCHYARD_EMULATORS__ = [
    snsSqs,
    dynamodb,
    { stop: async () => shim.remove() },
  ];
}
