/**
 * Review of the faults-core merge (issue 8) at the producer (SNS/SQS emulator). Fails on 88e90c1.
 *
 * A failed PublishBatch entry carries the service's wire error code, not the SDK's exception name:
 * SNS speaks the query protocol, where ThrottledException is `Throttled` and KMSThrottlingException
 * is `KMSThrottling` (the `awsQueryError` traits in @aws-sdk/client-sns). isRetryableEntryCode()
 * looks the code up as an exception name, so a throttle reported on an entry with SenderFault is
 * taken as permanent: no retry, reported `senderFault: true`, and the relay and the poller count it
 * toward parking (see review-poller.test.ts). The README says such entries are retried.
 */
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { z } from 'zod';
import { createProducer, defineEvent } from '../lambdas';
import { failEntries } from './support/sdk-faults';
import { receiveAll } from './support/sqs-event';
import { topicWithQueue as topicWithRawQueue } from './support/topic-with-queue';

const Step = defineEvent({
  type: 'Step',
  schema: z.object({ group: z.string(), n: z.number() }),
  partitionKey: (p) => p.group,
});
const steps = (group: string, count: number) =>
  Array.from({ length: count }, (_, n) => Step.create({ group, n }));
const plainSqs = new SQSClient({ useQueueUrlAsEndpoint: false });

const topicWithQueue = () => topicWithRawQueue('review');

describe('review: SNS batch entries failing with a throttle wire code are retried', () => {
  it.each(['KMSThrottling', 'Throttled'])(
    'PublishBatch entry failed once with Code %s, SenderFault true: retried and delivered',
    async (code) => {
      const { topicArn, queueUrl } = await topicWithQueue();
      const sns = new SNSClient({});
      const messages = steps('k', 3);
      const { attempts } = failEntries(
        sns,
        new Map([[messages[1]!.id, { code, senderFault: true, times: 1 }]]),
      );
      const result = await createProducer({ sns, baseDelayMs: 1 }).publishBatch(topicArn, messages);
      // A one-off throttle must not be reported as a permanent (sender) failure.
      expect(result.failed).toEqual([]);
      expect(attempts.get(messages[1]!.id)).toBe(2);
      expect(await receiveAll(plainSqs, queueUrl, 3)).toHaveLength(3);
    },
  );
});
