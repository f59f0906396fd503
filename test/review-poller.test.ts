/**
 * Review of the faults-core merge (issue 8) at the polling publisher (DynamoDB Local, SNS/SQS
 * emulator). Each test fails on 88e90c1.
 *
 * 1. Duplicates on standard channels: when one row of a publish request fails, the rows after it in
 *    the same request were published (a standard channel has no groups, nothing is held back), but
 *    publishAggregate() returns at the failed row without marking them. Every later poll publishes
 *    them again, for as long as the failed row keeps failing (forever under a retryable failure,
 *    which is never parked).
 * 2. A short SNS throttle reported on a PublishBatch entry (wire code KMSThrottling, SenderFault)
 *    is counted as a permanent failure and the message is parked: never delivered, although the
 *    throttle was over by the next poll. The README says the poller never parks for a throttle.
 * 3. A claim whose PutItem was applied and whose response was lost: the SDK's retry meets the
 *    poll's own lease, claim() reports "held by another poller", and the aggregate waits a whole
 *    lease (30 s by default) with nobody publishing it.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { createPollingPublisher } from '../lambdas/outbox';
import { formatSequence } from '../lambdas/outbox/layout';
import { createProducer } from '../lambdas/producer';
import { uniqueName } from './support/emulators';
import {
  createOutboxTable,
  createQueue,
  drain,
  orderEvent,
  writeOutboxItems as writeOutbox,
} from './support/outbox-fixtures';
import { connectionReset, failEntries, injectFaults } from './support/sdk-faults';

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
const keyAttributes = { partitionKey: 'pk', sortKey: 'sk' };
const doc = DynamoDBDocumentClient.from(new DynamoDBClient({}));

describe('review: poller on a standard channel, one row of a request failing', () => {
  it('the rows after it that went out are not published again by the next polls', async () => {
    const table = await createOutboxTable();
    const queueUrl = await createQueue('review-poller-dup');
    const messages = [orderEvent('d', 1), orderEvent('d', 2), orderEvent('d', 3)];
    await writeOutbox(table, 'd', messages, queueUrl);
    // Message 2's entry fails (InternalError, retryable) in the first two requests, then passes.
    const sqs = new SQSClient({ useQueueUrlAsEndpoint: false });
    failEntries(sqs, new Map([[messages[1]!.id, { code: 'InternalError', senderFault: false, times: 2 }]]));
    const poller = createPollingPublisher({
      producer: createProducer({ sqs, maxAttempts: 1 }),
      table,
      keyAttributes,
      logger: quiet,
    });
    await poller.poll();
    await poller.poll();
    await poller.poll();
    const received = (await drain(queueUrl, 10)).map((m) => m.id);
    // Each message once: message 3 went out in every poll (3 copies).
    expect(received.filter((id) => id === messages[2]!.id)).toHaveLength(1);
    expect(received.sort()).toEqual(messages.map((m) => m.id).sort());
  });
});

describe('review: poller and a short SNS throttle reported on a batch entry', () => {
  it('KMSThrottling (SenderFault) in 3 polls: not parked, delivered on the 4th', async () => {
    const table = await createOutboxTable();
    const sns = new SNSClient({});
    const topicArn = (await sns.send(new CreateTopicCommand({ Name: uniqueName('review-kms') }))).TopicArn!;
    const queueUrl = await createQueue('review-kms-sub');
    const failures = await createQueue('review-kms-failures');
    const { Attributes } = await new SQSClient({}).send(
      new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }),
    );
    await sns.send(
      new SubscribeCommand({
        TopicArn: topicArn,
        Protocol: 'sqs',
        Endpoint: Attributes!.QueueArn,
        Attributes: { RawMessageDelivery: 'true' },
      }),
    );
    const message = orderEvent('kms', 1);
    await writeOutbox(table, 'kms', [message], topicArn);
    const faulty = new SNSClient({});
    failEntries(faulty, new Map([[message.id, { code: 'KMSThrottling', senderFault: true, times: 3 }]]));
    const poller = createPollingPublisher({
      producer: createProducer({ sns: faulty, maxAttempts: 1 }),
      table,
      keyAttributes,
      logger: quiet,
      failureQueueUrl: failures,
      maxAttempts: 3,
    });
    for (let i = 0; i < 4; i += 1) await poller.poll();
    expect(await drain(failures, 1)).toEqual([]);
    expect((await drain(queueUrl, 1)).map((m) => m.id)).toEqual([message.id]);
  });
});

describe('review: poller claim whose response was lost', () => {
  it('the aggregate is published in the same poll, not left leased to nobody', async () => {
    const table = await createOutboxTable();
    const queueUrl = await createQueue('review-claim-lost');
    const message = orderEvent('c', 1);
    await writeOutbox(table, 'c', [message], queueUrl);
    const client = new DynamoDBClient({});
    const faults = injectFaults(client, {
      commands: ['PutCommand', 'PutItemCommand'],
      times: 1,
      when: 'after',
      error: connectionReset,
    });
    const poller = createPollingPublisher({
      producer: createProducer(),
      table,
      keyAttributes,
      logger: quiet,
      client,
    });
    const first = await poller.poll();
    const second = await poller.poll();
    expect(faults.injected).toBe(1);
    // Both polls report the aggregate as held by another poller; nothing is published for a lease.
    expect({ first: first.leased, second: second.leased }).toEqual({ first: 0, second: 0 });
    expect((await drain(queueUrl, 1)).map((m) => m.id)).toEqual([message.id]);
  });
});

describe('review: a poll that lost its lease records no failure', () => {
  it('another poller took the aggregate over during the request: attempts and reason stay untouched', async () => {
    const table = await createOutboxTable();
    const queueUrl = await createQueue('review-stale-failure');
    const message = orderEvent('stale', 1);
    await writeOutbox(table, 'stale', [message], queueUrl);
    // The request fails (permanent, would count toward parking) and meanwhile a second poller's
    // lease replaces this poll's one, as when the request outlasted the lease.
    const inner = createProducer();
    const producer = {
      ...inner,
      dispatch: async () => {
        await doc.send(
          new PutCommand({
            TableName: table,
            Item: {
              pk: 'OUTBOX-LEASE#stale',
              sk: 'LEASE',
              owner: 'other-poller',
              leaseUntil: Date.now() + 60_000,
            },
          }),
        );
        return {
          successful: [],
          failed: [{ id: message.id, code: 'InvalidParameter', message: 'injected', senderFault: true }],
          requests: 1,
        };
      },
    };
    const failures = await createQueue('review-stale-failure-parked');
    const poller = createPollingPublisher({
      producer,
      table,
      keyAttributes,
      logger: quiet,
      failureQueueUrl: failures,
      maxAttempts: 1,
    });
    const outcome = await poller.poll();
    expect(outcome.parked).toBe(0);
    const row = (
      await doc.send(
        new GetCommand({
          TableName: table,
          Key: { pk: 'OUTBOX#stale', sk: formatSequence(1) },
          ConsistentRead: true,
        }),
      )
    ).Item;
    expect(row?.attempts).toBeUndefined();
    expect(row?.failureReason).toBeUndefined();
    expect(row?.unpublished).toBeDefined();
    expect(await drain(failures, 1)).toEqual([]);
  });
});
