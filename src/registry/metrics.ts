/**
 * The registry's own Prometheus metrics, beside the HTTP ones (lib/metrics.ts) and the gRPC ones
 * (grpc/server.ts): instances by namespace and health, heartbeats, health-check transitions,
 * leadership, database reachability and the revision served. Listed in docs/observability.md.
 */
import { Counter, Gauge } from 'prom-client';
import type { Registry as PromRegistry } from 'prom-client';
import type { Store } from './store/store.js';

/** How long an instance count is reused between scrapes (a listing of every instance is not free). */
const INSTANCE_COUNT_TTL_MS = 10_000;

/** What the registry's gauges read when scraped. */
export interface RegistryMetricSources {
  store: Store;
  isLeader: () => boolean;
}

/** Counters the registry's services increment. */
export interface RegistryCounters {
  /** A client heartbeat, by result (`ok`, `not-found`). */
  beat(result: string): void;
  /** A health check turned an instance healthy or unhealthy. */
  healthTransition(healthy: boolean): void;
}

/** Register the registry's metrics on `registry`; answers the counters its services feed. */
export function registerRegistryMetrics(registry: PromRegistry, sources: RegistryMetricSources): RegistryCounters {
  const registers = [registry];
  const beats = new Counter({ name: 'mcpgate_registry_heartbeats_total', help: 'Client heartbeats of ephemeral instances (Nacos HTTP and native APIs), by result: ok, not-found (the client registers again).', labelNames: ['result'] as const, registers });
  const transitions = new Counter({ name: 'mcpgate_registry_health_transitions_total', help: 'Health checks that turned a persistent instance healthy (true) or unhealthy (false); each is also logged once.', labelNames: ['healthy'] as const, registers });
  let counted: { at: number; rows: Map<string, number> } | undefined;
  new Gauge({
    name: 'mcpgate_registry_instances', help: 'Service instances by namespace, health and kind (ephemeral: kept by heartbeats; persistent: health-checked by the registry).',
    labelNames: ['namespace', 'healthy', 'ephemeral'] as const, registers,
    async collect() {
      if (!counted || Date.now() - counted.at > INSTANCE_COUNT_TTL_MS) {
        const rows = new Map<string, number>();
        try {
          for (const i of await sources.store.listInstances({})) {
            const k = `${i.namespace}\n${i.healthy}\n${i.ephemeral}`;
            rows.set(k, (rows.get(k) ?? 0) + 1);
          }
        } catch {
          return; // the database is away: mcpgate_registry_db_up says so
        }
        counted = { at: Date.now(), rows };
      }
      this.reset();
      for (const [k, n] of counted.rows) {
        const [ns = '', healthy = '', ephemeral = ''] = k.split('\n');
        this.labels(ns, healthy, ephemeral).set(n);
      }
    },
  });
  new Gauge({
    name: 'mcpgate_registry_leader', help: '1 on the registry node that runs the singleton jobs (expiry, health checks, pruning), 0 on the others.', registers,
    collect() { this.set(sources.isLeader() ? 1 : 0); },
  });
  new Gauge({
    name: 'mcpgate_registry_db_up', help: '1 while the database answers (the readiness check), 0 when it does not.', registers,
    async collect() { this.set(await sources.store.revision().then(() => 1, () => 0)); },
  });
  new Gauge({
    name: 'mcpgate_registry_revision', help: 'The registry\'s revision (every write bumps it; gateways serve a snapshot at one).', registers,
    async collect() {
      const r = await sources.store.revision().catch(() => undefined);
      if (r !== undefined) this.set(r);
    },
  });
  return {
    beat: (result) => beats.labels(result).inc(),
    healthTransition: (healthy) => transitions.labels(String(healthy)).inc(),
  };
}
