// What an upstream MCP server asks or says during a call, through the gateway, and the bad input
// on that way: resource subscriptions and their updates relayed to the subscribed session;
// agents answering the upstream's requests with garbage, or not at all; 2026-07-28 retries with
// unknown or malformed requestState / inputResponses; upstreams answering malformed JSON-RPC or
// garbage. Every failure is a clear JSON-RPC error or an isError result, and the gateway serves on.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Client as SdkClient } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as SdkStreamable } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CreateMessageRequestSchema, ResourceUpdatedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { startBadUpstream, startHttpUpstream } from './fixtures/mcp/http-upstreams.js';
import type { HttpUpstream } from './fixtures/mcp/http-upstreams.js';
import { ENVELOPE, createMcpServer, legacySession, mcpPost, modernPost, parseSse } from './support/gateway.js';
import { startStack } from './support/stack.js';
import type { TestStack } from './support/stack.js';

const SAMPLING_ENVELOPE = { ...ENVELOPE, 'io.modelcontextprotocol/clientCapabilities': { sampling: {} } };

/** A 2025 session POST whose SSE answer is read as it comes: `onMessage` may answer requests on it. */
async function streamingCall(url: string, session: string, body: unknown, onMessage: (m: Record<string, unknown>) => Promise<void>): Promise<Record<string, unknown>[]> {
  const res = await fetch(url, {
    method: 'POST', body: JSON.stringify(body),
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-session-id': session, 'mcp-protocol-version': '2025-06-18' },
  });
  if (!(res.headers.get('content-type') ?? '').includes('text/event-stream')) return [await res.json() as Record<string, unknown>];
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  const seen: Record<string, unknown>[] = [];
  let text = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
    const end = text.lastIndexOf('\n\n');
    if (end < 0) continue;
    for (const e of parseSse(text.slice(0, end + 2))) {
      const m = JSON.parse(e.data) as Record<string, unknown>;
      seen.push(m);
      await onMessage(m);
    }
    text = text.slice(end + 2);
  }
  return seen;
}

describe('upstream requests and notifications through the gateway, and bad input on the way', () => {
  let stack: TestStack;
  let up: HttpUpstream;
  const closers: (() => Promise<unknown>)[] = [];
  const mcp = (name: string) => `${stack.gatewayUrl}/mcp/public/${name}`;

  before(async () => {
    up = await startHttpUpstream();
    stack = await startStack();
    const spec = (extra: Record<string, unknown> = {}) => ({ version: '1.0.0', tools: [], ...extra });
    await createMcpServer(stack.registryUrl, 'public', { name: 'up', protocol: 'mcp-streamable', endpoint: { type: 'url', url: up.url('/mcp') }, spec: spec({ config: { upstream: { timeoutMs: 5000 } } }) });
    for (const how of ['malformed-answers', 'garbage'] as const) {
      const bad = await startBadUpstream(how);
      closers.push(() => bad.close());
      await createMcpServer(stack.registryUrl, 'public', { name: how, protocol: 'mcp-streamable', endpoint: { type: 'url', url: bad.url }, spec: spec({ config: { upstream: { timeoutMs: 2000, connectTimeoutMs: 2000 } } }) });
    }
  });

  after(async () => {
    for (const c of closers) await c().catch(() => undefined);
    await stack?.close();
    await up?.close();
  });

  it('resources/subscribe: capabilities say so, the upstream\'s update reaches the subscribed session, unsubscribe stops it', async () => {
    const client = new SdkClient({ name: 'subscriber', version: '1.0.0' });
    closers.push(() => client.close());
    const updates: string[] = [];
    client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => { updates.push(n.params.uri); });
    await client.connect(new SdkStreamable(new URL(mcp('up'))));
    await client.listTools();
    const again = new SdkClient({ name: 'subscriber-2', version: '1.0.0' });
    closers.push(() => again.close());
    await again.connect(new SdkStreamable(new URL(mcp('up'))));
    assert.deepEqual(again.getServerCapabilities()?.resources, { subscribe: true, listChanged: true });
    await client.subscribeResource({ uri: 'file:///readme.txt' });
    const touched = await client.callTool({ name: 'touch', arguments: { uri: 'file:///readme.txt' } });
    assert.match(JSON.stringify(touched.content), /touched/);
    const deadline = Date.now() + 10_000;
    while (!updates.includes('file:///readme.txt') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(updates, ['file:///readme.txt']);
    await client.unsubscribeResource({ uri: 'file:///readme.txt' });
    const after = await client.callTool({ name: 'touch', arguments: { uri: 'file:///readme.txt' } });
    assert.match(JSON.stringify(after.content), /nobody subscribed/);
    const bad = await mcpPost(mcp('up'), { jsonrpc: '2.0', id: 9, method: 'resources/subscribe', params: { uri: 42 } }, { 'mcp-session-id': await legacySession(mcp('up')), 'mcp-protocol-version': '2025-06-18' });
    assert.equal(bad.body.error.code, -32602);
    assert.match(bad.body.error.message, /'uri'/);
    // Bounded: a URI over 2048 bytes, and a subscription past the session's 100.
    const session = await legacySession(mcp('up'));
    const headers = { 'mcp-session-id': session, 'mcp-protocol-version': '2025-06-18' };
    const long = await mcpPost(mcp('up'), { jsonrpc: '2.0', id: 10, method: 'resources/subscribe', params: { uri: `file:///${'x'.repeat(2048)}` } }, headers);
    assert.equal(long.body.error.code, -32602);
    assert.match(long.body.error.message, /'uri' is longer than 2048 bytes/);
    for (let i = 0; i < 100; i++) {
      const ok = await mcpPost(mcp('up'), { jsonrpc: '2.0', id: 100 + i, method: 'resources/subscribe', params: { uri: `file:///many/${i}` } }, headers);
      assert.deepEqual(ok.body.result, {}, `subscription ${i}`);
    }
    const full = await mcpPost(mcp('up'), { jsonrpc: '2.0', id: 300, method: 'resources/subscribe', params: { uri: 'file:///many/one-too-many' } }, headers);
    assert.equal(full.body.error.code, -32000);
    assert.match(full.body.error.message, /most resource subscriptions allowed \(100\)/);
    const held = await mcpPost(mcp('up'), { jsonrpc: '2.0', id: 301, method: 'resources/subscribe', params: { uri: 'file:///many/7' } }, headers);
    assert.deepEqual(held.body.result, {}, 'one already held is no new one');
  });

  it('cancellation both ways: the upstream giving up on its sampling request cancels it at the agent; the agent cancelling its call cancels it upstream', async () => {
    const client = new SdkClient({ name: 'cancelled', version: '1.0.0' }, { capabilities: { sampling: {} } });
    closers.push(() => client.close());
    let aborted!: (reason: unknown) => void;
    const abortedAtAgent = new Promise((r) => { aborted = r; });
    client.setRequestHandler(CreateMessageRequestSchema, (_request, extra) => new Promise((_, reject) => {
      extra.signal.addEventListener('abort', () => { aborted(extra.signal.reason); reject(new Error('aborted')); }, { once: true });
    }));
    await client.connect(new SdkStreamable(new URL(mcp('up'))));
    const result = await client.callTool({ name: 'ask', arguments: { what: 'sampling-cancelled' } });
    assert.match(JSON.stringify(result.content), /gave up/);
    await abortedAtAgent;
    // The other way: the agent's AbortSignal sends notifications/cancelled; the upstream's call ends (no session left busy).
    const stop = new AbortController();
    const pending = client.callTool({ name: 'hang', arguments: {} }, undefined, { signal: stop.signal });
    setTimeout(() => stop.abort('agent gave up'), 100);
    await assert.rejects(pending);
    assert.match(JSON.stringify((await client.callTool({ name: 'echo', arguments: { text: 'after' } })).content), /after/);
  });

  it('a 2025 agent answering the upstream\'s sampling request with garbage: the tool answers isError; an answer to nothing is accepted and dropped', async () => {
    const url = mcp('up');
    const init = await mcpPost(url, { jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: { sampling: {} }, clientInfo: { name: 'raw', version: '1' } } });
    const session = init.headers.get('mcp-session-id') as string;
    const post = (body: unknown) => mcpPost(url, body, { 'mcp-session-id': session, 'mcp-protocol-version': '2025-06-18' });
    assert.equal((await post({ jsonrpc: '2.0', method: 'notifications/initialized' })).status, 202);
    const stray = await post({ jsonrpc: '2.0', id: 'mcpgate-nothing', result: { role: 'assistant' } });
    assert.equal(stray.status, 202);
    for (const garbage of [{ result: 'not an object' }, { result: { role: 'assistant' } }, { error: { code: -1, message: 'the user said no' } }]) {
      let asked = 0;
      const messages = await streamingCall(url, session, { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'ask', arguments: { what: 'sampling' } } }, async (m) => {
        if (m.method !== 'sampling/createMessage') return;
        asked++;
        assert.match(String(m.id), /^mcpgate-/);
        assert.equal((await post({ jsonrpc: '2.0', id: m.id, ...garbage })).status, 202);
      });
      assert.equal(asked, 1, JSON.stringify(messages));
      const answer = messages.find((m) => m.id === 1) as { result: { isError?: boolean; content: unknown } };
      assert.equal(answer.result.isError, true, JSON.stringify(messages));
      if ('error' in garbage) assert.match(JSON.stringify(answer.result.content), /the user said no/);
    }
  });

  it('2026-07-28: input_required for the upstream\'s sampling; a retry with an unknown requestState or malformed inputResponses is refused; the round still completes', async () => {
    const url = mcp('up');
    const call = (id: number, extra: Record<string, unknown> = {}) => modernPost(url, id, 'tools/call', { name: 'ask', arguments: { what: 'sampling' }, ...extra, _meta: SAMPLING_ENVELOPE });
    const first = await call(1);
    assert.equal(first.status, 200, first.text);
    assert.equal(first.body.result.resultType, 'input_required');
    const [key, request] = Object.entries(first.body.result.inputRequests as Record<string, { method: string }>)[0] as [string, { method: string }];
    assert.equal(request.method, 'sampling/createMessage');
    const state = first.body.result.requestState as string;
    const unknown = await call(2, { requestState: 'not-a-round', inputResponses: {} });
    assert.equal(unknown.body.error.code, -32602);
    assert.match(unknown.body.error.message, /requestState names no call/);
    const malformed = await call(3, { requestState: state, inputResponses: 'yes' });
    assert.equal(malformed.body.error.code, -32602);
    assert.match(malformed.body.error.message, /inputResponses/);
    const done = await call(4, { requestState: state, inputResponses: { [key]: { role: 'assistant', content: { type: 'text', text: '4' }, model: 'raw' } } });
    assert.equal(done.body.result.resultType, 'complete', done.text);
    assert.equal(done.body.result.content[0].text, 'sampled: 4');
    const replay = await call(5, { requestState: state, inputResponses: {} });
    assert.equal(replay.body.error.code, -32602, 'a finished round cannot be resumed');
    // A retry that leaves the question unanswered: the upstream is told, its tool answers isError.
    const second = await call(6);
    const missing = await call(7, { requestState: second.body.result.requestState, inputResponses: {} });
    assert.equal(missing.body.result.isError, true, missing.text);
  });

  for (const how of ['malformed-answers', 'garbage'] as const) {
    it(`an upstream answering ${how === 'garbage' ? 'HTML instead of JSON-RPC' : 'malformed JSON-RPC'}: a JSON-RPC error in every era, and the gateway serves on`, async () => {
      const session = how === 'garbage' ? undefined : await legacySession(mcp(how));
      const modern = await modernPost(mcp(how), 1, 'tools/call', { name: 'echo', arguments: {} });
      assert.ok([-32012, -32010, -32011].includes(modern.body.error?.code), modern.text);
      if (session) {
        const legacy = await mcpPost(mcp(how), { jsonrpc: '2.0', id: 2, method: 'tools/list', params: {} }, { 'mcp-session-id': session, 'mcp-protocol-version': '2025-06-18' });
        assert.equal(legacy.body.error?.code, -32012, legacy.text);
      }
      const fine = await modernPost(mcp('up'), 3, 'tools/call', { name: 'echo', arguments: { text: 'still here' } });
      assert.equal(fine.body.result.content[0].text, 'still here');
    });
  }
});
