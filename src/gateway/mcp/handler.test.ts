/**
 * The MCP endpoints in process, without a socket: light-my-request hands the handler real
 * node:http request and response objects, so routing, the access policy, every era's checks and
 * the answers (status, JSON-RPC code) are tested as a client sees them. The tools are
 * direct-response tools (no backend); streams, replicas and real clients are tested end to end
 * in test/gateway-*.test.ts.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { inject } from 'light-my-request';
import type { InjectOptions } from 'light-my-request';
import { Agent } from 'undici';
import { createLogger } from '../../lib/logger.js';
import { hashConsumerKey } from '../../model/consumer-key.js';
import type { McpServer, McpServerSpec } from '../../model/model.js';
import type { RegistrySnapshot } from '../../model/snapshot.js';
import { AccessPolicy } from '../access-policy.js';
import { DEFAULT_LIMITS } from '../limits.js';
import { MemoryEventStore, MemoryMessageBus, MemorySessionStore } from '../sessions/memory.js';
import { SnapshotCompiler } from '../snapshot.js';
import { McpHandler } from './handler.js';

const logger = createLogger(process.env.MCPGATE_TEST_LOG ?? 'silent');
const KEY = 'mg_handler_test_key_0123456789';
const LIMITED_KEY = 'mg_handler_test_limited_0123456789';
const ENVELOPE = {
  'io.modelcontextprotocol/protocolVersion': '2026-07-28',
  'io.modelcontextprotocol/clientCapabilities': {},
};

function server(namespace: string, name: string): { server: McpServer; spec: McpServerSpec } {
  return {
    server: {
      id: `${namespace}-${name}`, namespace, name, description: `the ${name} server`, protocol: 'http', frontProtocol: 'mcp-streamable',
      endpoint: { type: 'none' }, enabled: true, passthrough: { headers: [], cookies: [] }, publishedVersion: '1.0.0', latestVersion: '1.0.0', createdAt: 0, updatedAt: 0,
    },
    spec: {
      version: '1.0.0', description: '', config: {}, securitySchemes: [], prompts: [],
      tools: [{
        name: 'now', description: 'the weather now', enabled: true,
        inputSchema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
        template: { request: null, response: { body: 'sunny' }, argsPosition: {} },
      }],
    },
  };
}

const snapshot: RegistrySnapshot = {
  revision: 1, namespaces: ['public', 'secured'], services: [],
  mcpServers: [server('public', 'weather'), server('secured', 'weather'), server('secured', 'maps')],
  consumers: [
    { id: 'c1', namespace: 'secured', name: 'all', keyHash: hashConsumerKey(KEY), keyPrefix: KEY.slice(0, 8), allow: null, createdAt: 0 },
    { id: 'c2', namespace: 'secured', name: 'maps only', keyHash: hashConsumerKey(LIMITED_KEY), keyPrefix: LIMITED_KEY.slice(0, 8), allow: [{ server: 'maps' }], createdAt: 0 },
  ],
};

const dispatcher = new Agent();
const sessions = new MemorySessionStore(60_000, Date.now, DEFAULT_LIMITS);
const bus = new MemoryMessageBus();
const events = new MemoryEventStore();
const handler = new McpHandler({
  logger, sessions, bus, events,
  access: new AccessPolicy({ bindHost: '127.0.0.1', allowedOrigins: ['https://agent.example.com'] }),
});
handler.setSnapshot(new SnapshotCompiler({ dispatcher, logger }).compile(snapshot));

/** The gateway's dispatch of `/mcp/…` requests, as `Gateway` does it. */
function dispatch(req: IncomingMessage, res: ServerResponse): void {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  void handler.handle(req, res, (q < 0 ? url : url.slice(0, q)).slice('/mcp/'.length));
}

interface Answer {
  status: number;
  headers: Record<string, unknown>;
  body: { id?: unknown; result?: Record<string, unknown>; error?: { code: number; message: string; data?: Record<string, unknown> } };
}

async function send(options: InjectOptions): Promise<Answer> {
  const res = await inject(dispatch, options);
  return { status: res.statusCode, headers: res.headers, body: res.payload === '' ? {} : JSON.parse(res.payload) as Answer['body'] };
}

function post(path: string, body: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  return send({ method: 'POST', url: path, headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers }, payload: JSON.stringify(body) });
}

/** A 2026-07-28 request with its envelope and headers. */
function stateless(path: string, method: string, params: Record<string, unknown> = {}, headers: Record<string, string> = {}): Promise<Answer> {
  const name: Record<string, string> = typeof params.name === 'string' ? { 'mcp-name': params.name } : {};
  return post(path, { jsonrpc: '2.0', id: 7, method, params: { ...params, _meta: ENVELOPE } }, { 'mcp-protocol-version': '2026-07-28', 'mcp-method': method, ...name, ...headers });
}

describe('McpHandler in process (light-my-request, no socket)', () => {
  after(async () => {
    await handler.close();
    await sessions.close();
    await bus.close();
    await events.close();
    await dispatcher.close();
  });

  it('2025 sessions: initialize, list, call, end', async () => {
    const init = await post('/mcp/public/weather', { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'inject', version: '1' } } });
    assert.equal(init.status, 200);
    assert.equal(init.body.result?.protocolVersion, '2025-06-18');
    const id = init.headers['mcp-session-id'];
    assert.equal(typeof id, 'string');
    const headers = { 'mcp-session-id': id as string, 'mcp-protocol-version': '2025-06-18' };

    const list = await post('/mcp/public/weather', { jsonrpc: '2.0', id: 2, method: 'tools/list' }, headers);
    assert.equal(list.status, 200);
    assert.deepEqual((list.body.result?.tools as { name: string }[]).map((t) => t.name), ['now']);

    const call = await post('/mcp/public/weather', { jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'now', arguments: { city: 'Paris' } } }, headers);
    assert.equal(call.status, 200);
    assert.deepEqual(call.body.result?.content, [{ type: 'text', text: 'sunny' }]);

    const bad = await post('/mcp/public/weather', { jsonrpc: '2.0', id: 4, method: 'tools/call', params: { name: 'now', arguments: {} } }, headers);
    assert.equal(bad.body.result?.isError, true, 'arguments that do not fit are a tool result the model reads');

    const unknown = await post('/mcp/public/weather', { jsonrpc: '2.0', id: 5, method: 'no/such' }, headers);
    assert.equal(unknown.status, 200);
    assert.equal(unknown.body.error?.code, -32601);

    assert.equal((await send({ method: 'DELETE', url: '/mcp/public/weather', headers })).status, 200);
    const gone = await post('/mcp/public/weather', { jsonrpc: '2.0', id: 6, method: 'tools/list' }, headers);
    assert.equal(gone.status, 404);
    assert.equal(gone.body.error?.code, -32001);
  });

  it('2025 sessions: a request without a session, or with an unknown one', async () => {
    const none = await post('/mcp/public/weather', { jsonrpc: '2.0', id: 1, method: 'tools/list' });
    assert.equal(none.status, 400);
    assert.equal(none.body.error?.code, -32000);
    const unknown = await post('/mcp/public/weather', { jsonrpc: '2.0', id: 1, method: 'tools/list' }, { 'mcp-session-id': 'no-such-session' });
    assert.equal(unknown.status, 404);
  });

  it('2026-07-28: a call with its envelope, no session', async () => {
    const call = await stateless('/mcp/public/weather', 'tools/call', { name: 'now', arguments: { city: 'Paris' } });
    assert.equal(call.status, 200);
    assert.equal(call.body.id, 7);
    assert.equal(call.body.result?.resultType, 'complete');
    assert.deepEqual(call.body.result?.content, [{ type: 'text', text: 'sunny' }]);
    const list = await stateless('/mcp/public/weather', 'tools/list');
    assert.equal(list.body.result?.cacheScope, 'public');
  });

  it('2026-07-28: the era\'s own refusals and statuses (envelope 400 -32602, headers 400 -32020, unknown method 404)', async () => {
    const noEnvelope = await post('/mcp/public/weather', { jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }, { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/list' });
    assert.equal(noEnvelope.status, 400);
    assert.equal(noEnvelope.body.error?.code, -32602);
    assert.deepEqual(noEnvelope.body.error?.data, { envelope: { missing: ['_meta'] } });

    const noCapabilities = await post('/mcp/public/weather', { jsonrpc: '2.0', id: 1, method: 'tools/list', params: { _meta: { 'io.modelcontextprotocol/protocolVersion': '2026-07-28' } } }, { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/list' });
    assert.equal(noCapabilities.status, 400);
    assert.equal(noCapabilities.body.error?.code, -32602);

    const mismatch = await stateless('/mcp/public/weather', 'tools/list', {}, { 'mcp-method': 'prompts/list' });
    assert.equal(mismatch.status, 400);
    assert.equal(mismatch.body.error?.code, -32020);

    const unsupported = await post('/mcp/public/weather', { jsonrpc: '2.0', id: 1, method: 'tools/list', params: { _meta: { ...ENVELOPE, 'io.modelcontextprotocol/protocolVersion': '2099-01-01' } } }, { 'mcp-protocol-version': '2099-01-01', 'mcp-method': 'tools/list' });
    assert.equal(unsupported.status, 400);
    assert.equal(unsupported.body.error?.code, -32022);

    const unknown = await stateless('/mcp/public/weather', 'no/such');
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.error?.code, -32601);
  });

  it('access: keys, allow-lists, origins, routes and CORS in one step', async () => {
    const noKey = await stateless('/mcp/secured/weather', 'tools/list');
    assert.equal(noKey.status, 401);
    assert.match(String(noKey.headers['www-authenticate']), /^Bearer realm="mcpgate"/);
    const badKey = await stateless('/mcp/secured/weather', 'tools/list', {}, { authorization: 'Bearer mg_not_a_key' });
    assert.equal(badKey.status, 401);
    assert.match(String(badKey.headers['www-authenticate']), /invalid_token/);
    assert.equal((await stateless('/mcp/secured/weather', 'tools/list', {}, { authorization: `Bearer ${KEY}` })).status, 200);
    assert.equal((await stateless('/mcp/secured/weather', 'tools/list', {}, { 'x-api-key': LIMITED_KEY })).status, 403, 'the allow-list names maps only');
    assert.equal((await stateless('/mcp/secured/maps', 'tools/list', {}, { 'x-api-key': LIMITED_KEY })).status, 200);

    const foreign = await stateless('/mcp/public/weather', 'tools/list', {}, { origin: 'https://evil.example.com' });
    assert.equal(foreign.status, 403);
    assert.equal(foreign.body.error?.code, -32000);

    const missing = await stateless('/mcp/public/nowhere', 'tools/list');
    assert.equal(missing.status, 404);
    assert.equal((await stateless('/mcp/public', 'tools/list')).status, 404);

    const preflight = await inject(dispatch, {
      method: 'OPTIONS', url: '/mcp/secured/weather',
      headers: { origin: 'https://agent.example.com', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type, authorization' },
    });
    assert.equal(preflight.statusCode, 204, 'a preflight needs no key');
    assert.equal(preflight.headers['access-control-allow-origin'], 'https://agent.example.com');
  });

  it('bodies and methods: 415, parse errors, 405, the 2024 message endpoint without a session', async () => {
    const type = await send({ method: 'POST', url: '/mcp/public/weather', headers: { 'content-type': 'text/plain' }, payload: '{}' });
    assert.equal(type.status, 415);
    const parse = await send({ method: 'POST', url: '/mcp/public/weather', headers: { 'content-type': 'application/json' }, payload: '{"jsonrpc":' });
    assert.equal(parse.status, 400);
    assert.equal(parse.body.error?.code, -32700);
    const put = await send({ method: 'PUT', url: '/mcp/public/weather' });
    assert.equal(put.status, 405);
    assert.equal(put.headers.allow, 'GET, POST, DELETE');
    const message = await post('/mcp/public/weather/message', { jsonrpc: '2.0', id: 1, method: 'tools/list' });
    assert.equal(message.status, 400);
    assert.match(message.body.error?.message ?? '', /sessionId/);
  });
});
