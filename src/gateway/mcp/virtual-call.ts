/** A tool call of a virtual server, routed to its member (shared by the "all" and "search" modes). */
import { allows } from '../access-policy.js';
import { GatewayError, toolRefusal } from '../errors.js';
import type { CompiledServer, VirtualServing } from '../snapshot.js';
import type { CallContext, CallOptions } from './call-context.js';

/** The method handler a member's request goes through (methods.ts `handleRequest`). */
export type MemberRequest = (ctx: CallContext, method: string, params: Record<string, unknown>, options?: CallOptions) => Promise<Record<string, unknown>>;

/**
 * The context of a request to a member: the member's server, no consumer filter (the virtual
 * server's grants were checked), no resource subscriptions (resources/subscribe gives its own).
 */
export function memberContext(ctx: CallContext, member: CompiledServer): CallContext {
  return { ...ctx, server: member, consumer: null, beforeExecute: undefined, scopeChallenge: undefined, subscriptions: undefined };
}

/** Call a tool of the catalogue by the name agents see (the caller's grants checked). */
export async function callVirtualTool(
  ctx: CallContext, v: VirtualServing, name: string, args: unknown, params: Record<string, unknown>, options: CallOptions, run: MemberRequest,
): Promise<Record<string, unknown>> {
  // Every member heard from (the warm case): the routing table is read without a promise.
  const tool = (v.settled() ?? await v.catalogue()).byName.get(name);
  if (!tool) throw new GatewayError('INVALID_PARAMS', `Unknown tool: ${name}`);
  if (!allows(ctx.consumer, ctx.server.name, name)) throw ctx.scopeChallenge?.(name) ?? new GatewayError('INVALID_PARAMS', `Unknown tool: ${name}`);
  let clientHeaders = ctx.clientHeaders;
  if (ctx.beforeExecute) {
    try {
      clientHeaders = await ctx.beforeExecute(name, ctx.clientHeaders, ctx.clientAddress);
    } catch (err) {
      if (err instanceof GatewayError) throw err;
      return toolRefusal(name, err) as unknown as Record<string, unknown>;
    }
  }
  return run({ ...memberContext(ctx, tool.member), clientHeaders }, 'tools/call', { ...params, name: tool.memberTool, arguments: args ?? {} }, options);
}

