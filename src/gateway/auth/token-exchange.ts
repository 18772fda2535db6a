/**
 * RFC 8693 token exchange for backends: the agent's access token (whose audience is the MCP
 * endpoint, and which the MCP spec forbids passing through) is swapped at the configured token
 * endpoint for one whose audience is the server's backend. Results are cached per subject and
 * audience until shortly before they expire, in a bounded map; concurrent calls of one subject
 * share one exchange. A cached token is read synchronously (`cachedEntry`) with its
 * `Authorization` value made once, and the caller keeps the entry with the token's principal
 * while it is fresh: the per-call cost of a cached exchange is one look-up by object
 * (bench:auth, docs/benchmarks.md "Gateway with OAuth").
 */
import type { TokenExchangeSettings } from '../../model/authorization.js';
import type { Logger } from '../../lib/logger.js';
import { GatewayError } from '../errors.js';
import { setBounded } from '../../lib/bounded-cache.js';

const GRANT_TYPE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';
const MAX_ENTRIES = 10_000;
/** An exchanged token is not used in its last seconds (it could expire on the way to the backend). */
const EXPIRY_MARGIN_MS = 10_000;
/** Without `expires_in`, how long an exchanged token is reused. */
const DEFAULT_LIFETIME_MS = 60_000;
const FETCH_TIMEOUT_MS = 5_000;
/**
 * An exchanged token the gateway will send as `Authorization: Bearer <token>`: RFC 6750's
 * b64token syntax, checked once when it enters the cache (a token endpoint's answer is not
 * trusted to be a header value: no white space, control characters or line breaks), and no
 * longer than a backend's whole request head may be by Node's default limit (16 KiB).
 */
const BEARER_TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;
const MAX_TOKEN_CHARS = 16_384;

/** A cached backend token's `Authorization` header value, and until when it is used (epoch ms). */
export interface ExchangedAuthorization {
  readonly authorization: string;
  readonly until: number;
}

/** A cached backend token, with the `Authorization` header value that carries it. */
interface Exchanged extends ExchangedAuthorization {
  token: string;
}

/** Swaps agents' tokens for backend tokens, with a cache. */
export class TokenExchanger {
  private readonly cache = new Map<string, Exchanged>();
  private readonly pending = new Map<string, Promise<Exchanged>>();
  /** The settings' part of cache keys, made once per settings object (settings are immutable in a snapshot). */
  private readonly prefixes = new WeakMap<TokenExchangeSettings, string>();
  private readonly fetch: typeof fetch;
  private readonly now: () => number;
  /** Exchanges made (not served from the cache), for metrics and tests. */
  exchanges = 0;

  constructor(opts: { fetch?: typeof fetch; now?: () => number; logger?: Logger } = {}) {
    this.fetch = opts.fetch ?? globalThis.fetch;
    this.now = opts.now ?? Date.now;
    this.logger = opts.logger;
  }

  private readonly logger: Logger | undefined;

  /** The cache key of a subject under `settings` (one string concatenation per call). */
  private keyOf(subjectId: string, s: TokenExchangeSettings): string {
    let prefix = this.prefixes.get(s);
    if (prefix === undefined) {
      prefix = `${s.tokenEndpoint}\n${s.clientId}\n${s.audience ?? ''}\n${s.resource ?? ''}\n${s.scope ?? ''}\n`;
      this.prefixes.set(s, prefix);
    }
    return prefix + subjectId;
  }

  /**
   * The cached exchange for the backend of `settings` and subject `subjectId`, if one is fresh
   * (no await); a caller may keep it for the same subject and settings while `fresh` says so.
   */
  cachedEntry(subjectId: string, settings: TokenExchangeSettings): ExchangedAuthorization | undefined {
    const hit = this.cache.get(this.keyOf(subjectId, settings));
    return hit !== undefined && hit.until > this.now() ? hit : undefined;
  }

  /** Whether an entry of `cachedEntry` may still be used. */
  fresh(entry: ExchangedAuthorization): boolean {
    return entry.until > this.now();
  }

  /** The `Authorization` value for the backend of `settings`: from the cache, else by an exchange of `subjectToken`. */
  async authorization(subjectId: string, subjectToken: string, settings: TokenExchangeSettings): Promise<string> {
    return (await this.exchanged(subjectId, subjectToken, settings)).authorization;
  }

  /** A token for the backend of `settings`, for the subject `subjectId` (whose token is `subjectToken`). */
  async exchange(subjectId: string, subjectToken: string, settings: TokenExchangeSettings): Promise<string> {
    return (await this.exchanged(subjectId, subjectToken, settings)).token;
  }

  private exchanged(subjectId: string, subjectToken: string, settings: TokenExchangeSettings): Promise<Exchanged> {
    const key = this.keyOf(subjectId, settings);
    const hit = this.cache.get(key);
    if (hit && hit.until > this.now()) return Promise.resolve(hit);
    let p = this.pending.get(key);
    if (!p) {
      p = this.request(subjectToken, settings).then(({ token, lifetimeMs }) => {
        const entry = { token, authorization: `Bearer ${token}`, until: this.now() + Math.max(0, lifetimeMs - EXPIRY_MARGIN_MS) };
        setBounded(this.cache, key, entry, MAX_ENTRIES, this.now());
        return entry;
      }).finally(() => this.pending.delete(key));
      this.pending.set(key, p);
    }
    return p;
  }

  private async request(subjectToken: string, s: TokenExchangeSettings): Promise<{ token: string; lifetimeMs: number }> {
    this.exchanges++;
    const body = new URLSearchParams({ grant_type: GRANT_TYPE, subject_token: subjectToken, subject_token_type: ACCESS_TOKEN_TYPE, requested_token_type: ACCESS_TOKEN_TYPE });
    if (s.audience) body.set('audience', s.audience);
    if (s.resource) body.set('resource', s.resource);
    if (s.scope) body.set('scope', s.scope);
    let res: Response;
    try {
      res = await this.fetch(s.tokenEndpoint, {
        method: 'POST', signal: AbortSignal.timeout(FETCH_TIMEOUT_MS), body: body.toString(),
        headers: {
          'content-type': 'application/x-www-form-urlencoded', accept: 'application/json',
          authorization: `Basic ${Buffer.from(`${encodeURIComponent(s.clientId)}:${encodeURIComponent(s.clientSecret)}`).toString('base64')}`,
        },
      });
    } catch (err) {
      this.logger?.warn({ err: err instanceof Error ? err.message : String(err), tokenEndpoint: s.tokenEndpoint }, 'token exchange failed');
      throw new GatewayError('TOKEN_EXCHANGE_FAILED', 'Bad Gateway: the token endpoint could not be reached to get the backend\'s token');
    }
    const answer = await res.json().catch(() => ({})) as Record<string, unknown>;
    if (!res.ok || typeof answer.access_token !== 'string') {
      this.logger?.warn({ status: res.status, error: answer.error, description: answer.error_description, tokenEndpoint: s.tokenEndpoint }, 'token exchange refused');
      throw new GatewayError('TOKEN_EXCHANGE_FAILED', `Bad Gateway: the token endpoint refused the exchange (${typeof answer.error === 'string' ? answer.error : res.status})`);
    }
    const token = answer.access_token;
    if (token.length > MAX_TOKEN_CHARS || !BEARER_TOKEN.test(token)) {
      // The token itself is not logged: only what is wrong with it.
      this.logger?.warn({ tokenEndpoint: s.tokenEndpoint, tokenChars: token.length }, 'token exchange answered a token that is no Bearer credential');
      throw new GatewayError('TOKEN_EXCHANGE_FAILED', 'Bad Gateway: the token endpoint answered a token that cannot be sent as a Bearer credential');
    }
    const lifetimeMs = typeof answer.expires_in === 'number' && answer.expires_in > 0 ? answer.expires_in * 1000 : DEFAULT_LIFETIME_MS;
    return { token, lifetimeMs };
  }
}
