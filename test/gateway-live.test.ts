// Live configuration end to end: a change published in the registry reaches a running gateway's
// tools/list at once and every open session (SDK 1.x Streamable HTTP and legacy SSE,
// 2.x in the 2026-07-28 era) is told with notifications/tools/list_changed; disabled tools and
// servers are not served.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client as SdkClient } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as SdkStreamable } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { SSEClientTransport as SdkSse } from '@modelcontextprotocol/sdk/client/sse.js';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { Client as Client2, StreamableHTTPClientTransport as Streamable2 } from '@modelcontextprotocol/client';
import { Gateway } from '../src/gateway/gateway.js';
import { MemorySessionStore } from '../src/gateway/sessions/memory.js';
import { FileSource } from '../src/gateway/sources/file.js';
import { createLogger } from '../src/lib/logger.js';
import { http } from './support/http.js';
import { createMcpServer, firstText, legacyPost, legacySession, mcpPost, modernPost, openSse, restTool, waitFor } from './support/gateway.js';
import { startBackend, startStack } from './support/stack.js';
import type { TestStack } from './support/stack.js';

interface ListedTool { name: string; description?: string }

function spec(version: string, echoDescription: string) {
  return {
    version, description: 'live updates',
    tools: [
      restTool('echo', { description: echoDescription, url: '/echo', properties: { text: { type: 'string' } }, argsToUrlParam: true, response: { body: 'echo {{ .query }}' } }),
      restTool('hidden', { description: 'switched off', url: '/hidden', enabled: false }),
    ],
  };
}

/** A promise with its resolve function, resolved at most once. */
function signal<T = void>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => { resolve = r; });
  return { promise, resolve };
}

function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<T>((_, reject) => { timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms); })])
    .finally(() => clearTimeout(timer));
}

describe('live configuration through a running gateway', () => {
  let stack: TestStack;
  let backend: Awaited<ReturnType<typeof startBackend>>;
  let api: string;
  let endpoint: string;

  before(async () => {
    backend = await startBackend((r, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ path: r.path, query: r.query }));
    });
    stack = await startStack();
    api = `${stack.registryUrl}/api/v1`;
    endpoint = `${stack.gatewayUrl}/mcp/public/live`;
    await createMcpServer(stack.registryUrl, 'public', { name: 'live', endpoint: { type: 'direct', address: '127.0.0.1', port: backend.port }, spec: spec('1.0.0', 'Echo v1') });
    await waitFor('the server on the gateway', async () => (await modernPost(endpoint, 1, 'tools/list')).status === 200);
  });
  after(async () => {
    await stack?.close();
    await backend?.close();
  });

  async function listedDescription(): Promise<string | undefined> {
    const r = await modernPost(endpoint, 'l', 'tools/list');
    return (r.body.result?.tools as ListedTool[] | undefined)?.find((t) => t.name === 'echo')?.description;
  }

  /** Publish a change, then poll tools/list until it shows; answers the milliseconds it took. */
  async function timeToVisible(publish: () => Promise<void>, expected: string): Promise<number> {
    const started = performance.now();
    await publish();
    await waitFor(`tools/list showing '${expected}'`, async () => (await listedDescription()) === expected, 30_000, 5);
    return performance.now() - started;
  }

  /** Publish `version` of the server `live` (the backend, direct) as latest through the Nacos v3 API (PUT). */
  function putLiveVersion(version: string, toolSpecification: string) {
    return http('PUT', `${stack.registryUrl}/nacos/v3/admin/ai/mcp`, {
      form: {
        namespaceId: 'public', latest: 'true', toolSpecification,
        serverSpecification: JSON.stringify({ name: 'live', protocol: 'http', frontProtocol: 'mcp-streamable', description: 'live updates', versionDetail: { version }, enabled: true }),
        endpointSpecification: JSON.stringify({ type: 'DIRECT', data: { address: '127.0.0.1', port: backend.port } }),
      },
    });
  }

  it('shows a description changed in the registry and tells every open session', async (t) => {
    // Three sessions, one per client and era, each waiting for list_changed.
    const sdkStreamChanged = signal();
    const sdkStream = new SdkClient({ name: 'live-streamable', version: '1.0.0' });
    sdkStream.setNotificationHandler(ToolListChangedNotificationSchema, async () => sdkStreamChanged.resolve());
    const streamTransport = new SdkStreamable(new URL(endpoint));
    await sdkStream.connect(streamTransport);

    const sdkSseChanged = signal();
    const sdkSse = new SdkClient({ name: 'live-sse', version: '1.0.0' });
    sdkSse.setNotificationHandler(ToolListChangedNotificationSchema, async () => sdkSseChanged.resolve());
    await sdkSse.connect(new SdkSse(new URL(`${endpoint}/sse`)));

    const modernChanged = signal<ListedTool[]>();
    const modern = new Client2({ name: 'live-modern', version: '2.0.0' }, {
      versionNegotiation: { mode: { pin: '2026-07-28' } },
      listChanged: { tools: { debounceMs: 0, onChanged: (err, tools) => { if (!err && tools) modernChanged.resolve(tools); } } },
    });
    await modern.connect(new Streamable2(new URL(endpoint)));
    try {
      assert.equal(modern.getProtocolEra(), 'modern');
      assert.equal((await sdkStream.listTools()).tools.find((t) => t.name === 'echo')?.description, 'Echo v1');
      // The 1.x GET stream, the SSE stream and the 2.x listen stream are all open before the change.
      await waitFor('three open streams', () => stack.stack.gateway.handler.openStreams >= 3);

      // Native API: a new version, then its publication.
      const elapsed = await timeToVisible(async () => {
        const put = await http('PUT', `${api}/namespaces/public/mcp-servers/live/versions/1.1.0`, { body: { spec: spec('1.1.0', 'Echo v2') } });
        assert.equal(put.status, 200, put.text);
        const published = await http('POST', `${api}/namespaces/public/mcp-servers/live/versions/1.1.0/publish`);
        assert.equal(published.status, 200, published.text);
      }, 'Echo v2');
      t.diagnostic(`native API change visible in tools/list after ${elapsed.toFixed(1)} ms`);

      await within(sdkStreamChanged.promise, 30_000, 'SDK 1.x Streamable HTTP list_changed');
      await within(sdkSseChanged.promise, 30_000, 'SDK 1.x SSE list_changed');
      const relisted = await within(modernChanged.promise, 30_000, '2.x listen list_changed');
      assert.equal(relisted.find((t) => t.name === 'echo')?.description, 'Echo v2', 'the 2.x client re-listed the new tools');
      // Each client sees the new description when it lists again.
      assert.equal((await sdkStream.listTools()).tools.find((t) => t.name === 'echo')?.description, 'Echo v2');
      assert.equal((await sdkSse.listTools()).tools.find((t) => t.name === 'echo')?.description, 'Echo v2');
      assert.equal((await modern.listTools()).tools.find((t) => t.name === 'echo')?.description, 'Echo v2');
      // And the sessions keep working.
      assert.match(firstText(await sdkStream.callTool({ name: 'echo', arguments: { text: 'still here' } })), /still/);
    } finally {
      await streamTransport.terminateSession().catch(() => undefined);
      await sdkStream.close();
      await sdkSse.close();
      await modern.close();
    }
  });

  it('shows a change published through the Nacos v3 API (PUT latest=true) without a restart', async (t) => {
    const toolSpecification = JSON.stringify({
      tools: [{ name: 'echo', description: 'Echo v3', inputSchema: { type: 'object', properties: { text: { type: 'string' } } } }],
      toolsMeta: { echo: { enabled: true, templates: { 'json-go-template': { requestTemplate: { url: '/echo', method: 'GET', headers: [], argsToUrlParam: true }, responseTemplate: { body: 'echo {{ .query }}' } } } } },
    });
    const elapsed = await timeToVisible(async () => {
      const r = await putLiveVersion('1.2.0', toolSpecification);
      assert.equal(r.status, 200, r.text);
      assert.equal(r.body.code, 0, r.text);
    }, 'Echo v3');
    t.diagnostic(`Nacos v3 change visible in tools/list after ${elapsed.toFixed(1)} ms`);
    const call = await modernPost(endpoint, 2, 'tools/call', { name: 'echo', arguments: { text: 'nacos' } });
    assert.equal(firstText(call.body.result), 'echo text=nacos');
  });

  it('neither lists nor calls a disabled tool (toolsMeta enabled: false)', async () => {
    const toolSpecification = JSON.stringify({
      tools: [
        { name: 'echo', description: 'Echo v4', inputSchema: { type: 'object', properties: { text: { type: 'string' } } } },
        { name: 'hidden', description: 'switched off', inputSchema: { type: 'object', properties: {} } },
      ],
      toolsMeta: {
        echo: { enabled: true, templates: { 'json-go-template': { requestTemplate: { url: '/echo', method: 'GET', argsToUrlParam: true }, responseTemplate: { body: 'echo {{ .query }}' } } } },
        hidden: { enabled: false, templates: { 'json-go-template': { requestTemplate: { url: '/hidden', method: 'GET' }, responseTemplate: { body: 'must not run' } } } },
      },
    });
    const r = await putLiveVersion('1.3.0', toolSpecification);
    assert.equal(r.status, 200, r.text);
    await waitFor('version 1.3.0 served', async () => (await listedDescription()) === 'Echo v4', 30_000, 10);
    const before = backend.requests.length;

    const modernList = await modernPost(endpoint, 3, 'tools/list');
    assert.deepEqual((modernList.body.result.tools as ListedTool[]).map((t) => t.name), ['echo']);
    const modernCall = await modernPost(endpoint, 4, 'tools/call', { name: 'hidden', arguments: {} });
    assert.equal(modernCall.status, 200);
    assert.equal(modernCall.body.error.code, -32602);
    assert.match(modernCall.body.error.message, /hidden/);

    const session = await legacySession(endpoint);
    const legacyList = await legacyPost(endpoint, session, 1, 'tools/list');
    assert.deepEqual((legacyList.body.result.tools as ListedTool[]).map((t) => t.name), ['echo']);
    const legacyCall = await legacyPost(endpoint, session, 2, 'tools/call', { name: 'hidden', arguments: {} });
    assert.equal(legacyCall.body.error.code, -32602);
    assert.match(legacyCall.body.error.message, /hidden/);
    assert.equal(backend.requests.length, before, 'the disabled tool never reached the backend');
  });

  it('answers 404 for a disabled server, on every endpoint, and serves it again once enabled', async () => {
    const disabled = await http('PATCH', `${api}/namespaces/public/mcp-servers/live`, { body: { enabled: false } });
    assert.equal(disabled.status, 200, disabled.text);
    await waitFor('the server gone', async () => (await modernPost(endpoint, 5, 'tools/list')).status === 404, 30_000, 10);

    const modern = await modernPost(endpoint, 6, 'tools/call', { name: 'echo', arguments: {} });
    assert.equal(modern.status, 404);
    assert.match(modern.body.error.message, /no MCP server 'live' in namespace 'public'/);
    const init = await mcpPost(endpoint, { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } } });
    assert.equal(init.status, 404);
    assert.equal(init.headers.get('content-type'), 'application/json');
    const sse = await fetch(`${endpoint}/sse`, { headers: { accept: 'text/event-stream' } });
    assert.equal(sse.status, 404);
    await sse.body?.cancel();

    const enabled = await http('PATCH', `${api}/namespaces/public/mcp-servers/live`, { body: { enabled: true } });
    assert.equal(enabled.status, 200, enabled.text);
    await waitFor('the server back', async () => (await modernPost(endpoint, 7, 'tools/list')).status === 200, 30_000, 10);
  });

  it('tells the sessions of a consumer key whose grants changed, and lists what it may now call', async () => {
    assert.equal((await http('POST', `${api}/namespaces`, { body: { id: 'granted' } })).status, 201);
    const tools = [restTool('a', { url: '/a' }), restTool('b', { url: '/b' })];
    await createMcpServer(stack.registryUrl, 'granted', { name: 'kit', endpoint: { type: 'direct', address: '127.0.0.1', port: backend.port }, spec: { version: '1.0.0', tools } });
    const created = await http('POST', `${api}/namespaces/granted/consumers`, { body: { name: 'agent', allow: [{ server: 'kit', tools: ['a'] }] } });
    assert.equal(created.status, 201, created.text);
    const auth = { authorization: `Bearer ${created.body.key as string}` };
    const url = `${stack.gatewayUrl}/mcp/granted/kit`;
    await waitFor('the kit server', async () => (await modernPost(url, 1, 'tools/list', {}, auth)).status === 200);

    const changed = signal();
    const client = new SdkClient({ name: 'granted', version: '1.0.0' });
    client.setNotificationHandler(ToolListChangedNotificationSchema, async () => changed.resolve());
    const transport = new SdkStreamable(new URL(url), { requestInit: { headers: auth } });
    try {
      await client.connect(transport);
      assert.deepEqual((await client.listTools()).tools.map((t) => t.name), ['a']);
      await waitFor('the GET stream', () => stack.stack.gateway.handler.openStreams >= 1);
      const streams = stack.stack.gateway.handler.openStreams;
      const granted = await http('PUT', `${api}/namespaces/granted/consumers/${created.body.id as string}`, { body: { allow: [{ server: 'kit', tools: ['a', 'b'] }] } });
      assert.equal(granted.status, 200, granted.text);
      await within(changed.promise, 30_000, 'list_changed after the grant');
      assert.deepEqual((await client.listTools()).tools.map((t) => t.name), ['a', 'b']);
      assert.equal(stack.stack.gateway.handler.openStreams, streams);
    } finally {
      await transport.terminateSession().catch(() => undefined);
      await client.close();
    }
  });
});

describe('live configuration from a definition file', () => {
  it('serves a file edited in place under the same version, and tells open sessions', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mcpgate-live-file-'));
    const file = join(dir, 'notes.yaml');
    const write = (description: string) => writeFileSync(file, [
      'server:', '  name: notes', 'tools:', '- name: today', `  description: ${description}`, '  responseTemplate:', '    body: "nothing today"', '',
    ].join('\n'));
    write('Notes, first draft');
    const logger = createLogger(process.env.MCPGATE_TEST_LOG ?? 'silent');
    const gateway = await Gateway.start({ host: '127.0.0.1', port: 0, logger, source: new FileSource({ path: dir, logger, debounceMs: 20, pollMs: 200 }) });
    const url = `http://127.0.0.1:${gateway.port}/mcp/public/notes`;
    const changed = signal();
    const client = new SdkClient({ name: 'file-live', version: '1.0.0' });
    client.setNotificationHandler(ToolListChangedNotificationSchema, async () => changed.resolve());
    const transport = new SdkStreamable(new URL(url));
    try {
      await client.connect(transport);
      assert.equal((await client.listTools()).tools[0]?.description, 'Notes, first draft');
      await waitFor('the GET stream', () => gateway.handler.openStreams === 1);
      // Same version (none given: 1.0.0), new content: compiled tools must not be reused.
      write('Notes, edited');
      await within(changed.promise, 30_000, 'list_changed after the edit');
      assert.equal((await client.listTools()).tools[0]?.description, 'Notes, edited');
      assert.equal(firstText(await client.callTool({ name: 'today', arguments: {} })), 'nothing today');
    } finally {
      await transport.terminateSession().catch(() => undefined);
      await client.close();
      await gateway.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('open streams and their sessions', () => {
  it('keeps the sessions of open streams alive, and closes a stream whose session is gone', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mcpgate-keepalive-'));
    writeFileSync(join(dir, 'notes.yaml'), ['server:', '  name: notes', 'tools:', '- name: today', '  description: d', '  responseTemplate:', '    body: "x"', ''].join('\n'));
    const logger = createLogger(process.env.MCPGATE_TEST_LOG ?? 'silent');
    const sessions = new MemorySessionStore(400);
    const gateway = await Gateway.start({ host: '127.0.0.1', port: 0, logger, sessions, streamKeepAliveMs: 100, source: new FileSource({ path: dir, logger }) });
    const url = `http://127.0.0.1:${gateway.port}/mcp/public/notes`;
    try {
      const kept = await legacySession(url);
      const ended = await legacySession(url);
      const keptStream = await openSse(url, { 'mcp-session-id': kept, 'mcp-protocol-version': '2025-06-18' });
      const endedStream = await openSse(url, { 'mcp-session-id': ended, 'mcp-protocol-version': '2025-06-18' });
      const legacy = await openSse(`${url}/sse`);
      const endpointEvent = await legacy.next((e) => e.event === 'endpoint');
      const legacyId = new URL(endpointEvent.data, url).searchParams.get('sessionId') as string;
      await waitFor('three streams', () => gateway.handler.openStreams === 3);
      // Ended elsewhere (another replica's DELETE, or lost with Redis): the next keep-alive round closes its stream.
      await sessions.delete(ended);
      await waitFor('the stream of the ended session closed', () => gateway.handler.openStreams === 2, 30_000, 20);
      // Idle for three TTLs, yet alive: each keep-alive round refreshed the sessions of open streams.
      await new Promise((r) => setTimeout(r, 1200));
      assert.equal(gateway.handler.openStreams, 2);
      assert.ok(await sessions.get(kept));
      assert.ok(await sessions.get(legacyId));
      keptStream.close();
      endedStream.close();
      legacy.close();
    } finally {
      await gateway.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
