/**
 * SNS delivery to a subscribed queue, authorized as AWS does: the queue's policy must let
 * `sns.amazonaws.com` send (with `aws:SourceArn` = the topic), and a queue encrypted with a
 * customer-managed key needs its key policy to let SNS use the key. fauxqs delivers without asking,
 * so a denied subscription is re-pointed at a holding queue; what arrives there goes where AWS
 * sends a failed delivery: the subscription's dead-letter queue, or nowhere (counted as dropped).
 */
import { randomBytes } from 'node:crypto';
import { type SNSClient, SubscribeCommand, UnsubscribeCommand } from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { Inventory, SubscriptionInfo } from '../template/resources/context';
import type { AuthorizingGateway, Denial } from './gateway';
import type { SecurityModel } from './security-model';

export interface UndeliverableStats {
  readonly subscriptionArn: string;
  readonly queueArn: string;
  readonly topicArn: string;
  readonly denial: Denial;
  /** Deliveries moved to the subscription's DLQ. */
  toDeadLetterQueue: number;
  /** Deliveries with no DLQ: lost, as in AWS. */
  dropped: number;
}

const SNS = { kind: 'service', service: 'sns.amazonaws.com' } as const;

/** The first denial AWS would meet delivering from the subscription's topic to its queue. */
export function deliveryDenial(
  gateway: AuthorizingGateway,
  model: SecurityModel,
  subscription: SubscriptionInfo,
  region: string,
): Denial | undefined {
  const context = { 'aws:sourcearn': subscription.topicArn };
  const denial = gateway.authorize(
    SNS,
    { action: 'sqs:SendMessage', resource: subscription.endpoint },
    context,
  );
  if (denial) return denial;
  const key = model.queues.get(subscription.endpoint)?.kmsKeyArn;
  const keyArn = key ? (model.keyArn(key) ?? key) : undefined;
  if (!keyArn) return undefined;
  for (const action of ['kms:GenerateDataKey', 'kms:Decrypt']) {
    const kms = gateway.authorize(
      SNS,
      { action, resource: keyArn },
      { ...context, 'kms:viaservice': `sqs.${region}.amazonaws.com` },
    );
    if (kms) return kms;
  }
  return undefined;
}

export class UndeliverableSubscriptions {
  readonly stats: UndeliverableStats[] = [];
  private stopped = false;
  private readonly loops: Promise<void>[] = [];

  constructor(
    private readonly clients: { sqs: SQSClient; sns: SNSClient },
    private readonly inventory: Inventory,
  ) {}

  /** Re-points every denied SQS subscription at a holding queue and starts moving what arrives. */
  async install(gateway: AuthorizingGateway, model: SecurityModel, region: string): Promise<void> {
    for (const subscription of this.inventory.subscriptions) {
      if (subscription.protocol !== 'sqs') continue;
      const denial = deliveryDenial(gateway, model, subscription, region);
      if (!denial) continue;
      await this.clients.sns.send(new UnsubscribeCommand({ SubscriptionArn: subscription.arn }));
      const fifo = subscription.topicArn.endsWith('.fifo');
      // Unique per cloud: several local clouds may share one SNS/SQS endpoint.
      const name = `switchyard-undeliverable-${randomBytes(4).toString('hex')}-${this.stats.length}${fifo ? '.fifo' : ''}`;
      const { QueueUrl } = await this.clients.sqs.send(
        new CreateQueueCommand({ QueueName: name, Attributes: fifo ? { FifoQueue: 'true' } : {} }),
      );
      const described = await this.clients.sqs.send(
        new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }),
      );
      await this.clients.sns.send(
        new SubscribeCommand({
          TopicArn: subscription.topicArn,
          Protocol: 'sqs',
          Endpoint: described.Attributes?.QueueArn,
          Attributes: subscription.attributes,
          ReturnSubscriptionArn: true,
        }),
      );
      const stats: UndeliverableStats = {
        subscriptionArn: subscription.arn,
        queueArn: subscription.endpoint,
        topicArn: subscription.topicArn,
        denial,
        toDeadLetterQueue: 0,
        dropped: 0,
      };
      this.stats.push(stats);
      this.loops.push(this.drain(QueueUrl!, subscription, stats));
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.allSettled(this.loops);
  }

  private async drain(
    holdingUrl: string,
    subscription: SubscriptionInfo,
    stats: UndeliverableStats,
  ): Promise<void> {
    const dlq = subscription.deadLetterTargetArn
      ? this.inventory.queues.find((q) => q.arn === subscription.deadLetterTargetArn)
      : undefined;
    while (!this.stopped) {
      let messages: Message[] = [];
      try {
        const out = await this.clients.sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: holdingUrl,
            MaxNumberOfMessages: 10,
            WaitTimeSeconds: 1,
            MessageAttributeNames: ['All'],
            MessageSystemAttributeNames: ['All'],
          }),
        );
        messages = out.Messages ?? [];
      } catch {
        if (this.stopped) return;
        await new Promise((r) => setTimeout(r, 200));
        continue;
      }
      for (const message of messages) {
        if (dlq) {
          await this.clients.sqs.send(
            new SendMessageCommand({
              QueueUrl: dlq.url,
              MessageBody: message.Body ?? '',
              MessageAttributes: message.MessageAttributes,
              ...(dlq.name.endsWith('.fifo')
                ? {
                    MessageGroupId: message.Attributes?.MessageGroupId ?? 'undeliverable',
                    MessageDeduplicationId: message.Attributes?.MessageDeduplicationId ?? message.MessageId,
                  }
                : {}),
            }),
          );
          stats.toDeadLetterQueue += 1;
        } else {
          stats.dropped += 1;
        }
        await this.clients.sqs.send(
          new DeleteMessageCommand({ QueueUrl: holdingUrl, ReceiptHandle: message.ReceiptHandle }),
        );
      }
    }
  }
}
