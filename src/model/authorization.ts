/**
 * The MCP authorization settings of an endpoint: the gateway as an OAuth 2.1 resource server
 * (which authorization servers it trusts, which audiences and scopes a token needs, which
 * scopes grant which servers and tools), how a server's backend gets its own token (RFC 8693
 * token exchange), and rate limits. Set per namespace and overridden per server (the server
 * version's `spec.authorization`); `mergeAuthorization` gives the effective settings.
 */
import { z } from 'zod';
import { AppError } from '../lib/errors.js';

/** What a scope grants: a server, or some of its tools (the shape of a consumer key's allow-list entry). */
export interface ScopeGrant {
  server: string;
  tools?: string[];
}

/** A trusted authorization server. */
export interface IssuerSettings {
  /** The issuer identifier (`iss`), an https URL (http only for loopback hosts). */
  issuer: string;
  /** Where its signing keys are; default: the `jwks_uri` of its metadata (RFC 8414, then OpenID discovery). */
  jwksUri?: string;
  /** RFC 7662 introspection, for opaque (non-JWT) tokens. */
  introspection?: { endpoint: string; clientId: string; clientSecret: string };
  /** Accepted JWS algorithms; default the asymmetric ones (RS256…, PS256…, ES256…, EdDSA). `none` and HMAC never. */
  algorithms?: string[];
}

/** RFC 8693 token exchange for a server's backend: the gateway swaps the agent's token for one whose audience is the backend. */
export interface TokenExchangeSettings {
  tokenEndpoint: string;
  clientId: string;
  clientSecret: string;
  /** The backend's audience (`audience` parameter). */
  audience?: string;
  /** The backend's resource indicator (`resource` parameter, RFC 8707). */
  resource?: string;
  scope?: string;
}

/** A token bucket: `ratePerSecond` tokens are added per second up to `burst`. */
export interface RateLimitRule {
  ratePerSecond: number;
  burst: number;
}

/** Rate limits of an endpoint: per caller (consumer key or token subject), and per caller and tool. */
export interface RateLimitSettings {
  perCaller?: RateLimitRule;
  /** Every tools/call of one caller to one tool; `tools` overrides it by tool name. */
  perTool?: RateLimitRule;
  tools?: Record<string, RateLimitRule>;
}

/** The authorization settings of a namespace or a server (a server's override the namespace's, field by field). */
export interface AuthorizationSettings {
  /** Whether OAuth access tokens are accepted (and, with no consumer keys, required). */
  enabled?: boolean;
  issuers?: IssuerSettings[];
  /** Accepted `aud` values; default the endpoint's canonical resource URI (`https://gateway/mcp/ns/server`). */
  audiences?: string[];
  /** Scopes every token must carry. */
  requiredScopes?: string[];
  /** Scopes advertised in the Protected Resource Metadata (`scopes_supported`). */
  scopesSupported?: string[];
  /**
   * Scopes that grant servers or tools, like a consumer key's allow-list: `{"orders:read":
   * [{"server":"orders","tools":["get_order"]}]}`; `null` grants every server of the namespace.
   * Besides these, `tools:<server>:<tool>` and `tools:<server>:*` grant what they name, and `tools:*` everything.
   */
  scopeGrants?: Record<string, ScopeGrant[] | null>;
  /** Whether a token without any granting scope may use everything (default false: it sees no tool). */
  grantAllWithoutToolScopes?: boolean;
  /** Tolerance on `exp`/`nbf`/`iat`, seconds (default 60, at most 300). */
  clockSkewSeconds?: number;
  /** Whether consumer keys are still accepted beside tokens (default true). */
  acceptConsumerKeys?: boolean;
  /** Per server: how the backend gets a token of its own. */
  tokenExchange?: TokenExchangeSettings;
  rateLimits?: RateLimitSettings;
}

/** The default tolerance on token times. */
export const DEFAULT_CLOCK_SKEW_SECONDS = 60;
/** The largest tolerance allowed. */
export const MAX_CLOCK_SKEW_SECONDS = 300;

const LOOPBACK = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])$/i;

/** An https URL, or http on a loopback host (development and tests). */
const secureUrl = z.string().max(2048).refine((s) => {
  try {
    const u = new URL(s);
    return !u.hash && (u.protocol === 'https:' || (u.protocol === 'http:' && LOOPBACK.test(u.hostname)));
  } catch {
    return false;
  }
}, 'must be an https URL without a fragment (http only on localhost)');

const scope = z.string().regex(/^[\x21\x23-\x5B\x5D-\x7E]{1,256}$/, 'must be a scope token (RFC 6749: printable ASCII, no space, quote or backslash)');
const rule = z.strictObject({ ratePerSecond: z.number().positive().max(1e6), burst: z.number().int().min(1).max(1e6) });
const allowEntry = z.strictObject({ server: z.string().min(1).max(255), tools: z.array(z.string().min(1).max(128)).min(1).max(1000).optional() });

const schema = z.strictObject({
  enabled: z.boolean().optional(),
  issuers: z.array(z.strictObject({
    issuer: secureUrl,
    jwksUri: secureUrl.optional(),
    introspection: z.strictObject({ endpoint: secureUrl, clientId: z.string().min(1).max(256), clientSecret: z.string().max(4096) }).optional(),
    algorithms: z.array(z.enum(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'])).min(1).optional(),
  })).max(16).optional(),
  audiences: z.array(z.string().min(1).max(2048)).max(16).optional(),
  requiredScopes: z.array(scope).max(64).optional(),
  scopesSupported: z.array(scope).max(256).optional(),
  scopeGrants: z.record(scope, z.array(allowEntry).max(1000).nullable()).optional(),
  grantAllWithoutToolScopes: z.boolean().optional(),
  clockSkewSeconds: z.number().int().min(0).max(MAX_CLOCK_SKEW_SECONDS).optional(),
  acceptConsumerKeys: z.boolean().optional(),
  tokenExchange: z.strictObject({
    tokenEndpoint: secureUrl, clientId: z.string().min(1).max(256), clientSecret: z.string().max(4096),
    audience: z.string().min(1).max(2048).optional(), resource: z.string().min(1).max(2048).optional(), scope: z.string().min(1).max(2048).optional(),
  }).optional(),
  rateLimits: z.strictObject({ perCaller: rule.optional(), perTool: rule.optional(), tools: z.record(z.string().min(1).max(128), rule).optional() }).optional(),
});

/**
 * Checks settings from an API, a spec or a config file; throws `VALIDATION_FAILED` naming the
 * first field at fault (under `field`, e.g. `authorization.issuers[0].issuer`). Enabled settings
 * need at least one issuer.
 */
export function validateAuthorization(value: unknown, field = 'authorization'): AuthorizationSettings {
  const r = schema.safeParse(value);
  if (!r.success) {
    const issue = r.error.issues[0];
    const path = (issue?.path ?? []).map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('');
    throw new AppError('VALIDATION_FAILED', `${field}${path}: ${issue?.message ?? 'invalid'}`, `${field}${path}`);
  }
  return r.data as AuthorizationSettings;
}

/** Checks effective settings: enabled ones need an issuer. */
export function checkEffective(settings: AuthorizationSettings, field = 'authorization'): void {
  if (settings.enabled && (settings.issuers ?? []).length === 0) throw new AppError('VALIDATION_FAILED', `${field}.issuers: at least one issuer is needed when enabled`, `${field}.issuers`);
}

/** The effective settings of a server: its own fields over its namespace's (shallow, field by field). */
export function mergeAuthorization(namespace: AuthorizationSettings | undefined, server: AuthorizationSettings | undefined): AuthorizationSettings | undefined {
  if (!namespace) return server;
  if (!server) return namespace;
  const out: AuthorizationSettings = { ...namespace };
  for (const [k, v] of Object.entries(server)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}

/** The value secrets read as when redacted. */
export const AUTHORIZATION_REDACTED = '******';

/** A copy with the client secrets (introspection, token exchange) redacted, for readers without write access. */
export function redactAuthorization(s: AuthorizationSettings): AuthorizationSettings {
  const copy = structuredClone(s);
  for (const i of copy.issuers ?? []) if (i.introspection?.clientSecret) i.introspection.clientSecret = AUTHORIZATION_REDACTED;
  if (copy.tokenExchange?.clientSecret) copy.tokenExchange.clientSecret = AUTHORIZATION_REDACTED;
  return copy;
}
