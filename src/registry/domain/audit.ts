/**
 * The audit log: every registry change records who made it, when, from where, and what it was
 * (before and after, secrets redacted), in the same transaction as the change, so an entry
 * exists exactly when the change committed.
 *
 * Who and from where come from the request being served: the HTTP layer runs each request in
 * a scope that carries its origin beside its id (lib/request-context.ts; `runAsOrigin` for
 * other callers), and the domain services read it when they record. A write made outside any
 * request (expiry of ephemeral instances, the first admin, the `public` namespace) is the
 * registry's own: actor `system`.
 */
import { currentRequestId, currentRequestScope, runInRequestScope } from '../../lib/request-context.js';
import diff from 'microdiff';
import { AppError, invalid } from '../../lib/errors.js';
import type { AuditQuery, StoreWriter } from '../store/store.js';
import type { RegistryContext } from './context.js';
import type { AuditActor, AuditEntity, AuditEntry, McpServer, McpServerSpec, McpServerVersion, Role } from '../../model/model.js';
import { REDACTED, changedSecrets, endpointSecretChanged, pathText, redactServer, redactSpec } from './secrets.js';

/** Where the request being served comes from. */
export interface RequestOrigin {
  /** Who is calling; read when a change is recorded (authentication runs after the origin is set). */
  actor: () => AuditActor;
  /** The client's address (the socket's, or the one a trusted proxy reports). */
  address: string | null;
  /** The route serving it (`POST /api/v1/namespaces/:ns/mcp-servers`). */
  route: string | null;
}

/** Run `fn` (and everything it awaits) as serving a request from `origin` (under the request id being served, if any). */
export function runAsOrigin<T>(origin: RequestOrigin, fn: () => T): T {
  return runInRequestScope({ id: currentRequestId(), origin }, fn);
}

/** The origin of the request being served (kept in the request's scope, lib/request-context.ts). */
function currentOrigin(): RequestOrigin | undefined {
  return currentRequestScope()?.origin as RequestOrigin | undefined;
}

/** The registry itself, for changes made outside any request. */
export const SYSTEM_ACTOR: AuditActor = { kind: 'system', name: 'system' };

/** The parts of a principal (`domain/auth.ts`) the audit log reads. */
export interface AuditPrincipal {
  username: string;
  globalAdmin: boolean;
  roles: { namespace: string; role: Role }[];
  token?: { id: string; name: string };
  anonymous?: true;
}

/** The actor a principal records as: a user, a user's API token, or anyone (auth off). */
export function actorOf(p: AuditPrincipal | undefined): AuditActor {
  if (!p || p.anonymous) return { kind: 'anonymous', name: 'anonymous' };
  if (p.token) return { kind: 'token', name: p.username, tokenId: p.token.id };
  return { kind: 'user', name: p.username };
}

/** What one change records, besides who and from where. */
export interface AuditInput {
  namespace: string;
  entity: AuditEntity;
  entityId: string;
  entityName: string;
  action: string;
  before?: unknown;
  after?: unknown;
  /** Paths of secrets that changed (their values are redacted on both sides). */
  secretsChanged?: string[];
}

/**
 * Record a change in the audit log, inside its write transaction. `before` and `after` must
 * already be free of secrets: build them with `serverState` / `versionState`.
 */
export async function audit(ctx: RegistryContext, tx: StoreWriter, input: AuditInput): Promise<void> {
  const origin = currentOrigin();
  await tx.recordAudit({
    at: ctx.now(), namespace: input.namespace, actor: origin ? origin.actor() : SYSTEM_ACTOR, address: origin?.address ?? null,
    route: origin?.route ?? null, action: input.action, entity: input.entity, entityId: input.entityId, entityName: input.entityName,
    before: input.before ?? null, after: input.after ?? null, secretsChanged: input.secretsChanged ?? [],
  });
}

/** A server record as the audit log keeps it: its endpoint's secret redacted. */
export function serverState(server: McpServer): McpServer {
  return redactServer(server);
}

/** A version as the audit log keeps it: its spec's secrets redacted. */
export function versionState(v: McpServerVersion): McpServerVersion {
  return { ...v, spec: redactSpec(v.spec) };
}

/**
 * The secrets that changed between two states of a server, as paths of the audit document
 * `{server, version}`: `server.endpoint.url`, `version.spec.config.token`…
 */
export function secretChanges(before: { server?: McpServer; spec?: McpServerSpec }, after: { server?: McpServer; spec?: McpServerSpec }): string[] {
  const out = changedSecrets(before.spec, after.spec).map((p) => `version.spec.${p}`);
  if ((before.server || after.server) && endpointSecretChanged(before.server?.endpoint, after.server?.endpoint)) out.unshift('server.endpoint.url');
  return out;
}

/** One difference between an entry's before and after. */
export interface AuditChange {
  path: string;
  kind: 'added' | 'removed' | 'changed';
  from?: unknown;
  to?: unknown;
}

/** An audit entry as the API answers it: with an id (its cursor) and the differences of before and after. */
export interface AuditEntryView extends AuditEntry {
  id: string;
  changes: AuditChange[];
}

/** The differences between an entry's before and after; a changed secret shows as a change of `REDACTED`. */
export function auditChanges(e: Pick<AuditEntry, 'before' | 'after' | 'secretsChanged'>): AuditChange[] {
  const obj = (v: unknown) => typeof v === 'object' && v !== null;
  let changes: AuditChange[];
  if (obj(e.before) && obj(e.after)) {
    changes = diff(e.before as Record<string, unknown>, e.after as Record<string, unknown>).map((d) => ({
      path: pathText(d.path),
      kind: d.type === 'CREATE' ? 'added' : d.type === 'REMOVE' ? 'removed' : 'changed',
      ...('oldValue' in d ? { from: d.oldValue } : {}),
      ...('value' in d ? { to: d.value } : {}),
    }));
  } else if (e.before === null && e.after !== null) {
    changes = [{ path: '', kind: 'added', to: e.after }];
  } else if (e.after === null && e.before !== null) {
    changes = [{ path: '', kind: 'removed', from: e.before }];
  } else {
    changes = [];
  }
  const shown = new Set(changes.map((c) => c.path));
  for (const path of e.secretsChanged) {
    if (!shown.has(path)) changes.push({ path, kind: 'changed', from: REDACTED, to: REDACTED });
  }
  return changes;
}

const ENTITIES: readonly AuditEntity[] = ['namespace', 'service', 'instance', 'mcp_server', 'user', 'token', 'consumer'];
const CURSOR = /^(\d{1,15})\.(\d{1,9})$/;
/** The largest page of the audit API. */
export const AUDIT_PAGE_MAX = 500;

/** Filters of `GET /api/v1/audit`, as the API takes them. */
export interface AuditFilter {
  namespace?: string;
  actor?: string;
  entityType?: string;
  entityId?: string;
  entityName?: string;
  action?: string;
  /** ISO 8601 time or epoch ms. */
  since?: string;
  until?: string;
  cursor?: string;
  limit?: number;
}

function time(field: string, value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  if (!Number.isFinite(n)) throw invalid(field, `'${value}' is not a time: give ISO 8601 (2025-01-31T12:00:00Z) or epoch milliseconds`);
  return n;
}

/** Reads and prunes the audit log. */
export class AuditService {
  constructor(private readonly ctx: RegistryContext) {}

  /**
   * A page of entries, newest first, for a global admin (every namespace, and users and tokens
   * under `*`) or a namespace admin (the namespaces they administer). Anyone else is refused.
   */
  async list(p: AuditPrincipal, f: AuditFilter): Promise<{ items: AuditEntryView[]; nextCursor: string | null }> {
    const limit = f.limit ?? 50;
    if (!Number.isInteger(limit) || limit < 1 || limit > AUDIT_PAGE_MAX) throw invalid('limit', `must be an integer from 1 to ${AUDIT_PAGE_MAX}`);
    if (f.entityType !== undefined && !ENTITIES.includes(f.entityType as AuditEntity)) {
      throw invalid('entityType', `must be one of ${ENTITIES.join(', ')}`);
    }
    let before: AuditQuery['before'];
    if (f.cursor) {
      const m = CURSOR.exec(f.cursor);
      if (!m) throw invalid('cursor', 'is not a cursor of this API (give the nextCursor of the previous page)');
      before = { revision: Number(m[1]), seq: Number(m[2]) };
    }
    const query: AuditQuery = {
      limit: limit + 1, namespaces: this.namespacesFor(p, f.namespace), ...(before ? { before } : {}),
      ...(f.actor ? { actor: f.actor } : {}), ...(f.entityType ? { entity: f.entityType as AuditEntity } : {}),
      ...(f.entityId ? { entityId: f.entityId } : {}), ...(f.entityName ? { entityName: f.entityName } : {}),
      ...(f.action ? { action: f.action } : {}),
    };
    const since = time('since', f.since);
    const until = time('until', f.until);
    if (since !== undefined) query.since = since;
    if (until !== undefined) query.until = until;
    if (query.namespaces === undefined) delete query.namespaces;
    const rows = await this.ctx.store.listAudit(query);
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      items: page.map((e) => ({ ...e, id: `${e.revision}.${e.seq}`, changes: auditChanges(e) })),
      nextCursor: rows.length > limit && last ? `${last.revision}.${last.seq}` : null,
    };
  }

  /** The namespaces a principal may read the audit of (undefined: all), narrowed to `wanted`. */
  private namespacesFor(p: AuditPrincipal, wanted: string | undefined): string[] | undefined {
    if (p.globalAdmin) return wanted === undefined ? undefined : [wanted];
    const administered = p.roles.filter((r) => r.role === 'admin' && r.namespace !== '*').map((r) => r.namespace);
    if (wanted !== undefined) {
      if (!p.roles.some((r) => r.namespace === wanted || r.namespace === '*')) {
        throw new AppError('NAMESPACE_NOT_FOUND', `namespace '${wanted}' does not exist`, 'namespace');
      }
      if (!administered.includes(wanted)) throw new AppError('FORBIDDEN', `the audit log of '${wanted}' needs the admin role there`);
      return [wanted];
    }
    if (administered.length === 0) throw new AppError('FORBIDDEN', 'the audit log needs the admin role on a namespace, or on * for everything');
    return administered;
  }

  /** Drop entries older than `retentionDays` before `now`; 0 keeps everything. Answers how many went. */
  async prune(retentionDays: number, now = this.ctx.now()): Promise<number> {
    if (retentionDays <= 0) return 0;
    return this.ctx.store.pruneAudit(now - retentionDays * 86_400_000);
  }
}
