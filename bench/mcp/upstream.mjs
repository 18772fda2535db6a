/* global Buffer */
// The upstream of the MCP → MCP proxying benchmark: an official SDK 1.x server over Streamable
// HTTP with 2025 sessions at /mcp (one session per client, as SDK servers are usually written),
// one tool `echo`. `node bench/mcp/upstream.mjs PORT`
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';

const port = Number(process.argv[2] ?? 0);
const sessions = new Map();

function readBody(req) {
  return new Promise((resolve) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => { try { resolve(JSON.parse(Buffer.concat(chunks).toString('utf8'))); } catch { resolve(undefined); } });
  });
}

const http = createServer(async (req, res) => {
  try {
    if (req.url === '/healthz') return void res.end('ok');
    if (!req.url?.startsWith('/mcp')) return void res.writeHead(404).end();
    const id = req.headers['mcp-session-id'];
    if (typeof id === 'string') {
      const t = sessions.get(id);
      if (!t) return void res.writeHead(404, { 'content-type': 'application/json' }).end('{"jsonrpc":"2.0","id":null,"error":{"code":-32001,"message":"Session not found"}}');
      return void await t.handleRequest(req, res, req.method === 'POST' ? await readBody(req) : undefined);
    }
    const body = await readBody(req);
    if (req.method !== 'POST' || !isInitializeRequest(body)) return void res.writeHead(400).end();
    const server = new McpServer({ name: 'bench-upstream', version: '1.0.0' });
    server.registerTool('echo', { description: 'Echo the text', inputSchema: { text: z.string() } }, async ({ text }) => ({ content: [{ type: 'text', text }] }));
    const t = new StreamableHTTPServerTransport({ sessionIdGenerator: () => randomUUID(), onsessioninitialized: (sid) => sessions.set(sid, t) });
    t.onclose = () => { if (t.sessionId) sessions.delete(t.sessionId); };
    await server.connect(t);
    await t.handleRequest(req, res, body);
  } catch (err) {
    if (!res.headersSent) res.writeHead(500).end(String(err));
  }
});
http.listen(port, '127.0.0.1');
