import { randomBytes, randomUUID } from 'node:crypto';
import { AppError, invalid } from '../../lib/errors.js';
import { audit } from './audit.js';
import type { RegistryContext } from './context.js';
import { write } from './context.js';
import { CONSUMER_KEY_PREFIX, hashConsumerKey } from '../../model/consumer-key.js';
import type { AllowEntry, Consumer } from '../../model/model.js';
import { requireNamespace } from './naming.js';
import { SERVER_NAME, TOOL_NAME_PATTERN } from '../../model/names.js';

const NAME = /^[A-Za-z0-9_.@-]{1,255}$/;
/** Most entries an allow-list holds, and most tools an entry names (bounds what a key costs the gateway). */
export const MAX_ALLOW_ENTRIES = 1000;
export const MAX_ALLOW_TOOLS = 5000;

/** A consumer as listings show it: never the key, nor its hash. */
export type ConsumerView = Omit<Consumer, 'keyHash'>;

const view = ({ keyHash: _h, ...c }: Consumer): ConsumerView => c;

function shown(v: unknown): string {
  return typeof v === 'string' ? `'${v}'` : JSON.stringify(v) ?? String(v);
}

function checkEntry(a: unknown, field: string): AllowEntry {
  if (typeof a === 'string') {
    if (a.includes('/')) {
      const cut = a.lastIndexOf('/');
      throw invalid(field, `'${a}' is ambiguous: MCP server names may contain '/'. Write {"server":"${a.slice(0, cut)}","tools":["${a.slice(cut + 1)}"]} `
        + `for tool '${a.slice(cut + 1)}' of server '${a.slice(0, cut)}', or {"server":"${a}"} for the whole server '${a}'`);
    }
    if (!SERVER_NAME.test(a)) throw invalid(field, `${shown(a)} is not an MCP server name`);
    return { server: a };
  }
  if (typeof a !== 'object' || a === null || Array.isArray(a)) {
    throw invalid(field, `must be a server name or {"server": name, "tools": [names]}, got ${shown(a)}`);
  }
  const o = a as Record<string, unknown>;
  for (const k of Object.keys(o)) if (k !== 'server' && k !== 'tools') throw invalid(`${field}.${k}`, 'is not a field of an allow entry (server, tools)');
  if (typeof o.server !== 'string' || !SERVER_NAME.test(o.server)) throw invalid(`${field}.server`, `${shown(o.server)} is not an MCP server name`);
  if (o.tools === undefined || o.tools === null) return { server: o.server };
  if (!Array.isArray(o.tools)) throw invalid(`${field}.tools`, 'must be an array of tool names (omit it to allow every tool of the server)');
  if (o.tools.length === 0) throw invalid(`${field}.tools`, 'must name at least one tool (omit it to allow every tool of the server)');
  if (o.tools.length > MAX_ALLOW_TOOLS) throw invalid(`${field}.tools`, `must name at most ${MAX_ALLOW_TOOLS} tools`);
  const tools = o.tools.map((t, j) => {
    if (typeof t !== 'string' || !TOOL_NAME_PATTERN.test(t)) throw invalid(`${field}.tools[${j}]`, `${shown(t)} is not a tool name`);
    return t;
  });
  return { server: o.server, tools };
}

/**
 * Checks an allow-list as given to the API and answers it in its stored form: one entry per
 * server (a whole-server grant absorbs tool grants), tools without repeats. A string entry is
 * a whole server, and only when it holds no `/` (else it could name a tool of another server).
 */
export function checkAllow(allow: unknown): AllowEntry[] | null {
  if (allow === null || allow === undefined) return null;
  if (!Array.isArray(allow)) throw invalid('allow', 'must be null (every server) or an array of server names and {"server", "tools"} entries');
  if (allow.length > MAX_ALLOW_ENTRIES) throw invalid('allow', `must have at most ${MAX_ALLOW_ENTRIES} entries`);
  const byServer = new Map<string, Set<string> | null>();
  allow.forEach((a, i) => {
    const entry = checkEntry(a, `allow[${i}]`);
    const had = byServer.get(entry.server);
    if (had === null) return;
    if (!entry.tools) byServer.set(entry.server, null);
    else byServer.set(entry.server, new Set([...(had ?? []), ...entry.tools]));
  });
  return [...byServer].map(([server, tools]) => (tools ? { server, tools: [...tools] } : { server }));
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

  /**
   * Restore a consumer from a backup with its key hash (its agents' key keeps working); a
   * consumer of that name already there is left as it is. Answers whether it was created.
   */
  async restore(namespace: string, input: { name: string; keyHash: string; keyPrefix: string; allow?: unknown }): Promise<boolean> {
    if (typeof input.name !== 'string' || !NAME.test(input.name)) throw invalid('name', 'must be 1-255 of letters, digits, _ . @ -');
    if (typeof input.keyHash !== 'string' || !/^[0-9a-f]{64}$/.test(input.keyHash)) throw invalid('keyHash', 'must be 64 hexadecimal characters');
    const allow = checkAllow(input.allow);
    return write(this.ctx, async (tx) => {
      await requireNamespace(tx, namespace);
      if ((await tx.listConsumers(namespace)).some((c) => c.name === input.name)) return false;
      const consumer: Consumer = {
        id: randomUUID(), namespace, name: input.name, keyHash: input.keyHash, keyPrefix: String(input.keyPrefix ?? '').slice(0, 16), allow, createdAt: this.ctx.now(),
      };
      await tx.insertConsumer(consumer);
      await tx.recordChange(namespace, 'consumer', consumer.id, 'upsert');
      await audit(this.ctx, tx, { namespace, entity: 'consumer', entityId: consumer.id, entityName: consumer.name, action: 'consumer.create', after: view(consumer) });
      return true;
    }, 'CONSUMER_EXISTS');
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
