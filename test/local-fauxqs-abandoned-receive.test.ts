/**
 * A long poll whose client has gone takes nothing (local/fauxqs-abandoned-receive.ts), whatever the
 * client: here a plain SDK client, not an event source mapping (review-esm-sqs covers the mapping).
 */
import { CreateQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import { expectAbortedPollsTakeNothing } from './support/abandoned-poll';
import { uniqueName } from './support/emulators';

const sqs = new SQSClient({ useQueueUrlAsEndpoint: false });

test('a message sent after a client aborted its long poll goes to the next receive, never received before', async () => {
  const { QueueUrl = '' } = await sqs.send(
    new CreateQueueCommand({
      QueueName: uniqueName('abandoned-poll'),
      Attributes: { VisibilityTimeout: '30' },
    }),
  );
  await expectAbortedPollsTakeNothing(sqs, QueueUrl, 5, 1);
});
