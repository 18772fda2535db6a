// A health probe says why it failed: the HTTP status, a refused connection, a timeout.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { describe, it } from 'node:test';
import { freePort } from '../../../test/support/gateway.js';
import type { Instance } from '../../model/model.js';
import { probe } from './checker.js';

function instance(port: number, healthCheck: Instance['healthCheck']): Instance {
  return {
    id: 'i', namespace: 'public', serviceId: 's', group: 'DEFAULT_GROUP', serviceName: 'svc', ip: '127.0.0.1', port, cluster: 'DEFAULT', weight: 1,
    enabled: true, healthy: true, ephemeral: false, metadata: {}, healthCheck, lastBeat: 0, createdAt: 0, updatedAt: 0,
  };
}

const check = (type: 'tcp' | 'http', path = '/'): Instance['healthCheck'] => ({ type, path, port: 0, intervalMs: 1000, timeoutMs: 2000, healthyThreshold: 1, unhealthyThreshold: 1 });

describe('health probes', () => {
  it('passes a 2xx answer and names the status of another', async () => {
    const server = createServer((req, res) => { res.writeHead(req.url === '/health' ? 200 : 503); res.end(); });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const { port } = server.address() as { port: number };
    try {
      assert.deepEqual(await probe(instance(port, check('http', '/health'))), { ok: true });
      assert.deepEqual(await probe(instance(port, check('http', '/ready'))), { ok: false, detail: `GET /ready on port ${port} answered HTTP 503` });
      assert.deepEqual(await probe(instance(port, check('tcp'))), { ok: true });
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('says a connection was refused', async () => {
    const port = await freePort();
    assert.deepEqual(await probe(instance(port, check('tcp'))), { ok: false, detail: `TCP connect to port ${port}: connection refused (ECONNREFUSED)` });
    const http = await probe(instance(port, check('http', '/health')));
    assert.equal(http.ok, false);
    assert.match(http.detail ?? '', new RegExp(`^GET /health on port ${port}: connection refused \\(ECONNREFUSED\\)$`));
  });
});
