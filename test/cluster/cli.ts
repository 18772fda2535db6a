/**
 * `npm run cluster`: the test cluster for a person to try — 2 registry nodes on a fresh
 * PostgreSQL (or MariaDB) database, 3 gateway replicas sharing sessions in a private Redis, and
 * nginx balancing round robin in front of them, all on 127.0.0.1. Prints the endpoints and a
 * demo MCP server, then runs until Ctrl-C (SIGINT) or SIGTERM, which stop everything.
 *
 *   npm run cluster -- [--db postgres|mysql] [--registries 2] [--gateways 3] [--log warn] [--no-demo]
 */
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { startCluster } from './harness.js';
import type { Cluster } from './harness.js';

const argv = process.argv.slice(2);
const opt = (name: string, fallback: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] !== undefined ? String(argv[i + 1]) : fallback;
};
if (argv.includes('--help') || argv.includes('-h')) {
  process.stdout.write('npm run cluster -- [--db postgres|mysql] [--registries 2] [--gateways 3] [--log warn] [--no-demo]\n');
  process.exit(0);
}
const db = opt('db', 'postgres');
if (db !== 'postgres' && db !== 'mysql') throw new Error('--db is postgres or mysql');
const count = (name: string, fallback: number) => {
  const n = Number(opt(name, String(fallback)));
  if (!Number.isInteger(n) || n < 1 || n > 9) throw new Error(`--${name} is a number from 1 to 9`);
  return n;
};

let cluster: Cluster | undefined;
let demo: Server | undefined;
let stopping: Promise<void> | undefined;

function stopAll(signal: string): Promise<void> {
  stopping ??= (async () => {
    process.stdout.write(`\n${signal}: stopping the cluster…\n`);
    await cluster?.stop();
    await new Promise<void>((resolve) => (demo ? demo.close(() => resolve()) : resolve()));
    process.stdout.write('stopped.\n');
  })();
  return stopping;
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => { void stopAll(signal).finally(() => process.exit(0)); });
}

const started = Date.now();
process.stdout.write(`starting the cluster (${db})…\n`);
try {
  cluster = await startCluster({
    db, registries: count('registries', 2), gateways: count('gateways', 3), logLevel: opt('log', 'warn'),
    onLog: (line) => process.stdout.write(`${line}\n`),
  });
} catch (err) {
  process.stderr.write(`the cluster did not start: ${err instanceof Error ? err.message : String(err)}\n`);
  await stopAll('error');
  process.exit(1);
}
if (stopping) await new Promise(() => undefined);

let demoLine = '';
if (!argv.includes('--no-demo')) {
  // A backend and an MCP server over it, so that there is something to call.
  demo = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://demo');
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ text: url.searchParams.get('text') ?? '', at: new Date().toISOString() }));
  });
  await new Promise<void>((resolve) => demo?.listen(0, '127.0.0.1', () => resolve()));
  const port = (demo.address() as { port: number }).port;
  const r = await fetch(`${cluster.registries[0]?.url}/api/v1/namespaces/public/mcp-servers`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      name: 'echo', protocol: 'http', publish: true, endpoint: { type: 'url', url: `http://127.0.0.1:${port}` },
      spec: {
        version: '1.0.0', description: 'demo',
        tools: [{
          name: 'echo', description: 'Echo a text', enabled: true,
          inputSchema: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] },
          template: { request: { url: '/echo', method: 'GET', headers: [], argsToUrlParam: true, argsToJsonBody: false, argsToFormBody: false }, response: { body: 'echo {{ .text }} ({{ .at }})' }, argsPosition: {} },
        }],
      },
    }),
  });
  demoLine = r.status === 201
    ? `demo MCP server  ${cluster.mcpUrl('public', 'echo')}   (tool "echo"; backend http://127.0.0.1:${port})`
    : `demo MCP server  not created: HTTP ${r.status} ${await r.text()}`;
}

const lines = [
  '',
  `mcpgate cluster up in ${((Date.now() - started) / 1000).toFixed(1)} s — everything on 127.0.0.1:`,
  '',
  `load balancer    ${cluster.lbUrl}   (nginx, round robin, no stickiness; answers carry X-Mcpgate-Upstream)`,
  `  MCP            ${cluster.lbUrl}/mcp/{namespace}/{server}   legacy SSE: …/{server}/sse`,
  demoLine ? `  ${demoLine}` : '',
  ...cluster.registries.map((r) => `${r.name.padEnd(16)} ${r.url}   (pid ${r.pid}; /api/v1, /nacos, console /, /api/v1/cluster)`),
  ...cluster.gateways.map((g) => `${g.name.padEnd(16)} ${g.url}   (pid ${g.pid}; /mcp, /readyz, /metrics)`),
  `redis            ${cluster.redis.url}   (private redis-server, no persistence: PSUBSCRIBE mcp-server-sse:* shows legacy SSE traffic)`,
  `database         ${cluster.db.url.replace(/\/\/([^:@/]+):[^@]*@/, '//$1:***@')}   (${cluster.db.kind}; dropped on stop)`,
  `nginx pid        ${cluster.nginx.pid}`,
  '',
  'try:',
  demoLine ? `  npx @modelcontextprotocol/inspector --cli ${cluster.mcpUrl('public', 'echo')} --transport http --method tools/call --tool-name echo --tool-arg text=hi` : '',
  `  kill -9 ${cluster.gateways[0]?.pid}    # a gateway replica: the balancer skips it`,
  '',
  'Ctrl-C stops everything.',
  '',
];
process.stdout.write(lines.filter((l, i, all) => l !== '' || all[i - 1] !== '').join('\n') + '\n');
