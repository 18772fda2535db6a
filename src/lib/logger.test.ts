import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { createLogger, LOG_REDACTED, scrubText } from './logger.js';

function capture(): { lines: () => Record<string, unknown>[]; text: () => string; stream: Writable } {
  const chunks: string[] = [];
  const stream = new Writable({ write(chunk, _enc, done) { chunks.push(String(chunk)); done(); } });
  return { stream, text: () => chunks.join(''), lines: () => chunks.join('').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>) };
}

test('log lines never carry credentials, wherever they sit', () => {
  const out = capture();
  const log = createLogger('trace', 'test', out.stream);
  const err = Object.assign(new Error('backend said 401 to Bearer eyJhbGciOi.secret-jwt for https://svc:pw-in-url@api.internal/x?api_key=key-in-query&city=Oslo'), {
    request: { headers: { authorization: 'Basic dXNlcjpwYXNz', 'x-trace': 'ok' } },
  });
  log.error({ err, body: { spec: { config: { password: 'config-password', region: 'eu', apiKey: 'sk-config' } }, tokens: 3 } }, 'save failed');
  log.child({ component: 'registry-http' }).info({ req: { method: 'GET', url: '/nacos/v1/ns/instance/list?accessToken=jwt-in-query&serviceName=a' } }, 'request');
  log.warn({ headers: { cookie: 'sid=session-cookie', accept: '*/*' }, registryToken: 'mgt_registrytoken123' }, 'registry token %s rejected', 'mgt_registrytoken123');
  log.info({ nested: [{ deep: { client_secret: 'deep-secret', maxTokens: 10 } }] }, 'password=in-message-1 and key mgk_consumerkey456');
  const text = out.text();
  for (const secret of ['secret-jwt', 'pw-in-url', 'key-in-query', 'dXNlcjpwYXNz', 'config-password', 'sk-config', 'jwt-in-query', 'session-cookie',
    'registrytoken123', 'deep-secret', 'in-message-1', 'consumerkey456']) {
    assert.ok(!text.includes(secret), `${secret} reached the log:\n${text}`);
  }
  const [first, second, , fourth] = out.lines();
  assert.equal((first?.body as { spec: { config: Record<string, unknown> } }).spec.config.region, 'eu', 'what is no secret stays');
  assert.equal((first?.body as { tokens: number }).tokens, 3);
  assert.match(String((first?.err as { message: string }).message), /city=Oslo/);
  assert.equal(((first?.err as { request: { headers: Record<string, string> } }).request.headers)['x-trace'], 'ok');
  assert.equal((second?.req as { url: string }).url, `/nacos/v1/ns/instance/list?accessToken=${LOG_REDACTED}&serviceName=a`);
  assert.equal((fourth?.nested as { deep: { maxTokens: number } }[])[0]?.deep.maxTokens, 10);
});

test('inline credentials in text', () => {
  assert.equal(scrubText('Authorization: Bearer abc.def.ghi'), `Authorization: Bearer ${LOG_REDACTED}`);
  assert.equal(scrubText('postgres://app:s3cret@db:5432/x'), `postgres://app:${LOG_REDACTED}@db:5432/x`);
  assert.equal(scrubText('GET /x?city=Oslo&token=t0k'), `GET /x?city=Oslo&token=${LOG_REDACTED}`);
  assert.equal(scrubText('nothing to hide here, 5 tokens'), 'nothing to hide here, 5 tokens');
});
