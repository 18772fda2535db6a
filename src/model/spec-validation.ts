/**
 * Write-time checks of an MCP server version's spec: tool names, JSON Schemas (draft-07 and
 * 2020-12), REST template structure, security scheme references, and template syntax (through
 * a checker the caller passes, so the model does not depend on the template engine).
 * Every failure is an `AppError` whose `field` names the tool and the path inside it.
 */
import { Ajv } from 'ajv';
import type { ErrorObject } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { AppError, invalid, missing } from '../lib/errors.js';
import type { ArgPosition, McpServerSpec, Prompt, RestTemplate, SecurityScheme, Tool } from './model.js';
import { TOOL_NAME_PATTERN } from './names.js';
import { validateAuthorization } from './authorization.js';
import { validateVirtualSpec } from './virtual.js';

/** Where an argument can go in the backend request. */
export const ARG_POSITIONS: readonly ArgPosition[] = ['path', 'query', 'header', 'cookie', 'body'];

/** An HTTP method token (RFC 9110). */
export const HTTP_METHOD_PATTERN = /^[A-Za-z]{1,32}$/;

/**
 * Something accepted as Higress accepts it, though not as written or not valid JSON Schema
 * (`type: int`, an argument declared twice, `required: true` on a nested property): served,
 * and said in the log, the API answer and the console.
 */
export interface SpecWarning {
  /** The field, named as errors name fields: `tools[2](create_sandbox).args[1].type`. */
  field: string;
  /** The tool the field belongs to, when it belongs to one. */
  tool?: string;
  message: string;
  /** The file the definition came from, when one is known. */
  file?: string;
}

/** Options of `validateSpec`. */
export interface ValidateSpecOptions {
  /**
   * Parses one template and throws on a syntax error; an error carrying `line`, `column` and
   * `detail` (the gateway's `TemplateError`) becomes `INVALID_TEMPLATE`. `name` is `<tool>.<field>`.
   */
  checkTemplate?: (source: string, name: string) => void;
}

const addFormats = addFormatsModule.default;
const AJV_OPTIONS = { strict: false, logger: false, allErrors: false } as const;
/** Ajv keeps every compiled function in its code scope, so a compiler is replaced after this many compiles. */
const COMPILES_PER_COMPILER = 200;

type AnyAjv = Ajv | Ajv2020;

/** One JSON Schema dialect: a long-lived meta-schema validator and a periodically renewed compiler. */
interface Dialect {
  readonly meta: AnyAjv;
  readonly create: () => AnyAjv;
  compiler: AnyAjv;
  compiles: number;
}

function dialect(create: (options: typeof AJV_OPTIONS & { validateSchema?: boolean }) => AnyAjv): Dialect {
  const withFormats = (ajv: AnyAjv): AnyAjv => {
    addFormats(ajv);
    return ajv;
  };
  const createCompiler = (): AnyAjv => withFormats(create({ ...AJV_OPTIONS, validateSchema: false }));
  return { meta: withFormats(create(AJV_OPTIONS)), create: createCompiler, compiler: createCompiler(), compiles: 0 };
}

const draft07 = dialect((options) => new Ajv(options));
const draft2020 = dialect((options) => new Ajv2020(options));

function compilerOf(d: Dialect): AnyAjv {
  if (d.compiles >= COMPILES_PER_COMPILER) {
    d.compiler = d.create();
    d.compiles = 0;
  }
  d.compiles++;
  return d.compiler;
}

const DRAFT_07_URI = /^https?:\/\/json-schema\.org\/draft-07\/schema#?$/;
const DRAFT_2020_URI = /^https?:\/\/json-schema\.org\/draft\/2020-12\/schema#?$/;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function schemaError(field: string, message: string): AppError {
  return new AppError('INVALID_SCHEMA', `${field}: ${message}`, field);
}

function describeAjvError(error: ErrorObject): string {
  const message = error.message ?? `fails ${error.keyword}`;
  const allowed = (error.params as { allowedValues?: unknown }).allowedValues;
  return Array.isArray(allowed) ? `${message}: ${allowed.map(String).join(', ')}` : message;
}

/**
 * Checks that `schema` is a valid JSON Schema: draft-07 when its `$schema` says so, 2020-12
 * otherwise. It is validated against the meta-schema and compiled (which catches unresolvable
 * `$ref`s and bad patterns); what compiling leaves in the shared validators is bounded.
 */
export function checkJsonSchema(schema: unknown, field: string): void {
  if (!isRecord(schema)) throw schemaError(field, 'must be a JSON object');
  const declared = schema['$schema'];
  let d: Dialect;
  if (declared === undefined || (typeof declared === 'string' && DRAFT_2020_URI.test(declared))) d = draft2020;
  else if (typeof declared === 'string' && DRAFT_07_URI.test(declared)) d = draft07;
  else {
    throw schemaError(`${field}/$schema`, `unsupported $schema ${JSON.stringify(declared)}: use draft-07 or 2020-12`);
  }
  const { $schema: _declared, ...body } = schema;
  if (!d.meta.validateSchema(body)) {
    const first = d.meta.errors?.[0];
    throw schemaError(`${field}${first?.instancePath ?? ''}`, first ? describeAjvError(first) : 'is not a valid JSON Schema');
  }
  const ajv = compilerOf(d);
  const refsBefore = new Set(Object.keys(ajv.refs));
  const id = body['$id'];
  if (typeof id === 'string' && refsBefore.has(id.replace(/#$/, ''))) {
    throw schemaError(`${field}/$id`, `$id ${JSON.stringify(id)} is reserved`);
  }
  try {
    ajv.compile(body);
  } catch (error) {
    throw schemaError(field, error instanceof Error ? error.message : String(error));
  } finally {
    ajv.removeSchema(body);
    for (const key of Object.keys(ajv.refs)) {
      if (!refsBefore.has(key)) delete ajv.refs[key];
    }
  }
}

/** Keywords whose value is one subschema. */
const SUBSCHEMA = ['items', 'additionalProperties', 'additionalItems', 'not', 'if', 'then', 'else', 'contains', 'propertyNames', 'unevaluatedProperties', 'unevaluatedItems'];
/** Keywords whose value is a map of subschemas. */
const SUBSCHEMA_MAPS = ['properties', 'patternProperties', '$defs', 'definitions', 'dependentSchemas'];
/** Keywords whose value is an array of subschemas. */
const SUBSCHEMA_LISTS = ['allOf', 'anyOf', 'oneOf', 'prefixItems', 'items'];

/**
 * An input schema as argument validation takes it: the constructs Higress passes through and
 * JSON Schema does not have are left out — a boolean `required` on a property (draft-03
 * style; Higress does not enforce it either). The schema itself is listed as written. Answers
 * the same object when there is nothing to leave out, and where each thing was left out
 * (JSON pointers below the schema).
 */
export function validationSchema(schema: Record<string, unknown>): { schema: Record<string, unknown>; tolerated: { path: string; message: string }[] } {
  const tolerated: { path: string; message: string }[] = [];
  const walk = (node: unknown, path: string): unknown => {
    if (!isRecord(node)) return node;
    let out: Record<string, unknown> | undefined;
    const set = (key: string, value: unknown): void => {
      out ??= { ...node };
      if (value === undefined) delete out[key];
      else Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
    };
    if (typeof node['required'] === 'boolean') {
      tolerated.push({ path: `${path}/required`, message: `required: ${String(node['required'])} on a property is draft-03 style, not JSON Schema (list the name in the parent's required array); listed as written, not enforced (as in Higress)` });
      set('required', undefined);
    }
    for (const key of SUBSCHEMA) {
      if (!Object.hasOwn(node, key) || Array.isArray(node[key])) continue;
      const next = walk(node[key], `${path}/${key}`);
      if (next !== node[key]) set(key, next);
    }
    for (const key of SUBSCHEMA_LISTS) {
      const list = Object.hasOwn(node, key) ? node[key] : undefined;
      if (!Array.isArray(list)) continue;
      const next = list.map((item, i) => walk(item, `${path}/${key}/${i}`));
      if (next.some((item, i) => item !== list[i])) set(key, next);
    }
    for (const key of SUBSCHEMA_MAPS) {
      const map = Object.hasOwn(node, key) ? node[key] : undefined;
      if (!isRecord(map)) continue;
      let changed: Record<string, unknown> | undefined;
      for (const [name, sub] of Object.entries(map)) {
        const next = walk(sub, `${path}/${key}/${name.replace(/~/g, '~0').replace(/\//g, '~1')}`);
        if (next === sub) continue;
        changed ??= { ...map };
        Object.defineProperty(changed, name, { value: next, enumerable: true, writable: true, configurable: true });
      }
      if (changed) set(key, changed);
    }
    return out ?? node;
  };
  const result = walk(schema, '') as Record<string, unknown>;
  return { schema: result, tolerated };
}

function checkObjectSchema(schema: unknown, field: string, warnings?: SpecWarning[], tool?: string): void {
  if (!isRecord(schema)) throw schemaError(field, 'must be a JSON object');
  if (schema['type'] !== 'object') throw schemaError(`${field}/type`, 'must be "object" (MCP requires an object schema)');
  const { schema: checked, tolerated } = validationSchema(schema);
  checkJsonSchema(checked, field);
  for (const t of tolerated) warnings?.push({ field: `${field}${t.path}`, ...(tool !== undefined && { tool }), message: t.message });
}

/**
 * Checks the structure of one REST template, naming fields under `prefix` (the tool as the
 * caller's input spells it): one args placement at most, `body` or `prependBody`/`appendBody`,
 * a response body for direct-response tools, a method token, known positions.
 */
export function checkRestTemplateShape(template: RestTemplate, prefix: string): void {
  const request = template.request;
  if (request) {
    if (request.url === '') throw missing(`${prefix}.requestTemplate.url`);
    if (!HTTP_METHOD_PATTERN.test(request.method)) {
      throw invalid(`${prefix}.requestTemplate.method`, `${JSON.stringify(request.method)} is not an HTTP method`);
    }
    const placements = [request.argsToUrlParam, request.argsToJsonBody, request.argsToFormBody].filter(Boolean).length;
    if (placements > 1) {
      throw invalid(`${prefix}.requestTemplate`, 'at most one of argsToUrlParam, argsToJsonBody and argsToFormBody may be true');
    }
    request.headers.forEach((header, j) => {
      if (header.key === '') throw missing(`${prefix}.requestTemplate.headers[${j}].key`);
    });
  }
  const response = template.response;
  if (response.body !== undefined && (response.prependBody !== undefined || response.appendBody !== undefined)) {
    throw invalid(`${prefix}.responseTemplate`, 'body cannot be combined with prependBody or appendBody');
  }
  if (!request && !response.body) {
    throw missing(`${prefix}.responseTemplate.body`);
  }
  for (const [name, position] of Object.entries(template.argsPosition)) {
    if (!ARG_POSITIONS.includes(position)) {
      throw invalid(`${prefix}.argsPosition.${name}`, `must be one of ${ARG_POSITIONS.join(', ')}`);
    }
  }
  if (template.subPathArgs !== undefined) {
    if (!Array.isArray(template.subPathArgs)) throw invalid(`${prefix}.subPathArgs`, 'must be an array of argument names');
    template.subPathArgs.forEach((name, j) => {
      if (typeof name !== 'string' || name === '') throw invalid(`${prefix}.subPathArgs[${j}]`, 'must be an argument name');
    });
  }
  if (template.timeoutMs !== undefined && !(Number.isInteger(template.timeoutMs) && template.timeoutMs > 0)) {
    throw invalid(`${prefix}.timeoutMs`, 'must be a positive integer');
  }
}

function templateSources(template: RestTemplate): [string, string][] {
  const sources: [string, string][] = [];
  const request = template.request;
  if (request) {
    sources.push(['requestTemplate.url', request.url]);
    request.headers.forEach((header, j) => sources.push([`requestTemplate.headers[${j}].value`, header.value]));
    if (request.body !== undefined) sources.push(['requestTemplate.body', request.body]);
  }
  const response = template.response;
  if (response.body !== undefined) sources.push(['responseTemplate.body', response.body]);
  if (response.prependBody !== undefined) sources.push(['responseTemplate.prependBody', response.prependBody]);
  if (response.appendBody !== undefined) sources.push(['responseTemplate.appendBody', response.appendBody]);
  if (template.errorResponseTemplate !== undefined) sources.push(['errorResponseTemplate', template.errorResponseTemplate]);
  return sources;
}

interface TemplateFault { line: unknown; column: unknown; detail: unknown }

function isTemplateFault(error: unknown): error is TemplateFault {
  return typeof error === 'object' && error !== null && 'line' in error && 'column' in error && 'detail' in error;
}

function checkTemplates(tool: Tool, template: RestTemplate, prefix: string, check: ValidateSpecOptions['checkTemplate']): void {
  if (!check) return;
  for (const [path, source] of templateSources(template)) {
    try {
      check(source, `${tool.name}.${path}`);
    } catch (error) {
      if (!isTemplateFault(error)) throw error;
      const field = `${prefix}.${path}`;
      throw new AppError(
        'INVALID_TEMPLATE',
        `${field}: line ${String(error.line)}, column ${String(error.column)}: ${String(error.detail)}`,
        field,
      );
    }
  }
}

function checkSecuritySchemes(schemes: SecurityScheme[]): Set<string> {
  const ids = new Set<string>();
  schemes.forEach((scheme, i) => {
    const field = `securitySchemes[${i}]`;
    if (!scheme.id) throw missing(`${field}.id`);
    if (ids.has(scheme.id)) throw invalid(`${field}.id`, `duplicate security scheme id ${JSON.stringify(scheme.id)}`);
    ids.add(scheme.id);
    if (scheme.type === 'http') {
      if (scheme.scheme !== 'bearer' && scheme.scheme !== 'basic') {
        throw invalid(`${field}.scheme`, 'must be bearer or basic for type http');
      }
    } else if (scheme.type === 'apiKey') {
      if (scheme.in !== 'header' && scheme.in !== 'query' && scheme.in !== 'cookie') {
        throw invalid(`${field}.in`, 'must be header, query or cookie for type apiKey');
      }
      if (!scheme.name) throw missing(`${field}.name`);
    } else {
      throw invalid(`${field}.type`, 'must be http or apiKey');
    }
  });
  return ids;
}

function checkTool(tool: Tool, i: number, schemeIds: Set<string>, names: Set<string>, options: ValidateSpecOptions, warnings: SpecWarning[]): void {
  if (typeof tool.name !== 'string' || tool.name === '') throw missing(`tools[${i}].name`);
  if (!TOOL_NAME_PATTERN.test(tool.name)) {
    throw invalid(`tools[${i}].name`, 'must be 1-128 characters of A-Z, a-z, 0-9, _, - and .');
  }
  const prefix = `tools[${i}](${tool.name})`;
  if (names.has(tool.name)) throw invalid(`${prefix}.name`, `duplicate tool name ${JSON.stringify(tool.name)}`);
  names.add(tool.name);
  if (typeof tool.description !== 'string') throw invalid(`${prefix}.description`, 'must be a string');
  if (tool.title !== undefined && typeof tool.title !== 'string') throw invalid(`${prefix}.title`, 'must be a string');
  if (tool.annotations !== undefined && !isRecord(tool.annotations)) throw invalid(`${prefix}.annotations`, 'must be an object');
  if (typeof tool.enabled !== 'boolean') throw invalid(`${prefix}.enabled`, 'must be a boolean');
  checkObjectSchema(tool.inputSchema, `${prefix}.inputSchema`, warnings, tool.name);
  // Strict: clients check structuredContent against it.
  if (tool.outputSchema !== undefined) {
    if (!isRecord(tool.outputSchema)) throw schemaError(`${prefix}.outputSchema`, 'must be a JSON object');
    if (tool.outputSchema['type'] !== 'object') throw schemaError(`${prefix}.outputSchema/type`, 'must be "object" (MCP requires an object schema)');
    checkJsonSchema(tool.outputSchema, `${prefix}.outputSchema`);
  }
  const template = tool.template;
  if (!template) return;
  checkRestTemplateShape(template, prefix);
  const properties = tool.inputSchema['properties'];
  for (const name of Object.keys(template.argsPosition)) {
    if (!isRecord(properties) || !Object.hasOwn(properties, name)) {
      throw invalid(`${prefix}.argsPosition.${name}`, `${JSON.stringify(name)} is not a property of the inputSchema`);
    }
  }
  (template.subPathArgs ?? []).forEach((name, j) => {
    if (!isRecord(properties) || !Object.hasOwn(properties, name)) {
      throw invalid(`${prefix}.subPathArgs[${j}]`, `${JSON.stringify(name)} is not a property of the inputSchema`);
    }
  });
  const security = template.request?.security;
  if (security) {
    const field = `${prefix}.requestTemplate.security`;
    for (const key of ['id', 'clientId'] as const) {
      const id = security[key];
      if (id !== undefined && !schemeIds.has(id)) throw invalid(`${field}.${key}`, `no security scheme with id ${JSON.stringify(id)}`);
    }
    if (security.upstream === false) {
      if (security.clientId === undefined) throw invalid(`${field}.clientId`, 'upstream: false (no backend credential) needs the scheme the agent\'s credential is taken by');
      if (security.passthrough) throw invalid(`${field}.passthrough`, 'a credential cannot be passed through when upstream is false (the backend gets no credential)');
      if (security.credential !== undefined) throw invalid(`${field}.credential`, 'a backend credential cannot be set when upstream is false');
    }
  }
  checkTemplates(tool, template, prefix, options.checkTemplate);
}

function checkPrompts(prompts: Prompt[]): void {
  const names = new Set<string>();
  prompts.forEach((prompt, i) => {
    if (!prompt.name) throw missing(`prompts[${i}].name`);
    if (names.has(prompt.name)) throw invalid(`prompts[${i}].name`, `duplicate prompt name ${JSON.stringify(prompt.name)}`);
    names.add(prompt.name);
    prompt.arguments.forEach((argument, j) => {
      if (!argument.name) throw missing(`prompts[${i}].arguments[${j}].name`);
    });
    prompt.messages.forEach((message, j) => {
      if (message.role !== 'user' && message.role !== 'assistant') {
        throw invalid(`prompts[${i}].messages[${j}].role`, 'must be user or assistant');
      }
    });
  });
}

function checkSecretDeclaration(secrets: unknown): void {
  if (!isRecord(secrets)) throw invalid('secrets', 'must be an object: {config?: [paths], headers?: [names]}');
  for (const [key, value] of Object.entries(secrets)) {
    if (key !== 'config' && key !== 'headers') throw invalid(`secrets.${key}`, 'is not a field of secrets (config, headers)');
    if (!Array.isArray(value)) throw invalid(`secrets.${key}`, 'must be an array of strings');
    value.forEach((v, i) => {
      if (typeof v !== 'string' || v === '') throw invalid(`secrets.${key}[${i}]`, 'must be a non-empty string');
    });
  }
}

/** An entry of `config.allowedArgumentHosts`: a host name, `*.` and a domain, or an IP address. */
const ARGUMENT_HOST_PATTERN = /^(?:\*\.)?[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.?$|^\[[0-9A-Fa-f:.]+\]$/;

/** The gateway's options in a server's config: types checked, so that a typo does not silently mean "off". */
function checkGatewayOptions(config: Record<string, unknown>): void {
  const allowPrivate = config['allowPrivateAddresses'];
  if (allowPrivate !== undefined && typeof allowPrivate !== 'boolean') throw invalid('config.allowPrivateAddresses', 'must be a boolean');
  const hosts = config['allowedArgumentHosts'];
  if (hosts === undefined) return;
  if (!Array.isArray(hosts)) throw invalid('config.allowedArgumentHosts', 'must be an array of host names');
  hosts.forEach((host, i) => {
    if (typeof host !== 'string' || !ARGUMENT_HOST_PATTERN.test(host)) {
      throw invalid(`config.allowedArgumentHosts[${i}]`, 'must be a host name (api.example.com), *. and a domain (*.example.com) or an IP address');
    }
  });
}

/**
 * Checks a spec before it is stored; throws the first problem as an `AppError` naming its
 * field, and answers what it accepted with a warning (see `SpecWarning`).
 */
export function validateSpec(spec: McpServerSpec, options: ValidateSpecOptions = {}): SpecWarning[] {
  const warnings: SpecWarning[] = [];
  if (typeof spec.version !== 'string' || spec.version.trim() === '') throw missing('version');
  if (spec.version.length > 128) throw invalid('version', 'must be at most 128 characters');
  if (!isRecord(spec.config)) throw invalid('config', 'must be an object');
  if (spec.secrets !== undefined) checkSecretDeclaration(spec.secrets);
  checkGatewayOptions(spec.config);
  if (spec.authorization !== undefined) validateAuthorization(spec.authorization, 'authorization');
  if (spec.virtual !== undefined) {
    validateVirtualSpec(spec.virtual, 'virtual');
    if (spec.tools.length > 0) throw invalid('tools', 'a virtual server has no tools of its own: its members give them (virtual.members)');
    if (spec.prompts.length > 0) throw invalid('prompts', 'a virtual server has no prompts of its own: its members give them (virtual.members)');
  }
  const schemeIds = checkSecuritySchemes(spec.securitySchemes);
  const names = new Set<string>();
  spec.tools.forEach((tool, i) => checkTool(tool, i, schemeIds, names, options, warnings));
  checkPrompts(spec.prompts);
  return warnings;
}
