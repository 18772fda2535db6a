// Bad input against a running gateway, with raw HTTP: each mistake gets its own status, JSON-RPC
// code and a message naming what is wrong, and the gateway keeps serving normal calls after all
// of them. Backends that are down, slow or answer an HTML 500 become isError tool results.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { randomUUID } from 'node:crypto';
import { http } from './support/http.js';
import {
  ENVELOPE, PV, createMcpServer, errorData, firstText, freePort, legacyPost, legacySession, mcpPost, modernPost, openSse, restTool, waitFor,
} from './support/gateway.js';
import { startBackend, startStack } from './support/stack.js';
import type { TestStack } from './support/stack.js';

const LIMIT = 4 * 1024 * 1024;

describe('bad input through a running gateway', () => {
  let stack: TestStack;
  let backend: Awaited<ReturnType<typeof startBackend>>;
  let url: string;
  let secure: string;
  const keys: Record<string, string> = {};
  const slowTimers = new Set<NodeJS.Timeout>();
  /** How many /slow requests the backend has answered (it answers long after any tool timeout). */
  let slowAnswered = 0;

  before(async () => {
    backend = await startBackend((r, res) => {
      if (r.path === '/slow') {
        const timer = setTimeout(() => { slowTimers.delete(timer); slowAnswered += 1; res.writeHead(200); res.end('late'); }, 60_000);
        slowTimers.add(timer);
        return;
      }
      if (r.path === '/html500') {
        res.writeHead(500, { 'content-type': 'text/html' });
        res.end('<html><body><h1>Internal Server Error</h1></body></html>');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ path: r.path, query: r.query }));
    });
    const deadPort = await freePort();
    stack = await startStack();
    const reg = stack.registryUrl;
    const direct = { type: 'direct', address: '127.0.0.1', port: backend.port };
    const echo = restTool('echo', {
      url: '/echo', argsToUrlParam: true, response: { body: 'echo {{ .query }}' }, required: ['text'],
      properties: { text: { type: 'string' }, count: { type: 'integer' }, mode: { type: 'string', enum: ['fast', 'slow'] } },
    });
    await createMcpServer(reg, 'public', {
      name: 'bad', endpoint: direct,
      spec: {
        version: '1.0.0', tools: [
          echo,
          restTool('slow', { url: '/slow', timeoutMs: 150 }),
          restTool('html', { url: '/html500' }),
          restTool('down', { url: `http://127.0.0.1:${deadPort}/nothing` }),
          restTool('file', { url: '/files/{path}', properties: { path: { type: 'string' } }, required: ['path'], argsPosition: { path: 'path' }, response: { body: '{{ .path }}' } }),
        ],
      },
    });
    // A namespace with consumer keys: one key for everything, one for svc/echo only.
    for (const ns of ['secure', 'elsewhere']) assert.equal((await http('POST', `${reg}/api/v1/namespaces`, { body: { id: ns } })).status, 201);
    for (const name of ['svc', 'other-server']) {
      await createMcpServer(reg, 'secure', { name, endpoint: direct, spec: { version: '1.0.0', tools: [echo, restTool('second', { url: '/second' })] } });
    }
    for (const [ns, name, allow] of [['secure', 'full', null], ['secure', 'limited', [{ server: 'svc', tools: ['echo'] }]], ['elsewhere', 'foreign', null]] as const) {
      const c = await http('POST', `${reg}/api/v1/namespaces/${ns}/consumers`, { body: { name, allow } });
      assert.equal(c.status, 201, c.text);
      keys[name] = c.body.key;
    }
    url = `${stack.gatewayUrl}/mcp/public/bad`;
    secure = `${stack.gatewayUrl}/mcp/secure`;
    await waitFor('the servers and keys on the gateway', async () => (await modernPost(`${secure}/svc`, 1, 'tools/list', {}, { 'x-api-key': keys.limited })).status === 200);
  });
  after(async () => {
    for (const t of slowTimers) clearTimeout(t);
    await stack?.close();
    await backend?.close();
  });

  it('answers malformed JSON with 400 and -32700, on every endpoint', async () => {
    const legacy = await mcpPost(url, '{"jsonrpc":"2.0","id":1,"method":');
    assert.equal(legacy.status, 400);
    assert.equal(legacy.body.error.code, -32700);
    assert.equal(legacy.body.id, null);
    assert.match(legacy.body.error.message, /^Parse error/);
    const modern = await mcpPost(url, '{not json', { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/list' });
    assert.equal(modern.status, 400);
    assert.equal(modern.body.error.code, -32700);
    const sse = await openSse(`${url}/sse`);
    try {
      const endpoint = await sse.next((e) => e.event === 'endpoint');
      const message = await mcpPost(new URL(endpoint.data, url).toString(), '[1,');
      assert.equal(message.status, 400);
      assert.equal(message.body.error.code, -32700);
    } finally {
      sse.close();
    }
  });

  it('answers bodies that are not JSON-RPC messages with 400 and -32600 naming the member', async () => {
    const cases: [unknown, RegExp][] = [
      [{ jsonrpc: '1.0', id: 1, method: 'tools/list' }, /'jsonrpc' must be "2.0"/],
      [{ jsonrpc: '2.0', id: { a: 1 }, method: 'tools/list' }, /'id' must be a string or a number/],
      [{ jsonrpc: '2.0', id: 1, method: 42 }, /'method' must be a string/],
      [{ jsonrpc: '2.0', id: 1, method: 'tools/list', params: [1, 2] }, /'params' must be an object/],
      [{ jsonrpc: '2.0', id: null, method: 'tools/list' }, /'id' must not be null/],
      [42, /must be an object/],
      [[], /empty batch/],
      [[{ jsonrpc: '2.0', id: 1, method: 'tools/list', params: { _meta: ENVELOPE } }], /batches may not contain requests for protocol revision 2026-07-28/],
      [{ jsonrpc: '2.0', id: 7, method: 5, params: { _meta: ENVELOPE } }, /'method' must be a string/],
    ];
    for (const [body, message] of cases) {
      const r = await mcpPost(url, body);
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.equal(r.body.error.code, -32600, JSON.stringify(body));
      assert.match(r.body.error.message, message);
    }
    const typed = await fetch(url, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{}' });
    assert.equal(typed.status, 415);
    assert.match(((await typed.json()) as { error: { message: string } }).error.message, /Content-Type must be application\/json/);
  });

  it('answers an unknown method in-band (-32601) in a session and with 404 in the 2026-07-28 era', async () => {
    const session = await legacySession(url);
    const legacy = await legacyPost(url, session, 1, 'tools/destroy');
    assert.equal(legacy.status, 200);
    assert.equal(legacy.body.id, 1);
    assert.equal(legacy.body.error.code, -32601);
    const modern = await modernPost(url, 2, 'tools/destroy');
    assert.equal(modern.status, 404);
    assert.equal(modern.body.id, 2);
    assert.equal(modern.body.error.code, -32601);
    const ping = await modernPost(url, 3, 'ping');
    assert.equal(ping.status, 404, 'ping is gone in 2026-07-28');
  });

  it('answers an unknown tool with -32602, and arguments that do not fit the schema with an isError result naming the argument', async () => {
    const session = await legacySession(url);
    const unknown = await legacyPost(url, session, 1, 'tools/call', { name: 'nope', arguments: {} });
    assert.equal(unknown.body.error.code, -32602);
    assert.match(unknown.body.error.message, /nope/);
    const modernUnknown = await modernPost(url, 2, 'tools/call', { name: 'nope', arguments: {} });
    assert.equal(modernUnknown.status, 200);
    assert.equal(modernUnknown.body.error.code, -32602);

    const before = backend.requests.length;
    const cases: [Record<string, unknown>, RegExp][] = [
      [{}, /missing required argument 'text'/],
      [{ text: 5 }, /argument 'text' must be string/],
      [{ text: 'x', count: 'many' }, /argument 'count' must be integer/],
      [{ text: 'x', mode: 'medium' }, /argument 'mode' must be equal to one of the allowed values.*"fast","slow"/],
    ];
    // SEP-1303 (2025-11-25): input errors are tool results, so that the model can correct its call.
    for (const [args, message] of cases) {
      const legacy = await legacyPost(url, session, 3, 'tools/call', { name: 'echo', arguments: args });
      assert.equal(legacy.body.error, undefined, JSON.stringify(args));
      assert.equal(legacy.body.result.isError, true, JSON.stringify(args));
      assert.match(firstText(legacy.body.result), message);
      assert.match(firstText(legacy.body.result), /^Invalid arguments for tool echo: /);
      const modern = await modernPost(url, 4, 'tools/call', { name: 'echo', arguments: args });
      assert.equal(modern.status, 200);
      assert.equal(modern.body.result.isError, true);
      assert.match(firstText(modern.body.result), message);
    }
    // Params that are not a call at all stay protocol errors.
    const notObject = await legacyPost(url, session, 5, 'tools/call', { name: 'echo', arguments: ['text'] });
    assert.equal(notObject.body.error.code, -32602);
    assert.match(notObject.body.error.message, /'arguments' must be an object/);
    const noName = await legacyPost(url, session, 6, 'tools/call', { arguments: {} });
    assert.equal(noName.body.error.code, -32602);
    assert.match(noName.body.error.message, /'name' must be a string/);
    assert.equal(backend.requests.length, before, 'no invalid call reached the backend');
  });

  it('refuses a body over 4 MiB with 413, declared or streamed', async () => {
    const big = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: { pad: 'x'.repeat(LIMIT) } });
    const declared = await mcpPost(url, big);
    assert.equal(declared.status, 413);
    assert.match(declared.body.error.message, /Payload Too Large/);
    const streamed = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(url, { method: 'POST', headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      const chunk = Buffer.alloc(256 * 1024, 0x20);
      let sent = 0;
      const pump = () => {
        while (sent <= LIMIT + chunk.length) {
          sent += chunk.length;
          if (!req.write(chunk)) return void req.once('drain', pump);
        }
        req.end();
      };
      pump();
    });
    assert.equal(streamed, 413);
    // Just under the limit is fine.
    const fits = await mcpPost(url, JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: { _meta: ENVELOPE, pad: 'x'.repeat(LIMIT - 1024) } }), { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/list' });
    assert.equal(fits.status, 200);
  });

  it('keeps serving after a client goes away in the middle of a body', async () => {
    const { hostname, port, pathname } = new URL(url);
    await new Promise<void>((resolve, reject) => {
      const socket = connect(Number(port), hostname, () => {
        socket.write(`POST ${pathname} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"jsonrpc":`);
        setTimeout(() => { socket.destroy(); resolve(); }, 100);
      });
      socket.on('error', reject);
    });
    const list = await mcpPost(url, JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: { _meta: ENVELOPE } }), { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/list' });
    assert.equal(list.status, 200);
  });

  it('enforces 2025 session rules: missing id 400, unknown or ended id 404, bad version 400, GET/DELETE without a session 405', async () => {
    const noId = await mcpPost(url, { jsonrpc: '2.0', id: 1, method: 'tools/list' });
    assert.equal(noId.status, 400);
    assert.match(noId.body.error.message, /Mcp-Session-Id header is required/);
    const unknown = await legacyPost(url, randomUUID(), 1, 'tools/list');
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.error.code, -32001);

    const session = await legacySession(url);
    const badVersion = await legacyPost(url, session, 2, 'tools/list', {}, { 'mcp-protocol-version': '1999-01-01' });
    assert.equal(badVersion.status, 400);
    assert.match(badVersion.body.error.message, /Unsupported protocol version: 1999-01-01/);
    assert.equal((await legacyPost(url, session, 3, 'tools/list')).status, 200, 'the session still works');

    const del = await fetch(url, { method: 'DELETE', headers: { 'mcp-session-id': session } });
    assert.equal(del.status, 200);
    await del.body?.cancel();
    const ended = await legacyPost(url, session, 4, 'tools/list');
    assert.equal(ended.status, 404);
    assert.equal(ended.body.error.code, -32001);
    const endedGet = await fetch(url, { headers: { accept: 'text/event-stream', 'mcp-session-id': session } });
    assert.equal(endedGet.status, 404);
    await endedGet.body?.cancel();
    const endedDelete = await fetch(url, { method: 'DELETE', headers: { 'mcp-session-id': session } });
    assert.equal(endedDelete.status, 404);
    await endedDelete.body?.cancel();

    for (const method of ['GET', 'DELETE']) {
      const r = await fetch(url, { method, headers: { accept: 'text/event-stream' } });
      assert.equal(r.status, 405, method);
      assert.ok(r.headers.get('allow'), `${method} 405 names the allowed methods`);
      await r.body?.cancel();
    }
    const put = await fetch(url, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{}' });
    assert.equal(put.status, 405);
    await put.body?.cancel();
    const sseMissing = await mcpPost(`${url}/message`, { jsonrpc: '2.0', id: 1, method: 'tools/list' });
    assert.equal(sseMissing.status, 400);
    assert.match(sseMissing.body.error.message, /sessionId/);
    const sseUnknown = await mcpPost(`${url}/message?sessionId=${randomUUID()}`, { jsonrpc: '2.0', id: 1, method: 'tools/list' });
    assert.equal(sseUnknown.status, 404);
  });

  it('enforces 2026-07-28 headers (-32020), envelope (-32602) and versions (-32022 with data.supported)', async () => {
    const headerCases: [string, Record<string, unknown>, Record<string, string | undefined>, RegExp][] = [
      ['tools/list', {}, { 'mcp-protocol-version': undefined }, /MCP-Protocol-Version header is absent/],
      ['tools/list', {}, { 'mcp-protocol-version': '2025-11-25' }, /protocol version 2026-07-28 but the MCP-Protocol-Version header names 2025-11-25/],
      ['tools/list', {}, { 'mcp-method': undefined }, /Mcp-Method header is absent/],
      ['tools/list', {}, { 'mcp-method': 'prompts/list' }, /Mcp-Method header names prompts\/list/],
      ['tools/call', { name: 'echo', arguments: { text: 'a' } }, { 'mcp-name': undefined }, /params.name="echo" but the required Mcp-Name header is absent/],
      ['tools/call', { name: 'echo', arguments: { text: 'a' } }, { 'mcp-name': 'file' }, /Mcp-Name header \(file\) disagrees with the body \(echo\)/],
      ['tools/call', { name: 'echo', arguments: { text: 'a' } }, { 'mcp-name': '=?base64?!!!?=' }, /Mcp-Name/],
    ];
    for (const [method, params, headers, message] of headerCases) {
      const r = await modernPost(url, 9, method, params, headers);
      assert.equal(r.status, 400, `${method} ${JSON.stringify(headers)}`);
      assert.equal(r.body.error.code, -32020, `${method} ${JSON.stringify(headers)}`);
      assert.equal(r.body.id, 9);
      assert.match(r.body.error.message, message);
    }
    // A base64-encoded Mcp-Name that matches is fine.
    const encoded = await modernPost(url, 10, 'tools/call', { name: 'echo', arguments: { text: 'b64' } }, { 'mcp-name': `=?base64?${Buffer.from('echo').toString('base64')}?=` });
    assert.equal(encoded.status, 200);
    assert.equal(firstText(encoded.body.result), 'echo text=b64');

    const unsupported = await mcpPost(url, { jsonrpc: '2.0', id: 11, method: 'tools/list', params: { _meta: { ...ENVELOPE, [PV]: '2099-01-01' } } },
      { 'mcp-protocol-version': '2099-01-01', 'mcp-method': 'tools/list' });
    assert.equal(unsupported.status, 400);
    assert.equal(unsupported.body.error.code, -32022);
    assert.deepEqual(errorData(unsupported.body.error), { supported: ['2026-07-28'], requested: '2099-01-01' });

    const noMeta = await mcpPost(url, { jsonrpc: '2.0', id: 12, method: 'tools/list', params: {} }, { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/list' });
    assert.equal(noMeta.status, 400);
    assert.equal(noMeta.body.error.code, -32602);
    assert.deepEqual(errorData(noMeta.body.error), { envelope: { missing: ['_meta'] } });
    const noCaps = await mcpPost(url, { jsonrpc: '2.0', id: 13, method: 'tools/list', params: { _meta: { [PV]: '2026-07-28' } } }, { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/list' });
    assert.equal(noCaps.status, 400);
    assert.equal(noCaps.body.error.code, -32602);
    assert.match(noCaps.body.error.message, /clientCapabilities/);
    // A modern-enveloped initialize is not a 2026-07-28 method.
    const init = await modernPost(url, 14, 'initialize');
    assert.equal(init.status, 404);
    assert.equal(init.body.error.code, -32601);
  });

  it('refuses a foreign Origin with 403 on every endpoint, and accepts loopback origins', async () => {
    const evil = { origin: 'http://evil.example' };
    const modern = await modernPost(url, 1, 'tools/list', {}, evil);
    assert.equal(modern.status, 403);
    assert.match(modern.body.error.message, /Origin 'http:\/\/evil.example' is not allowed/);
    const init = await mcpPost(url, { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } } }, evil);
    assert.equal(init.status, 403);
    const sse = await fetch(`${url}/sse`, { headers: { accept: 'text/event-stream', ...evil } });
    assert.equal(sse.status, 403);
    await sse.body?.cancel();
    const garbage = await modernPost(url, 1, 'tools/list', {}, { origin: 'not a url' });
    assert.equal(garbage.status, 403);
    assert.equal((await modernPost(url, 2, 'tools/list', {}, { origin: 'http://localhost:3000' })).status, 200);
  });

  it('needs a valid consumer key in a namespace that has keys (401 with WWW-Authenticate)', async () => {
    const svc = `${secure}/svc`;
    const missing = await modernPost(svc, 1, 'tools/list');
    assert.equal(missing.status, 401);
    assert.match(missing.headers.get('www-authenticate') ?? '', /^Bearer realm="mcpgate"/);
    assert.match(missing.body.error.message, /needs an API key/);
    for (const headers of [{ authorization: 'Bearer mgk_wrong' }, { 'x-api-key': 'wrong' }, { 'x-api-key': keys.foreign as string }]) {
      const wrong = await modernPost(svc, 2, 'tools/list', {}, headers);
      assert.equal(wrong.status, 401, JSON.stringify(headers));
      assert.match(wrong.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
    }
    const noKeyInit = await mcpPost(svc, { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } } });
    assert.equal(noKeyInit.status, 401);
    const noKeySse = await fetch(`${svc}/sse`, { headers: { accept: 'text/event-stream' } });
    assert.equal(noKeySse.status, 401);
    assert.ok(noKeySse.headers.get('www-authenticate'));
    await noKeySse.body?.cancel();

    const bearer = await modernPost(svc, 3, 'tools/list', {}, { authorization: `Bearer ${keys.full}` });
    assert.deepEqual(bearer.body.result.tools.map((t: { name: string }) => t.name), ['echo', 'second']);
    assert.equal(bearer.body.result.cacheScope, 'private', 'a list that depends on the key is not shared');
    const apiKey = await modernPost(svc, 4, 'tools/call', { name: 'second', arguments: {} }, { 'x-api-key': keys.full as string });
    assert.equal(apiKey.body.result.isError, undefined);
    // The open namespace stays open.
    assert.equal((await modernPost(url, 5, 'tools/list')).status, 200);
  });

  it('shows a limited key only the tools it may call and refuses the others (-32602, 403)', async () => {
    const limited = { 'x-api-key': keys.limited as string };
    const svc = `${secure}/svc`;
    const list = await modernPost(svc, 1, 'tools/list', {}, limited);
    assert.deepEqual(list.body.result.tools.map((t: { name: string }) => t.name), ['echo']);
    const allowed = await modernPost(svc, 2, 'tools/call', { name: 'echo', arguments: { text: 'ok' } }, limited);
    assert.equal(firstText(allowed.body.result), 'echo text=ok');
    const before = backend.requests.length;
    const denied = await modernPost(svc, 3, 'tools/call', { name: 'second', arguments: {} }, limited);
    assert.equal(denied.body.error.code, -32602);
    assert.match(denied.body.error.message, /second/);
    const session = await legacySession(svc, limited);
    assert.deepEqual((await legacyPost(svc, session, 1, 'tools/list', {}, limited)).body.result.tools.map((t: { name: string }) => t.name), ['echo']);
    assert.equal((await legacyPost(svc, session, 2, 'tools/call', { name: 'second', arguments: {} }, limited)).body.error.code, -32602);
    assert.equal(backend.requests.length, before);

    const otherServer = await modernPost(`${secure}/other-server`, 4, 'tools/list', {}, limited);
    assert.equal(otherServer.status, 403);
    assert.match(otherServer.body.error.message, /may not use MCP server 'other-server'/);
    const otherSse = await fetch(`${secure}/other-server/sse`, { headers: { accept: 'text/event-stream', ...limited } });
    assert.equal(otherSse.status, 403);
    await otherSse.body?.cancel();
  });

  it('turns backend failures into isError results: down, slow past the timeout, HTML 500', async () => {
    const session = await legacySession(url);
    const down = await legacyPost(url, session, 1, 'tools/call', { name: 'down', arguments: {} });
    assert.equal(down.body.result.isError, true);
    assert.match(firstText(down.body.result), /^backend unavailable: ECONNREFUSED/);

    const slow = await modernPost(url, 2, 'tools/call', { name: 'slow', arguments: {} });
    assert.equal(slow.body.result.isError, true);
    assert.equal(firstText(slow.body.result), 'timed out after 150 ms');
    assert.equal(slowAnswered, 0, 'answered before the backend did');

    const html = await legacyPost(url, session, 3, 'tools/call', { name: 'html', arguments: {} });
    assert.equal(html.body.result.isError, true);
    assert.match(firstText(html.body.result), /^HTTP 500/);
    assert.match(firstText(html.body.result), /Internal Server Error/);
  });

  it('refuses a path argument that tries to climb out with ../ (also encoded), and passes a real sub-path', async () => {
    const before = backend.requests.length;
    for (const path of ['../admin', 'a/../../etc/passwd', '%2e%2e/admin', '..', 'x?y=1', 'a#b']) {
      const r = await modernPost(url, 1, 'tools/call', { name: 'file', arguments: { path } });
      assert.equal(r.status, 200, path);
      assert.equal(r.body.result?.isError, true, `${path}: ${r.text}`);
      assert.match(firstText(r.body.result), /^Invalid arguments for tool file: argument 'path'/);
    }
    assert.equal(backend.requests.length, before, 'nothing reached the backend');
    const ok = await modernPost(url, 2, 'tools/call', { name: 'file', arguments: { path: 'docs/read me.txt' } });
    assert.equal(firstText(ok.body.result), '/files/docs/read%20me.txt');
  });

  it('keeps serving normal calls after all of that', async () => {
    const modern = await modernPost(url, 1, 'tools/call', { name: 'echo', arguments: { text: 'alive', count: 2, mode: 'fast' } });
    assert.equal(modern.status, 200);
    assert.equal(firstText(modern.body.result), 'echo count=2&mode=fast&text=alive');
    const session = await legacySession(url);
    const legacy = await legacyPost(url, session, 1, 'tools/call', { name: 'echo', arguments: { text: 'alive' } });
    assert.equal(firstText(legacy.body.result), 'echo text=alive');
    const health = await fetch(`${stack.gatewayUrl}/healthz`);
    assert.equal(health.status, 200);
    await health.body?.cancel();
  });
});
