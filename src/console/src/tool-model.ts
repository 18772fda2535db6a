/**
 * The tool editor's model, with no DOM: the input-schema form and its JSON, the editor state
 * and the `Tool` it saves, and where an API error's `field` points in the editor.
 */
import type { ArgPosition, RestSecurity, RestTemplate, Tool } from '../../model/model.js';
import { parseJsonAt } from './json-text.js';

export const ARG_TYPES = ['string', 'number', 'integer', 'boolean', 'array', 'object'] as const;
export type ArgType = (typeof ARG_TYPES)[number];
export const POSITIONS: readonly ArgPosition[] = ['path', 'query', 'header', 'cookie', 'body'];

/** One property of the input schema as the form edits it. */
export interface ArgRow {
  id: number;
  name: string;
  type: ArgType;
  /** For arrays: the items' type. */
  itemType: 'string' | 'number' | 'integer' | 'boolean';
  description: string;
  required: boolean;
  /** Comma-separated allowed values (string, number, integer). */
  enumText: string;
  /** The default as typed (parsed by type). */
  defaultText: string;
}

let nextId = 1;
export function newArg(partial: Partial<ArgRow> = {}): ArgRow {
  return { id: nextId++, name: '', type: 'string', itemType: 'string', description: '', required: false, enumText: '', defaultText: '', ...partial };
}

const TOP_KEYS = new Set(['type', 'properties', 'required', 'additionalProperties', '$schema', 'description', 'title']);
const PROP_KEYS = new Set(['type', 'description', 'enum', 'default', 'items', 'title']);

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Why the form cannot show this schema (undefined when it can). */
export function formLimitation(schema: unknown): string | undefined {
  if (!isRecord(schema)) return 'the schema is not a JSON object';
  if (schema.type !== 'object') return 'the schema\'s type is not "object"';
  for (const k of Object.keys(schema)) if (!TOP_KEYS.has(k)) return `it uses "${k}"`;
  if (schema.properties !== undefined && !isRecord(schema.properties)) return 'properties is not an object';
  if (schema.required !== undefined && !(Array.isArray(schema.required) && schema.required.every((r) => typeof r === 'string'))) return 'required is not a list of names';
  for (const [name, p] of Object.entries((schema.properties as Record<string, unknown> | undefined) ?? {})) {
    if (!isRecord(p)) return `property "${name}" is not an object`;
    for (const k of Object.keys(p)) if (!PROP_KEYS.has(k)) return `property "${name}" uses "${k}"`;
    if (typeof p.type !== 'string' || !(ARG_TYPES as readonly string[]).includes(p.type)) return `property "${name}" has no single simple type`;
    if (p.type === 'array') {
      const items = p.items;
      if (items !== undefined && !(isRecord(items) && Object.keys(items).length === 1 && ['string', 'number', 'integer', 'boolean'].includes(items.type as string))) {
        return `property "${name}" has items the form does not cover`;
      }
    } else if (p.items !== undefined) return `property "${name}" has items but is not an array`;
    if (p.enum !== undefined && !(Array.isArray(p.enum) && p.enum.every((e) => typeof e === 'string' || typeof e === 'number'))) return `property "${name}" has an enum the form does not cover`;
    if (p.enum !== undefined && Array.isArray(p.enum) && p.enum.some((e) => typeof e === 'string' && e.includes(','))) return `property "${name}" has an enum value with a comma`;
  }
  return undefined;
}

/** The form rows of a schema the form can show (check `formLimitation` first). */
export function schemaToRows(schema: Record<string, unknown>): ArgRow[] {
  const props = (schema.properties as Record<string, Record<string, unknown>> | undefined) ?? {};
  const required = new Set((schema.required as string[] | undefined) ?? []);
  return Object.entries(props).map(([name, p]) => newArg({
    name,
    type: p.type as ArgType,
    itemType: ((p.items as Record<string, unknown> | undefined)?.type as ArgRow['itemType'] | undefined) ?? 'string',
    description: typeof p.description === 'string' ? p.description : '',
    required: required.has(name),
    enumText: Array.isArray(p.enum) ? p.enum.map(String).join(', ') : '',
    defaultText: p.default === undefined ? '' : typeof p.default === 'string' ? p.default : JSON.stringify(p.default),
  }));
}

/** The top-level keys the form keeps but does not edit. */
export function schemaExtras(schema: Record<string, unknown>): Record<string, unknown> {
  const { type: _t, properties: _p, required: _r, ...rest } = schema;
  return rest;
}

function typedValue(text: string, type: ArgType | ArgRow['itemType']): unknown {
  switch (type) {
    case 'number':
    case 'integer': {
      const n = Number(text);
      return text.trim() !== '' && Number.isFinite(n) ? n : text;
    }
    case 'boolean':
      return text === 'true' ? true : text === 'false' ? false : text;
    case 'array':
    case 'object':
      try {
        return JSON.parse(text);
      } catch {
        return text;
      }
    default:
      return text;
  }
}

/** The JSON Schema the form rows describe. */
export function rowsToSchema(rows: ArgRow[], extras: Record<string, unknown> = {}): Record<string, unknown> {
  const properties: Record<string, unknown> = {};
  const required: string[] = [];
  for (const r of rows) {
    const name = r.name.trim();
    if (!name) continue;
    const p: Record<string, unknown> = { type: r.type };
    if (r.type === 'array') p.items = { type: r.itemType };
    if (r.description) p.description = r.description;
    if (r.enumText.trim() && (r.type === 'string' || r.type === 'number' || r.type === 'integer')) {
      p.enum = r.enumText.split(',').map((s) => s.trim()).filter((s) => s !== '').map((s) => typedValue(s, r.type));
    }
    if (r.defaultText !== '') p.default = typedValue(r.defaultText, r.type);
    properties[name] = p;
    if (r.required) required.push(name);
  }
  return { ...extras, type: 'object', properties, ...(required.length ? { required } : {}) };
}

/** Property names and simple types of a schema (for positions and the Try-it form). */
export function schemaProperties(schema: unknown): { name: string; schema: Record<string, unknown>; required: boolean }[] {
  if (!isRecord(schema) || !isRecord(schema.properties)) return [];
  const required = new Set(Array.isArray(schema.required) ? schema.required.filter((r): r is string => typeof r === 'string') : []);
  return Object.entries(schema.properties).map(([name, p]) => ({ name, schema: isRecord(p) ? p : {}, required: required.has(name) }));
}

// ------------------------------------------------------------ the editor state

export type ArgsTo = 'none' | 'url' | 'json' | 'form';
export type ResponseMode = 'raw' | 'body' | 'wrap';

export interface ToolDraft {
  name: string;
  title: string;
  description: string;
  enabled: boolean;
  schemaMode: 'form' | 'json';
  rows: ArgRow[];
  /** Top-level schema keys the form keeps ($schema, additionalProperties...). */
  extras: Record<string, unknown>;
  schemaText: string;
  positions: Record<string, ArgPosition | ''>;
  direct: boolean;
  method: string;
  url: string;
  headers: { key: string; value: string }[];
  argsTo: ArgsTo;
  body: string;
  /** Scheme of the backend's credential ('' for none). */
  securityId: string;
  /** Scheme the agent's credential is taken by ('' for none; with passthrough alone, the backend's). */
  securityClientId: string;
  securityPassthrough: boolean;
  /** The backend's credential ('' for the scheme's default). */
  securityCredential: string;
  responseMode: ResponseMode;
  responseBody: string;
  prependBody: string;
  appendBody: string;
  errorTemplate: string;
  outputSchemaText: string;
  timeoutMs: string;
  /** Fields of the tool the editor does not show (annotations...), kept as they were. */
  rest: Record<string, unknown>;
}

/** The draft's credentials in the model's form (see `RestSecurity`). */
function securityOf(d: ToolDraft): { security?: RestSecurity } {
  const backend = d.securityId;
  const client = d.securityClientId;
  if (backend === '') {
    if (client === '') return {};
    return { security: d.securityPassthrough ? { id: client, passthrough: true } : { id: client, clientId: client, upstream: false } };
  }
  const security: RestSecurity = { id: backend };
  if (d.securityCredential !== '') security.credential = d.securityCredential;
  if (d.securityPassthrough) security.passthrough = true;
  if (client !== '' && (client !== backend || !d.securityPassthrough)) security.clientId = client;
  return { security };
}

export function emptyDraft(): ToolDraft {
  return {
    name: '', title: '', description: '', enabled: true, schemaMode: 'form', rows: [], extras: {}, schemaText: '{\n  "type": "object",\n  "properties": {}\n}',
    positions: {}, direct: false, method: 'GET', url: '', headers: [], argsTo: 'none', body: '', securityId: '', securityClientId: '', securityPassthrough: false, securityCredential: '',
    responseMode: 'raw', responseBody: '', prependBody: '', appendBody: '', errorTemplate: '', outputSchemaText: '', timeoutMs: '', rest: {},
  };
}

export function draftFromTool(t: Tool): ToolDraft {
  const { name, title, description, enabled, inputSchema, outputSchema, template, ...rest } = t;
  const d = emptyDraft();
  d.name = name;
  d.title = title ?? '';
  d.description = description;
  d.enabled = enabled;
  d.rest = rest;
  d.schemaText = JSON.stringify(inputSchema, null, 2);
  if (formLimitation(inputSchema) === undefined) {
    d.rows = schemaToRows(inputSchema);
    d.extras = schemaExtras(inputSchema);
  } else d.schemaMode = 'json';
  d.outputSchemaText = outputSchema ? JSON.stringify(outputSchema, null, 2) : '';
  if (template) {
    d.positions = { ...template.argsPosition };
    d.timeoutMs = template.timeoutMs !== undefined ? String(template.timeoutMs) : '';
    const r = template.request;
    if (r) {
      d.method = r.method;
      d.url = r.url;
      d.headers = r.headers.map((h) => ({ ...h }));
      d.argsTo = r.argsToUrlParam ? 'url' : r.argsToJsonBody ? 'json' : r.argsToFormBody ? 'form' : 'none';
      d.body = r.body ?? '';
      const sec = r.security;
      d.securityId = sec && sec.upstream !== false ? sec.id : '';
      d.securityClientId = sec?.clientId ?? (sec?.passthrough ? sec.id : '');
      d.securityPassthrough = sec?.passthrough ?? false;
      d.securityCredential = sec?.credential ?? '';
    } else d.direct = true;
    const resp = template.response;
    if (resp.body !== undefined) {
      d.responseMode = 'body';
      d.responseBody = resp.body;
    } else if (resp.prependBody !== undefined || resp.appendBody !== undefined) {
      d.responseMode = 'wrap';
      d.prependBody = resp.prependBody ?? '';
      d.appendBody = resp.appendBody ?? '';
    }
    d.errorTemplate = template.errorResponseTemplate ?? '';
  }
  return d;
}

/** Parse JSON text, answering the problem with line and column. */
export function parseJsonText(text: string): { ok: true; value: unknown } | { ok: false; message: string } {
  const p = parseJsonAt(text);
  if (p.ok) return p;
  return { ok: false, message: p.line === undefined ? p.message : `not valid JSON: line ${p.line}, column ${p.column}: ${p.detail}` };
}

/** The input schema the draft describes, or the JSON problem. */
export function draftSchema(d: ToolDraft): { ok: true; value: Record<string, unknown> } | { ok: false; message: string } {
  if (d.schemaMode === 'form') return { ok: true, value: rowsToSchema(d.rows, d.extras) };
  const p = parseJsonText(d.schemaText);
  if (!p.ok) return p;
  if (!isRecord(p.value)) return { ok: false, message: 'the input schema must be a JSON object' };
  return { ok: true, value: p.value };
}

/** Build the tool the draft describes; `problems` holds what must be fixed before it can be sent (by editor field). */
/** The tool a draft describes; `upstream`: a tool of an upstream MCP server (no template: calls go to the upstream). */
export function buildTool(d: ToolDraft, upstream = false): { tool: Tool | undefined; problems: Record<string, string> } {
  const problems: Record<string, string> = {};
  const schema = draftSchema(d);
  if (!schema.ok) problems.inputSchema = schema.message;
  if (d.schemaMode === 'form') {
    const seen = new Set<string>();
    for (const r of d.rows) {
      const n = r.name.trim();
      if (!n) problems[`arg-${r.id}`] = 'an argument needs a name';
      else if (seen.has(n)) problems[`arg-${r.id}`] = `duplicate argument "${n}"`;
      seen.add(n);
    }
  }
  let outputSchema: Record<string, unknown> | undefined;
  if (d.outputSchemaText.trim() !== '') {
    const p = parseJsonText(d.outputSchemaText);
    if (!p.ok) problems.outputSchema = p.message;
    else if (!isRecord(p.value)) problems.outputSchema = 'the output schema must be a JSON object';
    else outputSchema = p.value;
  }
  if (!d.name.trim()) problems.name = 'a tool needs a name';
  if (d.timeoutMs.trim() !== '' && !(Number.isInteger(Number(d.timeoutMs)) && Number(d.timeoutMs) > 0)) problems.timeoutMs = 'a positive whole number of milliseconds';
  if (!schema.ok || Object.keys(problems).length > 0) return { tool: undefined, problems };

  const names = new Set(schemaProperties(schema.value).map((p) => p.name));
  const argsPosition: Record<string, ArgPosition> = {};
  for (const [n, pos] of Object.entries(d.positions)) if (pos && names.has(n)) argsPosition[n] = pos;
  const response: RestTemplate['response'] = {};
  if (d.responseMode === 'body') response.body = d.responseBody;
  if (d.responseMode === 'wrap') {
    if (d.prependBody !== '') response.prependBody = d.prependBody;
    if (d.appendBody !== '') response.appendBody = d.appendBody;
  }
  const template: RestTemplate = {
    request: d.direct
      ? null
      : {
          method: d.method.trim().toUpperCase(), url: d.url.trim(), headers: d.headers.filter((h) => h.key.trim() !== '' || h.value !== '').map((h) => ({ key: h.key.trim(), value: h.value })),
          ...(d.body !== '' ? { body: d.body } : {}),
          argsToUrlParam: d.argsTo === 'url', argsToJsonBody: d.argsTo === 'json', argsToFormBody: d.argsTo === 'form',
          ...securityOf(d),
        },
    response,
    ...(d.errorTemplate !== '' ? { errorResponseTemplate: d.errorTemplate } : {}),
    argsPosition,
    ...(d.timeoutMs.trim() !== '' ? { timeoutMs: Number(d.timeoutMs) } : {}),
  };
  const tool: Tool = {
    ...(d.rest as Partial<Tool>),
    name: d.name.trim(),
    ...(d.title.trim() ? { title: d.title.trim() } : {}),
    description: d.description,
    inputSchema: schema.value,
    ...(outputSchema ? { outputSchema } : {}),
    enabled: d.enabled,
    template: upstream ? null : template,
  };
  return { tool, problems };
}

/** The tools/list entry an agent sees for a tool (what the gateway lists). */
export function listEntry(t: Tool): Record<string, unknown> {
  return {
    name: t.name, ...(t.title ? { title: t.title } : {}), description: t.description, inputSchema: t.inputSchema,
    ...(t.outputSchema ? { outputSchema: t.outputSchema } : {}), ...(t.annotations ? { annotations: t.annotations } : {}),
  };
}

/** Where an API error's field points in the editor: an editor field key, and the position inside a template. */
export interface FieldTarget {
  key: string;
  line?: number;
  column?: number;
  detail: string;
}

/**
 * Map an API error (`field` such as `tools[0](get).requestTemplate.body` or
 * `tools[0](get).inputSchema/properties/x/type`) to the editor field it is about.
 */
export function fieldTarget(field: string | undefined, message: string): FieldTarget {
  const pos = /line (\d+), column (\d+): (.*)$/s.exec(message);
  const detail = pos ? (pos[3] as string) : message.replace(/^[^:]*: /, '');
  const at = pos ? { line: Number(pos[1]), column: Number(pos[2]) } : {};
  if (!field) return { key: 'general', detail: message };
  const rest = field.replace(/^definition\./, '').replace(/^tools\[\d+\](\([^)]*\))?\.?/, '');
  const key = (() => {
    if (rest === 'name' || field === 'definition.name') return 'name';
    if (rest.startsWith('inputSchema')) return 'inputSchema';
    if (rest.startsWith('outputSchema')) return 'outputSchema';
    if (rest === 'description' || rest === 'title' || rest === 'enabled' || rest === 'timeoutMs') return rest;
    if (rest === 'requestTemplate.url') return 'url';
    if (rest === 'requestTemplate.method') return 'method';
    if (rest === 'requestTemplate.body') return 'body';
    if (rest === 'requestTemplate') return 'argsTo';
    if (rest.startsWith('requestTemplate.security')) return 'security';
    const h = /^requestTemplate\.headers\[(\d+)\]/.exec(rest);
    if (h) return `header-${h[1]}`;
    if (rest === 'responseTemplate.body') return 'responseBody';
    if (rest === 'responseTemplate.prependBody') return 'prependBody';
    if (rest === 'responseTemplate.appendBody') return 'appendBody';
    if (rest === 'responseTemplate') return 'responseMode';
    if (rest === 'errorResponseTemplate') return 'errorTemplate';
    const p = /^argsPosition\.(.+)$/.exec(rest);
    if (p) return `position-${p[1]}`;
    const a = /^arguments\.(.+)$/.exec(field);
    if (a) return `try-${a[1]}`;
    return 'general';
  })();
  const where = key === 'inputSchema' || key === 'outputSchema' ? `${rest.replace(/^(input|output)Schema\/?/, '') || 'schema'}: ` : '';
  return { key, detail: key === 'general' ? message : `${where}${detail}`, ...at };
}
