/**
 * The official MCP Registry read API (`/v0.1`), serving the registry's published MCP servers
 * with `remotes` pointing at the gateway, so that MCP clients and sub-registries that browse a
 * registry find them:
 *
 * - `GET /v0.1/servers?cursor&limit&search&updated_since&version` → `{servers, metadata}`
 * - `GET /v0.1/servers/{name}/versions` → every version ever published, newest first
 * - `GET /v0.1/servers/{name}/versions/{version|latest}` → one
 *
 * A server's name here is its own when it is registry-shaped (`io.example/weather`, in
 * `public`), else `<prefix>/<name>` (`<prefix>.<namespace>/<name>` outside `public`). The
 * version the gateway serves is `active` and `isLatest`; versions published before it are
 * `deprecated` (the gateway no longer serves them). Drafts and disabled servers are not shown.
 * Errors answer as the official registry's (RFC 9457 problem JSON, with `code` and `field`).
 */
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, invalid } from '../../../lib/errors.js';
import type { McpServer, McpServerVersion } from '../../../model/model.js';
import { PUBLIC_NAMESPACE } from '../../../model/model.js';
import { REGISTRY_NAME } from '../../../model/convert/server-json.js';
import { canSee } from '../../domain/auth.js';
import type { Principal } from '../../domain/auth.js';
import type { RegistryServices } from '../../services.js';
import { gatewayDirectory } from '../console/gateways.js';
import { toAppError } from '../errors.js';

/** How the MCP Registry API names servers and where it says the gateway is. */
export interface McpRegistryOptions {
  /** Readable without a credential (`mcpRegistryPublic`). */
  public?: boolean;
  /** The gateway's origin as agents reach it (`publicGatewayUrl`). */
  publicGatewayUrl?: string;
  /** The gateway port, when the origin is the request's host (default 8080). */
  gatewayPort?: number;
  /** Reverse-DNS namespace of names that are not registry-shaped (`mcpRegistryNamePrefix`). */
  namePrefix?: string;
}

/** The `$schema` of the entries served (the server.json schema they follow). */
export const SERVER_SCHEMA = 'https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json';
const OFFICIAL = 'io.modelcontextprotocol.registry/official';
/** Where mcpgate says which registry server an entry is. */
const OWN_META = 'io.mcpgate/registry';
const DEFAULT_LIMIT = 30;
const MAX_LIMIT = 100;
const DESCRIPTION_MAX = 100;

/** The default name prefix: the public gateway host reversed (`mcp.example.com` → `com.example.mcp`), else `local.mcpgate`. */
export function defaultNamePrefix(publicGatewayUrl: string | undefined): string {
  if (publicGatewayUrl) {
    try {
      const host = new URL(publicGatewayUrl).hostname;
      if (/^[a-zA-Z0-9-]+(\.[a-zA-Z0-9-]+)+$/.test(host) && !/^\d+(\.\d+)+$/.test(host)) return host.split('.').reverse().join('.');
    } catch {
      // the config schema checked it; fall through
    }
  }
  return 'local.mcpgate';
}

/** The name a server has in the MCP Registry API. */
export function registryNameOf(namespace: string, name: string, prefix: string): string {
  if (namespace === PUBLIC_NAMESPACE && REGISTRY_NAME.test(name)) return name;
  const ns = namespace === PUBLIC_NAMESPACE ? prefix : `${prefix}.${namespace.replace(/[^a-zA-Z0-9-]/g, '-')}`;
  return `${ns}/${name.replace(/\//g, '.').replace(/[^a-zA-Z0-9._-]/g, '-')}`;
}

/** One entry: a published (or once published) version of a server, under its registry name. */
interface Entry {
  registryName: string;
  server: McpServer;
  version: McpServerVersion;
  isLatest: boolean;
  /** Secured namespaces need a consumer key: the remotes say so. */
  keyRequired: boolean;
}

function iso(ms: number | null): string | undefined {
  return ms === null ? undefined : new Date(ms).toISOString();
}

function shorten(text: string): string {
  const one = text.replace(/\s+/g, ' ').trim();
  if (one === '') return 'MCP server';
  return one.length <= DESCRIPTION_MAX ? one : `${one.slice(0, DESCRIPTION_MAX - 1)}…`;
}

/** The cursor after an entry: opaque to clients (base64url of the name and version). */
function cursorOf(e: Entry): string {
  return Buffer.from(JSON.stringify([e.registryName, e.version.version]), 'utf8').toString('base64url');
}

function readCursor(cursor: string): [string, string] {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid('cursor', 'is not a cursor this registry gave (use metadata.nextCursor as it is)');
  }
  if (!Array.isArray(value) || value.length !== 2 || typeof value[0] !== 'string' || typeof value[1] !== 'string') {
    throw invalid('cursor', 'is not a cursor this registry gave (use metadata.nextCursor as it is)');
  }
  return [value[0], value[1]];
}

function parseSince(value: string): number {
  // RFC 3339: a date, a time and an offset (Z or ±hh:mm).
  if (!/^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/.test(value)) {
    throw invalid('updated_since', 'must be an RFC 3339 timestamp such as 2025-08-07T13:15:04.280Z');
  }
  const ms = Date.parse(value);
  if (!Number.isFinite(ms)) throw invalid('updated_since', 'must be an RFC 3339 timestamp such as 2025-08-07T13:15:04.280Z');
  return ms;
}

/** Problem JSON as the official registry answers errors, plus mcpgate's code and field. */
function sendProblem(reply: FastifyReply, err: unknown): FastifyReply {
  const e = toAppError(err);
  const title = e.status === 400 ? 'Bad Request' : e.status === 401 ? 'Unauthorized' : e.status === 403 ? 'Forbidden' : e.status === 404 ? 'Not Found' : e.status >= 500 ? 'Internal Server Error' : 'Error';
  if (e.code === 'UNAUTHORIZED') reply.header('www-authenticate', 'Bearer realm="mcpgate"');
  return reply.status(e.status).type('application/problem+json').send({
    title, status: e.status, detail: e.message, code: e.code, ...(e.field ? { field: e.field, errors: [{ location: `query.${e.field}`, message: e.message }] } : {}),
  });
}

/**
 * A read of the public MCP Registry API with no credential: any site may make it (browsers that
 * browse registries), so the Origin and Host rules do not apply and the answer allows any origin.
 */
export function isAnonymousRegistryRead(req: FastifyRequest): boolean {
  const q = req.query as Record<string, unknown> | undefined;
  return (req.method === 'GET' || req.method === 'HEAD') && req.url.startsWith('/v0.1/')
    && req.headers.authorization === undefined && req.headers.accesstoken === undefined && q?.accessToken === undefined;
}

/** The `/v0.1` routes (mounted at the root of the registry port). */
export function mcpRegistryRoutes(svc: RegistryServices, opts: McpRegistryOptions = {}): FastifyPluginAsync {
  const prefix = opts.namePrefix ?? defaultNamePrefix(opts.publicGatewayUrl);
  return async (app: FastifyInstance) => {
    app.setErrorHandler((err, _req, reply) => sendProblem(reply, err));
    if (opts.public) {
      app.addHook('onSend', async (req, reply) => {
        if (isAnonymousRegistryRead(req)) reply.header('access-control-allow-origin', '*');
      });
    }
    app.addHook('onRoute', (route) => {
      route.config = { auth: 'public', ...(route.config ?? {}) } as typeof route.config;
    });

    /** Which namespaces the caller reads: all of them without a credential when the API is public. */
    const visible = (req: FastifyRequest): ((ns: string) => boolean) => {
      const p = req.principal as Principal | null;
      if (!p) {
        if (!opts.public) throw new AppError('UNAUTHORIZED', 'log in first: send Authorization: Bearer <token> (or set mcpRegistryPublic to serve this API without credentials)');
        return () => true;
      }
      return (ns) => canSee(p, ns);
    };

    const gatewayUrl = (req: FastifyRequest): string => {
      if (opts.publicGatewayUrl) return opts.publicGatewayUrl.replace(/\/+$/, '');
      const host = req.hostname.includes(':') && !req.hostname.startsWith('[') ? `[${req.hostname}]` : req.hostname;
      return `${req.protocol}://${host}:${gatewayDirectory(svc).localPort() ?? opts.gatewayPort ?? 8080}`;
    };

    /** Every entry, sorted by name then the served version, then newest published; kept while the revision stays. */
    let cache: { revision: number; entries: Entry[] } | undefined;
    const load = async (): Promise<Entry[]> => {
      const out: Entry[] = [];
      for (let pageNo = 1; ; pageNo++) {
        const page = await svc.store.listMcpServers(undefined, { pageNo, pageSize: 1000, enabled: true });
        for (const server of page.items) {
          if (!server.publishedVersion) continue;
          const versions = await svc.store.listVersions(server.id);
          const name = registryNameOf(server.namespace, server.name, prefix);
          for (const v of versions) {
            if (v.status === 'draft' || v.publishedAt === null) continue;
            out.push({ registryName: name, server, version: v, isLatest: v.version === server.publishedVersion, keyRequired: false });
          }
        }
        if (pageNo * 1000 >= page.total) break;
      }
      const secured = new Set<string>();
      for (const ns of new Set(out.map((e) => e.server.namespace))) {
        if ((await svc.store.listConsumers(ns)).length > 0) secured.add(ns);
      }
      for (const e of out) e.keyRequired = secured.has(e.server.namespace);
      return out.sort((a, b) => (a.registryName < b.registryName ? -1 : a.registryName > b.registryName ? 1
        : Number(b.isLatest) - Number(a.isLatest) || (b.version.publishedAt ?? 0) - (a.version.publishedAt ?? 0)));
    };
    /** The entries the caller may see. */
    const entries = async (req: FastifyRequest): Promise<Entry[]> => {
      const can = visible(req);
      // Read before loading: a write while loading makes the next request load again.
      const revision = svc.feed.revision;
      let all = cache && revision > 0 && cache.revision === revision ? cache.entries : undefined;
      if (!all) {
        all = await load();
        cache = { revision, entries: all };
      }
      return all.filter((e) => can(e.server.namespace));
    };

    const render = (req: FastifyRequest, e: Entry) => {
      const base = `${gatewayUrl(req)}/mcp/${encodeURIComponent(e.server.namespace)}/${e.server.name.split('/').map(encodeURIComponent).join('/')}`;
      const headers = e.keyRequired
        ? [{ name: 'Authorization', description: 'Bearer <mcpgate consumer key> (or send the key as X-API-Key)', isRequired: true, isSecret: true }]
        : undefined;
      const status = e.isLatest ? 'active' : 'deprecated';
      return {
        server: {
          $schema: SERVER_SCHEMA,
          name: e.registryName,
          description: shorten(e.version.spec.description || e.server.description),
          title: e.server.name.slice(0, 100),
          version: e.version.version,
          remotes: [
            { type: 'streamable-http', url: base, ...(headers ? { headers } : {}) },
            { type: 'sse', url: `${base}/sse`, ...(headers ? { headers } : {}) },
          ],
        },
        _meta: {
          [OFFICIAL]: {
            status,
            ...(e.isLatest ? {} : { statusMessage: `superseded: the gateway serves version ${e.server.publishedVersion ?? ''}` }),
            publishedAt: iso(e.version.publishedAt), updatedAt: iso(Math.max(e.server.updatedAt, e.version.publishedAt ?? 0)), isLatest: e.isLatest,
          },
          [OWN_META]: { namespace: e.server.namespace, server: e.server.name, toolCount: e.version.spec.tools.filter((t) => t.enabled).length },
        },
      };
    };

    app.get('/v0.1/servers', {
      schema: {
        querystring: {
          type: 'object',
          properties: {
            cursor: { type: 'string', maxLength: 2048 },
            limit: { type: 'integer', minimum: 1, maximum: MAX_LIMIT, default: DEFAULT_LIMIT },
            search: { type: 'string', maxLength: 256 },
            updated_since: { type: 'string', maxLength: 64 },
            version: { type: 'string', maxLength: 256 },
            include_deleted: { type: 'boolean' },
          },
        },
      },
    }, async (req) => {
      const q = req.query as { cursor?: string; limit: number; search?: string; updated_since?: string; version?: string };
      const after = q.cursor !== undefined && q.cursor !== '' ? readCursor(q.cursor) : undefined;
      const since = q.updated_since !== undefined && q.updated_since !== '' ? parseSince(q.updated_since) : undefined;
      const search = q.search?.toLowerCase();
      let list = await entries(req);
      if (search) list = list.filter((e) => e.registryName.toLowerCase().includes(search));
      if (since !== undefined) list = list.filter((e) => Math.max(e.server.updatedAt, e.version.publishedAt ?? 0) >= since);
      if (q.version === 'latest') list = list.filter((e) => e.isLatest);
      else if (q.version) list = list.filter((e) => e.version.version === q.version);
      if (after) {
        const i = list.findIndex((e) => e.registryName === after[0] && e.version.version === after[1]);
        // The entry the cursor names may be gone: continue after where it would be.
        list = i >= 0 ? list.slice(i + 1) : list.filter((e) => e.registryName > after[0]);
      }
      const page = list.slice(0, q.limit);
      const last = page[page.length - 1];
      return {
        servers: page.map((e) => render(req, e)),
        metadata: { count: page.length, ...(list.length > page.length && last ? { nextCursor: cursorOf(last) } : {}) },
      };
    });

    const byName = async (req: FastifyRequest, name: string): Promise<Entry[]> => {
      const found = (await entries(req)).filter((e) => e.registryName === name);
      if (found.length === 0) throw new AppError('MCP_SERVER_NOT_FOUND', `server ${JSON.stringify(name)} not found`);
      return found;
    };
    const nameParams = { type: 'object', properties: { name: { type: 'string', minLength: 1, maxLength: 512 }, version: { type: 'string', minLength: 1, maxLength: 256 } } } as const;

    app.get('/v0.1/servers/:name/versions', { schema: { params: nameParams } }, async (req) => {
      const { name } = req.params as { name: string };
      const found = await byName(req, name);
      return { servers: found.map((e) => render(req, e)), metadata: { count: found.length } };
    });
    app.get('/v0.1/servers/:name/versions/:version', { schema: { params: nameParams } }, async (req) => {
      const { name, version } = req.params as { name: string; version: string };
      const found = await byName(req, name);
      const e = version === 'latest' ? found.find((x) => x.isLatest) : found.find((x) => x.version.version === version);
      if (!e) throw new AppError('VERSION_NOT_FOUND', `server ${JSON.stringify(name)} has no published version ${JSON.stringify(version)}`);
      return render(req, e);
    });
  };
}
