import { EventEmitter } from 'node:events';
import { AppError } from '../../lib/errors.js';
import type { ErrorCode } from '../../lib/errors.js';
import type { Store, StoreWriter } from '../store/store.js';
import { UniqueViolationError } from '../store/store.js';

/**
 * Tells local watchers (watch API streams, the in-process gateway) that the registry moved
 * to a new revision: at once for writes made by this node, and by polling the database for
 * writes made by other nodes sharing it.
 */
export class ChangeFeed extends EventEmitter<{ revision: [number] }> {
  private last = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly store: Store) {
    super();
    this.setMaxListeners(0);
  }

  /** The newest revision this node knows of. */
  get revision(): number {
    return this.last;
  }

  /** Announce a revision (ignored unless it is newer than the last one). */
  notify(revision: number): void {
    if (revision <= this.last) return;
    this.last = revision;
    this.emit('revision', revision);
  }

  /** Start polling the store so that writes of other registry nodes are seen within `intervalMs`. */
  async start(intervalMs: number): Promise<void> {
    this.notify(await this.store.revision());
    this.timer = setInterval(() => {
      this.store.revision().then((r) => this.notify(r), () => { /* database briefly away: next tick retries */ });
    }, intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

/** What every registry service works with. */
export interface RegistryContext {
  store: Store;
  feed: ChangeFeed;
  now: () => number;
}

/**
 * Run one write transaction and announce its revision. A unique-constraint race (two nodes
 * creating the same name) becomes `conflict`.
 */
export async function write<T>(ctx: RegistryContext, fn: (tx: StoreWriter) => Promise<T>, conflict: ErrorCode = 'CONFLICT', options?: { relaxed?: boolean }): Promise<T> {
  let revision = 0;
  try {
    const result = await ctx.store.write(async (tx) => {
      revision = tx.txRevision;
      return fn(tx);
    }, options);
    ctx.feed.notify(revision);
    return result;
  } catch (err) {
    if (err instanceof UniqueViolationError) throw new AppError(conflict, 'a concurrent request created the same name; retry');
    throw err;
  }
}
