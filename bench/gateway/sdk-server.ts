/**
 * The hand-written peer of the gateway benchmark: an MCP server built with the official SDK
 * (`@modelcontextprotocol/sdk` 1.x) the way its documentation shows for stateless Streamable
 * HTTP — a new McpServer and StreamableHTTPServerTransport per request, no sessions, JSON
 * responses — whose one tool calls the benchmark backend and returns its body as text.
 *
 *   node bench/gateway/sdk-server.ts PORT BACKEND_URL   (through tsx)
 */
import { createServer } from 'node:http';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { Agent, request } from 'undici';

const port = Number(process.argv[2]);
const backend = new URL('/item', process.argv[3]).toString();
// Keep-alive connections to the backend, as the gateway has (the SDK peer's strongest form).
const dispatcher = new Agent({ keepAliveTimeout: 30_000, connections: 256 });

function mcpServer(): McpServer {
  const server = new McpServer({ name: 'bench-sdk', version: '1.0.0' });
  server.registerTool('get_item', { description: 'Get the item from the backend' }, async () => {
    const res = await request(backend, { method: 'GET', dispatcher });
    const text = await res.body.text();
    return { content: [{ type: 'text', text }], ...(res.statusCode >= 400 ? { isError: true } : {}) };
  });
  return server;
}

const http = createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
  if (req.method !== 'POST' || req.url !== '/mcp') {
    // Readiness probe and anything else.
    res.writeHead(req.url === '/healthz' ? 200 : 404, { 'content-type': 'text/plain' });
    res.end(req.url === '/healthz' ? 'ok' : 'not found');
    return;
  }
  const server = mcpServer();
  const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
  res.on('close', () => {
    void transport.close();
    void server.close();
  });
  server.connect(transport)
    .then(() => transport.handleRequest(req, res))
    .catch((err: unknown) => {
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32603, message: String(err) }, id: null }));
      }
    });
});
http.listen(port, '127.0.0.1');
process.once('SIGTERM', () => {
  http.closeAllConnections();
  http.close(() => process.exit(0));
});
