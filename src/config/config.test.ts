import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, OPTIONS, loadConfig } from './config.js';

describe('loadConfig', () => {
  it('has the documented defaults, auth off only for serve on loopback', () => {
    const c = loadConfig('serve', {}, {});
    assert.equal(c.host, '127.0.0.1');
    assert.equal(c.registryPort, 8848);
    assert.equal(c.gatewayPort, 8080);
    assert.equal(c.db, 'sqlite:data/mcpgate.db');
    assert.equal(c.auth.enabled, false);
    assert.equal(loadConfig('serve', { host: '0.0.0.0' }, {}).auth.enabled, true);
    assert.equal(loadConfig('registry', {}, {}).auth.enabled, true);
    assert.equal(loadConfig('registry', {}, {}).host, '0.0.0.0');
  });

  it('layers file < environment < flags', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mcpgate-cfg-'));
    const file = join(dir, 'mcpgate.yaml');
    writeFileSync(file, 'registryPort: 9000\ngatewayPort: 9001\nauth:\n  enabled: true\n  adminUsername: root\n');
    const c = loadConfig('serve', { gatewayPort: '9003' }, { MCPGATE_REGISTRY_PORT: '9002' }, file);
    assert.equal(c.registryPort, 9002);
    assert.equal(c.gatewayPort, 9003);
    assert.equal(c.auth.enabled, true);
    assert.equal(c.auth.adminUsername, 'root');
    assert.deepEqual(loadConfig('gateway', {}, { MCPGATE_REGISTRIES: 'http://a:8848, http://b:8848' }).registries, ['http://a:8848', 'http://b:8848']);
  });

  it('names the bad key and where it came from', () => {
    assert.throws(() => loadConfig('serve', { registryPort: 'abc' }, {}), (e: Error) => e instanceof ConfigError && /registryPort \(flag --registry-port\)/.test(e.message));
    assert.throws(() => loadConfig('serve', {}, { MCPGATE_DB: 'oracle://x' }), /db \(environment MCPGATE_DB\): must start with/);
    assert.throws(() => loadConfig('serve', {}, { MCPGATE_AUTH_ENABLED: 'maybe' }), /auth\.enabled \(environment MCPGATE_AUTH_ENABLED\)/);
    const dir = mkdtempSync(join(tmpdir(), 'mcpgate-cfg-'));
    writeFileSync(join(dir, 'a.yaml'), 'registryPrt: 1\n');
    assert.throws(() => loadConfig('serve', {}, {}, join(dir, 'a.yaml')), /unknown option 'registryPrt'/);
    writeFileSync(join(dir, 'b.yaml'), 'logLevel: loud\n');
    assert.throws(() => loadConfig('serve', {}, {}, join(dir, 'b.yaml')), /logLevel \(file logLevel\)/);
    writeFileSync(join(dir, 'c.yaml'), 'a: [\n');
    assert.throws(() => loadConfig('serve', {}, {}, join(dir, 'c.yaml')), /not valid YAML/);
    assert.throws(() => loadConfig('serve', {}, {}, join(dir, 'missing.yaml')), /cannot read config file/);
  });

  it('reads every secret from a {VAR}_FILE file, never both ways, and never echoes a bad secret', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mcpgate-cfg-'));
    const write = (name: string, text: string) => { const f = join(dir, name); writeFileSync(f, text); return f; };
    const c = loadConfig('gateway', {}, {
      MCPGATE_REDIS_FILE: write('redis', 'redis://:s3cret@redis:6379\n'),
      MCPGATE_REGISTRY_TOKEN_FILE: write('token', `mgt_${'a'.repeat(40)}`),
      MCPGATE_SESSION_KEY_FILE: write('key', 'k'.repeat(32)),
    });
    assert.equal(c.redis, 'redis://:s3cret@redis:6379', 'one final line break dropped');
    assert.equal(c.registryToken, `mgt_${'a'.repeat(40)}`);
    assert.equal(c.sessionEncryptionKey, 'k'.repeat(32));
    const r = loadConfig('registry', {}, {
      MCPGATE_DB_FILE: write('db', 'postgres://u:p@db/mcpgate'), MCPGATE_ADMIN_PASSWORD_FILE: write('pw', 'long-enough'),
      MCPGATE_GATEWAY_TOKEN_FILE: write('gw', `mgt_${'b'.repeat(32)}`),
    });
    assert.deepEqual([r.db, r.auth.adminPassword, r.auth.gatewayToken], ['postgres://u:p@db/mcpgate', 'long-enough', `mgt_${'b'.repeat(32)}`]);
    // Every secret option has its _FILE variable.
    for (const o of OPTIONS.filter((x) => 'secret' in x && x.secret)) {
      assert.throws(() => loadConfig('serve', {}, { [o.env]: 'x', [`${o.env}_FILE`]: write('x', 'x') }), new RegExp(`set either ${o.env} or ${o.env}_FILE`));
    }
    assert.throws(() => loadConfig('serve', {}, { MCPGATE_DB_FILE: join(dir, 'missing') }), /cannot read MCPGATE_DB_FILE \(.*missing\): ENOENT/);
    assert.throws(() => loadConfig('serve', {}, { MCPGATE_DB_FILE: write('bad', 'oracle://u:hunter2@db') }), (e: Error) => /db \(environment MCPGATE_DB_FILE\): must start with/.test(e.message) && !e.message.includes('hunter2'));
    assert.throws(() => loadConfig('serve', {}, { MCPGATE_REDIS: 'http://:hunter2@x' }), (e: Error) => /not shown: it is a secret/.test(e.message) && !e.message.includes('hunter2'));
  });

  it('takes a Redis prefix for keys and channels, a registry grace time, and a gateway token of the API-token form', () => {
    assert.equal(loadConfig('gateway', { redisPrefix: 'prod:' }, {}).redisPrefix, 'prod:');
    assert.throws(() => loadConfig('gateway', {}, { MCPGATE_REDIS_PREFIX: 'has space' }), /redisPrefix \(environment MCPGATE_REDIS_PREFIX\)/);
    assert.equal(loadConfig('gateway', {}, {}).registryGraceSeconds, 10);
    assert.equal(loadConfig('gateway', {}, { MCPGATE_REGISTRY_GRACE_SECONDS: '0' }).registryGraceSeconds, 0);
    assert.throws(() => loadConfig('registry', {}, { MCPGATE_GATEWAY_TOKEN: 'short' }), /auth\.gatewayToken/);
  });

  it('reads MCP authorization per namespace from the file or JSON in the environment, naming a bad field', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mcpgate-config-'));
    const file = join(dir, 'mcpgate.yaml');
    writeFileSync(file, 'namespaceAuthorization:\n  public:\n    enabled: true\n    issuers: [{ issuer: "https://login.example.com" }]\n    requiredScopes: [mcp]\n');
    assert.deepEqual(loadConfig('gateway', {}, {}, file).namespaceAuthorization, { public: { enabled: true, issuers: [{ issuer: 'https://login.example.com' }], requiredScopes: ['mcp'] } });
    const env = { MCPGATE_NAMESPACE_AUTHORIZATION: JSON.stringify({ team: { rateLimits: { perCaller: { ratePerSecond: 5, burst: 10 } } } }) };
    assert.deepEqual(loadConfig('gateway', {}, env).namespaceAuthorization, { team: { rateLimits: { perCaller: { ratePerSecond: 5, burst: 10 } } } });
    assert.throws(() => loadConfig('gateway', {}, { MCPGATE_NAMESPACE_AUTHORIZATION: JSON.stringify({ team: { issuers: [{ issuer: 'http://evil.example.com' }] } }) }),
      (e: Error) => e instanceof ConfigError && /namespaceAuthorization\.team\.issuers\[0\]\.issuer/.test(e.message));
    assert.throws(() => loadConfig('gateway', {}, { MCPGATE_NAMESPACE_AUTHORIZATION: '{not json' }), (e: Error) => e instanceof ConfigError && /must be JSON/.test(e.message));
  });

  it('is documented option by option in docs/configuration.md', () => {
    const doc = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8');
    for (const o of OPTIONS) {
      assert.ok(doc.includes(`\`${o.key}\``), `docs/configuration.md lacks ${o.key}`);
      assert.ok(doc.includes(o.env), `docs/configuration.md lacks ${o.env}`);
    }
  });
});

describe('docs/errors.md', () => {
  it('lists every error code', async () => {
    const { ERRORS } = await import('../lib/errors.js');
    const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
    for (const code of Object.keys(ERRORS)) assert.ok(doc.includes(`\`${code}\``), `docs/errors.md lacks ${code}`);
  });
});
