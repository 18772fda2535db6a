/**
 * MCP methods, independent of transport and era: the answers to initialize, server/discover,
 * tools/*, prompts/*, resources/* and friends, computed from the compiled snapshot.
 */
import { parse as parseTemplate } from '../../template/index.js';
import type { Template } from '../../template/index.js';
import { GatewayError, inputError, toolRefusal } from '../errors.js';
import { JsonText } from './jsonrpc.js';
import type { CompiledConsumer, CompiledServer, CompiledTool } from '../snapshot.js';
import type { CallCancellation, CallToolResult, ClientHeaders } from '../../tools/executor.js';

/** The 2026-07-28 (stateless) protocol versions served. */
export const MODERN_VERSIONS = ['2026-07-28'] as const;
/** The session-era versions served, newest first. */
export const LEGACY_VERSIONS = ['2025-11-25', '2025-06-18', '2025-03-26', '2024-11-05'] as const;
/** What the gateway calls itself in serverInfo. */
export const SERVER_VERSION = '0.1.0';
/** Largest tools/list page. */
export const TOOLS_PAGE_SIZE = 500;

/** `_meta` key prefix of the 2026-07-28 envelope. */
export const META = {
  protocolVersion: 'io.modelcontextprotocol/protocolVersion',
  clientCapabilities: 'io.modelcontextprotocol/clientCapabilities',
  clientInfo: 'io.modelcontextprotocol/clientInfo',
  serverInfo: 'io.modelcontextprotocol/serverInfo',
  subscriptionId: 'io.modelcontextprotocol/subscriptionId',
} as const;

/** Methods whose 2026-07-28 results are cacheable (carry ttlMs and cacheScope). */
const CACHEABLE = new Set(['server/discover', 'tools/list', 'prompts/list', 'resources/list', 'resources/templates/list', 'resources/read']);

/** Methods each era knows (anything else is -32601). */
const LEGACY_METHODS = new Set(['initialize', 'ping', 'tools/list', 'tools/call', 'prompts/list', 'prompts/get', 'resources/list', 'resources/templates/list', 'resources/read', 'logging/setLevel', 'completion/complete']);
const MODERN_METHODS = new Set(['server/discover', 'subscriptions/listen', 'tools/list', 'tools/call', 'prompts/list', 'prompts/get', 'resources/list', 'resources/templates/list', 'resources/read', 'completion/complete']);

/** Who is calling and how: what a method handler needs besides its params. */
export interface CallContext {
  era: 'modern' | 'legacy';
  server: CompiledServer;
  consumer: CompiledConsumer | null;
  clientHeaders: ClientHeaders;
  /** The query string of the agent's request (see `ToolCallRequest.clientQuery`). */
  clientQuery: string;
  cancellation: CallCancellation;
  /** Run before a tool's executor (rate limits, backend token exchange): the headers the tool may read, or a thrown GatewayError. */
  beforeExecute?: (tool: string, headers: ClientHeaders) => Promise<ClientHeaders>;
}

/** Whether the era knows the method. */
export function knowsMethod(era: CallContext['era'], method: string): boolean {
  return (era === 'modern' ? MODERN_METHODS : LEGACY_METHODS).has(method);
}

/** Whether a consumer may use a server (and, with `tool`, that tool). */
export function allows(consumer: CompiledConsumer | null, server: string, tool?: string): boolean {
  if (!consumer || consumer.allow === null) return true;
  const tools = consumer.allow.get(server);
  if (tools === null) return true;
  return tools !== undefined && tool !== undefined && tools.has(tool);
}

/** Whether a consumer may use at least something of a server. */
export function allowsAny(consumer: CompiledConsumer | null, server: string): boolean {
  return !consumer || consumer.allow === null || consumer.allow.has(server);
}

function serverInfo(s: CompiledServer) {
  return { name: `mcpgate:${s.namespace}/${s.name}`, title: s.name, version: s.version };
}

function capabilities() {
  return { tools: { listChanged: true }, prompts: { listChanged: true }, resources: {}, completions: {}, logging: {} };
}

/** The legacy `initialize` answer, with the version negotiated from the client's request. */
export function initializeResult(s: CompiledServer, requested: unknown): Record<string, unknown> {
  const version = LEGACY_VERSIONS.includes(requested as (typeof LEGACY_VERSIONS)[number]) ? (requested as string) : LEGACY_VERSIONS[0];
  return { protocolVersion: version, capabilities: capabilities(), serverInfo: serverInfo(s), ...(s.description ? { instructions: s.description } : {}) };
}

/** Add the 2026-07-28 result members: resultType, serverInfo and, for cacheable results, ttlMs/cacheScope. */
export function decorateModern(method: string, result: Record<string, unknown>, ctx: CallContext): Record<string, unknown> {
  const meta = { ...(result._meta as Record<string, unknown> | undefined), [META.serverInfo]: serverInfo(ctx.server) };
  return {
    resultType: 'complete', ...result, _meta: meta,
    ...(CACHEABLE.has(method) ? { ttlMs: 0, cacheScope: ctx.consumer ? 'private' : 'public' } : {}),
  };
}

function visibleTools(ctx: CallContext): readonly CompiledTool[] {
  const { consumer, server } = ctx;
  const tools = consumer?.allow ? consumer.allow.get(server.name) : null;
  if (tools === null) return server.tools;
  return tools ? server.tools.filter((t) => tools.has(t.name)) : [];
}

function decodeCursor(cursor: unknown): number {
  if (cursor === undefined || cursor === null) return 0;
  if (typeof cursor !== 'string') throw new GatewayError('INVALID_PARAMS', 'Invalid params: cursor must be a string');
  if (cursor === '') return 0;
  const m = /^o:(\d{1,9})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!m) throw new GatewayError('INVALID_PARAMS', 'Invalid params: unknown cursor');
  return Number(m[1]);
}

const promptTemplates = new Map<string, Template>();
function promptTemplate(text: string): Template {
  let t = promptTemplates.get(text);
  if (!t) {
    if (promptTemplates.size > 1000) promptTemplates.clear();
    t = parseTemplate(text, { name: 'prompt' });
    promptTemplates.set(text, t);
  }
  return t;
}

/** Options of tools/call beyond the context. */
export interface CallOptions {
  /** Called with progress updates when the client asked for them. */
  onProgress?: (progress: number, total?: number, message?: string) => void;
}

/**
 * Answer one request. Throws GatewayError for protocol errors (unknown tool, malformed params...);
 * arguments that do not fit the tool are a result with `isError: true`.
 */
export async function handleRequest(ctx: CallContext, method: string, params: Record<string, unknown>, options: CallOptions = {}): Promise<Record<string, unknown>> {
  const { server } = ctx;
  switch (method) {
    case 'ping':
    case 'logging/setLevel':
      return {};
    case 'server/discover':
      return {
        supportedVersions: [...MODERN_VERSIONS], capabilities: capabilities(),
        ...(server.description ? { instructions: server.description } : {}),
      };
    case 'tools/list': {
      const tools = visibleTools(ctx);
      const start = decodeCursor(params.cursor);
      if (start > tools.length) throw new GatewayError('INVALID_PARAMS', 'Invalid params: unknown cursor');
      const end = Math.min(start + TOOLS_PAGE_SIZE, tools.length);
      return {
        tools: JsonText.array(tools.slice(start, end).map((t) => t.listEntry)),
        ...(end < tools.length ? { nextCursor: Buffer.from(`o:${end}`).toString('base64url') } : {}),
      };
    }
    case 'tools/call': {
      const name = params.name;
      if (typeof name !== 'string') throw new GatewayError('INVALID_PARAMS', "Invalid params: 'name' must be a string");
      const tool = server.toolsByName.get(name);
      if (!tool || !allows(ctx.consumer, server.name, name)) throw new GatewayError('INVALID_PARAMS', `Unknown tool: ${name}`);
      const raw = params.arguments ?? {};
      if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new GatewayError('INVALID_PARAMS', "Invalid params: 'arguments' must be an object");
      // `raw` was parsed from this request alone: the validator may fill in defaults on it.
      const args = raw as Record<string, unknown>;
      // Input errors are tool results (SEP-1303), so that the model reads them and corrects its call.
      const problem = tool.validate(args);
      if (problem) return inputError(`Invalid arguments for tool ${name}: ${problem}`) as unknown as Record<string, unknown>;
      options.onProgress?.(0, 1);
      let result: CallToolResult;
      try {
        const clientHeaders = ctx.beforeExecute ? await ctx.beforeExecute(name, ctx.clientHeaders) : ctx.clientHeaders;
        result = await tool.executor.execute({ args, clientHeaders, clientQuery: ctx.clientQuery, cancellation: ctx.cancellation });
      } catch (err) {
        // The executor refuses an argument's value (a path that climbs out, a header with control characters).
        return toolRefusal(name, err) as unknown as Record<string, unknown>;
      }
      options.onProgress?.(1, 1);
      return result as unknown as Record<string, unknown>;
    }
    case 'prompts/list':
      return { prompts: server.prompts.map((p) => ({ name: p.name, ...(p.title ? { title: p.title } : {}), ...(p.description ? { description: p.description } : {}), arguments: p.arguments })) };
    case 'prompts/get': {
      const prompt = server.prompts.find((p) => p.name === params.name);
      if (!prompt) throw new GatewayError('INVALID_PARAMS', `Unknown prompt: ${String(params.name)}`);
      const args = (params.arguments ?? {}) as Record<string, unknown>;
      for (const a of prompt.arguments) {
        if (a.required && (args[a.name] === undefined || args[a.name] === '')) throw new GatewayError('INVALID_PARAMS', `Invalid params: missing required argument '${a.name}'`);
      }
      const data = { args: args as Record<string, string> };
      return {
        ...(prompt.description ? { description: prompt.description } : {}),
        messages: prompt.messages.map((m) => ({ role: m.role, content: { type: 'text', text: promptTemplate(m.text).render(data) } })),
      };
    }
    case 'resources/list':
      return { resources: [] };
    case 'resources/templates/list':
      return { resourceTemplates: [] };
    case 'resources/read':
      throw new GatewayError('INVALID_PARAMS', `Resource not found: ${String(params.uri)}`);
    case 'completion/complete':
      return { completion: { values: [], hasMore: false } };
    default:
      throw new GatewayError('METHOD_NOT_FOUND', 'Method not found');
  }
}
