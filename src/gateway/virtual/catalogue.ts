/**
 * A virtual server's catalogue: its members' tools under the names agents see, merged in a
 * deterministic order (members in their order, each member's tools by name; on a clash the
 * earlier member keeps the name and the later tool is left out, logged). Members whose tools the
 * registry lists are known at once; upstream MCP members that list theirs live come from their
 * `LiveToolsCache`, waited for at most the deadline when not heard from yet; members down or late
 * are left out of that answer and counted. The merged list is rebuilt only when a member's list
 * changed, so a warm tools/list costs a comparison per live member.
 */
import type { Logger } from '../../lib/logger.js';
import type { MemberNaming, VirtualServerSpec } from '../../model/virtual.js';
import { TOOL_NAME_PATTERN } from '../../model/names.js';
import { JsonText } from '../mcp/jsonrpc.js';
import type { VirtualCatalogue, VirtualMemberRef, VirtualServing, VirtualTool } from '../snapshot.js';
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
}

interface Built {
  stamp: string;
  catalogue: VirtualCatalogue;
}

/** A virtual server of one snapshot. */
export class VirtualServer implements VirtualServing {
  readonly mode: 'all' | 'search';
  readonly deadlineMs: number;
  private built: Built | undefined;
  private readonly statics = new Map<CatalogueMember, VirtualTool[]>();
  private readonly unsubscribe: (() => void)[] = [];
  private readonly listeners = new Set<() => void>();

  constructor(
    readonly key: string,
    spec: VirtualServerSpec,
    readonly members: readonly CatalogueMember[],
    private readonly logger: Logger,
    private readonly onLeftOut?: (member: string, reason: LeftOutReason) => void,
  ) {
    this.mode = spec.mode ?? 'all';
    this.deadlineMs = spec.listDeadlineMs ?? 2000;
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
    for (const l of this.listeners) l();
  }

  /** Stop listening to members (the snapshot was replaced). */
  close(): void {
    for (const u of this.unsubscribe) u();
    this.listeners.clear();
  }

  /** How each member stands now. */
  status(): MemberStatus[] {
    return this.members.map((m) => {
      if (m.live) return { server: m.server.name, state: m.live.status, tools: m.live.tools.length, ...(m.live.lastError ? { error: m.live.lastError } : {}) };
      if (m.nested) return { server: m.server.name, state: 'ok', tools: m.nested.current().tools.length };
      return { server: m.server.name, state: 'ok', tools: m.server.tools.length };
    });
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
    this.onLeftOut?.(m.server.name, reason);
  }

  /** Whether a live member (here or nested) has not been heard from yet. */
  pending(): boolean {
    return this.members.some((m) => m.live?.status === 'pending' || (m.nested?.pending() ?? false));
  }

  /** Changes whenever what `current()` would build changes. */
  stamp(): string {
    let s = '';
    for (const m of this.members) s += m.live ? `${m.live.version}.` : m.nested ? `${m.nested.stamp()}|` : '';
    return s;
  }

  /** The catalogue with what is known now, without waiting. */
  current(): VirtualCatalogue {
    const stamp = this.stamp();
    if (this.built?.stamp === stamp) return this.built.catalogue;
    const tools: VirtualTool[] = [];
    const byName = new Map<string, VirtualTool>();
    for (const m of this.members) {
      let own: VirtualTool[];
      if (m.live) own = m.live.status === 'ok' ? this.convert(m, m.live.tools) : [];
      else if (m.nested) own = this.convert(m, m.nested.current().tools.map((t) => JSON.parse(t.listEntry.text) as Record<string, unknown> & { name: string }));
      else own = this.statics.get(m) ?? [];
      for (const t of own) {
        const clash = byName.get(t.name);
        if (clash) {
          this.logger.warn({ server: this.key, tool: t.name, member: m.server.name, kept: clash.member.name }, 'virtual server: two members give the same tool name; the later one is left out');
          continue;
        }
        byName.set(t.name, t);
        tools.push(t);
      }
    }
    const catalogue = { tools, byName };
    this.built = { stamp, catalogue };
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
