/**
 * The floor under a REST tools/call: a bare node:http server that reads the POST body, fetches the
 * backend's GET /item with undici's `dispatch` (as the gateway's REST transport does) and answers
 * a JSON-RPC result holding the backend's body as text. No MCP, no validation, no security: what
 * any Node proxy of this shape costs, to compare the gateway with (bench/gateway/syscalls.bench.ts).
 *
 *   node bench/gateway/floor-proxy.ts PORT BACKEND_PORT   (through tsx)
 */
import { createServer } from 'node:http';
import { Agent } from 'undici';
import type { Dispatcher } from 'undici';

const [port, backendPort] = [Number(process.argv[2]), Number(process.argv[3])];
const agent = new Agent({ keepAliveTimeout: 30_000, connections: 256, pipelining: 1 });
const origin = `http://127.0.0.1:${backendPort}`;

/** Collects one backend answer (the dispatch handler API, as the gateway's transport uses it). */
function fetchItem(done: (status: number, body: string) => void): void {
  const chunks: Buffer[] = [];
  let status = 0;
  const handler: Dispatcher.DispatchHandler = {
    onRequestStart() {},
    onResponseStart(_controller, code) { status = code; },
    onResponseData(_controller, chunk) { chunks.push(chunk); },
    onResponseEnd() { done(status, Buffer.concat(chunks).toString('utf8')); },
    onResponseError(_controller, err) { done(502, String(err)); },
  };
  agent.dispatch({ origin, path: '/item', method: 'GET', headers: {} }, handler);
}

const server = createServer({ keepAliveTimeout: 5000 }, (req, res) => {
  if (req.method === 'GET') return void res.end('ok'); // readiness
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const message = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { id: unknown };
    fetchItem((status, body) => {
      const answer = JSON.stringify({ jsonrpc: '2.0', id: message.id, result: { content: [{ type: 'text', text: body }], isError: status >= 400 } });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(answer) });
      res.end(answer);
    });
  });
});
server.listen(port, '127.0.0.1');
process.once('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
