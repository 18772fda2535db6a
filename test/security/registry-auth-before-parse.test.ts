/**
 * Finding 12 (order): the registry parsed and schema-checked bodies before it authenticated the
 * caller, so anyone who could reach it made it read and parse whatever they sent. With auth on,
 * a request without a credential in its headers or query string is now refused (401) before its
 * body is read — shown by the answer arriving while most of the body is still unsent — except a
 * form body of at most 64 KiB, read for the `accessToken` or `username` + `password` fields Nacos
 * clients may put there.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { http } from '../support/http.js';
import { startRegistry } from '../support/registry.js';
import type { TestRegistry } from '../support/registry.js';

/**
 * Send a request's headers and only the first part of its body, and resolve the answer the server
 * gives before the rest is sent (the rest never is); rejects if the server waits for it.
 */
function answerBeforeBody(url: string, path: string, headers: Record<string, string>, firstPart: string): Promise<{ status: number; text: string }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(u.port), u.hostname);
    let received = '';
    const guard = setTimeout(() => { socket.destroy(); reject(new Error('no answer before the body was complete: the server waited for it')); }, 30_000);
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('utf8');
      const end = received.indexOf('\r\n\r\n');
      if (end < 0) return;
      const length = Number(/\r\ncontent-length: (\d+)/i.exec(received.slice(0, end))?.[1] ?? 0);
      if (Buffer.byteLength(received.slice(end + 4)) < length) return;
      clearTimeout(guard);
      socket.destroy();
      resolve({ status: Number(received.slice(9, 12)), text: received.slice(end + 4) });
    });
    socket.on('error', (err) => { clearTimeout(guard); reject(err); });
    const head = Object.entries({ host: u.host, ...headers }).map(([k, v]) => `${k}: ${v}\r\n`).join('');
    socket.write(`POST ${path} HTTP/1.1\r\n${head}\r\n${firstPart}`);
  });
}

describe('authentication before the body is read (finding 12)', () => {
  let reg: TestRegistry;
  let token: string;

  before(async () => {
    reg = await startRegistry({ auth: true, env: { MCPGATE_BODY_LIMIT_BYTES: String(8 * 1024 * 1024) } });
    token = (await http('POST', `${reg.url}/api/v1/auth/login`, { body: { username: 'admin', password: 'admin-password-1' } })).body.accessToken;
  });
  after(() => reg?.close());

  it('refuses a 4 MB body without a credential with 401 before reading it', async () => {
    const res = await answerBeforeBody(reg.url, '/api/v1/namespaces', { 'content-type': 'application/json', 'content-length': String(4 * 1024 * 1024) }, '['.repeat(64 * 1024));
    assert.equal(res.status, 401);
    assert.equal(JSON.parse(res.text).error.code, 'UNAUTHORIZED');
    const chunked = await answerBeforeBody(reg.url, '/nacos/v1/ns/instance', { 'content-type': 'application/x-www-form-urlencoded', 'transfer-encoding': 'chunked' }, '10\r\nserviceName=aaaa\r\n');
    assert.equal(chunked.status, 401, 'a form body of unknown length is not read either');
    assert.match(chunked.text, /^caused: log in first/);
  });

  it('does not look for a credential in a form body over 64 KiB, nor read it', async () => {
    const form = `accessToken=${token}&serviceName=big&ip=10.0.0.1&port=80&metadata=`;
    const res = await answerBeforeBody(reg.url, '/nacos/v1/ns/instance', { 'content-type': 'application/x-www-form-urlencoded', 'content-length': String(200 * 1024) }, form);
    assert.equal(res.status, 401);
    assert.match(res.text, /a credential in a form body is read only from bodies of at most 64 KiB/);
    // The same credential in the query string of the same large request is taken.
    const big = new URLSearchParams({ serviceName: 'big', ip: '10.0.0.1', port: '80', metadata: JSON.stringify({ pad: 'x'.repeat(100 * 1024) }) });
    const ok = await http('POST', `${reg.url}/nacos/v1/ns/instance?accessToken=${token}`, { body: big.toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    assert.equal(ok.text, 'ok');
  });

  it('authenticates before parsing and schema checks: no credential is 401 whatever the body', async () => {
    const deep = `{"id":${'['.repeat(500_000)}${']'.repeat(500_000)}}`;
    assert.equal((await http('POST', `${reg.url}/api/v1/namespaces`, { body: deep })).body.error.code, 'UNAUTHORIZED');
    assert.equal((await http('POST', `${reg.url}/api/v1/namespaces`, { body: '{"id": 12, "surplus": true}' })).body.error.code, 'UNAUTHORIZED');
    assert.equal((await http('POST', `${reg.url}/api/v1/namespaces`, { body: '{not json' })).body.error.code, 'UNAUTHORIZED');
    assert.equal((await http('POST', `${reg.url}/api/v1/namespaces`, { body: '{"id":"x"}', token: 'forged' })).body.error.code, 'UNAUTHORIZED');
    // With a credential the same bodies reach the parser and the schema.
    assert.equal((await http('POST', `${reg.url}/api/v1/namespaces`, { body: deep, token })).body.error.code, 'JSON_TOO_DEEP');
    assert.equal((await http('POST', `${reg.url}/api/v1/namespaces`, { body: '{"id": 12, "surplus": true}', token })).body.error.code, 'VALIDATION_FAILED');
    assert.equal((await http('POST', `${reg.url}/api/v1/namespaces`, { body: '{not json', token })).body.error.code, 'INVALID_JSON');
  });

  it('still takes a credential from a small form body, as Nacos clients may send it', async () => {
    const fields = { serviceName: 'form-auth', ip: '10.0.0.2', port: '80' };
    assert.equal((await http('POST', `${reg.url}/nacos/v1/ns/instance`, { form: { ...fields, accessToken: token } })).text, 'ok');
    assert.equal((await http('POST', `${reg.url}/nacos/v1/ns/instance`, { form: { ...fields, port: '81', username: 'admin', password: 'admin-password-1' } })).text, 'ok');
    const none = await http('POST', `${reg.url}/nacos/v1/ns/instance`, { form: { ...fields, port: '82' } });
    assert.equal(none.status, 401);
    const forged = await http('POST', `${reg.url}/nacos/v2/ns/instance`, { form: { ...fields, port: '83', accessToken: 'forged' } });
    assert.equal(forged.status, 401);
    assert.equal(forged.body.code, 40001);
    const listed = await http('GET', `${reg.url}/nacos/v1/ns/instance/list?serviceName=form-auth&accessToken=${token}`);
    assert.deepEqual(listed.body.hosts.map((h: { port: number }) => h.port).sort(), [80, 81]);
  });

  it('still reads the bodies of public routes (login), with the same nesting limit', async () => {
    assert.equal((await http('POST', `${reg.url}/api/v1/auth/login`, { body: { username: 'admin', password: 'admin-password-1' } })).status, 200);
    assert.equal((await http('POST', `${reg.url}/nacos/v1/auth/login`, { form: { username: 'admin', password: 'admin-password-1' } })).status, 200);
    const deep = await http('POST', `${reg.url}/api/v1/auth/login`, { body: `{"username":${'['.repeat(100)}${']'.repeat(100)}}` });
    assert.equal(deep.body.error.code, 'JSON_TOO_DEEP');
  });
});
