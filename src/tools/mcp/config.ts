/**
 * How the gateway reaches an upstream MCP server, read once per snapshot from the server's
 * record (protocol, endpoint) and its published spec's `config`:
 *
 * - stdio: the launch (`command`, `args`, `env`, `cwd`) at the top of `config` or, as Nacos'
 *   `localServerConfig` and desktop clients write it, under `mcpServers.{name}`;
 * - every kind: `config.upstream`, the gateway's options for the upstream (sessions, timeouts,
 *   static headers, the stdio process pool).
 *
 * A value that cannot be used is a `VALIDATION_FAILED` AppError naming the field.
 */
import { invalid } from '../../lib/errors.js';
import type { McpProtocol, McpServer, McpServerSpec } from '../../model/model.js';

/** The transport an upstream MCP server speaks. */
export type McpUpstreamKind = 'streamable' | 'sse' | 'stdio';

/** How a stdio server is started. */
export interface StdioLaunch {
  command: string;
  args: string[];
  /** The child's whole environment besides PATH, HOME, USER, LOGNAME, SHELL and TERM (nothing else of the gateway's). */
  env: Record<string, string>;
  cwd?: string;
}

/** Which protocol era the gateway speaks to the upstream. */
export type UpstreamVersionMode = 'auto' | 'legacy' | '2026-07-28';

/** The gateway's options for one upstream MCP server (`config.upstream`), defaults filled in. */
export interface McpUpstreamOptions {
  kind: McpUpstreamKind;
  /** stdio only. */
  launch: StdioLaunch | undefined;
  /**
   * `shared`: one upstream connection (one stdio process) for every agent; `per-session`: one
   * per agent session (stateless agents share one). Default: `shared`.
   */
  sessions: 'shared' | 'per-session';
  /** `auto` probes with server/discover and falls back to initialize (default for HTTP); `legacy` (default for stdio) initializes only. */
  protocolVersion: UpstreamVersionMode;
  /** Headers sent to the upstream on every request (static credentials). */
  headers: Record<string, string>;
  /** Per-request timeout when the tool sets none, ms. */
  timeoutMs: number | undefined;
  /** Time to connect and initialize, ms (default 10 000). */
  connectTimeoutMs: number;
  /** stdio: most processes of this server at once (default 4 per-session, 1 shared). */
  maxProcesses: number;
  /** Connections (and stdio processes) unused this long are closed, ms (default 300 000). */
  idleMs: number;
}

const KINDS: Partial<Record<McpProtocol, McpUpstreamKind>> = { 'mcp-streamable': 'streamable', 'mcp-sse': 'sse', stdio: 'stdio' };

/** The upstream transport of a server's protocol; undefined for REST (http, https) servers. */
export function upstreamKind(protocol: McpProtocol): McpUpstreamKind | undefined {
  return KINDS[protocol];
}

/** Environment variable names a stdio launch may set (POSIX portable names). */
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function stringMap(v: unknown, field: string): Record<string, string> {
  if (v === undefined) return {};
  if (!isObject(v)) throw invalid(field, 'must be an object of strings');
  const out: Record<string, string> = {};
  for (const [k, value] of Object.entries(v)) {
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') throw invalid(`${field}.${k}`, 'must be a string');
    out[k] = String(value);
  }
  return out;
}

function positiveInt(v: unknown, field: string, fallback: number, max: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > max) throw invalid(field, `must be an integer from 1 to ${max}`);
  return v;
}

/** The stdio launch of a spec's config (`{command, args, env}` or `{mcpServers: {name: {...}}}`). */
export function readStdioLaunch(config: Record<string, unknown>, serverName: string): StdioLaunch {
  let at = 'config';
  let raw: Record<string, unknown> = config;
  if (config.command === undefined && isObject(config.mcpServers)) {
    const entries = Object.entries(config.mcpServers);
    const named = entries.find(([k]) => k === serverName) ?? (entries.length === 1 ? entries[0] : undefined);
    if (!named) throw invalid('config.mcpServers', entries.length === 0 ? 'names no server to start' : `holds several servers and none is named '${serverName}'`);
    at = `config.mcpServers.${named[0]}`;
    if (!isObject(named[1])) throw invalid(at, 'must be an object');
    raw = named[1];
  }
  const { command, args, env, cwd } = raw;
  if (typeof command !== 'string' || command.trim() === '') throw invalid(`${at}.command`, 'a stdio server needs the command that starts it');
  if (/[\0\n\r]/.test(command)) throw invalid(`${at}.command`, 'must not hold control characters');
  if (args !== undefined && (!Array.isArray(args) || args.some((a) => typeof a !== 'string' && typeof a !== 'number'))) throw invalid(`${at}.args`, 'must be an array of strings');
  const argv = ((args ?? []) as (string | number)[]).map(String);
  if (argv.some((a) => a.includes('\0'))) throw invalid(`${at}.args`, 'must not hold NUL characters');
  const environment = stringMap(env, `${at}.env`);
  for (const [k, v] of Object.entries(environment)) {
    if (!ENV_NAME.test(k)) throw invalid(`${at}.env.${k}`, 'is not an environment variable name');
    if (v.includes('\0')) throw invalid(`${at}.env.${k}`, 'must not hold NUL characters');
  }
  if (cwd !== undefined && (typeof cwd !== 'string' || cwd === '' || cwd.includes('\0'))) throw invalid(`${at}.cwd`, 'must be a directory path');
  return { command, args: argv, env: environment, ...(typeof cwd === 'string' ? { cwd } : {}) };
}

/** Reads the upstream options of an MCP-fronting server; throws AppError VALIDATION_FAILED naming the field. */
export function readUpstreamOptions(server: Pick<McpServer, 'name' | 'protocol'>, spec: Pick<McpServerSpec, 'config'>): McpUpstreamOptions {
  const kind = upstreamKind(server.protocol);
  if (!kind) throw invalid('protocol', `${server.protocol} is not an MCP upstream`);
  const config = spec.config ?? {};
  const raw = config.upstream;
  if (raw !== undefined && !isObject(raw)) throw invalid('config.upstream', 'must be an object');
  const u = (raw ?? {}) as Record<string, unknown>;
  const sessions = u.sessions ?? 'shared';
  if (sessions !== 'shared' && sessions !== 'per-session') throw invalid('config.upstream.sessions', "must be 'shared' or 'per-session'");
  const protocolVersion = u.protocolVersion ?? (kind === 'stdio' ? 'legacy' : 'auto');
  if (protocolVersion !== 'auto' && protocolVersion !== 'legacy' && protocolVersion !== '2026-07-28') {
    throw invalid('config.upstream.protocolVersion', "must be 'auto', 'legacy' or '2026-07-28'");
  }
  if (kind === 'sse' && protocolVersion === '2026-07-28') throw invalid('config.upstream.protocolVersion', 'a legacy SSE upstream speaks the 2024-11-05 protocol');
  const headers = stringMap(u.headers, 'config.upstream.headers');
  for (const [k, v] of Object.entries(headers)) {
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(k)) throw invalid(`config.upstream.headers.${k}`, 'is not a header name');
    if (/[\0\r\n]/.test(v)) throw invalid(`config.upstream.headers.${k}`, 'must not hold control characters');
  }
  return {
    kind,
    launch: kind === 'stdio' ? readStdioLaunch(config, server.name) : undefined,
    sessions,
    protocolVersion,
    headers,
    timeoutMs: u.timeoutMs === undefined ? undefined : positiveInt(u.timeoutMs, 'config.upstream.timeoutMs', 30_000, 3_600_000),
    connectTimeoutMs: positiveInt(u.connectTimeoutMs, 'config.upstream.connectTimeoutMs', 10_000, 600_000),
    maxProcesses: positiveInt(u.maxProcesses, 'config.upstream.maxProcesses', sessions === 'shared' ? 1 : 4, 1000),
    idleMs: positiveInt(u.idleSeconds, 'config.upstream.idleSeconds', 300, 86_400) * 1000,
  };
}
