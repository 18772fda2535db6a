// auth.gatewayToken: the registry provisions the gateways' API token at start, so that a
// deployment gives one Secret to registries and gateways with no manual step in between;
// idempotent across restarts (and nodes starting together).
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config/config.js';
import { createLogger } from '../src/lib/logger.js';
import { Registry } from '../src/registry/registry.js';

const logger = createLogger(process.env.MCPGATE_TEST_LOG ?? 'silent');

describe('auth.gatewayToken', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mcpgate-gwtoken-'));
  const token = `mgt_${randomBytes(24).toString('hex')}`;
  after(() => rmSync(dir, { recursive: true, force: true }));
  const start = async () => [await Registry.start(loadConfig('registry', { host: '127.0.0.1', registryPort: 0, dataDir: dir }, {
    MCPGATE_ADMIN_PASSWORD: 'admin-password-1', MCPGATE_GATEWAY_TOKEN: token,
  }), logger)];

  it('is an API token of the user gateway, with the gateway role on every namespace, made once across restarts', async () => {
    for (let round = 0; round < 2; round++) {
      const nodes = await start();
      try {
        const url = `http://127.0.0.1:${nodes[0]?.port}`;
        const me = await fetch(`${url}/api/v1/auth/me`, { headers: { authorization: `Bearer ${token}` } });
        assert.equal(me.status, 200);
        const principal = await me.json() as { username: string; roles: unknown };
        assert.equal(principal.username, 'gateway');
        assert.deepEqual(principal.roles, [{ namespace: '*', role: 'gateway' }]);
        assert.equal((await nodes[0]?.services.store.listApiTokens('gateway'))?.length, 1);
        const wrong = await fetch(`${url}/api/v1/auth/me`, { headers: { authorization: `Bearer mgt_${'x'.repeat(48)}` } });
        assert.equal(wrong.status, 401);
      } finally {
        for (const n of nodes) await n.close();
      }
    }
  });
});
