/**
 * Issue 9, "Several stream-backed tables": two stacks, each with its own TransactionalOutbox (a
 * streamed table and a log-tailing relay), in one local cloud. DynamoDB Local numbers stream
 * records with one counter for all tables, so the relay whose stream was empty at start used to
 * read nothing once the other table was written. Both relays must publish, and the report must
 * carry no event source error.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { App, CfnOutput, Stack } from 'aws-cdk-lib';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { z } from 'zod';
import { defineEvent } from '../lambdas';
import { createUnitOfWork } from '../lambdas/outbox';
import { PublishSubscribeChannel, TransactionalOutbox } from '../lib';
import { LocalCloud } from '../local/cloud';
import { collectFlowReport, formatFlowReport } from '../local/flow-report';
import { dynamodbEndpoint, snsSqsEndpoint, uniqueName } from './support/emulators';

const Happened = defineEvent({
  type: 'Happened',
  schema: z.object({ id: z.string() }),
  partitionKey: (p) => p.id,
});

/** A service stack: its outbox table, relay, channel and one queue subscribed to the channel. */
function serviceStack(app: App, name: string): void {
  const stack = new Stack(app, name);
  const channel = new PublishSubscribeChannel(stack, 'Events', {
    channelName: `${name.toLowerCase()}-events`,
    messages: [Happened],
  });
  const outbox = new TransactionalOutbox(stack, 'Outbox', { channels: [channel] });
  const inbox = new sqs.Queue(stack, 'Inbox');
  (channel.topic as sns.Topic).addSubscription(
    new subscriptions.SqsSubscription(inbox, { rawMessageDelivery: true }),
  );
  new CfnOutput(stack, 'OutboxTable', { value: outbox.table.tableName });
  new CfnOutput(stack, 'InboxUrl', { value: inbox.queueUrl });
  new CfnOutput(stack, 'TopicArn', { value: channel.topic.topicArn });
}

describe('two stacks, each with a transactional outbox', () => {
  const first = uniqueName('OutboxA');
  const second = uniqueName('OutboxB');
  let cloud: LocalCloud;
  const eventSourceLines: string[] = [];

  beforeAll(async () => {
    const outdir = mkdtempSync(join(tmpdir(), 'switchyard-two-outboxes-'));
    const app = new App({ outdir });
    serviceStack(app, first);
    serviceStack(app, second);
    app.synth();
    cloud = await LocalCloud.start({
      assemblyDir: outdir,
      endpoints: { snsSqs: snsSqsEndpoint(), dynamodb: dynamodbEndpoint() },
      eventSourceLog: (line) => eventSourceLines.push(line),
    });
  }, 240_000);

  afterAll(async () => {
    await cloud?.stop();
  });

  test('both relays publish, whichever table is written first', async () => {
    const stackOutputs = (stack: string) => cloud.stacks.find((s) => s.stackName === stack)?.outputs ?? {};
    const client = new DynamoDBClient({});
    const commit = async (stack: string, id: string) => {
      const outputs = stackOutputs(stack);
      const unitOfWork = createUnitOfWork({ table: String(outputs.OutboxTable), client });
      unitOfWork.save({ aggregateId: id, item: { pk: `THING#${id}`, sk: 'THING' }, expectedSequence: 0 });
      unitOfWork.publish(Happened.create({ id }), {
        type: 'publish-subscribe',
        topicArn: String(outputs.TopicArn),
      });
      await unitOfWork.commit();
    };
    // Let both relays take their iterators on empty streams, then write the SECOND table first.
    await new Promise((r) => setTimeout(r, 1500));
    await commit(second, 'b-1');
    await new Promise((r) => setTimeout(r, 500));
    await commit(first, 'a-1');
    await commit(second, 'b-2');

    const sqsClient = new SQSClient({ useQueueUrlAsEndpoint: false });
    const received = async (stack: string, expected: number) => {
      const bodies: string[] = [];
      const deadline = Date.now() + 30_000;
      while (bodies.length < expected && Date.now() < deadline) {
        const { Messages = [] } = await sqsClient.send(
          new ReceiveMessageCommand({
            QueueUrl: String(stackOutputs(stack).InboxUrl),
            MaxNumberOfMessages: 10,
            WaitTimeSeconds: 1,
          }),
        );
        bodies.push(...Messages.map((m) => String(JSON.parse(m.Body ?? '{}').id)));
      }
      return bodies.sort();
    };
    expect(await received(first, 1)).toEqual(['a-1']);
    expect(await received(second, 2)).toEqual(['b-1', 'b-2']);

    // The report shows each relay read its records and met no event source error.
    const report = await collectFlowReport(cloud);
    const relays = report.consumers.filter((c) => c.stats.recordsRead !== undefined);
    expect(relays).toHaveLength(2);
    for (const relay of relays) expect(relay.errors).toEqual([]);
    // One commit writes the aggregate and its outbox item: 2 records in A's stream, 4 in B's.
    expect(relays.map((r) => r.stats.recordsRead).sort()).toEqual([2, 4]);
    expect(formatFlowReport(report).join('\n')).not.toMatch(/event source error/);
    // The renewal DynamoDB Local forced reached the event source log (`--verbose` prints it).
    expect(
      eventSourceLines.some((line) => /TrimmedDataAccessException on .*: iterator renewed/.test(line)),
    ).toBe(true);
    sqsClient.destroy();
    client.destroy();
  }, 120_000);
});
