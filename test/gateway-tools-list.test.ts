// tools/list of a large server end to end: pages of 500 in name order with an opaque
// nextCursor, walked by the official SDK client and by raw 2026-07-28 requests; a consumer key
// limited to some tools sees only those, paged the same way; a bad cursor is -32602.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Client as SdkClient } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as SdkStreamable } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { http } from './support/http.js';
import { createMcpServer, modernPost, restTool } from './support/gateway.js';
import { startStack } from './support/stack.js';
import type { TestStack } from './support/stack.js';

const COUNT = 1203;
const names = Array.from({ length: COUNT }, (_, i) => `tool_${String(i).padStart(4, '0')}`);

describe('tools/list pagination through a running gateway', () => {
  let stack: TestStack;
  let url: string;
  let limitedKey: string;

  before(async () => {
    stack = await startStack();
    const reg = stack.registryUrl;
    // Created in reverse order, with one disabled tool: the list is in name order, without it.
    const tools = [...names].reverse().map((n) => restTool(n, { description: `Tool ${n}: "quoted", é, \u2028.`, url: `/${n}`, properties: { id: { type: 'integer' } } }));
    tools.push(restTool('zz_disabled', { url: '/x', enabled: false }));
    await createMcpServer(reg, 'public', { name: 'catalog', endpoint: { type: 'direct', address: '127.0.0.1', port: 9 }, spec: { version: '1.0.0', tools } });
    assert.equal((await http('POST', `${reg}/api/v1/namespaces`, { body: { id: 'keyed' } })).status, 201);
    await createMcpServer(reg, 'keyed', { name: 'catalog', endpoint: { type: 'direct', address: '127.0.0.1', port: 9 }, spec: { version: '1.0.0', tools } });
    const allow = [{ server: 'catalog', tools: ['tool_0001', 'tool_0600', 'tool_1202'] }];
    const limited = await http('POST', `${reg}/api/v1/namespaces/keyed/consumers`, { body: { name: 'limited', allow } });
    assert.equal(limited.status, 201, limited.text);
    limitedKey = limited.body.key;
    url = `${stack.gatewayUrl}/mcp/public/catalog`;
    for (let i = 0; ; i++) {
      const r = await modernPost(url, 1, 'tools/list');
      if (r.status === 200 && r.body.result?.tools?.length === 500) break;
      if (i > 100) throw new Error(`catalog not served: ${r.status} ${r.text.slice(0, 200)}`);
      await new Promise((res) => setTimeout(res, 50));
    }
  });

  after(async () => {
    await stack?.close();
  });

  it('the SDK client walks three pages of 500, 500 and 203 tools in name order', async () => {
    const client = new SdkClient({ name: 'pager', version: '1.0.0' });
    await client.connect(new SdkStreamable(new URL(url)));
    try {
      const pages: { name: string; description?: string; inputSchema: unknown }[][] = [];
      let cursor: string | undefined;
      do {
        const page = await client.listTools(cursor === undefined ? {} : { cursor });
        pages.push(page.tools);
        cursor = page.nextCursor;
      } while (cursor !== undefined && pages.length < 10);
      assert.deepEqual(pages.map((p) => p.length), [500, 500, 203]);
      const all = pages.flat();
      assert.deepEqual(all.map((t) => t.name), names);
      assert.equal(all[7]?.description, 'Tool tool_0007: "quoted", é, \u2028.');
      assert.deepEqual(all[7]?.inputSchema, { type: 'object', properties: { id: { type: 'integer' } } });
    } finally {
      await client.close();
    }
  });

  it('2026-07-28: the same pages, the result members beside the tools; a cursor past the end or malformed is -32602', async () => {
    const first = await modernPost(url, 'a', 'tools/list');
    assert.equal(first.status, 200);
    const { result } = first.body;
    assert.equal(result.resultType, 'complete');
    assert.equal(result.cacheScope, 'public');
    assert.equal(result._meta['io.modelcontextprotocol/serverInfo'].name, 'mcpgate:public/catalog');
    assert.equal(result.tools[0].name, 'tool_0000');
    const second = await modernPost(url, 'b', 'tools/list', { cursor: result.nextCursor });
    assert.equal(second.body.result.tools[0].name, 'tool_0500');
    const third = await modernPost(url, 'c', 'tools/list', { cursor: second.body.result.nextCursor });
    assert.deepEqual([third.body.result.tools.length, third.body.result.nextCursor], [203, undefined]);
    for (const cursor of [Buffer.from('o:5000').toString('base64url'), '!!', 42]) {
      const bad = await modernPost(url, 'd', 'tools/list', { cursor });
      assert.equal(bad.body.error?.code, -32602, JSON.stringify(cursor));
      assert.match(bad.body.error.message, /cursor/);
    }
  });

  it('a key limited to some tools lists only those', async () => {
    const r = await modernPost(`${stack.gatewayUrl}/mcp/keyed/catalog`, 1, 'tools/list', {}, { authorization: `Bearer ${limitedKey}` });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body.result.tools.map((t: { name: string }) => t.name), ['tool_0001', 'tool_0600', 'tool_1202']);
    assert.equal(r.body.result.nextCursor, undefined);
    assert.equal(r.body.result.cacheScope, 'private');
  });
});
