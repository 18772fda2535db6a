/**
 * The RateLimiter port: token buckets with burst, keyed by caller (consumer key or token
 * subject) and by caller and tool. In memory for one process (`memory.ts`), shared by every
 * replica through Redis (`redis.ts`, one atomic Lua script); one contract suite runs on both.
 */
import type { RateLimitRule } from '../../model/authorization.js';

/** The verdict of one take. */
export interface RateLimitVerdict {
  allowed: boolean;
  /** Tokens left after this take (whole tokens, rounded down). */
  remaining: number;
  /** When refused: milliseconds until one token is back. 0 when allowed. */
  retryAfterMs: number;
}

/** Token buckets by key. */
export interface RateLimiter {
  /** Take one token from `key`'s bucket under `rule` (the bucket starts full, at `burst`). */
  take(key: string, rule: RateLimitRule): Promise<RateLimitVerdict>;
  close(): Promise<void>;
}

/** Refill then take: the arithmetic both implementations share (the Redis script mirrors it). */
export function takeToken(tokens: number, last: number, now: number, rule: RateLimitRule): { tokens: number; verdict: RateLimitVerdict } {
  const elapsed = Math.max(0, now - last);
  const filled = Math.min(rule.burst, tokens + (elapsed * rule.ratePerSecond) / 1000);
  if (filled >= 1) return { tokens: filled - 1, verdict: { allowed: true, remaining: Math.floor(filled - 1), retryAfterMs: 0 } };
  return { tokens: filled, verdict: { allowed: false, remaining: 0, retryAfterMs: Math.ceil(((1 - filled) * 1000) / rule.ratePerSecond) } };
}
