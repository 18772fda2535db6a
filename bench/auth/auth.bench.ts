/**
 * The cost of MCP authorization on tools/call: the same tool (GET of the bench backend) on three
 * servers of one `mcpgate serve` process, called in the 2026-07-28 stateless form:
 *
 *   1. `open`: no authorization;
 *   2. `jwt`: OAuth access tokens required, a JWT (ES256) checked against the issuer's cached JWKS;
 *   3. `exchange`: the same, and the backend's token obtained by RFC 8693 token exchange (cached).
 *
 * The issuer is the tests' oidc-provider (test/support/oidc.ts) in this process; the token is a
 * client-credentials token bound to each endpoint by its resource indicator. Rounds alternate
 * the three so that drift in machine load spreads over them; medians are reported. Rewrites the
 * generated block of "## Gateway with OAuth" in docs/benchmarks.md unless `--no-docs`.
 *
 *   npm run bench:auth -- [--seconds 5] [--connections 16] [--rounds 3] [--no-docs]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { autocannonRun } from '../gateway/loaders.js';
import type { LoadFigures } from '../gateway/loaders.js';
import { flag, numberOption } from '../support/args.js';
import { writeBenchSection } from '../support/docs.js';
import { stopProcess } from '../support/procs.js';
import { ITEM_TOOL, modernCallRequest, registerBackend, startBenchBackend, startMcpgate } from '../support/mcpgate.js';
import type { Mcpgate } from '../support/mcpgate.js';
import { startOidcProvider } from '../../test/support/oidc.js';

const seconds = numberOption('seconds', 5);
const connections = numberOption('connections', 16, true);
const rounds = numberOption('rounds', 3, true);

const watchdog = setTimeout(() => {
  console.error('auth benchmark: watchdog expired');
  process.exit(3);
}, (rounds * 3 * (seconds + 5) + 240) * 1000);
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
  const m = await startMcpgate(work);
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
    const figures: Record<keyof typeof shots, LoadFigures[]> = { open: [], jwt: [], exchange: [] };
    const call = modernCallRequest('get_item');
    for (const name of Object.keys(shots) as (keyof typeof shots)[]) {
      const check = await fetch(`${m.gateway}/mcp/public/${name}`, { method: 'POST', headers: { ...call.headers, ...shots[name].headers }, body: call.body });
      if (check.status !== 200) throw new Error(`${name}: tools/call answered ${check.status} ${await check.text()}`);
      // Warm up (JIT, pools, key and exchange caches).
      await autocannonRun({ url: `${m.gateway}/mcp/public/${name}`, method: 'POST', headers: { ...call.headers, ...shots[name].headers }, body: call.body }, { connections, seconds: 2 });
    }
    for (let round = 0; round < rounds; round++) {
      for (const name of Object.keys(shots) as (keyof typeof shots)[]) {
        const f = await autocannonRun({ url: `${m.gateway}/mcp/public/${name}`, method: 'POST', headers: { ...call.headers, ...shots[name].headers }, body: call.body }, { connections, seconds });
        if (f.errors > 0 || f.non2xx > 0) throw new Error(`${name}: ${f.errors} errors, ${f.non2xx} non-2xx answers`);
        figures[name].push(f);
        console.error(`round ${round + 1} ${name}: ${Math.round(f.rps)} req/s, p50 ${f.p50} ms, p99 ${f.p99} ms`);
      }
    }
    const open = median(figures.open.map((f) => f.rps));
    const rows = (Object.keys(figures) as (keyof typeof shots)[]).map((name) => {
      const rps = median(figures[name].map((f) => f.rps));
      const cost = name === 'open' ? '—' : `${(((open - rps) / open) * 100).toFixed(1)} %`;
      return `| ${name} | ${Math.round(rps)} | ${median(figures[name].map((f) => f.p50))} | ${median(figures[name].map((f) => f.p99))} | ${cost} |`;
    });
    const block = [
      `tools/call (2026-07-28, stateless) through \`mcpgate serve\`, ${connections} connections, ${rounds} rounds of ${seconds} s each, medians;`,
      `${cpus().length} CPUs, load average ${loadavg().map((l) => l.toFixed(2)).join(' / ')} at the end; exchanges made: ${idp.exchanges.length}.`,
      '',
      '| server | req/s | p50 ms | p99 ms | throughput cost vs open |',
      '| --- | --- | --- | --- | --- |',
      ...rows,
    ].join('\n');
    console.log(block);
    if (!flag('no-docs')) console.error(`wrote ${writeBenchSection({ heading: 'Gateway with OAuth', name: 'auth', command: 'npm run bench:auth', block })}`);
  } finally {
    await stopProcess(m.child);
    await stopProcess(backend.child);
    await idp.close();
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
