import formbody from '@fastify/formbody';
import type { RequestListener, Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { loadTls, watchTls } from '../../lib/tls.js';
import type { TlsFiles } from '../../lib/tls.js';
import swagger from '@fastify/swagger';
import { Ajv } from 'ajv';
import type { Options as AjvOptions } from 'ajv';
import addFormatsModule from 'ajv-formats';
import Fastify, { LogController } from 'fastify';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { AppError } from '../../lib/errors.js';
import { checkJsonDepth } from '../../lib/json-depth.js';
import type { Logger } from '../../lib/logger.js';
import type { Registry as PromRegistry } from 'prom-client';
import { createMetrics } from '../../lib/metrics.js';
import { OriginPolicy } from '../../lib/origin-policy.js';
import { REQUEST_ID_HEADER, holdRequestScopes, requestIdFrom, runInRequestScope } from '../../lib/request-context.js';
import { actorOf } from '../domain/audit.js';
import type { RequestOrigin } from '../domain/audit.js';
import type { RegistryServices } from '../services.js';
import { registerAuthHook } from './auth-hook.js';
import { sendError } from './errors.js';
import { registerInputGuard } from './input-guard.js';
import { registerOriginGuard } from './origin-hook.js';
import { lazyChildLogger } from './request-logger.js';
import { registerConsole } from './console/routes.js';
import type { ConsoleOptions } from './console/routes.js';
import { nacosRoutes } from './nacos/routes.js';
import { nativeRoutes } from './native/routes.js';
import { isAnonymousRegistryRead, mcpRegistryRoutes } from './mcp-registry/routes.js';
import type { McpRegistryOptions } from './mcp-registry/routes.js';

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

function ajv(options: AjvOptions): Ajv {
  const a = new Ajv({ allErrors: false, strict: false, useDefaults: true, ...options });
  addFormats(a);
  return a;
}

/** Each registry request's hold on request scopes (released once its answer is on its way). */
const scopeReleases = new WeakMap<object, () => void>();

/** Options of the registry's HTTP server. */
export interface RegistryHttpOptions {
  logger: Logger;
  bodyLimitBytes: number;
  authEnabled: boolean;
  /** Answers /readyz: false while the database is unreachable. */
  ready: () => Promise<boolean>;
  role: string;
  /** The address the registry listens on: which `Host` names it answers to follows from it (DNS rebinding protection). */
  bindHost: string;
  /** Further host names requests may be addressed to (`allowedHosts`). */
  allowedHosts?: readonly string[];
  /** Browser origins allowed besides the console's own (`allowedOrigins`). */
  allowedOrigins?: readonly string[];
  /** Reverse proxies whose `X-Forwarded-For` names the client (`trustedProxies`). */
  trustedProxies?: readonly string[];
  /** What the console shows agents to connect to (see `ConsoleOptions`). */
  console?: ConsoleOptions;
  /** The MCP Registry API's access, names and gateway address (see `McpRegistryOptions`). */
  mcpRegistry?: McpRegistryOptions;
  /** Serve HTTPS with this certificate and key (reloaded when the files change); plain HTTP when omitted. */
  tls?: TlsFiles;
  /** The Prometheus registry `/metrics` serves (other parts of the process, such as the gRPC port, register in it too). */
  metrics?: PromRegistry;
}

/** An HTTPS server for Fastify with the files' certificate, reloaded when they change (stops watching on close). */
function httpsFactory(files: TlsFiles, logger: Logger): (handler: RequestListener) => HttpServer {
  return (handler) => {
    const server = createHttpsServer(loadTls(files), handler);
    const unwatch = watchTls(server, files, logger);
    server.once('close', unwatch);
    // Fastify drives it as a node:http server: same request events, close and connection methods.
    return server as unknown as HttpServer;
  };
}

/** The registry's HTTP server: native API, Nacos-compatible APIs, watch API, health and metrics. */
export async function buildRegistryHttp(services: RegistryServices, opts: RegistryHttpOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: opts.logger.child({ component: 'registry-http' }) as FastifyBaseLogger,
    bodyLimit: opts.bodyLimitBytes,
    // Watch streams stay open until the gateway leaves: close them too on shutdown.
    forceCloseConnections: true,
    // HTTPS through a server factory: the instance keeps its one type, the listener is TLS.
    ...(opts.tls ? { serverFactory: httpsFactory(opts.tls, opts.logger) } : {}),
    logController: new LogController({ disableRequestLogging: true }),
    // `req.log` is made on its first use: most requests never log (request-logger.ts).
    childLoggerFactory: lazyChildLogger,
    routerOptions: { ignoreTrailingSlash: true },
    ajv: {},
    ...(opts.trustedProxies && opts.trustedProxies.length > 0 ? { trustProxy: [...opts.trustedProxies] } : {}),
    // A malformed path (`/api/v1/namespaces/%zz`) is refused before routing: answer it like any other error.
    frameworkErrors: (err, req, reply) => sendError(req, reply, err),
    // A proxy's X-Request-Id is kept when plausible (lib/request-context.ts); else a new UUID.
    requestIdHeader: false,
    genReqId: (req) => requestIdFrom(req.headers[REQUEST_ID_HEADER]),
  });
  // Query strings and path parameters arrive as text: coerce them. Bodies must have the right JSON types.
  const coercing = ajv({ coerceTypes: 'array' });
  const strict = ajv({ coerceTypes: false });
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? strict : coercing).compile(schema));

  // An empty body with a JSON content type is an empty object (curl -X POST -H 'content-type: application/json').
  // Nesting deeper than MAX_JSON_DEPTH is refused before JSON.parse, which would block the event loop on it.
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text.trim() === '') return done(null, undefined);
    try {
      checkJsonDepth(text, 'body');
      done(null, JSON.parse(text));
    } catch (err) {
      done(err instanceof AppError ? err : new AppError('INVALID_JSON', `body: not valid JSON (${(err as Error).message})`, 'body'), undefined);
    }
  });
  await app.register(formbody);
  // A body of another type is refused (415), unless it is empty: Nacos clients (the Python SDK's
  // login) send their parameters in the query string of a POST with `application/octet-stream`.
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => {
    if (body.length === 0) return done(null, undefined);
    done(new AppError('UNSUPPORTED_MEDIA_TYPE', 'unsupported content type; send application/json or application/x-www-form-urlencoded'), undefined);
  });
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'mcpgate registry API', version: '1', description: 'Native registry API of mcpgate. Errors: `{"error":{"code","message","field"}}`; see docs/errors.md.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
    hideUntagged: true,
  });

  // Each request runs as its origin, which the audit log records with every change it makes:
  // the caller (resolved later by the auth hook), the client address and the route.
  // It also runs as its request id (log lines of the domain carry it), sent back in X-Request-Id.
  app.addHook('onRequest', (req, reply, done) => {
    const route = req.routeOptions.url ? `${req.method} ${req.routeOptions.url}` : null;
    reply.header(REQUEST_ID_HEADER, req.id);
    // One scope for both (one AsyncLocalStorage run per request). The storage is off while no
    // request holds it (lib/request-context.ts): held until the handler's answer is on its way
    // (onSend; a client gone before that does not end a change being made, nor its audit entry),
    // or until a hijacked answer (a stream) ends.
    const origin: RequestOrigin = { address: req.ip || null, route, actor: () => actorOf(req.principal ?? undefined) };
    const release = holdRequestScopes();
    scopeReleases.set(req, release);
    // A hijacked answer (a stream) gets no onSend: its hold ends with its connection, finished or not.
    reply.raw.on('close', () => { if (reply.sent) release(); });
    runInRequestScope({ id: req.id, origin }, done);
  });
  app.addHook('onSend', (req, _reply, payload, done) => {
    scopeReleases.get(req)?.();
    done(null, payload);
  });
  app.setErrorHandler((err, req, reply) => sendError(req, reply, err));
  app.setNotFoundHandler((req, reply) => sendError(req, reply, new AppError('ROUTE_NOT_FOUND', `no endpoint ${req.method} ${req.url.split('?')[0]}`)));
  // First of all hooks: the Host and Origin rules, then authentication, both before a body is read.
  // The console is served by this server, so only its own origin (and allowedOrigins) may call.
  registerOriginGuard(app, new OriginPolicy({
    bindHost: opts.bindHost, allowedHosts: opts.allowedHosts ?? [], allowedOrigins: opts.allowedOrigins ?? [], allowLoopbackOrigins: false,
  }), opts.mcpRegistry?.public ? isAnonymousRegistryRead : undefined);
  registerAuthHook(app, services.auth, opts.authEnabled);
  registerInputGuard(app);

  const metrics = createMetrics(opts.role, opts.metrics);
  metrics.observe(app);
  app.get('/healthz', { config: { auth: 'public' } }, async () => ({ status: 'UP' }));
  app.get('/readyz', { config: { auth: 'public' } }, async (_req, reply) => {
    const ok = await opts.ready().catch(() => false);
    return reply.status(ok ? 200 : 503).send({ status: ok ? 'UP' : 'DOWN' });
  });

  await registerConsole(app, services, opts.console);
  await app.register(nativeRoutes(services), { prefix: '/api/v1' });
  await app.register(nacosRoutes(services), { prefix: '/nacos' });
  await app.register(mcpRegistryRoutes(services, opts.mcpRegistry));
  app.get('/api/v1/openapi.json', { config: { auth: 'public' } }, async () => app.swagger());
  return app;
}
