/**
 * The AI requests of Nacos 3.1+ for MCP servers (what Nacos' AiGrpcClient and the Python
 * NacosAIService send): QueryMcpServerRequest, ReleaseMcpServerRequest and
 * McpServerEndpointRequest, over McpService and NamingService, following Nacos' handlers:
 *
 * - release creates the server when it does not exist (published), adds the version when it is
 *   new (published when `versionDetail.is_latest` is true), and refuses an existing version
 *   (409, as Nacos: "already exist, do not do release"); without an endpoint specification a
 *   remote server gets a REF endpoint to the service `{name}::{version}` in group `mcp-endpoints`;
 * - an endpoint registration is an ephemeral instance of the server's REF service, owned by the
 *   connection (gone when it closes), with the version in its metadata;
 * - a client "subscribes" to a server by querying it again (Nacos' client polls), so queries
 *   are answered from the current published state.
 */
import { AppError, invalid, missing } from '../../lib/errors.js';
import type { NacosServerFields } from '../../model/convert/nacos.js';
import { fromNacos, refuseNacosVirtualUpdate, toNacosDetail } from '../../model/convert/nacos.js';
import { withVirtualTools } from '../domain/virtual-preview.js';
import type { InstanceKey, McpServer, McpServerInput } from '../../model/model.js';
import { DEFAULT_CLUSTER } from '../../model/model.js';
import { authorize } from '../domain/auth.js';
import { serverFor, versionFor } from '../http/redaction.js';
import { namespaceOf, optInt, optObject, optString, reqString } from './fields.js';
import type { GrpcDeps, HandlerEntry } from './handler.js';
import { ok } from './protocol.js';

/** The group of the services Nacos creates for the endpoints of released MCP servers. */
export const MCP_ENDPOINT_GROUP = 'mcp-endpoints';
const REGISTER_ENDPOINT = 'registerEndpoint';
const DEREGISTER_ENDPOINT = 'deregisterEndpoint';

function serverInput(f: NacosServerFields): McpServerInput {
  return {
    name: f.name, description: f.description, protocol: f.protocol, frontProtocol: f.frontProtocol, enabled: f.enabled, endpoint: f.endpoint,
    ...(f.passthrough ? { passthrough: f.passthrough } : {}),
  };
}

function mcpName(body: Record<string, unknown>): string {
  const name = optString(body, 'mcpName');
  if (!name || name.trim() === '') throw new AppError('PARAMETER_MISSING', "parameters `mcpName` can't be empty or null", 'mcpName');
  return name;
}

/** The AI handlers, by request type. */
export function aiHandlers(deps: GrpcDeps): Record<string, HandlerEntry> {
  const { mcp, naming, store } = deps.services;

  async function serverByName(namespace: string, name: string): Promise<McpServer> {
    const server = await store.getMcpServer(namespace, { name });
    if (!server) throw new AppError('MCP_SERVER_NOT_FOUND', `MCP server \`${name}\` not found in namespaceId: \`${namespace}\``, 'mcpName');
    return server;
  }

  return {
    QueryMcpServerRequest: {
      response: 'QueryMcpServerResponse',
      async handle(body, ctx) {
        const namespace = namespaceOf(optString(body, 'namespaceId'));
        authorize(ctx.principal, namespace, 'viewer');
        const server = await serverByName(namespace, mcpName(body));
        const wanted = optString(body, 'version') || server.publishedVersion || server.latestVersion;
        const versions = await store.listVersions(server.id);
        const version = versions.find((v) => v.version === wanted);
        if (!version) throw new AppError('VERSION_NOT_FOUND', `MCP server '${server.name}' has no version '${wanted ?? ''}'`, 'version');
        const e = server.endpoint;
        let backendEndpoints: { protocol: string; address: string; port: number; path: string }[] | undefined;
        if (e.type === 'service') {
          const { instances } = await naming.listInstances(e.namespace, e.group, e.service, { healthyOnly: true }).catch(() => ({ instances: [] }));
          const protocol = server.protocol === 'https' ? 'https' : 'http';
          backendEndpoints = instances.map((i) => ({ protocol, address: i.ip, port: i.port, path: '' }));
        }
        const shown = await withVirtualTools(store, server, versionFor(ctx.principal, namespace, version));
        const detail = toNacosDetail(serverFor(ctx.principal, server), shown, versions, backendEndpoints ? { backendEndpoints } : {});
        return ok({ mcpServerDetailInfo: detail });
      },
    },

    ReleaseMcpServerRequest: {
      response: 'ReleaseMcpServerResponse',
      async handle(body, ctx) {
        const namespace = namespaceOf(optString(body, 'namespaceId'));
        authorize(ctx.principal, namespace, 'editor');
        const serverSpecification = optObject(body, 'serverSpecification');
        if (!serverSpecification) throw missing('serverSpecification');
        const name = reqString(serverSpecification, 'name', 'serverSpecification.name');
        const versionDetail = optObject(serverSpecification, 'versionDetail', 'serverSpecification.versionDetail');
        const version = versionDetail ? optString(versionDetail, 'version', 'serverSpecification.versionDetail.version') : undefined;
        if (!versionDetail || !version || version.trim() === '') throw missing('serverSpecification.versionDetail.version');
        const protocol = optString(serverSpecification, 'protocol', 'serverSpecification.protocol');
        let endpointSpecification = optObject(body, 'endpointSpecification');
        const remote = optObject(serverSpecification, 'remoteServerConfig', 'serverSpecification.remoteServerConfig');
        if (!endpointSpecification && protocol !== 'stdio' && !remote?.['serviceRef']) {
          endpointSpecification = { type: 'REF', data: { namespaceId: namespace, groupName: MCP_ENDPOINT_GROUP, serviceName: `${name}::${version}` } };
        }
        const { server, spec } = fromNacos({
          serverSpecification, toolSpecification: optObject(body, 'toolSpecification'), endpointSpecification, namespaceId: namespace,
        });
        const by = { actor: ctx.principal.username };
        const existing = await store.getMcpServer(namespace, { name });
        if (!existing) {
          const created = await mcp.create(namespace, serverInput(server), spec, true, by);
          return ok({ mcpId: created.server.id });
        }
        refuseNacosVirtualUpdate(existing);
        if (await store.getVersion(existing.id, spec.version)) {
          throw new AppError('VERSION_EXISTS', `Mcp Server ${name} and target version ${spec.version} already exist, do not do release`, 'serverSpecification.versionDetail.version');
        }
        const latest = versionDetail['is_latest'] === true || versionDetail['is_latest'] === 'true';
        const { name: _n, ...fields } = serverInput(server);
        await mcp.saveVersion(namespace, { id: existing.id }, latest ? fields : {}, spec, latest, by);
        return ok({ mcpId: existing.id });
      },
    },

    McpServerEndpointRequest: {
      response: 'McpServerEndpointResponse',
      async handle(body, ctx) {
        const namespace = namespaceOf(optString(body, 'namespaceId'));
        authorize(ctx.principal, namespace, 'editor');
        const server = await serverByName(namespace, mcpName(body));
        const type = reqString(body, 'type');
        if (type !== REGISTER_ENDPOINT && type !== DEREGISTER_ENDPOINT) {
          throw invalid('type', `parameter \`type\` should be ${REGISTER_ENDPOINT} or ${DEREGISTER_ENDPOINT}, but was ${type}`);
        }
        const e = server.endpoint;
        if (e.type !== 'service') {
          throw new AppError('SERVICE_NOT_FOUND', `MCP server '${server.name}' has no REF endpoint service to register an endpoint in (its endpoint is ${e.type})`, 'mcpName');
        }
        const port = optInt(body, 'port');
        if (port === undefined) throw missing('port');
        const key: InstanceKey = { namespace: e.namespace, group: e.group, service: e.service, ip: reqString(body, 'address'), port, cluster: DEFAULT_CLUSTER };
        if (type === REGISTER_ENDPOINT) {
          const version = optString(body, 'version');
          await naming.registerInstance({ ...key, ephemeral: true, healthy: true, metadata: version ? { version } : {}, holder: deps.holder });
          deps.claim(ctx.conn, key);
        } else {
          await naming.deregisterInstance(key);
          deps.release(ctx.conn, key);
        }
        return ok({ type });
      },
    },
  };
}
