/**
 * The effective MCP authorization of one endpoint as the snapshot holds it: the namespace's
 * settings with the server's over them, compiled once per snapshot.
 */
import type { AuthorizationSettings, IssuerSettings, RateLimitSettings, TokenExchangeSettings } from '../../model/authorization.js';
import { DEFAULT_CLOCK_SKEW_SECONDS, mergeAuthorization } from '../../model/authorization.js';

/** The effective authorization of one endpoint, compiled with its snapshot. */
export interface EndpointAuthorization {
  readonly settings: AuthorizationSettings;
  readonly issuers: readonly IssuerSettings[];
  readonly requiredScopes: readonly string[];
  readonly clockSkewSeconds: number;
  readonly acceptConsumerKeys: boolean;
  /** What decides a token's tools (scope grants), as comparable text: when it changes, token holders' streams get list_changed. */
  readonly grantsFingerprint: string;
}

/** What the gateway enforces and does at one endpoint besides consumer keys; undefined when nothing is set. */
export interface EndpointAccess {
  /** OAuth access tokens accepted (and required unless a consumer key is given); absent: consumer keys only. */
  readonly tokens?: EndpointAuthorization;
  readonly rateLimits?: RateLimitSettings;
  /** How the backend gets a token of its own (tokens only). */
  readonly tokenExchange?: TokenExchangeSettings;
}

/** Compiles the effective settings of an endpoint: the server's over its namespace's. */
export function compileEndpointAccess(namespace: AuthorizationSettings | undefined, server: AuthorizationSettings | undefined): EndpointAccess | undefined {
  const settings = mergeAuthorization(namespace, server);
  if (!settings) return undefined;
  const tokens: EndpointAuthorization | undefined = settings.enabled && (settings.issuers ?? []).length > 0 ? {
    settings, issuers: settings.issuers ?? [], requiredScopes: settings.requiredScopes ?? [],
    clockSkewSeconds: settings.clockSkewSeconds ?? DEFAULT_CLOCK_SKEW_SECONDS, acceptConsumerKeys: settings.acceptConsumerKeys ?? true,
    grantsFingerprint: JSON.stringify([settings.scopeGrants ?? {}, settings.grantAllWithoutToolScopes ?? false]),
  } : undefined;
  const rateLimits = settings.rateLimits && (settings.rateLimits.perCaller || settings.rateLimits.perTool || Object.keys(settings.rateLimits.tools ?? {}).length > 0) ? settings.rateLimits : undefined;
  if (!tokens && !rateLimits) return undefined;
  return { ...(tokens ? { tokens } : {}), ...(rateLimits ? { rateLimits } : {}), ...(tokens && settings.tokenExchange ? { tokenExchange: settings.tokenExchange } : {}) };
}
