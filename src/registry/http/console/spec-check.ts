/**
 * The console's checks of a spec without saving it: `POST …/mcp-servers/validate` (as saving a
 * version would, with every problem at once on request) and `POST …/mcp-servers/import/preview`
 * (the import converters).
 */
import type { FastifyInstance } from 'fastify';
import { AppError } from '../../../lib/errors.js';
import type { McpServerSpec, SecretDeclaration, Tool } from '../../../model/model.js';
import { TemplateError } from '../../../template/index.js';
import { checkSpec, toolListEntry } from '../../../tools/compile.js';
import { authorize, canReadSecrets } from '../../domain/auth.js';
import { redactEndpoint } from '../../domain/secrets.js';
import type { RegistryServices } from '../../services.js';
import { readImport } from '../native/imports.js';
import type { ImportRequest } from '../native/imports.js';
import * as S from '../native/schemas.js';
import { specFor } from '../redaction.js';

type Params = Record<string, string>;

/** A tool as the API takes it, with the defaults the native API applies. */
export function normalizeTool(t: Partial<Tool> & { name: string; inputSchema: Record<string, unknown> }): Tool {
  return { ...t, description: t.description ?? '', enabled: t.enabled ?? true, template: t.template ?? null } as Tool;
}

function normalizeSpec(s: Partial<McpServerSpec> & { tools: McpServerSpec['tools'] }, fallbackVersion: string): McpServerSpec {
  return {
    version: s.version || fallbackVersion, description: s.description ?? '', config: s.config ?? {}, securitySchemes: s.securitySchemes ?? [],
    tools: s.tools.map((t) => normalizeTool(t)), prompts: s.prompts ?? [], ...(s.secrets ? { secrets: s.secrets as SecretDeclaration } : {}),
    ...(s.virtual ? { virtual: s.virtual } : {}),
  };
}



function errorBody(err: unknown): { code: string; message: string; field?: string } {
  if (err instanceof AppError) return { code: err.code, message: err.message, ...(err.field ? { field: err.field } : {}) };
  if (err instanceof TemplateError) return { code: 'INVALID_TEMPLATE', message: `${err.templateName}: line ${err.line}, column ${err.column}: ${err.detail}`, field: err.templateName };
  return { code: 'VALIDATION_FAILED', message: (err as Error).message };
}

/** How many problems one `validate` with `all` reports at most. */
const MAX_PROBLEMS = 25;

/**
 * Make the part of a tool a problem is about harmless, so that checking again finds the next
 * problem; false when the field names nothing that can be set aside.
 */
function setAside(tool: Tool, rest: string, n: number): boolean {
  const t = tool.template;
  const request = t?.request ?? undefined;
  const header = /^requestTemplate\.headers\[(\d+)\]/.exec(rest);
  if (rest === 'name') tool.name = `set_aside_${n}`;
  else if (rest === 'description' || rest === 'title' || rest === 'annotations' || rest === 'enabled') {
    if (rest === 'description') tool.description = '';
    else if (rest === 'enabled') tool.enabled = true;
    else delete tool[rest];
  } else if (rest.startsWith('inputSchema')) {
    const props = tool.inputSchema && typeof tool.inputSchema.properties === 'object' && tool.inputSchema.properties !== null ? Object.keys(tool.inputSchema.properties) : [];
    tool.inputSchema = { type: 'object', properties: Object.fromEntries(props.map((n) => [n, {}])) };
  } else if (rest.startsWith('outputSchema')) delete tool.outputSchema;
  else if (!t) return false;
  else if (rest === 'requestTemplate.url' && request) request.url = '/';
  else if (rest === 'requestTemplate.method' && request) request.method = 'GET';
  else if (rest === 'requestTemplate.body' && request) delete request.body;
  else if (header && request && request.headers[Number(header[1])]) request.headers[Number(header[1])] = { key: `x-set-aside-${header[1]}`, value: '' };
  else if (rest.startsWith('requestTemplate.security') && request) delete request.security;
  else if (rest === 'requestTemplate' && request) Object.assign(request, { argsToUrlParam: false, argsToJsonBody: false, argsToFormBody: false });
  else if (rest === 'responseTemplate.body') t.response = { ...t.response, body: '' };
  else if (rest === 'responseTemplate.prependBody') delete t.response.prependBody;
  else if (rest === 'responseTemplate.appendBody') delete t.response.appendBody;
  else if (rest === 'responseTemplate') t.response = {};
  else if (rest === 'errorResponseTemplate') delete t.errorResponseTemplate;
  else if (rest.startsWith('argsPosition.')) delete t.argsPosition[rest.slice('argsPosition.'.length)];
  else if (rest === 'timeoutMs') delete t.timeoutMs;
  else return false;
  return true;
}

/**
 * Every problem of a spec's tools, not only the first: each found problem's part is set aside
 * (on a copy) and the spec checked again, up to `MAX_PROBLEMS`. Problems outside the tools end
 * the search.
 */
export function specProblems(spec: McpServerSpec): { code: string; message: string; field?: string }[] {
  const copy = structuredClone(spec);
  const problems: { code: string; message: string; field?: string }[] = [];
  while (problems.length < MAX_PROBLEMS) {
    try {
      checkSpec(copy);
      break;
    } catch (err) {
      const body = errorBody(err);
      if (!(err instanceof AppError || err instanceof TemplateError)) throw err;
      problems.push(body);
      const m = body.field ? /^tools\[(\d+)\](?:\([^)]*\))?\.?(.*)$/.exec(body.field) : null;
      const tool = m ? copy.tools[Number(m[1])] : undefined;
      if (!m || !tool || !setAside(tool, m[2] ?? '', problems.length)) break;
    }
  }
  return problems;
}

/** The validate and import-preview routes (under /api/v1). */
export function specCheckRoutes(app: FastifyInstance, svc: RegistryServices, tag: { tags: string[] }): void {
  app.post('/namespaces/:ns/mcp-servers/validate', {
    schema: {
      ...tag, summary: 'Check a spec as saving a version would (schemas, templates), without saving; answers the tools/list entries',
      params: S.nsParams, body: { type: 'object', additionalProperties: false, required: ['spec'], properties: { spec: S.spec, all: { type: 'boolean' } } },
    },
  }, async (req) => {
    const { ns } = req.params as Params;
    authorize(req.principal, ns!, 'viewer');
    const b = req.body as { spec: McpServerSpec; all?: boolean };
    const spec = normalizeSpec(b.spec, 'draft');
    // With `all`, every problem at once (200, valid: false) instead of the first one as an error.
    if (b.all) {
      const problems = specProblems(spec);
      if (problems.length > 0) return { valid: false, problems };
    }
    const warnings = checkSpec(spec);
    return { valid: true, tools: spec.tools.filter((t) => t.enabled).map(toolListEntry), warnings };
  });

  app.post('/namespaces/:ns/mcp-servers/import/preview', {
    schema: {
      ...tag, summary: 'Convert a definition (Higress, Nacos, OpenAPI 3, server.json; content or url) as import would, without saving; with the converter\'s warnings',
      params: S.nsParams, body: S.importPreviewBody,
    },
  }, async (req) => {
    const { ns } = req.params as Params;
    const body = req.body as ImportRequest;
    // Fetching a URL makes the registry reach out: only for those who may import.
    authorize(req.principal, ns!, body.url !== undefined ? 'editor' : 'viewer');
    const parsed = await readImport(svc, body);
    const spec = parsed.spec;
    const server = parsed.input;
    const warnings = [...parsed.warnings];
    // As every read of a spec: its secrets only for those who may read them.
    const shownSpec = specFor(req.principal, ns!, spec);
    const shownServer = !canReadSecrets(req.principal, ns!) && server.endpoint ? { ...server, endpoint: redactEndpoint(server.endpoint) } : server;
    let problem: ReturnType<typeof errorBody> | null = null;
    try {
      warnings.push(...checkSpec(spec));
    } catch (err) {
      problem = errorBody(err);
    }
    let exists = false;
    if (server.name) exists = await svc.store.getMcpServer(ns!, { name: server.name }).then((s) => s !== undefined, () => false);
    return { server: shownServer, spec: shownSpec, tools: spec.tools.map((t) => ({ ...toolListEntry(t), enabled: t.enabled, request: t.template?.request ? { method: t.template.request.method, url: t.template.request.url } : null })), valid: problem === null, error: problem, exists, warnings: warnings.map((w) => (body.file ? { ...w, file: body.file } : w)) };
  });
}
