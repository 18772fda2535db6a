// Bad input on the native API: a specific 4xx with a code and the field, and nothing changed.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { http } from './support/http.js';
import { startRegistry } from './support/registry.js';
import type { TestRegistry } from './support/registry.js';
import { weatherSpec } from './registry-native.test.js';

describe('native API refuses bad input and changes nothing', () => {
  let reg: TestRegistry;
  let api: string;
  const dump = async () => {
    const s = reg.registry.services;
    return JSON.stringify({ revision: await s.store.revision(), snapshot: await s.watch.snapshot(), users: await s.auth.listUsers(), versions: await s.store.listMcpServers(undefined, { pageNo: 1, pageSize: 100 }) });
  };

  before(async () => {
    reg = await startRegistry();
    api = `${reg.url}/api/v1`;
    await http('POST', `${api}/namespaces/public/mcp-servers`, { body: { name: 'weather', spec: weatherSpec('1.0.0') } });
    await http('POST', `${api}/namespaces/public/services/DEFAULT_GROUP/eph/instances`, { body: { ip: '10.0.0.1', port: 80 } });
  });
  after(() => reg?.close());

  const badTool = (patch: Record<string, unknown>) => {
    const spec = weatherSpec('2.0.0');
    return { name: 'other', spec: { ...spec, tools: [{ ...spec.tools[0], ...patch }] } };
  };

  const cases: { name: string; method: string; path: string; body?: unknown; raw?: string; contentType?: string; status: number; code: string; field?: string; message?: RegExp }[] = [
    { name: 'missing required field', method: 'POST', path: '/namespaces', body: {}, status: 400, code: 'PARAMETER_MISSING', field: 'id' },
    { name: 'wrong type', method: 'POST', path: '/namespaces/public/services/DEFAULT_GROUP/x/instances', body: { ip: '10.0.0.2', port: '80' }, status: 400, code: 'VALIDATION_FAILED', field: 'port' },
    { name: 'port out of range', method: 'POST', path: '/namespaces/public/services/DEFAULT_GROUP/x/instances', body: { ip: '10.0.0.2', port: 70000 }, status: 400, code: 'VALIDATION_FAILED', field: 'port' },
    { name: 'bad ip', method: 'POST', path: '/namespaces/public/services/DEFAULT_GROUP/x/instances', body: { ip: 'not an ip!', port: 80 }, status: 400, code: 'VALIDATION_FAILED', field: 'ip' },
    { name: 'unknown property', method: 'POST', path: '/namespaces', body: { id: 'x', colour: 'red' }, status: 400, code: 'VALIDATION_FAILED' },
    { name: 'malformed JSON', method: 'POST', path: '/namespaces', raw: '{"id": "x"', status: 400, code: 'INVALID_JSON', field: 'body' },
    { name: 'unsupported media type', method: 'POST', path: '/namespaces', raw: 'id=x', contentType: 'text/csv', status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },
    { name: 'bad namespace id', method: 'POST', path: '/namespaces', body: { id: 'has space' }, status: 400, code: 'VALIDATION_FAILED', field: 'namespaceId' },
    { name: 'duplicate namespace', method: 'POST', path: '/namespaces', body: { id: 'public' }, status: 409, code: 'NAMESPACE_EXISTS' },
    { name: 'unknown namespace', method: 'POST', path: '/namespaces/nowhere/services', body: { name: 'a' }, status: 404, code: 'NAMESPACE_NOT_FOUND' },
    { name: 'ephemeral and persistent mixed', method: 'POST', path: '/namespaces/public/services/DEFAULT_GROUP/eph/instances', body: { ip: '10.0.0.3', port: 80, ephemeral: false }, status: 400, code: 'INSTANCE_KIND_CONFLICT', field: 'ephemeral' },
    { name: 'duplicate MCP server', method: 'POST', path: '/namespaces/public/mcp-servers', body: { name: 'weather', spec: weatherSpec('1.0.0') }, status: 409, code: 'MCP_SERVER_EXISTS', field: 'name' },
    { name: 'invalid input schema', method: 'POST', path: '/namespaces/public/mcp-servers', body: badTool({ inputSchema: { type: 'object', properties: { city: { type: 'nope' } } } }), status: 400, code: 'INVALID_SCHEMA', message: /get_weather/ },
    { name: 'input schema not an object schema', method: 'POST', path: '/namespaces/public/mcp-servers', body: badTool({ inputSchema: { type: 'string' } }), status: 400, code: 'INVALID_SCHEMA', message: /get_weather/ },
    { name: 'broken template', method: 'POST', path: '/namespaces/public/mcp-servers', body: badTool({ template: { request: null, response: { body: '{{ if .x }}unclosed' }, argsPosition: {} } }), status: 400, code: 'INVALID_TEMPLATE', message: /get_weather/ },
    { name: 'unknown template function', method: 'POST', path: '/namespaces/public/mcp-servers', body: badTool({ template: { request: null, response: { body: '{{ nosuchfn .x }}' }, argsPosition: {} } }), status: 400, code: 'INVALID_TEMPLATE', message: /nosuchfn/ },
    { name: 'duplicate tool names', method: 'POST', path: '/namespaces/public/mcp-servers', body: { name: 'dup', spec: { version: '1.0.0', tools: [weatherSpec('1').tools[0], weatherSpec('1').tools[0]] } }, status: 400, code: 'VALIDATION_FAILED' },
    { name: 'bad protocol', method: 'POST', path: '/namespaces/public/mcp-servers', body: { name: 'p', protocol: 'gopher', spec: weatherSpec('1.0.0') }, status: 400, code: 'VALIDATION_FAILED', field: 'protocol' },
    { name: 'endpoint in another namespace', method: 'POST', path: '/namespaces/public/mcp-servers', body: { name: 'p', endpoint: { type: 'service', namespace: 'other', group: 'G', service: 's' }, spec: weatherSpec('1.0.0') }, status: 400, code: 'VALIDATION_FAILED', field: 'endpoint.namespace' },
    { name: 'unknown version', method: 'POST', path: '/namespaces/public/mcp-servers/weather/versions/9.9.9/publish', status: 404, code: 'VERSION_NOT_FOUND', field: 'version' },
    { name: 'unknown server', method: 'GET', path: '/namespaces/public/mcp-servers/nope', status: 404, code: 'MCP_SERVER_NOT_FOUND' },
    { name: 'version path mismatch', method: 'PUT', path: '/namespaces/public/mcp-servers/weather/versions/3.0.0', body: { spec: weatherSpec('4.0.0') }, status: 400, code: 'VALIDATION_FAILED', field: 'spec.version' },
    { name: 'watch with a bad revision', method: 'GET', path: '/watch/changes?after=-1', status: 400, code: 'VALIDATION_FAILED', field: 'after' },
    { name: 'unknown route', method: 'GET', path: '/nothing-here', status: 404, code: 'ROUTE_NOT_FOUND' },
    { name: 'body over 1 MiB', method: 'POST', path: '/namespaces', raw: JSON.stringify({ id: 'big', description: 'x'.repeat(1_100_000) }), status: 413, code: 'PAYLOAD_TOO_LARGE' },
  ];

  for (const c of cases) {
    it(c.name, async () => {
      const before = await dump();
      const res = await http(c.method, `${api}${c.path}`, c.raw !== undefined
        ? { body: c.raw, headers: { 'content-type': c.contentType ?? 'application/json' } }
        : c.body !== undefined ? { body: c.body } : {});
      assert.equal(res.status, c.status, res.text);
      assert.equal(res.body.error.code, c.code, res.text);
      if (c.field) assert.equal(res.body.error.field, c.field, res.text);
      if (c.message) assert.match(res.body.error.message, c.message);
      assert.ok(res.body.error.message.length > 5);
      assert.equal(await dump(), before, 'the registry is unchanged');
    });
  }

  it('keeps serving after all of that', async () => {
    assert.equal((await http('GET', `${reg.url}/healthz`)).status, 200);
    assert.equal((await http('GET', `${api}/namespaces/public/mcp-servers/weather`)).status, 200);
  });
});
