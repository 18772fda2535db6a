/**
 * `POST …/versions/{version}/import-tools`: connects to a running upstream MCP server (the
 * server's URL or instances, or its stdio command), lists its tools and saves them as a draft
 * version, so that their descriptions can be edited and overridden in the registry and tools
 * switched off, while calls go to the upstream.
 */
import type { FastifyInstance } from 'fastify';
import { AppError, invalid } from '../../../lib/errors.js';
import type { Logger } from '../../../lib/logger.js';
import type { Tool } from '../../../model/model.js';
import type { ToolConnections } from '../../../tools/compile.js';
import { ToolError } from '../../../tools/errors.js';
import { upstreamKind } from '../../../tools/mcp/config.js';
import { createMcpRuntime } from '../../../tools/mcp/executor.js';
import { createUpstream } from '../../../tools/upstream.js';
import { authorize } from '../../domain/auth.js';
import type { RegistryServices } from '../../services.js';
import * as S from '../native/schemas.js';
import { upstreamSnapshot } from './try-it.js';

/** Most pages of tools/list read from an upstream. */
const MAX_PAGES = 50;
/** Most tools imported. */
const MAX_TOOLS = 5000;

interface ImportBody {
  /** The version whose spec (config, prompts, existing tools) the draft starts from; default the published, else the latest. */
  from?: string;
  /** Replace the registry's titles, descriptions and enablement of tools it already lists with the upstream's. */
  overwrite?: boolean;
}

const importSchema = {
  type: 'object', additionalProperties: false,
  properties: { from: { type: 'string', minLength: 1, maxLength: 64 }, overwrite: { type: 'boolean' } },
} as const;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** One upstream tools/list entry as a registry tool (no template: calls go to the upstream). */
function toTool(raw: unknown, at: string): Tool {
  if (!isObject(raw) || typeof raw.name !== 'string' || raw.name === '') throw new AppError('UPSTREAM_FAILED', `the upstream listed a tool without a name (${at})`);
  const inputSchema = isObject(raw.inputSchema) ? raw.inputSchema : { type: 'object', properties: {} };
  return {
    name: raw.name,
    ...(typeof raw.title === 'string' ? { title: raw.title } : {}),
    description: typeof raw.description === 'string' ? raw.description : '',
    inputSchema,
    ...(isObject(raw.outputSchema) ? { outputSchema: raw.outputSchema } : {}),
    ...(isObject(raw.annotations) ? { annotations: raw.annotations } : {}),
    enabled: true,
    template: null,
  };
}

/** The import route (under /api/v1). */
export function upstreamImportRoutes(app: FastifyInstance, svc: RegistryServices, connections: () => ToolConnections, tag: { tags: string[] }): void {
  app.post('/namespaces/:ns/mcp-servers/:name/versions/:version/import-tools', {
    schema: {
      ...tag, summary: "List the tools of the server's running upstream MCP server and save them as a draft version (the registry's edits to tools it already lists are kept unless overwrite)",
      params: S.versionParams, body: importSchema,
    },
  }, async (req) => {
    const { ns, name, version } = req.params as Record<string, string>;
    authorize(req.principal, ns!, 'editor');
    const b = (req.body ?? {}) as ImportBody;
    const { server, version: base } = await svc.mcp.getVersion(ns!, { name: name! }, b.from);
    const kind = upstreamKind(server.protocol);
    if (!kind) throw invalid('protocol', `'${server.name}' is a REST server (${server.protocol}); only mcp-streamable, mcp-sse and stdio servers have tools to import`);
    // Importing from a stdio server starts its command on the registry's machine: admins only.
    if (kind === 'stdio') authorize(req.principal, ns!, 'admin');
    const upstream = createUpstream(server.endpoint, server.protocol, await upstreamSnapshot(svc, server));
    const runtime = createMcpRuntime(server, base.spec, { upstream, dispatcher: connections().guarded, logger: req.log as unknown as Logger });
    const listed: Tool[] = [];
    try {
      let cursor: string | undefined;
      for (let page = 0; page < MAX_PAGES; page++) {
        const r = await runtime.request('tools/list', cursor ? { cursor } : {});
        const tools = Array.isArray(r.tools) ? r.tools : [];
        tools.forEach((t, i) => listed.push(toTool(t, `page ${page + 1}, entry ${i}`)));
        if (listed.length > MAX_TOOLS) throw new AppError('UPSTREAM_FAILED', `the upstream lists more than ${MAX_TOOLS} tools`);
        cursor = typeof r.nextCursor === 'string' && r.nextCursor !== '' ? r.nextCursor : undefined;
        if (!cursor) break;
      }
    } catch (err) {
      if (err instanceof ToolError) throw new AppError('UPSTREAM_FAILED', `${err.code}: ${err.message}`);
      throw err;
    } finally {
      await runtime.close();
    }
    const existing = new Map(base.spec.tools.map((t) => [t.name, t]));
    const seen = new Set<string>();
    const tools: Tool[] = [];
    for (const t of listed) {
      if (seen.has(t.name)) continue;
      seen.add(t.name);
      const had = existing.get(t.name);
      tools.push(had && !b.overwrite
        ? { ...t, ...(had.title !== undefined ? { title: had.title } : {}), description: had.description, enabled: had.enabled }
        : t);
    }
    const spec = { ...base.spec, version: version!, tools };
    const saved = await svc.mcp.saveVersion(ns!, { name: name! }, {}, spec, false);
    return {
      version: saved.version.version, status: saved.version.status, etag: saved.version.etag,
      imported: tools.map((t) => t.name),
      added: tools.filter((t) => !existing.has(t.name)).map((t) => t.name),
      removed: base.spec.tools.filter((t) => !seen.has(t.name)).map((t) => t.name),
    };
  });
}
