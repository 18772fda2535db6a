/**
 * Registry throughput: Nacos v1 instance registrations and heartbeats over HTTP from
 * concurrent clients, on SQLite, PostgreSQL and MariaDB/MySQL (those that answer), beside a
 * bare Fastify "ok" endpoint as the ceiling of the HTTP stack on the same machine. The
 * server runs in its own process; autocannon runs here.
 *
 *   npm run bench:registry -- [--seconds 10] [--connections 64] [--db sqlite,postgres,mysql] [--baseline DIR] [--rounds 1] [--no-beats] [--cpu-prof DIR] [--statements]
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
 * generator, sharing the machine's cores, is what limits a run. The database CPU column is the
 * database server's own (PostgreSQL: the postmaster and all its processes; MariaDB: mysqld), read
 * from /proc when the server runs on this machine: on a server shared with other work it counts
 * that work too, so point `MCPGATE_TEST_POSTGRES_URL` at a cluster of its own for clean figures.
 * `--statements` (PostgreSQL with `pg_stat_statements` preloaded): after each registration run,
 * the statements the registry sent, per registration: calls, rows, planning and execution time, WAL.
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
import { readFileSync } from 'node:fs';
import { processCpuMs, serverTreeSeconds } from '../gateway/cpu.js';
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
const statements = process.argv.includes('--statements');
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
async function measured(pid: number | undefined, dbPid: number | undefined, run: () => Promise<LoadResult>): Promise<{ text: string; rps: number; cpuUs: number | undefined; dbUs: number | undefined }> {
  const before = processCpuMs(pid);
  const dbBefore = dbPid === undefined ? 0 : serverTreeSeconds(dbPid);
  const own = process.cpuUsage();
  const r = await run();
  const after = processCpuMs(pid);
  const dbAfter = dbPid === undefined ? 0 : serverTreeSeconds(dbPid);
  const used = process.cpuUsage(own);
  const cpuUs = before === undefined || after === undefined || r.total === 0 ? undefined : Math.round(((after - before) * 1000) / r.total);
  const dbUs = dbPid === undefined || dbAfter === 0 || r.total === 0 ? undefined : Math.round(((dbAfter - dbBefore) * 1e6) / r.total);
  const loadUs = r.total === 0 ? '—' : Math.round((used.user + used.system) / r.total);
  return { text: `${fmt(r)} | ${cpuUs ?? '—'} | ${dbUs ?? '—'} | ${loadUs}`, rps: r.rps, cpuUs, dbUs };
}

/** The process id of a database server running on this machine (PostgreSQL's postmaster, mysqld), else undefined. */
async function serverPid(kind: string, url: string): Promise<number | undefined> {
  try {
    if (kind === 'postgres') {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      try {
        const r = await c.query<{ d: string }>(`select current_setting('data_directory') as d`);
        return Number(readFileSync(join(r.rows[0]!.d, 'postmaster.pid'), 'utf8').split('\n')[0]);
      } finally {
        await c.end();
      }
    }
    if (kind === 'mysql') {
      const c = await createConnection({ uri: url });
      try {
        const [rows] = await c.query('select @@pid_file as f');
        return Number(readFileSync((rows as { f: string }[])[0]!.f, 'utf8').trim());
      } finally {
        await c.end();
      }
    }
  } catch {
    return undefined;
  }
  return undefined;
}

/** Start counting statements in a fresh PostgreSQL database (false when pg_stat_statements is not preloaded). */
async function resetStatements(url: string): Promise<boolean> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query('create extension if not exists pg_stat_statements');
    await c.query('select pg_stat_statements_reset()');
    return true;
  } catch (err) {
    console.error(`--statements: ${(err as Error).message}`);
    return false;
  } finally {
    await c.end();
  }
}

/** The statements run in the database since `resetStatements`, per registration (`per` of them). */
async function printStatements(url: string, per: number, label: string): Promise<void> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const r = await c.query<Record<string, string>>(`
      select calls, rows, total_plan_time, total_exec_time, wal_bytes, wal_records, left(regexp_replace(query, '\\s+', ' ', 'g'), 90) as q
      from pg_stat_statements where dbid = (select oid from pg_database where datname = current_database())
      order by total_plan_time + total_exec_time desc limit 25`);
    console.log(`\nStatements, ${label}, per registration (${per} registrations):\n`);
    console.log('| statement | calls/reg | rows/call | plan µs/reg | exec µs/reg | WAL bytes/reg |');
    console.log('| --- | --- | --- | --- | --- | --- |');
    const f = (v: string, scale: number, digits = 1) => (Number(v) * scale).toFixed(digits);
    for (const s of r.rows) {
      const calls = Number(s.calls);
      console.log(`| \`${s.q!.replace(/\|/g, '\\|')}\` | ${(calls / per).toFixed(3)} | ${(Number(s.rows) / Math.max(1, calls)).toFixed(1)} | ${f(s.total_plan_time!, 1000 / per)} | ${f(s.total_exec_time!, 1000 / per)} | ${f(s.wal_bytes!, 1 / per, 0)} |`);
    }
    const t = await c.query<Record<string, string>>(`
      select sum(calls) as calls, sum(total_plan_time) as plan, sum(total_exec_time) as exec, sum(wal_bytes) as wal
      from pg_stat_statements where dbid = (select oid from pg_database where datname = current_database())`);
    const all = t.rows[0]!;
    console.log(`| **all statements** | ${(Number(all.calls) / per).toFixed(3)} | | ${f(all.plan!, 1000 / per)} | ${f(all.exec!, 1000 / per)} | ${f(all.wal!, 1 / per, 0)} |`);
  } finally {
    await c.end();
  }
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
    rows.push(`| bare Fastify POST (ceiling) | — | — | ${fmt(r)} | — | — | — |`);
  } finally {
    await stopProcess(ceiling);
  }
  const builds: [string, string][] = baseline ? [['baseline', baseline], ['this', ROOT]] : [['this', ROOT]];
  const results = new Map<string, { rps: number[]; cpu: number[]; db: number[] }>();
  for (const kind of ['sqlite', 'postgres', 'mysql'].filter((k) => wanted.has(k))) {
    for (let round = 0; round < rounds; round++) {
      const tag = rounds > 1 ? ` (round ${round + 1})` : '';
      for (const [build, root] of round % 2 === 0 ? builds : [...builds].reverse()) {
        const db = await freshDb(kind);
        if (!db) {
          rows.push(`| (${LABELS[kind]} not reachable) | ${LABELS[kind]} | ${build} | — | — | — | — | — | — | — |`);
          continue;
        }
        try {
          const { child, base } = await registry(db.url, root);
          try {
            let registered = 0;
            const dbPid = await serverPid(kind, db.url);
            const counting = statements && kind === 'postgres' && (await resetStatements(db.url));
            const reg = await measured(child.pid, dbPid, async () => {
              const r = await registrations(base);
              registered = r.total;
              return r;
            });
            rows.push(`| registrations (new ephemeral instances)${tag} | ${LABELS[kind]} | ${build} | ${reg.text} |`);
            if (counting) await printStatements(db.url, registered, `${LABELS[kind]}, ${build}${tag}`);
            const key = `${LABELS[kind]} | ${build}`;
            const acc = results.get(key) ?? { rps: [], cpu: [], db: [] };
            acc.rps.push(reg.rps);
            if (reg.cpuUs !== undefined) acc.cpu.push(reg.cpuUs);
            if (reg.dbUs !== undefined) acc.db.push(reg.dbUs);
            results.set(key, acc);
            if (!beats) continue;
            // Clients beat every 5 s forever: warm up so that every instance has beaten once, then measure the steady state.
            const population = Math.min(registered, 5_000);
            await heartbeats(base, population, 2);
            const beat = await measured(child.pid, dbPid, () => heartbeats(base, population));
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
      rows.push(`| **registrations, median of ${acc.rps.length}** | ${key} | **${Math.round(median(acc.rps)).toLocaleString('en-US')}/s** | | | | **${Math.round(median(acc.cpu))}** | **${acc.db.length > 0 ? Math.round(median(acc.db)) : '—'}** | |`);
    }
  }
  console.log(`\n${connections} connections, ${seconds} s per run, server and load generator on this machine (${process.platform}, Node ${process.version}); load average before the run ${load0}, after ${loadavg().map((l) => l.toFixed(2)).join(', ')}\n`);
  console.log('| workload | database | build | throughput | p50 ms | p99 ms | errors | registry CPU µs/request | database CPU µs/request | load generator CPU µs/request |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const r of rows) console.log(r);
}

await main();
