import { randomFillSync, randomUUID } from 'node:crypto';
import { isIP } from 'node:net';
import { Batcher } from '../../lib/batcher.js';
import type { BatchItem, BatchOutcome } from '../../lib/batcher.js';
import { v7 as timeOrderedUuid } from 'uuid';
import { AppError, invalid } from '../../lib/errors.js';
import type { HealthCheck, Instance, Namespace, Page, Service } from '../../model/model.js';
import { DEFAULT_HEALTH_CHECK, PUBLIC_NAMESPACE, beatTimings, instanceKeyId } from '../../model/model.js';
import type { InstanceKey } from '../../model/model.js';
import type { RegistryContext } from './context.js';
import { write } from './context.js';
import type { InstanceWrite, StoreWriter } from '../store/store.js';
import { audit } from './audit.js';

const NAME = /^[A-Za-z0-9_.:-]{1,255}$/;
const NAMESPACE_ID = /^[A-Za-z0-9_-]{1,128}$/;
const CLUSTER = /^[A-Za-z0-9_-]{1,64}$/;
const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;


/** What a caller may set on an instance. */
export interface InstanceInput extends InstanceKey {
  weight?: number;
  enabled?: boolean;
  healthy?: boolean;
  ephemeral?: boolean;
  metadata?: Record<string, string>;
  healthCheck?: Partial<HealthCheck> | null;
  /**
   * The lease that keeps an ephemeral instance alive instead of its own beats (a registry node's, for
   * the instances its gRPC connections hold; see `Store.renewHolderLease`). Absent: an existing
   * instance keeps its holder.
   */
  holder?: string;
}

/**
 * Random bytes for the time-ordered instance ids, 16 a call out of a pool filled 256 ids at a time:
 * the `uuid` package's own source calls `crypto.getRandomValues` for every id, about 8 µs of a gRPC
 * registration (bench:grpc --cpu-prof). Node's `crypto.randomUUID` pools its entropy the same way.
 */
const idEntropy = new Uint8Array(16 * 256);
let idEntropyAt = idEntropy.length;
function pooledRandom(): Uint8Array {
  if (idEntropyAt === idEntropy.length) {
    randomFillSync(idEntropy);
    idEntropyAt = 0;
  }
  idEntropyAt += 16;
  return idEntropy.subarray(idEntropyAt - 16, idEntropyAt);
}
const ID_OPTIONS = { rng: pooledRandom };

/** What a caller may set on a service. */
export interface ServiceInput {
  namespace: string;
  group: string;
  name: string;
  metadata?: Record<string, string>;
  protectThreshold?: number;
  selector?: string;
}

/** The change-log id of an instance: Nacos' instanceId form. */
export function instanceId(i: { ip: string; port: number; cluster: string; group: string; serviceName: string }): string {
  return `${i.ip}#${i.port}#${i.cluster}#${i.group}@@${i.serviceName}`;
}

/**
 * An instance as the audit log keeps it: without its last beat, which changes with every heartbeat. Written out
 * field by field: an object rest (`{ lastBeat, ...rest }`) copies through V8's generic path, ~1 µs a registration.
 */
function instanceState(i: Instance): Omit<Instance, 'lastBeat'> {
  const state: Omit<Instance, 'lastBeat'> = {
    id: i.id, namespace: i.namespace, serviceId: i.serviceId, group: i.group, serviceName: i.serviceName, ip: i.ip, port: i.port,
    cluster: i.cluster, weight: i.weight, enabled: i.enabled, healthy: i.healthy, ephemeral: i.ephemeral, metadata: i.metadata,
    healthCheck: i.healthCheck, createdAt: i.createdAt, updatedAt: i.updatedAt,
  };
  if (i.healthDetail !== undefined) state.healthDetail = i.healthDetail;
  return state;
}

const serviceName = (s: { group: string; name: string }) => `${s.group}@@${s.name}`;
const instanceName = (i: { ip: string; port: number }) => `${i.ip.includes(':') ? `[${i.ip}]` : i.ip}:${i.port}`;

function checkName(field: string, value: string): void {
  if (!NAME.test(value) || value.includes('@@')) throw invalid(field, `'${value}' is not a valid name (1-255 of letters, digits, _ . : -)`);
}

function checkKey(k: InstanceKey): void {
  checkName('serviceName', k.service);
  checkName('groupName', k.group);
  if (!isIP(k.ip) && !HOSTNAME.test(k.ip)) throw invalid('ip', `'${k.ip}' is not an IP address or host name`);
  if (!Number.isInteger(k.port) || k.port < 1 || k.port > 65535) throw invalid('port', `must be an integer from 1 to 65535, got ${k.port}`);
  if (!CLUSTER.test(k.cluster)) throw invalid('clusterName', `'${k.cluster}' is not a valid cluster name (letters, digits, _ -)`);
}

function checkHealthCheck(h: Partial<HealthCheck>): HealthCheck {
  const merged = { ...DEFAULT_HEALTH_CHECK, ...h };
  if (!['tcp', 'http', 'none'].includes(merged.type)) throw invalid('healthCheck.type', "must be 'tcp', 'http' or 'none'");
  if (typeof merged.path !== 'string' || !merged.path.startsWith('/')) throw invalid('healthCheck.path', "must start with '/'");
  for (const [k, min, max] of [['intervalMs', 500, 3_600_000], ['timeoutMs', 100, 60_000], ['healthyThreshold', 1, 100], ['unhealthyThreshold', 1, 100], ['port', 0, 65535]] as const) {
    const v = merged[k];
    if (!Number.isInteger(v) || v < min || v > max) throw invalid(`healthCheck.${k}`, `must be an integer from ${min} to ${max}`);
  }
  return merged;
}

/** A registration or update waiting for its batch. */
interface Upsert {
  input: InstanceInput;
  mode: 'register' | 'update';
  /** Whether the write only concerns ephemeral state (its commit need not wait for the disk). */
  relaxed: boolean;
}

/** What a batch of registrations read, kept up to date as its items are applied. */
interface UpsertState {
  services: Map<string, Service>;
  /** Instances by address (`instanceKeyId`). */
  instances: Map<string, Instance>;
  /** How many ephemeral and persistent instances a service holds. */
  kindsOf: (serviceId: string) => { ephemeral: number; persistent: number };
  /** New instances, by address, inserted together at the end of the batch. */
  inserts: Map<string, InstanceWrite>;
  /** Whether a namespace exists, as read by this batch. */
  namespaces: Map<string, boolean>;
}

/** Every item of a batch was refused: nothing to commit. */
class RefusedBatch extends Error {
  constructor(readonly outcomes: BatchOutcome<Instance>[]) {
    super('every registration of the batch was refused');
  }
}

/**
 * The most registrations one batch writes. A batch's cost is mostly per page it changes (each service's leaf
 * in the two per-service indexes of `mg_instances`, the commit's WAL frames), shared by its registrations:
 * 256 a batch instead of 64 took SQLite's CPU per registration from ~58 to ~31 µs in process (256 callers,
 * 32,000 registrations in 50 services). Larger gains little (512: −5 µs more).
 */
const MAX_UPSERT_BATCH = 256;

const serviceKeyOf = (s: { namespace: string; group: string; name: string }) => `${s.namespace}\n${s.group}\n${s.name}`;
const keyOf = (i: Instance): InstanceKey => ({ namespace: i.namespace, group: i.group, service: i.serviceName, ip: i.ip, port: i.port, cluster: i.cluster });

function uniqueBy<T>(items: readonly T[], key: (t: T) => string): T[] {
  return [...new Map(items.map((i) => [key(i), i])).values()];
}

/** Namespaces, services and instances: the Nacos naming model. */
export class NamingService {
  /**
   * Registrations and updates made at the same time, written together: those of every request
   * read in one turn of the event loop (each connection is its own callback), also on SQLite,
   * whose writes complete without waiting for I/O.
   */
  private readonly upserts = new Batcher<Upsert, Instance>((batch) => this.commitUpserts(batch), MAX_UPSERT_BATCH, 'immediate');
  /** Instances whose last beat matched a healthy ephemeral instance, until when that is trusted. */
  private readonly knownHealthy = new Map<string, number>();
  private readonly pendingBeats = new Map<string, InstanceKey>();
  private flushTimer: NodeJS.Timeout | undefined;

  constructor(private readonly ctx: RegistryContext) {}

  /** Make sure `public` exists (every start, every node). */
  async ensurePublicNamespace(): Promise<void> {
    if (await this.ctx.store.getNamespace(PUBLIC_NAMESPACE)) return;
    await write(this.ctx, async (tx) => {
      if (await tx.getNamespace(PUBLIC_NAMESPACE)) return;
      const t = this.ctx.now();
      const ns: Namespace = { id: PUBLIC_NAMESPACE, name: PUBLIC_NAMESPACE, description: 'Default namespace', createdAt: t, updatedAt: t };
      await tx.insertNamespace(ns);
      await tx.recordChange(PUBLIC_NAMESPACE, 'namespace', PUBLIC_NAMESPACE, 'upsert');
      await audit(this.ctx, tx, { namespace: ns.id, entity: 'namespace', entityId: ns.id, entityName: ns.name, action: 'namespace.create', after: ns });
    }).catch(async (err) => {
      if (!(await this.ctx.store.getNamespace(PUBLIC_NAMESPACE))) throw err;
    });
  }

  async listNamespaces(): Promise<Namespace[]> {
    return this.ctx.store.listNamespaces();
  }

  async getNamespace(id: string): Promise<Namespace> {
    const ns = await this.ctx.store.getNamespace(id);
    if (!ns) throw new AppError('NAMESPACE_NOT_FOUND', `namespace '${id}' does not exist`, 'namespaceId');
    return ns;
  }

  async createNamespace(input: { id: string; name?: string; description?: string }): Promise<Namespace> {
    if (!NAMESPACE_ID.test(input.id)) throw invalid('namespaceId', `'${input.id}' is not a valid namespace id (1-128 of letters, digits, _ -)`);
    const t = this.ctx.now();
    const ns: Namespace = { id: input.id, name: input.name || input.id, description: input.description ?? '', createdAt: t, updatedAt: t };
    return write(this.ctx, async (tx) => {
      if (await tx.getNamespace(ns.id)) throw new AppError('NAMESPACE_EXISTS', `namespace '${ns.id}' already exists`, 'namespaceId');
      await tx.insertNamespace(ns);
      await tx.recordChange(ns.id, 'namespace', ns.id, 'upsert');
      await audit(this.ctx, tx, { namespace: ns.id, entity: 'namespace', entityId: ns.id, entityName: ns.name, action: 'namespace.create', after: ns });
      return ns;
    }, 'NAMESPACE_EXISTS');
  }

  async updateNamespace(id: string, input: { name?: string; description?: string }): Promise<Namespace> {
    return write(this.ctx, async (tx) => {
      const ns = await requireNamespace(tx, id);
      const next = { ...ns, name: input.name ?? ns.name, description: input.description ?? ns.description, updatedAt: this.ctx.now() };
      await tx.updateNamespace(next);
      await tx.recordChange(id, 'namespace', id, 'upsert');
      await audit(this.ctx, tx, { namespace: id, entity: 'namespace', entityId: id, entityName: next.name, action: 'namespace.update', before: ns, after: next });
      return next;
    });
  }

  async deleteNamespace(id: string): Promise<void> {
    if (id === PUBLIC_NAMESPACE) throw new AppError('NAMESPACE_PROTECTED', "the 'public' namespace cannot be deleted", 'namespaceId');
    await write(this.ctx, async (tx) => {
      const ns = await requireNamespace(tx, id);
      const held = await tx.countNamespaceContents(id);
      if (held.services + held.mcpServers > 0) {
        throw new AppError('NAMESPACE_NOT_EMPTY', `namespace '${id}' still holds ${held.services} service(s) and ${held.mcpServers} MCP server(s)`, 'namespaceId');
      }
      await tx.deleteNamespace(id);
      await tx.recordChange(id, 'namespace', id, 'delete');
      await audit(this.ctx, tx, { namespace: id, entity: 'namespace', entityId: id, entityName: ns.name, action: 'namespace.delete', before: ns });
    });
  }

  async listServices(namespace: string, q: { group?: string; search?: string; pageNo: number; pageSize: number }): Promise<Page<Service>> {
    await this.getNamespace(namespace);
    return this.ctx.store.listServices(namespace, q);
  }

  async getService(namespace: string, group: string, name: string): Promise<Service> {
    await this.getNamespace(namespace);
    const s = await this.ctx.store.getService(namespace, group, name);
    if (!s) throw new AppError('SERVICE_NOT_FOUND', `service '${group}@@${name}' does not exist in namespace '${namespace}'`, 'serviceName');
    return s;
  }

  async createService(input: ServiceInput): Promise<Service> {
    checkName('serviceName', input.name);
    checkName('groupName', input.group);
    const threshold = input.protectThreshold ?? 0;
    if (!(threshold >= 0 && threshold <= 1)) throw invalid('protectThreshold', 'must be a number from 0 to 1');
    return write(this.ctx, async (tx) => {
      await requireNamespace(tx, input.namespace);
      if (await tx.getService(input.namespace, input.group, input.name)) {
        throw new AppError('SERVICE_EXISTS', `service '${input.group}@@${input.name}' already exists`, 'serviceName');
      }
      const t = this.ctx.now();
      const s: Service = {
        id: randomUUID(), namespace: input.namespace, group: input.group, name: input.name, metadata: input.metadata ?? {},
        protectThreshold: threshold, selector: input.selector ?? '', createdAt: t, updatedAt: t,
      };
      await tx.insertService(s);
      await tx.recordChange(s.namespace, 'service', `${s.group}@@${s.name}`, 'upsert');
      await audit(this.ctx, tx, { namespace: s.namespace, entity: 'service', entityId: s.id, entityName: serviceName(s), action: 'service.create', after: s });
      return s;
    }, 'SERVICE_EXISTS');
  }

  async updateService(input: ServiceInput): Promise<Service> {
    if (input.protectThreshold !== undefined && !(input.protectThreshold >= 0 && input.protectThreshold <= 1)) {
      throw invalid('protectThreshold', 'must be a number from 0 to 1');
    }
    return write(this.ctx, async (tx) => {
      const s = await requireService(tx, input.namespace, input.group, input.name);
      const next: Service = {
        ...s, metadata: input.metadata ?? s.metadata, protectThreshold: input.protectThreshold ?? s.protectThreshold,
        selector: input.selector ?? s.selector, updatedAt: this.ctx.now(),
      };
      await tx.updateService(next);
      await tx.recordChange(s.namespace, 'service', `${s.group}@@${s.name}`, 'upsert');
      await audit(this.ctx, tx, { namespace: s.namespace, entity: 'service', entityId: s.id, entityName: serviceName(s), action: 'service.update', before: s, after: next });
      return next;
    });
  }

  async deleteService(namespace: string, group: string, name: string): Promise<void> {
    await write(this.ctx, async (tx) => {
      const s = await requireService(tx, namespace, group, name);
      const held = await tx.listInstances({ serviceId: s.id });
      if (held.length > 0) throw new AppError('SERVICE_NOT_EMPTY', `service '${group}@@${name}' still has ${held.length} instance(s)`, 'serviceName');
      await tx.deleteService(s.id);
      await tx.recordChange(namespace, 'service', `${group}@@${name}`, 'delete');
      await audit(this.ctx, tx, { namespace, entity: 'service', entityId: s.id, entityName: serviceName(s), action: 'service.delete', before: s });
    });
  }

  /** The instances of a service (empty when the service does not exist, as Nacos answers). */
  async listInstances(namespace: string, group: string, service: string, opts: { clusters?: string[]; healthyOnly?: boolean } = {}): Promise<{ service: Service | undefined; instances: Instance[] }> {
    await this.getNamespace(namespace);
    const s = await this.ctx.store.getService(namespace, group, service);
    if (!s) return { service: undefined, instances: [] };
    let instances = await this.ctx.store.listInstances({ serviceId: s.id });
    if (opts.clusters && opts.clusters.length > 0) instances = instances.filter((i) => opts.clusters?.includes(i.cluster));
    if (opts.healthyOnly) instances = instances.filter((i) => i.healthy && i.enabled);
    return { service: s, instances };
  }

  async getInstanceById(namespace: string, id: string): Promise<Instance> {
    const i = await this.ctx.store.getInstanceById(id);
    if (!i || i.namespace !== namespace) throw new AppError('INSTANCE_NOT_FOUND', `instance '${id}' does not exist`, 'instanceId');
    return i;
  }

  /**
   * Register an instance, or update it if it exists. The service is created on first use, as in Nacos.
   * Registrations made at the same time are written together (see `commitUpserts`).
   */
  async registerInstance(input: InstanceInput): Promise<Instance> {
    const normalized = this.normalize(input);
    return this.upserts.submit({ input: normalized, mode: 'register', relaxed: normalized.ephemeral !== false });
  }

  /** Update an existing instance (Nacos `PUT /instance`). */
  async updateInstance(input: InstanceInput): Promise<Instance> {
    const normalized = this.normalize(input);
    return this.upserts.submit({ input: normalized, mode: 'update', relaxed: normalized.ephemeral === true });
  }

  /**
   * Write a batch of registrations and updates in one write: the services, the instances and
   * the kinds each service holds are read with one query each for the whole batch, new
   * instances inserted with one statement, so a batch costs a few statements instead of a
   * handful per instance. Each item is checked on its own (an item refused — unknown
   * namespace, instance kind conflict — changes nothing and does not hold back the others);
   * should the write fail as a whole (a concurrent node registered the same address first),
   * each item is written alone.
   */
  private async commitUpserts(batch: BatchItem<Upsert>[]): Promise<BatchOutcome<Instance>[]> {
    const relaxed = batch.every((b) => b.item.relaxed);
    try {
      return await write(this.ctx, async (tx) => {
        const outcomes = await this.upsertInstances(tx, batch);
        // Nothing to commit: roll back (a refused registration takes no revision), answering each its error.
        if (outcomes.every((o) => !o.ok)) throw new RefusedBatch(outcomes);
        return outcomes;
      }, 'CONFLICT', { relaxed });
    } catch (err) {
      if (err instanceof RefusedBatch) return err.outcomes;
      if (batch.length === 1) return [{ ok: false, error: err }];
      return Promise.all(batch.map(async (b) => (await this.commitUpserts([b]))[0]!));
    }
  }

  /** Register or update every item of a batch in `tx`; an item refused throws before it changes anything. */
  private async upsertInstances(tx: StoreWriter, batch: readonly BatchItem<Upsert>[]): Promise<BatchOutcome<Instance>[]> {
    const inputs = batch.map((b) => b.item.input);
    const services = new Map<string, Service>();
    for (const s of await tx.getServices(uniqueBy(inputs.map((i) => ({ namespace: i.namespace, group: i.group, name: i.service })), serviceKeyOf))) {
      services.set(serviceKeyOf(s), s);
    }
    const instances = new Map<string, Instance>();
    for (const i of await tx.getInstances(uniqueBy(inputs, instanceKeyId))) instances.set(instanceKeyId(keyOf(i)), i);
    const kinds = new Map<string, { ephemeral: number; persistent: number }>();
    const kindsOf = (serviceId: string) => {
      let k = kinds.get(serviceId);
      if (!k) kinds.set(serviceId, k = { ephemeral: 0, persistent: 0 });
      return k;
    };
    // An item needs the count of the kind it does not register, in its service: only those counts are read
    // (a service holds one kind, so that is an index seek that finds nothing). Items of one batch that change
    // a count of a kind nobody needs leave it off by their own moves, which no item reads.
    const needed = { ephemeral: new Set<string>(), persistent: new Set<string>() };
    const seen = new Map<string, number>();
    for (const i of inputs) seen.set(instanceKeyId(i), (seen.get(instanceKeyId(i)) ?? 0) + 1);
    for (const i of inputs) {
      const s = services.get(serviceKeyOf({ namespace: i.namespace, group: i.group, name: i.service }));
      if (!s) continue;
      if (i.ephemeral === undefined && seen.get(instanceKeyId(i))! > 1) {
        // Its kind follows an earlier item of the batch at the same address, which may be refused: either.
        needed.ephemeral.add(s.id);
        needed.persistent.add(s.id);
        continue;
      }
      const ephemeral = i.ephemeral ?? instances.get(instanceKeyId(i))?.ephemeral ?? true;
      needed[ephemeral ? 'persistent' : 'ephemeral'].add(s.id);
    }
    for (const kind of ['ephemeral', 'persistent'] as const) {
      if (needed[kind].size === 0) continue;
      for (const k of await tx.countInstanceKinds([...needed[kind]], kind === 'ephemeral')) kindsOf(k.serviceId)[kind] = k.count;
    }
    const state: UpsertState = { services, instances, kindsOf, inserts: new Map(), namespaces: new Map() };
    const outcomes: BatchOutcome<Instance>[] = [];
    for (const { item, inContext } of batch) {
      try {
        // In the caller's async context: the audit log records who asked, from where.
        outcomes.push({ ok: true, value: await inContext(() => this.upsertInstance(tx, item.input, item.mode, state)) });
      } catch (error) {
        if (!(error instanceof AppError)) throw error;
        outcomes.push({ ok: false, error });
      }
    }
    if (state.inserts.size > 0) await tx.insertInstances([...state.inserts.values()]);
    return outcomes;
  }

  private normalize(input: InstanceInput): InstanceInput {
    checkKey(input);
    const weight = input.weight ?? 1;
    if (!(Number.isFinite(weight) && weight >= 0 && weight <= 10000)) throw invalid('weight', `must be a number from 0 to 10000, got ${input.weight}`);
    const metadata = input.metadata ?? {};
    for (const [k, v] of Object.entries(metadata)) if (typeof v !== 'string') throw invalid(`metadata.${k}`, 'metadata values must be strings');
    const healthCheck = input.ephemeral === false && input.healthCheck !== null ? checkHealthCheck(input.healthCheck ?? {}) : null;
    // Field by field, not `{ ...input, weight, … }`: on Node 20 a spread followed by more properties builds new
    // hidden classes for each object (µs a registration, and garbage).
    return {
      namespace: input.namespace, group: input.group, service: input.service, ip: input.ip, port: input.port, cluster: input.cluster,
      weight, enabled: input.enabled, healthy: input.healthy, ephemeral: input.ephemeral, metadata, healthCheck, holder: input.holder,
    };
  }

  /**
   * One item of a batch, against what the batch read (`state`, kept up to date as items go).
   * Every refusal is thrown before anything is written or recorded.
   */
  private async upsertInstance(tx: StoreWriter, input: InstanceInput, mode: 'register' | 'update', state: UpsertState): Promise<Instance> {
    const t = this.ctx.now();
    const key = serviceKeyOf({ namespace: input.namespace, group: input.group, name: input.service });
    let service = state.services.get(key);
    if (!service) {
      // An existing service implies its namespace exists (a namespace is deleted only when empty).
      let known = state.namespaces.get(input.namespace);
      if (known === undefined) state.namespaces.set(input.namespace, known = (await tx.getNamespace(input.namespace)) !== undefined);
      if (!known) throw new AppError('NAMESPACE_NOT_FOUND', `namespace '${input.namespace}' does not exist`, 'namespaceId');
      if (mode === 'update') throw notFound(input);
      service = {
        id: randomUUID(), namespace: input.namespace, group: input.group, name: input.service, metadata: {}, protectThreshold: 0,
        selector: '', createdAt: t, updatedAt: t,
      };
      await tx.insertService(service);
      state.services.set(key, service);
      await tx.recordChange(service.namespace, 'service', `${service.group}@@${service.name}`, 'upsert');
      await audit(this.ctx, tx, { namespace: service.namespace, entity: 'service', entityId: service.id, entityName: serviceName(service), action: 'service.create', after: service });
    }
    const address = instanceKeyId(input);
    const existing = state.instances.get(address);
    if (!existing && mode === 'update') throw notFound(input);
    const ephemeral = input.ephemeral ?? existing?.ephemeral ?? true;
    const held = state.kindsOf(service.id);
    const others = (ephemeral ? held.persistent : held.ephemeral) - (existing && existing.ephemeral !== ephemeral ? 1 : 0);
    if (others > 0) {
      throw new AppError('INSTANCE_KIND_CONFLICT', `service '${input.group}@@${input.service}' holds ${ephemeral ? 'persistent' : 'ephemeral'} instances; it cannot also hold ${ephemeral ? 'ephemeral' : 'persistent'} ones`, 'ephemeral');
    }
    const instance: Instance = {
      id: existing?.id ?? timeOrderedUuid(ID_OPTIONS), namespace: input.namespace, serviceId: service.id, group: input.group,
      serviceName: input.service, ip: input.ip, port: input.port, cluster: input.cluster, weight: input.weight ?? existing?.weight ?? 1,
      enabled: input.enabled ?? existing?.enabled ?? true,
      healthy: input.healthy ?? existing?.healthy ?? true,
      ephemeral, metadata: input.metadata ?? existing?.metadata ?? {},
      healthCheck: ephemeral ? null : (input.healthCheck as HealthCheck | null) ?? existing?.healthCheck ?? { ...DEFAULT_HEALTH_CHECK },
      lastBeat: t, createdAt: existing?.createdAt ?? t, updatedAt: t,
    };
    // A persistent instance has no holder; an ephemeral one keeps its holder unless this write names one.
    const earlier = state.inserts.get(address);
    const stored: InstanceWrite = {
      id: instance.id, namespace: instance.namespace, serviceId: instance.serviceId, group: instance.group, serviceName: instance.serviceName,
      ip: instance.ip, port: instance.port, cluster: instance.cluster, weight: instance.weight, enabled: instance.enabled,
      healthy: instance.healthy, ephemeral, metadata: instance.metadata, healthCheck: instance.healthCheck, lastBeat: t,
      createdAt: instance.createdAt, updatedAt: t, holder: ephemeral ? input.holder ?? earlier?.holder : null,
    };
    if (existing) {
      held[existing.ephemeral ? 'ephemeral' : 'persistent'] -= 1;
      // Registered earlier in this batch: its insert carries the newest state.
      if (earlier) state.inserts.set(address, stored);
      else await tx.updateInstance(stored);
    } else {
      state.inserts.set(address, stored);
    }
    held[ephemeral ? 'ephemeral' : 'persistent'] += 1;
    state.instances.set(address, instance);
    await tx.recordChange(instance.namespace, 'instance', instanceId(instance), 'upsert');
    await audit(this.ctx, tx, {
      namespace: instance.namespace, entity: 'instance', entityId: instanceId(instance), entityName: instanceName(instance),
      action: existing ? 'instance.update' : 'instance.register', before: existing ? instanceState(existing) : null, after: instanceState(instance),
    });
    return instance;
  }

  /** Deregister an instance; true when it existed. */
  async deregisterInstance(key: InstanceKey): Promise<boolean> {
    return write(this.ctx, async (tx) => {
      const i = await tx.getInstance(key.namespace, key.group, key.service, key.ip, key.port, key.cluster);
      if (!i) return false;
      await tx.deleteInstance(i.id);
      await tx.recordChange(i.namespace, 'instance', instanceId(i), 'delete');
      await audit(this.ctx, tx, { namespace: i.namespace, entity: 'instance', entityId: instanceId(i), entityName: instanceName(i), action: 'instance.deregister', before: instanceState(i) });
      return true;
    });
  }

  /**
   * Deregister several instances in one write (a closed gRPC connection's): one query finds
   * them, one statement deletes them, each recorded in the change log and the audit log as a
   * deregistration of its own. Answers how many existed.
   */
  async deregisterInstances(keys: readonly InstanceKey[]): Promise<number> {
    if (keys.length === 0) return 0;
    return write(this.ctx, async (tx) => {
      const found = await tx.getInstances(uniqueBy(keys, instanceKeyId));
      if (found.length === 0) return 0;
      await tx.deleteInstances(found.map((i) => i.id));
      for (const i of found) {
        await tx.recordChange(i.namespace, 'instance', instanceId(i), 'delete');
        await audit(this.ctx, tx, { namespace: i.namespace, entity: 'instance', entityId: instanceId(i), entityName: instanceName(i), action: 'instance.deregister', before: instanceState(i) });
      }
      return found.length;
    });
  }

  /** Change an instance found by id (native API). */
  async patchInstance(namespace: string, id: string, patch: { weight?: number; enabled?: boolean; metadata?: Record<string, string>; healthCheck?: Partial<HealthCheck> }): Promise<Instance> {
    const i = await this.getInstanceById(namespace, id);
    return this.updateInstance({
      namespace, group: i.group, service: i.serviceName, ip: i.ip, port: i.port, cluster: i.cluster, ephemeral: i.ephemeral,
      weight: patch.weight ?? i.weight, enabled: patch.enabled ?? i.enabled, metadata: patch.metadata ?? i.metadata,
      healthCheck: patch.healthCheck ? { ...(i.healthCheck ?? {}), ...patch.healthCheck } : i.healthCheck,
    });
  }

  /**
   * A client heartbeat. A beat of an instance known to be healthy and ephemeral is answered
   * at once and written with others in the next batch (every 200 ms, no revision); others go
   * to the store now: an unhealthy instance turns healthy, an unknown one is re-registered
   * when the beat carries its details (as Nacos does), else reported missing.
   */
  async beat(key: InstanceKey, details?: { weight?: number; metadata?: Record<string, string> }): Promise<'ok' | 'not-found'> {
    const result = await this.beatOnce(key, details);
    this.onBeat?.(result);
    return result;
  }

  /** Told of every heartbeat's result (for the metrics). */
  onBeat: ((result: 'ok' | 'not-found') => void) | undefined;

  private async beatOnce(key: InstanceKey, details?: { weight?: number; metadata?: Record<string, string> }): Promise<'ok' | 'not-found'> {
    checkKey(key);
    const id = instanceKeyId(key);
    const t = this.ctx.now();
    if ((this.knownHealthy.get(id) ?? 0) > t) {
      this.pendingBeats.set(id, key);
      this.flushTimer ??= setTimeout(() => void this.flushBeats(), 200).unref();
      return 'ok';
    }
    const [matched] = await this.ctx.store.beatMany([key], t);
    if (matched) {
      this.remember(id, t);
      return 'ok';
    }
    const existing = await this.ctx.store.getInstance(key.namespace, key.group, key.service, key.ip, key.port, key.cluster);
    if (existing) {
      await write(this.ctx, async (tx) => {
        const i = await tx.getInstance(key.namespace, key.group, key.service, key.ip, key.port, key.cluster);
        // Persistent instances are checked by the registry: a client beat does not vouch for them.
        if (!i || !i.ephemeral || i.healthy) return;
        await tx.updateInstance({ ...i, healthy: true, lastBeat: t, updatedAt: t });
        await tx.recordChange(i.namespace, 'instance', instanceId(i), 'upsert');
      }, 'CONFLICT', { relaxed: true });
      return 'ok';
    }
    if (!details) return 'not-found';
    await this.registerInstance({ ...key, ephemeral: true, weight: details.weight, metadata: details.metadata });
    return 'ok';
  }

  private remember(id: string, t: number): void {
    if (this.knownHealthy.size > 200_000) this.knownHealthy.clear();
    this.knownHealthy.set(id, t + 30_000);
  }

  /** Write the batched heartbeats; a beat that no longer matches sends its next beat down the full path. */
  async flushBeats(): Promise<void> {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    if (this.pendingBeats.size === 0) return;
    const batch = [...this.pendingBeats];
    this.pendingBeats.clear();
    try {
      const matched = await this.ctx.store.beatMany(batch.map(([, k]) => k), this.ctx.now());
      matched.forEach((ok, n) => { if (!ok) this.knownHealthy.delete(batch[n]![0]); });
    } catch {
      for (const [id] of batch) this.knownHealthy.delete(id);
    }
  }

  /**
   * Turn ephemeral instances whose beats stopped unhealthy, and remove them after their
   * delete timeout. Runs on one registry node at a time.
   */
  async sweepEphemeral(): Promise<{ unhealthy: number; removed: number }> {
    const t = this.ctx.now();
    const candidates = await this.ctx.store.listExpiredInstances(t);
    if (candidates.length === 0) return { unhealthy: 0, removed: 0 };
    return write(this.ctx, async (tx) => {
      let unhealthy = 0;
      let removed = 0;
      // Read again under the write lock (a beat or a lease renewal may have come since); `lastBeat` counts the holder's lease.
      for (const i of await tx.listExpiredInstances(t)) {
        const { timeout, deleteTimeout } = beatTimings(i.metadata);
        if (t - i.lastBeat > deleteTimeout) {
          await tx.deleteInstance(i.id);
          await tx.recordChange(i.namespace, 'instance', instanceId(i), 'delete');
          // Recorded (as the registry's own change): an instance disappeared. Health flips are not (see docs/security.md).
          await audit(this.ctx, tx, { namespace: i.namespace, entity: 'instance', entityId: instanceId(i), entityName: instanceName(i), action: 'instance.expire', before: instanceState(i) });
          removed += 1;
        } else if (i.healthy && t - i.lastBeat > timeout) {
          await tx.updateInstance({ ...i, healthy: false, updatedAt: t });
          await tx.recordChange(i.namespace, 'instance', instanceId(i), 'upsert');
          unhealthy += 1;
        }
      }
      return { unhealthy, removed };
    }, 'CONFLICT', { relaxed: true });
  }

  /** Record a health-check verdict on a persistent instance; writes only when it flips. */
  async setHealth(id: string, healthy: boolean): Promise<void> {
    const t = this.ctx.now();
    const current = await this.ctx.store.getInstanceById(id);
    if (!current) return;
    if (current.healthy === healthy) {
      await this.ctx.store.touchInstance(id, t);
      return;
    }
    await write(this.ctx, async (tx) => {
      const i = await tx.getInstanceById(id);
      if (!i || i.healthy === healthy) return;
      await tx.updateInstance({ ...i, healthy, lastBeat: t, updatedAt: t });
      await tx.recordChange(i.namespace, 'instance', instanceId(i), 'upsert');
    });
  }
}

function notFound(k: InstanceKey): AppError {
  return new AppError('INSTANCE_NOT_FOUND', `instance ${k.ip}:${k.port} (cluster ${k.cluster}) is not registered in '${k.group}@@${k.service}'`, 'ip');
}

/** The namespace, or NAMESPACE_NOT_FOUND. */
export async function requireNamespace(tx: StoreWriter, id: string): Promise<Namespace> {
  const ns = await tx.getNamespace(id);
  if (!ns) throw new AppError('NAMESPACE_NOT_FOUND', `namespace '${id}' does not exist`, 'namespaceId');
  return ns;
}

async function requireService(tx: StoreWriter, namespace: string, group: string, name: string): Promise<Service> {
  await requireNamespace(tx, namespace);
  const s = await tx.getService(namespace, group, name);
  if (!s) throw new AppError('SERVICE_NOT_FOUND', `service '${group}@@${name}' does not exist in namespace '${namespace}'`, 'serviceName');
  return s;
}

