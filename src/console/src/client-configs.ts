/**
 * Ready-to-paste configurations of MCP clients for one server's agent URL. No DOM: unit-tested under Node.
 */

/** The MCP clients the console writes configurations for. */
export const CLIENTS = ['cursor', 'claude-desktop', 'claude-code', 'vscode', 'cherry-studio', 'inspector'] as const;
export type ClientKind = (typeof CLIENTS)[number];

/** One client's configuration: where it goes and what to paste. */
export interface ClientConfig {
  kind: ClientKind;
  /** The file (or place) the text goes into; undefined for a command. */
  file?: string;
  /** `json` to merge into a file, `shell` to run. */
  format: 'json' | 'shell';
  text: string;
}

const KEY = '<consumer key>';

/**
 * The configurations for reaching `url` as `name`; with `needsKey`, each sends
 * `Authorization: Bearer <consumer key>` (a placeholder to replace).
 */
export function clientConfigs(name: string, url: string, needsKey: boolean): ClientConfig[] {
  const headers = needsKey ? { Authorization: `Bearer ${KEY}` } : undefined;
  const json = (v: unknown) => JSON.stringify(v, null, 2);
  const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const header = needsKey ? ` --header ${quote(`Authorization: Bearer ${KEY}`)}` : '';
  return [
    { kind: 'cursor', file: '.cursor/mcp.json', format: 'json', text: json({ mcpServers: { [name]: { url, ...(headers ? { headers } : {}) } } }) },
    {
      kind: 'claude-desktop', file: 'claude_desktop_config.json', format: 'json',
      text: json({
        mcpServers: {
          [name]: {
            command: 'npx', args: ['-y', 'mcp-remote', url, ...(needsKey ? ['--header', 'Authorization:${AUTH_HEADER}'] : [])],
            ...(needsKey ? { env: { AUTH_HEADER: `Bearer ${KEY}` } } : {}),
          },
        },
      }),
    },
    { kind: 'claude-code', format: 'shell', text: `claude mcp add --transport http ${quote(name)} ${quote(url)}${header}` },
    { kind: 'vscode', file: '.vscode/mcp.json', format: 'json', text: json({ servers: { [name]: { type: 'http', url, ...(headers ? { headers } : {}) } } }) },
    {
      kind: 'cherry-studio', format: 'json',
      text: json({ mcpServers: { [name]: { name, type: 'streamableHttp', baseUrl: url, isActive: true, ...(headers ? { headers } : {}) } } }),
    },
    { kind: 'inspector', format: 'shell', text: `npx @modelcontextprotocol/inspector --cli ${quote(url)} --transport http${header} --method tools/list` },
  ];
}

/** The URL agents use for a server: `<gateway>/mcp/<namespace>/<server>`. */
export function agentUrl(gateway: string, ns: string, server: string): string {
  return `${gateway.replace(/\/+$/, '')}/mcp/${encodeURIComponent(ns)}/${server.split('/').map(encodeURIComponent).join('/')}`;
}
