// Finding 16: the native API answered 500 for tool templates that left out optional fields
// (request.headers, response, argsPosition; request: null). Every write route of the native API
// (/api/v1) and of the Nacos APIs (/nacos/v1/ns/*, /nacos/v2/*, /nacos/v3/admin/ai/mcp*) is
// fuzzed here with fast-check through a real listening registry: valid bodies with fields
// removed, retyped, nulled, set to huge numbers, odd strings, extra fields and deep nesting, and
// wholly hostile bodies. No answer may be a 5xx; a 4xx must be in the API family's error shape
// and must have changed nothing.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { stringify as toYaml } from 'yaml';
import { ERRORS } from '../../src/lib/errors.js';
import { databaseKinds } from '../support/databases.js';
import type { TestDatabase } from '../support/databases.js';
import { http } from '../support/http.js';
import { startRegistry } from '../support/registry.js';
// Awaited before the first describe: tests registered after a later top-level await would be
// lost under a forced exit (see test/test-files.test.ts).
const kinds = await databaseKinds();
import type { TestRegistry } from '../support/registry.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Family = 'native' | 'nacos-v1' | 'nacos-envelope';

/** How many bodies each route gets (MCPGATE_FUZZ_RUNS raises it for a longer hunt). */
const RUNS = Number(process.env.MCPGATE_FUZZ_RUNS ?? 30);
/** A failure prints its seed; MCPGATE_FUZZ_SEED replays it. */
const SEED = process.env.MCPGATE_FUZZ_SEED ? { seed: Number(process.env.MCPGATE_FUZZ_SEED) } : {};
const NS = 'fz';

// ---------------------------------------------------------------- hostile values

const oddStrings = [
  '', ' ', '\u0000', '\t\n', 'null', 'undefined', 'NaN', 'true', '-1', '0', '1e309', '0x10', '9007199254740993', '../../etc/passwd',
  '%00', '%', '%zz', '{{', '}}', '{{ .x }}', '{{ end }}', '{{ template "x" }}', '<script>', '__proto__', 'constructor', 'prototype',
  'toString', '\ud800', '\udfff', '🙂', 'é', 'a/b', '@@', 'DEFAULT_GROUP@@x', ',', '=', 'k=v,k2=v2', '[]', '{}', '{"a":', '"', '\\',
  'W/"x"', '*', 'http://', 'file:///etc/passwd', 'a'.repeat(300), 'x'.repeat(70_000),
];
const hostileString: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...oddStrings) },
  { weight: 2, arbitrary: fc.string({ maxLength: 30 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 12 }) },
);
const hostileNumber: fc.Arbitrary<number> = fc.oneof(
  fc.constantFrom(0, -0, -1, 1, 0.5, 65535, 65536, 2 ** 31, 2 ** 32, 2 ** 53, 2 ** 53 + 2, 1e21, 1e308, -1e308, 5e-324),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
);
const hostileKey: fc.Arbitrary<string> = fc.oneof(fc.constantFrom('__proto__', 'constructor', 'toString', '', 'type', 'url', 'name', '$ref', 'a.b', 'é'), fc.string({ maxLength: 8 }));

/** An object or array nested `depth` levels deep. */
function nested(depth: number, array: boolean): Json {
  let v: Json = 'bottom';
  for (let i = 0; i < depth; i++) v = array ? [v] : { a: v };
  return v;
}

const hostileValue: fc.Arbitrary<Json> = fc.letrec<{ value: Json }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    { weight: 4, arbitrary: hostileString },
    { weight: 3, arbitrary: hostileNumber },
    { weight: 1, arbitrary: fc.boolean() },
    { weight: 2, arbitrary: fc.constant(null) },
    { weight: 1, arbitrary: fc.array(tie('value'), { maxLength: 4 }) },
    { weight: 1, arbitrary: fc.dictionary(hostileKey, tie('value'), { maxKeys: 4 }) },
    // Deeper nesting (100 000 levels) is sent once per route below: fast-check's reporting recurses per level.
    { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 20, max: 1000 }), fc.boolean()).map(([d, a]) => nested(d, a)) },
  ),
})).value;

// ---------------------------------------------------------------- mutations of a valid body

type Path = (string | number)[];

function pathsOf(v: Json, prefix: Path = [], out: Path[] = []): Path[] {
  out.push(prefix);
  if (Array.isArray(v)) v.forEach((x, i) => pathsOf(x, [...prefix, i], out));
  else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) pathsOf(x, [...prefix, k], out);
  return out;
}

interface Mutation { at: number; op: 'delete' | 'set' | 'add'; value: Json; key: string }

function apply(base: Json, mutations: Mutation[]): Json {
  let root = structuredClone(base);
  for (const m of mutations) {
    const paths = pathsOf(root);
    const path = paths[m.at % paths.length]!;
    if (path.length === 0) {
      if (m.op === 'set') root = m.value;
      else if (m.op === 'add' && root !== null && typeof root === 'object' && !Array.isArray(root)) Object.defineProperty(root, m.key, { value: m.value, enumerable: true, writable: true, configurable: true });
      continue;
    }
    let parent: Json = root;
    for (const p of path.slice(0, -1)) parent = (parent as Record<string, Json>)[p as string]!;
    const last = path[path.length - 1]!;
    const container = parent as Record<string | number, Json>;
    if (m.op === 'delete') {
      if (Array.isArray(parent)) parent.splice(last as number, 1);
      else delete container[last];
    } else if (m.op === 'set') {
      Object.defineProperty(container, last, { value: m.value, enumerable: true, writable: true, configurable: true });
    } else {
      const target = container[last];
      if (Array.isArray(target)) target.push(m.value);
      else if (target !== null && typeof target === 'object') Object.defineProperty(target, m.key, { value: m.value, enumerable: true, writable: true, configurable: true });
      else Object.defineProperty(container, last, { value: m.value, enumerable: true, writable: true, configurable: true });
    }
  }
  return root;
}

const mutation: fc.Arbitrary<Mutation> = fc.record({ at: fc.nat(), op: fc.constantFrom('delete', 'set', 'set', 'add'), value: hostileValue, key: hostileKey });

/** The valid body, or it with 1–4 mutations, or something else entirely. */
function around(base: Json): fc.Arbitrary<Json> {
  return fc.oneof(
    { weight: 1, arbitrary: fc.constant(base) },
    { weight: 8, arbitrary: fc.array(mutation, { minLength: 1, maxLength: 4 }).map((ms) => apply(base, ms)) },
    { weight: 1, arbitrary: hostileValue },
  );
}

// ---------------------------------------------------------------- valid bodies

const schema = { type: 'object', properties: { city: { type: 'string' }, days: { type: 'integer' } }, required: ['city'] };
const fullTool = (name: string): Json => ({
  name, title: 'Weather', description: 'Weather by city', inputSchema: schema, outputSchema: { type: 'object' }, annotations: { readOnlyHint: true }, enabled: true,
  template: {
    request: {
      url: '/weather/{{ .args.city }}', method: 'GET', headers: [{ key: 'x-a', value: '{{ .args.days }}' }], body: '',
      argsToUrlParam: true, argsToJsonBody: false, argsToFormBody: false, security: { id: 'key', passthrough: false },
    },
    response: { body: '{{ .temp }}' }, errorResponseTemplate: 'failed: {{ . }}', argsPosition: { city: 'path' }, timeoutMs: 5000,
  },
});
const fullSpec = (version: string): Json => ({
  version, description: 'fuzzed', config: { region: 'eu' },
  securitySchemes: [{ id: 'key', type: 'apiKey', in: 'header', name: 'x-key', defaultCredential: 'k' }],
  tools: [fullTool('get_weather'), { name: 'direct', description: 'answers itself', inputSchema: { type: 'object' }, template: { request: null, response: { body: 'hi' } } }],
  prompts: [{ name: 'p', title: 'P', description: 'd', arguments: [{ name: 'a', description: 'd', required: true }], messages: [{ role: 'user', text: 'hi {{ .a }}' }] }],
});
const higressYaml = toYaml({
  server: { name: 'imported', securitySchemes: [{ id: 'key', type: 'apiKey', in: 'header', name: 'x-key' }] },
  tools: [{
    name: 'list', description: 'list', args: [{ name: 'page', type: 'integer', position: 'query' }],
    requestTemplate: { url: '/list', method: 'GET', headers: [{ key: 'a', value: 'b' }], security: { id: 'key' } }, responseTemplate: { body: '{{.}}' },
  }],
});
const nacosServerSpecification: Json = {
  name: 'nacos-mcp', protocol: 'http', frontProtocol: 'mcp-streamable', description: 'd', versionDetail: { version: '1.0.0' }, enabled: true,
  remoteServerConfig: { exportPath: '/mcp' }, passthrough: { headers: ['authorization'], cookies: [] },
};
const nacosToolSpecification: Json = {
  tools: [{ name: 'get_weather', description: 'd', inputSchema: schema }],
  toolsMeta: {
    get_weather: {
      enabled: true,
      templates: {
        'json-go-template': {
          requestTemplate: { url: '/w', method: 'GET', headers: [{ key: 'a', value: 'b' }], argsToUrlParam: true, security: { id: 'key' } },
          responseTemplate: { body: '{{ . }}' }, argsPosition: { city: 'query' },
        },
      },
    },
  },
  securitySchemes: [{ id: 'key', type: 'apiKey', in: 'header', name: 'x-key' }],
  extensions: { 'server.defaultDownstreamSecurity': { id: 'key', passthrough: true } },
};
const nacosEndpointSpecification: Json = { type: 'DIRECT', data: { address: '127.0.0.1', port: 9, transportProtocol: 'http' } };
const healthCheck: Json = { type: 'none', path: '/', port: 0, intervalMs: 5000, timeoutMs: 3000, healthyThreshold: 1, unhealthyThreshold: 2 };

// ---------------------------------------------------------------- routes

interface Sent { method: string; path: string; body?: Json; raw?: string; form?: Record<string, string>; query?: Record<string, string>; headers?: Record<string, string> }
interface Route { name: string; family: Family; cases: fc.Arbitrary<Sent> }

/** A path segment: the fixture's, or something hostile (encoded, so it stays one segment). */
const segment = (fixture: string): fc.Arbitrary<string> => fc.oneof(
  { weight: 4, arbitrary: fc.constant(fixture) },
  { weight: 1, arbitrary: hostileString.map((s) => encodeURIComponent(Buffer.from(s.slice(0, 300)).toString('utf8'))) },
  { weight: 1, arbitrary: fc.constantFrom('%', '%zz', '..', '%2F', '%00') },
);

const ifMatch: fc.Arbitrary<Record<string, string>> = fc.oneof(
  fc.constant({}),
  fc.constantFrom('*', '"x"', 'W/"x"', 'x', '"', '"a", "b"', ',', '').map((v) => ({ 'if-match': v })),
);

function native(name: string, method: string, path: (ids: Ids) => fc.Arbitrary<string>, body?: Json): (ids: Ids) => Route {
  return (ids) => ({
    name: `${method} /api/v1${name}`, family: 'native',
    cases: fc.record({ path: path(ids), body: body === undefined ? fc.option(hostileValue, { nil: undefined }) : around(body), headers: ifMatch })
      .map(({ path: p, body: b, headers }) => ({ method, path: `/api/v1${p}`, ...(b === undefined ? {} : { body: b }), headers })),
  });
}

/** Nacos parameters: the valid ones mutated, sent as a form, a JSON body or a query string. */
function nacos(name: string, method: string, family: Family, params: Record<string, Json>): Route {
  return {
    name: `${method} /nacos${name}`, family,
    cases: fc.tuple(around(params as Json), fc.constantFrom('form', 'form', 'json', 'query')).map(([p, how]) => {
      const path = `/nacos${name}`;
      if (how === 'json' || p === null || typeof p !== 'object' || Array.isArray(p)) return { method, path, body: p };
      const flat: Record<string, string> = {};
      for (const [k, v] of Object.entries(p)) flat[k] = typeof v === 'string' ? v : JSON.stringify(v);
      return how === 'form' ? { method, path, form: flat } : { method, path, query: flat };
    }),
  };
}

interface Ids { instance: string; consumer: string; token: string }

const server = (rest = '') => (): fc.Arbitrary<string> => segment('weather').map((s) => `/namespaces/${NS}/mcp-servers/${s}${rest}`);
const version = (rest = '') => (): fc.Arbitrary<string> => fc.tuple(segment('weather'), segment('1.1.0')).map(([s, v]) => `/namespaces/${NS}/mcp-servers/${s}/versions/${v}${rest}`);
const fixed = (p: string) => (): fc.Arbitrary<string> => fc.constant(p);

const nativeRoutes: ((ids: Ids) => Route)[] = [
  native('/auth/login', 'POST', fixed('/auth/login'), { username: 'admin', password: 'wrong-password' }),
  native('/namespaces', 'POST', fixed('/namespaces'), { id: 'fz2', name: 'n', description: 'd' }),
  native('/namespaces/{ns}', 'PUT', () => segment(NS).map((s) => `/namespaces/${s}`), { name: 'n', description: 'd' }),
  native('/namespaces/{ns}', 'DELETE', () => segment('fz-empty').map((s) => `/namespaces/${s}`)),
  native('/namespaces/{ns}/services', 'POST', fixed(`/namespaces/${NS}/services`), { name: 's2', group: 'G', metadata: { a: 'b' }, protectThreshold: 0.5, selector: '' }),
  native('/namespaces/{ns}/services/{group}/{name}', 'PUT', () => fc.tuple(segment('DEFAULT_GROUP'), segment('svc')).map(([g, n]) => `/namespaces/${NS}/services/${g}/${n}`), { metadata: { a: 'b' }, protectThreshold: 0.1, selector: '' }),
  native('/namespaces/{ns}/services/{group}/{name}', 'DELETE', () => fc.tuple(segment('DEFAULT_GROUP'), segment('svc')).map(([g, n]) => `/namespaces/${NS}/services/${g}/${n}`)),
  native('/namespaces/{ns}/services/{group}/{name}/instances', 'POST', fixed(`/namespaces/${NS}/services/DEFAULT_GROUP/svc/instances`), {
    ip: '10.9.0.2', port: 81, cluster: 'c', weight: 1, enabled: true, healthy: true, ephemeral: false, metadata: {}, healthCheck,
  }),
  native('/namespaces/{ns}/instances/{id}', 'PATCH', (ids) => segment(ids.instance).map((s) => `/namespaces/${NS}/instances/${s}`), { weight: 2, enabled: true, metadata: { a: 'b' }, healthCheck }),
  native('/namespaces/{ns}/instances/{id}', 'DELETE', (ids) => segment(ids.instance).map((s) => `/namespaces/${NS}/instances/${s}`)),
  native('/namespaces/{ns}/mcp-servers', 'POST', fixed(`/namespaces/${NS}/mcp-servers`), {
    name: 'm2', description: 'd', protocol: 'http', frontProtocol: 'mcp-streamable', endpoint: { type: 'direct', address: '127.0.0.1', port: 9 },
    enabled: true, passthrough: { headers: ['authorization'], cookies: ['s'] }, spec: fullSpec('1.0.0'), publish: true,
  }),
  native('/namespaces/{ns}/mcp-servers/import', 'POST', fixed(`/namespaces/${NS}/mcp-servers/import`), { format: 'higress', content: higressYaml, name: 'imported', version: '1.0.0', publish: false }),
  native('/namespaces/{ns}/mcp-servers/import (nacos)', 'POST', fixed(`/namespaces/${NS}/mcp-servers/import`), {
    format: 'nacos', content: JSON.stringify({ serverSpecification: nacosServerSpecification, toolSpecification: nacosToolSpecification, endpointSpecification: nacosEndpointSpecification }),
  }),
  native('/namespaces/{ns}/mcp-servers/{name}', 'PATCH', server(), {
    description: 'd', protocol: 'https', frontProtocol: 'mcp-sse', endpoint: { type: 'url', url: 'http://127.0.0.1:9/x' }, enabled: false, passthrough: { headers: [], cookies: [] },
  }),
  native('/namespaces/{ns}/mcp-servers/{name}', 'DELETE', () => segment('doomed').map((s) => `/namespaces/${NS}/mcp-servers/${s}`)),
  native('/namespaces/{ns}/mcp-servers/{name}/versions/{version}', 'PUT', version(), { spec: fullSpec('1.1.0'), publish: false, server: { description: 'x' } }),
  native('/namespaces/{ns}/mcp-servers/{name}/versions/{version}', 'DELETE', version()),
  native('/namespaces/{ns}/mcp-servers/{name}/versions/{version}/publish', 'POST', version('/publish')),
  native('/namespaces/{ns}/mcp-servers/{name}/rollback', 'POST', server('/rollback'), { version: '1.0.0' }),
  // The issuers' metadata is not fetched here (checkIssuers=false): fuzzed issuers would be names that resolve nowhere.
  native('/namespaces/{ns}/authorization', 'PUT', fixed(`/namespaces/${NS}/authorization?checkIssuers=false`), {
    enabled: true, issuers: [{ issuer: 'https://login.example.com', introspection: { endpoint: 'https://login.example.com/i', clientId: 'gw', clientSecret: 's' } }],
    requiredScopes: ['mcp'], scopeGrants: { 'a:b': [{ server: 'weather', tools: ['get_weather'] }], all: null }, rateLimits: { perCaller: { ratePerSecond: 1, burst: 2 }, tools: { x: { ratePerSecond: 1, burst: 1 } } },
  }),
  native('/namespaces/{ns}/consumers', 'POST', fixed(`/namespaces/${NS}/consumers`), { name: 'c2', allow: ['weather', { server: 'io.acme/maps', tools: ['route'] }] }),
  native('/namespaces/{ns}/consumers/{id}', 'PUT', (ids) => segment(ids.consumer).map((s) => `/namespaces/${NS}/consumers/${s}`), { allow: [{ server: 'weather', tools: ['get_weather'] }] }),
  native('/namespaces/{ns}/consumers/{id}', 'DELETE', (ids) => segment(ids.consumer).map((s) => `/namespaces/${NS}/consumers/${s}`)),
  native('/users', 'POST', fixed('/users'), { username: 'u2', password: 'password-123', roles: [{ namespace: NS, role: 'editor' }] }),
  native('/users/{name}', 'PUT', () => segment('fuzzer').map((s) => `/users/${s}`), { password: 'password-456', roles: [{ namespace: '*', role: 'viewer' }] }),
  native('/users/{name}', 'DELETE', () => segment('doomed-user').map((s) => `/users/${s}`)),
  native('/tokens', 'POST', fixed('/tokens'), { name: 'ci', ttlDays: 30 }),
  native('/tokens/{id}', 'DELETE', (ids) => segment(ids.token).map((s) => `/tokens/${s}`)),
  native('/namespaces/{ns}/mcp-servers/{name}/versions/{version}/try', 'POST', version('/try'), { tool: 'get_weather', arguments: { city: 'x' }, headers: { 'x-key': 'k' }, definition: fullTool('get_weather') }),
  native('/namespaces/{ns}/mcp-servers/validate', 'POST', fixed(`/namespaces/${NS}/mcp-servers/validate`), { spec: fullSpec('draft') }),
  native('/namespaces/{ns}/mcp-servers/import/preview', 'POST', fixed(`/namespaces/${NS}/mcp-servers/import/preview`), { format: 'higress', content: higressYaml, name: 'p', version: '1' }),
  native('/gateways/heartbeat', 'POST', fixed('/gateways/heartbeat'), { id: 'gw-1', revision: 1, sessions: 0, streams: 0, address: '127.0.0.1:8080', source: 'registry', version: '0.1.0', startedAt: 1 }),
];

const instanceParams: Record<string, Json> = {
  namespaceId: NS, serviceName: 'nsvc', groupName: 'DEFAULT_GROUP', ip: '10.8.0.1', port: '8080', clusterName: 'DEFAULT', weight: '1',
  enabled: 'true', healthy: 'true', ephemeral: 'false', metadata: '{"a":"b"}', healthCheckType: 'none', healthCheckPath: '/',
  healthCheckPort: '0', healthCheckIntervalMs: '5000', healthCheckTimeoutMs: '3000', healthCheckHealthyThreshold: '1', healthCheckUnhealthyThreshold: '2',
};
const beatParams: Record<string, Json> = {
  namespaceId: NS, serviceName: 'nsvc', ip: '10.8.0.1', port: '8080', beat: { ip: '10.8.0.1', port: 8080, cluster: 'DEFAULT', weight: 1, metadata: { a: 'b' } },
};
const serviceParams: Record<string, Json> = {
  namespaceId: NS, serviceName: 'nsvc2', groupName: 'DEFAULT_GROUP', protectThreshold: '0.5', metadata: 'k=v', selector: { type: 'label', expression: '' },
};
const loginParams: Record<string, Json> = { username: 'admin', password: 'wrong-password' };
const mcpParams: Record<string, Json> = {
  namespaceId: NS, serverSpecification: nacosServerSpecification, toolSpecification: nacosToolSpecification, endpointSpecification: nacosEndpointSpecification,
};

const nacosRoutes: Route[] = [
  ...(['v1', 'v2'] as const).flatMap((v) => {
    const family: Family = v === 'v1' ? 'nacos-v1' : 'nacos-envelope';
    return [
      nacos(`/${v}/ns/instance`, 'POST', family, instanceParams),
      nacos(`/${v}/ns/instance`, 'PUT', family, instanceParams),
      nacos(`/${v}/ns/instance`, 'DELETE', family, { ...instanceParams, ip: '10.8.0.9' }),
      nacos(`/${v}/ns/instance/beat`, 'PUT', family, beatParams),
      nacos(`/${v}/ns/service`, 'POST', family, serviceParams),
      nacos(`/${v}/ns/service`, 'PUT', family, { ...serviceParams, serviceName: 'nsvc' }),
      nacos(`/${v}/ns/service`, 'DELETE', family, { ...serviceParams, serviceName: 'nsvc-empty' }),
    ];
  }),
  nacos('/v1/auth/login', 'POST', 'nacos-v1', loginParams),
  nacos('/v1/auth/users/login', 'POST', 'nacos-v1', loginParams),
  nacos('/v3/auth/user/login', 'POST', 'nacos-envelope', loginParams),
  nacos('/v3/admin/ai/mcp', 'POST', 'nacos-envelope', mcpParams),
  nacos('/v3/admin/ai/mcp', 'PUT', 'nacos-envelope', { ...mcpParams, serverSpecification: { ...(nacosServerSpecification as Record<string, Json>), name: 'weather' }, latest: 'false' }),
  nacos('/v3/admin/ai/mcp', 'DELETE', 'nacos-envelope', { namespaceId: NS, mcpName: 'doomed', version: '1.0.0' }),
];

// ---------------------------------------------------------------- the finding itself

describe('tool templates that leave out optional fields get defaults, or a 400 naming the field', () => {
  let reg: TestRegistry;
  before(async () => {
    reg = await startRegistry();
  });
  after(() => reg?.close());

  const create = (name: string, template: Json) => http('POST', `${reg.url}/api/v1/namespaces/public/mcp-servers`, {
    body: { name, endpoint: { type: 'direct', address: '127.0.0.1', port: 9 }, spec: { version: '1.0.0', tools: [{ name: 't', inputSchema: schema, template }] } },
  });
  const stored = async (name: string) => (await http('GET', `${reg.url}/api/v1/namespaces/public/mcp-servers/${name}/versions/1.0.0`)).body.spec.tools[0].template;

  it('native API: request.headers, request.argsTo*, response, argsPosition and request default', async () => {
    const cases: [string, Json, Record<string, unknown>][] = [
      ['no-headers', { request: { url: '/a', method: 'GET' }, response: { body: 'x' } }, { request: { url: '/a', method: 'GET', headers: [], argsToUrlParam: false, argsToJsonBody: false, argsToFormBody: false }, response: { body: 'x' }, argsPosition: {} }],
      ['no-response', { request: { url: '/a', method: 'GET', headers: [] } }, { request: { url: '/a', method: 'GET', headers: [], argsToUrlParam: false, argsToJsonBody: false, argsToFormBody: false }, response: {}, argsPosition: {} }],
      ['direct', { request: null, response: { body: 'hi' } }, { request: null, response: { body: 'hi' }, argsPosition: {} }],
      ['no-request', { response: { body: 'hi' } }, { request: null, response: { body: 'hi' }, argsPosition: {} }],
    ];
    for (const [name, template, expected] of cases) {
      const r = await create(name, template);
      assert.equal(r.status, 201, `${name}: ${r.text}`);
      assert.deepEqual(await stored(name), expected, name);
    }
  });

  it('native API: a direct-response template without its body is a 400 naming it, and stores nothing', async () => {
    const revision = await reg.registry.services.store.revision();
    for (const template of [{ request: null }, {}, { request: null, response: null }] as Json[]) {
      const r = await create('incomplete', template);
      assert.equal(r.status, 400, r.text);
      assert.match(r.body.error.field, /^(tools\[0\]\(t\)\.responseTemplate\.body|spec\.tools\.0\.template\.response)$/, r.text);
    }
    assert.equal(await reg.registry.services.store.revision(), revision);
  });

  it('Nacos API: a json-go-template without headers, responseTemplate or argsPosition gets defaults; without anything to do, a 400', async () => {
    const put = (name: string, template: Json) => http('POST', `${reg.url}/nacos/v3/admin/ai/mcp`, {
      form: {
        serverSpecification: JSON.stringify({ name, protocol: 'http', versionDetail: { version: '1.0.0' } }),
        endpointSpecification: JSON.stringify({ type: 'DIRECT', data: { address: '127.0.0.1', port: 9 } }),
        toolSpecification: JSON.stringify({ tools: [{ name: 't', inputSchema: schema }], toolsMeta: { t: { enabled: true, templates: { 'json-go-template': template } } } }),
      },
    });
    const ok = await put('nacos-bare', { requestTemplate: { url: '/a', method: 'GET' } });
    assert.equal(ok.status, 200, ok.text);
    assert.deepEqual(await stored('nacos-bare'), { request: { url: '/a', method: 'GET', headers: [], argsToUrlParam: false, argsToJsonBody: false, argsToFormBody: false }, response: {}, argsPosition: {} });
    const direct = await put('nacos-direct', { requestTemplate: null, responseTemplate: { body: 'hi' } });
    assert.equal(direct.status, 200, direct.text);
    const none = await put('nacos-none', { requestTemplate: null });
    assert.equal(none.status, 400, none.text);
    assert.match(none.body.data, /responseTemplate\.body/);
  });
});

// ---------------------------------------------------------------- the fuzz

for (const kind of kinds) describe(`the write APIs answer hostile bodies with a 4xx that changes nothing, never a 5xx, on ${kind.kind}`, { skip: kind.unavailable }, () => {
  let db: TestDatabase;
  let reg: TestRegistry;
  let token: string;
  const ids: Ids = { instance: '', consumer: '', token: '' };

  /** The registry's state, without what changes on its own clock (health, beats, expiring ephemeral instances). */
  const dump = async (): Promise<string> => {
    const store = reg.registry.services.store;
    const namespaces = await store.listNamespaces();
    const out: unknown[] = [namespaces, await store.listConsumers(), await store.listUsers(), await store.listApiTokens(), await store.listNamespaceAuthorization()];
    for (const ns of namespaces) {
      out.push((await store.listServices(ns.id, { pageNo: 1, pageSize: 1000 })).items);
      out.push((await store.listInstances({ namespace: ns.id })).filter((i) => !i.ephemeral).map(({ healthy: _h, lastBeat: _b, updatedAt: _u, ...i }) => i));
      for (const m of (await store.listMcpServers(ns.id, { pageNo: 1, pageSize: 1000 })).items) out.push(m, await store.listVersions(m.id));
    }
    return JSON.stringify(out);
  };

  /** A request as the registry's admin (auth is on, as in production). */
  const call = (method: string, path: string, opts: Parameters<typeof http>[2] = {}) => http(method, `${reg.url}${path}`, { ...opts, token });

  const ok = async (method: string, path: string, body?: unknown) => {
    const r = await call(method, path, body === undefined ? {} : { body });
    assert.ok(r.status < 300, `${method} ${path}: ${r.status} ${r.text}`);
    return r;
  };

  /** Put back what the fuzz may have deleted or changed, so every case meets the same fixtures. */
  const fixtures = async () => {
    for (const ns of [NS, 'fz-empty']) if ((await call('GET', `/api/v1/namespaces/${ns}`)).status === 404) await ok('POST', '/api/v1/namespaces', { id: ns });
    const svc = await call('GET', `/api/v1/namespaces/${NS}/services/DEFAULT_GROUP/svc`);
    if (svc.status === 404 || !svc.body.instances.some((i: { id: string }) => i.id === ids.instance)) {
      const i = await ok('POST', `/api/v1/namespaces/${NS}/services/DEFAULT_GROUP/svc/instances`, { ip: '10.9.0.1', port: 80, ephemeral: false, healthCheck: { type: 'none' } });
      ids.instance = i.body.id;
    }
    // 'weather' has 1.0.0 published and 1.1.0 as a draft. When a case published or deleted a version, the server
    // is made again from nothing: a published 1.1.0 can be neither deleted nor, once archived, saved as a draft.
    const draft = await call('GET', `/api/v1/namespaces/${NS}/mcp-servers/weather/versions/1.1.0`);
    if (draft.status !== 200 || draft.body.status !== 'draft') await call('DELETE', `/api/v1/namespaces/${NS}/mcp-servers/weather`);
    for (const name of ['weather', 'doomed']) {
      if ((await call('GET', `/api/v1/namespaces/${NS}/mcp-servers/${name}`)).status === 404) {
        await ok('POST', `/api/v1/namespaces/${NS}/mcp-servers`, { name, endpoint: { type: 'direct', address: '127.0.0.1', port: 9 }, spec: fullSpec('1.0.0') });
      }
    }
    if (draft.status !== 200 || draft.body.status !== 'draft') {
      await ok('POST', `/api/v1/namespaces/${NS}/mcp-servers/weather/versions/1.0.0/publish`);
      await ok('PUT', `/api/v1/namespaces/${NS}/mcp-servers/weather/versions/1.1.0`, { spec: fullSpec('1.1.0') });
    }
    const consumers = (await ok('GET', `/api/v1/namespaces/${NS}/consumers`)).body.items as { id: string; name: string }[];
    const agent = consumers.find((c) => c.name === 'agent') ?? (await ok('POST', `/api/v1/namespaces/${NS}/consumers`, { name: 'agent', allow: ['weather'] })).body;
    ids.consumer = agent.id;
    for (const username of ['fuzzer', 'doomed-user']) {
      if ((await call('PUT', `/api/v1/users/${username}`, { body: {} })).status === 404) await ok('POST', '/api/v1/users', { username, password: 'password-123' });
    }
    const tokens = (await ok('GET', '/api/v1/tokens')).body.items as { id: string; name: string }[];
    ids.token = tokens.find((t) => t.name === 'doomed')?.id ?? (await ok('POST', '/api/v1/tokens', { name: 'doomed' })).body.id;
    const nsvc = await call('GET', `/nacos/v2/ns/service?namespaceId=${NS}&serviceName=nsvc-empty`);
    if (nsvc.body.code !== 0) await ok('POST', `/nacos/v2/ns/service?namespaceId=${NS}&serviceName=nsvc-empty`);
  };

  const send = async (s: Sent) => {
    const query = s.query ? `?${new URLSearchParams(s.query).toString()}` : '';
    return call(s.method, `${s.path}${query}`, {
      ...(s.form ? { form: s.form } : s.raw !== undefined ? { body: s.raw } : s.body !== undefined ? { body: JSON.stringify(s.body) } : {}), headers: s.headers ?? {},
    });
  };

  before(async () => {
    db = await kind.create();
    reg = await startRegistry({ db: db.url, auth: true, adminPassword: 'admin-password-1' });
    token = (await http('POST', `${reg.url}/api/v1/auth/login`, { body: { username: 'admin', password: 'admin-password-1' } })).body.accessToken;
    await fixtures();
  });
  after(async () => {
    await reg?.close();
    await db?.drop();
  });

  /** Whether the last case may have changed the fixtures (only a 2xx can, as 4xx answers are checked to change nothing). */
  let changed = true;

  /** Send one case; a 4xx must be in the family's error shape and leave the registry as it was. */
  const probe = async (route: Route, sent: Sent) => {
    if (changed) await fixtures();
    changed = false;
    const before = await dump();
    const r = await send(sent);
    assert.ok(r.status < 500, `${route.name} answered ${r.status}: ${r.text.slice(0, 500)}`);
    if (r.status < 400) {
      changed = true;
      return;
    }
    // Headers over Node's limit (a huge query string) are refused by the HTTP parser, before any route is known.
    if (r.status !== 431) {
      if (route.family === 'native') {
        assert.ok(r.body?.error?.code in ERRORS, `a known error code: ${r.text.slice(0, 300)}`);
        assert.ok(typeof r.body.error.message === 'string' && r.body.error.message.length > 3, r.text.slice(0, 300));
      } else if (route.family === 'nacos-v1') {
        assert.match(r.text, /^caused: .+;$/s, r.text.slice(0, 300));
      } else {
        assert.ok(typeof r.body?.code === 'number' && typeof r.body.data === 'string' && r.body.data.length > 3, r.text.slice(0, 300));
      }
    }
    assert.equal(await dump(), before, `${route.name} answered ${r.status} and changed something: ${r.text.slice(0, 300)}`);
  };

  const check = (route: Route) => async () => {
    // SQLite gets the most runs; PostgreSQL and MariaDB (which refuse some values SQLite stores) fewer, to keep the suite short.
    const numRuns = kind.kind === 'sqlite' ? RUNS : Math.ceil(RUNS / 2);
    await fc.assert(fc.asyncProperty(route.cases, (sent) => probe(route, sent)), { numRuns, endOnFailure: true, ...SEED });
    // Far deeper nesting than fast-check (or JSON.stringify) can handle: 100 000 levels as the whole
    // body, and as every field of a valid one (JSON text, built without recursion).
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    const valid = fc.sample(route.cases, { numRuns: 1, seed: 1 })[0]!;
    await probe(route, { method: valid.method, path: valid.path, raw: deep });
    const fields = Object.keys(valid.form ?? valid.query ?? (valid.body !== null && typeof valid.body === 'object' && !Array.isArray(valid.body) ? valid.body : {}));
    await probe(route, valid.form
      ? { method: valid.method, path: valid.path, form: Object.fromEntries(fields.map((k) => [k, deep])) }
      : { method: valid.method, path: valid.path, raw: `{${fields.map((k) => `${JSON.stringify(k)}:${deep}`).join(',')}}` });
  };

  for (const make of nativeRoutes) {
    const name = make(ids).name;
    it(name, async () => check(make(ids))());
  }
  for (const route of nacosRoutes) it(route.name, check(route));

  it('keeps serving, and what the fuzz stored still makes a snapshot', async () => {
    assert.equal((await http('GET', `${reg.url}/healthz`)).status, 200);
    assert.equal((await call('GET', '/api/v1/watch/snapshot')).status, 200);
  });
});
