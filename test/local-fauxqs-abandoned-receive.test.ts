/**
 * A long poll whose client has gone takes nothing (local/fauxqs-abandoned-receive.ts), whatever the
 * client: here a plain SDK client, not an event source mapping (review-esm-sqs covers the mapping).
 */
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { uniqueName } from './support/emulators';

const sqs = new SQSClient({ useQueueUrlAsEndpoint: false });

test('a message sent after a client aborted its long poll goes to the next receive, never received before', async () => {
  const { QueueUrl = '' } = await sqs.send(
    new CreateQueueCommand({
      QueueName: uniqueName('abandoned-poll'),
      Attributes: { VisibilityTimeout: '30' },
    }),
  );
  // Several rounds: the abort and the send race each other to the emulator.
  for (let round = 0; round < 5; round += 1) {
    // GIVEN a long poll on the empty queue, aborted by its client
    const abort = new AbortController();
    const poll = sqs
      .send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 20 }), { abortSignal: abort.signal })
      .catch((error: Error) => error.name);
    await new Promise((r) => setTimeout(r, 200));
    abort.abort();
    expect(await poll).toBe('AbortError');
    // WHEN a message arrives at once
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: `after-abort-${round}` }));
    // THEN the next receive gets it on its first receive (the abandoned poll took nothing)
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl,
        WaitTimeSeconds: 1,
        MessageSystemAttributeNames: ['ApproximateReceiveCount'],
      }),
    );
    expect(Messages.map((m) => `${m.Body}#${m.Attributes?.ApproximateReceiveCount}`)).toEqual([
      `after-abort-${round}#1`,
    ]);
    await sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: Messages[0]?.ReceiptHandle }));
  }
});
