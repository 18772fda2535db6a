// Every path that saves or loads MCP authorization settings checks their issuers the same way
// (src/model/authorization-issuers.ts): each issuer's metadata is fetched from the real OpenID
// provider (oidc-provider) and a bad one is ISSUER_METADATA_INVALID naming the field, with nothing
// saved. Paths: a server's `spec.authorization` on create and on a version save (native API;
// the Nacos-compatible and gRPC APIs and imports go through the same McpService), and the
// standalone gateway's `namespaceAuthorization` configuration when it starts. The namespace
// settings' PUT is tested in gateway-oauth-registry.test.ts, backups in backup.test.ts.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { http } from './support/http.js';
import { freePort, restTool, waitFor } from './support/gateway.js';
import { startStack } from './support/stack.js';
import type { TestStack } from './support/stack.js';
import { startOidcProvider } from './support/oidc.js';
import type { TestOidcProvider } from './support/oidc.js';

const root = resolve(import.meta.dirname, '..');
const tsx = import.meta.resolve('tsx');
/** An issuer where nothing listens. */
const NOWHERE = 'http://127.0.0.1:1';

describe('issuer metadata checked on every path that saves authorization settings', () => {
  let idp: TestOidcProvider;
  let stack: TestStack;
  let servers: string;
  const dirs: string[] = [];

  before(async () => {
    idp = await startOidcProvider({ scopes: ['mcp'] });
    stack = await startStack();
    servers = `${stack.registryUrl}/api/v1/namespaces/public/mcp-servers`;
  });

  after(async () => {
    await stack?.close();
    await idp?.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  const spec = (version: string, issuer: string) => ({
    version, tools: [restTool('ping', { url: '/ping' })], authorization: { enabled: true, issuers: [{ issuer: idp.issuer }, { issuer }], requiredScopes: ['mcp'] },
  });

  it('native API, create: a bad issuer is refused naming it, and no server is created', async () => {
    const r = await http('POST', servers, { body: { name: 'checked', endpoint: { type: 'url', url: 'http://127.0.0.1:9/' }, spec: spec('1.0.0', NOWHERE) } });
    assert.equal(r.status, 400, r.text);
    const error = (r.body as { error: { code: string; field: string } }).error;
    assert.equal(error.code, 'ISSUER_METADATA_INVALID');
    assert.equal(error.field, 'authorization.issuers[1].issuer');
    assert.equal((await http('GET', `${servers}/checked`)).status, 404, 'nothing saved');
  });

  it('native API, version save: refused unless checkIssuers=false; issuers kept as stored are not fetched again', async () => {
    const created = await http('POST', servers, { body: { name: 'checked2', endpoint: { type: 'url', url: 'http://127.0.0.1:9/' }, spec: spec('1.0.0', idp.issuer) } });
    assert.equal(created.status, 201, created.text);
    const bad = await http('PUT', `${servers}/checked2/versions/1.1.0`, { body: { spec: spec('1.1.0', NOWHERE) } });
    assert.equal(bad.status, 400, bad.text);
    assert.equal((bad.body as { error: { field: string } }).error.field, 'authorization.issuers[1].issuer');
    assert.equal((await http('GET', `${servers}/checked2/versions/1.1.0`)).status, 404, 'nothing saved');
    const skipped = await http('PUT', `${servers}/checked2/versions/1.1.0?checkIssuers=false`, { body: { spec: spec('1.1.0', NOWHERE) } });
    assert.equal(skipped.status, 200, skipped.text);
    // A save that keeps the stored issuers (one of them unreachable) is not checked again: a Nacos client's update of other fields passes.
    const kept = await http('PUT', `${servers}/checked2/versions/1.1.0`, { body: { spec: { ...spec('1.1.0', NOWHERE), description: 'changed' } } });
    assert.equal(kept.status, 200, kept.text);
  });

  it('the standalone gateway checks its namespaceAuthorization configuration when it starts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mcpgate-issuers-'));
    dirs.push(dir);
    const start = (issuer: string, port: number) => {
      const child = spawn(process.execPath, ['--import', tsx, join(root, 'src/cli/main.ts'), 'gateway', '--definitions', dir, '--gateway-port', String(port), '--data-dir', dir, '--host', '127.0.0.1', '--log-level', 'warn'], {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, MCPGATE_NAMESPACE_AUTHORIZATION: JSON.stringify({ public: { enabled: true, issuers: [{ issuer }], requiredScopes: ['mcp'] } }) },
      });
      let output = '';
      child.stdout.on('data', (d) => { output += d; });
      child.stderr.on('data', (d) => { output += d; });
      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      return { child, exited, output: () => output };
    };
    const refused = start(NOWHERE, await freePort());
    const code = await refused.exited;
    assert.notEqual(code, 0, refused.output());
    assert.match(refused.output(), /namespaceAuthorization\.public\.issuers\[0\]\.issuer/);

    const port = await freePort();
    const good = start(idp.issuer, port);
    try {
      await waitFor('the gateway answers', async () => {
        if (good.child.exitCode !== null) throw new Error(`exited: ${good.output()}`);
        return (await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.status, () => 0)) === 200;
      }, 90_000, 100);
    } finally {
      good.child.kill('SIGTERM');
      await good.exited;
    }
  });
});
