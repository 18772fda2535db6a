// TLS on the listeners (docs/operations.md#tls-and-reverse-proxies): `mcpgate serve` with
// `tlsCert`/`tlsKey` serves the registry and the gateway over HTTPS; the MCP SDK client calls a
// tool through the gateway with the certificate's CA trusted; a renewed certificate written over
// the files is served to new connections without a restart; plain HTTP is not answered.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Agent, fetch as undiciFetch } from 'undici';
import { startServe } from '../src/cli/roles.js';
import { loadConfig } from '../src/config/config.js';
import { createLogger } from '../src/lib/logger.js';
import { requireServices } from './support/databases.js';
import { firstText, restTool, waitFor } from './support/gateway.js';

const logger = createLogger(process.env.MCPGATE_TEST_LOG ?? 'silent');
const noOpenssl = spawnSync('openssl', ['version'], { stdio: 'ignore' }).status === 0 ? undefined : 'openssl is not installed (it makes the test certificates)';
if (noOpenssl && requireServices) throw new Error(`MCPGATE_TEST_REQUIRE_SERVICES=1 but ${noOpenssl}`);

/** A self-signed certificate for 127.0.0.1 and localhost, written to `dir/name.{crt,key}`. */
function selfSigned(dir: string, name: string, cn: string): { cert: string; key: string } {
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
    '-subj', `/CN=${cn}`, '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost', '-keyout', key, '-out', cert], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl: ${r.stderr}`);
  return { cert, key };
}

/** The subject CN of the certificate a new TLS connection to `port` is served. */
function servedCn(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
      const cn = socket.getPeerCertificate().subject?.CN;
      socket.end();
      resolve(String(cn));
    });
    socket.on('error', reject);
  });
}

describe('TLS on the listeners', { skip: noOpenssl }, () => {
  let dir = '';
  let backend: Server;
  let stack: Awaited<ReturnType<typeof startServe>> | undefined;
  let trusted: Agent;
  let certFile = '';
  let keyFile = '';

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mcpgate-tls-'));
    ({ cert: certFile, key: keyFile } = selfSigned(dir, 'server', 'mcpgate-first'));
    trusted = new Agent({ connect: { ca: readFileSync(certFile) } });
    backend = createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ city: new URL(req.url ?? '/', 'http://b').searchParams.get('city') }));
    });
    await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', () => resolve()));
    stack = await startServe(loadConfig('serve', {
      host: '127.0.0.1', registryPort: 0, gatewayPort: 0, dataDir: dir, 'auth.enabled': false, tlsCert: certFile, tlsKey: keyFile,
    }, {}), logger);
    const created = await undiciFetch(`https://127.0.0.1:${stack.registry.port}/api/v1/namespaces/public/mcp-servers`, {
      method: 'POST', dispatcher: trusted, headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        name: 'weather', protocol: 'http', publish: true, endpoint: { type: 'url', url: `http://127.0.0.1:${(backend.address() as { port: number }).port}` },
        spec: { version: '1.0.0', tools: [restTool('forecast', { url: '/f', properties: { city: { type: 'string' } }, argsToUrlParam: true, response: { body: 'sunny in {{ .city }}' } })] },
      }),
    });
    assert.equal(created.status, 201, await created.text());
  });
  after(async () => {
    await stack?.close();
    await trusted?.close();
    backend?.closeAllConnections();
    await new Promise<void>((resolve) => (backend ? backend.close(() => resolve()) : resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('the SDK client calls a tool over HTTPS (the CA trusted), and plain HTTP gets no answer', async () => {
    const url = new URL(`https://127.0.0.1:${stack!.gateway.port}/mcp/public/weather`);
    const fetchTrusted = ((input: string | URL, init?: RequestInit) => undiciFetch(input, { ...(init as object), dispatcher: trusted })) as unknown as typeof fetch;
    const text = await waitFor('the tool served over HTTPS', async () => {
      const transport = new StreamableHTTPClientTransport(url, { fetch: fetchTrusted });
      const client = new Client({ name: 'tls-test', version: '1' });
      await client.connect(transport);
      try {
        return firstText(await client.callTool({ name: 'forecast', arguments: { city: 'Oslo' } }));
      } finally {
        await transport.terminateSession().catch(() => undefined);
        await client.close();
      }
    }, 10_000, 100);
    assert.equal(text, 'sunny in Oslo');
    // Untrusted: the certificate is refused by a client that does not know its CA.
    await assert.rejects(fetch(`https://127.0.0.1:${stack!.gateway.port}/healthz`));
    // Plain HTTP to a TLS port: no HTTP answer.
    await assert.rejects(fetch(`http://127.0.0.1:${stack!.gateway.port}/healthz`, { signal: AbortSignal.timeout(5000) }));
    const registry = await undiciFetch(`https://127.0.0.1:${stack!.registry.port}/readyz`, { dispatcher: trusted });
    assert.equal(registry.status, 200);
  });

  it('a renewed certificate written over the files is served to new connections without a restart', async () => {
    const port = stack!.gateway.port;
    assert.equal(await servedCn(port), 'mcpgate-first');
    const next = selfSigned(dir, 'renewed', 'mcpgate-renewed');
    // Replaced as a whole (as Kubernetes and certbot do): never a half-written file.
    writeFileSync(`${keyFile}.new`, readFileSync(next.key));
    writeFileSync(`${certFile}.new`, readFileSync(next.cert));
    renameSync(`${keyFile}.new`, keyFile);
    renameSync(`${certFile}.new`, certFile);
    await waitFor('the renewed certificate served by the gateway', async () => (await servedCn(port)) === 'mcpgate-renewed', 20_000, 200);
    await waitFor('and by the registry', async () => (await servedCn(stack!.registry.port)) === 'mcpgate-renewed', 20_000, 200);
  });
});
