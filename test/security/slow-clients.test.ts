// Issue 10, findings 10 (SSE part) and 11: the gateway had no header or body timeout
// (`requestTimeout: 0`: 300 slowloris connections stayed open), and a client that did not read its
// SSE stream made the gateway hold what it was sent without limit. Now headers and whole requests
// must arrive in time (408 and closed), SSE streams are long answers that these timeouts leave
// alone, and a stream whose client is too far behind (streamMaxBufferedBytes) or takes nothing for
// streamWriteTimeoutSeconds is closed. The clock is the subject of the timeouts; what is asserted
// are the events (closes, 408s, drops counted by the gateway), never durations.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { Gateway } from '../../src/gateway/gateway.js';
import type { GatewayLimits } from '../../src/gateway/limits.js';
import { FileSource } from '../../src/gateway/sources/file.js';
import type { Logger } from '../../src/lib/logger.js';
import { firstText, mcpPost, openSse, waitFor } from '../support/gateway.js';
import { startBackend } from '../support/stack.js';
import { limitHits } from './gateway-support.js';

/** What a gateway logs at warn and above, kept for the test to read. */
function capturedLogger(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level: 'warn' }, sink) as unknown as Logger, lines };
}

describe('slow clients (findings 10 and 11)', () => {
  let backend: Awaited<ReturnType<typeof startBackend>>;
  let dir: string;
  const gateways: Gateway[] = [];
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();

  before(async () => {
    // Each call answers about 60 KB, so that a stream that is not read fills up quickly.
    backend = await startBackend((_r, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ pad: 'x'.repeat(60_000) }));
    });
    dir = mkdtempSync(join(tmpdir(), 'mcpgate-slow-'));
    writeFileSync(join(dir, 'svc.yaml'), [
      'server:', '  name: svc', 'tools:', '- name: big', '  description: a big answer', '  requestTemplate:',
      `    url: ${backend.url}/big`, '    method: GET', '  responseTemplate:', '    body: "{{.}}"', '',
    ].join('\n'));
  });
  after(async () => {
    for (const t of timers) clearInterval(t);
    for (const s of sockets) s.destroy();
    for (const g of gateways) await g.close();
    await backend?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function gateway(limits: Partial<GatewayLimits>): Promise<{ gw: Gateway; base: string; url: string; lines: Record<string, unknown>[] }> {
    const { logger, lines } = capturedLogger();
    const gw = await Gateway.start({ host: '127.0.0.1', port: 0, logger, source: new FileSource({ path: dir, logger }), limits });
    gateways.push(gw);
    const base = `http://127.0.0.1:${gw.port}`;
    return { gw, base, url: `${base}/mcp/public/svc`, lines };
  }

  /** A raw connection that sends `first`, then one more header line every 200 ms; resolves its whole answer once the server closes it. */
  function trickle(port: number, first: string, more: string): Promise<string> {
    return new Promise((resolve) => {
      const s = connect(port, '127.0.0.1');
      sockets.add(s);
      let got = '';
      s.on('data', (d) => { got += d.toString('latin1'); });
      s.on('error', () => undefined);
      s.on('close', () => {
        clearInterval(timer);
        timers.delete(timer);
        sockets.delete(s);
        resolve(got);
      });
      s.write(first);
      const timer = setInterval(() => { if (s.writable) s.write(more); }, 200);
      timers.add(timer);
    });
  }

  it('closes 300 slowloris connections (headers never finished, or a body that trickles) with 408, and keeps streams open past the request timeout', async () => {
    const { gw, base, url } = await gateway({ headersTimeoutMs: 1000, requestTimeoutMs: 2000 });
    // A legacy SSE stream opened first: a long answer to a request that was complete at once.
    const stream = await openSse(`${url}/sse`);
    const endpoint = new URL((await stream.next((e) => e.event === 'endpoint')).data, url).toString();
    try {
      const headers = Array.from({ length: 250 }, () => trickle(gw.port, 'POST /mcp/public/svc HTTP/1.1\r\nHost: 127.0.0.1\r\n', 'X-Slow: 1\r\n'));
      const bodies = Array.from({ length: 50 }, () => trickle(gw.port, 'POST /mcp/public/svc HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"jsonrpc":', ' '));
      // Served meanwhile.
      const health = await fetch(`${base}/healthz`);
      assert.equal(health.status, 200);
      await health.body?.cancel();
      const answers = await Promise.all([...headers, ...bodies]);
      assert.equal(answers.length, 300, 'every slow connection was closed by the gateway');
      for (const a of answers) assert.match(a, /^HTTP\/1\.1 408 Request Timeout\r\n/);

      // The stream outlived them all and still carries answers.
      const post = await mcpPost(endpoint, { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'big', arguments: {} } });
      assert.equal(post.status, 202);
      const answer = await stream.next((e) => e.event === 'message' && JSON.parse(e.data).id === 1);
      assert.equal(JSON.parse(firstText(JSON.parse(answer.data).result)).pad.length, 60_000);
    } finally {
      stream.close();
    }
  });

  /**
   * Open a legacy SSE stream on a raw socket, read up to its endpoint event, then stop reading.
   * Answers the message endpoint and the socket.
   */
  async function unreadStream(port: number): Promise<{ endpoint: string; socket: Socket }> {
    const socket = connect(port, '127.0.0.1');
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.write('GET /mcp/public/svc/sse HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n');
    const endpoint = await new Promise<string>((resolve, reject) => {
      let got = '';
      const onData = (d: Buffer) => {
        got += d.toString('utf8');
        const m = /event: endpoint\ndata: (\S+)\n/.exec(got);
        if (!m) return;
        socket.off('data', onData);
        socket.pause();
        resolve(`http://127.0.0.1:${port}${m[1]}`);
      };
      socket.on('data', onData);
      socket.once('close', () => reject(new Error(`closed before the endpoint event: ${got}`)));
    });
    return { endpoint, socket };
  }

  /** Send calls whose answers go to the unread stream until the gateway ends its session (404): answers how many were accepted. */
  async function fill(endpoint: string): Promise<number> {
    let accepted = 0;
    for (;;) {
      const r = await mcpPost(endpoint, { jsonrpc: '2.0', id: accepted, method: 'tools/call', params: { name: 'big', arguments: {} } });
      if (r.status === 404) return accepted;
      assert.equal(r.status, 202, r.text);
      accepted += 1;
      assert.ok(accepted < 5000, 'the stream was never closed');
    }
  }

  it('closes a stream whose client is more than streamMaxBufferedBytes behind, having held at most that and one event', async () => {
    const max = 256 * 1024;
    const { gw, base, lines } = await gateway({ streamMaxBufferedBytes: max, streamWriteTimeoutMs: 600_000 });
    const { endpoint } = await unreadStream(gw.port);
    const sent = await fill(endpoint);
    assert.ok(sent > 5, `the kernel's buffers took ${sent} answers first`);
    assert.equal(await limitHits(base, 'streamMaxBufferedBytes'), 1);
    const drop = lines.find((l) => l.reason === 'streamMaxBufferedBytes');
    assert.ok(drop, JSON.stringify(lines));
    assert.ok((drop.bufferedBytes as number) > max && (drop.bufferedBytes as number) <= max + 70_000, `closed with ${String(drop.bufferedBytes)} bytes waiting: the bound and one event at most`);
    await waitFor('the stream released', () => gw.handler.openStreams === 0);
  });

  it('closes a stream whose client takes nothing of what waits for streamWriteTimeoutSeconds', async () => {
    const { gw, base, lines } = await gateway({ streamMaxBufferedBytes: 64 * 1024 * 1024, streamWriteTimeoutMs: 1000 });
    const { endpoint } = await unreadStream(gw.port);
    // Far more than the kernel buffers: the rest waits in the gateway until the timeout closes the stream.
    const sent = await fill(endpoint);
    assert.ok(sent > 5);
    assert.equal(await limitHits(base, 'streamWriteTimeout'), 1);
    assert.ok(lines.some((l) => l.reason === 'streamWriteTimeout'));
    assert.equal(await limitHits(base, 'streamMaxBufferedBytes'), 0);
    await waitFor('the stream released', () => gw.handler.openStreams === 0);
  });
});
