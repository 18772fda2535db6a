/** Where an MCP request goes: `/mcp/{namespace}/{server}`, and the legacy SSE `…/sse` and `…/message`. */
import { GatewayError } from '../errors.js';
import { serverKey } from '../snapshot.js';

/** The endpoint a request under `/mcp/` names. */
export interface McpRoute {
  readonly namespace: string;
  /** The server's name (it may hold `/`). */
  readonly name: string;
  /** `mcp`: Streamable HTTP (2026-07-28 and 2025); `sse` / `message`: the 2024 HTTP+SSE transport. */
  readonly kind: 'mcp' | 'sse' | 'message';
  /** The server's key in the snapshot (`serverKey(namespace, name)`). */
  readonly key: string;
}

/** Routes of the paths seen last (agents call the same few endpoints): parsed once, not per request. */
const routes = new Map<string, McpRoute>();
const MAX_CACHED_ROUTES = 1024;

/** The route of `path` (the part after `/mcp/`); ROUTE_NOT_FOUND when it names no server. */
export function parseMcpRoute(path: string): McpRoute {
  let route = routes.get(path);
  if (route === undefined) {
    route = parse(path);
    if (routes.size >= MAX_CACHED_ROUTES) routes.clear();
    routes.set(path, route);
  }
  return route;
}

function parse(path: string): McpRoute {
  const parts = path.split('/').filter(Boolean).map((p) => {
    try { return decodeURIComponent(p); } catch { return p; }
  });
  let kind: McpRoute['kind'] = 'mcp';
  if (parts.length >= 3 && (parts[parts.length - 1] === 'sse' || parts[parts.length - 1] === 'message')) {
    kind = parts.pop() as 'sse' | 'message';
  }
  const [namespace, ...rest] = parts;
  if (!namespace || rest.length === 0) throw new GatewayError('ROUTE_NOT_FOUND', 'MCP endpoints are /mcp/{namespace}/{server}');
  const name = rest.join('/');
  return Object.freeze({ namespace, name, kind, key: serverKey(namespace, name) });
}
