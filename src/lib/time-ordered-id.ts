/**
 * UUIDs of version 7 (RFC 9562): 48 bits of Unix milliseconds first, then random bits, in the
 * usual 8-4-4-4-12 form. Rows keyed by them are appended at the end of their primary-key index
 * instead of landing on a random page of it, so a batch of inserts touches a page or two of that
 * index rather than one page per row (a random v4 id costs a page write per row in SQLite's WAL).
 * Hand-written: Node 20's crypto has `randomUUID` (v4) only, and the few lines below are the format.
 */
import { randomFillSync } from 'node:crypto';

const pool = Buffer.alloc(16 * 256);
let used = pool.length;
let lastMs = 0;
let sequence = 0;

/** A new UUIDv7; ids made in the same process sort in the order they were made. */
export function timeOrderedUuid(): string {
  if (used === pool.length) {
    randomFillSync(pool);
    used = 0;
  }
  const b = pool.subarray(used, used + 16);
  used += 16;
  let ms = Date.now();
  // Within one millisecond (or a clock step back), a 12-bit counter in `rand_a` keeps the order.
  if (ms <= lastMs) {
    ms = lastMs;
    if (++sequence > 0xfff) {
      ms = ++lastMs;
      sequence = 0;
    }
  } else {
    sequence = 0;
  }
  lastMs = ms;
  b.writeUIntBE(ms, 0, 6);
  b[6] = 0x70 | (sequence >> 8);
  b[7] = sequence & 0xff;
  b[8] = 0x80 | (b[8]! & 0x3f);
  const hex = b.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
