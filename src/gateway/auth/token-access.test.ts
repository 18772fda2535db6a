import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import type { CryptoKey } from 'jose';
import { GatewayError } from '../errors.js';
import type { CompiledConsumer, CompiledServer } from '../snapshot.js';
import { MemoryRateLimiter } from '../rate-limit/memory.js';
import { compileEndpointAccess } from './endpoint-settings.js';
import { TokenAccess, bearerToken } from './token-access.js';
import { TokenExchanger } from './token-exchange.js';
import { TokenVerifier } from './token-verifier.js';

const ISSUER = 'https://as.example.com';
const BASE = 'http://gateway.test';

/** A loopback HTTP server answering with `answer`. */
async function serve(answer: (req: IncomingMessage, body: string) => unknown): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => { body += c.toString(); });
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(answer(req, body)));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

describe('TokenAccess on the request path', () => {
  let key: CryptoKey;
  let jwks: { server: Server; url: string };
  let tokenEndpoint: { server: Server; url: string };
  let exchanges = 0;
  let now = Date.now();

  before(async () => {
    const pair = await generateKeyPair('ES256');
    key = pair.privateKey;
    const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
    jwks = await serve(() => ({ keys: [jwk] }));
    tokenEndpoint = await serve(() => ({ access_token: `backend-token-${++exchanges}`, token_type: 'Bearer', expires_in: 20 }));
  });
  after(() => {
    jwks.server.close();
    tokenEndpoint.server.close();
  });

  const issuers = () => [{ issuer: ISSUER, jwksUri: `${jwks.url}/jwks` }];
  const server = (name: string, settings: Record<string, unknown>): CompiledServer => {
    const access = compileEndpointAccess(undefined, { enabled: true, issuers: issuers(), requiredScopes: ['mcp'], ...settings });
    return { namespace: 'public', name, key: `public/${name}`, access } as unknown as CompiledServer;
  };
  const sign = (claims: Record<string, unknown>) => new SignJWT({ scope: 'mcp tools:*', ...claims }).setProtectedHeader({ alg: 'ES256', kid: 'k1' })
    .setIssuer(ISSUER).setSubject('alice').setIssuedAt().setExpirationTime('10m').sign(key);
  const request = (token: string): IncomingMessage => ({ headers: { host: 'gateway.test', authorization: `Bearer ${token}`, accept: 'application/json' }, socket: {} }) as unknown as IncomingMessage;
  const access = () => new TokenAccess({
    verifier: new TokenVerifier(), exchanger: new TokenExchanger({ now: () => now }), limiter: new MemoryRateLimiter(), publicUrl: `${BASE}/`,
  });

  it('reads the bearer token as the scheme and white space allow, in any case', () => {
    assert.equal(bearerToken('Bearer abc'), 'abc');
    assert.equal(bearerToken('bEaReR \t abc  '), 'abc');
    assert.equal(bearerToken('Bearer\tabc'), 'abc');
    assert.equal(bearerToken('Bearer '), undefined);
    assert.equal(bearerToken('Bearer    '), undefined);
    assert.equal(bearerToken('Bearerabc'), undefined);
    assert.equal(bearerToken('Basic abc'), undefined);
    assert.equal(bearerToken('Bear abc'), undefined);
    assert.equal(bearerToken(undefined), undefined);
  });

  it('admits a cached token without a promise, and checks the audience again at another endpoint', async () => {
    const a = access();
    const orders = server('orders', {});
    const weather = server('weather', {});
    const token = await sign({ aud: `${BASE}/mcp/public/orders` });
    const first = await a.authenticate(request(token), orders, false, () => null);
    const again = a.authenticate(request(token), orders, false, () => null);
    assert.ok(!(again instanceof Promise), 'a token in the cache is admitted synchronously');
    assert.equal(again, first, 'one principal per token and settings');
    // The same token at an endpoint it was not issued for: refused, though admitted elsewhere before.
    assert.throws(() => a.authenticate(request(token), weather, false, () => null), (err: unknown) => err instanceof GatewayError && err.code === 'INVALID_TOKEN');
    assert.equal(a.authenticate(request(token), orders, false, () => null), first);
  });

  it('keeps an admission no longer than the token: refused at the same endpoint once it expires', async () => {
    let clock = Date.now();
    const a = new TokenAccess({ verifier: new TokenVerifier({ now: () => clock }), exchanger: new TokenExchanger(), limiter: new MemoryRateLimiter(), publicUrl: BASE });
    const orders = server('orders', {});
    const token = await sign({ aud: `${BASE}/mcp/public/orders` });
    const first = await a.authenticate(request(token), orders, false, () => null);
    assert.equal(a.authenticate(request(token), orders, false, () => null), first, 'the same Authorization value again: the same principal, synchronously');
    // The same token sent with the scheme in another case: the same principal too.
    const lower = { headers: { host: 'gateway.test', authorization: `bearer ${token}` }, socket: {} } as unknown as IncomingMessage;
    assert.equal(a.authenticate(lower, orders, false, () => null), first);
    clock += 11 * 60_000; // the token's exp is 10 minutes after it was issued
    const expired = a.authenticate(request(token), orders, false, () => null);
    assert.ok(expired instanceof Promise, 'checked again, not taken from an earlier admission');
    await assert.rejects(expired, (err: unknown) => err instanceof GatewayError && err.code === 'INVALID_TOKEN');
  });

  it('takes a key sent as X-API-Key at an endpoint that accepts keys, even with a token admitted before', async () => {
    const a = access();
    const orders = server('orders', { acceptConsumerKeys: true });
    const token = await sign({ aud: `${BASE}/mcp/public/orders` });
    const first = await a.authenticate(request(token), orders, true, () => null);
    assert.equal(a.authenticate(request(token), orders, true, () => null), first);
    const key = { id: 'key-1', namespace: 'public', name: 'key-owner', allow: null, grants: '*' } as unknown as CompiledConsumer;
    const withKey = { headers: { host: 'gateway.test', authorization: `Bearer ${token}`, 'x-api-key': 'mcpk_x' }, socket: {} } as unknown as IncomingMessage;
    assert.equal(a.authenticate(withKey, orders, true, () => key), key);
  });

  it('checks the required scopes of each endpoint\'s settings, also for a token admitted before', async () => {
    const a = access();
    const token = await sign({ aud: `${BASE}/mcp/public/orders`, scope: 'mcp tools:orders:*' });
    const open = server('orders', {});
    const strict = server('orders', { requiredScopes: ['mcp', 'orders:admin'] });
    assert.ok(await a.authenticate(request(token), open, false, () => null));
    assert.throws(() => a.authenticate(request(token), strict, false, () => null), (err: unknown) => err instanceof GatewayError && err.code === 'INSUFFICIENT_SCOPE');
  });

  it('never takes a token for a cached one that ends the same (the cache is keyed by the end of tokens)', async () => {
    const a = access();
    const orders = server('orders', {});
    const token = await sign({ aud: `${BASE}/mcp/public/orders` });
    await a.authenticate(request(token), orders, false, () => null);
    const [, , signature] = token.split('.');
    const enc = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const forged = `${enc({ alg: 'ES256', kid: 'k1' })}.${enc({ iss: ISSUER, sub: 'mallory', aud: `${BASE}/mcp/public/orders`, scope: 'mcp tools:*', exp: Math.floor(Date.now() / 1000) + 600 })}.${signature}`;
    assert.equal(forged.slice(-64), token.slice(-64));
    const refused = a.authenticate(request(forged), orders, false, () => null);
    assert.ok(refused instanceof Promise, 'not in the cache: checked');
    await assert.rejects(refused, (err: unknown) => err instanceof GatewayError && err.code === 'INVALID_TOKEN');
    // The real token still works (it is checked again if the forged one took its slot).
    assert.equal((await a.authenticate(request(token), orders, false, () => null))?.name, 'alice');
  });

  it('sends the backend the exchanged token kept with the principal, and exchanges again once it is stale', async () => {
    const a = access();
    const payments = server('payments', { tokenExchange: { tokenEndpoint: `${tokenEndpoint.url}/token`, clientId: 'gw', clientSecret: 'secret', audience: 'https://backend.internal' } });
    const token = await sign({ aud: `${BASE}/mcp/public/payments` });
    const req = request(token);
    const consumer = await a.authenticate(req, payments, false, () => null);
    const headers = { ...req.headers };
    const before = exchanges;
    const first = await a.beforeCall(payments, consumer, '127.0.0.1', 'pay', headers);
    assert.equal(first.authorization, `Bearer backend-token-${before + 1}`);
    const cached = a.beforeCall(payments, consumer, '127.0.0.1', 'pay', headers);
    assert.ok(!(cached instanceof Promise), 'a cached exchange is synchronous');
    assert.equal(cached.authorization, first.authorization);
    assert.equal(exchanges, before + 1);
    assert.equal(headers.authorization, `Bearer ${token}`, 'the request\'s own headers are left as they were');
    // Expires in 20 s, used until 10 s before: after that, a new exchange.
    now += 11_000;
    const later = await a.beforeCall(payments, consumer, '127.0.0.1', 'pay', headers);
    assert.equal(later.authorization, `Bearer backend-token-${before + 2}`);
    const again = a.beforeCall(payments, consumer, '127.0.0.1', 'pay', headers);
    assert.ok(!(again instanceof Promise));
    assert.equal(again.authorization, later.authorization);
  });

  it('refuses an exchanged token that is no Bearer credential: nothing cached, nothing sent, the next call exchanges again', async () => {
    const answers = ['backend token\r\nx-injected: 1', '', 'a'.repeat(16_385), 'eyJhbGciOiJFUzI1NiJ9.e30.c2ln-_~+/=='];
    let asked = 0;
    const endpoint = await serve(() => ({ access_token: answers[asked++], token_type: 'Bearer', expires_in: 20 }));
    try {
      const a = access();
      const billing = server('billing', { tokenExchange: { tokenEndpoint: `${endpoint.url}/token`, clientId: 'gw', clientSecret: 'secret', audience: 'https://backend.internal' } });
      const token = await sign({ aud: `${BASE}/mcp/public/billing` });
      const req = request(token);
      const consumer = await a.authenticate(req, billing, false, () => null);
      for (let i = 0; i < 3; i++) {
        await assert.rejects(async () => a.beforeCall(billing, consumer, '127.0.0.1', 'bill', { ...req.headers }),
          (err: unknown) => err instanceof GatewayError && err.code === 'TOKEN_EXCHANGE_FAILED' && !err.message.includes('backend token'));
      }
      assert.equal(asked, 3, 'a refused token is not cached: each call asked again');
      const headers = await a.beforeCall(billing, consumer, '127.0.0.1', 'bill', { ...req.headers });
      assert.equal(headers.authorization, `Bearer ${answers[3]}`, 'RFC 6750 b64token characters pass');
      assert.equal(asked, 4);
    } finally {
      endpoint.server.close();
    }
  });

  it('removes the agent\'s token from what the backend may read when the server does not exchange', async () => {
    const a = access();
    const orders = server('orders', {});
    const token = await sign({ aud: `${BASE}/mcp/public/orders` });
    const req = request(token);
    const consumer = await a.authenticate(req, orders, false, () => null);
    const headers = a.beforeCall(orders, consumer, '127.0.0.1', 'get', { ...req.headers });
    assert.ok(!(headers instanceof Promise));
    assert.equal(headers.authorization, undefined);
    assert.equal(headers.accept, 'application/json');
  });
});
