// What the gateway's /readyz means (docs/operations.md#health), as operators run it: a gateway
// role following a registry, its sessions in Redis. Ready = a snapshot is served, a registry
// answered within `registryGraceSeconds`, and Redis is up; each failing check takes it out of the
// load balancer (503, `checks` naming it) while it keeps serving whoever still reaches it.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startGateway, startRegistry } from '../src/cli/roles.js';
import type { Running } from '../src/cli/roles.js';
import { loadConfig } from '../src/config/config.js';
import { createLogger } from '../src/lib/logger.js';
import { ENVELOPE, createMcpServer, freePort, modernPost, restTool, waitFor } from './support/gateway.js';
import { privateRedisUnavailable, startPrivateRedis } from './support/redis.js';
import type { PrivateRedis } from './support/redis.js';

const logger = createLogger(process.env.MCPGATE_TEST_LOG ?? 'silent');

interface Readiness { status: string; checks: Record<string, boolean> }

async function readyz(url: string): Promise<{ status: number; body: Readiness }> {
  const r = await fetch(`${url}/readyz`);
  return { status: r.status, body: await r.json() as Readiness };
}

describe('gateway /readyz', { skip: privateRedisUnavailable() }, () => {
  let dir = '';
  let redis: PrivateRedis;
  let registry: Running | undefined;
  let gateway: Awaited<ReturnType<typeof startGateway>> | undefined;
  let registryPort = 0;
  let registryUrl = '';
  let gatewayUrl = '';
  const startTheRegistry = async () => {
    registry = await startRegistry(loadConfig('registry', {
      host: '127.0.0.1', registryPort, dataDir: dir, 'auth.enabled': false, revisionPollMs: 100,
    }, {}), logger);
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mcpgate-readyz-'));
    redis = await startPrivateRedis();
    registryPort = await freePort();
    registryUrl = `http://127.0.0.1:${registryPort}`;
    await startTheRegistry();
    await createMcpServer(registryUrl, 'public', { name: 'svc', endpoint: { type: 'direct', address: '127.0.0.1', port: 9 }, spec: { version: '1.0.0', tools: [restTool('t', { url: '/t' })] } });
    gateway = await startGateway(loadConfig('gateway', {
      host: '127.0.0.1', gatewayPort: 0, dataDir: dir, registries: [registryUrl], redis: redis.url, registryGraceSeconds: 0,
    }, {}), logger);
    gatewayUrl = `http://127.0.0.1:${gateway.gateway.port}`;
  });
  after(async () => {
    await gateway?.close();
    await registry?.close();
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('is 200 with every check named while the registry is followed and Redis is up', async () => {
    const r = await waitFor('ready', async () => { const x = await readyz(gatewayUrl); return x.status === 200 ? x : undefined; }, 10_000);
    assert.deepEqual(r.body.checks, { snapshot: true, registry: true, redis: true });
    assert.equal(r.body.status, 'UP');
  });

  it('is 503 (checks.redis false) while Redis is down, and 200 again when it answers', async () => {
    await redis.kill();
    const down = await waitFor('unready', async () => { const x = await readyz(gatewayUrl); return x.status === 503 ? x : undefined; }, 15_000, 50);
    assert.equal(down.body.status, 'DOWN');
    assert.equal(down.body.checks.redis, false);
    assert.equal(down.body.checks.registry, true);
    await redis.start();
    await waitFor('ready again', async () => (await readyz(gatewayUrl)).status === 200, 15_000, 50);
  });

  it('is 503 (checks.registry false) while no registry answers, still serving its snapshot, and 200 once one does', async () => {
    await registry?.close();
    registry = undefined;
    const down = await waitFor('unready', async () => { const x = await readyz(gatewayUrl); return x.status === 503 ? x : undefined; }, 15_000, 50);
    assert.equal(down.body.checks.registry, false);
    assert.equal(down.body.checks.snapshot, true);
    // Whoever still reaches it is served from the last snapshot.
    const list = await modernPost(`${gatewayUrl}/mcp/public/svc`, 1, 'tools/list', { _meta: ENVELOPE });
    assert.equal(list.status, 200, list.text);
    await startTheRegistry();
    await waitFor('ready again', async () => (await readyz(gatewayUrl)).status === 200, 30_000, 100);
  });
});
