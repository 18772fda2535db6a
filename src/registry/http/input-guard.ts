import type { FastifyInstance } from 'fastify';
import { checkJsonInput } from '../../lib/json-input.js';

/**
 * Refuse, before any handler runs, path parameters, query parameters and bodies that nest too
 * deeply or hold a NUL character (see `checkJsonInput`): a 400 naming the field, on every API.
 * Registered after the auth hook, so callers without a credential still get 401 first.
 */
export function registerInputGuard(app: FastifyInstance): void {
  // A callback hook: an async one costs a promise and a turn of the microtask queue on every request.
  app.addHook('preHandler', (req, _reply, done) => {
    try {
      checkJsonInput(req.params, '');
      checkJsonInput(req.query, '');
      if (req.body !== undefined) checkJsonInput(req.body, '');
    } catch (err) {
      return done(err as Error);
    }
    done();
  });
}
