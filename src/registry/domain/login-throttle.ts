/**
 * Slows down password guessing: counts wrong passwords per user and client address, per client
 * address, and per user, and answers how long a next attempt must wait (exponential back-off).
 *
 * - **(user, address)** — the strictest: after `freeFailures` wrong passwords, 1 s, then
 *   doubling up to `maxDelayMs`. A success clears it.
 * - **address** (any user) — against one address trying many users: 4 × `freeFailures`, same
 *   back-off.
 * - **user** (any address) — against many addresses trying one user: 4 × `freeFailures`, capped
 *   at a minute, so that nobody can lock a user out for long.
 *
 * The address and user limits do not apply to an address the user logged in from successfully
 * within `knownForMs`: an attacker hammering `admin` from elsewhere does not keep the admin out.
 * IPv6 addresses count by /64 (one host usually holds a whole /64). Counters are forgotten
 * `forgetAfterMs` after their last failure. State is in memory, per registry node, in maps of
 * bounded size (least recently used entries go first).
 */
import { isIP } from 'node:net';

/** Limits of a LoginThrottle. */
export interface LoginThrottleOptions {
  /** Wrong passwords per (user, address) before attempts are slowed down. Default 5. */
  freeFailures?: number;
  /** The longest wait imposed on a (user, address) or an address, ms. Default 15 minutes. */
  maxDelayMs?: number;
  /** The longest wait imposed on a user as a whole, ms. Default 1 minute (at most `maxDelayMs`). */
  maxUserDelayMs?: number;
  /** A counter without failures for this long starts again from zero, ms. Default 1 hour. */
  forgetAfterMs?: number;
  /** How long a successful (user, address) is trusted to skip the address and user limits, ms. Default 30 days. */
  knownForMs?: number;
  /** Entries per map (pairs, addresses, users, known pairs). Default 10,000. */
  maxEntries?: number;
  now?: () => number;
}

interface Counter {
  failures: number;
  /** Time of the last failure; a wait runs from it. */
  last: number;
}

/** A Map that keeps at most `max` entries, evicting the least recently used. */
class LruMap<V> {
  private readonly map = new Map<string, V>();
  constructor(private readonly max: number) {}

  get(key: string): V | undefined {
    const v = this.map.get(key);
    if (v !== undefined) {
      this.map.delete(key);
      this.map.set(key, v);
    }
    return v;
  }

  set(key: string, value: V): void {
    this.map.delete(key);
    this.map.set(key, value);
    if (this.map.size > this.max) this.map.delete(this.map.keys().next().value as string);
  }

  delete(key: string): void {
    this.map.delete(key);
  }

  get size(): number {
    return this.map.size;
  }
}

/** The key an address counts under: IPv4 as is, IPv6 by its /64 (an IPv4-mapped IPv6 address as IPv4). */
export function addressKey(address: string): string {
  const a = address.toLowerCase();
  if (a.startsWith('::ffff:') && isIP(a.slice(7)) === 4) return a.slice(7);
  if (isIP(a) !== 6) return a;
  const [head = '', tail] = a.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return `${groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, '')).join(':')}::/64`;
}

/**
 * Per-user and per-address counters of wrong passwords, with exponential back-off. See the module
 * comment. An attempt counts as a failure from `begin` until `succeeded` takes it back, so that
 * many attempts sent at once cannot slip through before the first of them fails.
 */
export class LoginThrottle {
  private readonly free: number;
  private readonly maxDelay: number;
  private readonly maxUserDelay: number;
  private readonly forgetAfter: number;
  private readonly knownFor: number;
  private readonly now: () => number;
  private readonly pairs: LruMap<Counter>;
  private readonly addresses: LruMap<Counter>;
  private readonly users: LruMap<Counter>;
  private readonly known: LruMap<number>;

  constructor(opts: LoginThrottleOptions = {}) {
    this.free = opts.freeFailures ?? 5;
    this.maxDelay = opts.maxDelayMs ?? 15 * 60_000;
    this.maxUserDelay = Math.min(opts.maxUserDelayMs ?? 60_000, this.maxDelay);
    this.forgetAfter = opts.forgetAfterMs ?? 60 * 60_000;
    this.knownFor = opts.knownForMs ?? 30 * 86_400_000;
    this.now = opts.now ?? Date.now;
    const max = opts.maxEntries ?? 10_000;
    this.pairs = new LruMap(max);
    this.addresses = new LruMap(max);
    this.users = new LruMap(max);
    this.known = new LruMap(max);
  }

  /** How long `username` at `address` must wait before trying a password, ms (0: may try now). */
  retryAfterMs(username: string, address: string): number {
    const now = this.now();
    const addr = addressKey(address);
    const pair = pairKey(username, addr);
    let until = this.until(this.pairs, pair, now, this.free, this.maxDelay);
    if (!this.isKnown(pair, now)) {
      until = Math.max(until, this.until(this.addresses, addr, now, this.free * 4, this.maxDelay), this.until(this.users, username, now, this.free * 4, this.maxUserDelay));
    }
    return Math.max(0, until - now);
  }

  /**
   * Before checking a password: the wait imposed, ms — then the attempt must not be made — or 0,
   * and the attempt counts as a failure until `succeeded` is called.
   */
  begin(username: string, address: string): number {
    const wait = this.retryAfterMs(username, address);
    if (wait > 0) return wait;
    const now = this.now();
    const addr = addressKey(address);
    this.count(this.pairs, pairKey(username, addr), now, 1);
    this.count(this.addresses, addr, now, 1);
    this.count(this.users, username, now, 1);
    return 0;
  }

  /** The password was right: the attempt is taken back, the pair's counter cleared and the address known for the user. */
  succeeded(username: string, address: string): void {
    const now = this.now();
    const addr = addressKey(address);
    const pair = pairKey(username, addr);
    this.pairs.delete(pair);
    this.count(this.addresses, addr, now, -1);
    this.count(this.users, username, now, -1);
    this.known.set(pair, now + this.knownFor);
  }

  /** The password could not be checked (the database did not answer): the attempt is taken back. */
  cancel(username: string, address: string): void {
    const now = this.now();
    const addr = addressKey(address);
    this.count(this.pairs, pairKey(username, addr), now, -1);
    this.count(this.addresses, addr, now, -1);
    this.count(this.users, username, now, -1);
  }

  /** Entries held (tests and metrics): pairs, addresses, users, known pairs. */
  get size(): { pairs: number; addresses: number; users: number; known: number } {
    return { pairs: this.pairs.size, addresses: this.addresses.size, users: this.users.size, known: this.known.size };
  }

  private isKnown(pair: string, now: number): boolean {
    const until = this.known.get(pair);
    return until !== undefined && until > now;
  }

  private live(map: LruMap<Counter>, key: string, now: number): Counter | undefined {
    const c = map.get(key);
    if (c && now - c.last > Math.max(this.forgetAfter, this.maxDelay)) {
      map.delete(key);
      return undefined;
    }
    return c;
  }

  /** Until when a counter holds attempts back (0: it does not): 1 s after the first failure past `free`, doubling up to `maxDelay`. */
  private until(map: LruMap<Counter>, key: string, now: number, free: number, maxDelay: number): number {
    const c = this.live(map, key, now);
    const over = (c?.failures ?? 0) - free;
    return c && over > 0 ? c.last + Math.min(1000 * 2 ** Math.min(over - 1, 30), maxDelay) : 0;
  }

  private count(map: LruMap<Counter>, key: string, now: number, by: 1 | -1): void {
    const c = this.live(map, key, now);
    if (by < 0) {
      if (c && --c.failures <= 0) map.delete(key);
      return;
    }
    map.set(key, { failures: (c?.failures ?? 0) + 1, last: now });
  }
}

function pairKey(username: string, addr: string): string {
  return `${addr}\u0000${username}`;
}
