import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { uniqueName } from './emulators';

export interface TopicWithQueue {
  readonly topicArn: string;
  readonly queueUrl: string;
  readonly queueArn: string;
}

/**
 * A topic with one subscribed queue on the shared emulators, both FIFO when asked, with raw
 * delivery unless `raw` is false. Plain clients: faults injected into a test's own clients do not
 * reach the set-up.
 */
export async function topicWithQueue(
  base: string,
  options: { fifo?: boolean; raw?: boolean } = {},
): Promise<TopicWithQueue> {
  const fifo = options.fifo ?? false;
  const sns = new SNSClient({});
  const sqs = new SQSClient({});
  try {
    const { TopicArn } = await sns.send(
      new CreateTopicCommand({
        Name: uniqueName(base, fifo),
        ...(fifo ? { Attributes: { FifoTopic: 'true' } } : {}),
      }),
    );
    const { QueueUrl } = await sqs.send(
      new CreateQueueCommand({
        QueueName: uniqueName(base, fifo),
        ...(fifo ? { Attributes: { FifoQueue: 'true' } } : {}),
      }),
    );
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }),
    );
    await sns.send(
      new SubscribeCommand({
        TopicArn,
        Protocol: 'sqs',
        Endpoint: Attributes!.QueueArn,
        ...((options.raw ?? true) ? { Attributes: { RawMessageDelivery: 'true' } } : {}),
      }),
    );
    return { topicArn: TopicArn!, queueUrl: QueueUrl!, queueArn: Attributes!.QueueArn! };
  } finally {
    sns.destroy();
    sqs.destroy();
  }
}
