/**
 * The MCP authorization settings (a namespace's, or a server's override in its spec) as the
 * console's form holds them — text fields, one row per issuer — and back. Empty fields are left
 * out, so that a server override sets only what it changes; the registry validates the result
 * and names the field at fault (`authorization.issuers[0].issuer`).
 */
import type { AuthorizationSettings, RateLimitRule } from '../../model/authorization.js';

export type { AuthorizationSettings };

/** One issuer row. */
export interface IssuerRow {
  issuer: string;
  jwksUri: string;
  introspectionEndpoint: string;
  clientId: string;
  clientSecret: string;
}

/** The form's state: text as typed. */
export interface AuthorizationFormState {
  enabled: boolean;
  issuers: IssuerRow[];
  audiences: string;
  requiredScopes: string;
  /** JSON: `{"scope": [{"server": "s", "tools": ["t"]}] | null}`. */
  scopeGrants: string;
  grantAllWithoutToolScopes: boolean;
  acceptConsumerKeys: boolean;
  clockSkewSeconds: string;
  exchangeEndpoint: string;
  exchangeClientId: string;
  exchangeClientSecret: string;
  exchangeAudience: string;
  exchangeResource: string;
  exchangeScope: string;
  perCallerRate: string;
  perCallerBurst: string;
  perToolRate: string;
  perToolBurst: string;
  /** JSON: `{"tool": {"ratePerSecond": 1, "burst": 5}}`. */
  toolLimits: string;
}

export const EMPTY_ISSUER: IssuerRow = { issuer: '', jwksUri: '', introspectionEndpoint: '', clientId: '', clientSecret: '' };

const words = (s: string): string[] => s.split(/[\s,]+/).filter(Boolean);
const json = (v: unknown): string => (v === undefined ? '' : JSON.stringify(v, null, 2));

/** The form state of stored settings. */
export function toForm(s: AuthorizationSettings): AuthorizationFormState {
  const ex = s.tokenExchange;
  const rule = (r: RateLimitRule | undefined) => ({ rate: r ? String(r.ratePerSecond) : '', burst: r ? String(r.burst) : '' });
  const perCaller = rule(s.rateLimits?.perCaller);
  const perTool = rule(s.rateLimits?.perTool);
  return {
    enabled: s.enabled ?? false,
    issuers: (s.issuers ?? []).map((i) => ({
      issuer: i.issuer, jwksUri: i.jwksUri ?? '', introspectionEndpoint: i.introspection?.endpoint ?? '',
      clientId: i.introspection?.clientId ?? '', clientSecret: i.introspection?.clientSecret ?? '',
    })),
    audiences: (s.audiences ?? []).join(' '), requiredScopes: (s.requiredScopes ?? []).join(' '), scopeGrants: json(s.scopeGrants),
    grantAllWithoutToolScopes: s.grantAllWithoutToolScopes ?? false, acceptConsumerKeys: s.acceptConsumerKeys ?? true,
    clockSkewSeconds: s.clockSkewSeconds === undefined ? '' : String(s.clockSkewSeconds),
    exchangeEndpoint: ex?.tokenEndpoint ?? '', exchangeClientId: ex?.clientId ?? '', exchangeClientSecret: ex?.clientSecret ?? '',
    exchangeAudience: ex?.audience ?? '', exchangeResource: ex?.resource ?? '', exchangeScope: ex?.scope ?? '',
    perCallerRate: perCaller.rate, perCallerBurst: perCaller.burst, perToolRate: perTool.rate, perToolBurst: perTool.burst,
    toolLimits: json(s.rateLimits?.tools),
  };
}

/** A JSON field of the form that does not parse: which, and why. */
export class FormJsonError extends Error {
  override readonly name = 'FormJsonError';
  constructor(readonly field: string, message: string) {
    super(`${field}: ${message}`);
  }
}

function parseField(text: string, field: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new FormJsonError(field, (err as Error).message);
  }
}

/** A number as typed (`''`: not set); a value that is not a number is sent as is, for the registry to name. */
function num(text: string): number | undefined {
  const t = text.trim();
  return t === '' ? undefined : Number(t);
}

/** The settings the form says; throws FormJsonError for a JSON field that does not parse. */
export function fromForm(f: AuthorizationFormState): AuthorizationSettings {
  const out: AuthorizationSettings = {};
  if (f.enabled) out.enabled = true;
  const issuers = f.issuers.filter((i) => Object.values(i).some((v) => v.trim() !== '')).map((i) => ({
    issuer: i.issuer.trim(),
    ...(i.jwksUri.trim() ? { jwksUri: i.jwksUri.trim() } : {}),
    ...(i.introspectionEndpoint.trim() || i.clientId.trim() || i.clientSecret
      ? { introspection: { endpoint: i.introspectionEndpoint.trim(), clientId: i.clientId.trim(), clientSecret: i.clientSecret } } : {}),
  }));
  if (issuers.length > 0) out.issuers = issuers;
  if (words(f.audiences).length > 0) out.audiences = words(f.audiences);
  if (words(f.requiredScopes).length > 0) out.requiredScopes = words(f.requiredScopes);
  const grants = parseField(f.scopeGrants, 'authorization.scopeGrants');
  if (grants !== undefined) out.scopeGrants = grants as AuthorizationSettings['scopeGrants'];
  if (f.grantAllWithoutToolScopes) out.grantAllWithoutToolScopes = true;
  if (!f.acceptConsumerKeys) out.acceptConsumerKeys = false;
  const skew = num(f.clockSkewSeconds);
  if (skew !== undefined) out.clockSkewSeconds = skew;
  if (f.exchangeEndpoint.trim() || f.exchangeClientId.trim() || f.exchangeClientSecret) {
    out.tokenExchange = {
      tokenEndpoint: f.exchangeEndpoint.trim(), clientId: f.exchangeClientId.trim(), clientSecret: f.exchangeClientSecret,
      ...(f.exchangeAudience.trim() ? { audience: f.exchangeAudience.trim() } : {}),
      ...(f.exchangeResource.trim() ? { resource: f.exchangeResource.trim() } : {}),
      ...(f.exchangeScope.trim() ? { scope: f.exchangeScope.trim() } : {}),
    };
  }
  const rule = (rate: string, burst: string): RateLimitRule | undefined => {
    const r = num(rate);
    const b = num(burst);
    return r === undefined && b === undefined ? undefined : { ratePerSecond: r as number, burst: b as number };
  };
  const perCaller = rule(f.perCallerRate, f.perCallerBurst);
  const perTool = rule(f.perToolRate, f.perToolBurst);
  const tools = parseField(f.toolLimits, 'authorization.rateLimits.tools');
  if (perCaller || perTool || tools !== undefined) {
    out.rateLimits = { ...(perCaller ? { perCaller } : {}), ...(perTool ? { perTool } : {}), ...(tools !== undefined ? { tools: tools as Record<string, RateLimitRule> } : {}) };
  }
  return out;
}
