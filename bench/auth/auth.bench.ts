/**
 * The cost of MCP authorization on tools/call: the same tool (GET of the bench backend) on three
 * servers of one `mcpgate serve` process, called in the 2026-07-28 stateless form:
 *
 *   1. `open`: no authorization;
 *   2. `jwt`: OAuth access tokens required, a JWT (ES256) checked against the issuer's cached JWKS;
 *   3. `exchange`: the same, and the backend's token obtained by RFC 8693 token exchange (cached).
 *
 * The issuer is the tests' oidc-provider (test/support/oidc.ts) in this process; the token is a
 * client-credentials token bound to each endpoint by its resource indicator. Rounds interleave
 * the three (each round in a rotated order) so that drift in machine load spreads over them;
 * medians are reported. Besides throughput (which on a shared machine moves with the other
 * processes' load), the `serve` process's CPU time per call is measured from /proc (user +
 * system over the calls of the run): the gateway's own cost, which other load barely moves.
 * Rewrites the generated block of "## Gateway with OAuth" in docs/benchmarks.md unless `--no-docs`;
 * with `--profile DIR`, `serve` runs under `node --cpu-prof` and the self-time summary of the
 * profile is printed (figures are then not written to the docs).
 *
 *   npm run bench:auth -- [--seconds 5] [--connections 16] [--rounds 3] [--no-docs] [--profile DIR]
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { autocannonRun } from '../gateway/loaders.js';
import type { LoadFigures } from '../gateway/loaders.js';
import { groupSeconds } from '../gateway/cpu.js';
import { summariseProfile } from '../gateway/cpuprofile.js';
import { flag, numberOption, textOption } from '../support/args.js';
import { writeBenchSection } from '../support/docs.js';
import { ROOT, stopProcess } from '../support/procs.js';
import { ITEM_TOOL, modernCallRequest, registerBackend, startBenchBackend, startMcpgate } from '../support/mcpgate.js';
import type { Mcpgate } from '../support/mcpgate.js';
import { startOidcProvider } from '../../test/support/oidc.js';

const seconds = numberOption('seconds', 5);
const connections = numberOption('connections', 16, true);
const rounds = numberOption('rounds', 3, true);
const profileDir = textOption('profile', '');
/** Calls of each server before measuring. */
const WARM_UP_CALLS = 5000;

const watchdog = setTimeout(() => {
  console.error('auth benchmark: watchdog expired');
  process.exit(3);
}, (rounds * 3 * (seconds + 5) + 900) * 1000);
watchdog.unref();

async function createServer(m: Mcpgate, name: string, authorization: unknown): Promise<void> {
  const r = await fetch(`${m.registry}/api/v1/namespaces/public/mcp-servers`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      name, protocol: 'http', endpoint: { type: 'service', namespace: 'public', group: 'DEFAULT_GROUP', service: 'bench-backend' },
      passthrough: { headers: ['authorization'], cookies: [] }, publish: true,
      spec: { version: '1.0.0', description: `benchmark server ${name}`, tools: [ITEM_TOOL], ...(authorization ? { authorization } : {}) },
    }),
  });
  if (r.status !== 201) throw new Error(`creating MCP server ${name} answered ${r.status} ${await r.text()}`);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'mcpgate-bench-auth-'));
  const idp = await startOidcProvider({ scopes: ['mcp', 'tools:jwt:*', 'tools:exchange:*'] });
  const backend = await startBenchBackend();
  if (profileDir) mkdirSync(profileDir, { recursive: true });
  const m = await startMcpgate(work, profileDir ? { nodeArgs: ['--cpu-prof', '--cpu-prof-dir', profileDir] } : {});
  try {
    await registerBackend(m, backend.port);
    const issuers = [{ issuer: idp.issuer }];
    await createServer(m, 'open', undefined);
    await createServer(m, 'jwt', { enabled: true, issuers, requiredScopes: ['mcp'] });
    await createServer(m, 'exchange', {
      enabled: true, issuers, requiredScopes: ['mcp'],
      tokenExchange: { tokenEndpoint: `${idp.issuer}/token`, clientId: idp.gatewayClient.clientId, clientSecret: idp.gatewayClient.clientSecret, audience: 'https://backend.internal' },
    });
    const tokenFor = async (name: string): Promise<string> => {
      const r = await fetch(`${idp.issuer}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${idp.gatewayClient.clientId}:${idp.gatewayClient.clientSecret}`).toString('base64')}` },
        body: new URLSearchParams({ grant_type: 'client_credentials', scope: `mcp tools:${name}:*`, resource: `${m.gateway}/mcp/public/${name}` }).toString(),
      });
      const body = await r.json() as { access_token?: string };
      if (!body.access_token) throw new Error(`no token for ${name}: ${JSON.stringify(body)}`);
      return body.access_token;
    };
    const shots = {
      open: { headers: {} as Record<string, string> },
      jwt: { headers: { authorization: `Bearer ${await tokenFor('jwt')}` } },
      exchange: { headers: { authorization: `Bearer ${await tokenFor('exchange')}` } },
    };
    type Name = keyof typeof shots;
    const figures: Record<Name, LoadFigures[]> = { open: [], jwt: [], exchange: [] };
    /** Gateway CPU µs per call, per round. */
    const cpu: Record<Name, number[]> = { open: [], jwt: [], exchange: [] };
    const names = Object.keys(shots) as Name[];
    const call = modernCallRequest('get_item');
    for (const name of Object.keys(shots) as (keyof typeof shots)[]) {
      const check = await fetch(`${m.gateway}/mcp/public/${name}`, { method: 'POST', headers: { ...call.headers, ...shots[name].headers }, body: call.body });
      if (check.status !== 200) throw new Error(`${name}: tools/call answered ${check.status} ${await check.text()}`);
    }
    // Warm up (JIT, pools, key and exchange caches) by calls, not by time: on a loaded machine 2 s may be a few hundred calls.
    for (let done = 0, started = Date.now(); done < WARM_UP_CALLS && Date.now() - started < 60_000;) {
      for (const name of Object.keys(shots) as (keyof typeof shots)[]) {
        done += (await autocannonRun({ url: `${m.gateway}/mcp/public/${name}`, method: 'POST', headers: { ...call.headers, ...shots[name].headers }, body: call.body }, { connections, seconds: 1 })).total / 3;
      }
    }
    const loadAtStart = loadavg();
    for (let round = 0; round < rounds; round++) {
      // Rotate the order each round, so that no server always runs first (or after the same one).
      for (const name of names.map((_, i) => names[(i + round) % names.length]!)) {
        const before = groupSeconds([m.child.pid!]);
        const f = await autocannonRun({ url: `${m.gateway}/mcp/public/${name}`, method: 'POST', headers: { ...call.headers, ...shots[name].headers }, body: call.body }, { connections, seconds });
        const usPerCall = ((groupSeconds([m.child.pid!]) - before) * 1e6) / Math.max(1, f.total);
        if (f.errors > 0 || f.non2xx > 0) throw new Error(`${name}: ${f.errors} errors, ${f.non2xx} non-2xx answers`);
        figures[name].push(f);
        cpu[name].push(usPerCall);
        console.error(`round ${round + 1} ${name}: ${Math.round(f.rps)} req/s, p50 ${f.p50} ms, p99 ${f.p99} ms, gateway CPU ${Math.round(usPerCall)} µs/call, load ${loadavg()[0]!.toFixed(2)}`);
      }
    }
    // Costs are medians of each round's own ratio to the open server's run of the same round (paired), so that load drifting between rounds cancels out.
    const pct = (x: number) => `${x.toFixed(1)} %`;
    const paired = (xs: number[], base: number[], lower: boolean) => median(xs.map((x, i) => (lower ? (base[i]! - x) / base[i]! : (x - base[i]!) / base[i]!) * 100));
    const rows = names.map((name) => {
      const rps = median(figures[name].map((f) => f.rps));
      const us = median(cpu[name]);
      const cost = name === 'open' ? '—' : pct(paired(figures[name].map((f) => f.rps), figures.open.map((f) => f.rps), true));
      const cpuCost = name === 'open' ? '—' : pct(paired(cpu[name], cpu.open, false));
      return `| ${name} | ${Math.round(rps)} | ${median(figures[name].map((f) => f.p50))} | ${median(figures[name].map((f) => f.p99))} | ${cost} | ${Math.round(us)} | ${cpuCost} |`;
    });
    const block = [
      `tools/call (2026-07-28, stateless) through \`mcpgate serve\`, ${connections} connections, ${rounds} interleaved rounds of ${seconds} s each (order rotated per round), medians;`,
      `${cpus().length} CPUs shared with the load generator, the backend and the provider; load average ${loadAtStart.map((l) => l.toFixed(2)).join(' / ')} at the start,`,
      `${loadavg().map((l) => l.toFixed(2)).join(' / ')} at the end; exchanges made: ${idp.exchanges.length}. Gateway CPU is the \`serve\` process's user + system`,
      'time (/proc) over the calls of each run: the steadier figure when other processes share the cores. Costs are the median over rounds of each',
      'round\'s ratio to the open server in the same round.',
      '',
      '| server | req/s | p50 ms | p99 ms | throughput cost vs open | gateway CPU µs/call | CPU cost vs open |',
      '| --- | --- | --- | --- | --- | --- | --- |',
      ...rows,
    ].join('\n');
    console.log(block);
    if (!flag('no-docs') && !profileDir) console.error(`wrote ${writeBenchSection({ heading: 'Gateway with OAuth', name: 'auth', command: 'npm run bench:auth', block })}`);
  } finally {
    await stopProcess(m.child);
    if (profileDir) {
      for (const f of readdirSync(profileDir).filter((x) => x.endsWith('.cpuprofile'))) {
        const p = summariseProfile(join(profileDir, f), ROOT, undefined, 40);
        console.error(`${f}: ${Math.round(p.busyMs)} ms busy of ${Math.round(p.totalMs)} ms`);
        for (const fn of p.functions) console.error(`  ${fn.ms.toFixed(0).padStart(6)} ms ${(fn.share * 100).toFixed(1).padStart(5)} %  ${fn.name}  ${fn.where}`);
      }
    }
    await stopProcess(backend.child);
    await idp.close();
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
