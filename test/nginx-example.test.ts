// The nginx example of docs/operations.md#tls-and-reverse-proxies, as written in the docs, in a
// real nginx (Debian's) in front of a gateway (`mcpgate serve`): only the upstream servers, the
// listen port and the certificate paths are substituted. The MCP SDK client, trusting the test CA,
// calls a tool over HTTPS through it and is told of a tools/list_changed on its GET stream while
// the stream is open (SSE not buffered); /metrics is refused; nginx's request id reaches the gateway.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { Agent, fetch as undiciFetch } from 'undici';
import { startServe } from '../src/cli/roles.js';
import { loadConfig } from '../src/config/config.js';
import { createLogger } from '../src/lib/logger.js';
import { ensureNginx } from './cluster/harness.js';
import { requireServices } from './support/databases.js';
import { createMcpServer, firstText, freePort, restTool, waitFor } from './support/gateway.js';
import { http } from './support/http.js';

const logger = createLogger(process.env.MCPGATE_TEST_LOG ?? 'silent');
const root = resolve(import.meta.dirname, '..');
const missing = ensureNginx() ?? (spawnSync('openssl', ['version'], { stdio: 'ignore' }).status === 0 ? undefined : 'openssl is not installed');
if (missing && requireServices) throw new Error(`MCPGATE_TEST_REQUIRE_SERVICES=1 but ${missing}`);

/** The example's text, between its markers in docs/operations.md. */
function example(): string {
  const doc = readFileSync(join(root, 'docs/operations.md'), 'utf8');
  const m = /<!-- nginx-example:begin -->\n```nginx\n([\s\S]*?)```\n<!-- nginx-example:end -->/.exec(doc);
  if (!m?.[1]) throw new Error('docs/operations.md has no nginx example between its markers');
  return m[1];
}

describe('the nginx example of docs/operations.md', { skip: missing }, () => {
  let dir = '';
  let backend: Server;
  let stack: Awaited<ReturnType<typeof startServe>> | undefined;
  let nginx: ChildProcess | undefined;
  let lb = '';
  let trusted: Agent;
  let registryUrl = '';

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mcpgate-nginx-'));
    const crt = join(dir, 'mcp.crt');
    const key = join(dir, 'mcp.key');
    const ssl = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
      '-subj', '/CN=mcp.example.com', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost', '-keyout', key, '-out', crt], { encoding: 'utf8' });
    assert.equal(ssl.status, 0, ssl.stderr);
    trusted = new Agent({ connect: { ca: readFileSync(crt) } });
    backend = createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ city: new URL(req.url ?? '/', 'http://b').searchParams.get('city') }));
    });
    await new Promise<void>((r) => backend.listen(0, '127.0.0.1', () => r()));
    stack = await startServe(loadConfig('serve', { host: '127.0.0.1', registryPort: 0, gatewayPort: 0, dataDir: dir, 'auth.enabled': false }, {}), logger);
    registryUrl = `http://127.0.0.1:${stack.registry.port}`;
    await createMcpServer(registryUrl, 'public', {
      name: 'weather', endpoint: { type: 'url', url: `http://127.0.0.1:${(backend.address() as { port: number }).port}` },
      spec: { version: '1.0.0', tools: [restTool('forecast', { url: '/f', properties: { city: { type: 'string' } }, argsToUrlParam: true, response: { body: 'sunny in {{ .city }}' } })] },
    });

    const port = await freePort();
    const gateway = `127.0.0.1:${stack.gateway.port}`;
    const conf = example()
      .replace(/server gateway-1\.internal:8080/, `server ${gateway}`)
      .replace(/server gateway-2\.internal:8080/, `server ${gateway}`)
      .replace('listen 443 ssl;', `listen 127.0.0.1:${port} ssl;`)
      .replace('/etc/nginx/tls/mcp.example.com.crt', crt)
      .replace('/etc/nginx/tls/mcp.example.com.key', key);
    assert.ok(!/internal:8080|listen 443|\/etc\/nginx\/tls/.test(conf), `every placeholder substituted:\n${conf}`);
    for (const d of ['logs', 'tmp/body', 'tmp/proxy', 'tmp/fastcgi', 'tmp/uwsgi', 'tmp/scgi']) mkdirSync(join(dir, 'nginx', d), { recursive: true });
    const n = (p: string) => join(dir, 'nginx', p);
    writeFileSync(n('mcpgate.conf'), conf);
    writeFileSync(n('nginx.conf'), [
      'daemon off;', 'worker_processes 1;', `pid ${n('nginx.pid')};`, `error_log ${n('logs/error.log')} warn;`, 'events { worker_connections 256; }',
      'http {', '  access_log off;', `  client_body_temp_path ${n('tmp/body')};`, `  proxy_temp_path ${n('tmp/proxy')};`, `  fastcgi_temp_path ${n('tmp/fastcgi')};`,
      `  uwsgi_temp_path ${n('tmp/uwsgi')};`, `  scgi_temp_path ${n('tmp/scgi')};`, `  include ${n('mcpgate.conf')};`, '}', '',
    ].join('\n'));
    let output = '';
    nginx = spawn('nginx', ['-p', n(''), '-e', n('logs/error.log'), '-c', n('nginx.conf')], { stdio: ['ignore', 'pipe', 'pipe'] });
    nginx.stdout?.on('data', (d) => { output += d; });
    nginx.stderr?.on('data', (d) => { output += d; });
    lb = `https://127.0.0.1:${port}`;
    await waitFor(`nginx answering (${output})`, async () => {
      if (nginx?.exitCode !== null) throw new Error(`nginx exited: ${output}`);
      return (await undiciFetch(`${lb}/healthz`, { dispatcher: trusted }).then((r) => r.status, () => 0)) === 200;
    }, 30_000, 100);
  });
  after(async () => {
    if (nginx && nginx.exitCode === null) {
      const exited = new Promise((r) => nginx?.once('exit', r));
      nginx.kill('SIGTERM');
      await exited;
    }
    await stack?.close();
    await trusted?.close();
    backend?.closeAllConnections();
    await new Promise<void>((r) => (backend ? backend.close(() => r()) : r()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('carries an SDK client\'s tool call over HTTPS and its stream\'s notifications as they come', async () => {
    const fetchTrusted = ((input: string | URL, init?: RequestInit) => undiciFetch(input, { ...(init as object), dispatcher: trusted })) as unknown as typeof fetch;
    const transport = new StreamableHTTPClientTransport(new URL(`${lb}/mcp/public/weather`), { fetch: fetchTrusted });
    const client = new Client({ name: 'nginx-example', version: '1' });
    let changes = 0;
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => { changes++; });
    await client.connect(transport);
    try {
      assert.equal(firstText(await client.callTool({ name: 'forecast', arguments: { city: 'Oslo' } })), 'sunny in Oslo');
      // The client's GET stream is open through nginx; a change published now must reach it live.
      await waitFor('the client\'s GET stream held by the gateway', () => (stack?.gateway.handler.openStreams ?? 0) >= 1, 15_000, 20);
      const put = await http('PUT', `${registryUrl}/api/v1/namespaces/public/mcp-servers/weather/versions/1.0.1`, {
        body: { spec: { version: '1.0.1', tools: [restTool('forecast', { description: 'changed', url: '/f', properties: { city: { type: 'string' } }, argsToUrlParam: true })] } },
      });
      assert.equal(put.status, 200, put.text);
      assert.equal((await http('POST', `${registryUrl}/api/v1/namespaces/public/mcp-servers/weather/versions/1.0.1/publish`)).status, 200);
      await waitFor('the list_changed through nginx while the stream is open', () => changes >= 1, 15_000, 50);
    } finally {
      await transport.terminateSession().catch(() => undefined);
      await client.close();
    }
  });

  it('refuses /metrics and passes nginx\'s request id to the gateway', async () => {
    const metrics = await undiciFetch(`${lb}/metrics`, { dispatcher: trusted });
    assert.equal(metrics.status, 403);
    await metrics.body?.cancel();
    const health = await undiciFetch(`${lb}/healthz`, { dispatcher: trusted });
    assert.match(health.headers.get('x-request-id') ?? '', /^[0-9a-f]{32}$/, 'the gateway answered with nginx\'s $request_id');
    await health.body?.cancel();
  });
});
