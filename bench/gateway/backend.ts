/**
 * The backend behind every peer of the gateway benchmark: a bare node:http server answering
 * every request with the same JSON document (about 200 bytes); `/slow…` answers it after 5 s
 * and `/big…` answers a 256 KiB document (the soak benchmark's abandoned calls and slow readers).
 *
 *   node bench/gateway/backend.ts PORT   (through tsx)
 */
import { createServer } from 'node:http';

/** The document the backend answers with. */
export const DOCUMENT = JSON.stringify({
  id: 42, name: 'widget', price: 19.99, currency: 'EUR', tags: ['bench', 'fixed'],
  stock: { warehouse: 'fra-1', count: 128 }, updatedAt: '2026-01-01T00:00:00Z', description: 'A fixed JSON document for benchmarks.',
});

if (import.meta.url === `file://${process.argv[1]}`) {
  const body = Buffer.from(DOCUMENT);
  const headers = { 'content-type': 'application/json', 'content-length': String(body.length) };
  const big = Buffer.from(JSON.stringify({ items: Array.from({ length: 1200 }, (_, i) => ({ i, text: 'x'.repeat(200) })) }).slice(0, 256 * 1024 - 2) + '"}');
  const bigHeaders = { 'content-type': 'text/plain', 'content-length': String(big.length) };
  const server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
    // Drain any request body, then answer.
    req.resume();
    req.once('end', () => {
      const answer = () => {
        if (res.destroyed) return;
        res.writeHead(200, headers);
        res.end(body);
      };
      if (req.url?.startsWith('/big')) {
        res.writeHead(200, bigHeaders);
        return void res.end(big);
      }
      if (!req.url?.startsWith('/slow')) return answer();
      const timer = setTimeout(answer, 5000);
      res.once('close', () => clearTimeout(timer));
    });
  });
  server.listen(Number(process.argv[2]), '127.0.0.1');
  process.once('SIGTERM', () => {
    server.closeAllConnections();
    server.close(() => process.exit(0));
  });
}
