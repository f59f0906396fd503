// The chaos run of the example system (npm run chaos): not part of the published package (tsconfig.build.json excludes it).
/**
 * The chaos run: the example food-delivery system on the local cloud with faults injected between
 * the functions (and the event source mappings) and the emulators, reproducibly from a seed, and
 * its invariants checked at the end by business identity. Writes bench/chaos.json.
 *
 * Time is compressed so a run takes minutes: every function times out after at most
 * FUNCTION_TIMEOUT_SECONDS and every consumer queue's visibility timeout is VISIBILITY_SECONDS, so a
 * failed batch returns in seconds (the deployed 30 s / 180 s would make each fault cost minutes).
 *
 * @example
 * const { report } = await runChaos({ orders: 200, seed: 7, projectDir: process.cwd() });
 * console.log(report.invariants);
 */
import { writeFileSync } from 'node:fs';
import { SetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { LocalCloud } from '../cloud';
import { FaultInjector } from '../faults/injector';
import { ALL_FAULT_KINDS, type FaultKind, FaultKinds, Tallies } from '../faults/kinds';
import type { FaultRates } from '../faults/rates';
import { type Progress, silentProgress } from '../workload/progress';
import { scanAll } from '../workload/scan';
import { deadLetterQueues, queueDepth, readDeadLetters } from './dead-letters';
import { ConsumerFailureLog } from './failure-log';
import { checkInvariants, type Findings } from './invariants';
import { placeOrders, planOrders } from './orders';
import { injectPoison, type PoisonMessage } from './poison';

export const FUNCTION_TIMEOUT_SECONDS = 15;
export const VISIBILITY_SECONDS = 18;

export interface ChaosOptions {
  readonly orders: number;
  readonly seed: number;
  readonly projectDir: string;
  /** @default DEFAULT_FAULT_RATES */
  readonly rates?: FaultRates;
  /** Where to write the report. @default - not written */
  readonly resultFile?: string;
  readonly progress?: Progress;
  /** Progress lines (deployment, phases). @default - silent */
  readonly log?: (line: string) => void;
  /** Function log lines. @default - dropped */
  readonly functionLog?: (line: string) => void;
  /** Give up waiting for the system to finish after this long. @default 300 s + 500 ms per order */
  readonly settleTimeoutMs?: number;
}

/** bench/chaos.json: exactly these fields. */
export interface ChaosReport {
  readonly orders: number;
  readonly seed: number;
  readonly faults: Record<FaultKind, number>;
  readonly invariants: {
    readonly lost: number;
    readonly duplicateEffects: number;
    readonly orderViolations: number;
    readonly unexpectedDeadLetters: number;
  };
  readonly deadLettered: Findings['deadLettered'];
  readonly durationMs: number;
}

export interface ChaosResult {
  readonly report: ChaosReport;
  readonly findings: Findings;
  /** SDK request attempts seen by the injector, and how many of them were faulted. */
  readonly sdkCalls: number;
  readonly faultedSdkCalls: number;
  readonly invocations: number;
  /** place-order calls that failed and were retried by the client. */
  readonly placementRetries: number;
  /** Orders place-order never confirmed within its attempts (the checker still looks for them). */
  readonly unconfirmed: readonly string[];
}

/** Faults that strike one SDK request (the share of faulted calls is computed over these). */
const SDK_REQUEST_FAULTS: readonly FaultKind[] = [
  FaultKinds.SNS_THROTTLED,
  FaultKinds.SNS_KMS_THROTTLED,
  FaultKinds.SQS_THROTTLED,
  FaultKinds.SQS_KMS_THROTTLED,
  FaultKinds.DYNAMODB_THROUGHPUT_EXCEEDED,
  FaultKinds.DYNAMODB_THROTTLING,
  FaultKinds.INTERNAL_ERROR,
  FaultKinds.SERVICE_UNAVAILABLE,
  FaultKinds.RESET_BEFORE_APPLIED,
  FaultKinds.RESET_AFTER_APPLIED,
  FaultKinds.TRANSACTION_CONFLICT,
  FaultKinds.PARTIAL_BATCH_FAILURE,
];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Consumer queues (not dead-letter queues) get the compressed visibility timeout. */
async function compressTime(cloud: LocalCloud): Promise<void> {
  const deadLetterUrls = new Set(deadLetterQueues(cloud).map((q) => q.url));
  for (const queue of cloud.inventory.queues.filter((q) => !deadLetterUrls.has(q.url))) {
    await cloud.clients.sqs.send(
      new SetQueueAttributesCommand({
        QueueUrl: queue.url,
        Attributes: { VisibilityTimeout: String(VISIBILITY_SECONDS) },
      }),
    );
  }
}

/** Orders approved in the history view whose notification exists. */
async function completion(cloud: LocalCloud, orderIds: ReadonlySet<string>): Promise<number> {
  const outputs = cloud.outputs() as Record<string, string>;
  const [history, notifications] = await Promise.all([
    scanAll(cloud.clients.dynamodb, outputs.OrderHistoryTableName as string),
    scanAll(cloud.clients.dynamodb, outputs.NotificationsTableName as string),
  ]);
  const notified = new Set(notifications.map((n) => String(n.orderId)));
  return history.filter(
    (h) => orderIds.has(String(h.pk)) && h.status === 'APPROVED' && notified.has(String(h.pk)),
  ).length;
}

/** True when no consumer queue holds a message, visible or in flight. */
async function quiet(cloud: LocalCloud): Promise<boolean> {
  const deadLetterUrls = new Set(deadLetterQueues(cloud).map((q) => q.url));
  for (const queue of cloud.inventory.queues.filter((q) => !deadLetterUrls.has(q.url))) {
    if ((await queueDepth(cloud, queue.url)) > 0) return false;
  }
  return true;
}

export async function runChaos(options: ChaosOptions): Promise<ChaosResult> {
  const started = Date.now();
  const log = options.log ?? (() => undefined);
  const progress = options.progress ?? silentProgress;
  const injector = new FaultInjector({
    seed: options.seed,
    projectDir: options.projectDir,
    rates: options.rates,
  });
  const failureLog = new ConsumerFailureLog();
  const cloud = await LocalCloud.start({
    projectDir: options.projectDir,
    log,
    functionLog: (line) => {
      failureLog.observe(line);
      options.functionLog?.(line);
    },
    faults: injector.hooks((fn) => /Relay/.test(fn.logicalId), FUNCTION_TIMEOUT_SECONDS),
  });
  try {
    await compressTime(cloud);
    const orders = planOrders(options.orders, options.seed);
    const poisonCount = Math.max(5, Math.round(options.orders / 100));
    log(
      `Injecting ${poisonCount} poison messages, then placing ${orders.length} orders (seed ${options.seed}) ...`,
    );
    const poisons = await injectPoison(cloud, poisonCount, String(options.seed));
    injector.counters.add(FaultKinds.POISON_MESSAGE, poisons.length);

    progress.start(orders.length, 'Placing orders ');
    const outputs = cloud.outputs() as Record<string, string>;
    const placement = await placeOrders(cloud, outputs.PlaceOrderFunctionName as string, orders, progress);
    progress.stop();

    const ids = new Set(orders.map((o) => o.orderId));
    const deadline = Date.now() + (options.settleTimeoutMs ?? 300_000 + 500 * orders.length);
    progress.start(orders.length, 'Orders completed');
    let quietRounds = 0;
    while (Date.now() < deadline) {
      const done = await completion(cloud, ids);
      progress.update(done, `faults ${faultedCalls(injector)}`);
      if (done === ids.size && (await poisonsDeadLettered(cloud, failureLog, poisons)) === poisons.length) {
        // Finished; wait until redeliveries and retries in flight have drained too.
        quietRounds = (await quiet(cloud)) ? quietRounds + 1 : 0;
        if (quietRounds >= 2) break;
      }
      await sleep(2000);
    }
    progress.stop();
    const deadLetters = await readDeadLetters(cloud, failureLog);
    const findings = await checkInvariants(cloud, orders, poisons, deadLetters);
    const counts = injector.counters.snapshot();
    const report: ChaosReport = {
      orders: options.orders,
      seed: options.seed,
      faults: Object.fromEntries(ALL_FAULT_KINDS.map((kind) => [kind, counts[kind]])) as Record<
        FaultKind,
        number
      >,
      invariants: {
        lost: findings.lost.length,
        duplicateEffects: findings.duplicateEffects.length,
        orderViolations: findings.orderViolations.length,
        unexpectedDeadLetters: findings.unexpectedDeadLetters.length,
      },
      deadLettered: findings.deadLettered,
      durationMs: Date.now() - started,
    };
    if (options.resultFile) writeFileSync(options.resultFile, `${JSON.stringify(report, null, 2)}\n`);
    return {
      report,
      findings,
      sdkCalls: counts[Tallies.SDK_CALLS],
      faultedSdkCalls: faultedCalls(injector),
      invocations: counts[Tallies.INVOCATIONS],
      placementRetries: placement.retries,
      unconfirmed: placement.unconfirmed,
    };
  } finally {
    await cloud.stop();
  }
}

/** Poison messages found (by id) in a dead-letter or failure queue so far. */
async function poisonsDeadLettered(
  cloud: LocalCloud,
  failureLog: ConsumerFailureLog,
  poisons: readonly PoisonMessage[],
): Promise<number> {
  const ids = new Set(poisons.map((p) => p.id));
  const found = new Set(
    (await readDeadLetters(cloud, failureLog)).map((d) => d.id).filter((id) => ids.has(id)),
  );
  return found.size;
}

function faultedCalls(injector: FaultInjector): number {
  return SDK_REQUEST_FAULTS.reduce((sum, kind) => sum + injector.counters.get(kind), 0);
}
