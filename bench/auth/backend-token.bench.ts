/**
 * What sending the exchanged backend token costs the gateway per call, apart from the OAuth step
 * (`auth-step.bench.ts`): the same GET of the bench backend through undici with the gateway's
 * Agent settings, with and without an `Authorization: Bearer <token>` header of the size of the
 * tests' oidc-provider's exchanged tokens (428 characters for bench:auth's; `--token-chars` for
 * others). What differs per request is undici's validation of the value (a regular expression
 * over every character: its API has no pre-validated form, `lib/core/request.js`
 * `processHeader` checks arrays and objects alike), the request head built and written (a
 * longer string) and the loopback send.
 *
 * This process is measured (its user + system CPU per request, 16 requests in flight as the
 * gateway has under bench:auth's 16 connections), pinned to CPU 1 when it can be, and the backend
 * runs on CPU 0; batches of each variant interleave, and the median of each pair's difference
 * is printed.
 *
 *   npx tsx bench/auth/backend-token.bench.ts [--requests 10000] [--rounds 12] [--token-chars 428]
 */
import { Agent } from 'undici';
import { numberOption } from '../support/args.js';
import { pinToCpu, stopProcess } from '../support/procs.js';
import { startBenchBackend } from '../support/mcpgate.js';

const requests = numberOption('requests', 10_000, true);
const rounds = numberOption('rounds', 12, true);
const tokenChars = numberOption('token-chars', 428, true);
const IN_FLIGHT = 16;

const backend = await startBenchBackend();
pinToCpu(backend.child.pid!, 0);
pinToCpu(process.pid, 1);
// As the gateway's backend Agent (src/gateway/gateway.ts).
const agent = new Agent({ keepAliveTimeout: 30_000, connections: 256, pipelining: 1 });
const origin = `http://127.0.0.1:${backend.port}`;
// A base64url token of the given length (the characters of a JWT).
const token = Array.from({ length: tokenChars }, (_, i) => 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'[(i * 7919 + 13) % 64]).join('');
const variants = {
  without: { accept: '*/*' },
  with: { accept: '*/*', authorization: `Bearer ${token}` },
} as const;
type Variant = keyof typeof variants;

/** One GET, its answer read to the end. */
async function get(headers: Record<string, string>): Promise<void> {
  const res = await agent.request({ origin, path: '/item', method: 'GET', headers: { ...headers } });
  await res.body.arrayBuffer();
}

/** CPU µs per request of `n` requests, `IN_FLIGHT` at a time. */
async function batch(v: Variant, n: number): Promise<number> {
  let started = 0;
  const worker = async (): Promise<void> => {
    while (started++ < n) await get(variants[v]);
  };
  const t0 = process.cpuUsage();
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  const t = process.cpuUsage(t0);
  return (t.user + t.system) / n;
}

try {
  for (const v of Object.keys(variants) as Variant[]) await batch(v, requests);
  const us: Record<Variant, number[]> = { without: [], with: [] };
  for (let r = 0; r < rounds; r++) {
    for (const v of (r % 2 === 0 ? ['without', 'with'] : ['with', 'without']) as Variant[]) us[v].push(await batch(v, requests));
  }
  const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const diffs = us.with.map((x, i) => x - us.without[i]!);
  console.log(`without Authorization: ${median(us.without).toFixed(1)} CPU µs/request`);
  console.log(`with a ${tokenChars}-character bearer token: ${median(us.with).toFixed(1)} CPU µs/request, +${median(diffs).toFixed(2)} µs (paired median; pairs ${diffs.map((d) => d.toFixed(1)).join(' ')})`);
} finally {
  await agent.close();
  await stopProcess(backend.child);
}
