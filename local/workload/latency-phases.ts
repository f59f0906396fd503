/**
 * The latency phases of `npm start`, after its workload: 20 orders one at a time (unloaded), then
 * open-loop arrivals at 80% of the capacity the workload measured, for 5 s (loaded). Their orders
 * come on top of the workload's and are checked by the same invariants (APPROVED in the history
 * view, one ticket, one notification, events in order), so a latency figure never hides a lost order.
 *
 * @example
 * const phases = await runLatencyPhases(cloud, { capacity: 48.5, firstIndex: 1000 });
 * phases.loaded?.latencyMs.p99;
 */
import type { LocalCloud } from '../cloud';
import { verifyOrders } from './food-delivery';
import {
  type LatencyProbeResult,
  measureOpenLoopLatency,
  measureUnloadedLatency,
  type OpenLoopResult,
} from './latency-probe';

/** Orders placed one at a time for the unloaded figure. */
export const UNLOADED_ORDERS = 20;
/** Seconds of open-loop arrivals for the loaded figure. */
export const LOADED_SECONDS = 5;
/** The open-loop rate as a share of the measured capacity. */
export const LOADED_RATE_SHARE = 0.8;

export interface LatencyPhases {
  readonly unloaded: LatencyProbeResult;
  /**
   * The probes' problems (failed placements, approvals slower than the probe waits), less the
   * orders that `incomplete` already names.
   */
  readonly problems: readonly string[];
  /** Absent when the workload completed nothing, so there is no capacity to load at. */
  readonly loaded?: OpenLoopResult;
  /** The phases' own orders, checked like the workload's. */
  readonly incomplete: readonly string[];
  readonly invariantFailures: readonly string[];
}

export async function runLatencyPhases(
  cloud: LocalCloud,
  options: {
    /** Orders per second the workload completed. */
    readonly capacity: number;
    /** Payload index of the first order: after the workload's, so the payloads go on where it stopped. */
    readonly firstIndex: number;
  },
): Promise<LatencyPhases> {
  const unloaded = await measureUnloadedLatency(cloud, {
    orders: UNLOADED_ORDERS,
    firstIndex: options.firstIndex,
  });
  const rate = LOADED_RATE_SHARE * options.capacity;
  const loaded =
    rate > 0
      ? await measureOpenLoopLatency(cloud, {
          ordersPerSecond: rate,
          orders: Math.max(20, Math.round(rate * LOADED_SECONDS)),
          firstIndex: options.firstIndex + UNLOADED_ORDERS,
        })
      : undefined;
  const placed = [...unloaded.placed, ...(loaded?.placed ?? [])];
  const checks = await verifyOrders(cloud, placed);
  const unfinished = placed
    .map((o) => o.orderId)
    .filter((id) => checks.incomplete.some((line) => line.startsWith(`order ${id}:`)));
  const problems = [...unloaded.problems, ...(loaded?.problems ?? [])].filter(
    (problem) => !unfinished.some((id) => problem.startsWith(`order ${id}:`)),
  );
  return { unloaded, loaded, problems, incomplete: checks.incomplete, invariantFailures: checks.failures };
}
