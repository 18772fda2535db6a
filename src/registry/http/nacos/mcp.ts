/**
 * The Nacos 3 MCP admin API (`/v3/admin/ai/mcp`), over McpService. Parameters and answers follow
 * Nacos' McpAdminController and McpServerOperationService; the payload conversions live in
 * domain/convert/nacos.ts.
 *
 * Server-level fields (description, protocol, endpoint, enabled) of an update take effect when
 * it publishes (`latest=true`, the default); a draft (`latest=false`) stores only the version.
 * An update of an existing version overwrites it, published or not, as Nacos does (as a new
 * revision of it: see McpService.saveVersion); warnings are logged (Nacos answers have no place for them).
 */
import type { FastifyInstance } from 'fastify';
import { AppError, invalid } from '../../../lib/errors.js';
import type { NacosEndpointInfo, NacosMcpInput, NacosServerFields } from '../../../model/convert/nacos.js';
import { fromNacos, refuseNacosVirtualUpdate, toNacosDetail, toNacosListItem } from '../../../model/convert/nacos.js';
import { withVirtualTools } from '../../domain/virtual-preview.js';
import { parseJsonInput } from '../../../lib/json-input.js';
import { reportWarnings } from '../warnings.js';
import type { McpServerInput } from '../../../model/model.js';
import type { ServerKey } from '../../domain/mcp.js';
import type { McpServer, McpServerVersion } from '../../../model/model.js';
import type { RegistryServices } from '../../services.js';
import { serverFor, versionFor } from '../redaction.js';
import type { NacosParams } from './params.js';
import { scope } from './params.js';
import { envelope } from './views.js';

const V3 = { config: { family: 'nacos-envelope' as const } };

function serverKey(p: NacosParams): ServerKey {
  const id = p.str('mcpId');
  if (id) return { id };
  const name = p.str('mcpName');
  if (name) return { name };
  throw new AppError('PARAMETER_MISSING', "required parameter 'mcpId' or 'mcpName' is missing", 'mcpName');
}

function jsonField(p: NacosParams, name: string): unknown {
  const v = p.raw(name);
  return typeof v === 'string' ? parseJsonInput(v, name) : v;
}

function payload(p: NacosParams, ns: string): NacosMcpInput {
  return {
    serverSpecification: jsonField(p, 'serverSpecification'),
    toolSpecification: jsonField(p, 'toolSpecification'),
    endpointSpecification: jsonField(p, 'endpointSpecification'),
    namespaceId: ns,
  };
}

function serverInput(f: NacosServerFields): McpServerInput {
  return {
    name: f.name, description: f.description, protocol: f.protocol, frontProtocol: f.frontProtocol, enabled: f.enabled, endpoint: f.endpoint,
    ...(f.passthrough ? { passthrough: f.passthrough } : {}),
  };
}

function positive(p: NacosParams, name: string, fallback: number): number {
  const n = p.int(name) ?? fallback;
  if (n < 1) throw invalid(name, `must be a positive integer, got ${n}`);
  return n;
}

/** The version a list entry shows: the published one, else the newest. */
function shownVersion(server: McpServer, versions: McpServerVersion[]): McpServerVersion | undefined {
  return versions.find((v) => v.version === server.publishedVersion) ?? versions[versions.length - 1];
}

/** The healthy instances of a service endpoint, as Nacos lists them in `backendEndpoints`. */
async function backendEndpoints(svc: RegistryServices, server: McpServer): Promise<NacosEndpointInfo[] | undefined> {
  const e = server.endpoint;
  if (e.type !== 'service') return undefined;
  const { instances } = await svc.naming.listInstances(e.namespace, e.group, e.service, { healthyOnly: true }).catch(() => ({ instances: [] }));
  const protocol = server.protocol === 'https' ? 'https' : 'http';
  return instances.map((i) => ({ protocol, address: i.ip, port: i.port, path: '' }));
}

/** Register the MCP admin routes. */
export function registerMcpRoutes(app: FastifyInstance, svc: RegistryServices): void {
  app.get('/v3/admin/ai/mcp/list', V3, async (req) => {
    const { p, ns } = scope(req, 'viewer');
    const search = (p.str('search') ?? 'accurate').toLowerCase();
    if (search !== 'accurate' && search !== 'blur') throw invalid('search', `must be 'accurate' or 'blur', got '${search}'`);
    const pageNo = positive(p, 'pageNo', 1);
    const pageSize = Math.min(positive(p, 'pageSize', 100), 1000);
    const name = p.str('mcpName');
    const page = await svc.mcp.list(ns, { ...(name ? { search: name, exact: search === 'accurate' } : {}), pageNo, pageSize });
    const pageItems = [];
    for (const server of page.items) {
      const versions = await svc.store.listVersions(server.id);
      const shown = shownVersion(server, versions);
      if (shown) pageItems.push(toNacosListItem(server, shown, versions));
    }
    return envelope({ totalCount: page.total, pageNumber: pageNo, pagesAvailable: Math.ceil(page.total / pageSize), pageItems });
  });

  app.get('/v3/admin/ai/mcp', V3, async (req) => {
    const { p, ns } = scope(req, 'viewer');
    const key = serverKey(p);
    const wanted = p.str('version');
    const { server, versions } = await svc.mcp.listVersions(ns, key);
    const version = wanted ? versions.find((v) => v.version === wanted) : versions[versions.length - 1];
    if (!version) throw new AppError('VERSION_NOT_FOUND', `MCP server '${server.name}' has no version '${wanted ?? ''}'`, 'version');
    const backend = await backendEndpoints(svc, server);
    // Secrets (credentials, secret headers and config) only for callers who may read them.
    const shown = await withVirtualTools(svc.store, server, versionFor(req.principal, ns, version));
    return envelope(toNacosDetail(serverFor(req.principal, server), shown, versions, backend ? { backendEndpoints: backend } : {}));
  });

  app.post('/v3/admin/ai/mcp', V3, async (req) => {
    const { p, ns } = scope(req, 'editor');
    const { server, spec } = fromNacos(payload(p, ns));
    const created = await svc.mcp.create(ns, serverInput(server), spec, true, { actor: req.principal.username });
    reportWarnings(req, created.server.name, created.warnings);
    return envelope(created.server.id);
  });

  app.put('/v3/admin/ai/mcp', V3, async (req) => {
    const { p, ns } = scope(req, 'editor');
    const latest = p.bool('latest') ?? true;
    const { server, spec } = fromNacos(payload(p, ns));
    const id = server.id ?? p.str('mcpId');
    const key: ServerKey = id ? { id } : { name: server.name };
    const existing = await svc.mcp.get(ns, key);
    refuseNacosVirtualUpdate(existing);
    if (existing.name !== server.name) {
      throw invalid('serverSpecification.name', `an MCP server cannot be renamed ('${existing.name}' to '${server.name}')`);
    }
    const { name: _name, ...fields } = serverInput(server);
    // As Nacos: the version's content is written whether or not it exists or is published (it
    // becomes the version's next revision here, the earlier ones kept for history and rollback).
    const saved = await svc.mcp.saveVersion(ns, { id: existing.id }, latest ? fields : {}, spec, latest, { actor: req.principal.username }, { overwrite: true });
    reportWarnings(req, existing.name, saved.warnings);
    return envelope('ok');
  });

  app.delete('/v3/admin/ai/mcp', V3, async (req) => {
    const { p, ns } = scope(req, 'editor');
    const key = serverKey(p);
    const version = p.str('version');
    if (version) await svc.mcp.deleteVersion(ns, key, version);
    else await svc.mcp.delete(ns, key);
    return envelope('ok');
  });
}
