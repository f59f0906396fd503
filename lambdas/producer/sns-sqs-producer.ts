/**
 * The SNS/SQS adapter of the producer port: Publish / PublishBatch to topics, SendMessage /
 * SendMessageBatch to queues. Every message is encoded (and its limits checked) before any request.
 */
import { PublishBatchCommand, PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { SendMessageBatchCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { Message } from '../core/message';
import { toWire } from '../core/wire';
import {
  type ChunkOutcome,
  entryId,
  indexOfEntryId,
  type PreparedEntry,
  type RetryOptions,
  sendInBatches,
} from './batch';
import { fifoFields } from './fifo';
import type { BatchResult, ChannelRef, MessageProducer, SendResult } from './port';

export interface ProducerOptions {
  /** @default - a client shared by the module (one per Lambda execution environment) */
  readonly sns?: SNSClient;
  /** @default - a client shared by the module */
  readonly sqs?: SQSClient;
  /** Requests per batch chunk, first try included, when the service reports failed entries. @default 3 */
  readonly maxAttempts?: number;
  /** Scale of the jittered exponential backoff between those requests. @default 50 */
  readonly baseDelayMs?: number;
}

// Module scope: created once per execution environment, reused across invocations (warm starts).
let sharedSns: SNSClient | undefined;
let sharedSqs: SQSClient | undefined;

/**
 * Creates a producer that publishes to SNS topics and sends to SQS queues.
 *
 * @example
 * const producer = createProducer();
 * await producer.publish(process.env.SWITCHYARD_CHANNEL_ORDERS!, OrderCreated.create({ orderId: 'o-1', total: 12 }));
 * assertAllSent(await producer.sendBatch(queueUrl, commands));
 */
export function createProducer(options: ProducerOptions = {}): MessageProducer {
  const sns = (): SNSClient => {
    if (options.sns) return options.sns;
    sharedSns ??= new SNSClient({});
    return sharedSns;
  };
  const sqs = (): SQSClient => {
    if (options.sqs) return options.sqs;
    sharedSqs ??= new SQSClient({});
    return sharedSqs;
  };
  const retry: RetryOptions = {
    maxAttempts: Math.max(1, options.maxAttempts ?? 3),
    baseDelayMs: Math.max(0, options.baseDelayMs ?? 50),
  };

  const prepare = (address: string, messages: readonly Message[]): PreparedEntry[] =>
    messages.map((message, index) => {
      fifoFields(address, message); // fail the whole batch before any request, like toWire does
      return { index, message, wire: toWire(message) };
    });

  const publish = async (topicArn: string, message: Message): Promise<SendResult> => {
    const wire = toWire(message);
    const out = await sns().send(
      new PublishCommand({
        TopicArn: topicArn,
        Message: wire.body,
        MessageAttributes: wire.attributes,
        ...fifoFields(topicArn, message),
      }),
    );
    return { id: message.id, providerMessageId: out.MessageId, sequenceNumber: out.SequenceNumber };
  };

  const send = async (queueUrl: string, message: Message): Promise<SendResult> => {
    const wire = toWire(message);
    const out = await sqs().send(
      new SendMessageCommand({
        QueueUrl: queueUrl,
        MessageBody: wire.body,
        MessageAttributes: wire.attributes,
        ...fifoFields(queueUrl, message),
      }),
    );
    return { id: message.id, providerMessageId: out.MessageId, sequenceNumber: out.SequenceNumber };
  };

  const publishBatch = async (topicArn: string, messages: readonly Message[]): Promise<BatchResult> =>
    sendInBatches(
      prepare(topicArn, messages),
      async (entries): Promise<ChunkOutcome> => {
        const out = await sns().send(
          new PublishBatchCommand({
            TopicArn: topicArn,
            PublishBatchRequestEntries: entries.map((e) => ({
              Id: entryId(e.index),
              Message: e.wire.body,
              MessageAttributes: e.wire.attributes,
              ...fifoFields(topicArn, e.message),
            })),
          }),
        );
        return toOutcome(out.Successful, out.Failed);
      },
      retry,
    );

  const sendBatch = async (queueUrl: string, messages: readonly Message[]): Promise<BatchResult> =>
    sendInBatches(
      prepare(queueUrl, messages),
      async (entries): Promise<ChunkOutcome> => {
        const out = await sqs().send(
          new SendMessageBatchCommand({
            QueueUrl: queueUrl,
            Entries: entries.map((e) => ({
              Id: entryId(e.index),
              MessageBody: e.wire.body,
              MessageAttributes: e.wire.attributes,
              ...fifoFields(queueUrl, e.message),
            })),
          }),
        );
        return toOutcome(out.Successful, out.Failed);
      },
      retry,
    );

  return {
    publish,
    send,
    publishBatch,
    sendBatch,
    dispatch(channel: ChannelRef, messages: readonly Message[]): Promise<BatchResult> {
      return channel.type === 'publish-subscribe'
        ? publishBatch(channel.topicArn, messages)
        : sendBatch(channel.queueUrl, messages);
    },
  };
}

interface ServiceSuccess {
  Id?: string;
  MessageId?: string;
  SequenceNumber?: string;
}

interface ServiceFailure {
  Id?: string;
  Code?: string;
  Message?: string;
  SenderFault?: boolean;
}

/** PublishBatch and SendMessageBatch answer in the same shape. */
function toOutcome(successful: ServiceSuccess[] = [], failed: ServiceFailure[] = []): ChunkOutcome {
  const result: {
    successful: ChunkOutcome['successful'][number][];
    failed: ChunkOutcome['failed'][number][];
  } = {
    successful: [],
    failed: [],
  };
  for (const s of successful) {
    const index = indexOfEntryId(s.Id);
    if (index !== undefined)
      result.successful.push({ index, providerMessageId: s.MessageId, sequenceNumber: s.SequenceNumber });
  }
  for (const f of failed) {
    const index = indexOfEntryId(f.Id);
    if (index !== undefined)
      result.failed.push({
        index,
        code: f.Code ?? 'Unknown',
        message: f.Message ?? 'no message from the service',
        senderFault: f.SenderFault ?? false,
      });
  }
  return result;
}
