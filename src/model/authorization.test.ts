import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AppError } from '../lib/errors.js';
import { AUTHORIZATION_REDACTED, checkEffective, mergeAuthorization, redactAuthorization, validateAuthorization } from './authorization.js';

function fieldOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof AppError);
    assert.equal(err.code, 'VALIDATION_FAILED');
    return err.field;
  }
  assert.fail('expected a validation error');
}

describe('authorization settings', () => {
  const good = {
    enabled: true,
    issuers: [{ issuer: 'https://login.example.com/realms/acme', introspection: { endpoint: 'https://login.example.com/introspect', clientId: 'gw', clientSecret: 's3cret' } }],
    requiredScopes: ['mcp'],
    scopeGrants: { 'orders:read': [{ server: 'orders', tools: ['get_order'] }], admin: null },
    clockSkewSeconds: 30,
    tokenExchange: { tokenEndpoint: 'https://login.example.com/token', clientId: 'gw', clientSecret: 'x', audience: 'orders-api' },
    rateLimits: { perCaller: { ratePerSecond: 10, burst: 20 }, tools: { get_order: { ratePerSecond: 1, burst: 2 } } },
  };

  test('accepts a complete configuration', () => {
    assert.deepEqual(validateAuthorization(good), good);
  });

  test('names the field at fault', () => {
    assert.equal(fieldOf(() => validateAuthorization({ issuers: [{ issuer: 'http://evil.example.com' }] })), 'authorization.issuers[0].issuer');
    assert.equal(fieldOf(() => validateAuthorization({ issuers: [{ issuer: 'https://a.example.com', algorithms: ['none'] }] })), 'authorization.issuers[0].algorithms[0]');
    assert.equal(fieldOf(() => validateAuthorization({ issuers: [{ issuer: 'https://a.example.com', algorithms: ['HS256'] }] })), 'authorization.issuers[0].algorithms[0]');
    assert.equal(fieldOf(() => validateAuthorization({ clockSkewSeconds: 3600 })), 'authorization.clockSkewSeconds');
    assert.equal(fieldOf(() => validateAuthorization({ requiredScopes: ['has space'] })), 'authorization.requiredScopes[0]');
    assert.equal(fieldOf(() => validateAuthorization({ rateLimits: { perCaller: { ratePerSecond: 0, burst: 1 } } })), 'authorization.rateLimits.perCaller.ratePerSecond');
    assert.equal(fieldOf(() => validateAuthorization({ unknownOption: true })), 'authorization');
    assert.equal(fieldOf(() => validateAuthorization({ scopeGrants: { s: [{ server: 'x', tools: [] }] } })), 'authorization.scopeGrants.s[0].tools');
    assert.equal(fieldOf(() => checkEffective({ enabled: true })), 'authorization.issuers');
  });

  test('allows http issuers on loopback only (development)', () => {
    validateAuthorization({ issuers: [{ issuer: 'http://127.0.0.1:9000' }, { issuer: 'http://localhost:9000/oidc' }] });
  });

  test('a server overrides its namespace field by field', () => {
    const merged = mergeAuthorization({ enabled: true, issuers: [{ issuer: 'https://a.example.com' }], requiredScopes: ['mcp'] }, { requiredScopes: ['orders'], audiences: ['https://orders'] });
    assert.deepEqual(merged, { enabled: true, issuers: [{ issuer: 'https://a.example.com' }], requiredScopes: ['orders'], audiences: ['https://orders'] });
    assert.equal(mergeAuthorization(undefined, undefined), undefined);
  });

  test('redacts client secrets only', () => {
    const red = redactAuthorization(good);
    assert.equal(red.issuers?.[0]?.introspection?.clientSecret, AUTHORIZATION_REDACTED);
    assert.equal(red.tokenExchange?.clientSecret, AUTHORIZATION_REDACTED);
    assert.equal(red.tokenExchange?.clientId, 'gw');
    assert.equal(good.tokenExchange.clientSecret, 'x', 'the original is untouched');
  });
});
