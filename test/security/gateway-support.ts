/**
 * Helpers of the gateway's security tests (test/security/gateway-*.test.ts and the finding files
 * of the gateway): raw HTTP with any header (Host included), the gateway's limit counters, and a
 * serve stack with one REST tool server.
 */
import { request as httpRequest } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import { createMcpServer, restTool, modernPost, waitFor } from '../support/gateway.js';
import { startStack } from '../support/stack.js';
import type { TestStack } from '../support/stack.js';

/** An answer of `raw`. */
export interface RawAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json: any;
}

/** A request through node:http, so that any header can be sent (fetch will not send Host). */
export function raw(url: string, opts: { method?: string; headers?: Record<string, string>; body?: string; localAddress?: string } = {}): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.body !== undefined) {
      headers['content-type'] ??= 'application/json';
      headers['content-length'] = String(Buffer.byteLength(opts.body));
    }
    const req = httpRequest(url, { method: opts.method ?? (opts.body === undefined ? 'GET' : 'POST'), headers, agent: false, ...(opts.localAddress ? { localAddress: opts.localAddress } : {}) }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { text += c; });
      res.on('end', () => {
        let json: unknown;
        try { json = JSON.parse(text); } catch { json = undefined; }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
      // An SSE answer does not end: give what came with the headers.
      if ((res.headers['content-type'] ?? '').includes('text/event-stream')) {
        res.once('data', () => { resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: undefined }); req.destroy(); });
      }
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** The gateway's count of requests refused and connections closed by one limit (`mcpgate_gateway_limit_hits_total`). */
export async function limitHits(gatewayUrl: string, limit: string): Promise<number> {
  const text = await (await fetch(`${gatewayUrl}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('mcpgate_gateway_limit_hits_total{') && l.includes(`limit="${limit}"`));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}

/** A serve stack with MCP server `public/tools` whose tool `echo` (argument `text`) calls `backendUrl/echo`. */
export async function stackWithEcho(backendUrl: string, options: Record<string, unknown> = {}, tools = [
  restTool('echo', { url: '/echo', properties: { text: { type: 'string' } }, argsToUrlParam: true, response: { body: '{{.}}' } }),
]): Promise<{ stack: TestStack; url: string }> {
  const stack = await startStack({ options });
  await createMcpServer(stack.registryUrl, 'public', { name: 'tools', endpoint: { type: 'url', url: backendUrl }, spec: { version: '1.0.0', tools } });
  const url = `${stack.gatewayUrl}/mcp/public/tools`;
  await waitFor('the server on the gateway', async () => (await modernPost(url, 1, 'tools/list')).status === 200);
  return { stack, url };
}
