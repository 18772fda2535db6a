import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { validateAuthorization } from '../model/authorization.js';
import type { AuthorizationSettings } from '../model/authorization.js';

/** Which process is starting: the defaults of some options depend on it. */
export type RoleName = 'serve' | 'registry' | 'gateway';

const bool = z.union([z.boolean(), z.enum(['true', 'false', '1', '0', 'yes', 'no', 'on', 'off']).transform((v) => ['true', '1', 'yes', 'on'].includes(v))]);
const port = z.coerce.number().int().min(0).max(65535);
const list = z.union([z.array(z.string()), z.string().transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean))]);

/** An IP address, a CIDR range, or one of the names of ranges proxy-addr knows (loopback, linklocal, uniquelocal). */
function isProxyRange(entry: string): boolean {
  if (['loopback', 'linklocal', 'uniquelocal'].includes(entry)) return true;
  const [address = '', prefix, ...rest] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  return prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128));
}

/**
 * Every configuration option, declared once: its key in the YAML file, its environment
 * variable, its command-line flag, its type and its documentation (docs/configuration.md
 * is checked against this table by a test).
 */
export const OPTIONS = [
  { key: 'host', env: 'MCPGATE_HOST', flag: '--host <address>', schema: z.string().min(1), doc: 'Address to listen on. Default 127.0.0.1 for `serve`, 0.0.0.0 for `registry` and `gateway`.' },
  { key: 'registryPort', env: 'MCPGATE_REGISTRY_PORT', flag: '--registry-port <port>', schema: port, doc: 'Registry port (native, Nacos-compatible and MCP Registry APIs, console). Default 8848.' },
  { key: 'grpcPort', env: 'MCPGATE_GRPC_PORT', flag: '--grpc-port <port>', schema: z.union([z.literal('off'), port]), doc: 'Registry: the Nacos gRPC port, where Nacos 2.x/3.x clients (Java, Go, Python) and Higress connect (naming, MCP config reads, the Nacos 3.1 AI requests; see docs/nacos-grpc.md). Default: the registry port + 1000 (9848 with the default 8848), as Nacos clients expect; `off` turns it off.' },
  { key: 'gatewayPort', env: 'MCPGATE_GATEWAY_PORT', flag: '--gateway-port <port>', schema: port, doc: 'Gateway port (MCP endpoints for agents). Default 8080.' },
  { key: 'dataDir', env: 'MCPGATE_DATA_DIR', flag: '--data-dir <path>', schema: z.string().min(1), doc: 'Directory for the SQLite database and caches. Default ./data.' },
  { key: 'db', env: 'MCPGATE_DB', flag: '--db <url>', secret: true, schema: z.string().regex(/^(sqlite:|postgres(ql)?:\/\/|mysql:\/\/|mariadb:\/\/)/, 'must start with sqlite:, postgres://, postgresql://, mysql:// or mariadb://'), doc: 'Registry database URL: `sqlite:PATH`, `postgres://…` or `mysql://…`. Default `sqlite:<dataDir>/mcpgate.db`.' },
  { key: 'logLevel', env: 'MCPGATE_LOG_LEVEL', flag: '--log-level <level>', schema: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']), doc: 'Log level (pino). Default info.' },
  { key: 'auth.enabled', env: 'MCPGATE_AUTH_ENABLED', flag: '--auth <bool>', schema: bool, doc: 'Require login on the registry APIs. Default: off for `serve` bound to a loopback address, on otherwise.' },
  { key: 'auth.adminUsername', env: 'MCPGATE_ADMIN_USERNAME', flag: '--admin-username <name>', schema: z.string().min(1), doc: 'Name of the first admin, created when the registry has no users. Default admin.' },
  { key: 'auth.adminPassword', env: 'MCPGATE_ADMIN_PASSWORD', flag: undefined, secret: true, schema: z.string().min(8), doc: 'Password of the first admin (environment or file only). When unset, one is generated and printed once.' },
  { key: 'auth.gatewayToken', env: 'MCPGATE_GATEWAY_TOKEN', flag: undefined, secret: true, schema: z.string().regex(/^mgt_[A-Za-z0-9_-]{32,512}$/, 'must be mgt_ followed by 32 to 512 of A-Z a-z 0-9 _ -'), doc: 'Registry: an API token for the gateways, provisioned at start (a deployment\'s Secret gives the same value to the registries and, as `registryToken`, to the gateways): the registry makes sure a user `gateway` with the `gateway` role on `*` holds a token with this value. `mgt_` and 32 or more of `A-Z a-z 0-9 _ -`, e.g. `mgt_$(openssl rand -hex 24)`. Revoking it in the console lasts until the next start with it: remove it from the configuration too.' },
  { key: 'auth.tokenTtlSeconds', env: 'MCPGATE_TOKEN_TTL_SECONDS', flag: undefined, schema: z.coerce.number().int().min(60), doc: 'Lifetime of login access tokens, seconds. Default 18000 (as Nacos).' },
  { key: 'auth.loginFreeFailures', env: 'MCPGATE_LOGIN_FREE_FAILURES', flag: undefined, schema: z.coerce.number().int().min(1).max(1000), doc: 'Login throttling: wrong passwords one user may enter from one address before attempts are slowed down (then 1 s, doubling); an address trying many users, and a user tried from many addresses, get 4 times as many. Default 5.' },
  { key: 'auth.loginMaxDelaySeconds', env: 'MCPGATE_LOGIN_MAX_DELAY_SECONDS', flag: undefined, schema: z.coerce.number().int().min(1), doc: 'Login throttling: the longest wait imposed on a user at an address or on an address, seconds (a user tried from many addresses waits at most a minute). Default 900.' },
  { key: 'trustedProxies', env: 'MCPGATE_TRUSTED_PROXIES', flag: '--trusted-proxies <addresses>', schema: list.refine((xs) => xs.every(isProxyRange), 'each entry must be an IP address or a CIDR range (10.0.0.0/8)'), doc: 'Registry: addresses or CIDR ranges of the reverse proxies in front of it, comma-separated (`10.0.0.0/8`, `127.0.0.1`); the client address of a request from one of them is taken from `X-Forwarded-For` (login throttling, logs). Default none: the connection\'s address.' },
  { key: 'bodyLimitBytes', env: 'MCPGATE_BODY_LIMIT_BYTES', flag: undefined, schema: z.coerce.number().int().min(1024), doc: 'Largest request body the registry accepts. Default 1048576 (1 MiB).' },
  { key: 'revisionPollMs', env: 'MCPGATE_REVISION_POLL_MS', flag: undefined, schema: z.coerce.number().int().min(50), doc: 'How often a registry node polls the database for writes of other nodes, ms. Default 500.' },
  { key: 'changeLogRetention', env: 'MCPGATE_CHANGE_LOG_RETENTION', flag: undefined, schema: z.coerce.number().int().min(100), doc: 'How many revisions of change log to keep for watchers that reconnect. Default 100000.' },
  { key: 'auditRetentionDays', env: 'MCPGATE_AUDIT_RETENTION_DAYS', flag: undefined, schema: z.coerce.number().int().min(0), doc: 'How long the audit log keeps an entry, days; the leader prunes older entries every minute. 0 keeps entries forever. Default 90.' },
  { key: 'leaderLockTtlMs', env: 'MCPGATE_LEADER_LOCK_TTL_MS', flag: undefined, schema: z.coerce.number().int().min(1000), doc: 'Registry cluster: lease of the leader lock, ms. One node at a time (the holder of a database lock) runs ephemeral expiry, health checks and pruning, renewing its lease every second (every TTL/3 when shorter). A leader that dies loses the lock with its database connection and another node takes over within about a second; one that hangs or is cut off stops calling itself leader when its lease runs out, and another node then ends its database session and takes over, within this TTL plus a second. Default 10000.' },
  { key: 'nodeHeartbeatMs', env: 'MCPGATE_NODE_HEARTBEAT_MS', flag: undefined, schema: z.coerce.number().int().min(100), doc: 'Registry cluster: how often a node refreshes its row in `mg_nodes`, ms; `/api/v1/cluster` shows a node as alive while it was seen within 3 intervals. Default 3000.' },
  { key: 'nodeRetentionSeconds', env: 'MCPGATE_NODE_RETENTION_SECONDS', flag: undefined, schema: z.coerce.number().int().min(60), doc: 'Registry cluster: rows of nodes not seen for this long are deleted by the leader, seconds. Default 86400.' },
  { key: 'publicGatewayUrl', env: 'MCPGATE_PUBLIC_GATEWAY_URL', flag: '--public-gateway-url <url>', schema: z.string().regex(/^https?:\/\/[^/]+\/?$/, 'must be an http:// or https:// origin, such as https://mcp.example.com'), doc: 'The gateway\'s address as agents reach it (`https://mcp.example.com`). Registry: what the console puts in agent URLs and client configurations (default: the host the console was opened on, with the gateway port). Gateway: the origin of the OAuth resource URIs (token audiences) and Protected Resource Metadata URLs of endpoints that take access tokens (default: the request\'s Host, over http unless the gateway serves TLS itself); set it behind a proxy or load balancer.' },
  { key: 'registries', env: 'MCPGATE_REGISTRIES', flag: '--registry <urls>', schema: list, doc: 'Gateway role: registry base URLs to follow, comma-separated. Each gateway prefers one by rendezvous hashing of its id (so gateways spread over the registries), fails over to the next in its order, and moves back once the preferred one is ready (docs/operations.md#gateways-across-registry-nodes).' },
  { key: 'registryToken', env: 'MCPGATE_REGISTRY_TOKEN', flag: undefined, secret: true, schema: z.string().min(1), doc: 'Gateway role: API token used to read the registry watch API. Its user needs a role on `*`; only the `gateway` role (or `editor`/`admin`) receives the servers\' credentials, a `viewer` token gets `******` in their place.' },
  { key: 'gatewayConfig', env: 'MCPGATE_GATEWAY_CONFIG', flag: '--definitions <path>', schema: z.string().min(1), doc: 'Gateway role: a Higress-format server definition file, or a directory of them (one server per file), served at `/mcp/public/{name}` instead of a registry\'s configuration and reloaded on change. (`--config` only ever takes an mcpgate configuration file: given definitions, it stops with a message naming `--definitions`.)' },
  { key: 'registryGraceSeconds', env: 'MCPGATE_REGISTRY_GRACE_SECONDS', flag: undefined, schema: z.coerce.number().min(0), doc: 'Gateway following registries: `/readyz` answers 503 once no registry has answered for this long, seconds (the gateway still serves its last snapshot to whoever reaches it, but a load balancer sends traffic to the replicas that follow the control plane). Covers a registry\'s restart and the fail-over to another. 0: at once. Default 10.' },
  { key: 'sessionEncryptionKey', env: 'MCPGATE_SESSION_KEY', flag: undefined, secret: true, schema: z.string().min(16), doc: 'Gateway with Redis: secret from which the key that encrypts forwarded credentials in Redis is derived; the same on every replica. When unset, a random key is kept in Redis itself (protects against partial exposure only): set it in production.' },
  { key: 'allowedOrigins', env: 'MCPGATE_ALLOWED_ORIGINS', flag: '--allowed-origins <origins>', schema: list, doc: 'Browser origins allowed to call the registry APIs and the MCP endpoints besides the server\'s own origin (and, on the gateway, loopback origins such as a local MCP Inspector), comma-separated, e.g. `https://app.example.com`. Requests from other origins get 403.' },
  { key: 'allowedHosts', env: 'MCPGATE_ALLOWED_HOSTS', flag: '--allowed-hosts <names>', schema: list, doc: 'Host names the registry and gateway answer to besides their bound address (DNS rebinding protection), comma-separated; `*.example.com` matches subdomains, `*` any name. Bound to loopback, only `localhost` and loopback IP literals are accepted unless listed here; bound elsewhere, requests from browsers must name the bound address, the machine\'s name or a listed host. When set, every request must.' },
  { key: 'sessionIdleSeconds', env: 'MCPGATE_SESSION_IDLE_SECONDS', flag: undefined, schema: z.coerce.number().int().min(10), doc: 'Gateway: idle MCP sessions are ended after this many seconds. Default 1800.' },
  { key: 'maxSessions', env: 'MCPGATE_MAX_SESSIONS', flag: undefined, schema: z.coerce.number().int().min(1), doc: 'Gateway: most MCP sessions (2025 Streamable HTTP and legacy SSE) held at once; with Redis, across all replicas. At the cap, the least recently used session idle for `sessionEvictIdleSeconds` is ended to make room; when none is, a new session is refused with 503 `SESSION_CAPACITY`. Default 10000.' },
  { key: 'maxSessionsPerKey', env: 'MCPGATE_MAX_SESSIONS_PER_KEY', flag: undefined, schema: z.coerce.number().int().min(0), doc: 'Gateway: most sessions one consumer key may hold (across replicas with Redis); one more is refused with 429 `SESSION_LIMIT`. 0: no cap. Default 1000.' },
  { key: 'maxSessionsPerAddress', env: 'MCPGATE_MAX_SESSIONS_PER_ADDRESS', flag: undefined, schema: z.coerce.number().int().min(0), doc: 'Gateway: most sessions one client address may hold (429 `SESSION_LIMIT` beyond). Behind a load balancer every client has its address: raise it or set 0 (no cap). Default 1000.' },
  { key: 'sessionEvictIdleSeconds', env: 'MCPGATE_SESSION_EVICT_IDLE_SECONDS', flag: undefined, schema: z.coerce.number().int().min(0), doc: 'Gateway: a session unused for this long may be ended to make room for a new one at `maxSessions` (sessions with an open stream are used every keep-alive). Default 60.' },
  { key: 'sessionInfoMaxBytes', env: 'MCPGATE_SESSION_INFO_MAX_BYTES', flag: undefined, schema: z.coerce.number().int().min(256), doc: 'Gateway: most bytes of `clientInfo` (name, version, title: nothing else is kept) and `capabilities` a session keeps from its `initialize`; a larger one is refused (`SESSION_INFO_TOO_LARGE`). Default 4096.' },
  { key: 'maxBatchEntries', env: 'MCPGATE_MAX_BATCH_ENTRIES', flag: undefined, schema: z.coerce.number().int().min(1), doc: 'Gateway: most messages in one JSON-RPC batch (2025-03-26); a larger batch is refused whole (`BATCH_TOO_LARGE`). Default 100.' },
  { key: 'maxBatchAnswerBytes', env: 'MCPGATE_MAX_BATCH_ANSWER_BYTES', flag: undefined, schema: z.coerce.number().int().min(65536), doc: 'Gateway: most bytes of a batch\'s answer; the entries that would go over it are answered `BATCH_ANSWER_TOO_LARGE` (and those not yet run are not run). Default 16777216 (16 MiB).' },
  { key: 'batchConcurrency', env: 'MCPGATE_BATCH_CONCURRENCY', flag: undefined, schema: z.coerce.number().int().min(1).max(256), doc: 'Gateway: requests of one batch run at once (answers keep the batch\'s order). Default 8.' },
  { key: 'maxJsonDepth', env: 'MCPGATE_MAX_JSON_DEPTH', flag: undefined, schema: z.coerce.number().int().min(8).max(10000), doc: 'Gateway: deepest nesting of arrays and objects in a request body, checked before it is parsed (`JSON_TOO_DEEP`). Default 64.' },
  { key: 'headersTimeoutSeconds', env: 'MCPGATE_HEADERS_TIMEOUT_SECONDS', flag: undefined, schema: z.coerce.number().min(0.1), doc: 'Gateway: time a client has to send a request\'s headers; slower connections are answered 408 and closed (slowloris). Default 10.' },
  { key: 'requestTimeoutSeconds', env: 'MCPGATE_REQUEST_TIMEOUT_SECONDS', flag: undefined, schema: z.coerce.number().min(0.1), doc: 'Gateway: time a client has to send a whole request, headers and body (at least `headersTimeoutSeconds`); answers and streams are not bound by it. Default 30.' },
  { key: 'keepAliveTimeoutSeconds', env: 'MCPGATE_KEEP_ALIVE_TIMEOUT_SECONDS', flag: undefined, schema: z.coerce.number().min(0.1), doc: 'Gateway: how long an idle keep-alive connection is kept open (longer than the idle timeout of a load balancer in front). Default 65.' },
  { key: 'streamWriteTimeoutSeconds', env: 'MCPGATE_STREAM_WRITE_TIMEOUT_SECONDS', flag: undefined, schema: z.coerce.number().min(0.1), doc: 'Gateway: a connection whose client leaves what it is sent (a stream, an answer) waiting without taking any of it for this long is closed. Default 30.' },
  { key: 'streamMaxBufferedBytes', env: 'MCPGATE_STREAM_MAX_BUFFERED_BYTES', flag: undefined, schema: z.coerce.number().int().min(1024), doc: 'Gateway: most bytes an SSE stream may have waiting for a slow client (beyond what the kernel buffers); the stream is closed when its client is further behind (2025 streams resume with Last-Event-ID). Default 1048576 (1 MiB).' },
  { key: 'tlsCert', env: 'MCPGATE_TLS_CERT', flag: '--tls-cert <file>', schema: z.string().min(1), doc: 'TLS on the process\'s HTTP listeners (gateway port, registry port and console): a PEM certificate chain file, with `tlsKey`. Both files are reloaded when they change (a renewed certificate is served to new connections without a restart; one that does not load is logged and the previous kept). Default none: plain HTTP (terminate TLS in a proxy: docs/operations.md#tls-and-reverse-proxies). The Nacos gRPC port stays plain.' },
  { key: 'tlsKey', env: 'MCPGATE_TLS_KEY', flag: '--tls-key <file>', schema: z.string().min(1), doc: 'TLS on the HTTP listeners: the PEM private key file of `tlsCert` (mount it from a Secret; the path is not secret, the file is).' },
  { key: 'workers', env: 'MCPGATE_WORKERS', flag: '--workers <n>', schema: z.coerce.number().int().min(1).max(256), doc: 'Gateway role: processes serving the gateway port (node:cluster), sharing sessions through Redis as replicas do. Default: the number of cores when `redis` is set, else 1; more than 1 without `redis` is refused (sessions in memory are one process\'s own). See docs/operations.md#every-core.' },
  { key: 'shutdownDelaySeconds', env: 'MCPGATE_SHUTDOWN_DELAY_SECONDS', flag: undefined, schema: z.coerce.number().min(0).max(300), doc: 'Gateway: on SIGTERM, how long it keeps serving with `/readyz` at 503 before it closes its listener, seconds: the time a load balancer or Kubernetes needs to stop sending it new connections (endpoint removal). Default 0; the Helm chart sets 5.' },
  { key: 'shutdownTimeoutSeconds', env: 'MCPGATE_SHUTDOWN_TIMEOUT_SECONDS', flag: undefined, schema: z.coerce.number().min(0).max(3600), doc: 'Gateway: on SIGTERM, once the listener is closed and open streams are told to reconnect elsewhere, how long calls in flight may take to finish, seconds; what still runs then is cut and the process exits. Keep `shutdownDelaySeconds` + this below Kubernetes\' `terminationGracePeriodSeconds`. Default 20.' },
  { key: 'namespaceAuthorization', env: 'MCPGATE_NAMESPACE_AUTHORIZATION', flag: undefined, schema: z.unknown().transform((raw, ctx) => {
    let v = raw;
    if (typeof raw === 'string') {
      try { v = JSON.parse(raw) as unknown; } catch { ctx.addIssue({ code: 'custom', message: 'must be JSON (a mapping of namespace to settings)' }); return z.NEVER; }
    }
    if (typeof v !== 'object' || v === null || Array.isArray(v)) { ctx.addIssue({ code: 'custom', message: 'must be a mapping of namespace to settings' }); return z.NEVER; }
    try { return Object.fromEntries(Object.entries(v).map(([ns, x]) => [ns, validateAuthorization(x, `namespaceAuthorization.${ns}`)])); } catch (err) { ctx.addIssue({ code: 'custom', message: (err as Error).message }); return z.NEVER; }
  }), doc: 'Gateway: MCP authorization per namespace, a mapping of namespace to settings (the environment variable holds JSON): OAuth resource server (`enabled`, `issuers`, `audiences`, `requiredScopes`, `scopeGrants`, `clockSkewSeconds`, `acceptConsumerKeys`), `tokenExchange`, `rateLimits`. Under the registry\'s per-namespace settings (`PUT /api/v1/namespaces/{ns}/authorization`, which win field by field); a server\'s `spec.authorization` overrides both. See docs/security.md, "MCP authorization".' },
  { key: 'checkIssuers', env: 'MCPGATE_CHECK_ISSUERS', flag: undefined, schema: bool, doc: 'Gateway: when it starts, fetch and check the metadata of every issuer in `namespaceAuthorization` (as the registry checks settings it saves); a bad one stops the start with `ISSUER_METADATA_INVALID` naming the field. Default true; false starts without reaching the authorization servers (their keys are then fetched at the first token).' },
  { key: 'importAllowPrivateUrls', env: 'MCPGATE_IMPORT_ALLOW_PRIVATE_URLS', flag: undefined, schema: bool, doc: 'Registry: let imports fetch documents (OpenAPI, server.json) from loopback and private addresses (`http://10.0.0.5/openapi.json`). Link-local and cloud-metadata addresses stay refused. Default false (SSRF protection: such URLs get 400 `IMPORT_URL_REFUSED`).' },
  { key: 'importMaxBytes', env: 'MCPGATE_IMPORT_MAX_BYTES', flag: undefined, schema: z.coerce.number().int().min(1024), doc: 'Registry: largest document an import fetches from a URL, bytes; a larger one is refused with 413 `IMPORT_FETCH_TOO_LARGE`. Default 5242880 (5 MiB).' },
  { key: 'importTimeoutSeconds', env: 'MCPGATE_IMPORT_TIMEOUT_SECONDS', flag: undefined, schema: z.coerce.number().int().min(1).max(300), doc: 'Registry: how long an import may take to fetch a document from a URL (redirects included), seconds; then 504 `IMPORT_FETCH_TIMEOUT`. Default 15.' },
  { key: 'mcpRegistryPublic', env: 'MCPGATE_MCP_REGISTRY_PUBLIC', flag: undefined, schema: bool, doc: 'Registry: serve the MCP Registry read API (`/v0.1/servers`) without credentials, as the official registry does: it shows the published servers\' names, descriptions, versions and gateway URLs (never tools\' templates or credentials). Default false: with auth on, a credential is needed and each caller sees the namespaces it may read.' },
  { key: 'mcpRegistryNamePrefix', env: 'MCPGATE_MCP_REGISTRY_NAME_PREFIX', flag: undefined, schema: z.string().regex(/^[a-zA-Z0-9-]+(\.[a-zA-Z0-9-]+)+$/, 'must be a reverse-DNS name such as com.example.mcp'), doc: 'Registry: the reverse-DNS namespace the MCP Registry API gives servers whose own name is not `namespace/name` shaped: `weather` is served as `<prefix>/weather` (`<prefix>.<namespace>/weather` outside `public`). Default: the host of `publicGatewayUrl` reversed (`mcp.example.com` → `com.example.mcp`), else `local.mcpgate`.' },
  { key: 'otlpEndpoint', env: 'MCPGATE_OTLP_ENDPOINT', flag: '--otlp-endpoint <url>', schema: z.string().regex(/^https?:\/\/[^\s]+$/, 'must be an http:// or https:// URL'), doc: 'Gateway (and `serve`): turns OpenTelemetry tracing on, exporting spans as OTLP/HTTP (protobuf) to this receiver: a base URL such as `http://otel-collector:4318` (spans go to `/v1/traces`) or the full traces URL. Each MCP request is a SERVER span (child of the agent\'s `traceparent`, header or `params._meta`), each backend REST request and upstream MCP request a CLIENT span whose context the backend receives as `traceparent`; log lines carry `trace_id` and `span_id`. See docs/observability.md. Default: off.' },
  { key: 'traceSampleRatio', env: 'MCPGATE_TRACE_SAMPLE_RATIO', flag: undefined, schema: z.coerce.number().min(0).max(1), doc: 'Tracing on: share of traces started at the gateway that are recorded, 0 to 1 (a request whose agent sent a sampled `traceparent` is always recorded, one sent not sampled never). Default 1.' },
  { key: 'accessLog', env: 'MCPGATE_ACCESS_LOG', flag: '--access-log <mode>', schema: z.enum(['all', 'errors', 'off']), doc: 'Gateway: the per-request log line (`"msg":"mcp request"`: method, namespace, server, tool, outcome, error kind, duration, session, request and trace ids): `all` requests, failed ones only (`errors`, at `warn`), or `off`. Default all.' },
  { key: 'accessLogSampleRatio', env: 'MCPGATE_ACCESS_LOG_SAMPLE_RATIO', flag: undefined, schema: z.coerce.number().min(0).max(1), doc: 'Gateway: share of successful requests that get an access log line, 0 to 1 (failed ones always do). Default 1.' },
  { key: 'redis', env: 'MCPGATE_REDIS', flag: '--redis <url>', secret: true, schema: z.string().regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL'), doc: 'Gateway role: Redis URL for shared sessions (memory when unset).' },
  { key: 'redisPrefix', env: 'MCPGATE_REDIS_PREFIX', flag: '--redis-prefix <prefix>', schema: z.string().regex(/^[A-Za-z0-9:._{}-]{1,64}$/, 'must be 1-64 of A-Z a-z 0-9 : . _ - { }'), doc: 'Gateway with Redis: prefix of every key and every pub/sub channel, so that several installations (or environments) share one Redis without seeing each other\'s sessions and messages; every replica of one installation must have the same. Default: keys under `mcpgate:` and channels unprefixed (`PSUBSCRIBE mcp-server-sse:*` shows legacy SSE traffic, as with Higress).' },
] as const;

/** The validated configuration of a process. */
export interface Config {
  role: RoleName;
  host: string;
  registryPort: number;
  /** The Nacos gRPC port (registry port + 1000 by default), or 'off'. */
  grpcPort: number | 'off';
  gatewayPort: number;
  dataDir: string;
  db: string;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  auth: { enabled: boolean; adminUsername: string; adminPassword?: string; gatewayToken?: string; tokenTtlSeconds: number; loginFreeFailures: number; loginMaxDelaySeconds: number };
  bodyLimitBytes: number;
  revisionPollMs: number;
  changeLogRetention: number;
  auditRetentionDays: number;
  leaderLockTtlMs: number;
  nodeHeartbeatMs: number;
  nodeRetentionSeconds: number;
  /** The gateway's origin as agents reach it, for the console (unset: the console's host with the gateway port). */
  publicGatewayUrl?: string;
  registries: string[];
  registryToken?: string;
  gatewayConfig?: string;
  /** Gateway following registries: /readyz fails once no registry answered for this long, s. */
  registryGraceSeconds: number;
  redis?: string;
  /** OTLP/HTTP receiver of traces: tracing is on when set. */
  otlpEndpoint?: string;
  /** Share of new traces recorded (default 1). */
  traceSampleRatio: number;
  /** The gateway's per-request log line. */
  accessLog: 'all' | 'errors' | 'off';
  accessLogSampleRatio: number;
  /** Prefix of Redis keys and channels (unset: keys `mcpgate:`, channels unprefixed). */
  redisPrefix?: string;
  /** TLS on the HTTP listeners: certificate chain and key files (both or neither). */
  tls?: { certFile: string; keyFile: string };
  /** Gateway processes sharing the port (unset: every core with Redis, else 1). */
  workers?: number;
  /** Gateway drain on SIGTERM: unready this long before the listener closes, s. */
  shutdownDelaySeconds: number;
  /** Gateway drain on SIGTERM: longest wait for calls in flight, s. */
  shutdownTimeoutSeconds: number;
  /** MCP authorization settings per namespace (gateway). */
  namespaceAuthorization?: Record<string, AuthorizationSettings>;
  allowedOrigins: string[];
  allowedHosts: string[];
  trustedProxies: string[];
  sessionIdleSeconds: number;
  sessionEncryptionKey?: string;
  /** Gateway limits (src/gateway/limits.ts); undefined: the gateway's default. */
  maxSessions?: number;
  maxSessionsPerKey?: number;
  maxSessionsPerAddress?: number;
  sessionEvictIdleSeconds?: number;
  sessionInfoMaxBytes?: number;
  maxBatchEntries?: number;
  maxBatchAnswerBytes?: number;
  batchConcurrency?: number;
  maxJsonDepth?: number;
  headersTimeoutSeconds?: number;
  requestTimeoutSeconds?: number;
  keepAliveTimeoutSeconds?: number;
  streamWriteTimeoutSeconds?: number;
  streamMaxBufferedBytes?: number;
  /** Imports from URLs: private and loopback addresses allowed, size and time limits. */
  /** Gateway: check the issuers of `namespaceAuthorization` at start. */
  checkIssuers: boolean;
  importAllowPrivateUrls: boolean;
  importMaxBytes: number;
  importTimeoutSeconds: number;
  /** The MCP Registry read API without credentials. */
  mcpRegistryPublic: boolean;
  /** Reverse-DNS prefix of the names the MCP Registry API gives servers (unset: from publicGatewayUrl). */
  mcpRegistryNamePrefix?: string;
}

/** The gateway-limit options of Config (their defaults are the gateway's). */
const GATEWAY_LIMIT_KEYS = [
  'maxSessions', 'maxSessionsPerKey', 'maxSessionsPerAddress', 'sessionEvictIdleSeconds', 'sessionInfoMaxBytes', 'maxBatchEntries', 'maxBatchAnswerBytes',
  'batchConcurrency', 'maxJsonDepth', 'headersTimeoutSeconds', 'requestTimeoutSeconds', 'keepAliveTimeoutSeconds', 'streamWriteTimeoutSeconds', 'streamMaxBufferedBytes',
] as const;

/**
 * A secret option's `{VAR}_FILE` variable: the value is the content of the named file (a mounted
 * Kubernetes or Docker secret), without its final line break, so that it never appears in the
 * process environment (`/proc/<pid>/environ`). Setting both `{VAR}` and `{VAR}_FILE` is an error.
 */
function secretFromFile(name: string, env: NodeJS.ProcessEnv): [Source, string, unknown] {
  const fileVar = `${name}_FILE`;
  const path = env[fileVar];
  if (path === undefined || path === '') return ['environment', fileVar, undefined];
  if (env[name] !== undefined && env[name] !== '') throw new ConfigError(`set either ${name} or ${fileVar}, not both`);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read ${fileVar} (${path}): ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return ['environment', fileVar, text.replace(/\r?\n$/, '')];
}

/** The Nacos gRPC port clients expect beside a registry port: + 1000 (an ephemeral registry port: an ephemeral one too). */
export function defaultGrpcPort(registryPort: number): number | 'off' {
  if (registryPort === 0) return 0;
  return registryPort + 1000 <= 65535 ? registryPort + 1000 : 'off';
}

/** A configuration problem, naming the key and where its value came from. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

type Source = 'file' | 'environment' | 'flag';

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}

function setPath(target: Record<string, unknown>, key: string, value: unknown): void {
  const parts = key.split('.');
  let node = target;
  for (const p of parts.slice(0, -1)) node = (node[p] ??= {}) as Record<string, unknown>;
  node[parts[parts.length - 1] as string] = value;
}

function getPath(source: Record<string, unknown>, key: string): unknown {
  let node: unknown = source;
  for (const p of key.split('.')) node = node && typeof node === 'object' ? (node as Record<string, unknown>)[p] : undefined;
  return node;
}

const KNOWN_FILE_KEYS: ReadonlySet<string> = new Set(OPTIONS.map((o) => o.key));

function flatKeys(o: Record<string, unknown>, prefix = ''): string[] {
  return Object.entries(o).flatMap(([k, v]) => {
    const key = prefix ? `${prefix}.${k}` : k;
    return v && typeof v === 'object' && !Array.isArray(v) && !KNOWN_FILE_KEYS.has(key) ? flatKeys(v as Record<string, unknown>, key) : [key];
  });
}

/**
 * Build the configuration: defaults, then the YAML file (`--config`), then `MCPGATE_*`
 * variables, then flags. Throws ConfigError naming the first bad key.
 */
export function loadConfig(role: RoleName, flags: Record<string, unknown>, env: NodeJS.ProcessEnv = process.env, configFile?: string): Config {
  let file: Record<string, unknown> = {};
  if (configFile) {
    let text: string;
    try { text = readFileSync(configFile, 'utf8'); } catch (err) {
      throw new ConfigError(`cannot read config file ${configFile}: ${(err as Error).message}`);
    }
    try { file = (parseYaml(text) ?? {}) as Record<string, unknown>; } catch (err) {
      throw new ConfigError(`config file ${configFile} is not valid YAML: ${(err as Error).message}`);
    }
    if (typeof file !== 'object' || Array.isArray(file)) throw new ConfigError(`config file ${configFile} must hold a mapping of options`);
    for (const k of flatKeys(file)) if (!KNOWN_FILE_KEYS.has(k)) throw new ConfigError(`unknown option '${k}' in ${configFile}`);
  }
  const values: Record<string, unknown> = {};
  for (const opt of OPTIONS) {
    const candidates: [Source, string, unknown][] = [
      ['file', opt.key, getPath(file, opt.key)],
      ['environment', opt.env, env[opt.env] === '' ? undefined : env[opt.env]],
      ...('secret' in opt && opt.secret ? [secretFromFile(opt.env, env)] : []),
      ['flag', opt.flag?.split(' ')[0] ?? '', flags[opt.key]],
    ];
    for (const [source, name, raw] of candidates) {
      if (raw === undefined) continue;
      const parsed = opt.schema.safeParse(raw);
      if (!parsed.success) {
        const why = parsed.error.issues[0]?.message ?? 'invalid value';
        // A secret's value is never echoed (the message goes to the terminal and to logs).
        const got = 'secret' in opt && opt.secret ? 'the value is not shown: it is a secret' : `got ${JSON.stringify(raw)}`;
        throw new ConfigError(`invalid ${opt.key} (${source} ${name}): ${why}; ${got}`);
      }
      setPath(values, opt.key, parsed.data);
    }
  }
  const v = values as Partial<Config> & { auth?: Partial<Config['auth']> };
  if (v.headersTimeoutSeconds !== undefined && v.requestTimeoutSeconds !== undefined && v.requestTimeoutSeconds < v.headersTimeoutSeconds) {
    throw new ConfigError(`invalid requestTimeoutSeconds: ${v.requestTimeoutSeconds} is shorter than headersTimeoutSeconds (${v.headersTimeoutSeconds}); the whole request includes its headers`);
  }
  const tlsKeys = values as { tlsCert?: string; tlsKey?: string };
  if ((tlsKeys.tlsCert === undefined) !== (tlsKeys.tlsKey === undefined)) {
    throw new ConfigError(`invalid ${tlsKeys.tlsCert === undefined ? 'tlsCert' : 'tlsKey'}: TLS needs both tlsCert and tlsKey (the certificate chain and its private key)`);
  }
  const limits: Partial<Config> = {};
  for (const key of GATEWAY_LIMIT_KEYS) if (v[key] !== undefined) limits[key] = v[key];
  const host = v.host ?? (role === 'serve' ? '127.0.0.1' : '0.0.0.0');
  const dataDir = v.dataDir ?? './data';
  return {
    role, host, dataDir,
    registryPort: v.registryPort ?? 8848,
    grpcPort: v.grpcPort ?? defaultGrpcPort(v.registryPort ?? 8848),
    gatewayPort: v.gatewayPort ?? 8080,
    db: v.db ?? `sqlite:${join(dataDir, 'mcpgate.db')}`,
    logLevel: v.logLevel ?? 'info',
    auth: {
      enabled: v.auth?.enabled ?? !(role === 'serve' && isLoopback(host)),
      adminUsername: v.auth?.adminUsername ?? 'admin',
      ...(v.auth?.adminPassword ? { adminPassword: v.auth.adminPassword } : {}),
      ...(v.auth?.gatewayToken ? { gatewayToken: v.auth.gatewayToken } : {}),
      tokenTtlSeconds: v.auth?.tokenTtlSeconds ?? 18000,
      loginFreeFailures: v.auth?.loginFreeFailures ?? 5,
      loginMaxDelaySeconds: v.auth?.loginMaxDelaySeconds ?? 900,
    },
    bodyLimitBytes: v.bodyLimitBytes ?? 1024 * 1024,
    revisionPollMs: v.revisionPollMs ?? 500,
    changeLogRetention: v.changeLogRetention ?? 100_000,
    auditRetentionDays: v.auditRetentionDays ?? 90,
    leaderLockTtlMs: v.leaderLockTtlMs ?? 10_000,
    nodeHeartbeatMs: v.nodeHeartbeatMs ?? 3000,
    nodeRetentionSeconds: v.nodeRetentionSeconds ?? 86_400,
    ...(v.publicGatewayUrl ? { publicGatewayUrl: v.publicGatewayUrl.replace(/\/$/, '') } : {}),
    registries: v.registries ?? [],
    ...(v.registryToken ? { registryToken: v.registryToken } : {}),
    ...(v.gatewayConfig ? { gatewayConfig: v.gatewayConfig } : {}),
    registryGraceSeconds: v.registryGraceSeconds ?? 10,
    ...(tlsKeys.tlsCert && tlsKeys.tlsKey ? { tls: { certFile: tlsKeys.tlsCert, keyFile: tlsKeys.tlsKey } } : {}),
    ...(v.workers !== undefined ? { workers: v.workers } : {}),
    shutdownDelaySeconds: v.shutdownDelaySeconds ?? 0,
    shutdownTimeoutSeconds: v.shutdownTimeoutSeconds ?? 20,
    ...(v.redis ? { redis: v.redis } : {}),
    ...(v.otlpEndpoint ? { otlpEndpoint: v.otlpEndpoint } : {}),
    traceSampleRatio: v.traceSampleRatio ?? 1,
    accessLog: v.accessLog ?? 'all',
    accessLogSampleRatio: v.accessLogSampleRatio ?? 1,
    ...(v.redisPrefix ? { redisPrefix: v.redisPrefix } : {}),
    ...(v.namespaceAuthorization ? { namespaceAuthorization: v.namespaceAuthorization } : {}),
    allowedOrigins: v.allowedOrigins ?? [],
    allowedHosts: v.allowedHosts ?? [],
    trustedProxies: v.trustedProxies ?? [],
    sessionIdleSeconds: v.sessionIdleSeconds ?? 1800,
    ...(v.sessionEncryptionKey ? { sessionEncryptionKey: v.sessionEncryptionKey } : {}),
    checkIssuers: v.checkIssuers ?? true,
    importAllowPrivateUrls: v.importAllowPrivateUrls ?? false,
    importMaxBytes: v.importMaxBytes ?? 5 * 1024 * 1024,
    importTimeoutSeconds: v.importTimeoutSeconds ?? 15,
    mcpRegistryPublic: v.mcpRegistryPublic ?? false,
    ...(v.mcpRegistryNamePrefix ? { mcpRegistryNamePrefix: v.mcpRegistryNamePrefix } : {}),
    ...limits,
  };
}
