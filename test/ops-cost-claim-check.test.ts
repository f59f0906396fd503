/**
 * `switchyard cost` on a claim-check channel: payloads over the channel's limit cost an S3 PUT, a GET
 * per receiving queue and their storage until the lifecycle expires them, and the channel carries
 * the small envelope instead; payloads within the limit cost no S3 at all. Checked by hand below.
 */
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { formatCostReport } from '../cli/ops/cost/command';
import { costReport } from '../cli/ops/cost/model';
import { readTopology } from '../cli/ops/cost/topology';
import { ClaimCheckStore, MessageConsumer, PublishSubscribeChannel } from '../lib';

const ENTRY = path.join(__dirname, '..', 'example', 'functions', 'notifications.ts');
const stack = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Costed');
const claims = new ClaimCheckStore(stack, 'Claims');
const receipts = new PublishSubscribeChannel(stack, 'Receipts', {
  channelName: 'receipts',
  claimCheck: claims,
});
receipts.bindProducer(
  new lambda.Function(stack, 'Producer', {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => {}'),
  }),
);
for (const name of ['kitchen', 'audit'])
  new MessageConsumer(stack, name, {
    consumerName: name,
    entry: ENTRY,
    messageTypes: ['ReceiptIssued'],
    subscribeTo: [receipts],
  });
const topology = readTopology([Template.fromStack(stack).toJSON()]);
const cents = (n: number) => Math.round(n * 10_000) / 10_000;

test('the topology knows the claim-check channel, its limit and its claims lifetime', () => {
  expect(topology.channels).toEqual([
    {
      id: 'Receipts',
      kind: 'topic',
      fifo: false,
      subscribers: 2,
      claimCheck: { maxMessageBytes: 262_144, expirationDays: 19 },
    },
  ]);
});

test('300 KB payloads: S3 PUT, two GETs and 19 days of storage per message; SNS carries envelopes', () => {
  const report = costReport(topology, { messages: 1e6, payloadBytes: 300_000 });
  const channel = report.lines.find((l) => l.name === 'Receipts')!;
  // 1M PUT at $0.005/1,000 + 2M GET at $0.0004/1,000 + 300 GB-ish for 19 days (4-day queue + 14-day DLQ + 1) at $0.023.
  const storage = ((1e6 * 300_000) / 1024 ** 3) * 0.023 * (19 / 30);
  expect(cents(channel.services.s3)).toBe(cents(5 + 0.8 + storage));
  // 100,000 PublishBatch requests of 10 envelopes (3 KB: one 64 KiB chunk) at $0.50 per million.
  expect(cents(channel.services.sns)).toBe(0.05);
  expect(formatCostReport(report)[2]).toContain(' S3 ');
});

test('1 KB payloads stay on the channel: no S3 cost and no S3 column', () => {
  const report = costReport(topology, { messages: 1e6, payloadBytes: 1024 });
  expect(report.lines.every((l) => l.services.s3 === 0)).toBe(true);
  expect(formatCostReport(report)[2]).not.toContain(' S3 ');
});
