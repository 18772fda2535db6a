/**
 * The registry's CPU per request through its HTTP application, in this process: Fastify's
 * `inject` (no sockets: the hooks, the Nacos handler, the domain and the store, here SQLite in
 * memory unless `--db URL`), 64 requests at a time, `/healthz` (the hooks every request runs)
 * and Nacos v1 registrations of new ephemeral instances. Two compiled builds (`--baseline DIR`,
 * an older checkout with its node_modules linked and built with `tsc -p tsconfig.build.json`,
 * against this one) run alternately (ABBA…) in the same process; medians printed. Process CPU
 * per request depends much less on other work on the machine than throughput does.
 *
 *   npx tsx bench/registry/http.bench.ts --baseline DIR [--count 2000] [--rounds 4] [--db URL] [--no-build]
 *
 * `--no-build`: use the builds as they are (both built before).
 */
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { loadavg } from 'node:os';
import type { FastifyInstance } from 'fastify';
import { ROOT } from '../support/procs.js';
import { compiledCli } from '../support/mcpgate.js';

const text = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const baseline = text('baseline');
if (!baseline) throw new Error('--baseline DIR: the build to compare with');
const count = Number(text('count') ?? 2000);
const rounds = Number(text('rounds') ?? 4);
const db = text('db') ?? 'sqlite::memory:';

async function app(root: string): Promise<FastifyInstance> {
  if (!process.argv.includes('--no-build')) compiledCli(root);
  const mod = (p: string) => import(pathToFileURL(join(root, 'dist', p)).href);
  const [{ openStore }, { createRegistryServices }, { buildRegistryHttp }, { createLogger }] = await Promise.all([
    mod('registry/store/open.js'), mod('registry/services.js'), mod('registry/http/server.js'), mod('lib/logger.js'),
  ]);
  const logger = createLogger('warn');
  const store = await openStore(db);
  const services = createRegistryServices(store, 3600, Date.now, { logger });
  await services.naming.ensurePublicNamespace();
  const http = (await buildRegistryHttp(services, {
    logger, bodyLimitBytes: 1 << 20, authEnabled: false, role: 'registry', bindHost: '127.0.0.1', ready: async () => true,
  })) as FastifyInstance;
  await http.ready();
  return http;
}

let next = 0;
const query = (i: number) => `serviceName=bench-${i % 50}&ip=10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}&port=${8000 + (i % 1000)}&namespaceId=public&ephemeral=true`;

/** CPU µs of this process per request, `count` requests 64 at a time. */
async function run(a: FastifyInstance, mode: 'health' | 'register'): Promise<number> {
  const t0 = process.cpuUsage();
  for (let done = 0; done < count; done += 64) {
    await Promise.all(Array.from({ length: 64 }, async () => {
      const r = mode === 'register'
        ? await a.inject({ method: 'POST', url: `/nacos/v1/ns/instance?${query(next++)}`, headers: { host: '127.0.0.1' } })
        : await a.inject({ method: 'GET', url: '/healthz', headers: { host: '127.0.0.1' } });
      if (r.statusCode !== 200) throw new Error(`${mode}: ${r.statusCode} ${r.body}`);
    }));
  }
  const u = process.cpuUsage(t0);
  return (u.user + u.system) / count;
}

const builds = [{ name: 'baseline', app: await app(baseline) }, { name: 'this', app: await app(ROOT) }];
const load = loadavg().map((x) => x.toFixed(1)).join(', ');
const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;
console.log(`${count} requests per run, ${rounds} rounds, ${db}; load average before ${load}`);
console.log('| requests | build | CPU µs/request (median) | runs |\n| --- | --- | --- | --- |');
for (const mode of ['health', 'register'] as const) {
  for (const b of builds) await run(b.app, mode); // warm-up
  const cpu = builds.map(() => [] as number[]);
  for (let r = 0; r < rounds; r++) {
    for (const k of r % 2 === 0 ? [0, 1] : [1, 0]) cpu[k]!.push(await run(builds[k]!.app, mode));
  }
  builds.forEach((b, k) => console.log(`| ${mode === 'health' ? 'GET /healthz' : 'POST /nacos/v1/ns/instance'} | ${b.name} | ${median(cpu[k]!).toFixed(0)} | ${cpu[k]!.map((x) => x.toFixed(0)).join(' ')} |`));
}
console.log(`load average after ${loadavg().map((x) => x.toFixed(1)).join(', ')}`);
await Promise.all(builds.map((b) => b.app.close()));
process.exit(0);
