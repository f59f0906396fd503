/**
 * The SNS/SQS adapter of the producer port: Publish / PublishBatch to topics, SendMessage /
 * SendMessageBatch to queues. Every message is encoded (and its limits checked) before any request.
 */
import { PublishBatchCommand, PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { SendMessageBatchCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { createOffloader, lazyClaimStore } from '../claim-check/offload';
import type { ClaimStore } from '../claim-check/s3-claims';
import { isRetryableError } from '../core/error-classification';
import type { Message } from '../core/message';
import {
  type ChunkOutcome,
  entryId,
  indexOfEntryId,
  type PreparedEntry,
  type RetryOptions,
  sendInBatches,
} from './batch';
import { maxMessageBytesOf } from './limits';
import {
  type BatchResult,
  type ChannelRef,
  type DispatchOptions,
  type MessageProducer,
  NOT_SENT_CODE,
  type SendResult,
} from './port';
import { withRetries } from './retry';
import { checkSendable } from './send-checks';

export interface ProducerOptions {
  /** @default - a client shared by the module (one per Lambda execution environment) */
  readonly sns?: SNSClient;
  /** @default - a client shared by the module */
  readonly sqs?: SQSClient;
  /**
   * Requests per message, first try included, when the service reports its entry failed or the
   * request fails after the SDK's own retries with a retryable error (throttling, transient). @default 3
   */
  readonly maxAttempts?: number;
  /** Scale of the jittered exponential backoff between those requests. @default 50 */
  readonly baseDelayMs?: number;
  /**
   * Where payloads over a channel's limit go, on channels bound with a claim check store
   * (`SWITCHYARD_CHANNEL_<NAME>_CLAIM_CHECK_BUCKET`).
   * @default - S3 through a module-wide client, loaded on the first offloaded payload
   */
  readonly claimStore?: ClaimStore;
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

  // Oversized payloads go to S3 first (claim-check channels only). When a claim cannot be stored
  // (after the S3 client's own retries) nothing of the call is sent: the batch comes back failed,
  // the unstored message with the S3 error (retryable or not, as the SDK classifies it), the others
  // as NotSent. Nothing is lost or doubled, and a retry writes the same keys (they are message ids).
  const offload = createOffloader(lazyClaimStore(options.claimStore));

  // Every message is checked before the first request: a batch with a message the channel can never
  // take fails whole, before anything is sent, with an error saying what to fix.
  const prepare = async (
    address: string,
    messages: readonly Message[],
    maxBytes: number,
  ): Promise<PreparedEntry[] | BatchResult> => {
    const settled = await Promise.allSettled(messages.map((message) => offload(address, message, maxBytes)));
    if (settled.some((s) => s.status === 'rejected')) return unstoredClaims(messages, settled);
    return settled.map((outcome, index) => {
      const message = (outcome as PromiseFulfilledResult<Message>).value;
      const { wire, fifo } = checkSendable(address, message, maxBytes);
      return { index, message: messages[index]!, wire, groupId: fifo.MessageGroupId };
    });
  };

  const sendPrepared = async (
    prepared: PreparedEntry[] | BatchResult,
    send: (entries: PreparedEntry[]) => Promise<BatchResult>,
  ): Promise<BatchResult> => (Array.isArray(prepared) ? send(prepared) : prepared);

  const publish = async (topicArn: string, original: Message): Promise<SendResult> => {
    const message = await offload(topicArn, original, maxMessageBytesOf(topicArn));
    const { wire, fifo } = checkSendable(topicArn, message);
    const command = new PublishCommand({
      TopicArn: topicArn,
      Message: wire.body,
      MessageAttributes: wire.attributes,
      ...fifo,
    });
    // Same bounded, jittered retry as the batch path: the SDK leaves KMS throttles to us.
    const out = await withRetries(() => sns().send(command), retry);
    return { id: message.id, providerMessageId: out.MessageId, sequenceNumber: out.SequenceNumber };
  };

  const send = async (queueUrl: string, original: Message): Promise<SendResult> => {
    const message = await offload(queueUrl, original, maxMessageBytesOf(queueUrl));
    const { wire, fifo } = checkSendable(queueUrl, message);
    const command = new SendMessageCommand({
      QueueUrl: queueUrl,
      MessageBody: wire.body,
      MessageAttributes: wire.attributes,
      ...fifo,
    });
    // A retried FIFO send keeps its MessageDeduplicationId (the message id): SQS drops the copy if a
    // throttled-looking attempt had in fact been applied.
    const out = await withRetries(() => sqs().send(command), retry);
    return { id: message.id, providerMessageId: out.MessageId, sequenceNumber: out.SequenceNumber };
  };

  const publishBatch = async (
    topicArn: string,
    messages: readonly Message[],
    maxBytes = maxMessageBytesOf(topicArn),
    hooks: DispatchOptions = {},
  ): Promise<BatchResult> =>
    sendPrepared(await prepare(topicArn, messages, maxBytes), (prepared) =>
      sendInBatches(
        prepared,
        async (entries): Promise<ChunkOutcome> => {
          const out = await sns().send(
            new PublishBatchCommand({
              TopicArn: topicArn,
              PublishBatchRequestEntries: entries.map((e) => {
                const { body, ...common } = batchEntryFields(e);
                return { ...common, Message: body };
              }),
            }),
          );
          return toOutcome(out.Successful, out.Failed);
        },
        retry,
        { maxBatchBytes: maxBytes },
        hooks,
      ),
    );

  const sendBatch = async (
    queueUrl: string,
    messages: readonly Message[],
    maxBytes = maxMessageBytesOf(queueUrl),
    hooks: DispatchOptions = {},
  ): Promise<BatchResult> =>
    sendPrepared(await prepare(queueUrl, messages, maxBytes), (prepared) =>
      sendInBatches(
        prepared,
        async (entries): Promise<ChunkOutcome> => {
          const out = await sqs().send(
            new SendMessageBatchCommand({
              QueueUrl: queueUrl,
              Entries: entries.map((e) => {
                const { body, ...common } = batchEntryFields(e);
                return { ...common, MessageBody: body };
              }),
            }),
          );
          return toOutcome(out.Successful, out.Failed);
        },
        retry,
        { maxBatchBytes: maxBytes },
        hooks,
      ),
    );

  return {
    publish,
    send,
    publishBatch: (topicArn, messages) => publishBatch(topicArn, messages),
    sendBatch: (queueUrl, messages) => sendBatch(queueUrl, messages),
    dispatch(
      channel: ChannelRef,
      messages: readonly Message[],
      hooks?: DispatchOptions,
    ): Promise<BatchResult> {
      return channel.type === 'publish-subscribe'
        ? publishBatch(
            channel.topicArn,
            messages,
            channel.maxMessageBytes ?? maxMessageBytesOf(channel.topicArn),
            hooks,
          )
        : sendBatch(
            channel.queueUrl,
            messages,
            channel.maxMessageBytes ?? maxMessageBytesOf(channel.queueUrl),
            hooks,
          );
    },
  };
}

/**
 * The batch result when a claim could not be stored: nothing was sent. The message whose claim
 * failed carries the S3 error; the others are NotSent (retryable), so a relay retries them all.
 */
function unstoredClaims(
  messages: readonly Message[],
  settled: readonly PromiseSettledResult<Message>[],
): BatchResult {
  return {
    successful: [],
    requests: 0,
    failed: messages.map((message, index) => {
      const outcome = settled[index]!;
      if (outcome.status === 'fulfilled')
        return {
          id: message.id,
          code: NOT_SENT_CODE,
          message: 'not sent: the claim of another message of the request could not be stored',
          senderFault: false,
        };
      const error = outcome.reason as Error;
      return {
        id: message.id,
        code: `ClaimCheck.${error?.name ?? 'Error'}`,
        message: `the payload could not be stored in S3: ${error?.message ?? String(error)}`,
        senderFault: !isRetryableError(error),
      };
    }),
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

/**
 * What a PublishBatch and a SendMessageBatch entry share: the entry id, attributes and, on FIFO
 * channels, the group (partition key) and deduplication id (message id). The body's field name differs.
 */
function batchEntryFields(entry: PreparedEntry) {
  return {
    Id: entryId(entry.index),
    body: entry.wire.body,
    MessageAttributes: entry.wire.attributes,
    ...(entry.groupId === undefined
      ? {}
      : { MessageGroupId: entry.groupId, MessageDeduplicationId: entry.message.id }),
  };
}
