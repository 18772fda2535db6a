// Definitions written the way Higress's public catalogue writes them (our own fixtures in
// test/fixtures/higress-compat/, one per family of constructs), served by a standalone gateway
// with their hosts pointed at a local recorder, listed and called with the MCP SDK's client,
// and every backend request asserted exactly. The constructs Higress accepts though they are
// not as written load with a warning naming file, tool and field (log, API answer, console).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { startGateway } from '../src/cli/roles.js';
import { loadConfig } from '../src/config/config.js';
import { loadDefinition } from '../src/gateway/sources/file.js';
import { createLogger } from '../src/lib/logger.js';
import { http } from './support/http.js';
import { startBackend, startStack } from './support/stack.js';
import type { Recorded, TestStack } from './support/stack.js';

const FIXTURES = resolve(import.meta.dirname, 'fixtures/higress-compat');
const fixture = (name: string, recorder = 'http://recorder.invalid'): string => readFileSync(join(FIXTURES, name), 'utf8').replaceAll('http://recorder.invalid', recorder);

type ToolResult = { content: { type: string; text: string }[]; isError?: boolean };

describe('Higress catalogue constructs (own fixtures)', () => {
  let backend: Awaited<ReturnType<typeof startBackend>>;
  let gateway: Awaited<ReturnType<typeof startGateway>>;
  let dir: string;
  const clients: Client[] = [];

  const answers: Record<string, unknown> = {
    '/jobs': { id: 'j-1' },
    '/places': { places: [{}, {}, {}] },
    '/extract': { status: 'queued' },
    '/geo/lookup': { region: 'north' },
    '/shelves/s-1/books': { books: [{ title: 'Dune', state: 'out', authors: ['F. Herbert'] }, { title: 'Emma', state: 'in', authors: ['J. Austen', 'ed. X'] }] },
    '/notes': { id: 'n-9' },
  };

  before(async () => {
    backend = await startBackend((r, res) => {
      if (r.path === '/whoami') {
        res.writeHead(200, { 'content-type': 'text/plain' }).end('agent-1');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answers[r.path] ?? {}));
    });
    dir = mkdtempSync(join(tmpdir(), 'higress-compat-'));
    for (const name of readdirSync(FIXTURES)) writeFileSync(join(dir, name), fixture(name, backend.url));
    const config = loadConfig('gateway', { gatewayConfig: dir, gatewayPort: 0, host: '127.0.0.1', dataDir: join(dir, 'data') }, {});
    gateway = await startGateway(config, createLogger('silent'));
  });

  after(async () => {
    for (const c of clients) await c.close().catch(() => undefined);
    await gateway?.close();
    await backend?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function connect(server: string, headers: Record<string, string> = {}): Promise<Client> {
    const client = new Client({ name: 'higress-compat', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${gateway.gateway.port}/mcp/public/${server}`), { requestInit: { headers } }));
    clients.push(client);
    return client;
  }

  async function call(client: Client, name: string, args: Record<string, unknown>): Promise<{ text: string; request: Recorded | undefined }> {
    const before = backend.requests.length;
    const result = await client.callTool({ name, arguments: args }) as ToolResult;
    assert.notEqual(result.isError, true, JSON.stringify(result));
    return { text: result.content.map((c) => c.text).join(''), request: backend.requests[before] };
  }

  it('loads every fixture; the lenient constructs are warnings naming tool and field', () => {
    const warnings = readdirSync(FIXTURES).flatMap((f) => loadDefinition(fixture(f)).warnings.map((w) => ({ ...w, file: f })));
    assert.deepEqual(warnings.map((w) => [w.file, w.tool, w.field]), [
      ['lenient-args.yaml', 'start-job', 'tools[0](start-job).args[1].type'],
      ['lenient-args.yaml', 'nearby', 'tools[1](nearby).args[2].name'],
      ['lenient-args.yaml', 'extract', 'tools[2](extract).inputSchema/properties/shape/properties/title/required'],
      ['lenient-args.yaml', 'extract', 'tools[2](extract).inputSchema/properties/shape/properties/year/required'],
    ]);
    assert.match(warnings[0]!.message, /"int" is not a JSON Schema type; read as "integer"/);
    assert.match(warnings[1]!.message, /declared again \(first at args\[1\]\); the last declaration wins/);
  });

  it('getRealIP prints the agent\'s X-Forwarded-For address, getSocketIP its connection; uuidv4 and config in headers', async () => {
    const forwarded = await connect('compat-client-address', { 'x-forwarded-for': '203.0.113.50, 10.0.0.1' });
    const r = await call(forwarded, 'geo-lookup', { ip: '' });
    assert.equal(r.request?.method, 'POST');
    assert.equal(r.request?.path, '/geo/lookup');
    assert.equal(r.request?.body, 'ip=203.0.113.50\n');
    assert.equal(r.request?.headers['content-type'], 'application/x-www-form-urlencoded');
    assert.equal(r.request?.headers['authorization'], 'APPCODE code-7f3a');
    assert.equal(r.request?.headers['x-peer'], '127.0.0.1');
    assert.match(String(r.request?.headers['x-ca-nonce']), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(r.text, '# Lookup result\n\n- **region**: the region (Type: string)\n\n{"region":"north"}');

    const direct = await connect('compat-client-address');
    assert.equal((await call(direct, 'geo-lookup', { ip: '' })).request?.body, 'ip=127.0.0.1\n', 'no header: the socket address');
    assert.equal((await call(direct, 'geo-lookup', { ip: '8.8.4.4' })).request?.body, 'ip=8.8.4.4\n');
    const forged = await connect('compat-client-address', { 'x-forwarded-for': 'x/../../admin?a=1' });
    assert.equal((await call(forged, 'geo-lookup', { ip: '' })).request?.body, 'ip=127.0.0.1\n', 'a forged header that is no address is not printed');
  });

  it('lists the lenient declarations as Higress does and calls them', async () => {
    const client = await connect('compat-lenient-args');
    const tools = Object.fromEntries((await client.listTools()).tools.map((t) => [t.name, t.inputSchema as { properties: Record<string, Record<string, unknown>>; required?: string[] }]));
    assert.deepEqual(Object.keys(tools).sort(), ['extract', 'nearby', 'start-job']);
    assert.equal(tools['start-job']!.properties['ttl']!['type'], 'integer');
    assert.deepEqual(tools['nearby']!.properties['lang'], { type: 'string', description: 'language of the answer', default: 'en-GB' });
    assert.deepEqual(tools['extract']!.properties['shape']!['properties'], {
      title: { description: 'the title', type: 'string', required: true },
      year: { description: 'the year', type: 'integer', required: true },
    }, 'the nested schema is listed as written');

    const job = await call(client, 'start-job', { kind: 'batch' });
    assert.equal(job.request?.body, '{"kind":"batch","ttl":120}');
    assert.equal(job.text, 'job j-1 started\n');
    assert.equal((await call(client, 'start-job', { ttl: 300 })).request?.body, '{"ttl":300}');

    const near = await call(client, 'nearby', { q: 'cafe' });
    assert.equal(near.request?.query, 'lang=en-GB&q=cafe', 'the last declaration of lang (its default) wins; keys sorted, as Go encodes them');
    assert.equal(near.text, '3 places');

    const extract = await call(client, 'extract', { urls: ['https://example.com/a'], shape: { title: 'x' } });
    assert.deepEqual(JSON.parse(extract.request?.body ?? ''), { urls: ['https://example.com/a'], shape: { title: 'x' } }, 'the nested required is not enforced, as in Higress');
    assert.equal(extract.text, 'queued');

    // What would break at call time stays checked: the arguments' types.
    const bad = await client.callTool({ name: 'start-job', arguments: { ttl: 'soon' } }) as ToolResult;
    assert.equal(bad.isError, true);
    assert.match(bad.content[0]!.text, /ttl/);
  });

  it('paths, queries, form bodies, Basic auth, response templates and a direct response', async () => {
    const client = await connect('compat-templates');
    const books = await call(client, 'list-books', { shelf: 's-1', tags: ['sf', 'classic'] });
    assert.equal(books.request?.path, '/shelves/s-1/books');
    assert.equal(new URLSearchParams(books.request?.query).get('page'), '1');
    assert.equal(new URLSearchParams(books.request?.query).get('tags'), '["sf","classic"]');
    assert.equal(books.request?.headers['authorization'], `Basic ${Buffer.from('reader:s3cret').toString('base64')}`);
    assert.equal(books.text, '2 books:\n1. Dune (lent) — F. Herbert\n2. Emma — J. Austen, ed. X\nfirst: Dune\n');

    const note = await call(client, 'add-note', { text: 'hi there', pinned: true });
    assert.equal(note.request?.body, 'pinned=true&text=hi+there', 'keys sorted, as Go encodes a form');
    assert.equal(note.request?.headers['content-type'], 'application/x-www-form-urlencoded');
    assert.equal(note.text, 'note n-9');

    assert.equal((await call(client, 'whoami', {})).text, 'Caller:\nagent-1\n(end)');

    const today = await call(client, 'today', {});
    assert.equal(today.request, undefined, 'answered by the gateway');
    assert.match(today.text, /^\d{4}-\d{2}-\d{2} in Asia\/Tokyo; year \d{4}$/);
  });

  it('keeps refusing what Higress would serve broken: an unknown type, a nested schema that is not one', () => {
    const unknownType = fixture('lenient-args.yaml').replace('type: int\n', 'type: float32\n');
    assert.throws(() => loadDefinition(unknownType), /tools\[0\]\.args\[1\]\.type: must be one of/);
    const badNested = fixture('lenient-args.yaml').replace('type: integer\n            required: true', 'type: integr\n            required: true');
    assert.throws(() => loadDefinition(badNested), /tools\[2\]\(extract\)\.inputSchema\/properties\/shape\/properties\/year\/type/);
  });
});

describe('Higress warnings in the API answer and the console', () => {
  let stack: TestStack;
  before(async () => { stack = await startStack(); });
  after(async () => { await stack?.close(); });

  it('import answers the warnings with file, tool and field; the console preview and validate show them', async () => {
    const content = fixture('lenient-args.yaml', 'http://127.0.0.1:9');
    const imported = await http('POST', `${stack.registryUrl}/api/v1/namespaces/public/mcp-servers/import`, { body: { format: 'higress', content, file: 'lenient-args.yaml', publish: true } });
    assert.equal(imported.status, 201, imported.text);
    const warnings = (imported.body as { warnings: { file: string; tool: string; field: string }[] }).warnings;
    assert.deepEqual(warnings.map((w) => [w.file, w.tool, w.field]), [
      ['lenient-args.yaml', 'start-job', 'tools[0](start-job).args[1].type'],
      ['lenient-args.yaml', 'nearby', 'tools[1](nearby).args[2].name'],
      ['lenient-args.yaml', 'extract', 'tools[2](extract).inputSchema/properties/shape/properties/title/required'],
      ['lenient-args.yaml', 'extract', 'tools[2](extract).inputSchema/properties/shape/properties/year/required'],
    ]);

    const preview = await http('POST', `${stack.registryUrl}/api/v1/namespaces/public/mcp-servers/import/preview`, { body: { format: 'higress', content, file: 'lenient-args.yaml' } });
    assert.equal(preview.status, 200, preview.text);
    assert.equal((preview.body as { valid: boolean }).valid, true);
    assert.equal((preview.body as { warnings: unknown[] }).warnings.length, 4);

    const version = await http('GET', `${stack.registryUrl}/api/v1/namespaces/public/mcp-servers/compat-lenient-args/versions/1.0.0`);
    const validated = await http('POST', `${stack.registryUrl}/api/v1/namespaces/public/mcp-servers/validate`, { body: { spec: (version.body as { spec: unknown }).spec } });
    assert.equal(validated.status, 200, validated.text);
    assert.deepEqual((validated.body as { warnings: { tool: string; field: string }[] }).warnings.map((w) => w.field), [
      'tools[2](extract).inputSchema/properties/shape/properties/title/required',
      'tools[2](extract).inputSchema/properties/shape/properties/year/required',
    ]);
  });
});
