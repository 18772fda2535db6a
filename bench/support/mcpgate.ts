/**
 * mcpgate as the benchmarks run it: the compiled CLI (`npm start`'s build) in its own process,
 * the bench backend registered with the Nacos v1 form, MCP servers created with the native API,
 * and the 2026-07-28 stateless tools/call they send. Shared by the gateway and soak benchmarks.
 */
import { spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, TSX, freePort, startProcess } from './procs.js';

/** A running `mcpgate serve`: its process and base URLs. */
export interface Mcpgate {
  child: ChildProcess;
  registry: string;
  gateway: string;
}

const built = new Set<string>();

/** The compiled CLI of the tree at `root` (this one by default), as `npm start` runs it (built once per benchmark run). */
export function compiledCli(root = ROOT): string {
  if (!built.has(root)) {
    const r = spawnSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
    if (r.status !== 0) throw new Error(`tsc -p ${join(root, 'tsconfig.build.json')} failed`);
    built.add(root);
  }
  return join(root, 'dist/cli/main.js');
}

/**
 * The tree of git revision `rev` of this repository, extracted under `dir` (with `git archive`,
 * which writes nothing to the repository) and sharing this tree's node_modules: a build from
 * before a change, to measure side by side with the current one. Returns its root.
 */
export function checkoutRevision(rev: string, dir: string): string {
  if (!/^[\w./@^~-]+$/.test(rev)) throw new Error(`--baseline: '${rev}' is not a git revision`);
  const root = join(dir, `baseline-${rev.replace(/[^\w.-]/g, '_')}`);
  rmSync(root, { recursive: true, force: true });
  mkdirSync(root, { recursive: true });
  const tar = join(dir, 'baseline.tar');
  const archive = spawnSync('git', ['-C', ROOT, 'archive', '--format=tar', '-o', tar, rev], { stdio: 'inherit' });
  if (archive.status !== 0) throw new Error(`git archive ${rev} failed`);
  const untar = spawnSync('tar', ['-xf', tar, '-C', root], { stdio: 'inherit' });
  if (untar.status !== 0) throw new Error(`extracting ${rev} failed`);
  rmSync(tar, { force: true });
  symlinkSync(join(ROOT, 'node_modules'), join(root, 'node_modules'), 'dir');
  return root;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * `mcpgate serve` in its own process, from the compiled build, on fresh loopback ports and a
 * fresh data directory under `work`; `nodeArgs` go before the script (e.g. `--cpu-prof`), `args`
 * after the defaults (they win); `root`: another tree's build (see `checkoutRevision`); `prebuilt`:
 * run that tree's dist/ as it is; `stdout`: a file descriptor for its log lines (default: none kept);
 * `node`: the Node binary (default: this one's).
 */
export async function startMcpgate(work: string, o: { nodeArgs?: string[]; args?: string[]; env?: Record<string, string>; root?: string; prebuilt?: boolean; stdout?: number; node?: string } = {}): Promise<Mcpgate> {
  const [registryPort, gatewayPort] = [await freePort(), await freePort()];
  const root = o.root ?? ROOT;
  if (!o.prebuilt) compiledCli(root);
  const dataDir = mkdtempSync(join(work, 'mcpgate-data-'));
  const child = await startProcess(o.node ?? process.execPath, [
    ...(o.nodeArgs ?? []), join(root, 'bin/mcpgate.js'), 'serve', '--host', '127.0.0.1',
    '--registry-port', String(registryPort), '--gateway-port', String(gatewayPort), '--data-dir', dataDir, '--auth', 'false', '--log-level', 'warn',
    ...(o.args ?? []),
  ], `http://127.0.0.1:${gatewayPort}/healthz`, o.env ?? {}, 30_000, o.stdout);
  const registry = `http://127.0.0.1:${registryPort}`;
  for (let i = 0; !(await fetch(`${registry}/healthz`).then((r) => r.ok, () => false)); i++) {
    if (i > 100) throw new Error('the registry did not answer');
    await sleep(100);
  }
  return { child, registry, gateway: `http://127.0.0.1:${gatewayPort}` };
}

/** The bench backend (bench/gateway/backend.ts) in its own process on a free port. */
export async function startBenchBackend(): Promise<{ child: ChildProcess; port: number }> {
  const port = await freePort();
  const child = await startProcess(process.execPath, ['--import', TSX, join(ROOT, 'bench/gateway/backend.ts'), String(port)], `http://127.0.0.1:${port}/item`);
  return { child, port };
}

/** A GET template printing the backend's JSON as received. */
export const REST_TEMPLATE = {
  request: { url: '/item', method: 'GET', headers: [], argsToUrlParam: true, argsToJsonBody: false, argsToFormBody: false },
  response: { body: '{{.}}' }, argsPosition: {},
};

/** The tool every benchmark calls: GET /item of the backend. */
export const ITEM_TOOL = { name: 'get_item', description: 'Get the item', inputSchema: { type: 'object', properties: {} }, template: REST_TEMPLATE };

/** Register the backend with the Nacos v1 form (the guide's curl command) once per registry. */
export async function registerBackend(m: Mcpgate, backendPort: number): Promise<void> {
  const q = `namespaceId=public&serviceName=bench-backend&groupName=DEFAULT_GROUP&ip=127.0.0.1&port=${backendPort}&ephemeral=false`;
  const r = await fetch(`${m.registry}/nacos/v1/ns/instance?${q}`, { method: 'POST' });
  const text = await r.text();
  if (text !== 'ok') throw new Error(`instance registration answered ${r.status} ${text}`);
}

/** Create an MCP server with the native API, published, its tools calling the backend service. */
export async function createBenchServer(m: Mcpgate, name: string, tools: unknown[]): Promise<void> {
  const r = await fetch(`${m.registry}/api/v1/namespaces/public/mcp-servers`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      name, protocol: 'http', endpoint: { type: 'service', namespace: 'public', group: 'DEFAULT_GROUP', service: 'bench-backend' },
      spec: { version: '1.0.0', description: `benchmark server ${name}`, tools }, publish: true,
    }),
  });
  if (r.status !== 201) throw new Error(`creating MCP server ${name} answered ${r.status} ${await r.text()}`);
}

/** The 2026-07-28 protocol revision and its `_meta` envelope. */
export const MODERN = '2026-07-28';
export const MODERN_META = {
  'io.modelcontextprotocol/protocolVersion': MODERN,
  'io.modelcontextprotocol/clientCapabilities': {},
  'io.modelcontextprotocol/clientInfo': { name: 'bench', version: '1.0.0' },
};
export const ACCEPT = 'application/json, text/event-stream';

/** Headers and body of a tools/call in the 2026-07-28 stateless form. */
export function modernCallRequest(tool: string, args: Record<string, unknown> = {}): { headers: Record<string, string>; body: string } {
  return {
    headers: { 'content-type': 'application/json', accept: ACCEPT, 'mcp-protocol-version': MODERN, 'mcp-method': 'tools/call', 'mcp-name': tool },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: tool, arguments: args, _meta: MODERN_META } }),
  };
}

/** The 2025 protocol revision the benchmarks' sessions speak. */
export const SESSION_VERSION = '2025-06-18';

/** Open a 2025 session at `url` (initialize + notifications/initialized); its id. */
export async function openSession(url: string): Promise<string> {
  const headers = { 'content-type': 'application/json', accept: ACCEPT };
  const r = await fetch(url, { method: 'POST', headers, body: JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: SESSION_VERSION, capabilities: {}, clientInfo: { name: 'bench', version: '1.0.0' } } }) });
  const id = r.headers.get('mcp-session-id');
  await r.text();
  if (r.status !== 200 || !id) throw new Error(`initialize answered ${r.status} without a session id`);
  const n = await fetch(url, { method: 'POST', headers: { ...headers, 'mcp-session-id': id, 'mcp-protocol-version': SESSION_VERSION }, body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }) });
  await n.text();
  if (n.status !== 202) throw new Error(`notifications/initialized answered ${n.status}`);
  return id;
}
