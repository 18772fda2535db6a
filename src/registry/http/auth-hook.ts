import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../../lib/errors.js';
import type { AuthService, Principal } from '../domain/auth.js';
import { ANONYMOUS_ADMIN } from '../domain/auth.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Who is calling; set by the auth hook before the body is read (or, for a credential in a small form body, right after). */
    principal: Principal;
  }
  interface FastifyContextConfig {
    /** `public` routes need no credential (login, health, metrics). */
    auth?: 'public' | 'required';
    family?: 'native' | 'nacos-v1' | 'nacos-envelope';
  }
}

/**
 * The largest form body read before its sender is authenticated, for the `accessToken` or
 * `username` + `password` fields Nacos clients may send in it. Larger bodies, and bodies of
 * other types, need the credential in a header or the query string.
 */
export const FORM_CREDENTIALS_LIMIT = 64 * 1024;

const UNAUTHORIZED = 'log in first: send Authorization: Bearer <token> (POST /api/v1/auth/login or /nacos/v1/auth/login)';

function text(v: unknown): string | undefined {
  if (Array.isArray(v)) v = v[0];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** Whether a request carries a form body: small enough (known length, at most FORM_CREDENTIALS_LIMIT) to be read for a credential before authentication, or not. */
function formBody(req: FastifyRequest): 'none' | 'small' | 'large' {
  const type = req.headers['content-type'];
  if (typeof type !== 'string' || !type.toLowerCase().startsWith('application/x-www-form-urlencoded')) return 'none';
  if (req.headers['transfer-encoding'] !== undefined) return 'large';
  const length = Number(req.headers['content-length']);
  if (!Number.isInteger(length) || length <= 0) return 'none';
  return length <= FORM_CREDENTIALS_LIMIT ? 'small' : 'large';
}

/**
 * Resolve the caller on every request, the ways Nacos accepts a credential:
 * `Authorization: Bearer`, an `accessToken` header, query parameter or form field, or raw
 * `username` + `password` parameters. With auth off, everyone is an admin.
 *
 * Authentication runs when the request arrives, before its body is read, parsed or checked
 * against a schema: a request without a credential in its headers or query string is refused
 * at once, unless it carries a form body of at most FORM_CREDENTIALS_LIMIT bytes, which is read
 * and looked at for the credential before anything else (`preValidation`). JSON bodies never
 * carry credentials (Nacos reads them from servlet parameters: query and form only).
 */
export function registerAuthHook(app: FastifyInstance, auth: AuthService, enabled: boolean): void {
  app.decorateRequest('principal', null as unknown as Principal);
  const awaitingForm = new WeakSet<FastifyRequest>();

  // Callback hooks, not async ones: a request resolved without waiting (auth off, a public route) costs no promise
  // and no turn of the microtask queue; only a credential to verify waits.
  const settle = (req: FastifyRequest, done: (err?: Error) => void, principal: Promise<Principal>) => {
    principal.then((p) => {
      req.principal = p;
      done();
    }, (err: unknown) => done(err as Error));
  };

  app.addHook('onRequest', (req, _reply, done) => {
    if (!enabled) {
      req.principal = ANONYMOUS_ADMIN;
      return done();
    }
    const header = req.headers.authorization;
    const bearer = header?.toLowerCase().startsWith('bearer ') ? header.slice(7).trim() : undefined;
    const query = req.query as Record<string, unknown> | undefined;
    const token = bearer || text(req.headers.accesstoken) || text(query?.accessToken);
    if (token) return settle(req, done, auth.verifyToken(token));
    if ((req.routeOptions.config?.auth ?? 'required') === 'public') return done();
    const username = text(query?.username);
    const password = text(query?.password);
    if (username && password) return settle(req, done, auth.checkPassword(username, password, req.ip));
    const form = formBody(req);
    if (form === 'small') {
      awaitingForm.add(req);
      return done();
    }
    done(new AppError('UNAUTHORIZED', form === 'large'
      ? `${UNAUTHORIZED}; a credential in a form body is read only from bodies of at most ${FORM_CREDENTIALS_LIMIT / 1024} KiB with a Content-Length: send it in a header or the query string`
      : UNAUTHORIZED));
  });

  // Runs after the (small, form) body is parsed and before it is validated or handled.
  app.addHook('preValidation', (req, _reply, done) => {
    if (!awaitingForm.has(req)) return done();
    awaitingForm.delete(req);
    const body = req.body as Record<string, unknown> | undefined;
    const token = text(body?.accessToken);
    if (token) return settle(req, done, auth.verifyToken(token));
    const username = text(body?.username);
    const password = text(body?.password);
    if (username && password) return settle(req, done, auth.checkPassword(username, password, req.ip));
    done(new AppError('UNAUTHORIZED', UNAUTHORIZED));
  });
}
