import { AppError } from '../../lib/errors.js';
import { checkJsonDepth } from '../../lib/json-depth.js';
import type { McpServerInput } from '../model.js';
import type { McpServerSpec } from '../model.js';
import type { SpecWarning } from '../spec-validation.js';
import { fromHigress } from './higress.js';
import { fromNacos } from './nacos.js';
import { fromOpenApi } from './openapi.js';
import type { OpenApiImportOptions } from './openapi.js';
import { fromServerJson } from './server-json.js';

/** The formats an import reads. */
export const IMPORT_FORMATS = ['higress', 'nacos', 'openapi', 'server-json'] as const;
/** One import format. */
export type ImportFormat = (typeof IMPORT_FORMATS)[number];

/** What a format's converter takes besides the content (OpenAPI's options; `name` for server.json). */
export type ImportOptions = Omit<OpenApiImportOptions, 'name'>;

/** A converted import: server fields, the first version's spec, and what the converter left out or guessed. */
export interface ParsedImport {
  input: McpServerInput;
  spec: McpServerSpec;
  warnings: SpecWarning[];
}

/** A converter's warning `field: message` as the registry reports warnings (field apart). */
function fieldWarning(text: string): SpecWarning {
  const m = /^([^\s:]+): ([\s\S]*)$/.exec(text);
  return m ? { field: m[1]!, message: m[2]! } : { field: '', message: text };
}

/**
 * Read an import: a Higress definition (YAML or JSON), a Nacos MCP document (the three
 * specifications of the v3 API, or a server detail with `toolSpec`), an OpenAPI 3 document or
 * an MCP Registry `server.json`, into server fields and a spec.
 */
export function parseImport(format: ImportFormat, content: string, options: ImportOptions = {}): ParsedImport {
  if (format === 'higress') {
    const { name, spec, warnings } = fromHigress(content);
    return { input: { name, description: spec.description }, spec, warnings };
  }
  if (format === 'openapi' || format === 'server-json') {
    const parsed = format === 'openapi' ? fromOpenApi(content, options) : fromServerJson(content);
    return { ...parsed, warnings: parsed.warnings.map(fieldWarning) };
  }
  let doc: Record<string, unknown>;
  checkJsonDepth(content, 'content');
  try {
    doc = JSON.parse(content) as Record<string, unknown>;
  } catch (err) {
    throw new AppError('INVALID_JSON', `content: not valid JSON (${(err as Error).message})`, 'content');
  }
  const { server, spec } = fromNacos({
    serverSpecification: doc.serverSpecification ?? doc, toolSpecification: doc.toolSpecification ?? doc.toolSpec,
    endpointSpecification: doc.endpointSpecification ?? directEndpointOfDetail(doc),
  });
  return { input: server as McpServerInput, spec, warnings: [] };
}

/**
 * A Nacos server detail (`GET /nacos/v3/admin/ai/mcp`) carries a DIRECT endpoint only as its
 * `backendEndpoints` (a REF one as `remoteServerConfig.serviceRef`, which the converter reads):
 * the endpoint specification it was created with, rebuilt from them.
 */
function directEndpointOfDetail(doc: Record<string, unknown>): unknown {
  const remote = doc.remoteServerConfig as { serviceRef?: unknown } | undefined;
  if (remote?.serviceRef !== undefined && remote.serviceRef !== null) return undefined;
  const first = Array.isArray(doc.backendEndpoints) ? (doc.backendEndpoints[0] as Record<string, unknown> | undefined) : undefined;
  if (!first || typeof first !== 'object' || first.address === undefined) return undefined;
  const transport = first.protocol === 'https' || first.protocol === 'http' ? { transportProtocol: first.protocol } : {};
  return { type: 'DIRECT', data: { address: first.address, port: first.port, ...transport } };
}
