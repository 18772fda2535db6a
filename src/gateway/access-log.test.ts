import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { LOG_REDACTED, createLogger } from '../lib/logger.js';
import { runWithRequestId } from '../lib/request-context.js';
import { AccessLog } from './access-log.js';
import type { RequestObservation } from './mcp/eras/era.js';

function capture(): { lines: () => Record<string, unknown>[]; text: () => string; stream: Writable } {
  const chunks: string[] = [];
  const stream = new Writable({ write(chunk, _enc, done) { chunks.push(String(chunk)); done(); } });
  return { stream, text: () => chunks.join(''), lines: () => chunks.join('').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>) };
}

const OK: RequestObservation = { namespace: 'public', server: 'weather', method: 'tools/call', tool: 'get_weather', knownTool: true, outcome: 'ok', seconds: 0.0123, rpcId: 7, report: { backendStatus: 200 } };

test('an access line: the request, its request id from the context, no other field', () => {
  const out = capture();
  const log = new AccessLog(createLogger('info', 'test', out.stream).child({ component: 'access' }), 'all', 1);
  runWithRequestId('req-1', () => log.write(OK));
  const [line] = out.lines();
  assert.deepEqual({ ...line, time: 0, pid: 0, hostname: '' }, {
    level: 30, time: 0, pid: 0, hostname: '', name: 'test', component: 'access', reqId: 'req-1', msg: 'mcp request',
    method: 'tools/call', namespace: 'public', server: 'weather', tool: 'get_weather', outcome: 'ok', ms: 12.3, rpcId: 7, backendStatus: 200,
  });
});

test('an access line names the observation\'s request id where no request scope runs', () => {
  const out = capture();
  const log = new AccessLog(createLogger('info', 'test', out.stream), 'all', 1);
  log.write({ ...OK, requestId: 'req-2' });
  assert.equal(out.lines()[0]?.reqId, 'req-2');
});

test('an access line hides credentials in what the agent named and in a failure\'s detail', () => {
  const out = capture();
  const log = new AccessLog(createLogger('info', 'test', out.stream), 'all', 1);
  log.write({
    ...OK, tool: 'x?api_key=tool-secret', rpcId: 'Bearer rpc-id-secret', outcome: 'tool_error', errorKind: 'backend_status',
    report: { backendStatus: 401, detail: 'GET https://svc:url-password@api.internal/x?token=detail-token answered 401' },
  });
  const text = out.text();
  for (const secret of ['tool-secret', 'rpc-id-secret', 'url-password', 'detail-token']) assert.ok(!text.includes(secret), `${secret} reached the log:\n${text}`);
  const [line] = out.lines();
  assert.equal(line?.level, 40, 'a failed request is a warning');
  assert.equal(line?.tool, `x?api_key=${LOG_REDACTED}`);
  assert.match(String(line?.detail), /^GET https:\/\/svc:\[redacted\]@api\.internal\/x\?token=\[redacted\]/);
});

test('errors mode and a level above info keep successful requests out; failures are still written', () => {
  const out = capture();
  new AccessLog(createLogger('info', 'test', out.stream), 'errors', 1).write(OK);
  new AccessLog(createLogger('warn', 'test', out.stream), 'all', 1).write(OK);
  new AccessLog(createLogger('warn', 'test', out.stream), 'all', 1).write({ ...OK, outcome: 'error', errorKind: 'INVALID_PARAMS' });
  new AccessLog(createLogger('info', 'test', out.stream), 'off', 1).write({ ...OK, outcome: 'error' });
  assert.deepEqual(out.lines().map((l) => l.errorKind), ['INVALID_PARAMS']);
});
