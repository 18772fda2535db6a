// Upstream MCP sessions across gateway replicas: two runtimes of one server (two replicas) share
// the agent sessions' state (the gateway keeps it with the agent session: in Redis when
// clustered; here the port's memory adapter), in front of a real SDK Streamable HTTP server with
// 2025 sessions. The HA end-to-end proof (kill -9 of a replica behind nginx) is in
// test/cluster/ha-upstream-mcp.test.ts.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from '../../lib/logger.js';
import type { Endpoint } from '../../model/model.js';
import { startHttpUpstream } from '../../../test/fixtures/mcp/http-upstreams.js';
import type { HttpUpstream } from '../../../test/fixtures/mcp/http-upstreams.js';
import { createUpstream } from '../upstream.js';
import { createMcpRuntime } from './executor.js';
import type { McpServerRuntime } from './runtime.js';
import type { UpstreamSessionState, UpstreamSessionStates } from './session-state.js';

const logger = createLogger('silent');
const EMPTY_SNAPSHOT = { revision: 1, namespaces: [], services: [], mcpServers: [], consumers: [] };

/** The port over a map, as the gateway's memory session store keeps it. */
class MapStates implements UpstreamSessionStates {
  readonly map = new Map<string, UpstreamSessionState>();
  sets = 0;
  async get(id: string) { return this.map.get(id); }
  async set(id: string, state: UpstreamSessionState | undefined) {
    this.sets++;
    if (state) this.map.set(id, state);
    else this.map.delete(id);
  }
}

let up: HttpUpstream;
const runtimes: McpServerRuntime[] = [];
before(async () => { up = await startHttpUpstream(); });
after(async () => {
  await Promise.all(runtimes.map((r) => r.close()));
  await up.close();
});

function replica(states: UpstreamSessionStates, sessions: 'per-session' | 'shared' = 'per-session'): McpServerRuntime {
  const endpoint: Endpoint = { type: 'url', url: up.url('/mcp') };
  const r = createMcpRuntime({ namespace: 'public', name: 'up', protocol: 'mcp-streamable', endpoint, passthrough: { headers: [], cookies: [] } },
    { config: { upstream: { sessions, protocolVersion: 'legacy' } } },
    { upstream: createUpstream(endpoint, 'mcp-streamable', EMPTY_SNAPSHOT), logger, sessionStates: states });
  runtimes.push(r);
  return r;
}

/** Initialize requests the upstream received (POSTs without a session id). */
const initializes = () => up.seen.filter((h) => h['mcp-session-id'] === undefined).length;
const echo = async (r: McpServerRuntime, sessionId: string, text: string) => {
  const result = await r.request('tools/call', { name: 'echo', arguments: { text } }, { sessionId });
  return ((result.content as { text: string }[])[0] as { text: string }).text;
};

describe('upstream MCP sessions across replicas', () => {
  it('another replica continues the agent session\'s upstream session: no second initialize, same Mcp-Session-Id', async () => {
    const states = new MapStates();
    const [a, b] = [replica(states), replica(states)];
    const before = initializes();
    assert.equal(await echo(a, 'agent-1', 'on a'), 'on a');
    const stored = states.map.get('agent-1');
    assert.ok(stored, 'replica a stored the upstream session');
    assert.match(stored.protocolVersion, /^\d{4}-\d{2}-\d{2}$/);
    assert.ok(stored.capabilities?.tools, 'with the upstream\'s capabilities');
    const seenBefore = up.seen.length;
    assert.equal(await echo(b, 'agent-1', 'on b'), 'on b');
    assert.equal(initializes() - before, 1, 'one initialize for the agent session, on whichever replica');
    const onB = up.seen.slice(seenBefore);
    assert.ok(onB.length > 0 && onB.every((h) => h['mcp-session-id'] === stored.sessionId), 'replica b spoke in the same upstream session');
    assert.ok(onB.every((h) => h['mcp-protocol-version'] === stored.protocolVersion), 'with the negotiated protocol version');
    assert.deepEqual(await b.capabilities({ sessionId: 'agent-1' }), stored.capabilities, 'b reflects the stored capabilities');
    // Another agent session gets an upstream session of its own.
    assert.equal(await echo(b, 'agent-2', 'two'), 'two');
    assert.notEqual(states.map.get('agent-2')?.sessionId, stored.sessionId);
  });

  it('re-initializes transparently when the upstream forgot the session; the other replica then follows the new one', async () => {
    const states = new MapStates();
    const [a, b] = [replica(states), replica(states)];
    await echo(a, 'agent-3', 'first');
    await echo(b, 'agent-3', 'second');
    const old = states.map.get('agent-3')?.sessionId;
    up.forgetSessions();
    assert.equal(await echo(b, 'agent-3', 'after 404'), 'after 404');
    const renewed = states.map.get('agent-3')?.sessionId;
    assert.ok(renewed && renewed !== old, 'b initialized a new upstream session and stored it');
    const before = initializes();
    assert.equal(await echo(a, 'agent-3', 'a follows'), 'a follows');
    assert.equal(initializes(), before, 'a continued b\'s new session after its own 404 instead of initializing a third');
    assert.equal(up.sessions(), 1);
  });

  it('idling out on one replica does not end the upstream session the others use; ending the agent session does, from any replica', async () => {
    const states = new MapStates();
    const [a, b, c] = [replica(states), replica(states), replica(states)];
    await echo(a, 'agent-4', 'x');
    await echo(b, 'agent-4', 'y');
    const state = states.map.get('agent-4');
    assert.ok(state);
    const open = up.sessions();
    await a.close();
    assert.equal(up.sessions(), open, 'a replica going away leaves the upstream session to the others');
    assert.equal(await echo(b, 'agent-4', 'still'), 'still');
    // The agent's DELETE lands on c, which never held a connection for it: it ends the upstream session from the record.
    await c.endSession('agent-4', state);
    assert.equal(up.sessions(), open - 1, 'the upstream session was ended');
  });

  it('shared connections keep nothing in the agent sessions', async () => {
    const states = new MapStates();
    const r = replica(states, 'shared');
    assert.equal(await echo(r, 'agent-5', 'shared'), 'shared');
    assert.equal(states.sets, 0);
  });
});
