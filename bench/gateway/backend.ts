/**
 * The backend behind every peer of the gateway benchmark: a bare node:http server answering
 * every request with the same JSON document (about 200 bytes).
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
  const server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
    // Drain any request body, then answer.
    req.resume();
    req.once('end', () => {
      res.writeHead(200, headers);
      res.end(body);
    });
  });
  server.listen(Number(process.argv[2]), '127.0.0.1');
  process.once('SIGTERM', () => {
    server.closeAllConnections();
    server.close(() => process.exit(0));
  });
}
