/** AWS::SQS::Queue -> CreateQueue in the emulator. */
import { CreateQueueCommand, GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { NAME_LIMITS, physicalName } from '../names';
import {
  asString,
  bool,
  checkProperties,
  type DeployedResource,
  jsonString,
  type ResourceContext,
} from './context';

const NUMERIC = [
  'VisibilityTimeout',
  'MessageRetentionPeriod',
  'DelaySeconds',
  'MaximumMessageSize',
  'ReceiveMessageWaitTimeSeconds',
] as const;

export async function createQueue(
  ctx: ResourceContext,
  props: Record<string, unknown>,
): Promise<DeployedResource> {
  checkProperties(
    ctx,
    props,
    [
      'QueueName',
      'FifoQueue',
      'ContentBasedDeduplication',
      'DeduplicationScope',
      'FifoThroughputLimit',
      'RedrivePolicy',
      'Tags',
      ...NUMERIC,
    ],
    ['KmsMasterKeyId', 'KmsDataKeyReusePeriodSeconds', 'SqsManagedSseEnabled', 'RedriveAllowPolicy'],
  );
  const fifo = bool(props.FifoQueue);
  const name =
    props.QueueName !== undefined
      ? asString(props.QueueName, 'QueueName')
      : physicalName(ctx.stack.stackName, ctx.logicalId, NAME_LIMITS.queue, fifo);
  const attributes: Record<string, string> = {};
  for (const key of NUMERIC) if (props[key] !== undefined) attributes[key] = asString(props[key], key);
  if (fifo) {
    attributes.FifoQueue = 'true';
    for (const key of ['ContentBasedDeduplication', 'DeduplicationScope', 'FifoThroughputLimit'] as const) {
      if (props[key] !== undefined) attributes[key] = asString(props[key], key);
    }
  }
  let redrive: { deadLetterTargetArn?: string; maxReceiveCount?: number | string } | undefined;
  if (props.RedrivePolicy !== undefined) {
    attributes.RedrivePolicy = jsonString(props.RedrivePolicy);
    redrive = JSON.parse(attributes.RedrivePolicy) as typeof redrive;
  }
  // Tags mark queues for operator tools (the outbox failure queue's switchyard:role).
  const tags = Object.fromEntries(
    ((props.Tags as { Key?: unknown; Value?: unknown }[] | undefined) ?? []).map((t) => [
      asString(t.Key, 'Tags.Key'),
      asString(t.Value, 'Tags.Value'),
    ]),
  );
  const created = await ctx.clients.sqs.send(
    new CreateQueueCommand({
      QueueName: name,
      Attributes: attributes,
      ...(Object.keys(tags).length > 0 ? { tags } : {}),
    }),
  );
  const url = created.QueueUrl!;
  const described = await ctx.clients.sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }),
  );
  const arn = described.Attributes?.QueueArn ?? `arn:aws:sqs:${ctx.region}:${ctx.accountId}:${name}`;
  ctx.inventory.queues.push({
    logicalId: ctx.logicalId,
    name,
    url,
    arn,
    deadLetterTargetArn: redrive?.deadLetterTargetArn,
    maxReceiveCount: redrive?.maxReceiveCount === undefined ? undefined : Number(redrive.maxReceiveCount),
    visibilityTimeoutSeconds: Number(attributes.VisibilityTimeout ?? 30),
  });
  return {
    logicalId: ctx.logicalId,
    type: ctx.type,
    physicalName: name,
    ref: url,
    attributes: { Arn: arn, QueueName: name, QueueUrl: url },
  };
}
