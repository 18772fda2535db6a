/**
 * The gateway's per-call OAuth step alone, in this process: `AccessPolicy.admit` (Host/Origin,
 * route, the token's principal from the verified-token cache) and the `beforeExecute` step
 * (rate limits when set, the headers the backend may read: the agent's token removed, the
 * cached exchanged token added) for the three servers of `bench:auth` (`open`, `jwt`,
 * `exchange`), with the tests' oidc-provider as the issuer and the token endpoint, each call in an
 * AsyncLocalStorage as the gateway's requests are (so promises cost what they cost there). Batches of
 * each interleave (order rotated); the medians of CPU ns per call (this process's user + system
 * time, steadier than the wall clock on a shared machine) are printed, with what `jwt` and
 * `exchange` cost beyond `open` (the median of each round's difference). It isolates the step `bench:auth` measures end to end (where the
 * HTTP server, JSON and the backend call dominate), so that a change to it can be seen. With
 * `--sync`, the calls run in a plain loop without the AsyncLocalStorage and awaits (a cached
 * token's step is synchronous: a promise fails the run), so that the step's own few hundred ns
 * are not lost in the async overhead the gateway pays with or without a token.
 *
 *   npx tsx bench/auth/auth-step.bench.ts [--calls 20000] [--rounds 15] [--sync]
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AccessPolicy } from '../../src/gateway/access-policy.js';
import { TokenAccess } from '../../src/gateway/auth/token-access.js';
import { TokenExchanger } from '../../src/gateway/auth/token-exchange.js';
import { TokenVerifier } from '../../src/gateway/auth/token-verifier.js';
import { compileEndpointAccess } from '../../src/gateway/auth/endpoint-settings.js';
import { MemoryRateLimiter } from '../../src/gateway/rate-limit/memory.js';
import type { CompiledServer, GatewaySnapshot } from '../../src/gateway/snapshot.js';
import { serverKey } from '../../src/gateway/snapshot.js';
import { flag, numberOption } from '../support/args.js';
import { startOidcProvider } from '../../test/support/oidc.js';

const calls = numberOption('calls', 20_000, true);
const rounds = numberOption('rounds', 15, true);
const sync = flag('sync');
const HOST = '127.0.0.1:8080';
const names = ['open', 'jwt', 'exchange'] as const;
type Name = (typeof names)[number];

const idp = await startOidcProvider({ scopes: ['mcp', 'tools:jwt:*', 'tools:exchange:*'] });
try {
  const issuers = [{ issuer: idp.issuer }];
  const settings: Record<Name, unknown> = {
    open: undefined,
    jwt: { enabled: true, issuers, requiredScopes: ['mcp'] },
    exchange: {
      enabled: true, issuers, requiredScopes: ['mcp'],
      tokenExchange: { tokenEndpoint: `${idp.issuer}/token`, clientId: idp.gatewayClient.clientId, clientSecret: idp.gatewayClient.clientSecret, audience: 'https://backend.internal' },
    },
  };
  const servers = new Map<string, CompiledServer>();
  for (const name of names) {
    const access = compileEndpointAccess(undefined, settings[name] as Parameters<typeof compileEndpointAccess>[1]);
    servers.set(serverKey('public', name), { namespace: 'public', name, key: serverKey('public', name), ...(access ? { access } : {}) } as unknown as CompiledServer);
  }
  const snapshot: GatewaySnapshot = { revision: 1, servers, namespaces: new Set(['public']), consumersByHash: new Map(), securedNamespaces: new Set() };
  const tokenAccess = new TokenAccess({ verifier: new TokenVerifier(), exchanger: new TokenExchanger(), limiter: new MemoryRateLimiter() });
  const policy = new AccessPolicy({ bindHost: '127.0.0.1', tokenAccess });

  const tokenFor = async (name: string): Promise<string> => {
    const r = await fetch(`${idp.issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${idp.gatewayClient.clientId}:${idp.gatewayClient.clientSecret}`).toString('base64')}` },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope: `mcp tools:${name}:*`, resource: `http://${HOST}/mcp/public/${name}` }).toString(),
    });
    const body = await r.json() as { access_token?: string };
    if (!body.access_token) throw new Error(`no token for ${name}: ${JSON.stringify(body)}`);
    return body.access_token;
  };
  const bearer: Record<Name, string | undefined> = { open: undefined, jwt: `Bearer ${await tokenFor('jwt')}`, exchange: `Bearer ${await tokenFor('exchange')}` };
  const res = { setHeader() {}, writeHead() {}, end() {} } as unknown as ServerResponse;
  /** A request as Node's HTTP server makes one (a fresh header object, and token string, per request). */
  const request = (name: Name): IncomingMessage => ({
    method: 'POST', url: `/mcp/public/${name}`, socket: {},
    headers: {
      host: HOST, 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2026-07-28',
      'mcp-method': 'tools/call', 'mcp-name': 'get_item', 'content-length': '160', connection: 'keep-alive',
      ...(bearer[name] ? { authorization: bearer[name].split(' ').join(' ') } : {}),
    },
  }) as unknown as IncomingMessage;

  // The gateway serves each request inside an AsyncLocalStorage (its request id): with it, every
  // promise runs Node's async hooks, which is most of what an await costs there.
  const requestIds = new AsyncLocalStorage<string>();
  const once = (name: Name): Promise<void> => requestIds.run('request-id', () => step(name));
  const step = async (name: Name): Promise<void> => {
    const req = request(name);
    const admitted = await policy.admit(req, res, snapshot, `public/${name}`);
    if (!admitted) throw new Error('preflight?');
    // As tools/call does (src/gateway/mcp/methods.ts): awaited only when a promise.
    const before = admitted.beforeExecute ? admitted.beforeExecute('get_item', req.headers, '127.0.0.1') : req.headers;
    const headers = before instanceof Promise ? await before : before;
    if (name !== 'open' && headers.authorization === bearer[name]) throw new Error(`${name}: the agent's token would be forwarded`);
  };
  /** `step` without promises: a cached token's admission and headers are synchronous. */
  const onceSync = (name: Name): void => {
    const req = request(name);
    const admitted = policy.admit(req, res, snapshot, `public/${name}`);
    if (admitted instanceof Promise || !admitted) throw new Error(`${name}: the admission is not synchronous`);
    const headers = admitted.beforeExecute ? admitted.beforeExecute('get_item', req.headers, '127.0.0.1') : req.headers;
    if (headers instanceof Promise) throw new Error(`${name}: the backend headers are not synchronous`);
    if (name !== 'open' && headers.authorization === bearer[name]) throw new Error(`${name}: the agent's token would be forwarded`);
  };
  for (const name of names) await once(name);
  for (let i = 0; i < calls; i++) for (const name of names) await once(name);

  const ns: Record<Name, number[]> = { open: [], jwt: [], exchange: [] };
  for (let round = 0; round < rounds; round++) {
    for (const name of names.map((_, i) => names[(i + round) % names.length]!)) {
      const t0 = process.cpuUsage();
      if (sync) for (let i = 0; i < calls; i++) onceSync(name);
      else for (let i = 0; i < calls; i++) await once(name);
      const t = process.cpuUsage(t0);
      ns[name].push(((t.user + t.system) * 1000) / calls);
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  for (const name of names) {
    const extra = name === 'open' ? '' : `, +${median(ns[name].map((x, i) => x - ns.open[i]!)).toFixed(0)} ns beyond open (paired median)`;
    console.log(`${name.padEnd(9)} ${median(ns[name]).toFixed(0).padStart(6)} CPU ns/call${extra}`);
  }
  console.log(`token length: ${bearer.jwt!.length - 7} characters; exchanges made: ${idp.exchanges.length}`);
} finally {
  await idp.close();
}
