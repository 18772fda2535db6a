/**
 * Imports into the registry: `POST …/mcp-servers/import` (any format), and the format-specific
 * `…/import/openapi` and `…/import/server-json`. The document comes in the body (`content`) or
 * from a `url` the registry fetches under the import limits (SSRF guard, size, time). A new
 * server is created, or a new version added to an existing one; as a draft unless `publish`.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { invalid, missing } from '../../../lib/errors.js';
import { parseImport } from '../../../model/convert/import.js';
import type { ImportFormat, ParsedImport } from '../../../model/convert/import.js';
import type { McpServer } from '../../../model/model.js';
import { fetchDocument } from '../../../tools/document-fetch.js';
import type { DocumentFetchOptions } from '../../../tools/document-fetch.js';
import { authorize } from '../../domain/auth.js';
import type { RegistryServices } from '../../services.js';
import { reportWarnings } from '../warnings.js';
import * as S from './schemas.js';

/** The fetch limits when `Registry.start` set none (tests building the HTTP server alone). */
export const DEFAULT_IMPORT_LIMITS: DocumentFetchOptions = { allowPrivate: false, maxBytes: 5 * 1024 * 1024, timeoutMs: 15_000 };

/** An import request's body (every route's fields; each route's schema says which it takes). */
export interface ImportRequest {
  format: ImportFormat;
  content?: string;
  url?: string;
  name?: string;
  version?: string;
  publish?: boolean;
  toolPrefix?: string;
  baseUrl?: string;
  documentUrl?: string;
  passthrough?: boolean;
  /** The name of the file the content came from: named in warnings and the log. */
  file?: string;
}

/** The document of an import (fetched when given by URL) converted, with the name and version the request sets. */
export async function readImport(svc: RegistryServices, b: ImportRequest): Promise<ParsedImport> {
  if (b.content !== undefined && b.url !== undefined) throw invalid('url', 'give the document as content or as url, not both');
  let content = b.content;
  if (b.url !== undefined && b.documentUrl !== undefined) throw invalid('documentUrl', 'is where content came from; with url, the fetched URL is used');
  let documentUrl = b.documentUrl;
  if (b.url !== undefined) {
    if (b.format === 'higress' || b.format === 'nacos') throw invalid('url', `${b.format} imports take the document as content`);
    const fetched = await fetchDocument(b.url, svc.importLimits ?? DEFAULT_IMPORT_LIMITS);
    content = fetched.text;
    documentUrl = fetched.url;
  }
  if (content === undefined || content.trim() === '') throw missing('content');
  const parsed = parseImport(b.format, content, {
    ...(documentUrl ? { documentUrl } : {}), ...(b.toolPrefix ? { toolPrefix: b.toolPrefix } : {}),
    ...(b.baseUrl ? { baseUrl: b.baseUrl } : {}), ...(b.passthrough ? { passthrough: true } : {}),
  });
  return {
    input: { ...parsed.input, ...(b.name ? { name: b.name } : {}) },
    spec: { ...parsed.spec, ...(b.version ? { version: b.version } : {}) },
    warnings: parsed.warnings,
  };
}

/** The import routes (under /api/v1); `view` renders the stored server as the other MCP server routes answer it. */
export function importRoutes(
  app: FastifyInstance, svc: RegistryServices, tag: { tags: string[] },
  view: (req: FastifyRequest, server: McpServer) => Promise<unknown>,
  publishBy: (req: FastifyRequest) => { actor: string; note?: string },
): void {
  const run = async (req: FastifyRequest, format: ImportFormat) => {
    const { ns } = req.params as { ns: string };
    authorize(req.principal, ns, 'editor');
    const b = { ...(req.body as Omit<ImportRequest, 'format'>), format } as ImportRequest;
    const { input, spec, warnings } = await readImport(svc, b);
    if (!input.name) throw missing('name');
    const existing = await svc.store.getMcpServer(ns, { name: input.name });
    const result = existing
      ? await svc.mcp.saveVersion(ns, { name: input.name }, {}, spec, b.publish ?? false, publishBy(req))
      : await svc.mcp.create(ns, input, spec, b.publish ?? false, publishBy(req));
    const reported = reportWarnings(req, result.server.name, [...warnings, ...result.warnings], b.file);
    return { status: existing ? 200 : 201, body: { ...(await view(req, result.server)) as object, warnings: reported.warnings ?? [] } };
  };
  app.post('/namespaces/:ns/mcp-servers/import', {
    schema: {
      ...tag, summary: 'Import a Higress YAML/JSON definition, a Nacos MCP JSON, an OpenAPI 3 document or an MCP Registry server.json (as content, or by url for the last two) as a new server or a new version (a draft unless publish)',
      params: S.nsParams, body: S.importBody,
    },
  }, async (req, reply) => {
    const { status, body } = await run(req, (req.body as { format: ImportFormat }).format);
    return reply.status(status).send(body);
  });
  app.post('/namespaces/:ns/mcp-servers/import/openapi', {
    schema: {
      ...tag, summary: 'Import an OpenAPI 3.0/3.1 document (content, or url fetched by the registry): each operation a REST tool; a new server or a new version, a draft unless publish',
      params: S.nsParams, body: S.openApiImportBody,
    },
  }, async (req, reply) => {
    const { status, body } = await run(req, 'openapi');
    return reply.status(status).send(body);
  });
  app.post('/namespaces/:ns/mcp-servers/import/server-json', {
    schema: {
      ...tag, summary: 'Import an MCP Registry server.json (content, or url): its remote as an MCP backend, or its stdio package; a new server or a new version, a draft unless publish',
      params: S.nsParams, body: S.serverJsonImportBody,
    },
  }, async (req, reply) => {
    const { status, body } = await run(req, 'server-json');
    return reply.status(status).send(body);
  });
}
