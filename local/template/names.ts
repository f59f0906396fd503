/** Physical names for resources the template leaves unnamed: `<stackName>-<logicalId>`, within limits. */
import { createHash } from 'node:crypto';

/** Name limits by service, `.fifo` suffix included. */
export const NAME_LIMITS = { queue: 80, topic: 256, table: 255, function: 64, rule: 64, bucket: 63 } as const;

/**
 * `<stackName>-<logicalId>`, shortened with a stable hash when longer than `maxLength`; keeps `.fifo`.
 *
 * @example
 * physicalName('Shop', 'OrdersQueueA1B2', 80, true); // 'Shop-OrdersQueueA1B2.fifo'
 */
export function physicalName(stackName: string, logicalId: string, maxLength: number, fifo = false): string {
  const suffix = fifo ? '.fifo' : '';
  const base = `${stackName}-${logicalId}`.replace(/[^A-Za-z0-9_-]/g, '-');
  if (base.length + suffix.length <= maxLength) return base + suffix;
  const hash = createHash('sha256').update(base).digest('hex').slice(0, 8);
  return `${base.slice(0, maxLength - suffix.length - hash.length - 1)}-${hash}${suffix}`;
}
