/**
 * The CPU a backend request costs the process that makes it, for the HTTP clients a REST tool's
 * transport could use: undici's dispatch API (what src/tools/rest/transport.ts uses), undici's
 * `request`, a node:http keep-alive `Agent`, and `fetch`. Each client runs in a child process of
 * its own (one Node, nothing else loaded) making GET /item of the bench backend, `--in-flight`
 * at a time, and reports its user + system CPU over the counted seconds per request. Clients
 * alternate, `--rounds` times.
 *
 *   npx tsx bench/gateway/backend-client.bench.ts [--rounds 3] [--seconds 3] [--in-flight 16]
 */
import { spawnSync } from 'node:child_process';
import { request as httpRequest, Agent as HttpAgent } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import { Agent, fetch as undiciFetch } from 'undici';
import type { Dispatcher } from 'undici';
import { numberOption, textOption } from '../support/args.js';
import { TSX, stopProcess } from '../support/procs.js';
import { startBenchBackend } from '../support/mcpgate.js';

const CLIENTS = ['dispatch', 'request', 'node-http', 'fetch'] as const;
type Client = (typeof CLIENTS)[number];

/** The client side: `--client NAME --port N` makes requests and prints its CPU µs per request. */
async function runClient(client: Client, port: number, seconds: number, inFlight: number): Promise<void> {
  const origin = `http://127.0.0.1:${port}`;
  const agent = new Agent({ keepAliveTimeout: 30_000, connections: 256, pipelining: 1 });
  const httpAgent = new HttpAgent({ keepAlive: true, maxSockets: 256 });
  const headers = { accept: 'application/json' };
  /** A dispatch handler collecting the body, as the transport's `Exchange` does. */
  class Collect implements Dispatcher.DispatchHandler {
    private chunks: Buffer[] = [];
    constructor(private readonly done: (err?: Error) => void) {}
    onRequestStart(): void {}
    onResponseStart(_c: Dispatcher.DispatchController, _status: number, _headers: IncomingHttpHeaders): void {}
    onResponseData(_c: Dispatcher.DispatchController, chunk: Buffer): void { this.chunks.push(chunk); }
    onResponseEnd(): void { Buffer.concat(this.chunks); this.done(); }
    onResponseError(_c: Dispatcher.DispatchController | undefined, err: Error): void { this.done(err); }
  }
  const one: () => Promise<unknown> = client === 'dispatch'
    ? () => new Promise<void>((resolve, reject) => { agent.dispatch({ origin, path: '/item', method: 'GET', headers }, new Collect((err) => (err ? reject(err) : resolve()))); })
    : client === 'request'
      ? () => agent.request({ origin, path: '/item', method: 'GET', headers }).then((r) => r.body.arrayBuffer())
      : client === 'fetch'
        ? () => undiciFetch(`${origin}/item`, { headers, dispatcher: agent }).then((r) => r.arrayBuffer())
        : () => new Promise<void>((resolve, reject) => {
          const req = httpRequest({ host: '127.0.0.1', port, path: '/item', method: 'GET', agent: httpAgent, headers }, (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => { Buffer.concat(chunks); resolve(); });
          });
          req.on('error', reject);
          req.end();
        });
  let counted = 0;
  let counting = false;
  let stop = false;
  const worker = async (): Promise<void> => {
    while (!stop) {
      await one();
      if (counting) counted++;
    }
  };
  const workers = Array.from({ length: inFlight }, worker);
  await new Promise((r) => setTimeout(r, 1000)); // warm-up
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  counting = true;
  await new Promise((r) => setTimeout(r, seconds * 1000));
  counting = false;
  const cpu = process.cpuUsage(cpu0);
  const elapsed = (performance.now() - t0) / 1000;
  stop = true;
  await Promise.all(workers);
  console.log(JSON.stringify({ client, usPerRequest: (cpu.user + cpu.system) / counted, perSecond: counted / elapsed }));
  await agent.close();
  httpAgent.destroy();
}

async function main(): Promise<void> {
  const seconds = numberOption('seconds', 3);
  const inFlight = numberOption('in-flight', 16, true);
  const client = textOption('client', '');
  if (client !== '') return runClient(client as Client, numberOption('port', 0, true), seconds, inFlight);
  const rounds = numberOption('rounds', 3, true);
  const backend = await startBenchBackend();
  const results = new Map<Client, number[]>(CLIENTS.map((c) => [c, []]));
  try {
    for (let round = 1; round <= rounds; round++) {
      for (const c of CLIENTS) {
        const r = spawnSync(process.execPath, ['--import', TSX, import.meta.filename, '--client', c, '--port', String(backend.port), '--seconds', String(seconds), '--in-flight', String(inFlight)], { encoding: 'utf8' });
        if (r.status !== 0) throw new Error(`client ${c}: ${r.stderr}`);
        const { usPerRequest, perSecond } = JSON.parse(r.stdout.trim().split('\n').pop() as string) as { usPerRequest: number; perSecond: number };
        results.get(c)!.push(usPerRequest);
        console.error(`round ${round} ${c}: ${usPerRequest.toFixed(1)} µs a request, ${Math.round(perSecond)} requests/s`);
      }
    }
  } finally {
    await stopProcess(backend.child);
  }
  console.log(`| client | CPU µs a request of the client process (${rounds} rounds, ${inFlight} in flight) |\n| --- | --- |`);
  for (const [c, xs] of results) console.log(`| ${c} | ${xs.map((x) => x.toFixed(1)).join(' / ')} |`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
