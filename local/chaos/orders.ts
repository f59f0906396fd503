/**
 * The chaos run's orders: planned from the seed (ids, customers, items), so every order has a
 * business identity before it is placed, and placed through place-order with client-chosen ids,
 * retried until the function answers, as a client that must not lose an order would.
 */
import type { LocalCloud } from '../cloud';
import { randomStream } from '../faults/random';
import type { Progress } from '../workload/progress';

export interface PlannedOrder {
  readonly orderId: string;
  readonly customerId: string;
  readonly items: readonly { sku: string; quantity: number; unitPrice: number }[];
  /** Sum of the quantities: what the kitchen's portion counters must add up to. */
  readonly portions: number;
}

const SKUS = ['pizza-margherita', 'pad-thai', 'falafel-wrap', 'ramen', 'burrito'];

/** A version-4 UUID drawn from the stream (place-order validates the id as a UUID). */
function uuidFrom(random: () => number): string {
  const hex = Array.from({ length: 32 }, () => Math.floor(random() * 16).toString(16));
  hex[12] = '4';
  hex[16] = ((Number.parseInt(hex[16] as string, 16) & 0x3) | 0x8).toString(16);
  const s = hex.join('');
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
}

export function planOrders(count: number, seed: number): PlannedOrder[] {
  const random = randomStream(seed, 'orders');
  return Array.from({ length: count }, () => {
    const items = Array.from({ length: 1 + Math.floor(random() * 3) }, () => ({
      sku: SKUS[Math.floor(random() * SKUS.length)] as string,
      quantity: 1 + Math.floor(random() * 3),
      unitPrice: 5 + Math.floor(random() * 20),
    }));
    return {
      orderId: uuidFrom(random),
      customerId: `customer-${Math.floor(random() * 50)}`,
      items,
      portions: items.reduce((sum, item) => sum + item.quantity, 0),
    };
  });
}

export interface PlacementOutcome {
  /** Orders place-order confirmed (possibly after retries). */
  readonly placed: ReadonlySet<string>;
  /** Orders it never confirmed, with the last error. */
  readonly unconfirmed: readonly string[];
  /** Invocations that failed and were retried. */
  readonly retries: number;
}

const MAX_ATTEMPTS = 12;

export async function placeOrders(
  cloud: LocalCloud,
  functionName: string,
  orders: readonly PlannedOrder[],
  progress: Progress,
  concurrency = 16,
): Promise<PlacementOutcome> {
  const placed = new Set<string>();
  const unconfirmed: string[] = [];
  let retries = 0;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < orders.length) {
      const order = orders[next++] as PlannedOrder;
      let lastError = '';
      for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt += 1) {
        const result = await cloud.invoke(functionName, {
          orderId: order.orderId,
          customerId: order.customerId,
          items: order.items,
        });
        const response = result.response as { orderId?: string } | undefined;
        if (result.ok && response?.orderId === order.orderId) {
          placed.add(order.orderId);
          break;
        }
        lastError = result.error
          ? `${result.error.errorType}: ${result.error.errorMessage}`
          : `unexpected response ${JSON.stringify(result.response)}`;
        retries += 1;
        await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
      }
      if (!placed.has(order.orderId)) unconfirmed.push(`order ${order.orderId}: ${lastError}`);
      progress.update(placed.size + unconfirmed.length);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, orders.length) }, worker));
  return { placed, unconfirmed, retries };
}
