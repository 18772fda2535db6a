/**
 * Helpers of the gateway's end-to-end tests: MCP servers defined through the native API, raw
 * MCP requests of each protocol era, a raw legacy HTTP+SSE client, polling and free ports.
 */
import { request as httpRequest } from 'node:http';
import { createServer } from 'node:net';
import { http } from './http.js';

/** The `_meta` envelope key of the 2026-07-28 protocol version. */
export const PV = 'io.modelcontextprotocol/protocolVersion';
/** The 2026-07-28 `_meta` envelope of a request. */
export const ENVELOPE = { [PV]: '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {}, 'io.modelcontextprotocol/clientInfo': { name: 'raw', version: '1' } };

/** A REST tool in the native form. */
export function restTool(name: string, opts: {
  description?: string; url: string; method?: string; properties?: Record<string, unknown>; required?: string[];
  argsPosition?: Record<string, string>; argsToUrlParam?: boolean; response?: Record<string, string>; timeoutMs?: number; enabled?: boolean;
  security?: { id: string; passthrough?: boolean; credential?: string; clientId?: string; upstream?: false };
}): Record<string, unknown> {
  return {
    name, description: opts.description ?? `the ${name} tool`, enabled: opts.enabled ?? true,
    inputSchema: { type: 'object', properties: opts.properties ?? {}, ...(opts.required ? { required: opts.required } : {}) },
    template: {
      request: {
        url: opts.url, method: opts.method ?? 'GET', headers: [], argsToUrlParam: opts.argsToUrlParam ?? false, argsToJsonBody: false, argsToFormBody: false,
        ...(opts.security ? { security: opts.security } : {}),
      },
      response: opts.response ?? {}, argsPosition: opts.argsPosition ?? {}, ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}),
    },
  };
}

/** Create and publish an MCP server through the native API; fails the test on an error. */
export async function createMcpServer(registryUrl: string, ns: string, body: Record<string, unknown>): Promise<Record<string, unknown>> {
  const r = await http('POST', `${registryUrl}/api/v1/namespaces/${ns}/mcp-servers`, { body: { protocol: 'http', publish: true, ...body } });
  if (r.status !== 201) throw new Error(`creating MCP server ${String(body.name)}: HTTP ${r.status} ${r.text}`);
  return r.body as Record<string, unknown>;
}

/**
 * The upstream MCP servers of namespace `public` that reach the MCP fixtures, each with no tools of
 * its own: `streamable` (Streamable HTTP at `up`'s /mcp), `sse` (legacy HTTP+SSE at its /sse) and
 * `stdio` (started as the stdio spec config `stdioConfig` says).
 */
export async function createUpstreamMcpServers(registryUrl: string, up: { port: number; url(path: string): string }, stdioConfig: Record<string, unknown>): Promise<void> {
  const spec = (extra: Record<string, unknown> = {}) => ({ version: '1.0.0', tools: [], ...extra });
  await createMcpServer(registryUrl, 'public', { name: 'streamable', protocol: 'mcp-streamable', endpoint: { type: 'url', url: up.url('/mcp') }, spec: spec() });
  await createMcpServer(registryUrl, 'public', { name: 'sse', protocol: 'mcp-sse', endpoint: { type: 'direct', address: '127.0.0.1', port: up.port, exportPath: '/sse' }, spec: spec() });
  await createMcpServer(registryUrl, 'public', { name: 'stdio', protocol: 'stdio', endpoint: { type: 'none' }, spec: spec({ config: stdioConfig }) });
}

/** Poll `check` until it answers a truthy value (or throw after `timeoutMs`). */
export async function waitFor<T>(what: string, check: () => Promise<T> | T, timeoutMs = 5000, everyMs = 20): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v as NonNullable<T>;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** A loopback port nothing listens on (just released). */
export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', () => resolve()));
  const { port } = s.address() as { port: number };
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/**
 * A port nothing can answer on and nobody else can take while the test runs: a listener that resets
 * every connection. (A port from `freePort()` left closed can be bound meanwhile by another test's
 * process, which would then answer.)
 */
export async function deadPort(): Promise<{ port: number; close: () => Promise<void> }> {
  const s = createServer((socket) => socket.destroy());
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', () => resolve()));
  const { port } = s.address() as { port: number };
  return { port, close: () => new Promise<void>((resolve) => s.close(() => resolve())) };
}

/** An answer of a raw MCP POST: status, headers and the JSON body (or the SSE messages, parsed). */
export interface McpAnswer {
  status: number;
  headers: Headers;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
  text: string;
}

/** POST one raw JSON-RPC body (a string is sent as is) to an MCP endpoint. */
export async function mcpPost(url: string, body: unknown, headers: Record<string, string> = {}): Promise<McpAnswer> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: unknown = text;
  const type = res.headers.get('content-type') ?? '';
  if (type.includes('json') && text !== '') parsed = JSON.parse(text);
  else if (type.includes('text/event-stream')) parsed = parseSse(text).map((e) => JSON.parse(e.data) as unknown);
  return { status: res.status, headers: res.headers, body: parsed, text };
}

/** A 2026-07-28 request with the envelope and every header the spec requires (override or drop any with `headers`). */
export function modernPost(url: string, id: number | string, method: string, params: Record<string, unknown> = {}, headers: Record<string, string | undefined> = {}): Promise<McpAnswer> {
  const name = method === 'tools/call' || method === 'prompts/get' ? params.name : undefined;
  const all: Record<string, string | undefined> = {
    'mcp-protocol-version': '2026-07-28', 'mcp-method': method, ...(typeof name === 'string' ? { 'mcp-name': name } : {}), ...headers,
  };
  const sent: Record<string, string> = {};
  for (const [k, v] of Object.entries(all)) if (v !== undefined) sent[k] = v;
  return mcpPost(url, { jsonrpc: '2.0', id, method, params: { ...params, _meta: { ...ENVELOPE, ...(params._meta as object | undefined) } } }, sent);
}

/** Open a 2025 session (initialize + notifications/initialized); answers its id. */
export async function legacySession(url: string, headers: Record<string, string> = {}, version = '2025-06-18'): Promise<string> {
  const init = await mcpPost(url, { jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: version, capabilities: {}, clientInfo: { name: 'raw', version: '1' } } }, headers);
  if (init.status !== 200) throw new Error(`initialize: HTTP ${init.status} ${init.text}`);
  const id = init.headers.get('mcp-session-id');
  if (!id) throw new Error('initialize: no Mcp-Session-Id');
  const done = await mcpPost(url, { jsonrpc: '2.0', method: 'notifications/initialized' }, { ...headers, 'mcp-session-id': id, 'mcp-protocol-version': version });
  if (done.status !== 202) throw new Error(`notifications/initialized: HTTP ${done.status} ${done.text}`);
  return id;
}

/** A request in a 2025 session. */
export function legacyPost(url: string, session: string, id: number, method: string, params: Record<string, unknown> = {}, headers: Record<string, string> = {}): Promise<McpAnswer> {
  return mcpPost(url, { jsonrpc: '2.0', id, method, params }, { 'mcp-session-id': session, 'mcp-protocol-version': '2025-06-18', ...headers });
}

/** One server-sent event. */
export interface SseEvent {
  event: string;
  data: string;
  id?: string;
}

/** Parse a complete `text/event-stream` body (enough for tests: LF line ends). */
export function parseSse(text: string): SseEvent[] {
  const events: SseEvent[] = [];
  for (const block of text.split('\n\n')) {
    let event = 'message';
    const data: string[] = [];
    let id: string | undefined;
    for (const line of block.split('\n')) {
      if (line.startsWith('event:')) event = line.slice(6).trim();
      else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
      else if (line.startsWith('id:')) id = line.slice(3).trim();
    }
    if (data.length > 0) events.push({ event, data: data.join('\n'), ...(id !== undefined ? { id } : {}) });
  }
  return events;
}

/** A raw SSE stream (GET) whose events are collected as they arrive. */
export interface SseStream {
  status: number;
  events: SseEvent[];
  /** The next event matching `pick` (waiting for it), seen or not yet. */
  next(pick: (e: SseEvent) => boolean, timeoutMs?: number): Promise<SseEvent>;
  close(): void;
}

/** Open a GET stream with raw headers (node:http, so that any header can be sent). */
export function openSse(url: string, headers: Record<string, string> = {}): Promise<SseStream> {
  return new Promise((resolve, reject) => {
    const events: SseEvent[] = [];
    const waiters = new Set<() => void>();
    let taken = 0;
    const req = httpRequest(url, { method: 'GET', headers: { accept: 'text/event-stream', ...headers } }, (res) => {
      let buffer = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        const end = buffer.lastIndexOf('\n\n');
        if (end < 0) return;
        events.push(...parseSse(buffer.slice(0, end + 2)));
        buffer = buffer.slice(end + 2);
        for (const w of waiters) w();
      });
      res.on('error', () => undefined);
      const stream: SseStream = {
        status: res.statusCode ?? 0,
        events,
        next: (pick, timeoutMs = 5000) => new Promise((ok, fail) => {
          const look = () => {
            for (let i = taken; i < events.length; i++) {
              const e = events[i] as SseEvent;
              if (pick(e)) {
                taken = i + 1;
                waiters.delete(look);
                clearTimeout(timer);
                ok(e);
                return;
              }
            }
          };
          const timer = setTimeout(() => { waiters.delete(look); fail(new Error(`no matching SSE event within ${timeoutMs} ms; got ${JSON.stringify(events)}`)); }, timeoutMs);
          waiters.add(look);
          look();
        }),
        close: () => { req.destroy(); },
      };
      resolve(stream);
    });
    req.on('error', reject);
    req.end();
  });
}

/**
 * A request with raw headers through node:http (fetch refuses hop-by-hop headers such as Connection
 * or TE); `ownConnection`: on a connection of its own (no agent, no keep-alive).
 */
export function rawPost(url: string, body: string, headers: Record<string, string>, ownConnection = false): Promise<{ status: number; headers: Record<string, unknown>; text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, {
      method: 'POST', ...(ownConnection ? { agent: false } : {}),
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'content-length': String(Buffer.byteLength(body)), ...headers },
    }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { text += c; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** A raw GET event stream (node:http) whose text so far and end (the response closing) are observable. */
export function rawStream(url: string, headers: Record<string, string>): Promise<{ status: number; text(): string; ended: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: 'GET', headers: { accept: 'text/event-stream', ...headers } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => { text += chunk; });
      const ended = new Promise<void>((done) => { res.once('close', () => done()); });
      resolve({ status: res.statusCode ?? 0, text: () => text, ended });
    });
    req.on('error', reject);
    req.end();
  });
}

/** The text of the first content block of a tools/call result. */
export function firstText(result: unknown): string {
  return ((result as { content?: { text?: string }[] }).content?.[0]?.text) ?? '';
}

/** A JSON-RPC error's `data` without the `requestId` every error answer carries (for deepEqual). */
export function errorData(error: { data?: unknown } | undefined): unknown {
  const data = error?.data;
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return data;
  const { requestId: _requestId, ...rest } = data as Record<string, unknown>;
  return rest;
}
