// Upstream MCP servers through a running gateway (`mcpgate serve` in process): servers registered
// with protocol mcp-streamable, mcp-sse and stdio, called by real SDK clients of each era (1.x
// Streamable HTTP and legacy SSE, 2.x pinned to 2026-07-28); the registry's tool catalogue
// (descriptions, enablement) applied; failures of one upstream answered as JSON-RPC errors
// while the others serve on.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { Client as SdkClient } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as SdkStreamable } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { SSEClientTransport as SdkSse } from '@modelcontextprotocol/sdk/client/sse.js';
import { CreateMessageRequestSchema, ElicitRequestSchema, ListRootsRequestSchema, LoggingMessageNotificationSchema, ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { Client as Client2, StreamableHTTPClientTransport as Streamable2 } from '@modelcontextprotocol/client';
import { liveChildCount } from '../src/tools/mcp/stdio.js';
import { startHttpUpstream } from './fixtures/mcp/http-upstreams.js';
import type { HttpUpstream } from './fixtures/mcp/http-upstreams.js';
import { createMcpServer, createUpstreamMcpServers, firstText, freePort, waitFor } from './support/gateway.js';
import { http } from './support/http.js';
import { startStack } from './support/stack.js';
import type { TestStack } from './support/stack.js';

const STDIO_FIXTURE = resolve(import.meta.dirname, 'fixtures/mcp/stdio-server.mjs');

interface Agent {
  listTools(): Promise<{ tools: { name: string; description?: string }[] }>;
  callTool(params: { name: string; arguments?: Record<string, unknown> }): Promise<unknown>;
  close(): Promise<void>;
}

async function agent(kind: 'streamable' | 'sse' | 'modern', url: string): Promise<Agent> {
  if (kind === 'modern') {
    const client = new Client2({ name: 'agent-2026', version: '2.0.0' }, { versionNegotiation: { mode: { pin: '2026-07-28' } } });
    await client.connect(new Streamable2(new URL(url)));
    return client as unknown as Agent;
  }
  const client = new SdkClient({ name: `agent-${kind}`, version: '1.0.0' });
  await client.connect(kind === 'sse' ? new SdkSse(new URL(`${url}/sse`)) : new SdkStreamable(new URL(url)));
  return client as unknown as Agent;
}

async function rpcError(work: Promise<unknown>): Promise<{ code: number; message: string }> {
  try {
    await work;
  } catch (err) {
    return err as { code: number; message: string };
  }
  assert.fail('expected a JSON-RPC error');
}

describe('upstream MCP servers through the gateway', () => {
  let stack: TestStack;
  let up: HttpUpstream;
  const agents: Agent[] = [];
  const mcp = (name: string) => `${stack.gatewayUrl}/mcp/public/${name}`;

  before(async () => {
    up = await startHttpUpstream();
    stack = await startStack();
    const reg = stack.registryUrl;
    const spec = (extra: Record<string, unknown> = {}) => ({ version: '1.0.0', tools: [], ...extra });
    await createUpstreamMcpServers(reg, up, { mcpServers: { fixture: { command: process.execPath, args: [STDIO_FIXTURE] } } });
    // A catalogue in the registry: the upstream's echo with the registry's description; fails switched off.
    await createMcpServer(reg, 'public', {
      name: 'curated', protocol: 'mcp-streamable', endpoint: { type: 'url', url: up.url('/mcp') },
      spec: spec({
        tools: [
          { name: 'echo', description: 'Echo, as the registry describes it', inputSchema: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] }, enabled: true, template: null },
          { name: 'fails', description: 'switched off', inputSchema: { type: 'object' }, enabled: false, template: null },
        ],
      }),
    });
    await createMcpServer(reg, 'public', {
      name: 'stdio-per-session', protocol: 'stdio', endpoint: { type: 'none' },
      spec: spec({ config: { command: process.execPath, args: [STDIO_FIXTURE], upstream: { sessions: 'per-session', maxProcesses: 4 } } }),
    });
    await createMcpServer(reg, 'public', { name: 'refusing', protocol: 'mcp-streamable', endpoint: { type: 'url', url: `http://127.0.0.1:${await freePort()}/mcp` }, spec: spec() });
    await createMcpServer(reg, 'public', { name: 'slow', protocol: 'mcp-streamable', endpoint: { type: 'url', url: up.url('/mcp') }, spec: spec({ config: { upstream: { timeoutMs: 300 } } }) });
  });

  after(async () => {
    await Promise.all(agents.map((a) => a.close().catch(() => undefined)));
    await stack?.close();
    await up?.close();
    assert.equal(liveChildCount(), 0, 'the gateway left no stdio child behind');
  });

  for (const server of ['streamable', 'sse', 'stdio']) {
    for (const kind of ['streamable', 'sse', 'modern'] as const) {
      it(`${kind} agent → ${server} upstream: tools/list and tools/call`, async () => {
        const a = await agent(kind, mcp(server));
        agents.push(a);
        const { tools } = await a.listTools();
        assert.ok(tools.some((t) => t.name === 'echo'), JSON.stringify(tools));
        assert.equal(firstText(await a.callTool({ name: 'echo', arguments: { text: `${kind}→${server}` } })), `${kind}→${server}`);
        const failed = await a.callTool({ name: 'fails', arguments: {} }) as { isError?: boolean };
        assert.equal(failed.isError, true);
      });
    }
  }

  // Requests of the upstream to its client, relayed to the agent on the stream of the call that
  // caused them (2025, 2024) or as input_required rounds (2026-07-28); log messages relayed too.
  const ASKING_CAPS = { sampling: {}, elicitation: {}, roots: {} };
  async function askingAgent(kind: 'streamable' | 'sse' | 'modern', url: string, logs: string[]): Promise<Agent> {
    if (kind === 'modern') {
      const client = new Client2({ name: 'asking-2026', version: '2.0.0' }, { capabilities: ASKING_CAPS, versionNegotiation: { mode: { pin: '2026-07-28' } } });
      client.setRequestHandler('sampling/createMessage', async () => ({ role: 'assistant', content: { type: 'text', text: '4' }, model: 'agent-model' }));
      client.setRequestHandler('elicitation/create', async () => ({ action: 'accept', content: { name: 'Ada' } }));
      client.setRequestHandler('roots/list', async () => ({ roots: [{ uri: 'file:///agent-root' }] }));
      await client.connect(new Streamable2(new URL(url)));
      return client as unknown as Agent;
    }
    const client = new SdkClient({ name: `asking-${kind}`, version: '1.0.0' }, { capabilities: ASKING_CAPS });
    client.setRequestHandler(CreateMessageRequestSchema, async () => ({ role: 'assistant', content: { type: 'text', text: '4' }, model: 'agent-model' }));
    client.setRequestHandler(ElicitRequestSchema, async () => ({ action: 'accept', content: { name: 'Ada' } }));
    client.setRequestHandler(ListRootsRequestSchema, async () => ({ roots: [{ uri: 'file:///agent-root' }] }));
    client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => { logs.push(String(n.params.data)); });
    await client.connect(kind === 'sse' ? new SdkSse(new URL(`${url}/sse`)) : new SdkStreamable(new URL(url)));
    return client as unknown as Agent;
  }

  for (const server of ['streamable', 'sse', 'stdio']) {
    for (const kind of ['streamable', 'sse', 'modern'] as const) {
      it(`${kind} agent → ${server} upstream: sampling, elicitation and roots asked of the agent${kind === 'modern' ? ' (input_required)' : ', log messages relayed'}`, async () => {
        const logs: string[] = [];
        const a = await askingAgent(kind, mcp(server), logs);
        agents.push(a);
        assert.equal(firstText(await a.callTool({ name: 'ask', arguments: { what: 'sampling' } })), 'sampled: 4');
        assert.equal(firstText(await a.callTool({ name: 'ask', arguments: { what: 'elicitation' } })), 'elicited: accept Ada');
        assert.equal(firstText(await a.callTool({ name: 'ask', arguments: { what: 'roots' } })), 'roots: file:///agent-root');
        if (kind !== 'modern') await waitFor('the upstream\'s log messages', () => logs.includes('asking for roots'), 10_000);
      });
    }
  }

  it('an agent that does not offer sampling: the upstream is told so, and its tool answers the error', async () => {
    const a = await agent('streamable', mcp('streamable'));
    agents.push(a);
    const r = await a.callTool({ name: 'ask', arguments: { what: 'sampling' } }) as { isError?: boolean; content: { text: string }[] };
    assert.equal(r.isError, true, JSON.stringify(r));
    assert.match(JSON.stringify(r.content), /does not offer sampling/);
  });

  it('the registry\'s catalogue: its descriptions shown, disabled tools hidden and refused, calls go upstream', async () => {
    const a = await agent('streamable', mcp('curated'));
    agents.push(a);
    const { tools } = await a.listTools();
    assert.deepEqual(tools.map((t) => [t.name, t.description]), [['echo', 'Echo, as the registry describes it']]);
    assert.equal(firstText(await a.callTool({ name: 'echo', arguments: { text: 'curated' } })), 'curated');
    const refused = await rpcError(a.callTool({ name: 'fails', arguments: {} }));
    assert.equal(refused.code, -32602);
    assert.match(refused.message, /Unknown tool: fails/);
  });

  it('imports the tools of a running server as a draft, keeping the registry\'s edits; try-it calls the upstream', async () => {
    const base = `${stack.registryUrl}/api/v1/namespaces/public/mcp-servers/curated`;
    const r = await http('POST', `${base}/versions/2.0.0/import-tools`, { body: {} });
    assert.equal(r.status, 200, r.text);
    const body = r.body as { status: string; imported: string[]; added: string[] };
    assert.equal(body.status, 'draft');
    assert.ok(body.imported.includes('sleep') && body.added.includes('sleep'));
    const v = await http('GET', `${base}/versions/2.0.0`);
    const tools = (v.body as { spec: { tools: { name: string; description: string; enabled: boolean; template: unknown }[] } }).spec.tools;
    const byName = new Map(tools.map((t) => [t.name, t]));
    assert.equal(byName.get('echo')?.description, 'Echo, as the registry describes it');
    assert.equal(byName.get('fails')?.enabled, false);
    assert.equal(byName.get('sleep')?.description, 'Sleep ms milliseconds, reporting progress');
    assert.equal(byName.get('sleep')?.template, null);
    const tried = await http('POST', `${base}/versions/2.0.0/try`, { body: { tool: 'echo', arguments: { text: 'tried' } } });
    assert.equal(tried.status, 200, tried.text);
    assert.equal(firstText((tried.body as { result: unknown }).result), 'tried');
    const rest = await http('POST', `${stack.registryUrl}/api/v1/namespaces/public/mcp-servers/refusing/versions/2.0.0/import-tools`, { body: {} });
    assert.equal(rest.status, 502, rest.text);
  });

  it('per-session stdio: one child per agent session, stopped when the session ends', async () => {
    const pidOf = async (c: SdkClient) => Number(firstText(await c.callTool({ name: 'pid', arguments: {} })));
    const open = async () => {
      const transport = new SdkStreamable(new URL(mcp('stdio-per-session')));
      const client = new SdkClient({ name: 'per-session', version: '1.0.0' });
      await client.connect(transport);
      return { client, transport };
    };
    const a = await open();
    const b = await open();
    const [pa, pb] = [await pidOf(a.client), await pidOf(b.client)];
    assert.notEqual(pa, pb);
    assert.equal(await pidOf(a.client), pa);
    await a.transport.terminateSession();
    await a.client.close();
    await waitFor('the ended session\'s child to exit', () => { try { process.kill(pa, 0); return false; } catch { return true; } }, 10_000);
    assert.equal(await pidOf(b.client), pb);
    await b.client.close();
  });

  it('an upstream\'s tools/list_changed reaches the agents of the server', async () => {
    const client = new SdkClient({ name: 'listener', version: '1.0.0' });
    let changed!: () => void;
    const told = new Promise<void>((r) => { changed = r; });
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => changed());
    await client.connect(new SdkStreamable(new URL(mcp('stdio'))));
    agents.push(client as unknown as Agent);
    await client.callTool({ name: 'add-tool', arguments: { name: 'added_later' } });
    await told;
    const { tools } = await client.listTools();
    assert.ok(tools.some((t) => t.name === 'added_later'));
  });

  it('registered the Nacos way: a REF to a service\'s instances with remoteServerConfig.exportPath', async () => {
    await stack.stack.registry.services.naming.registerInstance({
      namespace: 'public', group: 'DEFAULT_GROUP', service: 'fixture-mcp', ip: '127.0.0.1', port: up.port, cluster: 'DEFAULT', ephemeral: false, healthCheck: { type: 'none' },
    });
    const ref = { namespaceId: 'public', groupName: 'DEFAULT_GROUP', serviceName: 'fixture-mcp' };
    const r = await http('POST', `${stack.registryUrl}/nacos/v3/admin/ai/mcp`, {
      form: {
        namespaceId: 'public',
        serverSpecification: JSON.stringify({ name: 'nacos-ref', protocol: 'mcp-streamable', versionDetail: { version: '1.0.0' }, remoteServerConfig: { exportPath: '/mcp', serviceRef: ref } }),
        endpointSpecification: JSON.stringify({ type: 'REF', data: ref }),
      },
    });
    assert.equal(r.status, 200, r.text);
    const detail = await http('GET', `${stack.registryUrl}/nacos/v3/admin/ai/mcp?namespaceId=public&mcpName=nacos-ref`);
    assert.equal((detail.body as { data: { remoteServerConfig: { exportPath: string } } }).data.remoteServerConfig.exportPath, '/mcp');
    const a = await agent('streamable', mcp('nacos-ref'));
    agents.push(a);
    assert.equal(firstText(await a.callTool({ name: 'echo', arguments: { text: 'via nacos' } })), 'via nacos');
  });

  it('an upstream that refuses is a JSON-RPC error; one that hangs times out; the others serve on', async () => {
    const refusing = await agent('streamable', mcp('refusing'));
    agents.push(refusing);
    const down = await rpcError(refusing.listTools());
    assert.equal(down.code, -32010);
    const slow = await agent('modern', mcp('slow'));
    agents.push(slow);
    const hung = await rpcError(slow.callTool({ name: 'hang', arguments: {} }));
    assert.equal(hung.code, -32011);
    const healthy = await agent('streamable', mcp('streamable'));
    agents.push(healthy);
    assert.equal(firstText(await healthy.callTool({ name: 'echo', arguments: { text: 'fine' } })), 'fine');
    assert.equal(firstText(await slow.callTool({ name: 'echo', arguments: { text: 'slow is fine too' } })), 'slow is fine too');
  });
});
