/**
 * The registry routes the console adds (no browser needed): "try it" through the gateway's REST
 * executor with a recording dispatcher, validate, import preview, the gateway directory, the SPA
 * at `/` with its fallback, and the editor model the console's forms are built on.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Agent } from 'undici';
import { buildTool, draftFromTool, emptyDraft, fieldTarget, formLimitation, rowsToSchema, schemaToRows } from '../src/console/src/tool-model.js';
import { maskHeaders, maskUrl } from '../src/registry/http/console/masking.js';
import { RecordingDispatcher } from '../src/registry/http/console/recording-dispatcher.js';
import type { RestSecurity, Tool } from '../src/model/model.js';
import { http } from './support/http.js';
import { startBackend, startStack } from './support/stack.js';
import type { TestStack } from './support/stack.js';

const weatherTool = {
  name: 'get_weather', description: 'Weather by city',
  inputSchema: { type: 'object', properties: { city: { type: 'string' }, days: { type: 'integer', default: 1 } }, required: ['city'] },
  template: {
    request: { url: '/weather', method: 'GET', headers: [{ key: 'Authorization', value: 'Bearer {{ .config.token }}' }, { key: 'X-Trace', value: 'console' }], argsToUrlParam: false, argsToJsonBody: false, argsToFormBody: false },
    response: { body: '{{ .city }}: {{ .temp }}' },
    argsPosition: { city: 'query', days: 'query' },
  },
};

describe('console API', () => {
  let stack: TestStack;
  let backend: Awaited<ReturnType<typeof startBackend>>;
  let token: string;
  let viewerToken: string;
  const api = <T = any>(method: string, path: string, body?: unknown, as = token) => http<T>(method, `${stack.registryUrl}/api/v1${path}`, { token: as, body }); // eslint-disable-line @typescript-eslint/no-explicit-any

  before(async () => {
    backend = await startBackend((r, res) => {
      if (r.path === '/fail') {
        res.writeHead(503, { 'content-type': 'text/plain', 'set-cookie': 'sid=secret-session' });
        res.end('down for maintenance');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ city: new URLSearchParams(r.query).get('city') ?? JSON.parse(r.body || '{}').city, temp: 18, got: r.body }));
    });
    stack = await startStack({ auth: true });
    token = (await http<{ accessToken: string }>('POST', `${stack.registryUrl}/api/v1/auth/login`, { body: { username: 'admin', password: 'admin-password-1' } })).body.accessToken;
    await api('POST', '/users', { username: 'vera', password: 'vera-password-1', roles: [{ namespace: 'public', role: 'viewer' }] });
    viewerToken = (await http<{ accessToken: string }>('POST', `${stack.registryUrl}/api/v1/auth/login`, { body: { username: 'vera', password: 'vera-password-1' } })).body.accessToken;
    await api('POST', '/namespaces/public/services/DEFAULT_GROUP/wx/instances', { ip: '127.0.0.1', port: backend.port, ephemeral: false, healthCheck: { type: 'none' } });
    const created = await api('POST', '/namespaces/public/mcp-servers', {
      name: 'weather', protocol: 'http', publish: false, endpoint: { type: 'service', namespace: 'public', group: 'DEFAULT_GROUP', service: 'wx' },
      spec: { version: '1.0.0', config: { token: 'sk-live-123456' }, tools: [weatherTool] },
    });
    assert.equal(created.status, 201, created.text);
  });
  after(async () => {
    await stack?.close();
    await backend?.close();
  });

  const tryUrl = '/namespaces/public/mcp-servers/weather/versions/1.0.0/try';

  test('try runs the draft through the executor: the request is recorded with secrets masked, the backend answer and the MCP result', async () => {
    const t = await api('POST', tryUrl, { tool: 'get_weather', arguments: { city: 'Oslo' } });
    assert.equal(t.status, 200, t.text);
    assert.equal(t.body.request.method, 'GET');
    assert.equal(t.body.request.url, `http://127.0.0.1:${backend.port}/weather?city=Oslo&days=1`);
    assert.equal(t.body.request.headers.authorization, 'Bearer ****');
    assert.equal(t.body.request.headers['x-trace'], 'console');
    assert.equal(t.body.response.status, 200);
    assert.match(t.body.response.body, /"temp":18/);
    assert.deepEqual(t.body.result, { content: [{ type: 'text', text: 'Oslo: 18' }] });
    assert.equal(backend.requests.at(-1)?.headers.authorization, 'Bearer sk-live-123456', 'the backend gets the real credential');
    assert.ok(!t.text.includes('sk-live-123456'), 'the console never sees the secret');
    assert.equal(typeof t.body.durationMs, 'number');
    const server = await api('GET', '/namespaces/public/mcp-servers/weather');
    assert.equal(server.body.publishedVersion, null, 'nothing is published');
  });

  test('try with an unsaved definition: a POST JSON body, and a non-2xx answer with its cookie masked', async () => {
    const definition = {
      ...weatherTool,
      template: { ...weatherTool.template, request: { ...weatherTool.template.request, method: 'POST', headers: [], argsToJsonBody: true }, argsPosition: {} },
    };
    const t = await api('POST', tryUrl, { tool: 'get_weather', arguments: { city: 'Rome' }, definition });
    assert.equal(t.status, 200, t.text);
    assert.equal(t.body.request.body, '{"city":"Rome","days":1}');
    const leaky = { ...definition, template: { ...definition.template, request: { ...definition.template.request, argsToJsonBody: false, body: '{"key": "{{ .config.token }}", "city": "{{ .args.city }}"}' } } };
    const l = await api('POST', tryUrl, { tool: 'get_weather', arguments: { city: 'Rome' }, definition: leaky });
    assert.equal(l.body.request.body, '{"key": "****", "city": "Rome"}', 'config credentials are masked in the body too');
    assert.match(backend.requests.at(-1)?.body ?? '', /sk-live-123456/);
    assert.equal(t.body.request.headers['content-type'], 'application/json; charset=utf-8');
    const failing = { ...definition, template: { ...definition.template, request: { ...definition.template.request, url: '/fail' } } };
    const f = await api('POST', tryUrl, { tool: 'get_weather', arguments: { city: 'Rome' }, definition: failing });
    assert.equal(f.body.response.status, 503);
    assert.equal(f.body.response.body, 'down for maintenance');
    assert.equal(f.body.response.headers['set-cookie'], 'sid=****');
    assert.equal(f.body.result.isError, true);
    assert.equal((await api('GET', '/namespaces/public/mcp-servers/weather/versions/1.0.0')).body.spec.tools[0].template.request.method, 'GET', 'the draft is unchanged');
  });

  test('try refuses bad arguments naming the argument, broken definitions naming the field, and viewers', async () => {
    const missing = await api('POST', tryUrl, { tool: 'get_weather', arguments: {} });
    assert.equal(missing.status, 400);
    assert.equal(missing.body.error.field, 'arguments.city');
    const wrong = await api('POST', tryUrl, { tool: 'get_weather', arguments: { city: 'x', days: 'many' } });
    assert.equal(wrong.status, 400);
    assert.equal(wrong.body.error.field, 'arguments.days');
    const broken = await api('POST', tryUrl, { tool: 'get_weather', arguments: { city: 'x' }, definition: { ...weatherTool, template: { ...weatherTool.template, response: { body: '{{ .city ' } } } });
    assert.equal(broken.status, 400);
    assert.equal(broken.body.error.code, 'INVALID_TEMPLATE');
    assert.equal(broken.body.error.field, 'tools[0](get_weather).responseTemplate.body');
    assert.match(broken.body.error.message, /line 1, column \d+/);
    const unknown = await api('POST', tryUrl, { tool: 'nope', arguments: {} });
    assert.equal(unknown.status, 400);
    assert.equal(unknown.body.error.field, 'tool');
    assert.equal((await api('POST', tryUrl, { tool: 'get_weather', arguments: { city: 'x' } }, viewerToken)).status, 403);
    assert.equal((await api('POST', '/namespaces/public/mcp-servers/weather/versions/9.9.9/try', { tool: 'get_weather', arguments: { city: 'x' } })).status, 404);
  });

  test('validate answers the tools/list entries or the first problem with its field', async () => {
    const ok = await api('POST', '/namespaces/public/mcp-servers/validate', { spec: { tools: [weatherTool] } }, viewerToken);
    assert.equal(ok.status, 200, ok.text);
    assert.deepEqual(ok.body.tools, [{ name: 'get_weather', description: 'Weather by city', inputSchema: weatherTool.inputSchema }]);
    const bad = await api('POST', '/namespaces/public/mcp-servers/validate', { spec: { tools: [{ ...weatherTool, inputSchema: { type: 'object', properties: { city: { type: 'strung' } } } }] } });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.code, 'INVALID_SCHEMA');
    assert.equal(bad.body.error.field, 'tools[0](get_weather).inputSchema/properties/city/type');
  });

  test('validate with all: every problem of the tools at once, each with its field', async () => {
    const broken = {
      ...weatherTool,
      inputSchema: { type: 'object', properties: { city: { type: 'strung' }, days: { type: 'integer' } } },
      template: { ...weatherTool.template, request: { ...weatherTool.template.request, url: '/w/{{ .args.city ' }, response: { body: '{{ .temp ' } },
    };
    const r = await api('POST', '/namespaces/public/mcp-servers/validate', { spec: { tools: [broken] }, all: true });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.valid, false);
    assert.deepEqual(r.body.problems.map((p: { code: string; field: string }) => [p.code, p.field]), [
      ['INVALID_SCHEMA', 'tools[0](get_weather).inputSchema/properties/city/type'],
      ['INVALID_TEMPLATE', 'tools[0](get_weather).requestTemplate.url'],
      ['INVALID_TEMPLATE', 'tools[0](get_weather).responseTemplate.body'],
    ]);
    const fine = await api('POST', '/namespaces/public/mcp-servers/validate', { spec: { tools: [weatherTool] }, all: true });
    assert.deepEqual([fine.status, fine.body.valid], [200, true]);
  });

  test('gateways report when consumer keys were last used; the console settings say where agents reach the gateway', async () => {
    const created = await api('POST', '/namespaces/public/consumers', { name: 'reported-key' });
    assert.equal(created.status, 201, created.text);
    const at = Date.now() - 60_000;
    const beat = await api('POST', '/gateways/heartbeat', { id: 'gw-report', revision: 1, consumers: [{ id: created.body.id, at }, { id: 'unknown-id', at }] });
    assert.equal(beat.status, 200, beat.text);
    const listed = await api('GET', '/namespaces/public/consumers');
    assert.equal(listed.body.items.find((c: { id: string }) => c.id === created.body.id).lastUsedAt, at);
    const bad = await api('POST', '/gateways/heartbeat', { id: 'gw-report', revision: 1, consumers: [{ id: created.body.id, at: 'yesterday' }] });
    assert.equal(bad.status, 400);
    const settings = await api('GET', '/console/settings', undefined, viewerToken);
    assert.equal(settings.status, 200, settings.text);
    assert.deepEqual(settings.body, { publicGatewayUrl: null, gatewayPort: Number(new URL(stack.gatewayUrl).port) });
    assert.equal((await api('DELETE', `/namespaces/public/consumers/${created.body.id}`)).status, 204);
  });

  test('import preview converts without saving', async () => {
    const content = 'server:\n  name: books\ntools:\n  - name: find\n    description: Find books\n    args:\n      - name: q\n        type: string\n        required: true\n    requestTemplate:\n      url: /find\n      method: GET\n      argsToUrlParam: true\n';
    const p = await api('POST', '/namespaces/public/mcp-servers/import/preview', { format: 'higress', content });
    assert.equal(p.status, 200, p.text);
    assert.equal(p.body.server.name, 'books');
    assert.equal(p.body.valid, true);
    assert.deepEqual(p.body.tools.map((t: { name: string; request: unknown }) => [t.name, t.request]), [['find', { method: 'GET', url: '/find' }]]);
    assert.equal((await api('GET', '/namespaces/public/mcp-servers/books')).status, 404, 'nothing saved');
    const bad = await api('POST', '/namespaces/public/mcp-servers/import/preview', { format: 'nacos', content: '{not json' });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.field, 'content');
  });

  test('gateways report by heartbeat and on their watch requests; a namespace user may not list them', async () => {
    const hb = await api('POST', '/gateways/heartbeat', { id: 'gw-1', revision: 2, sessions: 4, streams: 1, address: 'http://10.0.0.9:8080' });
    assert.equal(hb.status, 200, hb.text);
    const watch = await http('GET', `${stack.registryUrl}/api/v1/watch/changes?after=0&timeoutMs=0&gateway=gw-2&revision=3`, { token });
    assert.equal(watch.status, 200);
    const list = await api<{ registryRevision: number; items: { id: string; kind: string; revision: number; sessions?: number; state: string; lag: number }[] }>('GET', '/gateways');
    assert.equal(list.status, 200);
    const byId = new Map(list.body.items.map((g) => [g.id, g]));
    assert.deepEqual([byId.get('gw-1')?.kind, byId.get('gw-1')?.revision, byId.get('gw-1')?.sessions, byId.get('gw-1')?.state], ['remote', 2, 4, 'reporting']);
    assert.equal(byId.get('gw-2')?.revision, 3);
    assert.equal(byId.get('gw-1')?.lag, list.body.registryRevision - 2);
    assert.equal((await api('GET', '/gateways', undefined, viewerToken)).status, 403);
    assert.equal((await api('POST', '/gateways/heartbeat', { id: 'gw-x', revision: 1 }, viewerToken)).status, 403);
    assert.equal((await api('POST', '/gateways/heartbeat', { id: 'bad id with spaces', revision: 1 })).body.error.field, 'id');
  });

  test('hostile gateway reports are refused naming the field and change nothing; a large valid one is stored bounded', async () => {
    const member = (i: number) => ({ server: 'v', member: `m${i}`, state: 'down', error: 'e'.repeat(500) });
    const cases: [Record<string, unknown>, string][] = [
      [{ id: 'gw-hostile', revision: -1 }, 'revision'],
      [{ id: 'gw-hostile', revision: 1, sessions: 1.5 }, 'sessions'],
      [{ id: 'gw-hostile', revision: 1, extra: 'x' }, 'extra'],
      [{ id: 'gw-hostile', revision: 1, address: 'a'.repeat(501) }, 'address'],
      [{ id: 'gw-hostile', revision: 1, virtualMembers: Array.from({ length: 1001 }, (_, i) => member(i)) }, 'virtualMembers'],
      [{ id: 'gw-hostile', revision: 1, virtualMembers: [{ ...member(0), error: 'e'.repeat(501) }] }, 'virtualMembers'],
      [{ id: 'x'.repeat(201), revision: 1 }, 'id'],
    ];
    for (const [body, field] of cases) {
      const r = await api('POST', '/gateways/heartbeat', body);
      assert.equal(r.status, 400, `${field}: ${r.text}`);
      assert.match(String(r.body.error.field ?? r.body.error.message), new RegExp(field), r.text);
    }
    const listed = await api<{ items: { id: string; virtualMembers?: unknown[]; virtualMembersOmitted?: number }[] }>('GET', '/gateways');
    assert.equal(listed.body.items.find((g) => g.id === 'gw-hostile'), undefined, 'nothing was recorded');
    const big = await api('POST', '/gateways/heartbeat', { id: 'gw-big', revision: 1, virtualMembers: Array.from({ length: 1000 }, (_, i) => member(i)) });
    assert.equal(big.status, 200, big.text);
    const g = (await api<{ items: { id: string; virtualMembers?: unknown[]; virtualMembersOmitted?: number }[] }>('GET', '/gateways')).body.items.find((x) => x.id === 'gw-big');
    assert.deepEqual([g?.virtualMembers?.length, g?.virtualMembersOmitted], [50, 950]);
  });

  test('the console is served at / with a fallback for its routes; API paths and JSON clients keep their 404', async () => {
    const root = await http('GET', `${stack.registryUrl}/`);
    assert.equal(root.status, 200);
    assert.match(root.headers.get('content-type') ?? '', /text\/html/);
    assert.match(root.headers.get('content-security-policy') ?? '', /default-src 'self'/);
    const deep = await http('GET', `${stack.registryUrl}/ns/public/servers/weather`, { headers: { accept: 'text/html' } });
    assert.equal(deep.status, 200);
    assert.match(deep.headers.get('content-type') ?? '', /text\/html/);
    assert.match(deep.text, /<title>mcpgate console<\/title>/);
    assert.equal((await http('GET', `${stack.registryUrl}/ns/public/servers`, { token })).status, 404, 'no HTML for a JSON client');
    for (const path of ['/api/v1/nothing', '/nacos/v1/nothing', '/healthz/x']) {
      const r = await http('GET', `${stack.registryUrl}${path}`, { token, headers: { accept: 'text/html' } });
      assert.equal(r.status, 404, path);
      assert.doesNotMatch(r.headers.get('content-type') ?? '', /html/, path);
    }
    assert.equal((await http('GET', `${stack.registryUrl}/healthz`)).status, 200);
    const asset = await http('GET', `${stack.registryUrl}/assets/nothing.js`, { token, headers: { accept: 'text/html' } });
    assert.equal(asset.status, 404, 'an unknown asset is not the app');
  });
});

describe('recording dispatcher and masking', () => {
  test('records the exchange while the handler gets everything', async () => {
    const backend = await startBackend((_r, res) => {
      res.writeHead(201, { 'content-type': 'text/plain' });
      res.end('x'.repeat(100));
    });
    const agent = new Agent();
    try {
      const recorder = new RecordingDispatcher(agent, 10);
      const res = await recorder.request({ origin: backend.url, path: '/p?q=1', method: 'PUT', headers: { 'x-a': 'b' }, body: 'hello' });
      assert.equal(res.statusCode, 201);
      assert.equal((await res.body.text()).length, 100);
      const e = recorder.exchanges[0];
      assert.deepEqual(e?.request, { method: 'PUT', url: `${backend.url}/p?q=1`, headers: { 'x-a': 'b' }, body: 'hello' });
      assert.equal(e?.response?.status, 201);
      assert.equal(e?.response?.body, 'x'.repeat(10));
      assert.equal(e?.response?.bodyBytes, 100);
      assert.equal(e?.response?.truncated, true);
    } finally {
      await agent.close();
      await backend.close();
    }
  });

  test('masks credentials in headers and URLs', () => {
    assert.deepEqual(maskHeaders({ Authorization: 'Basic dXNlcjpwYXNz', cookie: 'a=1; b=2', 'x-api-key': 'k', 'x-custom-token': 't', 'x-plain': 'mgk_abc', accept: '*/*' }), {
      Authorization: 'Basic ****', cookie: 'a=****; b=****', 'x-api-key': '****', 'x-custom-token': '****', 'x-plain': '****', accept: '*/*',
    });
    assert.deepEqual(maskHeaders({ 'x-key': 'v' }, new Set(['x-key'])), { 'x-key': '****' });
    assert.equal(maskUrl('http://h/p?city=Oslo&api_key=abc&token=t&k=mgt_x#f'), 'http://h/p?city=Oslo&api_key=****&token=****&k=****#f');
    assert.equal(maskUrl('http://h/p?sig=1', new Set(['sig'])), 'http://h/p?sig=****');
  });
});

describe('tool editor model', () => {
  const tool: Tool = {
    name: 't', title: 'T', description: 'd', enabled: true, annotations: { readOnlyHint: true },
    inputSchema: { type: 'object', properties: { a: { type: 'string', enum: ['x', 'y'], description: 'A' }, n: { type: 'integer', default: 3 }, l: { type: 'array', items: { type: 'number' } } }, required: ['a'] },
    outputSchema: { type: 'object' },
    template: {
      request: { url: '/u', method: 'POST', headers: [{ key: 'H', value: 'v' }], body: '{"a": "{{ .args.a }}"}', argsToUrlParam: false, argsToJsonBody: false, argsToFormBody: false },
      response: { prependBody: 'before ' }, errorResponseTemplate: 'E {{ .message }}', argsPosition: { n: 'query' }, timeoutMs: 5000,
    },
  };

  test('a tool survives the round trip through the editor state', () => {
    const d = draftFromTool(tool);
    assert.equal(d.schemaMode, 'form');
    const { tool: back, problems } = buildTool(d);
    assert.deepEqual(problems, {});
    assert.deepEqual(back, tool);
  });

  test('every form of credentials survives the round trip through the editor state', () => {
    const forms: RestSecurity[] = [
      { id: 'backend' }, { id: 'backend', credential: 'k' }, { id: 'backend', passthrough: true }, { id: 'backend', clientId: 'backend' },
      { id: 'backend', passthrough: true, clientId: 'agent' }, { id: 'backend', clientId: 'agent', credential: 'k' }, { id: 'agent', clientId: 'agent', upstream: false },
    ];
    for (const security of forms) {
      const withSecurity: Tool = { ...tool, template: { ...tool.template!, request: { ...tool.template!.request!, security } } };
      assert.deepEqual(buildTool(draftFromTool(withSecurity)).tool, withSecurity, JSON.stringify(security));
    }
  });

  test('the form covers simple schemas and says why it cannot cover others', () => {
    assert.equal(formLimitation(tool.inputSchema), undefined);
    assert.deepEqual(rowsToSchema(schemaToRows(tool.inputSchema)), tool.inputSchema);
    assert.match(formLimitation({ type: 'object', properties: { a: { anyOf: [{ type: 'string' }] } } }) ?? '', /uses "anyOf"/);
    assert.match(formLimitation({ type: 'object', oneOf: [] }) ?? '', /uses "oneOf"/);
    const d = draftFromTool({ ...tool, inputSchema: { type: 'object', properties: { a: { anyOf: [{ type: 'string' }] } } } });
    assert.equal(d.schemaMode, 'json');
  });

  test('local problems block the build and point at their field', () => {
    const d = { ...emptyDraft(), name: 'x', schemaMode: 'json' as const, schemaText: '{"type": "object",\n "properties": {' };
    const { tool: t, problems } = buildTool(d);
    assert.equal(t, undefined);
    assert.match(problems.inputSchema ?? '', /^not valid JSON: line 2/);
  });

  test('API fields map to editor fields, with the template position', () => {
    assert.deepEqual(fieldTarget('tools[0](t).responseTemplate.body', 'tools[0](t).responseTemplate.body: line 2, column 7: unclosed action'), { key: 'responseBody', detail: 'unclosed action', line: 2, column: 7 });
    assert.deepEqual(fieldTarget('tools[3](t).requestTemplate.headers[1].value', 'x: line 1, column 1: bad'), { key: 'header-1', detail: 'bad', line: 1, column: 1 });
    assert.equal(fieldTarget('tools[0](t).inputSchema/properties/a/type', 'tools[0](t).inputSchema/properties/a/type: must be equal').key, 'inputSchema');
    assert.equal(fieldTarget('tools[0](t).argsPosition.z', 'm').key, 'position-z');
    assert.equal(fieldTarget('tools[0].name', 'm').key, 'name');
    assert.equal(fieldTarget('arguments.city', 'm').key, 'try-city');
    assert.equal(fieldTarget(undefined, 'boom').key, 'general');
  });
});
