/**
 * Virtual servers: `mcpgate serve` in its own process (the compiled build), a local REST backend, and
 *
 *   1. tools/list of a virtual server of 10 REST members × 50 tools (500 tools, one page), warm:
 *      p50 / p99 of sequential requests in the 2026-07-28 stateless form;
 *   2. cold start: a virtual server over 3 upstream MCP members, one of which never answers:
 *      the first tools/list is bounded by the listing deadline, not by the sum of the members;
 *   3. tools/call through the virtual server beside the member server called directly, in one
 *      run, interleaved rounds (ABBA), 8 concurrent callers each: requests/s, p50, and the
 *      gateway process's CPU time per call (from /proc: on a machine shared with other work, CPU
 *      per call and the ratio of both paths are what stays put; requests/s move with the load);
 *   4. the virtual layer alone, in this process: CPU per tools/call of the routing (name → member,
 *      grants, member context) to a member that answers at once, 10 members × 50 tools.
 *
 *   npm run bench:virtual -- [--rounds 8] [--seconds 3] [--list-calls 500] [--deadline 2000]
 *
 * Everything runs on 127.0.0.1; figures go to stdout as markdown, with the load average.
 */
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'undici';
import { numberOption } from '../support/args.js';
import { ACCEPT, MODERN, MODERN_META, modernCallRequest, startMcpgate } from '../support/mcpgate.js';
import { stopProcess } from '../support/procs.js';
import { groupSeconds } from '../gateway/cpu.js';
import { createLogger } from '../../src/lib/logger.js';
import { memberNaming } from '../../src/model/virtual.js';
import type { VirtualServerSpec } from '../../src/model/virtual.js';
import { JsonText } from '../../src/gateway/mcp/jsonrpc.js';
import type { CallContext } from '../../src/gateway/mcp/call-context.js';
import { callVirtualTool } from '../../src/gateway/mcp/virtual-call.js';
import type { CompiledServer } from '../../src/gateway/snapshot.js';
import { VirtualServer } from '../../src/gateway/virtual/catalogue.js';

const ROUNDS = numberOption('rounds', 8, true);
const SECONDS = numberOption('seconds', 3);
const LIST_CALLS = numberOption('list-calls', 500, true);
const DEADLINE = numberOption('deadline', 2000, true);
const CONCURRENCY = 8;

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
}

async function post(pool: Pool, path: string, headers: Record<string, string>, body: string): Promise<number> {
  const started = performance.now();
  const res = await pool.request({ method: 'POST', path, headers, body });
  await res.body.text();
  if (res.statusCode !== 200) throw new Error(`${path}: HTTP ${res.statusCode}`);
  return performance.now() - started;
}

const listRequest = {
  headers: { 'content-type': 'application/json', accept: ACCEPT, 'mcp-protocol-version': MODERN, 'mcp-method': 'tools/list' },
  body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: { _meta: MODERN_META } }),
};

/** CPU µs per call of the virtual layer alone: `callVirtualTool` routing to a member that answers at once. */
async function routingMicros(calls: number): Promise<number> {
  const spec: VirtualServerSpec = { members: Array.from({ length: 10 }, (_, m) => ({ server: `member${m}` })) };
  const members = spec.members.map((m) => {
    const tools = Array.from({ length: 50 }, (_, t) => ({ name: `tool_${t}`, listEntry: new JsonText(JSON.stringify({ name: `tool_${t}`, description: 'd', inputSchema: { type: 'object' } })) }));
    const server = { key: `public/${m.server}`, name: m.server, namespace: 'public', tools } as unknown as CompiledServer;
    const naming = memberNaming(spec, m);
    return { server, prefix: naming.prefix, naming, promptName: (n: string) => n };
  });
  const v = new VirtualServer('public/wide', spec, members, createLogger('silent'));
  const ctx = { server: { name: 'wide' }, consumer: null, clientHeaders: {}, clientQuery: '', cancellation: {} } as unknown as CallContext;
  const answer = { content: [] };
  const run = (_ctx: CallContext, _method: string, _params: Record<string, unknown>) => Promise.resolve(answer);
  const params = { name: 'member3__tool_7', arguments: {} };
  for (let i = 0; i < 10_000; i++) await callVirtualTool(ctx, v, 'member3__tool_7', params.arguments, params, {}, run);
  const before = process.cpuUsage();
  for (let i = 0; i < calls; i++) await callVirtualTool(ctx, v, 'member3__tool_7', params.arguments, params, {}, run);
  const used = process.cpuUsage(before);
  return (used.user + used.system) / calls;
}

async function main(): Promise<void> {
  const backend = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"id":1,"name":"item","price":10}'));
  const backendPort = await listen(backend);
  // Accepts connections and never answers: a hanging upstream MCP member.
  const silent = createServer(() => undefined);
  const silentPort = await listen(silent);
  const work = mkdtempSync(join(tmpdir(), 'mcpgate-bench-virtual-'));
  const load = () => loadavg().map((x) => x.toFixed(2)).join(' ');
  const loadBefore = load();
  const mcpgate = await startMcpgate(work, { env: { MCPGATE_ADMIN_PASSWORD: 'admin-password-1' } });
  const gatewayPid = mcpgate.child.pid as number;
  const api = new Pool(mcpgate.registry);
  const create = async (body: Record<string, unknown>) => {
    const r = await api.request({ method: 'POST', path: '/api/v1/namespaces/public/mcp-servers', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ publish: true, ...body }) });
    const text = await r.body.text();
    if (r.statusCode !== 201) throw new Error(`create ${String(body.name)}: ${r.statusCode} ${text}`);
  };
  const template = {
    request: { url: '/item', method: 'GET', headers: [], argsToUrlParam: false, argsToJsonBody: false, argsToFormBody: false },
    response: { body: '{{.}}' }, argsPosition: {},
  };
  const members: { server: string }[] = [];
  for (let m = 0; m < 10; m++) {
    const tools = Array.from({ length: 50 }, (_, t) => ({
      name: `tool_${t}`, description: `Tool ${t} of member ${m}: reads an item`, inputSchema: { type: 'object', properties: { id: { type: 'string' } } }, template,
    }));
    await create({ name: `member${m}`, protocol: 'http', endpoint: { type: 'direct', address: '127.0.0.1', port: backendPort }, spec: { version: '1.0.0', tools } });
    members.push({ server: `member${m}` });
  }
  await create({ name: 'wide', protocol: 'virtual', spec: { version: '1.0.0', tools: [], virtual: { members } } });
  const stdio = { command: process.execPath, args: [join(import.meta.dirname, '../../test/fixtures/mcp/stdio-server.mjs')] };
  await create({ name: 'up1', protocol: 'stdio', endpoint: { type: 'none' }, spec: { version: '1.0.0', tools: [], config: stdio } });
  await create({ name: 'up2', protocol: 'stdio', endpoint: { type: 'none' }, spec: { version: '1.0.0', tools: [], config: { ...stdio, upstream: { sessions: 'shared' } } } });
  await create({ name: 'stuck', protocol: 'mcp-streamable', endpoint: { type: 'url', url: `http://127.0.0.1:${silentPort}/mcp` }, spec: { version: '1.0.0', tools: [] } });
  const gateway = new Pool(mcpgate.gateway, { connections: CONCURRENCY * 2 });
  // Wait for the snapshot with the virtual servers.
  for (;;) {
    const r = await gateway.request({ method: 'POST', path: '/mcp/public/wide', ...listRequest });
    await r.body.text();
    if (r.statusCode === 200) break;
    await new Promise((r2) => setTimeout(r2, 50));
  }
  // The cold virtual server is published now: none of its members was contacted before.
  await create({ name: 'cold', protocol: 'virtual', spec: { version: '1.0.0', tools: [], virtual: { members: [{ server: 'up1' }, { server: 'up2' }, { server: 'stuck' }], listDeadlineMs: DEADLINE } } });
  let coldMs = NaN;
  for (;;) {
    const started = performance.now();
    const r = await gateway.request({ method: 'POST', path: '/mcp/public/cold', ...listRequest });
    const text = await r.body.text();
    if (r.statusCode === 200) {
      coldMs = performance.now() - started;
      const n = (JSON.parse(text) as { result: { tools: unknown[] } }).result.tools.length;
      console.log(`cold tools/list: ${coldMs.toFixed(0)} ms (deadline ${DEADLINE} ms; 2 stdio members started, 1 hanging), ${n} tools`);
      break;
    }
    await new Promise((r2) => setTimeout(r2, 20));
  }

  // 1. warm tools/list of 500 tools.
  for (let i = 0; i < 50; i++) await post(gateway, '/mcp/public/wide', listRequest.headers, listRequest.body);
  const lists: number[] = [];
  for (let i = 0; i < LIST_CALLS; i++) lists.push(await post(gateway, '/mcp/public/wide', listRequest.headers, listRequest.body));
  lists.sort((a, b) => a - b);

  // 3. tools/call, virtual vs direct, interleaved rounds.
  const direct = modernCallRequest('tool_7', { id: '1' });
  const viaVirtual = modernCallRequest('member3__tool_7', { id: '1' });
  interface Round { rps: number; p50: number; calls: number; cpu: number }
  const run = async (path: string, req: { headers: Record<string, string>; body: string }): Promise<Round> => {
    const cpuBefore = groupSeconds([gatewayPid]);
    const started = performance.now();
    const until = started + SECONDS * 1000;
    const times: number[] = [];
    await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < until) times.push(await post(gateway, path, req.headers, req.body));
    }));
    const seconds = (performance.now() - started) / 1000;
    const cpu = groupSeconds([gatewayPid]) - cpuBefore;
    times.sort((a, b) => a - b);
    return { rps: times.length / seconds, p50: quantile(times, 0.5), calls: times.length, cpu };
  };
  await run('/mcp/public/member3', direct);
  await run('/mcp/public/wide', viaVirtual);
  const figures = { direct: [] as Round[], virtual: [] as Round[] };
  for (let r = 0; r < ROUNDS; r++) {
    // ABBA: each path runs first in half the rounds, so a drift of the machine's load weighs on both alike.
    if (r % 4 === 0 || r % 4 === 3) {
      figures.direct.push(await run('/mcp/public/member3', direct));
      figures.virtual.push(await run('/mcp/public/wide', viaVirtual));
    } else {
      figures.virtual.push(await run('/mcp/public/wide', viaVirtual));
      figures.direct.push(await run('/mcp/public/member3', direct));
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
  const rps = (xs: Round[]) => xs.reduce((t, x) => t + x.rps, 0) / xs.length;
  const cpuPerCall = (xs: Round[]) => (xs.reduce((t, x) => t + x.cpu, 0) / xs.reduce((t, x) => t + x.calls, 0)) * 1e6;
  const d = rps(figures.direct);
  const v = rps(figures.virtual);
  const dCpu = cpuPerCall(figures.direct);
  const vCpu = cpuPerCall(figures.virtual);
  // Per round: the virtual path's throughput and CPU per call against the direct one's run beside it.
  const rpsRatios = figures.virtual.map((x, i) => x.rps / (figures.direct[i]?.rps ?? NaN) - 1);
  const cpuRatios = figures.virtual.map((x, i) => (x.cpu / x.calls) / ((figures.direct[i]?.cpu ?? NaN) / (figures.direct[i]?.calls ?? NaN)) - 1);
  const pct = (x: number) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)} %`;
  console.log(`\nload average (1, 5, 15 min): ${loadBefore} before, ${load()} after; ${ROUNDS} interleaved rounds of ${SECONDS} s, ${CONCURRENCY} callers`);
  console.log('\n| measure | figure |\n| --- | --- |');
  console.log(`| tools/list, virtual server of 10 × 50 tools, warm, p50 | ${quantile(lists, 0.5).toFixed(2)} ms (p99 ${quantile(lists, 0.99).toFixed(2)} ms, ${LIST_CALLS} sequential) |`);
  console.log(`| cold tools/list, 3 upstream MCP members (1 hanging), deadline ${DEADLINE} ms | ${coldMs.toFixed(0)} ms |`);
  console.log(`| tools/call direct to the member | ${d.toFixed(0)} req/s, p50 ${median(figures.direct.map((x) => x.p50)).toFixed(2)} ms, gateway CPU ${dCpu.toFixed(0)} µs/call |`);
  console.log(`| tools/call through the virtual server | ${v.toFixed(0)} req/s (${pct(v / d - 1)}; per-round median ${pct(median(rpsRatios))}), p50 ${median(figures.virtual.map((x) => x.p50)).toFixed(2)} ms, gateway CPU ${vCpu.toFixed(0)} µs/call (${pct(vCpu / dCpu - 1)}; per-round median ${pct(median(cpuRatios))}) |`);
  const routing = await routingMicros(200_000);
  console.log(`| the virtual layer alone (routing to a member that answers at once), CPU per tools/call | ${routing.toFixed(2)} µs (${((routing / dCpu) * 100).toFixed(2)} % of a direct call's gateway CPU) |`);
  console.log(`\nper round, virtual vs direct: req/s ${rpsRatios.map(pct).join(', ')}; CPU/call ${cpuRatios.map(pct).join(', ')}`);
  await gateway.close();
  await api.close();
  await stopProcess(mcpgate.child);
  rmSync(work, { recursive: true, force: true });
  silent.closeAllConnections();
  silent.close();
  backend.close();
}

const watchdog = setTimeout(() => { console.error('watchdog: the benchmark took too long'); process.exit(2); }, 10 * 60_000);
watchdog.unref();
main().then(() => process.exit(0), (err: unknown) => { console.error(err); process.exit(1); });
