/**
 * MCP methods of a server that fronts an upstream MCP server whose tools the registry does not
 * list (`liveTools`): tools/list and tools/call go to the upstream, filtered by the consumer's
 * allow-list (an OAuth token's scopes included: a tool they do not grant is hidden, and calling
 * it is the 403 `insufficient_scope` step-up, as for listed tools). Pagination (`cursor`,
 * `nextCursor`) and `_meta` pass through as they are.
 */
import { GatewayError } from '../errors.js';
import type { ClientHeaders } from '../../tools/executor.js';
import type { McpServerRuntime, UpstreamCall } from '../../tools/mcp/runtime.js';

/** How many pages of the upstream's tools/list are read to tell a tool the scopes do not grant from one that does not exist. */
const MAX_EXISTENCE_PAGES = 10;

/** A request to an upstream MCP server as the method handlers make it. */
export interface UpstreamRequestContext {
  runtime: McpServerRuntime;
  /** Whether the consumer may use a tool of the server. */
  allowed: (tool: string) => boolean;
  /** The step-up answer for an existing tool the caller's token does not grant (access-policy); absent: "Unknown tool". */
  scopeChallenge?: ((tool: string) => GatewayError | undefined) | undefined;
  /** The headers the upstream may see (rate limits first for a tool call), see `BeforeExecute`; absent: the agent's as they are. */
  backendHeaders?: ((tool: string | undefined) => ClientHeaders | Promise<ClientHeaders>) | undefined;
  call: UpstreamCall;
}

/** The call with the headers the upstream may see (the agent's MCP token never among them). */
async function backendCall(ctx: UpstreamRequestContext, tool: string | undefined): Promise<UpstreamCall> {
  if (!ctx.backendHeaders || !ctx.call.clientHeaders) return ctx.call;
  return { ...ctx.call, clientHeaders: await ctx.backendHeaders(tool) };
}

/** Methods a server fronting an upstream MCP server forwards to it as they are. */
export const FORWARDED_METHODS: ReadonlySet<string> = new Set([
  'resources/list', 'resources/templates/list', 'resources/read', 'prompts/list', 'prompts/get', 'completion/complete', 'logging/setLevel',
]);

/**
 * The params to send upstream: the agent's `_meta` kept, less the keys the gateway's own client
 * sets for its hop (the 2026-07-28 envelope, `progressToken`).
 */
export function upstreamParams(params: Record<string, unknown>): Record<string, unknown> {
  const meta = params._meta;
  if (typeof meta !== 'object' || meta === null) return params;
  const kept: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(meta)) if (k !== 'progressToken' && !k.startsWith('io.modelcontextprotocol/')) kept[k] = v;
  const { _meta: _dropped, ...rest } = params;
  return Object.keys(kept).length > 0 ? { ...rest, _meta: kept } : rest;
}

/** A method forwarded to the upstream as it is. */
export async function upstreamForward(ctx: UpstreamRequestContext, method: string, params: Record<string, unknown>): Promise<Record<string, unknown>> {
  return ctx.runtime.request(method, upstreamParams(params), await backendCall(ctx, undefined));
}

/** tools/list of the upstream, less the tools the consumer may not use. */
export async function upstreamToolsList(ctx: UpstreamRequestContext, params: Record<string, unknown>): Promise<Record<string, unknown>> {
  const cursor = params.cursor;
  if (cursor !== undefined && cursor !== null && typeof cursor !== 'string') throw new GatewayError('INVALID_PARAMS', 'Invalid params: cursor must be a string');
  const result = await ctx.runtime.request('tools/list', typeof cursor === 'string' ? { cursor } : {}, await backendCall(ctx, undefined));
  const tools = Array.isArray(result.tools) ? result.tools as { name?: unknown }[] : [];
  return { ...result, tools: tools.filter((t) => typeof t?.name === 'string' && ctx.allowed(t.name)) };
}

/** tools/call of an upstream tool the consumer may use; the upstream's result (isError included) as it is. */
export async function upstreamToolsCall(ctx: UpstreamRequestContext, params: Record<string, unknown>): Promise<Record<string, unknown>> {
  const name = params.name;
  if (typeof name !== 'string') throw new GatewayError('INVALID_PARAMS', "Invalid params: 'name' must be a string");
  if (!ctx.allowed(name)) {
    // As for listed tools: a token is told the scope of a tool that exists (step-up), a consumer key is not told it exists.
    const challenge = ctx.scopeChallenge && await upstreamHasTool(ctx, name) ? ctx.scopeChallenge(name) : undefined;
    throw challenge ?? new GatewayError('INVALID_PARAMS', `Unknown tool: ${name}`);
  }
  const args = params.arguments ?? {};
  if (typeof args !== 'object' || args === null || Array.isArray(args)) throw new GatewayError('INVALID_PARAMS', "Invalid params: 'arguments' must be an object");
  return ctx.runtime.request('tools/call', { ...upstreamParams(params), name, arguments: args }, await backendCall(ctx, name));
}

/** Whether the upstream lists `name` (its first `MAX_EXISTENCE_PAGES` pages). */
async function upstreamHasTool(ctx: UpstreamRequestContext, name: string): Promise<boolean> {
  const call = await backendCall(ctx, undefined);
  let cursor: string | undefined;
  for (let page = 0; page < MAX_EXISTENCE_PAGES; page++) {
    const result = await ctx.runtime.request('tools/list', cursor !== undefined ? { cursor } : {}, call);
    const tools = Array.isArray(result.tools) ? result.tools as { name?: unknown }[] : [];
    if (tools.some((t) => t?.name === name)) return true;
    if (typeof result.nextCursor !== 'string' || result.nextCursor === '') return false;
    cursor = result.nextCursor;
  }
  return false;
}
