import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { InvalidTokenError, IssuerUnavailableError, TokenVerifier } from './token-verifier.js';

describe('TokenVerifier', () => {
  it('answers "unavailable", not "invalid", when a trusted issuer cannot be reached, and does not retry it at once', async () => {
    let fetches = 0;
    const down: typeof fetch = () => { fetches++; return Promise.reject(new TypeError('fetch failed')); };
    const v = new TokenVerifier({ fetch: down });
    const { privateKey } = await generateKeyPair('ES256');
    const issuer = 'https://as.example.com';
    const token = await new SignJWT({}).setProtectedHeader({ alg: 'ES256', kid: 'k' }).setIssuer(issuer).setSubject('a').setExpirationTime('5m').sign(privateKey);
    await assert.rejects(v.verify(token, [{ issuer }], 60), IssuerUnavailableError);
    const after = fetches;
    await assert.rejects(v.verify(token, [{ issuer }], 60), IssuerUnavailableError);
    assert.equal(fetches, after, 'the failed discovery is remembered for a while');
  });

  it('refuses oversized, unsigned and untrusted tokens before any network call', async () => {
    const v = new TokenVerifier({ fetch: () => Promise.reject(new Error('no network expected')) });
    await assert.rejects(v.verify('x'.repeat(20_000), [{ issuer: 'https://a.example.com' }], 60), InvalidTokenError);
    const enc = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
    await assert.rejects(v.verify(`${enc({ alg: 'none' })}.${enc({ iss: 'https://a.example.com', sub: 'x' })}.`, [{ issuer: 'https://a.example.com' }], 60), /alg none/);
    await assert.rejects(v.verify(`${enc({ alg: 'HS256' })}.${enc({ iss: 'https://a.example.com', sub: 'x' })}.c2ln`, [{ issuer: 'https://a.example.com' }], 60), /HS256 is not accepted/);
    await assert.rejects(v.verify(`${enc({ alg: 'ES256' })}.${enc({ iss: 'https://b.example.com', sub: 'x' })}.c2ln`, [{ issuer: 'https://a.example.com' }], 60), /not trusted/);
  });

  it('never answers a token from the cached result of another token that ends the same (the cache is keyed by the end)', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k', alg: 'ES256' };
    const jwks = createServer((_req, res) => { res.writeHead(200, { 'content-type': 'application/json' }); res.end(JSON.stringify({ keys: [jwk] })); });
    await new Promise<void>((r) => jwks.listen(0, '127.0.0.1', r));
    try {
      const issuer = 'https://as.example.com';
      const issuers = [{ issuer, jwksUri: `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/jwks` }];
      const v = new TokenVerifier();
      const token = await new SignJWT({ scope: 'mcp' }).setProtectedHeader({ alg: 'ES256', kid: 'k' }).setIssuer(issuer).setSubject('alice').setExpirationTime('5m').sign(privateKey);
      assert.equal((await v.verify(token, issuers, 60)).subject, 'alice');
      assert.equal(v.cached(token, issuers, 60)?.subject, 'alice');
      // The same signature (so the same end, the same cache slot) under other claims: not the cached result, and refused.
      const [header, , signature] = token.split('.');
      const forged = `${header}.${Buffer.from(JSON.stringify({ iss: issuer, sub: 'mallory', scope: 'mcp', exp: Math.floor(Date.now() / 1000) + 300 })).toString('base64url')}.${signature}`;
      assert.equal(v.cached(forged, issuers, 60), undefined);
      await assert.rejects(v.verify(forged, issuers, 60), InvalidTokenError);
      assert.equal((await v.verify(token, issuers, 60)).subject, 'alice', 'the genuine token is still accepted');
    } finally {
      jwks.closeAllConnections();
      await new Promise((r) => jwks.close(r));
    }
  });
});
