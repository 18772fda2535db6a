// Issue 10, finding 6: a client that went away did not cancel its backend call, so 270 abandoned
// calls held the whole backend connection pool (256) for 30 s and a healthy call waited behind
// them. Now closing the HTTP request (or the legacy SSE stream the answers go to) aborts the
// backend request at once, in every era. The backend never answers the slow calls: it sees each
// abort as the 'close' of its request, and a healthy call through the same pool completes after
// more calls were abandoned than the pool holds.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Agent, request as httpRequest } from 'node:http';
import type { ClientRequest, ServerResponse } from 'node:http';
import { ENVELOPE, firstText, legacySession, mcpPost, modernPost, openSse, restTool, waitFor } from '../support/gateway.js';
import type { SseStream } from '../support/gateway.js';
import { startBackend } from '../support/stack.js';
import type { TestStack } from '../support/stack.js';
import { stackWithEcho } from './gateway-support.js';

describe('abandoned calls (finding 6)', () => {
  let backend: Awaited<ReturnType<typeof startBackend>>;
  let stack: TestStack;
  let url: string;
  /** Slow calls the backend holds (never answered), by their tag; and the tags whose request closed. */
  const holding = new Map<string, ServerResponse>();
  const closed = new Set<string>();
  const clients = new Agent({ keepAlive: false, maxSockets: Infinity });

  before(async () => {
    backend = await startBackend((r, res) => {
      if (r.path !== '/slow') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"healthy":true}');
        return;
      }
      const tag = new URLSearchParams(r.query).get('tag') ?? '';
      holding.set(tag, res);
      res.once('close', () => { if (!res.writableFinished) closed.add(tag); });
    });
    // The tool's own timeout is far beyond the test: any abort the backend sees is the client's doing.
    ({ stack, url } = await stackWithEcho(backend.url, {}, [
      restTool('slow', { url: '/slow', properties: { tag: { type: 'string' } }, argsToUrlParam: true, timeoutMs: 600_000 }),
      restTool('fast', { url: '/fast' }),
    ]));
  });
  after(async () => {
    for (const res of holding.values()) res.destroy();
    clients.destroy();
    await stack?.close();
    await backend?.close();
  });

  /** Send a POST and leave it open (the answer never comes); answers the request, to be destroyed. */
  function post(body: unknown, headers: Record<string, string>): ClientRequest {
    const text = JSON.stringify(body);
    const req = httpRequest(url, {
      method: 'POST', agent: clients,
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'content-length': String(Buffer.byteLength(text)), ...headers },
    });
    req.on('error', () => undefined);
    req.on('response', (res) => res.resume());
    req.end(text);
    return req;
  }

  const call = (id: number, tag: string, meta: Record<string, unknown> = {}) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'slow', arguments: { tag }, _meta: meta } });
  const atBackend = (tags: string[]) => tags.every((t) => holding.has(t));
  const abortedAtBackend = (tags: string[]) => tags.every((t) => closed.has(t));

  /**
   * Start calls (`start` answers how to go away from each), wait until the backend holds them all,
   * go away, and wait until the backend saw each call's abort.
   */
  async function abandon(era: string, tags: string[], start: () => Promise<(() => void)[]> | (() => void)[]): Promise<void> {
    const leave = await start();
    await waitFor(`${era}: ${tags.length} calls at the backend`, () => atBackend(tags), 15_000);
    for (const l of leave) l();
    await waitFor(`${era}: the backend saw every abort`, () => abortedAtBackend(tags), 15_000);
  }
  const destroy = (r: ClientRequest) => () => void r.destroy();

  it('aborts the backend request of every abandoned call, in every era, and then serves a healthy call through the same pool', async () => {
    const tags = (era: string, n: number) => Array.from({ length: n }, (_, i) => `${era}-${i}`);
    const modernHeaders = { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': 'slow' };

    // 2026-07-28: closing the request.
    const modern = tags('modern', 60);
    await abandon('2026-07-28', modern, () => modern.map((t, i) => destroy(post(call(i, t, ENVELOPE), modernHeaders))));

    // 2025, answered as JSON, and as an SSE stream (progress token): closing the request.
    const session = await legacySession(url);
    const legacyHeaders = { 'mcp-session-id': session, 'mcp-protocol-version': '2025-06-18' };
    const json = tags('json', 60);
    await abandon('2025 JSON', json, () => json.map((t, i) => destroy(post(call(i, t), legacyHeaders))));
    const sse = tags('sse', 60);
    await abandon('2025 SSE', sse, () => sse.map((t, i) => destroy(post(call(1000 + i, t, { progressToken: t }), legacyHeaders))));

    // 2025 batches (8 entries run at once): closing the request aborts all of its running entries.
    const batches = Array.from({ length: 8 }, (_, b) => tags(`batch${b}`, 8));
    await abandon('2025 batches', batches.flat(), () => batches.map((b, n) => destroy(post(b.map((t, i) => call(n * 100 + i, t)), legacyHeaders))));

    // Legacy SSE: the POST is answered 202 at once; closing the session's stream abandons its calls.
    const legacy = Array.from({ length: 6 }, (_, s) => tags(`legacy${s}`, 10));
    await abandon('legacy SSE', legacy.flat(), async () => {
      const streams: SseStream[] = [];
      for (const [s, group] of legacy.entries()) {
        const stream = await openSse(`${url}/sse`);
        streams.push(stream);
        const endpoint = new URL((await stream.next((e) => e.event === 'endpoint')).data, url).toString();
        for (const [i, t] of group.entries()) {
          const r = await fetch(endpoint, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(call(s * 100 + i, t)) });
          assert.equal(r.status, 202);
          await r.body?.cancel();
        }
      }
      return streams.map((stream) => () => stream.close());
    });

    const abandoned = modern.length + json.length + sse.length + batches.flat().length + legacy.flat().length;
    assert.equal(abandoned, 304, 'more calls than the backend pool holds (256)');
    assert.equal(closed.size, abandoned, 'the backend saw the abort of each');
    for (const res of holding.values()) assert.equal(res.writableFinished, false, 'none of the slow calls was ever answered');

    // A healthy call through the same pool, after more abandoned calls than it holds.
    const healthy = await modernPost(url, 1, 'tools/call', { name: 'fast', arguments: {} });
    assert.equal(healthy.status, 200);
    assert.equal(firstText(healthy.body.result), '{"healthy":true}');
  });

  it('still answers a call the client cancelled with notifications/cancelled (its request is not abandoned)', async () => {
    const session = await legacySession(url);
    const headers = { 'mcp-session-id': session, 'mcp-protocol-version': '2025-06-18' };
    const pending = mcpPost(url, call(77, 'cancelled-77'), headers);
    await waitFor('the call at the backend', () => holding.has('cancelled-77'));
    assert.equal((await mcpPost(url, { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 77 } }, headers)).status, 202);
    const answered = await pending;
    assert.equal(answered.status, 200);
    assert.equal(answered.body.id, 77);
    assert.equal(answered.body.result.isError, true);
    await waitFor('the backend saw the abort', () => closed.has('cancelled-77'));
  });
});
