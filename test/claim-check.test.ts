/**
 * Claim check over the emulators (fauxqs serves SNS, SQS and S3): a payload over its channel's
 * limit goes to S3 under a key derived from its message id, the message carries a reference, and
 * the consumer resolves it before validation. S3 faults are real @aws-sdk/client-s3 exceptions
 * injected below the S3 client's retry middleware (test/support/sdk-faults.ts).
 */
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  InvalidObjectState,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { z } from 'zod';
import { createConsumer, createProducer, defineEvent, FailureReasons, type Message, on } from '../lambdas';
import { CLAIM_ENVELOPE_FIELD, claimReferenceOf } from '../lambdas/claim-check/reference';
import { s3ClaimStore } from '../lambdas/claim-check/s3-claims';
import { createStreamRelay, createUnitOfWork } from '../lambdas/outbox';
import { unsendableReason } from '../lambdas/producer/send-checks';
import { uniqueName } from './support/emulators';
import { createOutboxTable } from './support/outbox-fixtures';
import { injectFaults } from './support/sdk-faults';
import { queueArnOf, receiveAll, toSqsEvent } from './support/sqs-event';
import { StreamTail, streamEvent } from './support/stream-event';
import { topicWithQueue } from './support/topic-with-queue';

const Receipt = defineEvent({
  type: 'ReceiptIssued',
  schema: z.object({ orderId: z.string(), lines: z.array(z.string()) }),
  partitionKey: (p) => p.orderId,
});
/** A receipt whose JSON is about `bytes` long. */
const receipt = (orderId: string, bytes: number) =>
  Receipt.create({
    orderId,
    lines: Array.from({ length: Math.ceil(bytes / 100) }, (_, i) => `${i}`.padEnd(96, '.')),
  });

// The endpoint is 127.0.0.1, so the client addresses buckets path-style by itself.
const s3 = new S3Client({});
const sqs = new SQSClient({ useQueueUrlAsEndpoint: false });

/** SlowDown as S3 answers it (503, unmodeled in the SDK, so the service's base exception class). */
const slowDown = () =>
  new S3ServiceException({
    name: 'SlowDown',
    $fault: 'server',
    $metadata: { httpStatusCode: 503 },
    message: 'Please reduce your request rate.',
  });
const internalError = () =>
  new S3ServiceException({
    name: 'InternalError',
    $fault: 'server',
    $metadata: { httpStatusCode: 500 },
    message: 'We encountered an internal error. Please try again.',
  });

async function bucket(): Promise<string> {
  const name = uniqueName('claims');
  await s3.send(new CreateBucketCommand({ Bucket: name }));
  return name;
}

async function keysIn(bucketName: string): Promise<string[]> {
  const out = await s3.send(new ListObjectsV2Command({ Bucket: bucketName }));
  return (out.Contents ?? []).map((o) => o.Key!).sort();
}

async function queue(fifo = false): Promise<{ url: string; arn: string }> {
  const out = await sqs.send(
    new CreateQueueCommand({
      QueueName: uniqueName('claims', fifo),
      Attributes: fifo ? { FifoQueue: 'true' } : {},
    }),
  );
  return { url: out.QueueUrl!, arn: await queueArnOf(sqs, out.QueueUrl!) };
}

/** A receipts topic with one subscribed queue (see support/topic-with-queue.ts). */
async function topicWithSubscriber(
  options: { fifo?: boolean; raw?: boolean } = {},
): Promise<{ topicArn: string; subscriber: { url: string; arn: string } }> {
  const { topicArn, queueUrl, queueArn } = await topicWithQueue('receipts', options);
  return { topicArn, subscriber: { url: queueUrl, arn: queueArn } };
}

async function depth(url: string): Promise<number> {
  const out = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: url,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return (
    Number(out.Attributes?.ApproximateNumberOfMessages ?? 0) +
    Number(out.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0)
  );
}

/** Runs `fn` with the channel variables the constructs set on a bound function. */
async function withChannel<T>(
  name: string,
  address: string,
  bucketName: string,
  fn: () => Promise<T>,
): Promise<T> {
  const variable = `SWITCHYARD_CHANNEL_${name}`;
  const vars = {
    [variable]: address,
    [`${variable}_CLAIM_CHECK_BUCKET`]: bucketName,
    [`${variable}_CLAIM_CHECK_PREFIX`]: `${name.toLowerCase()}/`,
  };
  Object.assign(process.env, vars);
  try {
    return await fn();
  } finally {
    for (const key of Object.keys(vars)) delete process.env[key];
  }
}

/** A consumer that records what its handler saw. */
function recordingConsumer(claimS3: S3Client = s3) {
  const seen: Message<z.infer<typeof Receipt.schema>>[] = [];
  const consumer = createConsumer({
    name: 'receipts',
    handlers: [on(Receipt, async (message) => void seen.push(message))],
    claimStore: s3ClaimStore(claimS3),
    retryBackoff: false,
    logger: { info() {}, warn() {}, error() {} },
  });
  return { consumer, seen };
}

describe('claim check end to end over SNS -> SQS and SQS', () => {
  test('SNS (256 KiB): a 300 KB receipt goes to S3, the subscriber queue gets a reference, the handler the receipt', async () => {
    // GIVEN a standard topic with a raw-delivery subscriber queue and a claim-check bucket
    const claims = await bucket();
    const { topicArn, subscriber } = await topicWithSubscriber();
    const large = receipt('o-1', 300_000);
    const small = receipt('o-2', 1_000);
    // WHEN both are published through the producer of a claim-check channel
    await withChannel('RECEIPTS', topicArn, claims, async () => {
      const producer = createProducer();
      await producer.publish(topicArn, large);
      await producer.publish(topicArn, small);
    });
    // THEN only the large one is in S3, under receipts/<message id>, and travels as a reference
    expect(await keysIn(claims)).toEqual([`receipts/${large.id}`]);
    const delivered = await receiveAll(sqs, subscriber.url, 2);
    const bodies = delivered.map((m) => m.Body!);
    const reference = bodies.map(claimReferenceOf).find((r) => r !== undefined)!;
    expect(reference).toMatchObject({ bucket: claims, key: `receipts/${large.id}` });
    expect(reference.size).toBe(Buffer.byteLength(JSON.stringify(large.payload)));
    // The claimed body is the small envelope (a few hundred bytes), not the 300 KB receipt.
    expect(bodies.find((b) => claimReferenceOf(b))!.length).toBeLessThan(400);
    // AND the consumer's handler sees both payloads, validated, with their headers
    const { consumer, seen } = recordingConsumer();
    const result = await consumer.handler(toSqsEvent(delivered, subscriber.arn));
    expect(result.batchItemFailures).toEqual([]);
    expect(seen.map((m) => m.id).sort()).toEqual([large.id, small.id].sort());
    expect(seen.find((m) => m.id === large.id)!.payload).toEqual(large.payload);
  });

  test('SNS without raw delivery: the reference inside the SNS envelope is resolved too', async () => {
    const claims = await bucket();
    const { topicArn, subscriber } = await topicWithSubscriber({ raw: false });
    const large = receipt('o-3', 270_000);
    await withChannel('RECEIPTS', topicArn, claims, () => createProducer().publish(topicArn, large));
    const { consumer, seen } = recordingConsumer();
    const delivered = await receiveAll(sqs, subscriber.url, 1);
    expect(delivered[0]!.Body).toContain(CLAIM_ENVELOPE_FIELD);
    expect((await consumer.handler(toSqsEvent(delivered, subscriber.arn))).batchItemFailures).toEqual([]);
    expect(seen[0]!.payload).toEqual(large.payload);
  });

  test('SNS FIFO -> SQS FIFO: an oversized receipt keeps its group and order among small ones', async () => {
    const claims = await bucket();
    const { topicArn, subscriber } = await topicWithSubscriber({ fifo: true });
    const sequence = [receipt('o-15', 500), receipt('o-15', 270_000), receipt('o-15', 500)];
    await withChannel('RECEIPTS', topicArn, claims, () => createProducer().publishBatch(topicArn, sequence));
    expect(await keysIn(claims)).toEqual([`receipts/${sequence[1]!.id}`]);
    const delivered = await receiveAll(sqs, subscriber.url, 3);
    const { consumer, seen } = recordingConsumer();
    expect((await consumer.handler(toSqsEvent(delivered, subscriber.arn))).batchItemFailures).toEqual([]);
    expect(seen.map((m) => m.id)).toEqual(sequence.map((m) => m.id));
    expect(seen[1]!.payload).toEqual(sequence[1]!.payload);
  });

  test('SQS FIFO (1 MiB): a 1.2 MB receipt goes through in its group; a retried send writes the same key', async () => {
    const claims = await bucket();
    const fifo = await queue(true);
    const large = receipt('o-4', 1_200_000);
    await withChannel('RECEIPTS', fifo.url, claims, async () => {
      const producer = createProducer();
      await producer.sendBatch(fifo.url, [large, receipt('o-4', 500)]);
      // A retry of the same send (the caller could not tell it had worked): same id, same key.
      await producer.send(fifo.url, large);
    });
    expect(await keysIn(claims)).toEqual([`receipts/${large.id}`]);
    // SQS FIFO drops the retried copy (deduplication id = message id): 2 messages, in order.
    const delivered = await receiveAll(sqs, fifo.url, 2);
    expect(await depth(fifo.url)).toBe(0);
    expect(delivered.map((m) => m.Attributes?.MessageGroupId)).toEqual(['o-4', 'o-4']);
    const { consumer, seen } = recordingConsumer();
    expect((await consumer.handler(toSqsEvent(delivered, fifo.arn))).batchItemFailures).toEqual([]);
    expect(seen[0]!.id).toBe(large.id);
    expect(seen[0]!.payload).toEqual(large.payload);
    expect(seen[1]!.payload.lines).toHaveLength(5);
  });

  test('SQS standard: a payload over 1 MiB on a channel without a claim check is refused before sending', async () => {
    const plain = await queue();
    await expect(createProducer().send(plain.url, receipt('o-5', 1_100_000))).rejects.toThrow(
      /accepts at most 1048576 bytes/,
    );
    expect(await depth(plain.url)).toBe(0);
  });
});

describe('claim check under S3 faults (producer side)', () => {
  test('SlowDown twice on PutObject: the S3 client retries, one claim, one message', async () => {
    const claims = await bucket();
    const target = await queue();
    const faulty = new S3Client({});
    const faults = injectFaults(faulty, { commands: ['PutObjectCommand'], times: 2, error: slowDown });
    const large = receipt('o-6', 1_100_000);
    await withChannel('RECEIPTS', target.url, claims, () =>
      createProducer({ claimStore: s3ClaimStore(faulty) }).send(target.url, large),
    );
    expect(faults).toEqual({ calls: 3, injected: 2 });
    expect(await keysIn(claims)).toEqual([`receipts/${large.id}`]);
    expect(await depth(target.url)).toBe(1);
  });

  test('S3 failing past the SDK retries: nothing is sent, the entries come back failed (retryable); the retry sends once', async () => {
    const claims = await bucket();
    const target = await queue();
    const faulty = new S3Client({});
    const faults = injectFaults(faulty, { commands: ['PutObjectCommand'], times: 3, error: internalError });
    const large = receipt('o-7', 1_100_000);
    const smallBefore = receipt('o-7', 100);
    await withChannel('RECEIPTS', target.url, claims, async () => {
      const producer = createProducer({ claimStore: s3ClaimStore(faulty) });
      // WHEN the batch's claim cannot be stored
      const failedAttempt = await producer.sendBatch(target.url, [smallBefore, large]);
      // THEN no message of the batch went out (the small one is not sent ahead of its large sibling),
      // and both are reported failed as retryable: the relay (or the caller) tries again
      expect(failedAttempt.successful).toEqual([]);
      expect(failedAttempt.requests).toBe(0);
      expect(failedAttempt.failed).toEqual([
        expect.objectContaining({ id: smallBefore.id, code: 'NotSent', senderFault: false }),
        expect.objectContaining({ id: large.id, code: 'ClaimCheck.InternalError', senderFault: false }),
      ]);
      expect(await depth(target.url)).toBe(0);
      // AND the retry sends each message once
      const result = await producer.sendBatch(target.url, [smallBefore, large]);
      expect(result.failed).toEqual([]);
    });
    expect(faults.injected).toBe(3);
    expect(await keysIn(claims)).toEqual([`receipts/${large.id}`]);
    expect(await depth(target.url)).toBe(2);
  });

  test('a claim S3 refuses for good (AccessDenied) is a sender fault (what a relay parks, with its reason)', async () => {
    const claims = await bucket();
    const target = await queue();
    const faulty = new S3Client({});
    injectFaults(faulty, {
      commands: ['PutObjectCommand'],
      times: 1,
      error: () =>
        new S3ServiceException({
          name: 'AccessDenied',
          $fault: 'client',
          $metadata: { httpStatusCode: 403 },
          message: 'User is not authorized to perform: s3:PutObject',
        }),
    });
    const large = receipt('o-16', 1_100_000);
    const result = await withChannel('RECEIPTS', target.url, claims, () =>
      createProducer({ claimStore: s3ClaimStore(faulty) }).sendBatch(target.url, [large]),
    );
    expect(result.failed).toEqual([
      expect.objectContaining({
        code: 'ClaimCheck.AccessDenied',
        senderFault: true,
        message: expect.stringContaining('s3:PutObject'),
      }),
    ]);
    expect(await depth(target.url)).toBe(0);
  });

  test('single send: an unstorable claim throws and nothing is sent', async () => {
    const claims = await bucket();
    const target = await queue();
    const faulty = new S3Client({});
    injectFaults(faulty, { commands: ['PutObjectCommand'], times: 3, error: internalError });
    await withChannel('RECEIPTS', target.url, claims, async () => {
      await expect(
        createProducer({ claimStore: s3ClaimStore(faulty) }).send(target.url, receipt('o-17', 1_100_000)),
      ).rejects.toThrow(/internal error/);
    });
    expect(await depth(target.url)).toBe(0);
    expect(await keysIn(claims)).toEqual([]);
  });

  test('PutObject applied but its answer lost: the SDK retry rewrites the same key, no orphan', async () => {
    const claims = await bucket();
    const target = await queue();
    const faulty = new S3Client({});
    injectFaults(faulty, { commands: ['PutObjectCommand'], times: 1, error: internalError, when: 'after' });
    const large = receipt('o-8', 1_100_000);
    await withChannel('RECEIPTS', target.url, claims, () =>
      createProducer({ claimStore: s3ClaimStore(faulty) }).send(target.url, large),
    );
    expect(await keysIn(claims)).toEqual([`receipts/${large.id}`]);
    expect(await depth(target.url)).toBe(1);
  });
});

describe('claim check under S3 faults and bad claims (consumer side)', () => {
  async function sentLarge(orderId: string) {
    const claims = await bucket();
    const target = await queue();
    const large = receipt(orderId, 1_100_000);
    await withChannel('RECEIPTS', target.url, claims, () => createProducer().send(target.url, large));
    const delivered = await receiveAll(sqs, target.url, 1);
    return { claims, target, large, event: toSqsEvent(delivered, target.arn) };
  }

  test('SlowDown on GetObject is retried by the S3 client and the handler gets the payload', async () => {
    const { large, event } = await sentLarge('o-9');
    const faulty = new S3Client({});
    const faults = injectFaults(faulty, { commands: ['GetObjectCommand'], times: 2, error: slowDown });
    const { consumer, seen } = recordingConsumer(faulty);
    expect((await consumer.handler(event)).batchItemFailures).toEqual([]);
    expect(faults).toEqual({ calls: 3, injected: 2 });
    expect(seen[0]!.payload).toEqual(large.payload);
  });

  test('S3 failing past the SDK retries fails the record as claim-unavailable (SQS redelivers it), not as lost', async () => {
    const { event } = await sentLarge('o-10');
    const faulty = new S3Client({});
    injectFaults(faulty, { commands: ['GetObjectCommand'], times: 3, error: internalError });
    const errors: Record<string, unknown>[] = [];
    const consumer = createConsumer({
      name: 'receipts',
      handlers: [on(Receipt, async () => {})],
      claimStore: s3ClaimStore(faulty),
      retryBackoff: false,
      logger: {
        info() {},
        warn() {},

        error: (_m: string, f?: Record<string, unknown>) => void errors.push(f ?? {}),
      },
    });
    const result = await consumer.handler(event);
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: event.Records[0]!.messageId }]);
    expect(errors[0]).toMatchObject({ reason: FailureReasons.CLAIM_UNAVAILABLE });
    // The next delivery, with S3 back, succeeds.
    const { consumer: healthy, seen } = recordingConsumer();
    expect((await healthy.handler(event)).batchItemFailures).toEqual([]);
    expect(seen).toHaveLength(1);
  });

  test('a modeled S3 client error (InvalidObjectState, archived object) fails the record with its reason', async () => {
    const { event } = await sentLarge('o-11');
    const faulty = new S3Client({});
    injectFaults(faulty, {
      commands: ['GetObjectCommand'],
      times: 1,
      error: () =>
        new InvalidObjectState({
          $metadata: { httpStatusCode: 403 },
          message: 'The operation is not valid for the object storage class',
        }),
    });
    const errors: Record<string, unknown>[] = [];
    const consumer = createConsumer({
      name: 'receipts',
      handlers: [on(Receipt, async () => {})],
      claimStore: s3ClaimStore(faulty),
      retryBackoff: false,
      logger: {
        info() {},
        warn() {},

        error: (_m: string, f?: Record<string, unknown>) => void errors.push(f ?? {}),
      },
    });
    expect((await consumer.handler(event)).batchItemFailures).toHaveLength(1);
    expect(errors[0]).toMatchObject({
      reason: FailureReasons.CLAIM_UNAVAILABLE,
      error: expect.stringContaining('InvalidObjectState'),
    });
  });

  test('an expired (deleted) claim fails as claim-missing; an overwritten one as claim-mismatch', async () => {
    const missing = await sentLarge('o-12');
    await s3.send(new DeleteObjectCommand({ Bucket: missing.claims, Key: `receipts/${missing.large.id}` }));
    const errors: Record<string, unknown>[] = [];
    const consumer = createConsumer({
      name: 'receipts',
      handlers: [on(Receipt, async () => {})],
      claimStore: s3ClaimStore(s3),
      retryBackoff: false,
      logger: {
        info() {},
        warn() {},

        error: (_m: string, f?: Record<string, unknown>) => void errors.push(f ?? {}),
      },
    });
    expect((await consumer.handler(missing.event)).batchItemFailures).toHaveLength(1);
    expect(errors[0]).toMatchObject({
      reason: FailureReasons.CLAIM_MISSING,
      error: expect.stringContaining('does not exist'),
    });

    const tampered = await sentLarge('o-13');
    await s3.send(
      new PutObjectCommand({
        Bucket: tampered.claims,
        Key: `receipts/${tampered.large.id}`,
        Body: JSON.stringify({ orderId: 'o-13', lines: [] }),
      }),
    );
    expect((await consumer.handler(tampered.event)).batchItemFailures).toHaveLength(1);
    expect(errors[1]).toMatchObject({
      reason: FailureReasons.CLAIM_MISMATCH,
      error: expect.stringContaining('SHA-256'),
    });
  });
});

describe('claim check and the transactional outbox checks', () => {
  test('the unit of work and the relay accept an oversized message for a claim-check channel, checked as its envelope', async () => {
    const topicArn = 'arn:aws:sns:us-east-1:000000000000:receipts';
    const large = receipt('o-14', 300_000);
    // Without a claim check the commit is refused, saying what to do.
    expect(unsendableReason(topicArn, large)).toMatch(/accepts at most 262144 bytes/);
    await withChannel('RECEIPTS', topicArn, 'claims-bucket', async () => {
      expect(unsendableReason(topicArn, large)).toBeUndefined();
      // The envelope keeps the headers, so the other checks still apply (11 headers are too many).
      const crowded = { ...large, headers: { ...large.headers, a: '1', b: '2', c: '3', d: '4' } };
      expect(unsendableReason(topicArn, crowded)).toMatch(/at most 10 message attributes/);
    });
  });
});

describe('claim check through the transactional outbox relay (DynamoDB Local stream)', () => {
  test('the relay offloads at publish time; an S3 outage fails the record for a retry, the retry publishes once', async () => {
    // GIVEN an in-item outbox whose commit stages a 300 KB receipt for a claim-check topic
    const claims = await bucket();
    const table = await createOutboxTable();
    const { topicArn, subscriber } = await topicWithSubscriber();
    const large = receipt('o-18', 300_000);
    const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
    await withChannel('RECEIPTS', topicArn, claims, async () => {
      const uow = createUnitOfWork({ table, mode: 'in-item' });
      uow.save({ aggregateId: 'o-18', item: { pk: 'ORDER#o-18', sk: 'ORDER' } });
      uow.publish(large, { type: 'publish-subscribe', topicArn });
      await uow.commit();
      const records = await new StreamTail(table).open().then((t) => t.read());
      // WHEN the relay runs while S3 fails past the client's retries
      const faulty = new S3Client({});
      injectFaults(faulty, { commands: ['PutObjectCommand'], times: 3, error: internalError });
      const failing = createStreamRelay({
        producer: createProducer({ maxAttempts: 1, claimStore: s3ClaimStore(faulty) }),
        logger: quiet,
      });
      const first = await failing(streamEvent(records));
      // THEN the record is failed for a retry (not parked), nothing was published
      expect(first.batchItemFailures).toHaveLength(1);
      expect(await depth(subscriber.url)).toBe(0);
      // AND the retried batch publishes the receipt once, as a claim
      const healthy = createStreamRelay({ producer: createProducer({ maxAttempts: 1 }), logger: quiet });
      expect((await healthy(streamEvent(records))).batchItemFailures).toEqual([]);
    });
    expect(await keysIn(claims)).toEqual([`receipts/${large.id}`]);
    const delivered = await receiveAll(sqs, subscriber.url, 1);
    expect(claimReferenceOf(delivered[0]!.Body!)).toMatchObject({ key: `receipts/${large.id}` });
    expect(await depth(subscriber.url)).toBe(0);
  });
});
