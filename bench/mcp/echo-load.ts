/**
 * The load of the MCP → MCP proxying benchmark: SDK 1.x clients, each its own session, calling
 * the echo tool in a loop and checking the answer. Used in the benchmark's own process
 * (`--load-procs 0`) and by each forked load worker (load-worker.ts).
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One SDK client connected to `url` with a session of its own. */
export async function connect(url: string, headers: Record<string, string> = {}): Promise<Client> {
  const client = new Client({ name: 'bench-agent', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } }));
  return client;
}

/** Running echo loops: counted from `measure()`, ended by `stop()` with their latencies (ms) and errors. */
export interface EchoLoad { measure(): void; stop(): Promise<{ latencies: number[]; errors: number }> }

/** Connect `count` clients and start their loops; `tag` keeps each echoed text unique across processes. */
export async function startEchoLoad(url: string, headers: Record<string, string>, count: number, tag = ''): Promise<EchoLoad> {
  const clients = await Promise.all(Array.from({ length: count }, () => connect(url, headers)));
  const tools = await clients[0]!.listTools();
  const tool = tools.tools.find((t) => t.name.endsWith('echo'))?.name ?? 'echo';
  const latencies: number[] = [];
  let errors = 0;
  let measuring = false;
  let stopped = false;
  const loops = clients.map(async (c, i) => {
    for (let n = 0; !stopped; n++) {
      const text = `${tag}c${i}-${n}`;
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
  return {
    measure() { measuring = true; },
    async stop() {
      measuring = false;
      stopped = true;
      await Promise.all(loops);
      await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
      return { latencies, errors };
    },
  };
}
