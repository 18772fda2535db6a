import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { AppError, invalid } from '../../lib/errors.js';
import { audit } from './audit.js';
import type { RegistryContext } from './context.js';
import { write } from './context.js';
import type { Consumer } from './model.js';
import { requireNamespace } from './naming.js';

/** Prefix of gateway consumer keys, so they are recognisable in logs and secret scanners. */
export const CONSUMER_KEY_PREFIX = 'mgk_';
const NAME = /^[A-Za-z0-9_.@-]{1,255}$/;
const ALLOW = /^[A-Za-z0-9][A-Za-z0-9_.\-/]{0,254}$/;

/** The SHA-256 (hex) under which a consumer key is stored and looked up. */
export function hashConsumerKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** A consumer as listings show it: never the key, nor its hash. */
export type ConsumerView = Omit<Consumer, 'keyHash'>;

const view = ({ keyHash: _h, ...c }: Consumer): ConsumerView => c;

function checkAllow(allow: unknown): string[] | null {
  if (allow === null || allow === undefined) return null;
  if (!Array.isArray(allow)) throw invalid('allow', "must be null (everything) or an array of 'server' or 'server/tool' entries");
  return allow.map((a, i) => {
    if (typeof a !== 'string' || !ALLOW.test(a) || a.split('/').length > 2) throw invalid(`allow[${i}]`, `'${String(a)}' is not 'server' or 'server/tool'`);
    return a;
  });
}

/** Gateway consumers: API keys per namespace, hashed at rest, shown once. */
export class ConsumerService {
  constructor(private readonly ctx: RegistryContext) {}

  async list(namespace: string): Promise<ConsumerView[]> {
    await requireNamespaceExists(this.ctx, namespace);
    return (await this.ctx.store.listConsumers(namespace)).map(view);
  }

  /** Create a consumer; the key is in the answer only. */
  async create(namespace: string, input: { name: string; allow?: unknown }): Promise<{ key: string; consumer: ConsumerView }> {
    if (typeof input.name !== 'string' || !NAME.test(input.name)) throw invalid('name', 'must be 1-255 of letters, digits, _ . @ -');
    const allow = checkAllow(input.allow);
    const key = `${CONSUMER_KEY_PREFIX}${randomBytes(24).toString('base64url')}`;
    const consumer: Consumer = {
      id: randomUUID(), namespace, name: input.name, keyHash: hashConsumerKey(key), keyPrefix: key.slice(0, 10), allow, createdAt: this.ctx.now(),
    };
    await write(this.ctx, async (tx) => {
      await requireNamespace(tx, namespace);
      if ((await tx.listConsumers(namespace)).some((c) => c.name === input.name)) {
        throw new AppError('CONSUMER_EXISTS', `consumer '${input.name}' already exists in namespace '${namespace}'`, 'name');
      }
      await tx.insertConsumer(consumer);
      await tx.recordChange(namespace, 'consumer', consumer.id, 'upsert');
      await audit(this.ctx, tx, { namespace, entity: 'consumer', entityId: consumer.id, entityName: consumer.name, action: 'consumer.create', after: view(consumer) });
    }, 'CONSUMER_EXISTS');
    return { key, consumer: view(consumer) };
  }

  async update(namespace: string, id: string, input: { allow?: unknown }): Promise<ConsumerView> {
    const allow = checkAllow(input.allow);
    return write(this.ctx, async (tx) => {
      const c = (await tx.listConsumers(namespace)).find((x) => x.id === id);
      if (!c) throw new AppError('CONSUMER_NOT_FOUND', `consumer '${id}' does not exist in namespace '${namespace}'`, 'id');
      const next = { ...c, allow };
      await tx.updateConsumer(next);
      await tx.recordChange(namespace, 'consumer', id, 'upsert');
      await audit(this.ctx, tx, { namespace, entity: 'consumer', entityId: id, entityName: c.name, action: 'consumer.update', before: view(c), after: view(next) });
      return view(next);
    });
  }

  async delete(namespace: string, id: string): Promise<void> {
    await write(this.ctx, async (tx) => {
      const c = (await tx.listConsumers(namespace)).find((x) => x.id === id);
      if (!c) throw new AppError('CONSUMER_NOT_FOUND', `consumer '${id}' does not exist in namespace '${namespace}'`, 'id');
      await tx.deleteConsumer(id);
      await tx.recordChange(namespace, 'consumer', id, 'delete');
      await audit(this.ctx, tx, { namespace, entity: 'consumer', entityId: id, entityName: c.name, action: 'consumer.delete', before: view(c) });
    });
  }
}

async function requireNamespaceExists(ctx: RegistryContext, namespace: string): Promise<void> {
  if (!(await ctx.store.getNamespace(namespace))) throw new AppError('NAMESPACE_NOT_FOUND', `namespace '${namespace}' does not exist`, 'namespaceId');
}
