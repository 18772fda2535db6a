/**
 * Finding 12 (nesting): a 4 MB `[[[…]]]` body held the registry's event loop for seconds
 * (/healthz waited 4 s). Bodies, JSON-valued Nacos parameters (form fields, query) and imported
 * definitions are now refused beyond 64 levels with 400 JSON_TOO_DEEP, before they are parsed,
 * while /healthz keeps answering; brackets inside strings are not nesting.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { http } from '../support/http.js';
import { startRegistry } from '../support/registry.js';
import type { TestRegistry } from '../support/registry.js';

const deep = (levels: number) => `${'['.repeat(levels)}${']'.repeat(levels)}`;

describe('deeply nested JSON sent to the registry (finding 12)', () => {
  let reg: TestRegistry;
  let api: string;

  before(async () => {
    // Bodies up to 8 MiB, so that the 4 MB body of the report reaches the parser.
    reg = await startRegistry({ env: { MCPGATE_BODY_LIMIT_BYTES: String(8 * 1024 * 1024) } });
    api = `${reg.url}/api/v1`;
  });
  after(() => reg?.close());

  it('refuses a 4 MB [[[…]]] body with 400 naming the limit, and /healthz answers meanwhile', async () => {
    const body = `{"id":"deep","name":${deep(2_000_000)}}`;
    const refused = http('POST', `${api}/namespaces`, { body });
    const health = await http('GET', `${reg.url}/healthz`);
    const res = await refused;
    assert.equal(health.status, 200);
    assert.equal(res.status, 400);
    assert.equal(res.body.error.code, 'JSON_TOO_DEEP');
    assert.equal(res.body.error.field, 'body');
    assert.match(res.body.error.message, /deeper than 64 levels/);
    // Many at once: each refused, and the registry still answers its probe.
    const many = await Promise.all([...Array.from({ length: 8 }, () => http('POST', `${api}/namespaces`, { body })), http('GET', `${reg.url}/healthz`)]);
    assert.deepEqual(many.map((r) => r.status), [400, 400, 400, 400, 400, 400, 400, 400, 200]);
    assert.equal((await http('GET', `${api}/namespaces/deep`)).status, 404, 'nothing was created');
  });

  it('does not count brackets inside strings, and parses 64 levels', async () => {
    const text = { id: 'brackets', description: `${'['.repeat(4000)}{{{"\\${']'.repeat(10)}` };
    assert.equal((await http('POST', `${api}/namespaces`, { body: text })).status, 201);
    assert.equal((await http('GET', `${api}/namespaces/brackets`)).body.description, text.description);
    const sixtyFour = await http('POST', `${api}/namespaces`, { body: `{"id":"x","name":"x","description":${deep(63)}}` });
    assert.equal(sixtyFour.body.error.code, 'VALIDATION_FAILED', '64 levels are parsed, then judged by the schema');
  });

  it('refuses JSON-valued Nacos parameters nested too deep: form fields and the query string', async () => {
    const toolSpecification = `{"tools":${deep(100)}}`;
    const form = await http('POST', `${reg.url}/nacos/v3/admin/ai/mcp`, {
      form: { serverSpecification: JSON.stringify({ name: 'w', protocol: 'http', versionDetail: { version: '1.0.0' } }), toolSpecification },
    });
    assert.equal(form.status, 400);
    assert.equal(form.body.code, 20002);
    assert.match(form.body.data, /^toolSpecification: JSON nested deeper than 64 levels/);
    const query = new URLSearchParams({ serviceName: 's', ip: '10.0.0.1', port: '80', metadata: `{"a":${deep(65)}}` });
    const v1 = await http('POST', `${reg.url}/nacos/v1/ns/instance?${query}`);
    assert.equal(v1.status, 400);
    assert.match(v1.text, /^caused: metadata: JSON nested deeper than 64 levels/);
  });

  it('refuses imported definitions nested too deep: Nacos JSON and Higress YAML flow collections', async () => {
    const nacos = await http('POST', `${api}/namespaces/public/mcp-servers/import`, { body: { format: 'nacos', content: `{"serverSpecification":${deep(200_000)}}` } });
    assert.equal(nacos.body.error.code, 'JSON_TOO_DEEP');
    assert.equal(nacos.body.error.field, 'content');
    const yaml = await http('POST', `${api}/namespaces/public/mcp-servers/import`, { body: { format: 'higress', content: `server:\n  name: x\ntools: ${deep(200_000)}\n` } });
    assert.equal(yaml.body.error.code, 'JSON_TOO_DEEP');
    const preview = await http('POST', `${api}/namespaces/public/mcp-servers/import/preview`, { body: { format: 'higress', content: `server: {name: ${'{a: '.repeat(100)}1${'}'.repeat(100)}}` } });
    assert.equal(preview.body.error.code, 'JSON_TOO_DEEP');
    assert.equal((await http('GET', `${reg.url}/healthz`)).status, 200);
  });
});
