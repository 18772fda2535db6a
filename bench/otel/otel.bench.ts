/**
 * What observability costs: tools/call throughput of `mcpgate serve` (2026-07-28 stateless form,
 * a REST tool calling a local backend) side by side in one run, in interleaved rounds, with
 *
 *   - `off`: tracing off, log level warn (no access log line written);
 *   - `tracing`: tracing on, every trace sampled (`traceSampleRatio` 1), spans exported as
 *     OTLP/HTTP JSON to a receiver in this process that counts them;
 *   - `access log`: log level info, so the default access log writes one line per request
 *     (to the child's stdout, discarded);
 *   - with `--baseline <rev>`, that revision's build with the same settings as `off` (the cost of
 *     the instrumentation itself while tracing is off).
 *
 *   npm run bench:otel -- [--seconds 8] [--connections 16] [--rounds 3] [--baseline <rev>] [--no-docs]
 *
 * Prints markdown and rewrites the generated block of the "## Tracing and access log" section of
 * docs/benchmarks.md. Load only ever goes to 127.0.0.1.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { stopProcess } from '../support/procs.js';
import { flag, numberOption, textOption } from '../support/args.js';
import { writeBenchSection } from '../support/docs.js';
import type { Mcpgate } from '../support/mcpgate.js';
import { ITEM_TOOL, checkoutRevision, createBenchServer, modernCallRequest, registerBackend, startBenchBackend, startMcpgate } from '../support/mcpgate.js';
import { autocannonRun } from '../gateway/loaders.js';
import type { LoadFigures } from '../gateway/loaders.js';

const seconds = numberOption('seconds', 8);
const connections = numberOption('connections', 16, true);
const rounds = numberOption('rounds', 3, true);
const baseline = textOption('baseline', '');
const watchdog = setTimeout(() => { console.error('otel bench: watchdog limit reached'); process.exit(3); }, 20 * 60_000);
watchdog.unref();

interface Subject {
  name: string;
  m: Mcpgate;
  runs: LoadFigures[];
}

const work = mkdtempSync(join(tmpdir(), 'mcpgate-otel-bench-'));
const children: ChildProcess[] = [];
let spansReceived = 0;
// An OTLP/HTTP receiver counting the spans it is sent (JSON encoding).
const receiver = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    try {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { resourceSpans?: { scopeSpans?: { spans?: unknown[] }[] }[] };
      for (const rs of body.resourceSpans ?? []) for (const ss of rs.scopeSpans ?? []) spansReceived += ss.spans?.length ?? 0;
    } catch { /* not ours to judge */ }
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
});

async function main(): Promise<void> {
  const receiverPort = await new Promise<number>((resolve) => receiver.listen(0, '127.0.0.1', () => resolve((receiver.address() as { port: number }).port)));
  const backend = await startBenchBackend();
  children.push(backend.child);
  const configs: { name: string; args: string[]; root?: string }[] = [
    { name: 'off', args: [] },
    { name: 'tracing (100 % sampled)', args: ['--otlp-endpoint', `http://127.0.0.1:${receiverPort}`] },
    { name: 'access log (level info)', args: ['--log-level', 'info'] },
  ];
  if (baseline) configs.push({ name: `baseline ${baseline}`, args: [], root: checkoutRevision(baseline, work) });
  const subjects: Subject[] = [];
  for (const c of configs) {
    const m = await startMcpgate(work, { args: c.args, ...(c.root ? { root: c.root } : {}) });
    children.push(m.child);
    await registerBackend(m, backend.port);
    await createBenchServer(m, 'bench', [ITEM_TOOL]);
    subjects.push({ name: c.name, m, runs: [] });
  }
  const shotOf = (m: Mcpgate) => ({ url: `${m.gateway}/mcp/public/bench`, method: 'POST' as const, ...modernCallRequest('get_item') });
  for (const s of subjects) {
    // Served and answering: a call succeeds (the snapshot is compiled, the instance known).
    for (let i = 0; ; i++) {
      const shot = shotOf(s.m);
      const r = await fetch(shot.url, { method: 'POST', headers: shot.headers, body: shot.body });
      const text = await r.text();
      if (r.status === 200 && !text.includes('"isError":true')) break;
      if (i > 100) throw new Error(`${s.name}: the tool does not answer: ${r.status} ${text}`);
      await new Promise((res) => setTimeout(res, 100));
    }
    await autocannonRun(shotOf(s.m), { connections, seconds: 2 }); // warm-up
  }
  for (let round = 0; round < rounds; round++) {
    // Rotated order: no configuration always runs first (or last) in a round.
    const order = subjects.map((_, i) => subjects[(i + round) % subjects.length] as Subject);
    for (const s of order) {
      const figures = await autocannonRun(shotOf(s.m), { connections, seconds });
      if (figures.errors + figures.non2xx > 0) throw new Error(`${s.name}: ${figures.errors} errors, ${figures.non2xx} non-2xx`);
      s.runs.push(figures);
      console.error(`round ${round + 1} ${s.name}: ${figures.rps.toFixed(0)} calls/s`);
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
  const off = median((subjects[0] as Subject).runs.map((r) => r.rps));
  const tracingCalls = (subjects[1] as Subject).runs.reduce((n, r) => n + r.total, 0);
  const lines = [
    `${new Date().toISOString().slice(0, 10)}, ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown CPU'}), load average ${loadavg()[0]?.toFixed(2)} at the end; Node ${process.version};`,
    `autocannon in this process, ${connections} connections, ${rounds} rounds of ${seconds} s per configuration, interleaved; each mcpgate is \`serve\` in its own process.`,
    '',
    '| configuration | calls/s (median) | per round | p50 ms | p99 ms | vs off |',
    '| --- | ---: | --- | ---: | ---: | ---: |',
    ...subjects.map((s) => {
      const rps = median(s.runs.map((r) => r.rps));
      const last = s.runs[s.runs.length - 1] as LoadFigures;
      return `| ${s.name} | ${rps.toFixed(0)} | ${s.runs.map((r) => r.rps.toFixed(0)).join(' / ')} | ${last.p50} | ${last.p99} | ${((rps / off - 1) * 100).toFixed(1)} % |`;
    }),
    '',
    `Spans received by the OTLP receiver: ${spansReceived} for ${tracingCalls} measured tools/call with tracing on (2 spans a call: the request's SERVER span and the backend's CLIENT span; warm-up calls and spans still buffered at the end make the difference).`,
  ];
  const block = lines.join('\n');
  console.log(block);
  if (!flag('no-docs')) {
    const file = writeBenchSection({ heading: 'Tracing and access log', name: 'otel', command: `npm run bench:otel${baseline ? ` -- --baseline ${baseline}` : ''}`, block });
    console.error(`wrote ${file}`);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
}).finally(async () => {
  for (const c of children.reverse()) await stopProcess(c).catch(() => undefined);
  receiver.close();
  rmSync(work, { recursive: true, force: true });
});
