/**
 * What the web console needs beyond the native API, and the console itself:
 *
 * - `POST …/versions/{version}/try`: runs one tool of a (draft) version through the gateway's
 *   real REST executor, recording the backend exchange, before anything is published;
 * - `POST …/mcp-servers/validate` and `POST …/mcp-servers/import/preview`: the write-time checks
 *   and the import converters, without writing;
 * - `GET /gateways` and `POST /gateways/heartbeat`: the gateways following this registry (the
 *   in-process one of `serve`, and replicas that report themselves by heartbeat or on their
 *   watch connection with `?gateway=<id>&revision=R`);
 * - the built single-page app at `/`, with an HTML fallback for its client-side routes.
 */
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import type { IncomingHttpHeaders } from 'node:http';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { Agent, Dispatcher } from 'undici';
import { AppError, invalid } from '../../../lib/errors.js';
import { isSecretName, SECRET_VALUE } from '../../../lib/secret-names.js';
import { Cancellation } from '../../../tools/cancellation.js';
import { ToolError } from '../../../tools/errors.js';
import { ArgumentHostGuard, guardedLookup } from '../../../tools/address-guard.js';
import { TemplateError } from '../../../template/index.js';
import type { CallToolResult } from '../../../tools/executor.js';
import { createUpstream } from '../../../tools/upstream.js';
import { authorize, canReadSecrets } from '../../domain/auth.js';
import type { Principal } from '../../domain/auth.js';
import type { CredentialPassthrough, McpServer, McpServerSpec, SecretDeclaration, Tool } from '../../../model/model.js';
import { redactEndpoint, restoreSecrets, secretHeaderNames, secretValues } from '../../domain/secrets.js';
import type { RegistrySnapshot, SnapshotInstance } from '../../../model/snapshot.js';
import { parseImport } from '../../../model/convert/import.js';
import type { RegistryServices } from '../../services.js';
import { checkSpec, compileTool, toolListEntry } from '../../../tools/compile.js';
import type { ToolConnections } from '../../../tools/compile.js';
import { specFor } from '../redaction.js';
import * as S from '../native/schemas.js';

type Params = Record<string, string>;

/** A backend body kept for the console is cut at this many bytes. */
export const TRY_BODY_CAP_BYTES = 64 * 1024;
/** Try calls time out after this long unless the tool sets its own timeout. */
const TRY_DEFAULT_TIMEOUT_MS = 30_000;
const MASK = '****';
/** Header and query parameter names whose values the rendered request hides: credentials (lib/secret-names.ts) and session ids. */
const maskedName = (name: string) => isSecretName(name) || /session/i.test(name);

// ------------------------------------------------------------------ gateways

/** What a gateway reports about itself. */
export interface GatewayStatus {
  /** Registry revision of the snapshot it serves. */
  revision: number;
  /** Open MCP sessions (2025 sessions and legacy SSE sessions), when it can count them. */
  sessions?: number | undefined;
  /** Open server streams (GET streams, legacy SSE, 2026 listen streams). */
  streams?: number | undefined;
  /** Where agents reach it, e.g. `http://10.0.0.5:8080`. */
  address?: string | undefined;
  /** Where it takes its configuration from (`in-process registry`, `registry http://r1:8848`). */
  source?: string | undefined;
  /** The mcpgate version it runs. */
  version?: string | undefined;
  startedAt?: number | undefined;
}

/** A gateway in the registry's own process (`mcpgate serve`): asked for its status on each listing. */
export interface LocalGateway {
  id: string;
  status(): GatewayStatus;
}

/** One gateway as the console lists it. */
export interface GatewayView extends GatewayStatus {
  id: string;
  kind: 'in-process' | 'remote';
  /** `connected`: in process or a watch connection is open; `reporting`: heartbeats arrive; `stale`: silent for over 90 s. */
  state: 'connected' | 'reporting' | 'stale';
  /** Epoch ms of the last heartbeat or watch request (now, for in-process gateways). */
  lastSeen: number;
  /** Open watch connections of this gateway. */
  watchConnections: number;
  /** The peer address the registry saw. */
  remoteAddress?: string | undefined;
  /** How many revisions the gateway is behind the registry. */
  lag: number;
}

interface RemoteEntry extends GatewayStatus {
  id: string;
  lastSeen: number;
  watchConnections: number;
  remoteAddress?: string | undefined;
}

const STALE_MS = 90_000;
const FORGET_MS = 15 * 60_000;
const MAX_REMOTE = 1000;

/** The gateways following one registry node, as far as this node knows. */
export class GatewayDirectory {
  private readonly local = new Map<string, LocalGateway>();
  private readonly remote = new Map<string, RemoteEntry>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Attach a gateway running in this process; answers the function that detaches it. */
  attachLocal(gateway: LocalGateway): () => void {
    this.local.set(gateway.id, gateway);
    return () => { if (this.local.get(gateway.id) === gateway) this.local.delete(gateway.id); };
  }

  /** A heartbeat of a remote gateway. */
  heartbeat(id: string, status: GatewayStatus, remoteAddress?: string): void {
    const entry = this.entry(id);
    Object.assign(entry, definedOnly(status), { lastSeen: this.now(), remoteAddress: remoteAddress ?? entry.remoteAddress });
  }

  /** A watch request of a remote gateway (`?gateway=<id>&revision=R`); answers the function to call when it closes. */
  watchOpened(id: string, revision: number | undefined, remoteAddress?: string): () => void {
    const entry = this.entry(id);
    entry.watchConnections++;
    entry.lastSeen = this.now();
    if (revision !== undefined && revision > entry.revision) entry.revision = revision;
    if (remoteAddress) entry.remoteAddress = remoteAddress;
    let closed = false;
    return () => {
      if (closed) return;
      closed = true;
      entry.watchConnections = Math.max(0, entry.watchConnections - 1);
      entry.lastSeen = this.now();
    };
  }

  /** The port the first in-process gateway listens on (`mcpgate serve`), if any. */
  localPort(): number | undefined {
    for (const g of this.local.values()) {
      try {
        const address = g.status().address;
        const port = address ? Number(new URL(address).port) : NaN;
        if (Number.isInteger(port) && port > 0) return port;
      } catch {
        // a gateway that cannot say where it listens is skipped
      }
    }
    return undefined;
  }

  /** Every gateway known, in-process first. */
  list(registryRevision: number): GatewayView[] {
    const t = this.now();
    const out: GatewayView[] = [];
    for (const g of this.local.values()) {
      let status: GatewayStatus;
      try {
        status = g.status();
      } catch {
        status = { revision: 0 };
      }
      out.push({ ...status, id: g.id, kind: 'in-process', state: 'connected', lastSeen: t, watchConnections: 0, lag: Math.max(0, registryRevision - status.revision) });
    }
    for (const [id, e] of this.remote) {
      if (e.watchConnections === 0 && t - e.lastSeen > FORGET_MS) {
        this.remote.delete(id);
        continue;
      }
      const state = e.watchConnections > 0 ? 'connected' : t - e.lastSeen <= STALE_MS ? 'reporting' : 'stale';
      out.push({ ...e, kind: 'remote', state, lag: Math.max(0, registryRevision - e.revision) });
    }
    return out;
  }

  private entry(id: string): RemoteEntry {
    let entry = this.remote.get(id);
    if (!entry) {
      if (this.remote.size >= MAX_REMOTE) {
        const oldest = [...this.remote.values()].filter((e) => e.watchConnections === 0).sort((a, b) => a.lastSeen - b.lastSeen)[0];
        if (oldest) this.remote.delete(oldest.id);
      }
      entry = { id, revision: 0, lastSeen: this.now(), watchConnections: 0 };
      this.remote.set(id, entry);
    }
    return entry;
  }
}

const directories = new WeakMap<RegistryServices, GatewayDirectory>();

/** The gateway directory of a registry (one per `RegistryServices`). */
export function gatewayDirectory(services: RegistryServices): GatewayDirectory {
  let d = directories.get(services);
  if (!d) {
    d = new GatewayDirectory();
    directories.set(services, d);
  }
  return d;
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function hasGlobalRole(p: Principal): boolean {
  return p.roles.some((r) => r.namespace === '*');
}

function requireGlobalRole(p: Principal, what: string): void {
  if (!hasGlobalRole(p)) throw new AppError('FORBIDDEN', `${what} needs a role on every namespace (*)`);
}

const GATEWAY_ID = /^[A-Za-z0-9][A-Za-z0-9_.:@/-]{0,199}$/;

// ------------------------------------------------------------------ recording dispatcher

/** One backend exchange as the console shows it. */
export interface RecordedExchange {
  request: { method: string; url: string; headers: Record<string, string>; body: string | null };
  response: { status: number; headers: Record<string, string>; body: string; bodyBytes: number; truncated: boolean } | null;
  error?: string;
  durationMs: number;
}

function headerRecord(headers: Dispatcher.DispatchOptions['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  if (!headers) return out;
  const add = (k: string, v: unknown) => {
    if (v === undefined || v === null) return;
    const key = k.toLowerCase();
    const value = Array.isArray(v) ? v.map(String).join(', ') : String(v);
    out[key] = out[key] !== undefined ? `${out[key]}, ${value}` : value;
  };
  if (Array.isArray(headers)) {
    for (let i = 0; i + 1 < headers.length; i += 2) add(String(headers[i]), headers[i + 1]);
  } else if (typeof (headers as Iterable<unknown>)[Symbol.iterator] === 'function' && !(headers.constructor === Object)) {
    for (const [k, v] of headers as Iterable<[string, string | string[] | undefined]>) add(k, v);
  } else {
    for (const [k, v] of Object.entries(headers as Record<string, unknown>)) add(k, v);
  }
  return out;
}

function bodyText(body: Dispatcher.DispatchOptions['body']): string | null {
  if (body === undefined || body === null) return null;
  if (typeof body === 'string') return body;
  if (body instanceof Uint8Array) return Buffer.from(body).toString('utf8');
  return '[stream body]';
}

/**
 * A `Dispatcher` that records every request the executor sends (method, URL, headers, body)
 * and the backend's status, headers and raw body (up to a cap), delegating to a real one.
 */
export class RecordingDispatcher extends Dispatcher {
  constructor(private readonly inner: Dispatcher, private readonly cap = TRY_BODY_CAP_BYTES, readonly exchanges: RecordedExchange[] = []) {
    super();
  }

  override dispatch(opts: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    const origin = typeof opts.origin === 'string' ? opts.origin : opts.origin?.toString() ?? '';
    const exchange: RecordedExchange = {
      request: { method: opts.method, url: `${origin.replace(/\/$/, '')}${opts.path}`, headers: headerRecord(opts.headers), body: bodyText(opts.body) },
      response: null,
      durationMs: 0,
    };
    this.exchanges.push(exchange);
    const started = performance.now();
    const chunks: Buffer[] = [];
    let kept = 0;
    let total = 0;
    const cap = this.cap;
    const finish = () => { exchange.durationMs = Math.round((performance.now() - started) * 10) / 10; };
    const keep = (chunk: Buffer) => {
      total += chunk.length;
      if (kept < cap) {
        const piece = chunk.subarray(0, cap - kept);
        chunks.push(Buffer.from(piece));
        kept += piece.length;
      }
    };
    const settle = (error?: Error) => {
      if (error) exchange.error = error.message || (error as { code?: string }).code || String(error);
      if (exchange.response) {
        exchange.response.body = Buffer.concat(chunks).toString('utf8');
        exchange.response.bodyBytes = total;
        exchange.response.truncated = total > kept;
      }
      finish();
    };
    if (typeof handler.onResponseStart !== 'function' && typeof handler.onHeaders === 'function') {
      // A handler of undici's older callback style (what Dispatcher#request passes).
      const legacy: Dispatcher.DispatchHandler = {
        onConnect: (abort) => handler.onConnect?.(abort),
        onUpgrade: (status, headers, socket) => handler.onUpgrade?.(status, headers, socket),
        onBodySent: (size, sent) => handler.onBodySent?.(size, sent),
        onResponseStarted: () => handler.onResponseStarted?.(),
        onHeaders: (status, raw, resume, text) => {
          if (status >= 200) exchange.response = { status, headers: headerRecord(raw.map(String)), body: '', bodyBytes: 0, truncated: false };
          return handler.onHeaders?.(status, raw, resume, text) ?? true;
        },
        onData: (chunk) => {
          keep(chunk);
          return handler.onData?.(chunk) ?? true;
        },
        onComplete: (trailers) => {
          settle();
          handler.onComplete?.(trailers);
        },
        onError: (error) => {
          settle(error);
          handler.onError?.(error);
        },
      };
      return this.inner.dispatch(opts, legacy);
    }
    const wrapped: Dispatcher.DispatchHandler = {
      onRequestStart: (controller, context) => handler.onRequestStart?.(controller, context),
      onRequestUpgrade: (controller, status, headers, socket) => handler.onRequestUpgrade?.(controller, status, headers, socket),
      onResponseStart: (controller, status, headers, message) => {
        exchange.response = { status, headers: headerRecord(headers as IncomingHttpHeaders), body: '', bodyBytes: 0, truncated: false };
        handler.onResponseStart?.(controller, status, headers, message);
      },
      onResponseData: (controller, chunk) => {
        keep(chunk);
        handler.onResponseData?.(controller, chunk);
      },
      onResponseEnd: (controller, trailers) => {
        settle();
        handler.onResponseEnd?.(controller, trailers);
      },
      onResponseError: (controller, error) => {
        settle(error);
        handler.onResponseError?.(controller, error);
      },
    };
    return this.inner.dispatch(opts, wrapped);
  }

  override close(): Promise<void>;
  override close(callback: () => void): void;
  override close(callback?: () => void): Promise<void> | void {
    // The inner dispatcher is shared: nothing of its own to close.
    if (callback) return void queueMicrotask(callback);
    return Promise.resolve();
  }

  override destroy(): Promise<void>;
  override destroy(err: Error | null): Promise<void>;
  override destroy(callback: () => void): void;
  override destroy(err: Error | null, callback: () => void): void;
  override destroy(a?: Error | null | (() => void), b?: () => void): Promise<void> | void {
    const callback = typeof a === 'function' ? a : b;
    if (callback) return void queueMicrotask(callback);
    return Promise.resolve();
  }
}

// ------------------------------------------------------------------ masking

function maskValue(value: string): string {
  const space = value.indexOf(' ');
  if (space > 0 && /^(bearer|basic|digest|token|apikey)$/i.test(value.slice(0, space))) return `${value.slice(0, space)} ${MASK}`;
  return MASK;
}

function maskCookies(value: string): string {
  return value.split(';').map((c) => {
    const part = c.trim();
    const eq = part.indexOf('=');
    return eq < 0 ? MASK : `${part.slice(0, eq)}=${MASK}`;
  }).join('; ');
}

/** Headers with credentials masked: authorization, cookies, API-key-like names, and the names given. */
export function maskHeaders(headers: Record<string, string>, alsoSecret: ReadonlySet<string> = new Set()): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) {
    const key = k.toLowerCase();
    if (key === 'cookie' || key === 'set-cookie') out[k] = maskCookies(v);
    else if (maskedName(key) || alsoSecret.has(key) || SECRET_VALUE.test(v.replace(/^bearer\s+/i, ''))) out[k] = maskValue(v);
    else out[k] = v;
  }
  return out;
}

/** A URL with credential-like query parameters masked. */
export function maskUrl(url: string, alsoSecret: ReadonlySet<string> = new Set()): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const hash = url.indexOf('#', q);
  const query = url.slice(q + 1, hash < 0 ? undefined : hash);
  const masked = query.split('&').map((pair) => {
    const eq = pair.indexOf('=');
    if (eq < 0) return pair;
    let name = pair.slice(0, eq);
    try { name = decodeURIComponent(name.replace(/\+/g, ' ')); } catch { /* keep the raw name */ }
    const value = pair.slice(eq + 1);
    let decoded = value;
    try { decoded = decodeURIComponent(value.replace(/\+/g, ' ')); } catch { /* keep the raw value */ }
    return maskedName(name) || alsoSecret.has(name) || SECRET_VALUE.test(decoded) ? `${pair.slice(0, eq)}=${encodeURIComponent(MASK)}` : pair;
  }).join('&');
  return `${url.slice(0, q + 1)}${masked}${hash < 0 ? '' : url.slice(hash)}`;
}

// ------------------------------------------------------------------ spec helpers

/** A tool as the API takes it, with the defaults the native API applies. */
function normalizeTool(t: Partial<Tool> & { name: string; inputSchema: Record<string, unknown> }): Tool {
  return { ...t, description: t.description ?? '', enabled: t.enabled ?? true, template: t.template ?? null } as Tool;
}

function normalizeSpec(s: Partial<McpServerSpec> & { tools: McpServerSpec['tools'] }, fallbackVersion: string): McpServerSpec {
  return {
    version: s.version || fallbackVersion, description: s.description ?? '', config: s.config ?? {}, securitySchemes: s.securitySchemes ?? [],
    tools: s.tools.map((t) => normalizeTool(t)), prompts: s.prompts ?? [], ...(s.secrets ? { secrets: s.secrets as SecretDeclaration } : {}),
  };
}



function errorBody(err: unknown): { code: string; message: string; field?: string } {
  if (err instanceof AppError) return { code: err.code, message: err.message, ...(err.field ? { field: err.field } : {}) };
  if (err instanceof TemplateError) return { code: 'INVALID_TEMPLATE', message: `${err.templateName}: line ${err.line}, column ${err.column}: ${err.detail}`, field: err.templateName };
  return { code: 'VALIDATION_FAILED', message: (err as Error).message };
}

/** How many problems one `validate` with `all` reports at most. */
const MAX_PROBLEMS = 25;

/**
 * Make the part of a tool a problem is about harmless, so that checking again finds the next
 * problem; false when the field names nothing that can be set aside.
 */
function setAside(tool: Tool, rest: string, n: number): boolean {
  const t = tool.template;
  const request = t?.request ?? undefined;
  const header = /^requestTemplate\.headers\[(\d+)\]/.exec(rest);
  if (rest === 'name') tool.name = `set_aside_${n}`;
  else if (rest === 'description' || rest === 'title' || rest === 'annotations' || rest === 'enabled') {
    if (rest === 'description') tool.description = '';
    else if (rest === 'enabled') tool.enabled = true;
    else delete tool[rest];
  } else if (rest.startsWith('inputSchema')) {
    const props = tool.inputSchema && typeof tool.inputSchema.properties === 'object' && tool.inputSchema.properties !== null ? Object.keys(tool.inputSchema.properties) : [];
    tool.inputSchema = { type: 'object', properties: Object.fromEntries(props.map((n) => [n, {}])) };
  } else if (rest.startsWith('outputSchema')) delete tool.outputSchema;
  else if (!t) return false;
  else if (rest === 'requestTemplate.url' && request) request.url = '/';
  else if (rest === 'requestTemplate.method' && request) request.method = 'GET';
  else if (rest === 'requestTemplate.body' && request) delete request.body;
  else if (header && request && request.headers[Number(header[1])]) request.headers[Number(header[1])] = { key: `x-set-aside-${header[1]}`, value: '' };
  else if (rest.startsWith('requestTemplate.security') && request) delete request.security;
  else if (rest === 'requestTemplate' && request) Object.assign(request, { argsToUrlParam: false, argsToJsonBody: false, argsToFormBody: false });
  else if (rest === 'responseTemplate.body') t.response = { ...t.response, body: '' };
  else if (rest === 'responseTemplate.prependBody') delete t.response.prependBody;
  else if (rest === 'responseTemplate.appendBody') delete t.response.appendBody;
  else if (rest === 'responseTemplate') t.response = {};
  else if (rest === 'errorResponseTemplate') delete t.errorResponseTemplate;
  else if (rest.startsWith('argsPosition.')) delete t.argsPosition[rest.slice('argsPosition.'.length)];
  else if (rest === 'timeoutMs') delete t.timeoutMs;
  else return false;
  return true;
}

/**
 * Every problem of a spec's tools, not only the first: each found problem's part is set aside
 * (on a copy) and the spec checked again, up to `MAX_PROBLEMS`. Problems outside the tools end
 * the search.
 */
export function specProblems(spec: McpServerSpec): { code: string; message: string; field?: string }[] {
  const copy = structuredClone(spec);
  const problems: { code: string; message: string; field?: string }[] = [];
  while (problems.length < MAX_PROBLEMS) {
    try {
      checkSpec(copy);
      break;
    } catch (err) {
      const body = errorBody(err);
      if (!(err instanceof AppError || err instanceof TemplateError)) throw err;
      problems.push(body);
      const m = body.field ? /^tools\[(\d+)\](?:\([^)]*\))?\.?(.*)$/.exec(body.field) : null;
      const tool = m ? copy.tools[Number(m[1])] : undefined;
      if (!m || !tool || !setAside(tool, m[2] ?? '', problems.length)) break;
    }
  }
  return problems;
}

/** The argument an ArgsValidator message names (`missing required argument 'city'`). */
function argumentField(problem: string): string {
  const m = /'([^']+)'/.exec(problem);
  return m ? `arguments.${m[1]}` : 'arguments';
}

// ------------------------------------------------------------------ the try runner

/** Options of the console's routes and static files. */
export interface ConsoleOptions {
  /** Directory of the built single-page app (default: `src/console/dist` of the package). */
  consoleDir?: string;
  /** The gateway's origin as agents reach it (`MCPGATE_PUBLIC_GATEWAY_URL`), for agent URLs and client configurations. */
  publicGatewayUrl?: string;
  /** The gateway's port, for the console to build the agent URL from its own host when `publicGatewayUrl` is unset. */
  gatewayPort?: number;
}

/** The package's built console: `<package root>/src/console/dist` (from src/ under tsx and from dist/ when compiled). */
export function defaultConsoleDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  return resolve(here, '..', '..', '..', '..', 'src', 'console', 'dist');
}

interface TryBody {
  tool: string;
  arguments?: Record<string, unknown>;
  headers?: Record<string, string>;
  definition?: Tool;
}

const trySchema = {
  type: 'object', additionalProperties: false, required: ['tool'],
  properties: {
    tool: { type: 'string', minLength: 1, maxLength: 128 },
    arguments: { type: 'object' },
    headers: { type: 'object', additionalProperties: { type: 'string' } },
    definition: S.tool,
  },
} as const;

/** The console's additional API routes (under /api/v1). */
function consoleApiRoutes(
  svc: RegistryServices, agents: { connections: () => ToolConnections }, opts: ConsoleOptions,
): FastifyPluginAsync {
  return async (app: FastifyInstance) => {
    app.addHook('onRoute', (route) => {
      route.config = { family: 'native', ...(route.config ?? {}) } as typeof route.config;
    });
    const tag = { tags: ['console'] };

    app.post('/namespaces/:ns/mcp-servers/:name/versions/:version/try', {
      schema: {
        ...tag, summary: "Run one tool of a version (a draft too) through the gateway's REST executor and show the backend exchange",
        params: S.versionParams, body: trySchema,
      },
    }, async (req, reply) => {
      const { ns, name, version } = req.params as Params;
      authorize(req.principal, ns!, 'editor');
      const b = req.body as TryBody;
      const { server, version: v } = await svc.mcp.getVersion(ns!, { name: name! }, version!);
      let spec = v.spec;
      if (b.definition) {
        const def = normalizeTool(b.definition);
        if (def.name !== b.tool) throw invalid('definition.name', `must be the tool being tried ('${b.tool}')`);
        const tools = spec.tools.some((t) => t.name === def.name) ? spec.tools.map((t) => (t.name === def.name ? def : t)) : [...spec.tools, def];
        // A definition that shows a redaction marker runs with the stored secret.
        spec = restoreSecrets({ ...spec, tools }, [v.spec]);
        checkSpec(spec);
      }
      const tool = spec.tools.find((t) => t.name === b.tool);
      if (!tool) throw invalid('tool', `version '${v.version}' of '${server.name}' has no tool '${b.tool}'`);
      if (!tool.template) throw invalid('tool', `tool '${tool.name}' has no REST template: the gateway cannot run it`);
      const args = structuredClone(b.arguments ?? {});
      // The tool compiled as the gateway compiles it, its backend exchanges recorded.
      const exchanges: RecordedExchange[] = [];
      const connections = { ...agents.connections(), wrap: (d: Dispatcher) => new RecordingDispatcher(d, TRY_BODY_CAP_BYTES, exchanges) };
      const upstream = createUpstream(server.endpoint, server.protocol, await upstreamSnapshot(svc, server));
      let compiled;
      try {
        compiled = compileTool(tool, { server, spec, upstream, connections, defaultTimeoutMs: TRY_DEFAULT_TIMEOUT_MS });
      } catch (err) {
        if (err instanceof TemplateError) throw new AppError('INVALID_TEMPLATE', `${err.templateName}: line ${err.line}, column ${err.column}: ${err.detail}`, err.templateName);
        throw err;
      }
      const { validate, executor } = compiled;
      const problem = validate(args);
      if (problem) throw new AppError('VALIDATION_FAILED', `invalid arguments for tool ${tool.name}: ${problem}`, argumentField(problem));
      const clientHeaders: Record<string, string> = {};
      for (const [k, val] of Object.entries(b.headers ?? {})) clientHeaders[k.toLowerCase()] = val;
      const cancellation = new Cancellation();
      reply.raw.once('close', () => { if (!reply.raw.writableFinished) cancellation.cancel(); });
      const started = performance.now();
      let result: CallToolResult | null = null;
      let gatewayError: { code: string; status: number; message: string } | null = null;
      try {
        result = await executor.execute({ args, clientHeaders, cancellation });
      } catch (err) {
        if (!(err instanceof ToolError)) throw err;
        if (err.code === 'INVALID_ARGUMENT') throw new AppError('VALIDATION_FAILED', err.message, argumentField(err.message));
        // What the gateway answers a call without the credential the tool passes through.
        gatewayError = { code: 'UNAUTHORIZED', status: 401, message: err.message };
      }
      const durationMs = Math.round((performance.now() - started) * 10) / 10;
      // Every configured secret and every credential the agent passed through is masked, by name and by value,
      // in the request shown and in what the backend echoed back.
      const secretNames = secretNamesOf(spec, tool, server.passthrough);
      const hide = secretValueMasker(spec, clientHeaders, server.passthrough);
      const shown = exchanges.map((e) => ({
        ...e,
        request: {
          ...e.request, url: hide(maskUrl(e.request.url, secretNames.params)),
          headers: Object.fromEntries(Object.entries(maskHeaders(e.request.headers, secretNames.headers)).map(([k, val]) => [k, hide(val)])),
          body: e.request.body === null ? null : hide(e.request.body),
        },
        response: e.response ? {
          ...e.response, body: hide(e.response.body),
          headers: Object.fromEntries(Object.entries(maskHeaders(e.response.headers)).map(([k, val]) => [k, hide(val)])),
        } : null,
        ...(e.error !== undefined ? { error: hide(e.error) } : {}),
      }));
      const last = shown[shown.length - 1];
      return {
        tool: tool.name, version: v.version, arguments: args,
        request: last?.request ?? null, response: last?.response ?? null, ...(last?.error ? { backendError: last.error } : {}),
        attempts: shown, result: hideDeep(result, hide), gatewayError: gatewayError && { ...gatewayError, message: hide(gatewayError.message) }, durationMs,
      };
    });

    app.post('/namespaces/:ns/mcp-servers/validate', {
      schema: {
        ...tag, summary: 'Check a spec as saving a version would (schemas, templates), without saving; answers the tools/list entries',
        params: S.nsParams, body: { type: 'object', additionalProperties: false, required: ['spec'], properties: { spec: S.spec, all: { type: 'boolean' } } },
      },
    }, async (req) => {
      const { ns } = req.params as Params;
      authorize(req.principal, ns!, 'viewer');
      const b = req.body as { spec: McpServerSpec; all?: boolean };
      const spec = normalizeSpec(b.spec, 'draft');
      // With `all`, every problem at once (200, valid: false) instead of the first one as an error.
      if (b.all) {
        const problems = specProblems(spec);
        if (problems.length > 0) return { valid: false, problems };
      }
      checkSpec(spec);
      return { valid: true, tools: spec.tools.filter((t) => t.enabled).map(toolListEntry) };
    });

    app.post('/namespaces/:ns/mcp-servers/import/preview', {
      schema: {
        ...tag, summary: 'Convert a Higress YAML or Nacos MCP JSON definition as import would, without saving',
        params: S.nsParams,
        body: { type: 'object', additionalProperties: false, required: ['format', 'content'], properties: { format: { type: 'string', enum: ['higress', 'nacos'] }, content: { type: 'string', minLength: 1 }, name: { type: 'string' }, version: { type: 'string' } } },
      },
    }, async (req) => {
      const { ns } = req.params as Params;
      authorize(req.principal, ns!, 'viewer');
      const b = req.body as { format: 'higress' | 'nacos'; content: string; name?: string; version?: string };
      const parsed = parseImport(b.format, b.content);
      const spec = { ...parsed.spec, ...(b.version ? { version: b.version } : {}) };
      const server = { ...parsed.input, ...(b.name ? { name: b.name } : {}) };
      // As every read of a spec: its secrets only for those who may read them.
      const shownSpec = specFor(req.principal, ns!, spec);
      const shownServer = !canReadSecrets(req.principal, ns!) && server.endpoint ? { ...server, endpoint: redactEndpoint(server.endpoint) } : server;
      let problem: ReturnType<typeof errorBody> | null = null;
      try {
        checkSpec(spec);
      } catch (err) {
        problem = errorBody(err);
      }
      let exists = false;
      if (server.name) exists = await svc.store.getMcpServer(ns!, { name: server.name }).then((s) => s !== undefined, () => false);
      return { server: shownServer, spec: shownSpec, tools: spec.tools.map((t) => ({ ...toolListEntry(t), enabled: t.enabled, request: t.template?.request ? { method: t.template.request.method, url: t.template.request.url } : null })), valid: problem === null, error: problem, exists };
    });

    app.get('/console/settings', { schema: { ...tag, summary: "Where agents reach the gateway, for the console's agent URLs and client configurations" } }, async () => ({
      publicGatewayUrl: opts.publicGatewayUrl ?? null, gatewayPort: gatewayDirectory(svc).localPort() ?? (opts.gatewayPort || 8080),
    }));

    app.get('/gateways', { schema: { ...tag, summary: 'The gateways following this registry node: snapshot revision, sessions, streams (a role on *)' } }, async (req) => {
      requireGlobalRole(req.principal, 'listing gateways');
      const registryRevision = svc.feed.revision;
      return { registryRevision, items: gatewayDirectory(svc).list(registryRevision) };
    });

    app.post('/gateways/heartbeat', {
      schema: {
        ...tag, summary: 'A gateway reports itself (what it serves and holds open); same rights as the watch API',
        body: {
          type: 'object', additionalProperties: false, required: ['id', 'revision'],
          properties: {
            id: { type: 'string', minLength: 1, maxLength: 200 }, revision: { type: 'integer', minimum: 0 },
            sessions: { type: 'integer', minimum: 0 }, streams: { type: 'integer', minimum: 0 },
            address: { type: 'string', maxLength: 500 }, source: { type: 'string', maxLength: 500 }, version: { type: 'string', maxLength: 64 },
            startedAt: { type: 'integer', minimum: 0 },
            consumers: {
              type: 'array', maxItems: 10000,
              items: { type: 'object', additionalProperties: false, required: ['id', 'at'], properties: { id: { type: 'string', minLength: 1, maxLength: 64 }, at: { type: 'integer', minimum: 0 } } },
            },
          },
        },
      },
    }, async (req) => {
      requireGlobalRole(req.principal, 'a gateway heartbeat');
      const b = req.body as GatewayStatus & { id: string; consumers?: { id: string; at: number }[] };
      if (!GATEWAY_ID.test(b.id)) throw invalid('id', 'must be 1-200 characters of letters, digits and _ . : @ / -');
      const { id, consumers, ...status } = b;
      gatewayDirectory(svc).heartbeat(id, status, req.ip);
      // When the gateway let consumer keys in (the console's "last used"); a time in the future counts as now.
      const now = Date.now();
      if (consumers && consumers.length > 0) await svc.store.touchConsumers(consumers.map((c) => ({ id: c.id, at: Math.min(c.at, now) })));
      return { registryRevision: svc.feed.revision };
    });
  };
}

/** The instances of the service an endpoint references (the only part of the snapshot an upstream reads). */
async function upstreamSnapshot(svc: RegistryServices, server: McpServer): Promise<RegistrySnapshot> {
  const snapshot: RegistrySnapshot = { revision: svc.feed.revision, namespaces: [server.namespace], services: [], mcpServers: [], consumers: [] };
  const e = server.endpoint;
  if (e.type !== 'service') return snapshot;
  let instances: SnapshotInstance[] = [];
  try {
    const list = await svc.naming.listInstances(e.namespace, e.group, e.service);
    instances = list.instances.map((i) => ({ ip: i.ip, port: i.port, weight: i.weight, healthy: i.healthy, enabled: i.enabled, cluster: i.cluster, metadata: i.metadata }));
  } catch (err) {
    if (!(err instanceof AppError)) throw err;
  }
  snapshot.services.push({ namespace: e.namespace, group: e.group, name: e.service, instances });
  return snapshot;
}

/**
 * Replaces, wherever they appear in a rendered request or an answer, the credentials of the run:
 * every secret of the spec (domain/secrets.ts: secret config, scheme and static credentials,
 * secret header values), the values of credential-like agent headers given for the run, and
 * every header and cookie value the server passes through from the agent.
 */
function secretValueMasker(spec: McpServerSpec, clientHeaders: Record<string, string>, passthrough: CredentialPassthrough): (text: string) => string {
  const secrets = new Set<string>();
  const add = (v: string) => {
    if (v.length < 4) return;
    secrets.add(v);
    const space = v.indexOf(' ');
    if (space > 0 && v.length - space > 4) secrets.add(v.slice(space + 1).trim());
  };
  for (const v of secretValues(spec)) add(v);
  const passed = new Set(passthrough.headers.map((h) => h.toLowerCase()));
  const passedCookies = new Set(passthrough.cookies);
  for (const [k, v] of Object.entries(clientHeaders)) {
    if (k === 'cookie') {
      for (const c of v.split(';')) {
        const eq = c.indexOf('=');
        if (eq > 0 && (passed.has('cookie') || passedCookies.has(c.slice(0, eq).trim()))) add(c.slice(eq + 1).trim());
      }
    } else if (maskedName(k) || passed.has(k)) {
      add(v);
    }
  }
  if (secrets.size === 0) return (text) => text;
  // Longest first, so that a secret containing another is replaced whole.
  const ordered = [...secrets].sort((a, b) => b.length - a.length);
  const encoded = ordered.map((x) => [x, encodeURIComponent(x)] as const);
  return (text) => {
    let out = text;
    for (const [raw, enc] of encoded) {
      if (out.includes(raw)) out = out.split(raw).join(MASK);
      if (enc !== raw && out.includes(enc)) out = out.split(enc).join(MASK);
    }
    return out;
  };
}

/** A value with every string inside it passed through `hide` (a tool result shown to the console). */
function hideDeep<T>(value: T, hide: (text: string) => string): T {
  const walk = (v: unknown, depth: number): unknown => {
    if (typeof v === 'string') return hide(v);
    if (depth > 32 || typeof v !== 'object' || v === null) return v;
    if (Array.isArray(v)) return v.map((x) => walk(x, depth + 1));
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x, depth + 1)]));
  };
  return walk(value, 0) as T;
}

/**
 * Header and query names whose values are credentials in this run: the tool's security scheme,
 * the spec's secret headers (named like one or declared), and the headers passed through from the agent.
 */
function secretNamesOf(spec: McpServerSpec, tool: Tool, passthrough: CredentialPassthrough): { headers: Set<string>; params: Set<string> } {
  const headers = secretHeaderNames(spec);
  for (const h of passthrough.headers) headers.add(h.toLowerCase());
  const params = new Set<string>();
  const id = tool.template?.request?.security?.id;
  const scheme = id ? spec.securitySchemes.find((s) => s.id === id) : undefined;
  if (scheme?.type === 'apiKey' && scheme.name) {
    if (scheme.in === 'header') headers.add(scheme.name.toLowerCase());
    if (scheme.in === 'query') params.add(scheme.name);
  }
  return { headers, params };
}

// ------------------------------------------------------------------ static files

const RESERVED = /^\/(api|nacos|healthz|readyz|metrics)(\/|$|\?)/;
const ASSET = /^\/(assets\/)?[A-Za-z0-9][A-Za-z0-9_.-]*\.(js|css|svg|png|ico|woff2|json|txt|map)$/;
const TYPES: Record<string, string> = {
  js: 'text/javascript; charset=utf-8', css: 'text/css; charset=utf-8', svg: 'image/svg+xml', png: 'image/png', ico: 'image/x-icon',
  woff2: 'font/woff2', json: 'application/json; charset=utf-8', txt: 'text/plain; charset=utf-8', map: 'application/json; charset=utf-8',
};
const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'same-origin',
  'content-security-policy': "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
};

const NOT_BUILT = `<!doctype html><html lang="en"><meta charset="utf-8"><title>mcpgate console</title>
<body style="font-family:system-ui;margin:3rem;max-width:40rem"><h1>mcpgate console</h1>
<p>The console is not built. Run <code>npm run build:console</code> (or <code>npm run build</code>) and reload.</p>
<p>The API is at <a href="/api/v1/openapi.json">/api/v1/openapi.json</a>.</p></body></html>`;

function notFound(reply: FastifyReply): FastifyReply {
  reply.callNotFound();
  return reply;
}

async function sendConsoleFile(req: FastifyRequest, reply: FastifyReply, dir: string): Promise<FastifyReply> {
  const path = req.url.split('?')[0] ?? '/';
  if (RESERVED.test(path)) return notFound(reply);
  if (ASSET.test(path)) {
    const file = join(dir, path);
    const info = await stat(file).catch(() => undefined);
    if (info?.isFile()) {
      const ext = path.slice(path.lastIndexOf('.') + 1);
      reply.headers(SECURITY_HEADERS).header('content-type', TYPES[ext] ?? 'application/octet-stream').header('content-length', info.size)
        .header('cache-control', path.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache');
      return reply.send(createReadStream(file));
    }
    if (path.startsWith('/assets/')) return notFound(reply);
  }
  // Client-side routes: the app's HTML, for browsers (API clients asking for JSON keep the 404).
  const accept = req.headers.accept ?? '';
  if (path !== '/' && !accept.includes('text/html')) return notFound(reply);
  const html = await readFile(join(dir, 'index.html'), 'utf8').catch(() => NOT_BUILT);
  return reply.headers(SECURITY_HEADERS).header('cache-control', 'no-cache').type('text/html; charset=utf-8').send(html);
}

/**
 * Adds the console to the registry's HTTP server: its API routes under /api/v1, the built app
 * at `/` (with client-side routes falling back to index.html), and the gateway directory fed by
 * heartbeats and watch connections. Call before the native routes are registered, so that the
 * watch-observing hook covers them.
 */
export async function registerConsole(app: FastifyInstance, svc: RegistryServices, opts: ConsoleOptions = {}): Promise<void> {
  const dir = opts.consoleDir ?? defaultConsoleDir();
  let guarded: Agent | undefined;
  let open: Agent | undefined;
  let argumentHosts: ArgumentHostGuard | undefined;
  const agents = {
    /** The connections of try-it calls, made on the first; hosts their arguments choose are never the registry's own port, as in the gateway. */
    connections: (): ToolConnections => {
      guarded ??= new Agent({ keepAliveTimeout: 10_000, connections: 16, connect: { lookup: guardedLookup } });
      open ??= new Agent({ keepAliveTimeout: 10_000, connections: 16 });
      argumentHosts ??= new ArgumentHostGuard();
      const address = app.server.address();
      if (typeof address === 'object' && address) argumentHosts.own.addLocalPort(address.port);
      return { guarded, open, argumentHosts };
    },
  };
  app.addHook('onClose', async () => {
    await guarded?.close();
    await open?.close();
    await argumentHosts?.close();
  });

  // Gateways following this registry may say who they are on their watch requests.
  const directory = gatewayDirectory(svc);
  app.addHook('preHandler', async (req, reply) => {
    if (!req.url.startsWith('/api/v1/watch/')) return;
    const q = req.query as Record<string, unknown> | undefined;
    const id = q?.gateway;
    if (typeof id !== 'string' || !GATEWAY_ID.test(id) || !req.principal || !hasGlobalRole(req.principal)) return;
    const revision = Number(q?.revision ?? q?.after);
    const closed = directory.watchOpened(id, Number.isInteger(revision) && revision >= 0 ? revision : undefined, req.ip);
    reply.raw.once('close', closed);
  });

  await app.register(consoleApiRoutes(svc, agents, opts), { prefix: '/api/v1' });
  const serve = (req: FastifyRequest, reply: FastifyReply) => sendConsoleFile(req, reply, dir);
  app.get('/', { config: { auth: 'public' } }, serve);
  app.get('/*', { config: { auth: 'public' } }, serve);
}
