/**
 * The tools/list an agent will see from a virtual server, computed from its members' published
 * versions before it is saved or published (the console's preview): the same naming and the same
 * checks as a publish, so a preview that answers is a spec that publishes.
 */
import type { StoreReader } from '../store/store.js';
import { VIRTUAL_PROTOCOL, checkVirtualOwnership, memberNaming, staticNames, validateVirtualSpec } from '../../model/virtual.js';
import type { PublishedMember, VirtualServerSpec } from '../../model/virtual.js';
import type { McpServer, McpServerSpec, McpServerVersion } from '../../model/model.js';

/** One tool of a preview. */
export interface PreviewTool {
  /** The name agents see. */
  name: string;
  /** The member server and its tool. */
  member: string;
  tool: string;
  description: string;
  /** The member tool's input schema (what the agent's arguments are checked against). */
  inputSchema: Record<string, unknown>;
}

/** What a virtual server would show. */
export interface VirtualPreview {
  tools: PreviewTool[];
  /** Members that list their tools live (upstream MCP servers without a registry catalogue): their tools appear at run time. */
  live: string[];
}

/** Preview a virtual spec for server `name` of `namespace` (`name` may not exist yet). Throws AppError naming the field, as a publish would. */
export async function previewVirtual(store: StoreReader, namespace: string, name: string, virtual: unknown): Promise<VirtualPreview> {
  validateVirtualSpec(virtual);
  const v = virtual as VirtualServerSpec;
  checkVirtualOwnership(v, { namespace, name });
  const specs = new Map<string, McpServerSpec | undefined>();
  const lookup = async (member: string): Promise<PublishedMember | undefined> => {
    const server = await store.getMcpServer(namespace, { name: member });
    if (!server) return undefined;
    const spec = server.publishedVersion ? (await store.getVersion(server.id, server.publishedVersion))?.spec : undefined;
    specs.set(member, spec);
    return { server, spec };
  };
  const names = await staticNames(v, lookup, 'virtual', [name]);
  const tools: PreviewTool[] = [];
  for (const [shown, { member, tool }] of names) {
    const m = v.members[member];
    if (!m) continue;
    const original = specs.get(m.server)?.tools.find((t) => t.name === tool);
    tools.push({ name: shown, member: m.server, tool, description: memberNaming(v, m).describe(tool, original?.description) ?? '', inputSchema: original?.inputSchema ?? { type: 'object' } });
  }
  const order = new Map(v.members.map((m, i) => [m.server, i]));
  tools.sort((a, b) => (order.get(a.member) ?? 0) - (order.get(b.member) ?? 0) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const live: string[] = [];
  for (const m of v.members) {
    const spec = specs.get(m.server);
    if (spec && !spec.virtual && spec.tools.length === 0) {
      const server = await store.getMcpServer(namespace, { name: m.server });
      if (server && server.protocol !== 'http' && server.protocol !== 'https' && server.protocol !== VIRTUAL_PROTOCOL) live.push(m.server);
    }
  }
  return { tools, live };
}

/**
 * A version as an API without a place for members shows it (the Nacos v3 API): a virtual
 * server's tools are the ones agents see from the members the registry lists (named, described
 * and with the input schemas of the preview); any other version unchanged. A virtual server whose
 * members cannot be previewed any more (one deleted or unpublished since) is shown without tools.
 */
export async function withVirtualTools(store: StoreReader, server: McpServer, version: McpServerVersion): Promise<McpServerVersion> {
  if (server.protocol !== VIRTUAL_PROTOCOL || !version.spec.virtual) return version;
  try {
    const { tools } = await previewVirtual(store, server.namespace, server.name, version.spec.virtual);
    return { ...version, spec: { ...version.spec, tools: tools.map((t) => ({ name: t.name, description: t.description, inputSchema: t.inputSchema, enabled: true, template: null })) } };
  } catch {
    return version;
  }
}
