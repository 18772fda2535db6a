// The deployment guide's flow end to end, as a user runs it: curl registers a persistent
// instance, the Nacos v3 API defines an MCP server with the guide's tool template, and MCP
// clients (official SDK 1.x and 2.x) list and call the tool through the gateway.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Client as SdkClient } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as SdkStreamable } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { SSEClientTransport as SdkSse } from '@modelcontextprotocol/sdk/client/sse.js';
import { Client as Client2, StreamableHTTPClientTransport as Streamable2 } from '@modelcontextprotocol/client';
import { http } from './support/http.js';
import { startBackend, startStack } from './support/stack.js';
import type { TestStack } from './support/stack.js';

const GUIDE_TEMPLATE = '{"requestTemplate":{"url":"/xxx/list.json","method":"GET","headers":[],"argsToUrlParam":true},"responseTemplate":{"body":"{{.}}"}}';

describe('the deployment guide flow', () => {
  let stack: TestStack;
  let backend: Awaited<ReturnType<typeof startBackend>>;
  const payload = { items: [{ id: 1, name: 'first' }, { id: 2, name: 'second' }], total: 2 };

  before(async () => {
    backend = await startBackend((r, res) => {
      if (r.path === '/xxx/list.json') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ ...payload, query: r.query }));
      } else {
        res.writeHead(404);
        res.end();
      }
    });
    stack = await startStack();
    // 1. The guide's registration command, verbatim but for the address.
    const { stdout: registered } = await promisify(execFile)('curl', ['-s', '-X', 'POST', `${stack.registryUrl}/nacos/v1/ns/instance?namespaceId=public&serviceName=list-api&groupName=DEFAULT_GROUP&ip=127.0.0.1&port=${backend.port}&ephemeral=false`]);
    assert.equal(registered, 'ok');
    // 2. The MCP server, through the Nacos 3 admin API, with the guide's template.
    const toolSpecification = JSON.stringify({
      tools: [{ name: 'list_items', description: 'List the items', inputSchema: { type: 'object', properties: { page: { type: 'integer' } } } }],
      toolsMeta: { list_items: { enabled: true, templates: { 'json-go-template': JSON.parse(GUIDE_TEMPLATE) } } },
    });
    const created = await http('POST', `${stack.registryUrl}/nacos/v3/admin/ai/mcp`, {
      form: {
        namespaceId: 'public',
        serverSpecification: JSON.stringify({ name: 'items', protocol: 'http', frontProtocol: 'mcp-streamable', description: 'Items as MCP', versionDetail: { version: '1.0.0' }, enabled: true }),
        toolSpecification,
        endpointSpecification: JSON.stringify({ type: 'REF', data: { namespaceId: 'public', groupName: 'DEFAULT_GROUP', serviceName: 'list-api' } }),
      },
    });
    assert.equal(created.status, 200, created.text);
    assert.equal(created.body.code, 0);
  });
  after(async () => {
    await stack?.close();
    await backend?.close();
  });

  const endpoint = () => new URL(`${stack.gatewayUrl}/mcp/public/items`);

  async function waitForTool(): Promise<void> {
    for (let i = 0; i < 50; i++) {
      const r = await http('POST', endpoint().toString(), { body: { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } } } });
      if (r.status === 200) return;
      await new Promise((res) => setTimeout(res, 50));
    }
    throw new Error('the gateway never served the server');
  }

  it('serves the tool to the SDK 1.x client over Streamable HTTP with sessions', async () => {
    await waitForTool();
    const client = new SdkClient({ name: 'guide-test', version: '1.0.0' });
    const transport = new SdkStreamable(endpoint());
    await client.connect(transport);
    try {
      assert.ok(transport.sessionId, 'a session id was issued');
      const { tools } = await client.listTools();
      assert.deepEqual(tools.map((t) => t.name), ['list_items']);
      assert.equal(tools[0]?.description, 'List the items');
      const result = await client.callTool({ name: 'list_items', arguments: { page: 2 } });
      assert.equal(result.isError, undefined);
      const content = result.content as { type: string; text: string }[];
      assert.deepEqual(JSON.parse(content[0]!.text), { ...payload, query: 'page=2' });
      const last = backend.requests[backend.requests.length - 1]!;
      assert.equal(last.method, 'GET');
      assert.equal(last.path, '/xxx/list.json');
      assert.equal(last.query, 'page=2');
    } finally {
      await transport.terminateSession().catch(() => undefined);
      await client.close();
    }
  });

  it('serves the tool to the SDK 1.x client over legacy HTTP+SSE', async () => {
    const client = new SdkClient({ name: 'guide-sse', version: '1.0.0' });
    await client.connect(new SdkSse(new URL(`${stack.gatewayUrl}/mcp/public/items/sse`)));
    try {
      const { tools } = await client.listTools();
      assert.deepEqual(tools.map((t) => t.name), ['list_items']);
      const result = await client.callTool({ name: 'list_items', arguments: {} });
      assert.deepEqual(JSON.parse((result.content as { text: string }[])[0]!.text), { ...payload, query: '' });
    } finally {
      await client.close();
    }
  });

  it('serves the tool to the 2.x client in the 2026-07-28 stateless era', async () => {
    const client = new Client2({ name: 'guide-modern', version: '2.0.0' }, { versionNegotiation: { mode: { pin: '2026-07-28' } } });
    await client.connect(new Streamable2(endpoint()));
    try {
      assert.equal(client.getProtocolEra(), 'modern');
      const { tools } = await client.listTools();
      assert.deepEqual(tools.map((t) => t.name), ['list_items']);
      const result = await client.callTool({ name: 'list_items', arguments: { page: 3 } });
      assert.deepEqual(JSON.parse((result.content as { text: string }[])[0]!.text), { ...payload, query: 'page=3' });
    } finally {
      await client.close();
    }
  });

  it('serves the 2.x client in its default (2025 sessions) mode too', async () => {
    const client = new Client2({ name: 'guide-legacy', version: '2.0.0' });
    await client.connect(new Streamable2(endpoint()));
    try {
      assert.equal(client.getProtocolEra(), 'legacy');
      const result = await client.callTool({ name: 'list_items', arguments: {} });
      assert.equal(JSON.parse((result.content as { text: string }[])[0]!.text).total, 2);
    } finally {
      await client.close();
    }
  });
});
