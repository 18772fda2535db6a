import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { currentRequestId, holdRequestScopes, runWithRequestId } from './request-context.js';

test('a scope follows its request through awaits while held, and the storage is off a second after the last hold ends', async () => {
  const release = holdRequestScopes();
  const seen = await runWithRequestId('req-a', async () => {
    await sleep(1);
    return currentRequestId();
  });
  assert.equal(seen, 'req-a');
  const second = holdRequestScopes();
  release();
  release(); // once only: the second hold still counts
  await sleep(1100);
  const kept = runWithRequestId('req-b', () => new Promise<string | undefined>((resolve) => setImmediate(() => resolve(currentRequestId()))));
  assert.equal(await kept, 'req-b', 'still held');
  second();
  // Work started in a scope before the storage was switched off reads nothing after it on Node 20
  // (its promise hook is what carried the scope); from Node 24 a scope is a frame the continuation
  // captured when it was made, and disabling the storage does not take it back.
  const late = runWithRequestId('req-c', () => sleep(1300).then(() => currentRequestId()));
  assert.equal(await late, Number(process.versions.node.split('.')[0]) >= 24 ? 'req-c' : undefined);
  // A scope entered afterwards works again.
  assert.equal(await runWithRequestId('req-d', async () => { await sleep(1); return currentRequestId(); }), 'req-d');
});
