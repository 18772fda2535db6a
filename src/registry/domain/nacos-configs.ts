/**
 * The MCP servers as Nacos 3 stores them in its config centre, and as Higress' Nacos MCP
 * provider reads them (over gRPC `ConfigQueryRequest`, and HTTP `GET /nacos/v1/cs/configs` to
 * list them):
 *
 * | group | dataId | content |
 * | --- | --- | --- |
 * | `mcp-server-versions` | `{id}-mcp-versions.json` | McpServerVersionInfo: the server, `latestPublishedVersion`, `versionDetails` |
 * | `mcp-server` | `{id}-{version}-mcp-server.json` | McpServerStorageInfo: the server as of that version, `toolsDescriptionRef` |
 * | `mcp-tools` | `{id}-{version}-mcp-tools.json` | McpToolSpecification: `tools`, `toolsMeta`, `securitySchemes` |
 *
 * Secrets are shown as on every read path: only to callers who may read them.
 */
import { createHash } from 'node:crypto';
import { toNacosDetail, toNacosListItem, toNacosToolSpec } from '../../model/convert/nacos.js';
import type { McpServer, McpServerVersion } from '../../model/model.js';
import type { Principal } from './auth.js';
import { canReadSecrets } from './auth.js';
import type { RegistryContext } from './context.js';
import { redactServer, redactSpec } from './secrets.js';

/** The groups of the MCP configs. */
export const MCP_VERSIONS_GROUP = 'mcp-server-versions';
export const MCP_SERVER_GROUP = 'mcp-server';
export const MCP_TOOLS_GROUP = 'mcp-tools';
export const MCP_GROUPS: ReadonlySet<string> = new Set([MCP_VERSIONS_GROUP, MCP_SERVER_GROUP, MCP_TOOLS_GROUP]);

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

  constructor(private readonly ctx: RegistryContext) {}

  /** The content of one config as `principal` may read it; undefined when there is none. */
  async read(principal: Principal, namespace: string, group: string, dataId: string): Promise<ConfigContent | undefined> {
    if (!MCP_GROUPS.has(group)) return undefined;
    const parsed = parseMcpDataId(group, dataId);
    if (!parsed) return undefined;
    const revision = this.ctx.feed.revision;
    if (revision !== this.cachedAt || this.cache.size > 50_000) {
      this.cache.clear();
      this.cachedAt = revision;
    }
    const key = `${canReadSecrets(principal, namespace) ? 's' : 'r'}\n${namespace}\n${group}\n${dataId}`;
    const hit = this.cache.get(key);
    if (hit !== undefined) return hit ?? undefined;
    const value = await this.load(principal, namespace, group, parsed);
    // Only cache what was read at the revision the cache is for.
    if (this.ctx.feed.revision === revision) this.cache.set(key, value ?? null);
    return value;
  }

  private async load(principal: Principal, namespace: string, group: string, p: { serverId: string; version?: string }): Promise<ConfigContent | undefined> {
    const { store } = this.ctx;
    const found = await store.getMcpServer(namespace, { id: p.serverId });
    if (!found) return undefined;
    const secrets = canReadSecrets(principal, namespace);
    const server = secrets ? found : redactServer(found);
    const versions = await store.listVersions(server.id);
    if (group === MCP_VERSIONS_GROUP) {
      const shown = versions.find((v) => v.version === server.publishedVersion) ?? versions[versions.length - 1];
      return shown ? content(toNacosListItem(server, shown, versions), server.updatedAt) : undefined;
    }
    const stored = versions.find((v) => v.version === p.version);
    if (!stored) return undefined;
    const version = secrets ? stored : { ...stored, spec: redactSpec(stored.spec) };
    const at = version.publishedAt ?? version.createdAt;
    return group === MCP_SERVER_GROUP ? content(storageInfo(server, version, versions), at) : content(toNacosToolSpec(version.spec), at);
  }
}

/** A config search (Nacos `GET /v1/cs/configs?search=…`): `*` matches any text; blur without `*` matches a part. */
export interface ConfigSearch {
  dataId: string;
  group: string;
  blur: boolean;
  pageNo: number;
  pageSize: number;
}

function matcher(pattern: string, blur: boolean): (value: string) => boolean {
  if (pattern === '') return () => true;
  if (!blur) return (v) => v === pattern;
  if (!pattern.includes('*')) return (v) => v.includes(pattern);
  const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const re = new RegExp('^' + pattern.split('*').map(escape).join('.*') + '$');
  return (v) => re.test(v);
}

/** The MCP configs of a namespace that match a search, a page of them with their contents. */
export async function searchMcpConfigs(
  ctx: Pick<RegistryContext, 'store'>, reader: McpConfigReader, principal: Principal, namespace: string, q: ConfigSearch,
): Promise<{ total: number; items: { dataId: string; group: string; content: ConfigContent }[] }> {
  const dataIdMatches = matcher(q.dataId, q.blur);
  const groupMatches = matcher(q.group, q.blur);
  const keys: { dataId: string; group: string }[] = [];
  for (let pageNo = 1; ; pageNo++) {
    const page = await ctx.store.listMcpServers(namespace, { pageNo, pageSize: 500 });
    for (const server of page.items) {
      const candidates = [{ group: MCP_VERSIONS_GROUP, dataId: mcpDataIds(server.id, '').versions }];
      if (groupMatches(MCP_SERVER_GROUP) || groupMatches(MCP_TOOLS_GROUP)) {
        for (const v of await ctx.store.listVersions(server.id)) {
          const ids = mcpDataIds(server.id, v.version);
          candidates.push({ group: MCP_SERVER_GROUP, dataId: ids.spec }, { group: MCP_TOOLS_GROUP, dataId: ids.tools });
        }
      }
      for (const c of candidates) if (groupMatches(c.group) && dataIdMatches(c.dataId)) keys.push(c);
    }
    if (page.items.length < 500) break;
  }
  const items: { dataId: string; group: string; content: ConfigContent }[] = [];
  for (const k of keys.slice((q.pageNo - 1) * q.pageSize, q.pageNo * q.pageSize)) {
    const content = await reader.read(principal, namespace, k.group, k.dataId);
    if (content) items.push({ ...k, content });
  }
  return { total: keys.length, items };
}

