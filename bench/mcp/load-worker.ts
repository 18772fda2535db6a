/**
 * A load generator process of the MCP → MCP proxying benchmark (bench/mcp/proxy.bench.ts forks
 * it with `--load-procs N`): the echo loops of echo-load.ts, driven over IPC: it answers `ready`
 * once connected, counts from `measure`, and on `stop` sends its latencies (ms) and error count,
 * then exits.
 *
 *   fork('bench/mcp/load-worker.ts', [url, clients, headersJson], { execArgv: ['--import', 'tsx'] })
 */
import { startEchoLoad } from './echo-load.js';

const [url, count, headersJson] = process.argv.slice(2);

async function main(): Promise<void> {
  const load = await startEchoLoad(url as string, JSON.parse(headersJson ?? '{}') as Record<string, string>, Number(count), `p${process.pid}-`);
  process.on('message', (m: { type: string }) => {
    if (m.type === 'measure') load.measure();
    if (m.type === 'stop') {
      void load.stop().then(({ latencies, errors }) => {
        process.send?.({ type: 'done', latencies, errors }, () => process.exit(0));
      });
    }
  });
  process.send?.({ type: 'ready' });
}

main().catch((err: unknown) => {
  process.send?.({ type: 'failed', error: String(err instanceof Error ? err.message : err) }, () => process.exit(1));
});
