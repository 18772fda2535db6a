/**
 * `POST …/versions/{version}/try`: runs one tool of a (draft) version before anything is
 * published, compiled as the gateway compiles it (`compileTool`), its backend exchanges
 * recorded and shown with their credentials masked.
 */
import type { FastifyInstance } from 'fastify';
import type { Dispatcher } from 'undici';
import { AppError, invalid } from '../../../lib/errors.js';
import type { McpServer, Tool } from '../../../model/model.js';
import type { RegistrySnapshot, SnapshotInstance } from '../../../model/snapshot.js';
import { TemplateError } from '../../../template/index.js';
import { Cancellation } from '../../../tools/cancellation.js';
import { checkSpec, compileTool } from '../../../tools/compile.js';
import type { ToolConnections } from '../../../tools/compile.js';
import { ToolError } from '../../../tools/errors.js';
import type { CallToolResult } from '../../../tools/executor.js';
import { createUpstream } from '../../../tools/upstream.js';
import { authorize } from '../../domain/auth.js';
import { restoreSecrets } from '../../domain/secrets.js';
import type { RegistryServices } from '../../services.js';
import * as S from '../native/schemas.js';
import { hideDeep, maskHeaders, maskUrl, secretNamesOf, secretValueMasker } from './masking.js';
import { RecordingDispatcher, TRY_BODY_CAP_BYTES } from './recording-dispatcher.js';
import type { RecordedExchange } from './recording-dispatcher.js';
import { normalizeTool } from './spec-check.js';

type Params = Record<string, string>;

/** Try calls time out after this long unless the tool sets its own timeout. */
const TRY_DEFAULT_TIMEOUT_MS = 30_000;

/** The argument an ArgsValidator message names (`missing required argument 'city'`). */
function argumentField(problem: string): string {
  const m = /'([^']+)'/.exec(problem);
  return m ? `arguments.${m[1]}` : 'arguments';
}

interface TryBody {
  tool: string;
  arguments?: Record<string, unknown>;
  headers?: Record<string, string>;
  definition?: Tool;
}

const trySchema = {
  type: 'object', additionalProperties: false, required: ['tool'],
  properties: {
    tool: { type: 'string', minLength: 1, maxLength: 128 },
    arguments: { type: 'object' },
    headers: { type: 'object', additionalProperties: { type: 'string' } },
    definition: S.tool,
  },
} as const;

/** The instances of the service an endpoint references (the only part of the snapshot an upstream reads). */
async function upstreamSnapshot(svc: RegistryServices, server: McpServer): Promise<RegistrySnapshot> {
  const snapshot: RegistrySnapshot = { revision: svc.feed.revision, namespaces: [server.namespace], services: [], mcpServers: [], consumers: [] };
  const e = server.endpoint;
  if (e.type !== 'service') return snapshot;
  let instances: SnapshotInstance[] = [];
  try {
    const list = await svc.naming.listInstances(e.namespace, e.group, e.service);
    instances = list.instances.map((i) => ({ ip: i.ip, port: i.port, weight: i.weight, healthy: i.healthy, enabled: i.enabled, cluster: i.cluster, metadata: i.metadata }));
  } catch (err) {
    if (!(err instanceof AppError)) throw err;
  }
  snapshot.services.push({ namespace: e.namespace, group: e.group, name: e.service, instances });
  return snapshot;
}

/** The try route (under /api/v1); `connections` gives the backend connections of a try. */
export function tryItRoutes(app: FastifyInstance, svc: RegistryServices, connections: () => ToolConnections, tag: { tags: string[] }): void {
  app.post('/namespaces/:ns/mcp-servers/:name/versions/:version/try', {
    schema: {
      ...tag, summary: "Run one tool of a version (a draft too) through the gateway's REST executor and show the backend exchange",
      params: S.versionParams, body: trySchema,
    },
  }, async (req, reply) => {
    const { ns, name, version } = req.params as Params;
    authorize(req.principal, ns!, 'editor');
    const b = req.body as TryBody;
    const { server, version: v } = await svc.mcp.getVersion(ns!, { name: name! }, version!);
    let spec = v.spec;
    if (b.definition) {
      const def = normalizeTool(b.definition);
      if (def.name !== b.tool) throw invalid('definition.name', `must be the tool being tried ('${b.tool}')`);
      const tools = spec.tools.some((t) => t.name === def.name) ? spec.tools.map((t) => (t.name === def.name ? def : t)) : [...spec.tools, def];
      // A definition that shows a redaction marker runs with the stored secret.
      spec = restoreSecrets({ ...spec, tools }, [v.spec]);
      checkSpec(spec);
    }
    const tool = spec.tools.find((t) => t.name === b.tool);
    if (!tool) throw invalid('tool', `version '${v.version}' of '${server.name}' has no tool '${b.tool}'`);
    if (!tool.template) throw invalid('tool', `tool '${tool.name}' has no REST template: the gateway cannot run it`);
    const args = structuredClone(b.arguments ?? {});
    // The tool compiled as the gateway compiles it, its backend exchanges recorded.
    const exchanges: RecordedExchange[] = [];
    const recorded = { ...connections(), wrap: (d: Dispatcher) => new RecordingDispatcher(d, TRY_BODY_CAP_BYTES, exchanges) };
    const upstream = createUpstream(server.endpoint, server.protocol, await upstreamSnapshot(svc, server));
    let compiled;
    try {
      compiled = compileTool(tool, { server, spec, upstream, connections: recorded, defaultTimeoutMs: TRY_DEFAULT_TIMEOUT_MS });
    } catch (err) {
      if (err instanceof TemplateError) throw new AppError('INVALID_TEMPLATE', `${err.templateName}: line ${err.line}, column ${err.column}: ${err.detail}`, err.templateName);
      throw err;
    }
    const { validate, executor } = compiled;
    const problem = validate(args);
    if (problem) throw new AppError('VALIDATION_FAILED', `invalid arguments for tool ${tool.name}: ${problem}`, argumentField(problem));
    const clientHeaders: Record<string, string> = {};
    for (const [k, val] of Object.entries(b.headers ?? {})) clientHeaders[k.toLowerCase()] = val;
    const cancellation = new Cancellation();
    reply.raw.once('close', () => { if (!reply.raw.writableFinished) cancellation.cancel(); });
    const started = performance.now();
    let result: CallToolResult | null = null;
    let gatewayError: { code: string; status: number; message: string } | null = null;
    try {
      result = await executor.execute({ args, clientHeaders, cancellation, clientAddress: req.socket.remoteAddress });
    } catch (err) {
      if (!(err instanceof ToolError)) throw err;
      if (err.code === 'INVALID_ARGUMENT') throw new AppError('VALIDATION_FAILED', err.message, argumentField(err.message));
      // What the gateway answers a call without the credential the tool passes through.
      gatewayError = { code: 'UNAUTHORIZED', status: 401, message: err.message };
    }
    const durationMs = Math.round((performance.now() - started) * 10) / 10;
    // Every configured secret and every credential the agent passed through is masked, by name and by value,
    // in the request shown and in what the backend echoed back.
    const secretNames = secretNamesOf(spec, tool, server.passthrough);
    const hide = secretValueMasker(spec, clientHeaders, server.passthrough);
    const shown = exchanges.map((e) => ({
      ...e,
      request: {
        ...e.request, url: hide(maskUrl(e.request.url, secretNames.params)),
        headers: Object.fromEntries(Object.entries(maskHeaders(e.request.headers, secretNames.headers)).map(([k, val]) => [k, hide(val)])),
        body: e.request.body === null ? null : hide(e.request.body),
      },
      response: e.response ? {
        ...e.response, body: hide(e.response.body),
        headers: Object.fromEntries(Object.entries(maskHeaders(e.response.headers)).map(([k, val]) => [k, hide(val)])),
      } : null,
      ...(e.error !== undefined ? { error: hide(e.error) } : {}),
    }));
    const last = shown[shown.length - 1];
    return {
      tool: tool.name, version: v.version, arguments: args,
      request: last?.request ?? null, response: last?.response ?? null, ...(last?.error ? { backendError: last.error } : {}),
      attempts: shown, result: hideDeep(result, hide), gatewayError: gatewayError && { ...gatewayError, message: hide(gatewayError.message) }, durationMs,
    };
  });
}
