/**
 * One tool compiled for calls, the same way for the gateway's snapshot compiler and the
 * console's "try it": its argument validator and its executor (the adapter its server's kind
 * takes: today REST templates), sending through the connections the caller owns.
 */
import type { Dispatcher } from 'undici';
import { AppError } from '../lib/errors.js';
import type { McpServer, McpServerSpec, Tool } from '../model/model.js';
import { validateSpec } from '../model/spec-validation.js';
import type { SpecWarning } from '../model/spec-validation.js';
import { parse as parseTemplate } from '../template/index.js';
import type { ArgumentHostAccess, ArgumentHostGuard } from './address-guard.js';
import { ArgsCompiler } from './args.js';
import type { ArgsValidator } from './args.js';
import type { ToolExecutor, Upstream } from './executor.js';
import { createRestExecutor } from './rest/executor.js';

/** The backend connections tools send through (owned and closed by the caller). */
export interface ToolConnections {
  /** Connections whose host lookups refuse link-local and cloud-metadata addresses. */
  guarded: Dispatcher;
  /** Connections for servers that allow metadata addresses (`allowMetadataAddresses`); default `guarded`. */
  open?: Dispatcher | undefined;
  /** Checks and connects to hosts that tool arguments choose; without it such hosts are refused. */
  argumentHosts?: ArgumentHostGuard | undefined;
  /** Wraps every dispatcher a tool sends through (the console records the exchanges of a try). */
  wrap?: ((dispatcher: Dispatcher) => Dispatcher) | undefined;
}

/** What compiling a tool needs besides the tool. */
export interface CompileToolOptions {
  server: Pick<McpServer, 'name' | 'passthrough'>;
  spec: Pick<McpServerSpec, 'config' | 'securitySchemes'>;
  /** Where the server's relative URLs go (none: the server has no endpoint). */
  upstream: Upstream | undefined;
  connections: ToolConnections;
  /** Shared across the tools of one snapshot (compiled schemas are cached by it); a new one when omitted. */
  args?: ArgsCompiler | undefined;
  /** Per-call timeout when the tool sets none; default 30 s. */
  defaultTimeoutMs?: number | undefined;
}

/** A tool ready for calls. */
export interface RunnableTool {
  readonly validate: ArgsValidator;
  readonly executor: ToolExecutor;
}

/** The entry agents see in tools/list. */
export function toolListEntry(t: Tool): Record<string, unknown> {
  return {
    name: t.name, ...(t.title ? { title: t.title } : {}), description: t.description, inputSchema: t.inputSchema,
    ...(t.outputSchema ? { outputSchema: t.outputSchema } : {}), ...(t.annotations ? { annotations: t.annotations } : {}),
  };
}

/**
 * Compiles a tool. An input schema that does not compile is an `INVALID_SCHEMA` AppError; a
 * template that does not parse, a `TemplateError`; a security scheme that cannot be used, a
 * `VALIDATION_FAILED` AppError.
 */
export function compileTool(tool: Tool, o: CompileToolOptions): RunnableTool {
  let validate: ArgsValidator;
  try {
    validate = (o.args ?? new ArgsCompiler()).compile(tool.inputSchema);
  } catch (err) {
    throw new AppError('INVALID_SCHEMA', `inputSchema: ${(err as Error).message}`, 'inputSchema');
  }
  const { config } = o.spec;
  const allowMetadataAddresses = config.allowMetadataAddresses === true;
  const { connections: c } = o;
  const wrap = c.wrap ?? ((d: Dispatcher) => d);
  let argumentHosts: ArgumentHostAccess | undefined;
  if (c.argumentHosts) {
    const access = c.argumentHosts.access({ allowPrivate: config.allowPrivateAddresses === true, allowMetadata: allowMetadataAddresses });
    argumentHosts = c.wrap ? { check: access.check, dispatcher: wrap(access.dispatcher) } : access;
  }
  const executor = createRestExecutor({
    tool, serverName: o.server.name, spec: o.spec, passthrough: o.server.passthrough, upstream: o.upstream, allowMetadataAddresses,
    dispatcher: wrap(allowMetadataAddresses ? c.open ?? c.guarded : c.guarded), argumentHosts, defaultTimeoutMs: o.defaultTimeoutMs,
  });
  return { validate, executor };
}

/**
 * Checks a spec's schemas and parses every template with the engine tools run, as on publish;
 * throws AppError or TemplateError, and answers what it accepted with a warning.
 */
export function checkSpec(spec: McpServerSpec): SpecWarning[] {
  return validateSpec(spec, { checkTemplate: (source, name) => { parseTemplate(source, { name }); } });
}
