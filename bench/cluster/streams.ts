/**
 * Opens many MCP sessions with open server streams on one gateway, with raw HTTP, in its own
 * process (so that the benchmark's own sockets and memory are not the gateway's): started by
 * bench/cluster/cluster.bench.ts, driven through stdin/stdout in JSON lines.
 *
 *   node --import tsx bench/cluster/streams.ts '{"url":"http://127.0.0.1:P/mcp/public/bench","sessions":10000,"kind":"streamable","concurrency":64}'
 *
 * kind `streamable`: a 2025-11-25 session (initialize, notifications/initialized) and its GET
 * stream; kind `sse`: a legacy HTTP+SSE stream (GET …/sse). Each stream has its own connection.
 * Prints `{"type":"opened",…}` once all are open (or failed), then on each stdin line
 * `report` prints `{"type":"report",…}` (how many streams are open, how many got a
 * tools/list_changed and when the last one did), and on `close` closes them all and exits.
 */
import { Agent, request } from 'node:http';
import type { ClientRequest, IncomingMessage } from 'node:http';
import { createInterface } from 'node:readline';

interface Options {
  url: string;
  sessions: number;
  kind: 'streamable' | 'sse';
  concurrency: number;
}

const opts = JSON.parse(process.argv[2] ?? '{}') as Options;
const target = new URL(opts.url);
const VERSION = '2025-11-25';
/** Session requests (initialize, initialized) over a few keep-alive connections; each stream on its own. */
const posts = new Agent({ keepAlive: true, maxSockets: 32 });
const now = () => performance.timeOrigin + performance.now();
const emit = (o: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(o)}\n`);

interface Stream {
  req: ClientRequest;
  res?: IncomingMessage;
  changedAt?: number;
  closedByUs: boolean;
}

const streams: Stream[] = [];
const errors: string[] = [];
let unexpectedCloses = 0;
const noteError = (e: string) => { if (errors.length < 20) errors.push(e); };

function post(body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; session: string | undefined; text: string }> {
  const data = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(target, {
      method: 'POST', agent: posts,
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'content-length': Buffer.byteLength(data), ...headers },
    }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { text += c; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, session: res.headers['mcp-session-id'] as string | undefined, text }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(data);
  });
}

/** Open one stream; resolves once its answer headers (and, for SSE, the endpoint event) arrived. */
function openStream(url: URL, headers: Record<string, string>, firstEvent: boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    const s: Stream = { closedByUs: false } as Stream;
    let settled = false;
    const done = (err?: Error) => {
      if (settled) return;
      settled = true;
      if (err) reject(err);
      else resolve();
    };
    s.req = request(url, { method: 'GET', agent: false, headers: { accept: 'text/event-stream', ...headers } }, (res) => {
      s.res = res;
      if (res.statusCode !== 200) {
        res.resume();
        done(new Error(`GET stream: HTTP ${res.statusCode}`));
        return;
      }
      streams.push(s);
      res.setEncoding('utf8');
      let seen = '';
      res.on('data', (chunk: string) => {
        if (firstEvent && !settled) {
          seen += chunk;
          if (seen.includes('\n\n')) done();
        }
        if (s.changedAt === undefined && chunk.includes('notifications/tools/list_changed')) s.changedAt = now();
      });
      res.on('close', () => {
        if (!s.closedByUs) {
          unexpectedCloses += 1;
          noteError('a stream closed by the gateway');
        }
      });
      res.on('error', () => undefined);
      if (!firstEvent) done();
    });
    s.req.on('error', (err) => {
      if (!settled) done(err);
      else if (!s.closedByUs) noteError(`stream socket: ${err.message}`);
    });
    s.req.end();
  });
}

async function openOne(): Promise<void> {
  if (opts.kind === 'sse') return openStream(new URL(`${target.href}/sse`), {}, true);
  const init = await post({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: VERSION, capabilities: {}, clientInfo: { name: 'bench-streams', version: '1' } } });
  if (init.status !== 200 || !init.session) throw new Error(`initialize: HTTP ${init.status} ${init.text.slice(0, 200)}`);
  const headers = { 'mcp-session-id': init.session, 'mcp-protocol-version': VERSION };
  const ready = await post({ jsonrpc: '2.0', method: 'notifications/initialized' }, headers);
  if (ready.status !== 202) throw new Error(`notifications/initialized: HTTP ${ready.status}`);
  // Resolved on the priming event, so the stream is registered on the gateway.
  await openStream(target, headers, true);
}

async function main(): Promise<void> {
  const started = now();
  let next = 0;
  let failed = 0;
  const worker = async () => {
    while (next < opts.sessions) {
      next += 1;
      try {
        await openOne();
      } catch (err) {
        failed += 1;
        noteError(err instanceof Error ? err.message : String(err));
      }
      if ((streams.length + failed) % 1000 === 0) emit({ type: 'progress', open: streams.length, failed });
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency }, worker));
  emit({ type: 'opened', open: streams.length, failed, ms: now() - started, errors });

  const lines = createInterface({ input: process.stdin });
  for await (const line of lines) {
    if (line === 'report') {
      const times = streams.map((s) => s.changedAt).filter((t): t is number => t !== undefined);
      emit({
        type: 'report', open: streams.length - unexpectedCloses, changed: times.length,
        firstChangedAt: times.length ? Math.min(...times) : null, lastChangedAt: times.length ? Math.max(...times) : null,
        unexpectedCloses, failed, errors,
      });
    } else if (line === 'close') {
      for (const s of streams) {
        s.closedByUs = true;
        s.req.destroy();
      }
      posts.destroy();
      emit({ type: 'closed' });
      process.exit(0);
    }
  }
}

void main();
