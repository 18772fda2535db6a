// Graceful shutdown of a gateway (docs/operations.md#graceful-shutdown): on drain, /readyz turns
// 503 at once while requests are still served; then the listener closes (new connections are
// refused, kept ones are answered once more with `Connection: close`), open streams get an SSE
// `retry:` and end, and a call in flight finishes with its answer before the gateway stops. A
// call longer than the deadline is cut.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent as HttpAgent, createServer, request as httpRequest } from 'node:http';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServe } from '../src/cli/roles.js';
import { loadConfig } from '../src/config/config.js';
import { createLogger } from '../src/lib/logger.js';
import { createMcpServer, firstText, legacyPost, legacySession, rawStream, restTool, waitFor } from './support/gateway.js';

const logger = createLogger(process.env.MCPGATE_TEST_LOG ?? 'silent');

describe('gateway drain (SIGTERM)', () => {
  let backend: Server;
  let backendUrl = '';
  /** Slow calls waiting for the test to answer them, by key. */
  const waiting = new Map<string, () => void>();
  const dirs: string[] = [];

  before(async () => {
    backend = createServer((req, res) => {
      const key = new URL(req.url ?? '/', 'http://b').searchParams.get('key') ?? '';
      const answer = () => { res.writeHead(200, { 'content-type': 'application/json' }); res.end(JSON.stringify({ key })); };
      if (key.startsWith('slow')) waiting.set(key, answer);
      else answer();
    });
    await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', () => resolve()));
    backendUrl = `http://127.0.0.1:${(backend.address() as { port: number }).port}`;
  });
  after(async () => {
    backend.closeAllConnections();
    await new Promise<void>((resolve) => backend.close(() => resolve()));
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  async function stack(drain: { shutdownDelaySeconds: number; shutdownTimeoutSeconds: number }) {
    const dir = mkdtempSync(join(tmpdir(), 'mcpgate-drain-'));
    dirs.push(dir);
    const s = await startServe(loadConfig('serve', {
      host: '127.0.0.1', registryPort: 0, gatewayPort: 0, dataDir: dir, 'auth.enabled': false, ...drain,
    }, {}), logger);
    const registryUrl = `http://127.0.0.1:${s.registry.port}`;
    await createMcpServer(registryUrl, 'public', {
      name: 'svc', endpoint: { type: 'url', url: backendUrl },
      spec: { version: '1.0.0', tools: [restTool('echo', { url: '/echo', properties: { key: { type: 'string' } }, argsToUrlParam: true, response: { body: 'got {{ .key }}' } })] },
    });
    const base = `http://127.0.0.1:${s.gateway.port}`;
    const url = `${base}/mcp/public/svc`;
    await waitFor('the server served', async () => (await fetch(`${base}/readyz`)).status === 200 && (await legacySession(url)).length > 0, 10_000);
    return { s, base, url };
  }

  it('turns unready at once, tells streams to reconnect, finishes the call in flight, then refuses connections', async () => {
    const { s, base, url } = await stack({ shutdownDelaySeconds: 2, shutdownTimeoutSeconds: 30 });
    const agent = new HttpAgent({ keepAlive: true, maxSockets: 1 });
    try {
      const session = await legacySession(url, {}, '2025-11-25');
      const headers = { 'mcp-session-id': session, 'mcp-protocol-version': '2025-11-25' };
      const stream = await rawStream(url, headers);
      assert.equal(stream.status, 200);
      const call = legacyPost(url, session, 1, 'tools/call', { name: 'echo', arguments: { key: 'slow-1' } }, headers);
      await waitFor('the slow call at the backend', () => waiting.has('slow-1'));

      const drained = s.drain();
      // Unready at once, while it still answers (the delay: the load balancer's notice).
      const ready = await fetch(`${base}/readyz`);
      assert.equal(ready.status, 503);
      const body = await ready.json() as { checks: Record<string, boolean>; draining?: boolean };
      assert.equal(body.checks.accepting, false);
      assert.equal(body.draining, true);
      const during = await legacyPost(url, session, 2, 'tools/call', { name: 'echo', arguments: { key: 'during' } }, headers);
      assert.equal(firstText(during.body.result), 'got during', 'calls are still served during the delay');
      // A connection kept by a client (a proxy's keep-alive pool) during the delay…
      const kept = await keptGet(agent, `${base}/healthz`);
      assert.equal(kept.connection, 'keep-alive', 'answers keep their connection during the delay');

      // The listener closes: the stream is told to come back soon and ends.
      await stream.ended;
      assert.match(stream.text(), /\nretry: 250\n\n$/, 'the stream ends with a short retry');
      await waitFor('connections refused', async () => fetch(`${base}/healthz`).then(() => false, () => true), 10_000, 50);
      // …is not cut under it (a request written on it would be lost): its next request is
      // answered, and that answer closes it.
      const last = await keptGet(agent, `${base}/healthz`);
      assert.equal(last.status, 200, 'a request on a kept connection is answered after the listener closed');
      assert.equal(last.connection, 'close', 'that answer closes the connection');
      assert.equal(last.reused, true, 'on the connection kept from before');

      // The call in flight gets its answer, then the gateway stops.
      waiting.get('slow-1')?.();
      const answer = await call;
      assert.equal(answer.status, 200);
      assert.equal(firstText(answer.body.result), 'got slow-1');
      await drained;
    } finally {
      agent.destroy();
      await s.close();
    }
  });

  it('cuts a call still running at the deadline', async () => {
    const { s, url } = await stack({ shutdownDelaySeconds: 0, shutdownTimeoutSeconds: 0.5 });
    try {
      const session = await legacySession(url);
      const call = legacyPost(url, session, 1, 'tools/call', { name: 'echo', arguments: { key: 'slow-2' } }).then(() => 'answered', () => 'cut');
      await waitFor('the slow call at the backend', () => waiting.has('slow-2'));
      const result = await s.gateway.drain({ delayMs: 0, timeoutMs: 500 });
      assert.equal(result.cut, 1);
      assert.equal(await call, 'cut');
    } finally {
      waiting.get('slow-2')?.();
      await s.close();
    }
  });
});

/** A GET on a keep-alive agent: its status, its `Connection` header, and whether it went on a kept socket. */
function keptGet(agent: HttpAgent, url: string): Promise<{ status: number; connection: string | undefined; reused: boolean }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { agent }, (res) => {
      res.resume();
      res.once('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, reused: req.reusedSocket }));
    });
    req.on('error', reject);
    req.end();
  });
}
