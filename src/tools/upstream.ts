/**
 * Backend addresses of an MCP server: a registered service's usable instances by smooth
 * weighted round robin (nginx's algorithm), a direct address, or a fixed URL.
 */
import type { Endpoint, McpProtocol } from '../model/model.js';
import type { RegistrySnapshot, SnapshotInstance } from '../model/snapshot.js';
import type { Upstream, UpstreamTarget } from './executor.js';

/** Instance weights are scaled to integers with this precision (Nacos weights are decimals such as 0.5). */
const WEIGHT_SCALE = 1000;

type ServiceIndex = ReadonlyMap<string, readonly SnapshotInstance[]>;

const indexes = new WeakMap<RegistrySnapshot, ServiceIndex>();

function serviceKey(namespace: string, group: string, name: string): string {
  return `${namespace}\u0000${group}\u0000${name}`;
}

/** One index per snapshot, so that compiling N servers does not scan the service list N times. */
function serviceIndex(snapshot: RegistrySnapshot): ServiceIndex {
  let index = indexes.get(snapshot);
  if (!index) {
    const map = new Map<string, readonly SnapshotInstance[]>();
    for (const s of snapshot.services) map.set(serviceKey(s.namespace, s.group, s.name), s.instances);
    index = map;
    indexes.set(snapshot, index);
  }
  return index;
}

/** `host:port`, with an IPv6 literal in brackets. */
export function hostPort(host: string, port: number): string {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  return bare.includes(':') ? `[${bare}]:${port}` : `${bare}:${port}`;
}

class FixedUpstream implements Upstream {
  readonly size = 1;
  constructor(private readonly target: UpstreamTarget) {}

  pick(exclude?: ReadonlySet<string>): UpstreamTarget | undefined {
    return exclude?.has(this.target.id) ? undefined : this.target;
  }
}

/** nginx's smooth weighted round robin: even spreading, deterministic, O(n) per pick. */
class WeightedUpstream implements Upstream {
  private readonly current: Float64Array;
  readonly size: number;

  constructor(
    private readonly targets: readonly UpstreamTarget[],
    private readonly weights: readonly number[],
  ) {
    this.size = targets.length;
    this.current = new Float64Array(targets.length);
  }

  pick(exclude?: ReadonlySet<string>): UpstreamTarget | undefined {
    const { targets, weights, current } = this;
    let best = -1;
    let total = 0;
    for (let i = 0; i < targets.length; i++) {
      if (exclude !== undefined && exclude.size > 0 && exclude.has((targets[i] as UpstreamTarget).id)) continue;
      const w = weights[i] as number;
      current[i] = (current[i] as number) + w;
      total += w;
      if (best < 0 || (current[i] as number) > (current[best] as number)) best = i;
    }
    if (best < 0) return undefined;
    current[best] = (current[best] as number) - total;
    return targets[best];
  }
}

const EMPTY: Upstream = { size: 0, pick: () => undefined };

function serviceUpstream(instances: readonly SnapshotInstance[], scheme: string): Upstream {
  const targets: UpstreamTarget[] = [];
  const weights: number[] = [];
  const seen = new Set<string>();
  for (const i of instances) {
    if (!i.healthy || !i.enabled || !(i.weight > 0) || !Number.isFinite(i.weight)) continue;
    const id = hostPort(i.ip, i.port);
    if (seen.has(id)) continue;
    seen.add(id);
    targets.push({ id, baseUrl: `${scheme}://${id}` });
    weights.push(Math.max(1, Math.round(i.weight * WEIGHT_SCALE)));
  }
  if (targets.length === 0) return EMPTY;
  if (targets.length === 1) return new FixedUpstream(targets[0] as UpstreamTarget);
  return new WeightedUpstream(targets, weights);
}

/**
 * The upstream of an endpoint at one snapshot: a service's healthy, enabled instances with a
 * positive weight (none usable → an upstream of size 0), a direct address, or a URL (trailing
 * slash trimmed); undefined for `none`. `https` as protocol gives `https://` base URLs.
 */
export function createUpstream(endpoint: Endpoint, protocol: McpProtocol, snapshot: RegistrySnapshot): Upstream | undefined {
  const scheme = protocol === 'https' ? 'https' : 'http';
  switch (endpoint.type) {
    case 'service': {
      const instances = serviceIndex(snapshot).get(serviceKey(endpoint.namespace, endpoint.group, endpoint.service));
      return instances ? serviceUpstream(instances, scheme) : EMPTY;
    }
    case 'direct': {
      const id = hostPort(endpoint.address, endpoint.port);
      return new FixedUpstream({ id, baseUrl: `${scheme}://${id}` });
    }
    case 'url': {
      const baseUrl = endpoint.url.replace(/\/+$/, '');
      return new FixedUpstream({ id: baseUrl, baseUrl });
    }
    case 'none':
      return undefined;
  }
}
