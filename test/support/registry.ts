/** Start a real registry (HTTP on an ephemeral loopback port) for end-to-end tests. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/config.js';
import type { Config } from '../../src/config/config.js';
import { createLogger } from '../../src/lib/logger.js';
import { Registry } from '../../src/registry/registry.js';

/** A registry under test and its base URL. */
export interface TestRegistry {
  registry: Registry;
  url: string;
  config: Config;
  close(): Promise<void>;
}

/** Start a registry on `db` (default: a fresh SQLite file); auth off unless `auth` is true. */
export async function startRegistry(opts: { db?: string; auth?: boolean; adminPassword?: string; env?: Record<string, string>; revisionPollMs?: number } = {}): Promise<TestRegistry> {
  const dataDir = mkdtempSync(join(tmpdir(), 'mcpgate-reg-'));
  const config = loadConfig('serve', {
    registryPort: 0, host: '127.0.0.1', dataDir, db: opts.db ?? `sqlite:${join(dataDir, 'mcpgate.db')}`,
    'auth.enabled': opts.auth ?? false, revisionPollMs: opts.revisionPollMs ?? 100,
  }, { MCPGATE_ADMIN_PASSWORD: opts.adminPassword ?? 'admin-password-1', ...opts.env });
  const registry = await Registry.start(config, createLogger(process.env.MCPGATE_TEST_LOG ?? 'silent'));
  return { registry, url: `http://127.0.0.1:${registry.port}`, config, close: () => registry.close() };
}
