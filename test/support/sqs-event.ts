/**
 * Builds the SQS event Lambda would deliver from what ReceiveMessage returns, so consumer handlers
 * can be run on messages that really crossed the SNS/SQS emulator. Lambda's event source mapping
 * lower-camel-cases message attributes and fills the empty list fields; system attributes keep
 * their names.
 */
import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  type SQSClient,
  type Message as SqsMessage,
} from '@aws-sdk/client-sqs';
import type { SQSEvent, SQSMessageAttributes, SQSRecord } from 'aws-lambda';

export function toSqsRecord(message: SqsMessage, queueArn: string): SQSRecord {
  const messageAttributes: SQSMessageAttributes = {};
  for (const [name, value] of Object.entries(message.MessageAttributes ?? {})) {
    messageAttributes[name] = {
      stringValue: value.StringValue,
      binaryValue: value.BinaryValue ? Buffer.from(value.BinaryValue).toString('base64') : undefined,
      stringListValues: value.StringListValues ?? [],
      binaryListValues: (value.BinaryListValues ?? []).map((b) => Buffer.from(b).toString('base64')),
      dataType: value.DataType ?? 'String',
    };
  }
  const region = queueArn.split(':')[3] ?? 'us-east-1';
  const record = {
    messageId: message.MessageId ?? '',
    receiptHandle: message.ReceiptHandle ?? '',
    body: message.Body ?? '',
    attributes: { ...(message.Attributes ?? {}) },
    messageAttributes,
    md5OfBody: message.MD5OfBody ?? '',
    ...(message.MD5OfMessageAttributes ? { md5OfMessageAttributes: message.MD5OfMessageAttributes } : {}),
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: region,
  };
  return record as SQSRecord;
}

export function toSqsEvent(messages: readonly SqsMessage[], queueArn: string): SQSEvent {
  return { Records: messages.map((m) => toSqsRecord(m, queueArn)) };
}

export async function queueArnOf(sqs: SQSClient, queueUrl: string): Promise<string> {
  const out = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }),
  );
  const arn = out.Attributes?.QueueArn;
  if (!arn) throw new Error(`No QueueArn for ${queueUrl}`);
  return arn;
}

/**
 * Receives (and deletes, as Lambda does after a successful batch) until `count` messages arrived,
 * in receive order. Deleting is needed for FIFO queues, which hold back a group while it has
 * messages in flight. Fails after `maxPolls` empty-handed polls.
 */
export async function receiveAll(
  sqs: SQSClient,
  queueUrl: string,
  count: number,
  maxPolls = 20,
): Promise<SqsMessage[]> {
  const received: SqsMessage[] = [];
  for (let poll = 0; received.length < count && poll < maxPolls; poll++) {
    const out = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: Math.min(10, count - received.length),
        WaitTimeSeconds: 1,
        MessageAttributeNames: ['All'],
        MessageSystemAttributeNames: ['All'],
        AttributeNames: ['All'],
      }),
    );
    const messages = out.Messages ?? [];
    if (messages.length === 0) continue;
    received.push(...messages);
    await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
      }),
    );
  }
  if (received.length < count) {
    throw new Error(`Expected ${count} messages on ${queueUrl}, received ${received.length}.`);
  }
  return received;
}

/** Receives exactly `count` messages and returns them as the SQS event Lambda would deliver. */
export async function receiveAsSqsEvent(sqs: SQSClient, queueUrl: string, count: number): Promise<SQSEvent> {
  const [messages, arn] = await Promise.all([receiveAll(sqs, queueUrl, count), queueArnOf(sqs, queueUrl)]);
  return toSqsEvent(messages, arn);
}
