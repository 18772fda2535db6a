/**
 * The MCP handler's own CPU per tools/call, in process and without sockets (light-my-request,
 * as src/gateway/mcp/handler.test.ts drives it): a direct-response tool (no backend), called in
 * the 2026-07-28 stateless form and in a 2025 session, with the gateway's request observers
 * (metrics, access log, Activity recorder) attached as `Gateway` attaches them. The figure
 * includes light-my-request's own cost, the same for both forms and every build of this tree:
 * compare forms, or this tree before and after a change (`git stash`), not absolute values.
 * Alternating rounds, medians.
 *
 *   npx tsx bench/gateway/handler-calls.bench.ts [--calls 20000] [--rounds 7] [--concurrency 16] [--only stateless|session] [--allocations]
 *
 * `--allocations`: after the rounds, one more run per form under V8's sampling heap profiler
 * (collected objects included) prints the bytes allocated per call by allocating function.
 *
 * Under `node --cpu-prof` (with `--only` one form), the profile's self time by area
 * (src/gateway, src/tools…) divided by the calls made shows the gateway's own share without
 * light-my-request's: `--import tsx` and bench/gateway/cpuprofile.ts.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Session } from 'node:inspector/promises';
import { inject } from 'light-my-request';
import { Agent } from 'undici';
import { createLogger } from '../../src/lib/logger.js';
import type { RegistrySnapshot } from '../../src/model/snapshot.js';
import { AccessLog } from '../../src/gateway/access-log.js';
import { AccessPolicy } from '../../src/gateway/access-policy.js';
import { ActivityRecorder } from '../../src/gateway/activity.js';
import { GatewayMetrics } from '../../src/gateway/metrics.js';
import { DEFAULT_LIMITS } from '../../src/gateway/limits.js';
import { MemoryEventStore, MemoryMessageBus, MemorySessionStore } from '../../src/gateway/sessions/memory.js';
import { EMPTY_SNAPSHOT, SnapshotCompiler } from '../../src/gateway/snapshot.js';
import { McpHandler } from '../../src/gateway/mcp/handler.js';
import { flag, numberOption, textOption } from '../support/args.js';

const calls = numberOption('calls', 20_000, true);
const rounds = numberOption('rounds', 7, true);
const concurrency = numberOption('concurrency', 16, true);
const only = textOption('only', '');

const logger = createLogger('warn');
const snapshot: RegistrySnapshot = {
  revision: 1, namespaces: ['public'], services: [], consumers: [],
  mcpServers: [{
    server: {
      id: 'bench', namespace: 'public', name: 'bench', description: 'bench', protocol: 'http', frontProtocol: 'mcp-streamable',
      endpoint: { type: 'none' }, enabled: true, passthrough: { headers: [], cookies: [] }, publishedVersion: '1.0.0', latestVersion: '1.0.0', createdAt: 0, updatedAt: 0,
    },
    spec: {
      version: '1.0.0', description: '', config: {}, securitySchemes: [], prompts: [],
      tools: [{ name: 'get_item', description: 'Get the item', enabled: true, inputSchema: { type: 'object', properties: {} }, template: { request: null, response: { body: '{"id":1,"name":"item"}' }, argsPosition: {} } }],
    },
  }],
};

const dispatcher = new Agent();
const sessions = new MemorySessionStore(600_000, Date.now, DEFAULT_LIMITS);
const bus = new MemoryMessageBus();
const events = new MemoryEventStore();
const made: { handler?: McpHandler } = {};
const metrics = new GatewayMetrics({ snapshot: () => made.handler?.current ?? EMPTY_SNAPSHOT, openStreams: () => 0, openSessions: () => sessions.count(), readiness: () => ({}) });
const accessLog = new AccessLog(logger.child({ component: 'access' }), 'all', 1);
const activity = new ActivityRecorder();
const handler = made.handler = new McpHandler({
  logger, sessions, bus, events, access: new AccessPolicy({ bindHost: '127.0.0.1' }),
  onRequest: (o) => {
    metrics.request(o);
    accessLog.write(o);
    if (o.method === 'tools/call') activity.record({ namespace: o.namespace, server: o.server, tool: o.tool ?? '', ok: o.outcome === 'ok', kind: o.errorKind, ms: o.seconds * 1000, agent: o.agent });
  },
});
handler.setSnapshot(new SnapshotCompiler({ dispatcher, logger }).compile(snapshot));

function dispatch(req: IncomingMessage, res: ServerResponse): void {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  void handler.handle(req, res, (q < 0 ? url : url.slice(0, q)).slice('/mcp/'.length));
}

const ACCEPT = 'application/json, text/event-stream';
const META = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {}, 'io.modelcontextprotocol/clientInfo': { name: 'bench', version: '1' } };
const URL_ = '/mcp/public/bench';

async function openSession(): Promise<string> {
  const init = await inject(dispatch, {
    method: 'POST', url: URL_, headers: { 'content-type': 'application/json', accept: ACCEPT },
    payload: JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'bench', version: '1' } } }),
  });
  return String(init.headers['mcp-session-id']);
}

const shots = {
  stateless: {
    headers: { 'content-type': 'application/json', accept: ACCEPT, 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': 'get_item' },
    payload: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'get_item', arguments: {}, _meta: META } }),
  },
  session: {
    headers: { 'content-type': 'application/json', accept: ACCEPT, 'mcp-protocol-version': '2025-06-18', 'mcp-session-id': await openSession() },
    payload: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'get_item', arguments: {} } }),
  },
};
type Form = keyof typeof shots;

async function run(form: Form, n: number): Promise<number> {
  const { headers, payload } = shots[form];
  let next = 0;
  const before = process.cpuUsage();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next++ < n) {
      const r = await inject(dispatch, { method: 'POST', url: URL_, headers, payload });
      if (r.statusCode !== 200 || !r.payload.includes('"content"')) throw new Error(`${form}: ${r.statusCode} ${r.payload}`);
    }
  }));
  const used = process.cpuUsage(before);
  return (used.user + used.system) / n;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return (s[Math.floor((s.length - 1) / 2)]! + s[Math.ceil((s.length - 1) / 2)]!) / 2;
};

const forms = (only ? [only] : ['stateless', 'session']) as Form[];
if (forms.some((f) => !(f in shots))) throw new Error('--only is stateless or session');
const figures = {} as Record<Form, number[]>;
for (const form of forms) {
  figures[form] = [];
  await run(form, calls);
}
for (let round = 0; round < rounds; round++) {
  for (const form of round % 2 === 0 ? forms : [...forms].reverse()) figures[form].push(await run(form, calls));
}
console.log(`calls made: ${calls * (rounds + 1)} per form`);
for (const form of forms) {
  console.log(`${form}: ${median(figures[form]).toFixed(2)} µs/call (median of ${rounds}; rounds ${figures[form].map((x) => x.toFixed(1)).join(' ')})`);
}
if (flag('allocations')) for (const form of forms) await allocations(form);

/** Bytes allocated per call of `form`, by the function that allocated them (sampled every 1 KiB). */
async function allocations(form: Form): Promise<void> {
  interface Node { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children: Node[] }
  const inspector = new Session();
  inspector.connect();
  await inspector.post('HeapProfiler.enable');
  await inspector.post('HeapProfiler.startSampling', { samplingInterval: 1024, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
  await run(form, calls);
  const { profile } = await inspector.post('HeapProfiler.stopSampling') as unknown as { profile: { head: Node; samples: { size: number; nodeId: number }[] } };
  inspector.disconnect();
  const nodes = new Map<number, Node>();
  const walk = (n: Node) => { nodes.set(n.id, n); n.children.forEach(walk); };
  walk(profile.head);
  const bytes = new Map<string, number>();
  let total = 0;
  for (const s of profile.samples) {
    const { functionName, url, lineNumber } = nodes.get(s.nodeId)!.callFrame;
    const key = `${functionName || '(anonymous)'}  ${url.replace(/^.*?\/(src|node_modules|bench)\//, '$1/')}:${lineNumber + 1}`;
    bytes.set(key, (bytes.get(key) ?? 0) + s.size);
    total += s.size;
  }
  console.log(`${form}: ${(total / calls).toFixed(0)} bytes allocated per call (sampled); the largest allocators:`);
  for (const [k, v] of [...bytes].sort((a, b) => b[1] - a[1]).slice(0, 40)) console.log(`  ${(v / calls).toFixed(1).padStart(8)} B  ${k}`);
}

await handler.close();
await sessions.close();
await bus.close();
await events.close();
await dispatcher.close();
