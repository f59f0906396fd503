/**
 * Honest latency of the food-delivery example: place-order called -> the history view's writer
 * handled OrderApproved, measured so the driver's own backlog never becomes the figure.
 *
 * - Unloaded: one order at a time; the next is placed only after the previous one is APPROVED.
 * - Loaded: open-loop arrivals at a fixed rate (for example 80% of the capacity measured in the
 *   same run): order i is placed at start + i / rate whether or not earlier orders have finished,
 *   and its latency counts from that scheduled moment, so a system that falls behind shows it.
 *
 * @example
 * const unloaded = await measureUnloadedLatency(cloud, { orders: 30 });
 * const loaded = await measureOpenLoopLatency(cloud, { ordersPerSecond: 0.8 * capacity, orders: 200 });
 */
import type { LocalCloud } from '../cloud';
import { type LatencySummary, summarize } from '../stats';
import { isFoodDeliveryApp, orderEvent, type PlacedOrder, watchApprovals } from './food-delivery';

export interface LatencyProbeResult {
  readonly orders: number;
  /** Orders whose approval was seen within the probe's wait. */
  readonly completed: number;
  readonly latencyMs: LatencySummary;
  /** Place-order failures and orders not approved in time. */
  readonly problems: readonly string[];
  readonly durationMs: number;
  /** Every order place-order accepted, approved or not, so the caller can check it like any other. */
  readonly placed: readonly PlacedOrder[];
}

export interface OpenLoopResult extends LatencyProbeResult {
  readonly ordersPerSecond: number;
}

/** Per-order approval waits on top of the history writer's mapping hook. */
class ApprovalTracker {
  private readonly seen = new Map<string, number>();
  private readonly waiting = new Map<string, (at: number) => void>();

  constructor(cloud: LocalCloud) {
    const outputs = cloud.outputs();
    if (!isFoodDeliveryApp(outputs)) throw new Error('The app is not the food-delivery example.');
    const watched = watchApprovals(cloud, String(outputs.OrderHistoryTableName), (orderId, at) => {
      const waiter = this.waiting.get(orderId);
      if (waiter) {
        this.waiting.delete(orderId);
        waiter(at);
      } else if (!this.seen.has(orderId)) this.seen.set(orderId, at);
    });
    if (!watched)
      throw new Error('No running mapping feeds the order-history view: start the event sources.');
  }

  /** Epoch ms at which the order was approved, or undefined after `timeoutMs`. */
  approval(orderId: string, timeoutMs: number): Promise<number | undefined> {
    const early = this.seen.get(orderId);
    if (early !== undefined) {
      this.seen.delete(orderId);
      return Promise.resolve(early);
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiting.delete(orderId);
        resolve(undefined);
      }, timeoutMs);
      this.waiting.set(orderId, (at) => {
        clearTimeout(timer);
        resolve(at);
      });
    });
  }
}

const trackers = new WeakMap<LocalCloud, ApprovalTracker>();

function trackerOf(cloud: LocalCloud): ApprovalTracker {
  let tracker = trackers.get(cloud);
  if (!tracker) {
    tracker = new ApprovalTracker(cloud);
    trackers.set(cloud, tracker);
  }
  return tracker;
}

interface Outcome {
  readonly latencyMs?: number;
  readonly problem?: string;
  readonly placed?: PlacedOrder;
}

/** Places one order at `placedAt`'s moment and resolves with its latency, or a problem. */
async function oneOrder(
  cloud: LocalCloud,
  tracker: ApprovalTracker,
  index: number,
  placedAt: number,
  timeoutMs: number,
): Promise<Outcome> {
  const outputs = cloud.outputs();
  const result = await cloud.invoke(String(outputs.PlaceOrderFunctionName), orderEvent(index));
  const orderId = (result.response as { orderId?: string } | undefined)?.orderId;
  if (!result.ok || !orderId) {
    return {
      problem: `order ${index}: ${result.error?.errorType ?? 'no orderId'}: ${result.error?.errorMessage ?? ''}`,
    };
  }
  const approvedAt = await tracker.approval(orderId, timeoutMs);
  if (approvedAt === undefined)
    return {
      problem: `order ${orderId}: not APPROVED within ${timeoutMs} ms`,
      placed: { orderId, placedAt },
    };
  return { latencyMs: approvedAt - placedAt, placed: { orderId, placedAt, approvedAt } };
}

/** One order at a time: the latency of the backbone itself, with nothing queued ahead. */
export async function measureUnloadedLatency(
  cloud: LocalCloud,
  options: { orders?: number; timeoutMs?: number; firstIndex?: number } = {},
): Promise<LatencyProbeResult> {
  const tracker = trackerOf(cloud);
  const count = options.orders ?? 30;
  const latencies: number[] = [];
  const problems: string[] = [];
  const placed: PlacedOrder[] = [];
  const started = Date.now();
  for (let i = 0; i < count; i++) {
    const outcome = await oneOrder(
      cloud,
      tracker,
      (options.firstIndex ?? 0) + i,
      Date.now(),
      options.timeoutMs ?? 10_000,
    );
    if (outcome.latencyMs !== undefined) latencies.push(outcome.latencyMs);
    if (outcome.problem) problems.push(outcome.problem);
    if (outcome.placed) placed.push(outcome.placed);
  }
  return {
    orders: count,
    completed: latencies.length,
    latencyMs: summarize(latencies),
    problems,
    durationMs: Date.now() - started,
    placed,
  };
}

/** Fixed-interval open-loop arrivals at `ordersPerSecond`; latency counts from each scheduled arrival. */
export async function measureOpenLoopLatency(
  cloud: LocalCloud,
  options: { ordersPerSecond: number; orders: number; timeoutMs?: number; firstIndex?: number },
): Promise<OpenLoopResult> {
  if (!(options.ordersPerSecond > 0)) {
    throw new Error(
      `ordersPerSecond must be > 0, got ${options.ordersPerSecond}: measure the capacity first.`,
    );
  }
  const tracker = trackerOf(cloud);
  const intervalMs = 1000 / options.ordersPerSecond;
  const started = Date.now();
  const outcomes: Promise<Outcome>[] = [];
  for (let i = 0; i < options.orders; i++) {
    const scheduledAt = started + i * intervalMs;
    const wait = scheduledAt - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    outcomes.push(
      oneOrder(cloud, tracker, (options.firstIndex ?? 0) + i, scheduledAt, options.timeoutMs ?? 30_000),
    );
  }
  const settled = await Promise.all(outcomes);
  const latencies = settled.flatMap((o) => (o.latencyMs === undefined ? [] : [o.latencyMs]));
  return {
    orders: options.orders,
    ordersPerSecond: Math.round(options.ordersPerSecond * 10) / 10,
    completed: latencies.length,
    latencyMs: summarize(latencies),
    problems: settled.flatMap((o) => (o.problem ? [o.problem] : [])),
    durationMs: Date.now() - started,
    placed: settled.flatMap((o) => (o.placed ? [o.placed] : [])),
  };
}
