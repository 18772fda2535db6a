/**
 * The Nacos naming Open API (v1 and v2) and login, over the registry's NamingService and
 * AuthService. Shapes and defaults follow Nacos' InstanceController, ServiceController,
 * OperatorController and their v2 counterparts.
 *
 * mcpgate extensions on instance register/update, for persistent instances (`ephemeral=false`)
 * only: `healthCheckType` (tcp | http | none), `healthCheckPath`, `healthCheckPort`,
 * `healthCheckIntervalMs`, `healthCheckTimeoutMs`, `healthCheckHealthyThreshold`,
 * `healthCheckUnhealthyThreshold` — how the registry checks the instance.
 */
import { cpus, freemem, loadavg, totalmem } from 'node:os';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, invalid, missing } from '../../../lib/errors.js';
import { canSee } from '../../domain/auth.js';
import type { HealthCheck, Instance, Service } from '../../../model/model.js';
import { DEFAULT_CLUSTER, DEFAULT_GROUP } from '../../../model/model.js';
import type { InstanceKey } from '../../../model/model.js';
import type { InstanceInput } from '../../domain/naming.js';
import { BEAT_INTERVAL_MS, beatTimings } from '../../../model/model.js';
import type { RegistryServices } from '../../services.js';
import { isObject, NacosParams, scope, stringMap } from './params.js';
import { envelope, instanceDetail, serviceDetailV1, serviceDetailV2, serviceInfoView } from './views.js';

const BEAT_OK = 10200;
const BEAT_NOT_FOUND = 20404;

const V1 = { config: { family: 'nacos-v1' as const } };
const V2 = { config: { family: 'nacos-envelope' as const } };

function okText(reply: FastifyReply): FastifyReply {
  return reply.type('text/plain; charset=utf-8').send('ok');
}

const HEALTH_PARAMS = {
  healthCheckPath: 'path', healthCheckPort: 'port', healthCheckIntervalMs: 'intervalMs', healthCheckTimeoutMs: 'timeoutMs',
  healthCheckHealthyThreshold: 'healthyThreshold', healthCheckUnhealthyThreshold: 'unhealthyThreshold',
} as const;

function healthCheckParams(p: NacosParams): Partial<HealthCheck> | undefined {
  const out: Partial<HealthCheck> = {};
  const type = p.str('healthCheckType')?.toLowerCase();
  if (type !== undefined) {
    if (type !== 'tcp' && type !== 'http' && type !== 'none') throw invalid('healthCheckType', `must be tcp, http or none, got '${type}'`);
    out.type = type;
  }
  for (const [param, key] of Object.entries(HEALTH_PARAMS)) {
    if (key === 'path') {
      const path = p.str(param);
      if (path !== undefined) out.path = path;
    } else {
      const n = p.int(param);
      if (n !== undefined) out[key] = n;
    }
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/** The domain names health-check fields `healthCheck.x`; these routes take them as `healthCheckX`. */
function asParam(err: unknown): never {
  if (err instanceof AppError && err.field?.startsWith('healthCheck.')) {
    const key = err.field.slice('healthCheck.'.length);
    const param = `healthCheck${key.charAt(0).toUpperCase()}${key.slice(1)}`;
    throw new AppError(err.code, err.message.replace(err.field, param), param);
  }
  throw err;
}

/** A domain call's errors with the routes' parameter names (a rejection handler: no further promise per request). */
function asParams<T>(call: Promise<T>): Promise<T> {
  return call.catch(asParam);
}

function instanceKey(p: NacosParams, ns: string): InstanceKey {
  const { group, service } = p.service();
  return { namespace: ns, group, service, ip: p.required('ip'), port: p.requiredPort('port'), cluster: p.cluster(DEFAULT_CLUSTER) };
}

function enabledParam(p: NacosParams): boolean | undefined {
  return p.has('enabled') ? p.bool('enabled') : p.bool('enable');
}

/** A register replaces the instance as Nacos does: absent parameters take their defaults. */
function registerInput(p: NacosParams, ns: string): InstanceInput {
  const key = instanceKey(p, ns);
  const ephemeral = p.bool('ephemeral') ?? true;
  const healthCheck = healthCheckParams(p);
  if (healthCheck && ephemeral) throw invalid('healthCheckType', 'health checks apply to persistent instances only (ephemeral=false)');
  return {
    ...key, ephemeral, weight: p.num('weight') ?? 1, enabled: enabledParam(p) ?? true, healthy: p.bool('healthy') ?? true,
    metadata: p.metadata() ?? {}, ...(healthCheck ? { healthCheck } : {}),
  };
}

/** An update changes what it is given and keeps the rest. */
async function updateInput(svc: RegistryServices, p: NacosParams, ns: string): Promise<InstanceInput> {
  const key = instanceKey(p, ns);
  const ephemeral = p.bool('ephemeral');
  const weight = p.num('weight');
  const enabled = enabledParam(p);
  const metadata = p.metadata();
  const given = healthCheckParams(p);
  const existing = await svc.store.getInstance(key.namespace, key.group, key.service, key.ip, key.port, key.cluster);
  const persistent = ephemeral === false || (ephemeral === undefined && existing?.ephemeral === false);
  if (given && !persistent) throw invalid('healthCheckType', 'health checks apply to persistent instances only (ephemeral=false)');
  const healthCheck = given ? { ...(existing?.healthCheck ?? {}), ...given } : existing?.healthCheck ?? undefined;
  return {
    ...key,
    ...(ephemeral !== undefined ? { ephemeral } : {}), ...(weight !== undefined ? { weight } : {}),
    ...(enabled !== undefined ? { enabled } : {}), ...(metadata !== undefined ? { metadata } : {}),
    ...(persistent && healthCheck ? { healthCheck } : {}),
  };
}

function protectThreshold(p: NacosParams): number | undefined {
  return p.num('protectThreshold');
}

/** A service selector: Nacos knows `none` and `label` (`{"type":"label","expression":"..."}`). */
function selector(p: NacosParams): string | undefined {
  const v = p.json('selector');
  if (v === undefined) return undefined;
  if (!isObject(v) || typeof v.type !== 'string') throw invalid('selector', "must be a JSON object with a 'type' (none or label)");
  const type = v.type.toLowerCase();
  if (type === 'none') return '';
  if (type !== 'label') throw invalid('selector', `unknown selector type '${v.type}' (none or label)`);
  if (v.expression !== undefined && typeof v.expression !== 'string') throw invalid('selector.expression', 'must be a string');
  return JSON.stringify({ type: 'label', expression: v.expression ?? '' });
}

interface BeatBody {
  ip?: string;
  port?: number;
  cluster?: string;
  weight?: number;
  metadata?: Record<string, string>;
}

function beatBody(p: NacosParams): BeatBody | undefined {
  const v = p.json('beat');
  if (v === undefined) return undefined;
  if (!isObject(v)) throw invalid('beat', 'must be a JSON object');
  const out: BeatBody = {};
  if (v.ip !== undefined && v.ip !== null) {
    if (typeof v.ip !== 'string') throw invalid('beat.ip', 'must be a string');
    out.ip = v.ip;
  }
  if (v.port !== undefined && v.port !== null) {
    const port = typeof v.port === 'string' && /^\d+$/.test(v.port) ? Number(v.port) : v.port;
    if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) throw invalid('beat.port', 'must be an integer from 1 to 65535');
    out.port = port;
  }
  if (v.cluster !== undefined && v.cluster !== null && v.cluster !== '') {
    if (typeof v.cluster !== 'string') throw invalid('beat.cluster', 'must be a string');
    out.cluster = v.cluster;
  }
  if (v.weight !== undefined && v.weight !== null) {
    if (typeof v.weight !== 'number') throw invalid('beat.weight', 'must be a number');
    out.weight = v.weight;
  }
  if (v.metadata !== undefined && v.metadata !== null) out.metadata = stringMap('beat.metadata', v.metadata);
  return out;
}

/** The heartbeat of both API versions (Nacos answers it unwrapped on v2 too). */
async function beat(svc: RegistryServices, req: FastifyRequest): Promise<Record<string, unknown>> {
  const { p, ns } = scope(req, 'editor');
  const { group, service } = p.service();
  const body = beatBody(p);
  const ip = body?.ip ?? p.str('ip');
  const port = body?.port ?? p.port('port');
  if (ip === undefined) throw missing(body ? 'beat.ip' : 'ip');
  if (port === undefined) throw missing(body ? 'beat.port' : 'port');
  const key: InstanceKey = { namespace: ns, group, service, ip, port, cluster: body?.cluster ?? p.cluster(DEFAULT_CLUSTER) };
  const details = body ? { ...(body.weight !== undefined ? { weight: body.weight } : {}), ...(body.metadata ? { metadata: body.metadata } : {}) } : undefined;
  const result = await svc.naming.beat(key, details);
  let interval = BEAT_INTERVAL_MS;
  if (body) interval = beatTimings(body.metadata ?? {}).interval;
  else if (result === 'ok') {
    const i = await svc.store.getInstance(ns, group, service, ip, port, key.cluster);
    if (i) interval = beatTimings(i.metadata).interval;
  }
  return { clientBeatInterval: interval, code: result === 'ok' ? BEAT_OK : BEAT_NOT_FOUND, lightBeatEnabled: false };
}

/** The instance list; v1 takes the clusters as `clusters`, v2 as `clusterName` (either is accepted on v2). */
async function instanceList(svc: RegistryServices, req: FastifyRequest, v2: boolean): Promise<Record<string, unknown>> {
  const { p, ns } = scope(req, 'viewer');
  const { group, service } = p.service();
  const clusters = (v2 ? p.str('clusterName') ?? p.str('clusters') : p.str('clusters')) ?? '';
  const healthyOnly = p.bool('healthyOnly') ?? false;
  const { service: s, instances } = await svc.naming.listInstances(ns, group, service);
  return serviceInfoView(group, service, clusters, s, instances, healthyOnly, Date.now());
}

async function getInstance(svc: RegistryServices, req: FastifyRequest): Promise<Instance> {
  const { p, ns } = scope(req, 'viewer');
  const k = instanceKey(p, ns);
  await svc.naming.getNamespace(ns);
  const i = await svc.store.getInstance(ns, k.group, k.service, k.ip, k.port, k.cluster);
  if (!i) throw new AppError('INSTANCE_NOT_FOUND', `no instance ${k.ip}:${k.port} in cluster ${k.cluster} of '${k.group}@@${k.service}'`, 'ip');
  return i;
}

async function serviceDetail(svc: RegistryServices, req: FastifyRequest): Promise<{ service: Service; instances: Instance[] }> {
  const { p, ns } = scope(req, 'viewer');
  const { group, service } = p.service();
  const s = await svc.naming.getService(ns, group, service);
  return { service: s, instances: await svc.store.listInstances({ serviceId: s.id }) };
}

async function createService(svc: RegistryServices, req: FastifyRequest): Promise<void> {
  const { p, ns } = scope(req, 'editor');
  const { group, service } = p.service();
  const threshold = protectThreshold(p);
  const metadata = p.metadata();
  const sel = selector(p);
  await svc.naming.createService({
    namespace: ns, group, name: service, ...(threshold !== undefined ? { protectThreshold: threshold } : {}),
    ...(metadata ? { metadata } : {}), ...(sel !== undefined ? { selector: sel } : {}),
  });
}

async function updateService(svc: RegistryServices, req: FastifyRequest): Promise<void> {
  const { p, ns } = scope(req, 'editor');
  const { group, service } = p.service();
  const threshold = protectThreshold(p);
  const metadata = p.metadata();
  const sel = selector(p);
  await svc.naming.updateService({
    namespace: ns, group, name: service, ...(threshold !== undefined ? { protectThreshold: threshold } : {}),
    ...(metadata ? { metadata } : {}), ...(sel !== undefined ? { selector: sel } : {}),
  });
}

async function deleteService(svc: RegistryServices, req: FastifyRequest): Promise<void> {
  const { p, ns } = scope(req, 'editor');
  const { group, service } = p.service();
  await svc.naming.deleteService(ns, group, service);
}

async function serviceNames(svc: RegistryServices, req: FastifyRequest, defaultPageSize: number, maxPageSize: number): Promise<{ count: number; names: string[] }> {
  const { p, ns } = scope(req, 'viewer');
  const pageNo = p.int('pageNo') ?? 1;
  const pageSize = Math.min(p.int('pageSize') ?? defaultPageSize, maxPageSize);
  if (pageNo < 1) throw invalid('pageNo', 'must be a positive integer');
  if (pageSize < 1) throw invalid('pageSize', 'must be a positive integer');
  const group = p.str('groupName') ?? DEFAULT_GROUP;
  const page = await svc.naming.listServices(ns, { group, pageNo, pageSize });
  return { count: page.total, names: page.items.map((s) => s.name) };
}

async function register(svc: RegistryServices, req: FastifyRequest): Promise<void> {
  const { p, ns } = scope(req, 'editor');
  await asParams(svc.naming.registerInstance(registerInput(p, ns)));
}

async function update(svc: RegistryServices, req: FastifyRequest): Promise<void> {
  const { p, ns } = scope(req, 'editor');
  const input = await updateInput(svc, p, ns);
  await asParams(svc.naming.updateInstance(input));
}

async function deregister(svc: RegistryServices, req: FastifyRequest): Promise<void> {
  const { p, ns } = scope(req, 'editor');
  const key = instanceKey(p, ns);
  await svc.naming.getNamespace(ns);
  await svc.naming.deregisterInstance(key);
}

async function metrics(svc: RegistryServices, req: FastifyRequest): Promise<Record<string, unknown>> {
  const p = NacosParams.of(req);
  const status = await svc.store.revision().then(() => 'UP', () => 'DOWN');
  if (p.bool('onlyStatus') ?? true) return { status };
  if (!req.principal) throw new AppError('UNAUTHORIZED', 'log in first: the full metrics (onlyStatus=false) need a credential');
  const visible = (await svc.naming.listNamespaces()).map((n) => n.id).filter((id) => canSee(req.principal, id));
  let serviceCount = 0;
  for (const ns of visible) serviceCount += (await svc.store.listServices(ns, { pageNo: 1, pageSize: 1 })).total;
  const seen = new Set(visible);
  const instances = (await svc.store.listInstances({})).filter((i) => seen.has(i.namespace));
  const clients = (ephemeral: boolean) => new Set(instances.filter((i) => i.ephemeral === ephemeral).map((i) => `${i.ip}:${i.port}`)).size;
  const ephemeralClients = clients(true);
  const persistentClients = clients(false);
  const load = loadavg()[0] ?? 0;
  return {
    status, serviceCount, instanceCount: instances.length, subscribeCount: 0, responsibleInstanceCount: instances.length,
    clientCount: ephemeralClients + persistentClients, connectionBasedClientCount: 0, ephemeralIpPortClientCount: ephemeralClients,
    persistentIpPortClientCount: persistentClients, responsibleClientCount: ephemeralClients + persistentClients,
    cpu: Math.min(1, load / Math.max(1, cpus().length)), load, mem: 1 - freemem() / totalmem(),
  };
}

async function login(svc: RegistryServices, req: FastifyRequest, reply: FastifyReply): Promise<Record<string, unknown>> {
  const p = NacosParams.of(req);
  const username = p.required('username');
  const password = p.raw('password');
  if (password === undefined) throw missing('password');
  if (typeof password !== 'string') throw invalid('password', 'must be a string');
  const r = await svc.auth.login(username, password, req.ip);
  reply.header('authorization', `Bearer ${r.accessToken}`);
  return { accessToken: r.accessToken, tokenTtl: r.tokenTtl, globalAdmin: r.principal.globalAdmin, username: r.principal.username };
}

/** Register the naming routes (v1 and v2), operator metrics and the login routes. */
export function registerNamingRoutes(app: FastifyInstance, svc: RegistryServices): void {
  // ---- v1 ----
  app.post('/v1/ns/instance', V1, async (req, reply) => { await register(svc, req); return okText(reply); });
  app.put('/v1/ns/instance', V1, async (req, reply) => { await update(svc, req); return okText(reply); });
  app.delete('/v1/ns/instance', V1, async (req, reply) => { await deregister(svc, req); return okText(reply); });
  app.get('/v1/ns/instance', V1, async (req) => instanceDetail(await getInstance(svc, req), false));
  app.get('/v1/ns/instance/list', V1, async (req) => instanceList(svc, req, false));
  app.put('/v1/ns/instance/beat', V1, async (req) => beat(svc, req));

  app.post('/v1/ns/service', V1, async (req, reply) => { await createService(svc, req); return okText(reply); });
  app.put('/v1/ns/service', V1, async (req, reply) => { await updateService(svc, req); return okText(reply); });
  app.delete('/v1/ns/service', V1, async (req, reply) => { await deleteService(svc, req); return okText(reply); });
  app.get('/v1/ns/service', V1, async (req) => {
    const { service, instances } = await serviceDetail(svc, req);
    return serviceDetailV1(service, instances);
  });
  app.get('/v1/ns/service/list', V1, async (req) => {
    const { count, names } = await serviceNames(svc, req, 10, 1000);
    return { count, doms: names };
  });
  app.get('/v1/ns/operator/metrics', { config: { family: 'nacos-v1', auth: 'public' } }, async (req) => metrics(svc, req));

  // ---- v2 ----
  app.post('/v2/ns/instance', V2, async (req) => { await register(svc, req); return envelope('ok'); });
  app.put('/v2/ns/instance', V2, async (req) => { await update(svc, req); return envelope('ok'); });
  app.delete('/v2/ns/instance', V2, async (req) => { await deregister(svc, req); return envelope('ok'); });
  app.get('/v2/ns/instance', V2, async (req) => envelope(instanceDetail(await getInstance(svc, req), true)));
  app.get('/v2/ns/instance/list', V2, async (req) => envelope(await instanceList(svc, req, true)));
  app.put('/v2/ns/instance/beat', V2, async (req) => beat(svc, req));

  app.post('/v2/ns/service', V2, async (req) => { await createService(svc, req); return envelope('ok'); });
  app.put('/v2/ns/service', V2, async (req) => { await updateService(svc, req); return envelope('ok'); });
  app.delete('/v2/ns/service', V2, async (req) => { await deleteService(svc, req); return envelope('ok'); });
  app.get('/v2/ns/service', V2, async (req) => {
    const { service, instances } = await serviceDetail(svc, req);
    return envelope(serviceDetailV2(service, instances));
  });
  app.get('/v2/ns/service/list', V2, async (req) => {
    const { count, names } = await serviceNames(svc, req, 20, 500);
    return envelope({ count, services: names });
  });

  // ---- login ----
  app.post('/v1/auth/login', { config: { family: 'nacos-v1', auth: 'public' } }, async (req, reply) => login(svc, req, reply));
  app.post('/v1/auth/users/login', { config: { family: 'nacos-v1', auth: 'public' } }, async (req, reply) => login(svc, req, reply));
  app.post('/v3/auth/user/login', { config: { family: 'nacos-envelope', auth: 'public' } }, async (req, reply) => login(svc, req, reply));
}
