/**
 * Registry throughput: Nacos v1 instance registrations and heartbeats over HTTP from
 * concurrent clients, on SQLite, PostgreSQL and MariaDB/MySQL (those that answer), beside a
 * bare Fastify "ok" endpoint as the ceiling of the HTTP stack on the same machine. The
 * server runs in its own process; autocannon runs here.
 *
 *   npm run bench:registry -- [--seconds 10] [--connections 64] [--db sqlite,postgres,mysql] [--baseline DIR] [--rounds 1] [--no-beats] [--cpu-prof DIR]
 *
 * `--baseline DIR`: also run the registry of another checkout (an older commit, extracted with
 * `git archive`, its node_modules linked), alternating with this one on every database, so a
 * before/after comparison shares one run and the same load on the machine. Both run from their
 * compiled build (`tsc -p tsconfig.build.json`, done here before the runs). `--rounds N`: N runs
 * of each, the builds' order alternating between rounds (ABBA…), and a summary of the medians:
 * on a machine shared with other work, single runs swing with its load. `--no-beats`: registrations only.
 * `--cpu-prof DIR`: the registry processes write V8 CPU profiles (`node --cpu-prof`) into DIR, one
 * per run, to open in Chrome DevTools or summarise. The last column, load generator CPU µs per
 * request, is autocannon's (this process): beside the registry's, it shows whether the load
 * generator, sharing the machine's cores, is what limits a run.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import pg from 'pg';
import { createConnection } from 'mysql2/promise';
import { loadavg } from 'node:os';
import { ROOT, TSX, freePort, load, startProcess, stopProcess } from '../support/procs.js';
import { compiledCli } from '../support/mcpgate.js';
import { processCpuMs } from '../gateway/cpu.js';
import type { LoadResult } from '../support/procs.js';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const text = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const seconds = arg('seconds', 10);
const wanted = new Set((text('db') ?? 'sqlite,postgres,mysql').split(','));
const baseline = text('baseline');
const connections = arg('connections', 64);
const rounds = arg('rounds', 1);
const beats = !process.argv.includes('--no-beats');
const cpuProf = text('cpu-prof');
const SERVICES = 50;

/** `mcpgate registry` from the compiled build of `root`, as `npm start` runs it (tsx's transform adds work to every function it defines). */
async function registry(db: string, root = ROOT) {
  const port = await freePort();
  const profile = cpuProf ? ['--cpu-prof', '--cpu-prof-dir', cpuProf] : [];
  const child = await startProcess(process.execPath, [...profile, compiledCli(root), 'registry', '--host', '127.0.0.1', '--registry-port', String(port), '--db', db, '--auth', 'false', '--log-level', 'warn'], `http://127.0.0.1:${port}/healthz`, {}, 120_000);
  return { child, base: `http://127.0.0.1:${port}` };
}

function instanceQuery(n: number): string {
  return `serviceName=bench-${n % SERVICES}&ip=10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}&port=${8000 + (n % 1000)}&namespaceId=public`;
}

async function registrations(base: string): Promise<LoadResult> {
  let n = 0;
  return load({
    url: base, connections, duration: seconds,
    requests: [{ method: 'POST', setupRequest: (req) => ({ ...req, path: `/nacos/v1/ns/instance?${instanceQuery(n++)}&ephemeral=true` }) }],
  });
}

async function heartbeats(base: string, population: number, duration = seconds): Promise<LoadResult> {
  let n = 0;
  return load({
    url: base, connections, duration,
    requests: [{ method: 'PUT', setupRequest: (req) => ({ ...req, path: `/nacos/v1/ns/instance/beat?${instanceQuery(n++ % population)}` }) }],
  });
}

async function postgresDb(): Promise<{ url: string; drop: () => Promise<void> } | undefined> {
  const admin = process.env.MCPGATE_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const name = `mcpgate_bench_${randomBytes(4).toString('hex')}`;
  const c = new pg.Client({ connectionString: admin });
  try {
    await c.connect();
    await c.query(`CREATE DATABASE ${name}`);
  } catch {
    return undefined;
  } finally {
    await c.end().catch(() => undefined);
  }
  const u = new URL(admin);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    drop: async () => {
      const d = new pg.Client({ connectionString: admin });
      await d.connect();
      await d.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await d.end();
    },
  };
}

async function mysqlDb(): Promise<{ url: string; drop: () => Promise<void> } | undefined> {
  const admin = process.env.MCPGATE_TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test';
  const name = `mcpgate_bench_${randomBytes(4).toString('hex')}`;
  try {
    const c = await createConnection({ uri: admin, connectTimeout: 3000 });
    try {
      await c.query(`CREATE DATABASE ${name} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
    } finally {
      await c.end();
    }
  } catch {
    return undefined;
  }
  const u = new URL(admin);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    drop: async () => {
      const d = await createConnection({ uri: admin });
      try { await d.query(`DROP DATABASE IF EXISTS ${name}`); } finally { await d.end(); }
    },
  };
}

const fmt = (r: LoadResult) => `${Math.round(r.rps).toLocaleString('en-US')}/s | ${r.p50} | ${r.p99} | ${r.errors + r.non2xx}`;

/** A run's figures with the registry process's CPU time per request (less sensitive to other work on the machine than throughput). */
async function measured(pid: number | undefined, run: () => Promise<LoadResult>): Promise<{ text: string; rps: number; cpuUs: number | undefined }> {
  const before = processCpuMs(pid);
  const own = process.cpuUsage();
  const r = await run();
  const after = processCpuMs(pid);
  const used = process.cpuUsage(own);
  const cpuUs = before === undefined || after === undefined || r.total === 0 ? undefined : Math.round(((after - before) * 1000) / r.total);
  const loadUs = r.total === 0 ? '—' : Math.round((used.user + used.system) / r.total);
  return { text: `${fmt(r)} | ${cpuUs ?? '—'} | ${loadUs}`, rps: r.rps, cpuUs };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** A fresh, empty database of a kind, or undefined when its server does not answer. */
async function freshDb(kind: string): Promise<{ url: string; drop: () => Promise<void> } | undefined> {
  if (kind === 'sqlite') return { url: `sqlite:${join(mkdtempSync(join(tmpdir(), 'mcpgate-bench-')), 'bench.db')}`, drop: async () => undefined };
  if (kind === 'postgres') return postgresDb();
  if (kind === 'mysql') return mysqlDb();
  return undefined;
}

const LABELS: Record<string, string> = { sqlite: 'SQLite', postgres: 'PostgreSQL', mysql: 'MariaDB/MySQL' };

async function main() {
  const load0 = loadavg().map((l) => l.toFixed(2)).join(', ');
  const rows: string[] = [];
  const ceilingPort = await freePort();
  const ceiling = await startProcess(process.execPath, ['--import', TSX, join(ROOT, 'bench/support/fastify-ok.ts'), String(ceilingPort)], `http://127.0.0.1:${ceilingPort}/ok`);
  try {
    const r = await load({ url: `http://127.0.0.1:${ceilingPort}/ok?a=1`, connections, duration: seconds, method: 'POST' });
    rows.push(`| bare Fastify POST (ceiling) | — | — | ${fmt(r)} | — | — |`);
  } finally {
    await stopProcess(ceiling);
  }
  const builds: [string, string][] = baseline ? [['baseline', baseline], ['this', ROOT]] : [['this', ROOT]];
  const results = new Map<string, { rps: number[]; cpu: number[] }>();
  for (const kind of ['sqlite', 'postgres', 'mysql'].filter((k) => wanted.has(k))) {
    for (let round = 0; round < rounds; round++) {
      const tag = rounds > 1 ? ` (round ${round + 1})` : '';
      for (const [build, root] of round % 2 === 0 ? builds : [...builds].reverse()) {
        const db = await freshDb(kind);
        if (!db) {
          rows.push(`| (${LABELS[kind]} not reachable) | ${LABELS[kind]} | ${build} | — | — | — | — | — | — |`);
          continue;
        }
        try {
          const { child, base } = await registry(db.url, root);
          try {
            let registered = 0;
            const reg = await measured(child.pid, async () => {
              const r = await registrations(base);
              registered = r.total;
              return r;
            });
            rows.push(`| registrations (new ephemeral instances)${tag} | ${LABELS[kind]} | ${build} | ${reg.text} |`);
            const key = `${LABELS[kind]} | ${build}`;
            const acc = results.get(key) ?? { rps: [], cpu: [] };
            acc.rps.push(reg.rps);
            if (reg.cpuUs !== undefined) acc.cpu.push(reg.cpuUs);
            results.set(key, acc);
            if (!beats) continue;
            // Clients beat every 5 s forever: warm up so that every instance has beaten once, then measure the steady state.
            const population = Math.min(registered, 5_000);
            await heartbeats(base, population, 2);
            const beat = await measured(child.pid, () => heartbeats(base, population));
            rows.push(`| heartbeats (${population.toLocaleString('en-US')} instances)${tag} | ${LABELS[kind]} | ${build} | ${beat.text} |`);
          } finally {
            await stopProcess(child);
          }
        } finally {
          await db.drop();
        }
      }
    }
  }
  if (rounds > 1) {
    for (const [key, acc] of results) {
      rows.push(`| **registrations, median of ${acc.rps.length}** | ${key} | **${Math.round(median(acc.rps)).toLocaleString('en-US')}/s** | | | | **${Math.round(median(acc.cpu))}** | |`);
    }
  }
  console.log(`\n${connections} connections, ${seconds} s per run, server and load generator on this machine (${process.platform}, Node ${process.version}); load average before the run ${load0}, after ${loadavg().map((l) => l.toFixed(2)).join(', ')}\n`);
  console.log('| workload | database | build | throughput | p50 ms | p99 ms | errors | registry CPU µs/request | load generator CPU µs/request |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const r of rows) console.log(r);
}

await main();
