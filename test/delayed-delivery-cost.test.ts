/** The cost of delayed delivery through EventBridge Scheduler, checked against a hand calculation. */
import { scheduledDeliveryCost } from '../cli/ops/cost/model';
import { PRICES } from '../cli/ops/cost/prices';

const cents = (usd: number) => Math.round(usd * 100);

describe('scheduledDeliveryCost', () => {
  test('1 million 1 KiB messages to a standard queue: $1.00 of Scheduler + $0.40 of SQS', () => {
    const cost = scheduledDeliveryCost(1_000_000, 1024, 'queue');
    expect(PRICES.schedulerInvocations.usd).toBe(1);
    expect(cents(cost.scheduler)).toBe(100);
    expect(cents(cost.sqs)).toBe(40);
    expect(cents(cost.total)).toBe(140);
  });

  test('a topic pays SNS publishes instead; a 100 KiB payload is two 64 KiB chunks', () => {
    const topic = scheduledDeliveryCost(1_000_000, 1024, 'topic');
    expect([cents(topic.sns), cents(topic.sqs), cents(topic.total)]).toEqual([50, 0, 150]);
    const large = scheduledDeliveryCost(1_000_000, 100 * 1024, 'fifo-queue');
    expect(cents(large.sqs)).toBe(100); // 2 chunks x $0.50 per million FIFO requests
  });
});
