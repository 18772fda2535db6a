import { randomUUID } from 'node:crypto';
import { isIP } from 'node:net';
import diff from 'microdiff';
import { AppError, invalid } from '../../lib/errors.js';
import type { McpServerQuery, StoreWriter } from '../store/store.js';
import { audit, secretChanges, serverState, versionState } from './audit.js';
import type { RegistryContext } from './context.js';
import { write } from './context.js';
import type {
  Endpoint, McpServer, McpServerInput, McpServerSpec, McpServerVersion, Page, PublishAction, PublishEvent,
  SpecChange, VersionRevision,
} from '../../model/model.js';
import { FRONT_PROTOCOLS, MCP_PROTOCOLS } from '../../model/model.js';
import { SERVER_NAME } from '../../model/names.js';
import { VIRTUAL_PROTOCOL, checkVirtualOwnership, checkVirtualPublish } from '../../model/virtual.js';
import type { PublishedMember } from '../../model/virtual.js';
import { checkAuthorizationIssuers, sameIssuers } from '../../model/authorization-issuers.js';
import type { MetadataFetch } from '../../model/authorization-issuers.js';
import type { SpecWarning } from '../../model/spec-validation.js';
import { requireNamespace } from './naming.js';
import { redactSpec, restoreEndpoint, restoreSecrets, valueAt } from './secrets.js';

/** Checks a spec before it is stored (JSON Schemas, templates); throws AppError, answers what it accepted with a warning. */
export type SpecValidator = (spec: McpServerSpec) => SpecWarning[] | void;

/** How to find a server: by name or by id. */
export type ServerKey = { name: string } | { id: string };

/**
 * A write's precondition on the version it changes (HTTP `If-Match`): `*` (the version exists)
 * or the entity-tags of which the version's current one must be one.
 */
export type IfMatch = '*' | readonly string[];

/** Options of a write to one version. */
export interface VersionWriteOptions {
  /** Refuse the write with `VERSION_CHANGED` unless the version's entity-tag matches. */
  ifMatch?: IfMatch;
  /**
   * Nacos semantics: a published or archived version saved with other content is overwritten
   * in place as its next revision (the earlier contents are kept), and served at once when it
   * is the published one. Without it such a save is refused (`VERSION_EXISTS`).
   */
  overwrite?: boolean;
  /** Fetch and check the issuers of the spec's `authorization` (default true; skipped when they are those of the version stored). */
  checkIssuers?: boolean;
}

const VERSION = /^[A-Za-z0-9][A-Za-z0-9_.+-]{0,127}$/;
const HEADER = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

export type { SpecChange };

/** Who publishes (or rolls back) and why: kept in the publish history. */
export interface PublishBy {
  actor: string;
  note?: string;
}

const NOBODY: PublishBy = { actor: 'unknown' };
const NOTE_MAX = 1000;

/** One content served: a version at one of its revisions. */
interface Served {
  version: string;
  revision: number;
}

const sameServed = (a: Served | undefined, b: Served): boolean => a !== undefined && a.version === b.version && a.revision === b.revision;

/** The revision a version holds now (1 for versions stored before revisions). */
function currentRevision(versions: readonly Pick<McpServerVersion, 'version' | 'revision'>[], version: string): number {
  return versions.find((v) => v.version === version)?.revision ?? 1;
}

/**
 * How the API names a served content: the version alone for the content it holds now,
 * `version@revision` for an earlier content of it (`@` cannot occur in a version).
 */
export function servedRef(s: Served, versions: readonly Pick<McpServerVersion, 'version' | 'revision'>[]): string {
  return s.revision === currentRevision(versions, s.version) ? s.version : `${s.version}@${s.revision}`;
}

/** Reads `version` or `version@revision`; the revision is undefined when not given. */
export function parseServedRef(ref: string): { version: string; revision: number | undefined } {
  const at = ref.lastIndexOf('@');
  if (at < 0) return { version: ref, revision: undefined };
  const revision = Number(ref.slice(at + 1));
  if (!/^[1-9][0-9]{0,8}$/.test(ref.slice(at + 1))) throw invalid('version', `'${ref}': after @ comes a revision number (1, 2, …)`);
  return { version: ref.slice(0, at), revision };
}

function servedLine(history: readonly PublishEvent[], versions: readonly McpServerVersion[], published: string | null): Served[] {
  const line: Served[] = [];
  const served = (version: string): Served => ({ version, revision: currentRevision(versions, version) });
  if (history.length === 0) {
    const current = versions.find((v) => v.version === published);
    for (const v of [...versions].filter((x) => x.publishedAt !== null).sort((a, b) => (a.publishedAt ?? 0) - (b.publishedAt ?? 0))) {
      if (v.version !== published && (current?.publishedAt ?? Infinity) >= (v.publishedAt ?? 0)) line.push(served(v.version));
    }
    if (published) line.push(served(published));
    return line;
  }
  for (const e of history) {
    const key: Served = { version: e.version, revision: e.revision ?? 1 };
    let at = -1;
    for (let i = line.length - 1; i >= 0; i--) if (sameServed(line[i], key)) { at = i; break; }
    if (e.action === 'rollback' && at >= 0) line.length = at + 1;
    else if (!sameServed(line[line.length - 1], key)) line.push(key);
  }
  if (published && !sameServed(line[line.length - 1], served(published))) line.push(served(published));
  return line;
}

/**
 * The contents a rollback walks back through, oldest first, the served one last: each publish
 * (or overwrite of the served version) adds its content, each rollback goes back to its
 * content and forgets what came after it, so rolling back never brings back a content that was
 * rolled back from. Entries are versions, or `version@revision` for an earlier content of one
 * (see `servedRef`). Servers published before the history was kept start from their
 * versions' publish times.
 */
export function publishedLine(history: readonly PublishEvent[], versions: readonly McpServerVersion[], published: string | null): string[] {
  return servedLine(history, versions, published).map((s) => servedRef(s, versions));
}

/** The content a rollback without a named version goes to: the one served before the current one (undefined: none). */
export function rollbackTarget(history: readonly PublishEvent[], versions: readonly McpServerVersion[], published: string | null): string | undefined {
  const line = servedLine(history, versions, published);
  const existing = new Set(versions.map((v) => v.version));
  const now: Served | undefined = published ? { version: published, revision: currentRevision(versions, published) } : undefined;
  for (let i = line.length - 2; i >= 0; i--) {
    const entry = line[i]!;
    if (existing.has(entry.version) && !(now && sameServed(entry, now))) return servedRef(entry, versions);
  }
  return undefined;
}

/** A version as publish and roll back record it: without the spec, which they do not change. */
function versionStatus(v: McpServerVersion): Omit<McpServerVersion, 'spec'> {
  const { spec: _s, ...rest } = v;
  return rest;
}

/** The versions whose secrets a new spec keeps where it sends the marker: the same version, the latest, the published, then the rest, newest first. */
async function secretSources(tx: StoreWriter, server: McpServer, version: string): Promise<McpServerVersion[]> {
  const all = await tx.listVersions(server.id);
  const order = [version, server.latestVersion, server.publishedVersion];
  const ranked = [...all].sort((a, b) => {
    const ra = order.indexOf(a.version);
    const rb = order.indexOf(b.version);
    return (ra < 0 ? 99 : ra) - (rb < 0 ? 99 : rb) || b.createdAt - a.createdAt;
  });
  return ranked;
}

function describe(key: ServerKey): string {
  return 'id' in key ? `id '${key.id}'` : `'${key.name}'`;
}

/** MCP servers and their versions: create, draft, publish, roll back, diff. */
export class McpService {
  constructor(private readonly ctx: RegistryContext, private readonly validateSpec: SpecValidator, private readonly fetcher: MetadataFetch = globalThis.fetch) {}

  /**
   * The issuers of a spec's `authorization` fetched and checked (ISSUER_METADATA_INVALID naming
   * the field), before anything is written: unless `checkIssuers` is false, or they are those of
   * `stored` (a save that keeps them, as Nacos clients' updates do).
   */
  private async checkIssuers(spec: McpServerSpec, stored: McpServerSpec | undefined, checkIssuers: boolean | undefined): Promise<void> {
    if (checkIssuers === false || !(spec.authorization?.issuers?.length)) return;
    if (stored && sameIssuers(spec.authorization, stored.authorization)) return;
    await checkAuthorizationIssuers(spec.authorization, 'authorization', this.fetcher);
  }

  /** The stored spec a save of `version` replaces or follows (that version, else the latest), read before the write. */
  private async storedSpec(namespace: string, key: ServerKey, version: string): Promise<McpServerSpec | undefined> {
    const server = await this.ctx.store.getMcpServer(namespace, key);
    if (!server) return undefined;
    const v = await this.ctx.store.getVersion(server.id, version) ?? (server.latestVersion ? await this.ctx.store.getVersion(server.id, server.latestVersion) : undefined);
    return v?.spec;
  }

  private check(namespace: string, input: Partial<McpServerInput>, spec?: McpServerSpec): SpecWarning[] {
    if (input.name !== undefined && !SERVER_NAME.test(input.name)) throw invalid('name', `'${input.name}' is not a valid MCP server name`);
    if (input.protocol !== undefined && !MCP_PROTOCOLS.includes(input.protocol)) {
      throw invalid('protocol', `must be one of ${MCP_PROTOCOLS.join(', ')}; got '${String(input.protocol)}'`);
    }
    if (input.frontProtocol !== undefined && !FRONT_PROTOCOLS.includes(input.frontProtocol)) {
      throw invalid('frontProtocol', `must be one of ${FRONT_PROTOCOLS.join(', ')}; got '${String(input.frontProtocol)}'`);
    }
    if (input.endpoint) checkEndpoint(namespace, input.endpoint);
    if (input.passthrough) {
      for (const h of input.passthrough.headers) if (!HEADER.test(h)) throw invalid('passthrough.headers', `'${h}' is not a header name`);
      for (const c of input.passthrough.cookies) if (!HEADER.test(c)) throw invalid('passthrough.cookies', `'${c}' is not a cookie name`);
    }
    if (!spec) return [];
    if (!VERSION.test(spec.version)) throw invalid('version', `'${spec.version}' is not a valid version`);
    const warnings = this.validateSpec(spec) ?? [];
    if (spec.virtual && input.name !== undefined) checkVirtualOwnership(spec.virtual, { namespace, name: input.name });
    return warnings;
  }

  /**
   * A version about to be served: a virtual server's members exist here, are published, hold no
   * cycle and give no two tools one name; any other server is not given a `virtual` part.
   */
  private async checkServable(tx: StoreWriter, server: McpServer, spec: McpServerSpec): Promise<void> {
    const isVirtual = server.protocol === VIRTUAL_PROTOCOL;
    if (!spec.virtual) {
      if (isVirtual) throw invalid('virtual', `'${server.name}' is a virtual server (protocol virtual): its spec needs virtual.members`);
      return;
    }
    if (!isVirtual) throw invalid('protocol', `a spec with a virtual part is served by a server of protocol 'virtual', not '${server.protocol}'`);
    const lookup = async (name: string): Promise<PublishedMember | undefined> => {
      const member = await tx.getMcpServer(server.namespace, { name });
      if (!member) return undefined;
      const published = member.publishedVersion ? await tx.getVersion(member.id, member.publishedVersion) : undefined;
      return { server: member, spec: published?.spec };
    };
    await checkVirtualPublish(spec.virtual, { namespace: server.namespace, name: server.name }, lookup);
  }

  async list(namespace: string | undefined, q: McpServerQuery): Promise<Page<McpServer>> {
    if (namespace !== undefined && !(await this.ctx.store.getNamespace(namespace))) {
      throw new AppError('NAMESPACE_NOT_FOUND', `namespace '${namespace}' does not exist`, 'namespaceId');
    }
    return this.ctx.store.listMcpServers(namespace, q);
  }

  async get(namespace: string, key: ServerKey): Promise<McpServer> {
    const s = await this.ctx.store.getMcpServer(namespace, key);
    if (!s) throw new AppError('MCP_SERVER_NOT_FOUND', `MCP server ${describe(key)} does not exist in namespace '${namespace}'`, 'id' in key ? 'mcpId' : 'mcpName');
    return s;
  }

  /** A version: the one named, else the published one, else the latest draft. */
  async getVersion(namespace: string, key: ServerKey, version?: string): Promise<{ server: McpServer; version: McpServerVersion }> {
    const server = await this.get(namespace, key);
    const wanted = version || server.publishedVersion || server.latestVersion;
    const v = wanted ? await this.ctx.store.getVersion(server.id, wanted) : undefined;
    if (!v) throw new AppError('VERSION_NOT_FOUND', `MCP server '${server.name}' has no version '${wanted ?? ''}'`, 'version');
    return { server, version: v };
  }

  async listVersions(namespace: string, key: ServerKey): Promise<{ server: McpServer; versions: McpServerVersion[] }> {
    const server = await this.get(namespace, key);
    return { server, versions: await this.ctx.store.listVersions(server.id) };
  }

  /** Create a server with its first version, published unless `publish` is false. */
  async create(
    namespace: string, input: McpServerInput, incoming: McpServerSpec, publish = true, by: PublishBy = NOBODY, options: Pick<VersionWriteOptions, 'checkIssuers'> = {},
  ): Promise<{ server: McpServer; version: McpServerVersion; warnings: SpecWarning[] }> {
    const warnings = this.check(namespace, input, incoming);
    checkNote(by);
    await this.checkIssuers(incoming, undefined, options.checkIssuers);
    // Nothing is stored yet: a redaction marker has no secret to keep and is refused.
    const spec = restoreSecrets(incoming, []);
    const endpoint = input.endpoint ? restoreEndpoint(input.endpoint, undefined) : undefined;
    return write(this.ctx, async (tx) => {
      await requireNamespace(tx, namespace);
      if (await tx.getMcpServer(namespace, { name: input.name })) {
        throw new AppError('MCP_SERVER_EXISTS', `MCP server '${input.name}' already exists in namespace '${namespace}'`, 'name');
      }
      const t = this.ctx.now();
      const server: McpServer = {
        id: randomUUID(), namespace, name: input.name, description: input.description ?? spec.description,
        protocol: input.protocol ?? 'http', frontProtocol: input.frontProtocol ?? 'mcp-streamable',
        endpoint: endpoint ?? { type: 'none' }, enabled: input.enabled ?? true,
        passthrough: input.passthrough ?? { headers: [], cookies: [] },
        publishedVersion: publish ? spec.version : null, latestVersion: spec.version, createdAt: t, updatedAt: t,
      };
      const version: Omit<McpServerVersion, 'etag'> = {
        serverId: server.id, version: spec.version, status: publish ? 'published' : 'draft', spec, createdAt: t, publishedAt: publish ? t : null, revision: 1,
      };
      if (publish) await this.checkServable(tx, server, spec);
      await tx.insertMcpServer(server);
      const stored = { ...version, etag: await this.put(tx, server, version) };
      if (publish) await tx.insertPublishEvent({ serverId: server.id, seq: 1, action: 'publish', version: spec.version, previousVersion: null, revision: 1, actor: by.actor, note: by.note ?? '', at: t });
      await tx.recordChange(namespace, 'mcp_server', server.id, 'upsert');
      await audit(this.ctx, tx, {
        namespace, entity: 'mcp_server', entityId: server.id, entityName: server.name, action: 'mcp_server.create',
        after: { server: serverState(server), version: versionState(stored) }, secretsChanged: secretChanges({}, { server, spec }),
      });
      return { server, version: stored, warnings };
    }, 'MCP_SERVER_EXISTS');
  }

  /**
   * Save a version (Nacos `PUT` with `latest`): a new version or a change to a draft; with
   * `publish` it becomes the published one. Published and archived versions are immutable
   * unless `options.overwrite` (Nacos semantics: the change becomes the version's next
   * revision, every earlier content kept, and is served at once when the version is the
   * published one); saving one unchanged with `publish` republishes it.
   */
  async saveVersion(
    namespace: string, key: ServerKey, input: Partial<McpServerInput>, incoming: McpServerSpec, publish: boolean, by: PublishBy = NOBODY,
    options: VersionWriteOptions = {},
  ): Promise<{ server: McpServer; version: McpServerVersion; warnings: SpecWarning[] }> {
    const warnings = this.check(namespace, input, incoming);
    checkNote(by);
    if (options.checkIssuers !== false && incoming.authorization?.issuers?.length) await this.checkIssuers(incoming, await this.storedSpec(namespace, key, incoming.version), options.checkIssuers);
    return write(this.ctx, async (tx) => {
      const server = await this.requireServer(tx, namespace, key);
      if (incoming.virtual) checkVirtualOwnership(incoming.virtual, { namespace, name: server.name });
      // Markers sent back (a redacted read saved again) keep the stored secrets.
      const sources = await secretSources(tx, server, incoming.version);
      const spec = restoreSecrets(incoming, sources.map((v) => v.spec));
      const fields = input.endpoint ? { ...input, endpoint: restoreEndpoint(input.endpoint, server.endpoint, 'server.endpoint.url') } : input;
      const t = this.ctx.now();
      const existing = await tx.getVersion(server.id, spec.version);
      const ifEtag = expectedEtag(server, spec.version, existing, options.ifMatch);
      let revision = existing?.revision ?? 1;
      let overwrittenFrom: number | undefined;
      if (existing && existing.status !== 'draft' && diff(existing.spec, spec).length > 0) {
        if (!options.overwrite) {
          throw new AppError('VERSION_EXISTS', `version '${spec.version}' of '${server.name}' is ${existing.status} and cannot change; save a new version`, 'version');
        }
        const kept = await tx.listRevisions(server.id, spec.version);
        // The first overwrite keeps the content the version had until now as its revision.
        if (!kept.some((k) => k.revision === existing.revision)) {
          await tx.insertRevision({ serverId: server.id, version: spec.version, revision: existing.revision, spec: existing.spec, createdAt: existing.publishedAt ?? existing.createdAt, actor: '' });
        }
        revision = Math.max(existing.revision, ...kept.map((k) => k.revision)) + 1;
        await tx.insertRevision({ serverId: server.id, version: spec.version, revision, spec, createdAt: t, actor: by.actor });
        overwrittenFrom = existing.revision;
      }
      const saved: Omit<McpServerVersion, 'etag'> = {
        serverId: server.id, version: spec.version, status: existing?.status ?? 'draft', spec, createdAt: existing?.createdAt ?? t,
        publishedAt: existing?.publishedAt ?? null, revision,
      };
      const version: McpServerVersion = { ...saved, etag: await this.put(tx, server, saved, ifEtag) };
      let next: McpServer = {
        ...server, ...definedOnly(fields), name: server.name, latestVersion: spec.version, updatedAt: t,
        description: fields.description ?? server.description,
      };
      const servedNow = server.publishedVersion === spec.version;
      // Overwriting the served version serves the new content, as Nacos does, published or not.
      const serve = publish || (overwrittenFrom !== undefined && servedNow);
      const action: PublishAction = overwrittenFrom !== undefined && servedNow ? 'overwrite' : 'publish';
      const result = serve ? await this.publishIn(tx, next, spec.version, t, action, by, undefined, servedNow ? overwrittenFrom : undefined) : { server: next, version };
      next = result.server;
      await tx.updateMcpServer(next);
      await tx.recordChange(namespace, 'mcp_server', server.id, 'upsert');
      await audit(this.ctx, tx, {
        namespace, entity: 'mcp_server', entityId: server.id, entityName: server.name, action: overwrittenFrom !== undefined ? 'version.overwrite' : serve ? 'version.publish' : 'version.save',
        // Before: the version as it was, or for a new version the one it follows (the latest), so that the entry shows what changed.
        before: { server: serverState(server), ...(sources[0] ? { version: versionState(sources[0]) } : {}) },
        after: { server: serverState(next), version: versionState(result.version) },
        secretsChanged: secretChanges({ server, ...(sources[0] ? { spec: sources[0].spec } : {}) }, { server: next, spec }),
      });
      return { server: next, version: result.version, warnings };
    });
  }

  /** Change server-level fields (description, endpoint, enabled, passthrough...) without a new version. */
  async update(namespace: string, key: ServerKey, input: Partial<McpServerInput>): Promise<McpServer> {
    this.check(namespace, input);
    return write(this.ctx, async (tx) => {
      const server = await this.requireServer(tx, namespace, key);
      const endpoint = input.endpoint ? restoreEndpoint(input.endpoint, server.endpoint) : undefined;
      const next: McpServer = { ...server, ...definedOnly(input), ...(endpoint ? { endpoint } : {}), name: server.name, updatedAt: this.ctx.now() };
      await tx.updateMcpServer(next);
      await tx.recordChange(namespace, 'mcp_server', server.id, 'upsert');
      await audit(this.ctx, tx, {
        namespace, entity: 'mcp_server', entityId: server.id, entityName: server.name, action: 'mcp_server.update',
        before: { server: serverState(server) }, after: { server: serverState(next) }, secretsChanged: secretChanges({ server }, { server: next }),
      });
      return next;
    });
  }

  /** Make `version` the published one; the previously published one is archived. */
  async publish(namespace: string, key: ServerKey, version: string, by: PublishBy = NOBODY, options: VersionWriteOptions = {}): Promise<{ server: McpServer; version: McpServerVersion }> {
    checkNote(by);
    return write(this.ctx, async (tx) => {
      const server = await this.requireServer(tx, namespace, key);
      const before = await tx.getVersion(server.id, version);
      const ifEtag = expectedEtag(server, version, before, options.ifMatch);
      const result = await this.publishIn(tx, server, version, this.ctx.now(), 'publish', by, ifEtag);
      await tx.updateMcpServer(result.server);
      await tx.recordChange(namespace, 'mcp_server', server.id, 'upsert');
      await audit(this.ctx, tx, {
        namespace, entity: 'mcp_server', entityId: server.id, entityName: server.name, action: 'version.publish',
        before: { server: serverState(server), ...(before ? { version: versionStatus(before) } : {}) },
        after: { server: serverState(result.server), version: versionStatus(result.version) },
      });
      return result;
    });
  }

  /**
   * Republish an earlier content: the one named (a version, or `version@revision` for an
   * earlier revision of one), else the one served before the current one in the publish
   * history. Never forward: only a content served before the current one (and not rolled back
   * from since) can be the target; anything else is published, not rolled back to.
   */
  async rollback(namespace: string, key: ServerKey, version?: string, by: PublishBy = NOBODY): Promise<{ server: McpServer; version: McpServerVersion }> {
    checkNote(by);
    return write(this.ctx, async (tx) => {
      const server = await this.requireServer(tx, namespace, key);
      const versions = await tx.listVersions(server.id);
      const history = await tx.listPublishHistory(server.id);
      const line = publishedLine(history, versions, server.publishedVersion);
      let target = version;
      if (!target) {
        target = rollbackTarget(history, versions, server.publishedVersion);
        if (!target) throw new AppError('VERSION_NOT_FOUND', `MCP server '${server.name}' has no earlier published version to roll back to`, 'version');
      }
      const ref = parseServedRef(target);
      const v = versions.find((x) => x.version === ref.version);
      if (!v) throw new AppError('VERSION_NOT_FOUND', `MCP server '${server.name}' has no version '${ref.version}'`, 'version');
      const revision = ref.revision ?? v.revision;
      const shown = servedRef({ version: v.version, revision }, versions);
      if (v.status === 'draft') throw invalid('version', `'${target}' is a draft, never published: publish it instead of rolling back to it`);
      const served = versions.find((x) => x.version === server.publishedVersion);
      if (v.version === server.publishedVersion && revision === v.revision) throw invalid('version', `'${target}' is the version served now: there is nothing to roll back`);
      if (!line.slice(0, -1).includes(shown)) {
        throw invalid('version', `'${target}' was not served before the current version ${server.publishedVersion ?? '(none)'}: rolling back to it would roll forward; publish it instead`);
      }
      if (revision !== v.revision) {
        // An earlier revision: the version holds that content again (every content stays kept).
        const content = (await tx.listRevisions(server.id, v.version)).find((r) => r.revision === revision);
        if (!content) throw new AppError('VERSION_NOT_FOUND', `version '${v.version}' of '${server.name}' has no revision ${revision}`, 'version');
        await this.put(tx, server, { ...v, spec: content.spec, revision });
      }
      const result = await this.publishIn(tx, server, v.version, this.ctx.now(), 'rollback', by, undefined, served?.revision);
      await tx.updateMcpServer(result.server);
      await tx.recordChange(namespace, 'mcp_server', server.id, 'upsert');
      await audit(this.ctx, tx, {
        namespace, entity: 'mcp_server', entityId: server.id, entityName: server.name, action: 'version.rollback',
        before: { server: serverState(server), version: versionStatus(v) }, after: { server: serverState(result.server), version: versionStatus(result.version) },
      });
      return result;
    });
  }

  /** A server's publish history (oldest first) and where a rollback would go now. */
  async history(namespace: string, key: ServerKey): Promise<{ server: McpServer; events: PublishEvent[]; rollbackTarget: string | null }> {
    const server = await this.get(namespace, key);
    const [events, versions] = await Promise.all([this.ctx.store.listPublishHistory(server.id), this.ctx.store.listVersions(server.id)]);
    return { server, events, rollbackTarget: rollbackTarget(events, versions, server.publishedVersion) ?? null };
  }

  /**
   * Serve `version` and log it in the publish history (unless that content is served already).
   * A version keeps the time it was first published; the history holds every later one.
   * `servedRevision`: the revision of the served version before this write changed it.
   */
  private async publishIn(
    tx: StoreWriter, server: McpServer, version: string, t: number, action: PublishAction, by: PublishBy, ifEtag?: string, servedRevision?: number,
  ): Promise<{ server: McpServer; version: McpServerVersion }> {
    const v = await tx.getVersion(server.id, version);
    if (!v) throw new AppError('VERSION_NOT_FOUND', `MCP server '${server.name}' has no version '${version}'`, 'version');
    await this.checkServable(tx, server, v.spec);
    let previousRevision = servedRevision;
    if (server.publishedVersion && server.publishedVersion !== version) {
      const previous = await tx.getVersion(server.id, server.publishedVersion);
      if (previous) {
        previousRevision ??= previous.revision;
        await this.put(tx, server, { ...previous, status: 'archived' });
      }
    } else if (server.publishedVersion === version) previousRevision ??= v.revision;
    const published: McpServerVersion = { ...v, status: 'published', publishedAt: v.publishedAt ?? t };
    published.etag = await this.put(tx, server, published, ifEtag);
    if (server.publishedVersion !== version || previousRevision !== v.revision) {
      const history = await tx.listPublishHistory(server.id);
      await tx.insertPublishEvent({
        serverId: server.id, seq: (history[history.length - 1]?.seq ?? 0) + 1, action, version, previousVersion: server.publishedVersion,
        revision: v.revision, ...(previousRevision !== undefined && { previousRevision }), actor: by.actor, note: by.note ?? '', at: t,
      });
    }
    return { server: { ...server, publishedVersion: version, updatedAt: t }, version: published };
  }

  /** Store a version under a new entity-tag; with `ifEtag`, only over the version holding that one. */
  private async put(tx: StoreWriter, server: McpServer, v: Omit<McpServerVersion, 'etag'>, ifEtag?: string): Promise<string> {
    const etag = await tx.putVersion(v, ifEtag === undefined ? {} : { ifEtag });
    if (etag === undefined) throw changed(server, v.version);
    return etag;
  }

  /** Delete one version; deleting the last one deletes the server. The published version must be replaced first. */
  async deleteVersion(namespace: string, key: ServerKey, version: string, options: VersionWriteOptions = {}): Promise<void> {
    await write(this.ctx, async (tx) => {
      const server = await this.requireServer(tx, namespace, key);
      const versions = await tx.listVersions(server.id);
      const doomed = versions.find((v) => v.version === version);
      // Writes are serialised by the revision they take first, so what this transaction read stays current until it commits.
      expectedEtag(server, version, doomed, options.ifMatch);
      if (!doomed) {
        throw new AppError('VERSION_NOT_FOUND', `MCP server '${server.name}' has no version '${version}'`, 'version');
      }
      if (versions.length === 1) {
        await tx.deleteMcpServer(server.id);
        await tx.recordChange(namespace, 'mcp_server', server.id, 'delete');
        await audit(this.ctx, tx, {
          namespace, entity: 'mcp_server', entityId: server.id, entityName: server.name, action: 'mcp_server.delete',
          before: { server: serverState(server), version: versionState(doomed) },
        });
        return;
      }
      if (server.publishedVersion === version) {
        throw new AppError('VERSION_PUBLISHED', `version '${version}' of '${server.name}' is published; publish another version before deleting it`, 'version');
      }
      await tx.deleteVersion(server.id, version);
      const rest = versions.filter((v) => v.version !== version);
      const latest = server.latestVersion === version ? rest[rest.length - 1]?.version ?? null : server.latestVersion;
      const next = { ...server, latestVersion: latest, updatedAt: this.ctx.now() };
      await tx.updateMcpServer(next);
      await tx.recordChange(namespace, 'mcp_server', server.id, 'upsert');
      await audit(this.ctx, tx, {
        namespace, entity: 'mcp_server', entityId: server.id, entityName: server.name, action: 'version.delete',
        before: { server: serverState(server), version: versionState(doomed) }, after: { server: serverState(next) },
      });
    });
  }

  async delete(namespace: string, key: ServerKey): Promise<void> {
    await write(this.ctx, async (tx) => {
      const server = await this.requireServer(tx, namespace, key);
      const shown = server.publishedVersion ?? server.latestVersion;
      const version = shown ? await tx.getVersion(server.id, shown) : undefined;
      await tx.deleteMcpServer(server.id);
      await tx.recordChange(namespace, 'mcp_server', server.id, 'delete');
      await audit(this.ctx, tx, {
        namespace, entity: 'mcp_server', entityId: server.id, entityName: server.name, action: 'mcp_server.delete',
        before: { server: serverState(server), ...(version ? { version: versionState(version) } : {}) },
      });
    });
  }

  /**
   * The differences between two versions' specs, as JSON paths. With `redact`, secret values
   * show as `REDACTED` (a changed secret is still listed, with the marker on both sides).
   */
  async diff(namespace: string, key: ServerKey, from: string, to: string, redact = false): Promise<SpecChange[]> {
    const a = await this.specAt(namespace, key, from);
    const b = await this.specAt(namespace, key, to);
    return diffSpecs(a, b, redact ? { from: redactSpec(a), to: redactSpec(b) } : undefined);
  }

  /** The kept contents of a version, oldest first (just its content when it was never overwritten). */
  async revisions(namespace: string, key: ServerKey, version: string): Promise<{ current: number; revisions: VersionRevision[] }> {
    const { server, version: v } = await this.getVersion(namespace, key, version);
    const kept = await this.ctx.store.listRevisions(server.id, v.version);
    const revisions = kept.length > 0 ? kept : [{ serverId: server.id, version: v.version, revision: v.revision, spec: v.spec, createdAt: v.createdAt, actor: '' }];
    return { current: v.revision, revisions };
  }

  /** The spec of a version (`1.0.0`: as it is now) or of one of its revisions (`1.0.0@2`). */
  async specAt(namespace: string, key: ServerKey, ref: string): Promise<McpServerSpec> {
    const { version, revision } = parseServedRef(ref);
    const { server, version: v } = await this.getVersion(namespace, key, version);
    if (revision === undefined || revision === v.revision) return v.spec;
    const kept = (await this.ctx.store.listRevisions(server.id, v.version)).find((r) => r.revision === revision);
    if (!kept) throw new AppError('VERSION_NOT_FOUND', `version '${v.version}' of '${server.name}' has no revision ${revision}`, 'version');
    return kept.spec;
  }

  private async requireServer(tx: StoreWriter, namespace: string, key: ServerKey): Promise<McpServer> {
    await requireNamespace(tx, namespace);
    const s = await tx.getMcpServer(namespace, key);
    if (!s) throw new AppError('MCP_SERVER_NOT_FOUND', `MCP server ${describe(key)} does not exist in namespace '${namespace}'`, 'id' in key ? 'mcpId' : 'mcpName');
    return s;
  }
}

function changed(server: McpServer, version: string): AppError {
  return new AppError(
    'VERSION_CHANGED',
    `version '${version}' of '${server.name}' was changed by someone else since you read it; reload it and apply your change again`,
    'If-Match',
  );
}

/**
 * The entity-tag a write must replace, from its `If-Match`: undefined without one. A version
 * that does not exist, or whose entity-tag is not one of those given, fails the precondition.
 */
function expectedEtag(server: McpServer, version: string, current: McpServerVersion | undefined, ifMatch: IfMatch | undefined): string | undefined {
  if (ifMatch === undefined) return undefined;
  if (!current) {
    throw new AppError('VERSION_CHANGED', `If-Match: version '${version}' of '${server.name}' does not exist (any more); reload`, 'If-Match');
  }
  if (ifMatch !== '*' && !ifMatch.includes(current.etag)) throw changed(server, version);
  return current.etag;
}

/** A spec with its named lists as maps (tools and prompts by name, security schemes by id), so that differences follow names, not positions. */
function keyedSpec(spec: McpServerSpec): Record<string, unknown> {
  const byKey = <T>(items: readonly T[], key: (t: T) => string) => Object.fromEntries(items.map((t) => [key(t), t]));
  return {
    ...spec, tools: byKey(spec.tools, (t) => t.name), prompts: byKey(spec.prompts, (p) => p.name), securitySchemes: byKey(spec.securitySchemes, (s) => s.id),
  };
}

const KEYED = new Set(['tools', 'prompts', 'securitySchemes']);

/**
 * The differences between two specs, with tools, prompts and security schemes matched by name
 * (`tools[get_weather].description`); with `shown`, values are read from those specs instead
 * (the redacted ones, so that a changed secret is listed with the marker on both sides).
 */
export function diffSpecs(a: McpServerSpec, b: McpServerSpec, shown?: { from: McpServerSpec; to: McpServerSpec }): SpecChange[] {
  const view = shown && { from: keyedSpec(shown.from), to: keyedSpec(shown.to) };
  return diff(keyedSpec(a), keyedSpec(b)).map((d) => {
    const path = d.path.map((p, i) => {
      if (typeof p === 'number') return `[${p}]`;
      if (i === 1 && KEYED.has(String(d.path[0]))) return `[${p}]`;
      return `.${p}`;
    }).join('').replace(/^\./, '');
    const tool = d.path[0] === 'tools' && d.path.length > 1 ? String(d.path[1]) : undefined;
    return {
      path, kind: d.type === 'CREATE' ? 'added' : d.type === 'REMOVE' ? 'removed' : 'changed',
      ...(tool !== undefined ? { tool } : {}),
      ...('oldValue' in d ? { from: view ? valueAt(view.from, d.path) : d.oldValue } : {}),
      ...('value' in d ? { to: view ? valueAt(view.to, d.path) : d.value } : {}),
    } satisfies SpecChange;
  });
}

function checkNote(by: PublishBy): void {
  if (by.note !== undefined && (typeof by.note !== 'string' || by.note.length > NOTE_MAX)) throw invalid('note', `must be text of at most ${NOTE_MAX} characters`);
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function checkExportPath(path: unknown): void {
  if (path === undefined) return;
  if (typeof path !== 'string' || !/^\/[\x21-\x7e]{0,1023}$/.test(path) || path.includes('#')) {
    throw invalid('endpoint.exportPath', 'must be a URL path starting with / (no spaces, control characters or fragment)');
  }
}

function checkEndpoint(namespace: string, e: Endpoint): void {
  switch (e.type) {
    case 'service':
      if (e.namespace !== namespace) throw invalid('endpoint.namespace', `a service reference must stay in the server's namespace '${namespace}'`);
      if (!e.service) throw invalid('endpoint.service', 'a service reference needs a service name');
      checkExportPath(e.exportPath);
      return;
    case 'direct':
      checkExportPath(e.exportPath);
      if (typeof e.address !== 'string' || (!isIP(e.address) && !/^[A-Za-z0-9.-]{1,253}$/.test(e.address))) throw invalid('endpoint.address', `'${String(e.address)}' is not an address`);
      if (!Number.isInteger(e.port) || e.port < 1 || e.port > 65535) throw invalid('endpoint.port', 'must be an integer from 1 to 65535');
      return;
    case 'url': {
      let u: URL;
      try { u = new URL(e.url); } catch { throw invalid('endpoint.url', `'${e.url}' is not a URL`); }
      if (!['http:', 'https:'].includes(u.protocol)) throw invalid('endpoint.url', 'must be an http or https URL');
      return;
    }
    case 'none':
      return;
    default:
      throw invalid('endpoint.type', "must be 'service', 'direct', 'url' or 'none'");
  }
}
