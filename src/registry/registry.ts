import { hostname } from 'node:os';
import { ACTIVITY_RETENTION_MS } from './domain/activity.js';
import type { FastifyInstance } from 'fastify';
import { Registry as PromRegistry } from 'prom-client';
import { registerRegistryMetrics } from './metrics.js';
import type { Config } from '../config/config.js';
import { defaultGrpcPort } from '../config/config.js';
import type { Logger } from '../lib/logger.js';
import { ClusterNode } from './cluster/node.js';
import { HealthChecker } from './health/checker.js';
import { NacosGrpcServer } from './grpc/server.js';
import { closeGatewayDirectory, gatewayDirectory } from './http/console/gateways.js';
import { buildRegistryHttp } from './http/server.js';
import { openStore } from './store/open.js';
import { createRegistryServices } from './services.js';
import type { RegistryServices } from './services.js';

/** What a registry may be started with besides its configuration. */
export interface RegistryStartOptions {
  /** The clock of login throttling (tests move it instead of waiting); Date.now by default. */
  throttleClock?: () => number;
}

/** A running registry: store, background jobs and HTTP server. */
export class Registry {
  private readonly timers: NodeJS.Timeout[] = [];

  private constructor(
    readonly services: RegistryServices,
    readonly http: FastifyInstance,
    private readonly checker: HealthChecker,
    readonly cluster: ClusterNode,
    private readonly logger: Logger,
    /** The Nacos gRPC port's server (undefined when `grpcPort` is off). */
    readonly grpc: NacosGrpcServer | undefined,
  ) {}

  /** Open the database, migrate, bootstrap the first admin, join the cluster, start jobs and listen. */
  static async start(config: Config, logger: Logger, options: RegistryStartOptions = {}): Promise<Registry> {
    const store = await openStore(config.db);
    const services = createRegistryServices(store, config.auth.tokenTtlSeconds, Date.now, {
      throttle: { freeFailures: config.auth.loginFreeFailures, maxDelayMs: config.auth.loginMaxDelaySeconds * 1000, ...(options.throttleClock ? { now: options.throttleClock } : {}) },
      logger: logger.child({ component: 'auth' }),
    });
    let http: FastifyInstance | undefined;
    let grpc: NacosGrpcServer | undefined;
    const metrics = new PromRegistry();
    // Gateway reports go to the database in batches; a failed batch is written again by the next.
    const gatewayLog = logger.child({ component: 'gateways' });
    gatewayDirectory(services, (err) => gatewayLog.warn({ err }, 'could not record gateway reports in the database'));
    try {
      await services.naming.ensurePublicNamespace();
      const admin = await services.auth.bootstrap(config.auth.adminUsername, config.auth.adminPassword);
      if (admin.created && admin.password) {
        // Printed once, on the console only, so the operator can log in; never logged as JSON.
        process.stderr.write(`\nmcpgate: created the first admin user '${config.auth.adminUsername}' with password: ${admin.password}\n` +
          'mcpgate: change it after logging in; it is not shown again.\n\n');
      }
      if (config.auth.gatewayToken && (await services.auth.provisionGatewayToken(config.auth.gatewayToken))) {
        logger.info({ user: 'gateway' }, 'provisioned the gateways\' API token (auth.gatewayToken)');
      }
      services.importLimits = { allowPrivate: config.importAllowPrivateUrls, maxBytes: config.importMaxBytes, timeoutMs: config.importTimeoutSeconds * 1000 };
      await services.feed.start(config.revisionPollMs);
      http = await buildRegistryHttp(services, {
        logger, bodyLimitBytes: config.bodyLimitBytes, authEnabled: config.auth.enabled, role: 'registry',
        bindHost: config.host, allowedHosts: config.allowedHosts, allowedOrigins: config.allowedOrigins, trustedProxies: config.trustedProxies,
        console: { gatewayPort: config.gatewayPort, ...(config.publicGatewayUrl ? { publicGatewayUrl: config.publicGatewayUrl } : {}) },
        mcpRegistry: {
          public: config.mcpRegistryPublic, gatewayPort: config.gatewayPort,
          ...(config.publicGatewayUrl ? { publicGatewayUrl: config.publicGatewayUrl } : {}),
          ...(config.mcpRegistryNamePrefix ? { namePrefix: config.mcpRegistryNamePrefix } : {}),
        },
        ready: async () => { await store.revision(); return true; }, metrics, ...(config.tls ? { tls: config.tls } : {}),
      });
      await http.listen({ host: config.host, port: config.registryPort });
      if (config.grpcPort !== 'off') {
        grpc = new NacosGrpcServer(services, {
          host: config.host, port: config.grpcPort, authEnabled: config.auth.enabled, logger: logger.child({ component: 'grpc' }),
          maxMessageBytes: config.bodyLimitBytes, metrics,
        });
        try {
          await grpc.start();
        } catch (err) {
          // Taken while only defaulted (registry port + 1000): the registry serves without it, loudly.
          if (config.grpcPort !== defaultGrpcPort(config.registryPort)) throw err;
          await grpc.close().catch(() => undefined);
          grpc = undefined;
          logger.warn({ err }, 'the Nacos gRPC port (registry port + 1000) is taken: Nacos 2.x/3.x gRPC clients cannot connect; set grpcPort (--grpc-port) to another port, or off');
        }
      }
    } catch (err) {
      // Leave nothing open (the LISTEN connection, the pool) that would keep a failed process alive.
      await grpc?.close().catch(() => undefined);
      await http?.close().catch(() => undefined);
      await services.feed.stop().catch(() => undefined);
      await closeGatewayDirectory(services).catch(() => undefined);
      await store.close().catch(() => undefined);
      throw err;
    }
    const address = http.server.address();
    const port = typeof address === 'object' && address ? address.port : config.registryPort;
    const host = config.host === '0.0.0.0' || config.host === '::' ? hostname() : config.host;
    const cluster = new ClusterNode(store, services.feed, logger.child({ component: 'cluster' }), {
      address: `${host.includes(':') ? `[${host}]` : host}:${port}`, roles: config.role === 'serve' ? ['registry', 'gateway'] : ['registry'],
      leaderLockTtlMs: config.leaderLockTtlMs, heartbeatMs: config.nodeHeartbeatMs, retentionMs: config.nodeRetentionSeconds * 1000,
    });
    services.cluster = cluster;
    const counters = registerRegistryMetrics(metrics, { store, isLeader: () => cluster.isLeader });
    services.naming.onBeat = (result) => counters.beat(result);
    const healthLog = logger.child({ component: 'health' });
    const checker = new HealthChecker(store, services.naming, Date.now, (i, healthy, detail) => {
      counters.healthTransition(healthy);
      const instance = { namespace: i.namespace, group: i.group, service: i.serviceName, address: `${i.ip}:${i.port}` };
      if (healthy) healthLog.info({ ...instance, healthy }, 'instance healthy again');
      else healthLog.warn({ ...instance, healthy, detail }, 'instance unhealthy');
    });
    const registry = new Registry(services, http, checker, cluster, logger, grpc);
    registry.startJobs(config);
    await cluster.start();
    logger.info({ db: store.dialect, address, grpcPort: grpc?.port ?? 'off', auth: config.auth.enabled, node: cluster.id, leader: cluster.isLeader, changes: services.feed.source }, 'registry listening');
    if (!config.auth.enabled) logger.warn('registry auth is off: anyone who can reach the registry port can change it');
    return registry;
  }

  /**
   * The singleton jobs: ephemeral expiry (every second), health checks (every 500 ms, each
   * instance on its own interval) and pruning (every minute). Every node runs the timers;
   * only the node holding the leader lock does the work, checked before each run. Each job
   * re-reads what it changes inside its revisioned transaction, so a run that overlaps a
   * hand-over of leadership changes nothing twice.
   */
  private startJobs(config: Config): void {
    const { naming } = this.services;
    const cluster = this.cluster;
    const job = (name: string, everyMs: number, run: () => Promise<unknown>, quiet = false) => {
      let running = false;
      const t = setInterval(() => {
        if (running || !cluster.isLeader) return;
        running = true;
        run().catch((err: unknown) => { if (!quiet) this.logger.warn({ err }, `${name} failed`); }).finally(() => { running = false; });
      }, everyMs);
      t.unref();
      this.timers.push(t);
    };
    job('ephemeral sweep', 1000, async () => {
      const r = await naming.sweepEphemeral();
      if (r.removed + r.unhealthy > 0) this.logger.info(r, 'ephemeral instances expired');
    });
    // Database briefly away: the next tick retries (as before, without a log line every 500 ms).
    job('health check', 500, () => this.checker.tick(), true);
    job('pruning', 60_000, () => this.prune(config));
    // A new leader starts the health checker's counters afresh.
    cluster.on('deposed', () => this.checker.stop());
  }

  /**
   * One run of the pruning job: the change log beyond `changeLogRetention` revisions, audit
   * entries older than `auditRetentionDays` before `now`, cluster nodes (and their instance leases) gone for long, and
   * activity older than `ACTIVITY_RETENTION_MS`.
   */
  async prune(config: Pick<Config, 'changeLogRetention' | 'auditRetentionDays'>, now = Date.now()): Promise<{ auditEntries: number; nodes: number }> {
    const { store, audit } = this.services;
    const r = await store.revision();
    if (r > config.changeLogRetention) await store.pruneChanges(r - config.changeLogRetention);
    const auditEntries = await audit.prune(config.auditRetentionDays, now);
    if (auditEntries > 0) this.logger.info({ entries: auditEntries, olderThanDays: config.auditRetentionDays }, 'pruned audit log entries');
    const nodes = await this.cluster.pruneGoneNodes();
    // Leases of gRPC-held instances whose node went as long ago (their instances expired long since).
    await store.dropHolderLeases({ before: now - this.cluster.retentionMs });
    if (nodes > 0) this.logger.info({ nodes }, 'pruned registry nodes gone for long');
    // The Activity page reads a day back at most.
    await store.pruneActivity(now - ACTIVITY_RETENTION_MS);
    return { auditEntries, nodes };
  }

  /** The port the HTTP server listens on (useful with port 0). */
  get port(): number {
    const a = this.http.server.address();
    return typeof a === 'object' && a ? a.port : 0;
  }

  async close(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.checker.stop();
    // First the gRPC connections, whose ephemeral instances are deregistered while the store is open.
    await this.grpc?.close().catch((err: unknown) => this.logger.warn({ err }, 'closing the gRPC port failed'));
    await this.cluster.stop().catch((err: unknown) => this.logger.warn({ err }, 'leaving the cluster failed'));
    await this.services.feed.stop();
    await this.services.naming.flushBeats();
    await this.http.close();
    await closeGatewayDirectory(this.services);
    await this.services.store.close();
  }
}
