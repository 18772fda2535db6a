/**
 * The issuer check of MCP authorization settings, in one place for every path that saves or
 * loads them: the registry's namespace settings (native API), a server's `spec.authorization`
 * (native, Nacos-compatible and gRPC APIs, imports, backups restored: `McpService`), and a
 * gateway's `namespaceAuthorization` configuration (checked when it starts). Each issuer's
 * metadata is fetched (RFC 8414, then OpenID Connect discovery) and must name the same issuer
 * and, for issuers whose tokens are JWTs, publish a `jwks_uri`: so that a typo is refused naming
 * the field, not a gateway answering 503 to every agent.
 */
import { AppError } from '../lib/errors.js';
import { IssuerMetadataError, fetchIssuerMetadata } from '../lib/issuer-metadata.js';
import type { AuthorizationSettings } from './authorization.js';

/** How an issuer's metadata is read (the global fetch unless a test or a proxy needs another). */
export type MetadataFetch = typeof fetch;

/**
 * Fetches and checks the metadata of every issuer of `settings` (nothing when there are none):
 * it must be readable, name the same issuer and, for issuers whose tokens are JWTs (no
 * `jwksUri` of their own, no introspection), publish a `jwks_uri`. Throws
 * `ISSUER_METADATA_INVALID` whose field is `{field}.issuers[i].issuer`.
 */
export async function checkAuthorizationIssuers(settings: AuthorizationSettings | undefined, field: string, fetcher: MetadataFetch = globalThis.fetch): Promise<void> {
  const issuers = settings?.issuers ?? [];
  await Promise.all(issuers.map(async (issuer, i) => {
    const at = `${field}.issuers[${i}]`;
    let metadata: Record<string, unknown>;
    try {
      metadata = await fetchIssuerMetadata(issuer.issuer, fetcher);
    } catch (err) {
      const message = err instanceof IssuerMetadataError ? err.message : String(err);
      throw new AppError('ISSUER_METADATA_INVALID', `${at}.issuer: ${message}`, `${at}.issuer`);
    }
    if (!issuer.jwksUri && !issuer.introspection && typeof metadata.jwks_uri !== 'string') {
      throw new AppError('ISSUER_METADATA_INVALID', `${at}.issuer: the metadata of ${issuer.issuer} publishes no jwks_uri; set jwksUri, or introspection for opaque tokens`, `${at}.issuer`);
    }
  }));
}

/** Whether two settings name the same issuers as far as the check goes (a save that keeps them needs no new check; secrets aside). */
export function sameIssuers(a: AuthorizationSettings | undefined, b: AuthorizationSettings | undefined): boolean {
  const key = (s: AuthorizationSettings | undefined) => JSON.stringify((s?.issuers ?? []).map((i) => [i.issuer, i.jwksUri ?? '', i.introspection !== undefined]));
  return key(a) === key(b);
}
