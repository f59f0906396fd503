/**
 * One-way notification (a command with no reply address): the sender does not wait, and the API
 * gives it no way to ask for an answer. `replyTo` on such a command throws NoReplyExpectedError.
 */
import type { InputOf, MessageDefinition, OutputOf, PayloadSchema } from '../core/definition';
import { ConfigurationError, NotificationExpectsReplyError } from '../core/errors';
import { MessageKinds } from '../core/headers';
import type { Message, MessageOptions } from '../core/message';
import { type ChannelRef, channelRef, type MessageProducer, type SendResult } from '../producer/port';

/** Every message option except `replyTo`: a notification has no reply address. */
export type NotificationOptions = Omit<MessageOptions, 'replyTo'>;

/**
 * Builds a one-way notification without sending it (to stage it in an outbox unit of work).
 * Throws NotificationExpectsReplyError for a command that declares replies.
 *
 * @example
 * unitOfWork.send(createNotification(DispatchCourier, { orderId, courierId }), 'courier-dispatch');
 */
export function createNotification<S extends PayloadSchema>(
  definition: MessageDefinition<S>,
  payload: InputOf<S>,
  options: NotificationOptions = {},
): Message<OutputOf<S>> {
  if (definition.kind !== MessageKinds.COMMAND) {
    throw new ConfigurationError(
      `${definition.type} is a ${definition.kind}, not a command: a one-way notification is a command to a service. ` +
        'Declare it with defineCommand, or publish events with producer.publish.',
    );
  }
  if (definition.replies.length > 0) {
    throw new NotificationExpectsReplyError(
      `${definition.type} declares replies (${definition.replies.map((r) => r.type).join(', ')}), so its receiver answers ` +
        'and a notification would drop that answer. Send it as a request with a replyTo address, or remove replies from its definition.',
    );
  }
  if ('replyTo' in options) {
    throw new NotificationExpectsReplyError(
      `notify(${definition.type}) was given replyTo: a one-way notification has no reply address. Remove replyTo, or send a request instead.`,
    );
  }
  return definition.create(payload, options);
}

/**
 * Sends a one-way notification to a service's point-to-point channel (an SQS queue URL).
 *
 * @example
 * await notify(producer, channelFromEnvironment('courier-dispatch'), DispatchCourier, { orderId, courierId });
 */
export async function notify<S extends PayloadSchema>(
  producer: MessageProducer,
  channel: string | ChannelRef,
  definition: MessageDefinition<S>,
  payload: InputOf<S>,
  options: NotificationOptions = {},
): Promise<SendResult> {
  const ref = typeof channel === 'string' ? channelRef(channel) : channel;
  if (ref.type !== 'point-to-point') {
    throw new ConfigurationError(
      `notify(${definition.type}) was given topic ${ref.topicArn}: a notification goes to one service's point-to-point ` +
        'channel (an SQS queue). Give the queue URL, or publish an event on the topic instead.',
    );
  }
  return producer.send(ref.queueUrl, createNotification(definition, payload, options));
}
