// Checks Higress's public catalogue of REST-to-MCP server definitions
// (plugins/wasm-go/mcp-servers/*/mcp-server.yaml in alibaba/higress) against mcpgate:
// every definition must load (as `mcpgate gateway --definitions` loads it) and a real
// standalone gateway must list all its tools to the MCP SDK's client.
//
//   tsx scripts/check-higress-catalogue.ts PATH
//
// PATH: a checkout of alibaba/higress, its plugins/wasm-go/mcp-servers folder, or a bare git
// repository of it (read with `git archive`). Nothing of the catalogue is kept or committed:
// the definitions are copied into a temporary folder, served from there, and removed.
// Prints one line per definition (tools listed / declared, warnings), each warning (file,
// tool, field), and a summary; exits 1 when a definition does not load or lists fewer tools.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { parse as parseYaml } from 'yaml';
import { startGateway } from '../src/cli/roles.js';
import { loadConfig } from '../src/config/config.js';
import { loadDefinition } from '../src/gateway/sources/file.js';
import { createLogger } from '../src/lib/logger.js';
import type { SpecWarning } from '../src/model/spec-validation.js';

const CATALOGUE = 'plugins/wasm-go/mcp-servers';

/** The catalogue folder under `path`; a bare repository is extracted into `scratch` first. */
function catalogueDir(path: string, scratch: string): string {
  if (existsSync(join(path, CATALOGUE))) return join(path, CATALOGUE);
  if (readdirSync(path).some((d) => existsSync(join(path, d, 'mcp-server.yaml')))) return path;
  const archive = execFileSync('git', ['--git-dir', path, 'archive', 'HEAD', CATALOGUE], { maxBuffer: 256 * 1024 * 1024, stdio: ['ignore', 'pipe', 'ignore'] });
  mkdirSync(scratch, { recursive: true });
  execFileSync('tar', ['-x', '-C', scratch], { input: archive });
  return join(scratch, CATALOGUE);
}

interface Row {
  dir: string;
  server?: string;
  declared: string[];
  listed?: string[];
  warnings: SpecWarning[];
  error?: string;
}

async function main(): Promise<number> {
  const arg = process.argv[2];
  if (!arg) {
    console.error('usage: tsx scripts/check-higress-catalogue.ts PATH (a checkout or bare git repository of alibaba/higress)');
    return 2;
  }
  const scratch = mkdtempSync(join(tmpdir(), 'higress-catalogue-'));
  try {
    const dir = catalogueDir(resolve(arg), join(scratch, 'src'));
    const served = join(scratch, 'definitions');
    mkdirSync(served, { recursive: true });
    const rows: Row[] = [];
    for (const name of readdirSync(dir).sort()) {
      const file = join(dir, name, 'mcp-server.yaml');
      if (!existsSync(file) || !statSync(file).isFile()) continue;
      const text = readFileSync(file, 'utf8');
      const doc = parseYaml(text) as { tools?: { name?: string }[] } | null;
      const row: Row = { dir: name, declared: (doc?.tools ?? []).map((t) => String(t.name)), warnings: [] };
      rows.push(row);
      try {
        const loaded = loadDefinition(text);
        row.server = loaded.name;
        row.warnings = loaded.warnings.map((w) => ({ ...w, file: `${name}/mcp-server.yaml` }));
        cpSync(file, join(served, `${name}.yaml`));
      } catch (err) {
        row.error = err instanceof Error ? err.message : String(err);
      }
    }

    const config = loadConfig('gateway', { gatewayConfig: served, gatewayPort: 0, host: '127.0.0.1', dataDir: join(scratch, 'data') }, {});
    const running = await startGateway(config, createLogger('silent'));
    try {
      const base = `http://127.0.0.1:${running.gateway.port}`;
      for (const row of rows) {
        if (!row.server) continue;
        const client = new Client({ name: 'higress-catalogue-check', version: '1.0.0' });
        try {
          await client.connect(new StreamableHTTPClientTransport(new URL(`${base}/mcp/public/${encodeURIComponent(row.server)}`)));
          row.listed = (await client.listTools()).tools.map((t) => t.name);
        } catch (err) {
          row.error = `tools/list: ${err instanceof Error ? err.message : String(err)}`;
        } finally {
          await client.close().catch(() => undefined);
        }
      }
    } finally {
      await running.close();
    }

    let failed = 0;
    let tools = 0;
    for (const row of rows) {
      const missing = row.listed ? row.declared.filter((t) => !row.listed?.includes(t)) : row.declared;
      const ok = row.error === undefined && missing.length === 0;
      if (!ok) failed++;
      tools += row.listed?.length ?? 0;
      const status = ok ? 'ok  ' : 'FAIL';
      console.log(`${status} ${row.dir.padEnd(50)} ${String(row.listed?.length ?? 0).padStart(3)}/${String(row.declared.length).padEnd(3)} tools${row.warnings.length > 0 ? `, ${row.warnings.length} warning(s)` : ''}${row.error ? `: ${row.error}` : missing.length > 0 ? `: not listed: ${missing.join(', ')}` : ''}`);
      for (const w of row.warnings) console.log(`       warning ${w.file}: ${w.tool ? `tool ${w.tool}: ` : ''}${w.field}: ${w.message}`);
    }
    const warned = rows.reduce((n, r) => n + r.warnings.length, 0);
    console.log(`\n${rows.length - failed} of ${rows.length} definitions load and list all their tools (${tools} tools); ${warned} warning(s); ${failed} failed`);
    return failed === 0 && rows.length > 0 ? 0 : 1;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

process.exitCode = await main();
