// OpenAPI and server.json imports end to end: documents posted to (or fetched by) a running
// registry, published, and called by the official MCP SDK client through the gateway against a
// local backend that records what it receives; import URLs refused (SSRF), too large, too slow
// or failing, each with its own error; and the `mcpgate import` CLI against the same registry.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { addImportCommands } from '../src/cli/import-catalogue.js';
import { main } from '../src/cli/main.js';
import { http } from './support/http.js';
import { firstText, waitFor } from './support/gateway.js';
import { startBackend, startStack } from './support/stack.js';
import type { Recorded, TestStack } from './support/stack.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'openapi');
const read = (name: string) => readFileSync(join(FIXTURES, name), 'utf8');

describe('OpenAPI and server.json imports', () => {
  let s: TestStack;
  let open: TestStack;
  let backend: Awaited<ReturnType<typeof startBackend>>;
  let docs: Server;
  let docsUrl: string;
  let hang: Server;
  let hangUrl: string;

  before(async () => {
    // The pet backend: answers what a Petstore would, recording each request.
    backend = await startBackend((r: Recorded, res) => {
      res.setHeader('content-type', 'application/json');
      if (r.method === 'GET' && r.path === '/v1/pets') res.end(JSON.stringify([{ id: 1, name: 'Rex' }]));
      else if (r.method === 'GET' && r.path.startsWith('/v1/pets/')) res.end(JSON.stringify({ id: Number(r.path.slice(9)), name: 'Rex', tag: 'dog' }));
      else if (r.method === 'POST') { res.statusCode = 201; res.end('{}'); }
      else { res.statusCode = 404; res.end('{"message":"no"}'); }
    });
    // A document server (loopback, so private by the import guard).
    docs = createServer((req, res) => {
      if (req.url === '/petstore.yaml') { res.setHeader('content-type', 'application/yaml'); res.end(read('petstore.yaml')); }
      else if (req.url === '/spec/tickets.json') { res.setHeader('content-type', 'application/json'); res.end(read('tickets-api.json')); }
      else if (req.url === '/moved') { res.statusCode = 302; res.setHeader('location', '/petstore.yaml'); res.end(); }
      else if (req.url === '/huge') { res.setHeader('content-type', 'application/json'); res.end(`{"openapi":"3.0.0","x":"${'a'.repeat(10_000)}"}`); }
      else if (req.url === '/stream-huge') { res.setHeader('content-type', 'application/json'); res.write('{"openapi":"3.0.0","x":"'); res.write('b'.repeat(10_000)); res.end('"}'); }
      else { res.statusCode = 404; res.end('not here'); }
    });
    await new Promise<void>((resolve) => docs.listen(0, '127.0.0.1', () => resolve()));
    docsUrl = `http://127.0.0.1:${(docs.address() as { port: number }).port}`;
    // A server that never answers (the import's deadline must end the fetch).
    hang = createServer(() => undefined);
    await new Promise<void>((resolve) => hang.listen(0, '127.0.0.1', () => resolve()));
    hangUrl = `http://127.0.0.1:${(hang.address() as { port: number }).port}`;
    s = await startStack();
    open = await startStack({ options: { importAllowPrivateUrls: true, importMaxBytes: 8192, importTimeoutSeconds: 1 } });
  });
  after(async () => {
    await s?.close();
    await open?.close();
    await backend?.close();
    docs?.closeAllConnections();
    hang?.closeAllConnections();
    await new Promise<void>((resolve) => docs.close(() => resolve()));
    await new Promise<void>((resolve) => hang.close(() => resolve()));
  });

  it('imports the Petstore as a draft, publishes it, and an MCP client calls its operations on the backend', async () => {
    const r = await http('POST', `${s.registryUrl}/api/v1/namespaces/public/mcp-servers/import/openapi`, {
      body: { content: read('petstore.yaml'), baseUrl: `${backend.url}/v1` },
    });
    assert.equal(r.status, 201, r.text);
    assert.equal(r.body.name, 'swagger-petstore');
    assert.equal(r.body.publishedVersion, null, 'a draft');
    assert.deepEqual(r.body.warnings, []);
    assert.deepEqual(r.body.versions.map((v: { status: string; toolCount: number }) => [v.status, v.toolCount]), [['draft', 3]]);
    const pub = await http('POST', `${s.registryUrl}/api/v1/namespaces/public/mcp-servers/swagger-petstore/versions/1.0.0/publish`, { body: {} });
    assert.equal(pub.status, 200, pub.text);

    const client = new Client({ name: 'import-test', version: '1.0.0' });
    await waitFor('the server on the gateway', async () => (await http('POST', `${s.gatewayUrl}/mcp/public/swagger-petstore`, {
      body: { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'probe', version: '1' } } },
      headers: { accept: 'application/json, text/event-stream' },
    })).status === 200);
    await client.connect(new StreamableHTTPClientTransport(new URL(`${s.gatewayUrl}/mcp/public/swagger-petstore`)));
    try {
      const { tools } = await client.listTools();
      assert.deepEqual(tools.map((t) => t.name).sort(), ['createPets', 'listPets', 'showPetById']);
      const show = tools.find((t) => t.name === 'showPetById');
      assert.equal(show?.outputSchema?.type, 'object');

      const listed = await client.callTool({ name: 'listPets', arguments: { limit: 5 } });
      assert.equal(listed.isError ?? false, false, firstText(listed));
      const got = await client.callTool({ name: 'showPetById', arguments: { petId: '42' } });
      assert.deepEqual(got.structuredContent, { id: 42, name: 'Rex', tag: 'dog' });
      const made = await client.callTool({ name: 'createPets', arguments: { id: 7, name: 'Tom', tag: 'cat' } });
      assert.equal(made.isError ?? false, false, firstText(made));
      const refused = await client.callTool({ name: 'createPets', arguments: { tag: 'no name' } });
      assert.equal(refused.isError, true, 'required body properties are enforced');
    } finally {
      await client.close();
    }
    const seen = backend.requests.map((q) => `${q.method} ${q.path}${q.query ? `?${q.query}` : ''}`);
    assert.deepEqual(seen, ['GET /v1/pets?limit=5', 'GET /v1/pets/42', 'POST /v1/pets']);
    const post = backend.requests[2];
    assert.equal(post?.headers['content-type'], 'application/json');
    assert.deepEqual(JSON.parse(post?.body ?? ''), { id: 7, name: 'Tom', tag: 'cat' });
  });

  it('the orders and tickets APIs round-trip: every kind of argument reaches the backend where the document puts it', async () => {
    const api = await startBackend((r: Recorded, res) => {
      if (r.path.endsWith('/comments')) { res.statusCode = 204; res.end(); return; }
      res.setHeader('content-type', 'application/json');
      if (r.path === '/api/orders' && r.method === 'GET') res.end('{"items":[],"next":null}');
      else if (r.path.startsWith('/api/orders')) res.end('{"id":"ord_abc","customerId":"c1","status":"open","lines":[]}');
      else if (r.path.startsWith('/api/categories/')) res.end('{"id":3,"name":"tools","children":[]}');
      else if (r.path.endsWith('/tags')) res.end('["x","y"]');
      else if (r.path === '/api/v2/tickets') res.end('{"total":0,"tickets":[]}');
      else res.end('{"id":7,"subject":"printer","status":"solved"}');
    });
    const client = async (name: string, headers: Record<string, string> = {}) => {
      const c = new Client({ name: 'round-trip', version: '1.0.0' });
      await c.connect(new StreamableHTTPClientTransport(new URL(`${s.gatewayUrl}/mcp/rt/${name}`), { requestInit: { headers } }));
      return c;
    };
    const ok = async (c: Client, name: string, args: Record<string, unknown>) => {
      const r = await c.callTool({ name, arguments: args });
      assert.equal(r.isError ?? false, false, `${name}: ${firstText(r)}`);
      return r;
    };
    try {
      assert.equal((await http('POST', `${s.registryUrl}/api/v1/namespaces`, { body: { id: 'rt' } })).status, 201);
      // Orders: the operator sets the API key the import left empty, then publishes.
      const imported = await http('POST', `${s.registryUrl}/api/v1/namespaces/rt/mcp-servers/import/openapi`, { body: { content: read('orders-api.yaml'), baseUrl: `${api.url}/api` } });
      assert.equal(imported.status, 201, imported.text);
      const draft = await http('GET', `${s.registryUrl}/api/v1/namespaces/rt/mcp-servers/acme-orders-api/versions/2024-05-01`);
      const spec = { ...draft.body.spec, securitySchemes: [{ ...draft.body.spec.securitySchemes[0], defaultCredential: 'k-123' }] };
      const saved = await http('PUT', `${s.registryUrl}/api/v1/namespaces/rt/mcp-servers/acme-orders-api/versions/2024-05-01`, { body: { spec, publish: true } });
      assert.equal(saved.status, 200, saved.text);
      await waitFor('the orders server on the gateway', async () => (await http('POST', `${s.gatewayUrl}/mcp/rt/acme-orders-api`, {
        body: { jsonrpc: '2.0', id: 1, method: 'ping' }, headers: { accept: 'application/json, text/event-stream' },
      })).status !== 404);
      const orders = await client('acme-orders-api');
      try {
        await ok(orders, 'listOrders', { pageSize: 5, status: 'open', 'X-Request-Id': '6f1c1a52-3d4e-4b8e-9a51-0c2f8d0b7e11' });
        await ok(orders, 'createOrder', { customerId: 'c1', note: 'ring twice', lines: [{ sku: 'sku-1', quantity: 2 }] });
        const one = await ok(orders, 'getOrder', { orderId: 'ord_abc', session: 's1' });
        assert.equal((one.structuredContent as { id: string }).id, 'ord_abc');
        await ok(orders, 'updateOrderNote', { orderId: 'ord_abc', note: 'leave at the door', notify: true });
        await ok(orders, 'getCategory', { categoryId: 3 });
        await ok(orders, 'delete_orders_orderId', { orderId: 'ord_abc' });
        const bad = await orders.callTool({ name: 'getOrder', arguments: { orderId: 'no spaces allowed' } });
        assert.equal(bad.isError, true, 'the path parameter pattern is enforced');
      } finally {
        await orders.close();
      }
      const [list, create, get, patch, category, del] = api.requests;
      assert.equal(api.requests.length, 6);
      const q = new URLSearchParams(list?.query);
      assert.deepEqual([list?.method, list?.path, q.get('pageSize'), q.get('status')], ['GET', '/api/orders', '5', 'open']);
      assert.equal(list?.headers['x-request-id'], '6f1c1a52-3d4e-4b8e-9a51-0c2f8d0b7e11');
      assert.equal(list?.headers['x-acme-key'], 'k-123', 'the API key scheme');
      assert.deepEqual([create?.method, create?.path, create?.headers['content-type']], ['POST', '/api/orders', 'application/json']);
      assert.deepEqual(JSON.parse(create?.body ?? ''), { customerId: 'c1', note: 'ring twice', lines: [{ sku: 'sku-1', quantity: 2 }] });
      assert.deepEqual([get?.method, get?.path], ['GET', '/api/orders/ord_abc']);
      assert.match(String(get?.headers.cookie), /session=s1/);
      assert.deepEqual([patch?.method, patch?.path, patch?.headers['content-type']], ['PATCH', '/api/orders/ord_abc', 'application/x-www-form-urlencoded']);
      assert.deepEqual(Object.fromEntries(new URLSearchParams(patch?.body)), { note: 'leave at the door', notify: 'true' });
      assert.deepEqual([category?.method, category?.path, category?.headers['x-acme-key']], ['GET', '/api/categories/3', undefined], 'security: [] sends no key');
      assert.deepEqual([del?.method, del?.path], ['DELETE', '/api/orders/ord_abc']);

      // Tickets: OAuth 2 tokens the agent holds are forwarded; whole bodies go as they are.
      api.requests.length = 0;
      const t = await http('POST', `${s.registryUrl}/api/v1/namespaces/rt/mcp-servers/import/openapi`, { body: { content: read('tickets-api.json'), baseUrl: `${api.url}/api/v2`, publish: true } });
      assert.equal(t.status, 201, t.text);
      await waitFor('the tickets server on the gateway', async () => (await http('POST', `${s.gatewayUrl}/mcp/rt/helpdesk-tickets`, {
        body: { jsonrpc: '2.0', id: 1, method: 'ping' }, headers: { accept: 'application/json, text/event-stream' },
      })).status !== 404);
      const tickets = await client('helpdesk-tickets', { authorization: 'Bearer user-token-1' });
      try {
        await ok(tickets, 'tickets.list_all', { q: 'printer' });
        await ok(tickets, 'createTicket_2', { id: 7, body: ['x', 'y'] });
        await ok(tickets, 'post_tickets_id_comments', { id: 7, body: 'It works again.' });
        await ok(tickets, 'updateTicket', { id: 7, body: { status: 'solved' } });
      } finally {
        await tickets.close();
      }
      const [search, tags, comment, update] = api.requests;
      assert.deepEqual([search?.method, search?.path, new URLSearchParams(search?.query).get('q')], ['GET', '/api/v2/tickets', 'printer']);
      assert.equal(search?.headers.authorization, 'Bearer user-token-1', 'the agent\'s OAuth token passed through');
      assert.deepEqual([tags?.method, tags?.path, tags?.body], ['PUT', '/api/v2/tickets/7/tags', '["x","y"]']);
      assert.deepEqual([comment?.method, comment?.path, comment?.body, comment?.headers['content-type']], ['POST', '/api/v2/tickets/7/comments', 'It works again.', 'text/plain']);
      assert.deepEqual([update?.method, update?.path, JSON.parse(update?.body ?? '')], ['PATCH', '/api/v2/tickets/7', { status: 'solved' }]);
    } finally {
      await api.close();
    }
  });

  it('imports again as a new version of the same server, and through the generic import route', async () => {
    const r = await http('POST', `${s.registryUrl}/api/v1/namespaces/public/mcp-servers/import`, {
      body: { format: 'openapi', content: read('petstore.yaml'), version: '1.1.0', toolPrefix: 'pet_' },
    });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body.versions.map((v: { version: string; status: string }) => `${v.version}:${v.status}`), ['1.0.0:published', '1.1.0:draft']);
    const v = await http('GET', `${s.registryUrl}/api/v1/namespaces/public/mcp-servers/swagger-petstore/versions/1.1.0`);
    assert.deepEqual(v.body.spec.tools.map((t: { name: string }) => t.name), ['pet_listPets', 'pet_createPets', 'pet_showPetById']);
  });

  it('the console preview converts without saving and reports warnings', async () => {
    const r = await http('POST', `${s.registryUrl}/api/v1/namespaces/public/mcp-servers/import/preview`, { body: { format: 'openapi', content: read('tickets-api.json') } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.valid, true, JSON.stringify(r.body.error));
    assert.equal(r.body.server.name, 'helpdesk-tickets');
    assert.equal(r.body.tools.length, 5);
    assert.ok(r.body.warnings.length >= 3, r.body.warnings.join('\n'));
    assert.equal((await http('GET', `${s.registryUrl}/api/v1/namespaces/public/mcp-servers/helpdesk-tickets`)).status, 404, 'nothing saved');
  });

  it('bad documents answer 400 naming the field and change nothing', async () => {
    const cases: [unknown, string, string][] = [
      [{ content: 'swagger: "2.0"\n' }, 'OPENAPI_INVALID', 'swagger'],
      [{ content: '{"openapi":"3.0.0","info":{"title":"x"},"paths":{"/a":{"get":{"parameters":[{"$ref":"https://evil.example/p.yaml"}]}}}}' }, 'OPENAPI_INVALID', 'paths./a.get.parameters[0].$ref'],
      [{ content: '{"openapi":' }, 'INVALID_JSON', 'content'],
      [{}, 'PARAMETER_MISSING', 'content'],
      [{ content: read('petstore.yaml'), url: 'https://example.invalid/x' }, 'VALIDATION_FAILED', 'url'],
      [{ content: read('petstore.yaml'), toolPrefix: 'no spaces' }, 'VALIDATION_FAILED', 'toolPrefix'],
      [{ content: read('petstore.yaml'), surprise: 1 }, 'VALIDATION_FAILED', 'surprise'],
    ];
    for (const [body, code, field] of cases) {
      const r = await http('POST', `${s.registryUrl}/api/v1/namespaces/public/mcp-servers/import/openapi`, { body });
      assert.equal(r.status, 400, `${JSON.stringify(body).slice(0, 80)}: ${r.text}`);
      assert.equal(r.body.error.code, code, r.text);
      assert.equal(r.body.error.field, field, r.text);
    }
    const list = await http('GET', `${s.registryUrl}/api/v1/namespaces/public/mcp-servers`);
    assert.deepEqual(list.body.items.map((m: { name: string }) => m.name), ['swagger-petstore']);
  });

  it('import URLs: loopback refused by default; fetched when allowed, redirects followed, relative servers resolved; size, time and status errors', async () => {
    const refused = await http('POST', `${s.registryUrl}/api/v1/namespaces/public/mcp-servers/import/openapi`, { body: { url: `${docsUrl}/petstore.yaml` } });
    assert.equal(refused.status, 400, refused.text);
    assert.equal(refused.body.error.code, 'IMPORT_URL_REFUSED');
    assert.equal(refused.body.error.field, 'url');
    assert.match(refused.body.error.message, /loopback/);
    for (const url of ['file:///etc/passwd', 'http://169.254.169.254/latest/meta-data/', 'http://[::ffff:127.0.0.1]/x', 'not a url', 'http://user:pw@example.invalid/']) {
      const r = await http('POST', `${s.registryUrl}/api/v1/namespaces/public/mcp-servers/import/openapi`, { body: { url } });
      assert.equal(r.body.error?.code, 'IMPORT_URL_REFUSED', `${url}: ${r.text}`);
    }
    // Metadata addresses stay refused even where private ones are allowed.
    const meta = await http('POST', `${open.registryUrl}/api/v1/namespaces/public/mcp-servers/import/openapi`, { body: { url: 'http://169.254.169.254/openapi.json' } });
    assert.equal(meta.body.error?.code, 'IMPORT_URL_REFUSED', meta.text);

    const moved = await http('POST', `${open.registryUrl}/api/v1/namespaces/public/mcp-servers/import/openapi`, { body: { url: `${docsUrl}/moved`, name: 'pets-by-url' } });
    assert.equal(moved.status, 201, moved.text);
    assert.equal(moved.body.name, 'pets-by-url');
    const tickets = await http('POST', `${open.registryUrl}/api/v1/namespaces/public/mcp-servers/import/openapi`, { body: { url: `${docsUrl}/spec/tickets.json` } });
    assert.equal(tickets.status, 201, tickets.text);
    assert.deepEqual(tickets.body.endpoint, { type: 'url', url: `${docsUrl}/api/v2` }, 'the relative server against the document URL');

    const errors: [string, number, string][] = [
      [`${docsUrl}/huge`, 413, 'IMPORT_FETCH_TOO_LARGE'],
      [`${docsUrl}/stream-huge`, 413, 'IMPORT_FETCH_TOO_LARGE'],
      [`${docsUrl}/missing`, 502, 'IMPORT_FETCH_FAILED'],
      [`${hangUrl}/openapi.json`, 504, 'IMPORT_FETCH_TIMEOUT'],
      [`http://127.0.0.1:1/openapi.json`, 502, 'IMPORT_FETCH_FAILED'],
    ];
    for (const [url, status, code] of errors) {
      const r = await http('POST', `${open.registryUrl}/api/v1/namespaces/public/mcp-servers/import/openapi`, { body: { url } });
      assert.equal(r.status, status, `${url}: ${r.text}`);
      assert.equal(r.body.error.code, code, r.text);
    }
  });

  it('server.json: a remote becomes an MCP backend, a package a stdio server; bad files refused', async () => {
    const remote = {
      $schema: 'https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json',
      name: 'io.example/weather', description: 'Weather forecasts', version: '2.1.0', title: 'Weather',
      remotes: [
        { type: 'sse', url: 'https://weather.example.invalid/sse' },
        { type: 'streamable-http', url: 'https://{region}.weather.example.invalid/mcp', variables: { region: { default: 'eu' } }, headers: [{ name: 'X-Weather-Key', isSecret: true, isRequired: true }] },
      ],
    };
    const r = await http('POST', `${s.registryUrl}/api/v1/namespaces/public/mcp-servers/import/server-json`, { body: { content: JSON.stringify(remote), publish: true } });
    assert.equal(r.status, 201, r.text);
    assert.equal(r.body.name, 'io.example/weather');
    assert.equal(r.body.protocol, 'mcp-streamable');
    assert.deepEqual(r.body.endpoint, { type: 'url', url: 'https://eu.weather.example.invalid/mcp' });
    assert.deepEqual(r.body.passthrough, { headers: ['X-Weather-Key'], cookies: [] });
    assert.equal(r.body.publishedVersion, '2.1.0');

    const pkg = { name: 'io.github.acme/files', description: 'Files', version: '0.3.1', packages: [{ registryType: 'npm', identifier: '@acme/files-mcp', version: '0.3.1', transport: { type: 'stdio' }, environmentVariables: [{ name: 'ROOT', default: '/srv' }] }] };
    const p = await http('POST', `${s.registryUrl}/api/v1/namespaces/public/mcp-servers/import`, { body: { format: 'server-json', content: JSON.stringify(pkg), name: 'files' } });
    assert.equal(p.status, 201, p.text);
    assert.equal(p.body.protocol, 'stdio');
    const v = await http('GET', `${s.registryUrl}/api/v1/namespaces/public/mcp-servers/files/versions/0.3.1`);
    assert.deepEqual(v.body.spec.config, { mcpServers: { files: { command: 'npx', args: ['-y', '@acme/files-mcp@0.3.1'], env: { ROOT: '/srv' } } } });

    const bad: [unknown, string][] = [
      [{ description: 'x', version: '1' }, 'name'],
      [{ name: 'no-slash', description: 'x', version: '1' }, 'name'],
      [{ name: 'a.b/c', version: '1' }, 'description'],
      [{ name: 'a.b/c', description: 'x', version: '^1.0' }, 'version'],
      [{ name: 'a.b/c', description: 'x', version: '1', remotes: [{ type: 'websocket', url: 'wss://x' }] }, 'remotes'],
      [{ name: 'a.b/c', description: 'x', version: '1', remotes: [{ type: 'sse', url: 'https://{tenant}.x.example/' }] }, 'remotes[0].url'],
      [{ name: 'a.b/c', description: 'x', version: '1' }, 'remotes'],
    ];
    for (const [doc, field] of bad) {
      const b = await http('POST', `${s.registryUrl}/api/v1/namespaces/public/mcp-servers/import/server-json`, { body: { content: JSON.stringify(doc) } });
      assert.equal(b.status, 400, `${JSON.stringify(doc)}: ${b.text}`);
      assert.equal(b.body.error.code, 'SERVER_JSON_INVALID', b.text);
      assert.equal(b.body.error.field, field, b.text);
    }
  });

  it('with auth on: importing needs the editor role, and so does a preview that fetches a URL', async () => {
    const secured = await startStack({ auth: true });
    try {
      const R = secured.registryUrl;
      const admin = (await http('POST', `${R}/api/v1/auth/login`, { body: { username: 'admin', password: 'admin-password-1' } })).body.accessToken as string;
      const made = await http('POST', `${R}/api/v1/users`, { token: admin, body: { username: 'reader', password: 'reader-password-1', roles: [{ namespace: 'public', role: 'viewer' }] } });
      assert.equal(made.status, 201, made.text);
      const reader = (await http('POST', `${R}/api/v1/auth/login`, { body: { username: 'reader', password: 'reader-password-1' } })).body.accessToken as string;
      const content = read('petstore.yaml');
      assert.equal((await http('POST', `${R}/api/v1/namespaces/public/mcp-servers/import/openapi`, { body: { content } })).status, 401);
      const denied = await http('POST', `${R}/api/v1/namespaces/public/mcp-servers/import/openapi`, { token: reader, body: { content } });
      assert.equal(denied.status, 403, denied.text);
      assert.equal((await http('POST', `${R}/api/v1/namespaces/public/mcp-servers/import/preview`, { token: reader, body: { format: 'openapi', content } })).status, 200, 'a viewer previews content');
      const fetch = await http('POST', `${R}/api/v1/namespaces/public/mcp-servers/import/preview`, { token: reader, body: { format: 'openapi', url: `${docsUrl}/petstore.yaml` } });
      assert.equal(fetch.status, 403, `a viewer may not make the registry fetch: ${fetch.text}`);
      assert.equal((await http('POST', `${R}/api/v1/namespaces/public/mcp-servers/import/openapi`, { token: admin, body: { content } })).status, 201);
    } finally {
      await secured.close();
    }
  });

  it('the CLI imports a file, dry-runs a document, and refuses unknown imports with a usage error', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mcpgate-import-cli-'));
    const file = join(dir, 'orders.yaml');
    writeFileSync(file, read('orders-api.yaml'));
    const run = async (args: string[]) => {
      let code = 0;
      let out = '';
      let err = '';
      const program = new Command('mcpgate').exitOverride();
      addImportCommands(program, (c) => { code = c; }, { io: { out: (t) => { out += t; }, err: (t) => { err += t; }, env: {} } });
      await program.parseAsync(args, { from: 'user' });
      return { code, out, err };
    };
    const dry = await run(['import', 'openapi', file, '--registry', s.registryUrl, '--dry-run']);
    assert.equal(dry.code, 0, dry.err);
    assert.match(dry.out, /^acme-orders-api 2024-05-01: 6 tool\(s\)/);
    assert.match(dry.out, /getOrder {2}GET \/orders\/\{orderId\}/);
    assert.match(dry.err, /warning: servers: 2 servers/);
    assert.equal((await http('GET', `${s.registryUrl}/api/v1/namespaces/public/mcp-servers/acme-orders-api`)).status, 404);

    const done = await run(['import', 'openapi', file, '--registry', s.registryUrl, '--server', 'orders', '--version', '3.0.0', '--tool-prefix', 'acme_']);
    assert.equal(done.code, 0, done.err);
    assert.match(done.out, /^created orders in public: version 3\.0\.0 \(draft\), 6 tool\(s\)/);
    const bad = await run(['import', 'openapi', join(dir, 'missing.yaml'), '--registry', s.registryUrl]);
    assert.equal(bad.code, 2);
    assert.match(bad.err, /cannot read/);
    const refused = await run(['import', 'server-json', file, '--registry', s.registryUrl]);
    assert.equal(refused.code, 1);
    assert.match(refused.err, /SERVER_JSON_INVALID/);
    const down = await run(['import', 'openapi', file, '--registry', 'http://127.0.0.1:1']);
    assert.equal(down.code, 1);
    assert.match(down.err, /cannot reach the registry/);
    // A URL on this machine: the registry refuses to fetch it; --local-fetch fetches it here.
    const remote = await run(['import', 'openapi', `${docsUrl}/spec/tickets.json`, '--registry', s.registryUrl, '--dry-run']);
    assert.equal(remote.code, 1);
    assert.match(remote.err, /IMPORT_URL_REFUSED[\s\S]*--local-fetch/);
    const local = await run(['import', 'openapi', `${docsUrl}/spec/tickets.json`, '--registry', s.registryUrl, '--local-fetch', '--server', 'tickets-local']);
    assert.equal(local.code, 0, local.err);
    const t = await http('GET', `${s.registryUrl}/api/v1/namespaces/public/mcp-servers/tickets-local`);
    assert.deepEqual(t.body.endpoint, { type: 'url', url: `${docsUrl}/api/v2` }, 'relative servers against where it was fetched');
    const other = await run(['import', 'backup.json']);
    assert.equal(other.code, 2);
    assert.match(other.err, /mcpgate import openapi FILE\|URL/);
    // The real entry point dispatches the same way: anything but a catalogue format is a backup file to import.
    const stderr = process.stderr.write;
    let printed = '';
    process.stderr.write = ((t: string) => { printed += t; return true; }) as typeof process.stderr.write;
    try {
      assert.equal(await main(['import', 'backup.json']), 2);
    } finally {
      process.stderr.write = stderr;
    }
    assert.match(printed, /cannot read backup\.json: ENOENT/, 'the backup import read the file');
  });
});
