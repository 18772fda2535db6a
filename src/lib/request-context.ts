/**
 * The request id of the request being served, for every log line written while serving it and
 * for its error answers (`X-Request-Id` on every answer; `requestId` in error bodies). A client's
 * own `X-Request-Id` (a proxy's, say) is kept when it is a plausible id, so one id follows a
 * request through nginx, the gateway and the logs; otherwise one is made.
 *
 * Carried in an AsyncLocalStorage (node:async_hooks) where it must follow a request into parts
 * that log without it at hand (the registry's domain and audit log, upstream MCP servers, the
 * Redis session store, tracing). On Node 20 an enabled AsyncLocalStorage runs a hook on every
 * promise the process makes (about 6-8 µs of a REST tools/call's 85): so the storage is enabled
 * only while someone holds it (`holdRequestScopes`), and the gateway serving only REST tools
 * carries the id on the answer instead (`requestIdOf`).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';

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

let holders = 0;
let idleTimer: NodeJS.Timeout | undefined;
/** How long the storage stays enabled after its last holder let go (a burst of registry requests does not switch the hook on and off per request). */
const DISABLE_AFTER_MS = 1000;

/**
 * Keep request scopes working until the returned function is called (once): the registry's HTTP
 * layer holds them per request, the gateway while its snapshot or setup needs them. A second after
 * the last holder lets go the storage is disabled (its promise hook off); a scope entered after
 * that enables it again. Work a request left running past its release reads no scope then.
 */
export function holdRequestScopes(): () => void {
  holders++;
  if (idleTimer !== undefined) {
    clearTimeout(idleTimer);
    idleTimer = undefined;
  }
  let held = true;
  return () => {
    if (!held) return;
    held = false;
    if (--holders > 0) return;
    idleTimer = setTimeout(() => {
      idleTimer = undefined;
      if (holders === 0) storage.disable();
    }, DISABLE_AFTER_MS);
    idleTimer.unref();
  };
}

/** The id of the request `res` answers (the gateway names every answer, `X-Request-Id`), else the current scope's. */
export function requestIdOf(res: ServerResponse): string | undefined {
  const id = res.getHeader(REQUEST_ID_HEADER);
  return typeof id === 'string' ? id : currentRequestId();
}

/** The scope of the request being served, if any. */
export function currentRequestScope(): RequestScope | undefined {
  return storage.getStore();
}

/** The id of the request being served, if any. */
export function currentRequestId(): string | undefined {
  return storage.getStore()?.id;
}
