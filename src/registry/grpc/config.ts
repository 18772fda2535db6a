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
 * who may read them (editor, admin, gateway roles). The contents: domain/nacos-configs.ts.
 */
import { AppError } from '../../lib/errors.js';
import type { Principal } from '../domain/auth.js';
import { authorize } from '../domain/auth.js';
import type { McpConfigReader } from '../domain/nacos-configs.js';
import type { Body } from './fields.js';
import { namespaceOf, optBool, optObjects, optString, reqString } from './fields.js';
import type { HandlerEntry } from './handler.js';
import { NACOS_CODES, failed, ok } from './protocol.js';

/** Most configs one connection may listen to. */
const MAX_LISTENS = 10_000;

function notSupported(what: string): never {
  throw new AppError('NOT_SUPPORTED', `${what}: mcpgate is not a general configuration centre and does not store configs; MCP servers are written through the MCP APIs (gRPC ReleaseMcpServerRequest, HTTP /nacos/v3/admin/ai/mcp)`, 'dataId');
}

/** Whether the caller may see the namespace (a config of a namespace they hold no role in is "not found"). */
export function visible(principal: Principal, namespace: string): boolean {
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
