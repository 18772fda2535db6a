// `mcpgate export` / `mcpgate import` as an operator runs them: a registry with a namespace, a
// service and its persistent instance, an MCP server with a published version holding a
// secret header and a draft, and a consumer key, is exported to one file (the secret sealed with
// a passphrase), imported into an empty registry — whose gateway then serves the tool with the
// secret restored to the agent's existing key — and imported again without any change.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServe } from '../src/cli/roles.js';
import { loadConfig } from '../src/config/config.js';
import { createLogger } from '../src/lib/logger.js';
import { createRegistryServices } from '../src/registry/services.js';
import { openStore } from '../src/registry/store/open.js';
import { modernPost } from './support/gateway.js';

const SECRET = 'Bearer s3cr3t-header-value';
const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Run the CLI as an operator does: a child process (`mcpgate …` from the sources). */
function cli(args: string[], input?: string): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'cli', 'main.ts'), ...args], { cwd: ROOT, encoding: 'utf8', input, timeout: 120_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

describe('mcpgate export / import', () => {
  const root = mkdtempSync(join(tmpdir(), 'mcpgate-backup-'));
  const source = join(root, 'source');
  const target = join(root, 'target');
  const file = join(root, 'backup.json');
  const pass = join(root, 'passphrase');
  let backend: Server;
  let consumerKey = '';

  before(async () => {
    writeFileSync(pass, 'correct horse battery staple\n');
    backend = createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ auth: req.headers.authorization ?? null }));
    });
    await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', () => resolve()));
    const port = (backend.address() as { port: number }).port;
    const store = await openStore(`sqlite:${join(source, 'mcpgate.db')}`);
    try {
      const s = createRegistryServices(store, 3600);
      await s.naming.ensurePublicNamespace();
      await s.naming.createNamespace({ id: 'team', name: 'Team', description: 'a team' });
      await s.naming.createService({ namespace: 'team', group: 'DEFAULT_GROUP', name: 'orders' });
      await s.naming.registerInstance({ namespace: 'team', group: 'DEFAULT_GROUP', service: 'orders', ip: '10.0.0.7', port: 8081, cluster: 'DEFAULT', ephemeral: false });
      const tool = (description: string) => ({
        name: 'whoami', description, enabled: true, inputSchema: { type: 'object', properties: {} },
        template: {
          request: { url: '/who', method: 'GET', headers: [{ key: 'Authorization', value: SECRET }], argsToUrlParam: false, argsToJsonBody: false, argsToFormBody: false },
          response: { body: '{{ .auth }}' }, argsPosition: {},
        },
      });
      await s.mcp.create('team', { name: 'who', protocol: 'http', endpoint: { type: 'direct', address: '127.0.0.1', port } }, { version: '1.0.0', description: 'who', config: {}, securitySchemes: [], prompts: [], tools: [tool('v1')] } as never, true);
      await s.mcp.saveVersion('team', { name: 'who' }, {}, { version: '1.1.0', description: 'who', config: {}, securitySchemes: [], prompts: [], tools: [tool('v2 draft')] } as never, false);
      consumerKey = (await s.consumers.create('team', { name: 'agent', allow: null })).key;
      await s.namespaceAuthorization.put('team', {
        issuers: [{ issuer: 'https://login.example.com', introspection: { endpoint: 'https://login.example.com/i', clientId: 'gw', clientSecret: 'ns-s3cr3t' } }],
        rateLimits: { perCaller: { ratePerSecond: 5, burst: 10 } },
      }, { checkIssuers: false });
    } finally {
      await store.close();
    }
  });
  after(async () => {
    await new Promise<void>((resolve) => backend.close(() => resolve()));
    rmSync(root, { recursive: true, force: true });
  });

  it('exports everything to one file, the secret sealed, and refuses to export secrets without a passphrase', async () => {
    const refused = cli(['export', join(root, 'no.json'), '--data-dir', source]);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /passphrase/);
    const r = cli(['export', file, '--data-dir', source, '--passphrase-file', pass]);
    assert.equal(r.code, 0, r.stderr);
    const text = readFileSync(file, 'utf8');
    assert.ok(!text.includes('s3cr3t'), 'no secret in clear (the namespace authorization\'s client secret neither)');
    const doc = JSON.parse(text) as { format: string; namespaces: { id: string }[]; mcpServers: { versions: unknown[]; publishedVersion: string }[]; consumers: unknown[]; secrets?: unknown };
    assert.equal(doc.format, 'mcpgate-backup');
    assert.deepEqual(doc.namespaces.map((n) => n.id).sort(), ['public', 'team']);
    assert.equal(doc.mcpServers[0]?.versions.length, 2);
    assert.equal(doc.mcpServers[0]?.publishedVersion, '1.0.0');
    assert.equal(doc.consumers.length, 1);
    assert.ok(doc.secrets);
    const one = cli(['export', '-', '--data-dir', source, '--namespace', 'public']);
    assert.equal(one.code, 0, one.stderr);
    assert.deepEqual((JSON.parse(one.stdout) as { namespaces: { id: string }[] }).namespaces.map((n) => n.id), ['public']);
  });

  it('refuses a wrong passphrase and changes nothing', async () => {
    const wrong = join(root, 'wrong');
    writeFileSync(wrong, 'not the passphrase');
    const r = cli(['import', file, '--data-dir', join(root, 'elsewhere'), '--passphrase-file', wrong]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /wrong passphrase/);
  });

  it('imports into an empty registry, whose gateway serves the tool to the existing key with the secret restored; a second import changes nothing', async () => {
    // The namespace's issuer (login.example.com) cannot be reached from here: checked as a save checks it, the import is refused before anything is written.
    const refused = cli(['import', file, '--data-dir', target, '--passphrase-file', pass]);
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(refused.stderr, /ISSUER_METADATA_INVALID|authorization\[0\]\.settings\.issuers\[0\]\.issuer/);
    // Restored without reaching the authorization server (and the report below shows the refused import wrote nothing).
    const first = cli(['import', file, '--data-dir', target, '--passphrase-file', pass, '--no-check-issuers']);
    assert.equal(first.code, 0, first.stderr);
    const report = JSON.parse(first.stdout) as { created: Record<string, number> };
    assert.deepEqual(report.created, { namespaces: 1, services: 1, instances: 1, mcpServers: 1, versions: 2, consumers: 1, published: 1, authorization: 1 });
    const again = cli(['import', file, '--data-dir', target, '--passphrase-file', pass, '--no-check-issuers']);
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual((JSON.parse(again.stdout) as { created: Record<string, number> }).created, { namespaces: 0, services: 0, instances: 0, mcpServers: 0, versions: 0, consumers: 0, published: 0, authorization: 0 });

    const stack = await startServe(loadConfig('serve', { host: '127.0.0.1', registryPort: 0, gatewayPort: 0, dataDir: target }, {}), createLogger('silent'));
    try {
      const url = `http://127.0.0.1:${stack.gateway.port}/mcp/team/who`;
      const call = await modernPost(url, 1, 'tools/call', { name: 'whoami', arguments: {} }, { authorization: `Bearer ${consumerKey}` });
      assert.equal(call.status, 200, call.text);
      assert.deepEqual(call.body.result.content, [{ type: 'text', text: SECRET }]);
      const list = await modernPost(url, 2, 'tools/list', {}, { authorization: `Bearer ${consumerKey}` });
      assert.equal(list.body.result.tools[0].description, 'v1', 'the published version is 1.0.0; 1.1.0 is a draft');
      const restored = await stack.registry.services.store.getNamespaceAuthorization('team');
      assert.equal(restored?.issuers?.[0]?.introspection?.clientSecret, 'ns-s3cr3t', 'the namespace authorization came back, its secret unsealed');
      assert.deepEqual(restored?.rateLimits, { perCaller: { ratePerSecond: 5, burst: 10 } });
    } finally {
      await stack.close();
    }
  });

  it('imports a Nacos MCP export (the admin API\'s answers), idempotently, and serves it', async () => {
    const port = (backend.address() as { port: number }).port;
    const tools = (description: string) => ({
      tools: [{ name: 'whoami', description, inputSchema: { type: 'object', properties: {} } }],
      toolsMeta: { whoami: { enabled: true, templates: { 'json-go-template': { requestTemplate: { url: '/who', method: 'GET' }, responseTemplate: { body: 'nacos {{ .auth }}' } } } } },
    });
    const exported = {
      code: 0, message: 'success',
      data: {
        totalCount: 2, pageNumber: 1, pagesAvailable: 1,
        pageItems: [
          { name: 'by-ref', protocol: 'http', frontProtocol: 'mcp-streamable', description: 'by reference', versionDetail: { version: '2.0.0' }, enabled: true,
            remoteServerConfig: { serviceRef: { namespaceId: 'public', groupName: 'DEFAULT_GROUP', serviceName: 'who-api' } }, toolSpec: tools('ref') },
          { name: 'direct', protocol: 'http', frontProtocol: 'mcp-streamable', description: 'direct', versionDetail: { version: '1.0.0' }, enabled: true,
            endpointSpecification: { type: 'DIRECT', data: { address: '127.0.0.1', port } }, toolSpec: tools('direct') },
        ],
      },
    };
    const nacosFile = join(root, 'nacos-export.json');
    writeFileSync(nacosFile, JSON.stringify(exported));
    const dir = join(root, 'from-nacos');
    const first = cli(['import', nacosFile, '--data-dir', dir]);
    assert.equal(first.code, 0, first.stderr);
    assert.deepEqual((JSON.parse(first.stdout) as { created: Record<string, number> }).created, { namespaces: 0, services: 0, instances: 0, mcpServers: 2, versions: 2, consumers: 0, published: 2, authorization: 0 });
    const again = cli(['import', nacosFile, '--data-dir', dir]);
    assert.equal((JSON.parse(again.stdout) as { created: Record<string, number>; unchanged: number }).unchanged, 2);
    const stack = await startServe(loadConfig('serve', { host: '127.0.0.1', registryPort: 0, gatewayPort: 0, dataDir: dir }, {}), createLogger('silent'));
    try {
      const call = await modernPost(`http://127.0.0.1:${stack.gateway.port}/mcp/public/direct`, 1, 'tools/call', { name: 'whoami', arguments: {} });
      assert.equal(call.status, 200, call.text);
      assert.deepEqual(call.body.result.content, [{ type: 'text', text: 'nacos null' }]);
    } finally {
      await stack.close();
    }
  });

});
