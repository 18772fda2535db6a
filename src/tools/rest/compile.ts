/**
 * A REST tool's template, compiled once per snapshot: every template parsed (the URL template a
 * second time with taint tracking), a static URL planned, where each argument goes decided, and
 * the names of headers checked. Calls only render what this holds.
 */
import { invalid } from '../../lib/errors.js';
import type { ArgPosition, Tool } from '../../model/model.js';
import { parse } from '../../template/index.js';
import type { RenderClient, Template, TrackedTemplate } from '../../template/index.js';
import { planUrl } from './url.js';
import type { UrlPlan } from './url.js';
import type { Json } from './wire.js';
import { RESERVED_REQUEST_HEADERS, TOKEN, isRecord } from './wire.js';

/** What a URL template's tracking render follows: text printed from `.args`; `urlquery` output counts as escaped. */
const URL_TAINT = { root: 'args', escapers: ['urlquery'] } as const;
const IDEMPOTENT: ReadonlySet<string> = new Set(['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS', 'TRACE']);

/** An argument of the input schema: its name, declared type and default. */
export interface ArgSpec {
  readonly name: string;
  readonly type: string | undefined;
  readonly default: unknown;
}

/** Where each argument goes in the backend request. */
export interface Placement {
  readonly path: ReadonlySet<string>;
  readonly query: readonly string[];
  readonly header: readonly string[];
  readonly cookie: readonly string[];
  readonly body: readonly string[];
  /** Arguments without a position (argsToUrlParam / argsToJsonBody / argsToFormBody). */
  readonly unplaced: readonly string[];
}

/** A template, or its text when it has no action (nothing to render). */
export type Renderable = { readonly template: Template; readonly text?: undefined } | { readonly template?: undefined; readonly text: string };

/** The URL template: its text when it has no action, or the template with its tracking render. */
export type UrlTemplate = { readonly template: TrackedTemplate; readonly text?: undefined } | { readonly template?: undefined; readonly text: string };

/** The templates that shape the backend's answer into the tool result. */
export interface CompiledResponse {
  readonly body: Template | undefined;
  readonly prepend: Renderable | undefined;
  readonly append: Renderable | undefined;
  readonly error: Template | undefined;
  /** The tool declares an output schema: a JSON object answer is also its structured content. */
  readonly hasOutputSchema: boolean;
}

/** A REST tool's template, compiled. */
export interface CompiledRestTemplate {
  readonly toolName: string;
  /** The input schema's arguments; undefined when the schema lists none (arguments pass as given). */
  readonly specs: readonly ArgSpec[] | undefined;
  readonly positions: Readonly<Record<string, ArgPosition>>;
  /** Where the schema's arguments go; undefined without specs (decided per call). */
  readonly placement: Placement | undefined;
  readonly subPathArgs: ReadonlySet<string>;
  /** No request: the response template renders the arguments alone (direct response). */
  readonly direct: boolean;
  readonly method: string;
  /** Whether a request may be sent again after it may have reached a backend. */
  readonly idempotent: boolean;
  readonly argsToUrlParam: boolean;
  readonly argsToJsonBody: boolean;
  readonly argsToFormBody: boolean;
  readonly url: UrlTemplate | undefined;
  /** The plan of a URL without actions, made once. */
  readonly staticPlan: UrlPlan | undefined;
  readonly headers: readonly { name: string; value: Renderable }[];
  readonly body: Renderable | undefined;
  readonly response: CompiledResponse;
}

/** Decides where each argument goes, by `argsPosition`. */
export function place(positions: Readonly<Record<string, ArgPosition>>, names: readonly string[]): Placement {
  const path = new Set<string>();
  const query: string[] = [];
  const header: string[] = [];
  const cookie: string[] = [];
  const body: string[] = [];
  const unplaced: string[] = [];
  for (const n of names) {
    switch (Object.hasOwn(positions, n) ? positions[n] : undefined) {
      case 'path': path.add(n); break;
      case 'query': query.push(n); break;
      case 'header': header.push(n); break;
      case 'cookie': cookie.push(n); break;
      case 'body': body.push(n); break;
      default: unplaced.push(n);
    }
  }
  return { path, query, header, cookie, body, unplaced };
}

/** The arguments that go in the URL path. */
export function pathArgNames(t: Pick<CompiledRestTemplate, 'placement' | 'positions'>): ReadonlySet<string> {
  if (t.placement) return t.placement.path;
  const { positions } = t;
  return new Set(Object.keys(positions).filter((n) => positions[n] === 'path'));
}

/** A renderable's text for one call; `client` is the agent's connection (for `getRealIP` / `getSocketIP`). */
export function render(r: Renderable, data: Json | undefined, client?: RenderClient): string {
  return r.text ?? r.template.render(data, client && { client });
}

/**
 * Compiles a REST tool's template. A `TemplateError` propagates (the caller refuses the tool);
 * a tool without a template, or with a header name it may not set, is a `VALIDATION_FAILED`.
 */
export function compileRestTemplate(tool: Tool): CompiledRestTemplate {
  const template = tool.template;
  if (!template) throw invalid(`tools.${tool.name}`, 'has no REST template');
  const positions = template.argsPosition;
  const properties = isRecord(tool.inputSchema['properties']) ? tool.inputSchema['properties'] : undefined;
  const specs = properties
    ? Object.keys(properties).map((name) => {
        const p = properties[name];
        const prop = isRecord(p) ? p : {};
        return { name, type: typeof prop['type'] === 'string' ? prop['type'] : undefined, default: prop['default'] };
      })
    : undefined;
  const placement = specs ? place(positions, specs.map((s) => s.name)) : undefined;
  for (const name of placement?.header ?? []) {
    if (!TOKEN.test(name) || RESERVED_REQUEST_HEADERS.has(name.toLowerCase())) {
      throw invalid(`tools.${tool.name}.args.${name}`, 'a header argument needs a name that is a valid, non hop-by-hop HTTP header name');
    }
  }

  const request = template.request;
  const direct = !request || request.url === '';
  const name = (field: string): { name: string } => ({ name: `${tool.name}.${field}` });
  const renderable = (source: string, field: string): Renderable => {
    const parsed = parse(source, name(field));
    return source.includes('{{') ? { template: parsed } : { text: source };
  };
  const method = request?.method.toUpperCase() ?? 'GET';
  let url: UrlTemplate | undefined;
  let staticPlan: UrlPlan | undefined;
  let headers: { name: string; value: Renderable }[] = [];
  let body: Renderable | undefined;
  if (request && !direct) {
    const urlTemplate = parse(request.url, { ...name('requestTemplate.url'), taint: URL_TAINT });
    url = request.url.includes('{{') ? { template: urlTemplate } : { text: request.url };
    if (url.text !== undefined) staticPlan = planUrl(url.text, pathArgNames({ placement, positions }));
    headers = request.headers.map((h, i) => {
      const lower = h.key.toLowerCase();
      if (!TOKEN.test(h.key) || RESERVED_REQUEST_HEADERS.has(lower)) {
        throw invalid(`tools.${tool.name}.requestTemplate.headers[${i}].key`, `${JSON.stringify(h.key)} is not a header a template may set`);
      }
      return { name: lower, value: renderable(h.value, `requestTemplate.headers[${i}].value`) };
    });
    body = request.body !== undefined && request.body !== '' ? renderable(request.body, 'requestTemplate.body') : undefined;
  }
  const r = template.response;
  const response: CompiledResponse = {
    body: r.body ? parse(r.body, name('responseTemplate.body')) : undefined,
    prepend: r.prependBody ? renderable(r.prependBody, 'responseTemplate.prependBody') : undefined,
    append: r.appendBody ? renderable(r.appendBody, 'responseTemplate.appendBody') : undefined,
    error: template.errorResponseTemplate ? parse(template.errorResponseTemplate, name('errorResponseTemplate')) : undefined,
    hasOutputSchema: tool.outputSchema !== undefined && Object.keys(tool.outputSchema).length > 0,
  };
  return {
    toolName: tool.name, specs, positions, placement, subPathArgs: new Set(template.subPathArgs ?? []), direct, method, idempotent: IDEMPOTENT.has(method),
    argsToUrlParam: request?.argsToUrlParam ?? false, argsToJsonBody: request?.argsToJsonBody ?? false, argsToFormBody: request?.argsToFormBody ?? false,
    url, staticPlan, headers, body, response,
  };
}
