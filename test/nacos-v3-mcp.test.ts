// The Nacos 3 MCP admin API end to end: an MCP server with two tools created, drafted,
// published and rolled back, every step read back through both the v3 and the native API; a
// virtual server shown with the tools agents see, and refused when created or changed through it.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { databaseKinds } from './support/databases.js';
import type { TestDatabase } from './support/databases.js';
import { http } from './support/http.js';
import { restTool } from './support/gateway.js';
import { startRegistry } from './support/registry.js';
import type { TestRegistry } from './support/registry.js';

const serverSpecification = (version: string) => JSON.stringify({
  name: 'weather', protocol: 'http', frontProtocol: 'mcp-streamable', description: 'Weather REST as MCP',
  versionDetail: { version }, enabled: true,
});

const toolSpecification = (weatherDescription: string) => JSON.stringify({
  tools: [
    {
      name: 'get_weather', description: weatherDescription,
      inputSchema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
    },
    { name: 'list_cities', description: 'Cities we know', inputSchema: { type: 'object', properties: {} } },
  ],
  toolsMeta: {
    get_weather: {
      enabled: true,
      templates: {
        'json-go-template': {
          requestTemplate: { url: '/v3/weather/weatherInfo', method: 'GET', argsToUrlParam: true },
          responseTemplate: { body: 'weather {{ .weather }}' }, argsPosition: { city: 'query' },
        },
      },
    },
    list_cities: {
      enabled: true,
      templates: {
        'json-go-template': { requestTemplate: { url: '/xxx/list.json', method: 'GET', headers: [], argsToUrlParam: true }, responseTemplate: { body: '{{.}}' } },
      },
    },
  },
});

const endpointSpecification = JSON.stringify({ type: 'REF', data: { namespaceId: 'public', groupName: 'DEFAULT_GROUP', serviceName: 'weather-api' } });

type Detail = {
  id: string; name: string; version: string; description: string; protocol: string; frontProtocol: string;
  versionDetail: { version: string; is_latest: boolean; release_date?: string };
  allVersions: { version: string; is_latest: boolean }[];
  toolSpec: { tools: { name: string; description: string }[]; toolsMeta: Record<string, { enabled: boolean; templates: Record<string, unknown> }> };
  remoteServerConfig: { serviceRef: Record<string, string> };
  backendEndpoints: { address: string; port: number }[];
};

for (const kind of await databaseKinds()) {
  describe(`Nacos v3 MCP admin API on ${kind.kind}`, { skip: kind.unavailable }, () => {
    let db: TestDatabase;
    let reg: TestRegistry;
    let mcp: string;
    let native: string;

    before(async () => {
      db = await kind.create();
      reg = await startRegistry({ db: db.url });
      mcp = `${reg.url}/nacos/v3/admin/ai/mcp`;
      native = `${reg.url}/api/v1/namespaces/public/mcp-servers/weather`;
    });
    after(async () => {
      await reg?.close();
      await db?.drop();
    });

    const v3 = async (query: string): Promise<Detail> => {
      const r = await http('GET', `${mcp}?${query}`);
      assert.equal(r.status, 200, r.text);
      assert.equal(r.body.code, 0);
      assert.equal(r.body.message, 'success');
      return r.body.data as Detail;
    };
    const versions = async () => {
      const r = await http('GET', `${native}/versions`);
      assert.equal(r.status, 200, r.text);
      return {
        published: r.body.publishedVersion as string | null, latest: r.body.latestVersion as string | null,
        statuses: Object.fromEntries((r.body.items as { version: string; status: string }[]).map((v) => [v.version, v.status])),
      };
    };
    const servedDescription = async () => {
      const snap = await reg.registry.services.watch.snapshot();
      const served = snap.mcpServers.find((m) => m.server.name === 'weather');
      return { version: served?.spec.version, description: served?.spec.tools.find((t) => t.name === 'get_weather')?.description };
    };

    it('creates a server with two tools from the Nacos form fields', async () => {
      await reg.registry.services.naming.registerInstance({
        namespace: 'public', group: 'DEFAULT_GROUP', service: 'weather-api', ip: '10.7.0.1', port: 8080, cluster: 'DEFAULT', ephemeral: false, healthCheck: { type: 'none' },
      });
      const r = await http('POST', mcp, {
        form: { namespaceId: 'public', serverSpecification: serverSpecification('1.0.0'), toolSpecification: toolSpecification('Weather by city'), endpointSpecification },
      });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.body.code, 0);
      assert.match(r.body.data, /^[0-9a-f-]{36}$/);
      const id = r.body.data as string;

      const d = await v3('mcpName=weather');
      assert.equal(d.id, id);
      assert.equal(d.name, 'weather');
      assert.equal(d.version, '1.0.0');
      assert.equal(d.protocol, 'http');
      assert.equal(d.frontProtocol, 'mcp-streamable');
      assert.equal(d.description, 'Weather REST as MCP');
      assert.equal(d.versionDetail.is_latest, true);
      assert.match(d.versionDetail.release_date ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      assert.deepEqual(d.allVersions.map((v) => [v.version, v.is_latest]), [['1.0.0', true]]);
      assert.deepEqual(d.toolSpec.tools.map((t) => t.name), ['get_weather', 'list_cities']);
      assert.deepEqual(Object.keys(d.toolSpec.toolsMeta), ['get_weather', 'list_cities']);
      assert.ok(d.toolSpec.toolsMeta.get_weather?.templates['json-go-template']);
      assert.deepEqual(d.remoteServerConfig.serviceRef, { namespaceId: 'public', groupName: 'DEFAULT_GROUP', serviceName: 'weather-api', transportProtocol: 'http' });
      assert.deepEqual(d.backendEndpoints.map((e) => [e.address, e.port]), [['10.7.0.1', 8080]]);
      assert.equal((await v3(`mcpId=${id}`)).name, 'weather');

      const n = await http('GET', native);
      assert.equal(n.status, 200, n.text);
      assert.equal(n.body.id, id);
      assert.equal(n.body.publishedVersion, '1.0.0');
      assert.equal(n.body.spec.tools.length, 2);
      assert.deepEqual(n.body.endpoint, { type: 'service', namespace: 'public', group: 'DEFAULT_GROUP', service: 'weather-api' });
      assert.deepEqual(await versions(), { published: '1.0.0', latest: '1.0.0', statuses: { '1.0.0': 'published' } });

      const list = await http('GET', `${mcp}/list?search=blur&mcpName=wea`);
      assert.equal(list.body.data.totalCount, 1);
      assert.equal(list.body.data.pageNumber, 1);
      assert.equal(list.body.data.pagesAvailable, 1);
      assert.equal(list.body.data.pageItems[0].name, 'weather');
      assert.equal((await http('GET', `${mcp}/list?mcpName=wea`)).body.data.totalCount, 0, 'accurate search is the default');
      assert.equal((await http('GET', `${mcp}/list?search=accurate&mcpName=weather`)).body.data.totalCount, 1);
    });

    it('keeps an update with latest=false a draft', async () => {
      const r = await http('PUT', mcp, {
        form: { serverSpecification: serverSpecification('1.1.0'), toolSpecification: toolSpecification('Weather by city, v1.1'), endpointSpecification, latest: 'false' },
      });
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(r.body, { code: 0, message: 'success', data: 'ok' });

      const newest = await v3('mcpName=weather');
      assert.equal(newest.version, '1.1.0');
      assert.equal(newest.versionDetail.is_latest, false, 'the draft is not the published version');
      assert.equal(newest.toolSpec.tools[0]?.description, 'Weather by city, v1.1');
      assert.deepEqual(newest.allVersions.map((v) => [v.version, v.is_latest]), [['1.0.0', true], ['1.1.0', false]]);
      const published = await v3('mcpName=weather&version=1.0.0');
      assert.equal(published.versionDetail.is_latest, true);
      assert.equal(published.toolSpec.tools[0]?.description, 'Weather by city');

      assert.deepEqual(await versions(), { published: '1.0.0', latest: '1.1.0', statuses: { '1.0.0': 'published', '1.1.0': 'draft' } });
      const n = await http('GET', native);
      assert.equal(n.body.spec.version, '1.0.0');
      assert.equal(n.body.spec.tools[0].description, 'Weather by city');
      assert.deepEqual(await servedDescription(), { version: '1.0.0', description: 'Weather by city' });
      const item = (await http('GET', `${mcp}/list`)).body.data.pageItems[0];
      assert.equal(item.version, '1.0.0');
      assert.equal(item.latestPublishedVersion, '1.0.0');
    });

    it('publishes with latest=true', async () => {
      const r = await http('PUT', mcp, {
        form: { serverSpecification: serverSpecification('1.1.0'), toolSpecification: toolSpecification('Weather by city, v1.1'), endpointSpecification, latest: 'true' },
      });
      assert.equal(r.status, 200, r.text);

      const d = await v3('mcpName=weather');
      assert.equal(d.version, '1.1.0');
      assert.equal(d.versionDetail.is_latest, true);
      assert.deepEqual(d.allVersions.map((v) => [v.version, v.is_latest]), [['1.0.0', false], ['1.1.0', true]]);
      assert.deepEqual(await versions(), { published: '1.1.0', latest: '1.1.0', statuses: { '1.0.0': 'archived', '1.1.0': 'published' } });
      assert.equal((await http('GET', native)).body.spec.tools[0].description, 'Weather by city, v1.1');
      assert.deepEqual(await servedDescription(), { version: '1.1.0', description: 'Weather by city, v1.1' });

      // As Nacos: the same version PUT again is overwritten in place (a new revision of it here).
      const changed = await http('PUT', mcp, {
        form: { serverSpecification: serverSpecification('1.1.0'), toolSpecification: toolSpecification('changed after publishing'), endpointSpecification },
      });
      assert.equal(changed.status, 200, changed.text);
      assert.deepEqual(await servedDescription(), { version: '1.1.0', description: 'changed after publishing' });
      assert.equal((await http('GET', `${native}/history`)).body.rollbackTarget, '1.1.0@1');
    });

    it('rolls back through the native API', async () => {
      const first = await http('POST', `${native}/rollback`, { body: {} });
      assert.equal(first.status, 200, first.text);
      assert.equal(first.body.publishedVersion, '1.1.0', 'first to the content 1.1.0 had before the overwrite');
      assert.deepEqual(await servedDescription(), { version: '1.1.0', description: 'Weather by city, v1.1' });
      const r = await http('POST', `${native}/rollback`, { body: {} });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.body.publishedVersion, '1.0.0');

      const d = await v3('mcpName=weather&version=1.0.0');
      assert.equal(d.versionDetail.is_latest, true);
      assert.equal(d.toolSpec.tools[0]?.description, 'Weather by city');
      assert.deepEqual((await v3('mcpName=weather')).allVersions.map((v) => [v.version, v.is_latest]), [['1.0.0', true], ['1.1.0', false]]);
      assert.deepEqual(await versions(), { published: '1.0.0', latest: '1.1.0', statuses: { '1.0.0': 'published', '1.1.0': 'archived' } });
      assert.deepEqual(await servedDescription(), { version: '1.0.0', description: 'Weather by city' });
      assert.equal((await http('GET', `${mcp}/list`)).body.data.pageItems[0].latestPublishedVersion, '1.0.0');
    });

    it('deletes a version, then the server', async () => {
      const published = await http('DELETE', `${mcp}?mcpName=weather&version=1.0.0`);
      assert.equal(published.status, 409, 'the published version cannot be deleted');
      const del = await http('DELETE', `${mcp}?mcpName=weather&version=1.1.0`);
      assert.deepEqual(del.body, { code: 0, message: 'success', data: 'ok' });
      assert.deepEqual((await versions()).statuses, { '1.0.0': 'published' });
      const noVersion = await http('GET', `${mcp}?mcpName=weather&version=1.1.0`);
      assert.deepEqual({ status: noVersion.status, code: noVersion.body.code }, { status: 404, code: 50001 });

      assert.deepEqual((await http('DELETE', `${mcp}?mcpName=weather`)).body.data, 'ok');
      const gone = await http('GET', `${mcp}?mcpName=weather`);
      assert.deepEqual({ status: gone.status, code: gone.body.code }, { status: 404, code: 50000 });
      assert.match(gone.body.data, /weather/);
      assert.equal((await http('GET', native)).status, 404);
      assert.equal((await http('GET', `${mcp}/list`)).body.data.totalCount, 0);
    });

    it('shows a virtual server as far as it can: listed, its tools the ones agents see; never created or changed through it', async () => {
      const api = `${reg.url}/api/v1/namespaces/public/mcp-servers`;
      const endpoint = { type: 'direct', address: '127.0.0.1', port: 9 };
      const rest = (name: string, tools: string[]) => http('POST', api, {
        body: { name, endpoint, publish: true, spec: { version: '1.0.0', tools: tools.map((t) => restTool(t, { url: `/${t}`, description: `${t} of ${name}`, properties: { city: { type: 'string' } } })) } },
      });
      assert.equal((await rest('forecast', ['now', 'week'])).status, 201);
      assert.equal((await rest('shop', ['buy'])).status, 201);
      const desk = await http('POST', api, {
        body: {
          name: 'desk', protocol: 'virtual', publish: true,
          spec: { version: '1.0.0', tools: [], virtual: { members: [{ server: 'forecast', tools: ['now'] }, { server: 'shop', rename: { buy: 'purchase' }, descriptions: { buy: 'Buy it' } }] } },
        },
      });
      assert.equal(desk.status, 201, desk.text);
      const d = await v3('mcpName=desk');
      assert.equal(d.protocol, 'virtual');
      const tools = d.toolSpec.tools as { name: string; description: string; inputSchema: { properties?: Record<string, unknown> } }[];
      assert.deepEqual(tools.map((t) => [t.name, t.description]), [['forecast__now', 'now of forecast'], ['purchase', 'Buy it']]);
      assert.deepEqual(Object.keys(tools[0]?.inputSchema.properties ?? {}), ['city']);
      assert.deepEqual(Object.keys(d.toolSpec.toolsMeta), ['forecast__now', 'purchase']);
      const listed = await http('GET', `${mcp}/list?mcpName=desk`);
      assert.equal(listed.body.data.pageItems[0]?.protocol, 'virtual');

      // Created or changed through the Nacos API a virtual server would lose its members: refused.
      const created = await http('POST', mcp, { form: { namespaceId: 'public', serverSpecification: JSON.stringify({ name: 'desk2', protocol: 'virtual', versionDetail: { version: '1.0.0' } }) } });
      assert.equal(created.status, 400, created.text);
      assert.match(created.text, /native API/);
      const changed = await http('PUT', mcp, {
        form: { namespaceId: 'public', serverSpecification: JSON.stringify({ name: 'desk', protocol: 'http', versionDetail: { version: '1.0.0' } }), toolSpecification: toolSpecification('x'), endpointSpecification },
      });
      assert.equal(changed.status, 400, changed.text);
      assert.match(changed.text, /'desk' is a virtual server.*native API/);
      const after = await http('GET', `${api}/desk`);
      assert.equal(after.body.protocol, 'virtual');
      assert.equal(after.body.spec.virtual.members.length, 2);
    });
  });
}
