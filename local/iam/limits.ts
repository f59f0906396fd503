/**
 * AWS limits the emulators accept past: message attribute count, message size per queue and
 * topic, entries per batch, FIFO message group ids. Checked in the gateway for every caller,
 * with AWS's error codes and messages.
 */
import type { ServiceError } from './aws-errors';
import type { ParsedRequest } from './requests';
import {
  type QueueSettings,
  queueArnFromUrl,
  type SecurityModel,
  type TopicSettings,
} from './security-model';

export const MAX_MESSAGE_ATTRIBUTES = 10;
export const MAX_BATCH_ENTRIES = 10;
/** AWS: alphanumeric and punctuation, 1 to 128 characters. */
const MESSAGE_GROUP_ID = /^[A-Za-z0-9!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~]{1,128}$/;

interface MessageShape {
  readonly body: string;
  readonly attributes: { name: string; type: string; value: string | Buffer }[];
  readonly groupId?: string;
}

/** Size as SQS and SNS count it: body plus each attribute's name, type and value, in UTF-8 bytes. */
function messageBytes(message: MessageShape): number {
  let size = Buffer.byteLength(message.body, 'utf8');
  for (const a of message.attributes) {
    size += Buffer.byteLength(a.name) + Buffer.byteLength(a.type);
    size += typeof a.value === 'string' ? Buffer.byteLength(a.value) : a.value.length;
  }
  return size;
}

function jsonAttributes(value: unknown): MessageShape['attributes'] {
  return Object.entries(
    (value ?? {}) as Record<string, { DataType?: string; StringValue?: string; BinaryValue?: string }>,
  ).map(([name, v]) => ({
    name,
    type: String(v.DataType ?? ''),
    value: v.BinaryValue !== undefined ? Buffer.from(v.BinaryValue, 'base64') : String(v.StringValue ?? ''),
  }));
}

/** `MessageAttributes.entry.N.*` (SNS query protocol) under `prefix`. */
function queryAttributes(query: URLSearchParams, prefix: string): MessageShape['attributes'] {
  const attributes: MessageShape['attributes'] = [];
  for (let n = 1; query.has(`${prefix}MessageAttributes.entry.${n}.Name`); n++) {
    const base = `${prefix}MessageAttributes.entry.${n}`;
    const binary = query.get(`${base}.Value.BinaryValue`);
    attributes.push({
      name: query.get(`${base}.Name`) ?? '',
      type: query.get(`${base}.Value.DataType`) ?? '',
      value: binary !== null ? Buffer.from(binary, 'base64') : (query.get(`${base}.Value.StringValue`) ?? ''),
    });
  }
  return attributes;
}

/** A problem with one message, as SQS or SNS words it. */
function messageProblem(
  service: 'sqs' | 'sns',
  message: MessageShape,
  settings: { fifo: boolean; maximumMessageSize: number } | undefined,
): ServiceError | undefined {
  const invalid = service === 'sqs' ? 'InvalidParameterValue' : 'InvalidParameter';
  if (message.attributes.length > MAX_MESSAGE_ATTRIBUTES) {
    return {
      code: invalid,
      message: `${service === 'sns' ? 'Invalid parameter: MessageAttributes: ' : ''}Number of message attributes [${message.attributes.length}] exceeds the allowed maximum [${MAX_MESSAGE_ATTRIBUTES}].`,
    };
  }
  const max = settings?.maximumMessageSize;
  if (max !== undefined && messageBytes(message) > max) {
    return service === 'sqs'
      ? {
          code: invalid,
          message: `One or more parameters are invalid. Reason: Message must be shorter than ${max} bytes.`,
        }
      : {
          code: invalid,
          message: `Invalid parameter: Message too long (${messageBytes(message)} bytes; this topic accepts at most ${max})`,
        };
  }
  if (settings?.fifo) {
    if (message.groupId === undefined || message.groupId === '') {
      return service === 'sqs'
        ? { code: 'MissingParameter', message: 'The request must contain the parameter MessageGroupId.' }
        : {
            code: invalid,
            message: 'Invalid parameter: The MessageGroupId parameter is required for FIFO topics',
          };
    }
    if (!MESSAGE_GROUP_ID.test(message.groupId)) {
      return {
        code: invalid,
        message: `Value ${message.groupId} for parameter MessageGroupId is invalid. Reason: MessageGroupId can only include alphanumeric and punctuation characters. 1 to 128 in length.`,
      };
    }
  }
  return undefined;
}

export type LimitOutcome =
  | { readonly kind: 'ok' }
  | { readonly kind: 'reject'; readonly error: ServiceError }
  /** SQS batches: these entries fail (as AWS fails them one by one); the rest go ahead. */
  | {
      readonly kind: 'partial';
      readonly failed: { Id: string; Code: string; Message: string; SenderFault: true }[];
      readonly keptBody: string;
    };

export function checkLimits(request: ParsedRequest, model: SecurityModel, region: string): LimitOutcome {
  if (
    request.service === 'sqs' &&
    (request.operation === 'SendMessage' || request.operation === 'SendMessageBatch')
  ) {
    const url = String(request.json.QueueUrl ?? '');
    const settings: QueueSettings | undefined = model.queues.get(
      queueArnFromUrl(url, region, model.accountId),
    );
    if (request.operation === 'SendMessage') {
      const problem = messageProblem('sqs', shapeOfJson(request.json), settings);
      return problem ? { kind: 'reject', error: problem } : { kind: 'ok' };
    }
    const entries = (request.json.Entries ?? []) as Record<string, unknown>[];
    if (entries.length > MAX_BATCH_ENTRIES) {
      return {
        kind: 'reject',
        error: {
          code: 'AWS.SimpleQueueService.TooManyEntriesInBatchRequest',
          sqsType: 'com.amazonaws.sqs#TooManyEntriesInBatchRequest',
          message: `Maximum number of entries per request are ${MAX_BATCH_ENTRIES}. You have sent ${entries.length}.`,
        },
      };
    }
    const total = entries.reduce((sum, e) => sum + messageBytes(shapeOfJson(e)), 0);
    const max = settings?.maximumMessageSize;
    if (max !== undefined && total > max) {
      return {
        kind: 'reject',
        error: {
          code: 'AWS.SimpleQueueService.BatchRequestTooLong',
          sqsType: 'com.amazonaws.sqs#BatchRequestTooLong',
          message: `Batch requests cannot be longer than ${max} bytes. You have sent ${total} bytes.`,
        },
      };
    }
    const failed: { Id: string; Code: string; Message: string; SenderFault: true }[] = [];
    const kept = entries.filter((entry) => {
      const problem = messageProblem('sqs', shapeOfJson(entry), settings);
      if (problem)
        failed.push({
          Id: String(entry.Id),
          Code: problem.code,
          Message: problem.message,
          SenderFault: true,
        });
      return !problem;
    });
    if (failed.length === 0) return { kind: 'ok' };
    return { kind: 'partial', failed, keptBody: JSON.stringify({ ...request.json, Entries: kept }) };
  }
  if (
    request.service === 'sns' &&
    (request.operation === 'Publish' || request.operation === 'PublishBatch')
  ) {
    const topicArn = request.query.get('TopicArn') ?? request.query.get('TargetArn') ?? '';
    const settings: TopicSettings | undefined = model.topics.get(topicArn);
    const messages: MessageShape[] = [];
    if (request.operation === 'Publish') {
      messages.push(shapeOfQuery(request.query, ''));
    } else {
      for (let n = 1; request.query.has(`PublishBatchRequestEntries.member.${n}.Id`); n++)
        messages.push(shapeOfQuery(request.query, `PublishBatchRequestEntries.member.${n}.`));
      if (messages.length > MAX_BATCH_ENTRIES) {
        return {
          kind: 'reject',
          error: {
            code: 'TooManyEntriesInBatchRequest',
            message: 'The batch request contains more entries than permissible.',
          },
        };
      }
      const total = messages.reduce((sum, m) => sum + messageBytes(m), 0);
      if (settings && total > settings.maximumMessageSize) {
        return {
          kind: 'reject',
          error: {
            code: 'BatchRequestTooLong',
            message: `The length of all the messages put together is more than the limit (${total} > ${settings.maximumMessageSize} bytes).`,
          },
        };
      }
    }
    for (const message of messages) {
      const problem = messageProblem(
        'sns',
        message,
        settings ?? { fifo: topicArn.endsWith('.fifo'), maximumMessageSize: 262_144 },
      );
      if (problem) return { kind: 'reject', error: problem };
    }
  }
  return { kind: 'ok' };
}

function shapeOfJson(json: Record<string, unknown>): MessageShape {
  return {
    body: String(json.MessageBody ?? ''),
    attributes: jsonAttributes(json.MessageAttributes),
    groupId: json.MessageGroupId === undefined ? undefined : String(json.MessageGroupId),
  };
}

function shapeOfQuery(query: URLSearchParams, prefix: string): MessageShape {
  return {
    body: query.get(`${prefix}Message`) ?? '',
    attributes: queryAttributes(query, prefix),
    groupId: query.get(`${prefix}MessageGroupId`) ?? undefined,
  };
}
