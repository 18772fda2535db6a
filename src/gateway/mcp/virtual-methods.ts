/**
 * MCP methods of a virtual server: tools/list from its catalogue (filtered by the caller's
 * grants, paginated like any server's), tools/call routed to the member under the member tool's
 * name, prompts and resources merged from the members within the listing deadline (resource URIs
 * carry the member's prefix, `mcpgate://{prefix}/{uri}`, so that two members' URIs never meet),
 * and reads, prompt gets and completions routed back to their member. A member's request runs
 * through the same `handleRequest` as a direct call to it, so REST, upstream MCP and nested
 * virtual members all behave as they do on their own endpoints.
 */
import { GatewayError } from '../errors.js';
import type { CompiledServer, VirtualCatalogue, VirtualMemberRef, VirtualServing, VirtualTool } from '../snapshot.js';
import type { CallContext, CallOptions } from './call-context.js';
import { toolsPage } from './pages.js';
import { STATELESS_VERSIONS, capabilities, subscribesToResources } from './protocol.js';
import { searchModeCall, searchModeTools } from './virtual-search.js';
import { callVirtualTool, memberContext } from './virtual-call.js';
import type { MemberRequest } from './virtual-call.js';

/** Most pages followed of one member's prompts or resources list. */
const MAX_PAGES = 20;
const URI_SCHEME = 'mcpgate://';

/** A virtual server's URI for a member's resource. */
export function virtualUri(prefix: string, uri: string): string {
  return `${URI_SCHEME}${prefix}/${uri}`;
}

function memberOfUri(v: VirtualServing, uri: unknown): { member: VirtualMemberRef; uri: string } {
  if (typeof uri !== 'string') throw new GatewayError('INVALID_PARAMS', "Invalid params: 'uri' must be a string");
  if (uri.startsWith(URI_SCHEME)) {
    const rest = uri.slice(URI_SCHEME.length);
    const slash = rest.indexOf('/');
    const member = slash > 0 ? v.members.find((m) => m.prefix === rest.slice(0, slash)) : undefined;
    if (member) return { member, uri: rest.slice(slash + 1) };
  }
  throw new GatewayError('INVALID_PARAMS', `Resource not found: ${uri}`);
}

/** Run `work` for every member at once, each within the deadline; members that fail or are late are left out. */
async function fromMembers<T>(v: VirtualServing, work: (m: VirtualMemberRef) => Promise<T>): Promise<{ member: VirtualMemberRef; value: T }[]> {
  let timer: NodeJS.Timeout | undefined;
  const late = Symbol('late');
  const deadline = new Promise<typeof late>((resolve) => { timer = setTimeout(() => resolve(late), v.deadlineMs); timer.unref(); });
  try {
    const settled = await Promise.all(v.members.map(async (member) => {
      try {
        const value = await Promise.race([work(member), deadline]);
        return value === late ? undefined : { member, value: value as T };
      } catch {
        return undefined;
      }
    }));
    return settled.filter((x): x is { member: VirtualMemberRef; value: T } => x !== undefined);
  } finally {
    clearTimeout(timer);
  }
}

/** Every page of a member's list (`key`: prompts, resources, resourceTemplates). */
async function allPages(ctx: CallContext, run: MemberRequest, member: CompiledServer, method: string, key: string): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const result = await run(memberContext(ctx, member), method, cursor ? { cursor } : {});
    const items = result[key];
    if (Array.isArray(items)) for (const i of items) if (typeof i === 'object' && i !== null) out.push(i as Record<string, unknown>);
    cursor = typeof result.nextCursor === 'string' && result.nextCursor !== '' ? result.nextCursor : undefined;
    if (!cursor) break;
  }
  return out;
}

/** The tools a grant set lets through, by catalogue (both immutable: filtered once, not per request). */
const granted = new WeakMap<VirtualCatalogue, WeakMap<ReadonlySet<string>, readonly VirtualTool[]>>();

/** The tools the caller may see. */
export async function visibleVirtualTools(ctx: CallContext, v: VirtualServing): Promise<readonly VirtualTool[]> {
  // catalogue(), not settled(): a listing counts the members left out of it.
  const catalogue = await v.catalogue();
  const grants = ctx.consumer?.allow ? ctx.consumer.allow.get(ctx.server.name) : null;
  if (grants === null) return catalogue.tools;
  if (!grants) return [];
  let byGrants = granted.get(catalogue);
  if (!byGrants) granted.set(catalogue, byGrants = new WeakMap());
  let tools = byGrants.get(grants);
  if (!tools) byGrants.set(grants, tools = catalogue.tools.filter((t) => grants.has(t.name)));
  return tools;
}

/** Answer one request to a virtual server. */
export async function virtualRequest(
  ctx: CallContext, v: VirtualServing, method: string, params: Record<string, unknown>, options: CallOptions, run: MemberRequest,
): Promise<Record<string, unknown>> {
  switch (method) {
    case 'ping':
    case 'logging/setLevel':
      return {};
    case 'server/discover':
      return {
        supportedVersions: [...STATELESS_VERSIONS], capabilities: capabilities(ctx.server),
        ...(ctx.server.description ? { instructions: ctx.server.description } : {}),
      };
    case 'tools/list':
      if (v.mode === 'search') return searchModeTools();
      return toolsPage(await visibleVirtualTools(ctx, v), params.cursor);
    case 'tools/call': {
      const name = params.name;
      if (typeof name !== 'string') throw new GatewayError('INVALID_PARAMS', "Invalid params: 'name' must be a string");
      const args = params.arguments ?? {};
      if (typeof args !== 'object' || args === null || Array.isArray(args)) throw new GatewayError('INVALID_PARAMS', "Invalid params: 'arguments' must be an object");
      if (v.mode === 'search') return searchModeCall(ctx, v, name, args as Record<string, unknown>, params, options, run);
      return callVirtualTool(ctx, v, name, args, params, options, run);
    }
    case 'prompts/list': {
      const lists = await fromMembers(v, (m) => allPages(ctx, run, m.server, 'prompts/list', 'prompts'));
      const seen = new Set<string>();
      const prompts: Record<string, unknown>[] = [];
      for (const { member, value } of lists) {
        for (const p of value) {
          if (typeof p.name !== 'string') continue;
          const name = member.promptName(p.name);
          if (seen.has(name)) continue;
          seen.add(name);
          prompts.push({ ...p, name });
        }
      }
      return { prompts };
    }
    case 'prompts/get': {
      const name = params.name;
      if (typeof name !== 'string') throw new GatewayError('INVALID_PARAMS', "Invalid params: 'name' must be a string");
      const found = await findPrompt(ctx, v, name, run);
      if (!found) throw new GatewayError('INVALID_PARAMS', `Unknown prompt: ${name}`);
      return run(memberContext(ctx, found.member.server), 'prompts/get', { ...params, name: found.name });
    }
    case 'resources/list':
    case 'resources/templates/list': {
      const key = method === 'resources/list' ? 'resources' : 'resourceTemplates';
      const field = method === 'resources/list' ? 'uri' : 'uriTemplate';
      const lists = await fromMembers(v, (m) => allPages(ctx, run, m.server, method, key));
      const items: Record<string, unknown>[] = [];
      for (const { member, value } of lists) {
        for (const r of value) if (typeof r[field] === 'string') items.push({ ...r, [field]: virtualUri(member.prefix, r[field]) });
      }
      return { [key]: items };
    }
    case 'resources/read': {
      const { member, uri } = memberOfUri(v, params.uri);
      const result = await run(memberContext(ctx, member.server), 'resources/read', { ...params, uri });
      const contents = Array.isArray(result.contents)
        ? (result.contents as Record<string, unknown>[]).map((c) => (typeof c?.uri === 'string' ? { ...c, uri: virtualUri(member.prefix, c.uri) } : c))
        : result.contents;
      return { ...result, contents };
    }
    case 'resources/subscribe':
    case 'resources/unsubscribe': {
      const { member, uri } = memberOfUri(v, params.uri);
      if (method === 'resources/subscribe' && subscribesToResources(member.server) === false) {
        throw new GatewayError('METHOD_NOT_FOUND', `Resource subscriptions are not supported by member '${member.server.name}' of this virtual server (uri: ${String(params.uri)})`);
      }
      if (!member.server.upstream && !member.server.virtual) return {};
      const subscriptions = ctx.subscriptions?.forMember?.(member.server.key, (u) => virtualUri(member.prefix, u));
      return run({ ...memberContext(ctx, member.server), subscriptions }, method, { ...params, uri });
    }
    case 'completion/complete': {
      const ref = params.ref as { type?: unknown; name?: unknown; uri?: unknown } | undefined;
      if (ref?.type === 'ref/prompt' && typeof ref.name === 'string') {
        const found = await findPrompt(ctx, v, ref.name, run);
        if (!found) throw new GatewayError('INVALID_PARAMS', `Unknown prompt: ${ref.name}`);
        return run(memberContext(ctx, found.member.server), method, { ...params, ref: { ...ref, name: found.name } });
      }
      if (ref?.type === 'ref/resource') {
        const { member, uri } = memberOfUri(v, ref.uri);
        return run(memberContext(ctx, member.server), method, { ...params, ref: { ...ref, uri } });
      }
      throw new GatewayError('INVALID_PARAMS', "Invalid params: 'ref' must be a ref/prompt or ref/resource");
    }
    default:
      throw new GatewayError('METHOD_NOT_FOUND', 'Method not found');
  }
}

/** The member and member prompt name of a prompt name agents see. */
async function findPrompt(ctx: CallContext, v: VirtualServing, name: string, run: MemberRequest): Promise<{ member: VirtualMemberRef; name: string } | undefined> {
  const lists = await fromMembers(v, (m) => allPages(ctx, run, m.server, 'prompts/list', 'prompts'));
  for (const { member, value } of lists) {
    for (const p of value) if (typeof p.name === 'string' && member.promptName(p.name) === name) return { member, name: p.name };
  }
  return undefined;
}
