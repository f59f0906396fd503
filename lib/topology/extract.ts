/**
 * Builds the topology model of one stack by walking its construct tree: channels, consumers (with
 * their subscriptions and filter policies), outboxes, function URL endpoints, and producers found
 * from the `SWITCHYARD_CHANNEL_<NAME>` variables the constructs set when they grant a function
 * access to a channel.
 */
import { Stack, Token } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { IConstruct } from 'constructs';
import type { MessageDefinition } from '../../lambdas/core/definition';
import { OutboxEnvironment } from '../../lambdas/outbox/layout';
import { MessageConsumer } from '../message-consumer';
import { PointToPointChannel } from '../point-to-point-channel';
import { PublishSubscribeChannel } from '../publish-subscribe-channel';
import { TransactionalOutbox } from '../transactional-outbox';
import {
  type ChannelModel,
  type ConsumerModel,
  type EndpointModel,
  type MessageModel,
  type OutboxModel,
  type ProducerModel,
  TOPOLOGY_MODEL_VERSION,
  type TopologyModel,
} from './model';
import { payloadJsonSchema } from './payload-json-schema';

/** A function's display name: its construct path below the stack, without `/Resource`. */
function functionName(stack: Stack, fn: IConstruct): string {
  const parts = fn.node.path.split('/').slice(stack.node.path.split('/').length);
  while (parts.length > 1 && ['Resource', 'Handler'].includes(parts[parts.length - 1]!)) parts.pop();
  return parts.join('/');
}

/**
 * The name a resource is deployed under when the template fixes it, else its logical id: names CDK
 * generates at deploy time are unknown at synth, and the logical id is what the drift check and
 * the template agree on.
 */
function deployedName(stack: Stack, resource: IConstruct, property: 'queueName' | 'topicName'): string {
  const cfn = resource.node.defaultChild as { queueName?: unknown; topicName?: unknown } | undefined;
  const fixed = cfn?.[property];
  if (typeof fixed === 'string' && !Token.isUnresolved(fixed)) return fixed;
  return String(stack.resolve(stack.getLogicalId(resource.node.defaultChild as never)));
}

function queueName(stack: Stack, queue: sqs.IQueue): string {
  return deployedName(stack, queue, 'queueName');
}

function environmentOf(stack: Stack, fn: lambda.Function): Record<string, string> {
  const cfn = fn.node.defaultChild as lambda.CfnFunction;
  const resolved = stack.resolve(cfn.environment) as { variables?: Record<string, unknown> } | undefined;
  return Object.fromEntries(
    Object.entries(resolved?.variables ?? {}).map(([k, v]) => [k, JSON.stringify(v)]),
  );
}

function messageModel(definition: MessageDefinition): MessageModel {
  return {
    type: definition.type,
    kind: definition.kind,
    description: definition.description,
    payloadSchema: payloadJsonSchema(definition),
    replies: definition.replies.map((r) => r.type),
  };
}

/** The model of `stack`'s Switchyard constructs. */
export function extractTopology(stack: Stack): TopologyModel {
  const all = stack.node.findAll().filter((c) => Stack.of(c) === stack);
  const definitions = new Map<string, MessageDefinition>();
  const addDefinition = (d: MessageDefinition) => {
    if (!definitions.has(d.type)) definitions.set(d.type, d);
    for (const reply of d.replies) addDefinition(reply);
  };
  const channels: ChannelModel[] = [];
  const channelByAddress = new Map<string, string>();
  const topicNames = new Map<sns.ITopic, string>();
  for (const c of all) {
    if (c instanceof PublishSubscribeChannel) {
      c.messages.forEach(addDefinition);
      channels.push({
        name: c.channelName,
        kind: 'publish-subscribe',
        fifo: c.fifo,
        physicalName: deployedName(stack, c.topic, 'topicName'),
        messages: c.messages.map((m) => m.type),
      });
      channelByAddress.set(JSON.stringify(stack.resolve(c.address)), c.channelName);
      topicNames.set(c.topic, c.channelName);
    } else if (c instanceof PointToPointChannel) {
      c.messages.forEach(addDefinition);
      channels.push({
        name: c.channelName,
        kind: 'point-to-point',
        fifo: c.fifo,
        physicalName: queueName(stack, c.queue),
        messages: c.messages.map((m) => m.type),
        deadLetterQueue: queueName(stack, c.deadLetterQueue),
      });
      channelByAddress.set(JSON.stringify(stack.resolve(c.address)), c.channelName);
    }
  }
  const channelOfQueue = (queue: sqs.IQueue) =>
    channelByAddress.get(JSON.stringify(stack.resolve(queue.queueUrl)));

  const consumers: ConsumerModel[] = [];
  const consumerFunctions = new Set<lambda.Function>();
  for (const c of all) {
    if (!(c instanceof MessageConsumer)) continue;
    consumerFunctions.add(c.handler);
    let queue = channelOfQueue(c.queue);
    if (!queue) {
      queue = `${c.consumerName}-queue`;
      channels.push({
        name: queue,
        kind: 'point-to-point',
        fifo: c.fifo,
        physicalName: queueName(stack, c.queue),
        messages: [...c.messageTypes],
        deadLetterQueue: queueName(stack, c.deadLetterQueue),
        consumerQueue: true,
      });
      channelByAddress.set(JSON.stringify(stack.resolve(c.queue.queueUrl)), queue);
    }
    const subscriptions = c.node
      .findAll()
      .filter((s): s is sns.Subscription => s instanceof sns.Subscription)
      .map((s) => {
        const cfn = s.node.defaultChild as sns.CfnSubscription;
        const topicArn = JSON.stringify(stack.resolve(cfn.topicArn));
        return {
          topic: channelByAddress.get(topicArn) ?? topicArn,
          filterPolicy: (stack.resolve(cfn.filterPolicy) ?? {}) as Record<string, unknown>,
          rawMessageDelivery: Boolean(stack.resolve(cfn.rawMessageDelivery)),
        };
      });
    // SqsSubscription puts the subscription under the topic's scope: find those targeting this queue.
    for (const s of all.filter((x): x is sns.Subscription => x instanceof sns.Subscription)) {
      const cfn = s.node.defaultChild as sns.CfnSubscription;
      if (JSON.stringify(stack.resolve(cfn.endpoint)) !== JSON.stringify(stack.resolve(c.queue.queueArn)))
        continue;
      const topic = channelByAddress.get(JSON.stringify(stack.resolve(cfn.topicArn))) ?? 'unknown-topic';
      if (subscriptions.some((x) => x.topic === topic)) continue;
      subscriptions.push({
        topic,
        filterPolicy: (stack.resolve(cfn.filterPolicy) ?? {}) as Record<string, unknown>,
        rawMessageDelivery: Boolean(stack.resolve(cfn.rawMessageDelivery)),
      });
    }
    consumers.push({
      name: c.consumerName,
      function: functionName(stack, c.handler),
      queue,
      deadLetterQueue: queueName(stack, c.deadLetterQueue),
      subscriptions,
      handles: [...c.messageTypes],
    });
  }

  const outboxes: OutboxModel[] = [];
  const relayFunctions = new Set<lambda.Function>();
  const functions = all.filter((c): c is lambda.Function => c instanceof lambda.Function);
  for (const c of all) {
    if (!(c instanceof TransactionalOutbox)) continue;
    relayFunctions.add(c.relayFunction);
    const table = JSON.stringify(stack.resolve(c.table.tableName));
    const writers = functions.filter(
      (fn) => fn !== c.relayFunction && environmentOf(stack, fn)[OutboxEnvironment.TABLE] === table,
    );
    const relayEnvironment = environmentOf(stack, c.relayFunction);
    outboxes.push({
      name: functionName(stack, c),
      table: String(stack.resolve(stack.getLogicalId(c.table.node.defaultChild as never))),
      relay: c.relay,
      mode: c.mode,
      relayFunction: functionName(stack, c.relayFunction),
      writers: writers.map((fn) => functionName(stack, fn)),
      channels: Object.entries(relayEnvironment)
        .filter(([k]) => k.startsWith('SWITCHYARD_CHANNEL_'))
        .map(([, v]) => channelByAddress.get(v))
        .filter((n): n is string => n !== undefined),
      failureQueue: queueName(stack, c.failureQueue),
    });
  }

  const replyOnly = new Set(
    channels
      .filter(
        (ch) =>
          ch.messages.length > 0 &&
          ch.messages.every(
            (m) => definitions.get(m)?.kind === 'reply' || m === 'SwitchyardGatheringDeadline',
          ),
      )
      .map((ch) => ch.name),
  );
  const producers: ProducerModel[] = [];
  for (const fn of functions) {
    if (relayFunctions.has(fn)) continue;
    const env = environmentOf(stack, fn);
    const outboxChannels = new Set(
      outboxes.filter((o) => o.writers.includes(functionName(stack, fn))).flatMap((o) => o.channels),
    );
    const direct = Object.entries(env)
      .filter(([k]) => k.startsWith('SWITCHYARD_CHANNEL_'))
      .map(([, v]) => channelByAddress.get(v))
      .filter((n): n is string => n !== undefined && !outboxChannels.has(n) && !replyOnly.has(n));
    if (direct.length) producers.push({ function: functionName(stack, fn), channels: [...new Set(direct)] });
  }

  const endpoints: EndpointModel[] = all
    .filter((c): c is lambda.FunctionUrl => c instanceof lambda.FunctionUrl)
    .map((u) => {
      const cfn = u.node.defaultChild as lambda.CfnUrl;
      const target = functions.find(
        (fn) =>
          JSON.stringify(stack.resolve(fn.functionArn)) ===
          JSON.stringify(stack.resolve(cfn.targetFunctionArn)),
      );
      return { function: target ? functionName(stack, target) : 'unknown', authType: String(cfn.authType) };
    });

  return {
    version: TOPOLOGY_MODEL_VERSION,
    stack: stack.stackName,
    messages: [...definitions.values()].map(messageModel),
    channels,
    consumers,
    producers,
    outboxes,
    endpoints,
  };
}
