/**
 * `mcpgate import openapi FILE|URL` and `mcpgate import server-json FILE|URL`: convert a
 * document into an MCP server of a running registry, through its import API (the registry
 * converts, checks and stores; a URL is fetched by the registry under its import limits). Any
 * other first argument is a backup file, handed to the backup import when this build has one.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { fetchDocument } from '../tools/document-fetch.js';
import type { SpecWarning } from '../model/spec-validation.js';

/** What the `import` commands write and read, replaceable in tests. */
export interface ImportIo {
  out: (text: string) => void;
  err: (text: string) => void;
  env: NodeJS.ProcessEnv;
  fetch: typeof fetch;
}

/** Options common to both catalogue imports. */
interface CatalogueFlags {
  registry?: string;
  token?: string;
  namespace: string;
  server?: string;
  version?: string;
  publish?: boolean;
  dryRun?: boolean;
  toolPrefix?: string;
  baseUrl?: string;
  passthrough?: boolean;
  localFetch?: boolean;
}

/** Largest file sent as content (the registry's default body limit is 1 MiB; JSON escaping grows it). */
const MAX_FILE_BYTES = 900 * 1024;

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

async function runCatalogueImport(kind: 'openapi' | 'server-json', source: string, flags: CatalogueFlags, io: ImportIo): Promise<number> {
  const registry = (flags.registry ?? io.env.MCPGATE_REGISTRY_URL ?? 'http://127.0.0.1:8848').replace(/\/+$/, '');
  const token = flags.token ?? io.env.MCPGATE_REGISTRY_TOKEN;
  const body: Record<string, unknown> = {};
  if (/^https?:\/\//i.test(source) && flags.localFetch) {
    // This machine fetches (what it may reach, e.g. an API on localhost), the registry converts.
    try {
      const fetched = await fetchDocument(source, { allowPrivate: true, maxBytes: MAX_FILE_BYTES, timeoutMs: 30_000 });
      body.content = fetched.text;
      if (kind === 'openapi') body.documentUrl = fetched.url;
    } catch (err) {
      io.err(`mcpgate: cannot fetch ${source}: ${describe(err)}\n`);
      return 1;
    }
  } else if (/^https?:\/\//i.test(source)) body.url = source;
  else {
    let text: string;
    try {
      const buf = readFileSync(source);
      if (buf.length > MAX_FILE_BYTES) {
        io.err(`mcpgate: ${source} is ${buf.length} bytes; files over ${MAX_FILE_BYTES} bytes are imported by URL (the registry fetches up to importMaxBytes)\n`);
        return 2;
      }
      text = buf.toString('utf8');
    } catch (err) {
      io.err(`mcpgate: cannot read ${source}: ${describe(err)}\n`);
      return 2;
    }
    body.content = text;
  }
  if (flags.server) body.name = flags.server;
  if (flags.version) body.version = flags.version;
  if (kind === 'openapi') {
    if (flags.toolPrefix) body.toolPrefix = flags.toolPrefix;
    if (flags.baseUrl) body.baseUrl = flags.baseUrl;
    if (flags.passthrough) body.passthrough = true;
  }
  const ns = encodeURIComponent(flags.namespace);
  const path = flags.dryRun ? `/api/v1/namespaces/${ns}/mcp-servers/import/preview` : `/api/v1/namespaces/${ns}/mcp-servers/import/${kind}`;
  if (flags.dryRun) body.format = kind;
  else body.publish = flags.publish ?? false;
  let res: Response;
  try {
    res = await io.fetch(`${registry}${path}`, {
      method: 'POST', headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify(body),
    });
  } catch (err) {
    io.err(`mcpgate: cannot reach the registry at ${registry}: ${describe((err as { cause?: unknown }).cause ?? err)}\n`);
    return 1;
  }
  const answer = await res.json().catch(() => ({})) as Record<string, unknown>;
  if (!res.ok) {
    const e = (answer.error ?? {}) as { code?: string; message?: string; field?: string };
    io.err(`mcpgate: import refused (HTTP ${res.status} ${e.code ?? ''}): ${e.message ?? JSON.stringify(answer)}\n`);
    if (e.code === 'IMPORT_URL_REFUSED' && body.url !== undefined) io.err('mcpgate: to fetch it from this machine instead, add --local-fetch\n');
    return 1;
  }
  const warnings = Array.isArray(answer.warnings) ? answer.warnings as SpecWarning[] : [];
  for (const w of warnings) io.err(`warning: ${[w.file, w.tool, w.field].filter(Boolean).join(' · ')}: ${w.message}\n`);
  if (flags.dryRun) {
    const server = answer.server as { name?: string; protocol?: string };
    const tools = (answer.tools ?? []) as { name: string; request: { method: string; url: string } | null }[];
    io.out(`${server.name ?? '(no name)'} ${(answer.spec as { version?: string }).version ?? ''}: ${tools.length} tool(s)${answer.valid ? '' : ' — would be refused: ' + String((answer.error as { message?: string } | null)?.message)}\n`);
    for (const t of tools) io.out(`  ${t.name}${t.request ? `  ${t.request.method} ${t.request.url}` : ''}\n`);
    return answer.valid ? 0 : 1;
  }
  const versions = (answer.versions ?? []) as { version: string; status: string; toolCount: number }[];
  const latest = versions.find((v) => v.version === answer.latestVersion) ?? versions[versions.length - 1];
  io.out(`${res.status === 201 ? 'created' : 'updated'} ${String(answer.name)} in ${flags.namespace}: version ${latest?.version ?? '?'} (${latest?.status ?? '?'}), ${latest?.toolCount ?? 0} tool(s)\n`);
  if (latest?.status === 'draft') io.out(`publish it: POST ${registry}/api/v1/namespaces/${ns}/mcp-servers/${encodeURIComponent(String(answer.name))}/versions/${encodeURIComponent(latest.version)}/publish (or the console)\n`);
  return 0;
}

/**
 * Adds `import openapi`, `import server-json` and, for any other first argument, the backup
 * import (`backup`, when this build has one). `setExit` receives the exit code.
 */
export function addImportCommands(
  program: Command, setExit: (code: number) => void,
  opts: { backup?: (file: string, argv: string[]) => Promise<number>; io?: Partial<ImportIo> } = {},
): void {
  const io: ImportIo = { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t), env: process.env, fetch: globalThis.fetch, ...opts.io };
  const imp = program.command('import').description('Import into a registry: an OpenAPI 3 document, an MCP Registry server.json, or a backup file');
  const common = (cmd: Command) => cmd
    .option('--registry <url>', 'registry base URL [env MCPGATE_REGISTRY_URL; default http://127.0.0.1:8848]')
    .option('--token <token>', 'API token or access token of an editor of the namespace [env MCPGATE_REGISTRY_TOKEN]')
    .option('-n, --namespace <ns>', 'namespace to import into', 'public')
    .option('-s, --server <name>', 'MCP server name (default: from the document)')
    .option('--version <version>', 'version to create (default: from the document)')
    .option('--publish', 'publish the imported version (default: keep it a draft)')
    .option('--dry-run', 'convert and check only: print the tools, save nothing');
  common(imp.command('openapi').argument('<source>', 'OpenAPI 3.0/3.1 file (JSON or YAML) or http(s) URL').description('Each operation of an OpenAPI 3 document becomes a REST tool'))
    .option('--tool-prefix <prefix>', 'put before every tool name')
    .option('--base-url <url>', "the backend's base URL, instead of the document's servers")
    .option('--passthrough', "forward the agent's credential to the backend for every security scheme")
    .option('--local-fetch', 'fetch the URL from this machine (an API on localhost, say) instead of having the registry fetch it')
    .action(async (source: string, flags: CatalogueFlags) => setExit(await runCatalogueImport('openapi', source, flags, io)));
  common(imp.command('server-json').argument('<source>', 'server.json file or http(s) URL').description('An MCP Registry server.json becomes an MCP server fronted by the gateway'))
    .option('--local-fetch', 'fetch the URL from this machine instead of having the registry fetch it')
    .action(async (source: string, flags: CatalogueFlags) => setExit(await runCatalogueImport('server-json', source, flags, io)));
  imp.command('backup', { isDefault: true, hidden: true }).argument('<file>').allowUnknownOption().allowExcessArguments()
    .action(async (file: string, _flags: unknown, cmd: Command) => {
      if (!opts.backup) {
        io.err(`mcpgate: unknown import ${JSON.stringify(file)}: use "mcpgate import openapi FILE|URL" or "mcpgate import server-json FILE|URL" (backup import is not in this build)\n`);
        setExit(2);
        return;
      }
      setExit(await opts.backup(file, cmd.args.slice(1)));
    });
}
