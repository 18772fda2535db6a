import { EventEmitter } from 'node:events';
import { AppError } from '../../lib/errors.js';
import type { ErrorCode } from '../../lib/errors.js';
import type { RevisionSubscription, Store, StoreWriter } from '../store/store.js';
import { UniqueViolationError } from '../store/store.js';

/**
 * Tells local watchers (watch API streams, the in-process gateway) that the registry moved
 * to a new revision: at once for writes made by this node; for writes made by other nodes
 * sharing the database, as soon as the database announces them where it can (PostgreSQL
 * LISTEN/NOTIFY), and in any case by polling the database every `intervalMs`.
 */
export class ChangeFeed extends EventEmitter<{ revision: [number] }> {
  private last = 0;
  private timer: NodeJS.Timeout | undefined;
  private subscription: RevisionSubscription | undefined;

  constructor(private readonly store: Store) {
    super();
    this.setMaxListeners(0);
  }

  /** The newest revision this node knows of. */
  get revision(): number {
    return this.last;
  }

  /** How this node hears of other nodes' writes: pushed by the database (and polled), or polled only. */
  get source(): 'push' | 'poll' {
    return this.subscription?.listening ? 'push' : 'poll';
  }

  /** Announce a revision (ignored unless it is newer than the last one). */
  notify(revision: number): void {
    if (revision <= this.last) return;
    this.last = revision;
    this.emit('revision', revision);
  }

  /**
   * Start polling the store so that writes of other registry nodes are seen within
   * `intervalMs`, and listen for the revisions the database pushes when it can (waiting up
   * to `listenWaitMs` for that listener to be up).
   */
  async start(intervalMs: number, listenWaitMs = 2000): Promise<void> {
    this.notify(await this.store.revision());
    this.timer = setInterval(() => {
      this.store.revision().then((r) => this.notify(r), () => { /* database briefly away: next tick retries */ });
    }, intervalMs);
    this.timer.unref();
    this.subscription = this.store.subscribeRevisions((r) => this.notify(r));
    if (this.subscription) {
      let wait: NodeJS.Timeout | undefined;
      await Promise.race([this.subscription.ready, new Promise<void>((resolve) => { wait = setTimeout(resolve, listenWaitMs); })]);
      clearTimeout(wait);
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    const s = this.subscription;
    this.subscription = undefined;
    await s?.close();
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
