// The MCP adapter against real upstream MCP servers (official SDK servers over Streamable HTTP,
// legacy SSE and stdio) and against upstreams that refuse, hang, send garbage or malformed JSON-RPC.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createLogger } from '../../lib/logger.js';
import type { Endpoint, McpProtocol } from '../../model/model.js';
import { startBadUpstream, startHttpUpstream } from '../../../test/fixtures/mcp/http-upstreams.js';
import type { HttpUpstream } from '../../../test/fixtures/mcp/http-upstreams.js';
import { procStat } from '../../../test/support/proc.js';
import { ToolError } from '../errors.js';
import { createUpstream } from '../upstream.js';
import { readStdioLaunch, readUpstreamOptions } from './config.js';
import { createMcpRuntime } from './executor.js';
import type { McpServerRuntime } from './runtime.js';
import { liveChildCount, reapAndRecordChildren } from './stdio.js';

const logger = createLogger('silent');
const STDIO_FIXTURE = resolve(import.meta.dirname, '../../../test/fixtures/mcp/stdio-server.mjs');
const EMPTY_SNAPSHOT = { revision: 1, namespaces: [], services: [], mcpServers: [], consumers: [] };

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const { port } = s.address() as { port: number };
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

const runtimes: McpServerRuntime[] = [];

function runtime(protocol: McpProtocol, endpoint: Endpoint, config: Record<string, unknown> = {}, passthrough = { headers: [] as string[], cookies: [] as string[] }): McpServerRuntime {
  const server = { namespace: 'public', name: 'up', protocol, endpoint, passthrough };
  const r = createMcpRuntime(server, { config }, { upstream: createUpstream(endpoint, protocol, EMPTY_SNAPSHOT), logger });
  runtimes.push(r);
  return r;
}

function text(result: Record<string, unknown>): string {
  return ((result.content as { text: string }[])[0] as { text: string }).text;
}

async function rejectsWith(work: Promise<unknown>, code: string, message?: RegExp): Promise<ToolError> {
  try {
    await work;
  } catch (err) {
    assert.ok(err instanceof ToolError, `expected a ToolError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    if (message) assert.match(err.message, message);
    return err;
  }
  assert.fail(`expected ${code}`);
}

function alive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch { return false; }
}

after(async () => {
  await Promise.all(runtimes.map((r) => r.close()));
});

describe('upstream options', () => {
  it('reads a stdio launch at the top of config or under mcpServers (Nacos localServerConfig)', () => {
    assert.deepEqual(readStdioLaunch({ command: 'node', args: ['a.js', 1], env: { A: 'b' } }, 'x'), { command: 'node', args: ['a.js', '1'], env: { A: 'b' } });
    assert.deepEqual(readStdioLaunch({ mcpServers: { fs: { command: 'npx', args: ['-y', 'srv'] } } }, 'other'), { command: 'npx', args: ['-y', 'srv'], env: {} });
  });

  it('refuses what it cannot use, naming the field', () => {
    const field = (fn: () => unknown) => {
      try { fn(); } catch (err) { return (err as { field?: string }).field; }
      return undefined;
    };
    assert.equal(field(() => readStdioLaunch({}, 'x')), 'config.command');
    assert.equal(field(() => readStdioLaunch({ command: 'a', args: 'b' }, 'x')), 'config.args');
    assert.equal(field(() => readStdioLaunch({ command: 'a', env: { 'A=B': 'c' } }, 'x')), 'config.env.A=B');
    assert.equal(field(() => readStdioLaunch({ mcpServers: { a: { command: 'x' }, b: { command: 'y' } } }, 'x')), 'config.mcpServers');
    const opts = (upstream: unknown) => () => readUpstreamOptions({ name: 'x', protocol: 'mcp-streamable' }, { config: { upstream } });
    assert.equal(field(opts({ sessions: 'sometimes' })), 'config.upstream.sessions');
    assert.equal(field(opts({ timeoutMs: -1 })), 'config.upstream.timeoutMs');
    assert.equal(field(opts({ headers: { 'bad header': 'x' } })), 'config.upstream.headers.bad header');
    assert.equal(field(opts({ headers: { 'x-a': 'line\r\nbreak' } })), 'config.upstream.headers.x-a');
    assert.equal(field(opts('yes')), 'config.upstream');
  });
});

describe('Streamable HTTP and SSE upstreams', () => {
  let up: HttpUpstream;
  before(async () => { up = await startHttpUpstream(); });
  after(() => up.close());

  it('lists and calls tools over Streamable HTTP (a URL endpoint), relaying progress', async () => {
    const r = runtime('mcp-streamable', { type: 'url', url: up.url('/mcp') });
    const list = await r.request('tools/list', {});
    assert.ok((list.tools as { name: string }[]).some((t) => t.name === 'echo'));
    assert.equal(text(await r.request('tools/call', { name: 'echo', arguments: { text: 'hi' } })), 'hi');
    const progress: number[] = [];
    const slept = await r.request('tools/call', { name: 'sleep', arguments: { ms: 20 } }, { onProgress: (p) => progress.push(p) });
    assert.equal(text(slept), 'slept 20');
    assert.deepEqual(progress, [1, 2]);
    assert.equal(up.sessions(), 1, 'one shared upstream session');
  });

  it('initializes again, transparently, when the upstream forgets its session (HTTP 404)', async () => {
    const r = runtime('mcp-streamable', { type: 'url', url: up.url('/mcp') });
    assert.equal(text(await r.request('tools/call', { name: 'echo', arguments: { text: 'one' } })), 'one');
    up.forgetSessions();
    assert.equal(text(await r.request('tools/call', { name: 'echo', arguments: { text: 'two' } })), 'two');
  });

  it('reaches a direct address at its exportPath, and a legacy SSE upstream', async () => {
    const direct = runtime('mcp-streamable', { type: 'direct', address: '127.0.0.1', port: up.port, exportPath: '/mcp' });
    assert.equal(text(await direct.request('tools/call', { name: 'echo', arguments: { text: 'direct' } })), 'direct');
    const sse = runtime('mcp-sse', { type: 'direct', address: '127.0.0.1', port: up.port });
    assert.equal(text(await sse.request('tools/call', { name: 'echo', arguments: { text: 'sse' } })), 'sse');
  });

  it('forwards allow-listed headers and cookies and the static upstream headers, never the gateway key', async () => {
    const r = runtime('mcp-streamable', { type: 'url', url: up.url('/mcp') }, { upstream: { headers: { 'x-static': 'configured' } } }, { headers: ['X-Tenant', 'Authorization', 'X-Api-Key'], cookies: ['sid'] });
    const result = await r.request('tools/call', { name: 'headers', arguments: {} }, {
      clientHeaders: { 'x-tenant': 't1', authorization: 'Bearer mgk_gatewaykey123', 'x-api-key': 'mgk_other', 'x-other': 'no', cookie: 'sid=s1; theme=dark' },
    });
    assert.notEqual(result.isError, true, text(result));
    const seen = JSON.parse(text(result)) as Record<string, string>;
    assert.equal(seen['x-tenant'], 't1');
    assert.equal(seen['x-static'], 'configured');
    assert.equal(seen['cookie'], 'sid=s1');
    assert.equal(seen['authorization'], undefined);
    assert.equal(seen['x-api-key'], undefined);
    assert.equal(seen['x-other'], undefined);
  });

  it('relays the upstream\'s JSON-RPC errors and isError results as they are', async () => {
    const r = runtime('mcp-streamable', { type: 'url', url: up.url('/mcp') });
    const failed = await r.request('tools/call', { name: 'fails', arguments: {} });
    assert.equal(failed.isError, true);
    const err = await rejectsWith(r.request('prompts/get', { name: 'no_such_prompt' }), 'UPSTREAM_ERROR', /no_such_prompt/);
    assert.equal(err.upstream?.rpcCode, -32602);
  });

  it('a call that hangs upstream times out, and the server goes on serving', async () => {
    const r = runtime('mcp-streamable', { type: 'url', url: up.url('/mcp') }, { upstream: { timeoutMs: 300 } });
    await rejectsWith(r.request('tools/call', { name: 'hang', arguments: {} }), 'UPSTREAM_TIMEOUT');
    assert.equal(text(await r.request('tools/call', { name: 'echo', arguments: { text: 'still here' } })), 'still here');
  });
});

describe('upstream failures', () => {
  it('refused: UPSTREAM_UNREACHABLE at once, and during the backoff that follows', async () => {
    const r = runtime('mcp-streamable', { type: 'url', url: `http://127.0.0.1:${await freePort()}/mcp` });
    await rejectsWith(r.request('tools/list', {}), 'UPSTREAM_UNREACHABLE');
    await rejectsWith(r.request('tools/list', {}), 'UPSTREAM_UNREACHABLE', /next attempt/);
  });

  it('a service with no usable instance: UPSTREAM_UNREACHABLE', async () => {
    const r = runtime('mcp-streamable', { type: 'service', namespace: 'public', group: 'DEFAULT_GROUP', service: 'nowhere' });
    await rejectsWith(r.request('tools/list', {}), 'UPSTREAM_UNREACHABLE', /no usable upstream instance/);
  });

  for (const how of ['garbage', 'malformed-initialize'] as const) {
    it(`${how}: UPSTREAM_PROTOCOL`, async () => {
      const bad = await startBadUpstream(how);
      try {
        const r = runtime('mcp-streamable', { type: 'url', url: bad.url }, { upstream: { timeoutMs: 2000, protocolVersion: 'legacy' } });
        await rejectsWith(r.request('tools/list', {}), 'UPSTREAM_PROTOCOL');
      } finally {
        await bad.close();
      }
    });
  }

  it('malformed JSON-RPC answers: UPSTREAM_PROTOCOL within the timeout', async () => {
    const bad = await startBadUpstream('malformed-answers');
    try {
      const r = runtime('mcp-streamable', { type: 'url', url: bad.url }, { upstream: { timeoutMs: 1000, protocolVersion: 'legacy' } });
      await rejectsWith(r.request('tools/list', {}), 'UPSTREAM_PROTOCOL');
      await rejectsWith(r.request('tools/call', { name: 'echo', arguments: {} }), 'UPSTREAM_PROTOCOL');
    } finally {
      await bad.close();
    }
  });

  it('silent after initialize: UPSTREAM_TIMEOUT', async () => {
    const bad = await startBadUpstream('silent');
    try {
      const r = runtime('mcp-streamable', { type: 'url', url: bad.url }, { upstream: { timeoutMs: 300, protocolVersion: 'legacy' } });
      await rejectsWith(r.request('tools/call', { name: 'echo', arguments: {} }), 'UPSTREAM_TIMEOUT');
    } finally {
      await bad.close();
    }
  });
});

describe('stdio upstreams', () => {
  const launch = (extra: Record<string, unknown> = {}) => ({ command: process.execPath, args: [STDIO_FIXTURE], ...extra });

  it('starts the child with only the configured environment, serves it, and stops it with nothing left', async () => {
    process.env.MCPGATE_TEST_GATEWAY_SECRET = 'never-inherited';
    try {
      const r = runtime('stdio', { type: 'none' }, launch({ env: { FIXTURE_SETTING: 'on' } }));
      assert.equal(text(await r.request('tools/call', { name: 'echo', arguments: { text: 'stdio' } })), 'stdio');
      const env = JSON.parse(text(await r.request('tools/call', { name: 'env', arguments: {} }))) as Record<string, string>;
      assert.equal(env.FIXTURE_SETTING, 'on');
      assert.equal(env.MCPGATE_TEST_GATEWAY_SECRET, undefined);
      const pid = Number(text(await r.request('tools/call', { name: 'pid', arguments: {} })));
      assert.ok(alive(pid));
      await r.close();
      assert.equal(alive(pid), false, 'the child is gone');
    } finally {
      delete process.env.MCPGATE_TEST_GATEWAY_SECRET;
    }
  });

  it('a child that dies is started again (with backoff) on a later call', async () => {
    const r = runtime('stdio', { type: 'none' }, launch());
    const first = Number(text(await r.request('tools/call', { name: 'pid', arguments: {} })));
    await r.request('tools/call', { name: 'exit', arguments: {} });
    let second = first;
    for (let i = 0; i < 200 && second === first; i++) {
      try {
        second = Number(text(await r.request('tools/call', { name: 'pid', arguments: {} })));
      } catch (err) {
        assert.ok(err instanceof ToolError && err.code === 'UPSTREAM_UNREACHABLE', String(err));
        await new Promise((res) => setTimeout(res, 50));
      }
    }
    assert.notEqual(second, first);
    assert.equal(alive(first), false);
  });

  it('one child per agent session up to maxProcesses; busy beyond', async () => {
    const r = runtime('stdio', { type: 'none' }, launch({ upstream: { sessions: 'per-session', maxProcesses: 2 } }));
    const pidOf = async (sessionId: string) => Number(text(await r.request('tools/call', { name: 'pid', arguments: {} }, { sessionId })));
    const a = await pidOf('a');
    const b = await pidOf('b');
    assert.notEqual(a, b);
    assert.equal(await pidOf('a'), a);
    // Both busy: a third session is refused, not queued forever.
    const busy = [r.request('tools/call', { name: 'sleep', arguments: { ms: 400 } }, { sessionId: 'a' }), r.request('tools/call', { name: 'sleep', arguments: { ms: 400 } }, { sessionId: 'b' })];
    await rejectsWith(r.request('tools/call', { name: 'pid', arguments: {} }, { sessionId: 'c' }), 'UPSTREAM_BUSY');
    await Promise.all(busy);
    // Idle again: the least recently used child makes room.
    const c = await pidOf('c');
    assert.ok(c !== a && c !== b);
    assert.equal(r.size, 2);
  });

  it('garbage on stdout: UPSTREAM_PROTOCOL; a command that does not exist: UPSTREAM_UNREACHABLE', async () => {
    const garbage = runtime('stdio', { type: 'none' }, { command: process.execPath, args: [STDIO_FIXTURE, 'garbage'], upstream: { timeoutMs: 5000 } });
    await rejectsWith(garbage.request('tools/call', { name: 'echo', arguments: {} }), 'UPSTREAM_PROTOCOL');
    const missing = runtime('stdio', { type: 'none' }, { command: '/nonexistent/mcp-server' });
    await rejectsWith(missing.request('tools/list', {}), 'UPSTREAM_UNREACHABLE', /not found/);
  });

  it('a restarted gateway ends the children a crashed one recorded (and only those: a reused pid is left alone)', { skip: process.platform !== 'linux' && 'Linux only' }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mcpgate-reaper-'));
    const file = join(dir, 'stdio-children.json');
    const orphan = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { detached: true, stdio: 'ignore' });
    const other = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { detached: true, stdio: 'ignore' });
    await Promise.all([once(orphan, 'spawn'), once(other, 'spawn')]);
    try {
      const stat = (pid: number) => procStat(pid)?.[19];
      writeFileSync(file, JSON.stringify([{ pid: orphan.pid, start: stat(orphan.pid as number) }, { pid: other.pid, start: 'another process' }]));
      const exited = once(orphan, 'exit');
      assert.equal(reapAndRecordChildren(file), 1);
      await exited;
      assert.ok(alive(other.pid as number), 'a process whose start time differs is not touched');
      // From now on the file records this process's own live children, not the reaped ones.
      const recorded = (JSON.parse(readFileSync(file, 'utf8')) as { pid: number }[]).map((r) => r.pid);
      assert.ok(!recorded.includes(orphan.pid as number) && !recorded.includes(other.pid as number));
    } finally {
      other.kill('SIGKILL');
      orphan.kill('SIGKILL');
    }
  });

  it('closing every runtime leaves no child process', async () => {
    await Promise.all(runtimes.map((r) => r.close()));
    assert.equal(liveChildCount(), 0);
  });
});
