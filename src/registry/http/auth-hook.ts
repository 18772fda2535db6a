import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../../lib/errors.js';
import type { AuthService, Principal } from '../domain/auth.js';
import { ANONYMOUS_ADMIN } from '../domain/auth.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Who is calling; set by the auth hook before every handler. */
    principal: Principal;
  }
  interface FastifyContextConfig {
    /** `public` routes need no credential (login, health, metrics). */
    auth?: 'public' | 'required';
    family?: 'native' | 'nacos-v1' | 'nacos-envelope';
  }
}

function field(req: FastifyRequest, name: string): string | undefined {
  const q = (req.query as Record<string, unknown> | undefined)?.[name];
  if (typeof q === 'string' && q !== '') return q;
  const b = (req.body as Record<string, unknown> | undefined)?.[name];
  return typeof b === 'string' && b !== '' ? b : undefined;
}

/**
 * Resolve the caller on every request, the ways Nacos accepts a credential:
 * `Authorization: Bearer`, an `accessToken` header, query or form field, or raw
 * `username` + `password` parameters. With auth off, everyone is an admin.
 */
export function registerAuthHook(app: FastifyInstance, auth: AuthService, enabled: boolean): void {
  app.decorateRequest('principal', null as unknown as Principal);
  app.addHook('preHandler', async (req) => {
    if (!enabled) {
      req.principal = ANONYMOUS_ADMIN;
      return;
    }
    const header = req.headers.authorization;
    const bearer = header?.toLowerCase().startsWith('bearer ') ? header.slice(7).trim() : undefined;
    const accessHeader = req.headers.accesstoken;
    const token = bearer || (typeof accessHeader === 'string' && accessHeader) || field(req, 'accessToken');
    const mode = req.routeOptions.config?.auth ?? 'required';
    if (token) {
      req.principal = await auth.verifyToken(token);
      return;
    }
    const username = field(req, 'username');
    const password = field(req, 'password');
    if (username && password && mode !== 'public') {
      req.principal = await auth.checkPassword(username, password);
      return;
    }
    if (mode === 'public') return;
    throw new AppError('UNAUTHORIZED', 'log in first: send Authorization: Bearer <token> (POST /api/v1/auth/login or /nacos/v1/auth/login)');
  });
}
