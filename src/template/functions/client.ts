// The Higress-specific template functions: `getSocketIP` and `getRealIP`, which Higress's
// REST-to-MCP server adds to Sprig's. They read the agent's connection, so the evaluator
// calls them with the render's client (`RenderOptions.client`), not with arguments.
import { isIP } from 'node:net';

/** The agent's connection as the gateway saw it: what `getSocketIP` and `getRealIP` read. */
export interface RenderClient {
  /** The connection's peer: an IP address, `ip:port`, or `[ipv6]:port` (Envoy's `source.address`). */
  readonly socketAddress?: string | undefined;
  /** The agent's `X-Forwarded-For` request header, as received. */
  readonly forwardedFor?: string | undefined;
}

/** A function of the render's client; Go arity 0. */
export type ClientFunction = (client: RenderClient | undefined) => string;

/**
 * The address part of `source`, as Higress's `parseIP` takes it: from a header, the first
 * comma-separated entry; trimmed; an IPv4 form loses its `:port`; a bracketed IPv6 form its
 * brackets and port; anything else is kept whole. IPv4-mapped IPv6 (`::ffff:a.b.c.d`, Node's
 * spelling of an IPv4 peer on a dual-stack socket) is its IPv4 address, which Envoy reports.
 */
export function addressOf(source: string, fromHeader: boolean): string {
  let s = fromHeader ? (source.split(',')[0] ?? '') : source;
  s = s.trim();
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(s);
  if (mapped) return mapped[1] as string;
  if (s.includes('.')) return s.split(':')[0] ?? '';
  if (s.includes(']')) return (s.split(']')[0] ?? '').slice(1);
  return s;
}

/**
 * An address only when it is an IP literal. Higress prints whatever the header holds; mcpgate
 * prints only IP addresses, so that a forged `X-Forwarded-For` cannot put text of its choice
 * into a URL, header or body (it falls back to the socket address instead).
 */
function ipOnly(address: string): string | undefined {
  return isIP(address) !== 0 ? address : undefined;
}

function socketIP(client: RenderClient | undefined): string {
  const source = client?.socketAddress;
  if (!source) return '';
  return ipOnly(addressOf(source, false)) ?? '';
}

/** `getSocketIP`: the connection's peer address; `getRealIP`: the first X-Forwarded-For entry, else the peer. */
export const CLIENT_FUNCTIONS: ReadonlyMap<string, ClientFunction> = new Map<string, ClientFunction>([
  ['getSocketIP', socketIP],
  ['getRealIP', (client) => {
    const header = client?.forwardedFor;
    if (header) {
      const real = ipOnly(addressOf(header, true));
      if (real !== undefined) return real;
    }
    return socketIP(client);
  }],
]);
