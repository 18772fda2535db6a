/**
 * Registry throughput: Nacos v1 instance registrations and heartbeats over HTTP from
 * concurrent clients, on SQLite and PostgreSQL, beside a bare Fastify "ok" endpoint as the
 * ceiling of the HTTP stack on the same machine. The server runs in its own process;
 * autocannon runs here.
 *
 *   node --import tsx bench/registry/registry.bench.ts [--seconds 10] [--connections 64]
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import pg from 'pg';
import { ROOT, TSX, freePort, load, startProcess, stopProcess } from '../support/procs.js';
import type { LoadResult } from '../support/procs.js';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const seconds = arg('seconds', 10);
const connections = arg('connections', 64);
const SERVICES = 50;

async function registry(db: string) {
  const port = await freePort();
  const child = await startProcess(process.execPath, ['--import', TSX, join(ROOT, 'src/cli/main.ts'), 'registry', '--host', '127.0.0.1', '--registry-port', String(port), '--db', db, '--auth', 'false', '--log-level', 'warn'], `http://127.0.0.1:${port}/healthz`);
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

const fmt = (r: LoadResult) => `${Math.round(r.rps).toLocaleString('en-US')}/s | ${r.p50} | ${r.p99} | ${r.errors + r.non2xx}`;

async function main() {
  const rows: string[] = [];
  const ceilingPort = await freePort();
  const ceiling = await startProcess(process.execPath, ['--import', TSX, join(ROOT, 'bench/support/fastify-ok.ts'), String(ceilingPort)], `http://127.0.0.1:${ceilingPort}/ok`);
  try {
    const r = await load({ url: `http://127.0.0.1:${ceilingPort}/ok?a=1`, connections, duration: seconds, method: 'POST' });
    rows.push(`| bare Fastify POST (ceiling) | — | ${fmt(r)} |`);
  } finally {
    await stopProcess(ceiling);
  }
  const pgDb = await postgresDb();
  const dbs: [string, string][] = [['SQLite', `sqlite:${join(mkdtempSync(join(tmpdir(), 'mcpgate-bench-')), 'bench.db')}`]];
  if (pgDb) dbs.push(['PostgreSQL', pgDb.url]);
  try {
    for (const [label, url] of dbs) {
      const { child, base } = await registry(url);
      try {
        const reg = await registrations(base);
        rows.push(`| registrations (new ephemeral instances) | ${label} | ${fmt(reg)} |`);
        // Clients beat every 5 s forever: warm up so that every instance has beaten once, then measure the steady state.
        const population = Math.min(reg.total, 5_000);
        await heartbeats(base, population, 2);
        const beat = await heartbeats(base, population);
        rows.push(`| heartbeats (${population.toLocaleString('en-US')} instances) | ${label} | ${fmt(beat)} |`);
      } finally {
        await stopProcess(child);
      }
    }
  } finally {
    await pgDb?.drop();
  }
  console.log(`\n${connections} connections, ${seconds} s per run, server and load generator on this machine (${process.platform}, Node ${process.version})\n`);
  console.log('| workload | database | throughput | p50 ms | p99 ms | errors |');
  console.log('| --- | --- | --- | --- | --- | --- |');
  for (const r of rows) console.log(r);
}

await main();
