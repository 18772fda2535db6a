/**
 * Server pushes of the gRPC port. Follows the registry's change feed (this node's writes at
 * once, other nodes' as the database reports them), reads the change log after the last
 * revision it handled, and pushes
 *
 * - NotifySubscriberRequest (the service's new ServiceInfo) to every connection subscribed to
 *   a service whose instances or service record changed;
 * - ConfigChangeNotifyRequest to every connection listening to an MCP config of a server that
 *   changed, when the content it may read changed (its MD5 differs from what it was told of).
 *
 * One pass at a time; revisions that arrive during a pass are handled by the next one.
 */
import type { Logger } from '../../lib/logger.js';
import type { RegistryServices } from '../services.js';
import type { McpConfigReader } from '../domain/nacos-configs.js';
import { parseMcpDataId } from '../domain/nacos-configs.js';
import type { Connection, EncodedPush } from './connection.js';
import { encodePush } from './connection.js';
import { grpcServiceInfo } from './naming.js';
import type { Principal } from '../domain/auth.js';

/** The connections to push to, with the principal each authenticated as (for config contents). */
export interface PushTargets {
  connections(): Iterable<Connection>;
  principalOf(conn: Connection): Principal;
}

export class Pusher {
  private last: number;
  private running = false;
  private again = false;
  private stopped = false;
  private readonly onRevision = () => this.kick();

  constructor(
    private readonly services: RegistryServices,
    private readonly reader: McpConfigReader,
    private readonly targets: PushTargets,
    private readonly logger: Logger,
  ) {
    this.last = services.feed.revision;
    services.feed.on('revision', this.onRevision);
  }

  stop(): void {
    this.stopped = true;
    this.services.feed.off('revision', this.onRevision);
  }

  private kick(): void {
    if (this.stopped) return;
    // Nobody to push to: nothing to read (a subscription or listen answers with the current state).
    if (!this.running && !this.anyoneListening()) {
      this.last = this.services.feed.revision;
      return;
    }
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    void this.drain().catch((err: unknown) => this.logger.warn({ err }, 'gRPC push pass failed; the next change retries'))
      .finally(() => {
        this.running = false;
        if (this.again && !this.stopped) {
          this.again = false;
          this.kick();
        }
      });
  }

  private anyoneListening(): boolean {
    for (const c of this.targets.connections()) if (c.subscriptions.size > 0 || c.listens.size > 0) return true;
    return false;
  }

  private async drain(): Promise<void> {
    const services = new Set<string>();
    const servers = new Set<string>();
    let everything = false;
    for (let guard = 0; guard < 100; guard++) {
      const batch = await this.services.watch.changesAfter(this.last, 1000);
      if (batch.resync) {
        everything = true;
        this.last = batch.revision;
        break;
      }
      for (const c of batch.changes) {
        if (c.entity === 'instance') {
          const groupService = c.entityId.split('#')[3];
          if (groupService) services.add(`${c.namespace}\n${groupService}`);
        } else if (c.entity === 'service') {
          services.add(`${c.namespace}\n${c.entityId}`);
        } else if (c.entity === 'mcp_server') {
          servers.add(c.entityId);
        }
      }
      const advanced = batch.revision > this.last;
      this.last = Math.max(this.last, batch.revision);
      if (batch.changes.length < 1000 || !advanced) break;
    }
    if (services.size === 0 && servers.size === 0 && !everything) return;
    await this.pushServices(services, everything);
    await this.pushConfigs(servers, everything);
  }

  private async pushServices(changed: Set<string>, everything: boolean): Promise<void> {
    // Subscribers by `namespace\ngroup@@service`.
    const bySvc = new Map<string, { conn: Connection; clusters: string; namespace: string; group: string; service: string }[]>();
    for (const conn of this.targets.connections()) {
      for (const s of conn.subscriptions.values()) {
        const key = `${s.namespace}\n${s.group}@@${s.service}`;
        if (!everything && !changed.has(key)) continue;
        let list = bySvc.get(key);
        if (!list) bySvc.set(key, (list = []));
        list.push({ conn, ...s });
      }
    }
    for (const list of bySvc.values()) {
      const { namespace, group, service } = list[0]!;
      const { service: record, instances } = await this.services.naming.listInstances(namespace, group, service).catch(() => ({ service: undefined, instances: [] }));
      const now = Date.now();
      // One frame per clusters filter, serialised and encoded once, written to every subscriber.
      const frames = new Map<string, EncodedPush>();
      for (const sub of list) {
        let frame = frames.get(sub.clusters);
        if (frame === undefined) {
          frame = encodePush('NotifySubscriberRequest', JSON.stringify({
            namespace, serviceName: service, groupName: group, serviceInfo: grpcServiceInfo(group, service, sub.clusters, record, instances, false, now),
          }));
          frames.set(sub.clusters, frame);
        }
        sub.conn.pushEncoded(frame);
      }
    }
  }

  private async pushConfigs(changedServers: Set<string>, everything: boolean): Promise<void> {
    for (const conn of this.targets.connections()) {
      if (conn.listens.size === 0) continue;
      const principal = this.targets.principalOf(conn);
      for (const l of conn.listens.values()) {
        const parsed = parseMcpDataId(l.group, l.dataId);
        if (!parsed || (!everything && !changedServers.has(parsed.serverId))) continue;
        const current = await this.reader.read(principal, l.namespace, l.group, l.dataId).catch(() => undefined);
        const md5 = current?.md5 ?? '';
        if (md5 === l.md5) continue;
        l.md5 = md5;
        conn.push('ConfigChangeNotifyRequest', { dataId: l.dataId, group: l.group, tenant: l.tenant });
      }
    }
  }
}
