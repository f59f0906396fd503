/** Record unwrapping (raw, SNS envelope, FIFO) and the JSON logger. */
import type { SQSRecord } from 'aws-lambda';
import { createLogger, isFifoRecord, unwrapRecord } from '../lambdas';

function record(body: string, extra: Partial<SQSRecord> = {}): SQSRecord {
  return {
    messageId: 'sqs-1',
    receiptHandle: 'rh',
    body,
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: '1',
      SenderId: 's',
      ApproximateFirstReceiveTimestamp: '1',
    },
    messageAttributes: {},
    md5OfBody: '0',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:q',
    awsRegion: 'us-east-1',
    ...extra,
  };
}

const envelope = (fields: Record<string, unknown>) =>
  JSON.stringify({
    Type: 'Notification',
    MessageId: 'sns-1',
    TopicArn: 'arn:aws:sns:us-east-1:123456789012:t',
    Message: '{"a":1}',
    ...fields,
  });

describe('unwrapRecord', () => {
  it('reads a raw record: body as payload, String and Number attributes as headers', () => {
    const unwrapped = unwrapRecord(
      record('{"a":1}', {
        messageAttributes: {
          'message-type': { stringValue: 'A', dataType: 'String' },
          count: { stringValue: '3', dataType: 'Number.int' },
          blob: { binaryValue: 'AAE=', dataType: 'Binary' },
        },
      }),
    );
    expect(unwrapped).toEqual({
      id: 'sqs-1',
      type: 'A',
      headers: { 'message-type': 'A', count: '3' },
      payloadText: '{"a":1}',
      envelope: 'raw',
      sqsMessageId: 'sqs-1',
      groupId: undefined,
    });
  });

  it('reads an SNS envelope: Message as payload, MessageAttributes as headers, SNS id before SQS id', () => {
    const unwrapped = unwrapRecord(
      record(
        envelope({ Subject: null, MessageAttributes: { 'message-type': { Type: 'String', Value: 'A' } } }),
      ),
    );
    expect(unwrapped).toMatchObject({
      id: 'sns-1',
      type: 'A',
      payloadText: '{"a":1}',
      envelope: 'sns',
      headers: { 'message-type': 'A' },
    });
  });

  it('prefers the message-id header to every other id', () => {
    const unwrapped = unwrapRecord(
      record(envelope({ MessageAttributes: { 'message-id': { Type: 'String', Value: 'mine' } } })),
    );
    expect(unwrapped.id).toBe('mine');
  });

  it('does not take a payload with a Type field for an envelope', () => {
    const body = JSON.stringify({ Type: 'Notification', Message: 'hi' });
    expect(unwrapRecord(record(body))).toMatchObject({ envelope: 'raw', payloadText: body });
  });

  it('knows FIFO records by queue ARN or by MessageGroupId', () => {
    const byArn = record('{}', { eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:q.fifo' });
    const byGroup = record('{}', { attributes: { ...record('{}').attributes, MessageGroupId: 'g' } });
    expect([isFifoRecord(byArn), isFifoRecord(byGroup), isFifoRecord(record('{}'))]).toEqual([
      true,
      true,
      false,
    ]);
    expect(unwrapRecord(byGroup).groupId).toBe('g');
    expect(unwrapRecord(byArn).groupId).toBe('');
  });
});

describe('createLogger', () => {
  it('writes one JSON line per call with level, message, timestamp and fields', () => {
    const lines: string[] = [];
    const logger = createLogger({ consumer: 'k' }, (line) => lines.push(line));
    logger.child({ messageId: 'm-1' }).error('failed', { error: new TypeError('bad') });
    logger.info('ok');
    expect(lines).toHaveLength(2);
    expect(lines.every((l) => l.endsWith('\n') && !l.slice(0, -1).includes('\n'))).toBe(true);
    const first = JSON.parse(lines[0]!);
    expect(first).toMatchObject({ level: 'error', message: 'failed', consumer: 'k', messageId: 'm-1' });
    expect(first.error).toMatchObject({ name: 'TypeError', message: 'bad' });
    expect(Number.isNaN(Date.parse(first.timestamp))).toBe(false);
    expect(JSON.parse(lines[1]!)).toMatchObject({ level: 'info', message: 'ok', consumer: 'k' });
  });
});
