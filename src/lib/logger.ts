import { pino, stdSerializers } from 'pino';
import type { DestinationStream, LogFn, Logger } from 'pino';
import { currentRequestId } from './request-context.js';
import { isSecretName } from './secret-names.js';
import { currentTraceIds } from './tracing.js';

/** What a log line shows in place of a credential. */
export const LOG_REDACTED = '[redacted]';

/** Well-known places of credentials, censored by pino itself (fast-redact). */
const REDACT_PATHS = [
  'req.headers.authorization', 'req.headers["proxy-authorization"]', 'req.headers.cookie', 'req.headers["x-api-key"]', 'req.headers.accesstoken',
  'res.headers["set-cookie"]', 'headers.authorization', 'headers.cookie', '*.headers.authorization', '*.headers.cookie',
  'password', '*.password', 'token', '*.token', 'accessToken', '*.accessToken',
];

const INLINE: [RegExp, string][] = [
  // Authorization values written into a message or an error.
  [/\b(Bearer|Basic|Digest|Token)\s+[A-Za-z0-9._~+/=-]{4,}/gi, `$1 ${LOG_REDACTED}`],
  // Registry API tokens and gateway consumer keys, wherever they appear.
  [/\bmg[tk]_[A-Za-z0-9_-]{4,}/g, LOG_REDACTED],
  // The password of a URL's user info.
  [/(\/\/[^/\s:@]+:)[^@\s/]+@/g, `$1${LOG_REDACTED}@`],
];
const PAIR = /([?&;\s]|^)([A-Za-z0-9_.-]{1,64})=([^&\s#"',;]*)/g;
/**
 * What every pattern above needs to match (a scheme word, a token prefix, `@`, `=`): text without
 * any of them is returned as is after one test rather than five replacements (most log
 * messages and values).
 */
const MAY_HOLD_SECRET = /[=@]|mg[tk]_|bearer|basic|digest|token/i;

/** Text with inline credentials censored: authorization values, mcpgate tokens, URL passwords, `name=value` pairs named like secrets. */
export function scrubText(text: string): string {
  if (!MAY_HOLD_SECRET.test(text)) return text;
  let out = text;
  for (const [re, to] of INLINE) out = out.replace(re, to);
  return out.replace(PAIR, (all, lead: string, name: string, value: string) => (value !== '' && isSecretName(name) ? `${lead}${name}=${LOG_REDACTED}` : all));
}

/** Hides the secrets of one shape of object the rule of names cannot see (answers undefined for other objects). */
export type LogRedactor = (value: Record<string, unknown>) => Record<string, unknown> | undefined;

const redactors = new Set<LogRedactor>();

/**
 * Teach every logger of the process to hide the secrets of a shape of object, such as the
 * registry's MCP server specs, whose secrets are declared by the spec itself (not only named
 * like one). Answers the function that removes it again.
 */
export function addLogRedactor(redactor: LogRedactor): () => void {
  redactors.add(redactor);
  return () => redactors.delete(redactor);
}

function isPlain(v: object): boolean {
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

/**
 * A log value with credentials censored, at any depth: values under keys named like secrets
 * (lib/secret-names.ts), and inline credentials in strings. Errors become their serialized form
 * (message, stack, cause and their own fields), scrubbed the same way; other class instances are
 * left to their serializers.
 */
export function scrubLogValue(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return scrubText(value);
  if (typeof value !== 'object' || value === null || depth > 12) return value;
  if (Array.isArray(value)) return value.map((v) => scrubLogValue(v, depth + 1));
  if (value instanceof Error) return scrubLogValue({ ...stdSerializers.err(value) }, depth + 1);
  if (!isPlain(value)) return value;
  let record = value as Record<string, unknown>;
  for (const r of redactors) record = r(record) ?? record;
  // A header or parameter as a pair ({key, value} / {name, value}) named like a secret.
  const pairName = typeof record.key === 'string' ? record.key : typeof record.name === 'string' ? record.name : undefined;
  if (pairName !== undefined && typeof record.value === 'string' && record.value !== '' && isSecretName(pairName)) record = { ...record, value: LOG_REDACTED };
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(record)) {
    const hidden = v !== null && v !== undefined && typeof v !== 'boolean' && isSecretName(k);
    out[k] = hidden ? LOG_REDACTED : scrubLogValue(v, depth + 1);
  }
  return out;
}

/** A request as a log line shows it (the shape Fastify logs), its URL scrubbed: Nacos clients send `accessToken` in the query. */
function requestSerializer(req: { method?: string; url?: string; ip?: string; host?: string; socket?: { remoteAddress?: string; remotePort?: number } }): Record<string, unknown> {
  return {
    method: req.method, url: typeof req.url === 'string' ? scrubText(req.url) : req.url, host: req.host,
    remoteAddress: req.ip ?? req.socket?.remoteAddress, remotePort: req.socket?.remotePort,
  };
}

/** Whether a logger's own bindings name a request (pino parses them on each `bindings()` call: asked once per logger). */
const boundToRequest = new WeakMap<Logger, boolean>();
function hasReqIdBinding(logger: Logger): boolean {
  let bound = boundToRequest.get(logger);
  if (bound === undefined) {
    bound = 'reqId' in logger.bindings();
    boundToRequest.set(logger, bound);
  }
  return bound;
}

/**
 * The process logger: JSON lines on stdout (pino), or on `destination`; a line written while
 * serving a request carries its `reqId` (lib/request-context.ts). Credentials never reach
 * a line: pino censors their well-known paths, every logged object is scrubbed at any depth
 * (values of secret-named keys, inline tokens and passwords), errors after serialization, and
 * messages too.
 */
export function createLogger(level: string, name = 'mcpgate', destination?: DestinationStream): Logger {
  const options = {
    name, level,
    redact: { paths: REDACT_PATHS, censor: LOG_REDACTED },
    formatters: { log: (obj: Record<string, unknown>) => scrubLogValue(obj) as Record<string, unknown> },
    // Every line written while serving a request names it (unless the logger is already bound to
    // it, as Fastify's request loggers are).
    // With tracing on, the current span's `trace_id` and `span_id` too (lib/tracing.ts).
    mixin: (_obj: object, _level: number, logger: Logger) => {
      const reqId = currentRequestId();
      const ids = currentTraceIds();
      const own = reqId === undefined || hasReqIdBinding(logger) ? {} : { reqId };
      return ids === undefined ? own : { ...own, ...ids };
    },
    // The serialized error's own fields (message, stack, cause, and any the error carries), scrubbed like the rest.
    serializers: { err: (e: unknown) => (e instanceof Error ? scrubLogValue(e) : e), req: requestSerializer },
    hooks: {
      logMethod(this: Logger, args: Parameters<LogFn>, method: LogFn) {
        const scrubbed = args.map((a) => (typeof a === 'string' ? scrubText(a) : a)) as Parameters<LogFn>;
        return method.apply(this, scrubbed);
      },
    },
  };
  return destination ? pino(options, destination) : pino(options);
}

export type { Logger };
