/** The in-memory RateLimiter: one process's buckets, bounded in number (full buckets are forgotten first). */
import type { RateLimitRule } from '../../model/authorization.js';
import { takeToken } from './types.js';
import type { RateLimitVerdict, RateLimiter } from './types.js';

const MAX_BUCKETS = 100_000;

/** Token buckets in a Map; when it is full, the oldest-touched buckets are dropped (a dropped bucket is as good as full). */
export class MemoryRateLimiter implements RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; last: number }>();

  constructor(private readonly now: () => number = Date.now, private readonly maxBuckets = MAX_BUCKETS) {}

  take(key: string, rule: RateLimitRule): Promise<RateLimitVerdict> {
    const now = this.now();
    const b = this.buckets.get(key);
    const { tokens, verdict } = takeToken(b?.tokens ?? rule.burst, b?.last ?? now, now, rule);
    // Re-inserted at the end: Map order is then least recently touched first.
    if (b) this.buckets.delete(key);
    else if (this.buckets.size >= this.maxBuckets) {
      const oldest = this.buckets.keys().next();
      if (!oldest.done) this.buckets.delete(oldest.value);
    }
    this.buckets.set(key, { tokens, last: now });
    return Promise.resolve(verdict);
  }

  close(): Promise<void> {
    this.buckets.clear();
    return Promise.resolve();
  }
}
