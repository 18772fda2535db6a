/**
 * What the console shows of a try hides its credentials: by name (authorization, cookies,
 * API-key-like names, the tool's scheme and the server's secret and forwarded headers) and by
 * value (every secret of the spec and every credential the agent passed), wherever they appear.
 */
import { isSecretName, SECRET_VALUE } from '../../../lib/secret-names.js';
import type { CredentialPassthrough, McpServerSpec, Tool } from '../../../model/model.js';
import { secretHeaderNames, secretValues } from '../../domain/secrets.js';

const MASK = '****';
/** Header and query parameter names whose values the rendered request hides: credentials (lib/secret-names.ts) and session ids. */
const maskedName = (name: string) => isSecretName(name) || /session/i.test(name);

function maskValue(value: string): string {
  const space = value.indexOf(' ');
  if (space > 0 && /^(bearer|basic|digest|token|apikey)$/i.test(value.slice(0, space))) return `${value.slice(0, space)} ${MASK}`;
  return MASK;
}

function maskCookies(value: string): string {
  return value.split(';').map((c) => {
    const part = c.trim();
    const eq = part.indexOf('=');
    return eq < 0 ? MASK : `${part.slice(0, eq)}=${MASK}`;
  }).join('; ');
}

/** Headers with credentials masked: authorization, cookies, API-key-like names, and the names given. */
export function maskHeaders(headers: Record<string, string>, alsoSecret: ReadonlySet<string> = new Set()): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) {
    const key = k.toLowerCase();
    if (key === 'cookie' || key === 'set-cookie') out[k] = maskCookies(v);
    else if (maskedName(key) || alsoSecret.has(key) || SECRET_VALUE.test(v.replace(/^bearer\s+/i, ''))) out[k] = maskValue(v);
    else out[k] = v;
  }
  return out;
}

/** A URL with credential-like query parameters masked. */
export function maskUrl(url: string, alsoSecret: ReadonlySet<string> = new Set()): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const hash = url.indexOf('#', q);
  const query = url.slice(q + 1, hash < 0 ? undefined : hash);
  const masked = query.split('&').map((pair) => {
    const eq = pair.indexOf('=');
    if (eq < 0) return pair;
    let name = pair.slice(0, eq);
    try { name = decodeURIComponent(name.replace(/\+/g, ' ')); } catch { /* keep the raw name */ }
    const value = pair.slice(eq + 1);
    let decoded = value;
    try { decoded = decodeURIComponent(value.replace(/\+/g, ' ')); } catch { /* keep the raw value */ }
    return maskedName(name) || alsoSecret.has(name) || SECRET_VALUE.test(decoded) ? `${pair.slice(0, eq)}=${encodeURIComponent(MASK)}` : pair;
  }).join('&');
  return `${url.slice(0, q + 1)}${masked}${hash < 0 ? '' : url.slice(hash)}`;
}

/**
 * Replaces, wherever they appear in a rendered request or an answer, the credentials of the run:
 * every secret of the spec (domain/secrets.ts: secret config, scheme and static credentials,
 * secret header values), the values of credential-like agent headers given for the run, and
 * every header and cookie value the server passes through from the agent.
 */
export function secretValueMasker(spec: McpServerSpec, clientHeaders: Record<string, string>, passthrough: CredentialPassthrough): (text: string) => string {
  const secrets = new Set<string>();
  const add = (v: string) => {
    if (v.length < 4) return;
    secrets.add(v);
    const space = v.indexOf(' ');
    if (space > 0 && v.length - space > 4) secrets.add(v.slice(space + 1).trim());
  };
  for (const v of secretValues(spec)) add(v);
  const passed = new Set(passthrough.headers.map((h) => h.toLowerCase()));
  const passedCookies = new Set(passthrough.cookies);
  for (const [k, v] of Object.entries(clientHeaders)) {
    if (k === 'cookie') {
      for (const c of v.split(';')) {
        const eq = c.indexOf('=');
        if (eq > 0 && (passed.has('cookie') || passedCookies.has(c.slice(0, eq).trim()))) add(c.slice(eq + 1).trim());
      }
    } else if (maskedName(k) || passed.has(k)) {
      add(v);
    }
  }
  if (secrets.size === 0) return (text) => text;
  // Longest first, so that a secret containing another is replaced whole.
  const ordered = [...secrets].sort((a, b) => b.length - a.length);
  const encoded = ordered.map((x) => [x, encodeURIComponent(x)] as const);
  return (text) => {
    let out = text;
    for (const [raw, enc] of encoded) {
      if (out.includes(raw)) out = out.split(raw).join(MASK);
      if (enc !== raw && out.includes(enc)) out = out.split(enc).join(MASK);
    }
    return out;
  };
}

/** A value with every string inside it passed through `hide` (a tool result shown to the console). */
export function hideDeep<T>(value: T, hide: (text: string) => string): T {
  const walk = (v: unknown, depth: number): unknown => {
    if (typeof v === 'string') return hide(v);
    if (depth > 32 || typeof v !== 'object' || v === null) return v;
    if (Array.isArray(v)) return v.map((x) => walk(x, depth + 1));
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x, depth + 1)]));
  };
  return walk(value, 0) as T;
}

/**
 * Header and query names whose values are credentials in this run: the tool's security scheme,
 * the spec's secret headers (named like one or declared), and the headers passed through from the agent.
 */
export function secretNamesOf(spec: McpServerSpec, tool: Tool, passthrough: CredentialPassthrough): { headers: Set<string>; params: Set<string> } {
  const headers = secretHeaderNames(spec);
  for (const h of passthrough.headers) headers.add(h.toLowerCase());
  const params = new Set<string>();
  const id = tool.template?.request?.security?.id;
  const scheme = id ? spec.securitySchemes.find((s) => s.id === id) : undefined;
  if (scheme?.type === 'apiKey' && scheme.name) {
    if (scheme.in === 'header') headers.add(scheme.name.toLowerCase());
    if (scheme.in === 'query') params.add(scheme.name);
  }
  return { headers, params };
}
