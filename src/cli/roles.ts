import { statSync, readFileSync } from 'node:fs';
import { ActivityRecorder } from '../gateway/activity.js';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { Config } from '../config/config.js';
import { ConfigError } from '../config/config.js';
import type { Logger } from '../lib/logger.js';
import { startTracing } from '../lib/tracing.js';
import type { TracingHandle } from '../lib/tracing.js';
import { Gateway } from '../gateway/gateway.js';
import { SERVER_VERSION } from '../gateway/mcp/protocol.js';
import type { DrainOptions, GatewayOptions } from '../gateway/gateway.js';
import type { GatewayLimits } from '../gateway/limits.js';
import { withDefaults } from '../gateway/limits.js';
import { MemorySessionStore } from '../gateway/sessions/memory.js';
import { createRedisState } from '../gateway/sessions/redis.js';
import { RedisRateLimiter } from '../gateway/rate-limit/redis.js';
import { Redis } from 'ioredis';
import { FileSource } from '../gateway/sources/file.js';
import { RegistrySource } from '../gateway/sources/registry.js';
import type { Registry } from '../registry/registry.js';
import { checkAuthorizationIssuers } from '../model/authorization-issuers.js';
import { clusterMetrics, workerId } from './workers.js';

/** `mcpgate registry`: the control plane alone. */
export async function startRegistry(config: Config, logger: Logger): Promise<Running> {
  const { Registry } = await import('../registry/registry.js');
  return Registry.start(config, logger);
}

/** A started role that can be stopped. */
export interface Running {
  close(): Promise<void>;
  /** Graceful stop (SIGTERM) where the role has one: the gateway drains (docs/operations.md#graceful-shutdown). */
  drain?(): Promise<void>;
}

/** The gateway's drain settings from the configuration. */
export function drainOptions(config: Config): DrainOptions {
  return { delayMs: config.shutdownDelaySeconds * 1000, timeoutMs: config.shutdownTimeoutSeconds * 1000 };
}

/** The gateway limits the configuration sets (the others keep the gateway's defaults). */
export function gatewayLimits(config: Config): Partial<GatewayLimits> {
  const seconds = (s: number | undefined) => (s === undefined ? undefined : Math.round(s * 1000));
  const limits: Partial<Record<keyof GatewayLimits, number | undefined>> = {
    maxSessions: config.maxSessions, maxSessionsPerKey: config.maxSessionsPerKey, maxSessionsPerAddress: config.maxSessionsPerAddress,
    sessionEvictIdleMs: seconds(config.sessionEvictIdleSeconds), sessionInfoMaxBytes: config.sessionInfoMaxBytes,
    maxBatchEntries: config.maxBatchEntries, maxBatchAnswerBytes: config.maxBatchAnswerBytes, batchConcurrency: config.batchConcurrency,
    maxJsonDepth: config.maxJsonDepth, headersTimeoutMs: seconds(config.headersTimeoutSeconds), requestTimeoutMs: seconds(config.requestTimeoutSeconds),
    keepAliveTimeoutMs: seconds(config.keepAliveTimeoutSeconds), streamWriteTimeoutMs: seconds(config.streamWriteTimeoutSeconds),
    streamMaxBufferedBytes: config.streamMaxBufferedBytes,
  };
  return Object.fromEntries(Object.entries(limits).filter(([, v]) => v !== undefined));
}

/**
 * The gateway's MCP authorization options: its public URL, namespace settings (their issuers
 * checked first, as the registry checks saved settings, unless `checkIssuers` is false), and
 * rate-limit buckets in Redis when configured.
 */
async function authorizationOptions(config: Config): Promise<Pick<GatewayOptions, 'publicUrl' | 'namespaceAuthorization' | 'rateLimiter'>> {
  if (config.namespaceAuthorization && config.checkIssuers) {
    for (const [ns, settings] of Object.entries(config.namespaceAuthorization)) await checkAuthorizationIssuers(settings, `namespaceAuthorization.${ns}`);
  }
  return {
    ...(config.publicGatewayUrl ? { publicUrl: config.publicGatewayUrl } : {}),
    ...(config.namespaceAuthorization ? { namespaceAuthorization: config.namespaceAuthorization } : {}),
    ...(config.redis ? { rateLimiter: redisRateLimiter(config.redis) } : {}),
  };
}

/** Rate-limit buckets shared by the replicas, on a connection of their own that fails fast (the limiter lets calls through while Redis is down). */
function redisRateLimiter(url: string): RedisRateLimiter {
  const redis = new Redis(url, { maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 2000, commandTimeout: 1000, connectionName: 'mcpgate-ratelimit' });
  redis.on('error', () => undefined);
  return new RedisRateLimiter(redis, { release: async () => { await redis.quit().catch(() => redis.disconnect()); } });
}

/**
 * Sessions, delivery and stream events: in Redis when configured (replicas), else in memory; with
 * Redis, a `redis` readiness check (false while Redis is away: every session request would fail).
 */
async function sharedState(config: Config, logger: Logger): Promise<Pick<GatewayOptions, 'sessions' | 'bus' | 'events'> & { redisUp?: () => boolean }> {
  if (!config.redis) return {};
  const state = createRedisState(config.redis, {
    sessionIdleMs: config.sessionIdleSeconds * 1000, logger: logger.child({ component: 'redis' }), limits: withDefaults(gatewayLimits(config)),
    ...(config.sessionEncryptionKey ? { encryptionKey: config.sessionEncryptionKey } : {}),
    ...(config.redisPrefix ? { keyPrefix: config.redisPrefix, channelPrefix: config.redisPrefix } : {}),
  });
  // Not fatal: stateless (2026-07-28) traffic is served without Redis, and sessions recover when it answers.
  if (!(await state.ready(3000))) logger.warn('Redis does not answer yet: session traffic gets 503 (and /readyz 503) until it does');
  return { sessions: state.sessions, bus: state.bus, events: state.events, redisUp: () => state.healthy() };
}

/** How often `serve` records which consumer keys its gateway let in, ms. */
const CONSUMER_USE_FLUSH_MS = 5000;

/** `mcpgate serve`: registry and gateway in one process, configuration delivered in process. */
/** The gateway's access log settings from the configuration. */
function observability(config: Config): Pick<GatewayOptions, 'accessLog' | 'accessLogSampleRatio'> {
  return { accessLog: config.accessLog, accessLogSampleRatio: config.accessLogSampleRatio };
}

/** Tracing, when `otlpEndpoint` turns it on. */
async function startTelemetry(config: Config, logger: Logger): Promise<TracingHandle | undefined> {
  if (!config.otlpEndpoint) return undefined;
  const handle = await startTracing({
    endpoint: config.otlpEndpoint, serviceName: 'mcpgate-gateway', sampleRatio: config.traceSampleRatio,
    resource: { 'service.instance.id': `${hostname()}:${process.pid}`, 'service.version': SERVER_VERSION },
  });
  logger.info({ endpoint: config.otlpEndpoint, sampleRatio: config.traceSampleRatio }, 'tracing on: spans exported as OTLP/HTTP');
  return handle;
}

export async function startServe(config: Config, logger: Logger): Promise<Running & { registry: Registry; gateway: Gateway; drain(): Promise<void> }> {
  // The registry's modules (Fastify, Kysely, database drivers) load only in the roles that run it.
  const [{ Registry }, { InProcessSource }, { gatewayDirectory }, { ingestActivity }] = await Promise.all([
    import('../registry/registry.js'), import('../gateway/sources/in-process.js'), import('../registry/http/console/gateways.js'), import('../registry/http/console/activity.js'),
  ]);
  const registry = await Registry.start(config, logger);
  let tracing: TracingHandle | undefined;
  try {
    tracing = await startTelemetry(config, logger);
    const { redisUp, ...shared } = await sharedState(config, logger);
    const limits = gatewayLimits(config);
    const sessions = shared.sessions ?? new MemorySessionStore(config.sessionIdleSeconds * 1000, undefined, withDefaults(limits));
    const gatewayId = `serve@${hostname()}:${process.pid}`;
    const activity = new ActivityRecorder({ gateway: gatewayId });
    const gateway = await Gateway.start({
      host: config.host, port: config.gatewayPort, logger, allowedOrigins: config.allowedOrigins, allowedHosts: config.allowedHosts, limits, ...shared, sessions, ...observability(config), activity,
      ...(redisUp ? { readiness: () => ({ redis: redisUp() }) } : {}),
      source: new InProcessSource(registry.services.watch, registry.services.feed, { logger }),
      ...(config.tls ? { tls: config.tls } : {}),
      ownUrls: [`${scheme(config)}://${hostForUrl(config.host)}:${registry.port}`], stdioRecordFile: join(config.dataDir, 'stdio-children.json'), ...await authorizationOptions(config),
    });
    // The console's Gateways page lists this in-process gateway.
    const detach = gatewayDirectory(registry.services).attachLocal({
      id: gatewayId,
      status: () => ({
        revision: gateway.handler.current.revision, streams: gateway.handler.openStreams, address: `${scheme(config)}://${config.host}:${gateway.port}`,
        virtualMembers: gateway.virtualMembersNotOk(),
        source: 'in-process registry', ...(sessions instanceof MemorySessionStore ? { sessions: sessions.size } : {}),
      }),
    });
    // The console's "last used" of consumer keys: what the gateway let in, written every few seconds (no revision).
    const flushConsumerUses = () => {
      const uses = gateway.handler.takeConsumerUses();
      if (uses.length > 0) registry.services.store.touchConsumers(uses).catch((err: unknown) => logger.debug({ err }, 'recording consumer key use failed'));
      // The Activity page's counts, stored directly (a report that fails comes back for the next flush).
      const report = activity.take();
      if (report) {
        ingestActivity(registry.services, report, gatewayId).catch((err: unknown) => {
          activity.giveBack(report);
          logger.debug({ err }, 'recording activity failed');
        });
      }
    };
    const flusher = setInterval(flushConsumerUses, CONSUMER_USE_FLUSH_MS);
    flusher.unref();
    return {
      registry, gateway,
      close: async () => { clearInterval(flusher); detach(); await gateway.close(); await registry.close(); await tracing?.shutdown(); },
      // The gateway drains first; the registry it reads from stays until it is done.
      drain: async () => { await gateway.drain(drainOptions(config)); clearInterval(flusher); detach(); await registry.close(); await tracing?.shutdown(); },
    };
  } catch (err) {
    await registry.close();
    throw err;
  }
}

/** `mcpgate gateway`: follows registries, or serves definition files. */
export async function startGateway(config: Config, logger: Logger): Promise<Running & { gateway: Gateway; source: FileSource | RegistrySource }> {
  const started: { gateway?: Gateway } = {};
  let source: FileSource | RegistrySource;
  // Counts for the registry's Activity page (reported with the gateway's heartbeats; not kept without a registry).
  const activity = config.registries.length > 0 && !config.gatewayConfig ? new ActivityRecorder({ gateway: `${hostname()}:${config.gatewayPort}${workerSuffix()}` }) : undefined;
  if (config.gatewayConfig) {
    source = new FileSource({ path: config.gatewayConfig, logger });
  } else if (config.registries.length > 0) {
    const startedAt = Date.now();
    source = new RegistrySource({
      urls: config.registries, ...(config.registryToken ? { token: config.registryToken } : {}), logger, activity,
      cacheFile: join(config.dataDir, 'gateway-snapshot.json'),
      // The registry's console lists the gateways that follow it.
      gatewayId: `${hostname()}:${config.gatewayPort}${workerSuffix()}`,
      report: () => ({
        startedAt, version: SERVER_VERSION,
        ...(started.gateway ? {
          streams: started.gateway.handler.openStreams, address: `${scheme(config)}://${config.host}:${started.gateway.port}`, virtualMembers: started.gateway.virtualMembersNotOk(),
          consumers: started.gateway.handler.takeConsumerUses(),
        } : {}),
      }),
    });
  } else {
    throw new ConfigError('the gateway needs a configuration: --registry http://registry:8848 (MCPGATE_REGISTRIES) or --definitions PATH (MCPGATE_GATEWAY_CONFIG)');
  }
  const tracing = await startTelemetry(config, logger);
  const { redisUp, ...shared } = await sharedState(config, logger);
  const graceMs = config.registryGraceSeconds * 1000;
  // Ready: a snapshot is served, a registry answered within the grace time (when following
  // registries), and Redis is up (when sessions are shared). See docs/operations.md#health.
  const readiness = () => ({
    ...(source instanceof RegistrySource ? { registry: source.status().revision > 0 && source.unfollowedMs() <= graceMs } : {}),
    ...(redisUp ? { redis: redisUp() } : {}),
  });
  const gateway = await Gateway.start({
    host: config.host, port: config.gatewayPort, logger, source, allowedOrigins: config.allowedOrigins, allowedHosts: config.allowedHosts,
    sessionIdleMs: config.sessionIdleSeconds * 1000, limits: gatewayLimits(config), readiness, ...shared, ...observability(config), ...(config.tls ? { tls: config.tls } : {}),
    ...(activity ? { activity } : {}),
    ownUrls: config.registries, stdioRecordFile: join(config.dataDir, `stdio-children${workerSuffix('-')}.json`), ...await authorizationOptions(config),
    metricsGatherer: clusterMetrics,
  });
  started.gateway = gateway;
  return { gateway, source, close: async () => { await gateway.close(); await tracing?.shutdown(); }, drain: async () => { await gateway.drain(drainOptions(config)); await tracing?.shutdown(); } };
}

/** `/w2` (with `/`, or another separator) in worker 2 of `gateway --workers N`; empty in a single process. */
function workerSuffix(separator = '/'): string {
  const id = workerId();
  return id === undefined ? '' : `${separator}w${id}`;
}

/** The scheme of this process's HTTP listeners. */
function scheme(config: Config): 'http' | 'https' {
  return config.tls ? 'https' : 'http';
}

/** A listen address as the host of a URL (IPv6 in brackets). */
function hostForUrl(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

/**
 * Whether `path` (given to `mcpgate gateway --config`) is Higress server definitions rather
 * than an mcpgate configuration file: a directory, or a file with top-level `server` or `tools`.
 */
export function isDefinitionPath(path: string): boolean {
  try {
    if (statSync(path).isDirectory()) return true;
    const doc = parseYaml(readFileSync(path, 'utf8')) as Record<string, unknown> | null;
    return !!doc && typeof doc === 'object' && ('server' in doc || 'tools' in doc);
  } catch {
    return false;
  }
}
