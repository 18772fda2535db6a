/**
 * The gateway as an OAuth 2.1 resource server for one MCP endpoint (MCP authorization spec):
 * the endpoint's canonical resource URI, its Protected Resource Metadata (RFC 9728, served at
 * the path-suffixed well-known URL), the `WWW-Authenticate` challenges (RFC 6750 / 9728), and a
 * verified token turned into the same grants a consumer key has (scopes → servers and tools).
 */
import type { AuthorizationSettings } from '../../model/authorization.js';
import type { EndpointAuthorization } from './endpoint-settings.js';
import { GatewayError } from '../errors.js';
import type { CompiledConsumer } from '../snapshot.js';
import { InvalidTokenError, IssuerUnavailableError, subjectId } from './token-verifier.js';
import type { TokenVerifier, VerifiedToken } from './token-verifier.js';

/** The well-known prefix of Protected Resource Metadata (RFC 9728 §3.1). */
export const PRM_PREFIX = '/.well-known/oauth-protected-resource';

/** The endpoint path of a server: `/mcp/{namespace}/{server}`, each part percent-encoded as the gateway routes it. */
export function endpointPath(namespace: string, server: string): string {
  return `/mcp/${encodeURIComponent(namespace)}/${server.split('/').map(encodeURIComponent).join('/')}`;
}

/** The canonical resource URI of an endpoint (RFC 8707 / MCP: scheme and host lower case, no trailing slash, no fragment). */
export function resourceUri(baseUrl: string, namespace: string, server: string): string {
  return `${baseUrl.replace(/\/+$/, '').toLowerCase()}${endpointPath(namespace, server)}`;
}

/** Where the endpoint's Protected Resource Metadata is (RFC 9728 path-suffixed form). */
export function metadataUrl(baseUrl: string, namespace: string, server: string): string {
  return `${baseUrl.replace(/\/+$/, '')}${PRM_PREFIX}${endpointPath(namespace, server)}`;
}

/** The RFC 9728 document of an endpoint. */
export function protectedResourceMetadata(auth: EndpointAuthorization, baseUrl: string, namespace: string, server: string): Record<string, unknown> {
  const supported = auth.settings.scopesSupported ?? [...new Set([...auth.requiredScopes, ...Object.keys(auth.settings.scopeGrants ?? {})])];
  return {
    resource: resourceUri(baseUrl, namespace, server),
    authorization_servers: auth.issuers.map((i) => i.issuer),
    bearer_methods_supported: ['header'],
    ...(supported.length > 0 ? { scopes_supported: supported } : {}),
    resource_name: `${namespace}/${server}`,
  };
}

function quoted(s: string): string {
  return `"${s.replace(/["\\]/g, '').replace(/[^\x20-\x7E]/g, '')}"`;
}

/** A `WWW-Authenticate: Bearer …` value with the metadata URL. */
export function challenge(prmUrl: string, params: { error?: string; description?: string; scope?: string } = {}): string {
  const parts = [`resource_metadata=${quoted(prmUrl)}`];
  if (params.error) parts.unshift(`error=${quoted(params.error)}`);
  if (params.description) parts.push(`error_description=${quoted(params.description)}`);
  if (params.scope) parts.push(`scope=${quoted(params.scope)}`);
  return `Bearer ${parts.join(', ')}`;
}

/** Where a request came in: the endpoint and the base URL its resource URI is made of. */
export interface EndpointRef {
  namespace: string;
  server: string;
  /** `https://mcp.example.com` (the configured public URL, or the request's own origin). */
  baseUrl: string;
}

/**
 * The token's consumer-like principal for an endpoint, or a GatewayError: 401 with a challenge
 * naming the metadata (no token, or an invalid one: `error="invalid_token"`), 403 with
 * `error="insufficient_scope"` and the scopes needed. Synchronous (the principal, or a thrown
 * GatewayError) when the token is in the verifier's cache, which is the request path's common
 * case; a promise when it must be checked.
 */
export function authenticateToken(verifier: TokenVerifier, auth: EndpointAuthorization, ref: EndpointRef, token: string | undefined): CompiledConsumer | Promise<CompiledConsumer> {
  if (token === undefined) {
    const prm = metadataUrl(ref.baseUrl, ref.namespace, ref.server);
    throw new GatewayError('UNAUTHORIZED', 'this endpoint needs an OAuth access token (Authorization: Bearer); its authorization servers are in the protected resource metadata',
      { resourceMetadata: prm }, { 'www-authenticate': challenge(prm, { scope: endpointScopes(auth, ref.server).join(' ') }) });
  }
  let hit: VerifiedToken | undefined;
  try {
    hit = verifier.cached(token, auth.issuers, auth.clockSkewSeconds);
  } catch (err) {
    throw refusal(err, ref);
  }
  if (hit !== undefined) return admitToken(hit, auth, ref);
  return verifier.verify(token, auth.issuers, auth.clockSkewSeconds).then((verified) => admitToken(verified, auth, ref), (err: unknown) => {
    throw refusal(err, ref);
  });
}

/** The answer to a token the verifier refused (401 `invalid_token`), or to an issuer that could not be reached (503). */
function refusal(err: unknown, ref: EndpointRef): GatewayError {
  if (err instanceof IssuerUnavailableError) return new GatewayError('SERVICE_UNAVAILABLE', `Service Unavailable: ${err.message}; retry shortly`, undefined, { 'retry-after': '5' });
  const prm = metadataUrl(ref.baseUrl, ref.namespace, ref.server);
  const description = err instanceof InvalidTokenError ? err.message : 'the token could not be checked';
  return new GatewayError('INVALID_TOKEN', `Invalid access token: ${description}`, { resourceMetadata: prm }, { 'www-authenticate': challenge(prm, { error: 'invalid_token', description }) });
}

/** A verified token's principal under one endpoint's settings, and the endpoint it was last admitted at. */
interface Principal {
  consumer: CompiledConsumer & { token: VerifiedToken };
  /** The base URL, namespace and server of the endpoint whose audience, scope and grant checks it last passed. */
  admittedAt?: { baseUrl: string; namespace: string; server: string };
}

/** One principal per verified token and endpoint settings (settings are immutable in a snapshot). */
const principals = new WeakMap<VerifiedToken, WeakMap<AuthorizationSettings, Principal>>();

/**
 * The principal of a verified token at an endpoint, after its audience, required scopes and
 * grants are checked. The checks depend only on the token, the settings and the endpoint, so a
 * token admitted at an endpoint before is admitted again by two look-ups and three comparisons,
 * without rebuilding the resource URI or the metadata URL (bench:auth).
 */
function admitToken(verified: VerifiedToken, auth: EndpointAuthorization, ref: EndpointRef): CompiledConsumer {
  let bySettings = principals.get(verified);
  if (!bySettings) {
    bySettings = new WeakMap();
    principals.set(verified, bySettings);
  }
  let principal = bySettings.get(auth.settings);
  if (principal !== undefined && principal.consumer.namespace === ref.namespace) {
    const at = principal.admittedAt;
    if (at !== undefined && at.server === ref.server && at.baseUrl === ref.baseUrl && at.namespace === ref.namespace) return principal.consumer;
  }
  const audiences = auth.settings.audiences ?? [resourceUri(ref.baseUrl, ref.namespace, ref.server)];
  if (!verified.audiences.some((a) => audiences.includes(a.replace(/\/+$/, '')) || audiences.includes(a))) {
    const prm = metadataUrl(ref.baseUrl, ref.namespace, ref.server);
    const description = 'the token was not issued for this resource (aud)';
    throw new GatewayError('INVALID_TOKEN', `Invalid access token: ${description}`, { resourceMetadata: prm }, { 'www-authenticate': challenge(prm, { error: 'invalid_token', description }) });
  }
  const missing = auth.requiredScopes.filter((s) => !verified.scopes.has(s));
  if (missing.length > 0) {
    const prm = metadataUrl(ref.baseUrl, ref.namespace, ref.server);
    const needed = auth.requiredScopes.join(' ');
    throw new GatewayError('INSUFFICIENT_SCOPE', `The access token lacks scope ${missing.join(' ')}`, { scope: needed },
      { 'www-authenticate': challenge(prm, { error: 'insufficient_scope', scope: needed, description: `needs ${needed}` }) });
  }
  if (principal === undefined || principal.consumer.namespace !== ref.namespace) {
    principal = { consumer: tokenConsumer(verified, ref.namespace, auth.settings) };
    bySettings.set(auth.settings, principal);
  }
  const { consumer } = principal;
  if (consumer.allow !== null && !consumer.allow.has(ref.server)) {
    const prm = metadataUrl(ref.baseUrl, ref.namespace, ref.server);
    const scope = [...auth.requiredScopes, `tools:${ref.server}:*`].join(' ');
    throw new GatewayError('INSUFFICIENT_SCOPE', `The access token grants nothing of MCP server '${ref.server}'`, { scope },
      { 'www-authenticate': challenge(prm, { error: 'insufficient_scope', scope, description: `no scope grants ${ref.server}` }) });
  }
  principal.admittedAt = { baseUrl: ref.baseUrl, namespace: ref.namespace, server: ref.server };
  return consumer;
}

/**
 * The step-up answer for a tool of the server that the token's scopes do not grant (MCP's scope
 * challenge): 403 `insufficient_scope` whose `scope` holds the scopes the token has, the required
 * ones, and those that would grant the tool (the mapped scopes that do, else `tools:<server>:<tool>`), so that
 * a client re-authorizing with it keeps what it had and gains the tool.
 */
export function toolScopeChallenge(auth: EndpointAuthorization, ref: EndpointRef, token: VerifiedToken, tool: string): GatewayError {
  const prm = metadataUrl(ref.baseUrl, ref.namespace, ref.server);
  const mapped = Object.entries(auth.settings.scopeGrants ?? {})
    .filter(([, g]) => g === null || g.some((e) => e.server === ref.server && (!e.tools || e.tools.includes(tool)))).map(([s]) => s);
  const granting = mapped.length > 0 ? mapped : [`tools:${ref.server}:${tool}`];
  const scope = [...new Set([...auth.requiredScopes, ...token.scopes, ...granting])].join(' ');
  return new GatewayError('INSUFFICIENT_SCOPE', `The access token does not grant tool '${tool}' of MCP server '${ref.server}'; re-authorize with scope "${scope}"`, { scope },
    { 'www-authenticate': challenge(prm, { error: 'insufficient_scope', scope, description: `needs a scope granting ${ref.server}/${tool}` }) });
}

/**
 * The scopes an agent should ask for to use an endpoint (the 401 challenge's `scope`, which MCP
 * clients request first, SEP-835): the required ones and those that grant the server.
 */
export function endpointScopes(auth: EndpointAuthorization, server: string): string[] {
  const granting = Object.entries(auth.settings.scopeGrants ?? {}).filter(([, g]) => g === null || g.some((e) => e.server === server)).map(([s]) => s);
  return [...new Set([...auth.requiredScopes, ...granting, `tools:${server}:*`])];
}

/**
 * What a token may use, in a consumer key's terms: the grants of its scopes (`scopeGrants`),
 * `tools:<server>:<tool>` / `tools:<server>:*` scopes, `tools:*` for everything.
 */
export function tokenConsumer(t: VerifiedToken, namespace: string, settings: AuthorizationSettings): CompiledConsumer & { token: VerifiedToken } {
  let all = false;
  let granting = false;
  const allow = new Map<string, Set<string> | null>();
  const grant = (server: string, tools: readonly string[] | undefined) => {
    granting = true;
    const had = allow.get(server);
    if (had === null) return;
    if (!tools) allow.set(server, null);
    else allow.set(server, new Set([...(had ?? []), ...tools]));
  };
  for (const scope of t.scopes) {
    const mapped = settings.scopeGrants?.[scope];
    if (mapped === null) all = true;
    else if (mapped) for (const e of mapped) grant(e.server, e.tools);
    if (scope === 'tools:*') all = true;
    else if (scope.startsWith('tools:')) {
      const rest = scope.slice(6);
      const cut = rest.lastIndexOf(':');
      if (cut > 0) {
        const server = rest.slice(0, cut);
        const tool = rest.slice(cut + 1);
        grant(server, tool === '*' ? undefined : [tool]);
      }
    }
  }
  if (!granting && settings.grantAllWithoutToolScopes) all = true;
  const allowed = all ? null : allow;
  const grants = allowed === null ? '*'
    : JSON.stringify([...allowed].map(([s, tools]) => [s, tools ? [...tools].sort() : null]).sort((a, b) => String(a[0]).localeCompare(String(b[0]))));
  return { id: subjectId(t), namespace, name: t.subject, allow: allowed, grants, token: t };
}
