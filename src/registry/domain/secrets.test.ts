import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AppError } from '../../lib/errors.js';
import { isSecretName } from '../../lib/secret-names.js';
import type { McpServerSpec, Tool } from '../../model/model.js';
import {
  REDACTED, changedSecrets, hasSecrets, redactEndpoint, redactSpec, restoreEndpoint, restoreSecrets, secretHeaderNames, secretValues,
} from './secrets.js';

function tool(name: string, headers: { key: string; value: string }[], credential?: string): Tool {
  return {
    name, description: '', inputSchema: { type: 'object' }, enabled: true,
    template: {
      request: {
        url: '/x', method: 'GET', headers, argsToUrlParam: false, argsToJsonBody: false, argsToFormBody: false,
        ...(credential ? { security: { id: 'key', credential } } : {}),
      },
      response: {}, argsPosition: {},
    },
  };
}

function spec(over: Partial<McpServerSpec> = {}): McpServerSpec {
  return {
    version: '1.0.0', description: '',
    config: { region: 'eu', maxTokens: 512, db: { host: 'db1', password: 'db-pass-1', port: 5432 }, apiKey: 'sk-live-1', pin: 1234, empty: '', tenant: { code: 'acme-code' } },
    securitySchemes: [{ id: 'key', type: 'apiKey', in: 'header', name: 'X-Key', defaultCredential: 'scheme-cred-1' }],
    tools: [tool('get', [{ key: 'Authorization', value: 'Bearer {{ .config.apiKey }}' }, { key: 'X-Trace', value: 'console' }, { key: 'X-Tenant', value: 'tenant-value-1' }], 'static-cred-1')],
    prompts: [],
    secrets: { config: ['tenant'], headers: ['x-tenant'] },
    ...over,
  };
}

describe('secret names', () => {
  test('names that hold credentials, and names that do not', () => {
    for (const n of ['password', 'dbPassword', 'apiKey', 'API_KEY', 'x-api-key', 'Authorization', 'proxy-authorization', 'X-Auth-Token', 'client_secret',
      'GITHUB_PERSONAL_ACCESS_TOKEN', 'accesstoken', 'token', 'key', 'secretKey', 'cookie', 'set-cookie', 'x-signature', 'connectionString', 'oauth']) {
      assert.equal(isSecretName(n), true, n);
    }
    for (const n of ['maxTokens', 'tokenUrl', 'keyId', 'keyName', 'region', 'accept', 'x-trace', 'host', 'content-type', 'url', 'author']) {
      assert.equal(isSecretName(n), false, n);
    }
  });
});

describe('redaction', () => {
  test('every secret place is hidden, nothing else, and the original stays as it was', () => {
    const s = spec();
    const r = redactSpec(s);
    assert.deepEqual(r.config, {
      region: 'eu', maxTokens: 512, db: { host: 'db1', password: REDACTED, port: 5432 }, apiKey: REDACTED, pin: 1234, empty: '', tenant: { code: REDACTED },
    });
    assert.equal(r.securitySchemes[0]?.defaultCredential, REDACTED);
    const request = r.tools[0]?.template?.request;
    assert.equal(request?.security?.credential, REDACTED);
    assert.deepEqual(request?.headers, [{ key: 'Authorization', value: REDACTED }, { key: 'X-Trace', value: 'console' }, { key: 'X-Tenant', value: REDACTED }]);
    assert.deepEqual(r.secrets, s.secrets, 'the declaration itself is no secret');
    assert.equal((s.config.db as { password: string }).password, 'db-pass-1', 'the stored spec is not touched');
    assert.equal(hasSecrets(s), true);
    assert.equal(hasSecrets(spec({ config: {}, securitySchemes: [], tools: [], secrets: {} })), false);
  });

  test('the secret values and secret header names of a spec', () => {
    assert.deepEqual(new Set(secretValues(spec())), new Set(['db-pass-1', 'sk-live-1', 'acme-code', 'scheme-cred-1', 'static-cred-1', 'Bearer {{ .config.apiKey }}', 'tenant-value-1']));
    assert.deepEqual(secretHeaderNames(spec()), new Set(['x-tenant', 'authorization']));
  });
});

describe('writing back a redacted spec', () => {
  test('markers keep the stored secrets, taken from the first source that has them', () => {
    const stored = spec();
    const older = spec({ config: { ...stored.config, apiKey: 'sk-older' } });
    const sent = redactSpec(stored);
    (sent.config as Record<string, unknown>).region = 'us';
    const kept = restoreSecrets(sent, [stored, older]);
    assert.deepEqual(kept, { ...stored, config: { ...stored.config, region: 'us' } });
    assert.equal(restoreSecrets(spec(), [stored]).config.apiKey, 'sk-live-1', 'no marker: the spec as sent');
    const changed = restoreSecrets({ ...sent, config: { ...sent.config, apiKey: 'sk-new' } }, [stored]);
    assert.equal(changed.config.apiKey, 'sk-new', 'a new value replaces the secret');
  });

  test('a marker with nothing stored to keep is refused, naming the field', () => {
    const sent = redactSpec(spec());
    assert.throws(() => restoreSecrets(sent, []), (e: unknown) => e instanceof AppError && e.code === 'VALIDATION_FAILED' && e.field === 'spec.config.db.password');
    const renamed = { ...sent, tools: sent.tools.map((t) => ({ ...t, name: 'other' })) };
    assert.throws(() => restoreSecrets(renamed, [spec()]), (e: unknown) => e instanceof AppError && /tools\[0\]\.template\.request/.test(e.field ?? ''));
  });

  test('a spec without a declaration keeps the one of the version it replaces', () => {
    const { secrets: _s, ...bare } = spec();
    assert.deepEqual(restoreSecrets(bare, [spec()]).secrets, spec().secrets);
    assert.deepEqual(restoreSecrets({ ...bare, secrets: {} }, [spec()]).secrets, {}, 'an explicit declaration wins');
  });

  test('changed secrets are named by path', () => {
    const a = spec();
    const b = spec({ config: { ...a.config, apiKey: 'sk-rotated', region: 'us' } });
    assert.deepEqual(changedSecrets(a, b), ['config.apiKey']);
    assert.deepEqual(changedSecrets(a, a), []);
    assert.deepEqual(changedSecrets(undefined, spec({ config: {}, securitySchemes: [], tools: [] })), []);
    assert.ok(changedSecrets(undefined, a).includes('securitySchemes[0].defaultCredential'));
  });
});

describe('endpoint passwords', () => {
  test('are hidden and kept like the rest', () => {
    const stored = { type: 'url' as const, url: 'https://svc:pa55word@backend.internal:8443/mcp?x=1' };
    const shown = redactEndpoint(stored);
    assert.deepEqual(shown, { type: 'url', url: `https://svc:${REDACTED}@backend.internal:8443/mcp?x=1` });
    assert.deepEqual(restoreEndpoint(shown, stored), stored);
    assert.deepEqual(redactEndpoint({ type: 'url', url: 'https://backend/mcp' }), { type: 'url', url: 'https://backend/mcp' });
    assert.throws(() => restoreEndpoint(shown, undefined), (e: unknown) => e instanceof AppError && e.field === 'endpoint.url');
  });
});

describe('authorization secrets', () => {
  const withAuth = (introspectionSecret: string, exchangeSecret: string) => spec({
    authorization: {
      enabled: true,
      issuers: [{ issuer: 'https://as.example.com', introspection: { endpoint: 'https://as.example.com/introspect', clientId: 'gw', clientSecret: introspectionSecret } }],
      tokenExchange: { tokenEndpoint: 'https://as.example.com/token', clientId: 'gw', clientSecret: exchangeSecret, audience: 'orders-api' },
    },
  });

  test('the introspection and token-exchange client secrets are redacted, and kept when written back redacted', () => {
    const original = withAuth('intro-secret-1', 'exchange-secret-1');
    const red = redactSpec(original);
    assert.equal(red.authorization?.issuers?.[0]?.introspection?.clientSecret, REDACTED);
    assert.equal(red.authorization?.tokenExchange?.clientSecret, REDACTED);
    assert.equal(red.authorization?.tokenExchange?.clientId, 'gw');
    assert.ok(!JSON.stringify(red).includes('secret-1'));
    const restored = restoreSecrets(red, [original]);
    assert.equal(restored.authorization?.issuers?.[0]?.introspection?.clientSecret, 'intro-secret-1');
    assert.equal(restored.authorization?.tokenExchange?.clientSecret, 'exchange-secret-1');
    assert.deepEqual(changedSecrets(original, withAuth('intro-secret-1', 'exchange-secret-2')), ['authorization.tokenExchange.clientSecret']);
  });
});
