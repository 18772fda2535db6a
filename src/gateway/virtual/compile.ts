/**
 * Virtual servers compiled into each gateway snapshot, after the servers they gather: each
 * `virtual` server of the registry snapshot gets its members (servers of its namespace in the
 * same snapshot; nested virtual servers first, a cycle left out and logged), their naming, and
 * the live tool lists of its upstream MCP members, which are kept across snapshots while the
 * member's runtime lives (so a new snapshot does not make a cold tools/list).
 */
import { createHash } from 'node:crypto';
import type { Logger } from '../../lib/logger.js';
import type { McpServerSpec } from '../../model/model.js';
import type { RegistrySnapshot } from '../../model/snapshot.js';
import { VIRTUAL_DEFAULTS, VIRTUAL_PROTOCOL, memberNaming } from '../../model/virtual.js';
import type { VirtualServerSpec } from '../../model/virtual.js';
import type { McpServerRuntime } from '../../tools/mcp/runtime.js';
import type { CompiledServer, GatewaySnapshot, VirtualClash } from '../snapshot.js';
import { serverKey } from '../snapshot.js';
import type { CatalogueMember, LeftOutReason, MemberStatus } from './catalogue.js';
import { VirtualServer } from './catalogue.js';
import { LiveToolsCache } from './live-tools.js';

/** What compiling virtual servers needs. */
export interface VirtualCompilerDeps {
  logger: Logger;
  /** A virtual server's tools or prompts changed outside a snapshot change (a live member): tell its streams. */
  onListChanged: (serverKey: string, method: string) => void;
  /** A member was left out of a virtual server's answer (for metrics). */
  onLeftOut?: (serverKey: string, member: string, reason: LeftOutReason) => void;
  /** A run-time name clash appeared in a virtual server: `member`'s tool was left out for `kept`'s (for metrics; once per appearance). */
  onClash?: (serverKey: string, member: string, kept: string) => void;
  /** Timeout of a member's tools/list fetch, ms (default: the virtual server's deadline × 5, at least 10 s). */
  fetchTimeoutMs?: number;
}

/** Adds the virtual servers to compiled snapshots. */
export class VirtualCompiler {
  private live = new Map<McpServerRuntime, LiveToolsCache>();
  private servers: VirtualServer[] = [];
  /** The run-time clashes each virtual server has now, by virtual server key (kept across snapshots: each is logged and counted once). */
  private clashes = new Map<string, Set<string>>();

  constructor(private readonly deps: VirtualCompilerDeps) {}

  /** The snapshot with its virtual servers compiled. */
  extend(snapshot: GatewaySnapshot, input: RegistrySnapshot): GatewaySnapshot {
    const specs = new Map<string, { spec: VirtualServerSpec; whole: McpServerSpec }>();
    for (const { server, spec } of input.mcpServers) {
      const key = serverKey(server.namespace, server.name);
      if (server.protocol !== VIRTUAL_PROTOCOL || !snapshot.servers.has(key)) continue;
      if (!spec.virtual) {
        this.deps.logger.error({ server: key }, 'virtual server not served: its spec has no virtual part');
        continue;
      }
      specs.set(key, { spec: spec.virtual, whole: spec });
    }
    if (specs.size === 0 && this.servers.length === 0 && this.live.size === 0) return snapshot;
    const servers = new Map(snapshot.servers);
    const made: VirtualServer[] = [];
    const used = new Map<McpServerRuntime, LiveToolsCache>();
    const visiting = new Set<string>();
    const compileOne = (key: string): CompiledServer | undefined => {
      const done = servers.get(key);
      const entry = specs.get(key);
      if (!entry || done?.virtual) return done;
      if (visiting.has(key)) {
        this.deps.logger.error({ server: key }, 'virtual server not served: it contains itself through its members');
        return undefined;
      }
      visiting.add(key);
      try {
        const base = snapshot.servers.get(key) as CompiledServer;
        const members: CatalogueMember[] = [];
        for (const m of entry.spec.members) {
          const memberKey = serverKey(base.namespace, m.server);
          const member = specs.has(memberKey) ? compileOne(memberKey) : servers.get(memberKey);
          if (!member || (m.namespace !== undefined && m.namespace !== base.namespace)) {
            this.deps.logger.warn({ server: key, member: m.server }, 'virtual server member not in the snapshot (not published, disabled or not compiled): left out');
            continue;
          }
          const naming = memberNaming(entry.spec, m);
          const separator = entry.spec.separator ?? VIRTUAL_DEFAULTS.separator;
          const prefixed = (entry.spec.naming ?? VIRTUAL_DEFAULTS.naming) === 'prefix';
          const promptName = (name: string) => (prefixed ? `${naming.prefix}${separator}${name}` : name);
          let live: LiveToolsCache | undefined;
          if (member.upstream && member.liveTools && !member.virtual) live = this.liveCache(member.upstream, member.key, entry.spec, used);
          const nested = member.virtual instanceof VirtualServer ? member.virtual : undefined;
          members.push({ server: member, prefix: naming.prefix, naming, promptName, live, nested });
        }
        const virtual = new VirtualServer(key, entry.spec, members, this.deps.logger.child({ component: 'virtual' }), {
          onLeftOut: (member, reason) => this.deps.onLeftOut?.(key, member, reason),
          onClashes: (clashes) => this.clashesFound(key, clashes),
        });
        virtual.onChange(() => this.deps.onListChanged(key, 'notifications/tools/list_changed'));
        made.push(virtual);
        const fingerprint = (pick: (s: CompiledServer) => string) => createHash('sha256')
          .update(JSON.stringify([entry.spec, members.map((x) => [x.server.key, pick(x.server)])])).digest('base64url');
        const compiled: CompiledServer = {
          ...base, tools: [], toolsByName: new Map(), prompts: [], liveTools: true, virtual,
          toolsFingerprint: fingerprint((s) => s.toolsFingerprint), promptsFingerprint: fingerprint((s) => s.promptsFingerprint),
        };
        servers.set(key, compiled);
        return compiled;
      } finally {
        visiting.delete(key);
      }
    };
    for (const key of specs.keys()) compileOne(key);
    for (const key of this.clashes.keys()) if (!specs.has(key)) this.clashes.delete(key);
    for (const old of this.servers) old.close();
    this.servers = made;
    for (const [runtime, cache] of this.live) if (!used.has(runtime)) cache.close();
    this.live = used;
    for (const cache of used.values()) cache.start();
    return { ...snapshot, servers };
  }

  /** Log and count the clashes of a virtual server that were not there at its last rebuild. */
  private clashesFound(key: string, clashes: readonly VirtualClash[]): void {
    const before = this.clashes.get(key) ?? new Set<string>();
    const now = new Set<string>();
    for (const c of clashes) {
      const id = `${c.name}\u0000${c.kept}\u0000${c.leftOut}`;
      now.add(id);
      if (before.has(id)) continue;
      this.deps.logger.warn({ server: key, tool: c.name, kept: c.kept, leftOut: c.leftOut, memberTool: c.tool },
        'virtual server: a member\'s tool has the final name of another member\'s tool; it is left out (rename it or give the member a prefix)');
      this.deps.onClash?.(key, c.leftOut, c.kept);
    }
    if (now.size > 0) this.clashes.set(key, now);
    else this.clashes.delete(key);
  }

  private liveCache(runtime: McpServerRuntime, key: string, spec: VirtualServerSpec, used: Map<McpServerRuntime, LiveToolsCache>): LiveToolsCache {
    const refreshMs = spec.refreshMs ?? VIRTUAL_DEFAULTS.refreshMs;
    let cache = used.get(runtime) ?? this.live.get(runtime);
    if (!cache) {
      const deadline = spec.listDeadlineMs ?? VIRTUAL_DEFAULTS.listDeadlineMs;
      cache = new LiveToolsCache(runtime, this.deps.logger.child({ component: 'virtual', member: key }), refreshMs, this.deps.fetchTimeoutMs ?? Math.max(10_000, deadline * 5));
    }
    cache.refreshAtLeastEvery(refreshMs);
    used.set(runtime, cache);
    return cache;
  }

  /**
   * An upstream MCP server sent a notification outside a request: its live tool list is fetched
   * again (virtual servers tell their agents if it changed), and a prompts or resources
   * list_changed is passed on to the virtual servers that contain it, directly or through
   * nested virtual servers (`told`: those told already).
   */
  memberNotified(memberKey: string, method: string, told: Set<string> = new Set()): void {
    for (const v of this.servers) {
      const member = v.members.find((m) => m.server.key === memberKey);
      if (!member) continue;
      if (method === 'notifications/tools/list_changed') member.live?.refresh();
      else if ((method === 'notifications/prompts/list_changed' || method === 'notifications/resources/list_changed') && !told.has(v.key)) {
        told.add(v.key);
        this.deps.onListChanged(v.key, method);
        // And the virtual servers that contain this one (tools go through the catalogues' own change events).
        this.memberNotified(v.key, method, told);
      }
    }
  }

  /** How the members of each virtual server stand (for the console and the logs). */
  status(): Record<string, MemberStatus[]> {
    return Object.fromEntries(this.servers.map((v) => [v.key, v.status()]));
  }

  /** Stop every background refresh (the gateway stops). */
  close(): void {
    for (const v of this.servers) v.close();
    for (const c of this.live.values()) c.close();
    this.servers = [];
    this.live = new Map();
  }
}
