// The native registry API end to end, against a real registry on every real database.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { databaseKinds } from './support/databases.js';
import type { TestDatabase } from './support/databases.js';
import { http } from './support/http.js';
import { startRegistry } from './support/registry.js';
import type { TestRegistry } from './support/registry.js';

/** A server spec in the native (internal) form, with two tools. */
export function weatherSpec(version: string, description = 'Weather by city') {
  return {
    version,
    description: 'Weather REST as MCP',
    tools: [
      {
        name: 'get_weather', description,
        inputSchema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
        template: {
          request: { url: '/v3/weather/weatherInfo', method: 'GET', headers: [], argsToUrlParam: true, argsToJsonBody: false, argsToFormBody: false },
          response: { body: 'weather {{ .weather }}' }, argsPosition: { city: 'query' },
        },
      },
      {
        name: 'list_cities', description: 'Cities we know',
        inputSchema: { type: 'object', properties: {} },
        template: {
          request: { url: '/xxx/list.json', method: 'GET', headers: [], argsToUrlParam: true, argsToJsonBody: false, argsToFormBody: false },
          response: { body: '{{.}}' }, argsPosition: {},
        },
      },
    ],
  };
}

for (const kind of await databaseKinds()) {
  describe(`native API on ${kind.kind}`, { skip: kind.unavailable }, () => {
    let db: TestDatabase;
    let reg: TestRegistry;
    let api: string;

    before(async () => {
      db = await kind.create();
      reg = await startRegistry({ db: db.url });
      api = `${reg.url}/api/v1`;
    });
    after(async () => {
      await reg?.close();
      await db?.drop();
    });

    it('manages namespaces, services and instances', async () => {
      assert.equal((await http('POST', `${api}/namespaces`, { body: { id: 'team-a', name: 'Team A' } })).status, 201);
      const list = await http('GET', `${api}/namespaces`);
      assert.deepEqual(list.body.items.map((n: { id: string }) => n.id).sort(), ['public', 'team-a']);

      const svc = await http('POST', `${api}/namespaces/team-a/services`, { body: { name: 'orders', metadata: { owner: 'x' } } });
      assert.equal(svc.status, 201);
      assert.equal(svc.body.group, 'DEFAULT_GROUP');

      const inst = await http('POST', `${api}/namespaces/team-a/services/DEFAULT_GROUP/orders/instances`, {
        body: { ip: '127.0.0.1', port: 9, ephemeral: false, weight: 2, healthCheck: { type: 'none' } },
      });
      assert.equal(inst.status, 201, inst.text);
      assert.equal(inst.body.healthCheck.type, 'none');
      const patched = await http('PATCH', `${api}/namespaces/team-a/instances/${inst.body.id}`, { body: { weight: 5, enabled: false } });
      assert.equal(patched.body.weight, 5);
      assert.equal(patched.body.enabled, false);

      const services = await http('GET', `${api}/namespaces/team-a/services`);
      assert.equal(services.body.total, 1);
      assert.equal(services.body.items[0].instanceCount, 1);
      assert.equal(services.body.items[0].healthyCount, 0, 'a disabled instance does not count as serving');

      const detail = await http('GET', `${api}/namespaces/team-a/services/DEFAULT_GROUP/orders`);
      assert.equal(detail.body.instances.length, 1);

      const refuse = await http('DELETE', `${api}/namespaces/team-a`);
      assert.equal(refuse.status, 409);
      assert.equal(refuse.body.error.code, 'NAMESPACE_NOT_EMPTY');
      assert.equal((await http('DELETE', `${api}/namespaces/team-a/services/DEFAULT_GROUP/orders`)).body.error.code, 'SERVICE_NOT_EMPTY');
      assert.equal((await http('DELETE', `${api}/namespaces/team-a/instances/${inst.body.id}`)).status, 204);
      assert.equal((await http('DELETE', `${api}/namespaces/team-a/services/DEFAULT_GROUP/orders`)).status, 204);
      assert.equal((await http('DELETE', `${api}/namespaces/team-a`)).status, 204);
      assert.equal((await http('DELETE', `${api}/namespaces/public`)).body.error.code, 'NAMESPACE_PROTECTED');
    });

    it('drafts, publishes, diffs and rolls back MCP server versions', async () => {
      const created = await http('POST', `${api}/namespaces/public/mcp-servers`, {
        body: { name: 'weather', protocol: 'http', endpoint: { type: 'service', namespace: 'public', group: 'DEFAULT_GROUP', service: 'weather-api' }, spec: weatherSpec('1.0.0') },
      });
      assert.equal(created.status, 201, created.text);
      assert.equal(created.body.publishedVersion, '1.0.0');
      assert.equal(created.body.spec.tools.length, 2);

      const draft = await http('PUT', `${api}/namespaces/public/mcp-servers/weather/versions/1.1.0`, { body: { spec: weatherSpec('1.1.0', 'Weather, now with wind') } });
      assert.equal(draft.status, 200, draft.text);
      assert.equal(draft.body.status, 'draft');
      let server = await http('GET', `${api}/namespaces/public/mcp-servers/weather`);
      assert.equal(server.body.publishedVersion, '1.0.0', 'a draft is not served');
      assert.equal(server.body.latestVersion, '1.1.0');
      assert.equal(server.body.spec.tools[0].description, 'Weather by city');

      const diff = await http('GET', `${api}/namespaces/public/mcp-servers/weather/diff?from=1.0.0&to=1.1.0`);
      assert.deepEqual(diff.body.changes.filter((c: { path: string }) => c.path !== 'version'), [
        { path: 'tools[get_weather].description', kind: 'changed', tool: 'get_weather', from: 'Weather by city', to: 'Weather, now with wind' },
      ]);

      const published = await http('POST', `${api}/namespaces/public/mcp-servers/weather/versions/1.1.0/publish`);
      assert.equal(published.body.publishedVersion, '1.1.0');
      assert.equal(published.body.spec.tools[0].description, 'Weather, now with wind');

      const immutable = await http('PUT', `${api}/namespaces/public/mcp-servers/weather/versions/1.1.0`, { body: { spec: weatherSpec('1.1.0', 'sneaky edit') } });
      assert.equal(immutable.status, 409);
      assert.equal(immutable.body.error.code, 'VERSION_EXISTS');

      const rolled = await http('POST', `${api}/namespaces/public/mcp-servers/weather/rollback`, { body: {} });
      assert.equal(rolled.body.publishedVersion, '1.0.0');
      const versions = await http('GET', `${api}/namespaces/public/mcp-servers/weather/versions`);
      assert.deepEqual(versions.body.items.map((v: { version: string; status: string }) => [v.version, v.status]), [['1.0.0', 'published'], ['1.1.0', 'archived']]);

      server = await http('GET', `${api}/namespaces/public/mcp-servers/weather`);
      assert.equal(server.body.spec.tools[0].description, 'Weather by city');
      const disabled = await http('PATCH', `${api}/namespaces/public/mcp-servers/weather`, { body: { enabled: false } });
      assert.equal(disabled.body.enabled, false);
    });

    it('keeps a publish history; rollback goes back through it, never forward, and keeps first publish times', async () => {
      const base = `${api}/namespaces/public/mcp-servers/history-demo`;
      const created = await http('POST', `${api}/namespaces/public/mcp-servers`, { body: { name: 'history-demo', protocol: 'http', spec: weatherSpec('1.0.0') } });
      assert.equal(created.status, 201, created.text);
      assert.equal(created.body.rollbackTarget, null, 'nothing earlier to go back to');
      for (const v of ['1.1.0', '1.2.0']) {
        assert.equal((await http('PUT', `${base}/versions/${v}`, { body: { spec: weatherSpec(v, `Weather ${v}`) } })).status, 200);
        const p = await http('POST', `${base}/versions/${v}/publish`, { body: { note: `ship ${v}` } });
        assert.equal(p.status, 200, p.text);
      }
      const firstPublished = (await http('GET', base)).body.versions.find((v: { version: string }) => v.version === '1.1.0').publishedAt as number;
      let server = await http('GET', base);
      assert.equal(server.body.rollbackTarget, '1.1.0');

      // A rollback to a version never served before the current one would roll forward: refused.
      assert.equal((await http('PUT', `${base}/versions/2.0.0`, { body: { spec: weatherSpec('2.0.0') } })).status, 200);
      const draft = await http('POST', `${base}/rollback`, { body: { version: '2.0.0' } });
      assert.deepEqual([draft.status, draft.body.error.field], [400, 'version']);
      const current = await http('POST', `${base}/rollback`, { body: { version: '1.2.0' } });
      assert.deepEqual([current.status, current.body.error.code], [400, 'VALIDATION_FAILED']);
      const longNote = await http('POST', `${base}/rollback`, { body: { note: 'x'.repeat(1001) } });
      assert.equal(longNote.status, 400);

      const first = await http('POST', `${base}/rollback`, { body: { note: 'wind speeds wrong' } });
      assert.equal(first.body.publishedVersion, '1.1.0');
      assert.equal(first.body.rollbackTarget, '1.0.0');
      const forward = await http('POST', `${base}/rollback`, { body: { version: '1.2.0' } });
      assert.equal(forward.status, 400, 'the version rolled back from is not a rollback target');
      assert.match(forward.body.error.message, /roll forward/);
      const second = await http('POST', `${base}/rollback`, { body: {} });
      assert.equal(second.body.publishedVersion, '1.0.0', 'a second rollback goes further back, not forward to 1.2.0');
      assert.equal(second.body.rollbackTarget, null);
      const none = await http('POST', `${base}/rollback`, { body: {} });
      assert.deepEqual([none.status, none.body.error.code], [404, 'VERSION_NOT_FOUND']);

      server = await http('GET', base);
      assert.equal(server.body.versions.find((v: { version: string }) => v.version === '1.1.0').publishedAt, firstPublished, 'a rollback keeps the first publish time');
      const history = await http('GET', `${base}/history`);
      assert.equal(history.status, 200, history.text);
      assert.deepEqual(history.body.items.map((e: Record<string, unknown>) => [e.seq, e.action, e.version, e.previousVersion, e.actor, e.note]), [
        [5, 'rollback', '1.0.0', '1.1.0', 'anonymous', ''],
        [4, 'rollback', '1.1.0', '1.2.0', 'anonymous', 'wind speeds wrong'],
        [3, 'publish', '1.2.0', '1.1.0', 'anonymous', 'ship 1.2.0'],
        [2, 'publish', '1.1.0', '1.0.0', 'anonymous', 'ship 1.1.0'],
        [1, 'publish', '1.0.0', null, 'anonymous', ''],
      ]);
      assert.ok(history.body.items.every((e: { at: number }) => typeof e.at === 'number'));
      // Publishing again after rollbacks starts a new line.
      await http('POST', `${base}/versions/1.2.0/publish`, { body: {} });
      assert.equal((await http('GET', base)).body.rollbackTarget, '1.0.0');
      assert.equal((await http('GET', `${api}/namespaces/public/mcp-servers/no-such/history`)).status, 404);
      assert.equal((await http('DELETE', base)).status, 204);
    });

    it('lists MCP servers with their pending draft, tool count and backend health, paged and sorted', async () => {
      await http('POST', `${api}/namespaces/public/services`, { body: { name: 'listed-api' } });
      await http('POST', `${api}/namespaces/public/services/DEFAULT_GROUP/listed-api/instances`, { body: { ip: '127.0.0.1', port: 9, ephemeral: false, healthCheck: { type: 'none' } } });
      const endpoint = { type: 'service', namespace: 'public', group: 'DEFAULT_GROUP', service: 'listed-api' };
      await http('POST', `${api}/namespaces/public/mcp-servers`, { body: { name: 'listed-a', protocol: 'http', endpoint, spec: weatherSpec('1.0.0') } });
      await http('POST', `${api}/namespaces/public/mcp-servers`, { body: { name: 'listed-b', protocol: 'https', endpoint: { type: 'url', url: 'https://example.com' }, spec: weatherSpec('1.0.0') } });
      await http('PUT', `${api}/namespaces/public/mcp-servers/listed-a/versions/1.0.1`, { body: { spec: { ...weatherSpec('1.0.1'), tools: [] } } });
      const page = await http('GET', `${api}/namespaces/public/mcp-servers?search=listed-&sort=-name&pageSize=1&pageNo=2`);
      assert.equal(page.status, 200, page.text);
      assert.equal(page.body.total, 2);
      assert.deepEqual(page.body.items.map((m: Record<string, unknown>) => [m.name, m.draftVersion, m.toolCount, m.health]), [['listed-a', '1.0.1', 2, { healthy: 1, total: 1 }]]);
      const other = await http('GET', `${api}/namespaces/public/mcp-servers?search=listed-&sort=-name&pageSize=1&pageNo=1`);
      assert.deepEqual(other.body.items.map((m: Record<string, unknown>) => [m.name, m.draftVersion, m.toolCount, m.health]), [['listed-b', null, 2, null]]);
      assert.equal((await http('GET', `${api}/namespaces/public/mcp-servers?sort=size`)).status, 400);
      const used = await http('GET', `${api}/namespaces/public/services/DEFAULT_GROUP/listed-api`);
      assert.deepEqual(used.body.usedBy, [{ name: 'listed-a', enabled: true, publishedVersion: '1.0.0' }]);
      for (const n of ['listed-a', 'listed-b']) await http('DELETE', `${api}/namespaces/public/mcp-servers/${n}`);
    });

    it('streams changes to watchers, long-poll and SSE, resumable by revision', async () => {
      const snap = await http('GET', `${api}/watch/snapshot`);
      const rev = snap.body.revision as number;
      assert.ok(snap.body.mcpServers.some((m: { server: { name: string } }) => m.server.name === 'weather'));

      const poll = http('GET', `${api}/watch/changes?after=${rev}&timeoutMs=5000`);
      await new Promise((r) => setTimeout(r, 100));
      await http('POST', `${api}/namespaces`, { body: { id: 'watched' } });
      const got = await poll;
      assert.equal(got.status, 200);
      assert.ok(got.body.revision > rev);
      assert.deepEqual(got.body.changes.map((c: { entity: string; entityId: string }) => [c.entity, c.entityId]), [['namespace', 'watched']]);

      const controller = new AbortController();
      const res = await fetch(`${api}/watch/changes?after=${rev}`, { headers: { accept: 'text/event-stream' }, signal: controller.signal });
      assert.equal(res.headers.get('content-type'), 'text/event-stream');
      const reader = res.body!.getReader();
      let text = '';
      const readUntil = async (needle: string) => {
        while (!text.includes(needle)) {
          const { value, done } = await reader.read();
          if (done) break;
          text += new TextDecoder().decode(value);
        }
      };
      await readUntil('"watched"');
      await http('DELETE', `${api}/namespaces/watched`);
      await readUntil('"delete"');
      controller.abort();
      assert.match(text, /event: changes\nid: \d+\ndata: /);
    });
  });
}
