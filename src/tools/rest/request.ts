/**
 * The backend request of a REST tool call: arguments collected (defaults, Higress's coercion),
 * the URL rendered and planned (url.ts), each argument placed (path, query, header, cookie,
 * body, argsTo*), the templates' headers and body rendered, and the credentials added.
 */
import type { OutputPiece, RenderClient, TrackedTemplate } from '../../template/index.js';
import type { ArgumentHostAccess } from '../address-guard.js';
import { ToolError } from '../errors.js';
import type { ClientHeaders } from '../executor.js';
import type { CompiledRestTemplate, Placement } from './compile.js';
import { pathArgNames, place, render } from './compile.js';
import type { RestCredentials } from './credentials.js';
import { checkScheme, encodeQuery, hostAllowed, joinOrigin, joinPath, joinQuery, parseQuery, planUrl, printedPieces, skeletonKey } from './url.js';
import type { ArgumentHost, QueryValues, UrlPlan } from './url.js';
import type { Headers, Json } from './wire.js';
import { argToString, cookieValue, hasControl, setOwn, tryJson, wireValue } from './wire.js';

const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';
const FORM_CONTENT_TYPE = 'application/x-www-form-urlencoded';
const INTEGER = /^[+-]?\d+$/;
const NONE_PRINTED: readonly OutputPiece[] = [];

/** A backend request ready to send to any target. */
export interface BuiltRequest {
  /** Absolute URL's origin, or undefined to use the upstream. */
  readonly origin: string | undefined;
  readonly pathAndQuery: string;
  readonly headers: Headers;
  readonly body: string | undefined;
  /** Set when arguments chose the origin's host: what to check before and while connecting. */
  readonly argumentHost: ArgumentHost | undefined;
}

/** A request-side template rendered something that cannot be sent. */
export class RenderFault extends Error {
  override readonly name = 'RenderFault';
}

/** Higress's coercion of a string argument to its declared type; other values pass unchanged. */
function coerce(value: unknown, type: string | undefined): unknown {
  switch (type) {
    case 'boolean':
      return value === 'true' ? true : value === 'false' ? false : value;
    case 'integer':
      if (typeof value === 'number') return Number.isFinite(value) ? Math.trunc(value) : value;
      if (typeof value === 'string' && INTEGER.test(value)) return Number(value);
      return value;
    case 'number':
      if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
      return value;
    default:
      return value;
  }
}

function pick(args: Record<string, unknown>, names: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const n of names) {
    const v = args[n];
    if (v !== undefined) setOwn(out, n, v);
  }
  return out;
}

function formValues(args: Record<string, unknown>, names: readonly string[]): QueryValues {
  const values: QueryValues = new Map();
  for (const n of names) {
    const v = args[n];
    if (v !== undefined) values.set(n, [argToString(v)]);
  }
  return values;
}

/** Builds the backend requests of one REST tool (URL plans are remembered across calls). */
export class RestRequest {
  private urlMemo: { source: string; plan: UrlPlan } | undefined;
  /** The plan of the last render that printed arguments, by its skeleton (the values differ per call). */
  private skeletonMemo: { key: string; plan: UrlPlan } | undefined;

  constructor(
    private readonly t: CompiledRestTemplate,
    private readonly credentials: RestCredentials,
    /** How hosts that arguments choose are checked; without it such hosts are refused. */
    private readonly argumentHosts: ArgumentHostAccess | undefined,
    /** The server's `allowedArgumentHosts`. */
    private readonly allowedArgumentHosts: readonly string[],
  ) {}

  /** The call's arguments as the templates see them: the schema's, with defaults and coercion. */
  collectArgs(input: Record<string, unknown>): Record<string, unknown> {
    const specs = this.t.specs;
    if (!specs) return input;
    const args: Record<string, unknown> = {};
    for (const spec of specs) {
      const raw = Object.hasOwn(input, spec.name) ? input[spec.name] : undefined;
      if (raw === undefined) {
        if (spec.default !== undefined) setOwn(args, spec.name, spec.default);
        continue;
      }
      setOwn(args, spec.name, spec.type === undefined || spec.type === 'string' ? raw : coerce(raw, spec.type));
    }
    return args;
  }

  /**
   * A host arguments chose: the allow-list when a value spans labels, then its addresses
   * (IP literals in any spelling, DNS answers) under the server's policy. Throws an
   * INVALID_ARGUMENT ToolError naming the arguments.
   */
  async checkArgumentHost(origin: string, host: ArgumentHost): Promise<void> {
    let url: URL;
    try {
      url = new URL(origin);
    } catch {
      throw host.refuse(`the URL host is not valid (${origin})`);
    }
    const hostname = url.hostname;
    if (host.needsAllowList && !hostAllowed(hostname, this.allowedArgumentHosts)) {
      throw host.refuse(`a value in the URL host may fill part of one label (${host.pattern()}); ${hostname} is not in the server's allowedArgumentHosts`);
    }
    if (!this.argumentHosts) throw host.refuse('this gateway does not call hosts chosen by arguments here');
    const port = Number(url.port) || (url.protocol === 'https:' ? 443 : 80);
    const verdict = await this.argumentHosts.check(hostname, port);
    if (verdict !== undefined) {
      throw host.refuse(`the URL host ${hostname} ${verdict}; hosts chosen by arguments may not be loopback, private, link-local or the gateway's own addresses unless the server allows them`);
    }
  }

  /**
   * The URL's plan and the pieces it printed from arguments: a static plan; a render that printed
   * nothing from arguments, planned once per distinct text; or one that did, planned once per
   * skeleton (its values never delimit the URL, so they do not change the plan).
   */
  private planFor(data: Json, client: RenderClient | undefined): { plan: UrlPlan; printed: readonly OutputPiece[] } {
    if (this.t.staticPlan) return { plan: this.t.staticPlan, printed: NONE_PRINTED };
    const rendered = (this.t.url?.template as TrackedTemplate).renderTracked(data, client && { client });
    const pathArgs = pathArgNames(this.t);
    if (rendered.pieces.length > 1 || rendered.pieces[0]?.taint !== undefined) {
      const key = skeletonKey(rendered);
      const memo = this.skeletonMemo;
      if (memo && memo.key === key) {
        checkScheme(rendered);
        return { plan: memo.plan, printed: printedPieces(rendered) };
      }
      const plan = planUrl(rendered, pathArgs);
      this.skeletonMemo = { key, plan };
      return { plan, printed: printedPieces(rendered) };
    }
    const source = rendered.text;
    const memo = this.urlMemo;
    if (memo && memo.source === source) return { plan: memo.plan, printed: NONE_PRINTED };
    const plan = planUrl(source, pathArgs);
    this.urlMemo = { source, plan };
    return { plan, printed: NONE_PRINTED };
  }

  /**
   * The backend request of a call. A template that renders what cannot be sent is a
   * `RenderFault`; an argument value that cannot be placed, an INVALID_ARGUMENT ToolError.
   */
  build(args: Record<string, unknown>, data: Json, client: ClientHeaders, credential: string | undefined, connection?: RenderClient): BuiltRequest {
    const t = this.t;
    const placement = t.placement ?? place(t.positions, Object.keys(args));
    const { plan, printed } = this.planFor(data, connection);
    const values = { args, printed, toText: argToString, subPathArgs: t.subPathArgs };
    const placed = plan.origin ? joinOrigin(plan.origin, values) : undefined;
    const origin = placed?.origin;
    let path = joinPath(plan.path, values);

    let query: QueryValues | undefined = plan.query ? parseQuery(joinQuery(plan.query, values)) : undefined;
    for (const name of placement.query) {
      const v = args[name];
      if (v !== undefined) (query ??= new Map()).set(name, [argToString(v)]);
    }
    if (t.argsToUrlParam) {
      for (const name of placement.unplaced) {
        const v = args[name];
        if (v !== undefined) (query ??= new Map()).set(name, [argToString(v)]);
      }
    }

    const headers: Headers = Object.create(null) as Headers;
    for (const h of t.headers) {
      const value = render(h.value, data, connection);
      if (hasControl(value)) throw new RenderFault(`header ${h.name} of tool ${t.toolName} renders a value with control characters`);
      headers[h.name] = wireValue(value);
    }
    for (const name of placement.header) {
      const v = args[name];
      if (v === undefined) continue;
      const value = argToString(v);
      if (hasControl(value)) throw new ToolError('INVALID_ARGUMENT', `argument '${name}': a header value may not contain control characters`);
      headers[name.toLowerCase()] = wireValue(value);
    }
    const cookies: string[] = [];
    const templateCookie = headers['cookie'];
    if (typeof templateCookie === 'string' && templateCookie !== '') cookies.push(templateCookie);
    for (const name of placement.cookie) {
      const v = args[name];
      if (v !== undefined) cookies.push(`${name}=${cookieValue(argToString(v))}`);
    }

    const body = this.buildBody(placement, args, data, headers, connection);
    if (headers['accept'] === undefined) headers['accept'] = '*/*';

    query = this.credentials.addTo(client, credential, headers, cookies, query);
    if (cookies.length > 0) headers['cookie'] = cookies.join('; ');
    else delete headers['cookie'];

    if (origin === undefined && !path.startsWith('/')) path = `/${path}`;
    if (origin !== undefined && path === '') path = '/';
    const qs = query ? encodeQuery(query) : '';
    return { origin, pathAndQuery: qs === '' ? path : `${path}?${qs}`, headers, body, argumentHost: placed?.argumentHost };
  }

  private buildBody(placement: Placement, args: Record<string, unknown>, data: Json, headers: Headers, connection: RenderClient | undefined): string | undefined {
    const t = this.t;
    const ct = typeof headers['content-type'] === 'string' ? headers['content-type'].toLowerCase() : '';
    const hasJson = ct.includes('application/json');
    const hasForm = ct.includes('application/x-www-form-urlencoded');
    if (t.body) {
      const body = render(t.body, data, connection);
      if (!hasJson) {
        const trimmed = body.trim();
        const first = trimmed[0];
        const last = trimmed[trimmed.length - 1];
        if (((first === '{' && last === '}') || (first === '[' && last === ']')) && tryJson(trimmed).ok) headers['content-type'] = JSON_CONTENT_TYPE;
      }
      return body;
    }
    if (t.argsToJsonBody || t.argsToFormBody) {
      const names = placement.body.length === 0 ? placement.unplaced : [...placement.body, ...placement.unplaced];
      if (t.argsToJsonBody) {
        if (!hasJson) headers['content-type'] = JSON_CONTENT_TYPE;
        return JSON.stringify(pick(args, names));
      }
      if (!hasForm) headers['content-type'] = FORM_CONTENT_TYPE;
      return encodeQuery(formValues(args, names));
    }
    if (placement.body.length === 0 || !placement.body.some((n) => args[n] !== undefined)) return undefined;
    if (hasForm) return encodeQuery(formValues(args, placement.body));
    if (!hasJson) headers['content-type'] = JSON_CONTENT_TYPE;
    return JSON.stringify(pick(args, placement.body));
  }
}
