import { createHash } from 'node:crypto';
import type { Dispatcher } from 'undici';
import type { Logger } from '../lib/logger.js';
import type { Consumer, McpServer, McpServerSpec, Prompt } from '../model/model.js';
import type { RegistrySnapshot } from '../model/snapshot.js';
import type { ArgumentHostGuard } from '../tools/address-guard.js';
import { ArgsCompiler } from '../tools/args.js';
import type { ArgsValidator } from '../tools/args.js';
import { compileTool, toolListEntry } from '../tools/compile.js';
import type { ToolConnections } from '../tools/compile.js';
import type { AgentChannel, ToolExecutor, Upstream, UpstreamTarget } from '../tools/executor.js';
import { upstreamKind } from '../tools/mcp/config.js';
import { createMcpRuntime } from '../tools/mcp/executor.js';
import type { McpServerRuntime } from '../tools/mcp/runtime.js';
import type { UpstreamSessionStates } from '../tools/mcp/session-state.js';
import { createUpstream } from '../tools/upstream.js';
import { JsonText } from './mcp/jsonrpc.js';
import type { AuthorizationSettings } from '../model/authorization.js';
import { mergeAuthorization } from '../model/authorization.js';
import { compileEndpointAccess } from './auth/endpoint-settings.js';
import type { EndpointAccess } from './auth/endpoint-settings.js';

/** A tool ready to serve: its tools/list entry, its argument validator and its executor. */
export interface CompiledTool {
  readonly name: string;
  /** The entry agents see in tools/list, serialised once when the tool is compiled. */
  readonly listEntry: JsonText;
  readonly validate: ArgsValidator;
  readonly executor: ToolExecutor;
}

/** A published MCP server ready to serve. */
export interface CompiledServer {
  readonly key: string;
  readonly namespace: string;
  readonly name: string;
  readonly server: McpServer;
  readonly version: string;
  readonly description: string;
  /** Enabled tools, in name order (deterministic tools/list). */
  readonly tools: readonly CompiledTool[];
  readonly toolsByName: ReadonlyMap<string, CompiledTool>;
  readonly prompts: readonly Prompt[];
  /** Changes whenever what tools/list shows changes (for list_changed). */
  readonly toolsFingerprint: string;
  readonly promptsFingerprint: string;
  /** The upstream MCP server this server fronts (protocols mcp-streamable, mcp-sse, stdio). */
  readonly upstream?: McpServerRuntime | undefined;
  /**
   * The registry lists no tools for this upstream MCP server: tools/list and tools/call go to the
   * upstream as they are. When it lists some, they are the catalogue (enabled ones shown, with the
   * registry's descriptions) and calls go to the upstream.
   */
  readonly liveTools?: boolean;
  /** How many backend targets (healthy instances, or the address) its requests may go to now (for the metrics). */
  readonly targets?: () => number;
  /** OAuth tokens, rate limits and token exchange of the endpoint (its namespace's settings with its own over them); absent: none. */
  readonly access?: EndpointAccess;
  /** A virtual server's members and catalogue (protocol `virtual`): every method goes to its members. */
  readonly virtual?: VirtualServing;
}

/** A tool of a virtual server: the name agents see, and the member tool it calls. */
export interface VirtualTool {
  readonly name: string;
  readonly member: CompiledServer;
  readonly memberTool: string;
  /** The tools/list entry agents see (renamed, description overridden), serialised once. */
  readonly listEntry: JsonText;
  readonly description: string;
  readonly inputSchema: Record<string, unknown>;
}

/** What a virtual server shows at one moment: its tools in a deterministic order (members in order, then names). */
export interface VirtualCatalogue {
  readonly tools: readonly VirtualTool[];
  /** The routing table of tools/call: name agents see → member and member tool, built once per change of a member's list. */
  readonly byName: ReadonlyMap<string, VirtualTool>;
  /** Tools left out because another member's tool already has their final name (a live member's list changed). */
  readonly clashes: readonly VirtualClash[];
}

/** A tool left out of a virtual server at run time: its final name is another member's tool's. */
export interface VirtualClash {
  /** The name agents see (the kept tool's). */
  readonly name: string;
  /** The member whose tool keeps the name. */
  readonly kept: string;
  /** The member whose tool is left out, and that tool's own name. */
  readonly leftOut: string;
  readonly tool: string;
}

/** A member of a virtual server in the snapshot. */
export interface VirtualMemberRef {
  readonly server: CompiledServer;
  /** The member's prefix (resource URIs carry it; tools and prompts under naming `prefix`). */
  readonly prefix: string;
  /** The name agents see for a member prompt. */
  promptName(name: string): string;
}

/** A virtual server as the request path serves it (gateway/virtual/). */
export interface VirtualServing {
  readonly mode: 'all' | 'search';
  /** How long a listing waits for members not heard from yet, ms. */
  readonly deadlineMs: number;
  readonly members: readonly VirtualMemberRef[];
  /** The tools now: members not heard from yet are waited for up to the deadline; members down or late are left out. */
  catalogue(): Promise<VirtualCatalogue>;
  /** The catalogue without waiting, when every member has been heard from (the tools/call fast path); else undefined. */
  settled(): VirtualCatalogue | undefined;
}

/** A consumer key's grants. */
export interface CompiledConsumer {
  readonly id: string;
  readonly namespace: string;
  readonly name: string;
  /**
   * Allowed servers by name, each with its allowed tools (null: every tool of it); null allows
   * everything in the namespace. One map look-up per check.
   */
  readonly allow: ReadonlyMap<string, ReadonlySet<string> | null> | null;
  /** The grants as comparable text, to tell whether they changed between snapshots. */
  readonly grants: string;
}

/** The immutable configuration the gateway serves from, compiled once per registry revision. */
export interface GatewaySnapshot {
  readonly revision: number;
  readonly servers: ReadonlyMap<string, CompiledServer>;
  readonly namespaces: ReadonlySet<string>;
  /** Consumers by the SHA-256 of their key. */
  readonly consumersByHash: ReadonlyMap<string, CompiledConsumer>;
  /** Namespaces that have at least one consumer key (the others are open). */
  readonly securedNamespaces: ReadonlySet<string>;
}

/** The key of a server in the snapshot. */
export function serverKey(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

/** An empty snapshot, served until the first one arrives. */
export const EMPTY_SNAPSHOT: GatewaySnapshot = {
  revision: 0, servers: new Map(), namespaces: new Set(), consumersByHash: new Map(), securedNamespaces: new Set(),
};

/**
 * A server's upstream across snapshots: compiled tools are reused while their version is
 * unchanged, and this indirection lets them follow instance changes of each new snapshot.
 */
class SwitchableUpstream implements Upstream {
  current: Upstream | undefined;
  pick(exclude?: ReadonlySet<string>): UpstreamTarget | undefined {
    return this.current?.pick(exclude);
  }
  get size(): number {
    return this.current?.size ?? 0;
  }
}

interface CachedTools {
  tools: CompiledTool[];
  upstream: SwitchableUpstream;
  runtime: McpServerRuntime | undefined;
}

/**
 * A consumer's allow-list as the request path checks it. Entries are `{server, tools?}`; a
 * string entry (from a snapshot cached before allow-lists were structured) counts as a whole
 * server only when it holds no `/`, and otherwise grants nothing until the registry answers.
 */
export function compileConsumer(c: Consumer): CompiledConsumer {
  let allow: Map<string, Set<string> | null> | null = null;
  if (c.allow) {
    allow = new Map();
    for (const entry of c.allow as unknown[]) {
      const { server, tools } = typeof entry === 'string' ? { server: entry.includes('/') ? undefined : entry, tools: undefined }
        : (entry ?? {}) as { server?: unknown; tools?: unknown };
      if (typeof server !== 'string') continue;
      const had = allow.get(server);
      if (had === null) continue;
      if (!Array.isArray(tools)) allow.set(server, null);
      else allow.set(server, new Set([...(had ?? []), ...tools.filter((t): t is string => typeof t === 'string')]));
    }
  }
  const grants = allow === null ? '*'
    : JSON.stringify([...allow].map(([server, tools]) => [server, tools ? [...tools].sort() : null]).sort((a, b) => String(a[0]).localeCompare(String(b[0]))));
  return { id: c.id, namespace: c.namespace, name: c.name, allow, grants };
}

/** Compiles registry snapshots, reusing the compiled tools of server versions whose content did not change. */
export class SnapshotCompiler {
  private cache = new Map<string, CachedTools>();

  /**
   * `dispatcher` is used for every backend call; `metadataDispatcher`, when given, for servers
   * whose config allows link-local and cloud-metadata addresses (the default one refuses them
   * at connect time too); `argumentHosts` checks and connects to hosts that tool arguments
   * choose (without it, such hosts are refused).
   */
  constructor(private readonly deps: {
    dispatcher: Dispatcher; metadataDispatcher?: Dispatcher; argumentHosts?: ArgumentHostGuard; logger: Logger; defaultTimeoutMs?: number;
    /** Notifications of upstream MCP servers outside requests, by server key (`namespace/name`) and agent session. */
    onUpstreamNotification?: (serverKey: string, sessionId: string | undefined, method: string, params: Record<string, unknown> | undefined) => void;
    /** Authorization settings per namespace from the gateway's own configuration (under the registry's and the servers'). */
    namespaceAuthorization?: Readonly<Record<string, AuthorizationSettings>>;
    /**
     * Upstream MCP sessions kept with the agent sessions, so that any replica continues them, by
     * the upstream's server key (an agent session of a virtual server holds one per member).
     */
    upstreamSessions?: (serverKey: string) => UpstreamSessionStates;
    /** See `McpRuntimeDeps.sessionAgent`. */
    sessionAgent?: (sessionId: string) => Promise<AgentChannel | undefined>;
  }) {
    this.connections = { guarded: deps.dispatcher, open: deps.metadataDispatcher, argumentHosts: deps.argumentHosts };
  }

  private readonly connections: ToolConnections;

  compile(input: RegistrySnapshot): GatewaySnapshot {
    const next = new Map<string, CachedTools>();
    const servers = new Map<string, CompiledServer>();
    const args = new ArgsCompiler();
    for (const { server, spec } of input.mcpServers) {
      if (!server.enabled || !server.publishedVersion) continue;
      // The content is part of the key: a registry version never changes once published, but a
      // definition file (FileSource) is edited in place under the same version.
      const content = createHash('sha256').update(JSON.stringify([spec.tools, spec.config, spec.securitySchemes])).digest('base64url');
      const cacheKey = `${server.id}@${server.publishedVersion}#${content}#${JSON.stringify([server.endpoint, server.protocol, server.passthrough])}`;
      let entry = this.cache.get(cacheKey) ?? next.get(cacheKey);
      if (!entry) {
        const upstream = new SwitchableUpstream();
        let runtime: McpServerRuntime | undefined;
        if (upstreamKind(server.protocol)) {
          try {
            const relay = this.deps.onUpstreamNotification;
            const key = serverKey(server.namespace, server.name);
            runtime = createMcpRuntime(server, spec, {
              upstream, dispatcher: this.dispatcherFor(spec), logger: this.deps.logger, defaultTimeoutMs: this.deps.defaultTimeoutMs,
              sessionStates: this.deps.upstreamSessions?.(key), sessionAgent: this.deps.sessionAgent,
              ...(relay ? { onNotification: (session: string | undefined, method: string, params: Record<string, unknown> | undefined) => relay(key, session, method, params) } : {}),
            });
          } catch (err) {
            this.deps.logger.error({ err, server: `${server.namespace}/${server.name}` }, 'MCP server not served: its upstream configuration cannot be used');
            continue;
          }
        }
        entry = { upstream, runtime, tools: this.compileTools(server, spec, upstream, args, runtime) };
      }
      const fresh = !this.cache.has(cacheKey) && !next.has(cacheKey);
      entry.upstream.current = createUpstream(server.endpoint, server.protocol, input);
      if (fresh) entry.runtime?.warmUp();
      next.set(cacheKey, entry);
      const prompts = [...spec.prompts].sort((a, b) => a.name.localeCompare(b.name));
      const key = serverKey(server.namespace, server.name);
      const access = compileEndpointAccess(
        mergeAuthorization(this.deps.namespaceAuthorization?.[server.namespace], input.namespaceAuthorization?.[server.namespace]), spec.authorization);
      servers.set(key, {
        ...(access ? { access } : {}),
        key, namespace: server.namespace, name: server.name, server, version: server.publishedVersion, targets: () => entry.upstream.size,
        description: server.description || spec.description, tools: entry.tools, toolsByName: new Map(entry.tools.map((t) => [t.name, t])),
        prompts, toolsFingerprint: JsonText.array(entry.tools.map((t) => t.listEntry)).text, promptsFingerprint: JSON.stringify(prompts),
        ...(entry.runtime ? { upstream: entry.runtime, liveTools: spec.tools.length === 0 } : {}),
      });
    }
    // Upstream connections (and stdio children) of servers that changed or left are closed.
    for (const [key, old] of this.cache) {
      if (next.has(key) || !old.runtime) continue;
      old.runtime.close().catch((err: unknown) => this.deps.logger.warn({ err }, 'could not close an upstream MCP server'));
    }
    this.cache = next;
    const consumers = input.consumers ?? [];
    return {
      revision: input.revision, servers, namespaces: new Set(input.namespaces),
      consumersByHash: new Map(consumers.map((c: Consumer) => [c.keyHash, compileConsumer(c)])),
      securedNamespaces: new Set(consumers.map((c) => c.namespace)),
    };
  }

  /** Close every upstream MCP connection and stdio child (the gateway stops). */
  async close(): Promise<void> {
    const runtimes = [...this.cache.values()].map((e) => e.runtime).filter((r): r is McpServerRuntime => r !== undefined);
    this.cache = new Map();
    await Promise.all(runtimes.map((r) => r.close()));
  }

  private dispatcherFor(spec: McpServerSpec): Dispatcher {
    return spec.config.allowMetadataAddresses === true ? this.deps.metadataDispatcher ?? this.deps.dispatcher : this.deps.dispatcher;
  }

  private compileTools(server: McpServer, spec: McpServerSpec, upstream: Upstream, args: ArgsCompiler, mcp: McpServerRuntime | undefined): CompiledTool[] {
    const tools: CompiledTool[] = [];
    for (const tool of [...spec.tools].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      if (!tool.enabled || (!tool.template && !mcp)) continue;
      try {
        const { validate, executor } = compileTool(tool, { server, spec, upstream, connections: this.connections, args, defaultTimeoutMs: this.deps.defaultTimeoutMs, mcp });
        tools.push({ name: tool.name, listEntry: new JsonText(JSON.stringify(toolListEntry(tool))), validate, executor });
      } catch (err) {
        this.deps.logger.error({ err, server: `${server.namespace}/${server.name}`, tool: tool.name }, 'tool not served: it does not compile');
      }
    }
    return tools;
  }
}
