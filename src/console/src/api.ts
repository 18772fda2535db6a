/**
 * The console's only way to the registry: the native API under /api/v1, with the access token
 * kept in sessionStorage (gone when the tab closes). A 401 ends the session and shows the login.
 */
import type {
  AllowEntry, ApiToken, Endpoint, Instance, McpServer, McpServerSpec, McpServerVersion, Namespace, PublishEvent, Role, Service, Tool, User, VersionStatus,
} from '../../model/model.js';

export type { AllowEntry, ApiToken, Endpoint, Instance, McpServer, McpServerSpec, Namespace, Role, Service, Tool, User, VersionStatus };

const TOKEN_KEY = 'mcpgate.console.token';

/** An error answered by the API: `{error: {code, message, field}}`, or a network failure. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(readonly status: number, readonly code: string, message: string, readonly field?: string) {
    super(message);
  }
}

let token: string | null = sessionStorage.getItem(TOKEN_KEY);
const unauthorizedListeners = new Set<(message: string) => void>();

export function setToken(next: string | null): void {
  token = next;
  if (next) sessionStorage.setItem(TOKEN_KEY, next);
  else sessionStorage.removeItem(TOKEN_KEY);
}

export function hasToken(): boolean {
  return token !== null;
}

/** Called when the API answers 401 (the token expired or was revoked). */
export function onUnauthorized(listener: (message: string) => void): () => void {
  unauthorizedListeners.add(listener);
  return () => unauthorizedListeners.delete(listener);
}

/**
 * One API call; JSON in, JSON out; throws ApiError. `ifMatch`: the entity-tag the caller last
 * read of what it changes (a version's `etag`), sent as If-Match so that the registry refuses
 * the write (412 VERSION_CHANGED) if someone else changed it since.
 */
export async function api<T>(method: string, path: string, body?: unknown, opts: { quiet401?: boolean; ifMatch?: string } = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  if (opts.ifMatch !== undefined) headers['if-match'] = opts.ifMatch;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(`/api/v1${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (err) {
    throw new ApiError(0, 'NETWORK', (err as Error).message);
  }
  const text = await res.text();
  let parsed: unknown = undefined;
  if (text !== '') {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = text;
    }
  }
  if (!res.ok) {
    const e = (parsed as { error?: { code?: string; message?: string; field?: string } } | undefined)?.error;
    const err = new ApiError(res.status, e?.code ?? `HTTP_${res.status}`, e?.message ?? (typeof parsed === 'string' && parsed ? parsed : `HTTP ${res.status}`), e?.field);
    if (res.status === 401 && !opts.quiet401) {
      setToken(null);
      for (const l of unauthorizedListeners) l(err.message);
    }
    throw err;
  }
  return parsed as T;
}

export const enc = encodeURIComponent;

/** Whether an error is the registry's 412 VERSION_CHANGED: someone else changed (or deleted) the version since it was read. */
export function versionChanged(e: unknown): e is ApiError {
  return e instanceof ApiError && e.status === 412 && e.code === 'VERSION_CHANGED';
}

/** The caller as the registry sees it. */
export interface Me {
  username: string;
  globalAdmin: boolean;
  roles: { namespace: string; role: Role }[];
}

export interface ServiceRow extends Service {
  instanceCount: number;
  healthyCount: number;
  ephemeral: boolean | null;
}

export interface Page<T> {
  total: number;
  pageNo: number;
  pageSize: number;
  items: T[];
}

export interface VersionSummary {
  version: string;
  status: VersionStatus;
  createdAt: number;
  publishedAt: number | null;
  toolCount: number;
  /** The version's entity-tag: If-Match of a write to it. */
  etag: string;
  /** Which content of the version it holds (above 1 once overwritten the Nacos way). */
  revision?: number;
}

/** Something accepted as Higress accepts it though not as written (the API's `warnings`). */
export interface SpecWarning {
  field: string;
  tool?: string;
  message: string;
  file?: string;
}

export interface ServerView extends McpServer {
  versions: VersionSummary[];
  spec?: McpServerSpec;
  /** Where a rollback goes now: the version served before the current one (null: none). */
  rollbackTarget: string | null;
}

/** A row of the MCP server list. */
export interface ServerRow extends McpServer {
  /** The draft waiting to be published, if any. */
  draftVersion: string | null;
  /** Tools of the published version (else of the latest). */
  toolCount: number;
  /** Healthy and all instances of the referenced service (null: not a service reference). */
  health: { healthy: number; total: number } | null;
}

/** One publish or rollback, as the history lists it. */
export type PublishEntry = Omit<PublishEvent, 'serverId'>;

/** A server's publish history, newest first. */
export interface PublishHistory {
  publishedVersion: string | null;
  rollbackTarget: string | null;
  items: PublishEntry[];
}

/** A service with its instances and the MCP servers that use it. */
export interface ServiceDetail extends Service {
  instances: Instance[];
  usedBy: { name: string; enabled: boolean; publishedVersion: string | null }[];
}

/** Where agents reach the gateway. */
export interface ConsoleSettings {
  publicGatewayUrl: string | null;
  gatewayPort: number;
}

/** A version as the API answers it: the stored version. */
export type VersionView = McpServerVersion;

export type { SpecChange } from './spec-diff.js';

export interface Exchange {
  request: { method: string; url: string; headers: Record<string, string>; body: string | null };
  response: { status: number; headers: Record<string, string>; body: string; bodyBytes: number; truncated: boolean } | null;
  error?: string;
  durationMs: number;
}

export interface TryResult {
  tool: string;
  version: string;
  arguments: Record<string, unknown>;
  request: Exchange['request'] | null;
  response: Exchange['response'];
  backendError?: string;
  attempts: Exchange[];
  result: { content: { type: string; text?: string; data?: string; mimeType?: string }[]; structuredContent?: unknown; isError?: boolean } | null;
  gatewayError: { code: string; status: number; message: string } | null;
  durationMs: number;
}

export interface ImportPreview {
  server: { name?: string; description?: string; protocol?: string; endpoint?: Endpoint };
  spec: McpServerSpec;
  tools: { name: string; title?: string; description: string; enabled: boolean; request: { method: string; url: string } | null }[];
  valid: boolean;
  error: { code: string; message: string; field?: string } | null;
  exists: boolean;
  /** What the converter left out, guessed, or accepted as Higress accepts it. */
  warnings?: SpecWarning[];
}

export interface GatewayRow {
  id: string;
  kind: 'in-process' | 'remote';
  state: 'connected' | 'reporting' | 'stale';
  revision: number;
  lag: number;
  sessions?: number;
  streams?: number;
  address?: string;
  source?: string;
  version?: string;
  lastSeen: number;
  watchConnections: number;
  remoteAddress?: string;
  /** The registry node it follows, and where that node listens. */
  node: string;
  nodeAddress?: string;
  /** Virtual server members down or not heard from yet. */
  virtualMembers?: { server: string; member: string; state: 'pending' | 'down' | 'clash'; error?: string }[];
  /** Virtual members left out of the report (it keeps 50). */
  virtualMembersOmitted?: number;
}

export interface Consumer {
  id: string;
  namespace: string;
  name: string;
  keyPrefix: string;
  allow: AllowEntry[] | null;
  createdAt: number;
  lastUsedAt?: number | null;
}
