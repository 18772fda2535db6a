import { AppError } from '../../lib/errors.js';
import type { RegistryContext } from './context.js';
import type { ChangeBatch, RegistrySnapshot, SnapshotReader } from '../../model/snapshot.js';

/** The read side that gateways and other registry nodes follow. */
export class WatchService implements SnapshotReader {
  constructor(private readonly ctx: RegistryContext) {}

  /**
   * The published configuration at one revision. Reads run outside a transaction, so the
   * revision is read before and after and the read is retried if a write came between.
   */
  async snapshot(): Promise<RegistrySnapshot> {
    const { store } = this.ctx;
    for (let attempt = 0; ; attempt++) {
      const revision = await store.revision();
      const namespaces = (await store.listNamespaces()).map((n) => n.id);
      const instances = await store.listInstances({});
      const services = new Map<string, RegistrySnapshot['services'][number]>();
      for (const ns of namespaces) {
        for (let pageNo = 1; ; pageNo++) {
          const page = await store.listServices(ns, { pageNo, pageSize: 1000 });
          for (const s of page.items) services.set(s.id, { namespace: s.namespace, group: s.group, name: s.name, instances: [] });
          if (page.items.length < 1000) break;
        }
      }
      for (const i of instances) {
        services.get(i.serviceId)?.instances.push({
          ip: i.ip, port: i.port, weight: i.weight, healthy: i.healthy, enabled: i.enabled, cluster: i.cluster, metadata: i.metadata,
        });
      }
      const mcpServers: RegistrySnapshot['mcpServers'] = [];
      for (let pageNo = 1; ; pageNo++) {
        const page = await store.listMcpServers(undefined, { pageNo, pageSize: 500 });
        for (const server of page.items) {
          if (!server.publishedVersion) continue;
          const v = await store.getVersion(server.id, server.publishedVersion);
          if (v) mcpServers.push({ server, spec: v.spec });
        }
        if (page.items.length < 500) break;
      }
      const consumers = await store.listConsumers();
      const namespaceAuthorization = await store.listNamespaceAuthorization();
      if ((await store.revision()) === revision || attempt >= 4) {
        return {
          revision, namespaces, services: [...services.values()], mcpServers, consumers,
          ...(Object.keys(namespaceAuthorization).length > 0 ? { namespaceAuthorization } : {}),
        };
      }
    }
  }

  /** Changes after `revision` (at most `limit`); `resync` when the log no longer reaches back that far. */
  async changesAfter(revision: number, limit = 1000): Promise<ChangeBatch> {
    if (!Number.isInteger(revision) || revision < 0) throw new AppError('VALIDATION_FAILED', 'after: must be a non-negative integer revision', 'after');
    const floor = await this.ctx.store.changeLogFloor();
    const current = await this.ctx.store.revision();
    if (revision < floor - 1) return { revision: current, changes: [], resync: true };
    const changes = await this.ctx.store.changesAfter(revision, limit);
    const last = changes.length === limit ? changes[changes.length - 1]?.revision ?? current : current;
    return { revision: Math.max(last, revision), changes };
  }

  /** Wait until the registry passes `revision` or `timeoutMs` elapses; resolves with the newest revision. */
  waitForRevision(revision: number, timeoutMs: number, signal?: AbortSignal): Promise<number> {
    const { feed } = this.ctx;
    if (feed.revision > revision) return Promise.resolve(feed.revision);
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        feed.off('revision', onRevision);
        signal?.removeEventListener('abort', done);
        resolve(feed.revision);
      };
      const onRevision = (r: number) => { if (r > revision) done(); };
      const timer = setTimeout(done, timeoutMs);
      feed.on('revision', onRevision);
      signal?.addEventListener('abort', done);
    });
  }
}
