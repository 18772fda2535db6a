/**
 * The abusive clients of the soak benchmark, in a process of their own (so that their work does
 * not slow the normal clients' event loop): each kind runs in a few loops against the gateway
 * until the given time, counting what it sent and how it was answered, and prints the counts as
 * JSON on stdout when done.
 *
 *   node --import tsx bench/soak/abusers.ts GATEWAY_URL SECONDS
 *
 * Kinds (the issue's "abusive clients" and a few more of its findings):
 * - abandoned-streams: legacy SSE and 2025 GET streams opened and dropped, or left open unread;
 * - slow-readers: legacy SSE streams never read while 256 KiB answers are posted to them;
 * - oversized-inits: `initialize` with 3 MB of clientInfo/capabilities;
 * - batches: 4,000-entry batches (refused) and full 100-entry batches;
 * - abandoned-calls: calls of a 5 s tool dropped after 50 ms (four loops, each about 10 a second);
 * - slowloris: connections sending a header line every few seconds;
 * - deep-json: 1 MB of `[[[[…`.
 */
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { request } from 'node:http';
import type { IncomingMessage } from 'node:http';
import { ACCEPT, MODERN_META } from '../support/mcpgate.js';
import { ALL_KINDS } from './kinds.js';

const [base = '', secondsArg = '60'] = process.argv.slice(2);
const until = Date.now() + Number(secondsArg) * 1000;
const url = new URL(`${base}/mcp/public/bench`);
const host = url.hostname;
const port = Number(url.port);
const path = url.pathname;

type Counts = Record<string, Record<string, number>>;
const counts: Counts = {};
const count = (kind: string, outcome: string) => {
  const k = (counts[kind] ??= {});
  k[outcome] = (k[outcome] ?? 0) + 1;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const running = () => Date.now() < until;

/** One HTTP request; resolves the response (its body not read) or the error's code. */
function send(method: string, p: string, headers: Record<string, string>, body?: string | Buffer): Promise<IncomingMessage | string> {
  return new Promise((resolve) => {
    const req = request({ host, port, method, path: p, headers: { ...headers, ...(body !== undefined ? { 'content-length': String(Buffer.byteLength(body)) } : {}) } }, resolve);
    req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
    req.setTimeout(60_000, () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
    req.end(body);
  });
}

/** Send and drain the answer; the outcome is the status (or the error). */
async function exchange(method: string, p: string, headers: Record<string, string>, body?: string | Buffer): Promise<{ outcome: string; text: string; res?: IncomingMessage }> {
  const res = await send(method, p, headers, body);
  if (typeof res === 'string') return { outcome: res, text: '' };
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of res) {
    if (size < 65_536) chunks.push(c as Buffer);
    size += (c as Buffer).length;
  }
  return { outcome: String(res.statusCode), text: Buffer.concat(chunks).toString('utf8'), res };
}

const JSON_HEADERS = { 'content-type': 'application/json', accept: ACCEPT };

/** A 2025 session: its id, or undefined when the gateway refuses one (the session caps). */
async function session(kind: string, info: unknown = { name: 'abuser', version: '1' }): Promise<string | undefined> {
  const r = await send('POST', path, JSON_HEADERS, JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: info } }));
  if (typeof r === 'string') return void count(kind, `initialize ${r}`);
  r.resume();
  count(kind, `initialize ${r.statusCode}`);
  const id = r.headers['mcp-session-id'];
  return typeof id === 'string' ? id : undefined;
}

/** A legacy SSE stream: the response (paused when `read` is false) and its message endpoint. */
function openSse(kind: string, read: boolean): Promise<{ res: IncomingMessage; endpoint: string } | undefined> {
  return new Promise((resolve) => {
    const req = request({ host, port, method: 'GET', path: `${path}/sse`, headers: { accept: 'text/event-stream' } }, (res) => {
      count(kind, `sse ${res.statusCode}`);
      if (res.statusCode !== 200) {
        res.resume();
        return resolve(undefined);
      }
      let text = '';
      const onData = (c: Buffer) => {
        text += c.toString('utf8');
        const m = /event: endpoint\ndata: (\S+)/.exec(text);
        if (!m) return;
        res.off('data', onData);
        if (!read) res.pause();
        else res.resume();
        resolve({ res, endpoint: m[1] as string });
      };
      res.on('data', onData);
      res.on('error', () => undefined);
    });
    req.on('error', (err: NodeJS.ErrnoException) => {
      count(kind, `sse ${err.code ?? 'error'}`);
      resolve(undefined);
    });
    req.end();
  });
}

function callBody(id: number, name: string): string {
  return JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: {} } });
}

// ---------------------------------------------------------------------------- the kinds

async function abandonedStreams(): Promise<void> {
  const kind = 'abandoned-streams';
  const held: IncomingMessage[] = [];
  for (let i = 0; running(); i++) {
    if (i % 2 === 0) {
      const s = await openSse(kind, false);
      // Half dropped at once, half left open unread (until the gateway's limits end them).
      if (s && i % 4 === 0) s.res.destroy();
      else if (s) held.push(s.res);
    } else {
      const id = await session(kind);
      if (id) {
        const r = await send('GET', path, { accept: 'text/event-stream', 'mcp-session-id': id, 'mcp-protocol-version': '2025-11-25' });
        if (typeof r === 'string') count(kind, `get ${r}`);
        else {
          count(kind, `get ${r.statusCode}`);
          r.pause();
          held.push(r);
        }
      }
    }
    while (held.length > 200) held.shift()?.destroy();
    await sleep(100);
  }
  for (const r of held) r.destroy();
}

async function slowReaders(): Promise<void> {
  const kind = 'slow-readers';
  while (running()) {
    const s = await openSse(kind, false);
    if (!s) {
      await sleep(500);
      continue;
    }
    // 80 answers of 256 KiB each (20 MiB, more than the loopback socket buffers hold) posted to a stream nobody reads.
    for (let i = 0; i < 80 && running() && !s.res.destroyed; i++) {
      const r = await exchange('POST', s.endpoint, JSON_HEADERS, callBody(i, 'get_big'));
      count(kind, `post ${r.outcome}`);
    }
    // Whether the gateway dropped it shows in its metrics (a paused client does not see the close).
    await sleep(35_000);
    s.res.destroy();
  }
}

async function oversizedInits(): Promise<void> {
  const kind = 'oversized-inits';
  const blob = 'x'.repeat(3 * 1024 * 1024);
  const body = JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: { experimental: { blob } }, clientInfo: { name: blob.slice(0, 1024 * 1024), version: '1' } } });
  while (running()) {
    const r = await exchange('POST', path, JSON_HEADERS, body);
    count(kind, r.outcome);
    await sleep(200);
  }
}

async function batches(): Promise<void> {
  const kind = 'batches';
  const huge = `[${Array.from({ length: 4000 }, (_, i) => callBody(i + 1, 'get_item')).join(',')}]`;
  const full = `[${Array.from({ length: 100 }, (_, i) => callBody(i + 1, 'get_item')).join(',')}]`;
  let id: string | undefined;
  for (let i = 0; running(); i++) {
    id ??= await session(kind);
    if (!id) {
      await sleep(1000);
      continue;
    }
    const r = await exchange('POST', path, { ...JSON_HEADERS, 'mcp-session-id': id, 'mcp-protocol-version': '2025-11-25' }, i % 2 === 0 ? huge : full);
    count(kind, `${i % 2 === 0 ? '4000' : '100'} entries ${r.outcome}`);
    if (r.outcome === '404') id = undefined;
    await sleep(500);
  }
}

async function abandonedCalls(): Promise<void> {
  const kind = 'abandoned-calls';
  const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'slow', arguments: {}, _meta: MODERN_META } });
  const headers = { ...JSON_HEADERS, 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': 'slow' };
  while (running()) {
    await new Promise<void>((resolve) => {
      const req = request({ host, port, method: 'POST', path, headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) } });
      req.on('error', () => resolve());
      req.on('close', () => resolve());
      req.end(body);
      setTimeout(() => req.destroy(), 50);
    });
    count(kind, 'dropped after 50 ms');
    // About 10 a second per loop: each costs the gateway a connection each way, about 1.2 ms of CPU
    // (docs/benchmarks.md, "Soak"); back to back, four loops take a fifth of its one core.
    await sleep(50);
  }
}

async function slowloris(): Promise<void> {
  const kind = 'slowloris';
  const sockets = new Set<Socket>();
  while (running()) {
    while (sockets.size < 100 && running()) {
      const s = connect(port, host);
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => {
        sockets.delete(s);
        count(kind, 'closed by the gateway');
      });
      s.write(`POST ${path} HTTP/1.1\r\nHost: ${host}:${port}\r\n`);
      count(kind, 'opened');
    }
    for (const s of sockets) s.write(`X-Slow-${Math.random().toString(36).slice(2, 8)}: 1\r\n`);
    await sleep(5000);
  }
  for (const s of sockets) s.destroy();
}

async function deepJson(): Promise<void> {
  const kind = 'deep-json';
  const body = '['.repeat(1024 * 1024);
  const headers = { ...JSON_HEADERS, 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': 'get_item' };
  while (running()) {
    const r = await exchange('POST', path, headers, body);
    count(kind, r.outcome);
    await sleep(500);
  }
}

const KINDS: Record<(typeof ALL_KINDS)[number], [loops: number, run: () => Promise<void>]> = {
  'abandoned-streams': [2, abandonedStreams], 'slow-readers': [2, slowReaders], 'oversized-inits': [1, oversizedInits], batches: [1, batches],
  'abandoned-calls': [4, abandonedCalls], slowloris: [1, slowloris], 'deep-json': [1, deepJson],
};
/** ABUSE_KINDS=a,b runs only those kinds (the soak's phases; or to see what each costs). */
const only = process.env.ABUSE_KINDS?.split(',').filter(Boolean);
const unknown = only?.filter((k) => !(ALL_KINDS as readonly string[]).includes(k));
if (unknown?.length) throw new Error(`ABUSE_KINDS: unknown kind(s) ${unknown.join(', ')}; known: ${ALL_KINDS.join(', ')}`);
const loops: Promise<void>[] = [];
for (const [name, [n, run]] of Object.entries(KINDS)) {
  if (only && !only.includes(name)) continue;
  for (let i = 0; i < n; i++) loops.push(run().catch((err: unknown) => count('errors', String(err))));
}
await Promise.all(loops);
process.stdout.write(`${JSON.stringify(counts)}\n`);
process.exit(0);
