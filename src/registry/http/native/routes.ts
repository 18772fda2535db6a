import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, invalid } from '../../../lib/errors.js';
import type { AuditFilter } from '../../domain/audit.js';
import { AUDIT_PAGE_MAX } from '../../domain/audit.js';
import { authorize, canReadSecrets, canSee, requireGlobalAdmin } from '../../domain/auth.js';
import type { Principal } from '../../domain/auth.js';
import type { McpServerInput } from '../../../model/model.js';
import type { PublishBy } from '../../domain/mcp.js';
import { rollbackTarget } from '../../domain/mcp.js';
import { previewVirtual } from '../../domain/virtual-preview.js';
import { gatewayDirectory } from '../console/gateways.js';
import type { Endpoint, HealthCheck, McpServer, McpServerSpec, McpServerVersion, SecretDeclaration } from '../../../model/model.js';
import { DEFAULT_CLUSTER, DEFAULT_GROUP } from '../../../model/model.js';
import { reportWarnings } from '../warnings.js';
import type { RegistryServices } from '../../services.js';
import { MCP_SERVER_SORTS } from '../../store/store.js';
import type { McpServerSort } from '../../store/store.js';
import { ifMatchOf } from '../preconditions.js';
import { importRoutes } from './imports.js';
import { serverFor, snapshotFor, specFor, versionFor } from '../redaction.js';
import * as S from './schemas.js';

type Params = Record<string, string>;
type Body = Record<string, unknown>;

const tag = (t: string) => ({ tags: [t] });

function versionSummary(v: McpServerVersion) {
  return { version: v.version, status: v.status, createdAt: v.createdAt, publishedAt: v.publishedAt, toolCount: v.spec.tools.length, etag: v.etag, revision: v.revision };
}

function specFrom(body: Body, fallbackVersion: string): McpServerSpec {
  const s = body.spec as Partial<McpServerSpec> & { tools: McpServerSpec['tools'] };
  return {
    version: s.version || fallbackVersion, description: s.description ?? '', config: s.config ?? {}, securitySchemes: s.securitySchemes ?? [],
    tools: s.tools.map((t) => ({ ...t, description: t.description ?? '', enabled: t.enabled ?? true, template: t.template ?? null })),
    prompts: s.prompts ?? [], ...(s.secrets ? { secrets: s.secrets as SecretDeclaration } : {}),
    // Checked in full (naming the field) by validateSpec.
    ...(s.authorization ? { authorization: s.authorization } : {}),
    ...(s.virtual ? { virtual: s.virtual } : {}),
  };
}

function serverInput(b: Body): Partial<McpServerInput> {
  return {
    description: b.description as string | undefined, protocol: b.protocol as McpServerInput['protocol'],
    frontProtocol: b.frontProtocol as McpServerInput['frontProtocol'], endpoint: b.endpoint as Endpoint | undefined,
    enabled: b.enabled as boolean | undefined, passthrough: b.passthrough as McpServerInput['passthrough'],
  };
}

/** Who publishes, from the request: the caller, and the note of the body (if any). */
function publishBy(req: FastifyRequest): PublishBy {
  const note = (req.body as { note?: unknown } | null | undefined)?.note;
  return { actor: req.principal.username, ...(typeof note === 'string' && note.trim() !== '' ? { note: note.trim() } : {}) };
}

/** Whether the request says `checkIssuers=false` (the issuers of the authorization settings are then not fetched). */
function issuerCheck(req: FastifyRequest): { checkIssuers: boolean } {
  const skip = (req.query as { checkIssuers?: unknown } | undefined)?.checkIssuers;
  return { checkIssuers: !(skip === false || skip === 'false') };
}

/** The native JSON API under /api/v1: namespaces, services, instances, MCP servers and versions, users, tokens, watch. */
export function nativeRoutes(svc: RegistryServices): FastifyPluginAsync {
  return async (app: FastifyInstance) => {
    app.addHook('onRoute', (route) => {
      route.config = { family: 'native', ...(route.config ?? {}) } as typeof route.config;
    });

    // ---- auth ----
    app.post('/auth/login', {
      config: { auth: 'public' },
      schema: { ...tag('auth'), summary: 'Log in; returns an access token', body: { type: 'object', required: ['username', 'password'], properties: { username: { type: 'string' }, password: { type: 'string' } } } },
    }, async (req) => {
      const b = req.body as { username: string; password: string };
      const r = await svc.auth.login(b.username, b.password, req.ip);
      return { accessToken: r.accessToken, tokenTtl: r.tokenTtl, username: r.principal.username, globalAdmin: r.principal.globalAdmin, roles: r.principal.roles };
    });
    app.get('/auth/me', { schema: { ...tag('auth'), summary: 'Who the caller is' } }, async (req) => req.principal);

    // ---- namespaces ----
    app.get('/namespaces', { schema: { ...tag('namespaces'), summary: 'Namespaces the caller may see' } }, async (req) => {
      const all = await svc.naming.listNamespaces();
      return { items: all.filter((n) => canSee(req.principal, n.id)) };
    });
    app.post('/namespaces', { schema: { ...tag('namespaces'), summary: 'Create a namespace (global admin)', body: S.namespaceBody } }, async (req, reply) => {
      requireGlobalAdmin(req.principal);
      return reply.status(201).send(await svc.naming.createNamespace(req.body as { id: string }));
    });
    app.get('/namespaces/:ns', { schema: { ...tag('namespaces'), params: S.nsParams } }, async (req) => {
      const { ns } = req.params as Params;
      authorize(req.principal, ns!, 'viewer');
      return svc.naming.getNamespace(ns!);
    });
    app.put('/namespaces/:ns', { schema: { ...tag('namespaces'), params: S.nsParams, body: S.namespacePatch } }, async (req) => {
      const { ns } = req.params as Params;
      authorize(req.principal, ns!, 'admin');
      return svc.naming.updateNamespace(ns!, req.body as { name?: string });
    });
    app.get('/namespaces/:ns/authorization', {
      schema: { ...tag('namespaces'), summary: "The namespace's MCP authorization and rate-limit settings (client secrets read as ******)", params: S.nsParams },
    }, async (req) => {
      const { ns } = req.params as Params;
      authorize(req.principal, ns!, 'viewer');
      return svc.namespaceAuthorization.get(ns!);
    });
    app.put('/namespaces/:ns/authorization', {
      schema: {
        ...tag('namespaces'), summary: "Replace the namespace's MCP authorization and rate-limit settings ({} clears them); each issuer's metadata is fetched and checked unless checkIssuers=false",
        params: S.nsParams, querystring: { type: 'object', properties: { checkIssuers: { type: 'boolean' } } }, body: { type: 'object' },
      },
    }, async (req) => {
      const { ns } = req.params as Params;
      authorize(req.principal, ns!, 'admin');
      const { checkIssuers } = req.query as { checkIssuers?: boolean };
      return svc.namespaceAuthorization.put(ns!, req.body, { checkIssuers: checkIssuers !== false });
    });
    app.delete('/namespaces/:ns', { schema: { ...tag('namespaces'), params: S.nsParams } }, async (req, reply) => {
      const { ns } = req.params as Params;
      authorize(req.principal, ns!, 'admin');
      requireGlobalAdmin(req.principal);
      await svc.naming.deleteNamespace(ns!);
      return reply.status(204).send();
    });

    // ---- services and instances ----
    app.get('/namespaces/:ns/services', {
      schema: {
        ...tag('services'), params: S.nsParams,
        querystring: { type: 'object', properties: { group: { type: 'string' }, search: { type: 'string' }, sort: { type: 'string', enum: ['name', '-name'], default: 'name' }, ...S.paging } },
      },
    }, async (req) => {
      const { ns } = req.params as Params;
      authorize(req.principal, ns!, 'viewer');
      const { sort, ...query } = req.query as { group?: string; search?: string; sort: 'name' | '-name'; pageNo: number; pageSize: number };
      const q = { ...query, desc: sort === '-name' };
      const page = await svc.naming.listServices(ns!, q);
      const instances = await svc.store.listInstances({ namespace: ns! });
      return {
        ...page,
        items: page.items.map((s) => {
          const mine = instances.filter((i) => i.serviceId === s.id);
          return { ...s, instanceCount: mine.length, healthyCount: mine.filter((i) => i.healthy && i.enabled).length, ephemeral: mine[0]?.ephemeral ?? null };
        }),
      };
    });
    app.post('/namespaces/:ns/services', { schema: { ...tag('services'), params: S.nsParams, body: S.serviceBody } }, async (req, reply) => {
      const { ns } = req.params as Params;
      authorize(req.principal, ns!, 'editor');
      const b = req.body as { name: string; group?: string; metadata?: Record<string, string>; protectThreshold?: number; selector?: string };
      return reply.status(201).send(await svc.naming.createService({ namespace: ns!, ...b, group: b.group ?? DEFAULT_GROUP }));
    });
    app.get('/namespaces/:ns/services/:group/:name', { schema: { ...tag('services'), params: S.serviceParams } }, async (req) => {
      const { ns, group, name } = req.params as Params;
      authorize(req.principal, ns!, 'viewer');
      const service = await svc.naming.getService(ns!, group!, name!);
      const { instances } = await svc.naming.listInstances(ns!, group!, name!);
      // The MCP servers whose endpoint is this service (what a change to it affects).
      const usedBy: { name: string; enabled: boolean; publishedVersion: string | null }[] = [];
      for (let pageNo = 1; ; pageNo++) {
        const page = await svc.store.listMcpServers(ns!, { pageNo, pageSize: 1000 });
        for (const m of page.items) {
          const e = m.endpoint;
          if (e.type === 'service' && e.namespace === ns && e.group === group && e.service === name) usedBy.push({ name: m.name, enabled: m.enabled, publishedVersion: m.publishedVersion });
        }
        if (pageNo * 1000 >= page.total) break;
      }
      return { ...service, instances, usedBy };
    });
    app.put('/namespaces/:ns/services/:group/:name', { schema: { ...tag('services'), params: S.serviceParams, body: S.servicePatch } }, async (req) => {
      const { ns, group, name } = req.params as Params;
      authorize(req.principal, ns!, 'editor');
      return svc.naming.updateService({ namespace: ns!, group: group!, name: name!, ...(req.body as object) });
    });
    app.delete('/namespaces/:ns/services/:group/:name', { schema: { ...tag('services'), params: S.serviceParams } }, async (req, reply) => {
      const { ns, group, name } = req.params as Params;
      authorize(req.principal, ns!, 'editor');
      await svc.naming.deleteService(ns!, group!, name!);
      return reply.status(204).send();
    });
    app.get('/namespaces/:ns/services/:group/:name/instances', {
      schema: { ...tag('instances'), params: S.serviceParams, querystring: { type: 'object', properties: { healthyOnly: { type: 'boolean' }, cluster: { type: 'string' } } } },
    }, async (req) => {
      const { ns, group, name } = req.params as Params;
      authorize(req.principal, ns!, 'viewer');
      await svc.naming.getService(ns!, group!, name!);
      const q = req.query as { healthyOnly?: boolean; cluster?: string };
      return { items: (await svc.naming.listInstances(ns!, group!, name!, { healthyOnly: q.healthyOnly, clusters: q.cluster ? q.cluster.split(',') : undefined })).instances };
    });
    app.post('/namespaces/:ns/services/:group/:name/instances', {
      schema: { ...tag('instances'), summary: 'Register (or update) an instance', params: S.serviceParams, body: S.instanceBody },
    }, async (req, reply) => {
      const { ns, group, name } = req.params as Params;
      authorize(req.principal, ns!, 'editor');
      const b = req.body as { ip: string; port: number; cluster?: string; healthCheck?: Partial<HealthCheck> } & Record<string, unknown>;
      const instance = await svc.naming.registerInstance({
        namespace: ns!, group: group!, service: name!, ip: b.ip, port: b.port, cluster: b.cluster ?? DEFAULT_CLUSTER,
        weight: b.weight as number | undefined, enabled: b.enabled as boolean | undefined, healthy: b.healthy as boolean | undefined,
        ephemeral: b.ephemeral as boolean | undefined, metadata: b.metadata as Record<string, string> | undefined, healthCheck: b.healthCheck,
      });
      return reply.status(201).send(instance);
    });
    app.patch('/namespaces/:ns/instances/:id', {
      schema: { ...tag('instances'), params: { type: 'object', properties: { ns: { type: 'string' }, id: { type: 'string' } } }, body: S.instancePatch },
    }, async (req) => {
      const { ns, id } = req.params as Params;
      authorize(req.principal, ns!, 'editor');
      return svc.naming.patchInstance(ns!, id!, req.body as object);
    });
    app.delete('/namespaces/:ns/instances/:id', { schema: { ...tag('instances'), params: { type: 'object', properties: { ns: { type: 'string' }, id: { type: 'string' } } } } }, async (req, reply) => {
      const { ns, id } = req.params as Params;
      authorize(req.principal, ns!, 'editor');
      const i = await svc.naming.getInstanceById(ns!, id!);
      await svc.naming.deregisterInstance({ namespace: ns!, group: i.group, service: i.serviceName, ip: i.ip, port: i.port, cluster: i.cluster });
      return reply.status(204).send();
    });

    // ---- MCP servers and versions ----
    // Every answer holding a server or a spec goes through serverFor / specFor / versionFor: secrets only for those who may read them.
    const serverView = async (p: Principal, server: McpServer) => {
      const [versions, history] = await Promise.all([svc.store.listVersions(server.id), svc.store.listPublishHistory(server.id)]);
      const published = versions.find((v) => v.version === server.publishedVersion);
      return {
        ...serverFor(p, server), versions: versions.map(versionSummary), ...(published ? { spec: specFor(p, server.namespace, published.spec) } : {}),
        rollbackTarget: rollbackTarget(history, versions, server.publishedVersion) ?? null,
      };
    };
    app.get('/namespaces/:ns/mcp-servers', {
      schema: {
        ...tag('mcp-servers'), params: S.nsParams,
        querystring: {
          type: 'object',
          properties: { search: { type: 'string' }, protocol: { type: 'string' }, enabled: { type: 'boolean' }, sort: { type: 'string', enum: [...MCP_SERVER_SORTS], default: 'name' }, ...S.paging },
        },
      },
    }, async (req) => {
      const { ns } = req.params as Params;
      authorize(req.principal, ns!, 'viewer');
      const page = await svc.mcp.list(ns!, req.query as { sort: McpServerSort; pageNo: number; pageSize: number });
      // What the console's list shows beside each server: a pending draft, the tools served, the backend's health.
      const instances = page.items.some((m) => m.endpoint.type === 'service') ? await svc.store.listInstances({ namespace: ns! }) : [];
      const items = await Promise.all(page.items.map(async (m) => {
        const versions = await svc.store.listVersions(m.id);
        const drafts = versions.filter((v) => v.status === 'draft');
        const shown = versions.find((v) => v.version === m.publishedVersion) ?? versions[versions.length - 1];
        const e = m.endpoint;
        let health: { healthy: number; total: number } | null = null;
        if (e.type === 'service') {
          const mine = instances.filter((i) => i.group === e.group && i.serviceName === e.service);
          health = { healthy: mine.filter((i) => i.healthy && i.enabled).length, total: mine.length };
        }
        return {
          ...serverFor(req.principal, m), draftVersion: (drafts.find((v) => v.version === m.latestVersion) ?? drafts[drafts.length - 1])?.version ?? null,
          toolCount: shown?.spec.tools.length ?? 0, health,
        };
      }));
      return { ...page, items };
    });
    app.post('/namespaces/:ns/mcp-servers', { schema: { ...tag('mcp-servers'), summary: 'Create an MCP server with its first version', params: S.nsParams, body: S.serverBody } }, async (req, reply) => {
      const { ns } = req.params as Params;
      authorize(req.principal, ns!, 'editor');
      const b = req.body as Body;
      const { server, warnings } = await svc.mcp.create(ns!, { name: b.name as string, ...serverInput(b) }, specFrom(b, '1.0.0'), b.publish as boolean, publishBy(req), issuerCheck(req));
      return reply.status(201).send({ ...await serverView(req.principal, server), ...reportWarnings(req, server.name, warnings) });
    });
    importRoutes(app, svc, tag('mcp-servers'), (req, server) => serverView(req.principal, server), publishBy);
    app.get('/namespaces/:ns/mcp-servers/:name', { schema: { ...tag('mcp-servers'), params: S.serverParams } }, async (req) => {
      const { ns, name } = req.params as Params;
      authorize(req.principal, ns!, 'viewer');
      return serverView(req.principal, await svc.mcp.get(ns!, { name: name! }));
    });
    app.patch('/namespaces/:ns/mcp-servers/:name', { schema: { ...tag('mcp-servers'), summary: 'Change server-level fields', params: S.serverParams, body: S.serverPatch } }, async (req) => {
      const { ns, name } = req.params as Params;
      authorize(req.principal, ns!, 'editor');
      return serverView(req.principal, await svc.mcp.update(ns!, { name: name! }, serverInput(req.body as Body)));
    });
    app.delete('/namespaces/:ns/mcp-servers/:name', { schema: { ...tag('mcp-servers'), params: S.serverParams } }, async (req, reply) => {
      const { ns, name } = req.params as Params;
      authorize(req.principal, ns!, 'editor');
      await svc.mcp.delete(ns!, { name: name! });
      return reply.status(204).send();
    });
    app.post('/namespaces/:ns/virtual-preview', {
      schema: {
        ...tag('mcp-servers'), summary: 'The tools/list a virtual server would show (its members\' published versions), with the checks of a publish: docs/virtual-servers.md',
        params: S.nsParams, body: { type: 'object', additionalProperties: false, required: ['virtual'], properties: { name: { type: 'string', maxLength: 255 }, virtual: { type: 'object' } } },
      },
    }, async (req) => {
      const { ns } = req.params as Params;
      authorize(req.principal, ns!, 'viewer');
      const b = req.body as { name?: string; virtual: unknown };
      const preview = await previewVirtual(svc.store, ns!, b.name ?? '', b.virtual);
      // What the gateways report of the virtual server now (members down, run-time name clashes).
      const key = `${ns!}/${b.name ?? ''}`;
      const running = b.name ? (await gatewayDirectory(svc).list(0)).flatMap((g) => (g.virtualMembers ?? []).filter((m) => m.server === key).map(({ server: _server, ...m }) => ({ gateway: g.id, ...m }))) : [];
      return { ...preview, running };
    });
    app.get('/namespaces/:ns/mcp-servers/:name/versions', { schema: { ...tag('versions'), params: S.serverParams } }, async (req) => {
      const { ns, name } = req.params as Params;
      authorize(req.principal, ns!, 'viewer');
      const { server, versions } = await svc.mcp.listVersions(ns!, { name: name! });
      return { publishedVersion: server.publishedVersion, latestVersion: server.latestVersion, items: versions.map(versionSummary) };
    });
    app.get('/namespaces/:ns/mcp-servers/:name/versions/:version', {
      schema: { ...tag('versions'), summary: 'A version, with its entity-tag in the ETag header (and `etag`): send it as If-Match to change it', params: S.versionParams },
    }, async (req, reply) => {
      const { ns, name, version } = req.params as Params;
      authorize(req.principal, ns!, 'viewer');
      const v = (await svc.mcp.getVersion(ns!, { name: name! }, version!)).version;
      return reply.header('etag', v.etag).send(versionFor(req.principal, ns!, v));
    });
    app.put('/namespaces/:ns/mcp-servers/:name/versions/:version', {
      schema: {
        ...tag('versions'), summary: 'Create or change a draft version (publish: true to publish it); with If-Match, only over that entity-tag (else 412)',
        params: S.versionParams, body: S.versionBody,
      },
    }, async (req, reply) => {
      const { ns, name, version } = req.params as Params;
      authorize(req.principal, ns!, 'editor');
      const ifMatch = ifMatchOf(req);
      const b = req.body as Body;
      const spec = specFrom(b, version!);
      if (spec.version !== version) throw invalid('spec.version', `must match the version in the path ('${version}')`);
      const r = await svc.mcp.saveVersion(ns!, { name: name! }, serverInput((b.server as Body | undefined) ?? {}), spec, b.publish as boolean, publishBy(req), { ifMatch, ...issuerCheck(req) });
      return reply.header('etag', r.version.etag).send({ ...versionFor(req.principal, ns!, r.version), ...reportWarnings(req, r.server.name, r.warnings) });
    });
    app.delete('/namespaces/:ns/mcp-servers/:name/versions/:version', { schema: { ...tag('versions'), summary: 'Delete a version; with If-Match, only that entity-tag of it (else 412)', params: S.versionParams } }, async (req, reply) => {
      const { ns, name, version } = req.params as Params;
      authorize(req.principal, ns!, 'editor');
      await svc.mcp.deleteVersion(ns!, { name: name! }, version!, { ifMatch: ifMatchOf(req) });
      return reply.status(204).send();
    });
    const note = { type: 'string', maxLength: 1000 } as const;
    app.post('/namespaces/:ns/mcp-servers/:name/versions/:version/publish', {
      schema: {
        ...tag('versions'), summary: 'Publish a version (with an optional note for the publish history); with If-Match, only that entity-tag of it (else 412)',
        params: S.versionParams, body: { type: ['object', 'null'], additionalProperties: false, properties: { note } },
      },
    }, async (req) => {
      const { ns, name, version } = req.params as Params;
      authorize(req.principal, ns!, 'editor');
      return serverView(req.principal, (await svc.mcp.publish(ns!, { name: name! }, version!, publishBy(req), { ifMatch: ifMatchOf(req) })).server);
    });
    app.post('/namespaces/:ns/mcp-servers/:name/rollback', {
      schema: {
        ...tag('versions'), summary: 'Republish an earlier version: the one named, else the one served before the current one (never forward)',
        params: S.serverParams, body: { type: ['object', 'null'], additionalProperties: false, properties: { version: { type: 'string' }, note } },
      },
    }, async (req) => {
      const { ns, name } = req.params as Params;
      authorize(req.principal, ns!, 'editor');
      return serverView(req.principal, (await svc.mcp.rollback(ns!, { name: name! }, (req.body as { version?: string } | undefined)?.version, publishBy(req))).server);
    });
    app.get('/namespaces/:ns/mcp-servers/:name/history', {
      schema: { ...tag('versions'), summary: 'The publish history (newest first: who published which version, when, from which, why) and the rollback target', params: S.serverParams },
    }, async (req) => {
      const { ns, name } = req.params as Params;
      authorize(req.principal, ns!, 'viewer');
      const h = await svc.mcp.history(ns!, { name: name! });
      return {
        publishedVersion: h.server.publishedVersion, rollbackTarget: h.rollbackTarget,
        items: h.events.reverse().map(({ serverId: _s, ...e }) => e),
      };
    });
    app.get('/namespaces/:ns/mcp-servers/:name/versions/:version/revisions', {
      schema: {
        ...tag('versions'), params: S.versionParams,
        summary: 'The contents a version has had, by revision (a published version overwritten the Nacos way gets a new one); diff them with from/to = version@revision',
      },
    }, async (req) => {
      const { ns, name, version } = req.params as Params;
      authorize(req.principal, ns!, 'viewer');
      const r = await svc.mcp.revisions(ns!, { name: name! }, version!);
      return {
        version, current: r.current,
        items: r.revisions.map((x) => ({ revision: x.revision, ref: x.revision === r.current ? version : `${version}@${x.revision}`, createdAt: x.createdAt, actor: x.actor, toolCount: x.spec.tools.length })),
      };
    });
    app.get('/namespaces/:ns/mcp-servers/:name/diff', {
      schema: { ...tag('versions'), params: S.serverParams, querystring: { type: 'object', required: ['from', 'to'], properties: { from: { type: 'string' }, to: { type: 'string' } } } },
    }, async (req) => {
      const { ns, name } = req.params as Params;
      authorize(req.principal, ns!, 'viewer');
      const q = req.query as { from: string; to: string };
      return { from: q.from, to: q.to, changes: await svc.mcp.diff(ns!, { name: name! }, q.from, q.to, !canReadSecrets(req.principal, ns!)) };
    });

    // ---- gateway consumers (API keys) ----
    const consumerParams = { type: 'object', properties: { ns: { type: 'string' }, id: { type: 'string' } } } as const;
    // Entries are checked by ConsumerService (a `/` in a string entry is refused as ambiguous, naming the entry).
    const allow = {
      type: ['array', 'null'],
      description: 'null: every server of the namespace. Else entries {server} (the whole server) or {server, tools: [names]}; a plain string is a whole server whose name holds no "/".',
      items: {
        type: ['string', 'object'],
        properties: { server: { type: 'string' }, tools: { type: 'array', items: { type: 'string' } } },
      },
    } as const;
    app.get('/namespaces/:ns/consumers', { schema: { ...tag('consumers'), params: S.nsParams } }, async (req) => {
      const { ns } = req.params as Params;
      authorize(req.principal, ns!, 'viewer');
      return { items: await svc.consumers.list(ns!) };
    });
    app.post('/namespaces/:ns/consumers', {
      schema: { ...tag('consumers'), summary: 'Create a gateway API key; the key is in the answer only', params: S.nsParams, body: { type: 'object', additionalProperties: false, required: ['name'], properties: { name: { type: 'string' }, allow } } },
    }, async (req, reply) => {
      const { ns } = req.params as Params;
      authorize(req.principal, ns!, 'admin');
      const { key, consumer } = await svc.consumers.create(ns!, req.body as { name: string });
      return reply.status(201).send({ ...consumer, key });
    });
    app.put('/namespaces/:ns/consumers/:id', {
      schema: { ...tag('consumers'), params: consumerParams, body: { type: 'object', additionalProperties: false, properties: { allow } } },
    }, async (req) => {
      const { ns, id } = req.params as Params;
      authorize(req.principal, ns!, 'admin');
      return svc.consumers.update(ns!, id!, req.body as { allow?: unknown });
    });
    app.delete('/namespaces/:ns/consumers/:id', { schema: { ...tag('consumers'), params: consumerParams } }, async (req, reply) => {
      const { ns, id } = req.params as Params;
      authorize(req.principal, ns!, 'admin');
      await svc.consumers.delete(ns!, id!);
      return reply.status(204).send();
    });

    // ---- users and tokens ----
    app.get('/users', { schema: { ...tag('users') } }, async (req) => {
      requireGlobalAdmin(req.principal);
      return { items: await svc.auth.listUsers() };
    });
    app.post('/users', {
      schema: { ...tag('users'), body: { type: 'object', additionalProperties: false, required: ['username', 'password'], properties: { username: { type: 'string' }, password: { type: 'string' }, roles: { type: 'array' } } } },
    }, async (req, reply) => {
      requireGlobalAdmin(req.principal);
      return reply.status(201).send(await svc.auth.createUser(req.body as { username: string; password: string }));
    });
    app.put('/users/:username', {
      schema: {
        ...tag('users'),
        summary: 'Change roles (global admin) or a password; your own password needs currentPassword, and the answer then carries a new accessToken',
        body: { type: 'object', additionalProperties: false, properties: { password: { type: 'string' }, currentPassword: { type: 'string' }, roles: { type: 'array' } } },
      },
    }, async (req) => {
      const { username } = req.params as Params;
      const b = req.body as { password?: string; currentPassword?: string; roles?: unknown };
      const self = username === req.principal.username;
      // Users may change their own password; everything else is a global admin's.
      if (!(self && b.roles === undefined)) requireGlobalAdmin(req.principal);
      const user = await svc.auth.updateUser(username!, b, { username: req.principal.username, client: req.ip });
      // The new password revoked the caller's own token: hand them a fresh one.
      if (self && b.password !== undefined) {
        const { accessToken, tokenTtl } = await svc.auth.reissue(username!);
        return { ...user, accessToken, tokenTtl };
      }
      return user;
    });
    app.delete('/users/:username', { schema: { ...tag('users') } }, async (req, reply) => {
      requireGlobalAdmin(req.principal);
      await svc.auth.deleteUser((req.params as Params).username!);
      return reply.status(204).send();
    });
    app.get('/tokens', { schema: { ...tag('tokens'), summary: "The caller's API tokens (all, for a global admin)" } }, async (req) => ({
      items: await svc.auth.listApiTokens(req.principal.globalAdmin ? undefined : req.principal.username),
    }));
    app.post('/tokens', {
      schema: { ...tag('tokens'), summary: 'Create an API token; the secret is in the answer only', body: { type: 'object', additionalProperties: false, required: ['name'], properties: { name: { type: 'string' }, ttlDays: { type: 'integer' } } } },
    }, async (req, reply) => {
      const b = req.body as { name: string; ttlDays?: number };
      if (req.principal.username === 'anonymous') throw new AppError('FORBIDDEN', 'API tokens belong to users; turn registry auth on to create them');
      const { token, info } = await svc.auth.createApiToken(req.principal.username, b.name, b.ttlDays);
      return reply.status(201).send({ ...info, token });
    });
    app.delete('/tokens/:id', { schema: { ...tag('tokens') } }, async (req, reply) => {
      await svc.auth.revokeApiToken((req.params as Params).id!, req.principal.globalAdmin ? undefined : req.principal.username);
      return reply.status(204).send();
    });

    // ---- watch (gateways and other registry nodes) ----
    app.get('/watch/snapshot', { schema: { ...tag('watch'), summary: 'The published configuration at one revision (global admin or viewer of every namespace)' } }, async (req) => {
      requireGlobalViewer(req);
      return snapshotFor(req.principal, await svc.watch.snapshot());
    });
    app.get('/watch/changes', {
      schema: {
        ...tag('watch'),
        summary: 'Changes after a revision: long-poll JSON, or an SSE stream with Accept: text/event-stream',
        querystring: { type: 'object', required: ['after'], properties: { after: { type: 'integer', minimum: 0 }, timeoutMs: { type: 'integer', minimum: 0, maximum: 120000, default: 30000 } } },
      },
    }, async (req, reply) => {
      requireGlobalViewer(req);
      const q = req.query as { after: number; timeoutMs: number };
      const lastEventId = Number(req.headers['last-event-id']);
      const after = Number.isInteger(lastEventId) && lastEventId > q.after ? lastEventId : q.after;
      if ((req.headers.accept ?? '').includes('text/event-stream')) return streamChanges(req, reply, after);
      const first = await svc.watch.changesAfter(after);
      if (first.resync || first.changes.length > 0 || q.timeoutMs === 0) return first;
      const abort = new AbortController();
      req.raw.once('close', () => abort.abort());
      await svc.watch.waitForRevision(after, q.timeoutMs, abort.signal);
      return svc.watch.changesAfter(after);
    });

    // ---- audit log ----
    app.get('/audit', {
      schema: {
        ...tag('audit'),
        summary: 'Registry changes, newest first: who, when, from where, what (before and after, secrets redacted). Global admins read all, namespace admins their namespaces',
        querystring: {
          type: 'object', additionalProperties: false,
          properties: {
            namespace: { type: 'string', minLength: 1, maxLength: 128 }, actor: { type: 'string', minLength: 1, maxLength: 128 },
            entityType: { type: 'string', enum: ['namespace', 'service', 'instance', 'mcp_server', 'user', 'token', 'consumer'] },
            entityId: { type: 'string', minLength: 1, maxLength: 512 }, entityName: { type: 'string', minLength: 1, maxLength: 512 },
            action: { type: 'string', minLength: 1, maxLength: 64 }, since: { type: 'string', minLength: 1, maxLength: 64 },
            until: { type: 'string', minLength: 1, maxLength: 64 }, cursor: { type: 'string', minLength: 1, maxLength: 40 },
            limit: { type: 'integer', minimum: 1, maximum: AUDIT_PAGE_MAX, default: 50 },
          },
        },
      },
    }, async (req) => svc.audit.list(req.principal, req.query as AuditFilter));

    // ---- cluster ----
    app.get('/cluster', {
      schema: { ...tag('cluster'), summary: 'Registry nodes sharing this database, their state and the leader (global admin or viewer of every namespace)' },
    }, async (req) => {
      if (!req.principal.roles.some((r) => r.namespace === '*')) throw new AppError('FORBIDDEN', 'the cluster view needs a role on every namespace (*)');
      if (!svc.cluster) throw new AppError('ROUTE_NOT_FOUND', 'this process runs no registry cluster node');
      return svc.cluster.view();
    });

    function requireGlobalViewer(req: FastifyRequest): void {
      if (!req.principal.roles.some((r) => r.namespace === '*')) throw new AppError('FORBIDDEN', 'the watch API needs a role on every namespace (*)');
    }

    async function streamChanges(req: FastifyRequest, reply: FastifyReply, after: number): Promise<FastifyReply> {
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
      let cursor = after;
      let sending = false;
      let closed = false;
      const send = async () => {
        if (sending || closed) return;
        sending = true;
        try {
          for (;;) {
            const batch = await svc.watch.changesAfter(cursor);
            if (batch.resync) {
              res.write(`event: resync\nid: ${batch.revision}\ndata: ${JSON.stringify({ revision: batch.revision })}\n\n`);
              cursor = batch.revision;
              break;
            }
            if (batch.changes.length === 0) break;
            cursor = batch.revision;
            res.write(`event: changes\nid: ${batch.revision}\ndata: ${JSON.stringify(batch)}\n\n`);
          }
        } catch (err) {
          req.log.warn({ err }, 'watch stream read failed');
        } finally {
          sending = false;
        }
      };
      const onRevision = (r: number) => { if (r > cursor) void send(); };
      const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
      svc.feed.on('revision', onRevision);
      res.write(`retry: 1000\n\n`);
      void send();
      req.raw.once('close', () => {
        closed = true;
        clearInterval(keepAlive);
        svc.feed.off('revision', onRevision);
      });
      return reply;
    }
  };
}

