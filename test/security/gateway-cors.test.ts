// CORS for browser-based MCP clients: a page of an origin in allowedOrigins may call the gateway
// (preflight answered, Mcp-Session-Id readable), a page of any other origin may not (its
// preflight is refused with 403 and no Access-Control-* header). Driven by a real Chromium
// (playwright-core), the pages' names mapped to 127.0.0.1 by the browser's resolver so that
// their origins are not loopback ones.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { Page } from 'playwright-core';
import { browserSkipReason, openBrowser } from '../support/browser.js';
import type { TestBrowser } from '../support/browser.js';
import { startBackend } from '../support/stack.js';
import type { TestStack } from '../support/stack.js';
import { limitHits, raw, stackWithEcho } from './gateway-support.js';

/** What a page's fetch calls got: the JSON-RPC answers and the session id, or the error. */
interface PageOutcome {
  ok: boolean;
  error?: string;
  status?: number;
  session?: string | null;
  initialized?: { result?: { serverInfo?: { name: string } } };
  called?: { result?: { content: { text: string }[] } };
}

describe('CORS for browser-based MCP clients', { skip: browserSkipReason() }, () => {
  let backend: Awaited<ReturnType<typeof startBackend>>;
  let stack: TestStack;
  let url: string;
  let pages: Server;
  let pagePort: number;
  let browser: TestBrowser;

  before(async () => {
    pages = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<!doctype html><title>an MCP client page</title><p>client</p>');
    });
    await new Promise<void>((resolve) => pages.listen(0, '127.0.0.1', () => resolve()));
    pagePort = (pages.address() as { port: number }).port;
    backend = await startBackend((r, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ query: r.query }));
    });
    ({ stack, url } = await stackWithEcho(backend.url, { allowedOrigins: [`http://app.example:${pagePort}`] }));
    browser = await openBrowser({ args: ['--host-resolver-rules=MAP app.example 127.0.0.1, MAP evil.example 127.0.0.1'] });
  });
  after(async () => {
    await browser?.close();
    await stack?.close();
    await backend?.close();
    pages?.closeAllConnections();
    await new Promise<void>((resolve) => (pages ? pages.close(() => resolve()) : resolve()));
  });

  /** Open a page of `origin` and run an MCP session from it with fetch: initialize, then a tools/call in the session. */
  async function fromPage(origin: string): Promise<PageOutcome> {
    const page: Page = await browser.context.newPage();
    try {
      await page.goto(`${origin}/`);
      return await page.evaluate(async (gateway: string): Promise<PageOutcome> => {
        const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
        try {
          const init = await fetch(gateway, {
            method: 'POST', headers,
            body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'page', version: '1' } } }),
          });
          const session = init.headers.get('mcp-session-id');
          const initialized = await init.json() as PageOutcome['initialized'];
          if (!session) return { ok: false, status: init.status, session, initialized };
          const call = await fetch(gateway, {
            method: 'POST', headers: { ...headers, 'mcp-session-id': session, 'mcp-protocol-version': '2025-06-18' },
            body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'echo', arguments: { text: 'from a page' } } }),
          });
          return { ok: true, status: call.status, session, initialized, called: await call.json() as PageOutcome['called'] };
        } catch (err) {
          return { ok: false, error: String(err) };
        }
      }, url);
    } finally {
      await page.close();
    }
  }

  it('lets a page of an allowed origin run a session: preflight answered, Mcp-Session-Id readable', async () => {
    const out = await fromPage(`http://app.example:${pagePort}`);
    assert.equal(out.ok, true, JSON.stringify(out));
    assert.match(out.session ?? '', /^[0-9a-f-]{36}$/);
    assert.equal(out.initialized?.result?.serverInfo?.name, 'mcpgate:public/tools');
    assert.equal(JSON.parse(out.called?.result?.content[0]?.text ?? '{}').query, 'text=from+a+page');
  });

  it('refuses a page of another origin: its fetch fails and nothing of the gateway is read', async () => {
    const before = backend.requests.length;
    const refusedBefore = await limitHits(stack.gatewayUrl, 'allowedOrigins');
    const out = await fromPage(`http://evil.example:${pagePort}`);
    assert.equal(out.ok, false);
    assert.match(out.error ?? '', /Failed to fetch|TypeError/);
    assert.equal(backend.requests.length, before);
    assert.ok(await limitHits(stack.gatewayUrl, 'allowedOrigins') > refusedBefore, 'the gateway refused the page\'s requests');
  });

  it('answers the CORS headers to allowed origins only (raw preflights and requests)', async () => {
    const preflight = (origin: string) => raw(url, {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,mcp-session-id,x-tenant' },
    });
    const allowed = await preflight(`http://app.example:${pagePort}`);
    assert.equal(allowed.status, 204);
    assert.equal(allowed.headers['access-control-allow-origin'], `http://app.example:${pagePort}`);
    assert.equal(allowed.headers['access-control-allow-methods'], 'GET, POST, DELETE');
    assert.equal(allowed.headers['access-control-allow-headers'], 'content-type,mcp-session-id,x-tenant');
    assert.equal(allowed.headers['access-control-allow-credentials'], undefined, 'no cookies across origins');
    const loopback = await preflight('http://localhost:6274');
    assert.equal(loopback.status, 204, 'a local MCP client (the Inspector) may too');

    for (const origin of ['http://evil.example', `http://app.example:${pagePort + 1}`, `https://app.example:${pagePort}`]) {
      const refused = await preflight(origin);
      assert.equal(refused.status, 403, origin);
      assert.equal(refused.headers['access-control-allow-origin'], undefined, origin);
    }

    const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } });
    const answer = await raw(url, { headers: { origin: `http://app.example:${pagePort}`, accept: 'application/json, text/event-stream' }, body });
    assert.equal(answer.status, 200);
    assert.equal(answer.headers['access-control-allow-origin'], `http://app.example:${pagePort}`);
    assert.match(String(answer.headers['access-control-expose-headers']), /Mcp-Session-Id/);
    assert.equal(answer.headers.vary, 'Origin');
    const plain = await raw(url, { headers: { accept: 'application/json, text/event-stream' }, body });
    assert.equal(plain.status, 200);
    assert.equal(plain.headers['access-control-allow-origin'], undefined, 'nothing for requests without Origin');
  });
});
