/**
 * Higress REST-to-MCP server definitions (YAML or JSON) ⇄ the internal model. The template
 * readers and writers here also serve Nacos, whose `toolsMeta.templates["json-go-template"]`
 * has the same shape as a Higress tool's templates.
 *
 * mcpgate extensions, ignored by Higress: `server.version`, `server.description`, and per tool
 * `title`, `annotations`, `inputSchema` (written when the args cannot express the schema
 * exactly) and `timeoutMs`, and per argument `subPath`; top-level `prompts`.
 */
import { isDeepStrictEqual } from 'node:util';
import { CST, Lexer, parseDocument } from 'yaml';
import { AppError, invalid, missing } from '../../lib/errors.js';
import { MAX_JSON_DEPTH } from '../../lib/json-depth.js';
import { checkJsonInput } from '../../lib/json-input.js';
import type { ArgPosition, McpServerSpec, Prompt, RestSecurity, RestTemplate, SecurityScheme, Tool } from '../model.js';
import { ARG_POSITIONS, checkRestTemplateShape } from '../spec-validation.js';
import type { SpecWarning } from '../spec-validation.js';

/** A JSON object as read from an input document. */
export type JsonObject = Record<string, unknown>;

/** The version a spec gets when its input names none. */
export const DEFAULT_SPEC_VERSION = '1.0.0';

/** The argument types Higress coerces and describes (JSON Schema type names). */
export const HIGRESS_ARG_TYPES = ['string', 'number', 'integer', 'boolean', 'array', 'object'] as const;

/**
 * Type names definitions write that are not JSON Schema's (Higress lists them as written and
 * coerces nothing): read as the JSON Schema type they mean, with a warning.
 */
const ARG_TYPE_ALIASES: Readonly<Record<string, (typeof HIGRESS_ARG_TYPES)[number]>> = {
  int: 'integer', long: 'integer', float: 'number', double: 'number', bool: 'boolean',
};

/** A Higress `security` requirement: a scheme id, plus a credential (upstream) or passthrough (downstream). */
export interface SecurityRequirement {
  id: string;
  credential?: string;
  passthrough?: boolean;
}

/** True for a plain JSON object (not an array, not null). */
export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Sets an own, enumerable entry even for keys like `__proto__` or `constructor`, which input
 * documents may use as tool, argument or property names.
 */
export function setEntry<T>(target: Record<string, T>, key: string, value: NoInfer<T>): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/** An own entry of a record, never one inherited from `Object.prototype`. */
export function ownEntry<T>(source: Record<string, T>, key: string): T | undefined {
  return Object.hasOwn(source, key) ? source[key] : undefined;
}

/** Reads the typed fields of one input object, naming each field (`tools[0].args[1].type`) in errors. */
export class FieldReader {
  private constructor(readonly value: JsonObject, readonly path: string) {}

  /** Wraps `value`, which must be an object; `path` names it in errors ('' for the root). */
  static of(value: unknown, path: string): FieldReader {
    if (!isJsonObject(value)) throw invalid(path || 'document', 'must be an object');
    return new FieldReader(value, path);
  }

  /** The full name of a key of this object. */
  field(key: string): string {
    return this.path ? `${this.path}.${key}` : key;
  }

  /** The raw value of a key; null counts as absent, as in Jackson and encoding/json. */
  raw(key: string): unknown {
    const value = ownEntry(this.value, key);
    return value === null ? undefined : value;
  }

  /** A string, or undefined when absent. */
  string(key: string): string | undefined {
    const value = this.raw(key);
    if (value === undefined) return undefined;
    if (typeof value !== 'string') throw invalid(this.field(key), 'must be a string');
    return value;
  }

  /** A string that must be present and non-empty (`PARAMETER_MISSING` otherwise). */
  requiredString(key: string): string {
    const value = this.string(key);
    if (value === undefined || value.trim() === '') throw missing(this.field(key));
    return value;
  }

  /** A boolean; the strings `true` and `false` are accepted as Jackson accepts them. */
  boolean(key: string): boolean | undefined {
    const value = this.raw(key);
    if (value === undefined || typeof value === 'boolean') return value;
    if (value === 'true' || value === 'false') return value === 'true';
    throw invalid(this.field(key), 'must be a boolean');
  }

  /** A positive integer (milliseconds, counts). */
  positiveInteger(key: string): number | undefined {
    const value = this.raw(key);
    if (value === undefined) return undefined;
    if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
      throw invalid(this.field(key), 'must be a positive integer');
    }
    return value;
  }

  /** An object, or undefined when absent. */
  object(key: string): JsonObject | undefined {
    const value = this.raw(key);
    if (value === undefined) return undefined;
    if (!isJsonObject(value)) throw invalid(this.field(key), 'must be an object');
    return value;
  }

  /** An array, or undefined when absent. */
  array(key: string): unknown[] | undefined {
    const value = this.raw(key);
    if (value === undefined) return undefined;
    if (!Array.isArray(value)) throw invalid(this.field(key), 'must be an array');
    return value;
  }

  /** A nested object as a reader, or undefined when absent. */
  reader(key: string): FieldReader | undefined {
    const value = this.object(key);
    return value === undefined ? undefined : new FieldReader(value, this.field(key));
  }

  /** Each element of an array field as a reader. */
  readers(key: string): FieldReader[] {
    return (this.array(key) ?? []).map((item, i) => FieldReader.of(item, `${this.field(key)}[${i}]`));
  }

  /** An array of strings. */
  strings(key: string): string[] | undefined {
    const items = this.array(key);
    items?.forEach((item, i) => {
      if (typeof item !== 'string') throw invalid(`${this.field(key)}[${i}]`, 'must be a string');
    });
    return items as string[] | undefined;
  }
}

/**
 * Refuse flow collections (`[…]`, `{…}`, JSON's only kind) nested deeper than MAX_JSON_DEPTH:
 * the YAML composer recurses on them and takes seconds on a few hundred kilobytes. The lexer
 * is linear and stops at the first level too many.
 */
function checkYamlFlowDepth(text: string, field: string): void {
  let openers = 0;
  for (let i = 0; i < text.length && openers <= MAX_JSON_DEPTH; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x5b || c === 0x7b) openers++;
  }
  if (openers <= MAX_JSON_DEPTH) return; // so few brackets cannot nest too deep
  let depth = 0;
  for (const token of new Lexer().lex(text)) {
    const type = CST.tokenType(token);
    if (type === 'flow-map-start' || type === 'flow-seq-start') {
      if (++depth > MAX_JSON_DEPTH) throw new AppError('JSON_TOO_DEEP', `${field}: collections nested deeper than ${MAX_JSON_DEPTH} levels; the limit is ${MAX_JSON_DEPTH}`, field);
    } else if (type === 'flow-map-end' || type === 'flow-seq-end') {
      depth--;
    }
  }
}

/** Parses a YAML or JSON document; syntax errors are `INVALID_JSON` with the line and column. */
export function parseYamlOrJson(text: string, field: string): unknown {
  checkYamlFlowDepth(text, field);
  const doc = parseDocument(text, { uniqueKeys: true });
  const error = doc.errors[0];
  if (error) {
    const at = error.linePos?.[0];
    const where = at ? ` at line ${at.line}, column ${at.col}` : '';
    throw new AppError('INVALID_JSON', `${field}: not valid YAML or JSON${where}: ${error.message.split('\n')[0] ?? ''}`, field);
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 100 });
  } catch (cause) {
    throw new AppError('INVALID_JSON', `${field}: ${cause instanceof Error ? cause.message : String(cause)}`, field);
  }
  checkJsonInput(value, field);
  return value;
}

/** Reads an argument position (case-insensitive, as Higress lowercases it). */
export function readPosition(value: unknown, field: string): ArgPosition {
  const position = typeof value === 'string' ? value.toLowerCase() : undefined;
  const known = ARG_POSITIONS.find((p) => p === position);
  if (!known) throw invalid(field, `must be one of ${ARG_POSITIONS.join(', ')}`);
  return known;
}

/** Reads one security scheme (`server.securitySchemes[i]` or Nacos `toolSpecification.securitySchemes[i]`). */
export function readSecurityScheme(r: FieldReader): SecurityScheme {
  const id = r.requiredString('id');
  const type = r.requiredString('type');
  const scheme: SecurityScheme = { id, type: 'http' };
  if (type.toLowerCase() === 'apikey') scheme.type = 'apiKey';
  else if (type.toLowerCase() !== 'http') throw invalid(r.field('type'), 'must be http or apiKey');
  const httpScheme = r.string('scheme');
  if (httpScheme) scheme.scheme = httpScheme.toLowerCase();
  const location = r.string('in');
  if (location) {
    const lower = location.toLowerCase();
    if (lower !== 'header' && lower !== 'query' && lower !== 'cookie') throw invalid(r.field('in'), 'must be header, query or cookie');
    scheme.in = lower;
  }
  const name = r.string('name');
  if (name) scheme.name = name;
  const defaultCredential = r.string('defaultCredential');
  if (defaultCredential) scheme.defaultCredential = defaultCredential;
  return scheme;
}

/** Writes one security scheme in the Higress/Nacos form. */
export function writeSecurityScheme(scheme: SecurityScheme): JsonObject {
  const out: JsonObject = { id: scheme.id, type: scheme.type };
  if (scheme.scheme !== undefined) out['scheme'] = scheme.scheme;
  if (scheme.in !== undefined) out['in'] = scheme.in;
  if (scheme.name !== undefined) out['name'] = scheme.name;
  if (scheme.defaultCredential !== undefined) out['defaultCredential'] = scheme.defaultCredential;
  return out;
}

/** Reads a `security` requirement (`{id, credential?, passthrough?}`). */
export function readSecurityRequirement(r: FieldReader): SecurityRequirement {
  const requirement: SecurityRequirement = { id: r.requiredString('id') };
  const credential = r.string('credential');
  if (credential) requirement.credential = credential;
  if (r.boolean('passthrough')) requirement.passthrough = true;
  return requirement;
}

/**
 * Merges Higress' two requirements into the internal one. The upstream one
 * (`requestTemplate.security`) says how the backend request is authenticated; the downstream
 * one (tool-level `security`) says which of the agent's credentials is taken from its request
 * (and removed) and, with `passthrough`, forwarded by the upstream scheme.
 */
export function mergeSecurity(upstream: SecurityRequirement | undefined, downstream: SecurityRequirement | undefined): RestSecurity | undefined {
  if (!upstream) {
    if (!downstream) return undefined;
    return downstream.passthrough ? { id: downstream.id, passthrough: true } : { id: downstream.id, clientId: downstream.id, upstream: false };
  }
  const security: RestSecurity = { id: upstream.id };
  if (upstream.credential) security.credential = upstream.credential;
  if (upstream.passthrough || downstream?.passthrough) security.passthrough = true;
  if (downstream && (downstream.id !== upstream.id || !security.passthrough)) security.clientId = downstream.id;
  return security;
}

/** Reads a `requestTemplate`; absent or with an empty url it is a direct-response tool (null). */
export function readRequestTemplate(r: FieldReader | undefined): {
  request: RestTemplate['request'];
  upstream: SecurityRequirement | undefined;
} {
  if (!r) return { request: null, upstream: undefined };
  const url = r.string('url') ?? '';
  const securityReader = r.reader('security');
  const upstream = securityReader ? readSecurityRequirement(securityReader) : undefined;
  if (url === '') return { request: null, upstream };
  const headers = r.readers('headers').map((h) => ({ key: h.requiredString('key'), value: h.string('value') ?? '' }));
  const body = r.string('body');
  const request: NonNullable<RestTemplate['request']> = {
    url,
    method: (r.string('method') || 'GET').toUpperCase(),
    headers,
    ...(body && { body }),
    argsToUrlParam: r.boolean('argsToUrlParam') ?? false,
    argsToJsonBody: r.boolean('argsToJsonBody') ?? false,
    argsToFormBody: r.boolean('argsToFormBody') ?? false,
  };
  return { request, upstream };
}

/** Reads a `responseTemplate`; empty strings count as absent, as in Higress. */
export function readResponseTemplate(r: FieldReader | undefined): RestTemplate['response'] {
  const response: RestTemplate['response'] = {};
  if (!r) return response;
  const body = r.string('body');
  const prependBody = r.string('prependBody');
  const appendBody = r.string('appendBody');
  if (body) response.body = body;
  if (prependBody) response.prependBody = prependBody;
  if (appendBody) response.appendBody = appendBody;
  return response;
}

/** Writes a request template in the Higress/Nacos form (flags only when set, as the seed example has them). */
export function writeRequestTemplate(request: NonNullable<RestTemplate['request']>): JsonObject {
  const out: JsonObject = { url: request.url, method: request.method, headers: request.headers.map((h) => ({ key: h.key, value: h.value })) };
  if (request.body !== undefined) out['body'] = request.body;
  if (request.argsToUrlParam) out['argsToUrlParam'] = true;
  if (request.argsToJsonBody) out['argsToJsonBody'] = true;
  if (request.argsToFormBody) out['argsToFormBody'] = true;
  if (request.security && request.security.upstream !== false) {
    const security: JsonObject = { id: request.security.id };
    if (request.security.credential !== undefined) security['credential'] = request.security.credential;
    out['security'] = security;
  }
  return out;
}

/** Writes a response template, leaving out absent parts. */
export function writeResponseTemplate(response: RestTemplate['response']): JsonObject {
  const out: JsonObject = {};
  if (response.body !== undefined) out['body'] = response.body;
  if (response.prependBody !== undefined) out['prependBody'] = response.prependBody;
  if (response.appendBody !== undefined) out['appendBody'] = response.appendBody;
  return out;
}

/** The tool-level (downstream) requirement a template implies: present when the agent's credential is taken. */
export function writeToolSecurity(template: RestTemplate): JsonObject | undefined {
  const security = template.request?.security;
  const client = security?.clientId ?? (security?.passthrough ? security.id : undefined);
  if (!security || client === undefined) return undefined;
  return security.passthrough ? { id: client, passthrough: true } : { id: client };
}

/**
 * Completes a template from the fields a Higress tool and a Nacos `json-go-template` share;
 * `subPathArgs` comes from the arguments' `subPath` (Higress) or the template's list (Nacos).
 */
export function readTemplateRest(r: FieldReader, request: RestTemplate['request'], argsPosition: RestTemplate['argsPosition'], subPathArgs: string[] = []): RestTemplate {
  const errorResponseTemplate = r.string('errorResponseTemplate');
  const timeoutMs = r.positiveInteger('timeoutMs');
  return {
    request,
    response: readResponseTemplate(r.reader('responseTemplate')),
    ...(errorResponseTemplate && { errorResponseTemplate }),
    argsPosition,
    ...(subPathArgs.length > 0 && { subPathArgs }),
    ...(timeoutMs !== undefined && { timeoutMs }),
  };
}

interface HigressArg {
  name: string;
  description?: string;
  type: string;
  required: boolean;
  position?: ArgPosition;
  /** mcpgate: a `{{.args.x}}` in the URL path may place the value as a sub-path (`/` kept). */
  subPath?: boolean;
  default?: unknown;
  enum?: unknown[];
  items?: unknown;
  properties?: unknown;
}

function readArg(r: FieldReader, warn: (field: string, message: string) => void): HigressArg {
  let type = r.string('type') || 'string';
  const alias = Object.hasOwn(ARG_TYPE_ALIASES, type) ? ARG_TYPE_ALIASES[type] : undefined;
  if (alias) {
    warn(r.field('type'), `type ${JSON.stringify(type)} is not a JSON Schema type; read as ${JSON.stringify(alias)}`);
    type = alias;
  }
  if (!(HIGRESS_ARG_TYPES as readonly string[]).includes(type)) {
    throw invalid(r.field('type'), `must be one of ${HIGRESS_ARG_TYPES.join(', ')}`);
  }
  const arg: HigressArg = { name: r.requiredString('name'), type, required: r.boolean('required') ?? false };
  const description = r.string('description');
  if (description !== undefined) arg.description = description;
  const position = r.raw('position');
  if (position !== undefined && position !== '') arg.position = readPosition(position, r.field('position'));
  if (r.boolean('subPath')) arg.subPath = true;
  if (r.raw('default') !== undefined) arg.default = r.raw('default');
  const values = r.array('enum');
  if (values && values.length > 0) arg.enum = values;
  if (r.raw('items') !== undefined) arg.items = r.raw('items');
  if (r.raw('properties') !== undefined) arg.properties = r.raw('properties');
  return arg;
}

/** The input schema Higress derives from a tool's args. */
function argsToSchema(args: HigressArg[]): Record<string, unknown> {
  const properties: JsonObject = {};
  const required: string[] = [];
  for (const arg of args) {
    const property: JsonObject = { type: arg.type };
    if (arg.description !== undefined) property['description'] = arg.description;
    if (arg.enum !== undefined) property['enum'] = arg.enum;
    if (arg.default !== undefined) property['default'] = arg.default;
    if (arg.items !== undefined) property['items'] = arg.items;
    if (arg.properties !== undefined) property['properties'] = arg.properties;
    setEntry(properties, arg.name, property);
    if (arg.required) required.push(arg.name);
  }
  const schema: JsonObject = { type: 'object', properties };
  if (required.length > 0) schema['required'] = required;
  return schema;
}

function schemaToArgs(schema: Record<string, unknown>, positions: Record<string, ArgPosition>, subPathArgs: readonly string[]): HigressArg[] {
  const properties = isJsonObject(schema['properties']) ? schema['properties'] : {};
  const required: unknown[] = Array.isArray(schema['required']) ? schema['required'] : [];
  return Object.entries(properties).map(([name, value]) => {
    const property = isJsonObject(value) ? value : {};
    const arg: HigressArg = {
      name,
      type: typeof property['type'] === 'string' ? property['type'] : 'string',
      required: required.includes(name),
    };
    if (typeof property['description'] === 'string') arg.description = property['description'];
    const position = ownEntry(positions, name);
    if (position !== undefined) arg.position = position;
    if (subPathArgs.includes(name)) arg.subPath = true;
    if (property['default'] !== undefined) arg.default = property['default'];
    if (Array.isArray(property['enum'])) arg.enum = property['enum'];
    if (property['items'] !== undefined) arg.items = property['items'];
    if (property['properties'] !== undefined) arg.properties = property['properties'];
    return arg;
  });
}

function writeArg(arg: HigressArg): JsonObject {
  const out: JsonObject = { name: arg.name };
  if (arg.description !== undefined) out['description'] = arg.description;
  out['type'] = arg.type;
  if (arg.required) out['required'] = true;
  if (arg.position !== undefined) out['position'] = arg.position;
  if (arg.subPath) out['subPath'] = true;
  if (arg.default !== undefined) out['default'] = arg.default;
  if (arg.enum !== undefined) out['enum'] = arg.enum;
  if (arg.items !== undefined) out['items'] = arg.items;
  if (arg.properties !== undefined) out['properties'] = arg.properties;
  return out;
}

interface ServerDefaults {
  downstream: SecurityRequirement | undefined;
  upstream: SecurityRequirement | undefined;
  allowTools: string[] | undefined;
}

function readTool(r: FieldReader, defaults: ServerDefaults, warnings: SpecWarning[]): Tool {
  const name = r.requiredString('name');
  const toolField = `${r.path}(${name})`;
  const warn = (field: string, message: string): void => {
    warnings.push({ field: field.startsWith(r.path) ? toolField + field.slice(r.path.length) : field, tool: name, message });
  };
  const declared = r.readers('args').map((a) => readArg(a, warn));
  // As in Higress (a map by name), the last declaration of an argument wins.
  const last = new Map<string, number>();
  declared.forEach((arg, j) => {
    const earlier = last.get(arg.name);
    if (earlier !== undefined) warn(`${r.field('args')}[${j}].name`, `argument ${JSON.stringify(arg.name)} is declared again (first at args[${earlier}]); the last declaration wins`);
    last.set(arg.name, j);
  });
  const args = declared.filter((arg, j) => last.get(arg.name) === j);
  const argsPosition: Record<string, ArgPosition> = {};
  for (const arg of args) if (arg.position) setEntry(argsPosition, arg.name, arg.position);

  const { request, upstream } = readRequestTemplate(r.reader('requestTemplate'));
  const toolSecurity = r.reader('security');
  const downstream = toolSecurity ? readSecurityRequirement(toolSecurity) : defaults.downstream;
  const security = mergeSecurity(upstream ?? defaults.upstream, downstream);
  if (request && security) request.security = security;

  const template = readTemplateRest(r, request, argsPosition, args.filter((a) => a.subPath).map((a) => a.name));
  checkRestTemplateShape(template, r.path);

  const title = r.string('title');
  const outputSchema = r.object('outputSchema');
  const annotations = r.object('annotations');
  return {
    name,
    ...(title !== undefined && { title }),
    description: r.string('description') ?? '',
    inputSchema: r.object('inputSchema') ?? argsToSchema(args),
    ...(outputSchema && { outputSchema }),
    ...(annotations && { annotations }),
    enabled: defaults.allowTools ? defaults.allowTools.includes(name) : true,
    template,
  };
}

function readPrompt(r: FieldReader): Prompt {
  const title = r.string('title');
  const description = r.string('description');
  return {
    name: r.requiredString('name'),
    ...(title !== undefined && { title }),
    ...(description !== undefined && { description }),
    arguments: r.readers('arguments').map((a) => {
      const argumentDescription = a.string('description');
      const required = a.boolean('required');
      return {
        name: a.requiredString('name'),
        ...(argumentDescription !== undefined && { description: argumentDescription }),
        ...(required !== undefined && { required }),
      };
    }),
    messages: r.readers('messages').map((m) => {
      const role = m.requiredString('role');
      if (role !== 'user' && role !== 'assistant') throw invalid(m.field('role'), 'must be user or assistant');
      return { role, text: m.string('text') ?? '' };
    }),
  };
}

/**
 * Converts a Higress REST-to-MCP definition (YAML/JSON text or a parsed object) into a server
 * name and a spec, with what was accepted as Higress accepts it though not as written
 * (`warnings`: `type: int`, an argument declared twice).
 */
export function fromHigress(doc: unknown): { name: string; spec: McpServerSpec; warnings: SpecWarning[] } {
  const warnings: SpecWarning[] = [];
  const root = FieldReader.of(typeof doc === 'string' ? parseYamlOrJson(doc, 'definition') : doc, '');
  const server = root.reader('server');
  if (!server) throw missing('server');
  const type = server.string('type');
  if (type && type !== 'rest') throw invalid(server.field('type'), 'only rest (REST-to-MCP) definitions are supported');
  const downstream = server.reader('defaultDownstreamSecurity');
  const upstream = server.reader('defaultUpstreamSecurity');
  const defaults: ServerDefaults = {
    downstream: downstream ? readSecurityRequirement(downstream) : undefined,
    upstream: upstream ? readSecurityRequirement(upstream) : undefined,
    allowTools: root.strings('allowTools'),
  };
  const spec: McpServerSpec = {
    version: server.string('version') || DEFAULT_SPEC_VERSION,
    description: server.string('description') ?? '',
    config: server.object('config') ?? {},
    securitySchemes: server.readers('securitySchemes').map(readSecurityScheme),
    tools: root.readers('tools').map((t) => readTool(t, defaults, warnings)),
    prompts: root.readers('prompts').map(readPrompt),
  };
  return { name: server.requiredString('name'), spec, warnings };
}

function writePrompt(prompt: Prompt): JsonObject {
  const out: JsonObject = { name: prompt.name };
  if (prompt.title !== undefined) out['title'] = prompt.title;
  if (prompt.description !== undefined) out['description'] = prompt.description;
  out['arguments'] = prompt.arguments.map((a) => ({ ...a }));
  out['messages'] = prompt.messages.map((m) => ({ role: m.role, text: m.text }));
  return out;
}

function writeTool(tool: Tool): JsonObject {
  const positions = tool.template?.argsPosition ?? {};
  const args = schemaToArgs(tool.inputSchema, positions, tool.template?.subPathArgs ?? []);
  const out: JsonObject = { name: tool.name };
  if (tool.title !== undefined) out['title'] = tool.title;
  out['description'] = tool.description;
  if (tool.annotations !== undefined) out['annotations'] = tool.annotations;
  out['args'] = args.map(writeArg);
  if (!isDeepStrictEqual(argsToSchema(args), tool.inputSchema)) out['inputSchema'] = tool.inputSchema;
  if (tool.outputSchema !== undefined) out['outputSchema'] = tool.outputSchema;
  const template = tool.template;
  if (!template) return out;
  const security = writeToolSecurity(template);
  if (security) out['security'] = security;
  if (template.request) out['requestTemplate'] = writeRequestTemplate(template.request);
  out['responseTemplate'] = writeResponseTemplate(template.response);
  if (template.errorResponseTemplate !== undefined) out['errorResponseTemplate'] = template.errorResponseTemplate;
  if (template.timeoutMs !== undefined) out['timeoutMs'] = template.timeoutMs;
  return out;
}

/** Writes a spec as a Higress REST-to-MCP definition (a JSON object; serialize as YAML or JSON). */
export function toHigress(name: string, spec: McpServerSpec): JsonObject {
  const server: JsonObject = { name, version: spec.version };
  if (spec.description !== '') server['description'] = spec.description;
  if (Object.keys(spec.config).length > 0) server['config'] = spec.config;
  if (spec.securitySchemes.length > 0) server['securitySchemes'] = spec.securitySchemes.map(writeSecurityScheme);
  const out: JsonObject = { server, tools: spec.tools.map(writeTool) };
  if (spec.tools.some((t) => !t.enabled)) out['allowTools'] = spec.tools.filter((t) => t.enabled).map((t) => t.name);
  if (spec.prompts.length > 0) out['prompts'] = spec.prompts.map(writePrompt);
  return out;
}
