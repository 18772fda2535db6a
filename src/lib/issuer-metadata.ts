/**
 * An OAuth authorization server's metadata, read the way RFC 8414 and OpenID Connect discovery
 * say: the path-inserted `/.well-known/oauth-authorization-server{path}`, then
 * `/.well-known/openid-configuration` (path-inserted, then appended). The document must name the
 * same issuer (RFC 8414 §3.3), or it is refused. Used by the gateway (keys, at first use) and by
 * the registry (settings checked when saved).
 */

/** Why an issuer's metadata could not be used: nothing answered (`unreachable`), or it names another issuer or lacks what is needed (`inconsistent`). */
export class IssuerMetadataError extends Error {
  override readonly name = 'IssuerMetadataError';
  constructor(message: string, readonly kind: 'unreachable' | 'inconsistent') {
    super(message);
  }
}

/** How long one metadata request may take. */
export const ISSUER_METADATA_TIMEOUT_MS = 5_000;
/** Largest metadata document read. */
const MAX_METADATA_BYTES = 256 * 1024;

/** The well-known URLs of an issuer's metadata, in the order they are tried. */
export function issuerMetadataUrls(issuer: string): string[] {
  const u = new URL(issuer);
  const path = u.pathname === '/' ? '' : u.pathname.replace(/\/$/, '');
  return [
    `${u.origin}/.well-known/oauth-authorization-server${path}`,
    `${u.origin}/.well-known/openid-configuration${path}`,
    `${u.origin}${path}/.well-known/openid-configuration`,
  ];
}

/** Fetches an issuer's metadata; throws `IssuerMetadataError`. */
export async function fetchIssuerMetadata(issuer: string, fetcher: typeof fetch = globalThis.fetch, timeoutMs = ISSUER_METADATA_TIMEOUT_MS): Promise<Record<string, unknown>> {
  let last = 'no metadata found';
  for (const url of issuerMetadataUrls(issuer)) {
    let body: unknown;
    try {
      const res = await fetcher(url, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(timeoutMs) });
      if (!res.ok) {
        await res.body?.cancel().catch(() => undefined);
        last = `${url} answered ${res.status}`;
        continue;
      }
      const declared = Number(res.headers.get('content-length') ?? '0');
      if (declared > MAX_METADATA_BYTES) {
        await res.body?.cancel().catch(() => undefined);
        last = `${url} answered a document over ${MAX_METADATA_BYTES} bytes`;
        continue;
      }
      const text = await res.text();
      if (text.length > MAX_METADATA_BYTES) {
        last = `${url} answered a document over ${MAX_METADATA_BYTES} bytes`;
        continue;
      }
      body = JSON.parse(text);
    } catch (err) {
      last = `${url}: ${err instanceof Error ? (err.cause instanceof Error ? `${err.message} (${err.cause.message})` : err.message) : String(err)}`;
      continue;
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new IssuerMetadataError(`the metadata at ${url} is not a JSON object`, 'inconsistent');
    const named = (body as Record<string, unknown>).issuer;
    if (named !== issuer) throw new IssuerMetadataError(`the metadata at ${url} names issuer ${JSON.stringify(named)}, not ${issuer}`, 'inconsistent');
    return body as Record<string, unknown>;
  }
  throw new IssuerMetadataError(`the issuer's metadata could not be read (${last})`, 'unreachable');
}
