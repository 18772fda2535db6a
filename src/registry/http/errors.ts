import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, ERRORS, TooManyAttemptsError } from '../../lib/errors.js';

/** The API families of the registry port; each answers errors in its own shape. */
export type ApiFamily = 'native' | 'nacos-v1' | 'nacos-envelope';

const NACOS_MESSAGES: Record<number, string> = {
  10000: 'parameter missing', 10001: 'access denied', 20002: 'parameter validate error', 20004: 'resource not found', 20005: 'resource conflict',
  20404: 'instance not found', 40001: 'user not logged in', 40003: 'no permission', 50000: 'mcp server not found',
  50001: 'mcp server version not found', 30000: 'server error',
};

/** Turn anything thrown while serving a request into an AppError (the one place that knows Fastify's error codes). */
export function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  const e = err as FastifyError & { validation?: { instancePath: string; message?: string; params?: Record<string, unknown> }[]; validationContext?: string };
  if (e.validation && e.validation.length > 0) {
    const v = e.validation[0];
    const missingProp = v?.params?.missingProperty;
    // An unknown property is named itself (`surprise`), not the object holding it.
    const extraProp = v?.params?.additionalProperty;
    const named = typeof missingProp === 'string' ? [missingProp] : typeof extraProp === 'string' ? [extraProp] : [];
    const path = [e.validationContext, ...(v?.instancePath ?? '').split('/').filter(Boolean), ...named]
      .filter(Boolean).join('.');
    const field = path.replace(/^(body|querystring|params|headers)\./, '');
    const code = typeof missingProp === 'string' ? 'PARAMETER_MISSING' : 'VALIDATION_FAILED';
    const extra = v?.params?.allowedValues ? ` (${(v.params.allowedValues as unknown[]).join(', ')})` : '';
    const message = typeof extraProp === 'string' ? 'is not a known field' : v?.message ?? 'is invalid';
    return new AppError(code, `${field || e.validationContext || 'request'}: ${message}${extra}`, field || undefined);
  }
  switch (e.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new AppError('PAYLOAD_TOO_LARGE', 'body: the request body is larger than the limit (1 MiB by default, bodyLimitBytes)', 'body');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new AppError('UNSUPPORTED_MEDIA_TYPE', `unsupported content type; send application/json or application/x-www-form-urlencoded`);
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new AppError('INVALID_JSON', 'body: the JSON body is empty', 'body');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new AppError('VALIDATION_FAILED', 'content-length does not match the body', 'content-length');
    case 'FST_ERR_BAD_URL':
      return new AppError('VALIDATION_FAILED', `path: ${e.message}`, 'path');
    default:
      break;
  }
  if (e instanceof SyntaxError || e.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || (e.statusCode === 400 && /JSON/i.test(e.message))) {
    return new AppError('INVALID_JSON', `body: not valid JSON (${e.message})`, 'body');
  }
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return new AppError('VALIDATION_FAILED', e.message);
  }
  return new AppError('INTERNAL', 'internal error');
}

/** The API family of a path no route matched (so a 404 under /nacos answers in Nacos' shape). */
function familyOfPath(url: string): ApiFamily {
  if (url.startsWith('/nacos/v1/')) return 'nacos-v1';
  if (url.startsWith('/nacos/')) return 'nacos-envelope';
  return 'native';
}

/** Send an error in the shape of the route's API family. */
export function sendError(req: FastifyRequest, reply: FastifyReply, err: unknown): FastifyReply {
  const app = toAppError(err);
  if (app.code === 'INTERNAL') req.log.error({ err }, 'request failed');
  // A wrong password is logged once, by the auth service, with the user and the address; a refusal without credential is routine.
  else if (app.code === 'UNAUTHORIZED' || app.code === 'TOO_MANY_LOGIN_ATTEMPTS') req.log.debug({ code: app.code, msg: app.message }, 'request refused');
  else req.log.info({ code: app.code, msg: app.message }, 'request refused');
  const family = (req.routeOptions.config as { family?: ApiFamily } | undefined)?.family ?? familyOfPath(req.url);
  reply.status(app.status);
  if (app.code === 'UNAUTHORIZED') reply.header('www-authenticate', 'Bearer realm="mcpgate"');
  if (app instanceof TooManyAttemptsError) reply.header('retry-after', String(app.retryAfterSeconds));
  if (family === 'nacos-v1') return reply.type('text/plain; charset=utf-8').send(`caused: ${app.message};`);
  if (family === 'nacos-envelope') {
    return reply.send({ code: app.nacosCode, message: NACOS_MESSAGES[app.nacosCode] ?? app.code.toLowerCase(), data: app.message });
  }
  return reply.send({ error: { code: app.code, message: app.message, ...(app.field ? { field: app.field } : {}) } });
}

/** The documented error table, for docs and the OpenAPI document. */
export function errorTable(): { code: string; status: number; nacos: number; doc: string }[] {
  return Object.entries(ERRORS).map(([code, e]) => ({ code, ...e }));
}
