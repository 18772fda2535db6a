/**
 * The console's Activity page over HTTP: gateways post what they counted
 * (`POST /gateways/activity`, same rights as the watch API), and readers of a namespace get it
 * added up across every gateway replica (`GET /namespaces/{ns}/activity…?window=1h|24h`).
 */
import type { FastifyInstance } from 'fastify';
import { AppError, invalid } from '../../../lib/errors.js';
import type { ActivityErrorSample, ActivityReport } from '../../../model/activity.js';
import {
  LATENCY_BUCKETS, MAX_AGENT_NAME, MAX_AGENT_VERSION, MAX_AGENTS_PER_BUCKET, MAX_KINDS_PER_BUCKET, MAX_REPORT_BUCKETS, MAX_REPORT_SAMPLED_TOOLS,
  MAX_REPORT_SAMPLES_PER_TOOL, MAX_SAMPLE_CHARS, MINUTE_MS,
} from '../../../model/activity.js';
import type { ActivityFigures, ActivityWindow } from '../../domain/activity.js';
import { ACTIVITY_WINDOWS, ActivityService } from '../../domain/activity.js';
import { authorize } from '../../domain/auth.js';
import type { RegistryServices } from '../../services.js';
import * as S from '../native/schemas.js';
import { GATEWAY_ID, hasGlobalRole } from './gateways.js';
import { secretValueMasker } from './masking.js';

/** Largest activity report body (a gateway's report is bounded well under it: src/model/activity.ts). */
const REPORT_BODY_LIMIT = 8 * 1024 * 1024;
/** A report's minutes may be this far in the future (gateway clocks drift) or the past (a report kept while registries were down). */
const FUTURE_SLACK_MS = 5 * MINUTE_MS;
const PAST_LIMIT_MS = 25 * 60 * MINUTE_MS;

const name = (max: number) => ({ type: 'string', minLength: 1, maxLength: max }) as const;
const count = { type: 'integer', minimum: 0 } as const;

const reportBody = {
  type: 'object', additionalProperties: false, required: ['gateway', 'buckets', 'errors'],
  properties: {
    gateway: name(200),
    buckets: {
      type: 'array', maxItems: MAX_REPORT_BUCKETS,
      items: {
        type: 'object', additionalProperties: false, required: ['namespace', 'server', 'tool', 'minute', 'calls', 'errors', 'kinds', 'latency', 'latencySumMs', 'agents'],
        properties: {
          namespace: name(128), server: name(255), tool: name(128), minute: count, calls: { type: 'integer', minimum: 1 }, errors: count,
          kinds: { type: 'object', maxProperties: MAX_KINDS_PER_BUCKET, propertyNames: { maxLength: 64 }, additionalProperties: count },
          latency: { type: 'array', minItems: LATENCY_BUCKETS, maxItems: LATENCY_BUCKETS, items: count },
          latencySumMs: { type: 'number', minimum: 0 },
          agents: {
            type: 'array', maxItems: MAX_AGENTS_PER_BUCKET,
            items: { type: 'object', additionalProperties: false, required: ['name', 'version', 'calls'], properties: { name: name(MAX_AGENT_NAME), version: { type: 'string', maxLength: MAX_AGENT_VERSION }, calls: count } },
          },
        },
      },
    },
    errors: {
      type: 'array', maxItems: MAX_REPORT_SAMPLED_TOOLS * MAX_REPORT_SAMPLES_PER_TOOL,
      items: {
        type: 'object', additionalProperties: false, required: ['namespace', 'server', 'tool', 'at', 'kind', 'message', 'agent', 'request', 'answer'],
        properties: {
          namespace: name(128), server: name(255), tool: name(128), at: count, kind: name(64), message: { type: 'string', maxLength: 500 },
          agent: { type: 'object', additionalProperties: false, required: ['name', 'version'], properties: { name: name(MAX_AGENT_NAME), version: { type: 'string', maxLength: MAX_AGENT_VERSION } } },
          request: { type: 'string', maxLength: MAX_SAMPLE_CHARS }, answer: { type: 'string', maxLength: MAX_SAMPLE_CHARS }, gateway: { type: 'string', maxLength: 200 },
        },
      },
    },
  },
} as const;

const windowQuery = { type: 'object', additionalProperties: false, properties: { window: { type: 'string', enum: Object.keys(ACTIVITY_WINDOWS), default: '1h' } } } as const;

/** `POST /gateways/activity`, `GET /namespaces/{ns}/activity`, `…/activity/servers/{name}` and `…/activity/servers/{name}/tools/{tool}` (under /api/v1). */
export function activityRoutes(app: FastifyInstance, svc: RegistryServices, tag: { tags: string[] }, now: () => number = Date.now): void {
  const activity = new ActivityService(svc.store, now);

  app.post('/gateways/activity', {
    bodyLimit: REPORT_BODY_LIMIT,
    schema: { ...tag, summary: "A gateway reports the tools/call it ran since its last report, for the console's Activity page; same rights as the watch API", body: reportBody },
  }, async (req, reply) => {
    if (!hasGlobalRole(req.principal)) throw new AppError('FORBIDDEN', 'an activity report needs a role on every namespace (*)');
    const body = req.body as ActivityReport & { gateway: string };
    if (!GATEWAY_ID.test(body.gateway)) throw invalid('gateway', 'must be 1-200 characters of letters, digits and _ . : @ / -');
    const t = now();
    body.buckets.forEach((b, i) => {
      if (b.minute % MINUTE_MS !== 0) throw invalid(`buckets[${i}].minute`, 'must be the start of a minute (epoch ms, a multiple of 60000)');
      if (b.minute > t + FUTURE_SLACK_MS || b.minute < t - PAST_LIMIT_MS) throw invalid(`buckets[${i}].minute`, 'must be within the last 25 hours');
      if (b.errors > b.calls) throw invalid(`buckets[${i}].errors`, 'must not exceed calls');
    });
    await ingestActivity(svc, { buckets: body.buckets, errors: body.errors.map((e) => ({ ...e, at: Math.min(e.at, t) })) }, body.gateway);
    return reply.status(204).send();
  });

  app.get('/namespaces/:ns/activity', {
    schema: { ...tag, summary: 'Tool calls of a namespace over the last hour or day, per server and tool, across every gateway (the most failing first)', params: S.nsParams, querystring: windowQuery },
  }, async (req) => {
    const { ns } = req.params as { ns: string };
    authorize(req.principal, ns, 'viewer');
    await svc.naming.getNamespace(ns);
    return activity.namespace(ns, (req.query as { window: ActivityWindow }).window);
  });

  app.get('/namespaces/:ns/activity/servers/:name', {
    schema: { ...tag, summary: "One MCP server's tool calls over the window: its tools, agents and last errors (redacted)", params: S.serverParams, querystring: windowQuery },
  }, async (req) => {
    const { ns, name: server } = req.params as { ns: string; name: string };
    authorize(req.principal, ns, 'viewer');
    await svc.naming.getNamespace(ns);
    const window = (req.query as { window: ActivityWindow }).window;
    const view = await activity.namespace(ns, window, server);
    const figures = view.servers[0] ?? { server, ...view.totals, tools: [] };
    return { namespace: ns, window, from: view.from, to: view.to, stepMs: view.stepMs, ...figures, lastErrors: await activity.errors(ns, window, server) };
  });

  app.get('/namespaces/:ns/activity/servers/:name/tools/:tool', {
    schema: {
      ...tag, summary: "One tool's calls over the window: latency, error kinds, agents and last errors (redacted)",
      params: { type: 'object', required: ['ns', 'name', 'tool'], properties: { ...S.serverParams.properties, tool: name(128) } }, querystring: windowQuery,
    },
  }, async (req) => {
    const { ns, name: server, tool } = req.params as { ns: string; name: string; tool: string };
    authorize(req.principal, ns, 'viewer');
    await svc.naming.getNamespace(ns);
    const window = (req.query as { window: ActivityWindow }).window;
    const view = await activity.namespace(ns, window, server);
    const figures: ActivityFigures = view.servers[0]?.tools.find((t) => t.tool === tool) ?? { ...view.totals, calls: 0, errors: 0, errorRate: 0, p50Ms: null, p95Ms: null, meanMs: null, kinds: [], agents: [], series: view.totals.series.map((p) => ({ ...p, calls: 0, errors: 0 })) };
    return { namespace: ns, server, tool, window, from: view.from, to: view.to, stepMs: view.stepMs, ...figures, lastErrors: await activity.errors(ns, window, server, tool) };
  });
}

/** Store a gateway's report (checked), its error samples also cleared of the servers' own secrets. */
export async function ingestActivity(svc: RegistryServices, report: ActivityReport, gateway: string): Promise<void> {
  const errors = await maskSpecSecrets(svc, report.errors.map((e) => ({ ...e, gateway })));
  await svc.store.addActivity({ buckets: report.buckets, errors });
}

/**
 * The gateway hid what it knows to be credentials (names like a secret, the agent's credential
 * headers); the registry also knows the server's own secrets (src/registry/domain/secrets.ts), and
 * hides them wherever they appear in a sample, as the console's try-it does.
 */
async function maskSpecSecrets(svc: RegistryServices, samples: ActivityErrorSample[]): Promise<ActivityErrorSample[]> {
  const maskers = new Map<string, (text: string) => string>();
  const out: ActivityErrorSample[] = [];
  for (const s of samples) {
    const key = `${s.namespace}\n${s.server}`;
    let hide = maskers.get(key);
    if (!hide) {
      try {
        const { server, version } = await svc.mcp.getVersion(s.namespace, { name: s.server });
        hide = secretValueMasker(version.spec, {}, server.passthrough);
      } catch {
        // A server removed since (or a virtual server's member): the gateway's redaction stands.
        hide = (text) => text;
      }
      maskers.set(key, hide);
    }
    out.push({ ...s, message: hide(s.message), request: hide(s.request), answer: hide(s.answer) });
  }
  return out;
}
