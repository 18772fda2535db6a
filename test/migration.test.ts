// docs/migration.md, step 0, as written: MCP servers listed and read through the Nacos v3 admin
// API of a running registry (standing in for Nacos, which answers those calls the same way),
// imported into a second registry with `format: nacos`, then served there: the same tools,
// endpoint and version, visible through the second registry's own Nacos API. Then the persistent
// instance registration and the login the guide uses.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { http } from './support/http.js';
import { startStack } from './support/stack.js';
import type { TestStack } from './support/stack.js';

describe('docs/migration.md: copying MCP servers out of Nacos', () => {
  let nacos: TestStack;
  let mcpgate: TestStack;
  let nacosToken: string;
  let token: string;

  before(async () => {
    [nacos, mcpgate] = await Promise.all([startStack({ auth: true }), startStack({ auth: true })]);
    // The guide's logins: Nacos' v1 login (form), mcpgate's native one (JSON).
    const n = await http('POST', `${nacos.registryUrl}/nacos/v1/auth/login`, { form: { username: 'admin', password: 'admin-password-1' } });
    nacosToken = n.body.accessToken as string;
    const m = await http('POST', `${mcpgate.registryUrl}/api/v1/auth/login`, { body: { username: 'admin', password: 'admin-password-1' } });
    token = m.body.accessToken as string;
    assert.ok(nacosToken && token);
    // Two servers in "Nacos", created the Nacos way (v3 admin API, form fields).
    const weather = {
      serverSpecification: JSON.stringify({ name: 'weather', protocol: 'http', frontProtocol: 'mcp-streamable', description: 'Weather REST as MCP', versionDetail: { version: '1.0.0' }, enabled: true }),
      toolSpecification: JSON.stringify({
        tools: [{ name: 'get_weather', description: 'Weather by city', inputSchema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } }],
        toolsMeta: { get_weather: { enabled: true, templates: { 'json-go-template': {
          requestTemplate: { url: '/v3/weather/weatherInfo', method: 'GET', argsToUrlParam: true }, responseTemplate: { body: 'weather {{ .weather }}' }, argsPosition: { city: 'query' },
        } } } },
      }),
      endpointSpecification: JSON.stringify({ type: 'REF', data: { namespaceId: 'public', groupName: 'DEFAULT_GROUP', serviceName: 'weather-api' } }),
    };
    const seedTool = {
      serverSpecification: JSON.stringify({ name: 'books', protocol: 'http', description: 'The seed guide tool', versionDetail: { version: '2.3.0' }, enabled: true }),
      toolSpecification: JSON.stringify({
        tools: [{ name: 'list', description: 'List', inputSchema: { type: 'object', properties: {} } }],
        toolsMeta: { list: { enabled: true, templates: { 'json-go-template': { requestTemplate: { url: '/xxx/list.json', method: 'GET', headers: [], argsToUrlParam: true }, responseTemplate: { body: '{{.}}' } } } } },
      }),
      endpointSpecification: JSON.stringify({ type: 'DIRECT', data: { address: '10.0.0.12', port: 8080 } }),
    };
    for (const form of [weather, seedTool]) {
      const r = await http('POST', `${nacos.registryUrl}/nacos/v3/admin/ai/mcp`, { form, headers: { accessToken: nacosToken } });
      assert.equal(r.status, 200, r.text);
    }
  });
  after(async () => {
    await Promise.all([nacos?.close(), mcpgate?.close()]);
  });

  it('lists, reads and imports every server as the guide loop does; the copies serve the same tools', async () => {
    const NS = 'public';
    const list = await http('GET', `${nacos.registryUrl}/nacos/v3/admin/ai/mcp/list?namespaceId=${NS}&pageNo=1&pageSize=1000`, { headers: { accessToken: nacosToken } });
    const names = (list.body.data.pageItems as { name: string }[]).map((i) => i.name).sort();
    assert.deepEqual(names, ['books', 'weather']);
    for (const name of names) {
      const detail = await http('GET', `${nacos.registryUrl}/nacos/v3/admin/ai/mcp?namespaceId=${NS}&mcpName=${name}`, { headers: { accessToken: nacosToken } });
      const content = JSON.stringify(detail.body.data, null, 2); // what `jq .data > file` writes
      const r = await http('POST', `${mcpgate.registryUrl}/api/v1/namespaces/${NS}/mcp-servers/import`, { token, body: { format: 'nacos', content, publish: true } });
      assert.equal(r.status, 201, `${name}: ${r.text}`);
      assert.equal(r.body.versions.length, 1);
    }
    const weather = await http('GET', `${mcpgate.registryUrl}/api/v1/namespaces/public/mcp-servers/weather`, { token });
    assert.equal(weather.body.publishedVersion, '1.0.0');
    assert.deepEqual(weather.body.endpoint, { type: 'service', namespace: 'public', group: 'DEFAULT_GROUP', service: 'weather-api' });
    const tool = weather.body.spec.tools[0];
    assert.equal(tool.name, 'get_weather');
    assert.deepEqual(tool.template.request, { url: '/v3/weather/weatherInfo', method: 'GET', headers: [], argsToUrlParam: true, argsToJsonBody: false, argsToFormBody: false });
    assert.deepEqual(tool.template.argsPosition, { city: 'query' });
    const books = await http('GET', `${mcpgate.registryUrl}/api/v1/namespaces/public/mcp-servers/books`, { token });
    assert.equal(books.body.publishedVersion, '2.3.0');
    assert.deepEqual(books.body.endpoint, { type: 'direct', address: '10.0.0.12', port: 8080 });
    // Scripts that read Nacos read mcpgate the same way.
    const again = await http('GET', `${mcpgate.registryUrl}/nacos/v3/admin/ai/mcp/list?namespaceId=public`, { headers: { accessToken: token } });
    assert.deepEqual((again.body.data.pageItems as { name: string }[]).map((i) => i.name).sort(), ['books', 'weather']);

    // Re-running the loop is harmless: the same version again is refused, nothing changes.
    const detail = await http('GET', `${nacos.registryUrl}/nacos/v3/admin/ai/mcp?namespaceId=public&mcpName=weather`, { headers: { accessToken: nacosToken } });
    const rerun = await http('POST', `${mcpgate.registryUrl}/api/v1/namespaces/public/mcp-servers/import`, { token, body: { format: 'nacos', content: JSON.stringify(detail.body.data), publish: true } });
    assert.ok(rerun.status === 200 || rerun.status === 409, rerun.text);
    assert.equal((await http('GET', `${mcpgate.registryUrl}/api/v1/namespaces/public/mcp-servers/weather`, { token })).body.publishedVersion, '1.0.0');
  });

  it('registers a persistent instance with the guide command', async () => {
    const r = await http('POST', `${mcpgate.registryUrl}/nacos/v1/ns/instance?namespaceId=public&serviceName=weather-api&groupName=DEFAULT_GROUP&ip=10.0.0.12&port=8080&ephemeral=false&accessToken=${token}`);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.text, 'ok');
    const list = await http('GET', `${mcpgate.registryUrl}/api/v1/namespaces/public/services/DEFAULT_GROUP/weather-api/instances`, { token });
    assert.deepEqual(list.body.items.map((i: { ip: string; port: number; ephemeral: boolean }) => [i.ip, i.port, i.ephemeral]), [['10.0.0.12', 8080, false]]);
  });
});
