import { setTimeout as sleep } from 'node:timers/promises';
import type { DedicatedConnection, SessionLockCapability } from './dialects/dialect.js';
import type { LeaderLock, LeaderLockOptions } from './store.js';

/** A statement compiled by the store's Kysely instance, to run on a dedicated connection. */
export interface Compiled {
  sql: string;
  parameters: readonly unknown[];
}

/** The lease-row statements a session lock runs (built by the store, so they are dialect-neutral here). */
export interface LeaseStatements {
  /** Extend the lease of `holder`'s session by the TTL; touches no row when another session holds it. */
  renew(name: string, holder: string, sessionId: number, ttlMs: number): Compiled;
  /** Point the lease at `holder`'s session, from now for the TTL (update; `insert` when there was no row). */
  claim(name: string, holder: string, sessionId: number, ttlMs: number): { update: Compiled; insert: Compiled };
  /** Read the lease with the database's time now: columns holder, session_id, expires_at, db_now. */
  read(name: string): Compiled;
}

const num = (v: unknown): number => (typeof v === 'number' ? v : Number(v));

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took more than ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/**
 * A leader lock over a database session lock plus a lease row.
 *
 * - The session lock (advisory lock, GET_LOCK) gives mutual exclusion, and fast hand-over
 *   when the holder dies: its connection closes and the database frees the lock at once.
 * - The lease row, renewed on the lock's own connection at every poll (which also proves
 *   that connection works), covers what the session lock cannot see: a holder that is
 *   alive to the database but no longer working (a stopped or hung process, a half-open
 *   connection). A node that finds the lock taken and its lease run out by the database's
 *   clock ends the holder's session, and takes the lock on its next try.
 * - The holder counts its own lease from before it sent the renewal, by its monotonic
 *   clock: it stops calling itself leader no later than other nodes may fence it.
 */
export class SessionLeaderLock implements LeaderLock {
  private conn: DedicatedConnection | undefined;
  private connecting: Promise<DedicatedConnection> | undefined;
  private holding = false;
  private deadline = 0;
  private inFlight: Promise<boolean> | undefined;
  private released = false;
  /** A holder seen without a lease of its own (it may be writing it): when we first saw it. */
  private suspect: { sessionId: number; since: number } | undefined;

  constructor(
    private readonly cap: SessionLockCapability,
    private readonly statements: LeaseStatements,
    private readonly name: string,
    private readonly holder: string,
    private readonly options: LeaderLockOptions,
  ) {}

  get held(): boolean {
    return this.holding && performance.now() < this.deadline;
  }

  poll(): Promise<boolean> {
    if (this.released) return Promise.resolve(false);
    this.inFlight ??= this.pollOnce().finally(() => { this.inFlight = undefined; });
    return this.inFlight;
  }

  private async pollOnce(): Promise<boolean> {
    // A poll that cannot finish within half the TTL would let the lease run out: give up the connection.
    const limit = Math.max(250, Math.floor(this.options.ttlMs / 2));
    try {
      return await withTimeout(this.step(), limit, 'leader lock poll');
    } catch (err) {
      this.drop(`leader lock connection failed: ${err instanceof Error ? err.message : String(err)}`);
      return false;
    }
  }

  private async step(): Promise<boolean> {
    const conn = await this.connection();
    const sent = performance.now();
    if (this.holding) {
      const s = this.statements.renew(this.name, this.holder, conn.sessionId, this.options.ttlMs);
      const r = await conn.query(s.sql, s.parameters);
      if (r.affected === 0) {
        this.drop('the lease was taken over by another node');
        return false;
      }
      this.deadline = sent + this.options.ttlMs;
      return true;
    }
    if (await this.take(conn, sent)) return true;
    if (await this.fenceIfStale(conn)) {
      // The database frees the lock when the fenced session is gone; try once more.
      await sleep(100);
      return this.take(conn, performance.now());
    }
    return false;
  }

  private async take(conn: DedicatedConnection, sent: number): Promise<boolean> {
    if (!(await this.cap.tryLock(conn, this.name))) return false;
    this.holding = true;
    this.suspect = undefined;
    const s = this.statements.claim(this.name, this.holder, conn.sessionId, this.options.ttlMs);
    const r = await conn.query(s.update.sql, s.update.parameters);
    if (r.affected === 0) await conn.query(s.insert.sql, s.insert.parameters);
    this.deadline = sent + this.options.ttlMs;
    return true;
  }

  /** End the holder's session when its lease ran out (or it never wrote one within a TTL). */
  private async fenceIfStale(conn: DedicatedConnection): Promise<boolean> {
    const sessionId = await this.cap.holder(conn, this.name);
    if (sessionId === undefined) {
      this.suspect = undefined;
      return false;
    }
    const s = this.statements.read(this.name);
    const row = (await conn.query(s.sql, s.parameters)).rows[0];
    let stale: boolean;
    let node: string | undefined;
    if (row && num(row.session_id) === sessionId) {
      node = String(row.holder);
      stale = num(row.expires_at) < num(row.db_now);
      this.suspect = undefined;
    } else {
      if (this.suspect?.sessionId !== sessionId) this.suspect = { sessionId, since: performance.now() };
      stale = performance.now() - this.suspect.since > this.options.ttlMs;
    }
    if (!stale) return false;
    const terminated = await this.cap.terminate(conn, sessionId);
    this.suspect = undefined;
    this.options.onFenced?.({ node, sessionId, terminated });
    return terminated;
  }

  private async connection(): Promise<DedicatedConnection> {
    if (this.conn) return this.conn;
    this.connecting ??= this.cap.connect().finally(() => { this.connecting = undefined; });
    const conn = await this.connecting;
    if (this.released) {
      conn.destroy();
      throw new Error('leader lock released');
    }
    this.conn = conn;
    void conn.closed.then(() => { if (this.conn === conn) this.drop('leader lock connection closed'); });
    return conn;
  }

  /** Forget the connection (destroying it frees the lock in the database) and report a loss. */
  private drop(reason: string): void {
    const wasHolding = this.holding;
    this.holding = false;
    this.deadline = 0;
    const conn = this.conn;
    this.conn = undefined;
    conn?.destroy();
    if (wasHolding && !this.released) this.options.onLost?.(reason);
  }

  async release(): Promise<void> {
    this.released = true;
    await this.inFlight?.catch(() => undefined);
    const conn = this.conn;
    this.conn = undefined;
    const wasHolding = this.holding;
    this.holding = false;
    this.deadline = 0;
    if (!conn) return;
    try {
      if (wasHolding) await withTimeout(this.cap.unlock(conn, this.name), 2000, 'unlock');
      await withTimeout(conn.end(), 2000, 'closing the lock connection');
    } catch {
      conn.destroy();
    }
  }

  destroy(): void {
    const conn = this.conn;
    this.conn = undefined;
    this.holding = false;
    this.deadline = 0;
    conn?.destroy();
  }
}

/** The leader lock of a database only one process uses: always held. */
export class SingleNodeLock implements LeaderLock {
  private released = false;
  get held(): boolean {
    return !this.released;
  }
  async poll(): Promise<boolean> {
    return !this.released;
  }
  async release(): Promise<void> {
    this.released = true;
  }
  destroy(): void { /* nothing to drop */ }
}
