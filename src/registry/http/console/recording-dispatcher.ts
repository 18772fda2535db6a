/**
 * A dispatcher that records a try's backend exchanges for the console: every request the tool
 * sends and the backend's answer, its body up to a cap.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { Dispatcher } from 'undici';

/** A backend body kept for the console is cut at this many bytes. */
export const TRY_BODY_CAP_BYTES = 64 * 1024;

/** One backend exchange as the console shows it. */
export interface RecordedExchange {
  request: { method: string; url: string; headers: Record<string, string>; body: string | null };
  response: { status: number; headers: Record<string, string>; body: string; bodyBytes: number; truncated: boolean } | null;
  error?: string;
  durationMs: number;
}

function headerRecord(headers: Dispatcher.DispatchOptions['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  if (!headers) return out;
  const add = (k: string, v: unknown) => {
    if (v === undefined || v === null) return;
    const key = k.toLowerCase();
    const value = Array.isArray(v) ? v.map(String).join(', ') : String(v);
    out[key] = out[key] !== undefined ? `${out[key]}, ${value}` : value;
  };
  if (Array.isArray(headers)) {
    for (let i = 0; i + 1 < headers.length; i += 2) add(String(headers[i]), headers[i + 1]);
  } else if (typeof (headers as Iterable<unknown>)[Symbol.iterator] === 'function' && !(headers.constructor === Object)) {
    for (const [k, v] of headers as Iterable<[string, string | string[] | undefined]>) add(k, v);
  } else {
    for (const [k, v] of Object.entries(headers as Record<string, unknown>)) add(k, v);
  }
  return out;
}

function bodyText(body: Dispatcher.DispatchOptions['body']): string | null {
  if (body === undefined || body === null) return null;
  if (typeof body === 'string') return body;
  if (body instanceof Uint8Array) return Buffer.from(body).toString('utf8');
  return '[stream body]';
}

/**
 * A `Dispatcher` that records every request the executor sends (method, URL, headers, body)
 * and the backend's status, headers and raw body (up to a cap), delegating to a real one.
 */
export class RecordingDispatcher extends Dispatcher {
  constructor(private readonly inner: Dispatcher, private readonly cap = TRY_BODY_CAP_BYTES, readonly exchanges: RecordedExchange[] = []) {
    super();
  }

  override dispatch(opts: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    const origin = typeof opts.origin === 'string' ? opts.origin : opts.origin?.toString() ?? '';
    const exchange: RecordedExchange = {
      request: { method: opts.method, url: `${origin.replace(/\/$/, '')}${opts.path}`, headers: headerRecord(opts.headers), body: bodyText(opts.body) },
      response: null,
      durationMs: 0,
    };
    this.exchanges.push(exchange);
    const started = performance.now();
    const chunks: Buffer[] = [];
    let kept = 0;
    let total = 0;
    const cap = this.cap;
    const finish = () => { exchange.durationMs = Math.round((performance.now() - started) * 10) / 10; };
    const keep = (chunk: Buffer) => {
      total += chunk.length;
      if (kept < cap) {
        const piece = chunk.subarray(0, cap - kept);
        chunks.push(Buffer.from(piece));
        kept += piece.length;
      }
    };
    const settle = (error?: Error) => {
      if (error) exchange.error = error.message || (error as { code?: string }).code || String(error);
      if (exchange.response) {
        exchange.response.body = Buffer.concat(chunks).toString('utf8');
        exchange.response.bodyBytes = total;
        exchange.response.truncated = total > kept;
      }
      finish();
    };
    if (typeof handler.onResponseStart !== 'function' && typeof handler.onHeaders === 'function') {
      // A handler of undici's older callback style (what Dispatcher#request passes).
      const legacy: Dispatcher.DispatchHandler = {
        onConnect: (abort) => handler.onConnect?.(abort),
        onUpgrade: (status, headers, socket) => handler.onUpgrade?.(status, headers, socket),
        onBodySent: (size, sent) => handler.onBodySent?.(size, sent),
        onResponseStarted: () => handler.onResponseStarted?.(),
        onHeaders: (status, raw, resume, text) => {
          if (status >= 200) exchange.response = { status, headers: headerRecord(raw.map(String)), body: '', bodyBytes: 0, truncated: false };
          return handler.onHeaders?.(status, raw, resume, text) ?? true;
        },
        onData: (chunk) => {
          keep(chunk);
          return handler.onData?.(chunk) ?? true;
        },
        onComplete: (trailers) => {
          settle();
          handler.onComplete?.(trailers);
        },
        onError: (error) => {
          settle(error);
          handler.onError?.(error);
        },
      };
      return this.inner.dispatch(opts, legacy);
    }
    const wrapped: Dispatcher.DispatchHandler = {
      onRequestStart: (controller, context) => handler.onRequestStart?.(controller, context),
      onRequestUpgrade: (controller, status, headers, socket) => handler.onRequestUpgrade?.(controller, status, headers, socket),
      onResponseStart: (controller, status, headers, message) => {
        exchange.response = { status, headers: headerRecord(headers as IncomingHttpHeaders), body: '', bodyBytes: 0, truncated: false };
        handler.onResponseStart?.(controller, status, headers, message);
      },
      onResponseData: (controller, chunk) => {
        keep(chunk);
        handler.onResponseData?.(controller, chunk);
      },
      onResponseEnd: (controller, trailers) => {
        settle();
        handler.onResponseEnd?.(controller, trailers);
      },
      onResponseError: (controller, error) => {
        settle(error);
        handler.onResponseError?.(controller, error);
      },
    };
    return this.inner.dispatch(opts, wrapped);
  }

  override close(): Promise<void>;
  override close(callback: () => void): void;
  override close(callback?: () => void): Promise<void> | void {
    // The inner dispatcher is shared: nothing of its own to close.
    if (callback) return void queueMicrotask(callback);
    return Promise.resolve();
  }

  override destroy(): Promise<void>;
  override destroy(err: Error | null): Promise<void>;
  override destroy(callback: () => void): void;
  override destroy(err: Error | null, callback: () => void): void;
  override destroy(a?: Error | null | (() => void), b?: () => void): Promise<void> | void {
    const callback = typeof a === 'function' ? a : b;
    if (callback) return void queueMicrotask(callback);
    return Promise.resolve();
  }
}
