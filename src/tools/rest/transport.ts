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
import type { CallCancellation, CallToolResult, Upstream, UpstreamTarget } from '../executor.js';
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
  constructor(private readonly o: RestTransportOptions) {}

  /** Send a request and map its answer with `response`; failures are `isError` results. */
  async send(req: BuiltRequest, cancellation: CallCancellation, response: RestResponse, client?: RenderClient): Promise<CallToolResult> {
    const o = this.o;
    let target: UpstreamTarget | undefined;
    if (req.origin !== undefined) target = { id: req.origin, baseUrl: req.origin };
    else if (!o.upstream) return textResult('server has no endpoint: a relative URL template needs the server to point at a service, an address or a URL', true);
    else {
      target = o.upstream.pick();
      if (!target) return textResult('backend unavailable: no healthy instance', true);
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
        if (typeof base === 'string') return textResult(`invalid backend URL: ${base}`, true);
        if (o.checkAddresses && !req.argumentHost) {
          const checked = guard.check(base.hostname);
          const verdict = checked instanceof Promise ? await checked : checked;
          if (verdict !== undefined) return textResult(`request refused: ${verdict} (the server does not allow metadata addresses)`, true);
        }
        if (stopped) break;
        current = new Exchange(o.method === 'HEAD' ? Infinity : o.maxResponseBytes, response.maxMedia);
        const dispatcher = req.argumentHost ? (o.argumentHosts as ArgumentHostAccess).dispatcher : o.dispatcher;
        dispatcher.dispatch({
          origin: base.origin,
          path: base.basePath === '' ? req.pathAndQuery : base.basePath + req.pathAndQuery,
          method: o.method as Dispatcher.HttpMethod,
          headers: req.headers,
          body: req.body ?? null,
        }, current);
        const outcome = await current.done;
        if (outcome.error === undefined) return response.answer(outcome.status, outcome.headers, outcome.body, client);
        if (stopped) break;
        const err = outcome.error;
        if (err instanceof TooLarge) return textResult(err.message, true);
        const code = errorCode(err) ?? 'network error';
        if (code.startsWith('UND_ERR_INVALID')) return textResult(`invalid backend request: ${err.message}`, true);
        if (code === 'EARGUMENTHOST') return textResult(`request refused: ${err.message}`, true);
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
        return textResult(`backend unavailable: ${code}${attempts > 1 ? ` (${attempts} attempts)` : ''}`, true);
      }
      return stopped === 'timeout' ? textResult(`timed out after ${o.timeoutMs} ms`, true) : textResult('cancelled', true);
    } finally {
      clearTimeout(timer);
      cancellation.offCancel(onCancel);
    }
  }
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
