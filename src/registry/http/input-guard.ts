import type { FastifyInstance } from 'fastify';
import { checkJsonInput } from '../../lib/json-input.js';

/**
 * Refuse, before any handler runs, path parameters, query parameters and bodies that nest too
 * deeply or hold a NUL character (see `checkJsonInput`): a 400 naming the field, on every API.
 * Registered after the auth hook, so callers without a credential still get 401 first.
 */
export function registerInputGuard(app: FastifyInstance): void {
  app.addHook('preHandler', async (req) => {
    checkJsonInput(req.params, '');
    checkJsonInput(req.query, '');
    if (req.body !== undefined) checkJsonInput(req.body, '');
  });
}
