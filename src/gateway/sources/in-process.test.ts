// InProcessSource against a real registry (SQLite): first snapshot, fast delivery, coalescing, order.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startRegistry } from '../../../test/support/registry.js';
import type { TestRegistry } from '../../../test/support/registry.js';
import { fromHigress } from '../../model/convert/higress.js';
import type { McpServerSpec } from '../../model/model.js';
import type { RegistrySnapshot, SnapshotReader } from '../../model/snapshot.js';
import { InProcessSource } from './in-process.js';

function spec(version: string, description: string): McpServerSpec {
  const { spec: s } = fromHigress({
    server: { name: 'weather', version },
    tools: [{ name: 'now', description, requestTemplate: { url: 'http://127.0.0.1:1/now', method: 'GET' } }],
  });
  return s;
}

/** The registry's real WatchService, counting how many snapshot reads run at once. */
class CountingWatch implements SnapshotReader {
  inFlight = 0;
  maxInFlight = 0;
  reads = 0;
  constructor(private readonly watch: SnapshotReader) {}
  async snapshot(): Promise<RegistrySnapshot> {
    this.reads++;
    this.maxInFlight = Math.max(this.maxInFlight, ++this.inFlight);
    try {
      return await this.watch.snapshot();
    } finally {
      this.inFlight--;
    }
  }
}

function waitFor<T>(check: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const tick = () => {
      const value = check();
      if (value !== undefined) return resolve(value);
      if (Date.now() - started > timeoutMs) return reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      setTimeout(tick, 2);
    };
    tick();
  });
}

describe('InProcessSource', () => {
  let reg: TestRegistry;
  // Polling far too slow to matter: what the source delivers, it was pushed by the write.
  before(async () => { reg = await startRegistry({ revisionPollMs: 3_600_000 }); });
  after(async () => { await reg.close(); });

  it('delivers the snapshot at start, then a registry write as it is made (pushed, not polled)', async () => {
    const { services } = reg.registry;
    const source = new InProcessSource(services.watch, services.feed);
    const seen: RegistrySnapshot[] = [];
    await source.start((s) => seen.push(s));
    try {
      assert.equal(seen.length, 1, 'start resolves after the first snapshot');
      assert.equal(seen[0]!.revision, await services.store.revision());
      assert.match(source.describe(), /in-process/);

      await services.mcp.create('public', { name: 'weather' }, spec('1.0.0', 'current weather'), true);
      const delivered = await waitFor(() => seen.find((s) => s.mcpServers.some((m) => m.server.name === 'weather')), 30_000, 'the new server');
      assert.equal(delivered.mcpServers.find((m) => m.server.name === 'weather')?.spec.tools[0]?.description, 'current weather');
    } finally {
      await source.stop();
    }
  });

  it('coalesces a burst of writes (one read in flight) and never goes back in revision', async () => {
    const { services } = reg.registry;
    const watch = new CountingWatch(services.watch);
    const source = new InProcessSource(watch, services.feed);
    const seen: number[] = [];
    let lastDescription = '';
    await source.start((s) => {
      seen.push(s.revision);
      lastDescription = s.mcpServers.find((m) => m.server.name === 'burst')?.spec.tools[0]?.description ?? '';
    });
    try {
      const writes = 30;
      await services.mcp.create('public', { name: 'burst' }, { ...spec('1', 'v1'), version: '1' }, true);
      for (let i = 2; i <= writes; i++) {
        await services.mcp.saveVersion('public', { name: 'burst' }, {}, { ...spec(String(i), `v${i}`), version: String(i) }, true);
      }
      const final = await services.store.revision();
      await waitFor(() => (seen.at(-1) === final ? true : undefined), 2000, `revision ${final}`);
      assert.equal(lastDescription, `v${writes}`, 'the last write is what is served');
      for (let i = 1; i < seen.length; i++) assert.ok(seen[i]! > seen[i - 1]!, `revisions increase: ${seen.join(', ')}`);
      assert.equal(watch.maxInFlight, 1, 'at most one snapshot read at a time');
      assert.ok(watch.reads < writes, `${watch.reads} reads for ${writes} writes`);
    } finally {
      await source.stop();
    }
    const before = seen.length;
    await services.mcp.saveVersion('public', { name: 'burst' }, {}, { ...spec('after-stop', 'x'), version: 'after-stop' }, true);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(seen.length, before, 'nothing is delivered after stop()');
  });
});
