import { strict as assert } from 'node:assert';
import { hostname } from 'node:os';
import { describe, it } from 'node:test';
import { OriginPolicy, hostOfHeader, isLoopbackName } from './origin-policy.js';

const refused = (p: OriginPolicy, req: Parameters<OriginPolicy['check']>[0]) => p.check(req)?.kind;

describe('origin policy', () => {
  it('knows loopback names: localhost and loopback IP literals only', () => {
    for (const h of ['localhost', '127.0.0.1', '127.9.9.9', '::1', '[::1]', 'LOCALHOST', 'app.localhost', '::ffff:127.0.0.1']) assert.ok(isLoopbackName(h), h);
    for (const h of ['127.0.0.1.evil.example', 'evil.example', '10.0.0.1', 'localhost.evil.example', '128.0.0.1', '::2']) assert.ok(!isLoopbackName(h), h);
  });

  it('parses Host headers and refuses malformed ones', () => {
    assert.equal(hostOfHeader('LocalHost:8848'), 'localhost');
    assert.equal(hostOfHeader('[::1]:8080'), '::1');
    assert.equal(hostOfHeader('example.com.'), 'example.com');
    for (const bad of ['a b', 'x:y', '[::1', '[nope]:1', 'evil.example:80:81', '']) assert.equal(hostOfHeader(bad), undefined, bad);
  });

  it('bound to loopback: every request must name a loopback host (DNS rebinding)', () => {
    const p = new OriginPolicy({ bindHost: '127.0.0.1' });
    assert.equal(refused(p, { host: '127.0.0.1:8848' }), undefined);
    assert.equal(refused(p, { host: 'localhost:8848' }), undefined);
    assert.equal(refused(p, { host: '[::1]:8848' }), undefined);
    assert.equal(refused(p, { host: 'evil.example:8848' }), 'host');
    assert.equal(refused(p, { host: '127.0.0.1.evil.example:8848' }), 'host');
    assert.equal(refused(p, { host: 'evil.example:8848', origin: 'http://evil.example:8848' }), 'host', 'a matching Origin does not help');
    assert.equal(refused(p, {}), 'host', 'no Host at all');
  });

  it('refuses cross-site requests and accepts the listener\'s own origin', () => {
    const p = new OriginPolicy({ bindHost: '127.0.0.1' });
    assert.equal(refused(p, { method: 'POST', host: '127.0.0.1:8848', origin: 'https://attacker.example' }), 'origin');
    assert.equal(refused(p, { method: 'POST', host: '127.0.0.1:8848', origin: 'null' }), 'origin');
    assert.equal(refused(p, { method: 'POST', host: '127.0.0.1:8848', origin: 'http://localhost:3000' }), 'origin', 'another local port is another origin');
    assert.equal(refused(p, { method: 'POST', host: '127.0.0.1:8848', origin: 'http://127.0.0.1:8848' }), undefined);
    assert.equal(refused(p, { method: 'POST', host: 'localhost', origin: 'http://localhost' }), undefined, 'default port on both sides');
    // No Origin: curl and SDKs; but fetch metadata of a cross-site subresource is refused, a navigation is not.
    assert.equal(refused(p, { method: 'POST', host: '127.0.0.1:8848' }), undefined);
    assert.equal(refused(p, { method: 'GET', host: '127.0.0.1:8848', secFetchSite: 'cross-site', secFetchMode: 'no-cors' }), 'origin');
    assert.equal(refused(p, { method: 'GET', host: '127.0.0.1:8848', secFetchSite: 'cross-site', secFetchMode: 'navigate' }), undefined);
    assert.equal(refused(p, { method: 'POST', host: '127.0.0.1:8848', secFetchSite: 'cross-site', secFetchMode: 'navigate' }), 'origin', 'a cross-site form post');
    assert.equal(refused(p, { method: 'GET', host: '127.0.0.1:8848', secFetchSite: 'same-origin', secFetchMode: 'cors' }), undefined);
  });

  it('allows configured origins, and loopback origins where asked', () => {
    const p = new OriginPolicy({ bindHost: '127.0.0.1', allowedOrigins: ['https://app.example.com'], allowLoopbackOrigins: true });
    assert.equal(refused(p, { method: 'POST', host: '127.0.0.1:8080', origin: 'https://app.example.com' }), undefined);
    assert.equal(refused(p, { method: 'POST', host: '127.0.0.1:8080', origin: 'https://app.example.com:443' }), undefined);
    assert.equal(refused(p, { method: 'POST', host: '127.0.0.1:8080', origin: 'http://localhost:6274' }), undefined);
    assert.equal(refused(p, { method: 'POST', host: '127.0.0.1:8080', origin: 'http://127.0.0.1.evil.example' }), 'origin');
    assert.ok(p.allowsCrossOrigin('http://localhost:6274'));
    assert.ok(p.allowsCrossOrigin('https://app.example.com'));
    assert.ok(!p.allowsCrossOrigin('https://evil.example'));
  });

  it('bound to every address: browsers must name a known host; other clients need not', () => {
    const p = new OriginPolicy({ bindHost: '0.0.0.0' });
    assert.equal(refused(p, { host: 'mcpgate-registry.tools.svc:8848' }), undefined, 'an SDK inside the cluster');
    assert.equal(refused(p, { host: 'mcpgate-registry.tools.svc:8848', secFetchMode: 'cors', method: 'POST' }), undefined, "Node's fetch: Sec-Fetch-Mode alone");
    assert.equal(refused(p, { host: 'evil.example:8848', origin: 'http://evil.example:8848', method: 'POST' }), 'host');
    assert.equal(refused(p, { host: '10.1.2.3:8848', origin: 'http://10.1.2.3:8848', method: 'POST' }), undefined);
    assert.equal(refused(p, { host: `${hostname()}:8848`, origin: `http://${hostname()}:8848`, method: 'POST' }), undefined);
  });

  it('allowedHosts: names and wildcards, strict for every request; `*` accepts any', () => {
    const p = new OriginPolicy({ bindHost: '0.0.0.0', allowedHosts: ['mcp.example.com', '*.corp.example'] });
    assert.equal(refused(p, { host: 'mcp.example.com' }), undefined);
    assert.equal(refused(p, { host: 'a.corp.example:8080' }), undefined);
    assert.equal(refused(p, { host: 'corp.example' }), 'host');
    assert.equal(refused(p, { host: 'other.example' }), 'host', 'strict without browser headers');
    const any = new OriginPolicy({ bindHost: '127.0.0.1', allowedHosts: ['*'] });
    assert.equal(refused(any, { host: 'whatever.example' }), undefined);
  });

  it('bound to one address: that address and the machine\'s name', () => {
    const p = new OriginPolicy({ bindHost: '10.0.0.5' });
    assert.equal(refused(p, { host: '10.0.0.5:8080', origin: 'http://10.0.0.5:8080' }), undefined);
    assert.equal(refused(p, { host: '10.0.0.6:8080', origin: 'http://10.0.0.6:8080' }), 'host');
  });
});
