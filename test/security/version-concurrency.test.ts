// Finding 17: no optimistic concurrency on versions. 50 parallel saves of one draft all
// succeeded and the last writer won, silently dropping 49 edits. Versions now carry a strong
// ETag, new on every write, and writes sent with `If-Match` happen only over that ETag
// (compared and set inside the write's transaction): of 50 parallel saves with the same
// If-Match exactly one succeeds and 49 answer 412. Run against every real database.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { databaseKinds } from '../support/databases.js';
import type { TestDatabase } from '../support/databases.js';
import { http } from '../support/http.js';
import { startRegistry } from '../support/registry.js';
import type { TestRegistry } from '../support/registry.js';

const ETAG = /^"[A-Za-z0-9_-]{22}"$/;

function spec(version: string, description: string) {
  return {
    version, description: 'Weather as MCP',
    tools: [{
      name: 'get_weather', description, inputSchema: { type: 'object', properties: { city: { type: 'string' } } },
      template: { request: { url: '/weather', method: 'GET', argsToUrlParam: true }, response: { body: '{{ .temp }}' } },
    }],
  };
}

for (const kind of await databaseKinds()) {
  describe(`versions carry an ETag and honour If-Match on ${kind.kind}`, { skip: kind.unavailable }, () => {
    let db: TestDatabase;
    let reg: TestRegistry;
    let server: string;
    const draftUrl = () => `${server}/versions/1.1.0`;
    const revision = () => reg.registry.services.store.revision();
    const description = async (version = '1.1.0') => (await http('GET', `${server}/versions/${version}`)).body.spec.tools[0].description as string;

    before(async () => {
      db = await kind.create();
      reg = await startRegistry({ db: db.url });
      server = `${reg.url}/api/v1/namespaces/public/mcp-servers/weather`;
      const created = await http('POST', `${reg.url}/api/v1/namespaces/public/mcp-servers`, { body: { name: 'weather', spec: spec('1.0.0', 'published') } });
      assert.equal(created.status, 201, created.text);
      const draft = await http('PUT', draftUrl(), { body: { spec: spec('1.1.0', 'draft 0') } });
      assert.equal(draft.status, 200, draft.text);
    });
    after(async () => {
      await reg?.close();
      await db?.drop();
    });

    it('answers the ETag in the header and the body, and a new one after every save', async () => {
      const a = await http('GET', draftUrl());
      assert.equal(a.status, 200);
      assert.match(a.headers.get('etag') ?? '', ETAG);
      assert.equal(a.body.etag, a.headers.get('etag'));
      const saved = await http('PUT', draftUrl(), { body: { spec: spec('1.1.0', 'draft 0') } });
      assert.equal(saved.status, 200, saved.text);
      assert.notEqual(saved.headers.get('etag'), a.headers.get('etag'), 'the same content saved again is a new ETag');
      assert.equal(saved.body.etag, saved.headers.get('etag'));
      assert.equal((await http('GET', draftUrl())).headers.get('etag'), saved.headers.get('etag'));
      const listed = await http('GET', server);
      assert.equal(listed.body.versions.find((v: { version: string }) => v.version === '1.1.0').etag, saved.headers.get('etag'));
    });

    it('of 50 parallel saves with the same If-Match, exactly one succeeds and 49 answer 412', async () => {
      const etag = (await http('GET', draftUrl())).headers.get('etag')!;
      const before = await revision();
      const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => http('PUT', draftUrl(), {
        body: { spec: spec('1.1.0', `edit ${i}`) }, headers: { 'if-match': etag },
      })));
      const ok = answers.filter((a) => a.status >= 200 && a.status < 300);
      const stale = answers.filter((a) => a.status === 412);
      assert.equal(ok.length, 1, answers.map((a) => a.status).join(' '));
      assert.equal(stale.length, 49, answers.map((a) => a.status).join(' '));
      for (const s of stale) {
        assert.equal(s.body.error.code, 'VERSION_CHANGED');
        assert.equal(s.body.error.field, 'If-Match');
        assert.match(s.body.error.message, /changed by someone else since you read it/);
      }
      const winner = ok[0]!.body.spec.tools[0].description as string;
      assert.equal(await description(), winner, "the stored draft is the one successful save's");
      assert.equal(await revision(), before + 1, 'the refused saves changed nothing');
      assert.notEqual(ok[0]!.headers.get('etag'), etag);
    });

    it('keeps writes without If-Match unconditional (scripts and the Nacos API)', async () => {
      const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => http('PUT', draftUrl(), { body: { spec: spec('1.1.0', `script ${i}`) } })));
      assert.deepEqual([...new Set(answers.map((a) => a.status))], [200]);
      assert.equal(new Set(answers.map((a) => a.headers.get('etag'))).size, 50, 'each save got its own ETag');
      const nacos = await http('PUT', `${reg.url}/nacos/v3/admin/ai/mcp`, {
        form: {
          namespaceId: 'public', latest: 'false',
          serverSpecification: JSON.stringify({ name: 'weather', protocol: 'http', versionDetail: { version: '1.1.0' } }),
          endpointSpecification: JSON.stringify({ type: 'DIRECT', data: { address: '127.0.0.1', port: 9 } }),
          toolSpecification: JSON.stringify({ tools: [{ name: 'get_weather', description: 'from nacos', inputSchema: { type: 'object', properties: {} } }], toolsMeta: { get_weather: { enabled: true } } }),
        },
      });
      assert.equal(nacos.status, 200, nacos.text);
      assert.equal(await description(), 'from nacos');
    });

    it('refuses a stale If-Match on publish and delete with 412, changing nothing, and honours a fresh one', async () => {
      const stale = (await http('GET', draftUrl())).headers.get('etag')!;
      const fresh = (await http('PUT', draftUrl(), { body: { spec: spec('1.1.0', 'reviewed') } })).headers.get('etag')!;
      const before = await revision();
      for (const [method, url] of [['POST', `${draftUrl()}/publish`], ['DELETE', draftUrl()]] as const) {
        const r = await http(method, url, { headers: { 'if-match': stale } });
        assert.equal(r.status, 412, `${method} ${r.text}`);
        assert.equal(r.body.error.code, 'VERSION_CHANGED');
      }
      assert.equal(await revision(), before);
      assert.equal((await http('GET', server)).body.publishedVersion, '1.0.0');
      const published = await http('POST', `${draftUrl()}/publish`, { headers: { 'if-match': `W/"x", ${fresh}` } });
      assert.equal(published.status, 200, published.text);
      assert.equal(published.body.publishedVersion, '1.1.0');
      const after = (await http('GET', draftUrl())).headers.get('etag');
      assert.notEqual(after, fresh, 'publishing is a write of the version: a new ETag');
      assert.equal((await http('GET', `${server}/versions/1.0.0`)).status, 200);
      const archived = (await http('GET', `${server}/versions/1.0.0`)).headers.get('etag')!;
      const deleted = await http('DELETE', `${server}/versions/1.0.0`, { headers: { 'if-match': archived } });
      assert.equal(deleted.status, 204, deleted.text);
    });

    it('answers 412 for a version that does not exist, 400 for a malformed If-Match, and treats weak tags as never matching', async () => {
      const next = `${server}/versions/1.2.0`;
      const etag = (await http('PUT', next, { body: { spec: spec('1.2.0', 'next') } })).headers.get('etag')!;
      const before = await revision();
      const missing = await http('PUT', `${server}/versions/9.9.9`, { body: { spec: spec('9.9.9', 'x') }, headers: { 'if-match': '*' } });
      assert.equal(missing.status, 412, missing.text);
      assert.match(missing.body.error.message, /does not exist/);
      const weak = await http('PUT', next, { body: { spec: spec('1.2.0', 'weak') }, headers: { 'if-match': `W/${etag}` } });
      assert.equal(weak.status, 412, weak.text);
      for (const bad of ['abc', '"unterminated', '"a" "b"']) {
        const r = await http('PUT', next, { body: { spec: spec('1.2.0', 'bad') }, headers: { 'if-match': bad } });
        assert.equal(r.status, 400, `${bad}: ${r.text}`);
        assert.equal(r.body.error.code, 'VALIDATION_FAILED');
        assert.equal(r.body.error.field, 'If-Match');
      }
      assert.equal(await revision(), before, 'nothing changed');
      const star = await http('PUT', next, { body: { spec: spec('1.2.0', 'any') }, headers: { 'if-match': '*' } });
      assert.equal(star.status, 200, star.text);
      assert.equal(await description('1.2.0'), 'any');
    });
  });
}
