/**
 * Sending a REST tool's backend request with undici: a target from the upstream (or the URL's
 * own origin), the address guard, the call's timeout and cancellation, failover to another
 * instance when the request never left (or may be repeated), and the answer collected up to
 * its size limit on undici's dispatch API.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Dispatcher } from 'undici';
import { AddressGuard } from '../address-guard.js';
import type { ArgumentHostAccess } from '../address-guard.js';
import type { CallCancellation, CallReport, CallToolResult, Upstream, UpstreamTarget } from '../executor.js';
import { ATTR, addTraceHeaders, endSpan, spanShape, startClientSpan, tracingEnabled } from '../../lib/tracing.js';
import type { SpanShape } from '../../lib/tracing.js';
import type { Span } from '@opentelemetry/api';
import type { RenderClient } from '../../template/index.js';
import type { BuiltRequest } from './request.js';
import type { RestResponse } from './response.js';
import { mediaKind, textResult } from './response.js';

/** Errors raised before anything reached the backend: another instance may take any request. */
const NOT_SENT: ReadonlySet<string> = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT', 'EADDRNOTAVAIL']);

const guard = new AddressGuard();

interface BaseParts {
  readonly origin: string;
  readonly basePath: string;
  readonly hostname: string;
  /** The port, the scheme's default when the URL names none (the backend span's `server.port`). */
  readonly port: number;
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
    else parts = { origin: url.origin, basePath: url.pathname === '/' ? '' : url.pathname.replace(/\/+$/, ''), hostname: url.hostname, port: url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port) };
  } catch {
    parts = 'not a valid URL';
  }
  if (baseParts.size >= 4096) baseParts.clear();
  baseParts.set(baseUrl, parts);
  return parts;
}

/** What a `RestTransport` sends with. */
export interface RestTransportOptions {
  /** Where relative URLs go; none when the server has no endpoint. */
  upstream: Upstream | undefined;
  dispatcher: Dispatcher;
  /** Hosts that arguments chose: checked and connected to under the server's policy. */
  argumentHosts: ArgumentHostAccess | undefined;
  method: string;
  /** The request may be sent again after it may have reached a backend (once). */
  idempotent: boolean;
  timeoutMs: number;
  /** A backend answer larger than this is not read (isError). */
  maxResponseBytes: number;
  /** Resolve and refuse link-local and cloud-metadata addresses (unless the server allows them). */
  checkAddresses: boolean;
}

/** Sends one REST tool's backend requests. */
export class RestTransport {
  /** The backend spans' name and shared attributes by backend (tracing on only): encoded once, not per request. */
  private readonly shapes = new Map<BaseParts, SpanShape>();

  constructor(private readonly o: RestTransportOptions) {}

  /**
   * Send a request and map its answer with `response`; failures are `isError` results, and
   * their kind goes to `report` (metrics and logs). Each attempt's span is a child of `parent`
   * (the agent's request's span) when given, else of the current request scope's.
   */
  async send(req: BuiltRequest, cancellation: CallCancellation, response: RestResponse, client?: RenderClient, report?: CallReport, parent?: Span): Promise<CallToolResult> {
    const fail = (kind: string, text: string): CallToolResult => {
      if (report) {
        report.errorKind = kind;
        report.detail = text;
      }
      return textResult(text, true);
    };
    const o = this.o;
    let target: UpstreamTarget | undefined;
    if (req.origin !== undefined) target = { id: req.origin, baseUrl: req.origin };
    else if (!o.upstream) return fail('no_endpoint', 'server has no endpoint: a relative URL template needs the server to point at a service, an address or a URL');
    else {
      target = o.upstream.pick();
      if (!target) return fail('backend_unavailable', 'backend unavailable: no healthy instance');
    }

    let current: Exchange | undefined;
    let stopped: 'timeout' | 'cancelled' | undefined;
    const stop = (why: 'timeout' | 'cancelled'): void => {
      stopped ??= why;
      current?.abort(new Stopped(why));
    };
    const timer = setTimeout(stop, o.timeoutMs, 'timeout');
    const onCancel = (): void => stop('cancelled');
    cancellation.onCancel(onCancel);

    let exclude: Set<string> | undefined;
    let retried = false;
    let attempts = 0;
    try {
      for (;;) {
        attempts++;
        const base = splitBase(target.baseUrl);
        if (typeof base === 'string') return fail('invalid_backend_url', `invalid backend URL: ${base}`);
        if (o.checkAddresses && !req.argumentHost) {
          const checked = guard.check(base.hostname);
          const verdict = checked instanceof Promise ? await checked : checked;
          if (verdict !== undefined) return fail('request_refused', `request refused: ${verdict} (the server does not allow metadata addresses)`);
        }
        if (stopped) break;
        current = new Exchange(o.method === 'HEAD' ? Infinity : o.maxResponseBytes, response.maxMedia);
        const dispatcher = req.argumentHost ? (o.argumentHosts as ArgumentHostAccess).dispatcher : o.dispatcher;
        const path = base.basePath === '' ? req.pathAndQuery : base.basePath + req.pathAndQuery;
        // Each attempt is a CLIENT span whose context the backend receives as `traceparent` (tracing on only),
        // added to the request's own headers object (built for this call: no copy).
        const span = tracingEnabled() ? startClientSpan(this.shapeOf(base), backendAttributes(base, path), parent) : undefined;
        if (span) addTraceHeaders(span, req.headers);
        dispatcher.dispatch({
          origin: base.origin, path, method: o.method as Dispatcher.HttpMethod, headers: req.headers, body: req.body ?? null,
        }, current);
        const outcome = await current.done;
        if (outcome.error === undefined) {
          if (span) span.setAttribute(ATTR.httpStatus, outcome.status);
          endSpan(span, outcome.status >= 400 ? String(outcome.status) : undefined);
          const result = response.answer(outcome.status, outcome.headers, outcome.body, client);
          if (report) {
            report.backendStatus = outcome.status;
            if (result.isError === true) {
              report.errorKind = outcome.status >= 400 ? 'backend_status' : 'response_mapping';
              const first = result.content[0];
              if (first?.type === 'text') report.detail = first.text.slice(0, 200);
            }
          }
          return result;
        }
        endSpan(span, outcome.error instanceof Stopped ? outcome.error.message : errorCode(outcome.error) ?? outcome.error.name, outcome.error.message);
        if (stopped) break;
        const err = outcome.error;
        if (err instanceof TooLarge) return fail('response_too_large', err.message);
        const code = errorCode(err) ?? 'network error';
        if (code.startsWith('UND_ERR_INVALID')) return fail('invalid_backend_request', `invalid backend request: ${err.message}`);
        if (code === 'EARGUMENTHOST') return fail('request_refused', `request refused: ${err.message}`);
        const notSent = NOT_SENT.has(code);
        if (notSent || (o.idempotent && !retried)) {
          if (!notSent) retried = true;
          (exclude ??= new Set()).add(target.id);
          const next = req.origin === undefined ? o.upstream?.pick(exclude) : undefined;
          if (next) {
            target = next;
            continue;
          }
          if (!notSent) continue;
        }
        return fail('backend_unavailable', `backend unavailable: ${code}${attempts > 1 ? ` (${attempts} attempts)` : ''}`);
      }
      return stopped === 'timeout' ? fail('backend_timeout', `timed out after ${o.timeoutMs} ms`) : fail('cancelled', 'cancelled');
    } finally {
      clearTimeout(timer);
      cancellation.offCancel(onCancel);
    }
  }

  /** The backend span's name (the HTTP method) and the attributes every request to `base` shares (HTTP semantic conventions). */
  private shapeOf(base: BaseParts): SpanShape {
    let shape = this.shapes.get(base);
    if (shape === undefined) {
      if (this.shapes.size >= 64) this.shapes.clear();
      shape = spanShape(this.o.method, { [ATTR.httpMethod]: this.o.method, [ATTR.serverAddress]: base.hostname, [ATTR.serverPort]: base.port });
      this.shapes.set(base, shape);
    }
    return shape;
  }
}

/**
 * The attributes of a backend request's CLIENT span besides its shape's (`url.full`, which
 * leaves the query out: a tool may put a credential there).
 */
function backendAttributes(base: BaseParts, path: string): Record<string, string> {
  const q = path.indexOf('?');
  // ATTR.urlFull written as a literal key: the object is then made with its shape known, not by a keyed store.
  return { 'url.full': base.origin + (q < 0 ? path : path.slice(0, q)) };
}

/** The backend's answer is over the size limit. */
class TooLarge extends Error {
  override readonly name = 'TooLarge';
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
