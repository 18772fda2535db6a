// Bad input on the Nacos-compatible APIs: each is a specific 4xx with the Nacos code and a
// message naming the field, and leaves the database exactly as it was.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { databaseKinds } from './support/databases.js';
import type { TestDatabase } from './support/databases.js';
import { http } from './support/http.js';
import { startRegistry } from './support/registry.js';
import type { TestRegistry } from './support/registry.js';

const server = (over: Record<string, unknown> = {}) => JSON.stringify({
  name: 'weather', protocol: 'http', frontProtocol: 'mcp-streamable', description: 'Weather', versionDetail: { version: '1.0.0' }, ...over,
});
const tools = (inputSchema: unknown = { type: 'object', properties: { city: { type: 'string' } } }) => JSON.stringify({
  tools: [{ name: 'get_weather', description: 'Weather by city', inputSchema }],
  toolsMeta: { get_weather: { enabled: true, templates: { 'json-go-template': { requestTemplate: { url: '/w', method: 'GET', argsToUrlParam: true }, responseTemplate: { body: '{{.}}' } } } } },
});
const endpoint = JSON.stringify({ type: 'DIRECT', data: { address: '10.0.0.5', port: 8080 } });
const ONE_MIB = 1024 * 1024;

/** One bad request and what it must answer. */
interface Case {
  name: string;
  method: string;
  path: string;
  form?: Record<string, string>;
  body?: unknown;
  status: number;
  /** The Nacos code (envelope APIs); undefined for the v1 text answers. */
  code?: number;
  /** What the message must name. */
  field: string;
}

const instance = 'serviceName=fixture&ip=10.0.0.1&port=8080';
const v1Cases: Case[] = [
  { name: 'missing serviceName', method: 'POST', path: '/v1/ns/instance?ip=10.0.0.1&port=80', status: 400, field: 'serviceName' },
  { name: 'missing ip', method: 'POST', path: '/v1/ns/instance?serviceName=s&port=80', status: 400, field: 'ip' },
  { name: 'missing port', method: 'POST', path: '/v1/ns/instance?serviceName=s&ip=10.0.0.1', status: 400, field: 'port' },
  { name: 'port=abc', method: 'POST', path: '/v1/ns/instance?serviceName=s&ip=10.0.0.1&port=abc', status: 400, field: 'port' },
  { name: 'port out of range', method: 'POST', path: '/v1/ns/instance?serviceName=s&ip=10.0.0.1&port=70000', status: 400, field: 'port' },
  { name: 'weight=-1', method: 'POST', path: `/v1/ns/instance?${instance}&weight=-1`, status: 400, field: 'weight' },
  { name: 'weight not a number', method: 'POST', path: `/v1/ns/instance?${instance}&weight=heavy`, status: 400, field: 'weight' },
  { name: "metadata='{bad'", method: 'POST', path: `/v1/ns/instance?${instance}&metadata=${encodeURIComponent('{bad')}`, status: 400, field: 'metadata' },
  { name: 'metadata not an object', method: 'POST', path: '/v1/ns/instance', form: { serviceName: 's', ip: '10.0.0.1', port: '80', metadata: '[1,2]' }, status: 400, field: 'metadata' },
  { name: 'ephemeral not a boolean', method: 'POST', path: `/v1/ns/instance?${instance}&ephemeral=maybe`, status: 400, field: 'ephemeral' },
  { name: 'enable not a boolean', method: 'POST', path: `/v1/ns/instance?${instance}&enable=yes-please`, status: 400, field: 'enable' },
  { name: 'bad ip', method: 'POST', path: '/v1/ns/instance?serviceName=s&ip=not_an_ip!&port=80', status: 400, field: 'ip' },
  { name: 'bad serviceName', method: 'POST', path: '/v1/ns/instance?serviceName=a@@b@@c&ip=10.0.0.1&port=80', status: 400, field: 'serviceName' },
  { name: 'health check interval too short', method: 'POST', path: `/v1/ns/instance?${instance}&ephemeral=false&healthCheckIntervalMs=10`, status: 400, field: 'healthCheckIntervalMs' },
  { name: 'unknown health check type', method: 'POST', path: `/v1/ns/instance?${instance}&ephemeral=false&healthCheckType=udp`, status: 400, field: 'healthCheckType' },
  { name: 'health check on an ephemeral instance', method: 'POST', path: '/v1/ns/instance?serviceName=s&ip=10.0.0.1&port=80&healthCheckType=http', status: 400, field: 'healthCheckType' },
  { name: 'kind conflict', method: 'POST', path: '/v1/ns/instance?serviceName=fixture&ip=10.0.0.2&port=80&ephemeral=true', status: 400, field: 'ephemeral' },
  { name: 'unknown namespace', method: 'POST', path: `/v1/ns/instance?namespaceId=nope&${instance}`, status: 404, field: "namespace 'nope'" },
  { name: 'update with a port beyond a 32-bit integer', method: 'PUT', path: '/v1/ns/instance?serviceName=fixture&ip=10.0.0.1&port=2147483648&ephemeral=false', status: 400, field: 'port' },
  { name: 'read with a port beyond a 32-bit integer', method: 'GET', path: '/v1/ns/instance?serviceName=fixture&ip=10.0.0.1&port=2147483648', status: 400, field: 'port' },
  { name: 'beat with a port beyond a 32-bit integer', method: 'PUT', path: '/v1/ns/instance/beat?serviceName=fixture&ip=10.0.0.1&port=2147483648', status: 400, field: 'port' },
  { name: 'beat body with a port out of range', method: 'PUT', path: `/v1/ns/instance/beat?serviceName=s&beat=${encodeURIComponent('{"ip":"10.0.0.1","port":70000}')}`, status: 400, field: 'beat.port' },
  { name: 'update of an unknown instance', method: 'PUT', path: '/v1/ns/instance?serviceName=fixture&ip=10.0.0.9&port=80&weight=2', status: 404, field: '10.0.0.9' },
  { name: 'beat not JSON', method: 'PUT', path: `/v1/ns/instance/beat?serviceName=s&beat=${encodeURIComponent('{nope')}`, status: 400, field: 'beat' },
  { name: 'beat port not a number', method: 'PUT', path: `/v1/ns/instance/beat?serviceName=s&beat=${encodeURIComponent('{"ip":"10.0.0.1","port":"x"}')}`, status: 400, field: 'beat.port' },
  { name: 'list without serviceName', method: 'GET', path: '/v1/ns/instance/list', status: 400, field: 'serviceName' },
  { name: 'list healthyOnly not a boolean', method: 'GET', path: '/v1/ns/instance/list?serviceName=s&healthyOnly=2', status: 400, field: 'healthyOnly' },
  { name: 'protectThreshold out of range', method: 'POST', path: '/v1/ns/service?serviceName=svc2&protectThreshold=2', status: 400, field: 'protectThreshold' },
  { name: 'unknown selector type', method: 'POST', path: `/v1/ns/service?serviceName=svc2&selector=${encodeURIComponent('{"type":"weird"}')}`, status: 400, field: 'selector' },
  { name: 'duplicate service', method: 'POST', path: '/v1/ns/service?serviceName=fixture', status: 409, field: 'fixture' },
  { name: 'service list pageNo=0', method: 'GET', path: '/v1/ns/service/list?pageNo=0&pageSize=10', status: 400, field: 'pageNo' },
  { name: 'login without username', method: 'POST', path: '/v1/auth/login?password=x', status: 400, field: 'username' },
  { name: 'body over 1 MiB', method: 'POST', path: '/v1/ns/instance', form: { ...{ serviceName: 's', ip: '10.0.0.1', port: '80' }, metadata: 'x'.repeat(ONE_MIB + 10) }, status: 413, field: 'body' },
];

const base = { serviceName: 's', ip: '10.0.0.1', port: 80 };
const v2Cases: Case[] = [
  { name: 'missing serviceName', method: 'POST', path: '/v2/ns/instance', form: { ip: '10.0.0.1', port: '80' }, status: 400, code: 10000, field: 'serviceName' },
  { name: 'missing port', method: 'POST', path: '/v2/ns/instance', form: { serviceName: 's', ip: '10.0.0.1' }, status: 400, code: 10000, field: 'port' },
  { name: 'port=abc', method: 'POST', path: '/v2/ns/instance', form: { serviceName: 's', ip: '10.0.0.1', port: 'abc' }, status: 400, code: 20002, field: 'port' },
  { name: 'weight=-1', method: 'POST', path: '/v2/ns/instance', form: { serviceName: 's', ip: '10.0.0.1', port: '80', weight: '-1' }, status: 400, code: 20002, field: 'weight' },
  { name: "metadata='{bad'", method: 'POST', path: '/v2/ns/instance', form: { serviceName: 's', ip: '10.0.0.1', port: '80', metadata: '{bad' }, status: 400, code: 20002, field: 'metadata' },
  { name: 'JSON port of the wrong type', method: 'POST', path: '/v2/ns/instance', body: { ...base, port: true }, status: 400, code: 20002, field: 'port' },
  { name: 'JSON port as an object', method: 'POST', path: '/v2/ns/instance', body: { ...base, port: { n: 80 } }, status: 400, code: 20002, field: 'port' },
  { name: 'JSON metadata value of the wrong type', method: 'POST', path: '/v2/ns/instance', body: { ...base, metadata: { a: { b: 1 } } }, status: 400, code: 20002, field: 'metadata.a' },
  { name: 'JSON ephemeral of the wrong type', method: 'POST', path: '/v2/ns/instance', body: { ...base, ephemeral: 'sometimes' }, status: 400, code: 20002, field: 'ephemeral' },
  { name: 'JSON body that is not an object', method: 'POST', path: '/v2/ns/instance', body: [base], status: 400, code: 20002, field: 'body' },
  { name: 'JSON body that is not JSON', method: 'POST', path: '/v2/ns/instance', body: '{"serviceName":', status: 400, code: 20002, field: 'body' },
  { name: 'unknown namespace', method: 'POST', path: '/v2/ns/instance', form: { namespaceId: 'nope', serviceName: 's', ip: '10.0.0.1', port: '80' }, status: 404, code: 20004, field: "namespace 'nope'" },
  { name: 'unknown service', method: 'GET', path: '/v2/ns/service?serviceName=ghost', status: 404, code: 20004, field: 'ghost' },
  { name: 'body over 1 MiB', method: 'POST', path: '/v2/ns/instance', body: { ...base, metadata: { big: 'x'.repeat(ONE_MIB) } }, status: 413, code: 20002, field: 'body' },
];

const mcpCases: Case[] = [
  { name: 'missing serverSpecification', method: 'POST', path: '/v3/admin/ai/mcp', form: { toolSpecification: tools() }, status: 400, code: 10000, field: 'serverSpecification' },
  { name: 'serverSpecification not JSON', method: 'POST', path: '/v3/admin/ai/mcp', form: { serverSpecification: '{bad', endpointSpecification: endpoint }, status: 400, code: 20002, field: 'serverSpecification' },
  { name: 'toolSpecification not JSON', method: 'POST', path: '/v3/admin/ai/mcp', form: { serverSpecification: server({ name: 'w2' }), toolSpecification: '{"tools":[', endpointSpecification: endpoint }, status: 400, code: 20002, field: 'toolSpecification' },
  { name: 'endpointSpecification not JSON', method: 'POST', path: '/v3/admin/ai/mcp', form: { serverSpecification: server({ name: 'w2' }), endpointSpecification: 'REF' }, status: 400, code: 20002, field: 'endpointSpecification' },
  { name: 'serverSpecification of the wrong type', method: 'POST', path: '/v3/admin/ai/mcp', form: { serverSpecification: '5', endpointSpecification: endpoint }, status: 400, code: 20002, field: 'serverSpecification' },
  { name: 'serverSpecification without a name', method: 'POST', path: '/v3/admin/ai/mcp', form: { serverSpecification: server({ name: undefined }), endpointSpecification: endpoint }, status: 400, code: 10000, field: 'serverSpecification.name' },
  { name: 'unknown protocol', method: 'POST', path: '/v3/admin/ai/mcp', form: { serverSpecification: server({ name: 'w2', protocol: 'ftp' }), endpointSpecification: endpoint }, status: 400, code: 20002, field: 'serverSpecification.protocol' },
  { name: 'invalid inputSchema', method: 'POST', path: '/v3/admin/ai/mcp', form: { serverSpecification: server({ name: 'w2' }), toolSpecification: tools({ type: 'object', properties: { a: { type: 'nope' } } }), endpointSpecification: endpoint }, status: 400, code: 20002, field: 'get_weather' },
  { name: 'inputSchema of the wrong type', method: 'POST', path: '/v3/admin/ai/mcp', form: { serverSpecification: server({ name: 'w2' }), toolSpecification: tools('object'), endpointSpecification: endpoint }, status: 400, code: 20002, field: 'inputSchema' },
  { name: 'duplicate name', method: 'POST', path: '/v3/admin/ai/mcp', form: { serverSpecification: server(), toolSpecification: tools(), endpointSpecification: endpoint }, status: 409, code: 20005, field: 'weather' },
  { name: 'unknown namespace', method: 'POST', path: '/v3/admin/ai/mcp', form: { namespaceId: 'nope', serverSpecification: server({ name: 'w2' }), endpointSpecification: endpoint }, status: 404, code: 20004, field: "namespace 'nope'" },
  { name: 'update of an unknown server', method: 'PUT', path: '/v3/admin/ai/mcp', form: { serverSpecification: server({ name: 'ghost' }), endpointSpecification: endpoint }, status: 404, code: 50000, field: 'ghost' },
  { name: 'latest not a boolean', method: 'PUT', path: '/v3/admin/ai/mcp', form: { serverSpecification: server(), endpointSpecification: endpoint, latest: 'perhaps' }, status: 400, code: 20002, field: 'latest' },
  { name: 'get without mcpId or mcpName', method: 'GET', path: '/v3/admin/ai/mcp', status: 400, code: 10000, field: 'mcpName' },
  { name: 'unknown version', method: 'GET', path: '/v3/admin/ai/mcp?mcpName=weather&version=9.9.9', status: 404, code: 50001, field: '9.9.9' },
  { name: 'delete of an unknown server', method: 'DELETE', path: '/v3/admin/ai/mcp?mcpName=ghost', status: 404, code: 50000, field: 'ghost' },
  { name: 'list search neither accurate nor blur', method: 'GET', path: '/v3/admin/ai/mcp/list?search=fuzzy', status: 400, code: 20002, field: 'search' },
  { name: 'list pageNo=0', method: 'GET', path: '/v3/admin/ai/mcp/list?pageNo=0', status: 400, code: 20002, field: 'pageNo' },
  { name: 'body over 1 MiB', method: 'POST', path: '/v3/admin/ai/mcp', form: { serverSpecification: server({ name: 'w2', description: 'x'.repeat(ONE_MIB) }), endpointSpecification: endpoint }, status: 413, code: 20002, field: 'body' },
];

for (const kind of await databaseKinds()) {
  describe(`Nacos APIs refuse bad input on ${kind.kind}`, { skip: kind.unavailable }, () => {
    let db: TestDatabase;
    let reg: TestRegistry;

    /** Everything the registry holds, drafts included. */
    const dump = async () => {
      const s = reg.registry.services;
      const servers = await s.store.listMcpServers(undefined, { pageNo: 1, pageSize: 1000 });
      return {
        revision: await s.store.revision(),
        snapshot: await s.watch.snapshot(),
        instances: await s.store.listInstances({}),
        servers: servers.items,
        versions: await Promise.all(servers.items.map((m) => s.store.listVersions(m.id))),
      };
    };

    before(async () => {
      db = await kind.create();
      reg = await startRegistry({ db: db.url });
      const nacos = `${reg.url}/nacos`;
      assert.equal((await http('POST', `${nacos}/v1/ns/instance?${instance}&ephemeral=false&healthCheckType=none`)).text, 'ok');
      const created = await http('POST', `${nacos}/v3/admin/ai/mcp`, { form: { serverSpecification: server(), toolSpecification: tools(), endpointSpecification: endpoint } });
      assert.equal(created.body.code, 0, created.text);
    });
    after(async () => {
      await reg?.close();
      await db?.drop();
    });

    for (const [family, cases] of [['v1', v1Cases], ['v2', v2Cases], ['v3', mcpCases]] as const) {
      for (const c of cases) {
        it(`${family}: ${c.name} → ${c.status}`, async () => {
          const before = await dump();
          const r = await http(c.method, `${reg.url}/nacos${c.path}`, { ...(c.form ? { form: c.form } : {}), ...(c.body !== undefined ? { body: c.body } : {}) });
          assert.equal(r.status, c.status, r.text.slice(0, 300));
          if (c.code === undefined) {
            assert.match(r.text, /^caused: .*;$/s);
            assert.ok(r.text.includes(c.field), `'${r.text.slice(0, 300)}' names ${c.field}`);
          } else {
            assert.deepEqual(Object.keys(r.body), ['code', 'message', 'data']);
            assert.equal(r.body.code, c.code, r.text.slice(0, 300));
            assert.ok(String(r.body.data).includes(c.field), `'${String(r.body.data).slice(0, 300)}' names ${c.field}`);
          }
          assert.deepEqual(await dump(), before, 'the database is unchanged');
        });
      }
    }
  });
}
