/**
 * Local cloud end to end: the food-delivery example deployed into the emulators, N orders through
 * place-order -> kitchen -> order-replies -> order-history / notifications; compared with the raw
 * emulator SQS round trip (send + receive + delete, no Switchyard code) for the same number of
 * messages, measured in the same run.
 */
import { SQSClient } from '@aws-sdk/client-sqs';
import { LocalCloud } from '../../local/cloud';
import { collectFlowReport } from '../../local/flow-report';
import { summarize } from '../../local/stats';
import { runFoodDeliveryWorkload } from '../../local/workload/food-delivery';
import { rawSqsRoundTrip } from '../../local/workload/raw-sqs-round-trip';
import type { BenchSuite } from '../suite';

const ORDERS = Number(process.env.BENCH_E2E_ORDERS ?? 500);

export const localE2eSuite: BenchSuite = {
  name: 'local-e2e',
  description: `Example app on the local cloud (${ORDERS} orders) vs the raw emulator SQS round trip`,
  async run(context) {
    const endpoints = { snsSqs: context.snsSqsEndpoint, dynamodb: context.dynamodbEndpoint };
    context.log('local-e2e: synthesizing and deploying the example ...');
    const deployStarted = Date.now();
    const cloud = await LocalCloud.start({ projectDir: context.root, endpoints });
    const deployMs = Date.now() - deployStarted;
    let e2e: {
      orders: number;
      completed: number;
      deliveries: number;
      durationMs: number;
      ordersPerSecond: number;
      messagesPerSecond: number;
      latencyMs: ReturnType<typeof summarize>;
      problems: number;
    };
    try {
      context.log(`local-e2e: placing ${ORDERS} orders ...`);
      const result = await runFoodDeliveryWorkload(cloud, { orders: ORDERS });
      const flow = await collectFlowReport(cloud);
      // Deliveries: distinct messages each consumer received (a message fanned out to two consumers counts twice).
      // SQS deliveries only: the outbox relay reads the table stream, which is not a message delivery.
      const deliveries = flow.consumers.reduce((sum, c) => sum + (c.stats.succeeded ?? 0), 0);
      const seconds = result.durationMs / 1000;
      e2e = {
        orders: ORDERS,
        completed: result.ordersCompleted,
        deliveries,
        durationMs: result.durationMs,
        ordersPerSecond: Math.round((result.ordersCompleted / seconds) * 10) / 10,
        messagesPerSecond: Math.round((deliveries / seconds) * 10) / 10,
        latencyMs: summarize(result.latenciesMs),
        problems:
          result.incomplete.length +
          result.invariantFailures.length +
          result.placementErrors.length +
          flow.deadLetters.reduce((n, d) => n + d.count, 0),
      };
    } finally {
      await cloud.stop();
    }
    context.log(`local-e2e: raw SQS round trip of ${e2e.deliveries} messages ...`);
    const sqs = new SQSClient({
      endpoint: context.snsSqsEndpoint,
      region: process.env.AWS_REGION ?? 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    const raw = await rawSqsRoundTrip(sqs, Math.max(1, e2e.deliveries));
    sqs.destroy();
    const ratio = Math.round((e2e.messagesPerSecond / raw.messagesPerSecond) * 1000) / 1000;
    return {
      figures: { deployMs, e2e, raw, e2eToRawThroughputRatio: ratio },
      tables: [
        {
          title: 'Local cloud end to end vs raw emulator round trip',
          columns: ['case', 'messages', 'messages/s', 'p50 ms', 'p95 ms', 'p99 ms'],
          rows: [
            [
              `example app, ${e2e.completed}/${e2e.orders} orders (${e2e.ordersPerSecond} orders/s)`,
              e2e.deliveries,
              e2e.messagesPerSecond,
              e2e.latencyMs.p50,
              e2e.latencyMs.p95,
              e2e.latencyMs.p99,
            ],
            [
              'raw SQS send+receive+delete',
              raw.messages,
              raw.messagesPerSecond,
              raw.latency.p50,
              raw.latency.p95,
              raw.latency.p99,
            ],
            ['ratio (e2e / raw throughput)', '', ratio, '', '', ''],
          ],
          notes:
            'Example: messages = deliveries to consumers (5 per order: CreateTicket, TicketCreated, OrderCreated, ' +
            'OrderApproved, TicketAccepted); latency = one order, place-order called -> order-history ' +
            'handled its OrderApproved (4 hops). Raw: one SQS message, send start -> batch delete done, 20 senders, 4 pollers of 10. ' +
            `Deploy (synth + create resources) took ${deployMs} ms, not included.`,
        },
      ],
    };
  },
};

export default localE2eSuite;
