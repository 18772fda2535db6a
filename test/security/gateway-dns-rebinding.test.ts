// Issue 10, finding 4: on the gateway, `Host: evil.example` with a matching `Origin` passed, and
// `/^127\./` was applied to host names, so `127.0.0.1.evil.example` passed. Now the Host is
// checked against the bound address and the configured names (loopback means IP literals and
// `localhost`), on every path and era, by the shared OriginPolicy.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Gateway } from '../../src/gateway/gateway.js';
import { FileSource } from '../../src/gateway/sources/file.js';
import { createLogger } from '../../src/lib/logger.js';
import { ENVELOPE, legacySession, openSse } from '../support/gateway.js';
import { startBackend } from '../support/stack.js';
import type { TestStack } from '../support/stack.js';
import { raw, stackWithEcho } from './gateway-support.js';

const logger = createLogger(process.env.MCPGATE_TEST_LOG ?? 'silent');
const initialize = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } } });
const modernList = JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list', params: { _meta: ENVELOPE } });
const modernHeaders = { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/list' };
const accept = { accept: 'application/json, text/event-stream' };

describe('DNS rebinding on a gateway bound to loopback (finding 4)', () => {
  let backend: Awaited<ReturnType<typeof startBackend>>;
  let stack: TestStack;
  let url: string;
  let port: string;

  before(async () => {
    backend = await startBackend((_r, res) => { res.writeHead(200); res.end('{}'); });
    ({ stack, url } = await stackWithEcho(backend.url));
    port = new URL(url).port;
  });
  after(async () => {
    await stack?.close();
    await backend?.close();
  });

  it('refuses the report\'s requests: Host evil.example with a matching Origin, and 127.0.0.1.evil.example, with 403 on every era', async () => {
    for (const host of [`evil.example:${port}`, `127.0.0.1.evil.example:${port}`, 'evil.example', `localhost.evil.example:${port}`, `[::1].evil.example:${port}`]) {
      const origin = { host, origin: `http://${host}` };
      const answers = [
        await raw(url, { headers: { ...accept, ...origin }, body: initialize }),
        await raw(url, { headers: { ...accept, ...modernHeaders, ...origin }, body: modernList }),
        await raw(url, { headers: { ...accept, ...modernHeaders, host }, body: modernList }),
        await raw(`${url}/sse`, { headers: { accept: 'text/event-stream', ...origin } }),
      ];
      for (const a of answers) {
        assert.equal(a.status, 403, `${host}: ${a.text}`);
        assert.equal(a.json.error.code, -32000);
        assert.match(a.json.error.message, /^Forbidden: Host '.*' is not (a name this server answers to \(DNS rebinding protection\)|a valid host)/);
      }
    }
  });

  it('refuses the legacy SSE message endpoint and a 2025 session\'s requests under a foreign Host', async () => {
    const session = await legacySession(url);
    const inSession = await raw(url, { headers: { ...accept, host: `evil.example:${port}`, 'mcp-session-id': session, 'mcp-protocol-version': '2025-06-18' }, body: JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'tools/list' }) });
    assert.equal(inSession.status, 403);
    const stream = await openSse(`${url}/sse`);
    try {
      const endpoint = new URL((await stream.next((e) => e.event === 'endpoint')).data, url).toString();
      const message = await raw(endpoint, { headers: { host: `rebound.example:${port}`, origin: `http://rebound.example:${port}` }, body: JSON.stringify({ jsonrpc: '2.0', id: 4, method: 'tools/list' }) });
      assert.equal(message.status, 403);
    } finally {
      stream.close();
    }
  });

  it('refuses probes and metrics under a foreign Host too, and answers them by IP or localhost', async () => {
    for (const path of ['/healthz', '/readyz', '/metrics']) {
      const evil = await raw(`${stack.gatewayUrl}${path}`, { headers: { host: `evil.example:${port}` } });
      assert.equal(evil.status, 403, path);
      assert.equal(evil.json.error.code, 'FORBIDDEN_HOST');
      for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `127.1.2.3:${port}`]) assert.equal((await raw(`${stack.gatewayUrl}${path}`, { headers: { host } })).status, 200, `${path} ${host}`);
    }
  });

  it('serves loopback names and IP literals, with loopback and own origins (local MCP clients such as the Inspector)', async () => {
    for (const [host, origin] of [
      [`127.0.0.1:${port}`, undefined], [`localhost:${port}`, `http://localhost:${port}`], [`127.0.0.1:${port}`, 'http://localhost:6274'],
      [`localhost:${port}`, 'http://127.0.0.1:6274'], [`[::1]:${port}`, undefined],
    ] as const) {
      const r = await raw(url, { headers: { ...accept, ...modernHeaders, host, ...(origin ? { origin } : {}) }, body: modernList });
      assert.equal(r.status, 200, `${host} ${origin}: ${r.text}`);
    }
    const foreignOrigin = await raw(url, { headers: { ...accept, ...modernHeaders, host: `127.0.0.1:${port}`, origin: 'http://evil.example' }, body: modernList });
    assert.equal(foreignOrigin.status, 403);
    assert.match(foreignOrigin.json.error.message, /Origin 'http:\/\/evil.example' is not allowed/);
    const crossSite = await raw(url, { headers: { ...accept, ...modernHeaders, host: `127.0.0.1:${port}`, 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'no-cors' }, body: modernList });
    assert.equal(crossSite.status, 403, 'a cross-site browser request without Origin');
  });
});

describe('DNS rebinding on a gateway bound to every address', () => {
  let dir: string;
  let open: Gateway;
  let strict: Gateway;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mcpgate-rebinding-'));
    writeFileSync(join(dir, 'svc.yaml'), 'server:\n  name: svc\ntools:\n- name: noop\n  description: nothing\n  requestTemplate:\n    url: http://127.0.0.1:9/noop\n    method: GET\n');
    open = await Gateway.start({ host: '0.0.0.0', port: 0, logger, source: new FileSource({ path: dir, logger }) });
    strict = await Gateway.start({ host: '0.0.0.0', port: 0, logger, source: new FileSource({ path: dir, logger }), allowedHosts: ['mcp.example.com', '*.gw.example.com'] });
  });
  after(async () => {
    await open?.close();
    await strict?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const post = (gw: Gateway, headers: Record<string, string>) => raw(`http://127.0.0.1:${gw.port}/mcp/public/svc`, { headers: { ...accept, ...modernHeaders, ...headers }, body: modernList });

  it('refuses browsers addressing it by a foreign name, serves IP literals, and non-browser clients by any name', async () => {
    assert.equal((await post(open, { host: 'evil.example', origin: 'http://evil.example' })).status, 403);
    assert.equal((await post(open, { host: '127.0.0.1.evil.example', origin: 'http://127.0.0.1.evil.example' })).status, 403);
    assert.equal((await post(open, { host: `10.1.2.3:${open.port}`, origin: `http://10.1.2.3:${open.port}` })).status, 200, 'its own origin by IP');
    assert.equal((await post(open, { host: 'gateway.internal' })).status, 200, 'curl or an SDK by a DNS name (no Origin, no fetch metadata)');
  });

  it('with allowedHosts, takes only those names (and IP literals) from anyone', async () => {
    assert.equal((await post(strict, { host: 'gateway.internal' })).status, 403);
    assert.equal((await post(strict, { host: 'mcp.example.com' })).status, 200);
    assert.equal((await post(strict, { host: 'a.gw.example.com:8080' })).status, 200);
    assert.equal((await post(strict, { host: 'gw.example.com' })).status, 403, 'the wildcard is for subdomains');
    assert.equal((await post(strict, { host: `127.0.0.1:${strict.port}` })).status, 200);
  });
});
