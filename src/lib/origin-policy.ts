/**
 * Which requests a listener accepts by their `Host`, `Origin` and fetch-metadata headers: the
 * defence against DNS rebinding (a page on `evil.example` whose name now resolves to 127.0.0.1)
 * and cross-site requests (a page the user visits posting a form to a loopback port). Shared by
 * the registry and the gateway; each maps a refusal to its own error (403).
 *
 * Hand-written: the libraries that exist are middlewares of other frameworks (Express, axum);
 * these rules are a few comparisons.
 */
import { hostname as machineHostname } from 'node:os';
import { BlockList, isIP } from 'node:net';

/** What a listener answers to. */
export interface OriginPolicyOptions {
  /** The address the listener is bound to (`127.0.0.1`, `::`, `0.0.0.0`, `10.0.0.5`, `localhost`). */
  bindHost: string;
  /**
   * Further host names requests may be addressed to (`mcp.example.com`, `*.example.com`; `*`
   * accepts any). Non-empty, it makes the Host check apply to every request.
   */
  allowedHosts?: readonly string[];
  /** Browser origins allowed besides the listener's own (`https://app.example.com`). */
  allowedOrigins?: readonly string[];
  /** Whether any loopback origin (`http://localhost:6274`, a local MCP client) is allowed. */
  allowLoopbackOrigins?: boolean;
}

/** The headers the policy reads (lower-case names, as node:http gives them). */
export interface OriginRequest {
  method?: string | undefined;
  host?: string | undefined;
  origin?: string | undefined;
  secFetchSite?: string | undefined;
  secFetchMode?: string | undefined;
}

/** Why a request is refused: its Host is not a name of this listener, or it comes from another site. */
export interface OriginRefusal {
  kind: 'host' | 'origin';
  message: string;
}

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');
LOOPBACK.addSubnet('::ffff:127.0.0.0', 104, 'ipv6');

/** True for `localhost` and loopback IP literals (127.0.0.0/8, ::1); never for names like `127.0.0.1.evil.example`. */
export function isLoopbackName(host: string): boolean {
  const h = bare(host.toLowerCase());
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  const family = isIP(h);
  // A valid dotted quad is in 127.0.0.0/8 when its first octet is 127 (isIP refuses leading zeros); the block
  // list builds a SocketAddress per check, a cost on every request to a loopback-bound listener.
  if (family === 4) return h.startsWith('127.');
  return family === 6 && LOOPBACK.check(h, 'ipv6');
}

function bare(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

/** The host name of a `Host` header value (`name:port`, `[v6]:port`), lower-case, without a final dot; undefined when malformed. */
export function hostOfHeader(value: string): string | undefined {
  const v = value.trim().toLowerCase();
  let host: string;
  if (v.startsWith('[')) {
    const close = v.indexOf(']');
    if (close < 0) return undefined;
    const rest = v.slice(close + 1);
    if (rest !== '' && !/^:\d{1,5}$/.test(rest)) return undefined;
    host = v.slice(1, close);
    if (isIP(host) !== 6) return undefined;
    return host;
  }
  const colon = v.indexOf(':');
  if (colon >= 0) {
    if (!/^\d{1,5}$/.test(v.slice(colon + 1))) return undefined;
    host = v.slice(0, colon);
  } else {
    host = v;
  }
  if (host.endsWith('.')) host = host.slice(0, -1);
  if (!/^[a-z0-9_-]+(\.[a-z0-9_-]+)*$/.test(host)) return undefined;
  return host;
}

/** `scheme://host:port` of an origin with its default port made explicit, or undefined when not an http(s) origin. */
function normalizeOrigin(origin: string): { text: string; host: string; authority: string } | undefined {
  let u: URL;
  try {
    u = new URL(origin);
  } catch {
    return undefined;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return undefined;
  const port = u.port || (u.protocol === 'https:' ? '443' : '80');
  const host = bare(u.hostname.toLowerCase());
  return { text: `${u.protocol}//${u.hostname.toLowerCase()}:${port}`, host, authority: `${u.hostname.toLowerCase()}:${port}` };
}

function isWildcard(bindHost: string): boolean {
  return bindHost === '0.0.0.0' || bindHost === '::' || bindHost === '[::]' || bindHost === '';
}

/**
 * The Host and Origin rules of one listener, precomputed from its options.
 *
 * - **Host.** Bound to loopback, every request must be addressed to `localhost` or a loopback IP
 *   literal (or an allowed host). Bound elsewhere, requests that come from a browser (they carry
 *   `Origin` or fetch metadata) must be addressed to the bound address, the machine's name, an
 *   IP literal or `localhost` (wildcard binds only), or an allowed host; with `allowedHosts` set, every request must.
 * - **Origin.** No `Origin` is fine (curl, SDKs), unless fetch metadata says the request comes
 *   from another site and is not a top-level navigation. An `Origin` must be the listener's own
 *   (same host and port as the `Host`), an allowed origin, or, where allowed, a loopback one.
 */
export class OriginPolicy {
  private readonly loopbackBind: boolean;
  private readonly wildcardBind: boolean;
  private readonly exactHosts = new Set<string>();
  private readonly hostSuffixes: string[] = [];
  private readonly anyHost: boolean;
  private readonly strictHosts: boolean;
  private readonly origins: ReadonlySet<string>;
  private readonly loopbackOrigins: boolean;

  constructor(opts: OriginPolicyOptions) {
    const bind = bare(opts.bindHost.toLowerCase());
    this.loopbackBind = isLoopbackName(bind);
    this.wildcardBind = isWildcard(bind);
    const allowed = (opts.allowedHosts ?? []).map((h) => h.trim().toLowerCase()).filter(Boolean);
    this.anyHost = allowed.includes('*');
    this.strictHosts = allowed.length > 0 && !this.anyHost;
    for (const h of allowed) {
      if (h === '*') continue;
      if (h.startsWith('*.')) this.hostSuffixes.push(h.slice(1));
      else this.exactHosts.add(bare(h.replace(/\.$/, '')));
    }
    if (!this.loopbackBind && !this.wildcardBind) this.exactHosts.add(bind);
    if (!this.loopbackBind) {
      const name = machineHostname().toLowerCase();
      this.exactHosts.add(name);
      this.exactHosts.add(name.split('.')[0] as string);
    }
    const origins = new Set<string>();
    for (const o of opts.allowedOrigins ?? []) {
      const n = normalizeOrigin(o.trim());
      if (n) origins.add(n.text);
    }
    this.origins = origins;
    this.loopbackOrigins = opts.allowLoopbackOrigins ?? false;
  }

  /** Whether a browser origin may call cross-origin (for CORS answers): an allowed one, or loopback where allowed. */
  allowsCrossOrigin(origin: string): boolean {
    const n = normalizeOrigin(origin);
    if (!n) return false;
    return this.origins.has(n.text) || (this.loopbackOrigins && isLoopbackName(n.host));
  }

  /** Whether a host name (from a `Host` header) is one this listener answers to. */
  private knownHost(host: string): boolean {
    if (this.anyHost || this.exactHosts.has(host)) return true;
    for (const s of this.hostSuffixes) if (host.endsWith(s) && host.length > s.length) return true;
    if (this.loopbackBind) return isLoopbackName(host);
    if (this.wildcardBind) return isIP(host) !== 0 || isLoopbackName(host);
    return false;
  }

  /** The refusal of a request, or undefined when it may go on. */
  check(req: OriginRequest): OriginRefusal | undefined {
    // Browsers send Sec-Fetch-Site with every Sec-Fetch-Mode; Node's fetch (undici) sends the mode alone and is no browser.
    const fromBrowser = req.origin !== undefined || req.secFetchSite !== undefined;
    if (this.loopbackBind || this.strictHosts || fromBrowser) {
      if (req.host === undefined || req.host === '') return { kind: 'host', message: 'the Host header is required' };
      const host = hostOfHeader(req.host);
      if (host === undefined) return { kind: 'host', message: `Host '${req.host}' is not a valid host` };
      if (!this.knownHost(host)) {
        return { kind: 'host', message: `Host '${req.host}' is not a name this server answers to (DNS rebinding protection); add it to allowedHosts (MCPGATE_ALLOWED_HOSTS)` };
      }
    }
    if (req.origin === undefined) {
      const site = req.secFetchSite?.toLowerCase();
      if ((site === 'cross-site' || site === 'same-site') && !(req.secFetchMode?.toLowerCase() === 'navigate' && (req.method === 'GET' || req.method === 'HEAD'))) {
        return { kind: 'origin', message: `a ${site} request from a browser is not allowed; allowed origins are listed in allowedOrigins (MCPGATE_ALLOWED_ORIGINS)` };
      }
      return undefined;
    }
    const origin = normalizeOrigin(req.origin);
    if (!origin) return { kind: 'origin', message: `Origin '${req.origin}' is not allowed` };
    if (this.origins.has(origin.text)) return undefined;
    if (this.loopbackOrigins && isLoopbackName(origin.host)) return undefined;
    // Same origin: the page was served by this listener under the name it was addressed by.
    if (req.host !== undefined && sameAuthority(origin.authority, req.host, origin.text.startsWith('https:'))) return undefined;
    return { kind: 'origin', message: `Origin '${req.origin}' is not allowed; allowed origins are listed in allowedOrigins (MCPGATE_ALLOWED_ORIGINS)` };
  }
}

function sameAuthority(originAuthority: string, hostHeader: string, https: boolean): boolean {
  const h = hostHeader.trim().toLowerCase();
  const withPort = /:\d+$/.test(h) && !h.endsWith(']') ? h : `${h}:${https ? 443 : 80}`;
  return withPort === originAuthority;
}
