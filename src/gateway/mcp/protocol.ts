/**
 * What tells the protocol eras apart, and what every era says about the gateway: the versions
 * served, the 2026-07-28 `_meta` envelope keys, the methods each era knows, serverInfo and
 * capabilities, and the era-specific members of answers (initialize's, 2026-07-28 results').
 */
import type { CompiledConsumer, CompiledServer } from '../snapshot.js';
import type { JsonRpcId } from './jsonrpc.js';
import { resultMessage } from './jsonrpc.js';

/** The 2026-07-28 (stateless) protocol versions served. */
export const STATELESS_VERSIONS = ['2026-07-28'] as const;
/** The versions with sessions (2025 Streamable HTTP, and the 2024 HTTP+SSE transport) served, newest first. */
export const SESSION_VERSIONS = ['2025-11-25', '2025-06-18', '2025-03-26', '2024-11-05'] as const;
/** What the gateway calls itself in serverInfo. */
export const SERVER_VERSION = '0.1.0';

/** `_meta` keys of the 2026-07-28 envelope. */
export const META = {
  protocolVersion: 'io.modelcontextprotocol/protocolVersion',
  clientCapabilities: 'io.modelcontextprotocol/clientCapabilities',
  clientInfo: 'io.modelcontextprotocol/clientInfo',
  serverInfo: 'io.modelcontextprotocol/serverInfo',
  subscriptionId: 'io.modelcontextprotocol/subscriptionId',
} as const;

/**
 * The two method families: `stateless` (2026-07-28: every request carries its envelope) and
 * `session` (2024-11-05 … 2025-11-25, over Streamable HTTP or HTTP+SSE: initialize first).
 */
export type MethodFamily = 'stateless' | 'session';

/** Methods whose 2026-07-28 results are cacheable (carry ttlMs and cacheScope). */
const CACHEABLE = new Set(['server/discover', 'tools/list', 'prompts/list', 'resources/list', 'resources/templates/list', 'resources/read']);

/** Methods each family knows (anything else is -32601). */
const SESSION_METHODS = new Set(['initialize', 'ping', 'tools/list', 'tools/call', 'prompts/list', 'prompts/get', 'resources/list', 'resources/templates/list', 'resources/read', 'resources/subscribe', 'resources/unsubscribe', 'logging/setLevel', 'completion/complete']);
const STATELESS_METHODS = new Set(['server/discover', 'subscriptions/listen', 'tools/list', 'tools/call', 'prompts/list', 'prompts/get', 'resources/list', 'resources/templates/list', 'resources/read', 'completion/complete']);

/** Whether the family knows the method. */
export function knowsMethod(family: MethodFamily, method: string): boolean {
  return (family === 'stateless' ? STATELESS_METHODS : SESSION_METHODS).has(method);
}

type ServerInfo = Readonly<{ name: string; title: string; version: string }>;
/** Each compiled server's serverInfo, made once (2026-07-28 answers carry it in every result). */
const serverInfos = new WeakMap<CompiledServer, ServerInfo>();

/** The serverInfo of a server, in every era. */
export function serverInfo(s: CompiledServer): ServerInfo {
  let info = serverInfos.get(s);
  if (info === undefined) {
    info = Object.freeze({ name: `mcpgate:${s.namespace}/${s.name}`, title: s.name, version: s.version });
    serverInfos.set(s, info);
  }
  return info;
}

/**
 * The capabilities the gateway announces for a server, in every era. One fronting an upstream MCP
 * server offers what the upstream does (as its last connection said; everything until one has
 * been made) besides tools, never more.
 */
export function capabilities(s?: CompiledServer): Record<string, unknown> {
  if (s?.virtual) {
    // A virtual server offers resource subscriptions when one of its members is known to.
    const subscribe = s.virtual.members.some((m) => subscribesToResources(m.server) === true);
    return { tools: { listChanged: true }, prompts: { listChanged: true }, resources: subscribe ? { subscribe: true } : {}, completions: {}, logging: {} };
  }
  const upstream = s?.upstream?.knownCapabilities;
  if (!upstream) return { tools: { listChanged: true }, prompts: { listChanged: true }, resources: {}, completions: {}, logging: {} };
  const resources = upstream.resources as { subscribe?: unknown; listChanged?: unknown } | undefined;
  return {
    tools: { listChanged: true },
    ...(upstream.prompts || (s?.prompts.length ?? 0) > 0 ? { prompts: { listChanged: true } } : {}),
    ...(resources ? { resources: { ...(resources.subscribe === true ? { subscribe: true } : {}), ...(resources.listChanged === true ? { listChanged: true } : {}) } } : {}),
    ...(upstream.completions ? { completions: {} } : {}),
    ...(upstream.logging ? { logging: {} } : {}),
  };
}

/**
 * Whether a server takes resources/subscribe: an upstream MCP server when its capabilities say so
 * (undefined while no connection has told), a virtual server when one of its members does, never a REST one.
 */
export function subscribesToResources(s: CompiledServer): boolean | undefined {
  if (s.virtual) {
    let unknown = false;
    for (const m of s.virtual.members) {
      const member = subscribesToResources(m.server);
      if (member === true) return true;
      if (member === undefined) unknown = true;
    }
    return unknown ? undefined : false;
  }
  if (!s.upstream) return false;
  const known = s.upstream.knownCapabilities;
  if (!known) return undefined;
  return (known.resources as { subscribe?: unknown } | undefined)?.subscribe === true;
}

/** The session eras' `initialize` answer, with the version negotiated from the client's request. */
export function initializeResult(s: CompiledServer, requested: unknown): Record<string, unknown> {
  const version = SESSION_VERSIONS.includes(requested as (typeof SESSION_VERSIONS)[number]) ? (requested as string) : SESSION_VERSIONS[0];
  return { protocolVersion: version, capabilities: capabilities(s), serverInfo: serverInfo(s), ...(s.description ? { instructions: s.description } : {}) };
}

/** Add the 2026-07-28 result members: resultType, serverInfo and, for cacheable results, ttlMs/cacheScope. */
function decorateStateless(method: string, result: Record<string, unknown>, server: CompiledServer, consumer: CompiledConsumer | null): Record<string, unknown> {
  const meta = { ...(result._meta as Record<string, unknown> | undefined), [META.serverInfo]: serverInfo(server) };
  return {
    resultType: 'complete', ...result, _meta: meta,
    ...(CACHEABLE.has(method) ? CACHE_HINTS[consumer ? 'private' : 'public'] : {}),
  };
}

/** A cacheable 2026-07-28 result's hints: private when a consumer's key asked. */
const CACHE_HINTS = { public: { ttlMs: 0, cacheScope: 'public' }, private: { ttlMs: 0, cacheScope: 'private' } } as const;
/** The same hints as JSON members written after others (`,"ttlMs":0,…`). */
const CACHE_HINTS_JSON = { public: `,${JSON.stringify(CACHE_HINTS.public).slice(1, -1)}`, private: `,${JSON.stringify(CACHE_HINTS.private).slice(1, -1)}` };

/** Each compiled server's 2026-07-28 result members (`"resultType":"complete","_meta":{serverInfo}`) as JSON text, made once. */
const statelessMembers = new WeakMap<CompiledServer, string>();

/**
 * The JSON-RPC message of a 2026-07-28 result: the result with the members `decorateStateless`
 * adds. A result that has none of them (every REST tool result) gets them as JSON text serialised
 * once per server, written before its own: the same answer without building and serialising
 * serverInfo's objects per call. One that has some (its own `_meta`, `input_required`) is decorated.
 */
export function statelessResultMessage(id: JsonRpcId, method: string, result: Record<string, unknown>, server: CompiledServer, consumer: CompiledConsumer | null): string {
  if (result._meta !== undefined || result.resultType !== undefined || result.ttlMs !== undefined || result.cacheScope !== undefined) {
    return resultMessage(id, decorateStateless(method, result, server, consumer));
  }
  let members = statelessMembers.get(server);
  if (members === undefined) {
    // What decorateStateless adds to an empty result of a method that is not cacheable.
    members = JSON.stringify(decorateStateless('', {}, server, null)).slice(1, -1);
    statelessMembers.set(server, members);
  }
  return resultMessage(id, result, CACHEABLE.has(method) ? members + CACHE_HINTS_JSON[consumer ? 'private' : 'public'] : members);
}
