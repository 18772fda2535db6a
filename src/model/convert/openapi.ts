/**
 * OpenAPI 3.0 / 3.1 documents → one MCP server of REST tools, the mapping Higress'
 * `openapi-to-mcp` makes, into the internal model: each operation is a tool named by its
 * `operationId` (else `method_path`, as Higress names it), each parameter an argument placed
 * by its `in`, the request body's properties body arguments (or one `body` argument holding
 * the whole body when they cannot be), security schemes credential settings, and the success
 * response's object schema the tool's `outputSchema`.
 *
 * Hand-written rather than a library (`@apidevtools/swagger-parser` and the like): they fetch
 * external `$ref`s themselves (network and file access we must not do on a registry), and the
 * mapping needs only local references, which are resolved here with cycles cut and the
 * expansion bounded (a document of references to references can otherwise grow exponentially).
 */
import { AppError } from '../../lib/errors.js';
import type { ArgPosition, Endpoint, McpProtocol, McpServerInput, McpServerSpec, RestSecurity, SecurityScheme, Tool } from '../model.js';
import { SERVER_NAME, TOOL_NAME_PATTERN } from '../names.js';
import type { JsonObject } from './higress.js';
import { DEFAULT_SPEC_VERSION, isJsonObject, ownEntry, parseYamlOrJson, setEntry } from './higress.js';

/** How an OpenAPI document is converted. */
export interface OpenApiImportOptions {
  /** The MCP server's name (default: from `info.title`). */
  name?: string;
  /** Put before every tool name (`petstore_`). */
  toolPrefix?: string;
  /** Where the document was fetched from: relative `servers[].url` resolve against it. */
  documentUrl?: string;
  /** The backend's base URL, instead of the document's `servers`. */
  baseUrl?: string;
  /** Forward the agent's credential to the backend for every scheme (default: only OAuth 2 / OpenID Connect ones). */
  passthrough?: boolean;
}

/** A converted document: the server's fields, its first version, and what was left out or guessed. */
export interface OpenApiImport {
  input: McpServerInput;
  spec: McpServerSpec;
  warnings: string[];
}

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;
/** Schema nodes one document may expand to, all tools together (references inlined). */
export const MAX_SCHEMA_NODES = 100_000;
/** Schemas nest at most this deep once inlined; deeper parts become `{}` (storage and snapshots refuse deeper JSON). */
const MAX_SCHEMA_DEPTH = 24;
/** Tools one document may make. */
export const MAX_OPERATIONS = 1000;
/** Reference hops followed for one `$ref` (a chain of references to references). */
const MAX_REF_HOPS = 32;
/** Keywords whose values are data, not schemas: copied as they are. */
const DATA_KEYWORDS: ReadonlySet<string> = new Set(['enum', 'const', 'default', 'example', 'examples', 'required', 'type', 'format', 'pattern', 'description', 'title', '$comment']);
/** OpenAPI-only keywords that mean nothing to a JSON Schema validator. */
const DROPPED_KEYWORDS: ReadonlySet<string> = new Set(['discriminator', 'xml', 'externalDocs', 'nullable', 'example']);
/** Headers OpenAPI says are ignored as parameters (the request's own). */
const IGNORED_HEADERS: ReadonlySet<string> = new Set(['accept', 'content-type', 'authorization']);

function refused(field: string, message: string): AppError {
  return new AppError('OPENAPI_INVALID', `${field}: ${message}`, field);
}

/** Follows local `$ref`s and inlines referenced schemas, cycles cut, expansion bounded. */
class References {
  private nodes = 0;
  /** Recursions cut so far: an expansion that cut none does not depend on the references around it. */
  private cuts = 0;
  /** Depth-limit cuts so far: an expansion that made none does not depend on its depth either. */
  private depthCuts = 0;
  /** Expansions of references that depend on nothing around them, with their size (counted again at each use). */
  private readonly expanded = new Map<string, { value: unknown; size: number }>();

  constructor(private readonly root: JsonObject) {}

  /** The value a local reference (`#/components/schemas/Pet`) points at. */
  lookup(ref: string, field: string): unknown {
    if (!ref.startsWith('#')) throw refused(field, `external reference ${JSON.stringify(ref)} is not supported: bundle the document into one file first`);
    let pointer: string;
    try {
      pointer = decodeURIComponent(ref.slice(1));
    } catch {
      throw refused(field, `reference ${JSON.stringify(ref)} is not a valid JSON pointer`);
    }
    if (pointer === '') return this.root;
    if (!pointer.startsWith('/')) throw refused(field, `reference ${JSON.stringify(ref)} is not a JSON pointer (#/components/...)`);
    let node: unknown = this.root;
    for (const raw of pointer.slice(1).split('/')) {
      const key = raw.replaceAll('~1', '/').replaceAll('~0', '~');
      if (Array.isArray(node) && /^\d+$/.test(key)) node = node[Number(key)];
      else if (isJsonObject(node)) node = ownEntry(node, key);
      else node = undefined;
      if (node === undefined) throw refused(field, `reference ${JSON.stringify(ref)} points at nothing`);
    }
    return node;
  }

  /** A component object (parameter, request body, response, security scheme) with its `$ref` chain followed. */
  target(node: unknown, field: string): JsonObject {
    let current = node;
    for (let hops = 0; isJsonObject(current) && typeof current['$ref'] === 'string'; hops++) {
      if (hops >= MAX_REF_HOPS) throw refused(field, `more than ${MAX_REF_HOPS} references in a row (a reference loop?)`);
      current = this.lookup(current['$ref'], `${field}.$ref`);
    }
    if (!isJsonObject(current)) throw refused(field, 'must be an object');
    return current;
  }

  /**
   * A schema as plain JSON Schema: local references inlined (a reference back into a schema
   * being expanded is cut to `{}` with a description), OpenAPI 3.0's `nullable` and boolean
   * `exclusiveMinimum`/`exclusiveMaximum` turned into their JSON Schema forms.
   */
  schema(node: unknown, field: string, stack: readonly string[] = [], depth = 0): unknown {
    if (++this.nodes > MAX_SCHEMA_NODES) {
      throw refused('content', `schemas expand to more than ${MAX_SCHEMA_NODES} nodes once references are inlined; split the document`);
    }
    if (typeof node === 'boolean') return node;
    if (!isJsonObject(node)) return {};
    if (depth > MAX_SCHEMA_DEPTH) {
      this.depthCuts++;
      return { description: 'nested too deep to describe here' };
    }
    const ref = node['$ref'];
    if (typeof ref === 'string') {
      const { $ref: _ref, ...siblings } = node;
      if (stack.includes(ref) || stack.length >= MAX_REF_HOPS) {
        this.cuts++;
        const name = ref.slice(ref.lastIndexOf('/') + 1);
        return { ...this.copy(siblings, field, stack, depth), description: stringOr(siblings['description'], `a ${name} (recursive: not expanded further)`) };
      }
      const target = this.expand(ref, field, stack, depth);
      const rest = this.copy(siblings, field, stack, depth);
      return isJsonObject(target) ? { ...target, ...rest } : target;
    }
    return this.copy(node, field, stack, depth);
  }

  /** A reference's target expanded; reused (and counted again) where it cannot differ. */
  private expand(ref: string, field: string, stack: readonly string[], depth: number): unknown {
    const known = this.expanded.get(ref) ?? this.expanded.get(`${ref}@${depth}`);
    if (known) {
      this.nodes += known.size;
      if (this.nodes > MAX_SCHEMA_NODES) {
        throw refused('content', `schemas expand to more than ${MAX_SCHEMA_NODES} nodes once references are inlined; split the document`);
      }
      return known.value;
    }
    const [nodes, cuts, depthCuts] = [this.nodes, this.cuts, this.depthCuts];
    const value = this.schema(this.lookup(ref, `${field}.$ref`), field, [...stack, ref], depth);
    if (this.cuts === cuts) this.expanded.set(this.depthCuts === depthCuts ? ref : `${ref}@${depth}`, { value, size: this.nodes - nodes });
    return value;
  }

  private copy(node: JsonObject, field: string, stack: readonly string[], depth: number): JsonObject {
    const out: JsonObject = {};
    for (const [key, value] of Object.entries(node)) {
      if (DROPPED_KEYWORDS.has(key) || key.startsWith('x-')) continue;
      if (DATA_KEYWORDS.has(key)) setEntry(out, key, value);
      else if (key === 'properties' || key === 'patternProperties' || key === '$defs' || key === 'definitions' || key === 'dependentSchemas') {
        if (!isJsonObject(value)) continue;
        const props: JsonObject = {};
        for (const [name, sub] of Object.entries(value)) setEntry(props, name, this.schema(sub, `${field}.${key}.${name}`, stack, depth + 1));
        setEntry(out, key, props);
      } else if (key === 'allOf' || key === 'anyOf' || key === 'oneOf' || key === 'prefixItems') {
        if (Array.isArray(value)) setEntry(out, key, value.map((sub, i) => this.schema(sub, `${field}.${key}[${i}]`, stack, depth + 1)));
      } else if (key === 'items' && Array.isArray(value)) {
        setEntry(out, key, value.map((sub, i) => this.schema(sub, `${field}.items[${i}]`, stack, depth + 1)));
      } else if (isJsonObject(value) || typeof value === 'boolean') {
        // items, additionalProperties, not, if/then/else, contains, propertyNames…: sub-schemas.
        setEntry(out, key, typeof value === 'boolean' ? value : this.schema(value, `${field}.${key}`, stack, depth + 1));
      } else {
        setEntry(out, key, value);
      }
    }
    if (node['nullable'] === true) {
      const type = out['type'];
      if (typeof type === 'string') out['type'] = [type, 'null'];
      else if (Array.isArray(type) && !type.includes('null')) out['type'] = [...type, 'null'];
    }
    for (const [flag, bound] of [['exclusiveMinimum', 'minimum'], ['exclusiveMaximum', 'maximum']] as const) {
      if (typeof out[flag] !== 'boolean') continue;
      if (out[flag] === true && typeof out[bound] === 'number') {
        out[flag] = out[bound];
        delete out[bound];
      } else {
        delete out[flag];
      }
    }
    if (node['example'] !== undefined && out['examples'] === undefined) out['examples'] = [node['example']];
    return out;
  }
}

function stringOr(value: unknown, fallback: string): string {
  return typeof value === 'string' && value.trim() !== '' ? value : fallback;
}

/** An object schema's properties and required names, `allOf` parts merged (what body arguments are made of). */
function objectParts(schema: unknown): { properties: JsonObject; required: string[] } | undefined {
  if (!isJsonObject(schema)) return undefined;
  const properties: JsonObject = {};
  const required: string[] = [];
  const parts = [schema, ...(Array.isArray(schema['allOf']) ? schema['allOf'] : [])];
  let objectLike = false;
  for (const part of parts) {
    if (!isJsonObject(part)) return undefined;
    if (part['oneOf'] !== undefined || part['anyOf'] !== undefined) return undefined;
    const type = part['type'];
    if (type !== undefined && type !== 'object') return undefined;
    if (isJsonObject(part['properties'])) {
      objectLike = true;
      for (const [name, value] of Object.entries(part['properties'])) setEntry(properties, name, value);
    }
    if (type === 'object') objectLike = true;
    if (Array.isArray(part['required'])) for (const name of part['required']) if (typeof name === 'string' && !required.includes(name)) required.push(name);
  }
  return objectLike ? { properties, required: required.filter((n) => Object.hasOwn(properties, n)) } : undefined;
}

/** A server name from a title: lower case, `-` for anything a server name may not hold. */
export function serverNameFrom(title: string): string {
  const slug = title.toLowerCase().replace(/[^a-z0-9_.-]+/g, '-').replace(/^[^a-z0-9]+/, '').replace(/-+$/, '').slice(0, 64);
  return SERVER_NAME.test(slug) ? slug : 'openapi';
}

/** A tool name the MCP guidance allows: Higress' `method_path` when there is no `operationId`. */
function toolNameOf(method: string, path: string, operationId: unknown, prefix: string): string {
  const base = typeof operationId === 'string' && operationId.trim() !== ''
    ? operationId.trim()
    : `${method}_${path.split('/').filter(Boolean).join('_').replace(/[{}]/g, '') || 'root'}`;
  return `${prefix}${base}`.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 128);
}

function mediaOf(content: unknown): { type: string; schema: unknown } | undefined {
  if (!isJsonObject(content)) return undefined;
  const types = Object.keys(content);
  const rank = (t: string): number => {
    const l = t.toLowerCase();
    if (l.startsWith('application/json') || /\+json\b/.test(l)) return 0;
    if (l.startsWith('application/x-www-form-urlencoded')) return 1;
    if (l.startsWith('text/')) return 2;
    if (l.startsWith('*/*')) return 3;
    return 4;
  };
  const best = [...types].sort((a, b) => rank(a) - rank(b))[0];
  if (best === undefined) return undefined;
  const media = content[best];
  return { type: best, schema: isJsonObject(media) ? media['schema'] : undefined };
}

/** The first entry of a `servers` list with its variables at their defaults, or undefined. */
function firstServerUrl(servers: unknown): string | undefined {
  const first = Array.isArray(servers) ? servers[0] : undefined;
  if (!isJsonObject(first) || typeof first['url'] !== 'string') return undefined;
  const variables = isJsonObject(first['variables']) ? first['variables'] : {};
  return first['url'].replace(/\{([^}]+)\}/g, (whole, name: string) => {
    const v = ownEntry(variables, name);
    return isJsonObject(v) && typeof v['default'] === 'string' ? v['default'] : whole;
  });
}

/** The backend's base URL from `servers` (variables at their defaults), relative ones against the document's URL. */
function baseUrlOf(doc: JsonObject, opts: OpenApiImportOptions, warnings: string[]): { endpoint: Endpoint; protocol: McpProtocol; pathPrefix: string } {
  let url = opts.baseUrl;
  if (url === undefined) {
    const servers = Array.isArray(doc['servers']) ? doc['servers'] : [];
    url = firstServerUrl(servers);
    if (url !== undefined && servers.length > 1) warnings.push(`servers: ${servers.length} servers listed; the first (${url}) is the backend`);
  }
  if (url === undefined || url === '' || url === '/') {
    if (opts.documentUrl) url = new URL('/', opts.documentUrl).href;
    else {
      warnings.push('servers: none with a URL; set the server\'s endpoint (a service, an address or a URL) before publishing');
      return { endpoint: { type: 'none' }, protocol: 'http', pathPrefix: '' };
    }
  }
  if (/^[a-z][a-z0-9+.-]*:/i.test(url) && !/^https?:\/\//i.test(url)) throw refused('servers[0].url', 'must be an http:// or https:// URL');
  if (!/^https?:\/\//i.test(url)) {
    if (opts.documentUrl) url = new URL(url, opts.documentUrl).href;
    else {
      warnings.push(`servers[0].url: ${JSON.stringify(url)} is relative; the tools' URLs start with it: set the server's endpoint before publishing`);
      return { endpoint: { type: 'none' }, protocol: 'http', pathPrefix: url.replace(/\/+$/, '') };
    }
  }
  if (/\{[^}]*\}/.test(url)) throw refused('servers[0].url', `variable without a default in ${JSON.stringify(url)}: pass a base URL`);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw refused('servers[0].url', `${JSON.stringify(url)} is not a URL`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw refused('servers[0].url', 'must be an http:// or https:// URL');
  parsed.search = '';
  parsed.hash = '';
  return { endpoint: { type: 'url', url: parsed.href.replace(/\/+$/, '') }, protocol: parsed.protocol === 'https:' ? 'https' : 'http', pathPrefix: '' };
}

/** Security schemes as credential settings; the ids of those an operation cannot use are absent. */
function schemesOf(doc: JsonObject, refs: References, warnings: string[]): { schemes: SecurityScheme[]; passthroughIds: Set<string> } {
  const components = isJsonObject(doc['components']) ? doc['components'] : {};
  const declared = isJsonObject(components['securitySchemes']) ? components['securitySchemes'] : {};
  const schemes: SecurityScheme[] = [];
  const passthroughIds = new Set<string>();
  for (const [id, value] of Object.entries(declared)) {
    const field = `components.securitySchemes.${id}`;
    const s = refs.target(value, field);
    const type = typeof s['type'] === 'string' ? s['type'] : '';
    if (type === 'apiKey') {
      const where = s['in'];
      if ((where !== 'header' && where !== 'query' && where !== 'cookie') || typeof s['name'] !== 'string' || s['name'] === '') {
        throw refused(`${field}.in`, 'an apiKey scheme needs in (header, query or cookie) and name');
      }
      schemes.push({ id, type: 'apiKey', in: where, name: s['name'] });
    } else if (type === 'http') {
      const scheme = typeof s['scheme'] === 'string' ? s['scheme'].toLowerCase() : '';
      if (scheme !== 'bearer' && scheme !== 'basic') {
        warnings.push(`${field}: HTTP scheme ${JSON.stringify(scheme)} is not supported (bearer and basic are); operations using it get no credential`);
        continue;
      }
      schemes.push({ id, type: 'http', scheme });
    } else if (type === 'oauth2' || type === 'openIdConnect') {
      // The agent holds the user's token: forwarded as a bearer token.
      schemes.push({ id, type: 'http', scheme: 'bearer' });
      passthroughIds.add(id);
      warnings.push(`${field}: ${type} becomes a bearer token the agent sends and the gateway forwards`);
    } else {
      warnings.push(`${field}: type ${JSON.stringify(type)} is not supported; operations using it get no credential`);
    }
  }
  return { schemes, passthroughIds };
}

/** The credential setting of an operation: the first requirement whose schemes are all usable, by its first scheme. */
function securityOf(requirements: unknown, schemes: SecurityScheme[], passthroughIds: Set<string>, opts: OpenApiImportOptions): RestSecurity | undefined {
  if (!Array.isArray(requirements)) return undefined;
  for (const requirement of requirements) {
    if (!isJsonObject(requirement)) continue;
    const ids = Object.keys(requirement);
    if (ids.length === 0) return undefined; // `{}`: anonymous access is allowed
    if (!ids.every((id) => schemes.some((s) => s.id === id))) continue;
    const id = ids[0] as string;
    return opts.passthrough || passthroughIds.has(id) ? { id, passthrough: true } : { id };
  }
  return undefined;
}

/** Converts an OpenAPI 3.0 or 3.1 document (JSON or YAML text, or parsed) into a server and its first version. */
export function fromOpenApi(content: string | unknown, opts: OpenApiImportOptions = {}): OpenApiImport {
  const doc = typeof content === 'string' ? parseYamlOrJson(content, 'content') : content;
  if (!isJsonObject(doc)) throw refused('content', 'must be an OpenAPI document (an object)');
  if (doc['swagger'] !== undefined) throw refused('swagger', 'Swagger 2.0 is not supported: convert it to OpenAPI 3 first (for example with swagger2openapi)');
  const version = doc['openapi'];
  if (typeof version !== 'string' || !/^3\.[01]\./.test(version)) throw refused('openapi', `must be 3.0.x or 3.1.x (found ${JSON.stringify(version ?? null)})`);
  const info = isJsonObject(doc['info']) ? doc['info'] : {};
  const paths = doc['paths'];
  if (paths !== undefined && !isJsonObject(paths)) throw refused('paths', 'must be an object');
  const warnings: string[] = [];
  const refs = new References(doc);
  const { endpoint, protocol, pathPrefix } = baseUrlOf(doc, opts, warnings);
  const { schemes, passthroughIds } = schemesOf(doc, refs, warnings);
  const tools: Tool[] = [];
  const names = new Set<string>();
  const prefix = opts.toolPrefix ?? '';
  if (prefix !== '' && !/^[A-Za-z0-9_.-]{1,64}$/.test(prefix)) throw new AppError('VALIDATION_FAILED', 'toolPrefix: letters, digits, _, - and . only (at most 64)', 'toolPrefix');

  for (const [path, rawItem] of Object.entries(paths ?? {})) {
    if (!path.startsWith('/')) throw refused(`paths.${path}`, 'a path must start with /');
    const item = refs.target(rawItem, `paths.${path}`);
    const shared = Array.isArray(item['parameters']) ? item['parameters'] : [];
    for (const method of METHODS) {
      const rawOp = item[method];
      if (rawOp === undefined) continue;
      const field = `paths.${path}.${method}`;
      if (!isJsonObject(rawOp)) throw refused(field, 'must be an object');
      if (tools.length >= MAX_OPERATIONS) throw refused('paths', `more than ${MAX_OPERATIONS} operations; split the document`);
      let name = toolNameOf(method, path, rawOp['operationId'], prefix);
      if (!TOOL_NAME_PATTERN.test(name)) name = toolNameOf(method, path, undefined, prefix);
      if (names.has(name)) {
        let n = 2;
        while (names.has(`${name.slice(0, 120)}_${n}`)) n++;
        warnings.push(`${field}: tool name ${JSON.stringify(name)} is taken; this one is ${JSON.stringify(`${name.slice(0, 120)}_${n}`)}`);
        name = `${name.slice(0, 120)}_${n}`;
      }
      names.add(name);
      tools.push(operationTool({ refs, path, method, op: rawOp, shared, field, name, pathPrefix, schemes, passthroughIds, opts, doc, warnings, itemServers: item['servers'], endpoint }));
    }
  }
  if (tools.length === 0) warnings.push('paths: no operation; the server has no tools');

  const title = typeof info['title'] === 'string' ? info['title'] : '';
  const name = opts.name ?? serverNameFrom(title || 'openapi');
  const infoVersion = typeof info['version'] === 'string' ? info['version'].trim() : '';
  const description = stringOr(info['description'], title).slice(0, 4000);
  const spec: McpServerSpec = {
    version: /^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$/.test(infoVersion) ? infoVersion : DEFAULT_SPEC_VERSION,
    description, config: {}, securitySchemes: schemes, tools, prompts: [],
  };
  return { input: { name, description, protocol, endpoint }, spec, warnings };
}

interface OperationContext {
  refs: References;
  path: string;
  method: string;
  op: JsonObject;
  shared: unknown[];
  field: string;
  name: string;
  pathPrefix: string;
  schemes: SecurityScheme[];
  passthroughIds: Set<string>;
  opts: OpenApiImportOptions;
  doc: JsonObject;
  warnings: string[];
  /** The path item's own `servers`, if any. */
  itemServers: unknown;
  /** The server's endpoint (from the document's `servers`). */
  endpoint: Endpoint;
}

/**
 * The URL of an operation with `servers` of its own (or its path's) that differ from the
 * document's: absolute, so the tool calls them whatever the server's endpoint; else the path.
 */
function operationUrl(c: OperationContext): string {
  const local = c.opts.baseUrl === undefined ? firstServerUrl(c.op['servers']) ?? firstServerUrl(c.itemServers) : undefined;
  if (local === undefined) return `${c.pathPrefix}${c.path}`;
  let absolute: URL;
  try {
    absolute = new URL(local, c.opts.documentUrl);
  } catch {
    c.warnings.push(`${c.field}: its own servers entry ${JSON.stringify(local)} is not usable; the document's is used`);
    return `${c.pathPrefix}${c.path}`;
  }
  if ((absolute.protocol !== 'http:' && absolute.protocol !== 'https:') || /\{|%7B/i.test(absolute.href)) {
    c.warnings.push(`${c.field}: its own servers entry ${JSON.stringify(local)} is not usable; the document's is used`);
    return `${c.pathPrefix}${c.path}`;
  }
  absolute.search = '';
  absolute.hash = '';
  const base = absolute.href.replace(/\/+$/, '');
  if (c.endpoint.type === 'url' && c.endpoint.url === base) return c.path;
  c.warnings.push(`${c.field}: has its own servers (${base}); the tool calls it directly`);
  return `${base}${c.path}`;
}

function operationTool(c: OperationContext): Tool {
  const { refs, op, field, warnings } = c;
  const properties: JsonObject = {};
  const required: string[] = [];
  const argsPosition: Record<string, ArgPosition> = {};
  const headers: { key: string; value: string }[] = [];

  // Path-level parameters, overridden by the operation's of the same name and place.
  const params = new Map<string, { p: JsonObject; field: string }>();
  const own = Array.isArray(op['parameters']) ? op['parameters'] : [];
  for (const [list, where] of [[c.shared, `paths.${c.path}.parameters`], [own, `${field}.parameters`]] as const) {
    list.forEach((raw, i) => {
      const p = refs.target(raw, `${where}[${i}]`);
      const name = p['name'];
      const place = p['in'];
      if (typeof name !== 'string' || name === '') throw refused(`${where}[${i}].name`, 'a parameter needs a name');
      if (place !== 'path' && place !== 'query' && place !== 'header' && place !== 'cookie') throw refused(`${where}[${i}].in`, 'must be path, query, header or cookie');
      params.set(`${place}:${name}`, { p, field: `${where}[${i}]` });
    });
  }
  for (const { p, field: pf } of params.values()) {
    const name = p['name'] as string;
    const place = p['in'] as ArgPosition;
    if (place === 'header' && IGNORED_HEADERS.has(name.toLowerCase())) continue;
    if (Object.hasOwn(properties, name)) {
      warnings.push(`${pf}: parameter ${JSON.stringify(name)} in ${place} left out: an argument of that name exists`);
      continue;
    }
    const media = p['schema'] === undefined ? mediaOf(p['content']) : undefined;
    const schema = refs.schema(p['schema'] ?? media?.schema ?? { type: 'string' }, `${pf}.schema`);
    const property: JsonObject = isJsonObject(schema) ? { ...schema } : {};
    const describe = [p['description'], p['deprecated'] === true ? 'Deprecated.' : undefined].filter((s): s is string => typeof s === 'string' && s !== '').join(' ');
    if (describe !== '' && property['description'] === undefined) property['description'] = describe;
    setEntry(properties, name, property);
    setEntry(argsPosition, name, place);
    if (p['required'] === true || place === 'path') required.push(name);
  }
  const missingPathParams = [...c.path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1] as string).filter((n) => argsPosition[n] !== 'path');
  for (const n of missingPathParams) {
    // A placeholder with no declared parameter: still an argument, or the URL keeps `{n}`.
    if (Object.hasOwn(properties, n)) throw refused(`${field}.parameters`, `path placeholder {${n}} is declared in another place`);
    setEntry(properties, n, { type: 'string' });
    setEntry(argsPosition, n, 'path');
    required.push(n);
    warnings.push(`${field}: path placeholder {${n}} has no parameter; added as a string argument`);
  }

  let body: string | undefined;
  if (op['requestBody'] !== undefined) {
    const rb = refs.target(op['requestBody'], `${field}.requestBody`);
    const media = mediaOf(rb['content']);
    if (media) {
      const lower = media.type.toLowerCase();
      const isJson = lower.startsWith('application/json') || /\+json\b/.test(lower);
      const isForm = lower.startsWith('application/x-www-form-urlencoded');
      if (lower.startsWith('multipart/') || (!isJson && !isForm && !lower.startsWith('text/'))) {
        warnings.push(`${field}.requestBody: ${media.type} bodies are sent as the JSON or text of one "body" argument`);
      }
      if (!lower.startsWith('*/*')) headers.push({ key: 'Content-Type', value: media.type });
      const schema = refs.schema(media.schema ?? {}, `${field}.requestBody.content.${media.type}.schema`);
      const parts = (isJson || isForm) ? objectParts(schema) : undefined;
      const clash = parts ? Object.keys(parts.properties).find((n) => Object.hasOwn(properties, n)) : undefined;
      if (parts && clash === undefined && Object.keys(parts.properties).length > 0) {
        for (const [n, s] of Object.entries(parts.properties)) {
          setEntry(properties, n, s);
          setEntry(argsPosition, n, 'body');
        }
        required.push(...parts.required);
      } else {
        let argName = 'body';
        while (Object.hasOwn(properties, argName)) argName = `_${argName}`;
        if (clash !== undefined) warnings.push(`${field}.requestBody: property ${JSON.stringify(clash)} is also a parameter; the body is the one argument ${JSON.stringify(argName)}`);
        const property = isJsonObject(schema) ? { ...schema } : {};
        if (property['description'] === undefined && typeof rb['description'] === 'string') property['description'] = rb['description'];
        setEntry(properties, argName, property);
        if (rb['required'] === true) required.push(argName);
        const ref = /^[A-Za-z_][A-Za-z0-9_]*$/.test(argName) ? `.args.${argName}` : `(index .args ${JSON.stringify(argName)})`;
        body = isJson ? `{{ toRawJson ${ref} }}` : `{{ ${ref} }}`;
      }
    }
  }

  const success = outputSchemaOf(refs, op, field);
  const summary = typeof op['summary'] === 'string' ? op['summary'].trim() : '';
  const details = typeof op['description'] === 'string' ? op['description'].trim() : '';
  let description = [summary, details].filter((s) => s !== '').join('\n\n') || `${c.method.toUpperCase()} ${c.path}`;
  if (op['deprecated'] === true) description = `Deprecated. ${description}`;
  const annotations: JsonObject = {};
  if (c.method === 'get' || c.method === 'head' || c.method === 'options') annotations['readOnlyHint'] = true;
  if (c.method === 'delete') annotations['destructiveHint'] = true;
  if (c.method === 'put' || c.method === 'delete') annotations['idempotentHint'] = true;
  const security = securityOf(op['security'] ?? c.doc['security'], c.schemes, c.passthroughIds, c.opts);
  const inputSchema: JsonObject = { type: 'object', properties };
  const uniqueRequired = [...new Set(required)];
  if (uniqueRequired.length > 0) inputSchema['required'] = uniqueRequired;
  return {
    name: c.name,
    ...(summary !== '' && summary.length <= 200 ? { title: summary } : {}),
    description,
    inputSchema,
    ...(success ? { outputSchema: success } : {}),
    ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
    enabled: true,
    template: {
      request: {
        url: operationUrl(c), method: c.method.toUpperCase(), headers, argsToUrlParam: false, argsToJsonBody: false, argsToFormBody: false,
        ...(body !== undefined ? { body } : {}), ...(security ? { security } : {}),
      },
      response: {},
      argsPosition,
    },
  };
}

/** The object schema of the first 2xx JSON response (200 first), for `outputSchema`. */
function outputSchemaOf(refs: References, op: JsonObject, field: string): JsonObject | undefined {
  const responses = isJsonObject(op['responses']) ? op['responses'] : {};
  const codes = Object.keys(responses).filter((code) => /^2(\d\d|XX)$/i.test(code)).sort();
  for (const code of codes) {
    const response = refs.target(responses[code], `${field}.responses.${code}`);
    const media = mediaOf(response['content']);
    if (!media || !(media.type.toLowerCase().startsWith('application/json') || /\+json\b/.test(media.type.toLowerCase()))) continue;
    const schema = refs.schema(media.schema ?? {}, `${field}.responses.${code}.content.${media.type}.schema`);
    if (!isJsonObject(schema)) return undefined;
    if (schema['type'] === 'object' || (schema['type'] === undefined && objectParts(schema) !== undefined)) return { ...schema, type: 'object' };
    return undefined; // arrays and scalars are no structuredContent (MCP wants an object)
  }
  return undefined;
}
