/**
 * Drift check: compares an AsyncAPI document with a synthesized CloudFormation template. Every
 * topic and queue the template creates must be a channel of the document (and the reverse), every
 * SNS -> SQS subscription must appear with its filter policy in the publishing operation's SNS
 * binding, and every queue a Lambda event source mapping drains must have a receive operation.
 */

interface CfnTemplate {
  Resources?: Record<string, { Type: string; Properties?: Record<string, unknown> }>;
}

type Doc = {
  channels?: Record<string, { address?: string | null; bindings?: Record<string, Record<string, unknown>> }>;
  operations?: Record<
    string,
    {
      action: string;
      channel: { $ref: string };
      bindings?: { sns?: { consumers?: { endpoint: { name?: string }; filterPolicy?: unknown }[] } };
    }
  >;
};

/** The literal name of a resource, or its logical id when CloudFormation names it. */
function nameOf(
  logicalId: string,
  properties: Record<string, unknown> | undefined,
  nameProperty: string,
): string {
  const value = properties?.[nameProperty];
  return typeof value === 'string' ? value : logicalId;
}

function logicalIdOf(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as { Ref?: string; 'Fn::GetAtt'?: [string, string] };
  return v.Ref ?? v['Fn::GetAtt']?.[0];
}

/** Disagreements between `template` and `doc`; empty when they agree. */
export function asyncApiDrift(template: CfnTemplate, doc: Doc): string[] {
  const problems: string[] = [];
  const resources = template.Resources ?? {};
  const topics = new Map<string, string>();
  const queues = new Map<string, string>();
  const deadLetterQueues = new Set<string>();
  for (const [id, r] of Object.entries(resources)) {
    if (r.Type === 'AWS::SNS::Topic') topics.set(id, nameOf(id, r.Properties, 'TopicName'));
    if (r.Type === 'AWS::SQS::Queue') {
      queues.set(id, nameOf(id, r.Properties, 'QueueName'));
      const target = logicalIdOf(
        (r.Properties?.RedrivePolicy as { deadLetterTargetArn?: unknown } | undefined)?.deadLetterTargetArn,
      );
      if (target) deadLetterQueues.add(target);
    }
  }
  const channels = Object.entries(doc.channels ?? {});
  const snsChannels = new Map(
    channels.filter(([, c]) => c.bindings?.sns).map(([key, c]) => [String(c.address), key]),
  );
  const sqsChannels = new Map(
    channels.filter(([, c]) => c.bindings?.sqs).map(([key, c]) => [String(c.address), key]),
  );
  // A topic that alarms notify (the on-call topic) carries alarms, not messages of the backbone.
  const alarmTopics = new Set<string>();
  for (const r of Object.values(resources)) {
    if (r.Type !== 'AWS::CloudWatch::Alarm') continue;
    for (const key of ['AlarmActions', 'OKActions', 'InsufficientDataActions']) {
      for (const action of (r.Properties?.[key] as unknown[] | undefined) ?? []) {
        const id = logicalIdOf(action);
        if (id) alarmTopics.add(id);
      }
    }
  }
  for (const [id, name] of topics)
    if (!snsChannels.has(name) && !alarmTopics.has(id))
      problems.push(`topic ${name} is deployed but is no channel of the document`);
  const queueNames = new Set<string>();
  for (const [id, name] of queues) {
    if (deadLetterQueues.has(id)) continue;
    queueNames.add(name);
    // Outbox failure queues are destinations of relays, not channels messages are sent to by type.
    if (!sqsChannels.has(name) && !/FailureQueue/.test(id))
      problems.push(`queue ${name} is deployed but is no channel of the document`);
  }
  const topicNames = new Set(topics.values());
  for (const address of snsChannels.keys())
    if (!topicNames.has(address))
      problems.push(`channel ${address} (SNS) is in the document but no such topic is deployed`);
  for (const address of sqsChannels.keys())
    if (!queueNames.has(address))
      problems.push(`channel ${address} (SQS) is in the document but no such queue is deployed`);

  const operations = Object.values(doc.operations ?? {});
  const channelKeyOf = (ref: string) => ref.replace('#/channels/', '');
  for (const [id, r] of Object.entries(resources)) {
    if (r.Type === 'AWS::SNS::Subscription' && r.Properties?.Protocol === 'sqs') {
      const topic = topics.get(logicalIdOf(r.Properties.TopicArn) ?? '');
      const queue = queues.get(logicalIdOf(r.Properties.Endpoint) ?? '');
      const channelKey = topic ? snsChannels.get(topic) : undefined;
      const listed = operations
        .filter((o) => o.action === 'send' && channelKeyOf(o.channel.$ref) === channelKey)
        .flatMap((o) => o.bindings?.sns?.consumers ?? [])
        .filter((c) => c.endpoint.name === queue);
      if (listed.length === 0)
        problems.push(
          `subscription ${id} (${topic} -> ${queue}) is not in any send operation's SNS consumers`,
        );
      for (const c of listed) {
        if (JSON.stringify(c.filterPolicy ?? null) !== JSON.stringify(r.Properties.FilterPolicy ?? null))
          problems.push(
            `subscription ${id} (${topic} -> ${queue}) filters ${JSON.stringify(r.Properties.FilterPolicy)} but the document says ${JSON.stringify(c.filterPolicy)}`,
          );
      }
    }
    if (r.Type === 'AWS::Lambda::EventSourceMapping') {
      const queue = queues.get(logicalIdOf(r.Properties?.EventSourceArn) ?? '');
      if (!queue) continue;
      const channelKey = sqsChannels.get(queue);
      if (!operations.some((o) => o.action === 'receive' && channelKeyOf(o.channel.$ref) === channelKey))
        problems.push(
          `queue ${queue} is drained by mapping ${id} but has no receive operation in the document`,
        );
    }
  }
  return problems;
}
