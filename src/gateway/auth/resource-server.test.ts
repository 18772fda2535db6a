import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileEndpointAccess } from './endpoint-settings.js';
import { challenge, endpointScopes, metadataUrl, protectedResourceMetadata, resourceUri, tokenConsumer } from './resource-server.js';
import type { VerifiedToken } from './token-verifier.js';

const token = (scopes: string[]): VerifiedToken => ({ issuer: 'https://as.example.com', subject: 'alice', audiences: [], scopes: new Set(scopes), expiresAt: 2e9 });

describe('resource server helpers', () => {
  it('makes the canonical resource URI and the path-suffixed metadata URL of an endpoint', () => {
    assert.equal(resourceUri('HTTPS://MCP.Example.com/', 'public', 'io.github.acme/weather'), 'https://mcp.example.com/mcp/public/io.github.acme/weather');
    assert.equal(metadataUrl('https://mcp.example.com', 'team a', 'orders'), 'https://mcp.example.com/.well-known/oauth-protected-resource/mcp/team%20a/orders');
  });

  it('maps scopes to grants as a consumer key allow-list', () => {
    const settings = { scopeGrants: { 'orders:read': [{ server: 'orders', tools: ['get_order'] }], admin: null } };
    assert.deepEqual([...tokenConsumer(token(['orders:read']), 'public', settings).allow!], [['orders', new Set(['get_order'])]]);
    assert.equal(tokenConsumer(token(['admin']), 'public', settings).allow, null);
    assert.equal(tokenConsumer(token(['tools:*']), 'public', {}).allow, null);
    const byConvention = tokenConsumer(token(['tools:weather:forecast', 'tools:weather:alerts', 'tools:io.github.acme/x:*']), 'public', {});
    assert.deepEqual([...byConvention.allow!], [['weather', new Set(['forecast', 'alerts'])], ['io.github.acme/x', null]]);
    assert.deepEqual([...tokenConsumer(token(['mcp']), 'public', {}).allow!], [], 'no granting scope: nothing');
    assert.equal(tokenConsumer(token(['mcp']), 'public', { grantAllWithoutToolScopes: true }).allow, null);
    assert.equal(tokenConsumer(token([]), 'public', {}).id, tokenConsumer(token(['x']), 'other', {}).id, 'one id per issuer and subject');
  });

  it('quotes challenge parameters safely', () => {
    assert.equal(challenge('https://g/x', { error: 'invalid_token', description: 'bad "quote" \\ and\nnewline' }), 'Bearer error="invalid_token", resource_metadata="https://g/x", error_description="bad quote  andnewline"');
  });

  it('advertises the scopes that grant the endpoint, and its metadata', () => {
    const access = compileEndpointAccess({ enabled: true, issuers: [{ issuer: 'https://as.example.com' }], requiredScopes: ['mcp'] }, { scopeGrants: { 'orders:read': [{ server: 'orders' }], other: [{ server: 'x' }] } });
    assert.ok(access?.tokens);
    assert.deepEqual(endpointScopes(access.tokens, 'orders'), ['mcp', 'orders:read', 'tools:orders:*']);
    assert.deepEqual(protectedResourceMetadata(access.tokens, 'https://g', 'public', 'orders'), {
      resource: 'https://g/mcp/public/orders', authorization_servers: ['https://as.example.com'], bearer_methods_supported: ['header'],
      scopes_supported: ['mcp', 'orders:read', 'other'], resource_name: 'public/orders',
    });
  });

  it('compiles nothing for endpoints without settings, and rate limits without tokens', () => {
    assert.equal(compileEndpointAccess(undefined, undefined), undefined);
    assert.equal(compileEndpointAccess({ enabled: false }, undefined), undefined);
    const limits = compileEndpointAccess(undefined, { rateLimits: { perCaller: { ratePerSecond: 1, burst: 1 } } });
    assert.equal(limits?.tokens, undefined);
    assert.deepEqual(limits?.rateLimits, { perCaller: { ratePerSecond: 1, burst: 1 } });
  });
});
