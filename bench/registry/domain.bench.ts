/**
 * Registrations through the registry's domain and store only (no HTTP, no load generator
 * process): `NamingService.registerInstance` called by `--concurrency` callers at once until
 * `--count` instances are registered, on each database that answers, with the audit log on
 * and off (off: `recordAudit` does nothing — to see what the audit rows cost, never a setting).
 * With `--baseline DIR`, the same runs with another checkout's code, alternately, in the same
 * process, so before and after share the machine's load.
 *
 *   npx tsx bench/registry/domain.bench.ts [--count 4000] [--concurrency 64] [--db sqlite,postgres,mysql] [--baseline DIR]
 */
import { loadavg } from 'node:os';
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { databaseKinds } from '../../test/support/databases.js';
import { ROOT } from '../support/procs.js';

const text = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const count = Number(text('count') ?? 4000);
const concurrency = Number(text('concurrency') ?? 64);
const wanted = new Set((text('db') ?? 'sqlite,postgres,mysql').split(','));
const baseline = text('baseline');

interface Build {
  name: string;
  openStore: (url: string) => Promise<{ close(): Promise<void>; write: (...a: never[]) => unknown } & Record<string, unknown>>;
  ChangeFeed: new (store: unknown) => unknown;
  NamingService: new (ctx: unknown) => { ensurePublicNamespace(): Promise<void>; registerInstance(i: unknown): Promise<unknown> };
}

async function build(name: string, root: string): Promise<Build> {
  const mod = (p: string) => import(pathToFileURL(join(root, p)).href);
  const [open, context, naming] = await Promise.all([mod('src/registry/store/open.ts'), mod('src/registry/domain/context.ts'), mod('src/registry/domain/naming.ts')]);
  return { name, openStore: open.openStore, ChangeFeed: context.ChangeFeed, NamingService: naming.NamingService };
}

/** The store with `recordAudit` doing nothing inside writes. */
function withoutAudit<S extends { write: (...a: never[]) => unknown }>(store: S): S {
  const quiet = (tx: object) => new Proxy(tx, {
    get: (t, k) => (k === 'recordAudit' ? async () => undefined : (Reflect.get(t, k) as unknown)),
  });
  return new Proxy(store, {
    get: (s, k) => {
      if (k !== 'write') {
        const v = Reflect.get(s, k) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(s) : v;
      }
      return (fn: (tx: object) => Promise<unknown>, options?: unknown) => (s.write as (f: unknown, o: unknown) => unknown)((tx: object) => fn(quiet(tx)), options);
    },
  });
}

async function run(b: Build, url: string, audit: boolean): Promise<{ rate: number; cpuUs: number }> {
  const raw = await b.openStore(url);
  const store = audit ? raw : withoutAudit(raw);
  const ctx = { store, feed: new b.ChangeFeed(store), now: () => Date.now() };
  const naming = new b.NamingService(ctx);
  await naming.ensurePublicNamespace();
  let next = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < count) {
      const n = next++;
      await naming.registerInstance({
        namespace: 'public', group: 'DEFAULT_GROUP', service: `bench-${n % 50}`, ip: `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`,
        port: 8000 + (n % 1000), cluster: 'DEFAULT', ephemeral: true,
      });
    }
  }));
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  await raw.close();
  return { rate: count / seconds, cpuUs: (cpu.user + cpu.system) / count };
}

const builds = baseline ? [await build('baseline', baseline), await build('this', ROOT)] : [await build('this', ROOT)];
const rows: string[] = [];
const load0 = loadavg().map((l) => l.toFixed(2)).join(', ');
for (const kind of (await databaseKinds()).filter((k) => wanted.has(k.kind))) {
  if (kind.unavailable) {
    rows.push(`| ${kind.kind} | — | — | not reachable | — |`);
    continue;
  }
  for (const audit of [true, false]) {
    for (const b of builds) {
      const db = await kind.create();
      try {
        const r = await run(b, db.url, audit);
        rows.push(`| ${kind.kind} | ${b.name} | ${audit ? 'on' : 'off'} | ${Math.round(r.rate).toLocaleString('en-US')}/s | ${Math.round(r.cpuUs)} |`);
      } finally {
        await db.drop();
      }
    }
  }
}
console.log(`\n${count} registrations by ${concurrency} concurrent callers per run, in process (${process.platform}, Node ${process.version}); load average before ${load0}, after ${loadavg().map((l) => l.toFixed(2)).join(', ')}\n`);
console.log('| database | build | audit | registrations | CPU µs/registration (this process) |');
console.log('| --- | --- | --- | --- | --- |');
for (const r of rows) console.log(r);
