/**
 * The consumer on SQS events in the shapes Lambda delivers: our own fixtures (test/fixtures/events),
 * and, when the workspace has them, the shared public samples in ../shared/aws-events. Every
 * expectation is written out per file.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { SQSEvent } from 'aws-lambda';
import { z } from 'zod';
import { createConsumer, defineCommand, defineEvent, type Logger, type Message, on } from '../lambdas';

const OrderPlaced = defineEvent({
  type: 'OrderPlaced',
  schema: z.object({ orderId: z.string(), total: z.number() }),
});
const CancelOrder = defineCommand({ type: 'CancelOrder', schema: z.object({ orderId: z.string() }) });

/** A logger that keeps the failure reasons, keyed by SQS message id. */
function reasonLogger() {
  const reasons: Record<string, unknown> = {};
  const keep = (_message: string, fields: Record<string, unknown> = {}) => {
    if (typeof fields.sqsMessageId === 'string') reasons[fields.sqsMessageId] = fields.reason;
  };
  const logger: Logger = { info: keep, warn: keep, error: keep };
  return { reasons, logger };
}

async function run(event: SQSEvent, withFallback = false) {
  const handled: Message[] = [];
  const foreign: Message[] = [];
  const { reasons, logger } = reasonLogger();
  const consumer = createConsumer({
    name: 'events-test',
    handlers: [on(OrderPlaced, (m) => void handled.push(m)), on(CancelOrder, (m) => void handled.push(m))],
    fallback: withFallback ? (m) => void foreign.push(m) : undefined,
    logger,
  });
  const response = await consumer.handler(event);
  return { failures: response.batchItemFailures.map((f) => f.itemIdentifier), reasons, handled, foreign };
}

const load = (dir: string, file: string): SQSEvent =>
  JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8'));
const sqsId = (n: number) => `0f4c2a3e-5b1d-4e8a-9c7f-${String(n).padStart(12, '0')}`;

describe('own fixtures (test/fixtures/events)', () => {
  const dir = path.join(__dirname, 'fixtures/events');
  const fixture = (file: string) => load(dir, file);

  it('sqs-standard.json: a text body fails as invalid-json, a JSON body without type as missing-type', async () => {
    const result = await run(fixture('sqs-standard.json'));
    expect(result.failures).toEqual([sqsId(1), sqsId(2)]);
    expect(result.reasons).toEqual({ [sqsId(1)]: 'invalid-json', [sqsId(2)]: 'missing-type' });
    expect(result.handled).toEqual([]);
  });

  it('sqs-standard.json with a fallback: both go to it, the text as text', async () => {
    const result = await run(fixture('sqs-standard.json'), true);
    expect(result.failures).toEqual([]);
    expect(result.foreign).toEqual([
      { id: sqsId(1), type: '', kind: 'document', headers: { origin: '7' }, payload: 'Order 42 received.' },
      { id: sqsId(2), type: '', kind: 'document', headers: {}, payload: { orderId: 'o-42', total: 19.5 } },
    ]);
  });

  it('sqs-raw-switchyard.json: headers come from the message attributes, Binary ones are ignored', async () => {
    const result = await run(fixture('sqs-raw-switchyard.json'));
    expect(result.failures).toEqual([]);
    expect(result.handled.map((m) => [m.id, m.type, m.kind])).toEqual([
      ['0196b2a0-1c00-7a00-8000-000000000001', 'OrderPlaced', 'event'],
      ['0196b2a0-1c00-7a01-8000-000000000002', 'CancelOrder', 'command'],
    ]);
    expect(result.handled[1]!.headers).toEqual({
      'message-id': '0196b2a0-1c00-7a01-8000-000000000002',
      'message-type': 'CancelOrder',
      'message-kind': 'command',
      'correlation-id': '0196b2a0-1c00-7a00-8000-000000000001',
      'causation-id': '0196b2a0-1c00-7a00-8000-000000000001',
      'partition-key': 'o-1',
      timestamp: '2025-11-23T12:53:20.000Z',
      source: 'orders-service',
      'reply-to': 'https://sqs.eu-west-1.amazonaws.com/123456789012/orders-replies',
    });
    expect(result.handled[0]!.payload).toEqual({ orderId: 'o-1', total: 12.5 });
  });

  it('sqs-fifo.json: the invalid 2nd message of group o-1 fails it and the later o-1 message; o-2 goes on', async () => {
    const result = await run(fixture('sqs-fifo.json'));
    expect(result.failures).toEqual([sqsId(6), sqsId(8)]);
    expect(result.reasons).toEqual({ [sqsId(6)]: 'invalid-payload', [sqsId(8)]: 'earlier-in-group-failed' });
    expect(result.handled.map((m) => m.payload)).toEqual([
      { orderId: 'o-1', total: 1 },
      { orderId: 'o-2', total: 3 },
    ]);
  });

  it('sqs-sns-envelope.json: the payload is the envelope Message, headers its MessageAttributes', async () => {
    const result = await run(fixture('sqs-sns-envelope.json'));
    expect(result.failures).toEqual([]);
    expect(result.handled).toEqual([
      expect.objectContaining({
        id: '0196b2a0-1c00-7c00-8000-000000000011',
        type: 'OrderPlaced',
        payload: { orderId: 'o-5', total: 50 },
        headers: expect.objectContaining({ 'partition-key': 'o-5', source: 'orders-service' }),
      }),
    ]);
  });

  it('sqs-sns-envelope-subject-null.json: untyped, so missing-type; with a fallback, id = SNS MessageId', async () => {
    const plain = await run(fixture('sqs-sns-envelope-subject-null.json'));
    expect(plain.failures).toEqual([sqsId(10)]);
    expect(plain.reasons).toEqual({ [sqsId(10)]: 'missing-type' });
    const withFallback = await run(fixture('sqs-sns-envelope-subject-null.json'), true);
    expect(withFallback.failures).toEqual([]);
    expect(withFallback.foreign).toEqual([
      {
        id: 'c2a5b1f4-3e77-5a0b-9d36-6f2f5b8e1a02',
        type: '',
        kind: 'document',
        headers: {},
        payload: { customer: 'c-7', status: 'gold' },
      },
    ]);
  });

  it('sqs-sns-fifo-envelope.json: a FIFO envelope without Signature parses', async () => {
    const result = await run(fixture('sqs-sns-fifo-envelope.json'));
    expect(result.failures).toEqual([]);
    expect(result.handled.map((m) => [m.id, m.headers['partition-key'], m.payload])).toEqual([
      ['0196b2a0-1c00-7c01-8000-000000000012', 'o-6', { orderId: 'o-6', total: 6 }],
    ]);
  });

  it('sqs-dlq-redriven.json: a redriven message is handled like the original', async () => {
    const result = await run(fixture('sqs-dlq-redriven.json'));
    expect(result.failures).toEqual([]);
    expect(result.handled.map((m) => m.id)).toEqual(['0196b2a0-1c00-7d00-8000-000000000021']);
  });
});

const sharedDir = path.resolve(__dirname, '../../shared/aws-events');
const describeShared = fs.existsSync(sharedDir) ? describe : describe.skip;

/** Expected outcome of each shared file that carries SQS records, written out by hand. */
const sharedExpectations: Record<
  string,
  { failures: Record<string, string>; fallbackPayloads: { id: string; payload: unknown }[] }
> = {
  'sqs-standard.json': {
    failures: {
      '059f36b4-87a3-44ab-83d2-661975830a7d': 'invalid-json',
      '2e1424d4-f796-459a-8184-9c92662be6da': 'missing-type',
    },
    fallbackPayloads: [
      { id: '059f36b4-87a3-44ab-83d2-661975830a7d', payload: 'Test message.' },
      { id: '2e1424d4-f796-459a-8184-9c92662be6da', payload: { message: 'foo1' } },
    ],
  },
  'sqs-standard-message-attributes.json': {
    failures: { MessageID_1: 'invalid-json' },
    fallbackPayloads: [{ id: 'MessageID_1', payload: 'Message Body' }],
  },
  'sqs-fifo.json': {
    failures: { '11d6ee51-4cc7-4302-9e22-7cd8afdaadf5': 'invalid-json' },
    fallbackPayloads: [{ id: '11d6ee51-4cc7-4302-9e22-7cd8afdaadf5', payload: 'Test message.' }],
  },
  'sqs-fifo-with-sns-fifo-envelope.json': {
    failures: { '69bc4bbd-ed69-4325-a434-85c3b428ceab': 'missing-type' },
    fallbackPayloads: [
      { id: 'a7c9d2fa-77fa-5184-9de9-89391027cc7d', payload: { message: 'hello world', username: 'lessa' } },
    ],
  },
  'sqs-with-sns-envelope.json': {
    failures: { '79406a00-bf15-46ca-978c-22c3613fcb30': 'missing-type' },
    fallbackPayloads: [
      { id: 'd88d4479-6ec0-54fe-b63f-1cf9df4bb16e', payload: { message: 'hello world', username: 'lessa' } },
    ],
  },
  'sqs-with-sns-envelope-subject-null.json': {
    failures: { '79406a00-bf15-46ca-978c-22c3613fcb30': 'missing-type' },
    fallbackPayloads: [{ id: 'd88d4479-6ec0-54fe-b63f-1cf9df4bb16e', payload: { message: 'hello world' } }],
  },
  'sqs-dlq-redriven.json': {
    failures: { 'db37cc61-1bb0-4e77-b6f3-7cf87f44a72a': 'invalid-json' },
    fallbackPayloads: [{ id: 'db37cc61-1bb0-4e77-b6f3-7cf87f44a72a', payload: 'hello world' }],
  },
};

/** Event source of the first record, read from the text (some samples hold template placeholders). */
function eventSourceOf(file: string): string {
  const text = fs.readFileSync(path.join(sharedDir, file), 'utf8');
  return /"(?:eventSource|EventSource)"\s*:\s*"([^"]+)"/.exec(text)?.[1] ?? 'unknown';
}

const otherParsers: Record<string, string> = {
  'aws:sns': 'SNS->Lambda events have no SQS records; the SNS subscriber parser handles them',
  'aws:dynamodb': 'DynamoDB Streams records belong to the stream (outbox/projection) parsers',
};

describeShared('shared samples (../shared/aws-events)', () => {
  const files = fs.existsSync(sharedDir)
    ? fs
        .readdirSync(sharedDir)
        .filter((f) => f.endsWith('.json'))
        .sort()
    : [];
  const sqsFiles = files.filter((f) => eventSourceOf(f) === 'aws:sqs');

  it('has an expectation for every file with SQS records', () => {
    expect(sqsFiles).toEqual(Object.keys(sharedExpectations).sort());
  });

  describe.each(sqsFiles)('%s', (file) => {
    const expected = sharedExpectations[file]!;

    it('fails the records the default consumer cannot handle, with the expected reasons', async () => {
      const result = await run(load(sharedDir, file));
      expect(result.failures).toEqual(Object.keys(expected.failures));
      expect(result.reasons).toEqual(expected.failures);
      expect(result.handled).toEqual([]);
    });

    it('hands every record to the fallback of a consumer that has one', async () => {
      const result = await run(load(sharedDir, file), true);
      expect(result.failures).toEqual([]);
      expect(result.foreign.map((m) => ({ id: m.id, payload: m.payload }))).toEqual(
        expected.fallbackPayloads,
      );
    });
  });

  for (const file of files.filter((f) => !sqsFiles.includes(f))) {
    const source = eventSourceOf(file);
    it(`rejects ${file} as a wiring mistake: not an SQS event (${source}); ${otherParsers[source] ?? 'another parser handles it'}`, async () => {
      expect(Object.keys(otherParsers)).toContain(source);
      const consumer = createConsumer({ name: 'wired-wrong', handlers: [], fallback: async () => undefined });
      await expect(consumer.handler(load(sharedDir, file))).rejects.toThrow(
        new RegExp(`handles SQS events, but received a record from ${source}`),
      );
    });
  }
});
