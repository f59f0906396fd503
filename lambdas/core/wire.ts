/**
 * Envelope <-> SNS/SQS wire format: the body is the JSON payload, headers are String message
 * attributes. Limits are checked here, before any request is made.
 */
import { MessageLimitError } from './errors';
import { MAX_MESSAGE_ATTRIBUTES, MAX_MESSAGE_BYTES } from './headers';
import type { Message } from './message';

/** The attribute shape shared by the SNS and SQS SDKs. */
export interface WireAttribute {
  DataType: 'String';
  StringValue: string;
}

export interface WireMessage {
  readonly body: string;
  readonly attributes: Record<string, WireAttribute>;
  /** Body + attribute names, types and values, as SNS/SQS count them. */
  readonly sizeBytes: number;
}

const ATTRIBUTE_NAME = /^(?!\.)(?!.*\.\.)(?!.*\.$)[A-Za-z0-9_.-]{1,256}$/;

/**
 * Encodes a message for SNS Publish / SQS SendMessage and checks the service limits. `maxBytes` is
 * the channel's limit (producer/limits.ts knows it per channel); 256 KiB, the smallest, by default.
 */
export function toWire(message: Message, maxBytes: number = MAX_MESSAGE_BYTES): WireMessage {
  const body = JSON.stringify(message.payload ?? null);
  const names = Object.keys(message.headers);
  if (names.length > MAX_MESSAGE_ATTRIBUTES) {
    throw new MessageLimitError(
      `Message ${message.type} (${message.id}) has ${names.length} headers; SNS and SQS carry at most ` +
        `${MAX_MESSAGE_ATTRIBUTES} message attributes. Move extra headers into the payload: ${names.join(', ')}.`,
    );
  }
  const attributes: Record<string, WireAttribute> = {};
  let sizeBytes = Buffer.byteLength(body, 'utf8');
  for (const name of names) {
    const value = message.headers[name] ?? '';
    if (!ATTRIBUTE_NAME.test(name) || /^(aws|amazon)\./i.test(name)) {
      throw new MessageLimitError(
        `Message ${message.type} has header "${name}", which is not a valid SNS/SQS attribute name. ` +
          'Use 1-256 characters of A-Z a-z 0-9 _ - . without leading, trailing or double dots, not starting with AWS. or Amazon.',
      );
    }
    if (value === '') {
      throw new MessageLimitError(
        `Message ${message.type} has an empty header "${name}"; SNS/SQS reject empty attribute values. Omit it instead.`,
      );
    }
    attributes[name] = { DataType: 'String', StringValue: value };
    sizeBytes += Buffer.byteLength(name, 'utf8') + 'String'.length + Buffer.byteLength(value, 'utf8');
  }
  if (sizeBytes > maxBytes) {
    throw new MessageLimitError(
      `Message ${message.type} (${message.id}) is ${sizeBytes} bytes with its attributes; its channel accepts at most ` +
        `${maxBytes} bytes (${Math.floor(maxBytes / 1024)} KiB). Store the large part elsewhere (for example S3) and send a reference.`,
    );
  }
  return { body, attributes, sizeBytes };
}
