/**
 * Issue 9: the workload waits for redeliveries before it calls an order lost. What counts as a
 * pending delivery (queued, delayed or in flight outside dead-letter queues), and how long the
 * last redelivery can take.
 */
import {
  CreateQueueCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { QueueInfo } from '../local/template/resources/context';
import { pendingDeliveries, redeliveryGraceMs } from '../local/workload/pending-deliveries';
import { uniqueName } from './support/emulators';

const sqs = new SQSClient({ useQueueUrlAsEndpoint: false });

async function queue(logicalId: string, extra: Partial<QueueInfo> = {}): Promise<QueueInfo> {
  const name = uniqueName(logicalId);
  const { QueueUrl = '' } = await sqs.send(new CreateQueueCommand({ QueueName: name }));
  return { logicalId, name, url: QueueUrl, arn: `arn:aws:sqs:us-east-1:000000000000:${name}`, ...extra };
}

describe('pending deliveries', () => {
  test('counts queued and in-flight messages of work queues, not of dead-letter queues', async () => {
    const dlq = await queue('Dlq');
    const work = await queue('Work', {
      deadLetterTargetArn: dlq.arn,
      maxReceiveCount: 3,
      visibilityTimeoutSeconds: 20,
    });
    const cloud = { inventory: { queues: [work, dlq] }, clients: { sqs } };
    expect(await pendingDeliveries(cloud)).toBe(0);
    await sqs.send(new SendMessageCommand({ QueueUrl: dlq.url, MessageBody: 'given up' }));
    expect(await pendingDeliveries(cloud)).toBe(0);
    await sqs.send(new SendMessageCommand({ QueueUrl: work.url, MessageBody: 'a' }));
    await sqs.send(new SendMessageCommand({ QueueUrl: work.url, MessageBody: 'b' }));
    // One of them in flight (a failed invocation waiting for its visibility timeout) still counts.
    await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: work.url, MaxNumberOfMessages: 1, VisibilityTimeout: 30 }),
    );
    expect(await pendingDeliveries(cloud)).toBe(2);
    // The last redelivery can come after visibility timeout x maxReceiveCount.
    expect(redeliveryGraceMs(cloud)).toBe(20 * 3 * 1000 + 10_000);
  });
});
