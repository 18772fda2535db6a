/**
 * A virtual server in "search" mode: instead of its whole catalogue, agents see two meta-tools,
 * `search_tools` (words → the best matching tools with their descriptions and input schemas,
 * ranked by the BM25F index of tools/search over names and descriptions; no network model) and
 * `call_tool` (a found tool by name, its arguments checked against that tool's schema). The
 * index is built once per catalogue (a catalogue changes only when a member's list does).
 */
import { ArgsCompiler } from '../../tools/args.js';
import type { ArgsValidator } from '../../tools/args.js';
import { buildToolIndex } from '../../tools/search/index.js';
import type { ToolIndex } from '../../tools/search/index.js';
import { allows } from '../access-policy.js';
import { GatewayError, inputError } from '../errors.js';
import { JsonText } from './jsonrpc.js';
import type { VirtualCatalogue, VirtualServing, VirtualTool } from '../snapshot.js';
import type { CallContext, CallOptions } from './call-context.js';
import type { MemberRequest } from './virtual-call.js';
import { callVirtualTool } from './virtual-call.js';

/** The meta-tools' names. */
export const SEARCH_TOOL = 'search_tools';
export const CALL_TOOL = 'call_tool';
/** Results of one search unless the agent asks for another number (at most `MAX_RESULTS`). */
const DEFAULT_RESULTS = 5;
const MAX_RESULTS = 50;

const META_TOOLS = [
  {
    name: SEARCH_TOOL,
    description: 'Search the tools this server offers by words (what you want to do, names, topics). Answers the best matching tools, best first, with their descriptions and input schemas; call one with call_tool.',
    inputSchema: {
      type: 'object', required: ['query'], additionalProperties: false,
      properties: {
        query: { type: 'string', minLength: 1, maxLength: 1000, description: 'Words describing the tool you need.' },
        limit: { type: 'integer', minimum: 1, maximum: MAX_RESULTS, default: DEFAULT_RESULTS, description: 'How many tools to answer.' },
      },
    },
    annotations: { readOnlyHint: true },
  },
  {
    name: CALL_TOOL,
    description: 'Call a tool found with search_tools, by its name, with arguments that fit its input schema.',
    inputSchema: {
      type: 'object', required: ['name'], additionalProperties: false,
      properties: {
        name: { type: 'string', minLength: 1, maxLength: 128, description: 'The tool name search_tools answered.' },
        arguments: { type: 'object', description: "The tool's arguments.", default: {} },
      },
    },
  },
];
const META_LIST = { tools: JsonText.array(META_TOOLS.map((t) => new JsonText(JSON.stringify(t)))) };

const indexes = new WeakMap<VirtualCatalogue, ToolIndex>();
const validators = new WeakMap<VirtualTool, ArgsValidator | Error>();
let compiler = new ArgsCompiler();
let compiled = 0;

/** tools/list of a server in search mode. */
export function searchModeTools(): Record<string, unknown> {
  return META_LIST;
}

function indexOf(catalogue: VirtualCatalogue): ToolIndex {
  let index = indexes.get(catalogue);
  if (!index) {
    index = buildToolIndex(catalogue.tools.map((t) => ({ name: t.name, description: t.description, inputSchema: t.inputSchema })));
    indexes.set(catalogue, index);
  }
  return index;
}

function validatorOf(tool: VirtualTool): ArgsValidator | Error {
  let v = validators.get(tool);
  if (!v) {
    // Ajv keeps every compiled function: a compiler is replaced after a while (live members' tools change).
    if (++compiled > 500) { compiler = new ArgsCompiler(); compiled = 0; }
    try {
      v = compiler.compile(tool.inputSchema);
    } catch (err) {
      v = err as Error;
    }
    validators.set(tool, v);
  }
  return v;
}

function text(value: unknown, isError = false): Record<string, unknown> {
  return { content: [{ type: 'text', text: JSON.stringify(value) }], structuredContent: value, ...(isError ? { isError: true } : {}) };
}

/** tools/call of a meta-tool. */
export async function searchModeCall(
  ctx: CallContext, v: VirtualServing, name: string, args: Record<string, unknown>, params: Record<string, unknown>, options: CallOptions, run: MemberRequest,
): Promise<Record<string, unknown>> {
  if (name === SEARCH_TOOL) {
    const { query, limit = DEFAULT_RESULTS } = args;
    if (typeof query !== 'string' || query.trim() === '') return inputError(`Invalid arguments for tool ${SEARCH_TOOL}: 'query' must be a non-empty string`) as unknown as Record<string, unknown>;
    if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > MAX_RESULTS) {
      return inputError(`Invalid arguments for tool ${SEARCH_TOOL}: 'limit' must be an integer from 1 to ${MAX_RESULTS}`) as unknown as Record<string, unknown>;
    }
    const catalogue = await v.catalogue();
    const hits = indexOf(catalogue).search(query.slice(0, 1000), 100);
    const tools: Record<string, unknown>[] = [];
    for (const hit of hits) {
      if (tools.length >= limit) break;
      if (!allows(ctx.consumer, ctx.server.name, hit.name)) continue;
      const t = catalogue.byName.get(hit.name);
      if (t) tools.push({ name: t.name, description: t.description, inputSchema: t.inputSchema });
    }
    return text({ tools });
  }
  if (name === CALL_TOOL) {
    const target = args.name;
    const targetArgs = args.arguments ?? {};
    if (typeof target !== 'string') return inputError(`Invalid arguments for tool ${CALL_TOOL}: 'name' must be a string`) as unknown as Record<string, unknown>;
    if (typeof targetArgs !== 'object' || targetArgs === null || Array.isArray(targetArgs)) {
      return inputError(`Invalid arguments for tool ${CALL_TOOL}: 'arguments' must be an object`) as unknown as Record<string, unknown>;
    }
    const tool = (v.settled() ?? await v.catalogue()).byName.get(target);
    if (!tool || !allows(ctx.consumer, ctx.server.name, target)) return inputError(`Unknown tool: ${target} (find tools with ${SEARCH_TOOL})`) as unknown as Record<string, unknown>;
    const validate = validatorOf(tool);
    const problem = validate instanceof Error ? undefined : validate(targetArgs as Record<string, unknown>);
    if (problem) return inputError(`Invalid arguments for tool ${target}: ${problem}`) as unknown as Record<string, unknown>;
    return callVirtualTool(ctx, v, target, targetArgs, { ...params, name: target, arguments: targetArgs }, options, run);
  }
  throw new GatewayError('INVALID_PARAMS', `Unknown tool: ${name}`);
}
