/**
 * Unwraps an SQS record into Switchyard parts: headers, payload text and ids. Handles raw delivery
 * (headers in the SQS message attributes), the SNS notification envelope (raw delivery off; headers in
 * the envelope's MessageAttributes), FIFO and messages redriven from a DLQ (same shape as the original).
 */
import type { SQSRecord } from 'aws-lambda';
import { Headers } from '../core/headers';

export interface UnwrappedRecord {
  /** `message-id` header, else the SNS MessageId, else the SQS messageId. */
  readonly id: string;
  /** `message-type` header; undefined for messages of foreign producers. */
  readonly type?: string;
  readonly headers: Readonly<Record<string, string>>;
  /** The payload as text: the SQS body, or the SNS envelope's `Message`. */
  readonly payloadText: string;
  readonly envelope: 'raw' | 'sns';
  readonly sqsMessageId: string;
  /** MessageGroupId of a FIFO record. */
  readonly groupId?: string;
}

interface SnsEnvelope {
  Type: 'Notification';
  MessageId: string;
  TopicArn: string;
  Message: string;
  Subject?: string | null;
  MessageAttributes?: Record<string, { Type?: string; Value?: unknown }>;
}

/** True when the record comes from a FIFO queue. */
export function isFifoRecord(record: SQSRecord): boolean {
  return (record.eventSourceARN ?? '').endsWith('.fifo') || record.attributes?.MessageGroupId !== undefined;
}

export function unwrapRecord(record: SQSRecord): UnwrappedRecord {
  const envelope = snsEnvelopeOf(record.body);
  const headers = envelope ? envelopeHeaders(envelope) : sqsHeaders(record);
  return {
    id: headers[Headers.ID] ?? envelope?.MessageId ?? record.messageId,
    type: headers[Headers.TYPE] || undefined,
    headers,
    payloadText: envelope ? envelope.Message : record.body,
    envelope: envelope ? 'sns' : 'raw',
    sqsMessageId: record.messageId,
    groupId: isFifoRecord(record) ? (record.attributes?.MessageGroupId ?? '') : undefined,
  };
}

/**
 * The SNS envelope, when the body is one. Checked strictly (Type, MessageId, TopicArn, Message as a
 * string) so that a user payload which happens to have a `Type` field is not mistaken for one.
 */
function snsEnvelopeOf(body: string): SnsEnvelope | undefined {
  if (!body.trimStart().startsWith('{')) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  const looksLikeEnvelope =
    v.Type === 'Notification' &&
    typeof v.MessageId === 'string' &&
    typeof v.TopicArn === 'string' &&
    typeof v.Message === 'string';
  return looksLikeEnvelope ? (v as unknown as SnsEnvelope) : undefined;
}

/** String and Number attributes become headers; Binary ones are not Switchyard headers and are skipped. */
function envelopeHeaders(envelope: SnsEnvelope): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, attr] of Object.entries(envelope.MessageAttributes ?? {})) {
    if (typeof attr?.Value === 'string' && isTextType(attr.Type)) headers[name] = attr.Value;
  }
  return headers;
}

function sqsHeaders(record: SQSRecord): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, attr] of Object.entries(record.messageAttributes ?? {})) {
    if (typeof attr?.stringValue === 'string' && isTextType(attr.dataType)) headers[name] = attr.stringValue;
  }
  return headers;
}

// Custom data types look like "String.Custom" or "Number.int".
const isTextType = (dataType: string | undefined) => /^(String|Number)(\.|$)/.test(dataType ?? '');
