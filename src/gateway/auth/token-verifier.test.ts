import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SignJWT, generateKeyPair } from 'jose';
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
});
