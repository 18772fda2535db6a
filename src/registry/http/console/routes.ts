/**
 * What the web console needs beyond the native API, and the console itself, one concern a file:
 *
 * - `try-it.ts`: `POST …/versions/{version}/try`, one tool of a (draft) version run through the
 *   tool runtime, its backend exchange recorded (`recording-dispatcher.ts`) and masked
 *   (`masking.ts`);
 * - `spec-check.ts`: `POST …/mcp-servers/validate` and `POST …/mcp-servers/import/preview`;
 * - `gateways.ts`: `GET /gateways` and `POST /gateways/heartbeat`, the gateways following this
 *   registry, and `GET /console/settings`;
 * - `activity.ts`: `POST /gateways/activity` and `GET /namespaces/{ns}/activity…`, the Activity page;
 * - `static-files.ts`: the built single-page app at `/`.
 */
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { Agent } from 'undici';
import { ArgumentHostGuard, guardedLookup } from '../../../tools/address-guard.js';
import type { ToolConnections } from '../../../tools/compile.js';
import type { RegistryServices } from '../../services.js';
import { activityRoutes } from './activity.js';
import { gatewayRoutes, observeWatchingGateways } from './gateways.js';
import type { ConsoleSettings } from './gateways.js';
import { specCheckRoutes } from './spec-check.js';
import { defaultConsoleDir, sendConsoleFile } from './static-files.js';
import { tryItRoutes } from './try-it.js';
import { upstreamImportRoutes } from './upstream-import.js';

/** Options of the console's routes and static files. */
export interface ConsoleOptions extends ConsoleSettings {
  /** Directory of the built single-page app (default: `src/console/dist` of the package). */
  consoleDir?: string;
}

/** The console's additional API routes (under /api/v1). */
function consoleApiRoutes(svc: RegistryServices, connections: () => ToolConnections, opts: ConsoleOptions): FastifyPluginAsync {
  return async (app: FastifyInstance) => {
    app.addHook('onRoute', (route) => {
      route.config = { family: 'native', ...(route.config ?? {}) } as typeof route.config;
    });
    const tag = { tags: ['console'] };
    tryItRoutes(app, svc, connections, tag);
    upstreamImportRoutes(app, svc, connections, tag);
    specCheckRoutes(app, svc, tag);
    gatewayRoutes(app, svc, opts, tag);
    activityRoutes(app, svc, tag);
  };
}

/**
 * Adds the console to the registry's HTTP server: its API routes under /api/v1, the built app
 * at `/` (with client-side routes falling back to index.html), and the gateway directory fed by
 * heartbeats and watch connections. Call before the native routes are registered, so that the
 * watch-observing hook covers them.
 */
export async function registerConsole(app: FastifyInstance, svc: RegistryServices, opts: ConsoleOptions = {}): Promise<void> {
  const dir = opts.consoleDir ?? defaultConsoleDir();
  let guarded: Agent | undefined;
  let open: Agent | undefined;
  let argumentHosts: ArgumentHostGuard | undefined;
  /** The connections of try-it calls, made on the first; hosts their arguments choose are never the registry's own port, as in the gateway. */
  const connections = (): ToolConnections => {
    guarded ??= new Agent({ keepAliveTimeout: 10_000, connections: 16, connect: { lookup: guardedLookup } });
    open ??= new Agent({ keepAliveTimeout: 10_000, connections: 16 });
    argumentHosts ??= new ArgumentHostGuard();
    const address = app.server.address();
    if (typeof address === 'object' && address) argumentHosts.own.addLocalPort(address.port);
    return { guarded, open, argumentHosts };
  };
  app.addHook('onClose', async () => {
    await guarded?.close();
    await open?.close();
    await argumentHosts?.close();
  });
  observeWatchingGateways(app, svc);

  await app.register(consoleApiRoutes(svc, connections, opts), { prefix: '/api/v1' });
  const serve = (req: FastifyRequest, reply: FastifyReply) => sendConsoleFile(req, reply, dir);
  app.get('/', { config: { auth: 'public' } }, serve);
  app.get('/*', { config: { auth: 'public' } }, serve);
}
