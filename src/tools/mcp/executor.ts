/**
 * The MCP adapter of the `ToolExecutor` port: a tool of an upstream MCP server, called through
 * its server's runtime (`McpServerRuntime`), which holds the connections.
 */
import type { Dispatcher } from 'undici';
import type { Logger } from '../../lib/logger.js';
import type { McpServer, McpServerSpec } from '../../model/model.js';
import { ToolError } from '../errors.js';
import type { CallToolResult, ToolCallRequest, ToolExecutor, Upstream } from '../executor.js';
import { readUpstreamOptions } from './config.js';
import { McpServerRuntime } from './runtime.js';
import type { McpRuntimeDeps } from './runtime.js';

/** Calls one tool of an upstream MCP server. */
export class McpToolExecutor implements ToolExecutor {
  constructor(
    private readonly runtime: McpServerRuntime,
    private readonly toolName: string,
    private readonly timeoutMs?: number,
  ) {}

  async execute(call: ToolCallRequest): Promise<CallToolResult> {
    const result = await this.runtime.request('tools/call', { name: this.toolName, arguments: call.args }, {
      sessionId: call.sessionId, clientHeaders: call.clientHeaders, cancellation: call.cancellation, timeoutMs: this.timeoutMs, onProgress: call.onProgress, agent: call.agent,
    });
    if (!Array.isArray(result.content)) throw new ToolError('UPSTREAM_PROTOCOL', `upstream tools/call: the result has no content array`);
    return result as unknown as CallToolResult;
  }
}

/** What creating a runtime needs besides the server. */
export interface McpRuntimeOptions {
  upstream: Upstream | undefined;
  dispatcher?: Dispatcher | undefined;
  logger: Logger;
  defaultTimeoutMs?: number | undefined;
  /** See `McpRuntimeDeps.onNotification`. */
  onNotification?: McpRuntimeDeps['onNotification'];
  /** See `McpRuntimeDeps.sessionStates`. */
  sessionStates?: McpRuntimeDeps['sessionStates'];
  /** See `McpRuntimeDeps.sessionAgent`. */
  sessionAgent?: McpRuntimeDeps['sessionAgent'];
}

/**
 * The runtime of an upstream MCP server (protocol `mcp-streamable`, `mcp-sse` or `stdio`);
 * options it cannot use are a `VALIDATION_FAILED` AppError naming the field.
 */
export function createMcpRuntime(server: Pick<McpServer, 'namespace' | 'name' | 'protocol' | 'endpoint' | 'passthrough'>, spec: Pick<McpServerSpec, 'config'>, o: McpRuntimeOptions): McpServerRuntime {
  return new McpServerRuntime({
    serverKey: `${server.namespace}/${server.name}`, options: readUpstreamOptions(server, spec), endpoint: server.endpoint,
    upstream: o.upstream, passthrough: server.passthrough, dispatcher: o.dispatcher, logger: o.logger, defaultTimeoutMs: o.defaultTimeoutMs,
    onNotification: o.onNotification, sessionStates: o.sessionStates, sessionAgent: o.sessionAgent,
  });
}
