// Finding 15: consumer allow-list entries were `server` or `server/tool` strings, and MCP server
// names may contain `/`. The gateway matched `a/b` both as the whole server `a/b` and as tool `b`
// of server `a`, so a grant of one tool leaked a whole server that an editor could create later
// under that name (and a grant of a whole server leaked a tool of another server). Allow-lists
// are now `{server, tools?}` entries end to end; ambiguous strings are refused.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kysely, Migrator } from 'kysely';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { allows, allowsAny } from '../../src/gateway/access-policy.js';
import { compileConsumer } from '../../src/gateway/snapshot.js';
import type { AllowEntry } from '../../src/model/model.js';
import { dialectFor } from '../../src/registry/store/open.js';
import { migrations } from '../../src/registry/store/migrations.js';
import { http } from '../support/http.js';
import { createMcpServer, waitFor } from '../support/gateway.js';
import { startStack } from '../support/stack.js';
import type { TestStack } from '../support/stack.js';

/** A tool that answers its own name without a backend (a direct-response template). */
function tool(name: string): Record<string, unknown> {
  return { name, description: `the ${name} tool`, inputSchema: { type: 'object', properties: {} }, template: { request: null, response: { body: `${name} ran` } } };
}

function server(name: string, tools: string[]): Record<string, unknown> {
  return { name, spec: { version: '1.0.0', tools: tools.map(tool) } };
}

/** What a key sees of a server through the official SDK client: its tools (each called), or the error that refused it (403). */
async function seen(gatewayUrl: string, ns: string, name: string, key: string): Promise<{ tools: string[]; calls: Record<string, string> } | { refused: string }> {
  const client = new Client({ name: 'allow-list-test', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(`${gatewayUrl}/mcp/${ns}/${name}`), { requestInit: { headers: { authorization: `Bearer ${key}` } } });
  try {
    await client.connect(transport);
  } catch (err) {
    return { refused: String(err) };
  }
  try {
    const tools = (await client.listTools()).tools.map((t) => t.name).sort();
    const calls: Record<string, string> = {};
    for (const t of tools) {
      const r = await client.callTool({ name: t, arguments: {} });
      calls[t] = (r.content as { text: string }[])[0]?.text ?? '';
    }
    return { tools, calls };
  } finally {
    await transport.terminateSession().catch(() => undefined);
    await client.close();
  }
}

async function createKey(registryUrl: string, ns: string, name: string, allow: unknown): Promise<{ status: number; key: string; body: any }> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const r = await http('POST', `${registryUrl}/api/v1/namespaces/${ns}/consumers`, { body: { name, allow } });
  return { status: r.status, key: r.body.key, body: r.body };
}

describe('consumer allow-lists are unambiguous when server names contain /', () => {
  let stack: TestStack;
  let reg: string;
  let gw: string;
  let fullKey: string;

  /** Wait until the gateway serves `name` (seen with the key allowed everything). */
  const served = (name: string) => waitFor(`the gateway to serve ${name}`, async () => {
    const s = await seen(gw, 'acme', name, fullKey);
    return 'tools' in s;
  });

  before(async () => {
    stack = await startStack();
    reg = stack.registryUrl;
    gw = stack.gatewayUrl;
    assert.equal((await http('POST', `${reg}/api/v1/namespaces`, { body: { id: 'acme' } })).status, 201);
    await createMcpServer(reg, 'acme', server('maps', ['route', 'secret']));
    await createMcpServer(reg, 'acme', server('io.acme', ['weather', 'billing']));
    await createMcpServer(reg, 'acme', server('io.acme/weather', ['forecast']));
    const full = await createKey(reg, 'acme', 'full', null);
    assert.equal(full.status, 201);
    fullKey = full.key;
    await served('io.acme/weather');
  });
  after(() => stack?.close());

  it('refuses the ambiguous string form with a 400 naming the entry, and changes nothing', async () => {
    const before = await http('GET', `${reg}/api/v1/namespaces/acme/consumers`);
    const r = await http('POST', `${reg}/api/v1/namespaces/acme/consumers`, { body: { name: 'ambiguous', allow: ['maps', 'maps/route'] } });
    assert.equal(r.status, 400, r.text);
    assert.equal(r.body.error.code, 'VALIDATION_FAILED');
    assert.equal(r.body.error.field, 'allow[1]');
    assert.match(r.body.error.message, /'maps\/route' is ambiguous/);
    assert.match(r.body.error.message, /\{"server":"maps","tools":\["route"\]\}/, 'the message shows the tool reading');
    assert.match(r.body.error.message, /\{"server":"maps\/route"\}/, 'and the whole-server reading');
    const put = await http('PUT', `${reg}/api/v1/namespaces/acme/consumers/${before.body.items[0].id as string}`, { body: { allow: ['io.acme/weather'] } });
    assert.equal(put.status, 400, put.text);
    assert.equal(put.body.error.field, 'allow[0]');
    assert.deepEqual((await http('GET', `${reg}/api/v1/namespaces/acme/consumers`)).body, before.body, 'nothing changed');
  });

  it('a grant of one tool of `maps` gives nothing on a server created later as `maps/route`', async () => {
    const k = await createKey(reg, 'acme', 'route-only', [{ server: 'maps', tools: ['route'] }]);
    assert.equal(k.status, 201, JSON.stringify(k.body));
    assert.deepEqual(k.body.allow, [{ server: 'maps', tools: ['route'] }]);
    // An editor (who cannot manage keys) creates a server named like the old `server/tool` grant.
    await createMcpServer(reg, 'acme', server('maps/route', ['dump_everything']));
    await served('maps/route');
    assert.deepEqual(await seen(gw, 'acme', 'maps', k.key), { tools: ['route'], calls: { route: 'route ran' } });
    const leaked = await seen(gw, 'acme', 'maps/route', k.key);
    assert.ok('refused' in leaked && /may not use MCP server 'maps\/route'/.test(leaked.refused), `the key may not use maps/route: ${JSON.stringify(leaked)}`);
  });

  it('a grant of the whole server `io.acme/weather` gives no tool of the server `io.acme`', async () => {
    const k = await createKey(reg, 'acme', 'weather-server', [{ server: 'io.acme/weather' }]);
    assert.equal(k.status, 201, JSON.stringify(k.body));
    assert.deepEqual(await seen(gw, 'acme', 'io.acme/weather', k.key), { tools: ['forecast'], calls: { forecast: 'forecast ran' } });
    const other = await seen(gw, 'acme', 'io.acme', k.key);
    assert.ok('refused' in other && /may not use MCP server 'io.acme'/.test(other.refused), `the key may not use io.acme: ${JSON.stringify(other)}`);
  });

  it('a grant of tool `weather` of `io.acme` gives nothing of the server `io.acme/weather`', async () => {
    const k = await createKey(reg, 'acme', 'weather-tool', [{ server: 'io.acme', tools: ['weather'] }]);
    assert.deepEqual(await seen(gw, 'acme', 'io.acme', k.key), { tools: ['weather'], calls: { weather: 'weather ran' } });
    const other = await seen(gw, 'acme', 'io.acme/weather', k.key);
    assert.ok('refused' in other && /may not use MCP server 'io.acme\/weather'/.test(other.refused), JSON.stringify(other));
  });

  it('still takes a plain server name as a string, and merges entries of one server', async () => {
    const k = await createKey(reg, 'acme', 'plain', ['maps', { server: 'io.acme', tools: ['weather'] }, { server: 'io.acme', tools: ['billing', 'weather'] }, { server: 'maps', tools: ['route'] }]);
    assert.equal(k.status, 201, JSON.stringify(k.body));
    assert.deepEqual(k.body.allow, [{ server: 'maps' }, { server: 'io.acme', tools: ['weather', 'billing'] }]);
    assert.deepEqual(await seen(gw, 'acme', 'maps', k.key), { tools: ['route', 'secret'], calls: { route: 'route ran', secret: 'secret ran' } });
  });

  const bad: [string, unknown, string, RegExp][] = [
    ['empty tools', [{ server: 'maps', tools: [] }], 'allow[0].tools', /at least one tool/],
    ['tools not an array', [{ server: 'maps', tools: 'route' }], 'allow[0].tools', /must be (an )?array/],
    ['a tool name with /', [{ server: 'maps', tools: ['a/b'] }], 'allow[0].tools[0]', /not a tool name/],
    ['no server', [{ tools: ['route'] }], 'allow[0].server', /not an MCP server name/],
    ['a bad server name', [{ server: ' maps' }], 'allow[0].server', /not an MCP server name/],
    ['an unknown field', [{ server: 'maps', tool: 'route' }], 'allow[0].tool', /not a field/],
    ['a number', [42], 'allow[0]', /must be (a server name or|string,object)/],
    ['not a list', 'maps', 'allow', /must be (null|array)/],
  ];
  for (const [name, allow, field, message] of bad) {
    it(`refuses ${name}, naming ${field}`, async () => {
      const r = await http('POST', `${reg}/api/v1/namespaces/acme/consumers`, { body: { name: `bad-${name.replace(/\W+/g, '-')}`, allow } });
      assert.equal(r.status, 400, r.text);
      assert.ok(['VALIDATION_FAILED', 'PARAMETER_MISSING'].includes(r.body.error.code), r.text);
      assert.ok(String(r.body.error.field).replace(/\.(\d+)/g, '[$1]') === field, `field ${r.body.error.field as string} is ${field}`);
      assert.match(r.body.error.message, message);
    });
  }
});

describe('a registry upgraded from string allow-lists', () => {
  let stack: TestStack;
  let dir: string;

  before(async () => {
    // A database as the previous release left it (migrations up to 0004), with string allow-lists.
    dir = mkdtempSync(join(tmpdir(), 'mcpgate-allow-upgrade-'));
    const url = `sqlite:${join(dir, 'mcpgate.db')}`;
    const adapter = dialectFor(url);
    const db = new Kysely<any>({ dialect: adapter.create() }); // eslint-disable-line @typescript-eslint/no-explicit-any
    try {
      const migrator = new Migrator({ db, provider: migrations(adapter), migrationTableName: 'mg_migrations', migrationLockTableName: 'mg_migrations_lock' });
      assert.equal((await migrator.migrateTo('0004_cluster')).error, undefined);
      for (const ns of ['public', 'acme']) await db.insertInto('mg_namespaces').values({ id: ns, name: ns, description: '', created_at: 1, updated_at: 1 }).execute();
      for (const [id, name, tools] of [['s1', 'maps', ['route', 'secret']], ['s2', 'io.acme/weather', ['forecast']]] as const) {
        await db.insertInto('mg_mcp_servers').values({
          id, namespace: 'acme', name, description: '', protocol: 'http', front_protocol: 'mcp-streamable', endpoint: '{"type":"none"}', enabled: 1,
          passthrough: '{"headers":[],"cookies":[]}', published_version: '1.0.0', latest_version: '1.0.0', created_at: 1, updated_at: 1,
        }).execute();
        const spec = {
          version: '1.0.0', description: '', config: {}, securitySchemes: [], prompts: [],
          tools: tools.map((t) => ({ ...tool(t), enabled: true, template: { request: null, response: { body: `${t} ran` }, argsPosition: {} } })),
        };
        await db.insertInto('mg_mcp_server_versions').values({ server_id: id, version: '1.0.0', status: 'published', spec: JSON.stringify(spec), created_at: 1, published_at: 1 }).execute();
      }
      const consumer = (id: string, allow: string[] | null, hash: string) => db.insertInto('mg_consumers').values({
        id, namespace: 'acme', name: id, key_hash: hash, key_prefix: 'mgk_', allow: allow === null ? null : JSON.stringify(allow), created_at: 1,
      }).execute();
      const { hashConsumerKey } = await import('../../src/model/consumer-key.js');
      await consumer('old-route', ['maps/route'], hashConsumerKey('mgk_old-route-key'));
      await consumer('old-weather', ['io.acme/weather'], hashConsumerKey('mgk_old-weather-key'));
      await consumer('old-full', null, hashConsumerKey('mgk_old-full-key'));
    } finally {
      await db.destroy();
    }
    stack = await startStack({ db: url });
  });
  after(async () => {
    await stack?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('keeps the grants on the servers that existed, in the structured form, and gives nothing on servers created later', async () => {
    const reg = stack.registryUrl;
    const gw = stack.gatewayUrl;
    const items = (await http('GET', `${reg}/api/v1/namespaces/acme/consumers`)).body.items as { name: string; allow: unknown }[];
    assert.deepEqual(Object.fromEntries(items.map((c) => [c.name, c.allow])), {
      'old-full': null,
      'old-route': [{ server: 'maps', tools: ['route'] }],
      'old-weather': [{ server: 'io.acme/weather' }],
    });
    await waitFor('the gateway to serve the upgraded servers', async () => 'tools' in await seen(gw, 'acme', 'io.acme/weather', 'mgk_old-full-key'));
    assert.deepEqual(await seen(gw, 'acme', 'maps', 'mgk_old-route-key'), { tools: ['route'], calls: { route: 'route ran' } });
    assert.deepEqual(await seen(gw, 'acme', 'io.acme/weather', 'mgk_old-weather-key'), { tools: ['forecast'], calls: { forecast: 'forecast ran' } });
    // The names the old strings could also have meant, created after the upgrade, are not granted.
    await createMcpServer(reg, 'acme', server('maps/route', ['dump_everything']));
    await createMcpServer(reg, 'acme', server('io.acme', ['weather']));
    await waitFor('the gateway to serve the new servers', async () => 'tools' in await seen(gw, 'acme', 'io.acme', 'mgk_old-full-key') && 'tools' in await seen(gw, 'acme', 'maps/route', 'mgk_old-full-key'));
    for (const [name, key] of [['maps/route', 'mgk_old-route-key'], ['io.acme', 'mgk_old-weather-key']]) {
      const s = await seen(gw, 'acme', name!, key!);
      assert.ok('refused' in s && /may not use MCP server/.test(s.refused), `${key} may not use ${name}: ${JSON.stringify(s)}`);
    }
  });
});

describe('a gateway starting from a snapshot it cached before the upgrade', () => {
  it('takes a string entry as a whole server only when it holds no /, and grants nothing for the others', () => {
    const legacy = ['weather', 'maps/route', 'io.acme/weather'] as unknown as AllowEntry[];
    const c = compileConsumer({ id: 'c', namespace: 'acme', name: 'old', keyHash: 'h', keyPrefix: 'mgk_', allow: legacy, createdAt: 0 });
    assert.equal(allows(c, 'weather', 'anything'), true);
    for (const server of ['maps', 'maps/route', 'io.acme', 'io.acme/weather']) {
      assert.equal(allowsAny(c, server), false, server);
    }
    assert.equal(allows(c, 'maps', 'route'), false);
  });
});
