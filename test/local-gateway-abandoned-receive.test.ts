/**
 * A long poll through the IAM gateway whose caller goes away takes nothing. The gateway used to
 * finish the upstream call whatever its caller did, so the emulator kept waiting for a client that
 * had gone and, when a message arrived, took it into flight for nobody: invisible for the
 * visibility timeout, its receive count raised. Now the gateway aborts the upstream call, and the
 * emulator's own rule applies (local/fauxqs-abandoned-receive.ts). An event source mapping that
 * stops, or a function whose SDK call is aborted, polls this way.
 */
import { CreateQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import { StrictLayer } from '../local/iam/strict-layer';
import { expectAbortedPollsTakeNothing } from './support/abandoned-poll';
import { dynamodbEndpoint, snsSqsEndpoint, uniqueName } from './support/emulators';

let layer: StrictLayer;
let sqs: SQSClient;

beforeAll(async () => {
  layer = await StrictLayer.start({
    upstream: { snsSqs: snsSqsEndpoint(), dynamodb: dynamodbEndpoint() },
    region: 'us-east-1',
    accountId: '000000000000',
    localSsm: true,
  });
  sqs = new SQSClient({ endpoint: layer.endpoints.snsSqs, useQueueUrlAsEndpoint: false });
});

afterAll(async () => {
  sqs.destroy();
  await layer.stop();
});

test('a message sent after the caller aborted its long poll goes to the next receive, received once', async () => {
  const { QueueUrl = '' } = await sqs.send(
    new CreateQueueCommand({
      QueueName: uniqueName('gateway-abandoned'),
      Attributes: { VisibilityTimeout: '30' },
    }),
  );
  // The queue URL names the gateway: every call of this test goes through it.
  expect(new URL(QueueUrl).host).toBe(new URL(layer.endpoints.snsSqs).host);
  await expectAbortedPollsTakeNothing(sqs, QueueUrl, 3, 2);
});
