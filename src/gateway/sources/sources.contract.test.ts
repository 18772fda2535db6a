/**
 * One contract for the ConfigSource port, run against every implementation on real parts: the
 * in-process source and the registry watch source against a real registry (SQLite, HTTP), the
 * file source against a real directory. Each subject gives fresh sources over one configuration
 * and a way to publish a change to it (the registry's import API, or rewriting the file).
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { http } from '../../../test/support/http.js';
import { startRegistry } from '../../../test/support/registry.js';
import { waitFor } from '../../../test/support/gateway.js';
import { createLogger } from '../../lib/logger.js';
import type { RegistrySnapshot } from '../../model/snapshot.js';
import type { ConfigSource } from './config-source.js';
import { FileSource } from './file.js';
import { InProcessSource } from './in-process.js';
import { RegistrySource } from './registry.js';

const logger = createLogger(process.env.MCPGATE_TEST_LOG ?? 'silent');

/** A configuration under test. */
interface Fixture {
  /** A new, not yet started source over the configuration. */
  source(): ConfigSource;
  /** Publish `weather` with its one tool described as `description` (a new version each time). */
  publish(description: string): Promise<void>;
  close(): Promise<void>;
}

interface Subject {
  name: string;
  /** A fresh configuration, `weather` already published with `description`. */
  open(description: string): Promise<Fixture>;
}

/** The Higress-format definition of `weather`. */
function definition(description: string, version: string): string {
  return `server:\n  name: weather\n  version: ${version}\ntools:\n  - name: now\n    description: ${description}\n    requestTemplate:\n      url: http://127.0.0.1:1/now\n      method: GET\n`;
}

/** A registry whose changes go through its import API, as an operator's would. */
async function registryFixture(source: (reg: Awaited<ReturnType<typeof startRegistry>>, dir: string) => ConfigSource, description: string): Promise<Fixture> {
  const reg = await startRegistry({ revisionPollMs: 50 });
  const dir = mkdtempSync(join(tmpdir(), 'mcpgate-source-contract-'));
  let version = 0;
  const publish = async (text: string) => {
    const res = await http('POST', `${reg.url}/api/v1/namespaces/public/mcp-servers/import`, {
      body: { format: 'higress', content: definition(text, `1.0.${version++}`), publish: true },
    });
    assert.ok(res.status === 200 || res.status === 201, `import answered ${res.status}: ${res.text}`);
  };
  await publish(description);
  return { source: () => source(reg, dir), publish, close: () => reg.close() };
}

let caches = 0;
const subjects: Subject[] = [
  {
    name: 'in-process',
    open: (d) => registryFixture((reg) => new InProcessSource(reg.registry.services.watch, reg.registry.services.feed, { logger, retryDelayMs: 50 }), d),
  },
  {
    name: 'registry watch',
    open: (d) => registryFixture((reg, dir) => new RegistrySource({
      urls: [reg.url], cacheFile: join(dir, `cache-${caches++}.json`), logger, retryDelayMs: 50, maxRetryDelayMs: 200,
    }), d),
  },
  {
    name: 'file',
    async open(description) {
      const dir = mkdtempSync(join(tmpdir(), 'mcpgate-source-contract-'));
      let version = 0;
      // Replaced by a rename, as editors and Kubernetes ConfigMaps do.
      const publish = async (text: string) => {
        const tmp = join(dir, '.weather.yaml.tmp');
        writeFileSync(tmp, definition(text, `1.0.${version++}`));
        renameSync(tmp, join(dir, 'weather.yaml'));
      };
      await publish(description);
      return { source: () => new FileSource({ path: dir, logger, debounceMs: 20, pollMs: 100 }), publish, close: async () => undefined };
    },
  },
];

/** The description of `weather`'s tool in a snapshot, if it serves it. */
function described(s: RegistrySnapshot | undefined): string | undefined {
  return s?.mcpServers.find((m) => m.server.name === 'weather')?.spec.tools[0]?.description;
}

for (const subject of subjects) {
  describe(`ConfigSource contract: ${subject.name}`, () => {
    const open: Fixture[] = [];
    const started = new Set<ConfigSource>();
    after(async () => {
      for (const s of started) await s.stop();
      for (const f of open) await f.close();
    });
    const fixture = async (description: string) => {
      const f = await subject.open(description);
      open.push(f);
      return f;
    };
    const start = async (source: ConfigSource, onSnapshot: (s: RegistrySnapshot) => void) => {
      started.add(source);
      await source.start(onSnapshot);
    };

    it('delivers the published configuration before start() resolves, and describes itself', async () => {
      const f = await fixture('sunny');
      const source = f.source();
      const seen: RegistrySnapshot[] = [];
      await start(source, (s) => seen.push(s));
      assert.ok(seen.length >= 1, 'start() resolves after the first snapshot');
      assert.equal(described(seen.at(-1)), 'sunny');
      assert.ok(Number.isSafeInteger(seen[0]!.revision) && seen[0]!.revision >= 0);
      assert.match(source.describe(), /\S/);
    });

    it('delivers each change, with revisions that only go up', async () => {
      const f = await fixture('v1');
      const seen: RegistrySnapshot[] = [];
      await start(f.source(), (s) => seen.push(s));
      for (const next of ['v2', 'v3']) {
        await f.publish(next);
        await waitFor(`the source to deliver ${next}`, () => described(seen.at(-1)) === next, 30_000);
      }
      for (let i = 1; i < seen.length; i++) assert.ok(seen[i]!.revision > seen[i - 1]!.revision, `revisions increase: ${seen.map((s) => s.revision).join(', ')}`);
    });

    it('goes on delivering after the gateway refused a snapshot (its callback threw)', async () => {
      const f = await fixture('first');
      const seen: string[] = [];
      await start(f.source(), (s) => {
        const d = described(s) ?? '';
        seen.push(d);
        if (d === 'refused') throw new Error('the gateway refuses this one');
      });
      await f.publish('refused');
      await waitFor('the refused snapshot', () => seen.includes('refused'), 30_000);
      await f.publish('accepted');
      await waitFor('the next snapshot', () => seen.includes('accepted'), 30_000);
    });

    it('refuses a second start(), and delivers nothing after stop()', async () => {
      const f = await fixture('before');
      const source = f.source();
      const seen: string[] = [];
      await start(source, (s) => seen.push(described(s) ?? ''));
      await assert.rejects(source.start(() => undefined), /already started/);
      started.delete(source);
      await source.stop();
      const count = seen.length;
      // A second source on the same configuration proves the change was made and could be delivered.
      const witness: string[] = [];
      await start(f.source(), (s) => witness.push(described(s) ?? ''));
      await f.publish('after');
      await waitFor('the witness to see the change', () => witness.includes('after'), 30_000);
      assert.equal(seen.length, count, 'nothing was delivered after stop()');
    });
  });
}
