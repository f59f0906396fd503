/**
 * The outbound port of the messaging library: business code publishes events and sends commands
 * through a `MessageProducer`; adapters (SNS, SQS, outbox) implement it.
 */
import type { Message } from '../core/message';

/** Where a message goes: a publish-subscribe channel (SNS topic) or a point-to-point channel (SQS queue). */
export type ChannelRef =
  | { readonly type: 'publish-subscribe'; readonly topicArn: string; readonly maxMessageBytes?: number }
  | { readonly type: 'point-to-point'; readonly queueUrl: string; readonly maxMessageBytes?: number };

export interface SendResult {
  /** The Switchyard message id. */
  readonly id: string;
  /** The id SNS/SQS assigned. */
  readonly providerMessageId?: string;
  /** FIFO sequence number, when the channel is FIFO. */
  readonly sequenceNumber?: string;
}

export interface FailedEntry {
  /** The Switchyard message id. */
  readonly id: string;
  readonly code: string;
  readonly message: string;
  /** True when retrying cannot help (the request itself is wrong). */
  readonly senderFault: boolean;
}

export interface BatchResult {
  readonly successful: readonly SendResult[];
  /** Entries that still failed after the bounded retries. Empty when all went through. */
  readonly failed: readonly FailedEntry[];
  /** How many SNS/SQS requests the batch took, retries included. */
  readonly requests: number;
}

export interface MessageProducer {
  /** Publishes one message to a publish-subscribe channel (SNS topic ARN). */
  publish(topicArn: string, message: Message): Promise<SendResult>;
  /** Publishes many messages with PublishBatch, in requests of at most 10 entries and the channel's size limit. */
  publishBatch(topicArn: string, messages: readonly Message[]): Promise<BatchResult>;
  /** Sends one message to a point-to-point channel (SQS queue URL). */
  send(queueUrl: string, message: Message): Promise<SendResult>;
  /** Sends many messages with SendMessageBatch, in requests of at most 10 entries and the channel's size limit. */
  sendBatch(queueUrl: string, messages: readonly Message[]): Promise<BatchResult>;
  /** Publishes or sends, by the kind of channel. */
  dispatch(channel: ChannelRef, messages: readonly Message[]): Promise<BatchResult>;
}

/** Environment variable that carries a channel's address into a function: `SWITCHYARD_CHANNEL_<NAME>`. */
export function channelEnvironmentVariable(channelName: string): string {
  return `SWITCHYARD_CHANNEL_${channelName
    .replace(/\.fifo$/, '')
    .replace(/[^A-Za-z0-9]+/g, '_')
    .toUpperCase()}`;
}

/** Turns a topic ARN or queue URL into a ChannelRef. */
export function channelRef(address: string): ChannelRef {
  if (/^arn:[^:]+:sns:/.test(address)) return { type: 'publish-subscribe', topicArn: address };
  if (/^https?:\/\//.test(address)) return { type: 'point-to-point', queueUrl: address };
  throw new Error(
    `"${address}" is neither an SNS topic ARN (arn:aws:sns:...) nor an SQS queue URL (https://sqs...). ` +
      'Bind the channel to the function with the construct so the variable holds its address.',
  );
}

/** True for FIFO channels (topic ARN or queue URL ending in `.fifo`). */
export function isFifoAddress(address: string): boolean {
  return address.endsWith('.fifo');
}
