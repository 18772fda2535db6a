// Natural batching: what waits while a batch runs forms the next one; how an idle batcher starts.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AsyncLocalStorage } from 'node:async_hooks';
import { Batcher } from './batcher.js';
import type { BatchStart } from './batcher.js';

/** A batcher that records its batches and answers each item doubled (an item 13 fails alone). */
function recording(start: BatchStart, max = 10) {
  const batches: number[][] = [];
  const batcher = new Batcher<number, number>(async (items) => {
    batches.push(items.map((i) => i.item));
    await new Promise((r) => setImmediate(r));
    return items.map((i) => (i.item === 13 ? { ok: false, error: new Error('thirteen') } : { ok: true, value: i.item * 2 }));
  }, max, start);
  return { batches, batcher };
}

/** Submit each item from its own event-loop callback, all in one turn of the loop (as requests of many connections arrive). */
function fromSeparateCallbacks(batcher: Batcher<number, number>, items: number[]): Promise<PromiseSettledResult<number>[]> {
  return new Promise((resolve) => {
    const out: Promise<number>[] = [];
    items.forEach((n, k) => setImmediate(() => {
      out.push(batcher.submit(n));
      if (k === items.length - 1) resolve(Promise.allSettled(out));
    }));
  });
}

describe('Batcher', () => {
  it("'immediate' gathers the items submitted by separate callbacks of one turn of the event loop into one batch", async () => {
    const { batches, batcher } = recording('immediate');
    const settled = await fromSeparateCallbacks(batcher, [1, 2, 3, 4]);
    assert.deepEqual(batches, [[1, 2, 3, 4]]);
    assert.deepEqual(settled.map((s) => (s.status === 'fulfilled' ? s.value : 'failed')), [2, 4, 6, 8]);
  });

  it("'microtask' starts a batch with the first of them; the others wait and form the next", async () => {
    const { batches, batcher } = recording('microtask');
    await fromSeparateCallbacks(batcher, [1, 2, 3, 4]);
    assert.deepEqual(batches, [[1], [2, 3, 4]]);
  });

  it('answers each item on its own, keeps batches to their maximum, and runs each in its caller’s async context', async () => {
    const { batches, batcher } = recording('immediate', 3);
    const als = new AsyncLocalStorage<string>();
    const seen: string[] = [];
    const b = new Batcher<number, string>(async (items) => items.map((i) => ({ ok: true, value: i.inContext(() => als.getStore() ?? 'none') })), 10, 'immediate');
    const [settled] = await Promise.all([
      Promise.allSettled([11, 12, 13, 14, 15].map((n) => batcher.submit(n))),
      ...['a', 'b'].map((who) => als.run(who, () => b.submit(0).then((v) => { seen.push(v); }))),
    ]);
    assert.deepEqual(batches, [[11, 12, 13], [14, 15]]);
    assert.deepEqual(settled.map((s) => (s.status === 'fulfilled' ? s.value : (s.reason as Error).message)), [22, 24, 'thirteen', 28, 30]);
    assert.deepEqual(seen.sort(), ['a', 'b']);
  });
});
