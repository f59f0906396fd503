/**
 * Turns received SQS messages into the Lambda SQS event, field for field as Lambda sends it
 * (see ../shared/aws-events/sqs-*.json). `md5OfMessageAttributes` is null for a message without
 * attributes, as in events Lambda delivers (the Powertools samples drop the key; captured events
 * carry `"md5OfMessageAttributes": null` between messageAttributes and md5OfBody).
 */
import type { Message, MessageAttributeValue } from '@aws-sdk/client-sqs';

export interface SqsRecordAttributeValue {
  stringValue?: string;
  binaryValue?: string;
  stringListValues: string[];
  binaryListValues: string[];
  dataType: string;
}

export interface SqsEventRecord {
  messageId: string;
  receiptHandle: string;
  body: string;
  attributes: Record<string, string>;
  messageAttributes: Record<string, SqsRecordAttributeValue>;
  /** null when the message has no attributes, as in Lambda's event. */
  md5OfMessageAttributes: string | null;
  md5OfBody: string;
  eventSource: 'aws:sqs';
  eventSourceARN: string;
  awsRegion: string;
}

/** Lambda lists the system attributes in this order; others (AWSTraceHeader...) follow. */
const ATTRIBUTE_ORDER = [
  'ApproximateReceiveCount',
  'SentTimestamp',
  'SequenceNumber',
  'MessageGroupId',
  'SenderId',
  'MessageDeduplicationId',
  'ApproximateFirstReceiveTimestamp',
];

function base64(value: Uint8Array | undefined): string | undefined {
  return value === undefined ? undefined : Buffer.from(value).toString('base64');
}

function toRecordAttribute(value: MessageAttributeValue): SqsRecordAttributeValue {
  const out: SqsRecordAttributeValue = {
    stringListValues: value.StringListValues ?? [],
    binaryListValues: (value.BinaryListValues ?? []).map((b) => base64(b) ?? ''),
    dataType: value.DataType ?? 'String',
  };
  const ordered: SqsRecordAttributeValue = {} as SqsRecordAttributeValue;
  if (value.StringValue !== undefined) ordered.stringValue = value.StringValue;
  if (value.BinaryValue !== undefined) ordered.binaryValue = base64(value.BinaryValue);
  return Object.assign(ordered, out);
}

function orderedAttributes(attributes: Record<string, string> | undefined): Record<string, string> {
  const source = attributes ?? {};
  const out: Record<string, string> = {};
  for (const name of ATTRIBUTE_ORDER) if (source[name] !== undefined) out[name] = source[name];
  for (const [name, value] of Object.entries(source)) if (!(name in out)) out[name] = value;
  return out;
}

/** One record of the Lambda SQS event. */
export function toSqsEventRecord(message: Message, queueArn: string, awsRegion: string): SqsEventRecord {
  const messageAttributes: Record<string, SqsRecordAttributeValue> = {};
  for (const [name, value] of Object.entries(message.MessageAttributes ?? {})) {
    messageAttributes[name] = toRecordAttribute(value);
  }
  return {
    messageId: message.MessageId ?? '',
    receiptHandle: message.ReceiptHandle ?? '',
    body: message.Body ?? '',
    attributes: orderedAttributes(message.Attributes),
    messageAttributes,
    md5OfMessageAttributes: message.MD5OfMessageAttributes || null,
    md5OfBody: message.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion,
  };
}
