/**
 * How a consumer key's allow-list is written for the API: the one place that knows the
 * encoding (today `server` and `server/tool` strings), so that it can change in one place.
 */

/** One grant: a whole server, or one tool of it. */
export interface Grant {
  server: string;
  tool?: string;
}

/** The API's entry for a grant. */
export function encodeGrant(g: Grant): string {
  return g.tool === undefined ? g.server : `${g.server}/${g.tool}`;
}

/** The grant an API entry stands for. */
export function decodeGrant(entry: unknown): Grant {
  if (typeof entry === 'object' && entry !== null) {
    const o = entry as { server?: unknown; tool?: unknown };
    return { server: String(o.server ?? ''), ...(typeof o.tool === 'string' ? { tool: o.tool } : {}) };
  }
  const s = String(entry);
  const slash = s.indexOf('/');
  return slash < 0 ? { server: s } : { server: s.slice(0, slash), tool: s.slice(slash + 1) };
}

/** The API's allow-list for a set of grants: null (everything) when there is none. */
export function encodeAllow(grants: readonly Grant[]): string[] | null {
  return grants.length === 0 ? null : grants.map(encodeGrant);
}

/** The grants of an API allow-list (empty: everything). */
export function decodeAllow(allow: readonly unknown[] | null | undefined): Grant[] {
  return (allow ?? []).map(decodeGrant);
}
