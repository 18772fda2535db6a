/**
 * Credentials of a REST tool's backend request: the security scheme's credential (configured,
 * or taken from the agent's request and passed through), and the agent's headers and cookies
 * the server forwards by its allow-list. The gateway's own consumer key is never forwarded.
 */
import { invalid } from '../../lib/errors.js';
import { CONSUMER_KEY_PREFIX } from '../../model/consumer-key.js';
import type { CredentialPassthrough, RestSecurity, SecurityScheme } from '../../model/model.js';
import { ToolError } from '../errors.js';
import type { ClientHeaders, ToolCallRequest } from '../executor.js';
import type { QueryValues } from './url.js';
import type { Headers } from './wire.js';
import { TOKEN, cookieValue, wireValue } from './wire.js';

/** Never forwarded from the agent's request, whatever the allow-list says. */
const NEVER_FORWARDED: ReadonlySet<string> = new Set([
  'connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection', 'te', 'trailer', 'trailers',
  'transfer-encoding', 'upgrade', 'host', 'content-length', 'expect', 'x-api-key', 'http2-settings',
]);
const BEARER = /^bearer\s+/i;
const BASIC = /^basic\s+/i;

/** A security scheme with where its credential travels in a request. */
interface CompiledScheme {
  readonly scheme: SecurityScheme;
  /** Lower-case header name (http schemes: authorization). */
  readonly header: string | undefined;
  readonly cookie: string | undefined;
  /** Query parameter name (apiKey schemes `in: query`). */
  readonly query: string | undefined;
}

interface CompiledSecurity {
  /** The scheme the agent's credential is taken by, and so never forwarded otherwise; none when no credential is taken. */
  readonly client: CompiledScheme | undefined;
  /** The scheme the backend's credential goes by; none when the backend gets no credential. */
  readonly upstream: CompiledScheme | undefined;
  /** The agent's credential is forwarded (by the upstream scheme). */
  readonly passthrough: boolean;
  /** The backend's credential when none is passed through. */
  readonly configured: string | undefined;
}

function firstHeader(headers: ClientHeaders, name: string): string | undefined {
  const v = headers[name];
  return typeof v === 'string' ? v : v?.[0];
}

function isGatewayKey(value: string): boolean {
  const space = value.indexOf(' ');
  return value.slice(space + 1).trim().startsWith(CONSUMER_KEY_PREFIX);
}

function cookiesOf(headers: ClientHeaders): string[] {
  const raw = headers['cookie'];
  if (raw === undefined) return [];
  const joined = typeof raw === 'string' ? raw : raw.join('; ');
  const out: string[] = [];
  for (const part of joined.split(';')) {
    const c = part.trim();
    if (c !== '') out.push(c);
  }
  return out;
}

/** Header names the agent's `Connection` header marks hop-by-hop (RFC 9110 §7.6.1). */
function connectionTokens(headers: ClientHeaders): Set<string> | undefined {
  const v = headers['connection'];
  if (v === undefined) return undefined;
  const joined = typeof v === 'string' ? v : v.join(',');
  if (joined === 'keep-alive' || joined === 'close') return undefined;
  return new Set(joined.split(',').map((t) => t.trim().toLowerCase()));
}

function cookieName(cookie: string): string {
  const eq = cookie.indexOf('=');
  return (eq < 0 ? cookie : cookie.slice(0, eq)).trim();
}

/** Where a scheme's credential travels; an unusable scheme is a VALIDATION_FAILED naming `field`. */
function compileScheme(id: string, field: string, schemes: readonly SecurityScheme[]): CompiledScheme {
  const scheme = schemes.find((s) => s.id === id);
  if (!scheme) throw invalid(field, `no security scheme ${JSON.stringify(id)} in server.securitySchemes`);
  if (scheme.type === 'http') {
    if (scheme.scheme !== 'bearer' && scheme.scheme !== 'basic') throw invalid(field, `http scheme ${JSON.stringify(scheme.scheme ?? '')} is not supported (bearer or basic)`);
    return { scheme, header: 'authorization', cookie: undefined, query: undefined };
  }
  if (!scheme.name) throw invalid(field, `apiKey scheme ${JSON.stringify(scheme.id)} has no name`);
  if (scheme.in === 'header') {
    if (!TOKEN.test(scheme.name)) throw invalid(field, `${JSON.stringify(scheme.name)} is not a header name`);
    return { scheme, header: scheme.name.toLowerCase(), cookie: undefined, query: undefined };
  }
  if (scheme.in === 'cookie') return { scheme, header: undefined, cookie: scheme.name, query: undefined };
  if (scheme.in !== 'query') throw invalid(field, `apiKey scheme ${JSON.stringify(scheme.id)} needs in: header, query or cookie`);
  return { scheme, header: undefined, cookie: undefined, query: scheme.name };
}

function compileSecurity(toolName: string, security: RestSecurity, schemes: readonly SecurityScheme[]): CompiledSecurity {
  const field = `tools.${toolName}.requestTemplate.security`;
  const upstream = security.upstream === false ? undefined : compileScheme(security.id, `${field}.id`, schemes);
  const clientId = security.clientId ?? (security.passthrough ? security.id : undefined);
  const client = clientId === undefined ? undefined : clientId === security.id && upstream ? upstream : compileScheme(clientId, `${field}.clientId`, schemes);
  const configured = upstream ? security.credential || upstream.scheme.defaultCredential || undefined : undefined;
  return { client, upstream, passthrough: security.passthrough === true && upstream !== undefined, configured };
}

/**
 * The credentials of one REST tool, compiled once: its security scheme (when the template has
 * one) and the server's passthrough allow-list. An unusable scheme is a `VALIDATION_FAILED`.
 */
export class RestCredentials {
  private readonly security: CompiledSecurity | undefined;
  private readonly passHeaders: readonly string[];
  private readonly passCookies: ReadonlySet<string>;
  private readonly passAllCookies: boolean;

  constructor(private readonly toolName: string, security: RestSecurity | undefined, schemes: readonly SecurityScheme[], passthrough: CredentialPassthrough) {
    this.security = security ? compileSecurity(toolName, security, schemes) : undefined;
    const taken = this.security?.client;
    let allCookies = false;
    const headers: string[] = [];
    for (const h of passthrough.headers) {
      const lower = h.trim().toLowerCase();
      if (lower === 'cookie') allCookies = true;
      else if (lower !== '' && !NEVER_FORWARDED.has(lower) && !lower.startsWith('proxy-') && lower !== taken?.header && !headers.includes(lower)) headers.push(lower);
    }
    this.passHeaders = headers;
    this.passCookies = new Set(passthrough.cookies.filter((c) => c !== taken?.cookie));
    this.passAllCookies = allCookies;
  }

  /**
   * The agent's credential to forward, when the tool passes it through; a missing one without
   * a configured fallback is a `CREDENTIAL_REQUIRED` ToolError (the gateway answers 401).
   */
  take(call: ToolCallRequest): string | undefined {
    const security = this.security;
    if (!security) return undefined;
    const { client } = security;
    if (!security.passthrough || !client) return undefined;
    const headers = call.clientHeaders;
    const { scheme } = client;
    let value: string | undefined;
    if (scheme.type === 'http') {
      const auth = firstHeader(headers, 'authorization');
      const prefix = scheme.scheme === 'bearer' ? BEARER : BASIC;
      if (auth !== undefined && prefix.test(auth)) {
        const token = auth.replace(prefix, '').trim();
        if (token !== '' && !token.startsWith(CONSUMER_KEY_PREFIX)) value = token;
      }
    } else if (client.header) {
      const v = firstHeader(headers, client.header)?.trim();
      if (v && !v.startsWith(CONSUMER_KEY_PREFIX)) value = v;
    } else if (client.cookie) {
      const prefix = `${client.cookie}=`;
      const c = cookiesOf(headers).find((x) => x.startsWith(prefix));
      if (c !== undefined && c.length > prefix.length) value = c.slice(prefix.length);
    } else if (client.query && call.clientQuery) {
      const v = new URLSearchParams(call.clientQuery).get(client.query)?.trim();
      if (v && !v.startsWith(CONSUMER_KEY_PREFIX)) value = v;
    }
    if (value === undefined && security.configured === undefined) throw this.missingCredential(scheme);
    return value;
  }

  /**
   * Adds to a backend request what the server forwards of the agent's request (allow-listed
   * headers and cookies not set already, end-to-end only, never a gateway key) and then the
   * scheme's credential (`passed`, taken by `take`, or the configured one); answers the query.
   */
  addTo(client: ClientHeaders, passed: string | undefined, headers: Headers, cookies: string[], query: QueryValues | undefined): QueryValues | undefined {
    const hopByHop = connectionTokens(client);
    for (const name of this.passHeaders) {
      if (headers[name] !== undefined) continue;
      const v = client[name];
      if (v === undefined || hopByHop?.has(name)) continue;
      if (name === 'authorization' && isGatewayKey(typeof v === 'string' ? v : (v[0] ?? ''))) continue;
      headers[name] = v;
    }
    if (this.passAllCookies || this.passCookies.size > 0) {
      for (const c of cookiesOf(client)) {
        const n = cookieName(c);
        if (n === this.security?.client?.cookie) continue;
        if (this.passAllCookies || this.passCookies.has(n)) cookies.push(c);
      }
    }
    return this.security ? this.applySecurity(this.security, passed, headers, cookies, query) : query;
  }

  private applySecurity(security: CompiledSecurity, passed: string | undefined, headers: Headers, cookies: string[], query: QueryValues | undefined): QueryValues | undefined {
    const credential = passed ?? security.configured;
    if (credential === undefined || !security.upstream) return query;
    const { scheme } = security.upstream;
    if (scheme.type === 'http') {
      // A credential taken by a Basic scheme is already encoded; any other `user:password` is encoded here.
      const encoded = passed !== undefined && security.client?.scheme.type === 'http' && security.client.scheme.scheme === 'basic';
      if (scheme.scheme === 'bearer') headers['authorization'] = credential.startsWith('Bearer ') ? credential : `Bearer ${credential}`;
      else if (credential.startsWith('Basic ')) headers['authorization'] = credential;
      else if (!encoded && credential.includes(':')) headers['authorization'] = `Basic ${Buffer.from(credential).toString('base64')}`;
      else headers['authorization'] = `Basic ${credential}`;
      return query;
    }
    const name = scheme.name as string;
    if (scheme.in === 'header') headers[name.toLowerCase()] = wireValue(credential);
    else if (scheme.in === 'query') (query ??= new Map()).set(name, [credential]);
    else {
      const prefix = `${name}=`;
      const at = cookies.findIndex((c) => c.startsWith(prefix));
      const cookie = `${name}=${cookieValue(credential)}`;
      if (at >= 0) cookies[at] = cookie;
      else cookies.push(cookie);
    }
    return query;
  }

  private missingCredential(scheme: SecurityScheme): ToolError {
    let how: string;
    let challenge: string;
    if (scheme.type === 'http') {
      const basic = scheme.scheme === 'basic';
      how = basic ? 'Authorization: Basic <credentials>' : 'Authorization: Bearer <token>';
      challenge = `${basic ? 'Basic' : 'Bearer'} realm="mcpgate"`;
      how += ' (a gateway key there does not count: send it as X-API-Key)';
    } else {
      const name = scheme.name ?? '';
      how = scheme.in === 'cookie' ? `the cookie ${name}` : scheme.in === 'query' ? `the query parameter ${name}` : `the header ${name}`;
      challenge = `ApiKey realm="mcpgate", in="${scheme.in ?? 'header'}", name="${name}"`;
    }
    return new ToolError('CREDENTIAL_REQUIRED', `tool ${this.toolName} needs a credential: send ${how}`, challenge);
  }
}
