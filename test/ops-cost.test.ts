/**
 * `switchyard cost` on the example app: the model's figures against a hand calculation written out
 * below, and the README's table against the command's output.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { formatCostReport } from '../cli/ops/cost/command';
import { costReport } from '../cli/ops/cost/model';
import { readTopology } from '../cli/ops/cost/topology';
import { FoodDeliveryStack } from '../example/food-delivery-stack';

// Bundling is not what is costed: skip esbuild.
const stack = new FoodDeliveryStack(
  new App({ context: { 'aws:cdk:bundling-stacks': [] } }),
  'SwitchyardFoodDelivery',
);
const topology = readTopology([Template.fromStack(stack).toJSON()]);
const report = costReport(topology, { messages: 1e6, payloadBytes: 1024 });
const lineOf = (name: string) => report.lines.find((l) => l.name === name)!;
const cents = (n: number) => Math.round(n * 10_000) / 10_000;

describe('switchyard cost', () => {
  test('reads the channels, consumers and the outbox of the example', () => {
    expect(report.lines.map((l) => `${l.kind} ${l.name}`)).toEqual([
      'channel OrderEvents',
      'channel KitchenEvents',
      'channel DeliveryQuoteRequests',
      'channel KitchenCommands',
      'channel OrderReplies',
      'channel DeliveryCourierDispatch',
      'channel DeliveryQuotesReplyChannel',
      'channel DeliveryKitchenQueries',
      'channel DeliveryOrderApiReplies',
      'consumer kitchen',
      'consumer order-replies',
      'consumer order-history',
      'consumer notifications',
      'consumer delivery-quotes',
      'consumer courier-swift',
      'consumer courier-steady',
      'consumer courier-slow',
      'consumer courier-dispatch',
      'consumer kitchen-eta',
      'consumer order-api-replies',
      'outbox OrderOutboxRelay',
      'outbox DeliveryQuotesOutboxRelay',
    ]);
  });

  test('matches a hand calculation for 1,000,000 messages of 1 KiB', () => {
    const gb = (1e6 * 1024) / 1024 ** 3; // 0.9537 GB of payload
    // order-events, FIFO topic, one subscriber: 100,000 PublishBatch requests of 10 (10 KiB < 64 KiB)
    // at $0.30/M, $0.017/GB published, one delivery per message at $0.01/M + $0.001/GB.
    expect(cents(lineOf('OrderEvents').total)).toBe(cents(0.1 * 0.3 + gb * 0.017 + (0.01 + gb * 0.001)));
    // kitchen-commands, standard queue: 100,000 SendMessageBatch requests at $0.40/M = $0.04;
    // one by one (Powertools way) 1,000,000 requests = $0.40.
    expect(cents(lineOf('KitchenCommands').total)).toBe(0.04);
    expect(cents(lineOf('KitchenCommands').baseline)).toBe(0.4);
    // kitchen consumer, batches of 10: 100,000 receives + 100,000 deletes at $0.40/M = $0.08;
    // Lambda 100,000 invocations ($0.02) x 0.5 GB x 0.12 s = 6,000 GB-s x $0.0000133334 = $0.08;
    // transactional dedup: 4 WCU per message = 4,000,000 x $0.625/M = $2.50.
    expect(cents(lineOf('kitchen').services.sqs)).toBe(0.08);
    expect(cents(lineOf('kitchen').services.lambda)).toBe(cents(0.02 + 6000 * 0.0000133334));
    expect(cents(lineOf('kitchen').services.dynamodb)).toBe(2.5);
    // Powertools way: 1,000,000 receives + deletes ($0.80), 1,000,000 invocations ($0.20) x 0.5 GB x 0.03 s
    // (15,000 GB-s = $0.20), 3 WCU per message ($1.875).
    expect(cents(lineOf('kitchen').baseline)).toBe(cents(0.8 + 0.2 + 15_000 * 0.0000133334 + 1.875));
    // outbox, in-item: one write of a 512-byte item + 1 KiB message = 2 WCU = $1.25; relay batches of 100:
    // 10,000 invocations ($0.002) x 0.5 GB x 1.02 s = 5,100 GB-s ($0.068).
    expect(cents(lineOf('OrderOutboxRelay').total)).toBe(cents(1.25 + 0.002 + 5100 * 0.0000133334));
    // Fixed: $0.10 per alarm (21 in the example today) + $1 per KMS key (3).
    expect(topology.alarms).toBeGreaterThan(0);
    expect(cents(report.fixedMonthly)).toBe(cents(topology.alarms * 0.1 + topology.keys * 1));
    expect(report.total).toBeLessThan(report.baselineTotal);
  });

  test("the README's table is the command's output for the example", () => {
    const readme = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');
    const table = formatCostReport(report).slice(2, 2 + report.lines.length + 2);
    for (const row of table) expect(readme).toContain(row);
  });
});
