/**
 * A long poll through the IAM gateway whose caller goes away takes nothing. The gateway used to
 * finish the upstream call whatever its caller did, so the emulator kept waiting for a client that
 * had gone and, when a message arrived, took it into flight for nobody: invisible for the
 * visibility timeout, its receive count raised. Now the gateway aborts the upstream call, and the
 * emulator's own rule applies (local/fauxqs-abandoned-receive.ts). An event source mapping that
 * stops, or a function whose SDK call is aborted, polls this way.
 */
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { StrictLayer } from '../local/iam/strict-layer';
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
  // Several rounds: the abort and the send race each other to the emulator.
  for (let round = 0; round < 3; round += 1) {
    // GIVEN a long poll on the empty queue, aborted by its caller
    const abort = new AbortController();
    const poll = sqs
      .send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 20 }), { abortSignal: abort.signal })
      .catch((error: Error) => error.name);
    await new Promise((resolve) => setTimeout(resolve, 200));
    abort.abort();
    expect(await poll).toBe('AbortError');
    // WHEN a message arrives at once
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: `after-abort-${round}` }));
    // THEN the next receive gets it on its first receive (the abandoned poll did not take it)
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl,
        WaitTimeSeconds: 2,
        MessageSystemAttributeNames: ['ApproximateReceiveCount'],
      }),
    );
    expect(Messages.map((m) => `${m.Body}#${m.Attributes?.ApproximateReceiveCount}`)).toEqual([
      `after-abort-${round}#1`,
    ]);
    await sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: Messages[0]?.ReceiptHandle }));
  }
});
