import formbody from '@fastify/formbody';
import swagger from '@fastify/swagger';
import { Ajv } from 'ajv';
import type { Options as AjvOptions } from 'ajv';
import addFormatsModule from 'ajv-formats';
import Fastify, { LogController } from 'fastify';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { AppError } from '../../lib/errors.js';
import type { Logger } from '../../lib/logger.js';
import { createMetrics } from '../../lib/metrics.js';
import type { RegistryServices } from '../registry.js';
import { registerAuthHook } from './auth-hook.js';
import { sendError } from './errors.js';
import { registerConsole } from './native/console-routes.js';
import type { ConsoleOptions } from './native/console-routes.js';
import { nacosRoutes } from './nacos/routes.js';
import { nativeRoutes } from './native/routes.js';

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

function ajv(options: AjvOptions): Ajv {
  const a = new Ajv({ allErrors: false, strict: false, useDefaults: true, ...options });
  addFormats(a);
  return a;
}

/** Options of the registry's HTTP server. */
export interface RegistryHttpOptions {
  logger: Logger;
  bodyLimitBytes: number;
  authEnabled: boolean;
  /** Answers /readyz: false while the database is unreachable. */
  ready: () => Promise<boolean>;
  role: string;
  /** What the console shows agents to connect to (see `ConsoleOptions`). */
  console?: ConsoleOptions;
}

/** The registry's HTTP server: native API, Nacos-compatible APIs, watch API, health and metrics. */
export async function buildRegistryHttp(services: RegistryServices, opts: RegistryHttpOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: opts.logger.child({ component: 'registry-http' }) as FastifyBaseLogger,
    bodyLimit: opts.bodyLimitBytes,
    // Watch streams stay open until the gateway leaves: close them too on shutdown.
    forceCloseConnections: true,
    logController: new LogController({ disableRequestLogging: true }),
    routerOptions: { ignoreTrailingSlash: true },
    ajv: {},
  });
  // Query strings and path parameters arrive as text: coerce them. Bodies must have the right JSON types.
  const coercing = ajv({ coerceTypes: 'array' });
  const strict = ajv({ coerceTypes: false });
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? strict : coercing).compile(schema));

  // An empty body with a JSON content type is an empty object (curl -X POST -H 'content-type: application/json').
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text.trim() === '') return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch (err) {
      done(new AppError('INVALID_JSON', `body: not valid JSON (${(err as Error).message})`, 'body'), undefined);
    }
  });
  await app.register(formbody);
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'mcpgate registry API', version: '1', description: 'Native registry API of mcpgate. Errors: `{"error":{"code","message","field"}}`; see docs/errors.md.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
    hideUntagged: true,
  });

  app.setErrorHandler((err, req, reply) => sendError(req, reply, err));
  app.setNotFoundHandler((req, reply) => sendError(req, reply, new AppError('ROUTE_NOT_FOUND', `no endpoint ${req.method} ${req.url.split('?')[0]}`)));
  registerAuthHook(app, services.auth, opts.authEnabled);

  const metrics = createMetrics(opts.role);
  metrics.observe(app);
  app.get('/healthz', { config: { auth: 'public' } }, async () => ({ status: 'UP' }));
  app.get('/readyz', { config: { auth: 'public' } }, async (_req, reply) => {
    const ok = await opts.ready().catch(() => false);
    return reply.status(ok ? 200 : 503).send({ status: ok ? 'UP' : 'DOWN' });
  });

  await registerConsole(app, services, opts.console);
  await app.register(nativeRoutes(services), { prefix: '/api/v1' });
  await app.register(nacosRoutes(services), { prefix: '/nacos' });
  app.get('/api/v1/openapi.json', { config: { auth: 'public' } }, async () => app.swagger());
  return app;
}
