/**
 * A virtual server's catalogue: its members' tools under the names agents see, merged in a
 * deterministic order (members in their order, each member's tools by name). Members whose tools the
 * registry lists are known at once; upstream MCP members that list theirs live come from their
 * `LiveToolsCache`, waited for at most the deadline when not heard from yet; members down or late
 * are left out of that answer and counted.
 *
 * Name clashes the registry could not see at publish time (a live member's list gains a tool whose
 * final name is another member's): tools the registry lists keep their names over live ones, and
 * among tools of the same kind the member listed first keeps it; the other tool is left out,
 * reported once (`onClashes`) and shown in the member status. No other tool's name ever changes.
 *
 * The merged list and its routing table (`byName`) are rebuilt only when a member's list changed
 * (its `onChange`), so a warm tools/list or tools/call reads an immutable table: no per-call lookup
 * beyond one map get, no allocation.
 */
import type { Logger } from '../../lib/logger.js';
import type { MemberNaming, VirtualServerSpec } from '../../model/virtual.js';
import { TOOL_NAME_PATTERN } from '../../model/names.js';
import { JsonText } from '../mcp/jsonrpc.js';
import type { VirtualCatalogue, VirtualClash, VirtualMemberRef, VirtualServing, VirtualTool } from '../snapshot.js';
import type { LiveToolsCache } from './live-tools.js';

/** Why a member was left out of an answer. */
export type LeftOutReason = 'down' | 'deadline';

/** One member as the catalogue reads it. */
export interface CatalogueMember extends VirtualMemberRef {
  readonly naming: MemberNaming;
  /** The member's live list (upstream MCP servers that list their tools live). */
  readonly live?: LiveToolsCache | undefined;
  /** The member is itself a virtual server. */
  readonly nested?: VirtualServer | undefined;
}

/** How a member stands, for logs, metrics and the console. */
export interface MemberStatus {
  server: string;
  state: 'ok' | 'pending' | 'down';
  tools: number;
  error?: string | undefined;
  /** This member's tools left out because another member's tool has their final name. */
  clashes?: { name: string; tool: string; kept: string }[] | undefined;
}

/** What a virtual server reports besides its catalogue. */
export interface VirtualServerHooks {
  /** A member was left out of an answer (for metrics). */
  onLeftOut?: ((member: string, reason: LeftOutReason) => void) | undefined;
  /** The run-time clashes after a rebuild of the catalogue (the whole list, each time it was rebuilt). */
  onClashes?: ((clashes: readonly VirtualClash[]) => void) | undefined;
}

/** A virtual server of one snapshot. */
export class VirtualServer implements VirtualServing {
  readonly mode: 'all' | 'search';
  readonly deadlineMs: number;
  /** Whether some member (here or nested) lists its tools live. */
  readonly hasLiveMembers: boolean;
  private built: VirtualCatalogue | undefined;
  /** Bumped by every change of a member's list; the catalogue is rebuilt when it moved. */
  private version = 0;
  private builtVersion = -1;
  private readonly statics = new Map<CatalogueMember, VirtualTool[]>();
  private readonly unsubscribe: (() => void)[] = [];
  private readonly listeners = new Set<() => void>();

  constructor(
    readonly key: string,
    spec: VirtualServerSpec,
    readonly members: readonly CatalogueMember[],
    private readonly logger: Logger,
    private readonly hooks: VirtualServerHooks = {},
  ) {
    this.mode = spec.mode ?? 'all';
    this.deadlineMs = spec.listDeadlineMs ?? 2000;
    this.hasLiveMembers = members.some((m) => m.live !== undefined || (m.nested?.hasLiveMembers ?? false));
    for (const m of members) {
      if (m.live) this.unsubscribe.push(m.live.onChange(() => this.changed()));
      else if (m.nested) this.unsubscribe.push(m.nested.onChange(() => this.changed()));
      else this.statics.set(m, this.convert(m, m.server.tools.map((t) => JSON.parse(t.listEntry.text) as Record<string, unknown> & { name: string })));
    }
  }

  /** Listen for changes of the tool list that no new snapshot brings (live members); answers the function that stops listening. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private changed(): void {
    this.version++;
    for (const l of this.listeners) l();
  }

  /** Stop listening to members (the snapshot was replaced). */
  close(): void {
    for (const u of this.unsubscribe) u();
    this.listeners.clear();
  }

  /** How each member stands now. */
  status(): MemberStatus[] {
    const { clashes } = this.current();
    return this.members.map((m) => {
      const own = clashes.filter((c) => c.leftOut === m.server.name).map((c) => ({ name: c.name, tool: c.tool, kept: c.kept }));
      const more = own.length > 0 ? { clashes: own } : {};
      if (m.live) return { server: m.server.name, state: m.live.status, tools: m.live.tools.length, ...(m.live.lastError ? { error: m.live.lastError } : {}), ...more };
      if (m.nested) return { server: m.server.name, state: 'ok', tools: m.nested.current().tools.length, ...more };
      return { server: m.server.name, state: 'ok', tools: m.server.tools.length, ...more };
    });
  }

  settled(): VirtualCatalogue | undefined {
    return this.pending() ? undefined : this.current();
  }

  async catalogue(): Promise<VirtualCatalogue> {
    const waiting: Promise<unknown>[] = [];
    for (const m of this.members) {
      if (m.live?.status === 'pending') {
        m.live.start();
        waiting.push(m.live.ready());
      } else if (m.nested && m.nested.pending()) waiting.push(m.nested.catalogue());
    }
    if (waiting.length > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled(waiting),
        new Promise<void>((resolve) => { timer = setTimeout(resolve, this.deadlineMs); timer.unref(); }),
      ]);
      clearTimeout(timer);
      for (const m of this.members) {
        if (m.live && m.live.status !== 'ok') this.leftOut(m, m.live.status === 'down' ? 'down' : 'deadline');
      }
    } else {
      for (const m of this.members) if (m.live?.status === 'down') this.leftOut(m, 'down');
    }
    return this.current();
  }

  private leftOut(m: CatalogueMember, reason: LeftOutReason): void {
    this.logger.debug({ server: this.key, member: m.server.name, reason }, 'virtual server member left out of tools/list');
    this.hooks.onLeftOut?.(m.server.name, reason);
  }

  /** Whether a live member (here or nested) has not been heard from yet. */
  pending(): boolean {
    if (!this.hasLiveMembers) return false;
    for (const m of this.members) if (m.live?.status === 'pending' || m.nested?.pending()) return true;
    return false;
  }

  /** The catalogue with what is known now, without waiting. */
  current(): VirtualCatalogue {
    if (this.built && this.builtVersion === this.version) return this.built;
    const version = this.version;
    const own = this.members.map((m) => {
      if (m.live) return m.live.status === 'ok' ? this.convert(m, m.live.tools) : [];
      if (m.nested) return this.convert(m, m.nested.current().tools.map((t) => JSON.parse(t.listEntry.text) as Record<string, unknown> & { name: string }));
      return this.statics.get(m) ?? [];
    });
    // Who keeps a name: tools the registry lists first (their names were checked at publish), then
    // live tools; within each, the member listed first.
    const owner = new Map<string, VirtualTool>();
    const clashes: VirtualClash[] = [];
    for (const live of [false, true]) {
      this.members.forEach((m, i) => {
        if ((m.live !== undefined || (m.nested?.hasLiveMembers ?? false)) !== live) return;
        for (const t of own[i] ?? []) {
          const kept = owner.get(t.name);
          if (kept) clashes.push({ name: t.name, kept: kept.member.name, leftOut: m.server.name, tool: t.memberTool });
          else owner.set(t.name, t);
        }
      });
    }
    const tools: VirtualTool[] = [];
    for (const list of own) for (const t of list) if (owner.get(t.name) === t) tools.push(t);
    const catalogue: VirtualCatalogue = { tools, byName: owner, clashes };
    this.built = catalogue;
    this.builtVersion = version;
    this.hooks.onClashes?.(clashes);
    return catalogue;
  }

  /** A member's tools under the names agents see, by name. */
  private convert(m: CatalogueMember, raw: readonly (Record<string, unknown> & { name: string })[]): VirtualTool[] {
    const out: VirtualTool[] = [];
    for (const t of raw) {
      const name = m.naming.nameOf(t.name);
      if (name === undefined) continue;
      if (!TOOL_NAME_PATTERN.test(name)) {
        this.logger.warn({ server: this.key, member: m.server.name, tool: t.name, name }, 'virtual server: tool left out, its name would not be a valid tool name (rename it)');
        continue;
      }
      const description = m.naming.describe(t.name, typeof t.description === 'string' ? t.description : undefined) ?? '';
      const inputSchema = typeof t.inputSchema === 'object' && t.inputSchema !== null ? t.inputSchema as Record<string, unknown> : { type: 'object' };
      out.push({ name, member: m.server, memberTool: t.name, description, inputSchema, listEntry: new JsonText(JSON.stringify({ ...t, name, description, inputSchema })) });
    }
    return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }
}
