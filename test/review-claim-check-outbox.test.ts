/**
 * Review: a claim S3 refuses for good (AccessDenied), staged behind another message of the same
 * outbox dispatch. The producer then fails the whole call: the refused message with the S3 error (a
 * sender fault), the others as NotSent. The outbox must count the refusal against the refused message
 * and park it, so the messages around it flow again; before the fix the NotSent entry in front of it
 * was taken for "stopped before sending" (poller) or "retry later" (relay), the refusal was never
 * counted, and the aggregate (poller) or the shard (relay) stayed blocked with nothing parked.
 */
import { CreateBucketCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { s3ClaimStore } from '../lambdas/claim-check/s3-claims';
import type { Message } from '../lambdas/core';
import {
  createPollingPublisher,
  createStreamRelay,
  createUnitOfWork,
  FailureParking,
} from '../lambdas/outbox';
import { createProducer } from '../lambdas/producer';
import { uniqueName } from './support/emulators';
import {
  createOutboxTable,
  createQueue,
  drain,
  orderEvent,
  writeOutboxItems,
} from './support/outbox-fixtures';
import { injectFaults } from './support/sdk-faults';
import { StreamTail, streamEvent } from './support/stream-event';

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
const keyAttributes = { partitionKey: 'pk', sortKey: 'sk' };
const LIMIT = 262_144;

const accessDenied = () =>
  new S3ServiceException({
    name: 'AccessDenied',
    $fault: 'client',
    $metadata: { httpStatusCode: 403 },
    message: 'User is not authorized to perform: s3:PutObject',
  });

/** An S3 client whose every PutObject is refused with AccessDenied. */
function refusingS3(): S3Client {
  const client = new S3Client({});
  injectFaults(client, { commands: ['PutObjectCommand'], times: 1_000, error: accessDenied });
  return client;
}

/** A queue channel with a 256 KiB limit and a claim location, as the constructs set them. */
async function claimCheckQueue(name: string): Promise<{ url: string; bucket: string }> {
  const url = await createQueue(name.toLowerCase());
  const bucket = uniqueName('claims');
  await new S3Client({}).send(new CreateBucketCommand({ Bucket: bucket }));
  const variable = `SWITCHYARD_CHANNEL_${name}`;
  Object.assign(process.env, {
    [variable]: url,
    [`${variable}_MAX_MESSAGE_BYTES`]: String(LIMIT),
    [`${variable}_CLAIM_CHECK_BUCKET`]: bucket,
    [`${variable}_CLAIM_CHECK_PREFIX`]: `${name.toLowerCase()}/`,
  });
  return { url, bucket };
}

const large = (orderId: string, step: number): Message =>
  orderEvent(orderId, step, { blob: 'x'.repeat(300_000) });

describe('a claim refused for good behind another message of the dispatch', () => {
  test('poller: the refused message is parked with its reason; the one before it and the one after it go out', async () => {
    const table = await createOutboxTable();
    const { url } = await claimCheckQueue('REVIEW_POLLER_CLAIMS');
    const failures = await createQueue('review-poller-claim-failures');
    const messages = [orderEvent('o-1', 1), large('o-1', 2), orderEvent('o-1', 3)];
    await writeOutboxItems(table, 'o-1', messages, url);
    const poller = createPollingPublisher({
      producer: createProducer({ maxAttempts: 1, claimStore: s3ClaimStore(refusingS3()) }),
      table,
      keyAttributes,
      logger: quiet,
      failureQueueUrl: failures,
      maxAttempts: 1,
    });
    const outcomes = [];
    for (let i = 0; i < 3; i++) outcomes.push(await poller.poll());
    expect(outcomes.reduce((sum, o) => sum + o.parked, 0)).toBe(1);
    expect((await drain(url, 2)).map((m) => m.id)).toEqual([messages[0]!.id, messages[2]!.id]);
    const [parked] = await drain(failures, 1);
    const body = parked!.body as { switchyard: { reason: string; messages: { id: string }[] } };
    expect(body.switchyard.messages.map((m) => m.id)).toEqual([messages[1]!.id]);
    expect(body.switchyard.reason).toMatch(/ClaimCheck\.AccessDenied/);
  });

  test('relay: the record of the refused message is parked; the record before it does not block it forever', async () => {
    const table = await createOutboxTable();
    const { url } = await claimCheckQueue('REVIEW_RELAY_CLAIMS');
    const failures = await createQueue('review-relay-claim-failures');
    const small = orderEvent('o-2', 1);
    const big = large('o-3', 1);
    // Two aggregates, two records, one destination: one request carries both messages.
    const tail = await new StreamTail(table).open();
    for (const [aggregateId, message] of [
      ['o-2', small],
      ['o-3', big],
    ] as const) {
      const uow = createUnitOfWork({ table, mode: 'in-item' });
      uow.save({ aggregateId, item: { pk: `ORDER#${aggregateId}`, sk: 'ORDER' } });
      uow.publish(message, { type: 'point-to-point', queueUrl: url });
      await uow.commit();
    }
    const records = await tail.read();
    expect(records).toHaveLength(2);
    const relay = createStreamRelay({
      producer: createProducer({ maxAttempts: 1, claimStore: s3ClaimStore(refusingS3()) }),
      parking: new FailureParking({
        queueUrl: failures,
        table,
        keyAttributes,
        maxAttempts: 2,
        sqs: new SQSClient({}),
      }),
      logger: quiet,
    });
    // The event source mapping retries from the checkpoint the relay returns, a few times.
    let event = streamEvent(records);
    let parkedRecords = 0;
    for (let attempt = 0; attempt < 4 && event.Records.length > 0; attempt++) {
      const out = await relay(event);
      parkedRecords += out.parked.length;
      const checkpoint = out.batchItemFailures[0]?.itemIdentifier;
      event = streamEvent(
        checkpoint === undefined
          ? []
          : records.slice(records.findIndex((r) => r.dynamodb?.SequenceNumber === checkpoint)),
      );
    }
    expect(parkedRecords).toBe(1);
    expect((await drain(url, 1)).map((m) => m.id)).toEqual([small.id]);
    const [parked] = await drain(failures, 1);
    expect(JSON.stringify(parked!.body)).toContain(big.id);
  });
});
