/**
 * Secrets in the model, declared once: which values of an MCP server and its versions are
 * credentials, how they are hidden from readers without write access, and how a write that
 * sends the hiding marker back keeps the stored value. Every read path (native API, Nacos API,
 * watch API, import preview, audit log) and every write path (create, save version, update,
 * try-it definitions) goes through these functions.
 */
import { invalid } from '../../lib/errors.js';
import { isSecretName } from '../../lib/secret-names.js';
import type { Endpoint, McpServer, McpServerSpec, SecretDeclaration } from '../../model/model.js';

/** What a reader without write access sees in place of a secret; written back, it keeps the stored secret. */
export const REDACTED = '******';

/** The places of a spec that hold values which may be secrets. */
export type SecretFieldKind = 'config' | 'scheme' | 'credential' | 'header' | 'authorization';

/**
 * Where secrets live, and when a value there is one. The table is what the code below visits,
 * and what docs/security.md lists.
 */
export const SECRET_FIELDS: Readonly<Record<SecretFieldKind, { path: string; secretWhen: string }>> = {
  config: { path: 'spec.config.<key>…', secretWhen: 'a key on its path is named like a secret, or the path is listed in spec.secrets.config (string and number values)' },
  scheme: { path: 'spec.securitySchemes[].defaultCredential', secretWhen: 'always' },
  credential: { path: 'spec.tools[].template.request.security.credential', secretWhen: 'always' },
  header: { path: 'spec.tools[].template.request.headers[].value', secretWhen: 'the header is named like a secret, or listed in spec.secrets.headers' },
  authorization: { path: 'spec.authorization.issuers[].introspection.clientSecret, spec.authorization.tokenExchange.clientSecret', secretWhen: 'always' },
};

/** The secret part of a server: the password of a URL endpoint's user info. */
export const SERVER_SECRET_FIELDS = { endpoint: { path: 'endpoint.url', secretWhen: 'the password of its user info (https://user:password@host/…)' } } as const;

type PathPart = string | number;

/** One value of a spec that may be a secret. */
interface Site {
  kind: SecretFieldKind;
  /** Identity across versions: the same place in another version of the server has the same id. */
  id: string;
  /** JSON path from the spec's root. */
  path: PathPart[];
  value: unknown;
  secret: boolean;
  set(value: unknown): void;
}

/** `tools[0].template.request.headers[1].value`: the form diffs and error fields use. */
export function pathText(path: readonly PathPart[]): string {
  return path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${p}`)).join('').replace(/^\./, '');
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function declared(spec: McpServerSpec): { config: string[]; headers: Set<string> } {
  const d: SecretDeclaration = isRecord(spec.secrets) ? spec.secrets : {};
  return {
    config: Array.isArray(d.config) ? d.config.filter((c): c is string => typeof c === 'string') : [],
    headers: new Set((Array.isArray(d.headers) ? d.headers : []).filter((h): h is string => typeof h === 'string').map((h) => h.toLowerCase())),
  };
}

/** Every value of a spec that may hold a secret, with whether it does. */
function sites(spec: McpServerSpec): Site[] {
  const out: Site[] = [];
  const decl = declared(spec);
  const declaredConfig = (keys: PathPart[]) => {
    const dotted = keys.join('.');
    return decl.config.some((p) => dotted === p || dotted.startsWith(`${p}.`));
  };
  const walk = (node: unknown, keys: PathPart[], secret: boolean, depth: number, set: (v: unknown) => void) => {
    if (depth > 32) return;
    if (Array.isArray(node)) {
      node.forEach((v, i) => walk(v, [...keys, i], secret || declaredConfig([...keys, i]), depth + 1, (x) => { node[i] = x; }));
    } else if (isRecord(node)) {
      for (const [k, v] of Object.entries(node)) {
        walk(v, [...keys, k], secret || isSecretName(k) || declaredConfig([...keys, k]), depth + 1, (x) => { node[k] = x; });
      }
    } else if (typeof node === 'string' || typeof node === 'number') {
      out.push({ kind: 'config', id: `config:${JSON.stringify(keys)}`, path: ['config', ...keys], value: node, secret, set });
    }
  };
  if (isRecord(spec.config)) walk(spec.config, [], false, 0, () => undefined);
  (spec.securitySchemes ?? []).forEach((s, i) => {
    if (s.defaultCredential === undefined) return;
    out.push({ kind: 'scheme', id: `scheme:${s.id}`, path: ['securitySchemes', i, 'defaultCredential'], value: s.defaultCredential, secret: true, set: (v) => { s.defaultCredential = v as string; } });
  });
  const auth = isRecord(spec.authorization) ? spec.authorization : undefined;
  (Array.isArray(auth?.issuers) ? auth.issuers : []).forEach((iss, i) => {
    const intro = isRecord(iss) && isRecord(iss.introspection) ? iss.introspection : undefined;
    if (intro?.clientSecret === undefined) return;
    out.push({ kind: 'authorization', id: `authorization:introspection:${i}`, path: ['authorization', 'issuers', i, 'introspection', 'clientSecret'], value: intro.clientSecret, secret: true, set: (v) => { intro.clientSecret = v as string; } });
  });
  const exchange = auth && isRecord(auth.tokenExchange) ? auth.tokenExchange : undefined;
  if (exchange?.clientSecret !== undefined) {
    out.push({ kind: 'authorization', id: 'authorization:tokenExchange', path: ['authorization', 'tokenExchange', 'clientSecret'], value: exchange.clientSecret, secret: true, set: (v) => { exchange.clientSecret = v as string; } });
  }
  (spec.tools ?? []).forEach((t, i) => {
    const request = t.template?.request;
    if (!request) return;
    const base: PathPart[] = ['tools', i, 'template', 'request'];
    const security = request.security;
    if (security?.credential !== undefined) {
      out.push({ kind: 'credential', id: `credential:${t.name}`, path: [...base, 'security', 'credential'], value: security.credential, secret: true, set: (v) => { security.credential = v as string; } });
    }
    const seen = new Map<string, number>();
    (request.headers ?? []).forEach((h, j) => {
      const key = String(h.key).toLowerCase();
      const n = seen.get(key) ?? 0;
      seen.set(key, n + 1);
      out.push({
        kind: 'header', id: `header:${t.name}:${key}:${n}`, path: [...base, 'headers', j, 'value'], value: h.value,
        secret: isSecretName(key) || decl.headers.has(key), set: (v) => { h.value = v as string; },
      });
    });
  });
  return out;
}

const hidden = (s: Site) => s.secret && s.value !== '' && s.value !== REDACTED;

/** Whether a spec holds any secret value (so a redacted copy differs from it). */
export function hasSecrets(spec: McpServerSpec): boolean {
  return sites(spec).some(hidden);
}

/** A copy of the spec with every secret value replaced by `REDACTED`. */
export function redactSpec(spec: McpServerSpec): McpServerSpec {
  const copy = structuredClone(spec);
  for (const s of sites(copy)) if (hidden(s)) s.set(REDACTED);
  return copy;
}

/**
 * A copy of the spec where `replace` chose each value that may be a secret (config values,
 * scheme credentials, tool credentials, header values), told whether it is one (and not empty
 * or the redaction marker): how a backup seals secrets and an import restores them.
 */
export function mapSecretSites(spec: McpServerSpec, replace: (value: string | number, secret: boolean) => unknown): McpServerSpec {
  const copy = structuredClone(spec);
  for (const s of sites(copy)) {
    if (typeof s.value === 'string' || typeof s.value === 'number') s.set(replace(s.value, hidden(s)));
  }
  return copy;
}

/** An endpoint whose URL password `replace` chose (unchanged when it has none). */
export function mapEndpointSecret(e: Endpoint, replace: (password: string) => string): Endpoint {
  if (e.type !== 'url') return e;
  const password = urlPassword(e.url);
  if (!password || password === REDACTED) return e;
  return { ...e, url: e.url.replace(USERINFO, (_m, head: string, p: string, at: string) => `${head}${replace(p)}${at}`) };
}

/** The secret values of a spec, as text (to mask them where a rendered request shows them). */
export function secretValues(spec: McpServerSpec): string[] {
  return sites(spec).filter(hidden).map((s) => String(s.value));
}

/** Lower-case names of the headers whose values are secrets in this spec (named like one or declared). */
export function secretHeaderNames(spec: McpServerSpec): Set<string> {
  const names = declared(spec).headers;
  for (const t of spec.tools ?? []) {
    for (const h of t.template?.request?.headers ?? []) if (isSecretName(h.key)) names.add(h.key.toLowerCase());
  }
  return names;
}

/**
 * The spec to store when a write sends `incoming`: wherever it holds `REDACTED`, the value at
 * the same place of the first of `sources` (stored versions, most relevant first) that has
 * one. A marker with nothing to keep is refused, naming the field (`field` prefixes it), so
 * that the marker itself is never stored. A spec without `secrets` keeps the declaration of
 * the first source.
 */
export function restoreSecrets(incoming: McpServerSpec, sources: readonly McpServerSpec[], field = 'spec'): McpServerSpec {
  let spec = incoming;
  if (spec.secrets === undefined) {
    const inherited = sources.find((s) => s.secrets !== undefined)?.secrets;
    if (inherited) spec = { ...spec, secrets: structuredClone(inherited) };
  }
  const wanted = sites(spec).filter((s) => s.value === REDACTED);
  if (wanted.length === 0) return spec;
  const copy = structuredClone(spec);
  const known = sources.map((s) => new Map(sites(s).filter((x) => x.value !== REDACTED).map((x) => [x.id, x.value])));
  const targets = new Map(sites(copy).map((s) => [s.id, s]));
  for (const w of wanted) {
    const value = known.map((m) => m.get(w.id)).find((v) => v !== undefined);
    if (value === undefined) {
      const at = `${field}.${pathText(w.path)}`;
      throw invalid(at, `holds the redaction marker '${REDACTED}' but no stored version has a value there to keep; send the secret itself`);
    }
    targets.get(w.id)?.set(value);
  }
  return copy;
}

/**
 * Paths of the secrets whose value differs between two specs (added, removed or changed), in
 * the newer spec's form where it has them. Redacted copies of both show the same marker, so an
 * audit entry names these paths to tell that a secret changed.
 */
export function changedSecrets(before: McpServerSpec | undefined, after: McpServerSpec | undefined): string[] {
  const a = new Map((before ? sites(before) : []).map((s) => [s.id, s]));
  const b = new Map((after ? sites(after) : []).map((s) => [s.id, s]));
  const out: string[] = [];
  for (const id of new Set([...a.keys(), ...b.keys()])) {
    const x = a.get(id);
    const y = b.get(id);
    if (!(x?.secret || y?.secret)) continue;
    if ((x?.value ?? '') === (y?.value ?? '')) continue;
    out.push(pathText((y ?? x)!.path));
  }
  return out;
}

// ------------------------------------------------------------------ servers

const USERINFO = /^([A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#@:]*:)([^/?#@]*)(@)/;

function urlPassword(url: string): string | undefined {
  return USERINFO.exec(url)?.[2];
}

/** An endpoint with the password of a URL's user info replaced by `REDACTED`. */
export function redactEndpoint(e: Endpoint): Endpoint {
  if (e.type !== 'url') return e;
  const password = urlPassword(e.url);
  if (!password || password === REDACTED) return e;
  return { ...e, url: e.url.replace(USERINFO, `$1${REDACTED}$3`) };
}

/** The endpoint to store when a write sends `incoming`: a `REDACTED` URL password becomes the stored one. */
export function restoreEndpoint(incoming: Endpoint, stored: Endpoint | undefined, field = 'endpoint.url'): Endpoint {
  if (incoming.type !== 'url' || urlPassword(incoming.url) !== REDACTED) return incoming;
  const kept = stored?.type === 'url' ? urlPassword(stored.url) : undefined;
  if (kept === undefined || kept === REDACTED) {
    throw invalid(field, `holds the redaction marker '${REDACTED}' as its password but the stored endpoint has none to keep; send the password itself`);
  }
  return { ...incoming, url: incoming.url.replace(USERINFO, (_m, head: string, _p: string, at: string) => `${head}${kept}${at}`) };
}

/** Whether the endpoint's secret changed between two server records. */
export function endpointSecretChanged(before: Endpoint | undefined, after: Endpoint | undefined): boolean {
  const p = (e: Endpoint | undefined) => (e?.type === 'url' ? urlPassword(e.url) : undefined);
  return p(before) !== p(after);
}

/** A server record with its endpoint's secret redacted. */
export function redactServer(server: McpServer): McpServer {
  const endpoint = redactEndpoint(server.endpoint);
  return endpoint === server.endpoint ? server : { ...server, endpoint };
}

/**
 * For the process's logs (lib/logger.ts `addLogRedactor`): a spec-shaped object (config and
 * tools) with its secrets redacted, the declared ones included; undefined for anything else.
 */
export function redactSpecForLog(value: Record<string, unknown>): Record<string, unknown> | undefined {
  if (!isRecord(value.config) || !Array.isArray(value.tools)) return undefined;
  try {
    return redactSpec(value as unknown as McpServerSpec) as unknown as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/** The value at a JSON path of a document (undefined when the path leaves it). */
export function valueAt(doc: unknown, path: readonly PathPart[]): unknown {
  let node = doc;
  for (const p of path) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<PathPart, unknown>)[p];
  }
  return node;
}
