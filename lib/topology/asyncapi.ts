/**
 * AsyncAPI 3.0 document from the topology model: every topic and queue as a channel with its SNS
 * (binding 0.1.0) or SQS (0.2.0) binding (the versions AsyncAPI 3.0 accepts), a send operation per
 * producer (or outbox relay) and channel, a receive operation per consumer, request/reply with the
 * reply channel and the reply-to / correlation-id header locations, and every message with its
 * headers and payload as JSON Schema generated from the zod schemas.
 */
import { z } from 'zod';
import { Headers, type MessageKind } from '../../lambdas/core/headers';
import { headerSchema } from './header-schema';
import type { ChannelModel, MessageModel, TopologyModel } from './model';

export interface AsyncApiOptions {
  /** @default - the stack names */
  readonly title?: string;
  /** @default '1.0.0' */
  readonly version?: string;
}

/** Channel, operation and message keys must match ^[\w\d.\-_]+$. */
const key = (name: string) => name.replace(/[^\w.-]/g, '_');
const channelRef = (channel: string) => ({ $ref: `#/channels/${key(channel)}` });
const messageRef = (channel: string, type: string) => ({
  $ref: `#/channels/${key(channel)}/messages/${key(type)}`,
});
const SCHEMA_FORMAT = 'application/schema+json;version=draft-07';

function channelBindings(channel: ChannelModel) {
  if (channel.kind === 'publish-subscribe') {
    return {
      sns: {
        bindingVersion: '0.1.0',
        name: channel.physicalName,
        ordering: { type: channel.fifo ? 'FIFO' : 'standard' },
      },
    };
  }
  return {
    sqs: {
      bindingVersion: '0.2.0',
      queue: {
        name: channel.physicalName,
        fifoQueue: channel.fifo,
        ...(channel.deadLetterQueue
          ? { redrivePolicy: { deadLetterQueue: { name: channel.deadLetterQueue } } }
          : {}),
      },
      ...(channel.deadLetterQueue
        ? { deadLetterQueue: { name: channel.deadLetterQueue, fifoQueue: channel.fifo } }
        : {}),
    },
  };
}

function messageObject(message: MessageModel, replyTo: boolean) {
  const { $schema: _ignored, ...payload } = message.payloadSchema;
  const { $schema: _headersSchema, ...headers } = z.toJSONSchema(
    headerSchema(message.type, message.kind as MessageKind, replyTo),
    { target: 'draft-7' },
  ) as Record<string, unknown>;
  return {
    name: message.type,
    title: message.type,
    ...(message.description ? { summary: message.description } : {}),
    contentType: 'application/json',
    tags: [{ name: message.kind }],
    headers: { schemaFormat: SCHEMA_FORMAT, schema: headers },
    payload: { schemaFormat: SCHEMA_FORMAT, schema: payload },
    correlationId: {
      description:
        'Replies carry the request id here; other messages carry on the correlation id of their cause.',
      location: `$message.header#/${Headers.CORRELATION_ID}`,
    },
  };
}

/** Builds the AsyncAPI 3.0 document of one or more stacks. */
export function toAsyncApi(
  models: readonly TopologyModel[],
  options: AsyncApiOptions = {},
): Record<string, unknown> {
  const messagesByType = new Map<string, MessageModel>();
  for (const m of models.flatMap((x) => x.messages)) messagesByType.set(m.type, m);
  const channelsByName = new Map<string, ChannelModel>();
  for (const c of models.flatMap((x) => x.channels)) channelsByName.set(c.name, c);
  const replyTypes = new Set([...messagesByType.values()].flatMap((m) => m.replies));
  const components: Record<string, unknown> = {};
  for (const m of messagesByType.values()) components[key(m.type)] = messageObject(m, m.replies.length > 0);

  const channels: Record<string, unknown> = {};
  for (const c of channelsByName.values()) {
    channels[key(c.name)] = {
      address: c.physicalName,
      title: c.name,
      description: c.consumerQueue
        ? `Queue of consumer ${c.name.replace(/-queue$/, '')}, subscribed to publish-subscribe channels.`
        : `${c.kind === 'publish-subscribe' ? 'SNS topic' : 'SQS queue'} ${c.physicalName}${c.fifo ? ' (FIFO: ordered per partition key)' : ''}.`,
      messages: Object.fromEntries(
        c.messages.map((t) => [key(t), { $ref: `#/components/messages/${key(t)}` }]),
      ),
      bindings: channelBindings(c),
    };
  }
  /** The channel that carries a reply type (request/reply). */
  const replyChannelOf = (type: string) =>
    [...channelsByName.values()].find((c) => c.messages.includes(type));

  const operations: Record<string, unknown> = {};
  const addSend = (producer: string, channelName: string, via?: string) => {
    const channel = channelsByName.get(channelName);
    if (!channel) return;
    const types = channel.messages.filter((t) => !replyTypes.has(t) || true);
    const replies = types.flatMap((t) => messagesByType.get(t)?.replies ?? []);
    const replyChannel = replies.length ? replyChannelOf(replies[0]!) : undefined;
    const consumersOfTopic = models
      .flatMap((m) => m.consumers)
      .flatMap((consumer) =>
        consumer.subscriptions
          .filter((s) => s.topic === channelName)
          .map((s) => ({
            protocol: 'sqs',
            endpoint: { name: channelsByName.get(consumer.queue)?.physicalName ?? consumer.queue },
            filterPolicy: s.filterPolicy,
            rawMessageDelivery: s.rawMessageDelivery,
            redrivePolicy: { deadLetterQueue: { name: consumer.deadLetterQueue } },
          })),
      );
    operations[key(`${producer}.send.${channelName}`)] = {
      action: 'send',
      title: `${producer} ${channel.kind === 'publish-subscribe' ? 'publishes to' : 'sends to'} ${channelName}${via ? ` (${via})` : ''}`,
      channel: channelRef(channelName),
      messages: types.map((t) => messageRef(channelName, t)),
      ...(replyChannel
        ? {
            reply: {
              address: {
                description: 'The reply-to header names the reply queue.',
                location: `$message.header#/${Headers.REPLY_TO}`,
              },
              channel: channelRef(replyChannel.name),
              messages: replies
                .filter((r) => replyChannel.messages.includes(r))
                .map((r) => messageRef(replyChannel.name, r)),
            },
          }
        : {}),
      bindings:
        channel.kind === 'publish-subscribe'
          ? { sns: { bindingVersion: '0.1.0', consumers: consumersOfTopic } }
          : {
              sqs: {
                bindingVersion: '0.2.0',
                queues: [{ name: channel.physicalName, fifoQueue: channel.fifo }],
              },
            },
    };
  };
  for (const model of models) {
    for (const p of model.producers) for (const c of p.channels) addSend(p.function, c);
    for (const o of model.outboxes)
      for (const c of o.channels)
        addSend(o.relayFunction, c, `outbox relay of ${o.writers.join(', ') || o.name}`);
    // Responders send replies to the address in reply-to.
    for (const consumer of model.consumers) {
      const replies = consumer.handles.flatMap((t) => messagesByType.get(t)?.replies ?? []);
      const replyChannel = replies.length ? replyChannelOf(replies[0]!) : undefined;
      if (!replyChannel) continue;
      operations[key(`${consumer.name}.reply.${replyChannel.name}`)] = {
        action: 'send',
        title: `${consumer.name} replies to the request's reply-to address`,
        channel: channelRef(replyChannel.name),
        messages: replies
          .filter((r) => replyChannel.messages.includes(r))
          .map((r) => messageRef(replyChannel.name, r)),
      };
    }
    for (const consumer of model.consumers) {
      const channel = channelsByName.get(consumer.queue);
      if (!channel) continue;
      operations[key(`${consumer.name}.receive`)] = {
        action: 'receive',
        title: `${consumer.name} receives from ${consumer.queue}`,
        channel: channelRef(consumer.queue),
        messages: consumer.handles
          .filter((t) => channel.messages.includes(t))
          .map((t) => messageRef(consumer.queue, t)),
        bindings: {
          sqs: { bindingVersion: '0.2.0', queues: [{ name: channel.physicalName, fifoQueue: channel.fifo }] },
        },
      };
    }
  }
  return {
    asyncapi: '3.0.0',
    info: {
      title: options.title ?? models.map((m) => m.stack).join(', '),
      version: options.version ?? '1.0.0',
      description:
        'Generated by `switchyard asyncapi` from the CDK constructs that deploy these channels. Do not edit: regenerate.',
    },
    defaultContentType: 'application/json',
    channels,
    operations,
    components: { messages: components },
  };
}
