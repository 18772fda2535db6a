import { AsyncResource } from 'node:async_hooks';

/** What a batch answers for one of its items. */
export type BatchOutcome<O> = { ok: true; value: O } | { ok: false; error: unknown };

/** Runs a callback in the async context of the call that queued an item (AsyncLocalStorage values included). */
export type InContext = <T>(fn: () => T) => T;

/** One item of a batch, with the async context it was submitted in. */
export interface BatchItem<I> {
  item: I;
  inContext: InContext;
}

/**
 * When an idle batcher starts its next batch: `microtask` right after the synchronous code that
 * submitted the first item (calls made together with `Promise.all` share it); `immediate` after
 * the event loop's current poll phase, so that items submitted by every request read in that
 * phase (many connections, each its own callback) share it too. `immediate` matters when a batch
 * completes without waiting for I/O (SQLite answers synchronously): started at once, every
 * batch would hold a single item.
 */
export type BatchStart = 'microtask' | 'immediate';

/**
 * Natural batching: items submitted while a batch runs wait and form the next batch (at most
 * `max` items); an item submitted while nothing runs starts a batch without a timer (see
 * `BatchStart`), so no timer adds latency. `run` answers one outcome per item, in order; when it
 * throws, every item of the batch fails with that error. Written by hand: the few batching
 * libraries on npm wait on a timer or lose the caller's async context.
 */
export class Batcher<I, O> {
  private readonly queue: { entry: BatchItem<I>; resolve: (value: O) => void; reject: (err: unknown) => void }[] = [];
  private running = false;

  constructor(
    private readonly run: (items: BatchItem<I>[]) => Promise<BatchOutcome<O>[]>,
    private readonly max: number,
    private readonly start: BatchStart = 'microtask',
  ) {}

  /** Queue an item; resolves or rejects with its outcome once its batch ran. */
  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      // An AsyncResource captures the caller's context (`AsyncResource.bind` costs more: it wraps a deprecated getter per call).
      const resource = new AsyncResource('mcpgate.batch-item');
      const inContext: InContext = (fn) => resource.runInAsyncScope(fn);
      this.queue.push({ entry: { item, inContext }, resolve, reject });
      if (this.running) return;
      this.running = true;
      if (this.start === 'immediate') setImmediate(() => void this.drain());
      // After the current synchronous code: calls made together (`Promise.all`) share the first batch, and a
      // lone call waits for no turn of the event loop.
      else queueMicrotask(() => void this.drain());
    });
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, this.max);
        let outcomes: BatchOutcome<O>[];
        try {
          outcomes = await this.run(batch.map((b) => b.entry));
        } catch (err) {
          outcomes = batch.map(() => ({ ok: false, error: err }));
        }
        batch.forEach((b, k) => {
          const o = outcomes[k];
          if (o?.ok) b.resolve(o.value);
          else b.reject(o ? o.error : new Error('the batch answered no outcome for this item'));
        });
      }
    } finally {
      this.running = false;
    }
  }
}
