/** Start `mcpgate serve` in process (registry + gateway on ephemeral loopback ports) for end-to-end tests. */
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServe } from '../../src/cli/roles.js';
import { loadConfig } from '../../src/config/config.js';
import { createLogger } from '../../src/lib/logger.js';

/** A running serve stack. */
export interface TestStack {
  registryUrl: string;
  gatewayUrl: string;
  close(): Promise<void>;
  stack: Awaited<ReturnType<typeof startServe>>;
}

/** Start registry + gateway; auth off unless asked; `options`: further configuration options by key (e.g. `maxSessions`). */
export async function startStack(opts: { db?: string; auth?: boolean; redis?: string; options?: Record<string, unknown> } = {}): Promise<TestStack> {
  const dataDir = mkdtempSync(join(tmpdir(), 'mcpgate-stack-'));
  const config = loadConfig('serve', {
    registryPort: 0, gatewayPort: 0, host: '127.0.0.1', dataDir, db: opts.db ?? `sqlite:${join(dataDir, 'mcpgate.db')}`,
    'auth.enabled': opts.auth ?? false, revisionPollMs: 100, ...(opts.redis ? { redis: opts.redis } : {}), ...opts.options,
  }, { MCPGATE_ADMIN_PASSWORD: 'admin-password-1' });
  const stack = await startServe(config, createLogger(process.env.MCPGATE_TEST_LOG ?? 'silent'));
  return {
    stack, registryUrl: `http://127.0.0.1:${stack.registry.port}`, gatewayUrl: `http://127.0.0.1:${stack.gateway.port}`,
    close: () => stack.close(),
  };
}

/** One request a test backend received. */
export interface Recorded {
  method: string;
  path: string;
  query: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** A local HTTP backend that records what it receives and answers with `respond`. */
export async function startBackend(respond: (r: Recorded, res: ServerResponse) => void): Promise<{ url: string; port: number; requests: Recorded[]; server: Server; close(): Promise<void> }> {
  const requests: Recorded[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://backend');
      const r: Recorded = { method: req.method ?? '', path: url.pathname, query: url.search.slice(1), headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      requests.push(r);
      respond(r, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`, port, requests, server,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
