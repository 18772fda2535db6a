/**
 * The CPU a request pays for observability, measured inside one process (CPU time, not calls/s:
 * it holds on a machine shared with other work, where a throughput run swings between rounds):
 *
 *   - one access log line: the gateway's `AccessLog` through the process logger (`createLogger`),
 *     beside a bare pino logger writing the same fields, both to /dev/null synchronously;
 *   - tracing at 100 %: the spans of one tools/call as the gateway makes them (the SERVER span
 *     with its attributes, current while a CLIENT span is made, its `traceparent` built, both
 *     ended) with the real SDK, batch processor and OTLP/HTTP exporter posting to the benchmark's
 *     receiver in its own process, 16 calls in flight; against the same code with tracing off.
 *
 *   npx tsx bench/otel/micro.bench.ts [--lines 50000] [--calls 40000] [--no-docs]
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { pino } from 'pino';
import { AccessLog } from '../../src/gateway/access-log.js';
import type { RequestObservation } from '../../src/gateway/mcp/eras/era.js';
import { createLogger } from '../../src/lib/logger.js';
import { runWithRequestId } from '../../src/lib/request-context.js';
import { ATTR, endSpan, startClientSpan, startServerSpan, startTracing, traceHeaders, tracingEnabled, withSpan } from '../../src/lib/tracing.js';
import { flag, numberOption } from '../support/args.js';
import { writeBenchSection } from '../support/docs.js';
import { ROOT, TSX, freePort, stopProcess } from '../support/procs.js';
import { cpus, loadavg } from 'node:os';

const lines = numberOption('lines', 50_000, true);
const callCount = numberOption('calls', 40_000, true);

/** CPU microseconds per unit of `run(n)` after a warm-up. */
async function cpuPer(n: number, run: (n: number) => unknown): Promise<number> {
  await run(Math.ceil(n / 10));
  const t0 = process.cpuUsage();
  await run(n);
  const t = process.cpuUsage(t0);
  return (t.user + t.system) / n;
}

const OBSERVATION: RequestObservation = {
  namespace: 'public', server: 'bench', method: 'tools/call', tool: 'get_item', knownTool: true, outcome: 'ok', seconds: 0.00123, rpcId: 1, report: { backendStatus: 200 },
};

function accessLogLines(logger: pino.Logger): (n: number) => void {
  const log = new AccessLog(logger.child({ component: 'access' }), 'all', 1);
  return (n) => { for (let i = 0; i < n; i++) runWithRequestId('0b1c1d2e-1234-4567-89ab-0123456789ab', () => log.write(OBSERVATION)); };
}

const META = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28' };
const HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', host: '127.0.0.1:8080' };

/** One tools/call's spans, as era.ts and tools/rest/transport.ts make them. */
async function call(i: number): Promise<void> {
  const span = !tracingEnabled() ? undefined : startServerSpan('tools/call get_item', {
    [ATTR.mcpMethod]: 'tools/call', [ATTR.namespace]: 'public', [ATTR.server]: 'bench', [ATTR.networkTransport]: 'tcp', [ATTR.networkProtocol]: 'http',
    [ATTR.jsonrpcRequestId]: String(i), [ATTR.toolName]: 'get_item', [ATTR.operation]: 'execute_tool',
  }, META, HEADERS);
  await withSpan(span, async () => {
    await Promise.resolve();
    const client = tracingEnabled() ? startClientSpan('GET', { [ATTR.httpMethod]: 'GET', [ATTR.urlFull]: 'http://127.0.0.1:9999/item', [ATTR.serverAddress]: '127.0.0.1', [ATTR.serverPort]: 9999 }) : undefined;
    traceHeaders(client);
    await new Promise((r) => setImmediate(r));
    client?.setAttribute(ATTR.httpStatus, 200);
    endSpan(client);
  });
  endSpan(span);
}

async function calls(n: number): Promise<void> {
  for (let i = 0; i < n; i += 16) await Promise.all(Array.from({ length: Math.min(16, n - i) }, (_, k) => call(i + k)));
}

async function main(): Promise<void> {
  const devNull = () => pino.destination({ dest: '/dev/null', sync: true });
  const bare = await cpuPer(lines, accessLogLines(pino({ name: 'mcpgate', level: 'info' }, devNull())));
  const ours = await cpuPer(lines, accessLogLines(createLogger('info', 'mcpgate', devNull())));

  const port = await freePort();
  const receiver = spawn(process.execPath, ['--import', TSX, join(ROOT, 'bench/otel/receiver.ts'), String(port)], { stdio: 'ignore' });
  try {
    for (let i = 0; !(await fetch(`http://127.0.0.1:${port}/count`).then((r) => r.ok, () => false)); i++) {
      if (i > 150) throw new Error('the receiver did not start');
      await new Promise((r) => setTimeout(r, 200));
    }
    const off = await cpuPer(callCount, calls);
    const tracing = await startTracing({ endpoint: `http://127.0.0.1:${port}`, serviceName: 'mcpgate-bench' });
    // Export included: flushed every 500 calls (1000 spans) inside the measured time, so that the
    // batch processor's queue (2048 spans) never overflows: this loop ends spans faster than one
    // export a second, and dropped spans would not be counted.
    const on = await cpuPer(callCount, async (n) => {
      for (let i = 0; i < n; i += 500) {
        await calls(Math.min(500, n - i));
        await tracing.flush();
      }
    });
    await tracing.shutdown();
    const { spans } = (await (await fetch(`http://127.0.0.1:${port}/count`)).json()) as { spans: number };
    const block = [
      `${new Date().toISOString().slice(0, 10)}, ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), load average ${loadavg()[0]?.toFixed(2)}; Node ${process.version}; \`npx tsx bench/otel/micro.bench.ts\` (CPU time in one process).`,
      '',
      '| what | CPU µs |',
      '| --- | ---: |',
      `| one access log line, mcpgate's logger | ${ours.toFixed(1)} |`,
      `| one access log line, bare pino (same fields) | ${bare.toFixed(1)} |`,
      `| one tools/call's spans code, tracing off | ${off.toFixed(1)} |`,
      `| one tools/call's spans, tracing on at 100 % (2 spans, export included) | ${on.toFixed(1)} |`,
      '',
      `Tracing adds ${(on - off).toFixed(1)} µs of CPU a call (${spans} spans reached the receiver).`,
    ].join('\n');
    console.log(block);
    if (!flag('no-docs')) console.error(`wrote ${writeBenchSection({ heading: 'Tracing and access log', name: 'otel-micro', command: 'npx tsx bench/otel/micro.bench.ts', block })}`);
  } finally {
    await stopProcess(receiver);
  }
}

await main();
