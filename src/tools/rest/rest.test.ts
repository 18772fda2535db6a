import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, Server, ServerResponse } from 'node:http';
import { createServer as createTcpServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Agent, MockAgent } from 'undici';
import type { Dispatcher } from 'undici';
import { fromHigress } from '../../model/convert/higress.js';
import type { CredentialPassthrough, McpServerSpec } from '../../model/model.js';
import type { RegistrySnapshot } from '../../model/snapshot.js';
import { Cancellation } from '../cancellation.js';
import { ToolError } from '../errors.js';
import { TemplateError } from '../../template/index.js';
import type { CallToolResult, ClientHeaders, ToolExecutor, Upstream } from '../executor.js';
import { createUpstream } from '../upstream.js';
import { AddressGuard, ArgumentHostGuard, OwnEndpoints, addressKind, guardedLookup, isMetadataAddress } from '../address-guard.js';
import { createRestExecutor } from './executor.js';
import { capText } from './response.js';
import { checkScheme, encodePathValue, escapePath, hostAllowed, joinOrigin, joinPath, joinQuery, planUrl, printedPieces, queryEscape, skeletonKey } from './url.js';
import type { ArgumentHost, PlaceValues } from './url.js';
import type { OutputPiece, TrackedOutput } from '../../template/index.js';

const FIXTURES = new URL('../../../test/fixtures/higress/', import.meta.url);
const PNG = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000', 'hex');
const HTML = `<!doctype html><html><body>${'<p>Internal Server Error</p>'.repeat(4000)}</body></html>`;
/**
 * The list backend's body, sent after two spaces: `{{.}}` prints it as received from its `{`
 * (whitespace, and the number JavaScript cannot hold exactly, kept), as Higress does.
 */
const LIST_JSON = '{\n  "items": [ { "id": 1, "name": "a" } ],\n  "total": 1, "cursor": 12345678901234567890\n}\n';
const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

interface Received {
  method: string;
  path: string;
  query: string;
  headers: IncomingHttpHeaders;
  body: string;
}

interface Backend {
  server: Server;
  port: number;
  url: string;
  records: Received[];
  /** The requests received since the last call. */
  take(): Received[];
}

function json(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(typeof value === 'string' ? value : JSON.stringify(value));
}

async function startBackend(): Promise<Backend> {
  const records: Received[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const [path = '', query = ''] = (req.url ?? '').split(/\?(.*)/s);
      const body = Buffer.concat(chunks).toString('utf8');
      records.push({ method: req.method ?? '', path, query, headers: req.headers, body });
      route(path, query, body, res, timers);
    });
  });
  server.on('close', () => timers.forEach(clearTimeout));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    server, port, url: `http://127.0.0.1:${port}`, records,
    take: () => records.splice(0, records.length),
  };
}

function route(path: string, query: string, body: string, res: ServerResponse, timers: Set<NodeJS.Timeout>): void {
  if (path.startsWith('/api/v1/')) return json(res, 200, { title: 'Next.js', snippets: ['npx create-next-app'] });
  if (/^\/items\/[^/]+\/tags$/.test(path)) return json(res, 201, { ok: true });
  if (path.startsWith('/regions/')) {
    res.writeHead(200, { 'content-type': 'text/plain' });
    return void res.end('region ok');
  }
  if (/^\/orgs\/[^/]+\/users$/.test(path)) return json(res, 201, { id: 'u1', name: (JSON.parse(body) as { name: string }).name });
  if (path === '/forms') return json(res, 200, { received: true });
  if (path === '/templated' || path.startsWith('/todos/')) {
    res.writeHead(200, { 'content-type': 'text/plain' });
    return void res.end('updated');
  }
  if (path === '/xxx/list.json') return json(res, 200, `  ${LIST_JSON}`);
  if (path === '/search') {
    if (query === 'query=none') return json(res, 200, { results: [], site: 'Example Docs' });
    return json(res, 200, { results: [{ title: 'One', url: 'https://one.example' }, { title: 'Two' }], site: 'Example Docs' });
  }
  if (path === '/quota') {
    if (query === 'account=plain') {
      res.writeHead(429, { 'content-type': 'text/plain' });
      return void res.end('slow down');
    }
    return json(res, 503, { code: 'QUOTA', message: 'quota exceeded' }, { 'x-request-id': 'req-7' });
  }
  if (path === '/html500') {
    res.writeHead(500, { 'content-type': 'text/html; charset=utf-8' });
    return void res.end(HTML);
  }
  if (path === '/chart.png') {
    res.writeHead(200, { 'content-type': 'image/png' });
    return void res.end(PNG);
  }
  if (path === '/empty') {
    res.writeHead(200, { 'content-length': '0' });
    return void res.end();
  }
  if (path === '/slow') {
    // Answers long after any tool timeout: a result other than {"late":true} came from the timeout.
    const t = setTimeout(() => json(res, 200, { late: true }), 60_000);
    timers.add(t);
    return;
  }
  if (path === '/weather') return json(res, 200, { city: 'Berlin', tempC: 21.5 });
  if (path === '/raw.txt') {
    res.writeHead(200, { 'content-type': 'text/plain' });
    return void res.end('line1\nline2');
  }
  if (['/me', '/keyed', '/basic', '/q', '/session', '/tenant', '/plain', '/flaky'].includes(path)) {
    res.writeHead(200, { 'content-type': 'text/plain' });
    return void res.end('ok');
  }
  res.writeHead(404, { 'content-type': 'text/plain' });
  res.end('not found');
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

function fixture(file: string): { name: string; spec: McpServerSpec } {
  return fromHigress(readFileSync(new URL(file, FIXTURES), 'utf8'));
}

const EMPTY_SNAPSHOT: RegistrySnapshot = { revision: 1, namespaces: ['public'], services: [], mcpServers: [], consumers: [] };
const NO_PASSTHROUGH: CredentialPassthrough = { headers: [], cookies: [] };

function direct(port: number): Upstream {
  return createUpstream({ type: 'direct', address: '127.0.0.1', port }, 'http', EMPTY_SNAPSHOT) as Upstream;
}

function textOf(result: CallToolResult): string {
  const first = result.content[0];
  assert.ok(first && first.type === 'text', `expected a text block, got ${JSON.stringify(result)}`);
  return first.text;
}

/** A call's cancellation that follows `signal` (an AbortController's, in these tests). */
function following(signal: AbortSignal | undefined): Cancellation {
  const c = new Cancellation();
  signal?.addEventListener('abort', () => c.cancel(), { once: true });
  return c;
}

function call(executor: ToolExecutor, args: Record<string, unknown>, clientHeaders: ClientHeaders = {}, signal?: AbortSignal): Promise<CallToolResult> {
  return executor.execute({ args, clientHeaders, cancellation: following(signal) });
}

async function rejectsWith(promise: Promise<unknown>, code: ToolError['code'], message: RegExp): Promise<ToolError> {
  let caught: unknown;
  try {
    await promise;
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof ToolError, `expected a ToolError, got ${String(caught)}`);
  assert.equal(caught.code, code);
  assert.match(caught.message, message);
  return caught;
}

describe('REST executor', () => {
  let backend: Backend;
  let dispatcher: Agent;

  before(async () => {
    backend = await startBackend();
    dispatcher = new Agent({ keepAliveTimeout: 10_000, connections: 64 });
  });
  after(async () => {
    await dispatcher.close();
    backend.server.closeAllConnections();
    await new Promise<void>((resolve) => backend.server.close(() => resolve()));
  });

  function executor(file: string, toolName: string, o: {
    upstream?: Upstream | undefined; passthrough?: CredentialPassthrough; config?: Record<string, unknown>;
    allowMetadataAddresses?: boolean; dispatcher?: Dispatcher; defaultTimeoutMs?: number;
  } = {}): ToolExecutor {
    const { name, spec } = fixture(file);
    const tool = spec.tools.find((t) => t.name === toolName);
    assert.ok(tool, `no tool ${toolName} in ${file}`);
    return createRestExecutor({
      tool, serverName: name, spec: { config: { ...spec.config, ...o.config }, securitySchemes: spec.securitySchemes },
      passthrough: o.passthrough ?? NO_PASSTHROUGH, upstream: 'upstream' in o ? o.upstream : direct(backend.port),
      dispatcher: o.dispatcher ?? dispatcher, allowMetadataAddresses: o.allowMetadataAddresses, defaultTimeoutMs: o.defaultTimeoutMs,
    });
  }

  describe('positions (positions.yaml)', () => {
    it('get-library-docs: sub-path in a path arg, query args with default, argsToUrlParam, templated headers, prependBody', async () => {
      const result = await call(executor('positions.yaml', 'get-library-docs'), { libraryId: '/vercel/next.js', topic: 'routing', verbose: 'true' });
      const [r] = backend.take();
      assert.ok(r);
      assert.equal(r.method, 'GET');
      assert.equal(r.path, '/api/v1/vercel/next.js');
      assert.equal(r.query, 'lang=en&tokens=5000&topic=routing&verbose=true');
      assert.equal(r.headers['x-source'], 'server');
      assert.match(r.headers['x-request-id'] as string, UUID_V4);
      assert.equal(r.headers['authorization'], 'APPCODE ac-123');
      assert.equal(r.headers['accept'], '*/*');
      assert.equal(r.headers['content-type'], undefined);
      assert.equal(r.body, '');
      assert.deepEqual(result, {
        content: [{
          type: 'text',
          text: '# Library documentation\nFields: title (string), snippets (array of code samples).\n{"title":"Next.js","snippets":["npx create-next-app"]}',
        }],
      });
    });

    it('get-library-docs: a new uuidv4 on every call, and escaping of what a path may not hold', async () => {
      const ex = executor('positions.yaml', 'get-library-docs');
      await call(ex, { libraryId: '/docs/hello world/ü', tokens: 10, type: 'txt' });
      await call(ex, { libraryId: '/a:b@c(d)', tokens: '20' });
      const [a, b] = backend.take();
      assert.equal(a?.path, '/api/v1/docs/hello%20world/%C3%BC');
      assert.equal(a?.query, 'lang=en&tokens=10&type=txt');
      assert.equal(b?.path, '/api/v1/a:b@c(d)');
      assert.equal(b?.query, 'lang=en&tokens=20');
      assert.notEqual(a?.headers['x-request-id'], b?.headers['x-request-id']);
    });

    it('refuses path values that would inject a query, a fragment, dot segments or another host', async () => {
      const ex = executor('positions.yaml', 'get-library-docs');
      const attempts: [string, RegExp][] = [
        ['../etc', /dot segments|"\."/], ['/docs/../../etc/passwd', /"\." or "\.\."/], ['a?b=c', /"\?" or "#"/], ['a#frag', /"\?" or "#"/],
        ['%2e%2e', /"\." or "\.\."/], ['/x/%2E%2e/y', /"\." or "\.\."/], ['%252e%252e', /"\." or "\.\."/], ['a%3Fb', /"\?" or "#"/],
        ['//evil.com', /"\/\/"/], ['/ok//evil.com', /"\/\/"/], ['a\\b', /backslash/], ['a\r\nHost: x', /control/], ['.', /"\." or "\.\."/],
      ];
      for (const [libraryId, why] of attempts) {
        await rejectsWith(call(ex, { libraryId }), 'INVALID_ARGUMENT', new RegExp(`^argument 'libraryId': .*${why.source}`));
      }
      assert.deepEqual(backend.take(), []);
    });

    it('tag-item: header, cookie (appended to the template Cookie) and body positions; numbers coerced; appendBody', async () => {
      const result = await call(executor('positions.yaml', 'tag-item'), {
        id: 'i-1', 'X-Trace': 't-9', session: 's 1;admin=1', lang: 'de', tag: 'urgent', weight: '2.5',
      });
      const [r] = backend.take();
      assert.ok(r);
      assert.equal(r.method, 'POST');
      assert.equal(r.path, '/items/i-1/tags');
      assert.equal(r.query, '');
      assert.equal(r.headers['x-trace'], 't-9');
      assert.equal(r.headers['cookie'], 'tenant=acme; session=s%201%3Badmin=1; lang=de');
      assert.equal(r.headers['content-type'], 'application/json; charset=utf-8');
      assert.equal(r.body, '{"tag":"urgent","weight":2.5}');
      assert.deepEqual(result, { content: [{ type: 'text', text: '{"ok":true}\n(tagged)' }] });
    });

    it('tag-item: refuses a header argument with CR/LF; sends UTF-8 header values as bytes', async () => {
      const ex = executor('positions.yaml', 'tag-item');
      await rejectsWith(call(ex, { id: 'i', tag: 't', 'X-Trace': 'a\r\nX-Evil: 1' }), 'INVALID_ARGUMENT', /^argument 'X-Trace': .*control/);
      await call(ex, { id: 'i', tag: 't', 'X-Trace': 'Zoë' });
      const [r] = backend.take();
      assert.equal(Buffer.from(r?.headers['x-trace'] as string, 'latin1').toString('utf8'), 'Zoë');
    });

    it('region-lookup: absolute URL from config; a placeholder in the query is query-escaped; the query is re-encoded sorted', async () => {
      const ex = executor('positions.yaml', 'region-lookup', { upstream: undefined, config: { baseUrl: backend.url } });
      const result = await call(ex, { country: 'de', q: 'a&b c', page: 2 });
      const [r] = backend.take();
      assert.equal(r?.method, 'GET');
      assert.equal(r?.path, '/regions/de');
      assert.equal(r?.query, 'fixed=a+b&page=2&q=a%26b+c');
      assert.deepEqual(result, { content: [{ type: 'text', text: 'region ok' }] });
    });
  });

  describe('bodies (bodies.yaml, seed.yaml)', () => {
    it('create-user: argsToJsonBody with coerced integer and boolean, path arg left out of the body; response body template', async () => {
      const result = await call(executor('bodies.yaml', 'create-user'), { org: 'acme', name: 'Ann', age: '42', active: 'true', tags: ['a', 'b'] });
      const [r] = backend.take();
      assert.equal(r?.method, 'POST');
      assert.equal(r?.path, '/orgs/acme/users');
      assert.equal(r?.query, '');
      assert.equal(r?.headers['content-type'], 'application/json; charset=utf-8');
      assert.equal(r?.body, '{"name":"Ann","age":42,"active":true,"tags":["a","b"]}');
      assert.deepEqual(result, { content: [{ type: 'text', text: 'created u1 (Ann)' }] });
    });

    it('submit-form: argsToFormBody, sorted and form-encoded; a header arg stays a header', async () => {
      const result = await call(executor('bodies.yaml', 'submit-form'), { q: 'a b&c=ü', n: 1.5, trace: 'x1' });
      const [r] = backend.take();
      assert.equal(r?.method, 'POST');
      assert.equal(r?.path, '/forms');
      assert.equal(r?.headers['content-type'], 'application/x-www-form-urlencoded');
      assert.equal(r?.headers['trace'], 'x1');
      assert.equal(r?.body, 'n=1.5&q=a+b%26c%3D%C3%BC');
      assert.deepEqual(result, { content: [{ type: 'text', text: '{"received":true}' }] });
    });

    it('templated-body: toJson of a string, an object and config; the template wins over body args and argsToJsonBody', async () => {
      const result = await call(executor('bodies.yaml', 'templated-body'), {
        name: 'Zoë "Z" <b>', user: { id: 7, email: 'z@example.com' }, ignored: 'nope',
      });
      const [r] = backend.take();
      assert.equal(r?.method, 'POST');
      assert.equal(r?.path, '/templated');
      assert.equal(r?.headers['content-type'], 'application/json; charset=utf-8');
      assert.equal(
        r?.body,
        '{"name": "Zoë \\"Z\\" \\u003cb\\u003e", "user": {"id":7,"email":"z@example.com"}, "meta": {"app": "ac-123", "limit": 20, "max": 10}}\n',
      );
      assert.deepEqual(JSON.parse(r?.body ?? ''), { name: 'Zoë "Z" <b>', user: { id: 7, email: 'z@example.com' }, meta: { app: 'ac-123', limit: 20, max: 10 } });
      assert.deepEqual(result, { content: [{ type: 'text', text: 'updated' }] });
    });

    it('update-form: body args as a form because the template sets a form Content-Type', async () => {
      const result = await call(executor('bodies.yaml', 'update-form'), { id: 't1', title: 'Buy milk', done: true });
      const [r] = backend.take();
      assert.equal(r?.method, 'PUT');
      assert.equal(r?.path, '/todos/t1');
      assert.equal(r?.headers['content-type'], 'application/x-www-form-urlencoded');
      assert.equal(r?.body, 'done=true&title=Buy+milk');
      assert.deepEqual(result, { content: [{ type: 'text', text: 'updated' }] });
    });

    it("seed.yaml: the deployment guide's template works verbatim and {{.}} prints the backend's JSON as received", async () => {
      const result = await call(executor('seed.yaml', 'list'), { page: 2, keyword: 'a b' });
      const [r] = backend.take();
      assert.equal(r?.method, 'GET');
      assert.equal(r?.path, '/xxx/list.json');
      assert.equal(r?.query, 'keyword=a+b&page=2');
      assert.equal(r?.body, '');
      assert.deepEqual(result, { content: [{ type: 'text', text: LIST_JSON }] });
    });
  });

  describe('responses (responses.yaml)', () => {
    it('search: range and if in the response template', async () => {
      const ex = executor('responses.yaml', 'search');
      assert.deepEqual(await call(ex, { query: 'mcp' }), {
        content: [{ type: 'text', text: '2 results on Example Docs:\n1. One <https://one.example>\n2. Two (no link)' }],
      });
      assert.deepEqual(await call(ex, { query: 'none' }), { content: [{ type: 'text', text: 'No results for this query.' }] });
      assert.deepEqual(backend.take().map((r) => `${r.method} ${r.path}?${r.query}`), ['GET /search?query=mcp', 'GET /search?query=none']);
    });

    it('quota: the error template sees the body and _headers; empty output falls back to HTTP status and body', async () => {
      const ex = executor('responses.yaml', 'quota');
      assert.deepEqual(await call(ex, { account: 'acme' }), {
        content: [{ type: 'text', text: 'QUOTA: quota exceeded (HTTP 503, request req-7)' }], isError: true,
      });
      assert.deepEqual(await call(ex, { account: 'plain' }), { content: [{ type: 'text', text: 'HTTP 429: slow down' }], isError: true });
      assert.equal(backend.take().length, 2);
    });

    it('report: an HTML 500 page is an error with the body cut at 64 KiB', async () => {
      const result = await call(executor('responses.yaml', 'report'), {});
      backend.take();
      assert.equal(result.isError, true);
      const t = textOf(result);
      assert.ok(t.startsWith('HTTP 500: <!doctype html><html><body><p>Internal Server Error</p>'));
      const bytes = Buffer.byteLength(HTML);
      assert.ok(t.endsWith(`\n… [truncated: ${bytes - (64 * 1024 - 'HTTP 500: '.length)} more bytes]`), t.slice(-80));
      assert.ok(Buffer.byteLength(t) < 64 * 1024 + 100);
    });

    it('chart: image/* becomes image content', async () => {
      assert.deepEqual(await call(executor('responses.yaml', 'chart'), {}), {
        content: [{ type: 'image', data: PNG.toString('base64'), mimeType: 'image/png' }],
      });
      assert.equal(backend.take()[0]?.path, '/chart.png');
    });

    it('ping: an empty body is "success"', async () => {
      assert.deepEqual(await call(executor('responses.yaml', 'ping'), {}), { content: [{ type: 'text', text: 'success' }] });
      const [r] = backend.take();
      assert.equal(r?.method, 'DELETE');
      assert.equal(r?.path, '/empty');
    });

    it('slow: the tool timeout gives "timed out after N ms"', async () => {
      assert.deepEqual(await call(executor('responses.yaml', 'slow'), {}), { content: [{ type: 'text', text: 'timed out after 200 ms' }], isError: true });
      backend.take();
    });

    it('slow: the default timeout applies to tools without one, and cancellation aborts the call', async () => {
      const { spec } = fixture('responses.yaml');
      const tool = spec.tools.find((t) => t.name === 'slow');
      assert.ok(tool?.template);
      const ex = createRestExecutor({
        tool: { ...tool, template: { ...tool.template, timeoutMs: undefined } }, serverName: 'responses', spec,
        passthrough: NO_PASSTHROUGH, upstream: direct(backend.port), dispatcher, defaultTimeoutMs: 150,
      });
      assert.equal(textOf(await call(ex, {})), 'timed out after 150 ms');
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 50);
      assert.deepEqual(await call(executor('responses.yaml', 'slow'), {}, {}, controller.signal), { content: [{ type: 'text', text: 'cancelled' }], isError: true });
      backend.take();
    });

    it('weather: outputSchema gives structuredContent next to the text', async () => {
      assert.deepEqual(await call(executor('responses.yaml', 'weather'), { city: 'Berlin' }), {
        content: [{ type: 'text', text: '{"city":"Berlin","tempC":21.5}' }], structuredContent: { city: 'Berlin', tempC: 21.5 },
      });
      // A cancelled /slow request of an earlier test may arrive late: look for this call's own request.
      assert.equal(backend.take().find((r) => r.path === '/weather')?.query, 'city=Berlin');
    });

    it('{{.}} alone: a JSON body as received with structuredContent beside it; a text body as text', async () => {
      assert.deepEqual(await call(executor('responses.yaml', 'weather-dot'), {}), {
        content: [{ type: 'text', text: '{"city":"Berlin","tempC":21.5}' }], structuredContent: { city: 'Berlin', tempC: 21.5 },
      });
      assert.deepEqual(await call(executor('responses.yaml', 'raw-dot'), {}), { content: [{ type: 'text', text: 'line1\nline2' }] });
      backend.take();
    });

    it('raw: without a response template the raw body is the text', async () => {
      assert.deepEqual(await call(executor('responses.yaml', 'raw'), {}), { content: [{ type: 'text', text: 'line1\nline2' }] });
      backend.take();
    });

    it('current-time: a direct-response tool renders from args (with defaults) and config, with no backend call', async () => {
      const ex = executor('responses.yaml', 'current-time', { upstream: undefined });
      const day = '(Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), \\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2}';
      assert.match(textOf(await call(ex, { timeZone: 'UTC' })), new RegExp(`^Now in UTC: ${day}$`));
      assert.match(textOf(await call(ex, {})), new RegExp(`^Now in Asia/Shanghai: ${day}$`));
      const utc = textOf(await call(ex, { timeZone: 'UTC' })).slice(-8, -3);
      const now = new Date();
      assert.ok([now.getUTCHours(), (now.getUTCHours() + 23) % 24].map((h) => String(h).padStart(2, '0')).includes(utc.slice(0, 2)));
      assert.deepEqual(backend.take(), []);
    });

    it('echo-structured: a direct-response tool with an output schema', async () => {
      assert.deepEqual(await call(executor('responses.yaml', 'echo-structured', { upstream: undefined }), { city: 'Oslo' }), {
        content: [{ type: 'text', text: '{"city": "Oslo", "site": "Example Docs"}' }], structuredContent: { city: 'Oslo', site: 'Example Docs' },
      });
    });
  });

  describe('credentials (secure.yaml)', () => {
    const ok = { content: [{ type: 'text', text: 'ok' }] };

    it('whoami: a required bearer credential is passed through; missing → CREDENTIAL_REQUIRED with its WWW-Authenticate challenge (the gateway answers 401)', async () => {
      const ex = executor('secure.yaml', 'whoami');
      const err = await rejectsWith(call(ex, {}), 'CREDENTIAL_REQUIRED', /^tool whoami needs a credential: send Authorization: Bearer <token>/);
      assert.equal(err.challenge, 'Bearer realm="mcpgate"'); // answered 401 by the gateway (src/gateway/errors.test.ts)
      await rejectsWith(call(ex, {}, { authorization: 'Bearer mgk_consumerkey' }), 'CREDENTIAL_REQUIRED', /gateway key/);
      await rejectsWith(call(ex, {}, { authorization: 'Basic dTpw' }), 'CREDENTIAL_REQUIRED', /Bearer/);
      assert.deepEqual(backend.take(), []);
      assert.deepEqual(await call(ex, {}, { authorization: 'bearer user-token-1' }), ok);
      const [r] = backend.take();
      assert.equal(r?.path, '/me');
      assert.equal(r?.headers['authorization'], 'Bearer user-token-1');
    });

    it('default-key, tool-key, basic-auth, query-key: configured upstream credentials', async () => {
      assert.deepEqual(await call(executor('secure.yaml', 'default-key'), {}, { 'x-backend-key': 'agent-value' }), ok);
      assert.deepEqual(await call(executor('secure.yaml', 'tool-key'), {}), ok);
      assert.deepEqual(await call(executor('secure.yaml', 'basic-auth'), {}), ok);
      assert.deepEqual(await call(executor('secure.yaml', 'query-key'), { q: 'x' }), ok);
      const [a, b, c, d] = backend.take();
      assert.equal(a?.headers['x-backend-key'], 'default-key');
      assert.equal(b?.headers['x-backend-key'], 'tool-key');
      assert.equal(c?.headers['authorization'], 'Basic dXNlcjpwYXNz');
      assert.equal(d?.path, '/q');
      assert.equal(d?.query, 'api_key=q-default&q=x');
    });

    it('cookie-session: a required cookie credential, taken from the agent and sent once', async () => {
      const ex = executor('secure.yaml', 'cookie-session', { passthrough: { headers: [], cookies: ['sid', 'session'] } });
      const err = await rejectsWith(call(ex, { theme: 'dark' }, { cookie: 'other=1' }), 'CREDENTIAL_REQUIRED', /send the cookie sid/);
      assert.equal(err.challenge, 'ApiKey realm="mcpgate", in="cookie", name="sid"');
      assert.deepEqual(await call(ex, { theme: 'dark' }, { cookie: 'other=1; sid=abc; session=s1' }), ok);
      const [r] = backend.take();
      assert.equal(r?.headers['cookie'], 'theme=dark; session=s1; sid=abc');
    });

    it('tenant: passthrough wins over the default credential, which applies when the agent sends none', async () => {
      const ex = executor('secure.yaml', 'tenant', { passthrough: { headers: ['X-Tenant-Key'], cookies: [] } });
      assert.deepEqual(await call(ex, {}, { 'x-tenant-key': 't-1' }), ok);
      assert.deepEqual(await call(ex, {}), ok);
      const [a, b] = backend.take();
      assert.equal(a?.headers['x-tenant-key'], 't-1');
      assert.equal(b?.headers['x-tenant-key'], 'fallback-tenant');
    });

    it('a credential taken by one scheme goes to the backend by another; a taken one is removed, even when allow-listed', async () => {
      const passthrough = { headers: ['Authorization', 'X-Client-Key', 'X-Backend-Key'], cookies: [] };
      const bearerToKey = executor('secure.yaml', 'bearer-to-key', { passthrough });
      assert.deepEqual(await call(bearerToKey, {}, { authorization: 'Bearer agent-token', 'x-backend-key': 'spoofed' }), ok);
      assert.deepEqual(await call(bearerToKey, {}, { 'x-client-key': 'k' }), ok, 'no bearer token: the backend scheme\'s default credential');
      assert.deepEqual(await call(executor('secure.yaml', 'key-to-basic', { passthrough }), {}, { 'x-client-key': 'ann:pw' }), ok);
      assert.deepEqual(await call(executor('secure.yaml', 'client-key-stripped', { passthrough }), {}, { 'x-client-key': 'agent-key' }), ok);
      assert.deepEqual(await call(executor('secure.yaml', 'client-key-only', { passthrough }), {}, { 'x-client-key': 'agent-key', authorization: 'Bearer t' }), ok);
      assert.deepEqual(await call(executor('secure.yaml', 'client-key-only', { passthrough }), {}), ok, 'a credential only removed is not required');
      const [toKey, fallback, toBasic, stripped, only, none] = backend.take();
      assert.deepEqual([toKey?.headers['x-backend-key'], toKey?.headers['authorization']], ['agent-token', undefined]);
      assert.equal(fallback?.headers['x-backend-key'], 'default-key');
      assert.deepEqual([toBasic?.headers['authorization'], toBasic?.headers['x-client-key']], [`Basic ${Buffer.from('ann:pw').toString('base64')}`, undefined]);
      assert.deepEqual([stripped?.headers['x-backend-key'], stripped?.headers['x-client-key']], ['default-key', undefined]);
      assert.deepEqual([only?.headers['x-client-key'], only?.headers['x-backend-key'], only?.headers['authorization']], [undefined, undefined, 'Bearer t']);
      assert.equal(none?.path, '/plain');
      // A key in the agent's URL (apiKey in: query); the gateway's own key there does not count.
      const fromQuery = executor('secure.yaml', 'query-to-header', { passthrough });
      assert.deepEqual(await fromQuery.execute({ args: {}, clientHeaders: {}, clientQuery: 'x=1&api_key=agent%20q', cancellation: new Cancellation() }), ok);
      assert.deepEqual(await fromQuery.execute({ args: {}, clientHeaders: {}, clientQuery: 'api_key=mgk_gatewaykey', cancellation: new Cancellation() }), ok);
      const [queried, notGateway] = backend.take();
      assert.deepEqual([queried?.path, queried?.query, queried?.headers['x-backend-key']], ['/keyed', '', 'agent q']);
      assert.equal(notGateway?.headers['x-backend-key'], 'default-key');
      // Without a fallback credential, a missing passed-through one is a 401 named by the agent-side scheme.
      const { spec } = fixture('secure.yaml');
      const noDefault = { ...spec, securitySchemes: spec.securitySchemes.map((x) => (x.id === 'backend-key' ? { ...x, defaultCredential: undefined } : x)) };
      const strict = createRestExecutor({ tool: spec.tools.find((t) => t.name === 'bearer-to-key')!, serverName: 'secure', spec: noDefault, passthrough, upstream: direct(backend.port), dispatcher });
      await rejectsWith(call(strict, {}, { 'x-client-key': 'k' }), 'CREDENTIAL_REQUIRED', /send Authorization: Bearer <token>/);
    });

    it('plain: only allow-listed headers and cookies are forwarded; hop-by-hop and the gateway key never', async () => {
      const passthrough = {
        headers: ['Authorization', 'X-User-Token', 'Connection', 'Transfer-Encoding', 'X-Api-Key', 'Proxy-Authorization', 'Host', 'Keep-Alive',
          'Upgrade', 'TE', 'Trailer', 'Content-Length', 'X-Hop', 'Accept'],
        cookies: ['session'],
      };
      const ex = executor('secure.yaml', 'plain', { passthrough });
      const client: ClientHeaders = {
        authorization: 'Bearer user-token', 'x-user-token': 'u1', connection: 'keep-alive, X-Hop', 'x-hop': 'secret', 'transfer-encoding': 'chunked',
        'x-api-key': 'mgk_key', 'proxy-authorization': 'Basic eA==', host: 'gateway.local', 'keep-alive': 'timeout=5', upgrade: 'h2c', te: 'trailers',
        trailer: 'x', 'content-length': '99', 'x-other': 'no', accept: 'application/json, text/event-stream', cookie: 'session=s1; tracking=t1',
      };
      assert.deepEqual(await call(ex, {}, client), ok);
      const [r] = backend.take();
      assert.ok(r);
      assert.equal(r.method, 'POST');
      assert.equal(r.headers['authorization'], 'Bearer user-token');
      assert.equal(r.headers['x-user-token'], 'u1');
      assert.equal(r.headers['cookie'], 'session=s1');
      assert.equal(r.headers['accept'], '*/*');
      assert.equal(r.headers['host'], `127.0.0.1:${backend.port}`);
      for (const h of ['x-hop', 'x-api-key', 'proxy-authorization', 'upgrade', 'te', 'trailer', 'transfer-encoding', 'x-other', 'keep-alive']) {
        assert.equal(r.headers[h], undefined, h);
      }
      assert.equal(r.headers['content-length'], '0');

      assert.deepEqual(await call(ex, {}, { authorization: 'Bearer mgk_consumer' }), ok);
      assert.equal(backend.take()[0]?.headers['authorization'], undefined);
      assert.deepEqual(await call(executor('secure.yaml', 'plain'), {}, client), ok);
      const [none] = backend.take();
      assert.equal(none?.headers['authorization'], undefined);
      assert.equal(none?.headers['cookie'], undefined);
    });
  });

  describe('metadata addresses (metadata.yaml)', () => {
    for (const [tool, host] of [
      ['instance-metadata', '169.254.169.254'], ['google-metadata', 'metadata.google.internal'], ['decimal-ip', '169.254.169.254'], ['aws-v6', '[fd00:ec2::254]'],
    ] as const) {
      it(`${tool}: refused`, async () => {
        const result = await call(executor('metadata.yaml', tool, { upstream: undefined }), {});
        assert.deepEqual(result, {
          content: [{ type: 'text', text: `request refused: ${host} is a link-local or cloud-metadata address (the server does not allow metadata addresses)` }],
          isError: true,
        });
      });
    }

    it('instance-metadata: attempted when the server allows metadata addresses', async () => {
      const mock = new MockAgent();
      mock.disableNetConnect();
      mock.get('http://169.254.169.254').intercept({ path: '/latest', method: 'GET' }).reply(200, 'ami-id');
      const ex = executor('metadata.yaml', 'instance-metadata', { upstream: undefined, allowMetadataAddresses: true, dispatcher: mock });
      assert.deepEqual(await call(ex, {}), { content: [{ type: 'text', text: 'ami-id' }] });
      mock.assertNoPendingInterceptors();
      await mock.close();
    });

    it('checks literal forms and DNS answers; a guarded lookup refuses metadata answers at connect time', async () => {
      for (const ip of ['169.254.169.254', '169.254.0.1', '::ffff:169.254.169.254', 'fd00:ec2::254', 'fe80::1', '100.100.100.200']) assert.equal(isMetadataAddress(ip), true, ip);
      for (const ip of ['127.0.0.1', '10.0.0.1', '::1', 'fd00::1', 'api.example.com']) assert.equal(isMetadataAddress(ip), false, ip);
      const guard = new AddressGuard();
      assert.equal(guard.check('127.0.0.1'), undefined);
      assert.match(String(guard.check('[fd00:ec2::254]')), /metadata/);
      assert.match(String(guard.check('METADATA.google.internal')), /metadata/);
      assert.equal(await guard.check('localhost'), undefined);
      const refused = await new Promise<NodeJS.ErrnoException | null>((resolve) => guardedLookup('metadata.google.internal', {}, (err) => resolve(err)));
      assert.equal(refused?.code, 'EMETADATA');
      const local = await new Promise<unknown>((resolve) => guardedLookup('localhost', {}, (err, address) => resolve(err ?? address)));
      assert.match(String(local), /^(127\.0\.0\.1|::1)$/);
    });

    it('classifies addresses an argument-chosen host may not reach, in every spelling', () => {
      const cases: [string, string | undefined][] = [
        ['127.0.0.1', 'loopback'], ['127.1.2.3', 'loopback'], ['::1', 'loopback'], ['::ffff:127.0.0.1', 'loopback'], ['[::ffff:7f00:1]', 'loopback'],
        ['10.1.2.3', 'private'], ['172.31.0.1', 'private'], ['192.168.0.1', 'private'], ['100.64.0.1', 'private'], ['0.0.0.0', 'private'],
        ['::', 'private'], ['fd12::1', 'private'], ['224.0.0.1', 'private'], ['255.255.255.255', 'private'], ['64:ff9b::10.0.0.1', 'private'],
        ['2002:c0a8:101::1', 'private'], ['::10.0.0.1', 'private'],
        ['169.254.169.254', 'metadata'], ['fe80::1', 'metadata'], ['fd00:ec2::254', 'metadata'], ['100.100.100.200', 'metadata'], ['64:ff9b::a9fe:a9fe', 'metadata'],
        ['93.184.216.34', undefined], ['2606:4700::1111', undefined], ['64:ff9b::808:808', undefined], ['example.com', undefined],
      ];
      for (const [ip, kind] of cases) assert.equal(addressKind(ip), kind, ip);
    });

    it('ArgumentHostGuard: policy verdicts, own endpoints, and the connector checks what it connects to', async () => {
      const own = new OwnEndpoints();
      own.addUrl('http://0.0.0.0:8848');
      own.addUrl('http://203.0.113.9:9000');
      const guard = new ArgumentHostGuard(own);
      const strict = { allowPrivate: false, allowMetadata: false };
      const open = { allowPrivate: true, allowMetadata: false };
      try {
        assert.match(String(await guard.check('localhost', backend.port, strict)), /loopback/);
        assert.match(String(await guard.check('10.0.0.1', 80, strict)), /private/);
        assert.match(String(await guard.check('169.254.169.254', 80, open)), /metadata/);
        assert.equal(await guard.check('localhost', backend.port, open), undefined);
        assert.match(String(await guard.check('127.0.0.1', 8848, open)), /endpoint of this gateway or its registry/);
        assert.match(String(await guard.check('[::1]', 8848, open)), /endpoint/);
        assert.equal(await guard.check('93.184.216.34', 8848, strict), undefined, 'a public address with the registry\'s port number is not the registry');
        assert.match(String(await guard.check('203.0.113.9', 9000, open)), /endpoint/, 'a registry the gateway follows elsewhere');
        assert.equal(await guard.check('203.0.113.9', 9001, strict), undefined);

        const refused = await guard.dispatcher(strict).request({ origin: `http://localhost:${backend.port}`, path: '/weather', method: 'GET' }).then(() => undefined, (err: unknown) => err);
        assert.ok(refused instanceof Error && (refused as { code?: string }).code === 'EARGUMENTHOST', String(refused));
        assert.match((refused as Error).message, /localhost resolves to a loopback address/);
        const ok = await guard.dispatcher(open).request({ origin: `http://localhost:${backend.port}`, path: '/weather', method: 'GET' });
        assert.equal(ok.statusCode, 200);
        await ok.body.text();
        assert.equal(backend.take().length, 1, 'only the allowed request arrived');
      } finally {
        await guard.close();
      }
    });

    it('refuses a service instance registered at a metadata address', async () => {
      const upstream = createUpstream({ type: 'direct', address: '169.254.169.254', port: 80 }, 'http', EMPTY_SNAPSHOT);
      const result = await call(executor('seed.yaml', 'list', { upstream }), {});
      assert.match(textOf(result), /^request refused: 169\.254\.169\.254 is a link-local/);
    });
  });

  describe('backends', () => {
    it('backend down: a closed port is "backend unavailable"', async () => {
      const result = await call(executor('seed.yaml', 'list', { upstream: direct(await closedPort()) }), {});
      assert.deepEqual(result, { content: [{ type: 'text', text: 'backend unavailable: ECONNREFUSED' }], isError: true });
    });

    it('refuses a URL that is not http(s), and an answer over the size limit', async () => {
      const ex = executor('positions.yaml', 'region-lookup', { upstream: undefined, config: { baseUrl: 'ftp://127.0.0.1' } });
      assert.deepEqual(await call(ex, { country: 'de' }), { content: [{ type: 'text', text: 'invalid backend URL: unsupported URL scheme ftp:' }], isError: true });
      const { spec } = fixture('responses.yaml');
      const small = createRestExecutor({
        tool: spec.tools.find((t) => t.name === 'report')!, serverName: 'responses', spec, passthrough: NO_PASSTHROUGH,
        upstream: direct(backend.port), dispatcher, maxResponseBytes: 1000,
      });
      assert.deepEqual(await call(small, {}), { content: [{ type: 'text', text: "the backend's answer is over 1000 bytes" }], isError: true });
      assert.equal(textOf(await call(executor('seed.yaml', 'list'), {})), LIST_JSON);
      backend.take();
    });

    it('no endpoint, or no healthy instance', async () => {
      assert.match(textOf(await call(executor('seed.yaml', 'list', { upstream: undefined }), {})), /^server has no endpoint/);
      const empty = createUpstream({ type: 'service', namespace: 'public', group: 'DEFAULT_GROUP', service: 'x' }, 'http', EMPTY_SNAPSHOT);
      assert.deepEqual(await call(executor('seed.yaml', 'list', { upstream: empty }), {}), {
        content: [{ type: 'text', text: 'backend unavailable: no healthy instance' }], isError: true,
      });
    });

    it('fails over from an instance refusing connections to a live one, for any method', async () => {
      const dead = await closedPort();
      const snapshot: RegistrySnapshot = {
        ...EMPTY_SNAPSHOT,
        services: [{
          namespace: 'public', group: 'DEFAULT_GROUP', name: 'api',
          instances: [dead, backend.port].map((port) => ({ ip: '127.0.0.1', port, weight: 1, healthy: true, enabled: true, cluster: 'DEFAULT', metadata: {} })),
        }],
      };
      const upstream = createUpstream({ type: 'service', namespace: 'public', group: 'DEFAULT_GROUP', service: 'api' }, 'http', snapshot);
      const list = executor('seed.yaml', 'list', { upstream });
      const post = executor('positions.yaml', 'tag-item', { upstream });
      for (let i = 0; i < 6; i++) {
        assert.equal((await call(list, { page: i })).isError, undefined);
        assert.equal((await call(post, { id: String(i), tag: 't' })).isError, undefined);
      }
      assert.equal(backend.take().length, 12);
      const allDead = createUpstream({ type: 'service', namespace: 'public', group: 'DEFAULT_GROUP', service: 'api' }, 'http', {
        ...snapshot, services: [{ ...snapshot.services[0]!, instances: snapshot.services[0]!.instances.map((x) => ({ ...x, port: dead })) }],
      });
      assert.equal(allDead?.size, 1);
    });

    it('retries an idempotent request once on another instance after a reset; not a POST', async () => {
      const resetter = createTcpServer((socket) => socket.destroy());
      await new Promise<void>((resolve) => resetter.listen(0, '127.0.0.1', resolve));
      const resetPort = (resetter.address() as AddressInfo).port;
      try {
        const snapshot: RegistrySnapshot = {
          ...EMPTY_SNAPSHOT,
          services: [{
            namespace: 'public', group: 'DEFAULT_GROUP', name: 'api',
            instances: [resetPort, backend.port].map((port) => ({ ip: '127.0.0.1', port, weight: 1, healthy: true, enabled: true, cluster: 'DEFAULT', metadata: {} })),
          }],
        };
        const service = { type: 'service', namespace: 'public', group: 'DEFAULT_GROUP', service: 'api' } as const;
        const get = executor('seed.yaml', 'list', { upstream: createUpstream(service, 'http', snapshot) });
        assert.equal(textOf(await call(get, {})), LIST_JSON);
        const post = executor('positions.yaml', 'tag-item', { upstream: createUpstream(service, 'http', snapshot) });
        const result = await call(post, { id: 'x', tag: 't' });
        assert.equal(result.isError, true);
        assert.match(textOf(result), /^backend unavailable: (UND_ERR_SOCKET|ECONNRESET)$/);
        assert.deepEqual(backend.take().map((r) => r.method), ['GET']);
      } finally {
        await new Promise<void>((resolve) => resetter.close(() => resolve()));
      }
    });
  });

  describe('compilation', () => {
    it('parses every template once, at creation: a bad template throws TemplateError', () => {
      const { spec } = fixture('seed.yaml');
      const tool = spec.tools[0]!;
      const bad = { ...tool, template: { ...tool.template!, response: { body: '{{ .items | nofunc }}' } } };
      assert.throws(
        () => createRestExecutor({ tool: bad, serverName: 'seed', spec, passthrough: NO_PASSTHROUGH, upstream: undefined, dispatcher }),
        (err: unknown) => err instanceof TemplateError && err.templateName === 'list.responseTemplate.body',
      );
    });

    it('refuses a security requirement naming an unknown scheme', () => {
      const { spec } = fixture('secure.yaml');
      assert.throws(() => createRestExecutor({
        tool: spec.tools[1]!, serverName: 'secure', spec: { config: {}, securitySchemes: [] }, passthrough: NO_PASSTHROUGH, upstream: undefined, dispatcher,
      }), /no security scheme "backend-key"/);
    });
  });
});

describe('URL helpers', () => {
  it("queryEscape is Go's url.QueryEscape", () => {
    assert.equal(queryEscape('a b+c&d=e/f?g~h_i.j-k!*\'()ü'), 'a+b%2Bc%26d%3De%2Ff%3Fg~h_i.j-k%21%2A%27%28%29%C3%BC');
  });

  it("escapePath keeps valid escapes and sub-delims, and escapes the rest (Go's EscapedPath)", () => {
    assert.equal(escapePath('/a b/%41/%zz/ü/{x}'), '/a%20b/%41/%25zz/%C3%BC/%7Bx%7D');
    assert.equal(encodePathValue('p', '/vercel/next.js'), '/vercel/next.js');
  });

  /** The values a plan receives: arguments, and the pieces a render printed from them. */
  const values = (args: Record<string, unknown>, printed: readonly OutputPiece[] = [], subPath: string[] = []): PlaceValues => ({
    args, printed, toText: String, subPathArgs: new Set(subPath),
  });
  /** A tracking render's output made of these pieces. */
  const rendered = (pieces: OutputPiece[]): TrackedOutput => ({ text: pieces.map((p) => p.text).join(''), pieces });
  /** Plans and joins a tracking render's URL. */
  const place = (pieces: OutputPiece[], subPath: string[] = []): { origin: string | undefined; path: string; query: string | undefined; host: ArgumentHost | undefined } => {
    const r = rendered(pieces);
    const plan = planUrl(r, new Set());
    const v = values({}, printedPieces(r), subPath);
    const o = plan.origin ? joinOrigin(plan.origin, v) : undefined;
    return { origin: o?.origin, host: o?.argumentHost, path: joinPath(plan.path, v), query: plan.query ? joinQuery(plan.query, v) : undefined };
  };
  const t = (text: string, ...keys: string[]): OutputPiece => ({ text, taint: { keys } });

  it('planUrl finds each placeholder in its part of the URL; host values must be host names', () => {
    const plan = planUrl('https://{region}.api.example.com/v1/{id} x?q={q}&k=v#frag', new Set(['region', 'id', 'q']));
    assert.deepEqual(plan, {
      origin: ['https://', { arg: 'region', context: 'host', literal: '{region}' }, '.api.example.com'],
      path: ['/v1/', { arg: 'id', context: 'path', literal: '%7Bid%7D' }, '%20x'],
      query: ['q=', { arg: 'q', context: 'query', literal: '{q}' }, '&k=v'],
    });
    const one = joinOrigin(plan.origin ?? [], values({ region: 'eu-west-1' }));
    assert.equal(one.origin, 'https://eu-west-1.api.example.com');
    assert.equal(one.argumentHost?.pattern(), '*.api.example.com');
    assert.equal(one.argumentHost?.needsAllowList, false);
    assert.equal(joinOrigin(plan.origin ?? [], values({ region: 'eu.west' })).argumentHost?.needsAllowList, true);
    for (const bad of ['evil.com/', 'a@b', 'a:80', 'a..b', '', '.a', 'a.']) assert.throws(() => joinOrigin(plan.origin ?? [], values({ region: bad })), ToolError, bad);
    assert.equal(joinOrigin(plan.origin ?? [], values({})).argumentHost, undefined, 'no value: the literal stays');
  });

  it('planUrl over a tracking render: only the template\'s characters delimit the parts', () => {
    const pieces = [{ text: 'https://' }, t('a?b#c', 'h'), { text: '.example.com/x/' }, t('../y?z=1', 'p'), { text: '?q=' }, t('v&w=2', 'q'), { text: '#f' }];
    assert.deepEqual(planUrl(rendered(pieces), new Set()), {
      origin: ['https://', { slot: 0, context: 'host' }, '.example.com'],
      path: ['/x/', { slot: 1, context: 'path' }],
      query: ['q=', { slot: 2, context: 'query' }],
    });
    assert.throws(() => place(pieces), /^ToolError: argument 'h': a value inside the URL host must be letters/);
    const fine = place([{ text: 'https://' }, t('a-1', 'h'), { text: '.example.com/x/' }, t('../y?z=1', 'p'), { text: '?q=' }, t('v&w=2', 'q'), { text: '#f' }]);
    assert.deepEqual([fine.origin, fine.path, fine.query], ['https://a-1.example.com', '/x/..%2Fy%3Fz%3D1', 'q=v%26w%3D2']);
    assert.equal(fine.host?.pattern(), '*.example.com');
    assert.throws(() => place([t('http://evil', 'u'), { text: '/x' }]), /argument 'u': a value may not set the URL scheme/);
    assert.throws(() => place([{ text: 'http:' }, t('//evil', 'u')]), /argument 'u': a value may not set the URL scheme/);
    assert.throws(() => checkScheme(rendered([{ text: ' ht' }, t('tp://evil', 'u')])), /argument 'u': a value may not set the URL scheme/);
    checkScheme(rendered([{ text: 'http://h/' }, t('x://y', 'u')]));
    const relative = place([t('http//evil.example/a', 'u')]);
    assert.deepEqual([relative.origin, relative.path], [undefined, 'http%2F%2Fevil.example%2Fa']);
    assert.throws(() => place([{ text: 'http://h:' }, t('81', 'p'), { text: '/' }]), /argument 'p': a value may not set the URL port/);
    assert.throws(() => place([{ text: 'http://' }, t('me', 'u'), { text: '@h/' }]), /argument 'u': a value may not set the user information/);
    assert.throws(() => place([{ text: 'http://' }, t('', 'h'), { text: '/x' }]), /argument 'h'/, 'an empty value still marks the host as chosen by arguments');
    const both = place([{ text: 'http://' }, t('a', 'x', 'y'), { text: '-' }, { text: 'b', taint: { keys: null } }, { text: '.e2b.dev:8080' }]);
    assert.equal(both.origin, 'http://a-b.e2b.dev:8080');
    assert.equal(both.host?.pattern(), '*-*.e2b.dev');
    assert.match(String(both.host?.refuse('no')), /^ToolError: arguments: no$/);
  });

  it('a plan depends on the skeleton only: an empty value and a longer one are placed alike', () => {
    const skeleton = (v: string) => rendered([{ text: 'http://' }, t(v, 'h'), { text: '/x/' }, t(v, 'p'), { text: '?q=' }, t(v, 'q')]);
    assert.equal(skeletonKey(skeleton('')), skeletonKey(skeleton('abc')));
    assert.notEqual(skeletonKey(rendered([{ text: 'a\u0000' }])), skeletonKey(rendered([{ text: 'a' }, t('', 'x')])));
    const plan = planUrl(skeleton(''), new Set());
    assert.deepEqual(plan, { origin: ['http://', { slot: 0, context: 'host' }], path: ['/x/', { slot: 1, context: 'path' }], query: ['q=', { slot: 2, context: 'query' }] });
    const v = values({}, printedPieces(skeleton('abc')));
    assert.deepEqual([joinOrigin(plan.origin ?? [], v).origin, joinPath(plan.path, v), joinQuery(plan.query ?? [], v)], ['http://abc', '/x/abc', 'q=abc']);
  });

  it('joinPath refuses "." and ".." segments an argument takes part in; escaper output and sub-paths', () => {
    const e = (text: string, k: string, escapedBy?: string): OutputPiece => ({ text, taint: escapedBy ? { keys: [k], escapedBy } : { keys: [k] } });
    const path = (pieces: OutputPiece[], subPath: string[] = []): string => place(pieces, subPath).path;
    for (const v of ['..', '.', '%2e%2E', '%252e.']) assert.throws(() => path([{ text: '/a/' }, e(v, 'n'), { text: '/b' }]), /argument 'n': a path value may not make a "\." or "\.\." segment/, v);
    assert.throws(() => path([{ text: '/a/.' }, e('.', 'n')]), /argument 'n'/, 'a dot segment made of template text and a value');
    assert.throws(() => path([{ text: '/a/.' }, e('', 'n'), { text: '.' }]), /argument 'n'/, 'an empty value between two dots');
    assert.equal(path([{ text: '/a/' }, e('.x', 'n')]), '/a/.x');
    assert.equal(path([{ text: '/./a/../' }, e('x', 'n')]), '/./a/../x', 'the template\'s own dot segments are its business');
    assert.equal(path([{ text: '/f/' }, e('a+b%2Fc', 'n', 'urlquery')]), '/f/a+b%2Fc');
    assert.throws(() => path([{ text: '/f/' }, e('..', 'n', 'urlquery')]), /argument 'n'/);
    assert.equal(path([{ text: '/t/' }, e('docs/a b.md', 'p'), { text: '/raw' }], ['p']), '/t/docs/a%20b.md/raw');
    assert.equal(path([{ text: '/a/..' }, e('/b', 'p')], ['p']), '/a/../b', 'a sub-path that starts a new segment');
    assert.throws(() => path([{ text: '/t/' }, e('a/../../x', 'p')], ['p']), /argument 'p': a path value may not contain "\." or "\.\." segments/);
    assert.equal(path([{ text: '/t/' }, { text: 'a/b', taint: { keys: ['p', 'q'] } }], ['p']), '/t/a%2Fb', 'every source must opt out');
  });

  it('hostAllowed: exact names and *.suffix, case-insensitive', () => {
    assert.equal(hostAllowed('API.example.com.', ['api.example.com']), true);
    assert.equal(hostAllowed('a.b.example.com', ['*.example.com']), true);
    assert.equal(hostAllowed('example.com', ['*.example.com']), false);
    assert.equal(hostAllowed('evilexample.com', ['*.example.com']), false);
    assert.equal(hostAllowed('127.0.0.1', ['127.0.0.1']), true);
  });

  it('capText cuts on a character boundary', () => {
    assert.equal(capText('ééé', 4), 'éé\n… [truncated: 2 more bytes]');
    assert.equal(capText('abc', 3), 'abc');
  });
});
