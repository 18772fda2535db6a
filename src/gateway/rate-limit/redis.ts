/**
 * The Redis RateLimiter: one hash per bucket (`tokens`, `last`), refilled and taken in one Lua
 * script (atomic across replicas), expiring once it would be full again. The clock is the
 * caller's (replicas' clocks agree to NTP precision, which is far finer than a bucket's refill).
 */
import type { Redis } from 'ioredis';
import type { RateLimitRule } from '../../model/authorization.js';
import type { RateLimitVerdict, RateLimiter } from './types.js';

/** KEYS[1] bucket; ARGV now (ms), rate per second, burst. Mirrors `takeToken`. Returns {allowed, remaining, retryAfterMs}. */
const TAKE_SCRIPT = `
local now = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local burst = tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'last')
local tokens = tonumber(state[1]) or burst
local last = tonumber(state[2]) or now
local elapsed = now - last
if elapsed < 0 then elapsed = 0 end
local filled = math.min(burst, tokens + elapsed * rate / 1000)
local allowed = 0
local retry = 0
if filled >= 1 then
  filled = filled - 1
  allowed = 1
else
  retry = math.ceil((1 - filled) * 1000 / rate)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(filled), 'last', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil((burst - filled) * 1000 / rate) + 1000)
return {allowed, math.floor(filled), retry}
`;

interface WithTakeScript {
  mcpgateTakeToken(key: string, now: number, rate: number, burst: number): Promise<[number, number, number]>;
}

/** Token buckets in Redis, shared by every gateway replica using the same Redis and prefix. */
export class RedisRateLimiter implements RateLimiter {
  private readonly scripts: WithTakeScript;

  constructor(
    private readonly redis: Redis,
    private readonly o: { keyPrefix?: string; now?: () => number; release?: () => Promise<void> } = {},
  ) {
    this.scripts = redis as unknown as WithTakeScript;
    if (typeof this.scripts.mcpgateTakeToken !== 'function') redis.defineCommand('mcpgateTakeToken', { numberOfKeys: 1, lua: TAKE_SCRIPT });
  }

  async take(key: string, rule: RateLimitRule): Promise<RateLimitVerdict> {
    const now = (this.o.now ?? Date.now)();
    const [allowed, remaining, retryAfterMs] = await this.scripts.mcpgateTakeToken(`${this.o.keyPrefix ?? 'mcpgate:'}rl:${key}`, now, rule.ratePerSecond, rule.burst);
    return { allowed: allowed === 1, remaining, retryAfterMs };
  }

  async close(): Promise<void> {
    await this.o.release?.();
  }
}
