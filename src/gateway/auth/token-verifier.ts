/**
 * Access-token validation for the gateway as an OAuth 2.1 resource server: JWTs against the
 * trusted issuers' JWKS (jose's remote key sets: cached, refetched when a `kid` is unknown, at
 * most once per cooldown), opaque tokens by RFC 7662 introspection. Valid results are cached
 * per token until they expire (at most a minute, so a revoked opaque token stops working soon),
 * in a bounded map; the audience is checked per endpoint by the caller (`accepts`), since one
 * token may be presented to several endpoints.
 */
import { createHash } from 'node:crypto';
import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, errors as joseErrors, jwtVerify } from 'jose';
import type { JWTPayload } from 'jose';
import type { IssuerSettings } from '../../model/authorization.js';
import { setBounded } from '../../lib/bounded-cache.js';
import { IssuerMetadataError, fetchIssuerMetadata } from '../../lib/issuer-metadata.js';

/** What a valid token says. */
export interface VerifiedToken {
  issuer: string;
  subject: string;
  /** `aud`, as a list. */
  audiences: readonly string[];
  scopes: ReadonlySet<string>;
  /** The OAuth client the token was issued to (`client_id` / `azp`), when known. */
  clientId?: string;
  /** Epoch seconds. */
  expiresAt: number;
  notBefore?: number;
}

/** Why a token was refused (the `error_description` of the challenge). */
export class InvalidTokenError extends Error {
  override readonly name = 'InvalidTokenError';
}

/** The issuer's keys, metadata or introspection endpoint could not be reached: not the token's fault (503). */
export class IssuerUnavailableError extends Error {
  override readonly name = 'IssuerUnavailableError';
}

/** The algorithms accepted by default: asymmetric only (no `none`, no HMAC with a guessable key). */
export const DEFAULT_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];

const CACHE_MAX_ENTRIES = 10_000;
const CACHE_MAX_MS = 60_000;
/** Introspection answers saying "inactive" are remembered this long (so a flood of one bad token costs one call). */
const NEGATIVE_CACHE_MS = 5_000;
const FETCH_TIMEOUT_MS = 5_000;
/** After an issuer's metadata could not be read, how long before it is tried again. */
const DISCOVERY_RETRY_MS = 10_000;
const MAX_TOKEN_LENGTH = 16 * 1024;

/**
 * How many characters of the end of a token make its cache key. A Map hashes a string key on
 * every look-up, and a request's token is a new string each time: hashing all of a JWT (500 to
 * 1,500 characters) cost more than the rest of the cached check, and a 64-character slice still
 * about 200 ns (bench/auth/auth-step.bench.ts). The key is a small integer folded from the last
 * characters instead (a Map hashes a small integer without reading a string). The end of a JWT
 * is its signature (of an opaque token, its random part); the entry keeps the whole token and a
 * hit must equal it, so tokens whose keys collide only share a slot (the later one is verified
 * and takes it), never a result.
 */
const CACHE_KEY_CHARS = 16;

/**
 * The cache key of a token: its last `CACHE_KEY_CHARS` characters folded into 30 bits (FNV-1a).
 * Also the key of `TokenAccess`'s admissions, folded from the `Authorization` value, which ends
 * with the token.
 */
export function cacheKey(token: string): number {
  let h = 0x811c9dc5;
  for (let i = Math.max(0, token.length - CACHE_KEY_CHARS); i < token.length; i++) h = Math.imul(h ^ token.charCodeAt(i), 0x01000193);
  return h & 0x3fffffff;
}

/** A cached result: the claims of a valid token, or why it was refused; for `raw` until `until`. */
interface CacheEntry {
  raw: string;
  token?: VerifiedToken;
  error?: string;
  until: number;
}

/** Options of a verifier. */
export interface TokenVerifierOptions {
  /** Fetch used for discovery and introspection (default the global one). */
  fetch?: typeof fetch;
  now?: () => number;
  /** Minimum time between two JWKS fetches of one issuer when a `kid` is unknown (default 30 s). */
  jwksCooldownMs?: number;
  /** How long fetched keys are trusted without refetching (default 10 min: key rotation is followed within it). */
  jwksMaxAgeMs?: number;
}

interface Issuer {
  settings: IssuerSettings;
  /** After a failed discovery, when the next attempt may be made (so a flood of tokens cannot hammer a down issuer). */
  retryAt?: number;
  lastError?: string;
  jwks?: ReturnType<typeof createRemoteJWKSet>;
  jwksPending?: Promise<ReturnType<typeof createRemoteJWKSet>>;
}

/** Validates access tokens of a set of trusted issuers (one per gateway, shared by endpoints). */
export class TokenVerifier {
  private readonly issuers = new Map<string, Issuer>();
  /** Results by `cacheKey(token)`, each with the whole token it is for. */
  private readonly cache = new Map<number, CacheEntry>();
  private readonly fetch: typeof fetch;
  /** The verifier's clock (epoch ms): callers that keep its answers check their time by it. */
  readonly now: () => number;

  constructor(private readonly opts: TokenVerifierOptions = {}) {
    this.fetch = opts.fetch ?? globalThis.fetch;
    this.now = opts.now ?? Date.now;
  }

  /**
   * The token's claims if one of `issuers` issued it and it is in its validity window (with
   * `clockSkewSeconds` of tolerance); throws `InvalidTokenError` otherwise.
   */
  async verify(token: string, issuers: readonly IssuerSettings[], clockSkewSeconds: number): Promise<VerifiedToken> {
    if (token.length === 0 || token.length > MAX_TOKEN_LENGTH) throw new InvalidTokenError('the token is empty or too long');
    const hit = this.cached(token, issuers, clockSkewSeconds);
    if (hit !== undefined) return hit;
    const now = this.now();
    try {
      const verified = isJwt(token) ? await this.verifyJwt(token, issuers, clockSkewSeconds) : await this.introspect(token, issuers, clockSkewSeconds);
      this.remember(token, { token: verified, until: Math.min(now + CACHE_MAX_MS, (verified.expiresAt + clockSkewSeconds) * 1000) });
      return verified;
    } catch (err) {
      if (err instanceof InvalidTokenError || err instanceof IssuerUnavailableError) throw err;
      if (err instanceof joseErrors.JWKSTimeout || err instanceof joseErrors.JWKSInvalid || !(err instanceof joseErrors.JOSEError)) {
        throw new IssuerUnavailableError(`the authorization server could not be reached (${err instanceof Error ? err.message : String(err)})`);
      }
      throw new InvalidTokenError(describe(err));
    }
  }

  /**
   * `verify`'s answer from the cache, without waiting (the request path's common case: one map
   * look-up and one comparison with the whole token, no digest of it); undefined when the token must be
   * checked (`verify`). Throws `InvalidTokenError` for a token remembered as refused.
   */
  cached(token: string, issuers: readonly IssuerSettings[], clockSkewSeconds: number): VerifiedToken | undefined {
    const entry = this.cache.get(cacheKey(token));
    if (entry === undefined || entry.raw !== token) return undefined;
    const now = this.now();
    if (entry.until <= now) return undefined;
    if (entry.error !== undefined) throw new InvalidTokenError(entry.error);
    const t = entry.token!;
    if (t.expiresAt + clockSkewSeconds <= now / 1000) return undefined;
    for (const i of issuers) if (i.issuer === t.issuer) return t;
    return undefined;
  }

  /**
   * Until when (epoch ms) `cached` answers `token` for `issuers` as it does now: the end of its
   * cache entry or the token's expiry (with the skew), whichever is first; 0 when it is not
   * cached as valid. A caller keeping a cached answer keeps it no longer than this.
   */
  cachedUntil(token: string, issuers: readonly IssuerSettings[], clockSkewSeconds: number): number {
    const t = this.cached(token, issuers, clockSkewSeconds);
    const entry = this.cache.get(cacheKey(token));
    return t === undefined || entry === undefined ? 0 : Math.min(entry.until, (t.expiresAt + clockSkewSeconds) * 1000);
  }

  private remember(token: string, entry: { token?: VerifiedToken; error?: string; until: number }): void {
    setBounded(this.cache, cacheKey(token), { raw: token, ...entry }, CACHE_MAX_ENTRIES, this.now());
  }

  private async verifyJwt(token: string, issuers: readonly IssuerSettings[], skew: number): Promise<VerifiedToken> {
    let alg: unknown;
    let iss: unknown;
    try {
      alg = decodeProtectedHeader(token).alg;
      iss = decodeJwt(token).iss;
    } catch {
      throw new InvalidTokenError('the token is not a well-formed JWT');
    }
    if (typeof alg !== 'string' || alg === 'none') throw new InvalidTokenError('unsigned tokens (alg none) are not accepted');
    const settings = issuers.find((i) => i.issuer === iss);
    if (!settings) throw new InvalidTokenError('the token\'s issuer is not trusted here');
    const algorithms = settings.algorithms ?? DEFAULT_ALGORITHMS;
    if (!algorithms.includes(alg)) throw new InvalidTokenError(`algorithm ${alg} is not accepted`);
    const jwks = await this.keysOf(settings);
    const { payload } = await jwtVerify(token, jwks, { issuer: settings.issuer, algorithms, clockTolerance: skew, currentDate: new Date(this.now()) });
    return fromClaims(payload, settings.issuer);
  }

  private keysOf(settings: IssuerSettings): Promise<ReturnType<typeof createRemoteJWKSet>> {
    const id = `${settings.issuer}\n${settings.jwksUri ?? ''}`;
    let entry = this.issuers.get(id);
    if (!entry) {
      entry = { settings };
      this.issuers.set(id, entry);
    }
    if (entry.jwks) return Promise.resolve(entry.jwks);
    const e = entry;
    if (e.retryAt !== undefined && e.retryAt > this.now() && !e.jwksPending) return Promise.reject(new IssuerUnavailableError(e.lastError ?? 'the issuer is unavailable'));
    e.jwksPending ??= (async () => {
      const uri = settings.jwksUri ?? (await this.discover(settings.issuer)).jwks_uri;
      if (typeof uri !== 'string') throw new InvalidTokenError('the issuer publishes no jwks_uri');
      e.jwks = createRemoteJWKSet(new URL(uri), {
        cooldownDuration: this.opts.jwksCooldownMs ?? 30_000, cacheMaxAge: this.opts.jwksMaxAgeMs ?? 600_000, timeoutDuration: FETCH_TIMEOUT_MS,
      });
      return e.jwks;
    })().catch((err: unknown) => {
      e.retryAt = this.now() + DISCOVERY_RETRY_MS;
      e.lastError = err instanceof Error ? err.message : String(err);
      throw err;
    }).finally(() => { e.jwksPending = undefined; });
    return e.jwksPending;
  }

  /** The issuer's metadata: RFC 8414 (path-inserted well-known), then OpenID Connect discovery. */
  async discover(issuer: string): Promise<Record<string, unknown>> {
    return discoverIssuer(issuer, this.fetch);
  }

  private async introspect(token: string, issuers: readonly IssuerSettings[], skew: number): Promise<VerifiedToken> {
    const candidates = issuers.filter((i) => i.introspection);
    if (candidates.length === 0) throw new InvalidTokenError('the token is not a JWT and no introspection endpoint is configured');
    for (const settings of candidates) {
      const { endpoint, clientId, clientSecret } = settings.introspection!;
      const res = await this.fetch(endpoint, {
        method: 'POST', signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json', authorization: `Basic ${basic(clientId, clientSecret)}` },
        body: new URLSearchParams({ token, token_type_hint: 'access_token' }).toString(),
      });
      if (!res.ok) throw new IssuerUnavailableError(`the introspection endpoint answered ${res.status}`);
      const body = await res.json() as Record<string, unknown>;
      if (body.active !== true) continue;
      const iss = typeof body.iss === 'string' ? body.iss : settings.issuer;
      if (iss !== settings.issuer) continue;
      const nowS = this.now() / 1000;
      if (typeof body.exp !== 'number') throw new InvalidTokenError('the introspected token has no expiry');
      if (body.exp + skew <= nowS) throw new InvalidTokenError('the token has expired');
      if (typeof body.nbf === 'number' && body.nbf - skew > nowS) throw new InvalidTokenError('the token is not yet valid');
      return fromClaims(body as JWTPayload & Record<string, unknown>, settings.issuer);
    }
    this.remember(token, { error: 'the token is not active', until: this.now() + NEGATIVE_CACHE_MS });
    throw new InvalidTokenError('the token is not active');
  }
}

/** Fetches an issuer's authorization server metadata, checking that it names the same issuer. */
export async function discoverIssuer(issuer: string, fetcher: typeof fetch = globalThis.fetch): Promise<Record<string, unknown>> {
  try {
    return await fetchIssuerMetadata(issuer, fetcher, FETCH_TIMEOUT_MS);
  } catch (err) {
    if (err instanceof IssuerMetadataError && err.kind === 'inconsistent') throw new InvalidTokenError(err.message);
    throw new IssuerUnavailableError(err instanceof Error ? err.message : String(err));
  }
}

function fromClaims(p: JWTPayload & Record<string, unknown>, issuer: string): VerifiedToken {
  if (typeof p.sub !== 'string' || p.sub === '') throw new InvalidTokenError('the token has no subject');
  if (typeof p.exp !== 'number') throw new InvalidTokenError('the token has no expiry');
  const aud = p.aud === undefined ? [] : Array.isArray(p.aud) ? p.aud.filter((a): a is string => typeof a === 'string') : [String(p.aud)];
  const scope = typeof p.scope === 'string' ? p.scope : Array.isArray(p.scp) ? p.scp.join(' ') : typeof p.scp === 'string' ? p.scp : '';
  const clientId = typeof p.client_id === 'string' ? p.client_id : typeof p.azp === 'string' ? p.azp : undefined;
  return {
    issuer, subject: p.sub, audiences: aud, scopes: new Set(scope.split(' ').filter(Boolean)), expiresAt: p.exp,
    ...(clientId ? { clientId } : {}), ...(typeof p.nbf === 'number' ? { notBefore: p.nbf } : {}),
  };
}

function isJwt(token: string): boolean {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(token);
}

function basic(id: string, secret: string): string {
  return Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64');
}

/** A short reason for a jose or network failure, without the token. */
function describe(err: unknown): string {
  if (err instanceof joseErrors.JWTExpired) return 'the token has expired';
  if (err instanceof joseErrors.JWTClaimValidationFailed) return err.claim === 'nbf' ? 'the token is not yet valid' : `claim ${err.claim} is invalid`;
  if (err instanceof joseErrors.JWKSNoMatchingKey) return 'no key of the issuer matches the token (unknown kid)';
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return 'the signature does not verify';
  if (err instanceof joseErrors.JOSEAlgNotAllowed) return 'the algorithm is not accepted';
  if (err instanceof joseErrors.JOSEError) return `the token is invalid (${err.code})`;
  return err instanceof Error ? err.message : 'the token could not be checked';
}

/** How the ids of token subjects begin (consumer key ids never do). */
export const TOKEN_SUBJECT_PREFIX = 'oauth:';

/** Stable id of a token subject, for sessions, rate limits and logs (no token in it). */
export function subjectId(t: Pick<VerifiedToken, 'issuer' | 'subject'>): string {
  return `${TOKEN_SUBJECT_PREFIX}${createHash('sha256').update(`${t.issuer}\n${t.subject}`).digest('base64url').slice(0, 22)}`;
}
