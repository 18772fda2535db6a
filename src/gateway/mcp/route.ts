/** Where an MCP request goes: `/mcp/{namespace}/{server}`, and the legacy SSE `…/sse` and `…/message`. */
import { GatewayError } from '../errors.js';

/** The endpoint a request under `/mcp/` names. */
export interface McpRoute {
  namespace: string;
  /** The server's name (it may hold `/`). */
  name: string;
  /** `mcp`: Streamable HTTP (2026-07-28 and 2025); `sse` / `message`: the 2024 HTTP+SSE transport. */
  kind: 'mcp' | 'sse' | 'message';
}

/** The route of `path` (the part after `/mcp/`); ROUTE_NOT_FOUND when it names no server. */
export function parseMcpRoute(path: string): McpRoute {
  const parts = path.split('/').filter(Boolean).map((p) => {
    try { return decodeURIComponent(p); } catch { return p; }
  });
  let kind: McpRoute['kind'] = 'mcp';
  if (parts.length >= 3 && (parts[parts.length - 1] === 'sse' || parts[parts.length - 1] === 'message')) {
    kind = parts.pop() as 'sse' | 'message';
  }
  const [namespace, ...rest] = parts;
  if (!namespace || rest.length === 0) throw new GatewayError('ROUTE_NOT_FOUND', 'MCP endpoints are /mcp/{namespace}/{server}');
  return { namespace, name: rest.join('/'), kind };
}
