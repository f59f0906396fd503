/** Per-channel size limits and the shared pre-send checks (producer/limits.ts, producer/send-checks.ts). */
import { z } from 'zod';
import { channelFromEnvironment, defineEvent, MessageLimitError } from '../lambdas';
import { ConfigurationError } from '../lambdas/core/errors';
import { maxMessageBytesOf } from '../lambdas/producer/limits';
import { checkSendable, unsendableReason } from '../lambdas/producer/send-checks';

const Note = defineEvent({ type: 'Note', schema: z.object({ text: z.string() }) });
const topicArn = 'arn:aws:sns:us-east-1:000000000000:notes';
const fifoTopicArn = 'arn:aws:sns:us-east-1:000000000000:notes.fifo';
const queueUrl = 'http://127.0.0.1:4566/000000000000/notes';

describe('channel size limits', () => {
  it('defaults to 256 KiB for topics and 1 MiB for queues', () => {
    expect(maxMessageBytesOf(topicArn, {})).toBe(262_144);
    expect(maxMessageBytesOf(queueUrl, {})).toBe(1_048_576);
  });

  it("takes a topic's raised MaximumMessageSize from SWITCHYARD_CHANNEL_<NAME>_MAX_MESSAGE_BYTES", () => {
    const env = { SWITCHYARD_CHANNEL_NOTES: topicArn, SWITCHYARD_CHANNEL_NOTES_MAX_MESSAGE_BYTES: '1048576' };
    expect(maxMessageBytesOf(topicArn, env)).toBe(1_048_576);
    expect(channelFromEnvironment('notes', env)).toEqual({
      type: 'publish-subscribe',
      topicArn,
      maxMessageBytes: 1_048_576,
    });
    const big = Note.create({ text: 'x'.repeat(300_000) });
    expect(() => checkSendable(topicArn, big, maxMessageBytesOf(topicArn, {}))).toThrow(
      /is 300\d{3} bytes .*at most 262144 bytes \(256 KiB\)/,
    );
    expect(checkSendable(topicArn, big, maxMessageBytesOf(topicArn, env)).wire.sizeBytes).toBeGreaterThan(
      300_000,
    );
  });

  it('rejects a limit SNS/SQS would not accept, naming the variable', () => {
    const env = { SWITCHYARD_CHANNEL_NOTES: topicArn, SWITCHYARD_CHANNEL_NOTES_MAX_MESSAGE_BYTES: '2000000' };
    expect(() => maxMessageBytesOf(topicArn, env)).toThrow(ConfigurationError);
    expect(() => channelFromEnvironment('notes', env)).toThrow(
      /SWITCHYARD_CHANNEL_NOTES_MAX_MESSAGE_BYTES is "2000000"/,
    );
  });
});

describe('pre-send checks shared by producer, unit of work, relay and poller', () => {
  it('names what FIFO channels reject in group and deduplication ids', () => {
    const spaced = Note.create({ text: 'a' }, { partitionKey: 'order 1' });
    const accented = Note.create({ text: 'a' }, { partitionKey: 'commande-é' });
    const long = Note.create({ text: 'a' }, { partitionKey: 'k'.repeat(129) });
    const badId = Note.create({ text: 'a' }, { partitionKey: 'ok', id: 'id with space' });
    for (const m of [spaced, accented, long])
      expect(unsendableReason(fifoTopicArn, m)).toMatch(/partition key/);
    expect(unsendableReason(fifoTopicArn, badId)).toMatch(/message id "id with space"/);
    expect(unsendableReason(topicArn, spaced)).toBeUndefined();
  });

  it('counts the attributes: 11 headers fail', () => {
    const headers = Object.fromEntries(Array.from({ length: 4 }, (_, i) => [`x-${i}`, 'v']));
    const crowded = Note.create({ text: 'a' }, { headers, replyTo: queueUrl, causationId: 'c' });
    expect(() => checkSendable(queueUrl, crowded)).toThrow(MessageLimitError);
    expect(unsendableReason(queueUrl, crowded)).toMatch(/has 1\d headers.*at most 10/);
  });
});
