/**
 * The request id of the request being served, for every log line written while serving it and
 * for its error answers (`X-Request-Id` on every answer; `requestId` in error bodies). A client's
 * own `X-Request-Id` (a proxy's, say) is kept when it is a plausible id, so one id follows a
 * request through nginx, the gateway and the logs; otherwise one is made.
 *
 * Carried in an AsyncLocalStorage (node:async_hooks) rather than passed down: log lines written
 * deep in the tool runtime or the session store carry it without every signature taking it.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';

/** The header a request id travels in, both ways. */
export const REQUEST_ID_HEADER = 'x-request-id';

/**
 * What a request runs with: its id, and what the part of the process serving it adds (the
 * registry: who is asking and from where, for its audit log; the OpenTelemetry context). One
 * AsyncLocalStorage for all: each one enabled costs something on every promise the process makes.
 */
export interface RequestScope {
  readonly id: string | undefined;
  /** Set by the registry's HTTP layer (domain/audit.ts reads it). */
  readonly origin?: unknown;
  /** The OpenTelemetry context an API user made current (lib/tracing.ts's context manager keeps it here). */
  readonly otel?: unknown;
  /** The current span while tracing is on (lib/tracing.ts's helpers keep it here, no Context made). */
  readonly span?: unknown;
}

const storage = new AsyncLocalStorage<RequestScope>();
const PLAUSIBLE = /^[A-Za-z0-9._:@/+=-]{1,128}$/;

/** The client's id when it is 1-128 characters of a safe set, else a new one (a UUID). */
export function requestIdFrom(header: string | string[] | undefined): string {
  const given = Array.isArray(header) ? header[0] : header;
  return given !== undefined && PLAUSIBLE.test(given) ? given : randomUUID();
}

/** Run `fn(...args)` (and everything it starts) as the request `id` (arguments rather than a closure: none made per request). */
export function runWithRequestId<A extends unknown[], T>(id: string, fn: (...args: A) => T, ...args: A): T {
  return storage.run({ id }, fn, ...args);
}

/** Run `fn` (and everything it starts) in `scope`. */
export function runInRequestScope<T>(scope: RequestScope, fn: () => T): T {
  return storage.run(scope, fn);
}

/** The scope of the request being served, if any. */
export function currentRequestScope(): RequestScope | undefined {
  return storage.getStore();
}

/** The id of the request being served, if any. */
export function currentRequestId(): string | undefined {
  return storage.getStore()?.id;
}
