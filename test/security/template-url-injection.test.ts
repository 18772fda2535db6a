// Finding 8, "Template arguments in URLs", reproduced through a running registry + gateway
// (`mcpgate serve` in process) with the official MCP SDK client and a real backend that records
// the raw request line. `{{.args.x}}` printed into a URL path could climb out of its segment
// (`../../admin`) or add query parameters (`x?admin=true&y=`); printed into the host it reached
// any address, the registry's own user list included. Now: path values are one percent-encoded
// segment (unless the tool lets an argument span segments), query values stay values, and a
// host an argument fills must fit the template's pattern and may not be loopback, private or
// the gateway's or registry's own endpoint — while an e2b-style templated host keeps working.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { createMcpServer, firstText, restTool, waitFor } from '../support/gateway.js';
import { startStack } from '../support/stack.js';
import type { TestStack } from '../support/stack.js';

/** What the backend received: the request target exactly as sent, and the Host header. */
interface Seen {
  target: string;
  headers: IncomingHttpHeaders;
}

/** A tool whose URL is a Go template, as Higress definitions write them; `subPathArgs` is mcpgate's opt-out. */
function templated(name: string, url: string, args: string[], subPathArgs?: string[]): Record<string, unknown> {
  const tool = restTool(name, { url, properties: Object.fromEntries(args.map((a) => [a, { type: 'string' }])), required: args });
  if (subPathArgs) (tool.template as Record<string, unknown>).subPathArgs = subPathArgs;
  return tool;
}

describe('finding 8: template arguments in URLs', () => {
  let stack: TestStack;
  let backend: Server;
  let backendPort: number;
  let registryPort: number;
  let gatewayPort: number;
  const seen: Seen[] = [];
  const clients: Client[] = [];

  async function connect(server: string): Promise<Client> {
    const client = new Client({ name: 'url-injection', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${stack.gatewayUrl}/mcp/public/${server}`)));
    clients.push(client);
    return client;
  }

  /** A call that succeeds: the backend's answer text. */
  async function call(client: Client, name: string, args: Record<string, string>): Promise<string> {
    const result = await client.callTool({ name, arguments: args });
    assert.notEqual(result.isError, true, `${name} ${JSON.stringify(args)}: ${firstText(result)}`);
    return firstText(result);
  }

  /**
   * A call the gateway refuses as bad input: a JSON-RPC invalid-params error or an isError
   * result (both are input errors; the message is what is checked). Nothing may reach the backend.
   */
  async function refused(client: Client, name: string, args: Record<string, string>): Promise<string> {
    const before = seen.length;
    let message: string;
    try {
      const result = await client.callTool({ name, arguments: args });
      assert.equal(result.isError, true, `${name} ${JSON.stringify(args)} was not refused: ${firstText(result)}`);
      message = firstText(result);
    } catch (err) {
      assert.ok(err instanceof McpError, String(err));
      assert.equal(err.code, -32602, err.message);
      message = err.message;
    }
    assert.equal(seen.length, before, `${name} ${JSON.stringify(args)} reached the backend: ${JSON.stringify(seen.slice(before))}`);
    assert.doesNotMatch(message, /"username"|admin-password/, 'no registry data in the answer');
    return message;
  }

  function last(): Seen {
    const s = seen[seen.length - 1];
    assert.ok(s, 'the backend received nothing');
    return s;
  }

  before(async () => {
    backend = createServer((req, res) => {
      seen.push({ target: req.url ?? '', headers: req.headers });
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(`got ${req.url ?? ''}`);
    });
    await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', () => resolve()));
    backendPort = (backend.address() as AddressInfo).port;
    stack = await startStack();
    registryPort = Number(new URL(stack.registryUrl).port);
    gatewayPort = Number(new URL(stack.gatewayUrl).port);
    const reg = stack.registryUrl;
    const direct = { type: 'direct', address: '127.0.0.1', port: backendPort };

    await createMcpServer(reg, 'public', {
      name: 'files', endpoint: direct,
      spec: {
        version: '1.0.0', tools: [
          templated('get-file', '/files/{{.args.name}}', ['name']),
          templated('get-escaped', '/files/{{urlquery .args.name}}', ['name']),
          templated('read-tree', '/tree/{{.args.path}}/raw', ['path'], ['path']),
          templated('search', '/search?q={{.args.q}}&lang=en', ['q']),
          templated('fetch-in-query', '/proxy?target={{ .config.base }}/{{.args.name}}', ['name']),
        ],
        config: { base: 'https://static.example.com' },
      },
    });
    // The SSRF of the issue: the whole host (and with it, the port) from an argument.
    await createMcpServer(reg, 'public', {
      name: 'fetcher', endpoint: { type: 'none' },
      spec: {
        version: '1.0.0', tools: [
          templated('fetch', 'http://{{.args.host}}/api/v1/users', ['host']),
          templated('fetch-registry-port', `http://{{.args.host}}:${registryPort}/api/v1/users`, ['host']),
          templated('scheme', '{{.args.base}}/api/v1/users', ['base']),
          templated('userinfo', 'http://{{.args.user}}@127.0.0.1:${backendPort}/x'.replace('${backendPort}', String(backendPort)), ['user']),
          templated('port', `http://127.0.0.1:{{.args.port}}/x`, ['port']),
        ],
      },
    });
    // An e2b-style templated host (`49999-{{.args.sandbox_id}}.e2b.dev`), made to resolve offline:
    // the argument fills part of one label of `local*`, and the server allows private addresses.
    await createMcpServer(reg, 'public', {
      name: 'sandbox', endpoint: { type: 'none' },
      spec: {
        version: '1.0.0', config: { allowPrivateAddresses: true },
        tools: [
          templated('execute', `http://local{{.args.sandbox_id}}:${backendPort}/execute`, ['sandbox_id']),
          templated('registry-users', `http://local{{.args.sandbox_id}}:${registryPort}/api/v1/users`, ['sandbox_id']),
          templated('gateway-self', `http://local{{.args.sandbox_id}}:${gatewayPort}/mcp/public/files`, ['sandbox_id']),
        ],
      },
    });
    // The explicit allow-list: a value that spans labels is accepted when the resulting host is listed.
    await createMcpServer(reg, 'public', {
      name: 'listed', endpoint: { type: 'none' },
      spec: {
        version: '1.0.0', config: { allowPrivateAddresses: true, allowedArgumentHosts: ['127.0.0.1'] },
        tools: [templated('fetch', `http://{{.args.host}}:${backendPort}/listed`, ['host'])],
      },
    });
    await waitFor('the servers on the gateway', async () => {
      const r = await fetch(`${stack.gatewayUrl}/mcp/public/listed`, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: '{}' });
      await r.body?.cancel();
      return r.status !== 404;
    });
  });

  after(async () => {
    for (const c of clients) await c.close();
    await stack?.close();
    backend?.closeAllConnections();
    await new Promise<void>((resolve) => backend?.close(() => resolve()));
  });

  describe('path: `url: /files/{{.args.name}}`', () => {
    it('sends "../../admin" as one encoded segment', async () => {
      const client = await connect('files');
      assert.equal(await call(client, 'get-file', { name: '../../admin' }), 'got /files/..%2F..%2Fadmin');
      assert.equal(last().target, '/files/..%2F..%2Fadmin');
    });

    it('sends "x?admin=true&y=" as one encoded segment, not a query', async () => {
      const client = await connect('files');
      await call(client, 'get-file', { name: 'x?admin=true&y=' });
      assert.equal(last().target, '/files/x%3Fadmin%3Dtrue%26y%3D');
      await call(client, 'get-file', { name: 'a#frag b/%2e' });
      assert.equal(last().target, '/files/a%23frag%20b%2F%252e');
    });

    it('refuses a value that is a "." or ".." segment, also percent-encoded', async () => {
      const client = await connect('files');
      for (const name of ['..', '.', '%2e%2e', '%252E.']) {
        assert.match(await refused(client, 'get-file', { name }), /argument 'name': .*"\." or "\.\." segment/, name);
      }
    });

    it('leaves urlquery output as the template escaped it, still refusing a dot segment', async () => {
      const client = await connect('files');
      await call(client, 'get-escaped', { name: 'a b/c' });
      assert.equal(last().target, '/files/a+b%2Fc');
      assert.match(await refused(client, 'get-escaped', { name: '..' }), /argument 'name'/);
    });

    it('the per-argument opt-out (subPathArgs) keeps "/" and still refuses climbing out', async () => {
      const client = await connect('files');
      await call(client, 'read-tree', { path: 'docs/guide/intro.md' });
      assert.equal(last().target, '/tree/docs/guide/intro.md/raw');
      for (const path of ['../../admin', 'docs/../../admin', 'a?admin=true', 'a#x', '//evil.example', 'a\\b']) {
        assert.match(await refused(client, 'read-tree', { path }), /argument 'path': /, path);
      }
    });
  });

  describe('query: `url: /search?q={{.args.q}}&lang=en`', () => {
    it('keeps an argument a value: no "&" or "=" injection', async () => {
      const client = await connect('files');
      await call(client, 'search', { q: 'a&admin=true&lang=de' });
      assert.equal(last().target, '/search?lang=en&q=a%26admin%3Dtrue%26lang%3Dde');
      await call(client, 'fetch-in-query', { name: 'x&admin=1' });
      assert.equal(last().target, `/proxy?target=${encodeURIComponent('https://static.example.com/x&admin=1')}`);
    });
  });

  describe('host: `url: http://{{.args.host}}/…`', () => {
    it('cannot reach 127.0.0.1, the registry\'s port or the registry\'s user list', async () => {
      const client = await connect('fetcher');
      for (const host of [`127.0.0.1:${registryPort}`, `localhost:${registryPort}`, '[::1]', `127.0.0.1:${registryPort}/api/v1/users#`, 'user@127.0.0.1', '']) {
        assert.match(await refused(client, 'fetch', { host }), /argument 'host': a value inside the URL host must be letters, digits and "-"/, host);
      }
      assert.match(await refused(client, 'fetch', { host: '127.0.0.1' }), /argument 'host': a value in the URL host may fill part of one label \(\*\); 127\.0\.0\.1 is not in the server's allowedArgumentHosts/);
      assert.match(await refused(client, 'fetch', { host: 'localhost' }), /argument 'host': the URL host localhost resolves to a loopback address/);
      assert.match(await refused(client, 'fetch-registry-port', { host: 'localhost' }), /argument 'host': .*loopback/);
      assert.match(await refused(client, 'fetch', { host: '2130706433' }), /argument 'host': the URL host 127\.0\.0\.1 resolves to a loopback address/, 'decimal 127.0.0.1');
      assert.match(await refused(client, 'fetch', { host: '0x7f000001' }), /loopback/, 'hexadecimal 127.0.0.1');
    });

    it('cannot reach a private or metadata address', async () => {
      const client = await connect('fetcher');
      assert.match(await refused(client, 'fetch', { host: '10.0.0.7' }), /argument 'host': a value in the URL host may fill part of one label/);
      assert.match(await refused(client, 'fetch', { host: '167772167' }), /argument 'host': the URL host 10\.0\.0\.7 resolves to a private or reserved address/);
      assert.match(await refused(client, 'fetch', { host: '3232235777' }), /192\.168\.1\.1 resolves to a private/);
      assert.match(await refused(client, 'fetch', { host: '2852039166' }), /169\.254\.169\.254 resolves to a link-local or cloud-metadata address/);
    });

    it('an argument may not set the scheme, the user information or the port', async () => {
      const client = await connect('fetcher');
      assert.match(await refused(client, 'scheme', { base: `http://127.0.0.1:${registryPort}` }), /argument 'base': a value may not set the URL scheme/);
      assert.match(await refused(client, 'userinfo', { user: 'evil' }), /argument 'user': a value may not set the user information/);
      assert.match(await refused(client, 'port', { port: String(registryPort) }), /argument 'port': a value may not set the URL port/);
    });
  });

  describe('an e2b-style templated host (`local{{.args.sandbox_id}}`, private addresses allowed)', () => {
    it('works for a value that fits the pattern', async () => {
      const client = await connect('sandbox');
      assert.equal(await call(client, 'execute', { sandbox_id: 'host' }), 'got /execute');
      assert.equal(last().headers.host, `localhost:${backendPort}`);
    });

    it('refuses a value that escapes the pattern', async () => {
      const client = await connect('sandbox');
      for (const sandbox_id of ['host.evil.example', `host:${registryPort}`, 'host@evil.example', 'host/../x', 'host#', '']) {
        assert.match(await refused(client, 'execute', { sandbox_id }), /argument 'sandbox_id': /, sandbox_id);
      }
      assert.match(await refused(client, 'execute', { sandbox_id: 'host.evil.example' }), /local\*.*not in the server's allowedArgumentHosts/);
    });

    it('never reaches the registry\'s or the gateway\'s own endpoint, even with private addresses allowed', async () => {
      const client = await connect('sandbox');
      assert.match(await refused(client, 'registry-users', { sandbox_id: 'host' }), new RegExp(`argument 'sandbox_id': the URL host localhost 127\\.0\\.0\\.1:${registryPort} is an endpoint of this gateway or its registry`));
      assert.match(await refused(client, 'gateway-self', { sandbox_id: 'host' }), /is an endpoint of this gateway or its registry/);
    });
  });

  describe('the server\'s allow-list (allowedArgumentHosts)', () => {
    it('accepts a listed host that spans labels, and only that', async () => {
      const client = await connect('listed');
      assert.equal(await call(client, 'fetch', { host: '127.0.0.1' }), 'got /listed');
      assert.match(await refused(client, 'fetch', { host: '127.0.0.2' }), /127\.0\.0\.2 is not in the server's allowedArgumentHosts/);
    });
  });
});
