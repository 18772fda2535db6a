/**
 * Config reads of the Nacos gRPC protocol, for the MCP data only, laid out as Nacos 3 stores
 * it and as Higress' Nacos MCP provider reads it:
 *
 * | group | dataId | content |
 * | --- | --- | --- |
 * | `mcp-server-versions` | `{id}-mcp-versions.json` | McpServerVersionInfo: the server, `latestPublishedVersion`, `versionDetails` |
 * | `mcp-server` | `{id}-{version}-mcp-server.json` | McpServerStorageInfo: the server as of that version, `toolsDescriptionRef` |
 * | `mcp-tools` | `{id}-{version}-mcp-tools.json` | McpToolSpecification: `tools`, `toolsMeta`, `securitySchemes` |
 *
 * Every other config is "not found" (mcpgate is not a general configuration centre), and
 * config writes are refused with NOT_SUPPORTED. Secrets are shown as on HTTP: only to callers
 * who may read them (editor, admin, gateway roles).
 */
import { createHash } from 'node:crypto';
import { AppError } from '../../lib/errors.js';
import { toNacosDetail, toNacosListItem, toNacosToolSpec } from '../../model/convert/nacos.js';
import type { McpServer, McpServerVersion } from '../../model/model.js';
import type { Principal } from '../domain/auth.js';
import { authorize, canReadSecrets } from '../domain/auth.js';
import { serverFor, versionFor } from '../http/redaction.js';
import type { RegistryServices } from '../services.js';
import type { Body } from './fields.js';
import { namespaceOf, optBool, optObjects, optString, reqString } from './fields.js';
import type { HandlerEntry } from './handler.js';
import { NACOS_CODES, failed, ok } from './protocol.js';

export const MCP_VERSIONS_GROUP = 'mcp-server-versions';
export const MCP_SERVER_GROUP = 'mcp-server';
export const MCP_TOOLS_GROUP = 'mcp-tools';
const MCP_GROUPS: ReadonlySet<string> = new Set([MCP_VERSIONS_GROUP, MCP_SERVER_GROUP, MCP_TOOLS_GROUP]);

/** Most configs one connection may listen to. */
const MAX_LISTENS = 10_000;

/** What a dataId of the MCP groups names: a server (by id) and, for spec and tools, a version. */
export function parseMcpDataId(group: string, dataId: string): { serverId: string; version?: string } | undefined {
  const m = group === MCP_VERSIONS_GROUP ? /^(.+)-mcp-versions\.json$/.exec(dataId)
    : group === MCP_SERVER_GROUP ? /^([0-9a-fA-F-]{36})-(.+)-mcp-server\.json$/.exec(dataId)
      : group === MCP_TOOLS_GROUP ? /^([0-9a-fA-F-]{36})-(.+)-mcp-tools\.json$/.exec(dataId) : null;
  if (!m) return undefined;
  return m[2] === undefined ? { serverId: m[1]! } : { serverId: m[1]!, version: m[2] };
}

/** The dataIds of a server's configs. */
export function mcpDataIds(serverId: string, version: string): { versions: string; spec: string; tools: string } {
  return { versions: `${serverId}-mcp-versions.json`, spec: `${serverId}-${version}-mcp-server.json`, tools: `${serverId}-${version}-mcp-tools.json` };
}

/** One config's content. */
export interface ConfigContent {
  content: string;
  md5: string;
  lastModified: number;
}

function content(value: unknown, lastModified: number): ConfigContent {
  const text = JSON.stringify(value);
  return { content: text, md5: createHash('md5').update(text, 'utf8').digest('hex'), lastModified };
}

function storageInfo(server: McpServer, version: McpServerVersion, versions: McpServerVersion[]): Record<string, unknown> {
  const detail = toNacosDetail(server, version, versions);
  const { toolSpec: _t, allVersions: _a, backendEndpoints: _b, frontendEndpoints: _f, ...rest } = detail;
  return { ...rest, toolsDescriptionRef: mcpDataIds(server.id, version.version).tools };
}

/**
 * Reads the MCP configs, caching each answer until the registry's revision moves (clients
 * re-send their whole listen set every few seconds).
 */
export class McpConfigReader {
  private cache = new Map<string, ConfigContent | null>();
  private cachedAt = -1;

  constructor(private readonly services: RegistryServices) {}

  /** The content of one config as `principal` may read it; undefined when there is none. */
  async read(principal: Principal, namespace: string, group: string, dataId: string): Promise<ConfigContent | undefined> {
    if (!MCP_GROUPS.has(group)) return undefined;
    const parsed = parseMcpDataId(group, dataId);
    if (!parsed) return undefined;
    const revision = this.services.feed.revision;
    if (revision !== this.cachedAt || this.cache.size > 50_000) {
      this.cache.clear();
      this.cachedAt = revision;
    }
    const key = `${canReadSecrets(principal, namespace) ? 's' : 'r'}\n${namespace}\n${group}\n${dataId}`;
    const hit = this.cache.get(key);
    if (hit !== undefined) return hit ?? undefined;
    const value = await this.load(principal, namespace, group, parsed);
    // Only cache what was read at the revision the cache is for.
    if (this.services.feed.revision === revision) this.cache.set(key, value ?? null);
    return value;
  }

  private async load(principal: Principal, namespace: string, group: string, p: { serverId: string; version?: string }): Promise<ConfigContent | undefined> {
    const { store } = this.services;
    const found = await store.getMcpServer(namespace, { id: p.serverId });
    if (!found) return undefined;
    const server = serverFor(principal, found);
    const versions = await store.listVersions(server.id);
    if (group === MCP_VERSIONS_GROUP) {
      const shown = versions.find((v) => v.version === server.publishedVersion) ?? versions[versions.length - 1];
      return shown ? content(toNacosListItem(server, shown, versions), server.updatedAt) : undefined;
    }
    const stored = versions.find((v) => v.version === p.version);
    if (!stored) return undefined;
    const version = versionFor(principal, namespace, stored);
    const at = version.publishedAt ?? version.createdAt;
    return group === MCP_SERVER_GROUP ? content(storageInfo(server, version, versions), at) : content(toNacosToolSpec(version.spec), at);
  }
}

function notSupported(what: string): never {
  throw new AppError('NOT_SUPPORTED', `${what}: mcpgate is not a general configuration centre and does not store configs; MCP servers are written through the MCP APIs (gRPC ReleaseMcpServerRequest, HTTP /nacos/v3/admin/ai/mcp)`, 'dataId');
}

/** Whether the caller may see the namespace (a config of a namespace they hold no role in is "not found"). */
function visible(principal: Principal, namespace: string): boolean {
  try {
    authorize(principal, namespace, 'viewer');
    return true;
  } catch (err) {
    if (err instanceof AppError && err.code === 'NAMESPACE_NOT_FOUND') return false;
    throw err;
  }
}

/** The config handlers, by request type. */
export function configHandlers(reader: McpConfigReader): Record<string, HandlerEntry> {
  return {
    ConfigQueryRequest: {
      response: 'ConfigQueryResponse',
      async handle(body, ctx) {
        const dataId = reqString(body, 'dataId');
        const group = reqString(body, 'group');
        const namespace = namespaceOf(optString(body, 'tenant'));
        const found = visible(ctx.principal, namespace) ? await reader.read(ctx.principal, namespace, group, dataId) : undefined;
        if (!found) return failed(NACOS_CODES.CONFIG_NOT_FOUND, 'config data not exist');
        return ok({
          content: found.content, md5: found.md5, lastModified: found.lastModified, contentType: 'json', encryptedDataKey: '', beta: false,
          ...(optString(body, 'tag') ? { tag: optString(body, 'tag') } : {}),
        });
      },
    },

    ConfigBatchListenRequest: {
      response: 'ConfigChangeBatchListenResponse',
      async handle(body, ctx) {
        const listen = optBool(body, 'listen') ?? true;
        const contexts = optObjects(body, 'configListenContexts', 'configListenContexts', MAX_LISTENS) ?? [];
        const changedConfigs: Body[] = [];
        for (const [n, c] of contexts.entries()) {
          const path = `configListenContexts[${n}]`;
          const dataId = reqString(c, 'dataId', `${path}.dataId`);
          const group = reqString(c, 'group', `${path}.group`);
          const tenant = optString(c, 'tenant', `${path}.tenant`) ?? '';
          const namespace = namespaceOf(tenant);
          const key = `${namespace}\n${group}\n${dataId}`;
          if (!listen) {
            ctx.conn.listens.delete(key);
            continue;
          }
          if (!ctx.conn.listens.has(key) && ctx.conn.listens.size >= MAX_LISTENS) {
            throw new AppError('VALIDATION_FAILED', `a connection may listen to at most ${MAX_LISTENS} configs`, 'configListenContexts');
          }
          const md5 = optString(c, 'md5', `${path}.md5`) ?? '';
          const current = visible(ctx.principal, namespace) ? await reader.read(ctx.principal, namespace, group, dataId) : undefined;
          ctx.conn.listens.set(key, { tenant, namespace, group, dataId, md5: current?.md5 ?? '' });
          if ((current?.md5 ?? '') !== md5) changedConfigs.push({ dataId, group, tenant });
        }
        return ok({ changedConfigs });
      },
    },

    ConfigPublishRequest: { response: 'ConfigPublishResponse', handle: async () => notSupported('config publish (ConfigPublishRequest)') },
    ConfigRemoveRequest: { response: 'ConfigRemoveResponse', handle: async () => notSupported('config removal (ConfigRemoveRequest)') },
  };
}
