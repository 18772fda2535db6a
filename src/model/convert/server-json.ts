/**
 * The official MCP Registry's `server.json` (schema 2025-09 and later: `name`, `description`,
 * `version`, `remotes[]`, `packages[]`) → an MCP server the gateway fronts: a remote
 * `streamable-http` (preferred) or `sse` becomes an `mcp-streamable` / `mcp-sse` backend at
 * that URL; with no remote, a package run over stdio becomes a `stdio` server whose config is
 * the command line a client would run (`npx -y pkg@version`, `uvx pkg==version`,
 * `docker run -i --rm image:version`), in the `mcpServers` shape Nacos stores.
 */
import { AppError } from '../../lib/errors.js';
import type { Endpoint, McpProtocol, McpServerInput, McpServerSpec } from '../model.js';
import { SERVER_NAME } from '../names.js';
import type { JsonObject } from './higress.js';
import { DEFAULT_SPEC_VERSION, isJsonObject, ownEntry, parseYamlOrJson } from './higress.js';

/** The official name rule: reverse-DNS namespace, one slash, server name. */
export const REGISTRY_NAME = /^[a-zA-Z0-9.-]+\/[a-zA-Z0-9._-]+$/;

/** A converted server.json. */
export interface ServerJsonImport {
  input: McpServerInput;
  spec: McpServerSpec;
  warnings: string[];
}

function refused(field: string, message: string): AppError {
  return new AppError('SERVER_JSON_INVALID', `${field}: ${message}`, field);
}

function str(doc: JsonObject, key: string, field: string, required: boolean): string | undefined {
  const value = ownEntry(doc, key);
  if (value === undefined || value === null) {
    if (required) throw refused(field, 'is required');
    return undefined;
  }
  if (typeof value !== 'string') throw refused(field, 'must be a string');
  return value;
}

/** `{name}` variables of a URL template, replaced by their `default` or `value`; any left is an error. */
function resolveUrl(template: string, variables: unknown, field: string): string {
  const vars = isJsonObject(variables) ? variables : {};
  const url = template.replace(/\{([a-zA-Z_][a-zA-Z0-9_]*)\}/g, (whole, name: string) => {
    const v = ownEntry(vars, name);
    if (isJsonObject(v)) {
      if (typeof v['value'] === 'string') return v['value'];
      if (typeof v['default'] === 'string') return v['default'];
    }
    return whole;
  });
  const left = /\{([^}]*)\}/.exec(url);
  if (left) throw refused(field, `variable {${left[1] ?? ''}} has no default: fill it in the file before importing`);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw refused(field, `${JSON.stringify(url)} is not a URL`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw refused(field, 'must be an http:// or https:// URL');
  return parsed.href;
}

/** The command line a client runs a package with, or undefined for registries without one. */
function commandOf(pkg: JsonObject, field: string): { command: string; args: string[] } | undefined {
  const type = str(pkg, 'registryType', `${field}.registryType`, true) as string;
  const id = str(pkg, 'identifier', `${field}.identifier`, true) as string;
  const version = str(pkg, 'version', `${field}.version`, false);
  const hint = str(pkg, 'runtimeHint', `${field}.runtimeHint`, false);
  const fixed = (list: unknown): string[] => {
    if (!Array.isArray(list)) return [];
    const out: string[] = [];
    for (const a of list) {
      if (!isJsonObject(a)) continue;
      const value = typeof a['value'] === 'string' ? a['value'] : typeof a['default'] === 'string' ? a['default'] : undefined;
      if (a['type'] === 'named' && typeof a['name'] === 'string') out.push(...(value === undefined ? [a['name']] : [`${a['name']}`, value]));
      else if (a['type'] === 'positional' && value !== undefined) out.push(value);
    }
    return out;
  };
  const runtime = fixed(pkg['runtimeArguments']);
  const args = fixed(pkg['packageArguments']);
  switch (type) {
    case 'npm':
      return { command: hint ?? 'npx', args: [...(runtime.length > 0 ? runtime : ['-y']), version ? `${id}@${version}` : id, ...args] };
    case 'pypi':
      return { command: hint ?? 'uvx', args: [...runtime, version ? `${id}==${version}` : id, ...args] };
    case 'oci':
      return { command: hint ?? 'docker', args: ['run', '-i', '--rm', ...runtime, version && !id.includes(':') ? `${id}:${version}` : id, ...args] };
    case 'nuget':
      return { command: hint ?? 'dnx', args: [...runtime, version ? `${id}@${version}` : id, '--yes', ...(args.length > 0 ? ['--', ...args] : [])] };
    default:
      return undefined;
  }
}

/** Converts a server.json document (text or parsed). `name` overrides the mcpgate server name (default: the document's). */
export function fromServerJson(content: string | unknown, opts: { name?: string } = {}): ServerJsonImport {
  const doc = typeof content === 'string' ? parseYamlOrJson(content, 'content') : content;
  if (!isJsonObject(doc)) throw refused('content', 'must be a server.json object');
  // A registry answer (`{server, _meta}`) is accepted as well as the bare file.
  const server = isJsonObject(doc['server']) && doc['name'] === undefined ? doc['server'] : doc;
  const name = str(server, 'name', 'name', true) as string;
  if (!REGISTRY_NAME.test(name) || name.length > 200) throw refused('name', 'must be reverse-DNS with one slash, such as io.github.acme/weather');
  const description = str(server, 'description', 'description', true) as string;
  const version = str(server, 'version', 'version', true) as string;
  if (version === 'latest' || /[\^~*<>=]|\.x\b/.test(version) || version.length > 128) throw refused('version', 'must be one exact version (no range, not latest)');
  const title = str(server, 'title', 'title', false);
  const warnings: string[] = [];

  let protocol: McpProtocol | undefined;
  let endpoint: Endpoint = { type: 'none' };
  let config: JsonObject = {};
  const headers: string[] = [];
  const remotes = ownEntry(server, 'remotes');
  if (remotes !== undefined && !Array.isArray(remotes)) throw refused('remotes', 'must be an array');
  const list = (remotes ?? []) as unknown[];
  const pick = (type: string) => list.findIndex((r) => isJsonObject(r) && r['type'] === type);
  const index = pick('streamable-http') >= 0 ? pick('streamable-http') : pick('sse');
  if (index >= 0) {
    const remote = list[index] as JsonObject;
    const field = `remotes[${index}]`;
    const url = str(remote, 'url', `${field}.url`, true) as string;
    endpoint = { type: 'url', url: resolveUrl(url, remote['variables'], `${field}.url`) };
    protocol = remote['type'] === 'sse' ? 'mcp-sse' : 'mcp-streamable';
    if (list.length > 1) warnings.push(`remotes: ${list.length} remotes; ${field} (${String(remote['type'])}) is the backend`);
    for (const h of Array.isArray(remote['headers']) ? remote['headers'] : []) {
      if (!isJsonObject(h) || typeof h['name'] !== 'string') continue;
      if (typeof h['value'] === 'string') warnings.push(`${field}.headers: ${h['name']} has a fixed value; mcpgate forwards it from the agent instead (set it in the agent's configuration)`);
      headers.push(h['name']);
    }
  } else if (list.length > 0) {
    throw refused('remotes', 'no remote of type streamable-http or sse');
  } else {
    const packages = ownEntry(server, 'packages');
    if (packages !== undefined && !Array.isArray(packages)) throw refused('packages', 'must be an array');
    const pkgs = (packages ?? []) as unknown[];
    for (let i = 0; i < pkgs.length && protocol === undefined; i++) {
      const pkg = pkgs[i];
      const field = `packages[${i}]`;
      if (!isJsonObject(pkg)) throw refused(field, 'must be an object');
      const transport = isJsonObject(pkg['transport']) ? pkg['transport'] : {};
      const kind = transport['type'];
      if (kind === 'streamable-http' || kind === 'sse') {
        warnings.push(`${field}: a package serving ${String(kind)} runs on the client's machine; import it once it runs somewhere the gateway reaches, as a remote`);
        continue;
      }
      const run = commandOf(pkg, field);
      if (!run) {
        warnings.push(`${field}: registry type ${JSON.stringify(pkg['registryType'])} has no known command line`);
        continue;
      }
      const env: Record<string, string> = {};
      for (const e of Array.isArray(pkg['environmentVariables']) ? pkg['environmentVariables'] : []) {
        if (!isJsonObject(e) || typeof e['name'] !== 'string') continue;
        env[e['name']] = typeof e['value'] === 'string' ? e['value'] : typeof e['default'] === 'string' ? e['default'] : '';
        if (e['isRequired'] === true && env[e['name']] === '') warnings.push(`${field}.environmentVariables: ${e['name']} is required; set it in the server's config before publishing`);
      }
      protocol = 'stdio';
      const short = name.slice(name.indexOf('/') + 1);
      config = { mcpServers: { [short]: { command: run.command, args: run.args, ...(Object.keys(env).length > 0 ? { env } : {}) } } };
    }
    if (protocol === undefined) throw refused(pkgs.length > 0 ? 'packages' : 'remotes', 'neither a remote (streamable-http or sse) nor a stdio package mcpgate can front');
  }

  const serverName = opts.name ?? name;
  if (!SERVER_NAME.test(serverName)) throw new AppError('VALIDATION_FAILED', `name: ${JSON.stringify(serverName)} is not a valid MCP server name`, 'name');
  const spec: McpServerSpec = {
    version: /^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$/.test(version) ? version : DEFAULT_SPEC_VERSION,
    description: title ? `${title}: ${description}` : description, config, securitySchemes: [], tools: [], prompts: [],
  };
  return {
    input: { name: serverName, description, protocol, endpoint, ...(headers.length > 0 ? { passthrough: { headers, cookies: [] } } : {}) },
    spec, warnings,
  };
}
