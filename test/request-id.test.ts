// A request id in every answer (X-Request-Id), in every error body, and on every log line
// written while serving the request: an operator finds the log line of an error an agent got.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { startServe } from '../src/cli/roles.js';
import { loadConfig } from '../src/config/config.js';
import { createLogger } from '../src/lib/logger.js';
import { createMcpServer, freePort, mcpPost, restTool, waitFor } from './support/gateway.js';

describe('request ids', () => {
  const lines: Record<string, unknown>[] = [];
  let dir = '';
  let stack: Awaited<ReturnType<typeof startServe>> | undefined;
  let registryUrl = '';
  let gatewayUrl = '';

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mcpgate-reqid-'));
    const sink = new Writable({ write(chunk: Buffer, _enc, done) { for (const l of chunk.toString('utf8').split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>); done(); } });
    // Sessions in a Redis that does not answer: every session request fails, and is logged.
    const deadRedis = `redis://127.0.0.1:${await freePort()}`;
    stack = await startServe(loadConfig('serve', {
      host: '127.0.0.1', registryPort: 0, gatewayPort: 0, dataDir: dir, 'auth.enabled': false, redis: deadRedis, logLevel: 'info',
    }, {}), createLogger('info', 'mcpgate', sink));
    registryUrl = `http://127.0.0.1:${stack.registry.port}`;
    gatewayUrl = `http://127.0.0.1:${stack.gateway.port}`;
    await createMcpServer(registryUrl, 'public', { name: 'svc', endpoint: { type: 'direct', address: '127.0.0.1', port: 9 }, spec: { version: '1.0.0', tools: [restTool('t', { url: '/t' })] } });
  });
  after(async () => {
    await stack?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const initialize = (headers: Record<string, string> = {}) => mcpPost(`${gatewayUrl}/mcp/public/svc`, {
    jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
  }, headers);

  it('gateway: the error answer and its log line carry the same id', async () => {
    const r = await initialize();
    assert.equal(r.status, 503, r.text);
    const id = r.headers.get('x-request-id');
    assert.ok(id, 'X-Request-Id on the answer');
    assert.equal(r.body.error.data.requestId, id, 'the JSON-RPC error names the request');
    const logged = lines.find((l) => l.reqId === id);
    assert.ok(logged, `a log line with reqId ${id}`);
    assert.match(String(logged.msg), /session state unavailable/);
  });

  it('keeps a plausible id sent by a proxy, and replaces one that is not', async () => {
    const kept = await initialize({ 'x-request-id': 'nginx-7f3a9c' });
    assert.equal(kept.headers.get('x-request-id'), 'nginx-7f3a9c');
    assert.equal(kept.body.error.data.requestId, 'nginx-7f3a9c');
    const replaced = await initialize({ 'x-request-id': 'bad id; with spaces' });
    assert.match(replaced.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
    const ok = await fetch(`${gatewayUrl}/healthz`);
    assert.ok(ok.headers.get('x-request-id'), 'every answer carries one, not only errors');
  });

  it('registry: the native error body and its log line carry the same id', async () => {
    const r = await fetch(`${registryUrl}/api/v1/namespaces/public/mcp-servers/nope`);
    assert.equal(r.status, 404);
    const id = r.headers.get('x-request-id');
    const body = await r.json() as { error: { code: string; requestId: string } };
    assert.equal(body.error.code, 'MCP_SERVER_NOT_FOUND');
    assert.equal(body.error.requestId, id);
    const logged = lines.find((l) => l.reqId === id && l.msg === 'request refused');
    assert.ok(logged, `a log line with reqId ${id}`);
  });
});

// Sessions held in this process and REST tools only: the gateway runs its requests without a
// request scope (lib/request-context.ts) and carries the id on the answer and the call context.
describe('request ids without a request scope (REST tools, sessions in memory)', () => {
  const lines: Record<string, unknown>[] = [];
  let dir = '';
  let stack: Awaited<ReturnType<typeof startServe>> | undefined;
  let endpoint = '';
  const initialize = () => mcpPost(endpoint, { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mcpgate-reqid-'));
    const sink = new Writable({ write(chunk: Buffer, _enc, done) { for (const l of chunk.toString('utf8').split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>); done(); } });
    stack = await startServe(loadConfig('serve', {
      host: '127.0.0.1', registryPort: 0, gatewayPort: 0, dataDir: dir, 'auth.enabled': false, logLevel: 'info',
    }, {}), createLogger('info', 'mcpgate', sink));
    const registryUrl = `http://127.0.0.1:${stack.registry.port}`;
    // A backend that refuses every connection: each call fails, and its access log line is a warning.
    await createMcpServer(registryUrl, 'public', { name: 'svc', endpoint: { type: 'direct', address: '127.0.0.1', port: 9 }, spec: { version: '1.0.0', tools: [restTool('t', { url: '/t' })] } });
    endpoint = `http://127.0.0.1:${stack.gateway.port}/mcp/public/svc`;
    await waitFor('the server in the gateway', async () => (await initialize()).status === 200 || undefined);
  });
  after(async () => {
    await stack?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const session = async (): Promise<string> => {
    const r = await initialize();
    assert.equal(r.status, 200, r.text);
    return r.headers.get('mcp-session-id') ?? '';
  };
  const call = (sessionId: string, name: string) => mcpPost(endpoint, { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name, arguments: {} } },
    { 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-06-18' });

  it('an error answer and its access log line carry the answer\'s id', async () => {
    const r = await call(await session(), 'nope');
    const id = r.headers.get('x-request-id');
    assert.ok(id, 'X-Request-Id on the answer');
    const body = r.body as { error: { data: { requestId: string } } };
    assert.equal(body.error.data.requestId, id, 'the JSON-RPC error names the request');
    const logged = await waitFor('the access log line', () => lines.find((l) => l.reqId === id && l.msg === 'mcp request'));
    assert.equal(logged.outcome, 'error');
  });

  it('a failed backend call\'s access log line carries the id', async () => {
    const r = await call(await session(), 't');
    assert.equal((r.body as { result: { isError: boolean } }).result.isError, true, r.text);
    const id = r.headers.get('x-request-id');
    const logged = await waitFor('the access log line', () => lines.find((l) => l.reqId === id && l.msg === 'mcp request'));
    assert.equal(logged.outcome, 'tool_error');
  });
});
