/**
 * stdio upstreams as a service: N agent sessions (default 1000) opened and closed against an MCP
 * server registered with protocol stdio and one process per agent session, through a compiled
 * `mcpgate serve` in its own process. Measures the gateway's RSS after the warm-up and at the
 * end, counts its child processes while sessions come and go, after they idle out, after a
 * graceful stop and after `kill -9` of the gateway (children whose parent died must end too).
 *
 *   npx tsx bench/mcp/stdio-sessions.bench.ts [--sessions 1000] [--concurrency 8]
 */
import { readFileSync, readdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { numberOption } from '../support/args.js';
import { startMcpgate } from '../support/mcpgate.js';
import type { Mcpgate } from '../support/mcpgate.js';
import { ROOT, stopProcess } from '../support/procs.js';

const SESSIONS = numberOption('sessions', 1000, true);
const CONCURRENCY = numberOption('concurrency', 8, true);
const FIXTURE = join(ROOT, 'test/fixtures/mcp/stdio-server.mjs');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Processes running the fixture (by command line), wherever their parent is. */
function fixtureProcesses(): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(FIXTURE)) pids.push(Number(entry));
    } catch { /* gone */ }
  }
  return pids;
}

function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return Math.round((kb / 1024) * 10) / 10;
}

async function register(m: Mcpgate): Promise<string> {
  const r = await fetch(`${m.registry}/api/v1/namespaces/public/mcp-servers`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      name: 'stdio-bench', protocol: 'stdio', endpoint: { type: 'none' }, publish: true,
      spec: { version: '1.0.0', tools: [], config: { command: process.execPath, args: [FIXTURE], upstream: { sessions: 'per-session', maxProcesses: CONCURRENCY, idleSeconds: 2 } } },
    }),
  });
  if (r.status !== 201) throw new Error(`creating the stdio server answered ${r.status} ${await r.text()}`);
  return `${m.gateway}/mcp/public/stdio-bench`;
}

async function session(url: string): Promise<void> {
  const transport = new StreamableHTTPClientTransport(new URL(url));
  const client = new Client({ name: 'stdio-bench', version: '1.0.0' });
  await client.connect(transport);
  const r = await client.callTool({ name: 'echo', arguments: { text: 'x' } });
  if ((r as { isError?: boolean }).isError) throw new Error('the tool failed');
  await transport.terminateSession();
  await client.close();
}

async function run(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'mcpgate-stdio-bench-'));
  let m = await startMcpgate(work);
  const pid = m.child.pid as number;
  const url = await register(m);
  let done = 0;
  let peak = 0;
  let rssWarm = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (done < SESSIONS) {
      done++;
      await session(url);
      peak = Math.max(peak, fixtureProcesses().length);
      if (done === 100) rssWarm = rssMiB(pid);
    }
  }));
  const seconds = (performance.now() - started) / 1000;
  const rssEnd = rssMiB(pid);
  const afterSessions = fixtureProcesses().length;
  await sleep(6000);
  const afterIdle = fixtureProcesses().length;
  await stopProcess(m.child);
  await sleep(500);
  const afterStop = fixtureProcesses().length;

  // kill -9 of the gateway while its children run; then a restart on the same data directory.
  const dataDir = mkdtempSync(join(work, 'crash-'));
  m = await startMcpgate(work, { args: ['--data-dir', dataDir] });
  const url2 = await register(m);
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    const transport = new StreamableHTTPClientTransport(new URL(url2));
    const client = new Client({ name: 'stdio-bench', version: '1.0.0' });
    await client.connect(transport);
    await client.callTool({ name: 'echo', arguments: { text: 'x' } });
  }));
  const beforeKill = fixtureProcesses().length;
  m.child.kill('SIGKILL');
  // Each child sees its stdin end and exits; wait for that (at most 10 s).
  const killedAt = Date.now();
  while (fixtureProcesses().length > 0 && Date.now() - killedAt < 10_000) await sleep(100);
  const killSeconds = (Date.now() - killedAt) / 1000;
  const afterKill = fixtureProcesses();
  // The restarted gateway ends what its record file says the crashed one left.
  const restarted = await startMcpgate(work, { args: ['--data-dir', dataDir] });
  await sleep(500);
  const afterRestart = fixtureProcesses();
  await stopProcess(restarted.child);
  for (const p of afterRestart) try { process.kill(p, 'SIGKILL'); } catch { /* gone */ }

  const lines = [
    `sessions: ${SESSIONS} (concurrency ${CONCURRENCY}) in ${seconds.toFixed(1)} s`,
    `gateway RSS after 100 sessions: ${rssWarm} MiB; after ${SESSIONS}: ${rssEnd} MiB (growth ${(rssEnd - rssWarm).toFixed(1)} MiB)`,
    `stdio children: at most ${peak} at once; ${afterSessions} when the last session closed; ${afterIdle} after idleSeconds; ${afterStop} after the gateway stopped`,
    `kill -9 of the gateway with ${beforeKill} children running: ${afterKill.length} left after ${killSeconds.toFixed(1)} s; ${afterRestart.length} once a gateway restarted on its data directory`,
  ];
  console.log(lines.join('\n'));
  if (afterStop !== 0 || afterRestart.length !== 0) process.exitCode = 1;
}

await run();
