/**
 * The REST executor: runs a Higress/Nacos REST-to-MCP tool (COMPAT.md §3). Every template is
 * parsed when the executor is built; a call renders them, places the arguments (path, query,
 * header, cookie, body, argsTo*), adds allow-listed client credentials and the security
 * scheme's credential, calls the backend through the shared undici dispatcher with failover
 * across instances, and shapes the answer into an MCP tool result.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Dispatcher } from 'undici';
import { invalid } from '../../lib/errors.js';
import { CONSUMER_KEY_PREFIX } from '../../model/consumer-key.js';
import type { ArgPosition, CredentialPassthrough, McpServerSpec, RestSecurity, SecurityScheme, Tool } from '../../model/model.js';
import { DEFAULT_MAX_OUTPUT_BYTES, parse, TemplateError } from '../../template/index.js';
import type { JsonValue, OutputPiece, Template, TrackedTemplate } from '../../template/index.js';
import { ToolError } from '../errors.js';
import type { CallCancellation, CallToolResult, ClientHeaders, ContentBlock, ToolCallRequest, ToolExecutor, Upstream, UpstreamTarget } from '../executor.js';
import { AddressGuard } from '../address-guard.js';
import type { ArgumentHostAccess } from '../address-guard.js';
import { checkScheme, encodeQuery, hostAllowed, joinOrigin, joinPath, joinQuery, parseQuery, planUrl, printedPieces, skeletonKey, wellFormed } from './url.js';
import type { ArgumentHost, QueryValues, UrlPlan } from './url.js';

/** Per-call timeout when the tool sets none. */
export const DEFAULT_TIMEOUT_MS = 30_000;
/** Text of a result is cut at this many UTF-8 bytes (a marker tells how much was left out). */
export const DEFAULT_MAX_TEXT_BYTES = 64 * 1024;
/** A backend answer larger than this is not read (isError). */
export const DEFAULT_MAX_RESPONSE_BYTES = 16 * 1024 * 1024;
/** An image or audio answer larger than this is not passed on (isError): base64 makes it a third larger, per client. */
export const DEFAULT_MAX_MEDIA_BYTES = 1024 * 1024;
/** What a URL template's tracking render follows: text printed from `.args`; `urlquery` output counts as escaped. */
const URL_TAINT = { root: 'args', escapers: ['urlquery'] } as const;

/** What `createRestExecutor` needs: the tool, its server's settings, and where to send requests. */
export interface RestExecutorOptions {
  tool: Tool;
  serverName: string;
  spec: Pick<McpServerSpec, 'config' | 'securitySchemes'>;
  passthrough: CredentialPassthrough;
  upstream: Upstream | undefined;
  dispatcher: Dispatcher;
  /** Default 30 000 ms; the tool's `timeoutMs` wins. */
  defaultTimeoutMs?: number | undefined;
  /** Allow requests to link-local and cloud-metadata addresses (off by default). */
  allowMetadataAddresses?: boolean | undefined;
  /**
   * How hosts that arguments choose (a URL template whose host has an argument in it) are
   * checked and connected to, under the server's policy; without it such hosts are refused.
   */
  argumentHosts?: ArgumentHostAccess | undefined;
  /** Default 64 KiB. */
  maxTextBytes?: number | undefined;
  /** Default 16 MiB. */
  maxResponseBytes?: number | undefined;
  /** Image and audio answers over this many bytes are refused (isError); default 1 MiB. */
  maxMediaBytes?: number | undefined;
}

const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';
const FORM_CONTENT_TYPE = 'application/x-www-form-urlencoded';
const IDEMPOTENT: ReadonlySet<string> = new Set(['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS', 'TRACE']);
/** Errors raised before anything reached the backend: another instance may take any request. */
const NOT_SENT: ReadonlySet<string> = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT', 'EADDRNOTAVAIL']);
/** Never forwarded from the agent's request, whatever the allow-list says. */
const NEVER_FORWARDED: ReadonlySet<string> = new Set([
  'connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection', 'te', 'trailer', 'trailers',
  'transfer-encoding', 'upgrade', 'host', 'content-length', 'expect', 'x-api-key', 'http2-settings',
]);
/** Headers undici refuses or manages itself; template and argument headers may not set them. */
const RESERVED_REQUEST_HEADERS: ReadonlySet<string> = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'content-length', 'expect', 'te', 'trailer']);
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const NON_ASCII = /[\u0080-\uffff]/;
const COOKIE_UNSAFE = /[^\u0021\u0023-\u002b\u002d-\u003a\u003c-\u005b\u005d-\u007e]/;
const COOKIE_UNSAFE_ALL = /[^\u0021\u0023-\u002b\u002d-\u003a\u003c-\u005b\u005d-\u007e]/gu;
const JSON_START = /^\s*[[{"\-0-9tfn]/;
const BEARER = /^bearer\s+/i;
const BASIC = /^basic\s+/i;
const INTEGER = /^[+-]?\d+$/;

const guard = new AddressGuard();
const NONE_PRINTED: readonly OutputPiece[] = [];

type Json = JsonValue;
type Headers = Record<string, string | string[]>;

interface ArgSpec {
  readonly name: string;
  readonly type: string | undefined;
  readonly default: unknown;
}

interface Placement {
  readonly path: ReadonlySet<string>;
  readonly query: readonly string[];
  readonly header: readonly string[];
  readonly cookie: readonly string[];
  readonly body: readonly string[];
  /** Arguments without a position (argsToUrlParam / argsToJsonBody / argsToFormBody). */
  readonly unplaced: readonly string[];
}

/** A template, or its text when it has no action (nothing to render). */
type Renderable = { readonly template: Template; readonly text?: undefined } | { readonly template?: undefined; readonly text: string };

/** The URL template: its text when it has no action, or the template with its tracking render. */
type UrlTemplate = { readonly template: TrackedTemplate; readonly text?: undefined } | { readonly template?: undefined; readonly text: string };

/** A security scheme with where its credential travels in a request. */
interface CompiledScheme {
  readonly scheme: SecurityScheme;
  /** Lower-case header name (http schemes: authorization). */
  readonly header: string | undefined;
  readonly cookie: string | undefined;
  /** Query parameter name (apiKey schemes `in: query`). */
  readonly query: string | undefined;
}

interface CompiledSecurity {
  /** The scheme the agent's credential is taken by, and so never forwarded otherwise; none when no credential is taken. */
  readonly client: CompiledScheme | undefined;
  /** The scheme the backend's credential goes by; none when the backend gets no credential. */
  readonly upstream: CompiledScheme | undefined;
  /** The agent's credential is forwarded (by the upstream scheme). */
  readonly passthrough: boolean;
  /** The backend's credential when none is passed through. */
  readonly configured: string | undefined;
}

interface BaseParts {
  readonly origin: string;
  readonly basePath: string;
  readonly hostname: string;
}

/** A backend request ready to send to any target. */
interface BuiltRequest {
  /** Absolute URL's origin, or undefined to use the upstream. */
  readonly origin: string | undefined;
  readonly pathAndQuery: string;
  readonly headers: Headers;
  readonly body: string | undefined;
  /** Set when arguments chose the origin's host: what to check before and while connecting. */
  readonly argumentHost: ArgumentHost | undefined;
}

function text(message: string, isError = false): CallToolResult {
  return isError ? { content: [{ type: 'text', text: message }], isError: true } : { content: [{ type: 'text', text: message }] };
}

function argToString(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return value;
    case 'number':
    case 'boolean':
      return String(value);
    default:
      return JSON.stringify(value) ?? '';
  }
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

function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** True when a header value holds a control character other than tab (CR and LF would split the header). */
function hasControl(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09) || c === 0x7f) return true;
  }
  return false;
}

function firstHeader(headers: ClientHeaders, name: string): string | undefined {
  const v = headers[name];
  return typeof v === 'string' ? v : v?.[0];
}

function isGatewayKey(value: string): boolean {
  const space = value.indexOf(' ');
  return value.slice(space + 1).trim().startsWith(CONSUMER_KEY_PREFIX);
}

/** A header value as undici sends it: UTF-8 bytes carried in a latin1 string (what Envoy sends for Higress). */
function wireValue(value: string): string {
  return NON_ASCII.test(value) ? Buffer.from(value, 'utf8').toString('latin1') : value;
}

function cookieValue(value: string): string {
  return COOKIE_UNSAFE.test(value) ? wellFormed(value).replace(COOKIE_UNSAFE_ALL, (c) => encodeURIComponent(c)) : value;
}

function cookiesOf(headers: ClientHeaders): string[] {
  const raw = headers['cookie'];
  if (raw === undefined) return [];
  const joined = typeof raw === 'string' ? raw : raw.join('; ');
  const out: string[] = [];
  for (const part of joined.split(';')) {
    const c = part.trim();
    if (c !== '') out.push(c);
  }
  return out;
}

/** Header names the agent's `Connection` header marks hop-by-hop (RFC 9110 §7.6.1). */
function connectionTokens(headers: ClientHeaders): Set<string> | undefined {
  const v = headers['connection'];
  if (v === undefined) return undefined;
  const joined = typeof v === 'string' ? v : v.join(',');
  if (joined === 'keep-alive' || joined === 'close') return undefined;
  return new Set(joined.split(',').map((t) => t.trim().toLowerCase()));
}

function cookieName(cookie: string): string {
  const eq = cookie.indexOf('=');
  return (eq < 0 ? cookie : cookie.slice(0, eq)).trim();
}

function tryJson(body: string): { ok: true; value: Json } | { ok: false } {
  if (!JSON_START.test(body)) return { ok: false };
  try {
    return { ok: true, value: JSON.parse(body) as Json };
  } catch {
    return { ok: false };
  }
}

/** Cuts a text at `max` UTF-8 bytes on a character boundary, saying how much was left out. */
export function capText(value: string, max: number): string {
  if (value.length * 3 <= max) return value;
  const bytes = Buffer.byteLength(value);
  if (bytes <= max) return value;
  const buf = Buffer.from(value);
  let cut = max;
  while (cut > 0 && ((buf[cut] as number) & 0xc0) === 0x80) cut--;
  return `${buf.subarray(0, cut).toString('utf8')}\n… [truncated: ${bytes - cut} more bytes]`;
}

function errorCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') return code;
  const cause = (err as { cause?: unknown }).cause;
  return cause !== undefined && cause !== err ? errorCode(cause) : undefined;
}

const baseParts = new Map<string, BaseParts | string>();

/** Splits an upstream base URL (cached): origin for undici, the path prefix, the host to check. */
function splitBase(baseUrl: string): BaseParts | string {
  let parts = baseParts.get(baseUrl);
  if (parts !== undefined) return parts;
  try {
    const url = new URL(baseUrl);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') parts = `unsupported URL scheme ${url.protocol}`;
    else if (url.username !== '' || url.password !== '') parts = 'a backend URL may not carry credentials';
    else parts = { origin: url.origin, basePath: url.pathname === '/' ? '' : url.pathname.replace(/\/+$/, ''), hostname: url.hostname };
  } catch {
    parts = 'not a valid URL';
  }
  if (baseParts.size >= 4096) baseParts.clear();
  baseParts.set(baseUrl, parts);
  return parts;
}

class RestExecutor implements ToolExecutor {
  private readonly toolName: string;
  private readonly config: Json;
  private readonly specs: readonly ArgSpec[] | undefined;
  private readonly positions: Readonly<Record<string, ArgPosition>>;
  private readonly placement: Placement | undefined;
  private readonly direct: boolean;
  private readonly method: string;
  private readonly idempotent: boolean;
  private readonly url: UrlTemplate | undefined;
  private urlMemo: { source: string; plan: UrlPlan } | undefined;
  /** The plan of the last render that printed arguments, by its skeleton (the values differ per call). */
  private skeletonMemo: { key: string; plan: UrlPlan } | undefined;
  private readonly staticPlan: UrlPlan | undefined;
  private readonly headerTemplates: readonly { name: string; value: Renderable }[];
  private readonly body: Renderable | undefined;
  private readonly argsToUrlParam: boolean;
  private readonly argsToJsonBody: boolean;
  private readonly argsToFormBody: boolean;
  private readonly responseBody: Template | undefined;
  private readonly prepend: Renderable | undefined;
  private readonly append: Renderable | undefined;
  private readonly errorTemplate: Template | undefined;
  private readonly hasOutputSchema: boolean;
  private readonly security: CompiledSecurity | undefined;
  private readonly passHeaders: readonly string[];
  private readonly passCookies: ReadonlySet<string>;
  private readonly passAllCookies: boolean;
  private readonly timeoutMs: number;
  private readonly maxText: number;
  private readonly maxResponse: number;
  private readonly maxMedia: number;
  private readonly checkAddresses: boolean;
  private readonly argumentHosts: ArgumentHostAccess | undefined;
  private readonly allowedArgumentHosts: readonly string[];
  private readonly subPathArgs: ReadonlySet<string>;
  private readonly upstream: Upstream | undefined;
  private readonly dispatcher: Dispatcher;

  constructor(opts: RestExecutorOptions) {
    const { tool } = opts;
    const template = tool.template;
    if (!template) throw invalid(`tools.${tool.name}`, 'has no REST template');
    this.toolName = tool.name;
    this.config = opts.spec.config as Json;
    this.upstream = opts.upstream;
    this.dispatcher = opts.dispatcher;
    this.timeoutMs = template.timeoutMs ?? opts.defaultTimeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.maxText = opts.maxTextBytes ?? DEFAULT_MAX_TEXT_BYTES;
    this.maxResponse = opts.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
    this.maxMedia = opts.maxMediaBytes ?? DEFAULT_MAX_MEDIA_BYTES;
    this.checkAddresses = opts.allowMetadataAddresses !== true;
    this.argumentHosts = opts.argumentHosts;
    const allowList = opts.spec.config['allowedArgumentHosts'];
    this.allowedArgumentHosts = Array.isArray(allowList) ? allowList.filter((h): h is string => typeof h === 'string') : [];
    this.subPathArgs = new Set(template.subPathArgs ?? []);
    this.positions = template.argsPosition;
    this.hasOutputSchema = tool.outputSchema !== undefined && Object.keys(tool.outputSchema).length > 0;

    const properties = isRecord(tool.inputSchema['properties']) ? tool.inputSchema['properties'] : undefined;
    this.specs = properties
      ? Object.keys(properties).map((name) => {
          const p = properties[name];
          const prop = isRecord(p) ? p : {};
          return { name, type: typeof prop['type'] === 'string' ? prop['type'] : undefined, default: prop['default'] };
        })
      : undefined;
    this.placement = this.specs ? this.place(this.specs.map((s) => s.name)) : undefined;
    for (const name of this.placement?.header ?? []) {
      if (!TOKEN.test(name) || RESERVED_REQUEST_HEADERS.has(name.toLowerCase())) {
        throw invalid(`tools.${tool.name}.args.${name}`, 'a header argument needs a name that is a valid, non hop-by-hop HTTP header name');
      }
    }

    const request = template.request;
    this.direct = !request || request.url === '';
    const name = (field: string): { name: string } => ({ name: `${tool.name}.${field}` });
    const renderable = (source: string, field: string): Renderable => {
      const parsed = parse(source, name(field));
      return source.includes('{{') ? { template: parsed } : { text: source };
    };
    this.method = request?.method.toUpperCase() ?? 'GET';
    this.idempotent = IDEMPOTENT.has(this.method);
    this.argsToUrlParam = request?.argsToUrlParam ?? false;
    this.argsToJsonBody = request?.argsToJsonBody ?? false;
    this.argsToFormBody = request?.argsToFormBody ?? false;
    if (request && !this.direct) {
      const urlTemplate = parse(request.url, { ...name('requestTemplate.url'), taint: URL_TAINT });
      this.url = request.url.includes('{{') ? { template: urlTemplate } : { text: request.url };
      if (this.url.text !== undefined) this.staticPlan = planUrl(this.url.text, this.pathArgNames());
      this.headerTemplates = request.headers.map((h, i) => {
        const lower = h.key.toLowerCase();
        if (!TOKEN.test(h.key) || RESERVED_REQUEST_HEADERS.has(lower)) {
          throw invalid(`tools.${tool.name}.requestTemplate.headers[${i}].key`, `${JSON.stringify(h.key)} is not a header a template may set`);
        }
        return { name: lower, value: renderable(h.value, `requestTemplate.headers[${i}].value`) };
      });
      this.body = request.body !== undefined && request.body !== '' ? renderable(request.body, 'requestTemplate.body') : undefined;
    } else {
      this.headerTemplates = [];
    }
    const response = template.response;
    this.responseBody = response.body ? parse(response.body, name('responseTemplate.body')) : undefined;
    this.prepend = response.prependBody ? renderable(response.prependBody, 'responseTemplate.prependBody') : undefined;
    this.append = response.appendBody ? renderable(response.appendBody, 'responseTemplate.appendBody') : undefined;
    this.errorTemplate = template.errorResponseTemplate ? parse(template.errorResponseTemplate, name('errorResponseTemplate')) : undefined;

    this.security = request?.security ? this.compileSecurity(request.security, opts.spec.securitySchemes) : undefined;
    const pass = this.compilePassthrough(opts.passthrough);
    this.passHeaders = pass.headers;
    this.passCookies = pass.cookies;
    this.passAllCookies = pass.allCookies;
  }

  private pathArgNames(): ReadonlySet<string> {
    if (this.placement) return this.placement.path;
    return new Set(Object.keys(this.positions).filter((n) => this.positions[n] === 'path'));
  }

  private place(names: readonly string[]): Placement {
    const path = new Set<string>();
    const query: string[] = [];
    const header: string[] = [];
    const cookie: string[] = [];
    const body: string[] = [];
    const unplaced: string[] = [];
    for (const n of names) {
      switch (Object.hasOwn(this.positions, n) ? this.positions[n] : undefined) {
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

  private compileSecurity(security: RestSecurity, schemes: readonly SecurityScheme[]): CompiledSecurity {
    const field = `tools.${this.toolName}.requestTemplate.security`;
    const upstream = security.upstream === false ? undefined : compileScheme(security.id, `${field}.id`, schemes);
    const clientId = security.clientId ?? (security.passthrough ? security.id : undefined);
    const client = clientId === undefined ? undefined : clientId === security.id && upstream ? upstream : compileScheme(clientId, `${field}.clientId`, schemes);
    const configured = upstream ? security.credential || upstream.scheme.defaultCredential || undefined : undefined;
    return { client, upstream, passthrough: security.passthrough === true && upstream !== undefined, configured };
  }

  private compilePassthrough(passthrough: CredentialPassthrough): { headers: string[]; cookies: Set<string>; allCookies: boolean } {
    const taken = this.security?.client;
    let allCookies = false;
    const headers: string[] = [];
    for (const h of passthrough.headers) {
      const lower = h.trim().toLowerCase();
      if (lower === 'cookie') allCookies = true;
      else if (lower !== '' && !NEVER_FORWARDED.has(lower) && !lower.startsWith('proxy-') && lower !== taken?.header && !headers.includes(lower)) headers.push(lower);
    }
    const cookies = new Set(passthrough.cookies.filter((c) => c !== taken?.cookie));
    return { headers, cookies, allCookies };
  }

  async execute(call: ToolCallRequest): Promise<CallToolResult> {
    if (call.cancellation.cancelled) return text('cancelled', true);
    const args = this.collectArgs(call.args);
    const data = { args, config: this.config } as unknown as Json;
    const credential = this.security ? this.takeCredential(this.security, call) : undefined;
    if (this.direct) return this.directResult(data);

    let built: BuiltRequest;
    try {
      built = this.build(args, data, call.clientHeaders, credential);
    } catch (err) {
      if (err instanceof TemplateError) return text(`error rendering ${err.templateName}: ${err.detail}`, true);
      if (err instanceof RenderFault) return text(err.message, true);
      throw err;
    }
    if (built.argumentHost) await this.checkArgumentHost(built.origin as string, built.argumentHost);
    return this.send(built, call.cancellation);
  }

  /**
   * A host arguments chose: the allow-list when a value spans labels, then its addresses
   * (IP literals in any spelling, DNS answers) under the server's policy. Throws an input error
   * naming the arguments.
   */
  private async checkArgumentHost(origin: string, host: ArgumentHost): Promise<void> {
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

  private collectArgs(input: Record<string, unknown>): Record<string, unknown> {
    const specs = this.specs;
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

  /** The agent's credential to forward, when the tool passes it through; a missing one without a fallback is a 401. */
  private takeCredential(security: CompiledSecurity, call: ToolCallRequest): string | undefined {
    const { client } = security;
    if (!security.passthrough || !client) return undefined;
    const headers = call.clientHeaders;
    const { scheme } = client;
    let value: string | undefined;
    if (scheme.type === 'http') {
      const auth = firstHeader(headers, 'authorization');
      const prefix = scheme.scheme === 'bearer' ? BEARER : BASIC;
      if (auth !== undefined && prefix.test(auth)) {
        const token = auth.replace(prefix, '').trim();
        if (token !== '' && !token.startsWith(CONSUMER_KEY_PREFIX)) value = token;
      }
    } else if (client.header) {
      const v = firstHeader(headers, client.header)?.trim();
      if (v && !v.startsWith(CONSUMER_KEY_PREFIX)) value = v;
    } else if (client.cookie) {
      const prefix = `${client.cookie}=`;
      const c = cookiesOf(headers).find((x) => x.startsWith(prefix));
      if (c !== undefined && c.length > prefix.length) value = c.slice(prefix.length);
    } else if (client.query && call.clientQuery) {
      const v = new URLSearchParams(call.clientQuery).get(client.query)?.trim();
      if (v && !v.startsWith(CONSUMER_KEY_PREFIX)) value = v;
    }
    if (value === undefined && security.configured === undefined) throw this.missingCredential(scheme);
    return value;
  }

  private missingCredential(scheme: SecurityScheme): ToolError {
    let how: string;
    let challenge: string;
    if (scheme.type === 'http') {
      const basic = scheme.scheme === 'basic';
      how = basic ? 'Authorization: Basic <credentials>' : 'Authorization: Bearer <token>';
      challenge = `${basic ? 'Basic' : 'Bearer'} realm="mcpgate"`;
      how += ' (a gateway key there does not count: send it as X-API-Key)';
    } else {
      const name = scheme.name ?? '';
      how = scheme.in === 'cookie' ? `the cookie ${name}` : scheme.in === 'query' ? `the query parameter ${name}` : `the header ${name}`;
      challenge = `ApiKey realm="mcpgate", in="${scheme.in ?? 'header'}", name="${name}"`;
    }
    return new ToolError('CREDENTIAL_REQUIRED', `tool ${this.toolName} needs a credential: send ${how}`, challenge);
  }

  private render(r: Renderable, data: Json | undefined): string {
    return r.text ?? r.template.render(data);
  }

  /**
   * The URL's plan and the pieces it printed from arguments: a static plan; a render that printed
   * nothing from arguments, planned once per distinct text; or one that did, planned once per
   * skeleton (its values never delimit the URL, so they do not change the plan).
   */
  private planFor(data: Json): { plan: UrlPlan; printed: readonly OutputPiece[] } {
    if (this.staticPlan) return { plan: this.staticPlan, printed: NONE_PRINTED };
    const rendered = (this.url?.template as TrackedTemplate).renderTracked(data);
    const pathArgs = this.placement?.path ?? this.pathArgNames();
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

  private build(args: Record<string, unknown>, data: Json, client: ClientHeaders, credential: string | undefined): BuiltRequest {
    const placement = this.placement ?? this.place(Object.keys(args));
    const { plan, printed } = this.planFor(data);
    const values = { args, printed, toText: argToString, subPathArgs: this.subPathArgs };
    const placed = plan.origin ? joinOrigin(plan.origin, values) : undefined;
    const origin = placed?.origin;
    let path = joinPath(plan.path, values);

    let query: QueryValues | undefined = plan.query ? parseQuery(joinQuery(plan.query, values)) : undefined;
    for (const name of placement.query) {
      const v = args[name];
      if (v !== undefined) (query ??= new Map()).set(name, [argToString(v)]);
    }
    if (this.argsToUrlParam) {
      for (const name of placement.unplaced) {
        const v = args[name];
        if (v !== undefined) (query ??= new Map()).set(name, [argToString(v)]);
      }
    }

    const headers: Headers = Object.create(null) as Headers;
    for (const h of this.headerTemplates) {
      const value = this.render(h.value, data);
      if (hasControl(value)) throw new RenderFault(`header ${h.name} of tool ${this.toolName} renders a value with control characters`);
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

    const body = this.buildBody(placement, args, data, headers);
    if (headers['accept'] === undefined) headers['accept'] = '*/*';

    const hopByHop = connectionTokens(client);
    for (const name of this.passHeaders) {
      if (headers[name] !== undefined) continue;
      const v = client[name];
      if (v === undefined || hopByHop?.has(name)) continue;
      if (name === 'authorization' && isGatewayKey(typeof v === 'string' ? v : (v[0] ?? ''))) continue;
      headers[name] = v;
    }
    if (this.passAllCookies || this.passCookies.size > 0) {
      for (const c of cookiesOf(client)) {
        const n = cookieName(c);
        if (n === this.security?.client?.cookie) continue;
        if (this.passAllCookies || this.passCookies.has(n)) cookies.push(c);
      }
    }

    if (this.security) query = this.applySecurity(this.security, credential, headers, cookies, query);
    if (cookies.length > 0) headers['cookie'] = cookies.join('; ');
    else delete headers['cookie'];

    if (origin === undefined && !path.startsWith('/')) path = `/${path}`;
    if (origin !== undefined && path === '') path = '/';
    const qs = query ? encodeQuery(query) : '';
    return { origin, pathAndQuery: qs === '' ? path : `${path}?${qs}`, headers, body, argumentHost: placed?.argumentHost };
  }

  private buildBody(placement: Placement, args: Record<string, unknown>, data: Json, headers: Headers): string | undefined {
    const ct = typeof headers['content-type'] === 'string' ? headers['content-type'].toLowerCase() : '';
    const hasJson = ct.includes('application/json');
    const hasForm = ct.includes('application/x-www-form-urlencoded');
    if (this.body) {
      const body = this.render(this.body, data);
      if (!hasJson) {
        const trimmed = body.trim();
        const first = trimmed[0];
        const last = trimmed[trimmed.length - 1];
        if (((first === '{' && last === '}') || (first === '[' && last === ']')) && tryJson(trimmed).ok) headers['content-type'] = JSON_CONTENT_TYPE;
      }
      return body;
    }
    if (this.argsToJsonBody || this.argsToFormBody) {
      const names = placement.body.length === 0 ? placement.unplaced : [...placement.body, ...placement.unplaced];
      if (this.argsToJsonBody) {
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

  private applySecurity(security: CompiledSecurity, passed: string | undefined, headers: Headers, cookies: string[], query: QueryValues | undefined): QueryValues | undefined {
    const credential = passed ?? security.configured;
    if (credential === undefined || !security.upstream) return query;
    const { scheme } = security.upstream;
    if (scheme.type === 'http') {
      // A credential taken by a Basic scheme is already encoded; any other `user:password` is encoded here.
      const encoded = passed !== undefined && security.client?.scheme.type === 'http' && security.client.scheme.scheme === 'basic';
      if (scheme.scheme === 'bearer') headers['authorization'] = credential.startsWith('Bearer ') ? credential : `Bearer ${credential}`;
      else if (credential.startsWith('Basic ')) headers['authorization'] = credential;
      else if (!encoded && credential.includes(':')) headers['authorization'] = `Basic ${Buffer.from(credential).toString('base64')}`;
      else headers['authorization'] = `Basic ${credential}`;
      return query;
    }
    const name = scheme.name as string;
    if (scheme.in === 'header') headers[name.toLowerCase()] = wireValue(credential);
    else if (scheme.in === 'query') (query ??= new Map()).set(name, [credential]);
    else {
      const prefix = `${name}=`;
      const at = cookies.findIndex((c) => c.startsWith(prefix));
      const cookie = `${name}=${cookieValue(credential)}`;
      if (at >= 0) cookies[at] = cookie;
      else cookies.push(cookie);
    }
    return query;
  }

  private directResult(data: Json): CallToolResult {
    let out: string;
    try {
      out = this.responseBody ? this.responseBody.render(data) : '';
    } catch (err) {
      if (err instanceof TemplateError) return text(`error rendering ${err.templateName}: ${err.detail}`, true);
      throw err;
    }
    const result = text(capText(out, this.maxText));
    if (this.hasOutputSchema) {
      const parsed = tryJson(out);
      if (parsed.ok && isRecord(parsed.value)) result.structuredContent = parsed.value;
    }
    return result;
  }

  private async send(req: BuiltRequest, cancellation: CallCancellation): Promise<CallToolResult> {
    let target: UpstreamTarget | undefined;
    if (req.origin !== undefined) target = { id: req.origin, baseUrl: req.origin };
    else if (!this.upstream) return text('server has no endpoint: a relative URL template needs the server to point at a service, an address or a URL', true);
    else {
      target = this.upstream.pick();
      if (!target) return text('backend unavailable: no healthy instance', true);
    }

    let current: Exchange | undefined;
    let stopped: 'timeout' | 'cancelled' | undefined;
    const stop = (why: 'timeout' | 'cancelled'): void => {
      stopped ??= why;
      current?.abort(new Stopped(why));
    };
    const timer = setTimeout(stop, this.timeoutMs, 'timeout');
    const onCancel = (): void => stop('cancelled');
    cancellation.onCancel(onCancel);

    let exclude: Set<string> | undefined;
    let retried = false;
    let attempts = 0;
    try {
      for (;;) {
        attempts++;
        const base = splitBase(target.baseUrl);
        if (typeof base === 'string') return text(`invalid backend URL: ${base}`, true);
        if (this.checkAddresses && !req.argumentHost) {
          const checked = guard.check(base.hostname);
          const verdict = checked instanceof Promise ? await checked : checked;
          if (verdict !== undefined) return text(`request refused: ${verdict} (the server does not allow metadata addresses)`, true);
        }
        if (stopped) break;
        current = new Exchange(this.method === 'HEAD' ? Infinity : this.maxResponse, this.maxMedia);
        const dispatcher = req.argumentHost ? (this.argumentHosts as ArgumentHostAccess).dispatcher : this.dispatcher;
        dispatcher.dispatch({
          origin: base.origin,
          path: base.basePath === '' ? req.pathAndQuery : base.basePath + req.pathAndQuery,
          method: this.method as Dispatcher.HttpMethod,
          headers: req.headers,
          body: req.body ?? null,
        }, current);
        const outcome = await current.done;
        if (outcome.error === undefined) return this.answer(outcome.status, outcome.headers, outcome.body);
        if (stopped) break;
        const err = outcome.error;
        if (err instanceof TooLarge) return text(err.message, true);
        const code = errorCode(err) ?? 'network error';
        if (code.startsWith('UND_ERR_INVALID')) return text(`invalid backend request: ${err.message}`, true);
        if (code === 'EARGUMENTHOST') return text(`request refused: ${err.message}`, true);
        const notSent = NOT_SENT.has(code);
        if (notSent || (this.idempotent && !retried)) {
          if (!notSent) retried = true;
          (exclude ??= new Set()).add(target.id);
          const next = req.origin === undefined ? this.upstream?.pick(exclude) : undefined;
          if (next) {
            target = next;
            continue;
          }
          if (!notSent) continue;
        }
        return text(`backend unavailable: ${code}${attempts > 1 ? ` (${attempts} attempts)` : ''}`, true);
      }
      return stopped === 'timeout' ? text(`timed out after ${this.timeoutMs} ms`, true) : text('cancelled', true);
    } finally {
      clearTimeout(timer);
      cancellation.offCancel(onCancel);
    }
  }

  private answer(status: number, headers: IncomingHttpHeaders, buf: Buffer): CallToolResult {
    if (status < 200 || status >= 300) return this.errorResult(status, headers, buf);
    const kind = mediaKind(headers['content-type']);
    if (kind !== undefined) {
      if (buf.length > this.maxMedia) return text(`the backend's ${kind} is over ${this.maxMedia} bytes, the limit for images and audio`, true);
      const media = mediaType(headers['content-type']);
      const block: ContentBlock = { type: kind, data: buf.toString('base64'), mimeType: media };
      return { content: [block] };
    }
    const raw = buf.toString('utf8');
    let body: Json | undefined; // the body as data, parsed on first use
    let out: string;
    try {
      const template = this.responseBody;
      if (template) {
        // `{{.}}` alone prints a JSON object or array body as received, as Higress does (its
        // engine prints the raw JSON text), without parsing and re-serialising it.
        const at = template.printsDot && buf.length <= DEFAULT_MAX_OUTPUT_BYTES ? jsonTextStart(raw) : -1;
        if (at >= 0) out = at === 0 ? raw : raw.slice(at);
        else out = template.render(raw === '' ? undefined : (body = bodyOf(raw)));
      } else if (this.prepend || this.append) {
        const data = (this.prepend?.template ?? this.append?.template) ? (body = bodyOf(raw)) : undefined;
        out = (this.prepend ? this.render(this.prepend, data) : '') + raw + (this.append ? this.render(this.append, data) : '');
      } else out = raw;
    } catch (err) {
      if (err instanceof TemplateError) return text(`error rendering ${err.templateName}: ${err.detail}`, true);
      throw err;
    }
    const result = text(out === '' ? 'success' : capText(out, this.maxText));
    if (this.hasOutputSchema && raw !== '') {
      body ??= bodyOf(raw);
      if (isRecord(body)) result.structuredContent = body;
    }
    return result;
  }

  private errorResult(status: number, headers: IncomingHttpHeaders, buf: Buffer): CallToolResult {
    const raw = buf.toString('utf8');
    if (this.errorTemplate) {
      const parsed = tryJson(raw);
      const fields: Record<string, unknown> = parsed.ok && isRecord(parsed.value) ? { ...parsed.value } : {};
      const h: Record<string, string> = { ':status': String(status) };
      for (const [k, v] of Object.entries(headers)) if (v !== undefined) h[k] = typeof v === 'string' ? v : v.join(', ');
      fields['_headers'] = h;
      try {
        const out = this.errorTemplate.render(fields as Json);
        if (out !== '') return text(capText(out, this.maxText), true);
      } catch (err) {
        if (!(err instanceof TemplateError)) throw err;
        return text(`error rendering ${err.templateName}: ${err.detail}`, true);
      }
    }
    return text(raw === '' ? `HTTP ${status}` : capText(`HTTP ${status}: ${raw}`, this.maxText), true);
  }
}

/** A request-side template rendered something that cannot be sent. */
class RenderFault extends Error {
  override readonly name = 'RenderFault';
}

/** The backend's answer is over the size limit. */
class TooLarge extends Error {
  override readonly name = 'TooLarge';
}

/** Where a scheme's credential travels; an unusable scheme is a VALIDATION_FAILED naming `field`. */
function compileScheme(id: string, field: string, schemes: readonly SecurityScheme[]): CompiledScheme {
  const scheme = schemes.find((s) => s.id === id);
  if (!scheme) throw invalid(field, `no security scheme ${JSON.stringify(id)} in server.securitySchemes`);
  if (scheme.type === 'http') {
    if (scheme.scheme !== 'bearer' && scheme.scheme !== 'basic') throw invalid(field, `http scheme ${JSON.stringify(scheme.scheme ?? '')} is not supported (bearer or basic)`);
    return { scheme, header: 'authorization', cookie: undefined, query: undefined };
  }
  if (!scheme.name) throw invalid(field, `apiKey scheme ${JSON.stringify(scheme.id)} has no name`);
  if (scheme.in === 'header') {
    if (!TOKEN.test(scheme.name)) throw invalid(field, `${JSON.stringify(scheme.name)} is not a header name`);
    return { scheme, header: scheme.name.toLowerCase(), cookie: undefined, query: undefined };
  }
  if (scheme.in === 'cookie') return { scheme, header: undefined, cookie: scheme.name, query: undefined };
  if (scheme.in !== 'query') throw invalid(field, `apiKey scheme ${JSON.stringify(scheme.id)} needs in: header, query or cookie`);
  return { scheme, header: undefined, cookie: undefined, query: scheme.name };
}

/** The media type of a Content-Type header, lower-case, without parameters. */
function mediaType(contentType: string | string[] | undefined): string {
  return typeof contentType === 'string' ? (contentType.split(';', 1)[0] as string).trim().toLowerCase() : '';
}

/** `image` or `audio` for a Content-Type whose answer becomes image or audio content. */
function mediaKind(contentType: string | string[] | undefined): 'image' | 'audio' | undefined {
  const media = mediaType(contentType);
  return media.startsWith('image/') ? 'image' : media.startsWith('audio/') ? 'audio' : undefined;
}

/** A response body as template data: its JSON value, else the text itself. */
function bodyOf(raw: string): Json {
  const parsed = tryJson(raw);
  return parsed.ok ? parsed.value : raw;
}

/** Where a body's JSON object or array starts (after leading whitespace); -1 for any other body. */
function jsonTextStart(raw: string): number {
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c === 0x7b || c === 0x5b) return i; // { [
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return -1;
  }
  return -1;
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

/** The call was stopped by its timeout or by the agent. */
class Stopped extends Error {
  override readonly name = 'Stopped';
}

type Outcome =
  | { readonly error: undefined; readonly status: number; readonly headers: IncomingHttpHeaders; readonly body: Buffer }
  | { readonly error: Error };

/**
 * One backend exchange on undici's dispatch API: the body is collected (up to a limit)
 * without a stream, and an abort settles at once, even before the connection exists.
 */
class Exchange implements Dispatcher.DispatchHandler {
  readonly done: Promise<Outcome>;
  private settle!: (outcome: Outcome) => void;
  private settled = false;
  private controller: Dispatcher.DispatchController | undefined;
  private reason: Error | undefined;
  private status = 0;
  private headers: IncomingHttpHeaders = {};
  private chunks: Buffer[] = [];
  private size = 0;
  private max: number;
  private tooLarge: string;

  /** `max` bounds any answer; `mediaMax` a successful image or audio answer (passed on whole, as base64). */
  constructor(max: number, private readonly mediaMax: number) {
    this.max = max;
    this.tooLarge = `the backend's answer is over ${max} bytes`;
    this.done = new Promise((resolve) => {
      this.settle = resolve;
    });
  }

  abort(reason: Error): void {
    this.reason ??= reason;
    this.controller?.abort(reason);
    this.finish({ error: reason });
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.reason) controller.abort(this.reason);
  }

  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders): void {
    this.status = statusCode;
    this.headers = headers;
    const kind = statusCode >= 200 && statusCode < 300 ? mediaKind(headers['content-type']) : undefined;
    if (kind !== undefined && this.mediaMax < this.max) {
      this.max = this.mediaMax;
      this.tooLarge = `the backend's ${kind} is over ${this.mediaMax} bytes, the limit for images and audio`;
    }
    const declared = headers['content-length'];
    if (typeof declared === 'string' && Number(declared) > this.max) this.abort(new TooLarge(this.tooLarge));
  }

  onResponseData(_controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.size += chunk.length;
    if (this.size > this.max) this.abort(new TooLarge(this.tooLarge));
    else this.chunks.push(chunk);
  }

  onResponseEnd(): void {
    const { chunks } = this;
    const body = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, this.size);
    this.finish({ error: undefined, status: this.status, headers: this.headers, body });
  }

  onResponseError(_controller: Dispatcher.DispatchController | undefined, error: Error): void {
    this.finish({ error: this.reason ?? error });
  }

  private finish(outcome: Outcome): void {
    if (this.settled) return;
    this.settled = true;
    this.chunks = [];
    this.settle(outcome);
  }
}

/**
 * Builds the executor of one REST tool. Every template is parsed here (a `TemplateError`
 * propagates, so the caller refuses the tool); a missing security scheme is a
 * `VALIDATION_FAILED` AppError.
 */
export function createRestExecutor(opts: RestExecutorOptions): ToolExecutor {
  return new RestExecutor(opts);
}
