/** AWS::SNS::Topic and AWS::SNS::Subscription -> CreateTopic / Subscribe in the emulator. */
import { CreateTopicCommand, SubscribeCommand } from '@aws-sdk/client-sns';
import { NAME_LIMITS, physicalName } from '../names';
import {
  asString,
  bool,
  checkProperties,
  type DeployedResource,
  jsonString,
  type ResourceContext,
} from './context';

export async function createTopic(
  ctx: ResourceContext,
  props: Record<string, unknown>,
): Promise<DeployedResource> {
  checkProperties(
    ctx,
    props,
    ['TopicName', 'FifoTopic', 'ContentBasedDeduplication'],
    ['KmsMasterKeyId', 'Tags', 'DisplayName', 'TracingConfig', 'SignatureVersion', 'FifoThroughputScope'],
  );
  const fifo = bool(props.FifoTopic);
  const name =
    props.TopicName !== undefined
      ? asString(props.TopicName, 'TopicName')
      : physicalName(ctx.stack.stackName, ctx.logicalId, NAME_LIMITS.topic, fifo);
  const attributes: Record<string, string> = {};
  if (fifo) {
    attributes.FifoTopic = 'true';
    if (props.ContentBasedDeduplication !== undefined) {
      attributes.ContentBasedDeduplication = asString(
        props.ContentBasedDeduplication,
        'ContentBasedDeduplication',
      );
    }
  }
  const created = await ctx.clients.sns.send(new CreateTopicCommand({ Name: name, Attributes: attributes }));
  const arn = created.TopicArn!;
  ctx.inventory.topics.push({ logicalId: ctx.logicalId, name, arn });
  return {
    logicalId: ctx.logicalId,
    type: ctx.type,
    physicalName: name,
    ref: arn,
    attributes: { TopicArn: arn, TopicName: name },
  };
}

/** Returns undefined when the protocol cannot be delivered locally (the caller lists it as a warning). */
export async function createSubscription(
  ctx: ResourceContext,
  props: Record<string, unknown>,
): Promise<DeployedResource | undefined> {
  checkProperties(
    ctx,
    props,
    [
      'TopicArn',
      'Protocol',
      'Endpoint',
      'RawMessageDelivery',
      'FilterPolicy',
      'FilterPolicyScope',
      'RedrivePolicy',
    ],
    ['Region'],
  );
  const protocol = asString(props.Protocol, 'Protocol');
  const endpoint = asString(props.Endpoint, 'Endpoint');
  const topicArn = asString(props.TopicArn, 'TopicArn');
  if (protocol !== 'sqs') {
    ctx.warn(
      `${ctx.logicalId}: SNS subscriptions with protocol "${protocol}" are not delivered locally (only sqs); ` +
        'subscribe a queue instead, or test this path in AWS.',
    );
    return undefined;
  }
  const attributes: Record<string, string> = {};
  if (props.RawMessageDelivery !== undefined)
    attributes.RawMessageDelivery = String(bool(props.RawMessageDelivery));
  if (props.FilterPolicy !== undefined) attributes.FilterPolicy = jsonString(props.FilterPolicy);
  if (props.FilterPolicyScope !== undefined)
    attributes.FilterPolicyScope = asString(props.FilterPolicyScope, 'FilterPolicyScope');
  if (props.RedrivePolicy !== undefined) attributes.RedrivePolicy = jsonString(props.RedrivePolicy);
  const created = await ctx.clients.sns.send(
    new SubscribeCommand({
      TopicArn: topicArn,
      Protocol: protocol,
      Endpoint: endpoint,
      Attributes: attributes,
      ReturnSubscriptionArn: true,
    }),
  );
  const arn = created.SubscriptionArn!;
  const redrive = attributes.RedrivePolicy
    ? (JSON.parse(attributes.RedrivePolicy) as { deadLetterTargetArn?: string })
    : undefined;
  ctx.inventory.subscriptions.push({
    logicalId: ctx.logicalId,
    arn,
    topicArn,
    protocol,
    endpoint,
    deadLetterTargetArn: redrive?.deadLetterTargetArn,
    attributes,
  });
  return { logicalId: ctx.logicalId, type: ctx.type, physicalName: arn, ref: arn, attributes: { Arn: arn } };
}
