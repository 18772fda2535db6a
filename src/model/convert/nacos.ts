/**
 * The Nacos 3 MCP admin API forms (`serverSpecification`, `toolSpecification`,
 * `endpointSpecification`; the detail and list answers) ⇄ the internal model. Field names
 * follow Nacos' McpServerBasicInfo, McpToolSpecification, McpToolMeta, McpEndpointSpec and
 * McpServerDetailInfo; a tool's REST mapping is `toolsMeta[name].templates["json-go-template"]`,
 * which has the Higress template shape.
 */
import { AppError, invalid, missing } from '../../lib/errors.js';
import { parseJsonInput } from '../../lib/json-input.js';
import type {
  CredentialPassthrough, Endpoint, FrontProtocol, McpProtocol, McpServer, McpServerSpec, McpServerVersion, RestTemplate, Tool,
} from '../model.js';
import { DEFAULT_GROUP, FRONT_PROTOCOLS, MCP_PROTOCOLS, PUBLIC_NAMESPACE } from '../model.js';
import { checkRestTemplateShape } from '../spec-validation.js';
import type { JsonObject, SecurityRequirement } from './higress.js';
import {
  DEFAULT_SPEC_VERSION, FieldReader, isJsonObject, mergeSecurity, parseYamlOrJson, readPosition, readRequestTemplate,
  readSecurityRequirement, readTemplateRest, readSecurityScheme, setEntry, writeRequestTemplate, writeResponseTemplate,
  writeSecurityScheme, writeToolSecurity,
} from './higress.js';

/** The key of the Higress-style template in `toolsMeta[name].templates`. */
export const JSON_GO_TEMPLATE = 'json-go-template';

/** The three JSON-valued form fields of a create or update, already parsed. */
export interface NacosMcpInput {
  serverSpecification: unknown;
  toolSpecification?: unknown;
  endpointSpecification?: unknown;
  /** The request's namespaceId: the default, and the only allowed value, of a REF endpoint's namespace. */
  namespaceId?: string;
}

/** The server-level fields a Nacos payload sets. */
export interface NacosServerFields {
  /** A caller-chosen id (Nacos accepts a UUID in `serverSpecification.id`). */
  id?: string;
  name: string;
  description: string;
  protocol: McpProtocol;
  frontProtocol: FrontProtocol;
  enabled: boolean;
  endpoint: Endpoint;
  passthrough?: CredentialPassthrough;
  /**
   * `remoteServerConfig.exportPath` of a REF endpoint (the backend's MCP path), which the
   * internal service endpoint has no place for. A DIRECT endpoint with a path becomes a URL endpoint.
   */
  exportPath?: string;
}

/** An endpoint as Nacos lists it in `backendEndpoints` / `frontendEndpoints`. */
export interface NacosEndpointInfo {
  protocol?: string;
  address: string;
  port: number;
  path?: string;
}

/** Extra facts the detail answer carries that the model does not hold. */
export interface NacosDetailOptions {
  /** The healthy instances of a service endpoint, as `backendEndpoints`. */
  backendEndpoints?: NacosEndpointInfo[];
  /** Where agents reach the server through the gateway, as `frontendEndpoints`. */
  frontendEndpoints?: NacosEndpointInfo[];
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;


/** Why the Nacos v3 API does not create or change virtual servers. */
const VIRTUAL_NOT_CARRIED = 'virtual servers have members the Nacos v3 API cannot carry: create and change them through the native API (/api/v1)';

/** An update through the Nacos v3 API of an existing server: refused for a virtual server (it would lose its members). */
export function refuseNacosVirtualUpdate(existing: Pick<McpServer, 'name' | 'protocol'>): void {
  if (existing.protocol === 'virtual') throw invalid('serverSpecification.protocol', `'${existing.name}' is a virtual server: ${VIRTUAL_NOT_CARRIED}`);
}

function readProtocol(r: FieldReader): McpProtocol {
  const value = r.requiredString('protocol').toLowerCase();
  const protocol = MCP_PROTOCOLS.find((p) => p === value);
  if (protocol === 'virtual') throw invalid(r.field('protocol'), VIRTUAL_NOT_CARRIED);
  if (!protocol) throw invalid(r.field('protocol'), `must be one of ${MCP_PROTOCOLS.filter((p) => p !== 'virtual').join(', ')}`);
  return protocol;
}

/** Nacos sends `stdio` as the front protocol of local servers; mcpgate fronts them with Streamable HTTP. */
function readFrontProtocol(r: FieldReader): FrontProtocol {
  const value = (r.string('frontProtocol') ?? '').toLowerCase();
  if (value === '' || value === 'stdio') return 'mcp-streamable';
  const front = FRONT_PROTOCOLS.find((p) => p === value);
  if (!front) throw invalid(r.field('frontProtocol'), `must be one of ${FRONT_PROTOCOLS.join(', ')}`);
  return front;
}

function readVersion(r: FieldReader): string {
  const detail = r.reader('versionDetail');
  return detail?.string('version') || r.string('version') || DEFAULT_SPEC_VERSION;
}

function readPassthrough(r: FieldReader | undefined): CredentialPassthrough | undefined {
  if (!r) return undefined;
  return { headers: r.strings('headers') ?? [], cookies: r.strings('cookies') ?? [] };
}

/** `localServerConfig` of a stdio server (the console sometimes sends it as a JSON string). */
function readLocalServerConfig(r: FieldReader): Record<string, unknown> {
  const raw = r.raw('localServerConfig');
  if (raw === undefined) return {};
  const value = typeof raw === 'string' ? (raw.trim() === '' ? {} : parseJsonInput(raw, r.field('localServerConfig'))) : raw;
  if (!isJsonObject(value)) throw invalid(r.field('localServerConfig'), 'must be an object');
  return value;
}

function readPort(value: unknown, field: string): number {
  const port = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw invalid(field, 'must be a port number (1-65535)');
  }
  return port;
}

function readTransport(r: FieldReader): 'http' | 'https' | undefined {
  const value = r.string('transportProtocol')?.toLowerCase();
  if (value === undefined || value === '') return undefined;
  if (value !== 'http' && value !== 'https') throw invalid(r.field('transportProtocol'), 'must be http or https');
  return value;
}

function serviceEndpoint(r: FieldReader, namespaceId: string | undefined): Endpoint {
  const service = r.requiredString('serviceName');
  const namespace = r.string('namespaceId') || namespaceId || PUBLIC_NAMESPACE;
  if (namespaceId !== undefined && namespace !== namespaceId) {
    throw invalid(r.field('namespaceId'), `must be the MCP server's namespace (${namespaceId})`);
  }
  return { type: 'service', namespace, group: r.string('groupName') || DEFAULT_GROUP, service };
}

/** A service endpoint with the upstream MCP path Nacos gives in `remoteServerConfig.exportPath`. */
function withExportPath(endpoint: Endpoint, exportPath: string | undefined): Endpoint {
  if (!exportPath || endpoint.type !== 'service') return endpoint;
  return { ...endpoint, exportPath: exportPath.startsWith('/') ? exportPath : `/${exportPath}` };
}

function hostForUrl(address: string): string {
  return address.includes(':') && !address.startsWith('[') ? `[${address}]` : address;
}

interface EndpointResult {
  endpoint: Endpoint;
  transport: 'http' | 'https' | undefined;
  exportPath: string | undefined;
}

function readEndpoint(input: NacosMcpInput, server: FieldReader, protocol: McpProtocol): EndpointResult {
  const remote = server.reader('remoteServerConfig');
  const exportPath = remote?.string('exportPath') || undefined;
  if (protocol === 'stdio') return { endpoint: { type: 'none' }, transport: undefined, exportPath: undefined };
  if (input.endpointSpecification === undefined || input.endpointSpecification === null) {
    const ref = remote?.reader('serviceRef');
    if (!ref) throw missing('endpointSpecification');
    return { endpoint: withExportPath(serviceEndpoint(ref, input.namespaceId), exportPath), transport: readTransport(ref), exportPath };
  }
  const spec = FieldReader.of(input.endpointSpecification, 'endpointSpecification');
  const type = spec.requiredString('type').toUpperCase();
  const data = spec.reader('data');
  if (!data) throw missing(spec.field('data'));
  const transport = readTransport(data);
  if (type === 'REF') return { endpoint: withExportPath(serviceEndpoint(data, input.namespaceId), exportPath), transport, exportPath };
  if (type !== 'DIRECT') throw invalid(spec.field('type'), 'must be REF or DIRECT');
  const address = data.requiredString('address');
  if (data.raw('port') === undefined || data.raw('port') === '') throw missing(data.field('port'));
  const port = readPort(data.raw('port'), data.field('port'));
  if (!exportPath) return { endpoint: { type: 'direct', address, port }, transport, exportPath: undefined };
  const scheme = transport ?? (protocol === 'https' ? 'https' : 'http');
  const defaultPort = scheme === 'https' ? 443 : 80;
  const authority = port === defaultPort ? hostForUrl(address) : `${hostForUrl(address)}:${port}`;
  const path = exportPath.startsWith('/') ? exportPath : `/${exportPath}`;
  return { endpoint: { type: 'url', url: `${scheme}://${authority}${path}` }, transport, exportPath: undefined };
}

/** Server-wide security requirements: `toolSpecification.extensions['server.default…Security']`, as Nacos' console writes them. */
interface SecurityDefaults {
  downstream: SecurityRequirement | undefined;
  upstream: SecurityRequirement | undefined;
}

function readJsonGoTemplate(raw: unknown, field: string, defaults: SecurityDefaults): RestTemplate {
  const r = FieldReader.of(typeof raw === 'string' ? parseYamlOrJson(raw, field) : raw, field);
  const { request, upstream } = readRequestTemplate(r.reader('requestTemplate'));
  const toolSecurity = r.reader('security');
  const security = mergeSecurity(upstream ?? defaults.upstream, toolSecurity ? readSecurityRequirement(toolSecurity) : defaults.downstream);
  if (request && security) request.security = security;
  const argsPosition: RestTemplate['argsPosition'] = {};
  const positions = r.reader('argsPosition');
  for (const [name, value] of Object.entries(positions?.value ?? {})) {
    setEntry(argsPosition, name, readPosition(value, `${r.field('argsPosition')}.${name}`));
  }
  const template = readTemplateRest(r, request, argsPosition, r.strings('subPathArgs'));
  checkRestTemplateShape(template, field);
  return template;
}

function readTool(r: FieldReader, meta: FieldReader | undefined, defaults: SecurityDefaults): Tool {
  const name = r.requiredString('name');
  const inputSchema = r.raw('inputSchema') ?? { type: 'object', properties: {} };
  if (!isJsonObject(inputSchema)) throw new AppError('INVALID_SCHEMA', `${r.field('inputSchema')}: must be a JSON object`, r.field('inputSchema'));
  const outputSchema = r.raw('outputSchema');
  if (outputSchema !== undefined && !isJsonObject(outputSchema)) {
    throw new AppError('INVALID_SCHEMA', `${r.field('outputSchema')}: must be a JSON object`, r.field('outputSchema'));
  }
  const templates = meta?.reader('templates');
  const rawTemplate = templates?.raw(JSON_GO_TEMPLATE);
  const title = r.string('title');
  const annotations = r.object('annotations');
  return {
    name,
    ...(title !== undefined && { title }),
    description: r.string('description') ?? '',
    inputSchema,
    ...(outputSchema !== undefined && { outputSchema }),
    ...(annotations && { annotations }),
    enabled: meta ? (meta.boolean('enabled') ?? true) : false,
    template: templates && rawTemplate !== undefined ? readJsonGoTemplate(rawTemplate, templates.field(JSON_GO_TEMPLATE), defaults) : null,
  };
}

function readToolSpecification(raw: unknown): Pick<McpServerSpec, 'tools' | 'securitySchemes'> {
  if (raw === undefined || raw === null) return { tools: [], securitySchemes: [] };
  const r = FieldReader.of(raw, 'toolSpecification');
  const meta = r.reader('toolsMeta');
  const extensions = r.reader('extensions');
  const requirement = (key: string) => {
    const reader = extensions?.reader(key);
    return reader ? readSecurityRequirement(reader) : undefined;
  };
  const defaults = { downstream: requirement('server.defaultDownstreamSecurity'), upstream: requirement('server.defaultUpstreamSecurity') };
  const tools = r.readers('tools').map((t) => {
    const name = t.string('name');
    return readTool(t, name !== undefined ? meta?.reader(name) : undefined, defaults);
  });
  return { tools, securitySchemes: r.readers('securitySchemes').map(readSecurityScheme) };
}

/** Converts a Nacos create/update payload into the server's fields and the version's spec. */
export function fromNacos(input: NacosMcpInput): { server: NacosServerFields; spec: McpServerSpec } {
  if (input.serverSpecification === undefined || input.serverSpecification === null) throw missing('serverSpecification');
  const r = FieldReader.of(input.serverSpecification, 'serverSpecification');
  const name = r.requiredString('name');
  const protocol = readProtocol(r);
  const { endpoint, transport, exportPath } = readEndpoint(input, r, protocol);
  const description = r.string('description') ?? '';
  const id = r.string('id');
  if (id && !UUID.test(id)) throw invalid(r.field('id'), 'must be a UUID');
  const server: NacosServerFields = {
    ...(id && { id }),
    name,
    description,
    protocol: protocol === 'http' && transport === 'https' ? 'https' : protocol,
    frontProtocol: readFrontProtocol(r),
    enabled: r.boolean('enabled') ?? true,
    endpoint,
  };
  const passthrough = readPassthrough(r.reader('passthrough'));
  if (passthrough) server.passthrough = passthrough;
  if (exportPath) server.exportPath = exportPath;
  const { tools, securitySchemes } = readToolSpecification(input.toolSpecification);
  const spec: McpServerSpec = {
    version: readVersion(r),
    description,
    config: protocol === 'stdio' ? readLocalServerConfig(r) : {},
    securitySchemes,
    tools,
    prompts: [],
  };
  return { server, spec };
}

function releaseDate(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function versionDetail(server: McpServer, version: McpServerVersion): JsonObject {
  const detail: JsonObject = { version: version.version };
  if (version.publishedAt !== null) detail['release_date'] = releaseDate(version.publishedAt);
  detail['is_latest'] = version.version === server.publishedVersion;
  return detail;
}

function capabilities(spec: McpServerSpec): string[] {
  return spec.tools.length > 0 || spec.securitySchemes.length > 0 ? ['TOOL'] : [];
}

function writeJsonGoTemplate(template: RestTemplate): JsonObject {
  const out: JsonObject = {};
  if (template.request) out['requestTemplate'] = writeRequestTemplate(template.request);
  out['responseTemplate'] = writeResponseTemplate(template.response);
  if (template.errorResponseTemplate !== undefined) out['errorResponseTemplate'] = template.errorResponseTemplate;
  if (Object.keys(template.argsPosition).length > 0) out['argsPosition'] = { ...template.argsPosition };
  if (template.subPathArgs !== undefined && template.subPathArgs.length > 0) out['subPathArgs'] = [...template.subPathArgs];
  const security = writeToolSecurity(template);
  if (security) out['security'] = security;
  if (template.timeoutMs !== undefined) out['timeoutMs'] = template.timeoutMs;
  return out;
}

/** The `toolSpec` of a detail answer (also a valid `toolSpecification` for create and update). */
export function toNacosToolSpec(spec: McpServerSpec): JsonObject {
  const tools = spec.tools.map((tool) => {
    const out: JsonObject = { name: tool.name };
    if (tool.title !== undefined) out['title'] = tool.title;
    out['description'] = tool.description;
    out['inputSchema'] = tool.inputSchema;
    if (tool.outputSchema !== undefined) out['outputSchema'] = tool.outputSchema;
    if (tool.annotations !== undefined) out['annotations'] = tool.annotations;
    return out;
  });
  const toolsMeta: JsonObject = {};
  for (const tool of spec.tools) {
    const meta: JsonObject = { enabled: tool.enabled };
    if (tool.template) meta['templates'] = { [JSON_GO_TEMPLATE]: writeJsonGoTemplate(tool.template) };
    setEntry(toolsMeta, tool.name, meta);
  }
  return { tools, toolsMeta, securitySchemes: spec.securitySchemes.map(writeSecurityScheme) };
}

function transportOf(protocol: McpProtocol): 'http' | 'https' {
  return protocol === 'https' ? 'https' : 'http';
}

function remoteParts(server: McpServer): { remoteServerConfig: JsonObject; backendEndpoints: NacosEndpointInfo[] } {
  const endpoint = server.endpoint;
  const transport = transportOf(server.protocol);
  switch (endpoint.type) {
    case 'service':
      return {
        remoteServerConfig: {
          serviceRef: { namespaceId: endpoint.namespace, groupName: endpoint.group, serviceName: endpoint.service, transportProtocol: transport },
          exportPath: endpoint.exportPath ?? '',
        },
        backendEndpoints: [],
      };
    case 'direct':
      return { remoteServerConfig: { exportPath: endpoint.exportPath ?? '' }, backendEndpoints: [{ protocol: transport, address: endpoint.address, port: endpoint.port, path: endpoint.exportPath ?? '' }] };
    case 'url': {
      if (!URL.canParse(endpoint.url)) return { remoteServerConfig: { exportPath: '' }, backendEndpoints: [] };
      const url = new URL(endpoint.url);
      const protocol = url.protocol === 'https:' ? 'https' : 'http';
      const port = url.port ? Number(url.port) : protocol === 'https' ? 443 : 80;
      const path = `${url.pathname}${url.search}`;
      return {
        remoteServerConfig: { exportPath: path },
        backendEndpoints: [{ protocol, address: url.hostname.replace(/^\[(.*)\]$/, '$1'), port, path }],
      };
    }
    case 'none':
      return { remoteServerConfig: { exportPath: '' }, backendEndpoints: [] };
  }
}

/** The fields the detail and the list answers share (McpServerBasicInfo with the version's), in Nacos's order. */
function versionInfo(server: McpServer, version: McpServerVersion, description: string): JsonObject {
  return {
    id: server.id,
    namespaceId: server.namespace,
    name: server.name,
    protocol: server.protocol,
    frontProtocol: server.frontProtocol,
    description,
    versionDetail: versionDetail(server, version),
    version: version.version,
    enabled: server.enabled,
    status: 'active',
    capabilities: capabilities(version.spec),
  };
}

/** The detail answer of `GET /nacos/v3/admin/ai/mcp` (McpServerDetailInfo) for one version. */
export function toNacosDetail(
  server: McpServer,
  version: McpServerVersion,
  allVersions: McpServerVersion[],
  options: NacosDetailOptions = {},
): JsonObject {
  const spec = version.spec;
  const out = versionInfo(server, version, spec.description);
  if (server.protocol === 'stdio') {
    out['localServerConfig'] = spec.config;
  } else {
    const { remoteServerConfig, backendEndpoints } = remoteParts(server);
    out['remoteServerConfig'] = remoteServerConfig;
    out['backendEndpoints'] = options.backendEndpoints ?? backendEndpoints;
    out['frontendEndpoints'] = options.frontendEndpoints ?? [];
  }
  out['toolSpec'] = toNacosToolSpec(spec);
  out['allVersions'] = allVersions.map((v) => versionDetail(server, v));
  return out;
}

/** One `pageItems` entry of `GET /nacos/v3/admin/ai/mcp/list` (McpServerVersionInfo). */
export function toNacosListItem(server: McpServer, version: McpServerVersion, allVersions?: McpServerVersion[]): JsonObject {
  const out = versionInfo(server, version, server.description);
  if (server.publishedVersion !== null) out['latestPublishedVersion'] = server.publishedVersion;
  if (allVersions) out['versionDetails'] = allVersions.map((v) => versionDetail(server, v));
  return out;
}
