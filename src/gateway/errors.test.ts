// The one conversion of other modules' errors into gateway answers (status, JSON-RPC code, headers).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ToolError } from '../tools/errors.js';
import { GatewayError, toGatewayError, toolRefusal } from './errors.js';
import { SessionLimitError, SessionStateUnavailableError } from './sessions/types.js';

describe('toGatewayError', () => {
  it('a tool that needs the agent\'s credential: 401 UNAUTHORIZED with its challenge', () => {
    const e = toGatewayError(new ToolError('CREDENTIAL_REQUIRED', 'tool whoami needs a credential: send Authorization: Bearer <token>', 'Bearer realm="mcpgate"'));
    assert.equal(e.code, 'UNAUTHORIZED');
    assert.equal(e.status, 401);
    assert.equal(e.rpcCode, -32000);
    assert.equal(e.message, 'tool whoami needs a credential: send Authorization: Bearer <token>');
    assert.deepEqual(e.headers, { 'www-authenticate': 'Bearer realm="mcpgate"' });
  });

  it('an argument a tool refuses, outside tools/call: INVALID_PARAMS', () => {
    const e = toGatewayError(new ToolError('INVALID_ARGUMENT', "argument 'id': a path value may not contain \"..\""));
    assert.equal(e.code, 'INVALID_PARAMS');
    assert.equal(e.rpcCode, -32602);
  });

  it('the session store: unavailable is 503 with Retry-After, caps are 429 and 503 naming the limit', () => {
    const down = toGatewayError(new SessionStateUnavailableError('redis is down'));
    assert.equal(down.status, 503);
    assert.deepEqual(down.headers, { 'retry-after': '1' });
    const perKey = toGatewayError(new SessionLimitError('maxSessionsPerKey', 3));
    assert.equal(perKey.code, 'SESSION_LIMIT');
    assert.equal(perKey.status, 429);
    assert.deepEqual(perKey.data, { limit: 'maxSessionsPerKey', max: 3 });
    const full = toGatewayError(new SessionLimitError('maxSessions', 10));
    assert.equal(full.code, 'SESSION_CAPACITY');
    assert.equal(full.status, 503);
  });

  it('a GatewayError is itself; anything else is an internal error', () => {
    const own = new GatewayError('FORBIDDEN', 'no');
    assert.equal(toGatewayError(own), own);
    const e = toGatewayError(new Error('boom'));
    assert.equal(e.code, 'INTERNAL_ERROR');
    assert.equal(e.message, 'Internal error');
  });
});

describe('toolRefusal', () => {
  it('an argument the tool refuses is a result with isError naming the tool and the argument', () => {
    assert.deepEqual(toolRefusal('get', new ToolError('INVALID_ARGUMENT', "argument 'id': bad")), {
      content: [{ type: 'text', text: "Invalid arguments for tool get: argument 'id': bad" }], isError: true,
    });
  });

  it('anything else is thrown on', () => {
    const missing = new ToolError('CREDENTIAL_REQUIRED', 'needs a credential', 'Bearer realm="mcpgate"');
    assert.throws(() => toolRefusal('get', missing), (err) => err === missing);
    const other = new Error('boom');
    assert.throws(() => toolRefusal('get', other), (err) => err === other);
  });
});
