// The lean per-call path to 2025-era Streamable HTTP upstreams (lean-http.ts): its SSE parser,
// and its exchange against a real HTTP server answering in JSON, in SSE cut at awkward places,
// with errors, garbage and streams that end without an answer.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import { ProtocolError, SdkHttpError } from '@modelcontextprotocol/client';
import { ToolError } from '../errors.js';
import { answerStreamParser, leanRequest } from './lean-http.js';
import type { LeanExchange, WireMessage } from './lean-http.js';

const bytes = (text: string) => new TextEncoder().encode(text);

describe('answerStreamParser', () => {
  it('joins data lines, honours event names, skips comments, id, retry and events without data (priming events), with CR, LF and CRLF line ends cut anywhere', () => {
    const text = 'id: prime\ndata:\n\n: comment\r\nid: 7\r\nretry: 10\r\ndata: {"a":\r\ndata: 1}\r\n\r\nevent: other\ndata: skipped\n\nevent: message\rdata:x\r\r';
    for (let cut = 0; cut <= text.length; cut++) {
      const got: string[] = [];
      const p = answerStreamParser((d) => got.push(d));
      p.push(bytes(text.slice(0, cut)));
      p.push(bytes(text.slice(cut)));
      p.end();
      assert.deepEqual(got, ['{"a":\n1}', 'x'], `cut at ${cut}`);
    }
  });

  it('drops an event the stream ends in the middle of', () => {
    const got: string[] = [];
    const p = answerStreamParser((d) => got.push(d));
    p.push(bytes('data: half'));
    p.end();
    assert.deepEqual(got, []);
  });
});

describe('leanRequest', () => {
  let server: Server;
  let url = '';
  let seen: IncomingHttpHeaders | undefined;
  /** What the server answers to the next request: status, content type, body chunks. */
  let answer: (body: { id: string }) => { status?: number; type?: string; chunks: string[] } = () => ({ chunks: [] });

  before(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        seen = req.headers;
        const a = answer(JSON.parse(Buffer.concat(chunks).toString('utf8')) as { id: string });
        res.writeHead(a.status ?? 200, { 'content-type': a.type ?? 'text/event-stream' });
        let i = 0;
        const next = () => {
          if (i >= a.chunks.length) return void res.end();
          res.write(a.chunks[i++]);
          setImmediate(next);
        };
        next();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}/mcp`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  const exchange = (o: Partial<LeanExchange> = {}): LeanExchange => ({
    url, dispatcher: undefined, staticHeaders: { 'x-static': 's', accept: 'never used' }, headers: { 'X-Passed': 'p', 'mcp-session-id': 'forged' },
    sessionId: 'sess-1', protocolVersion: '2025-11-25', id: 'mcpgate-1', method: 'tools/call', params: { name: 'echo', arguments: {} },
    signal: new AbortController().signal, onMessage: () => undefined, what: 'upstream tools/call', ...o,
  });

  it('sends the session, version and headers (the call\'s never overriding the exchange\'s), and resolves with the answer among other messages of an SSE stream cut mid-line', async () => {
    answer = (b) => ({
      chunks: [
        'id: 0\r\ndata: \r\n\r\n',
        `event: message\r\ndata: {"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":1,"progress":1}}\r\n\r\nevent: mess`,
        `age\r\ndata: {"jsonrpc":"2.0","id":"${b.id}","result":{"content":[{"type":"text","text":"é"}]}}\r`,
        '\n\r\n',
      ],
    });
    const others: WireMessage[] = [];
    const result = await leanRequest(exchange({ onMessage: (m) => others.push(m) }));
    assert.deepEqual(result, { content: [{ type: 'text', text: 'é' }] });
    assert.equal(others.length, 1);
    assert.equal(others[0]?.method, 'notifications/progress');
    assert.equal(seen?.['mcp-session-id'], 'sess-1');
    assert.equal(seen?.['mcp-protocol-version'], '2025-11-25');
    assert.equal(seen?.['x-static'], 's');
    assert.equal(seen?.['x-passed'], 'p');
    assert.equal(seen?.accept, 'application/json, text/event-stream');
  });

  it('a JSON answer (a batch too); a JSON-RPC error as the SDK\'s ProtocolError', async () => {
    answer = (b) => ({ type: 'application/json', chunks: [JSON.stringify([{ jsonrpc: '2.0', method: 'notifications/message', params: {} }, { jsonrpc: '2.0', id: b.id, result: { content: [] } }])] });
    assert.deepEqual(await leanRequest(exchange()), { content: [] });
    answer = (b) => ({ type: 'application/json', chunks: [JSON.stringify({ jsonrpc: '2.0', id: b.id, error: { code: -32602, message: 'bad', data: { x: 1 } } })] });
    await assert.rejects(leanRequest(exchange()), (err: unknown) => err instanceof ProtocolError && err.code === -32602 && (err.data as { x: number }).x === 1);
  });

  it('bad answers are UPSTREAM_PROTOCOL at once (not a timeout): not JSON, not JSON-RPC, no content array, a stream that ends unanswered; an HTTP 404 is the SDK\'s SdkHttpError', async () => {
    const cases: [string, (b: { id: string }) => { status?: number; type?: string; chunks: string[] }, RegExp][] = [
      ['not JSON', () => ({ type: 'application/json', chunks: ['<html>'] }), /not JSON/],
      ['not JSON-RPC', (b) => ({ type: 'application/json', chunks: [JSON.stringify({ hello: 'world', id: b.id })] }), /not a JSON-RPC message/],
      ['no content', (b) => ({ chunks: [`data: ${JSON.stringify({ jsonrpc: '2.0', id: b.id, result: { content: 'no' } })}\n\n`] }), /no content array/],
      ['unanswered', () => ({ chunks: [': nothing\n\n'] }), /without answering/],
      ['SSE garbage', () => ({ chunks: ['data: {{{\n\n'] }), /not JSON/],
    ];
    for (const [name, how, message] of cases) {
      answer = how;
      await assert.rejects(leanRequest(exchange()), (err: unknown) => err instanceof ToolError && err.code === 'UPSTREAM_PROTOCOL' && message.test(err.message), name);
    }
    answer = () => ({ status: 404, type: 'application/json', chunks: ['{"jsonrpc":"2.0","id":null,"error":{"code":-32001,"message":"Session not found"}}'] });
    await assert.rejects(leanRequest(exchange()), (err: unknown) => err instanceof SdkHttpError && err.status === 404);
  });
});
