/**
 * A load generator process of the MCP → MCP proxying benchmark (bench/mcp/proxy.bench.ts forks
 * it with `--load-procs N`): `clients` SDK 1.x clients, each its own session, calling the echo
 * tool in a loop and checking the answer. Driven over IPC: it answers `ready` once connected,
 * counts from `measure`, and on `stop` sends its latencies (ms) and error count, then exits.
 *
 *   fork('bench/mcp/load-worker.ts', [url, clients, headersJson], { execArgv: ['--import', 'tsx'] })
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

const [url, count, headersJson] = process.argv.slice(2);
const headers = JSON.parse(headersJson ?? '{}') as Record<string, string>;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function connect(): Promise<Client> {
  const client = new Client({ name: 'bench-agent', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(url as string), { requestInit: { headers } }));
  return client;
}

async function main(): Promise<void> {
  const clients = await Promise.all(Array.from({ length: Number(count) }, () => connect()));
  const tools = await clients[0]!.listTools();
  const tool = tools.tools.find((t) => t.name.endsWith('echo'))?.name ?? 'echo';
  const latencies: number[] = [];
  let errors = 0;
  let measuring = false;
  let stop = false;
  const loops = clients.map(async (c, i) => {
    for (let n = 0; !stop; n++) {
      const text = `p${process.pid}-c${i}-${n}`;
      const t0 = performance.now();
      try {
        const r = await c.callTool({ name: tool, arguments: { text } });
        const got = (r.content as { text?: string }[] | undefined)?.[0]?.text;
        if (got !== text) throw new Error(`answered ${String(got)}`);
        if (measuring) latencies.push(performance.now() - t0);
      } catch {
        if (measuring) errors++;
        await sleep(10);
      }
    }
  });
  process.on('message', (m: { type: string }) => {
    if (m.type === 'measure') measuring = true;
    if (m.type === 'stop') {
      measuring = false;
      stop = true;
      void Promise.all(loops).then(async () => {
        await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
        process.send?.({ type: 'done', latencies, errors }, () => process.exit(0));
      });
    }
  });
  process.send?.({ type: 'ready' });
}

main().catch((err: unknown) => {
  process.send?.({ type: 'failed', error: String(err instanceof Error ? err.message : err) }, () => process.exit(1));
});
