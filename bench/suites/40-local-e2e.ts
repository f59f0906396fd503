/**
 * Local cloud end to end (issue 13): the food-delivery example deployed into the emulators,
 * against a fair baseline, a hand-written script making the same AWS calls per order against the
 * same emulators without function host, event source emulation or IAM gateway
 * (local/workload/baseline.ts). In one run:
 *
 * - unloaded latency: one order at a time, place-order called -> history view APPROVED;
 * - capacity: BENCH_E2E_ORDERS orders closed-loop (20 in flight), orders/s and deliveries/s;
 * - loaded latency: open-loop arrivals at 80% of that capacity (latency from each scheduled arrival);
 * - the baseline's throughput for the same orders; baselineRatio = e2e / baseline orders/s;
 * - CPU ms per delivered message of the local cloud process, DynamoDB Local (JVM) and the SNS/SQS
 *   emulator (a child process here, so its CPU is its own), and how busy the machine was.
 *
 * The suite starts its own emulators (not the shared ones) so their CPU can be read per process.
 */
import { Agent } from 'node:http';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { LocalCloud } from '../../local/cloud';
import { startDynamoDbLocal } from '../../local/dynamodb-local';
import { collectFlowReport } from '../../local/flow-report';
import {
  describeMachineLoad,
  type MachineLoad,
  machineLoadSince,
  processCpuMs,
  sampleMachine,
} from '../../local/machine-load';
import { summarize } from '../../local/stats';
import { runBaseline } from '../../local/workload/baseline';
import { runFoodDeliveryWorkload } from '../../local/workload/food-delivery';
import {
  type LatencyProbeResult,
  measureOpenLoopLatency,
  measureUnloadedLatency,
  type OpenLoopResult,
} from '../../local/workload/latency-probe';
import type { BenchSuite } from '../suite';
import { spawnSnsSqs } from '../support/sns-sqs-process';

const ORDERS = Number(process.env.BENCH_E2E_ORDERS ?? 500);
const UNLOADED_ORDERS = Number(process.env.BENCH_E2E_UNLOADED_ORDERS ?? 40);
/** Seconds of open-loop arrivals in the loaded phase. */
const LOADED_SECONDS = Number(process.env.BENCH_E2E_LOADED_SECONDS ?? 15);

interface CpuPerMessage {
  /** The process running the local cloud (or the baseline script): all its threads. */
  readonly process: number;
  readonly dynamodbLocal: number;
  readonly snsSqs: number;
  /** Both emulators together. */
  readonly emulators: number;
}

interface E2eFigures {
  readonly orders: number;
  readonly completed: number;
  readonly deliveries: number;
  readonly durationMs: number;
  readonly ordersPerSecond: number;
  readonly messagesPerSecond: number;
  readonly backlogLatencyMs: ReturnType<typeof summarize>;
  readonly cpuMsPerMessage: CpuPerMessage;
  readonly problems: number;
}

function perMessage(
  before: { process: number; dynamodb: number; snsSqs: number },
  after: { process: number; dynamodb: number; snsSqs: number },
  messages: number,
): CpuPerMessage {
  const per = (a: number, b: number) => Math.round(((b - a) / Math.max(1, messages)) * 100) / 100;
  const dynamodbLocal = per(before.dynamodb, after.dynamodb);
  const snsSqs = per(before.snsSqs, after.snsSqs);
  return {
    process: per(before.process, after.process),
    dynamodbLocal,
    snsSqs,
    emulators: Math.round((dynamodbLocal + snsSqs) * 100) / 100,
  };
}

export const localE2eSuite: BenchSuite = {
  name: 'local-e2e',
  description: `Example app on the local cloud (${ORDERS} orders) vs a hand-written baseline making the same AWS calls`,
  async run(context) {
    const [snsSqs, dynamodb] = await Promise.all([spawnSnsSqs(), startDynamoDbLocal()]);
    const children = [snsSqs.pid, ...(dynamodb.pid ? [dynamodb.pid] : [])];
    const cpu = () => {
      const usage = process.cpuUsage();
      return {
        process: (usage.user + usage.system) / 1000,
        dynamodb: dynamodb.pid ? (processCpuMs(dynamodb.pid) ?? 0) : 0,
        snsSqs: processCpuMs(snsSqs.pid) ?? 0,
      };
    };
    const endpoints = { snsSqs: snsSqs.endpoint, dynamodb: dynamodb.endpoint };
    try {
      context.log('local-e2e: synthesizing and deploying the example ...');
      const deployStarted = Date.now();
      const cloud = await LocalCloud.start({ projectDir: context.root, endpoints });
      const deployMs = Date.now() - deployStarted;
      let e2e: E2eFigures;
      let unloaded: LatencyProbeResult;
      let loaded: OpenLoopResult;
      let init: { instancesStarted: number; initTimeouts: number } = { instancesStarted: 0, initTimeouts: 0 };
      const machine: Record<string, MachineLoad> = {};
      try {
        // Warm-up: the first orders start the worker threads; their cold starts are not latency.
        await measureUnloadedLatency(cloud, { orders: 5, firstIndex: 100_000 });
        context.log(`local-e2e: unloaded latency, ${UNLOADED_ORDERS} orders one at a time ...`);
        let machineBefore = sampleMachine(children);
        unloaded = await measureUnloadedLatency(cloud, { orders: UNLOADED_ORDERS, firstIndex: 200_000 });
        machine.unloaded = machineLoadSince(machineBefore, sampleMachine(children));

        context.log(`local-e2e: capacity, ${ORDERS} orders closed-loop ...`);
        const flowBefore = await collectFlowReport(cloud);
        const deliveredBefore = flowBefore.consumers.reduce((sum, c) => sum + (c.stats.succeeded ?? 0), 0);
        machineBefore = sampleMachine(children);
        const cpuBefore = cpu();
        const result = await runFoodDeliveryWorkload(cloud, { orders: ORDERS });
        const cpuAfter = cpu();
        machine.capacity = machineLoadSince(machineBefore, sampleMachine(children));
        const flow = await collectFlowReport(cloud);
        // Deliveries: distinct messages each consumer received (five per order: CreateTicket,
        // TicketCreated, OrderCreated, OrderApproved, TicketAccepted, plus the Delivery part's own).
        const deliveries =
          flow.consumers.reduce((sum, c) => sum + (c.stats.succeeded ?? 0), 0) - deliveredBefore;
        const seconds = result.durationMs / 1000;
        e2e = {
          orders: ORDERS,
          completed: result.ordersCompleted,
          deliveries,
          durationMs: result.durationMs,
          ordersPerSecond: Math.round((result.ordersCompleted / seconds) * 10) / 10,
          messagesPerSecond: Math.round((deliveries / seconds) * 10) / 10,
          // Closed loop: queueing behind the driver's own backlog, not the backbone's latency.
          backlogLatencyMs: summarize(result.latenciesMs),
          cpuMsPerMessage: perMessage(cpuBefore, cpuAfter, deliveries),
          problems:
            result.incomplete.length +
            result.invariantFailures.length +
            result.placementErrors.length +
            flow.deadLetters.reduce((n, d) => n + d.count, 0),
        };

        const rate = 0.8 * e2e.ordersPerSecond;
        const loadedOrders = Math.max(20, Math.round(rate * LOADED_SECONDS));
        context.log(
          `local-e2e: loaded latency, ${loadedOrders} orders open-loop at ${rate.toFixed(1)}/s ...`,
        );
        machineBefore = sampleMachine(children);
        loaded = await measureOpenLoopLatency(cloud, {
          ordersPerSecond: rate,
          orders: loadedOrders,
          firstIndex: 300_000,
        });
        machine.loaded = machineLoadSince(machineBefore, sampleMachine(children));
        // Issue 13 item 5: a busy machine must not fail the run through an init timeout. An init
        // past 10 s is retried within its invocation (as Lambda does); count them anyway.
        init = cloud.initStats();
      } finally {
        await cloud.stop();
      }

      context.log(`local-e2e: baseline, ${ORDERS} orders of hand-written calls ...`);
      // Enough sockets that the baseline never queues inside its own SDK clients (the default is 50).
      const config = {
        region: process.env.AWS_REGION ?? 'us-east-1',
        credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
        requestHandler: { httpAgent: new Agent({ keepAlive: true, maxSockets: 256 }) },
      };
      const clients = {
        dynamodb: new DynamoDBClient({ ...config, endpoint: endpoints.dynamodb }),
        streams: new DynamoDBStreamsClient({ ...config, endpoint: endpoints.dynamodb }),
        sns: new SNSClient({ ...config, endpoint: endpoints.snsSqs }),
        sqs: new SQSClient({ ...config, endpoint: endpoints.snsSqs }),
      };
      const machineBefore = sampleMachine(children);
      const cpuBefore = cpu();
      const baselineRun = await runBaseline(clients, { orders: ORDERS });
      const cpuAfter = cpu();
      machine.baseline = machineLoadSince(machineBefore, sampleMachine(children));
      for (const client of Object.values(clients)) client.destroy();
      const baseline = {
        ...baselineRun,
        cpuMsPerMessage: perMessage(cpuBefore, cpuAfter, baselineRun.deliveries),
      };
      const baselineRatio =
        Math.round((e2e.ordersPerSecond / Math.max(0.001, baseline.ordersPerSecond)) * 1000) / 1000;

      return {
        figures: {
          baselineRatio,
          unloaded: { orders: unloaded.orders, completed: unloaded.completed, latencyMs: unloaded.latencyMs },
          loaded: {
            ordersPerSecond: loaded.ordersPerSecond,
            orders: loaded.orders,
            completed: loaded.completed,
            latencyMs: loaded.latencyMs,
          },
          e2e,
          baseline,
          problems: [...unloaded.problems, ...loaded.problems].slice(0, 10),
          machine,
          functionInstances: init,
          deployMs,
        },
        tables: [
          {
            title: 'Local cloud end to end vs hand-written baseline (same AWS calls, same emulators)',
            columns: [
              'case',
              'orders/s',
              'messages/s',
              'CPU ms/msg process',
              'CPU ms/msg DynamoDB Local',
              'CPU ms/msg SNS/SQS',
              'machine',
            ],
            rows: [
              [
                `example app, ${e2e.completed}/${e2e.orders} orders`,
                e2e.ordersPerSecond,
                e2e.messagesPerSecond,
                e2e.cpuMsPerMessage.process,
                e2e.cpuMsPerMessage.dynamodbLocal,
                e2e.cpuMsPerMessage.snsSqs,
                describeMachineLoad(machine.capacity!),
              ],
              [
                `baseline script, ${baseline.completed}/${baseline.orders} orders`,
                baseline.ordersPerSecond,
                baseline.messagesPerSecond,
                baseline.cpuMsPerMessage.process,
                baseline.cpuMsPerMessage.dynamodbLocal,
                baseline.cpuMsPerMessage.snsSqs,
                describeMachineLoad(machine.baseline),
              ],
              ['ratio (e2e / baseline orders/s)', baselineRatio, '', '', '', '', ''],
            ],
            notes:
              'Both sides: five deliveries per order to consumers. CPU ms per delivered message: the local cloud process ' +
              '(all threads: functions, mappings, IAM gateway, driver) or the baseline script; DynamoDB Local (JVM) and ' +
              'fauxqs (own process) from /proc. "machine": how busy the machine was meanwhile; others\' CPU is contention ' +
              `this run did not cause. Deploy (synth + create resources) took ${deployMs} ms, not included. ` +
              `${init.instancesStarted} function instances started, ${init.initTimeouts} init(s) past the 10 s limit.`,
          },
          {
            title: 'Latency, place-order called -> history view APPROVED',
            columns: ['case', 'orders', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms', 'machine'],
            rows: [
              [
                'unloaded (one order at a time)',
                unloaded.completed,
                unloaded.latencyMs.p50,
                unloaded.latencyMs.p95,
                unloaded.latencyMs.p99,
                unloaded.latencyMs.max,
                describeMachineLoad(machine.unloaded!),
              ],
              [
                `loaded (open loop, ${loaded.ordersPerSecond}/s = 80% of capacity)`,
                loaded.completed,
                loaded.latencyMs.p50,
                loaded.latencyMs.p95,
                loaded.latencyMs.p99,
                loaded.latencyMs.max,
                describeMachineLoad(machine.loaded!),
              ],
            ],
            notes:
              'Unloaded: the next order is placed when the previous one is APPROVED. Loaded: order i is placed at ' +
              'start + i/rate whatever happened before; its latency counts from that scheduled moment. Approval = the ' +
              'order-history consumer handled OrderApproved successfully.',
          },
        ],
      };
    } finally {
      await Promise.allSettled([snsSqs.stop(), dynamodb.stop()]);
    }
  },
};

export default localE2eSuite;
