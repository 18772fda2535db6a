// Virtual servers end to end (`mcpgate serve` in process, real SDK clients): one endpoint over two
// REST servers and upstream MCP servers (server-everything and the fixture over stdio), a member
// killed and one hanging, a key limited to some tools, search mode, and the registry refusing
// cycles, other namespaces, conflicts and invalid renames.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  PromptListChangedNotificationSchema, ResourceListChangedNotificationSchema, ResourceUpdatedNotificationSchema, ToolListChangedNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { startBadUpstream, startHttpUpstream } from './fixtures/mcp/http-upstreams.js';
import type { HttpUpstream } from './fixtures/mcp/http-upstreams.js';
import { createMcpServer, firstText, restTool, waitFor } from './support/gateway.js';
import { http } from './support/http.js';
import { startBackend, startStack } from './support/stack.js';
import type { TestStack } from './support/stack.js';

const STDIO_FIXTURE = resolve(import.meta.dirname, 'fixtures/mcp/stdio-server.mjs');
const PAGED_FIXTURE = resolve(import.meta.dirname, 'fixtures/mcp/paged-server.mjs');

function everythingEntry(): string | undefined {
  try {
    const entry = join(dirname(createRequire(import.meta.url).resolve('@modelcontextprotocol/server-everything/package.json')), 'dist/index.js');
    return existsSync(entry) ? entry : undefined;
  } catch {
    return undefined;
  }
}
const EVERYTHING = everythingEntry();
const skip = EVERYTHING === undefined && process.env.MCPGATE_TEST_REQUIRE_SERVICES !== '1' ? '@modelcontextprotocol/server-everything is not installed' : false;

interface Agent {
  client: Client;
  transport: StreamableHTTPClientTransport;
  /** list_changed notifications received so far. */
  changes: () => number;
}

describe('virtual servers', { skip }, () => {
  let stack: TestStack;
  let backend: Awaited<ReturnType<typeof startBackend>>;
  const agents: Agent[] = [];
  const upstreams: { close(): Promise<void> }[] = [];
  const api = () => `${stack.registryUrl}/api/v1`;
  const virtual = (ns: string, name: string, v: Record<string, unknown>, publish = true) =>
    http('POST', `${api()}/namespaces/${ns}/mcp-servers`, { body: { name, protocol: 'virtual', publish, spec: { version: '1.0.0', tools: [], virtual: v } } });

  async function connect(url: string, headers: Record<string, string> = {}): Promise<Agent> {
    let changes = 0;
    const client = new Client({ name: 'virtual-agent', version: '1.0.0' });
    client.setNotificationHandler(ToolListChangedNotificationSchema, async () => { changes++; });
    const transport = new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } });
    await client.connect(transport);
    const agent = { client, transport, changes: () => changes };
    agents.push(agent);
    return agent;
  }
  const names = async (a: Agent) => (await a.client.listTools()).tools.map((t) => t.name);

  before(async () => {
    backend = await startBackend((r, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ path: r.path, query: r.query }));
    });
    stack = await startStack();
    const endpoint = { type: 'direct', address: '127.0.0.1', port: backend.port };
    await createMcpServer(stack.registryUrl, 'public', { name: 'weather', endpoint, spec: { version: '1.0.0', tools: [restTool('now', { url: '/weather/now', description: 'Weather now in a city', properties: { city: { type: 'string' } }, argsToUrlParam: true })] } });
    await createMcpServer(stack.registryUrl, 'public', { name: 'shop', endpoint, spec: { version: '1.0.0', tools: [restTool('now', { url: '/shop/now' }), restTool('buy', { url: '/shop/buy', description: 'Buy an item from the shop' })] } });
    await createMcpServer(stack.registryUrl, 'public', { name: 'everything', protocol: 'stdio', endpoint: { type: 'none' }, spec: { version: '1.0.0', tools: [], config: { command: process.execPath, args: [EVERYTHING, 'stdio'] } } });
    await createMcpServer(stack.registryUrl, 'public', { name: 'fixture', protocol: 'stdio', endpoint: { type: 'none' }, spec: { version: '1.0.0', tools: [], config: { command: process.execPath, args: [STDIO_FIXTURE] } } });
    const r = await virtual('public', 'agg', {
      members: [{ server: 'weather' }, { server: 'shop', tools: ['now', 'buy'], rename: { buy: 'purchase' } }, { server: 'everything', prefix: 'ev' }, { server: 'fixture', prefix: 'fx' }],
    });
    assert.equal(r.status, 201, r.text);
  });

  after(async () => {
    for (const a of agents) await a.client.close().catch(() => undefined);
    await stack?.close();
    await backend?.close();
    for (const u of upstreams) await u.close().catch(() => undefined);
  });

  it('one endpoint: tools of every member, calls, a resource, a prompt, and a member\'s list_changed', async () => {
    const url = `${stack.gatewayUrl}/mcp/public/agg`;
    await waitFor('the virtual server', async () => (await http('GET', `${url}`)).status !== 404);
    const a = await connect(url);
    const tools = await waitFor('every member listed', async () => {
      const t = await names(a);
      return t.includes('ev__echo') && t.includes('fx__echo') ? t : undefined;
    }, 30_000, 100);
    for (const n of ['weather__now', 'shop__now', 'purchase', 'ev__get-sum', 'fx__add-tool']) assert.ok(tools.includes(n), `${n} in ${tools.join(', ')}`);
    // Deterministic order: members in their order, each member's tools by name.
    assert.deepEqual(tools.slice(0, 3), ['weather__now', 'purchase', 'shop__now']);
    assert.match(firstText(await a.client.callTool({ name: 'weather__now', arguments: { city: 'Paris' } })), /weather\/now.*city=Paris/);
    assert.match(firstText(await a.client.callTool({ name: 'purchase', arguments: {} })), /shop\/buy/);
    assert.match(JSON.stringify((await a.client.callTool({ name: 'ev__get-sum', arguments: { a: 2, b: 3 } })).content), /5/);
    assert.equal(firstText(await a.client.callTool({ name: 'fx__echo', arguments: { text: 'via agg' } })), 'via agg');
    const unknown = await a.client.callTool({ name: 'shop__buy', arguments: {} }).then(() => undefined, (e: { code: number }) => e);
    assert.equal(unknown?.code, -32602);

    const { resources } = await a.client.listResources();
    const first = resources[0] as { uri: string };
    assert.match(first.uri, /^mcpgate:\/\/ev\//);
    const read = await a.client.readResource({ uri: first.uri });
    assert.ok(read.contents.length > 0 && read.contents.every((c) => c.uri.startsWith('mcpgate://ev/')), JSON.stringify(read.contents[0]));
    const { prompts } = await a.client.listPrompts();
    assert.ok(prompts.some((p) => p.name === 'ev__simple-prompt'), JSON.stringify(prompts.map((p) => p.name)));
    assert.match(JSON.stringify((await a.client.getPrompt({ name: 'ev__simple-prompt' })).messages), /simple prompt/);

    await waitFor('the GET stream', () => stack.stack.gateway.handler.openStreams >= 1);
    const before = a.changes();
    await a.client.callTool({ name: 'fx__add-tool', arguments: { name: 'added' } });
    await waitFor('list_changed from the member', () => a.changes() > before, 30_000);
    await waitFor('the added tool listed', async () => (await names(a)).includes('fx__added'), 30_000);
    assert.equal(firstText(await a.client.callTool({ name: 'fx__added', arguments: {} })), 'added ran');
  });

  it('members\' pagination followed (tools, prompts, resources, templates) and completions routed to the member', async () => {
    await createMcpServer(stack.registryUrl, 'public', { name: 'paged', protocol: 'stdio', endpoint: { type: 'none' }, spec: { version: '1.0.0', tools: [], config: { command: process.execPath, args: [PAGED_FIXTURE] } } });
    assert.equal((await virtual('public', 'pages', { members: [{ server: 'weather' }, { server: 'paged', prefix: 'pg' }] })).status, 201);
    const url = `${stack.gatewayUrl}/mcp/public/pages`;
    await waitFor('the pages server', async () => (await http('GET', url)).status !== 404);
    const a = await connect(url);
    // The member answers 2 tools a page: every page is followed.
    const tools = await waitFor('the paged member listed', async () => {
      const t = await names(a);
      return t.includes('pg__t0') ? t : undefined;
    }, 30_000, 100);
    assert.deepEqual(tools, ['weather__now', 'pg__grow', 'pg__t0', 'pg__t1', 'pg__t2', 'pg__t3', 'pg__t4']);
    assert.equal(firstText(await a.client.callTool({ name: 'pg__t4', arguments: {} })), 't4 ran');
    const { prompts } = await a.client.listPrompts();
    assert.deepEqual(prompts.map((p) => p.name), ['pg__p0', 'pg__p1', 'pg__p2']);
    const { resources } = await a.client.listResources();
    assert.deepEqual(resources.map((r) => r.uri), [0, 1, 2, 3, 4].map((i) => `mcpgate://pg/paged://doc/${i}`));
    const { resourceTemplates } = await a.client.listResourceTemplates();
    assert.deepEqual(resourceTemplates.map((r) => r.uriTemplate), [0, 1, 2].map((i) => `mcpgate://pg/paged://tpl${i}/{id}`));
    const read = await a.client.readResource({ uri: 'mcpgate://pg/paged://doc/4' });
    assert.deepEqual(read.contents.map((c) => [c.uri, 'text' in c ? c.text : undefined]), [['mcpgate://pg/paged://doc/4', 'read paged://doc/4']]);
    assert.match(JSON.stringify((await a.client.getPrompt({ name: 'pg__p2', arguments: { colour: 'red' } })).messages), /p2 in red/);
    // Completions: a prompt's under the member's prompt name, a template's under the member's URI.
    const prompt = await a.client.complete({ ref: { type: 'ref/prompt', name: 'pg__p1' }, argument: { name: 'colour', value: 'gr' } });
    assert.deepEqual(prompt.completion.values, ['p1:green', 'p1:grey']);
    const template = await a.client.complete({ ref: { type: 'ref/resource', uri: 'mcpgate://pg/paged://tpl0/{id}' }, argument: { name: 'id', value: '4' } });
    assert.deepEqual(template.completion.values, ['paged://tpl0/{id}:id=41']);
    const unknown = await a.client.complete({ ref: { type: 'ref/prompt', name: 'p1' }, argument: { name: 'colour', value: '' } }).then(() => undefined, (e: { code: number }) => e);
    assert.equal(unknown?.code, -32602);

    // A member's prompts and resources list_changed reach the agents of the virtual server and of
    // one that contains it.
    assert.equal((await virtual('public', 'outer-pages', { members: [{ server: 'pages', prefix: 'in' }] })).status, 201);
    const outerUrl = `${stack.gatewayUrl}/mcp/public/outer-pages`;
    await waitFor('the outer server', async () => (await http('GET', outerUrl)).status !== 404);
    const outer = await connect(outerUrl);
    const told: string[] = [];
    for (const [agent, who] of [[a, 'pages'], [outer, 'outer']] as const) {
      agent.client.setNotificationHandler(PromptListChangedNotificationSchema, async () => { told.push(`${who} prompts`); });
      agent.client.setNotificationHandler(ResourceListChangedNotificationSchema, async () => { told.push(`${who} resources`); });
    }
    await waitFor('both GET streams', () => stack.stack.gateway.handler.openStreams >= 2);
    assert.equal(firstText(await a.client.callTool({ name: 'pg__grow', arguments: {} })), 'grown');
    await waitFor('list_changed on both', () => ['pages prompts', 'pages resources', 'outer prompts', 'outer resources'].every((x) => told.includes(x)), 30_000);
    assert.deepEqual((await outer.client.listPrompts()).prompts.map((p) => p.name), ['in__pg__p0', 'in__pg__p1', 'in__pg__p2', 'in__pg__p3']);
  });

  it('resources/subscribe through the aggregate: routed to the member, its updates under the virtual URI; refused for a member without subscriptions', async () => {
    const url = `${stack.gatewayUrl}/mcp/public/agg`;
    const a = await connect(url);
    await waitFor('the fixture member listed', async () => (await names(a)).includes('fx__touch'), 30_000, 100);
    // Capabilities as a new session sees them once the members were heard from.
    const b = await connect(url);
    assert.equal(b.client.getServerCapabilities()?.resources?.subscribe, true);
    const updates: string[] = [];
    b.client.setNotificationHandler(ResourceUpdatedNotificationSchema, async (n) => { updates.push(n.params.uri); });
    await waitFor('the GET stream', () => stack.stack.gateway.handler.openStreams >= 1);
    const uri = 'mcpgate://fx/file:///readme.txt';
    await b.client.subscribeResource({ uri });
    assert.match(firstText(await b.client.callTool({ name: 'fx__touch', arguments: { uri: 'file:///readme.txt' } })), /touched/);
    await waitFor('the update under the virtual URI', () => updates.includes(uri), 30_000);
    assert.deepEqual(updates, [uri]);
    await b.client.unsubscribeResource({ uri });
    assert.match(firstText(await b.client.callTool({ name: 'fx__touch', arguments: { uri: 'file:///readme.txt' } })), /nobody subscribed/);
    // A REST member has no resources to subscribe to: refused, naming it.
    const refused = await b.client.subscribeResource({ uri: 'mcpgate://weather/x' }).then(() => undefined, (e: { code: number; message: string }) => e);
    assert.equal(refused?.code, -32601);
    assert.match(refused?.message ?? '', /member 'weather'/);
    const unknown = await b.client.subscribeResource({ uri: 'mcpgate://nobody/x' }).then(() => undefined, (e: { code: number }) => e);
    assert.equal(unknown?.code, -32602);
    // A virtual server of REST members only does not offer subscriptions.
    assert.equal((await virtual('public', 'rest-only', { members: [{ server: 'weather' }] })).status, 201);
    const restUrl = `${stack.gatewayUrl}/mcp/public/rest-only`;
    await waitFor('the rest-only server', async () => (await http('GET', restUrl)).status !== 404);
    const c = await connect(restUrl);
    assert.equal(c.client.getServerCapabilities()?.resources?.subscribe, undefined);
  });

  it('a name clash that appears at run time: the registry-listed tool keeps its name, the live one is left out, counted and reported', async () => {
    const up = await startHttpUpstream();
    upstreams.push(up);
    await createMcpServer(stack.registryUrl, 'public', { name: 'grower', protocol: 'mcp-streamable', endpoint: { type: 'url', url: up.url('/mcp') }, spec: { version: '1.0.0', tools: [] } });
    // The live member is listed first: a tool it gains still never takes a registry-listed name.
    assert.equal((await virtual('public', 'clashy', { members: [{ server: 'grower' }, { server: 'weather' }], naming: 'none', refreshMs: 200 })).status, 201);
    const url = `${stack.gatewayUrl}/mcp/public/clashy`;
    await waitFor('the clashy server', async () => (await http('GET', url)).status !== 404);
    const a = await connect(url);
    const before = await waitFor('grower listed', async () => {
      const t = await names(a);
      return t.includes('echo') ? t : undefined;
    }, 30_000, 100);
    assert.ok(before.includes('now'));
    await waitFor('the GET stream', () => stack.stack.gateway.handler.openStreams >= 1);
    const changes = a.changes();
    await a.client.callTool({ name: 'add-tool', arguments: { name: 'now' } });
    await a.client.callTool({ name: 'add-tool', arguments: { name: 'later' } });
    await waitFor('list_changed', () => a.changes() > changes, 30_000);
    const after = await waitFor('the new tool listed', async () => {
      const t = await names(a);
      return t.includes('later') ? t : undefined;
    }, 30_000, 100);
    // Nothing else changed names: the clashing tool is left out, the other new one is added.
    assert.deepEqual(after.filter((n) => n !== 'later'), before);
    assert.match(firstText(await a.client.callTool({ name: 'now', arguments: { city: 'Lima' } })), /weather\/now.*Lima/);
    const metrics = await fetch(`${stack.gatewayUrl}/metrics`).then((m) => m.text());
    assert.match(metrics, /mcpgate_virtual_tool_clash_total\{server="public\/clashy",member="grower"[^}]*\} 1\n/);
    const gateways = await http('GET', `${api()}/gateways`);
    const reported = (gateways.body as { items: { virtualMembers?: { server: string; member: string; state: string; error?: string }[] }[] }).items.flatMap((g) => g.virtualMembers ?? []);
    const clash = reported.find((m) => m.server === 'public/clashy' && m.state === 'clash');
    assert.equal(clash?.member, 'grower', JSON.stringify(reported));
    assert.match(clash?.error ?? '', /now \(kept by weather\)/);
    const preview = await http('POST', `${api()}/namespaces/public/virtual-preview`, { body: { name: 'clashy', virtual: { members: [{ server: 'grower' }, { server: 'weather' }], naming: 'none' } } });
    assert.equal(preview.status, 200, preview.text);
    const running = (preview.body as { running: { member: string; state: string; error?: string }[] }).running;
    assert.ok(running.some((r) => r.member === 'grower' && r.state === 'clash' && /now/.test(r.error ?? '')), JSON.stringify(running));
  });

  it('isolation: a killed member and a hanging one are left out, the others answer; the killed one returns with list_changed', async () => {
    let up: HttpUpstream = await startHttpUpstream();
    const port = up.port;
    const silent = await startBadUpstream('silent');
    upstreams.push(silent);
    await createMcpServer(stack.registryUrl, 'public', { name: 'killable', protocol: 'mcp-streamable', endpoint: { type: 'url', url: up.url('/mcp') }, spec: { version: '1.0.0', tools: [] } });
    await createMcpServer(stack.registryUrl, 'public', { name: 'hanging', protocol: 'mcp-streamable', endpoint: { type: 'url', url: silent.url }, spec: { version: '1.0.0', tools: [], config: { upstream: { timeoutMs: 60_000 } } } });
    const r = await virtual('public', 'iso', { members: [{ server: 'weather' }, { server: 'killable' }, { server: 'hanging' }], listDeadlineMs: 300, refreshMs: 200 });
    assert.equal(r.status, 201, r.text);
    const url = `${stack.gatewayUrl}/mcp/public/iso`;
    await waitFor('the virtual server', async () => (await http('GET', url)).status !== 404);
    const a = await connect(url);
    const listed = await waitFor('killable listed', async () => {
      const t = await names(a);
      return t.includes('killable__echo') ? t : undefined;
    }, 30_000, 100);
    assert.ok(listed.includes('weather__now'));
    assert.ok(!listed.some((n) => n.startsWith('hanging__')), 'the hanging member is left out');
    await waitFor('the GET stream', () => stack.stack.gateway.handler.openStreams >= 1);

    let before = a.changes();
    await up.close();
    await waitFor('list_changed after the kill', () => a.changes() > before, 30_000);
    const without = await names(a);
    assert.ok(without.includes('weather__now') && !without.includes('killable__echo'), without.join(', '));
    // The console's Gateways page shows the member down (and the hanging one not heard from).
    const gateways = await http('GET', `${api()}/gateways`);
    const reported = (gateways.body as { items: { virtualMembers?: { server: string; member: string; state: string }[] }[] }).items.flatMap((g) => g.virtualMembers ?? []);
    assert.ok(reported.some((m) => m.server === 'public/iso' && m.member === 'killable' && m.state === 'down'), JSON.stringify(reported));
    assert.ok(reported.some((m) => m.member === 'hanging' && m.state === 'pending'), JSON.stringify(reported));
    // Another member's calls go on while one is down and one hangs.
    assert.match(firstText(await a.client.callTool({ name: 'weather__now', arguments: { city: 'Oslo' } })), /Oslo/);

    before = a.changes();
    up = await startHttpUpstream(port);
    upstreams.push(up);
    await waitFor('list_changed when it returns', () => a.changes() > before, 60_000);
    await waitFor('its tools back', async () => (await names(a)).includes('killable__echo'), 30_000);
    assert.equal(firstText(await a.client.callTool({ name: 'killable__echo', arguments: { text: 'back' } })), 'back');
    const metrics = await fetch(`${stack.gatewayUrl}/metrics`).then((m) => m.text());
    assert.match(metrics, /mcpgate_virtual_member_left_out_total\{server="public\/iso",member="hanging",reason="deadline"/);
  });

  it('a key limited to some tools of a virtual server sees and calls only those (search mode too); a grant change reaches its stream', async () => {
    assert.equal((await http('POST', `${api()}/namespaces`, { body: { id: 'tenant' } })).status, 201);
    const endpoint = { type: 'direct', address: '127.0.0.1', port: backend.port };
    await createMcpServer(stack.registryUrl, 'tenant', { name: 'weather', endpoint, spec: { version: '1.0.0', tools: [restTool('now', { url: '/t/now' }), restTool('week', { url: '/t/week' })] } });
    assert.equal((await virtual('tenant', 'desk', { members: [{ server: 'weather' }], naming: 'none' })).status, 201);
    const created = await http('POST', `${api()}/namespaces/tenant/consumers`, { body: { name: 'agent', allow: [{ server: 'desk', tools: ['now'] }] } });
    assert.equal(created.status, 201, created.text);
    const auth = { authorization: `Bearer ${created.body.key as string}` };
    const url = `${stack.gatewayUrl}/mcp/tenant/desk`;
    await waitFor('the desk server', async () => (await http('GET', url, { headers: auth })).status !== 404);
    const a = await connect(url, auth);
    assert.deepEqual(await names(a), ['now']);
    assert.match(firstText(await a.client.callTool({ name: 'now', arguments: {} })), /t\/now/);
    const refused = await a.client.callTool({ name: 'week', arguments: {} }).then(() => undefined, (e: { code: number }) => e);
    assert.equal(refused?.code, -32602);
    await waitFor('the GET stream', () => stack.stack.gateway.handler.openStreams >= 1);
    const before = a.changes();
    const put = await http('PUT', `${api()}/namespaces/tenant/consumers/${created.body.id as string}`, { body: { allow: [{ server: 'desk', tools: ['now', 'week'] }] } });
    assert.equal(put.status, 200, put.text);
    await waitFor('list_changed after the grant', () => a.changes() > before, 30_000);
    assert.deepEqual(await names(a), ['now', 'week']);

    // In search mode the key finds and calls only the tools it is granted.
    assert.equal((await virtual('tenant', 'finder', { members: [{ server: 'weather' }], naming: 'none', mode: 'search' })).status, 201);
    const limited = await http('POST', `${api()}/namespaces/tenant/consumers`, { body: { name: 'searcher', allow: [{ server: 'finder', tools: ['now'] }] } });
    assert.equal(limited.status, 201, limited.text);
    const finderUrl = `${stack.gatewayUrl}/mcp/tenant/finder`;
    const searcherAuth = { authorization: `Bearer ${limited.body.key as string}` };
    await waitFor('the finder server', async () => (await http('GET', finderUrl, { headers: searcherAuth })).status !== 404);
    const s = await connect(finderUrl, searcherAuth);
    const found = await s.client.callTool({ name: 'search_tools', arguments: { query: 'now week' } });
    assert.deepEqual((found.structuredContent as { tools: { name: string }[] }).tools.map((t) => t.name), ['now']);
    const hidden = await s.client.callTool({ name: 'call_tool', arguments: { name: 'week', arguments: {} } });
    assert.equal(hidden.isError, true);
    assert.match(firstText(hidden), /Unknown tool: week/);
    assert.match(firstText(await s.client.callTool({ name: 'call_tool', arguments: { name: 'now', arguments: {} } })), /t\/now/);
  });

  it('search mode: two meta-tools, search by words, call a found tool with checked arguments', async () => {
    assert.equal((await virtual('public', 'finder', { members: [{ server: 'weather' }, { server: 'shop' }], mode: 'search' })).status, 201);
    const url = `${stack.gatewayUrl}/mcp/public/finder`;
    await waitFor('the finder server', async () => (await http('GET', url)).status !== 404);
    const a = await connect(url);
    assert.deepEqual(await names(a), ['search_tools', 'call_tool']);
    const found = await a.client.callTool({ name: 'search_tools', arguments: { query: 'buy something in the shop', limit: 3 } });
    const hits = (found.structuredContent as { tools: { name: string }[] }).tools.map((t) => t.name);
    assert.equal(hits[0], 'shop__buy', JSON.stringify(hits));
    const called = await a.client.callTool({ name: 'call_tool', arguments: { name: 'weather__now', arguments: { city: 'Rome' } } });
    assert.match(firstText(called), /Rome/);
    const bad = await a.client.callTool({ name: 'call_tool', arguments: { name: 'weather__now', arguments: { city: 42 } } });
    assert.equal(bad.isError, true);
    assert.match(firstText(bad), /city/);
    const missing = await a.client.callTool({ name: 'call_tool', arguments: { name: 'nope', arguments: {} } });
    assert.equal(missing.isError, true);
  });

  it('versioned like any server: a draft is not served, a publish is (list_changed), a rollback serves the earlier members again', async () => {
    assert.equal((await virtual('public', 'staged', { members: [{ server: 'weather' }] })).status, 201);
    const url = `${stack.gatewayUrl}/mcp/public/staged`;
    await waitFor('the staged server', async () => (await http('GET', url)).status !== 404);
    const a = await connect(url);
    assert.deepEqual(await names(a), ['weather__now']);
    const versionUrl = `${api()}/namespaces/public/mcp-servers/staged/versions/2.0.0`;
    const draft = await http('PUT', versionUrl, { body: { spec: { version: '2.0.0', tools: [], virtual: { members: [{ server: 'weather' }, { server: 'shop', tools: ['buy'] }] } } } });
    assert.ok(draft.status === 200 || draft.status === 201, draft.text);
    assert.deepEqual(await names(a), ['weather__now'], 'a draft is not served');
    await waitFor('the GET stream', () => stack.stack.gateway.handler.openStreams >= 1);
    let before = a.changes();
    assert.equal((await http('POST', `${versionUrl}/publish`, { body: {} })).status, 200);
    await waitFor('list_changed on publish', () => a.changes() > before, 30_000);
    assert.deepEqual(await names(a), ['weather__now', 'shop__buy']);
    before = a.changes();
    const back = await http('POST', `${api()}/namespaces/public/mcp-servers/staged/rollback`, { body: {} });
    assert.equal(back.status, 200, back.text);
    assert.equal((back.body as { publishedVersion: string }).publishedVersion, '1.0.0');
    await waitFor('list_changed on rollback', () => a.changes() > before, 30_000);
    assert.deepEqual(await names(a), ['weather__now']);
  });

  it('previews the tools/list an agent will see, with the checks of a publish', async () => {
    const r = await http('POST', `${api()}/namespaces/public/virtual-preview`, {
      body: { name: 'draft-desk', virtual: { members: [{ server: 'weather', descriptions: { now: 'Weather, now' } }, { server: 'shop', rename: { buy: 'purchase' } }, { server: 'fixture' }] } },
    });
    assert.equal(r.status, 200, r.text);
    const body = r.body as { tools: { name: string; member: string; tool: string; description: string }[]; live: string[] };
    assert.deepEqual(body.tools.map((t) => [t.name, t.member, t.tool]), [['weather__now', 'weather', 'now'], ['purchase', 'shop', 'buy'], ['shop__now', 'shop', 'now']]);
    assert.equal(body.tools[0]?.description, 'Weather, now');
    assert.deepEqual(body.live, ['fixture']);
    const clash = await http('POST', `${api()}/namespaces/public/virtual-preview`, { body: { virtual: { members: [{ server: 'weather' }, { server: 'shop' }], naming: 'none' } } });
    assert.equal(clash.status, 409, clash.text);
  });

  it('refuses cycles, members of other namespaces, conflicting names and invalid renames, naming the field', async () => {
    const refused = async (res: Promise<{ status: number; body: unknown; text: string }>, status: number, code: string, field: RegExp) => {
      const r = await res;
      assert.equal(r.status, status, r.text);
      const body = (r.body as { error: { code: string; field?: string; message: string } }).error;
      assert.equal(body.code, code, r.text);
      assert.match(body.field ?? '', field, r.text);
      return body.message;
    };
    await refused(virtual('public', 'selfish', { members: [{ server: 'selfish' }] }), 400, 'VIRTUAL_CYCLE', /^virtual\.members\[0\]\.server$/);
    assert.equal((await virtual('public', 'outer', { members: [{ server: 'weather' }] })).status, 201);
    assert.equal((await virtual('public', 'inner', { members: [{ server: 'outer' }], naming: 'none' })).status, 201);
    const cycle = await refused(http('PUT', `${api()}/namespaces/public/mcp-servers/outer/versions/2.0.0`, {
      body: { spec: { version: '2.0.0', tools: [], virtual: { members: [{ server: 'weather' }, { server: 'inner' }] } }, publish: true },
    }), 400, 'VIRTUAL_CYCLE', /^virtual\.members\[1\]\.server$/);
    assert.match(cycle, /outer → inner → outer/);
    await refused(virtual('public', 'abroad', { members: [{ server: 'weather', namespace: 'tenant' }] }), 400, 'VALIDATION_FAILED', /^virtual\.members\[0\]\.namespace$/);
    const conflict = await refused(virtual('public', 'clash', { members: [{ server: 'weather' }, { server: 'shop' }], naming: 'none' }), 409, 'VIRTUAL_NAME_CONFLICT', /^virtual\.members\[1\]$/);
    assert.match(conflict, /'shop'.*'weather'/);
    await refused(virtual('public', 'renamed', { members: [{ server: 'weather', rename: { now: 'not valid!' } }] }), 400, 'VALIDATION_FAILED', /^virtual\.members\[0\]\.rename\.now$/);
    await refused(virtual('public', 'sep', { members: [{ server: 'weather' }], separator: '/' }), 400, 'VALIDATION_FAILED', /^virtual\.separator$/);
    await refused(virtual('public', 'ghost', { members: [{ server: 'nowhere' }] }), 400, 'VALIDATION_FAILED', /^virtual\.members\[0\]\.server$/);
    // Nothing was created by the refusals.
    const listed = await http('GET', `${api()}/namespaces/public/mcp-servers?pageSize=100`);
    const created = ((listed.body as { items: { name: string }[] }).items).map((s) => s.name);
    for (const n of ['selfish', 'abroad', 'clash', 'renamed', 'sep', 'ghost']) assert.ok(!created.includes(n), n);
  });
});
