/**
 * Virtual servers: one MCP endpoint that gathers tools (and prompts, resources, completions) from
 * other servers of its namespace. A virtual server is an MCP server of protocol `virtual` whose
 * spec carries `virtual` (members, selection, renames, naming rule, serving mode); it is
 * versioned, drafted, published and rolled back like any other server.
 *
 * This file holds the naming rules, shared by the registry (which refuses bad specs, cycles and
 * conflicts at publish, naming the field) and the gateway (which applies them per snapshot).
 */
import { AppError, invalid } from '../lib/errors.js';
import { SERVER_NAME, TOOL_NAME_PATTERN } from './names.js';

/** The protocol of a virtual server. */
export const VIRTUAL_PROTOCOL = 'virtual';

/**
 * How member tools are named: `none` keeps their names (conflicts are refused at publish);
 * `prefix` always puts the member's prefix and the separator in front. There is deliberately no
 * "prefix only on conflict": names would change when members are added.
 */
export const VIRTUAL_NAMINGS = ['none', 'prefix'] as const;
/** What agents see: every tool, or two meta-tools that search the catalogue and call a found tool. */
export const VIRTUAL_MODES = ['all', 'search'] as const;

/** One member of a virtual server. */
export interface VirtualMember {
  /** A server of the virtual server's own namespace, by name. */
  server: string;
  /** The member's namespace, when written: it must be the virtual server's own. */
  namespace?: string;
  /** Which tools: every one (absent or `*`), or these names. */
  tools?: '*' | string[];
  /** Which tools, by a glob over their names (`*` any run, `?` one character); with `tools`, both must match. */
  pattern?: string;
  /** The member's prefix under naming `prefix`; default the server's name. */
  prefix?: string;
  /** Member tool name → the exact name agents see (no prefix is added to a renamed tool). */
  rename?: Record<string, string>;
  /** Member tool name → the description agents see instead of the member's. */
  descriptions?: Record<string, string>;
}

/** The `virtual` part of a virtual server's spec. */
export interface VirtualServerSpec {
  members: VirtualMember[];
  /** Default `prefix`. */
  naming?: (typeof VIRTUAL_NAMINGS)[number];
  /** Between prefix and tool name; default `__`; tool-name characters only. */
  separator?: string;
  /** Default `all`. */
  mode?: (typeof VIRTUAL_MODES)[number];
  /** How long tools/list waits for a member whose list is not known yet, ms (default 2000). */
  listDeadlineMs?: number;
  /** How often upstream MCP members' tool lists are refreshed in the background, ms (default 30 000). */
  refreshMs?: number;
}

/** Defaults of a virtual server's options. */
export const VIRTUAL_DEFAULTS = { naming: 'prefix', separator: '__', mode: 'all', listDeadlineMs: 2000, refreshMs: 30_000 } as const;

const SEPARATOR = /^[A-Za-z0-9_.-]{1,8}$/;
const PREFIX = /^[A-Za-z0-9_.-]{1,64}$/;
const MAX_MEMBERS = 100;

/** A member's naming, compiled once: which tools it gives and under what name. */
export interface MemberNaming {
  readonly member: VirtualMember;
  /** The name agents see for a member tool, or undefined when the selection leaves it out. */
  nameOf(tool: string): string | undefined;
  /** The description agents see (the override, else the member's). */
  describe(tool: string, description: string | undefined): string | undefined;
  /** The member's prefix (also used to keep resource URIs unambiguous). */
  readonly prefix: string;
}

function globRegex(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`);
}

/** The prefix of a member: its own, else its server's name with characters tool names refuse replaced by `_`. */
export function memberPrefix(m: VirtualMember): string {
  return m.prefix ?? m.server.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 64);
}

/** Compile a member's selection, renames and prefix. */
export function memberNaming(v: VirtualServerSpec, m: VirtualMember): MemberNaming {
  const naming = v.naming ?? VIRTUAL_DEFAULTS.naming;
  const separator = v.separator ?? VIRTUAL_DEFAULTS.separator;
  const listed = Array.isArray(m.tools) ? new Set(m.tools) : undefined;
  const pattern = m.pattern !== undefined ? globRegex(m.pattern) : undefined;
  const prefix = memberPrefix(m);
  return {
    member: m, prefix,
    nameOf(tool) {
      if (listed && !listed.has(tool)) return undefined;
      if (pattern && !pattern.test(tool)) return undefined;
      const renamed = m.rename && Object.hasOwn(m.rename, tool) ? m.rename[tool] : undefined;
      if (renamed !== undefined) return renamed;
      return naming === 'prefix' ? `${prefix}${separator}${tool}` : tool;
    },
    describe(tool, description) {
      return m.descriptions && Object.hasOwn(m.descriptions, tool) ? m.descriptions[tool] : description;
    },
  };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkStringMap(v: unknown, field: string, check: (value: string, key: string) => void): void {
  if (v === undefined) return;
  if (!isRecord(v)) throw invalid(field, 'must be an object of member tool name → text');
  const entries = Object.entries(v);
  if (entries.length > 5000) throw invalid(field, 'at most 5000 entries');
  for (const [k, value] of entries) {
    if (typeof value !== 'string') throw invalid(`${field}.${k}`, 'must be a string');
    check(value, k);
  }
}

function optionalInt(v: unknown, field: string, min: number, max: number): void {
  if (v === undefined) return;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw invalid(field, `must be an integer from ${min} to ${max}`);
}

/**
 * The checks a virtual spec passes on every save (drafts too): shapes, the separator, prefixes
 * and renamed names against the tool-name rule, duplicate members and prefixes. `field` is where
 * the spec sits (`virtual`).
 */
export function validateVirtualSpec(v: unknown, field = 'virtual'): void {
  if (!isRecord(v)) throw invalid(field, 'must be an object with members');
  if (!Array.isArray(v.members) || v.members.length === 0) throw invalid(`${field}.members`, 'must list at least one member server');
  if (v.members.length > MAX_MEMBERS) throw invalid(`${field}.members`, `at most ${MAX_MEMBERS} members`);
  if (v.naming !== undefined && !VIRTUAL_NAMINGS.includes(v.naming as never)) throw invalid(`${field}.naming`, `must be one of ${VIRTUAL_NAMINGS.join(', ')} (there is no prefix-on-conflict: names would change when members change)`);
  if (v.mode !== undefined && !VIRTUAL_MODES.includes(v.mode as never)) throw invalid(`${field}.mode`, `must be one of ${VIRTUAL_MODES.join(', ')}`);
  if (v.separator !== undefined && (typeof v.separator !== 'string' || !SEPARATOR.test(v.separator))) {
    throw invalid(`${field}.separator`, 'must be 1 to 8 characters that tool names allow (letters, digits, _ - .)');
  }
  optionalInt(v.listDeadlineMs, `${field}.listDeadlineMs`, 10, 60_000);
  optionalInt(v.refreshMs, `${field}.refreshMs`, 100, 86_400_000);
  const spec = v as unknown as VirtualServerSpec;
  const servers = new Map<string, number>();
  const prefixes = new Map<string, number>();
  spec.members.forEach((m: unknown, i) => {
    const at = `${field}.members[${i}]`;
    if (!isRecord(m)) throw invalid(at, 'must be an object naming a server');
    if (typeof m.server !== 'string' || !SERVER_NAME.test(m.server)) throw invalid(`${at}.server`, 'must name an MCP server of this namespace');
    if (m.namespace !== undefined && typeof m.namespace !== 'string') throw invalid(`${at}.namespace`, 'must be a string');
    const seen = servers.get(m.server);
    if (seen !== undefined) throw invalid(`${at}.server`, `'${m.server}' is already members[${seen}]`);
    servers.set(m.server, i);
    if (m.tools !== undefined && m.tools !== '*') {
      if (!Array.isArray(m.tools) || m.tools.length === 0 || m.tools.length > 5000) throw invalid(`${at}.tools`, "must be '*' or a non-empty list of tool names");
      m.tools.forEach((t, k) => { if (typeof t !== 'string' || t === '') throw invalid(`${at}.tools[${k}]`, 'must be a tool name'); });
    }
    if (m.pattern !== undefined && (typeof m.pattern !== 'string' || m.pattern === '' || m.pattern.length > 200)) throw invalid(`${at}.pattern`, 'must be a glob of 1 to 200 characters');
    if (m.prefix !== undefined && (typeof m.prefix !== 'string' || !PREFIX.test(m.prefix))) {
      throw invalid(`${at}.prefix`, 'must be 1 to 64 characters that tool names allow (letters, digits, _ - .)');
    }
    const prefix = memberPrefix(m as unknown as VirtualMember);
    const other = prefixes.get(prefix);
    if (other !== undefined) throw invalid(`${at}.prefix`, `'${prefix}' is also the prefix of members[${other}] ('${spec.members[other]?.server}'): set a prefix of its own`);
    prefixes.set(prefix, i);
    checkStringMap(m.rename, `${at}.rename`, (name, k) => {
      if (!TOOL_NAME_PATTERN.test(name)) throw invalid(`${at}.rename.${k}`, `'${name}' is not a valid tool name (1–128 letters, digits, _ - .)`);
    });
    checkStringMap(m.descriptions, `${at}.descriptions`, (d, k) => { if (d.length > 10_000) throw invalid(`${at}.descriptions.${k}`, 'at most 10 000 characters'); });
  });
  // Prefixed names must fit the tool-name rule too.
  if ((spec.naming ?? VIRTUAL_DEFAULTS.naming) === 'prefix') {
    const sep = spec.separator ?? VIRTUAL_DEFAULTS.separator;
    spec.members.forEach((m, i) => {
      if (memberPrefix(m).length + sep.length >= 128) throw invalid(`${field}.members[${i}].prefix`, 'prefix and separator leave no room for a tool name (128 characters at most)');
    });
  }
}

/** Where a virtual server sits, for the checks that need it. */
export interface VirtualOwner {
  namespace: string;
  name: string;
}

/** A member as the publish check reads it: the server and its published spec (undefined: none published). */
export interface PublishedMember {
  server: { name: string; protocol: string; enabled: boolean };
  spec: { tools: { name: string; enabled: boolean }[]; virtual?: VirtualServerSpec | undefined } | undefined;
}

/** Members named in another namespace, or the virtual server itself: refused on every save. */
export function checkVirtualOwnership(v: VirtualServerSpec, owner: VirtualOwner, field = 'virtual'): void {
  v.members.forEach((m, i) => {
    if (m.namespace !== undefined && m.namespace !== owner.namespace) {
      throw invalid(`${field}.members[${i}].namespace`, `'${m.namespace}' is another namespace: members are servers of the virtual server's namespace '${owner.namespace}'`);
    }
    if (m.server === owner.name) throw new AppError('VIRTUAL_CYCLE', `${field}.members[${i}].server: a virtual server cannot contain itself ('${owner.name}')`, `${field}.members[${i}].server`);
  });
}

/**
 * The names agents see of the members' tools, each with its member and member tool, as far as the
 * registry lists them (upstream MCP servers that list theirs live are left out); throws on a
 * missing member, a cycle, an invalid name or a conflict, naming the field.
 */
export async function staticNames(
  v: VirtualServerSpec, lookup: (name: string) => Promise<PublishedMember | undefined>, field: string, path: string[], outerAt?: string,
): Promise<Map<string, { member: number; tool: string }>> {
  const names = new Map<string, { member: number; tool: string }>();
  for (const [i, m] of v.members.entries()) {
    // Inside a nested virtual server, problems are the outer member's.
    const at = outerAt ?? `${field}.members[${i}].server`;
    const found = await lookup(m.server);
    if (!found) throw invalid(at, `no MCP server '${m.server}' in this namespace`);
    if (!found.spec) throw invalid(at, `'${m.server}' has no published version`);
    let tools: string[] | undefined;
    if (found.spec.virtual) {
      if (path.includes(m.server)) {
        throw new AppError('VIRTUAL_CYCLE', `${at}: '${m.server}' contains this virtual server (${[...path, m.server].join(' → ')}): a virtual server cannot contain itself`, at);
      }
      tools = [...(await staticNames(found.spec.virtual, lookup, field, [...path, m.server], at)).keys()];
    } else if (found.server.protocol === VIRTUAL_PROTOCOL) {
      tools = [];
    } else {
      tools = found.spec.tools.length === 0 && found.server.protocol !== 'http' && found.server.protocol !== 'https'
        ? undefined : found.spec.tools.filter((t) => t.enabled).map((t) => t.name);
    }
    if (!tools) continue;
    if (Array.isArray(m.tools)) {
      m.tools.forEach((t, k) => { if (!tools.includes(t)) throw invalid(outerAt ?? `${field}.members[${i}].tools[${k}]`, `'${m.server}' has no enabled tool '${t}'`); });
    }
    const naming = memberNaming(v, m);
    for (const tool of tools) {
      const name = naming.nameOf(tool);
      if (name === undefined) continue;
      if (!TOOL_NAME_PATTERN.test(name)) throw invalid(outerAt ?? `${field}.members[${i}]`, `tool '${tool}' of '${m.server}' would be named '${name}', not a valid tool name: rename it (rename.${tool})`);
      const clash = names.get(name);
      if (clash) {
        const other = v.members[clash.member]?.server;
        throw new AppError('VIRTUAL_NAME_CONFLICT',
          `${field}.members[${i}]: tool '${name}' of member '${m.server}' (its '${tool}') conflicts with member '${other}' (its '${clash.tool}'): rename one (rename.${tool}) or use naming 'prefix'`,
          outerAt ?? `${field}.members[${i}]`);
      }
      names.set(name, { member: i, tool });
    }
  }
  return names;
}

/**
 * The checks of a publish: every member exists in the namespace and is published, no cycle
 * through nested virtual servers, and no two members give the same name (for the members whose
 * tools the registry lists; upstream MCP servers that list theirs live are checked by the gateway,
 * which leaves a later member's clashing tool out and logs it).
 */
export async function checkVirtualPublish(v: VirtualServerSpec, owner: VirtualOwner, lookup: (name: string) => Promise<PublishedMember | undefined>): Promise<void> {
  checkVirtualOwnership(v, owner);
  await staticNames(v, lookup, 'virtual', [owner.name]);
}
