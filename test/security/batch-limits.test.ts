// Issue 10, finding 5: one 355 KB POST of 4,000 tools/call made 4,000 backend calls and a 262 MB
// answer. Now a batch holds at most maxBatchEntries (100) messages, its entries run
// batchConcurrency (8) at a time, and its answer stays within maxBatchAnswerBytes. Concurrency
// is counted at the real backend, which holds every request until the test releases it.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { errorData, legacySession, mcpPost, restTool, waitFor } from '../support/gateway.js';
import { startBackend } from '../support/stack.js';
import type { TestStack } from '../support/stack.js';
import { limitHits, stackWithEcho } from './gateway-support.js';

describe('JSON-RPC batch limits (finding 5)', () => {
  let backend: Awaited<ReturnType<typeof startBackend>>;
  let stack: TestStack;
  let url: string;
  let session: string;
  /** Requests to /held wait here until released. */
  const held: ServerResponse[] = [];
  /** Requests to /held at the backend and not answered yet, and the most there were at once. */
  let inFlight = 0;
  let mostInFlight = 0;
  const answer = (res: ServerResponse, body: string) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(body);
  };
  const release = (res: ServerResponse, body: string) => {
    inFlight -= 1;
    answer(res, body);
  };

  before(async () => {
    backend = await startBackend((r, res) => {
      if (r.path === '/held') {
        inFlight += 1;
        mostInFlight = Math.max(mostInFlight, inFlight);
        return void held.push(res);
      }
      // ~10 KB answers for the answer-size case.
      answer(res, JSON.stringify({ query: r.query, pad: r.path === '/big' ? 'x'.repeat(10_000) : '' }));
    });
    ({ stack, url } = await stackWithEcho(backend.url, { maxBatchAnswerBytes: 65_536 }, [
      restTool('echo', { url: '/echo', properties: { text: { type: 'string' } }, argsToUrlParam: true, response: { body: '{{.}}' } }),
      restTool('held', { url: '/held', properties: { n: { type: 'integer' } }, argsToUrlParam: true, response: { body: '{{.}}' } }),
      restTool('big', { url: '/big', properties: { n: { type: 'integer' } }, argsToUrlParam: true, response: { body: '{{.}}' } }),
    ]));
    session = await legacySession(url, {}, '2025-03-26');
  });
  after(async () => {
    for (const res of held.splice(0)) res.destroy();
    await stack?.close();
    await backend?.close();
  });

  const headers = () => ({ 'mcp-session-id': session, 'mcp-protocol-version': '2025-03-26' });
  const calls = (n: number, tool: string, from = 0) => Array.from({ length: n }, (_, i) => ({ jsonrpc: '2.0', id: from + i, method: 'tools/call', params: { name: tool, arguments: tool === 'echo' ? { text: `t${from + i}` } : { n: from + i } } }));

  it('refuses the 4,000-call batch of the report whole, with -32600 naming maxBatchEntries, and calls nothing', async () => {
    const body = JSON.stringify(calls(4000, 'echo'));
    assert.ok(body.length > 300_000, `the report's ~355 KB body (${body.length} bytes)`);
    const before = backend.requests.length;
    const r = await mcpPost(url, body, headers());
    assert.equal(r.status, 400);
    assert.equal(r.body.error.code, -32600);
    assert.match(r.body.error.message, /a batch may hold at most 100 messages \(maxBatchEntries\); this one holds 4000/);
    assert.deepEqual(errorData(r.body.error), { maxBatchEntries: 100, entries: 4000 });
    assert.equal(backend.requests.length, before, 'no backend call');
    assert.equal(await limitHits(stack.gatewayUrl, 'maxBatchEntries'), 1);
    const one = await mcpPost(url, JSON.stringify(calls(101, 'echo')), headers());
    assert.equal(one.status, 400, 'one over is refused too');
  });

  it('answers a batch at the cap in order, every entry', async () => {
    const r = await mcpPost(url, JSON.stringify(calls(100, 'echo')), headers());
    assert.equal(r.status, 200);
    assert.equal(r.body.length, 100);
    r.body.forEach((m: { id: number; result: { content: { text: string }[] } }, i: number) => {
      assert.equal(m.id, i);
      assert.equal(JSON.parse(m.result.content[0]?.text ?? '{}').query, `text=t${i}`);
    });
  });

  it('runs at most 8 entries of a batch at once at the backend, and all of them', async () => {
    mostInFlight = 0;
    const pending = mcpPost(url, JSON.stringify(calls(40, 'held')), headers());
    await waitFor('8 entries held at the backend', () => held.length === 8);
    // Whatever the gateway was going to start at once has started by the time a later request
    // has made its own round trip to the same backend.
    const later = await mcpPost(url, { jsonrpc: '2.0', id: 999, method: 'tools/call', params: { name: 'echo', arguments: { text: 'later' } } }, headers());
    assert.equal(later.status, 200);
    assert.equal(held.length, 8, 'no 9th entry started while 8 run');
    // Released one at a time: each release lets exactly one more in.
    let released = 0;
    while (released < 40) {
      const res = held.shift();
      if (!res) {
        await waitFor('the next entry at the backend', () => held.length > 0);
        continue;
      }
      release(res, JSON.stringify({ n: released }));
      released += 1;
    }
    const r = await pending;
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.map((m: { id: number }) => m.id), Array.from({ length: 40 }, (_, i) => i), 'answers in the batch\'s order');
    assert.ok(mostInFlight <= 8, `at most 8 at once at the backend (saw ${mostInFlight})`);
    assert.equal(mostInFlight, 8, 'the entries did run side by side');
  });

  it('keeps the batch\'s answer within maxBatchAnswerBytes: the entries past it get -32000 and are not run', async () => {
    const before = backend.requests.length;
    const r = await mcpPost(url, JSON.stringify(calls(100, 'big')), headers());
    assert.equal(r.status, 200);
    assert.ok(Buffer.byteLength(r.text) <= 65_536, `answer of ${Buffer.byteLength(r.text)} bytes`);
    assert.equal(r.body.length, 100, 'every request is answered');
    const ok = r.body.filter((m: { result?: unknown }) => m.result !== undefined);
    const refused = r.body.filter((m: { error?: { code: number; message: string } }) => m.error !== undefined);
    assert.ok(ok.length >= 3 && ok.length < 7, `about 64 KiB of ~10 KB answers, less the room for the errors (${ok.length})`);
    for (const m of refused) {
      assert.equal(m.error.code, -32000);
      assert.match(m.error.message, /over 65536 bytes \(maxBatchAnswerBytes\); send this request on its own/);
    }
    const called = backend.requests.length - before;
    assert.ok(called < 100 && called <= ok.length + 8, `entries after the cap were not run (${called} backend calls)`);
    assert.ok(await limitHits(stack.gatewayUrl, 'maxBatchAnswerBytes') >= 1);
  });
});
