/**
 * The JSON shapes Nacos answers on its naming API, field for field (ServiceInfo, Instance,
 * the v1 service detail, the v2 ServiceDetailInfo).
 */
import { createHash } from 'node:crypto';
import type { HealthCheck, Instance, Service } from '../../../model/model.js';
import { beatTimings } from '../../../model/model.js';
import { instanceId } from '../../domain/naming.js';

/** The Nacos v2/v3 success envelope. */
export function envelope(data: unknown): { code: 0; message: 'success'; data: unknown } {
  return { code: 0, message: 'success', data };
}

/** How long a client may cache an instance list (Nacos' default push cache, ms). */
export const CACHE_MILLIS = 10_000;

/** One entry of `hosts` (Nacos' Instance). */
export function hostView(i: Instance, healthy = i.healthy): Record<string, unknown> {
  const t = beatTimings(i.metadata);
  return {
    instanceId: instanceId(i), ip: i.ip, port: i.port, weight: i.weight, healthy, enabled: i.enabled, ephemeral: i.ephemeral,
    clusterName: i.cluster, serviceName: `${i.group}@@${i.serviceName}`, metadata: i.metadata,
    instanceHeartBeatInterval: t.interval, instanceHeartBeatTimeOut: t.timeout, ipDeleteTimeout: t.deleteTimeout,
    instanceIdGenerator: i.metadata['preserved.instance.id.generator'] ?? 'simple',
  };
}

function byAddress(a: Instance, b: Instance): number {
  return a.ip.localeCompare(b.ip) || a.port - b.port || a.cluster.localeCompare(b.cluster);
}

/**
 * The instance list (Nacos' ServiceInfo as `/instance/list` answers it): enabled instances of
 * the requested clusters; with `healthyOnly` the healthy ones, unless the healthy share is at or
 * below the service's protect threshold, when every instance is returned marked healthy.
 */
export function serviceInfoView(
  group: string, name: string, clusters: string, service: Service | undefined, instances: Instance[], healthyOnly: boolean, now: number,
): Record<string, unknown> {
  const wanted = clusters.split(',').map((c) => c.trim()).filter(Boolean);
  const all = instances.filter((i) => i.enabled && (wanted.length === 0 || wanted.includes(i.cluster))).sort(byAddress);
  const healthyCount = all.filter((i) => i.healthy).length;
  const threshold = service?.protectThreshold ?? 0;
  const reachProtectionThreshold = threshold > 0 && all.length > 0 && healthyCount / all.length <= threshold;
  const hosts = reachProtectionThreshold
    ? all.map((i) => hostView(i, true))
    : all.filter((i) => !healthyOnly || i.healthy).map((i) => hostView(i));
  const checksum = createHash('md5').update(JSON.stringify(hosts)).digest('hex');
  return {
    name: `${group}@@${name}`, groupName: group, clusters, cacheMillis: CACHE_MILLIS, hosts, lastRefTime: now, checksum,
    allIPs: false, reachProtectionThreshold, valid: true,
  };
}

/** Nacos' health checker JSON for a cluster (TCP unless its persistent instances say otherwise). */
export function healthCheckerView(check: HealthCheck | null | undefined): Record<string, unknown> {
  if (!check || check.type === 'tcp') return { type: 'TCP' };
  if (check.type === 'http') return { type: 'HTTP', path: check.path, headers: '', expectedResponseCode: 200 };
  return { type: 'NONE' };
}

/** The stored selector as Nacos shows it (`{"type":"none"}` when there is none). */
export function selectorView(selector: string): unknown {
  if (!selector) return { type: 'none' };
  try {
    return JSON.parse(selector) as unknown;
  } catch {
    return { type: 'none' };
  }
}

function clusters(instances: Instance[]): Map<string, HealthCheck | null> {
  const out = new Map<string, HealthCheck | null>();
  for (const i of [...instances].sort(byAddress)) if (!out.has(i.cluster)) out.set(i.cluster, i.healthCheck);
  return out;
}

/** `GET /v1/ns/service`. */
export function serviceDetailV1(s: Service, instances: Instance[]): Record<string, unknown> {
  return {
    namespaceId: s.namespace, groupName: s.group, name: s.name, protectThreshold: s.protectThreshold, metadata: s.metadata,
    selector: selectorView(s.selector),
    clusters: [...clusters(instances)].map(([name, check]) => ({ name, healthChecker: healthCheckerView(check), metadata: {} })),
  };
}

/** `GET /v2/ns/service` (ServiceDetailInfo). */
export function serviceDetailV2(s: Service, instances: Instance[]): Record<string, unknown> {
  return {
    namespace: s.namespace, serviceName: s.name, groupName: s.group,
    clusterMap: Object.fromEntries([...clusters(instances)].map(([name, check]) => [name, {
      clusterName: name, healthChecker: healthCheckerView(check), metadata: {}, healthyCheckPort: check?.port || 80, useInstancePortForCheck: !check?.port,
    }])),
    metadata: s.metadata, protectThreshold: s.protectThreshold, selector: selectorView(s.selector),
    ephemeral: instances[0]?.ephemeral ?? true,
  };
}

/** `GET /v1/ns/instance` (and the v2 detail, with `serviceName` instead of `service`). */
export function instanceDetail(i: Instance, v2: boolean): Record<string, unknown> {
  return {
    [v2 ? 'serviceName' : 'service']: `${i.group}@@${i.serviceName}`, ip: i.ip, port: i.port, clusterName: i.cluster, weight: i.weight,
    healthy: i.healthy, instanceId: instanceId(i), metadata: i.metadata,
  };
}
