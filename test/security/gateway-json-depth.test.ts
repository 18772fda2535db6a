// Issue 10, finding 12 (gateway part): a 4 MB `[[[…]]]` body blocked the gateway's event loop
// in JSON.parse (/healthz answered after 4 s). Bodies are now scanned for their nesting depth
// before they are parsed: too deep is 400 / -32700 naming maxJsonDepth, on every endpoint. That
// the scan runs first shows in the answer to a deep body that is also malformed: it is refused
// for its depth, which JSON.parse would never have reported.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ENVELOPE, errorData, firstText, legacySession, mcpPost, modernPost, openSse } from '../support/gateway.js';
import { startBackend } from '../support/stack.js';
import type { TestStack } from '../support/stack.js';
import { stackWithEcho } from './gateway-support.js';

const FOUR_MB = 4 * 1024 * 1024 - 64;

describe('deeply nested JSON bodies (finding 12)', () => {
  let backend: Awaited<ReturnType<typeof startBackend>>;
  let stack: TestStack;
  let url: string;

  before(async () => {
    backend = await startBackend((r, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ query: r.query }));
    });
    ({ stack, url } = await stackWithEcho(backend.url));
  });
  after(async () => {
    await stack?.close();
    await backend?.close();
  });

  const modernHeaders = { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': 'echo' };

  it('refuses the 4 MB [[[…]]] body of the report with 400 / -32700 naming maxJsonDepth, on every endpoint', async () => {
    const half = FOUR_MB / 2;
    const body = `${'['.repeat(half)}${']'.repeat(half)}`;
    const session = await legacySession(url);
    const sse = await openSse(`${url}/sse`);
    try {
      const endpoint = new URL((await sse.next((e) => e.event === 'endpoint')).data, url).toString();
      const answers = await Promise.all([
        mcpPost(url, body),
        mcpPost(url, body, modernHeaders),
        mcpPost(url, body, { 'mcp-session-id': session, 'mcp-protocol-version': '2025-06-18' }),
        mcpPost(endpoint, body),
      ]);
      for (const a of answers) {
        assert.equal(a.status, 400, a.text.slice(0, 200));
        assert.equal(a.body.error.code, -32700);
        assert.match(a.body.error.message, /nests arrays and objects deeper than 64 levels \(maxJsonDepth\)/);
        assert.deepEqual(errorData(a.body.error), { maxJsonDepth: 64 });
      }
    } finally {
      sse.close();
    }
    assert.equal(backend.requests.length, 0);
  });

  it('refuses deep nesting inside a tool call\'s arguments, and before parsing: a deep malformed body is refused for its depth', async () => {
    const args = JSON.parse(`{"text":"x","nested":${'['.repeat(70)}${']'.repeat(70)}}`) as Record<string, unknown>;
    const deep = await modernPost(url, 1, 'tools/call', { name: 'echo', arguments: args });
    assert.equal(deep.status, 400);
    assert.equal(deep.body.error.code, -32700);
    assert.match(deep.body.error.message, /maxJsonDepth/);
    // Never closed: JSON.parse would say "Unexpected end of JSON input".
    const malformed = await mcpPost(url, `{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"a":${'['.repeat(FOUR_MB - 100)}`);
    assert.equal(malformed.status, 400);
    assert.match(malformed.body.error.message, /deeper than 64 levels/);
    assert.equal(backend.requests.length, 0);
  });

  it('takes bodies within the depth, and brackets inside strings however many', async () => {
    // The envelope is 3 levels deep (message, params, arguments): 61 more fit.
    const inner = JSON.parse(`${'['.repeat(60)}"deep"${']'.repeat(60)}`) as unknown;
    const within = await modernPost(url, 2, 'tools/call', { name: 'echo', arguments: { text: 'ok', list: inner } });
    assert.equal(within.status, 200, within.text.slice(0, 300));
    assert.equal(within.body.result.isError, undefined);
    const brackets = '[{'.repeat(2000);
    const inString = await mcpPost(url, { jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'echo', arguments: { text: brackets }, _meta: ENVELOPE } }, modernHeaders);
    assert.equal(inString.status, 200);
    assert.match(firstText(inString.body.result), /%5B%7B%5B%7B/);
  });

  it('keeps answering /healthz and normal calls after all of that', async () => {
    const health = await fetch(`${stack.gatewayUrl}/healthz`);
    assert.equal(health.status, 200);
    await health.body?.cancel();
    const ok = await modernPost(url, 4, 'tools/call', { name: 'echo', arguments: { text: 'alive' } });
    assert.match(firstText(ok.body.result), /alive/);
  });
});
