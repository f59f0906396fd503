/**
 * Workload driver for the example food-delivery system (stack SwitchyardFoodDelivery): places
 * orders through the place-order function, then polls the read models until every order is
 * APPROVED in the history view, has exactly one kitchen ticket and one notification. It checks
 * the system's invariants and measures end-to-end latency (order placed -> view APPROVED).
 *
 * @example
 * if (isFoodDeliveryApp(cloud.outputs())) {
 *   const result = await runFoodDeliveryWorkload(cloud, { orders: 1000 });
 * }
 */
import type { LocalCloud } from '../cloud';
import { pendingDeliveries, redeliveryGraceMs } from './pending-deliveries';
import { type Progress, silentProgress } from './progress';
import { scanAll } from './scan';

/** CfnOutputs the driver needs from the example stack. */
export const REQUIRED_OUTPUTS = [
  'PlaceOrderFunctionName',
  'OrdersTableName',
  'TicketsTableName',
  'OrderHistoryTableName',
  'NotificationsTableName',
] as const;

export function isFoodDeliveryApp(outputs: Record<string, unknown>): boolean {
  return REQUIRED_OUTPUTS.every((name) => typeof outputs[name] === 'string');
}

export interface WorkloadOptions {
  /** @default 1000 */
  readonly orders?: number;
  /** Place-order invocations in flight at once. @default 20 */
  readonly concurrency?: number;
  /** Give up waiting for completion after this long. @default 45 s + 20 ms per order */
  readonly timeoutMs?: number;
  /** Time between polls of the read models. @default 500 */
  readonly pollIntervalMs?: number;
  /**
   * After the timeout, how long to keep waiting while messages are still queued or in flight (a
   * redelivery may still complete an order). @default - visibility timeout x maxReceiveCount, capped
   */
  readonly redeliveryGraceMs?: number;
  readonly progress?: Progress;
}

export interface WorkloadResult {
  readonly ordersRequested: number;
  readonly ordersPlaced: number;
  readonly ordersCompleted: number;
  /** Place-order invocations that failed, with the error. */
  readonly placementErrors: readonly string[];
  /** Order placed -> history view APPROVED, per completed order (ms). */
  readonly latenciesMs: readonly number[];
  /** First placement to last completion (ms). */
  readonly durationMs: number;
  /** Orders that never completed, with what was missing. */
  readonly incomplete: readonly string[];
  /** Broken invariants (one ticket per order, one notification per ticket, event order, ...). */
  readonly invariantFailures: readonly string[];
}

interface OrderProgress {
  readonly placedAt: number;
  approvedAt?: number;
  ticketId?: string;
}

const SKUS = ['pizza-margherita', 'pad-thai', 'falafel-wrap', 'ramen', 'burrito'];

/** The i-th order the driver places (deterministic, so runs compare). */
export function orderEvent(i: number): unknown {
  const count = 1 + (i % 3);
  return {
    customerId: `customer-${i % 50}`,
    items: Array.from({ length: count }, (_, k) => ({
      sku: SKUS[(i + k) % SKUS.length],
      quantity: 1 + ((i + k) % 2),
      unitPrice: 7.5 + k,
    })),
  };
}

/** The example's tables key items by `pk` (orderId for views and tickets, ticketId for notifications). */
function orderIdOf(item: Record<string, unknown>): string {
  return String(item.orderId ?? item.pk);
}

function ticketIdOf(item: Record<string, unknown>): string {
  return String(item.ticketId ?? item.pk);
}

function timestampOf(value: unknown): number | undefined {
  if (typeof value === 'number') return value > 1e12 ? value : value * 1000;
  if (typeof value === 'string') {
    const parsed = Date.parse(value);
    return Number.isNaN(parsed) ? undefined : parsed;
  }
  return undefined;
}

/** Event type names recorded in a history view item, oldest first, if the item carries them. */
function historyEventTypes(item: Record<string, unknown>): string[] | undefined {
  const list = item.events ?? item.history;
  if (!Array.isArray(list)) return undefined;
  return list.map((e) =>
    typeof e === 'string'
      ? e
      : String((e as Record<string, unknown>).type ?? (e as Record<string, unknown>).eventType),
  );
}

/** The Switchyard type and payload of an SQS record (raw delivery or SNS envelope). */
function switchyardMessage(record: Record<string, unknown>): {
  type?: string;
  payload?: Record<string, unknown>;
} {
  try {
    const attributes = record.messageAttributes as Record<string, { stringValue?: string }> | undefined;
    const body = JSON.parse(String(record.body)) as Record<string, unknown>;
    if (body.Type === 'Notification' && typeof body.Message === 'string') {
      const envelopeAttributes = body.MessageAttributes as Record<string, { Value?: string }> | undefined;
      return { type: envelopeAttributes?.['message-type']?.Value, payload: JSON.parse(body.Message) };
    }
    return { type: attributes?.['message-type']?.stringValue, payload: body };
  } catch {
    return {};
  }
}

/**
 * Hooks the consumer whose function writes the history view (its environment names the table):
 * the moment it handles OrderApproved successfully is the moment the view says APPROVED. Exact
 * latencies without polling the table under load. Returns false when no such consumer runs.
 */
export function watchApprovals(
  cloud: LocalCloud,
  historyTable: string,
  approved: (orderId: string, at: number) => void,
): boolean {
  const writers = new Set(
    cloud
      .functions()
      .filter((f) => Object.values(f.environment).includes(historyTable))
      .map((f) => f.name),
  );
  const mappings = cloud.mappingReports().filter((m) => writers.has(m.functionName));
  for (const mapping of mappings) {
    mapping.observer.onSucceeded((records, at) => {
      for (const record of records) {
        const { type, payload } = switchyardMessage(record);
        if (type === 'OrderApproved' && typeof payload?.orderId === 'string') approved(payload.orderId, at);
      }
    });
  }
  return mappings.length > 0;
}

async function placeOrders(
  cloud: LocalCloud,
  functionName: string,
  count: number,
  concurrency: number,
  orders: Map<string, OrderProgress>,
  approvedEarly: Map<string, number>,
  errors: string[],
  progress: Progress,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      const placedAt = Date.now();
      const result = await cloud.invoke(functionName, orderEvent(i));
      const response = result.response as { orderId?: string; status?: string } | undefined;
      if (!result.ok || !response?.orderId) {
        errors.push(
          `order ${i}: ${result.error ? `${result.error.errorType}: ${result.error.errorMessage}` : `unexpected response ${JSON.stringify(result.response)}`}`,
        );
      } else {
        orders.set(response.orderId, { placedAt, approvedAt: approvedEarly.get(response.orderId) });
        approvedEarly.delete(response.orderId);
      }
      progress.update(orders.size + errors.length);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
}

export async function runFoodDeliveryWorkload(
  cloud: LocalCloud,
  options: WorkloadOptions = {},
): Promise<WorkloadResult> {
  const out = outputsOf(cloud);
  const count = options.orders ?? 1000;
  const progress = options.progress ?? silentProgress;
  const orders = new Map<string, OrderProgress>();
  const placementErrors: string[] = [];

  // An approval seen before place-order returned its orderId is kept until the order is known.
  const approvedEarly = new Map<string, number>();
  let placing = true;
  const watched = watchApprovals(cloud, out('OrderHistoryTableName'), (orderId, at) => {
    const order = orders.get(orderId);
    if (order) order.approvedAt ??= at;
    else if (placing && !approvedEarly.has(orderId)) approvedEarly.set(orderId, at);
  });

  progress.start(count, 'Placing orders  ');
  const started = Date.now();
  await placeOrders(
    cloud,
    out('PlaceOrderFunctionName'),
    count,
    options.concurrency ?? 20,
    orders,
    approvedEarly,
    placementErrors,
    progress,
  );
  progress.stop();
  // The hook stays on the mapping (a --keep session goes on): approvals of later orders are not ours.
  placing = false;
  approvedEarly.clear();

  const checks = await awaitCompletion(cloud, orders, watched, {
    ...options,
    timeoutMs: options.timeoutMs ?? 45_000 + 20 * count,
  });
  // Only finished orders: the hook may have seen an approval the view never shows.
  const finished = [...orders].flatMap(([id, o]) =>
    checks.unfinished.has(id) || o.approvedAt === undefined ? [] : [{ ...o, approvedAt: o.approvedAt }],
  );
  const completedAt = finished.map((o) => o.approvedAt);
  const latenciesMs = finished.map((o) => o.approvedAt - o.placedAt);
  return {
    ordersRequested: count,
    ordersPlaced: orders.size,
    ordersCompleted: orders.size - checks.incomplete.length,
    placementErrors,
    latenciesMs,
    // Until the last approval; with none, the time waited. Never negative (issue 9).
    durationMs: Math.max(0, (completedAt.length > 0 ? Math.max(...completedAt) : Date.now()) - started),
    incomplete: checks.incomplete,
    invariantFailures: checks.failures,
  };
}

/** An order placed outside the workload (the latency probes), to be checked like the workload's. */
export interface PlacedOrder {
  readonly orderId: string;
  readonly placedAt: number;
  /** When the history writer handled its OrderApproved, if seen. */
  readonly approvedAt?: number;
}

/**
 * Waits for `placed` orders to finish like the workload's own (APPROVED in the view, one ticket,
 * one notification), then checks the same invariants. Their placer already waited for the
 * approvals, so the tables are polled (no new approval hook) until the rest shows.
 */
export async function verifyOrders(
  cloud: LocalCloud,
  placed: readonly PlacedOrder[],
  options: Pick<WorkloadOptions, 'timeoutMs' | 'pollIntervalMs' | 'redeliveryGraceMs' | 'progress'> = {},
): Promise<{ incomplete: string[]; failures: string[] }> {
  const orders = new Map<string, OrderProgress>(
    placed.map((o) => [o.orderId, { placedAt: o.placedAt, approvedAt: o.approvedAt }]),
  );
  const { incomplete, failures } = await awaitCompletion(cloud, orders, false, {
    ...options,
    timeoutMs: options.timeoutMs ?? 45_000 + 20 * orders.size,
  });
  return { incomplete, failures };
}

function outputsOf(cloud: LocalCloud): (name: (typeof REQUIRED_OUTPUTS)[number]) => string {
  const outputs = cloud.outputs();
  const missing = REQUIRED_OUTPUTS.filter((name) => typeof outputs[name] !== 'string');
  if (missing.length) {
    throw new Error(`The app is not the food-delivery example: outputs ${missing.join(', ')} are missing.`);
  }
  return (name) => String(outputs[name]);
}

/** With the approval hook, the tables are scanned only after this long without a new approval. */
const STALL_SCAN_MS = 5000;

/**
 * Waits until every order is APPROVED in the history view with exactly its ticket and notification
 * (or the timeout, plus the redelivery grace while messages are still in flight), then checks the
 * invariants. With the approval hook the tables are read to confirm, not polled under load.
 */
async function awaitCompletion(
  cloud: LocalCloud,
  orders: Map<string, OrderProgress>,
  watched: boolean,
  options: Pick<WorkloadOptions, 'pollIntervalMs' | 'redeliveryGraceMs' | 'progress'> & { timeoutMs: number },
): Promise<Assessment> {
  const out = outputsOf(cloud);
  const progress = options.progress ?? silentProgress;
  const pollInterval = options.pollIntervalMs ?? 500;
  const dynamodb = cloud.clients.dynamodb;
  progress.start(orders.size, 'Orders approved ');
  const deadline = Date.now() + options.timeoutMs;
  let graceEnd: number | undefined;
  let history: Record<string, unknown>[] = [];
  let tickets: Record<string, unknown>[] = [];
  let notifications: Record<string, unknown>[] = [];
  const approvedCount = () => [...orders.values()].filter((o) => o.approvedAt !== undefined).length;
  const everyOrderCovered = () => {
    const ticketOrders = new Set(tickets.map(orderIdOf));
    const notified = new Set(notifications.map(ticketIdOf));
    return [...orders].every(
      ([id, o]) => ticketOrders.has(id) && o.ticketId !== undefined && notified.has(o.ticketId),
    );
  };
  const readHistory = async () => {
    history = await scanAll(dynamodb, out('OrderHistoryTableName'));
    const seenAt = Date.now();
    for (const item of history) {
      const order = orders.get(orderIdOf(item));
      if (!order || item.status !== 'APPROVED' || !item.ticketId) continue;
      order.ticketId = String(item.ticketId);
      order.approvedAt ??= Math.max(order.placedAt, timestampOf(item.updatedAt) ?? seenAt);
    }
  };
  const readTicketsAndNotifications = async () => {
    [tickets, notifications] = await Promise.all([
      scanAll(dynamodb, out('TicketsTableName')),
      scanAll(dynamodb, out('NotificationsTableName')),
    ]);
  };
  let lastApproved = -1;
  let lastChangeAt = Date.now();
  let nextScan = 0;
  let covered = false;
  for (;;) {
    const approved = approvedCount();
    if (approved !== lastApproved) [lastApproved, lastChangeAt] = [approved, Date.now()];
    const allApproved = approved === orders.size;
    // Without the hook, or when it has reported nothing new for a while, the view is polled.
    const stalled = Date.now() - lastChangeAt >= STALL_SCAN_MS && Date.now() >= nextScan;
    if (!watched || allApproved || stalled) {
      await readHistory();
      nextScan = Date.now() + STALL_SCAN_MS;
      if (approvedCount() === orders.size) {
        await readTicketsAndNotifications();
        covered = everyOrderCovered();
        if (covered) break;
      }
    }
    progress.update(approvedCount());
    if (Date.now() > deadline) {
      // Not lost while a redelivery is still possible: wait for the queues to settle first.
      // A denied call is denied again on every redelivery, so waiting for those would only delay the verdict.
      graceEnd ??=
        deadline + (cloud.denials().length > 0 ? 0 : (options.redeliveryGraceMs ?? redeliveryGraceMs(cloud)));
      if (Date.now() > graceEnd || (await pendingDeliveries(cloud)) === 0) break;
    }
    await new Promise((r) => setTimeout(r, pollInterval));
  }
  progress.stop();
  // Given up waiting: the verdict comes from the tables as they are now, not from an older look.
  if (!covered) {
    await readHistory();
    await readTicketsAndNotifications();
  }
  return assessOrders(orders, history, tickets, notifications);
}

/** Cross-checks the read models; returns orders that did not finish and broken invariants. */
export function checkInvariants(
  orders: ReadonlyMap<string, OrderProgress>,
  history: readonly Record<string, unknown>[],
  tickets: readonly Record<string, unknown>[],
  notifications: readonly Record<string, unknown>[],
): { incomplete: string[]; failures: string[] } {
  const { incomplete, failures } = assessOrders(orders, history, tickets, notifications);
  return { incomplete, failures };
}

interface Assessment {
  incomplete: string[];
  failures: string[];
  /** Orders that did not finish, by id (their latency and completion time do not count). */
  unfinished: Set<string>;
}

function assessOrders(
  orders: ReadonlyMap<string, OrderProgress>,
  history: readonly Record<string, unknown>[],
  tickets: readonly Record<string, unknown>[],
  notifications: readonly Record<string, unknown>[],
): Assessment {
  const incomplete: string[] = [];
  const failures: string[] = [];
  const unfinished = new Set<string>();
  const ticketsByOrder = groupBy(tickets, orderIdOf);
  const notificationsByTicket = groupBy(notifications, ticketIdOf);
  const viewByOrder = groupBy(
    history.filter((h) => h.status !== undefined),
    orderIdOf,
  );
  for (const [orderId, order] of orders) {
    const missing: string[] = [];
    // The view itself must say APPROVED: the approval hook only says its writer handled the event.
    if (!(viewByOrder.get(orderId) ?? []).some((view) => view.status === 'APPROVED'))
      missing.push('not APPROVED in view');
    const orderTickets = ticketsByOrder.get(orderId) ?? [];
    if (orderTickets.length === 0) missing.push('no ticket');
    if (orderTickets.length > 1)
      failures.push(`order ${orderId} has ${orderTickets.length} tickets (expected exactly 1)`);
    for (const ticket of orderTickets) {
      const ticketId = String(ticket.ticketId);
      // The kitchen ADDs 1 on purpose (not idempotent): a command applied twice shows as 2.
      if (ticket.timesApplied !== undefined && Number(ticket.timesApplied) !== 1)
        failures.push(`ticket ${ticketId} applied ${String(ticket.timesApplied)} times (expected exactly 1)`);
      const ofOrder = (notificationsByTicket.get(ticketId) ?? []).filter(
        (n) => n.orderId !== undefined && n.orderId !== orderId,
      );
      if (ofOrder.length)
        failures.push(
          `notification for ticket ${ticketId} names another order (${String(ofOrder[0]!.orderId)})`,
        );
      const sent = notificationsByTicket.get(ticketId) ?? [];
      if (sent.length === 0) missing.push(`no notification for ticket ${ticketId}`);
      if (sent.length > 1)
        failures.push(`ticket ${ticketId} has ${sent.length} notifications (expected exactly 1)`);
      if (order.ticketId !== undefined && order.ticketId !== ticketId) {
        failures.push(`order ${orderId}: view says ticket ${order.ticketId}, kitchen has ${ticketId}`);
      }
    }
    for (const view of viewByOrder.get(orderId) ?? []) {
      const problem = historyProblem(view);
      if (problem) failures.push(`order ${orderId}: ${problem}`);
      if (view.status === 'APPROVED' && !view.ticketId)
        failures.push(`order ${orderId}: the view says APPROVED but names no ticket`);
    }
    if (missing.length) {
      incomplete.push(`order ${orderId}: ${missing.join(', ')}`);
      unfinished.add(orderId);
    }
  }
  return { incomplete, failures, unfinished };
}

/**
 * What is wrong with the order of a view's events, whatever its status: OrderCreated and
 * OrderApproved at most once each (the view's writer is exactly-once), OrderApproved never before
 * OrderCreated, and both present once the view says APPROVED.
 */
function historyProblem(view: Record<string, unknown>): string | undefined {
  const types = historyEventTypes(view);
  if (!types) return undefined;
  const repeated = ['OrderCreated', 'OrderApproved'].filter((t) => types.filter((x) => x === t).length > 1);
  if (repeated.length) return `history has ${repeated.join(' and ')} more than once: ${types.join(', ')}`;
  const created = types.indexOf('OrderCreated');
  const approved = types.indexOf('OrderApproved');
  const outOfOrder = approved >= 0 && (created < 0 || created > approved);
  const incomplete = view.status === 'APPROVED' && (created < 0 || approved < 0);
  return outOfOrder || incomplete ? `history events out of order or missing: ${types.join(', ')}` : undefined;
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const map = new Map<string, T[]>();
  for (const item of items) map.set(key(item), [...(map.get(key(item)) ?? []), item]);
  return map;
}
