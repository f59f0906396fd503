/** Time-ordered unique message ids: UUID version 7 (RFC 9562), sortable by creation time. */
import { randomBytes } from 'node:crypto';

let lastMillis = 0;
let sequence = 0;

/**
 * Returns a new UUIDv7. Ids created in the same millisecond by this process keep their order
 * through a 12-bit counter in `rand_a`, so ids sort in creation order within a process.
 */
export function newMessageId(now: number = Date.now()): string {
  if (now <= lastMillis) {
    // Same millisecond (or the clock stepped back): count up; on overflow borrow the next millisecond
    // so ids stay strictly increasing within this process.
    sequence += 1;
    if (sequence > 0xfff) {
      lastMillis += 1;
      sequence = 0;
    }
    now = lastMillis;
  } else {
    lastMillis = now;
    sequence = randomBytes(2).readUInt16BE(0) & 0x7ff; // leave headroom so the counter rarely wraps
  }
  const bytes = randomBytes(16);
  bytes.writeUIntBE(now, 0, 6);
  bytes[6] = 0x70 | (sequence >> 8);
  bytes[7] = sequence & 0xff;
  bytes[8] = 0x80 | (bytes[8]! & 0x3f);
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Milliseconds since the epoch encoded in a UUIDv7, or undefined for any other id. */
export function timestampOfMessageId(id: string): number | undefined {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i.test(id)) return undefined;
  return Number.parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
}
