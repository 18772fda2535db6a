import type { FastifyInstance } from 'fastify';
import type { Config } from '../config/config.js';
import type { Logger } from '../lib/logger.js';
import { parse as parseTemplate } from '../gateway/template/index.js';
import { AuthService } from './domain/auth.js';
import { ChangeFeed } from './domain/context.js';
import { ConsumerService } from './domain/consumers.js';
import type { RegistryContext } from './domain/context.js';
import { McpService } from './domain/mcp.js';
import type { McpServerSpec } from './domain/model.js';
import { NamingService } from './domain/naming.js';
import { validateSpec } from './domain/spec-validation.js';
import { WatchService } from './domain/watch.js';
import { HealthChecker } from './health/checker.js';
import { buildRegistryHttp } from './http/server.js';
import { openStore } from './store/open.js';
import type { Store } from './store/store.js';

/** The registry's domain services, as the HTTP layers and the in-process gateway use them. */
export interface RegistryServices {
  store: Store;
  feed: ChangeFeed;
  naming: NamingService;
  mcp: McpService;
  auth: AuthService;
  watch: WatchService;
  consumers: ConsumerService;
}

/** Check a spec's schemas and parse every template with the gateway's engine, as on publish. */
export function checkSpec(spec: McpServerSpec): void {
  validateSpec(spec, { checkTemplate: (source, name) => { parseTemplate(source, { name }); } });
}

/** Wire the domain services over a store. */
export function createRegistryServices(store: Store, tokenTtlSeconds: number, now: () => number = Date.now): RegistryServices {
  const feed = new ChangeFeed(store);
  const ctx: RegistryContext = { store, feed, now };
  return {
    store, feed, naming: new NamingService(ctx), mcp: new McpService(ctx, checkSpec), auth: new AuthService(ctx, tokenTtlSeconds),
    watch: new WatchService(ctx), consumers: new ConsumerService(ctx),
  };
}

/** A running registry: store, background jobs and HTTP server. */
export class Registry {
  private readonly timers: NodeJS.Timeout[] = [];

  private constructor(
    readonly services: RegistryServices,
    readonly http: FastifyInstance,
    private readonly checker: HealthChecker,
    private readonly logger: Logger,
  ) {}

  /** Open the database, migrate, bootstrap the first admin, start jobs and listen. */
  static async start(config: Config, logger: Logger): Promise<Registry> {
    const store = await openStore(config.db);
    const services = createRegistryServices(store, config.auth.tokenTtlSeconds);
    await services.naming.ensurePublicNamespace();
    const admin = await services.auth.bootstrap(config.auth.adminUsername, config.auth.adminPassword);
    if (admin.created && admin.password) {
      // Printed once, on the console only, so the operator can log in; never logged as JSON.
      process.stderr.write(`\nmcpgate: created the first admin user '${config.auth.adminUsername}' with password: ${admin.password}\n` +
        'mcpgate: change it after logging in; it is not shown again.\n\n');
    }
    await services.feed.start(config.revisionPollMs);
    const http = await buildRegistryHttp(services, {
      logger, bodyLimitBytes: config.bodyLimitBytes, authEnabled: config.auth.enabled, role: 'registry',
      ready: async () => { await store.revision(); return true; },
    });
    const checker = new HealthChecker(store, services.naming);
    const registry = new Registry(services, http, checker, logger);
    registry.startJobs(config);
    await http.listen({ host: config.host, port: config.registryPort });
    logger.info({ db: store.dialect, address: http.server.address(), auth: config.auth.enabled }, 'registry listening');
    if (!config.auth.enabled) logger.warn('registry auth is off: anyone who can reach the registry port can change it');
    return registry;
  }

  private startJobs(config: Config): void {
    const { naming, store } = this.services;
    const sweep = setInterval(() => {
      naming.sweepEphemeral().then(
        (r) => { if (r.removed + r.unhealthy > 0) this.logger.info(r, 'ephemeral instances expired'); },
        (err: unknown) => this.logger.warn({ err }, 'ephemeral sweep failed'),
      );
    }, 1000);
    const prune = setInterval(() => {
      store.revision().then((r) => (r > config.changeLogRetention ? store.pruneChanges(r - config.changeLogRetention) : undefined))
        .catch((err: unknown) => this.logger.warn({ err }, 'change log pruning failed'));
    }, 60_000);
    sweep.unref();
    prune.unref();
    this.timers.push(sweep, prune);
    this.checker.start();
  }

  /** The port the HTTP server listens on (useful with port 0). */
  get port(): number {
    const a = this.http.server.address();
    return typeof a === 'object' && a ? a.port : 0;
  }

  async close(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.checker.stop();
    this.services.feed.stop();
    await this.services.naming.flushBeats();
    await this.http.close();
    await this.services.store.close();
  }
}
