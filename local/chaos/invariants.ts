/**
 * The chaos run's invariants, checked by business identity from what the system stored (the
 * tables and the dead-letter queues), never from log lines:
 * - lost: an order that is not APPROVED everywhere (Orders, history view, ticket, notification),
 *   or a poison message that reached no dead-letter queue;
 * - duplicate effects: a ticket applied more than once (`timesApplied`), an event applied twice to
 *   the history view, kitchen counters off the orders' totals, an effect of a poison message;
 * - order violations: the history view (fed by a FIFO queue per order) applied OrderApproved
 *   before OrderCreated;
 * - unexpected dead letters: anything in a dead-letter or failure queue that is not poison.
 */
import { KitchenCounters } from '../../example/domain/channels';
import type { LocalCloud } from '../cloud';
import { scanAll } from '../workload/scan';
import type { DeadLetter } from './dead-letters';
import type { PlannedOrder } from './orders';
import type { PoisonMessage } from './poison';

export interface Findings {
  readonly lost: string[];
  readonly duplicateEffects: string[];
  readonly orderViolations: string[];
  readonly unexpectedDeadLetters: string[];
  /**
   * Poison messages found in a dead-letter queue, with the reason recorded there and how many
   * copies (the relay's parking is at-least-once: parked, then killed before its checkpoint, it
   * parks the record again on the retry).
   */
  readonly deadLettered: { id: string; channel: string; queue: string; reason: string; copies: number }[];
}

const byKey = (items: Record<string, unknown>[]) => new Map(items.map((item) => [String(item.pk), item]));

export async function checkInvariants(
  cloud: LocalCloud,
  orders: readonly PlannedOrder[],
  poisons: readonly PoisonMessage[],
  deadLetters: readonly DeadLetter[],
): Promise<Findings> {
  const outputs = cloud.outputs() as Record<string, string>;
  const read = (name: string) => scanAll(cloud.clients.dynamodb, outputs[name] as string);
  const [stored, history, tickets, notifications] = await Promise.all([
    read('OrdersTableName').then(byKey),
    read('OrderHistoryTableName').then(byKey),
    read('TicketsTableName'),
    read('NotificationsTableName').then(byKey),
  ]);
  const findings: Findings = {
    lost: [],
    duplicateEffects: [],
    orderViolations: [],
    unexpectedDeadLetters: [],
    deadLettered: [],
  };
  const ticketsByOrder = byKey(tickets.filter((t) => !String(t.pk).startsWith(KitchenCounters.PREFIX)));
  for (const order of orders) {
    const id = order.orderId;
    const problems: string[] = [];
    const item = stored.get(`ORDER#${id}`);
    if (!item) {
      findings.lost.push(`order ${id}: not in the Orders table`);
      continue;
    }
    if (item.status !== 'APPROVED') problems.push(`Orders says ${String(item.status)}`);
    const view = history.get(id);
    const events = Array.isArray(view?.events) ? (view.events as string[]) : [];
    const created = events.indexOf('OrderCreated');
    const approved = events.indexOf('OrderApproved');
    if (events.length !== new Set(events).size) {
      findings.duplicateEffects.push(`order ${id}: history view applied ${events.join(', ')}`);
    }
    if (created >= 0 && approved >= 0 && approved < created) {
      findings.orderViolations.push(`order ${id}: history view applied ${events.join(', ')}`);
    } else if (view?.status !== 'APPROVED') {
      problems.push(
        `history view ${view ? `says ${String(view.status)} after ${events.join(', ')}` : 'missing'}`,
      );
    }
    const ticket = ticketsByOrder.get(id);
    if (!ticket) problems.push('no ticket');
    else if (Number(ticket.timesApplied) !== 1) {
      findings.duplicateEffects.push(
        `order ${id}: CreateTicket applied ${String(ticket.timesApplied)} times`,
      );
    }
    if (!notifications.has(`ticket-${id}`)) problems.push('no notification');
    if (problems.length) findings.lost.push(`order ${id}: ${problems.join('; ')}`);
  }
  checkCounters(orders, tickets, ticketsByOrder, findings);
  const poisonIds = new Set(poisons.map((p) => p.id));
  for (const id of poisonIds) {
    if (ticketsByOrder.has(id) || history.has(id) || notifications.has(`ticket-${id}`)) {
      findings.duplicateEffects.push(`poison message ${id} had an effect`);
    }
  }
  const found = new Map<string, DeadLetter[]>();
  for (const letter of deadLetters) {
    if (poisonIds.has(letter.id)) found.set(letter.id, [...(found.get(letter.id) ?? []), letter]);
    else findings.unexpectedDeadLetters.push(`${letter.queue}: ${letter.id}: ${letter.reason}`);
  }
  for (const poison of poisons) {
    const letters = found.get(poison.id) ?? [];
    const first = letters[0];
    if (!first) {
      findings.lost.push(`poison message ${poison.id} (${poison.channel}) is in no dead-letter queue`);
      continue;
    }
    findings.deadLettered.push({
      id: poison.id,
      channel: poison.channel,
      queue: first.queue,
      reason: first.reason,
      copies: letters.length,
    });
  }
  return findings;
}

/** The kitchen's counters must add up to exactly the tickets that exist. */
function checkCounters(
  orders: readonly PlannedOrder[],
  tickets: readonly Record<string, unknown>[],
  ticketsByOrder: ReadonlyMap<string, Record<string, unknown>>,
  findings: Findings,
): void {
  const counters = tickets.filter((t) => String(t.pk).startsWith(KitchenCounters.PREFIX));
  const counted = counters.reduce((sum, c) => sum + Number(c.tickets ?? 0), 0);
  const portions = counters.reduce((sum, c) => sum + Number(c.portions ?? 0), 0);
  const ticketed = orders.filter((o) => ticketsByOrder.has(o.orderId));
  const expectedPortions = ticketed.reduce((sum, o) => sum + o.portions, 0);
  for (let extra = 0; extra < counted - ticketed.length; extra += 1) {
    findings.duplicateEffects.push(
      `kitchen counters count ${counted} tickets for ${ticketed.length} tickets (portions ${portions}, expected ${expectedPortions})`,
    );
  }
  if (counted < ticketed.length || (counted === ticketed.length && portions !== expectedPortions)) {
    findings.duplicateEffects.push(
      `kitchen counters inexact: ${counted} tickets / ${portions} portions for ${ticketed.length} tickets / ${expectedPortions} portions`,
    );
  }
}
