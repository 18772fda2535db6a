/**
 * How a consumer key's allow-list is written for the API: the one place that knows the
 * encoding. The API takes one entry per server, `{server}` (the whole server) or
 * `{server, tools}` (some of its tools); the console's pickers work with single grants.
 */
import type { AllowEntry } from '../../model/model.js';

/** One grant: a whole server, or one tool of it. */
export interface Grant {
  server: string;
  tool?: string;
}

/** The API's allow-list for a set of grants (one entry per server): null (everything) when there is none. */
export function encodeAllow(grants: readonly Grant[]): AllowEntry[] | null {
  if (grants.length === 0) return null;
  const byServer = new Map<string, Set<string> | null>();
  for (const g of grants) {
    const had = byServer.get(g.server);
    if (had === null) continue;
    if (g.tool === undefined) byServer.set(g.server, null);
    else byServer.set(g.server, new Set([...(had ?? []), g.tool]));
  }
  return [...byServer].map(([server, tools]) => (tools === null ? { server } : { server, tools: [...tools] }));
}

/** The grants of an API allow-list (empty: everything). */
export function decodeAllow(allow: readonly AllowEntry[] | null | undefined): Grant[] {
  return (allow ?? []).flatMap((e) => (e.tools === undefined ? [{ server: e.server }] : e.tools.map((tool) => ({ server: e.server, tool }))));
}
