/**
 * The registry's one internal model. Every input format (native API, Nacos v1/v2/v3,
 * Higress YAML) converts into these types at the edge; the store persists them and the
 * gateway compiles them.
 */
import type { AuthorizationSettings } from './authorization.js';
import type { VirtualServerSpec } from './virtual.js';

/** The default service group, as in Nacos. */
export const DEFAULT_GROUP = 'DEFAULT_GROUP';
/** The default cluster of an instance, as in Nacos. */
export const DEFAULT_CLUSTER = 'DEFAULT';
/** The namespace that always exists. */
export const PUBLIC_NAMESPACE = 'public';

/** A tenant boundary: nothing crosses namespaces. */
export interface Namespace {
  id: string;
  name: string;
  description: string;
  createdAt: number;
  updatedAt: number;
}

/** A named backend service, holding instances of one kind (ephemeral or persistent). */
export interface Service {
  id: string;
  namespace: string;
  group: string;
  name: string;
  metadata: Record<string, string>;
  protectThreshold: number;
  selector: string;
  createdAt: number;
  updatedAt: number;
}

/** How the registry checks a persistent instance. */
export interface HealthCheck {
  type: 'tcp' | 'http' | 'none';
  /** Path of the HTTP GET (http only). */
  path: string;
  /** Port to check; the instance's port when 0. */
  port: number;
  intervalMs: number;
  timeoutMs: number;
  /** Consecutive successes that turn an unhealthy instance healthy. */
  healthyThreshold: number;
  /** Consecutive failures that turn a healthy instance unhealthy. */
  unhealthyThreshold: number;
}

/** Heartbeat timings, Nacos defaults; instances override them in metadata (`preserved.*`). */
export const BEAT_INTERVAL_MS = 5000;
export const BEAT_TIMEOUT_MS = 15000;
export const DELETE_TIMEOUT_MS = 30000;

/** The per-instance timing overrides Nacos reads from metadata, with defaults. */
export function beatTimings(metadata: Record<string, string>): { interval: number; timeout: number; deleteTimeout: number } {
  const read = (key: string, fallback: number) => {
    const v = Number(metadata[key]);
    return Number.isFinite(v) && v > 0 ? v : fallback;
  };
  return {
    interval: read('preserved.heart.beat.interval', BEAT_INTERVAL_MS),
    timeout: read('preserved.heart.beat.timeout', BEAT_TIMEOUT_MS),
    deleteTimeout: read('preserved.ip.delete.timeout', DELETE_TIMEOUT_MS),
  };
}

/** The default check of a persistent instance (Nacos checks persistent instances by TCP). */
export const DEFAULT_HEALTH_CHECK: HealthCheck = {
  type: 'tcp', path: '/', port: 0, intervalMs: 5000, timeoutMs: 3000, healthyThreshold: 1, unhealthyThreshold: 2,
};

/** Address of an instance within its service. */
export interface InstanceKey {
  namespace: string;
  group: string;
  service: string;
  ip: string;
  port: number;
  cluster: string;
}

/** The text of an instance's key, for maps and sets by address. */
export function instanceKeyId(k: InstanceKey): string {
  return `${k.namespace}\n${k.group}\n${k.service}\n${k.ip}\n${k.port}\n${k.cluster}`;
}

/** One address of a service. */
export interface Instance {
  id: string;
  namespace: string;
  serviceId: string;
  group: string;
  serviceName: string;
  ip: string;
  port: number;
  cluster: string;
  weight: number;
  enabled: boolean;
  healthy: boolean;
  ephemeral: boolean;
  metadata: Record<string, string>;
  healthCheck: HealthCheck | null;
  /** Last heartbeat (ephemeral) or last check (persistent), epoch ms. */
  lastBeat: number;
  /** Why the last health check of a persistent instance failed (absent when it passed or none ran yet). */
  healthDetail?: string;
  createdAt: number;
  updatedAt: number;
}

/** The backend kinds an MCP server can front. */
/** `virtual`: a server that gathers the tools of other servers of its namespace (`McpServerSpec.virtual`, model/virtual.ts). */
export const MCP_PROTOCOLS = ['http', 'https', 'mcp-streamable', 'mcp-sse', 'stdio', 'virtual'] as const;
/** A backend kind. */
export type McpProtocol = (typeof MCP_PROTOCOLS)[number];
/** What agents see. */
export const FRONT_PROTOCOLS = ['mcp-streamable', 'mcp-sse'] as const;
/** A front protocol. */
export type FrontProtocol = (typeof FRONT_PROTOCOLS)[number];

/**
 * Where an MCP server's backend is: a registered service, a direct address, or a URL.
 * `exportPath` (Nacos `remoteServerConfig.exportPath`) is the MCP path of an upstream MCP server
 * on each address (default `/mcp` for `mcp-streamable`, `/sse` for `mcp-sse`).
 */
export type Endpoint =
  | { type: 'service'; namespace: string; group: string; service: string; exportPath?: string }
  | { type: 'direct'; address: string; port: number; exportPath?: string }
  | { type: 'url'; url: string }
  | { type: 'none' };

/** Which of the agent's headers and cookies the gateway forwards to the backend. */
export interface CredentialPassthrough {
  headers: string[];
  cookies: string[];
}

/** A Higress security scheme (how a credential is carried). */
export interface SecurityScheme {
  id: string;
  type: 'http' | 'apiKey';
  /** For http: `bearer` or `basic`. */
  scheme?: string;
  /** For apiKey: where the key goes. */
  in?: 'header' | 'query' | 'cookie';
  /** For apiKey: the header, query or cookie name. */
  name?: string;
  defaultCredential?: string;
}

/** Where an argument goes in the backend request. */
export type ArgPosition = 'path' | 'query' | 'header' | 'cookie' | 'body';

/**
 * The credentials of a tool's backend call: Higress' upstream requirement
 * (`requestTemplate.security`) and downstream one (tool-level `security`) in one value.
 */
export interface RestSecurity {
  /** Scheme of the backend request's credential (and of the agent's, unless `clientId` names another). */
  id: string;
  /** The backend's credential when none is passed through; else the scheme's `defaultCredential`. */
  credential?: string;
  /** The agent's credential is taken from its request and forwarded to the backend by `id`'s scheme. */
  passthrough?: boolean;
  /** Scheme the agent's credential is taken by (and removed from what is forwarded), when it is not `id`'s or is only removed. */
  clientId?: string;
  /** `false`: the backend gets no credential; the agent's is only removed (a downstream requirement alone). */
  upstream?: false;
}

/** The REST mapping of a tool (Higress `requestTemplate` / `responseTemplate`). */
export interface RestTemplate {
  request: {
    url: string;
    method: string;
    headers: { key: string; value: string }[];
    body?: string;
    argsToUrlParam: boolean;
    argsToJsonBody: boolean;
    argsToFormBody: boolean;
    security?: RestSecurity;
  } | null;
  response: { body?: string; prependBody?: string; appendBody?: string };
  errorResponseTemplate?: string;
  argsPosition: Record<string, ArgPosition>;
  /**
   * Arguments whose values a `{{.args.x}}` in the URL path may place as a sub-path: `/` kept, and
   * `?`, `#`, `\`, `//`, control characters and `.`/`..` segments refused. Any other argument's
   * value printed in the path is percent-encoded as one segment.
   */
  subPathArgs?: string[];
  /** Per-call timeout, ms (default 30 000 in the gateway). */
  timeoutMs?: number;
}

/** A tool of an MCP server version. */
export interface Tool {
  name: string;
  title?: string;
  description: string;
  inputSchema: Record<string, unknown>;
  outputSchema?: Record<string, unknown>;
  annotations?: Record<string, unknown>;
  enabled: boolean;
  template: RestTemplate | null;
}

/** A prompt an MCP server offers. */
export interface Prompt {
  name: string;
  title?: string;
  description?: string;
  arguments: { name: string; description?: string; required?: boolean }[];
  /** Message templates, rendered with the prompt's arguments. */
  messages: { role: 'user' | 'assistant'; text: string }[];
}

/**
 * Which values of a spec the operator marks secret, besides those secret by their name or
 * place (see `domain/secrets.ts`): shown as `******` to readers without write access.
 */
export interface SecretDeclaration {
  /** Paths into `config`, dotted (`db.password`, `tenants.0.key`); everything under a path is secret. */
  config?: string[];
  /** Header names (any case) whose values are secret in every tool's request template. */
  headers?: string[];
}

/** The immutable content of one version of an MCP server. */
export interface McpServerSpec {
  version: string;
  description: string;
  config: Record<string, unknown>;
  securitySchemes: SecurityScheme[];
  tools: Tool[];
  prompts: Prompt[];
  /** Secrets the operator declares; a new version without it keeps the declaration of the version it replaces. */
  secrets?: SecretDeclaration;
  /** MCP authorization of this server's endpoint (OAuth resource server, token exchange, rate limits), over its namespace's. */
  authorization?: AuthorizationSettings;
  /** A virtual server's members, selection, naming and mode (protocol `virtual`; its `tools` stay empty). */
  virtual?: VirtualServerSpec;
}

/** Lifecycle of a version: drafts can change; published and archived ones cannot. */
export type VersionStatus = 'draft' | 'published' | 'archived';

/** One stored version of an MCP server. */
export interface McpServerVersion {
  serverId: string;
  version: string;
  status: VersionStatus;
  spec: McpServerSpec;
  createdAt: number;
  publishedAt: number | null;
  /**
   * A strong HTTP entity-tag (quotes included, `"…"`), new on every write of the version (save,
   * publish, archive): what `If-Match` is compared with.
   */
  etag: string;
  /**
   * Which content of the version this is: 1 as first saved; a published or archived version
   * overwritten the Nacos way (`PUT` of the same version) gets the next number, and a rollback
   * may bring back an earlier one. Every content is kept (`VersionRevision`).
   */
  revision: number;
}

/** One content a published or archived version has had (kept for good, for history, diff and rollback). */
export interface VersionRevision {
  serverId: string;
  version: string;
  revision: number;
  spec: McpServerSpec;
  createdAt: number;
  /** Who wrote it ('' when it predates revisions). */
  actor: string;
}

/** One difference between two versions' specs. */
export interface SpecChange {
  /** Where: `description`, `tools[get_weather].template.request.url` (tools and prompts by name, security schemes by id). */
  path: string;
  kind: 'added' | 'removed' | 'changed';
  /** The tool the change is in, when it is in one. */
  tool?: string;
  from?: unknown;
  to?: unknown;
}

/** What made a version the published one: a publish, or a rollback to an earlier version. */
/** `overwrite`: the served version's content replaced in place (Nacos `PUT` of the same version). */
export type PublishAction = 'publish' | 'rollback' | 'overwrite';

/** One entry of a server's publish history (kept for good: who published what, when, from which version). */
export interface PublishEvent {
  serverId: string;
  /** Position in the server's history: 1, 2, … */
  seq: number;
  action: PublishAction;
  /** The version published by this event. */
  version: string;
  /** The version served before it (null for the first publish). */
  previousVersion: string | null;
  /** The revision of `version` served by this event (absent in events recorded before revisions: 1). */
  revision?: number;
  /** The revision of `previousVersion` served before it (absent: 1). */
  previousRevision?: number;
  /** Who did it (the registry user; `anonymous` with auth off). */
  actor: string;
  /** Why, as the publisher wrote it ('' for none). */
  note: string;
  at: number;
}

/** An MCP server: identity and routing; its tools live in versions. */
export interface McpServer {
  id: string;
  namespace: string;
  name: string;
  description: string;
  protocol: McpProtocol;
  frontProtocol: FrontProtocol;
  endpoint: Endpoint;
  enabled: boolean;
  passthrough: CredentialPassthrough;
  /** The version agents are served, if any is published. */
  publishedVersion: string | null;
  /** The most recently created or updated version (may be a draft). */
  latestVersion: string | null;
  createdAt: number;
  updatedAt: number;
}

/** The server-level fields a caller sets (its tools live in versions). */
export interface McpServerInput {
  name: string;
  description?: string;
  protocol?: McpProtocol;
  frontProtocol?: FrontProtocol;
  endpoint?: Endpoint;
  enabled?: boolean;
  passthrough?: CredentialPassthrough;
}

/**
 * A role a user holds in a namespace (`*` for every namespace). `gateway` reads like `viewer`
 * and also reads secrets: it is the role of the API token a gateway follows the registry with.
 */
export type Role = 'admin' | 'editor' | 'viewer' | 'gateway';

/** Someone who manages the registry. */
export interface User {
  username: string;
  roles: { namespace: string; role: Role }[];
  createdAt: number;
}

/** A long-lived credential for automation; the secret itself is shown once at creation. */
export interface ApiToken {
  id: string;
  username: string;
  name: string;
  createdAt: number;
  expiresAt: number | null;
  lastUsedAt: number | null;
}

/**
 * One grant of a consumer's allow-list: a whole MCP server (`{server}`), or some of its tools
 * (`{server, tools}`). Structured because server names may contain `/` (`io.github.acme/weather`),
 * so a `server/tool` string could name either a server or a tool of another server.
 */
export interface AllowEntry {
  server: string;
  /** The tools allowed; absent allows every tool of the server. Never empty. */
  tools?: string[];
}

/**
 * Who may call the gateway in a namespace: an API key (stored as a SHA-256 hash), optionally
 * limited to some servers or some of their tools.
 */
export interface Consumer {
  id: string;
  namespace: string;
  name: string;
  keyHash: string;
  /** The first characters of the key, to recognise it in listings. */
  keyPrefix: string;
  /** What the key may use, one entry per server; null allows every server of the namespace. */
  allow: AllowEntry[] | null;
  createdAt: number;
  /** When a gateway last let the key in (epoch ms, reported by gateways; null: never, as far as the registry heard). */
  lastUsedAt?: number | null;
}

/** What a change-log entry is about. */
export type ChangeEntity = 'namespace' | 'service' | 'instance' | 'mcp_server' | 'user' | 'token' | 'consumer';

/** One row of the change log: what changed at a revision. */
export interface Change {
  revision: number;
  namespace: string;
  entity: ChangeEntity;
  entityId: string;
  op: 'upsert' | 'delete';
  at: number;
}

/** Who made a registry change: a user (logged in), an API token, anyone (auth off), or the registry itself. */
export interface AuditActor {
  kind: 'user' | 'token' | 'anonymous' | 'system';
  /** The user name (the token's owner for a token); `anonymous` or `system` otherwise. */
  name: string;
  /** The API token's id, for `token`. */
  tokenId?: string;
}

/** What an audit entry is about. */
export type AuditEntity = ChangeEntity;

/** One recorded registry change: who, when, from where, what, before and after (secrets redacted). */
export interface AuditEntry {
  /** The revision the change committed as; with `seq`, the entry's place in the total order. */
  revision: number;
  seq: number;
  /** Epoch ms. */
  at: number;
  /** The namespace changed, or `*` for users and tokens. */
  namespace: string;
  actor: AuditActor;
  /** The client address the request came from (none for the registry's own changes). */
  address: string | null;
  /** The API route that made the change (`PUT /api/v1/namespaces/:ns/mcp-servers/:name/versions/:version`). */
  route: string | null;
  /** `<entity>.<verb>`: `mcp_server.create`, `version.publish`, `instance.expire`… */
  action: string;
  entity: AuditEntity;
  entityId: string;
  /** A name people recognise (server name, `group@@service`, `ip:port`, user name…). */
  entityName: string;
  before: unknown;
  after: unknown;
  /** Paths of secret values that changed (their values are redacted on both sides). */
  secretsChanged: string[];
}

/** A page of a listing. */
export interface Page<T> {
  total: number;
  pageNo: number;
  pageSize: number;
  items: T[];
}
