/**
 * MCP methods, independent of transport and era: the answers to server/discover, tools/*,
 * prompts/*, resources/* and friends, computed from the compiled snapshot. Every era runs its
 * requests through `handleRequest` (tools/list and tools/call included); a tool's call goes to
 * the `ToolExecutor` the snapshot compiled for it, whatever kind it is.
 */
import { parse as parseTemplate } from '../../template/index.js';
import type { Template } from '../../template/index.js';
import { GatewayError, inputError, toolRefusal } from '../errors.js';
import { TOOLS_PAGE_SIZE, toolsPage } from './pages.js';
import type { CompiledServer, CompiledTool } from '../snapshot.js';
import type { CallToolResult } from '../../tools/executor.js';
import type { CallContext, CallOptions, ResourceSubscriptions } from './call-context.js';
import { virtualRequest } from './virtual-methods.js';
import { MAX_SUBSCRIPTION_URI_BYTES } from '../sessions/types.js';
import { allows } from '../access-policy.js';
import { STATELESS_VERSIONS, capabilities } from './protocol.js';
import type { UpstreamRequestContext } from './upstream-methods.js';
import { FORWARDED_METHODS, upstreamForward, upstreamToolsCall, upstreamToolsList } from './upstream-methods.js';

export type { CallContext, CallOptions, ResourceSubscriptions };
export { TOOLS_PAGE_SIZE };

function visibleTools(ctx: CallContext): readonly CompiledTool[] {
  const { consumer, server } = ctx;
  const tools = consumer?.allow ? consumer.allow.get(server.name) : null;
  if (tools === null) return server.tools;
  return tools ? server.tools.filter((t) => tools.has(t.name)) : [];
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

/**
 * Answer one request. Throws GatewayError for protocol errors (unknown tool, malformed params...);
 * arguments that do not fit the tool are a result with `isError: true`.
 */
export async function handleRequest(ctx: CallContext, method: string, params: Record<string, unknown>, options: CallOptions = {}): Promise<Record<string, unknown>> {
  const { server } = ctx;
  if (server.virtual) return virtualRequest(ctx, server.virtual, method, params, options, handleRequest);
  if (server.upstream) {
    if (server.liveTools && (method === 'tools/list' || method === 'tools/call')) {
      const live = upstreamContext(ctx, server.upstream, options);
      return method === 'tools/list' ? upstreamToolsList(live, params) : upstreamToolsCall(live, params);
    }
    if (method === 'resources/subscribe' || method === 'resources/unsubscribe') return upstreamSubscription(ctx, server.upstream, method, params, options);
    if (FORWARDED_METHODS.has(method) && !(method.startsWith('prompts/') && server.prompts.length > 0)) {
      return upstreamForward(upstreamContext(ctx, server.upstream, options), method, params);
    }
  }
  switch (method) {
    case 'ping':
      // An agent's ping of a server fronting an upstream MCP server is the upstream's (its connection is checked).
      if (server.upstream) return upstreamForward(upstreamContext(ctx, server.upstream, options), method, {});
      return {};
    case 'logging/setLevel':
      return {};
    case 'server/discover':
      return {
        supportedVersions: [...STATELESS_VERSIONS], capabilities: capabilities(server),
        ...(server.description ? { instructions: server.description } : {}),
      };
    case 'tools/list': {
      return toolsPage(visibleTools(ctx), params.cursor);
    }
    case 'tools/call': {
      const name = params.name;
      if (typeof name !== 'string') throw new GatewayError('INVALID_PARAMS', "Invalid params: 'name' must be a string");
      const tool = server.toolsByName.get(name);
      if (!tool) throw new GatewayError('INVALID_PARAMS', `Unknown tool: ${name}`);
      // A token whose scopes do not grant the tool is told which scope would (step-up); a consumer key is not told it exists.
      if (!allows(ctx.consumer, server.name, name)) throw ctx.scopeChallenge?.(name) ?? new GatewayError('INVALID_PARAMS', `Unknown tool: ${name}`);
      const raw = params.arguments ?? {};
      if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new GatewayError('INVALID_PARAMS', "Invalid params: 'arguments' must be an object");
      // `raw` was parsed from this request alone: the validator may fill in defaults on it.
      const args = raw as Record<string, unknown>;
      // Input errors are tool results (SEP-1303), so that the model reads them and corrects its call.
      const problem = tool.validate(args);
      if (problem) {
        if (ctx.report) ctx.report.errorKind = 'invalid_arguments';
        return inputError(`Invalid arguments for tool ${name}: ${problem}`) as unknown as Record<string, unknown>;
      }
      // An upstream MCP server reports its own progress; a REST call is one step.
      const relayed = server.upstream !== undefined;
      if (!relayed) options.onProgress?.(0, 1);
      let result: CallToolResult;
      try {
        // Synchronous without rate limits and with the exchanged token cached: awaited only when a promise.
        const before = ctx.beforeExecute ? ctx.beforeExecute(name, ctx.clientHeaders, ctx.clientAddress) : ctx.clientHeaders;
        const clientHeaders = before instanceof Promise ? await before : before;
        // A plain literal (conditional spreads take V8's slow path on every call).
        result = await tool.executor.execute({
          args, clientHeaders, clientQuery: ctx.clientQuery, clientAddress: ctx.clientAddress, cancellation: ctx.cancellation, report: ctx.report, span: ctx.span,
          sessionId: relayed ? ctx.sessionId : undefined, onProgress: relayed ? options.onProgress : undefined, agent: relayed ? ctx.agent : undefined,
        });
      } catch (err) {
        // The executor refuses an argument's value (a path that climbs out, a header with control characters).
        const refusal = toolRefusal(name, err);
        if (ctx.report) ctx.report.errorKind = 'invalid_arguments';
        return refusal as unknown as Record<string, unknown>;
      }
      if (!relayed) options.onProgress?.(1, 1);
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

/** How a request goes to a server's upstream MCP server. */
function upstreamContext(ctx: CallContext, runtime: NonNullable<CompiledServer['upstream']>, options: CallOptions): UpstreamRequestContext {
  return {
    runtime,
    allowed: (tool) => allows(ctx.consumer, ctx.server.name, tool),
    scopeChallenge: ctx.scopeChallenge,
    ...(ctx.beforeExecute ? { backendHeaders: (tool: string | undefined) => ctx.beforeExecute!(tool, ctx.clientHeaders, ctx.clientAddress) } : {}),
    call: { sessionId: ctx.sessionId, clientHeaders: ctx.clientHeaders, cancellation: ctx.cancellation, onProgress: options.onProgress, agent: ctx.agent },
  };
}

/**
 * resources/subscribe and unsubscribe of an upstream's resource: forwarded (an unsubscribe only
 * when no other session of a shared connection still wants the resource), and recorded, so that
 * the upstream's `notifications/resources/updated` reach the sessions subscribed.
 */
async function upstreamSubscription(ctx: CallContext, runtime: NonNullable<CompiledServer['upstream']>, method: 'resources/subscribe' | 'resources/unsubscribe', params: Record<string, unknown>, options: CallOptions): Promise<Record<string, unknown>> {
  const uri = params.uri;
  if (typeof uri !== 'string' || uri === '' || uri.includes('\n')) throw new GatewayError('INVALID_PARAMS', "Invalid params: 'uri' must be a non-empty string without line breaks");
  if (Buffer.byteLength(uri) > MAX_SUBSCRIPTION_URI_BYTES) throw new GatewayError('INVALID_PARAMS', `Invalid params: 'uri' is longer than ${MAX_SUBSCRIPTION_URI_BYTES} bytes`);
  if (method === 'resources/unsubscribe') {
    const stillWanted = await ctx.subscriptions?.unsubscribe(uri) ?? false;
    ctx.subscriptions?.changed?.();
    if (stillWanted && runtime.shared) return {};
    return upstreamForward(upstreamContext(ctx, runtime, options), method, params);
  }
  // Kept first (a session at its cap is refused before anything goes upstream), forgotten if the upstream refuses.
  await ctx.subscriptions?.subscribe(uri);
  try {
    const answer = await upstreamForward(upstreamContext(ctx, runtime, options), method, params);
    ctx.subscriptions?.changed?.();
    return answer;
  } catch (err) {
    await ctx.subscriptions?.unsubscribe(uri).catch(() => undefined);
    throw err;
  }
}
